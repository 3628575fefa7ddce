//! The Sigma mapping table names ATT&CK v18 data components exactly: every component in
//! `import::sigma::spec` is checked against the data components of the v18.1 Enterprise bundle
//! (`$ATTEST_ATTACK_DIR/enterprise-attack-18.1.json.gz`).

mod rules_common;

use std::collections::BTreeSet;
use std::io::Read;

use attest_formats::import::sigma::spec;

#[test]
fn every_mapped_component_exists_in_attack_v18() {
    let Some(dir) = rules_common::corpus_dir("ATTEST_ATTACK_DIR") else {
        return;
    };
    let gz = std::fs::read(dir.join("enterprise-attack-18.1.json.gz")).expect("v18.1 bundle");
    let mut text = String::new();
    flate2::read::GzDecoder::new(gz.as_slice())
        .read_to_string(&mut text)
        .expect("gzip");
    let bundle: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let names: BTreeSet<&str> = bundle["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .filter(|o| {
            o["type"] == "x-mitre-data-component"
                && o["revoked"] != true
                && o["x_mitre_deprecated"] != true
        })
        .filter_map(|o| o["name"].as_str())
        .collect();
    assert!(names.len() > 100, "{}", names.len());
    let mut mapped: BTreeSet<&str> = BTreeSet::new();
    mapped.extend(
        spec::CATEGORIES
            .iter()
            .flat_map(|c| c.components.iter().copied()),
    );
    for s in spec::SERVICES {
        mapped.extend(s.components.iter().copied());
        mapped.extend(s.events.iter().flat_map(|(_, c)| c.iter().copied()));
    }
    let unknown: Vec<&&str> = mapped.iter().filter(|m| !names.contains(**m)).collect();
    assert!(unknown.is_empty(), "not v18 data components: {unknown:?}");
    assert!(mapped.len() >= 30, "{}", mapped.len());
}
