//! CTEM end to end: one CVE imported from a scanner export, mapped to a technique through a
//! CTID-shaped mapping, its priority raised by the technique's gap, then lowered once a rule is
//! validated — with the reasons asserted at each step; re-imports, profiles and the diff.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failing test should fail loudly

mod util;

use util::Env;

const LSASS_RULE: &str = r#"title: LSASS Access From Unusual Process
id: 0d894093-71bc-43c3-8c4d-ecfa28dcd1ff
tags:
    - attack.credential-access
    - attack.t1003.001
logsource:
    category: process_access
    product: windows
detection:
    selection:
        TargetImage|endswith: '\lsass.exe'
    condition: selection
"#;

const RULE: &str = "0d894093-71bc-43c3-8c4d-ecfa28dcd1ff";

const SCAN: &str = "\
Asset,CVE ID,Title,CVSS,First Seen,Status
web-01,CVE-2024-1234,Credential disclosure in AppServer,8.0,2026-01-01T00:00:00Z,open
web-02,CVE-2024-1234,Credential disclosure in AppServer,6.0,2026-01-01T00:00:00Z,open
db-01,CVE-2023-9999,Unmapped bug,8.5,2026-01-01T00:00:00Z,open
";

/// The CTID unified JSON shape; made for an older ATT&CK where the exploitation technique
/// was T1086 (revoked by T1059.001 in the mini bundle).
const CTID: &str = r#"{
  "metadata": {"attack_version": "9.0", "mapping_framework": "cve"},
  "mapping_objects": [
    {"capability_id": "CVE-2024-1234", "mapping_type": "primary_impact", "attack_object_id": "T1003.001"},
    {"capability_id": "CVE-2024-1234", "mapping_type": "exploitation_technique", "attack_object_id": "T1086"}
  ]
}"#;

fn exposure(env: &Env, id: &str) -> serde_json::Value {
    env.json(&["exposures", "show", id])
}

