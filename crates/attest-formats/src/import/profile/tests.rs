//! Unit tests of the profile reader and writer.

use attest_core::profile::{ActorPaths, Profile, ProfileActor};

use super::*;
use crate::{Input, Severity};

fn read(text: &str) -> (Option<Profile>, Vec<crate::Diagnostic>) {
    read_profile(Input {
        path: "profiles/finance.yaml",
        bytes: text.as_bytes(),
    })
}

const FULL: &str = r#"
name: finance-2026
description: Sector actors plus the ones known to target us
actors:
  - G0016
  - actor: FIN7
    weight: 2.5
sectors: [financial, insurance]
platforms: [Windows, Linux]
techniques:
  - t1486
  - technique: T1059.001
    weight: 3
exclusions: [T1566.002]
paths:
  via_software: true
include_exposures: true
exposure_weight: 2
"#;

#[test]
fn reads_every_field() {
    let (profile, diags) = read(FULL);
    assert!(diags.is_empty(), "{diags:?}");
    let p = profile.expect("profile");
    assert_eq!(p.name, "finance-2026");
    assert_eq!(
        p.description.as_deref(),
        Some("Sector actors plus the ones known to target us")
    );
    assert_eq!(
        p.actors,
        vec![
            ProfileActor {
                actor: "G0016".into(),
                weight: 1.0
            },
            ProfileActor {
                actor: "FIN7".into(),
                weight: 2.5
            }
        ]
    );
    assert_eq!(p.sectors, ["financial", "insurance"]);
    assert_eq!(p.platforms, ["Windows", "Linux"]);
    assert_eq!(
        p.extra_techniques,
        vec![("T1486".to_string(), 1.0), ("T1059.001".to_string(), 3.0)]
    );
    assert_eq!(p.exclusions, ["T1566.002"]);
    assert_eq!(p.exposures, Some(2.0));
    assert_eq!(
        p.paths,
        ActorPaths {
            via_software: true,
            via_campaigns: false
        }
    );
}

#[test]
fn round_trip_through_the_writer() {
    let (profile, _) = read(FULL);
    let p = profile.expect("profile");
    let text = write_profile(&p);
    let (again, diags) = read(&text);
    assert!(diags.is_empty(), "{diags:?}\n{text}");
    assert_eq!(again.expect("profile"), p);
    // Weight 1 entries are written bare, others as maps.
    assert!(text.contains("- G0016\n"), "{text}");
    assert!(text.contains("weight: 2.5"), "{text}");
}

#[test]
fn exposures_default_to_weight_one_and_a_lone_weight_is_a_warning() {
    let (p, diags) = read("name: x\ninclude_exposures: true\n");
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(p.expect("profile").exposures, Some(1.0));
    let (p, diags) = read("name: x\nexposure_weight: 3\n");
    assert_eq!(p.expect("profile").exposures, None);
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].line, Some(2));
    let (p, diags) = read("name: x\ninclude_exposures: true\nexposure_weight: -1\n");
    assert_eq!(p.expect("profile").exposures, None);
    assert_eq!(diags[0].severity, Severity::Error);
}

#[test]
fn minimal_profile_round_trips() {
    let p = Profile {
        name: "empty".into(),
        ..Profile::default()
    };
    let text = write_profile(&p);
    assert_eq!(text, "name: empty\n");
    assert_eq!(read(&text).0.expect("profile"), p);
}

#[test]
fn unknown_key_is_an_error_with_its_line() {
    let (profile, diags) = read("name: x\nplatfroms: [Windows]\n");
    assert!(profile.is_none());
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].severity, Severity::Error);
    assert_eq!(diags[0].line, Some(2));
    assert!(
        diags[0].message.contains("platfroms"),
        "{}",
        diags[0].message
    );
}

#[test]
fn unknown_key_inside_an_actor_entry_names_the_key() {
    let (profile, diags) = read("name: x\nactors:\n  - actor: APT29\n    wieght: 2\n");
    assert!(profile.is_none());
    assert!(diags[0].message.contains("wieght"), "{}", diags[0].message);
    // yaml_serde names the line where the entry's map starts.
    assert_eq!(diags[0].line, Some(3));
}

#[test]
fn missing_name_is_an_error() {
    let (profile, diags) = read("actors: [G0016]\n");
    assert!(profile.is_none());
    assert!(diags[0].message.contains("name"), "{}", diags[0].message);
}

#[test]
fn bad_entries_are_dropped_with_their_line() {
    let text = "name: x\ntechniques:\n  - T1059\n  - technique: T99\n    weight: 2\n  - technique: T1003\n    weight: -1\nexclusions: [bogus]\n";
    let (profile, diags) = read(text);
    let p = profile.expect("profile kept");
    assert_eq!(p.extra_techniques, vec![("T1059".to_string(), 1.0)]);
    assert!(p.exclusions.is_empty());
    let lines: Vec<_> = diags.iter().map(|d| (d.severity, d.line)).collect();
    assert_eq!(
        lines,
        vec![
            (Severity::Error, Some(4)),
            (Severity::Error, Some(6)),
            (Severity::Error, Some(8))
        ],
        "{diags:?}"
    );
}

#[test]
fn duplicate_actor_is_a_warning() {
    let (profile, diags) = read("name: x\nactors: [APT29, apt29]\n");
    assert_eq!(profile.expect("profile").actors.len(), 1);
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].severity, Severity::Warning);
}

#[test]
fn binary_and_non_yaml_never_panic() {
    for bytes in [
        &b"\x00\x01\x02"[..],
        b"[[[[",
        b"name: [unclosed",
        b"- a\n- b\n",
        b"",
    ] {
        let (p, d) = read_profile(Input {
            path: "p.yaml",
            bytes,
        });
        assert!(p.is_none());
        assert!(!d.is_empty());
    }
}

#[test]
fn token_line_skips_longer_words() {
    let text = "a: T10590\nb: T1059\n";
    assert_eq!(token_line(text, "T1059"), Some(2));
    assert_eq!(slug("APT 29 / Cozy Bear!"), "apt-29-cozy-bear");
}
