//! Validation end to end: the Atomic catalogue, results by hand, from execution logs joined with
//! alerts, from JSON lines, and from replaying recorded events through the Sigma rules.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failing test should fail loudly

mod util;

use util::{Env, corpus_dir};

const LSASS_RULE: &str = r#"title: LSASS Access From Unusual Process
id: 0d894093-71bc-43c3-8c4d-ecfa28dcd1ff
status: test
tags:
    - attack.credential-access
    - attack.t1003.001
logsource:
    category: process_access
    product: windows
detection:
    selection:
        TargetImage|endswith: '\lsass.exe'
        GrantedAccess: '0x1010'
    condition: selection
level: high
"#;

const ATOMIC: &str = r#"attack_technique: T1003.001
display_name: "OS Credential Dumping: LSASS Memory"
atomic_tests:
- name: Dump LSASS.exe Memory using ProcDump
  auto_generated_guid: 0be2230c-9ab3-4ac2-8826-3199b9a0ebf8
  description: dump
  supported_platforms:
  - windows
  executor:
    command: procdump.exe -accepteula -ma lsass.exe
    name: command_prompt
    elevation_required: true
"#;

fn setup() -> Env {
    let env = Env::new();
    env.ok(&["init"]);
    env.write("rules/lsass.yml", LSASS_RULE);
    env.ok(&["rules", "import", "sigma", "rules"]);
    env
}

#[test]
fn atomic_catalogue_import_is_idempotent() {
    let env = setup();
    env.write("atomics/T1003.001/T1003.001.yaml", ATOMIC);
    let first = env.json(&["tests", "import-atomic", "atomics"]);
    assert_eq!(
        (first["tests"].as_u64(), first["new"].as_u64()),
        (Some(1), Some(1))
    );
    let again = env.json(&["tests", "import-atomic", "atomics"]);
    assert_eq!(again["unchanged"], 1);
    let list = env.json(&["tests", "list", "--technique", "T1003.001"]);
    assert_eq!(list[0]["id"], "0be2230c-9ab3-4ac2-8826-3199b9a0ebf8");
    assert_eq!(list[0]["executor"], "command_prompt");
}

#[test]
fn execution_logs_joined_with_alerts_give_pass_and_error() {
    let env = setup();
    env.write(
        "exec.csv",
        "\"Execution Time (UTC)\",\"Execution Time (Local)\",\"Technique\",\"Test Number\",\"Test Name\",\"Hostname\",\"IP Address\",\"Username\",\"GUID\",\"ProcessId\",\"ExitCode\"\n\
         \"2024-03-05T16:20:00Z\",\"2024-03-05T17:20:00Z\",\"T1003.001\",\"1\",\"ProcDump\",\"WS01\",\"10.0.0.21\",\"WS01\\alice\",\"0be2230c-9ab3-4ac2-8826-3199b9a0ebf8\",\"5124\",\"0\"\n\
         \"2024-03-05T16:25:00Z\",\"2024-03-05T17:25:00Z\",\"T1003.001\",\"2\",\"comsvcs\",\"WS01\",\"10.0.0.21\",\"WS01\\alice\",\"2536dee2-12fb-459a-8c37-971844fa73be\",\"6232\",\"1\"\n\
         \"2024-03-05T16:40:00Z\",\"2024-03-05T17:40:00Z\",\"T1082\",\"1\",\"systeminfo\",\"WS01\",\"10.0.0.21\",\"WS01\\alice\",\"66703791-c902-4560-8770-42b8a91f7667\",\"7010\",\"0\"\n",
    );
    env.write(
        "alerts.csv",
        "_time,rule_id,dest\n2024-03-05T16:21:13Z,0d894093-71bc-43c3-8c4d-ecfa28dcd1ff,WS01\n",
    );
    let rows = env.json(&[
        "validate",
        "import",
        "atomic",
        "exec.csv",
        "--alerts",
        "alerts.csv",
    ]);
    let rows = rows.as_array().unwrap();
    assert_eq!(
        rows.len(),
        2,
        "T1082 is claimed by no rule: no result, {rows:?}"
    );
    assert_eq!(rows[0]["outcome"], "pass");
    assert_eq!(rows[0]["test"], "0be2230c-9ab3-4ac2-8826-3199b9a0ebf8");
    assert_eq!(
        rows[1]["outcome"], "error",
        "a non-zero exit code says nothing about the rule"
    );
    let show = env.json(&["rules", "show", "0d894093-71bc-43c3-8c4d-ecfa28dcd1ff"]);
    assert_eq!(show["results"].as_array().unwrap().len(), 2);
}

