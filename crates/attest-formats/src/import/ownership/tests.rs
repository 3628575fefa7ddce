//! Unit tests of the ownership file.

use super::*;
use crate::{Input, Severity};

fn read(text: &str) -> (Option<OwnershipMap>, Vec<crate::Diagnostic>) {
    read_ownership(Input {
        path: "owners.yaml",
        bytes: text.as_bytes(),
    })
}

const OWNERS: &str = "default: detection-team
owners:
  - owner: alice
    tactics: [Credential Access, TA0002]
  - owner: bob
    techniques: [T1003, t1558]
  - owner: carol
    techniques: [T1003.001]
";

#[test]
fn most_specific_match_wins() {
    let (map, diags) = read(OWNERS);
    assert!(diags.is_empty(), "{diags:?}");
    let map = map.expect("map");
    assert_eq!(
        map.owner_of("T1003.001", &["credential-access"]),
        Some("carol")
    );
    assert_eq!(
        map.owner_of("t1003.002", &["credential-access"]),
        Some("bob")
    );
    assert_eq!(map.owner_of("T1003", &["credential-access"]), Some("bob"));
    assert_eq!(map.owner_of("T1110", &["credential-access"]), Some("alice"));
    assert_eq!(
        map.owner_of("T1059", &["execution", "TA0002"]),
        Some("alice")
    );
    assert_eq!(
        map.owner_of("T1059", &["Execution"]),
        Some("detection-team")
    );
    assert_eq!(map.owner_of("T1486", &["impact"]), Some("detection-team"));
}

#[test]
fn converts_to_the_engine_type() {
    let map = read(OWNERS).0.expect("map");
    let core = map.to_core();
    assert_eq!(core.default.as_deref(), Some("detection-team"));
    assert_eq!(core.techniques.len(), 3);
    assert_eq!(core.techniques[2].0.to_string(), "T1003.001");
    assert_eq!(
        core.tactics,
        vec![
            ("credential-access".to_string(), "alice".to_string()),
            ("TA0002".to_string(), "alice".to_string())
        ]
    );
}

#[test]
fn double_ownership_and_bad_ids_are_errors_with_lines() {
    let text = "owners:\n  - owner: a\n    techniques: [T1003]\n  - owner: b\n    techniques: [T1003, nope]\n";
    let (map, diags) = read(text);
    let map = map.expect("map");
    assert_eq!(map.owner_of("T1003", &[]), Some("a"));
    assert_eq!(diags.len(), 2, "{diags:?}");
    assert!(
        diags
            .iter()
            .all(|d| d.severity == Severity::Error && d.line == Some(5))
    );
}

#[test]
fn unknown_keys_are_refused() {
    let (map, diags) = read("owners:\n  - owner: a\n    technique: [T1003]\n");
    assert!(map.is_none());
    assert_eq!(diags[0].line, Some(3));
    assert!(
        diags[0].message.contains("technique"),
        "{}",
        diags[0].message
    );
}
