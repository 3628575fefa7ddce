//! Unit tests of the Kibana export importer on an export in the published NDJSON shape.

use attest_core::rule::RuleStatus;

use super::*;
use crate::{Input, Severity};

const EXPORT: &str = r#"{"id":"6f6b4bd0-1a2b-11ef-9f4e-5b1c1b1c1b1c","rule_id":"e2f9fdf5-8076-45ad-9427-41e0e03dc9c2","name":"Suspicious Process Execution via Renamed PsExec Executable","description":"Identifies suspicious psexec activity.","enabled":true,"immutable":true,"risk_score":47,"severity":"medium","type":"eql","language":"eql","index":["logs-endpoint.events.process-*"],"query":"process where event.type == \"start\"","tags":["Domain: Endpoint","OS: Windows","Tactic: Execution"],"threat":[{"framework":"MITRE ATT&CK","tactic":{"id":"TA0002","name":"Execution","reference":"https://attack.mitre.org/tactics/TA0002/"},"technique":[{"id":"T1569","name":"System Services","reference":"https://attack.mitre.org/techniques/T1569/","subtechnique":[{"id":"T1569.002","name":"Service Execution","reference":"https://attack.mitre.org/techniques/T1569/002/"}]}]},{"framework":"MITRE ATT&CK","tactic":{"id":"TA0005","name":"Defense Evasion","reference":"https://attack.mitre.org/tactics/TA0005/"},"technique":[{"id":"T1036","name":"Masquerading","reference":"https://attack.mitre.org/techniques/T1036/","subtechnique":[{"id":"T1036.003","name":"Rename System Utilities","reference":"https://attack.mitre.org/techniques/T1036/003/"}]}]}],"created_at":"2024-05-21T09:00:00.000Z","updated_at":"2024-06-02T10:11:12.000Z","created_by":"elastic","updated_by":"alice","version":110,"exceptions_list":[{"id":"endpoint_list","list_id":"endpoint_list","type":"endpoint","namespace_type":"agnostic"}],"actions":[{"group":"default","id":"b6c5e1a0-0000-0000-0000-000000000001","action_type_id":".slack","params":{"message":"Rule fired"}}]}
{"id":"a1b2c3d4-0000-0000-0000-000000000002","rule_id":"custom-brute-force-okta","name":"Okta brute force (custom)","enabled":false,"severity":"high","type":"threshold","building_block_type":"default","threat":[{"framework":"MITRE ATT&CK","tactic":{"id":"TA0006","name":"Credential Access","reference":""},"technique":[{"id":"T1110","name":"Brute Force","reference":""}]}],"created_at":"2025-01-03T00:00:00Z","updated_at":"2025-01-03T00:00:00Z","created_by":"bob"}
{"_version":"WzEsMV0=","created_at":"2024-05-21T09:00:00.000Z","created_by":"elastic","description":"Endpoint Security Exception List","id":"endpoint_list","immutable":false,"list_id":"endpoint_list","name":"Endpoint Security Exception List","namespace_type":"agnostic","os_types":[],"tags":[],"tie_breaker_id":"x","type":"endpoint","updated_at":"2024-05-21T09:00:00.000Z","updated_by":"elastic","version":1}
{"_version":"WzIsMV0=","comments":[],"created_at":"2024-05-21T09:00:00.000Z","created_by":"elastic","description":"trusted","entries":[{"field":"process.executable","operator":"included","type":"match","value":"C:\\tools\\psexec.exe"}],"id":"item-1","item_id":"item-1","list_id":"endpoint_list","name":"trusted psexec","namespace_type":"agnostic","os_types":["windows"],"tags":[],"type":"simple"}
{"attributes":{"actionTypeId":".slack","isMissingSecrets":true,"name":"SOC Slack"},"coreMigrationVersion":"8.8.0","id":"b6c5e1a0-0000-0000-0000-000000000001","managed":false,"references":[],"type":"action","updated_at":"2024-05-21T09:00:00.000Z","version":"WzMsMV0="}
{"exported_count":5,"exported_rules_count":2,"missing_rules":[],"missing_rules_count":0,"exported_exception_list_count":1,"exported_exception_list_item_count":1,"missing_exception_list_item_count":0,"missing_exception_list_items":[],"missing_exception_lists":[],"missing_exception_lists_count":0,"exported_action_connector_count":1,"missing_action_connection_count":0,"missing_action_connections":[],"excluded_action_connection_count":0,"excluded_action_connections":[]}
"#;

