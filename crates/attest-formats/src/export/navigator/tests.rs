//! Unit tests of the layer builders and the validator. Every built layer is validated.

use super::*;
use crate::{Input, Severity};

fn info() -> LayerInfo {
    LayerInfo {
        name: "attest state".into(),
        description: "coverage as of 2026-11-28".into(),
        attack_version: "17.1".into(),
        domain: "enterprise-attack".into(),
        platforms: vec!["Windows".into()],
    }
}

const KNOWN: &[&str] = &["T1059", "T1059.001", "T1003", "T1003.001", "T1486", "T1078"];

fn validate(json: &str) -> Vec<crate::Diagnostic> {
    validate_layer(
        Input {
            path: "layer.json",
            bytes: json.as_bytes(),
        },
        &|id| KNOWN.contains(&id),
    )
}

fn states() -> Vec<StateTechnique> {
    vec![
        StateTechnique {
            id: "T1059".into(),
            tactics: vec!["execution".into()],
            state: LayerState::RuleExists,
            rules: vec!["sigma:abc".into()],
            reasons: vec!["untested".into()],
        },
        StateTechnique {
            id: "t1059.001".into(),
            tactics: vec!["execution".into()],
            state: LayerState::Validated,
            rules: vec!["sigma:ps1".into(), "sigma:ps2".into()],
            reasons: vec![],
        },
        StateTechnique {
            id: "T1078".into(),
            tactics: vec![
                "defense-evasion".into(),
                "persistence".into(),
                "privilege-escalation".into(),
                "initial-access".into(),
            ],
            state: LayerState::Failing,
            rules: vec!["elastic:x".into()],
            reasons: vec!["test failed on 2026-11-01".into()],
        },
        StateTechnique {
            id: "T1486".into(),
            tactics: vec![],
            state: LayerState::Gap,
            rules: vec![],
            reasons: vec!["no rule".into()],
        },
    ]
}

#[test]
fn state_layer_is_valid_and_complete() {
    let layer = state_layer(&info(), &states());
    let json = layer_to_json(&layer);
    assert_eq!(validate(&json), vec![], "{json}");
    assert_eq!(layer.versions.layer, "4.5");
    assert_eq!(layer.versions.attack, "17.1");
    assert_eq!(layer.domain, "enterprise-attack");
    // One entry per tactic: 1 + 1 + 4 + 1 (no tactic).
    assert_eq!(layer.techniques.len(), 7);
    let t1078: Vec<_> = layer
        .techniques
        .iter()
        .filter(|t| t.technique_id == "T1078")
        .map(|t| t.tactic.as_deref())
        .collect();
    assert_eq!(
        t1078,
        [
            Some("defense-evasion"),
            Some("persistence"),
            Some("privilege-escalation"),
            Some("initial-access")
        ]
    );
    let gap = layer
        .techniques
        .iter()
        .find(|t| t.technique_id == "T1486")
        .expect("gap");
    assert_eq!(gap.tactic, None);
    assert_eq!(gap.color, LayerState::Gap.color());
    let parent = &layer.techniques[0];
    assert!(parent.show_subtechniques);
    assert_eq!(
        parent.comment,
        "State: rule exists (unvalidated). Rules: sigma:abc. Reasons: untested."
    );
    assert_eq!(layer.techniques[1].technique_id, "T1059.001");
    assert_eq!(layer.legend_items.len(), 5);
    let colors: std::collections::HashSet<_> =
        layer.legend_items.iter().map(|l| &l.color).collect();
    assert_eq!(colors.len(), 5, "distinct colours");
    let meta: Vec<_> = layer
        .metadata
        .iter()
        .map(|m| (m.name.as_str(), m.value.as_str()))
        .collect();
    assert_eq!(
        meta,
        [
            ("kind", "state"),
            ("techniques", "4"),
            ("validated", "1"),
            ("rule exists (unvalidated)", "1"),
            ("failing", "1"),
            ("degraded", "0"),
            ("gap", "1")
        ]
    );
    // Deterministic.
    assert_eq!(json, layer_to_json(&state_layer(&info(), &states())));
}

#[test]
fn priority_layer_scores_open_techniques_only() {
    let input = vec![
        PriorityTechnique {
            id: "T1003".into(),
            tactics: vec!["credential-access".into()],
            priority: 7.456,
            state: LayerState::Gap,
            reasons: vec!["used by APT29 (w 2), FIN7 (w 1)".into()],
        },
        PriorityTechnique {
            id: "T1059".into(),
            tactics: vec!["execution".into()],
            priority: 9.0,
            state: LayerState::Validated,
            reasons: vec![],
        },
        PriorityTechnique {
            id: "T1486".into(),
            tactics: vec!["impact".into()],
            priority: 2.0,
            state: LayerState::Degraded,
            reasons: vec![],
        },
    ];
    let layer = priority_layer(&info(), &input);
    assert_eq!(validate(&layer_to_json(&layer)), vec![]);
    let scores: Vec<_> = layer
        .techniques
        .iter()
        .map(|t| (t.technique_id.as_str(), t.score))
        .collect();
    assert_eq!(scores, [("T1003", Some(7.46)), ("T1486", Some(2.0))]);
    assert_eq!(layer.gradient.max_value, 7.46);
    assert_eq!(layer.techniques[0].color, "");
    // All validated: still a valid gradient.
    let layer = priority_layer(&info(), &input[1..2]);
    assert!(layer.techniques.is_empty());
    assert_eq!(validate(&layer_to_json(&layer)), vec![]);
}

