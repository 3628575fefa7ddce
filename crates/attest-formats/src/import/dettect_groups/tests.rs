//! Unit tests of the DeTT&CT group administration reader.

use attest_core::profile::ActorOrigin;

use super::*;
use crate::{Input, Severity};

fn read(
    text: &str,
    include_disabled: bool,
) -> (Vec<attest_core::profile::Actor>, Vec<crate::Diagnostic>) {
    read_dettect_groups(
        Input {
            path: "groups.yaml",
            bytes: text.as_bytes(),
        },
        &DettectGroupsOptions {
            label: "dettect".into(),
            include_disabled,
        },
    )
}

const GROUPS: &str = "%YAML 1.2
---
version: 1.0
file_type: group-administration
platform: Windows
groups:
  -
    group_name:     Red team
    campaign:       Scenario 1
    technique_id:   [T1086, t1053.005, T1193]
    software_id:    [S0002]
    enabled:        True
  -
    group_name:     Report - overall
    campaign:
    technique_id:
      T1086: 1774
      T1064: 794
    software_id:    []
    enabled:        True
  -
    group_name:     Old
    technique_id:   [T1003]
    enabled:        False
";

#[test]
fn list_and_weighted_forms() {
    let (actors, diags) = read(GROUPS, false);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(actors.len(), 2);
    let a = &actors[0];
    assert_eq!(a.id, "red-team--scenario-1");
    assert_eq!(a.name, "Red team (Scenario 1)");
    assert_eq!(a.origin, ActorOrigin::Intel("dettect".into()));
    let t: Vec<_> = a
        .techniques
        .iter()
        .map(|t| (t.technique.as_str(), t.weight))
        .collect();
    assert_eq!(t, [("T1086", 1.0), ("T1053.005", 1.0), ("T1193", 1.0)]);
    let b = &actors[1];
    assert_eq!(b.id, "report-overall");
    let t: Vec<_> = b
        .techniques
        .iter()
        .map(|t| (t.technique.as_str(), t.weight))
        .collect();
    // BTreeMap order: by id.
    assert_eq!(t, [("T1064", 794.0), ("T1086", 1774.0)]);
}

#[test]
fn disabled_groups_on_request() {
    let (actors, _) = read(GROUPS, true);
    assert_eq!(actors.len(), 3);
    assert_eq!(actors[2].name, "Old");
}

#[test]
fn bad_ids_are_reported_with_their_line() {
    let text = "version: 1.0\nfile_type: group-administration\ngroups:\n  - group_name: G\n    technique_id: [T1086, X99]\n";
    let (actors, diags) = read(text, false);
    assert_eq!(actors[0].techniques.len(), 1);
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].severity, Severity::Error);
    assert_eq!(diags[0].line, Some(5));
}

#[test]
fn other_file_types_are_refused() {
    let (actors, diags) = read(
        "version: 1.2\nfile_type: technique-administration\ntechniques: []\n",
        false,
    );
    assert!(actors.is_empty());
    assert_eq!(diags[0].line, Some(2));
    assert!(diags[0].message.contains("technique-administration"));
    for bytes in [&b"\x00"[..], b"groups: 3", b"", b": : :"] {
        let (a, d) = read_dettect_groups(
            Input {
                path: "g.yaml",
                bytes,
            },
            &DettectGroupsOptions::default(),
        );
        assert!(a.is_empty());
        assert_eq!(d.len(), 1, "{d:?}");
    }
}