fn read(text: &str) -> (Vec<attest_core::rule::Rule>, Vec<crate::Diagnostic>) {
    read_kibana(
        Input {
            path: "export.ndjson",
            bytes: text.as_bytes(),
        },
        "kibana-prod",
    )
}

#[test]
fn rules_are_read_and_the_other_lines_skipped() {
    let (rules, diags) = read(EXPORT);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(rules.len(), 2);
    let r = &rules[0];
    assert_eq!(r.id.0, "e2f9fdf5-8076-45ad-9427-41e0e03dc9c2");
    assert_eq!(
        r.title,
        "Suspicious Process Execution via Renamed PsExec Executable"
    );
    assert_eq!(r.techniques, ["T1569", "T1569.002", "T1036", "T1036.003"]);
    assert_eq!(r.tactics, ["execution", "defense-evasion"]);
    assert_eq!(r.status, RuleStatus::Enabled);
    assert_eq!(r.created.as_deref(), Some("2024-05-21"));
    assert_eq!(r.modified.as_deref(), Some("2024-06-02"));
    assert_eq!(r.origin.root, "kibana-prod");
    let r = &rules[1];
    assert_eq!(
        r.status,
        RuleStatus::Disabled,
        "enabled: false is the deployment state"
    );
    assert_eq!(r.maturity.as_deref(), Some("building-block"));
    assert_eq!(r.tactics, ["credential-access"]);
    assert_eq!(r.owner.as_deref(), Some("bob"));
    assert_ne!(rules[0].content_hash, rules[1].content_hash);
}

#[test]
fn a_broken_line_costs_only_that_line_and_the_summary_is_checked() {
    let mut lines: Vec<&str> = EXPORT.lines().collect();
    lines[1] = "{\"rule_id\": \"truncated";
    let text = lines.join("\n");
    let (rules, diags) = read(&text);
    assert_eq!(rules.len(), 1);
    assert_eq!(diags.len(), 2, "{diags:?}");
    assert_eq!(diags[0].severity, Severity::Error);
    assert_eq!(diags[0].line, Some(2));
    assert!(diags[1].message.contains("counts 2 rules but 1"));
}

#[test]
fn unknown_lines_and_missing_enabled_are_warnings() {
    let (rules, diags) = read("{\"foo\": 1}\n{\"rule_id\":\"r\",\"name\":\"n\"}\n[1,2]\n");
    assert_eq!(rules.len(), 1);
    let severities: Vec<Severity> = diags.iter().map(|d| d.severity).collect();
    assert_eq!(
        severities,
        [Severity::Warning, Severity::Warning, Severity::Error],
        "{diags:?}"
    );
}

#[test]
fn deep_json_nesting_costs_nothing_and_never_panics() {
    // Skipped fields are skipped without recursion; fields we read hit serde_json's depth limit.
    let deep = format!(
        "{{\"rule_id\":\"r\",\"name\":\"n\",\"enabled\":true,\"x\":{}{}}}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let (rules, diags) = read(&deep);
    assert_eq!(rules.len(), 1, "{diags:?}");
    let deep = format!(
        "{{\"rule_id\":\"r\",\"threat\":{}{}}}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let (rules, diags) = read(&deep);
    assert!(rules.is_empty());
    assert_eq!(diags[0].severity, Severity::Error);
    assert!(
        diags[0].message.contains("recursion limit") || diags[0].message.contains("invalid type"),
        "{}",
        diags[0]
    );
}
