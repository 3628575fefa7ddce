//! The coverage rule end to end: one technique walked through every state by real commands, with
//! the reason asserted at each step; then diff, check, layers, profiles and the backlog.

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

fn technique(env: &Env, id: &str) -> serde_json::Value {
    let doc = env.json(&["coverage"]);
    doc["techniques"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["technique"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("{id} not in coverage: {doc}"))
}

#[test]
fn one_technique_walks_through_every_state() {
    let env = Env::new();
    env.ok(&["init"]);
    let t = technique(&env, "T1003.001");
    assert_eq!(
        (t["state"].as_str(), t["reasons"].as_str()),
        (Some("gap"), Some("no rule claims it"))
    );

    env.write("rules/lsass.yml", LSASS_RULE);
    env.ok(&["rules", "import", "sigma", "rules"]);
    let t = technique(&env, "T1003.001");
    assert_eq!(t["state"], "degraded");
    assert!(
        t["reasons"]
            .as_str()
            .unwrap()
            .contains("component:Process Access, which no source provides"),
        "{t}"
    );
    assert_eq!(
        technique(&env, "T1003")["state"],
        "gap",
        "a sub-technique rule never covers its parent"
    );

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
    let t = technique(&env, "T1003.001");
    assert_eq!(t["state"], "unvalidated");
    assert!(t["reasons"].as_str().unwrap().contains("untested"), "{t}");
    let exists = env.json(&[
        "rules",
        "list",
        "--state",
        "rule-exists",
        "--validation",
        "untested",
    ]);
    assert_eq!(exists[0]["id"], RULE);
    assert_eq!(
        env.json(&["rules", "list", "--state", "validated"])
            .as_array()
            .unwrap()
            .len(),
        0
    );

    env.ok(&[
        "validate",
        "record",
        "--rule",
        RULE,
        "--technique",
        "T1003.001",
        "--outcome",
        "fail",
    ]);
    assert_eq!(technique(&env, "T1003.001")["state"], "failing");

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
    let t = technique(&env, "T1003.001");
    assert_eq!(t["state"], "validated", "{t}");
    // The seed's query, as written.
    let validated = env.json(&[
        "rules",
        "list",
        "--tactic",
        "credential-access",
        "--state",
        "validated",
    ]);
    assert_eq!(validated[0]["id"], RULE);
    assert_eq!(validated[0]["validation"], "passing");
    assert_eq!(
        env.json(&["rules", "list", "--validation", "untested"])
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(technique(&env, "T1003")["subtechniques_validated"], "1/1");

    let baseline = env.path().join("baseline.json");
    env.ok(&["check", "--write-baseline", baseline.to_str().unwrap()]);
    let checkpoint = jiff::Timestamp::now().to_string();
    std::thread::sleep(std::time::Duration::from_millis(20));

    env.ok(&[
        "rules",
        "suppress",
        RULE,
        "--what",
        "SourceImage=C:\\av.exe",
        "--reason",
        "AV noise",
    ]);
    let t = technique(&env, "T1003.001");
    assert_eq!(t["state"], "unvalidated");
    assert!(
        t["reasons"]
            .as_str()
            .unwrap()
            .contains("tuned after its pass"),
        "{t}"
    );

    env.ok(&["rules", "disable", RULE, "--reason", "too noisy"]);
    let t = technique(&env, "T1003.001");
    assert_eq!(t["state"], "degraded");
    assert!(t["reasons"].as_str().unwrap().contains("disabled"), "{t}");
    assert_eq!(
        env.json(&["rules", "list", "--state", "disabled"])[0]["id"],
        RULE
    );

    // The CI gate fails against the baseline and names the technique.
    let out = env.run(&["check", "--baseline", baseline.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("T1003.001") && text.contains("validated → degraded"),
        "{text}"
    );
    let out = env.run(&["check", "--baseline", &checkpoint]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a baseline instant works like a file"
    );
    assert_eq!(
        env.run(&["check", "--min-validated", "0"]).status.code(),
        Some(0)
    );

    // The diff explains the regression with the journal events that caused it.
    let diff = env.json(&["diff", "--from", &checkpoint]);
    let row = diff
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["technique"] == "T1003.001")
        .unwrap();
    assert_eq!(
        (
            row["from"].as_str(),
            row["to"].as_str(),
            row["direction"].as_str()
        ),
        (Some("validated"), Some("degraded"), Some("worse"))
    );
    let causes = row["causes"].as_str().unwrap();
    assert!(
        causes.contains("disabled by tester") && causes.contains("too noisy"),
        "{causes}"
    );

    // Coverage as of the checkpoint is computed from the journal up to then.
    let then = env.json(&["coverage", "--as-of", &checkpoint, "--state", "validated"]);
    assert_eq!(then["techniques"][0]["technique"], "T1003.001");
}

#[test]
fn profile_priorities_backlog_and_layers() {
    let env = Env::new();
    env.ok(&["init"]);
    env.write("rules/lsass.yml", LSASS_RULE);
    env.ok(&["rules", "import", "sigma", "rules"]);
    env.write(
        "profile.yaml",
        "name: finance\nactors:\n  - actor: Cozy Bear\n    weight: 2\ntechniques:\n  - technique: T1059.001\n    weight: 1\n",
    );
    env.ok(&["profiles", "import", "profile.yaml"]);
    let show = env.json(&["profiles", "show", "finance"]);
    let rows = show.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{show}");
    assert_eq!(
        rows[0]["technique"], "T1003.001",
        "the actor's technique ranks first"
    );
    assert!(rows[0]["why"].as_str().unwrap().contains("APT29"));

    let backlog = env.json(&["backlog", "--profile", "finance"]);
    let items = backlog.as_array().unwrap();
    assert_eq!(items.len(), 2);
    let lsass = items
        .iter()
        .find(|i| i["technique"] == "T1003.001")
        .unwrap();
    assert!(
        lsass["next"].as_str().unwrap().contains("onboard"),
        "{lsass}"
    );
    let ps = items
        .iter()
        .find(|i| i["technique"] == "T1059.001")
        .unwrap();
    assert_eq!(ps["next"], "write a rule");
    let again = env.json(&["backlog", "--profile", "finance"]);
    assert_eq!(again[0]["id"], backlog[0]["id"], "item ids are stable");

    let cov = env.json(&["coverage", "--profile", "finance"]);
    assert_eq!(cov["headline"]["techniques"], 2);
    assert_eq!(cov["headline"]["validated_share"], 0.0);

    for kind in ["state", "priority"] {
        let path = env.path().join(format!("{kind}.json"));
        env.ok(&[
            "layer",
            "export",
            "--kind",
            kind,
            "--profile",
            "finance",
            "-o",
            path.to_str().unwrap(),
        ]);
        let layer: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(layer["versions"]["layer"], "4.5");
        assert!(
            layer["techniques"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["techniqueID"] == "T1003.001")
        );
    }
    let layer = env.path().join("actor.json");
    env.ok(&[
        "layer",
        "export",
        "--kind",
        "actor",
        "--actor",
        "APT29",
        "-o",
        layer.to_str().unwrap(),
    ]);

    // A hand-coloured layer claiming coverage meets the evidence.
    env.write(
        "claimed.json",
        r##"{"name": "our coverage", "domain": "enterprise-attack", "versions": {"layer": "4.5", "navigator": "5.1.0", "attack": "18"},
            "techniques": [{"techniqueID": "T1003.001", "score": 1, "enabled": true}, {"techniqueID": "T1059.001", "color": "#00ff00", "enabled": true}]}"##,
    );
    let claims = env.json(&["coverage", "claimed-vs-validated", "claimed.json"]);
    let rows = claims.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r["state"] != "validated"));
    assert!(
        rows.iter()
            .any(|r| r["state"] == "gap" && r["technique"] == "T1059.001")
    );
}

