//! Navigator layers on a hand-written fixture in Navigator's own export shape, and the
//! exporter's layers checked by the validator.

use attest_formats::Input;
use attest_formats::export::navigator::{
    LayerInfo, LayerState, OverlayTechnique, PriorityTechnique, StateTechnique, actor_layer,
    layer_to_json, priority_layer, state_layer, validate_layer,
};
use attest_formats::import::navigator::{read_layer_claims, read_layer_profile};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/intel/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn navigator_export_shape_is_valid_and_reads_as_claims() {
    let bytes = fixture("coverage-claimed.json");
    let input = Input {
        path: "coverage-claimed.json",
        bytes: &bytes,
    };
    assert_eq!(validate_layer(input, &|_| true), vec![]);
    let (claims, diags) = read_layer_claims(input);
    assert!(diags.is_empty(), "{diags:?}");
    let claims = claims.expect("claims");
    assert_eq!(claims.name, "SOC coverage (hand-coloured)");
    assert_eq!(claims.attack_version.as_deref(), Some("16"));
    let ids: Vec<_> = claims
        .techniques
        .iter()
        .map(|t| t.technique.as_str())
        .collect();
    // Colour only, score 100, score 50; score 0 and the disabled entry are not claims.
    assert_eq!(ids, ["T1059", "T1059.001", "T1003.001"]);
    assert_eq!(claims.techniques[1].comment.as_deref(), Some("EDR + Sigma"));

    let (profile, _) = read_layer_profile(input, Some("claimed"));
    let p = profile.expect("profile");
    assert_eq!(p.name, "claimed");
    assert_eq!(p.platforms, ["Windows"]);
    assert_eq!(
        p.extra_techniques,
        vec![
            ("T1059".to_string(), 1.0),
            ("T1059.001".to_string(), 100.0),
            ("T1003.001".to_string(), 50.0)
        ]
    );
}

#[test]
fn every_exported_layer_validates() {
    let info = LayerInfo {
        name: "finance-2026".into(),
        description: "attest".into(),
        attack_version: "17.1".into(),
        domain: "enterprise-attack".into(),
        platforms: vec![],
    };
    let known = ["T1059", "T1059.001", "T1003.001"];
    let is_known = |id: &str| known.contains(&id);
    let state = state_layer(
        &info,
        &[StateTechnique {
            id: "T1059.001".into(),
            tactics: vec!["execution".into()],
            state: LayerState::Degraded,
            rules: vec!["sigma:1".into()],
            reasons: vec!["source missing: windows/powershell".into()],
        }],
    );
    let priority = priority_layer(
        &info,
        &[PriorityTechnique {
            id: "T1003.001".into(),
            tactics: vec!["credential-access".into()],
            priority: 4.0,
            state: LayerState::Gap,
            reasons: vec![],
        }],
    );
    let actor = actor_layer(
        &info,
        "Scarlet Heron",
        &[OverlayTechnique {
            id: "T1059".into(),
            tactics: vec!["execution".into()],
            weight: 1.0,
            state: LayerState::Validated,
        }],
    );
    for layer in [state, priority, actor] {
        let json = layer_to_json(&layer);
        let diags = validate_layer(
            Input {
                path: "out.json",
                bytes: json.as_bytes(),
            },
            &is_known,
        );
        assert_eq!(diags, vec![], "{json}");
    }
}
