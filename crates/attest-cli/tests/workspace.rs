//! The workspace end to end: init, the inventory, the rule registry, idempotent re-imports,
//! retirement, --strict, and a SIGKILL in the middle of an import.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failing test should fail loudly

mod util;

use util::{Env, corpus_dir};

const LSASS_RULE: &str = r#"title: LSASS Access From Unusual Process
id: 0d894093-71bc-43c3-8c4d-ecfa28dcd1ff
status: test
description: Detects process access to LSASS memory.
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
level: high
"#;

const PS_RULE: &str = r#"title: Suspicious PowerShell Download
id: 3b6ab547-8ec2-4991-b9d2-2b06702a48d7
status: experimental
tags:
    - attack.execution
    - attack.t1086
    - attack.t1685
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        CommandLine|contains: 'DownloadString'
    condition: selection
level: medium
"#;

fn init_with_rules(env: &Env) {
    env.ok(&["init"]);
    env.write("rules/lsass.yml", LSASS_RULE);
    env.write("rules/ps.yml", PS_RULE);
}

#[test]
fn sources_add_derive_components_from_log_sources_and_track_health() {
    let env = Env::new();
    env.ok(&["init"]);
    env.ok(&[
        "sources",
        "add",
        "Windows Security",
        "--log-source",
        "WinEventLog:Security:EventCode=4688",
        "--platform",
        "Windows",
        "--max-silence",
        "24h",
    ]);
    let list = env.json(&["sources", "list"]);
    assert_eq!(list[0]["name"], "Windows Security");
    assert_eq!(list[0]["components"], "Process Creation");
    assert_eq!(list[0]["health"], "never seen");
    env.ok(&[
        "sources",
        "seen",
        "Windows Security",
        "--at",
        "2020-01-01T00:00:00Z",
    ]);
    let list = env.json(&["sources", "list"]);
    assert!(
        list[0]["health"]
            .as_str()
            .unwrap()
            .starts_with("silent since 2020-01-02"),
        "{list}"
    );
    env.ok(&["sources", "seen", "Windows Security"]);
    assert_eq!(env.json(&["sources", "list"])[0]["health"], "healthy");

    let out = env.run(&["sources", "add", "Windows Security"]);
    assert_eq!(out.status.code(), Some(2), "a duplicate name is refused");
    let out = env.run(&["sources", "add", "X", "--component", "Telepathy"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an ATT&CK data component"));

    env.ok(&[
        "sources",
        "remove",
        "Windows Security",
        "--reason",
        "decommissioned",
    ]);
    assert_eq!(env.json(&["sources", "list"]).as_array().unwrap().len(), 0);
}

#[test]
fn rule_import_is_idempotent_updates_changes_and_retires_missing_rules() {
    let env = Env::new();
    init_with_rules(&env);
    let first = env.json(&["rules", "import", "sigma", "rules", "--root", "repo"]);
    assert_eq!(first["new"], 2);
    assert_eq!(first["unknown_techniques"], serde_json::json!(["T1685"]));
    assert_eq!(
        first["revoked_techniques"],
        serde_json::json!(["T1086→T1059.001"])
    );

    let again = env.json(&["rules", "import", "sigma", "rules", "--root", "repo"]);
    assert_eq!(
        (again["new"].as_u64(), again["unchanged"].as_u64()),
        (Some(0), Some(2))
    );

    env.write(
        "rules/ps.yml",
        &PS_RULE.replace("level: medium", "level: high"),
    );
    std::fs::remove_file(env.path().join("rules/lsass.yml")).unwrap();
    let third = env.json(&["rules", "import", "sigma", "rules", "--root", "repo"]);
    assert_eq!(
        (third["updated"].as_u64(), third["retired"].as_u64()),
        (Some(1), Some(1))
    );
    let retired = env.json(&["rules", "list", "--status", "retired"]);
    assert_eq!(retired[0]["id"], "0d894093-71bc-43c3-8c4d-ecfa28dcd1ff");
}

#[test]
fn rule_queries_lifecycle_and_tuning() {
    let env = Env::new();
    init_with_rules(&env);
    env.ok(&[
        "sources",
        "add",
        "Sysmon",
        "--log-source",
        "WinEventLog:Sysmon",
        "--platform",
        "Windows",
    ]);
    env.ok(&["rules", "import", "sigma", "rules"]);
    let by_tactic = env.json(&["rules", "list", "--tactic", "credential-access"]);
    assert_eq!(by_tactic.as_array().unwrap().len(), 1);
    assert_eq!(by_tactic[0]["techniques"], "T1003.001");
    let by_parent = env.json(&["rules", "list", "--technique", "T1003"]);
    assert_eq!(
        by_parent.as_array().unwrap().len(),
        1,
        "a parent filter lists its sub-techniques' rules"
    );
    let unknown = env.json(&["rules", "list", "--unknown-techniques"]);
    assert_eq!(unknown[0]["id"], "3b6ab547-8ec2-4991-b9d2-2b06702a48d7");
    let by_source = env.json(&["rules", "list", "--data-source", "Sysmon"]);
    assert_eq!(by_source.as_array().unwrap().len(), 2, "{by_source}");

    env.ok(&[
        "rules",
        "disable",
        "0d894093-71bc-43c3-8c4d-ecfa28dcd1ff",
        "--reason",
        "noisy",
    ]);
    env.ok(&[
        "rules",
        "assign",
        "0d894093-71bc-43c3-8c4d-ecfa28dcd1ff",
        "--owner",
        "alice",
    ]);
    env.ok(&[
        "rules",
        "suppress",
        "0d894093-71bc-43c3-8c4d-ecfa28dcd1ff",
        "--what",
        "Image=C:\\av.exe",
        "--reason",
        "AV scans LSASS",
    ]);
    let show = env.json(&["rules", "show", "0d894093-71bc-43c3-8c4d-ecfa28dcd1ff"]);
    assert_eq!(show["status"], "disabled");
    assert_eq!(show["owner"], "alice");
    assert_eq!(show["tuning"][0]["reason"], "AV scans LSASS");
    assert_eq!(
        env.json(&["rules", "list", "--owner", "alice"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // A re-import does not undo a hand-made disable.
    env.ok(&["rules", "import", "sigma", "rules"]);
    assert_eq!(
        env.json(&["rules", "show", "0d894093-71bc-43c3-8c4d-ecfa28dcd1ff"])["status"],
        "disabled"
    );
}

#[test]
fn strict_import_with_an_invalid_file_writes_nothing() {
    let env = Env::new();
    init_with_rules(&env);
    env.write("rules/broken.yml", "title: [unclosed\n  id: x\n");
    let out = env.run(&["rules", "import", "sigma", "rules", "--strict"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.yml"), "{err}");
    assert_eq!(env.json(&["rules", "list"]).as_array().unwrap().len(), 0);
    // Without --strict the good files are imported and the bad one reported.
    let doc = env.json(&["rules", "import", "sigma", "rules"]);
    assert_eq!(
        (doc["rules"].as_u64(), doc["invalid_files"].as_u64()),
        (Some(2), Some(1))
    );
}

#[test]
fn commands_outside_a_workspace_say_to_run_init() {
    let env = Env::new();
    let out = env.run(&["rules", "list"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("attest init"));
}

#[test]
fn sigkill_during_a_corpus_import_leaves_the_previous_state() {
    let Some(corpora) = corpus_dir("ATTEST_CORPORA_DIR", "sigkill_during_a_corpus_import") else {
        return;
    };
    let env = Env::new();
    init_with_rules(&env);
    env.ok(&["rules", "import", "sigma", "rules", "--root", "repo"]);
    let sigma = corpora.join("sigma").join("rules");
    // Kill at several points of the import; each time the workspace must hold either the two
    // rules from before or the whole corpus, never a part.
    let mut saw_before = false;
    for delay_ms in [50u64, 200, 400, 800, 1500] {
        let mut child = env
            .cmd()
            .args(["rules", "import", "sigma"])
            .arg(&sigma)
            .args(["--root", "repo"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        let n = env.json(&["rules", "list"]).as_array().unwrap().len();
        let active = env
            .json(&["rules", "list", "--status", "enabled"])
            .as_array()
            .unwrap()
            .len();
        assert!(
            n == 2 || n > 3000,
            "after a kill at {delay_ms} ms the registry has {n} rules"
        );
        if n == 2 {
            saw_before = true;
            assert_eq!(active, 2);
        } else {
            break;
        }
    }
    assert!(saw_before, "the first kill should land before the commit");
}

#[test]
fn inventory_as_code_applies_idempotently_and_exports_what_it_read() {
    let env = Env::new();
    env.ok(&["init"]);
    let file = env.write(
        "inventory.yaml",
        "version: 1\nsources:\n  - name: Sysmon\n    platforms: [Windows]\n    log_sources: [WinEventLog:Sysmon]\n    max_silence: 24h\n  - name: EDR\n    components: [Process Creation]\n",
    );
    let f = file.to_str().unwrap();
    let first = env.json(&["sources", "apply", f]);
    assert_eq!(first.as_array().unwrap().len(), 2, "{first}");
    let list = env.json(&["sources", "list"]);
    let sysmon = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "Sysmon")
        .unwrap();
    assert_eq!(
        sysmon["components"], "Process Access,Process Creation",
        "derived from the catalogue"
    );
    assert_eq!(
        env.json(&["sources", "apply", f]).as_array().unwrap().len(),
        0,
        "idempotent"
    );

    let exported = env.ok(&["sources", "export"]);
    let again = env.write("exported.yaml", &exported);
    assert_eq!(
        env.json(&["sources", "apply", again.to_str().unwrap()])
            .as_array()
            .unwrap()
            .len(),
        0
    );

    env.write(
        "inventory.yaml",
        "version: 1\nsources:\n  - name: EDR\n    components: [Process Creation]\n",
    );
    let pruned = env.json(&["sources", "apply", f]);
    assert_eq!(pruned[0]["source"], "Sysmon");
    assert_eq!(pruned[0]["change"], "removed");

    env.write(
        "inventory.yaml",
        "version: 1\nsources:\n  - name: EDR\n    componets: [Process Creation]\n",
    );
    let out = env.run(&["sources", "apply", f]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("inventory.yaml:4"),
        "the error names file and line: {err}"
    );
}
