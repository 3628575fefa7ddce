//! Unit tests of the STIX intel reader: each rung of the ladder, MISP reports, bad input.

use attest_core::profile::ActorOrigin;

use super::read::technique_in_text;
use super::*;
use crate::{Input, Severity};

fn read(
    text: &str,
    lookup: &dyn TechniqueLookup,
) -> (Vec<attest_core::profile::Actor>, Vec<crate::Diagnostic>) {
    read_stix_intel(
        Input {
            path: "intel/tip.json",
            bytes: text.as_bytes(),
        },
        &StixIntelOptions {
            label: "tip".into(),
        },
        lookup,
    )
}

fn bundle(objects: &str) -> String {
    format!(r#"{{"type": "bundle", "id": "bundle--1", "objects": [{objects}]}}"#)
}

const ACTOR: &str = r#"{"type": "intrusion-set", "spec_version": "2.1", "id": "intrusion-set--a", "name": "Wizard Spider", "aliases": ["Wizard Spider", "UNC1878", null]}"#;

fn uses(n: usize, target: &str) -> String {
    format!(
        r#"{{"type": "relationship", "id": "relationship--{n}", "relationship_type": "uses", "source_ref": "intrusion-set--a", "target_ref": "{target}"}}"#
    )
}

fn techniques(actor: &attest_core::profile::Actor) -> Vec<(&str, bool)> {
    actor
        .techniques
        .iter()
        .map(|t| (t.technique.as_str(), t.low_confidence))
        .collect()
}

#[test]
fn every_rung_of_the_ladder() {
    let objects = [
        ACTOR.to_string(),
        // 1. mitre external reference (after a non-mitre one).
        r#"{"type": "attack-pattern", "id": "attack-pattern--1", "name": "x", "external_references": [{"source_name": "capec", "external_id": "CAPEC-1"}, {"source_name": "mitre-attack", "external_id": "t1059.001"}]}"#.into(),
        // 2a. x_mitre_id.
        r#"{"type": "attack-pattern", "id": "attack-pattern--2", "name": "y", "x_mitre_id": "T1003"}"#.into(),
        // 2b. OpenCTI MITRE extension.
        format!(r#"{{"type": "attack-pattern", "id": "attack-pattern--3", "name": "z", "extensions": {{"{MITRE_EXTENSION}": {{"extension_type": "property-extension", "id": "T1486"}}}}}}"#),
        // 3. Known STIX id (pattern not even in the bundle).
        // 4. T-number in the name.
        r#"{"type": "attack-pattern", "id": "attack-pattern--5", "name": "Access Token Manipulation - T1134"}"#.into(),
        // 5. Name via the lookup: low confidence.
        r#"{"type": "attack-pattern", "id": "attack-pattern--6", "name": "Scheduled Task"}"#.into(),
        // Unresolvable.
        r#"{"type": "attack-pattern", "id": "attack-pattern--7", "name": "Something new"}"#.into(),
        uses(1, "attack-pattern--1"),
        uses(2, "attack-pattern--2"),
        uses(3, "attack-pattern--3"),
        uses(4, "attack-pattern--4"),
        uses(5, "attack-pattern--5"),
        uses(6, "attack-pattern--6"),
        uses(7, "attack-pattern--7"),
    ];
    let text = bundle(&objects.join(",\n"));
    let mut lookup = MapLookup::default();
    lookup
        .stix_ids
        .insert("attack-pattern--4".into(), "T1566.001".into());
    lookup.add_name("scheduled task", "T1053.005");
    let (actors, diags) = read(&text, &lookup);
    assert_eq!(actors.len(), 1);
    let a = &actors[0];
    assert_eq!(a.id, "intrusion-set--a");
    assert_eq!(a.name, "Wizard Spider");
    assert_eq!(a.aliases, ["UNC1878"]);
    assert_eq!(a.origin, ActorOrigin::Intel("tip".into()));
    assert_eq!(
        techniques(a),
        [
            ("T1059.001", false),
            ("T1003", false),
            ("T1486", false),
            ("T1566.001", false),
            ("T1134", false),
            ("T1053.005", true)
        ]
    );
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0].severity, Severity::Warning);
    assert!(diags[0].message.contains("attack-pattern--7"));
    assert_eq!(diags[0].line, Some(7), "{text}");
}

#[test]
fn without_lookup_only_ids_and_names_with_numbers_resolve() {
    let objects = [
        ACTOR.to_string(),
        r#"{"type": "attack-pattern", "id": "attack-pattern--6", "name": "Scheduled Task"}"#.into(),
        r#"{"type": "attack-pattern", "id": "attack-pattern--5", "name": "Phishing (T1566)"}"#
            .into(),
        uses(6, "attack-pattern--6"),
        uses(5, "attack-pattern--5"),
    ];
    let (actors, diags) = read(&bundle(&objects.join(",")), &NoLookup);
    assert_eq!(techniques(&actors[0]), [("T1566", false)]);
    assert_eq!(diags.len(), 1);
}

#[test]
fn ambiguous_names_do_not_resolve() {
    let mut lookup = MapLookup::default();
    lookup.add_name("Shared", "T1001");
    lookup.add_name("shared", "T1002");
    lookup.add_name("Same", "T1003");
    lookup.add_name("same", "T1003");
    assert_eq!(lookup.by_name("SHARED"), None);
    assert_eq!(lookup.by_name("same").as_deref(), Some("T1003"));
}