#[test]
fn the_workspace_remap_table_counts_claims_for_their_targets() {
    let env = Env::new();
    env.ok(&["init"]);
    // T1685 is from a release newer than the bundle: unknown until the team maps it.
    env.write(
        "rules/new.yml",
        r#"title: Newer Release Technique
id: 6f0e2a7c-0c4e-4c35-9a57-000000000685
tags:
    - attack.t1685
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        Image|endswith: '\evil.exe'
    condition: selection
"#,
    );
    env.ok(&["rules", "import", "sigma", "rules"]);
    assert_eq!(technique(&env, "T1059.001")["state"], "gap");

    env.write("remap.csv", "old,new\nT1685,T1059.001\n");
    let said = env.ok(&["attack", "remap-table", "remap.csv"]);
    assert!(said.contains("1 entries"), "{said}");
    let shown = env.json(&["attack", "remap-table"]);
    assert_eq!(shown[0]["old"], "T1685");
    assert_eq!(shown[0]["new"], "T1059.001");
    let t = technique(&env, "T1059.001");
    assert_ne!(t["state"], "gap", "the rule now counts for T1059.001: {t}");
    // Setting the same table again journals nothing.
    assert!(
        env.ok(&["attack", "remap-table", "remap.csv"])
            .contains("unchanged")
    );

    env.ok(&["attack", "remap-table", "--clear"]);
    assert_eq!(technique(&env, "T1059.001")["state"], "gap");
    assert_eq!(
        env.json(&["attack", "remap-table"])
            .as_array()
            .unwrap()
            .len(),
        0
    );

    // A bad table names the file and the line.
    env.write("bad.csv", "old,new\nT1685,not-an-id\n");
    let out = env.run(&["attack", "remap-table", "bad.csv"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.csv") && err.contains("line 2"), "{err}");
}
