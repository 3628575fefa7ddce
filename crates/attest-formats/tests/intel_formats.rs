//! Intel formats on hand-written fixtures in the published shapes: an OpenCTI STIX 2.1 export,
//! a MISP event export, a DeTT&CT group administration file, a profile and an ownership file.

use attest_core::profile::ActorOrigin;
use attest_formats::import::dettect_groups::{DettectGroupsOptions, read_dettect_groups};
use attest_formats::import::ownership::read_ownership;
use attest_formats::import::profile::{read_profile, write_profile};
use attest_formats::import::stix_intel::{MapLookup, NoLookup, StixIntelOptions, read_stix_intel};
use attest_formats::{Input, Severity};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/intel/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn options(label: &str) -> StixIntelOptions {
    StixIntelOptions {
        label: label.into(),
    }
}

#[test]
fn opencti_export() {
    let bytes = fixture("opencti-bundle.json");
    let input = Input {
        path: "opencti-bundle.json",
        bytes: &bytes,
    };
    let mut lookup = MapLookup::default();
    lookup.add_name("Remote Desktop Protocol", "T1021.001");
    let (actors, diags) = read_stix_intel(input, &options("opencti"), &lookup);
    assert_eq!(actors.len(), 2);
    let heron = &actors[0];
    assert_eq!(
        heron.id,
        "intrusion-set--7a1e2f3c-55d4-4a8b-9c3e-2b1d0e9f8a77"
    );
    assert_eq!(heron.name, "Scarlet Heron");
    assert_eq!(heron.aliases, ["SH-01", "Heron Team"]);
    assert_eq!(heron.origin, ActorOrigin::Intel("opencti".into()));
    let t: Vec<_> = heron
        .techniques
        .iter()
        .map(|t| (t.technique.as_str(), t.low_confidence))
        .collect();
    // Extension id, external reference, name via the knowledge base (low confidence).
    assert_eq!(
        t,
        [("T1059.001", false), ("T1003", false), ("T1021.001", true)]
    );
    let ops = &actors[1];
    assert_eq!(ops.name, "Heron Operators");
    assert!(ops.aliases.is_empty());
    assert_eq!(ops.techniques[0].technique, "T1020");
    // The custom pattern resolves to nothing: one warning with the object's line.
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0].severity, Severity::Warning);
    assert!(diags[0].message.contains("Custom loader sideloading trick"));
    assert_eq!(diags[0].line, Some(95));
}

#[test]
fn misp_event_export() {
    let bytes = fixture("misp-event.json");
    let input = Input {
        path: "misp-event.json",
        bytes: &bytes,
    };
    // MISP keeps MITRE's STIX UUIDs for its ATT&CK galaxy clusters: the knowledge base knows them.
    let mut lookup = MapLookup::default();
    lookup.stix_ids.insert(
        "attack-pattern--2e34237d-8574-43f6-aace-ae2915de8597".into(),
        "T1566.001".into(),
    );
    lookup.add_name("Command and Scripting Interpreter", "T1059");
    let (actors, diags) = read_stix_intel(input, &options("misp"), &lookup);
    assert_eq!(actors.len(), 1);
    let apt16 = &actors[0];
    assert_eq!(apt16.name, "APT16 - G0023");
    assert_eq!(apt16.aliases, ["APT16"]);
    let t: Vec<_> = apt16
        .techniques
        .iter()
        .map(|t| (t.technique.as_str(), t.low_confidence))
        .collect();
    assert_eq!(t, [("T1134", false), ("T1566.001", false), ("T1059", true)]);
    // The report-based attribution is said out loud.
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert!(diags[0].message.contains("attributed to its only actor"));
    assert_eq!(diags[0].line, Some(17));

    // Without the knowledge base only the name with a T-number resolves.
    let (actors, diags) = read_stix_intel(input, &options("misp"), &NoLookup);
    assert_eq!(actors[0].techniques.len(), 1);
    assert_eq!(diags.len(), 3);
}

#[test]
fn dettect_group_administration() {
    let bytes = fixture("dettect-groups.yaml");
    let (actors, diags) = read_dettect_groups(
        Input {
            path: "dettect-groups.yaml",
            bytes: &bytes,
        },
        &DettectGroupsOptions {
            label: "dettect-groups.yaml".into(),
            include_disabled: false,
        },
    );
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(actors.len(), 2);
    assert_eq!(actors[0].id, "purple-team-2026--q3-exercise");
    assert_eq!(actors[0].techniques.len(), 4);
    let weighted: Vec<_> = actors[1]
        .techniques
        .iter()
        .map(|t| (t.technique.as_str(), t.weight))
        .collect();
    assert_eq!(
        weighted,
        [
            ("T1003.001", 405.0),
            ("T1059.001", 1774.0),
            ("T1218.011", 794.0)
        ]
    );
}

#[test]
fn profile_file_round_trip() {
    let bytes = fixture("profile-finance.yaml");
    let (profile, diags) = read_profile(Input {
        path: "profile-finance.yaml",
        bytes: &bytes,
    });
    assert!(diags.is_empty(), "{diags:?}");
    let p = profile.expect("profile");
    assert_eq!(p.actors.len(), 3);
    assert_eq!(p.actors[2].actor, "Scarlet Heron");
    assert_eq!(p.actors[2].weight, 3.0);
    assert_eq!(p.platforms, ["Windows", "Linux", "Azure AD"]);
    assert_eq!(
        p.extra_techniques,
        vec![("T1486".to_string(), 2.0), ("T1078.004".to_string(), 1.0)]
    );
    assert!(p.paths.via_software && p.paths.via_campaigns);
    let text = write_profile(&p);
    let (again, diags) = read_profile(Input {
        path: "written.yaml",
        bytes: text.as_bytes(),
    });
    assert!(diags.is_empty());
    assert_eq!(again.expect("profile"), p);
}

#[test]
fn ownership_file() {
    let bytes = fixture("owners.yaml");
    let (map, diags) = read_ownership(Input {
        path: "owners.yaml",
        bytes: &bytes,
    });
    assert!(diags.is_empty(), "{diags:?}");
    let map = map.expect("map");
    assert_eq!(
        map.owner_of("T1003.001", &["credential-access", "TA0006"]),
        Some("carol")
    );
    assert_eq!(
        map.owner_of("T1003.006", &["credential-access", "TA0006"]),
        Some("bob")
    );
    assert_eq!(
        map.owner_of("T1110", &["credential-access", "TA0006"]),
        Some("alice")
    );
    assert_eq!(
        map.owner_of("T1059", &["execution", "TA0002"]),
        Some("dave")
    );
    assert_eq!(
        map.owner_of("T1486", &["impact", "TA0040"]),
        Some("detection-engineering")
    );
}
