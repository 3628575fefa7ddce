//! `attest attack …` end to end, on the hand-written mini bundle and on the real Enterprise bundle.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failing test should fail loudly

mod util;

use util::{Env, corpus_dir};

#[test]
fn remap_follows_revoked_by_and_reports_unknown_ids() {
    let env = Env::new();
    let doc = env.json(&["attack", "remap", "T1086", "T1685", "t1003"]);
    let rows = doc.as_array().expect("array");
    assert_eq!(rows[0]["status"], "revoked");
    assert_eq!(rows[0]["current"], "T1059.001");
    assert_eq!(rows[1]["status"], "unknown");
    assert!(
        rows[1]["path"]
            .as_str()
            .unwrap()
            .contains("unknown to ATT&CK"),
        "{doc}"
    );
    assert_eq!(rows[2]["status"], "active");
    assert_eq!(rows[2]["current"], "T1003");
}

#[test]
fn remap_table_is_applied_before_the_knowledge_base() {
    let env = Env::new();
    let table = env.write("remap.csv", "old,new\nT1685,T1003.001\n");
    let doc = env.json(&[
        "attack",
        "remap",
        "T1685",
        "--table",
        table.to_str().unwrap(),
    ]);
    assert_eq!(doc[0]["current"], "T1003.001", "{doc}");
    assert_eq!(doc[0]["status"], "active");
}

#[test]
fn technique_and_group_lookups() {
    let env = Env::new();
    let doc = env.json(&["attack", "technique", "T1003.001"]);
    assert_eq!(doc["name"], "LSASS Memory");
    assert_eq!(doc["parent"], "T1003");
    assert_eq!(doc["used_by"][0]["name"], "APT29");
    let groups = env.json(&["attack", "group", "cozy bear"]);
    assert_eq!(groups[0]["technique"], "T1003.001");
    assert_eq!(groups[0]["paths"], "direct");
}

#[test]
fn bad_input_is_a_clear_error_not_a_panic() {
    let env = Env::new();
    let out = env.run(&["attack", "technique", "lsass"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not an ATT&CK technique ID"), "{err}");

    let broken = env.write("broken.json.gz", "\u{1f}\u{8b}garbage");
    let out = env
        .cmd()
        .args(["attack", "info", "--attack"])
        .arg(&broken)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("broken.json.gz"),
        "error must name the file: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn missing_bundle_and_no_network_says_how_to_give_a_file() {
    let env = Env::new();
    let out = env
        .cmd()
        .env_remove("ATTEST_ATTACK_BUNDLE")
        // An unroutable proxy makes the download fail at once, like a machine without network.
        .env("HTTPS_PROXY", "http://127.0.0.1:9")
        .env("https_proxy", "http://127.0.0.1:9")
        .args(["attack", "info"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--attack PATH") && err.contains("ATTEST_ATTACK_BUNDLE"),
        "{err}"
    );
}

#[test]
fn real_enterprise_bundle_info_and_apt29() {
    let Some(dir) = corpus_dir("ATTEST_ATTACK_DIR", "real_enterprise_bundle_info_and_apt29") else {
        return;
    };
    let env = Env::new();
    let bundle = dir.join("enterprise-attack-18.1.json.gz");
    let b = bundle.to_str().unwrap();
    let info = env.json(&["attack", "info", "--attack", b]);
    let d = &info["domains"][0];
    assert_eq!(d["domain"], "enterprise-attack");
    assert_eq!(d["release"], "18.1");
    assert_eq!(d["tactics"], "14");
    assert_eq!(d["techniques"], "216");
    assert_eq!(d["subtechniques"], "475");
    let t = env.json(&["attack", "technique", "T1078", "--attack", b]);
    let tactics: Vec<&str> = t["tactics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    // The knowledge base lists a technique's tactics in matrix order, not STIX order.
    assert_eq!(
        tactics,
        [
            "initial-access",
            "persistence",
            "privilege-escalation",
            "defense-evasion"
        ]
    );
    let g = env.json(&["attack", "group", "APT29", "--attack", b]);
    assert_eq!(g.as_array().unwrap().len(), 66);
}