#[test]
fn record_and_jsonl_results_with_clear_errors() {
    let env = setup();
    env.ok(&[
        "validate",
        "record",
        "--rule",
        "0d894093-71bc-43c3-8c4d-ecfa28dcd1ff",
        "--technique",
        "T1003.001",
        "--outcome",
        "fail",
        "--at",
        "2026-01-01T00:00:00Z",
        "--evidence",
        "no alert",
    ]);
    env.write(
        "results.jsonl",
        "{\"rule\":\"0d894093-71bc-43c3-8c4d-ecfa28dcd1ff\",\"technique\":\"T1003.001\",\"outcome\":\"pass\",\"at\":\"2026-02-01T00:00:00Z\",\"by\":\"ci\"}\n",
    );
    let rows = env.json(&["validate", "import", "jsonl", "results.jsonl"]);
    assert_eq!(rows[0]["outcome"], "pass");
    let show = env.json(&["rules", "show", "0d894093-71bc-43c3-8c4d-ecfa28dcd1ff"]);
    assert_eq!(show["results"].as_array().unwrap().len(), 2);

    env.write("bad.jsonl", "{\"rule\":\"x\",\"technique\":\"T1003\",\"outcome\":\"pass\"}\n{\"rule\": \"x\", \"outcome\": \"maybe\"}\n");
    let out = env.run(&["validate", "import", "jsonl", "bad.jsonl"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.jsonl:2"),
        "the error names the line: {err}"
    );
    let show = env.json(&["rules", "show", "0d894093-71bc-43c3-8c4d-ecfa28dcd1ff"]);
    assert_eq!(
        show["results"].as_array().unwrap().len(),
        2,
        "nothing from the bad file was recorded"
    );

    let out = env.run(&[
        "validate",
        "record",
        "--rule",
        "r",
        "--technique",
        "lsass",
        "--outcome",
        "pass",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an ATT&CK technique ID"));
}

#[test]
fn replay_of_a_manifest_records_pass_and_fail() {
    let env = setup();
    env.write(
        "data/events.jsonl",
        "{\"EventID\": 10, \"Channel\": \"Microsoft-Windows-Sysmon/Operational\", \"TargetImage\": \"C:\\\\Windows\\\\System32\\\\lsass.exe\", \"GrantedAccess\": \"0x1010\", \"SourceImage\": \"C:\\\\tmp\\\\x.exe\"}\n\
         {\"EventID\": 1, \"Channel\": \"Microsoft-Windows-Sysmon/Operational\", \"Image\": \"C:\\\\Windows\\\\notepad.exe\"}\n",
    );
    env.write("data/dataset.yml", "name: lsass-dump\nfiles: [events.jsonl]\nexpected_rules: [0d894093-71bc-43c3-8c4d-ecfa28dcd1ff]\n");
    let doc = env.json(&["validate", "replay", "data/dataset.yml"]);
    assert_eq!(doc["expected_passed"], 1, "{doc}");
    assert_eq!(doc["rows"][0]["outcome"], "pass");
    assert_eq!(doc["rows"][0]["techniques"], "T1003.001");

    env.write("nomatch/events.jsonl", "{\"EventID\": 10, \"Channel\": \"Microsoft-Windows-Sysmon/Operational\", \"TargetImage\": \"C:\\\\x\\\\calc.exe\"}\n");
    env.write("nomatch/dataset.yml", "name: benign\nfiles: [events.jsonl]\nexpected_rules: [0d894093-71bc-43c3-8c4d-ecfa28dcd1ff]\n");
    let doc = env.json(&["validate", "replay", "nomatch"]);
    assert_eq!(doc["rows"][0]["outcome"], "fail", "{doc}");
    let show = env.json(&["rules", "show", "0d894093-71bc-43c3-8c4d-ecfa28dcd1ff"]);
    let outcomes: Vec<&str> = show["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes.len(), 2);
    assert!(outcomes.contains(&"pass") && outcomes.contains(&"fail"));
}

#[test]
fn sigmahq_regression_data_replays_through_the_cli() {
    let Some(corpora) = corpus_dir(
        "ATTEST_CORPORA_DIR",
        "sigmahq_regression_data_replays_through_the_cli",
    ) else {
        return;
    };
    let env = Env::new();
    env.ok(&["init"]);
    let sigma = corpora.join("sigma");
    let rules = sigma.join("rules");
    let doc = env.json(&[
        "validate",
        "replay",
        sigma.join("regression_data").to_str().unwrap(),
        "--rules",
        rules.to_str().unwrap(),
        "--no-record",
    ]);
    let total = doc["expected_total"].as_u64().unwrap();
    let passed = doc["expected_passed"].as_u64().unwrap();
    assert!(total >= 90, "{doc}");
    assert!(
        passed * 100 >= total * 95,
        "{passed}/{total} expected rules fired"
    );
}
