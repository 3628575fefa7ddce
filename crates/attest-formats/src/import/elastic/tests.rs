//! Unit tests of the Elastic TOML importer on a rule in the published detection-rules shape.

use attest_core::rule::{RuleFormat, RuleStatus};

use super::*;
use crate::{Input, Severity};

const RULE: &str = r#"[metadata]
creation_date = "2020/08/21"
integration = ["endpoint", "windows"]
maturity = "production"
updated_date = "2024/05/21"

[rule]
author = ["Elastic"]
description = """
Identifies the creation of a process running as SYSTEM and impersonating a Windows core binary privileges.
"""
from = "now-9m"
index = ["logs-endpoint.events.process-*", "logs-windows.sysmon_operational-*"]
language = "eql"
license = "Elastic License v2"
name = "Process Created with an Elevated Token"
risk_score = 73
rule_id = "02a23ee7-c8f8-4701-b99d-e9038ce313cb"
severity = "high"
tags = [
    "Domain: Endpoint",
    "OS: Windows",
    "Tactic: Privilege Escalation",
    "Data Source: Elastic Defend",
]
timestamp_override = "event.ingested"
type = "eql"

query = '''
process where host.os.type == "windows" and event.action == "start" and
 process.Ext.effective_parent.executable : "?:\\Windows\\*"
'''

[[rule.threat]]
framework = "MITRE ATT&CK"
[[rule.threat.technique]]
id = "T1134"
name = "Access Token Manipulation"
reference = "https://attack.mitre.org/techniques/T1134/"
[[rule.threat.technique.subtechnique]]
id = "T1134.002"
name = "Create Process with Token"
reference = "https://attack.mitre.org/techniques/T1134/002/"

[[rule.threat.technique.subtechnique]]
id = "T1134.004"
name = "Parent PID Spoofing"
reference = "https://attack.mitre.org/techniques/T1134/004/"

[rule.threat.tactic]
id = "TA0004"
name = "Privilege Escalation"
reference = "https://attack.mitre.org/tactics/TA0004/"

[[rule.threat]]
framework = "MITRE ATT&CK"

[rule.threat.tactic]
id = "TA0011"
name = "Command and Control"
reference = "https://attack.mitre.org/tactics/TA0011/"
"#;

fn read(path: &str, text: &str) -> (Option<ElasticRecord>, Vec<crate::Diagnostic>) {
    read_elastic(
        Input {
            path,
            bytes: text.as_bytes(),
        },
        "detection-rules",
    )
}

#[test]
fn published_rule_shape() {
    let (record, diags) = read(
        "rules/windows/privilege_escalation_elevated_token.toml",
        RULE,
    );
    assert!(diags.is_empty(), "{diags:?}");
    let record = record.expect("a rule");
    let rule = &record.rule;
    assert_eq!(rule.id.0, "02a23ee7-c8f8-4701-b99d-e9038ce313cb");
    assert_eq!(rule.title, "Process Created with an Elevated Token");
    assert_eq!(rule.origin.format, RuleFormat::Elastic);
    assert_eq!(rule.techniques, ["T1134", "T1134.002", "T1134.004"]);
    assert_eq!(
        rule.tactics,
        ["privilege-escalation", "command-and-control"]
    );
    assert_eq!(rule.severity.as_deref(), Some("high"));
    assert_eq!(rule.maturity.as_deref(), Some("production"));
    assert_eq!(rule.created.as_deref(), Some("2020-08-21"));
    assert_eq!(rule.modified.as_deref(), Some("2024-05-21"));
    assert_eq!(rule.status, RuleStatus::Enabled);
    assert!(!record.building_block);
    assert_eq!(rule.content_hash.len(), 64);
}

#[test]
fn building_block_and_disabled() {
    let text = RULE.replace(
        "type = \"eql\"\n",
        "type = \"eql\"\nbuilding_block_type = \"default\"\nenabled = false\n",
    );
    let (record, diags) = read("bb.toml", &text);
    assert!(diags.is_empty(), "{diags:?}");
    let record = record.expect("a rule");
    assert!(record.building_block);
    assert_eq!(record.rule.status, RuleStatus::Disabled);
}

#[test]
fn bad_technique_ids_and_frameworks_are_warnings() {
    let text = r#"[rule]
rule_id = "x"
name = "n"
[[rule.threat]]
framework = "MITRE ATT&CK"
technique = [{ id = "T12", name = "bad" }, { id = "t1059", name = "ok" }]
[[rule.threat]]
framework = "Other"
"#;
    let (record, diags) = read("w.toml", text);
    assert_eq!(record.expect("a rule").rule.techniques, ["T1059"]);
    assert_eq!(diags.len(), 2, "{diags:?}");
    assert!(diags.iter().all(|d| d.severity == Severity::Warning));
}

#[test]
fn invalid_toml_names_the_line() {
    let (record, diags) = read("bad.toml", "[rule]\nrule_id = \"x\"\nname = \n");
    assert!(record.is_none());
    assert_eq!(diags[0].severity, Severity::Error);
    assert_eq!(diags[0].line, Some(3), "{}", diags[0]);
}

#[test]
fn missing_rule_id_or_table_is_an_error() {
    let (record, diags) = read("a.toml", "[metadata]\nmaturity = \"production\"\n");
    assert!(record.is_none());
    assert!(diags[0].message.contains("[rule]"));
    let (record, diags) = read("b.toml", "[rule]\nname = \"x\"\n");
    assert!(record.is_none());
    assert!(diags[0].message.contains("rule_id"));
}

#[test]
fn deep_nesting_and_garbage_are_errors() {
    let deep = format!(
        "[rule]\nrule_id = \"x\"\nname = {}{}\n",
        "[".repeat(50_000),
        "]".repeat(50_000)
    );
    let (record, diags) = read("deep.toml", &deep);
    assert!(record.is_none());
    assert_eq!(diags[0].severity, Severity::Error);
    let garbage: Vec<u8> = (0..2048u32).map(|i| (i * 7919 % 251) as u8).collect();
    let (record, diags) = read_elastic(
        Input {
            path: "g.toml",
            bytes: &garbage,
        },
        "r",
    );
    assert!(record.is_none());
    assert_eq!(diags.len(), 1);
}