fn reasons(doc: &serde_json::Value) -> Vec<String> {
    doc["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn one_cve_walks_from_import_to_validated_detection() {
    let env = Env::new();
    env.ok(&["init"]);
    let scan = env.write("scanner.csv", SCAN);
    let out = env.ok(&["exposures", "import", scan.to_str().unwrap()]);
    assert!(out.contains("3 new"), "{out}");

    // Imported, nothing mapped: the severity alone.
    let e = exposure(&env, "CVE-2024-1234@web-01");
    assert_eq!(e["effective"], 8.0);
    assert_eq!(
        reasons(&e).last().unwrap(),
        "no technique mapped: priority is the severity alone"
    );

    // Mapped through the CTID set: T1003.001 directly, T1086 through its revoked-by chain.
    let ctid = env.write("ctid.json", CTID);
    let out = env.ok(&["exposures", "mappings", "import", ctid.to_str().unwrap()]);
    assert!(
        out.contains("2 mappings for 1 findings, made for ATT&CK 9.0"),
        "{out}"
    );
    let sets = env.json(&["exposures", "mappings", "list"]);
    assert_eq!(
        (sets[0]["name"].as_str(), sets[0]["remapped"].as_str()),
        (Some("ctid"), Some("1"))
    );

    // Both techniques are gaps: the priority rises by half the headroom.
    let e = exposure(&env, "CVE-2024-1234@web-01");
    assert_eq!(e["effective"], 9.0);
    let r = reasons(&e);
    assert!(
        r.contains(
            &"T1003.001 from CVE mapping ctid (primary impact): no rule (gap) → raises most"
                .to_string()
        ),
        "{r:?}"
    );
    assert!(
        r.contains(&"T1059.001 (written T1086) from CVE mapping ctid (exploitation technique): no rule (gap) → raises most".to_string()),
        "{r:?}"
    );
    assert_eq!(
        r.last().unwrap(),
        "effective 9.0 = 8.0 + (10 − 8.0) × 0.5 because T1003.001 gap, T1059.001 gap"
    );
    // The mapped CVE now outranks the unmapped one of higher severity.
    let list = env.json(&["exposures", "list", "--sort", "effective"]);
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "CVE-2024-1234@web-01",
            "CVE-2023-9999@db-01",
            "CVE-2024-1234@web-02"
        ]
    );
    assert!(env.ok(&["exposures", "list"]).contains("T1003.001 gap"));

    // A profile that includes exposures gains the techniques, with the reason.
    let profile = env.write(
        "ctem.yaml",
        "name: ctem\nactors: [APT29]\ninclude_exposures: true\nexposure_weight: 2\n",
    );
    env.ok(&["profiles", "import", profile.to_str().unwrap()]);
    let target = env.json(&["profiles", "show", "ctem"]);
    let ps = target
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["technique"] == "T1059.001")
        .expect("the exposure technique joins the target set");
    assert!(
        ps["why"]
            .as_str()
            .unwrap()
            .contains("exposure CVE-2024-1234 on 2 assets"),
        "{ps}"
    );

    // A rule with telemetry for T1003.001, then a pass: T1003.001 is validated, T1059.001
    // still a gap, so the priority stays raised because of T1059.001 alone.
    let checkpoint = jiff::Timestamp::now().to_string();
    env.write("rules/lsass.yml", LSASS_RULE);
    env.ok(&["rules", "import", "sigma", "rules"]);
    env.ok(&[
        "sources",
        "add",
        "Sysmon",
        "--log-source",
        "WinEventLog:Sysmon",
        "--platform",
        "Windows",
        "--max-silence",
        "1d",
    ]);
    env.ok(&["sources", "seen", "Sysmon"]);
    let e = exposure(&env, "CVE-2024-1234@web-01");
    assert!(
        reasons(&e).contains(&"T1003.001 from CVE mapping ctid (primary impact): a rule exists but is not validated → raises less".to_string()),
        "{e}"
    );
    env.ok(&[
        "validate",
        "record",
        "--rule",
        RULE,
        "--technique",
        "T1003.001",
        "--outcome",
        "pass",
    ]);
    let e = exposure(&env, "CVE-2024-1234@web-01");
    let r = reasons(&e);
    assert!(
        r.contains(
            &"T1003.001 from CVE mapping ctid (primary impact): validated detection → no raise"
                .to_string()
        ),
        "{r:?}"
    );
    assert_eq!(
        r.last().unwrap(),
        "effective 9.0 = 8.0 + (10 − 8.0) × 0.5 because T1059.001 gap"
    );

    // The CVE as given by a scanner that names only the validated technique: the priority
    // drops back to the severity.
    let scan2 = env.write(
        "edr.csv",
        "Asset,CVE ID,CVSS,Techniques\nweb-09,CVE-2024-1234,8.0,T1003.001\n",
    );
    env.ok(&["exposures", "import", scan2.to_str().unwrap()]);
    let e = exposure(&env, "CVE-2024-1234@web-09");
    assert_eq!(e["effective"], 8.0);
    assert_eq!(
        reasons(&e).last().unwrap(),
        "all 1 technique validated: priority stays at the severity 8.0"
    );

    // Re-importing the same file writes nothing; a later scan without web-02 closes it.
    let out = env.ok(&["exposures", "import", scan.to_str().unwrap()]);
    assert!(
        out.contains("0 journal entries") && out.contains("3 unchanged"),
        "{out}"
    );
    env.write(
        "scanner.csv",
        "Asset,CVE ID,Title,CVSS,First Seen,Status\n\
         web-01,CVE-2024-1234,Credential disclosure in AppServer,8.0,2026-01-01T00:00:00Z,open\n\
         db-01,CVE-2023-9999,Unmapped bug,9.0,2026-01-01T00:00:00Z,fixed\n",
    );
    let out = env.ok(&["exposures", "import", scan.to_str().unwrap()]);
    assert!(out.contains("2 closed"), "{out}");
    let open = env.json(&["exposures", "list"]);
    assert_eq!(open.as_array().unwrap().len(), 2, "{open}");
    assert_eq!(exposure(&env, "CVE-2023-9999@db-01")["status"], "fixed");

    // The diff shows the exposure changes with the technique changes.
    let changes = env.json(&["diff", "--from", &checkpoint, "--exposures"]);
    let rows: Vec<(String, String)> = changes
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["exposure"].as_str().unwrap().into(),
                r["change"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("CVE-2023-9999@db-01".to_string(), "closed".to_string()),
            ("CVE-2024-1234@web-02".to_string(), "closed".to_string()),
            ("CVE-2024-1234@web-09".to_string(), "opened".to_string()),
        ]
    );
    let text = env.ok(&["diff", "--from", &checkpoint]);
    assert!(text.contains("3 exposures changed"), "{text}");
}

#[test]
fn bad_rows_name_file_and_line_and_strict_writes_nothing() {
    let env = Env::new();
    env.ok(&["init"]);
    let scan = env.write(
        "bad.csv",
        "host,cve,severity\nweb-01,CVE-2024-1234,high\nweb-02,CVE-2024-1234,severe\n",
    );
    let out = env.run(&["exposures", "import", scan.to_str().unwrap(), "--strict"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.csv:3") && err.contains("\"severe\""),
        "{err}"
    );
    assert_eq!(
        env.json(&["exposures", "list", "--status", "all"])
            .as_array()
            .unwrap()
            .len(),
        0
    );
    // Without --strict the good row is imported and nothing closes for being absent.
    let out = env.ok(&["exposures", "import", scan.to_str().unwrap()]);
    assert!(out.contains("1 new"), "{out}");
    let map = env.write("bad-map.yaml", "mappings:\n  X: [T1530]\nextra: 1\n");
    let out = env.run(&["exposures", "mappings", "import", map.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("bad-map.yaml"),
        "{out:?}"
    );
}