#[test]
fn misp_report_attributes_patterns_to_its_only_actor() {
    let objects = [
        r#"{"type": "report", "id": "report--e", "name": "MISP event", "object_refs": ["threat-actor--t", "attack-pattern--1", "attack-pattern--2", "indicator--x"]}"#,
        r#"{"type": "threat-actor", "id": "threat-actor--t", "name": "Evil Corp"}"#,
        r#"{"type": "attack-pattern", "id": "attack-pattern--1", "name": "Spearphishing Attachment - T1566.001", "external_references": [{"source_name": "capec", "external_id": "CAPEC-163"}]}"#,
        r#"{"type": "attack-pattern", "id": "attack-pattern--2", "name": "PowerShell - T1059.001"}"#,
    ];
    let (actors, diags) = read(&bundle(&objects.join(",\n")), &NoLookup);
    assert_eq!(actors.len(), 1);
    assert_eq!(
        techniques(&actors[0]),
        [("T1566.001", false), ("T1059.001", false)]
    );
    assert_eq!(diags.len(), 1);
    assert!(
        diags[0].message.contains("report--e"),
        "{}",
        diags[0].message
    );
    assert_eq!(diags[0].line, Some(1));
}

#[test]
fn revoked_objects_and_other_relationships_are_skipped() {
    let objects = [
        ACTOR.to_string(),
        r#"{"type": "intrusion-set", "id": "intrusion-set--old", "name": "Old", "revoked": true}"#.into(),
        r#"{"type": "attack-pattern", "id": "attack-pattern--1", "x_mitre_id": "T1001"}"#.into(),
        r#"{"type": "attack-pattern", "id": "attack-pattern--2", "x_mitre_id": "T1002", "revoked": true}"#.into(),
        r#"{"type": "attack-pattern", "id": "attack-pattern--3", "x_mitre_id": "T1003"}"#.into(),
        uses(1, "attack-pattern--1"),
        uses(2, "attack-pattern--2"),
        r#"{"type": "relationship", "id": "relationship--9", "relationship_type": "targets", "source_ref": "intrusion-set--a", "target_ref": "attack-pattern--3"}"#.into(),
        r#"{"type": "relationship", "id": "relationship--8", "relationship_type": "uses", "source_ref": "intrusion-set--a", "target_ref": "attack-pattern--3", "revoked": true}"#.into(),
    ];
    let (actors, diags) = read(&bundle(&objects.join(",")), &NoLookup);
    assert_eq!(actors.len(), 1);
    assert_eq!(techniques(&actors[0]), [("T1001", false)]);
    assert!(diags.is_empty(), "{diags:?}");
}

#[test]
fn one_odd_object_is_skipped_not_the_bundle() {
    let objects = [
        ACTOR.to_string(),
        // `name` is a number: the typed parse fails, the fallback skips only this object.
        r#"{"type": "attack-pattern", "id": "attack-pattern--bad", "name": 42}"#.into(),
        r#"{"type": "attack-pattern", "id": "attack-pattern--1", "x_mitre_id": "T1001"}"#.into(),
        uses(1, "attack-pattern--1"),
    ];
    let text = bundle(&objects.join(",\n"));
    let (actors, diags) = read(&text, &NoLookup);
    assert_eq!(techniques(&actors[0]), [("T1001", false)]);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert!(diags[0].message.contains("attack-pattern--bad"));
    assert_eq!(diags[0].line, Some(2));
}

#[test]
fn not_a_bundle_is_one_error_with_a_line() {
    let (a, d) = read("{\"type\": \"bundle\",\n \"objects\": [ {,] }", &NoLookup);
    assert!(a.is_empty());
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].line, Some(2));
    let (_, d) = read(r#"{"type": "indicator", "id": "indicator--1"}"#, &NoLookup);
    assert!(
        d[0].message.contains("not a STIX bundle"),
        "{}",
        d[0].message
    );
    for bytes in [&b"\xff\xfe"[..], b"", b"[]", b"null", b"{\"objects\": 3}"] {
        let (a, d) = read_stix_intel(
            Input {
                path: "x.json",
                bytes,
            },
            &StixIntelOptions { label: "x".into() },
            &NoLookup,
        );
        assert!(a.is_empty());
        assert_eq!(d.len(), 1, "{:?}: {d:?}", String::from_utf8_lossy(bytes));
    }
}

#[test]
fn t_numbers_in_text() {
    assert_eq!(
        technique_in_text("Access - T1134").as_deref(),
        Some("T1134")
    );
    assert_eq!(
        technique_in_text("x (t1059.001)").as_deref(),
        Some("T1059.001")
    );
    assert_eq!(technique_in_text("T1059.1"), Some("T1059".into()));
    assert_eq!(technique_in_text("AT1134 T12345"), None);
}

#[test]
fn report_with_two_actors_attributes_nothing() {
    let objects = [
        r#"{"type": "report", "id": "report--e", "object_refs": ["threat-actor--t", "intrusion-set--a", "attack-pattern--1"]}"#,
        r#"{"type": "threat-actor", "id": "threat-actor--t", "name": "Evil Corp"}"#,
        ACTOR,
        r#"{"type": "attack-pattern", "id": "attack-pattern--1", "x_mitre_id": "T1001"}"#,
    ];
    let (actors, diags) = read(&bundle(&objects.join(",\n")), &NoLookup);
    assert_eq!(actors.len(), 2);
    assert!(actors.iter().all(|a| a.techniques.is_empty()));
    // One warning for the report, one per actor without techniques.
    assert_eq!(diags.len(), 3, "{diags:?}");
    assert!(diags[0].message.contains("not attributed to any actor"));
}
