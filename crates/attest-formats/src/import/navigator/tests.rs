//! Unit tests of layer import, including a round trip through the exporter.

use super::*;
use crate::export::navigator::{LayerInfo, LayerState, StateTechnique, layer_to_json, state_layer};
use crate::{Input, Severity};

const LAYER: &str = r##"{
  "name": "APT29 + FIN7",
  "versions": {"attack": "17", "navigator": "5.1.0", "layer": "4.5"},
  "domain": "enterprise-attack",
  "description": "threat layer",
  "filters": {"platforms": ["Windows", "Linux"]},
  "techniques": [
    {"techniqueID": "T1078", "tactic": "defense-evasion", "score": 2, "color": ""},
    {"techniqueID": "T1078", "tactic": "persistence", "score": 3},
    {"techniqueID": "T1059.001", "color": "#66b1ff", "comment": "seen in IR"},
    {"techniqueID": "T1003", "score": 0, "color": "#ff6666"},
    {"techniqueID": "T1486", "score": 5, "enabled": false},
    {"techniqueID": "T1566", "comment": "annotated only"},
    {"techniqueID": "T99", "score": 1},
    {"techniqueID": "T1110", "score": "high"}
  ]
}"##;

fn input(text: &str) -> Input<'_> {
    Input {
        path: "layer.json",
        bytes: text.as_bytes(),
    }
}

#[test]
fn layer_as_profile() {
    let (profile, diags) = read_layer_profile(input(LAYER), None);
    let p = profile.expect("profile");
    assert_eq!(p.name, "APT29 + FIN7");
    assert_eq!(p.description.as_deref(), Some("threat layer"));
    assert_eq!(p.platforms, ["Windows", "Linux"]);
    assert_eq!(
        p.extra_techniques,
        vec![("T1078".to_string(), 3.0), ("T1059.001".to_string(), 1.0)]
    );
    let lines: Vec<_> = diags.iter().map(|d| (d.severity, d.line)).collect();
    assert_eq!(
        lines,
        [(Severity::Error, Some(14)), (Severity::Error, Some(15))],
        "{diags:?}"
    );
    let (p, _) = read_layer_profile(input(LAYER), Some("mine"));
    assert_eq!(p.expect("profile").name, "mine");
}

#[test]
fn layer_as_claims() {
    let (claims, _) = read_layer_claims(input(LAYER));
    let c = claims.expect("claims");
    assert_eq!(c.domain, "enterprise-attack");
    assert_eq!(c.attack_version.as_deref(), Some("17"));
    let got: Vec<_> = c
        .techniques
        .iter()
        .map(|t| (t.technique.as_str(), t.tactics.clone(), t.score))
        .collect();
    assert_eq!(
        got,
        [
            (
                "T1078",
                vec!["defense-evasion".to_string(), "persistence".to_string()],
                Some(3.0)
            ),
            ("T1059.001", vec![], None)
        ]
    );
    assert_eq!(c.techniques[1].color.as_deref(), Some("#66b1ff"));
    assert_eq!(c.techniques[1].comment.as_deref(), Some("seen in IR"));
}

#[test]
fn exported_state_layer_reads_back_as_claims() {
    let info = LayerInfo {
        name: "state".into(),
        description: String::new(),
        attack_version: "17.1".into(),
        domain: "enterprise-attack".into(),
        platforms: vec![],
    };
    let layer = state_layer(
        &info,
        &[StateTechnique {
            id: "T1003".into(),
            tactics: vec!["credential-access".into()],
            state: LayerState::Validated,
            rules: vec![],
            reasons: vec![],
        }],
    );
    let json = layer_to_json(&layer);
    let (claims, diags) = read_layer_claims(input(&json));
    assert!(diags.is_empty(), "{diags:?}");
    let c = claims.expect("claims");
    assert_eq!(c.techniques.len(), 1);
    assert_eq!(c.techniques[0].color.as_deref(), Some("#009e73"));
}

#[test]
fn older_versions_warn_and_bad_files_fail() {
    let old = r#"{"name": "x", "versions": {"layer": "3.0"}, "domain": "enterprise-attack", "techniques": [{"techniqueID": "T1003", "score": 1}]}"#;
    let (p, d) = read_layer_profile(input(old), None);
    assert_eq!(p.expect("profile").extra_techniques.len(), 1);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].severity, Severity::Warning);
    for text in ["", "{", "{\"name\": \"x\"}", "[1]", "42", "[]"] {
        let (p, d) = read_layer_claims(input(text));
        assert!(p.is_none(), "{text}");
        assert!(
            d.iter().any(|d| d.severity == Severity::Error),
            "{text}: {d:?}"
        );
    }
}