#[test]
fn actor_overlay_is_valid() {
    let layer = actor_layer(
        &info(),
        "APT29",
        &[OverlayTechnique {
            id: "T1003.001".into(),
            tactics: vec!["credential-access".into()],
            weight: 2.0,
            state: LayerState::Gap,
        }],
    );
    assert_eq!(validate(&layer_to_json(&layer)), vec![]);
    assert_eq!(layer.techniques[0].score, Some(2.0));
    assert_eq!(
        layer.techniques[0].comment,
        "Used by APT29 (weight 2); our state: gap."
    );
    assert_eq!(layer.metadata[1], MetadataItem::new("actor", "APT29"));
}

#[test]
fn validator_finds_each_rule_with_lines() {
    let bad = r##"{
  "name": "x",
  "versions": {"attack": "17", "navigator": "5.1.0", "layer": "4.4"},
  "domain": "enterprise",
  "sorting": 7,
  "gradient": {"colors": ["#fff"], "minValue": 5, "maxValue": 1},
  "layout": {"layout": "wide"},
  "techniques": [
    {"techniqueID": "T1059", "score": "high"},
    {"techniqueID": "t1003", "color": "red"},
    {"techniqueID": "T9999", "tactic": "Execution"}
  ],
  "colour": "#ffffff"
}"##;
    let diags = validate(bad);
    let got: Vec<_> = diags
        .iter()
        .map(|d| {
            (
                d.severity,
                d.line,
                d.message.split(':').next().unwrap_or("").to_string(),
            )
        })
        .collect();
    let lines: Vec<_> = got.iter().map(|g| g.1).collect();
    assert!(
        diags
            .iter()
            .any(|d| d.message.contains("`versions.layer` must be \"4.5\"") && d.line == Some(3)),
        "{diags:#?}"
    );
    assert!(
        diags
            .iter()
            .any(|d| d.message.contains("`domain`") && d.line == Some(4))
    );
    assert!(
        diags
            .iter()
            .any(|d| d.message.contains("`sorting`") && d.line == Some(5))
    );
    assert!(
        diags
            .iter()
            .any(|d| d.message.contains("at least two colours") && d.line == Some(6))
    );
    assert!(
        diags
            .iter()
            .any(|d| d.message.contains("maxValue") && d.line == Some(6))
    );
    assert!(
        diags
            .iter()
            .any(|d| d.message.contains("layout.layout") && d.line == Some(7))
    );
    assert!(
        diags
            .iter()
            .any(|d| d.message.contains("`score` must be a number") && d.line == Some(9))
    );
    assert!(
        diags
            .iter()
            .any(|d| d.message.contains("`t1003` is not a technique id") && d.line == Some(10))
    );
    assert!(
        diags
            .iter()
            .any(|d| d.message.contains("#rrggbb") && d.line == Some(10))
    );
    assert!(
        diags.iter().any(
            |d| d.message.contains("T9999 is not in this ATT&CK release") && d.line == Some(11)
        )
    );
    assert!(
        diags
            .iter()
            .any(|d| d.message.contains("`tactic` must be") && d.line == Some(11))
    );
    assert!(
        diags
            .iter()
            .any(|d| d.severity == Severity::Warning && d.message.contains("`colour`"))
    );
    assert_eq!(diags.len(), 12, "{got:#?} {lines:?}");
}

#[test]
fn validator_requires_name_domain_versions() {
    let diags = validate(r#"{"techniques": []}"#);
    assert_eq!(diags.len(), 3, "{diags:?}");
    assert!(diags.iter().all(|d| d.severity == Severity::Error));
    let diags = validate("[]");
    assert_eq!(diags.len(), 1);
    let diags = validate("{\n  \"name\": ");
    assert_eq!(diags[0].line, Some(2));
}

#[test]
fn validator_accepts_a_list_of_layers_and_the_spec_example_shapes() {
    let one = layer_to_json(&state_layer(&info(), &states()));
    let two = format!("[{one}, {one}]");
    assert_eq!(validate(&two), vec![]);
    // Uppercase hex, dividers in metadata, links, missing optional keys: all fine.
    let spec = r##"{"name": "example layer", "versions": {"attack": "13", "navigator": "5.0.0", "layer": "4.5"},
      "domain": "enterprise-attack", "techniques": [{"techniqueID": "T1059", "color": "#FD8D3C",
      "metadata": [{"name": "a", "value": "b"}, {"divider": true}],
      "links": [{"label": "x", "url": "https://example.org"}]}],
      "legendItems": [{"label": "L", "color": "#FF00FF"}]}"##;
    assert_eq!(validate(spec), vec![]);
}
