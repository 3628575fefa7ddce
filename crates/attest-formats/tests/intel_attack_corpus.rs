//! The intel reader and the layer validator on the real ATT&CK Enterprise 17.1 bundle, itself a
//! STIX 2.1 bundle of intrusion-sets and `uses` relationships — the shape a TIP exports. Needs
//! `ATTEST_ATTACK_DIR` (e.g. `/work/shared/attack`); skipped loudly without it.

use std::collections::{BTreeSet, HashMap};
use std::io::Read;
use std::path::PathBuf;

use attest_formats::Input;
use attest_formats::export::navigator::{
    LayerInfo, LayerState, StateTechnique, layer_to_json, state_layer, validate_layer,
};
use attest_formats::import::stix_intel::{MapLookup, NoLookup, StixIntelOptions, read_stix_intel};
use serde_json::Value;

/// The folder named by `var`, or `None` after a loud SKIPPED line; with
/// `ATTEST_REQUIRE_CORPORA=1` a missing variable fails the test instead.
fn corpus_dir(var: &str) -> Option<PathBuf> {
    match std::env::var_os(var) {
        Some(v) if !v.is_empty() => Some(PathBuf::from(v)),
        _ => {
            assert!(
                std::env::var("ATTEST_REQUIRE_CORPORA").as_deref() != Ok("1"),
                "{var} is not set but ATTEST_REQUIRE_CORPORA=1 requires the corpora"
            );
            eprintln!("SKIPPED: set {var} to run this test on the real ATT&CK bundle");
            None
        }
    }
}

/// The inflated Enterprise 17.1 bundle, read once for all tests of this file (inflating costs
/// seconds in a debug build).
fn enterprise_17() -> Option<&'static [u8]> {
    static BUNDLE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let dir = corpus_dir("ATTEST_ATTACK_DIR")?;
    let bytes = BUNDLE.get_or_init(|| {
        let path = dir.join("enterprise-attack-17.1.json.gz");
        let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut bytes = Vec::new();
        flate2::read::GzDecoder::new(file)
            .read_to_end(&mut bytes)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        bytes
    });
    Some(bytes.as_slice())
}

fn live(o: &Value) -> bool {
    o.get("revoked") != Some(&Value::Bool(true))
        && o.get("x_mitre_deprecated") != Some(&Value::Bool(true))
}

fn mitre_id(o: &Value) -> Option<String> {
    o.get("external_references")?
        .as_array()?
        .iter()
        .find(|r| r.get("source_name").and_then(Value::as_str) == Some("mitre-attack"))?
        .get("external_id")?
        .as_str()
        .map(str::to_string)
}

#[test]
fn enterprise_bundle_as_intel() {
    let Some(bytes) = enterprise_17() else {
        return;
    };
    let options = StixIntelOptions {
        label: "enterprise-attack-17.1".into(),
    };
    let input = Input {
        path: "enterprise-attack-17.1.json",
        bytes,
    };
    let (actors, diags) = read_stix_intel(input, &options, &NoLookup);
    // 166 live groups (181 intrusion-sets, 15 revoked or deprecated); 162 use techniques.
    assert_eq!(actors.len(), 166);
    let pairs: usize = actors.iter().map(|a| a.techniques.len()).sum();
    assert_eq!(pairs, 4046);
    assert!(
        actors
            .iter()
            .all(|a| a.techniques.iter().all(|t| !t.low_confidence))
    );
    assert_eq!(diags.len(), 4, "{diags:#?}");
    assert!(
        diags
            .iter()
            .all(|d| d.message.contains("uses no resolvable attack-pattern") && d.line.is_some())
    );
    let apt29 = actors.iter().find(|a| a.name == "APT29").expect("APT29");
    assert_eq!(
        apt29.id,
        "intrusion-set--899ce53f-13a0-479b-a0e4-67d46e241542"
    );
    assert_eq!(apt29.techniques.len(), 66);
    assert!(apt29.techniques.iter().any(|t| t.technique == "T1059.001"));
    assert!(apt29.aliases.iter().any(|a| a == "Cozy Bear"));
    assert!(
        !apt29.aliases.iter().any(|a| a == "APT29"),
        "the name is not an alias"
    );

    // Ladder step 3: strip every external reference and x_mitre id from the attack-patterns;
    // a knowledge-base lookup by STIX id must give the same actors.
    let mut bundle: Value = serde_json::from_slice(bytes).expect("bundle");
    let mut lookup = MapLookup::default();
    let objects = bundle
        .get_mut("objects")
        .and_then(Value::as_array_mut)
        .expect("objects");
    for o in objects.iter_mut() {
        if o.get("type").and_then(Value::as_str) != Some("attack-pattern") {
            continue;
        }
        if let (Some(id), Some(tid)) = (o.get("id").and_then(Value::as_str), mitre_id(o)) {
            lookup.stix_ids.insert(id.to_string(), tid);
        }
        if let Some(map) = o.as_object_mut() {
            map.remove("external_references");
        }
    }
    let stripped = serde_json::to_vec(&bundle).expect("json");
    let (again, _) = read_stix_intel(
        Input {
            path: "stripped.json",
            bytes: &stripped,
        },
        &options,
        &lookup,
    );
    let sets = |list: &[attest_core::profile::Actor]| -> HashMap<String, BTreeSet<String>> {
        list.iter()
            .map(|a| {
                (
                    a.id.clone(),
                    a.techniques.iter().map(|t| t.technique.clone()).collect(),
                )
            })
            .collect()
    };
    assert_eq!(sets(&again), sets(&actors));
}

#[test]
fn state_layer_of_every_enterprise_technique_validates() {
    let Some(bytes) = enterprise_17() else {
        return;
    };
    let bundle: Value = serde_json::from_slice(bytes).expect("bundle");
    let mut techniques = Vec::new();
    for o in bundle["objects"].as_array().expect("objects") {
        if o.get("type").and_then(Value::as_str) != Some("attack-pattern") || !live(o) {
            continue;
        }
        let Some(id) = mitre_id(o) else { continue };
        let tactics: Vec<String> = o["kill_chain_phases"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|k| {
                k.get("phase_name")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .collect();
        let state = LayerState::ALL[techniques.len() % 5];
        techniques.push(StateTechnique {
            id,
            tactics,
            state,
            rules: vec![],
            reasons: vec![],
        });
    }
    assert_eq!(techniques.len(), 679);
    let known: BTreeSet<String> = techniques.iter().map(|t| t.id.clone()).collect();
    let info = LayerInfo {
        name: "every technique".into(),
        description: String::new(),
        attack_version: "17.1".into(),
        domain: "enterprise-attack".into(),
        platforms: vec![],
    };
    let layer = state_layer(&info, &techniques);
    let entries: usize = techniques.iter().map(|t| t.tactics.len().max(1)).sum();
    assert_eq!(layer.techniques.len(), entries);
    let json = layer_to_json(&layer);
    let input = Input {
        path: "state.json",
        bytes: json.as_bytes(),
    };
    assert_eq!(validate_layer(input, &|id| known.contains(id)), vec![]);
    // A release without T1059.001 flags every entry of it, with its line.
    let diags = validate_layer(input, &|id| id != "T1059.001" && known.contains(id));
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert!(diags[0].line.is_some());
}
