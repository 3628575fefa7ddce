//! Unit tests of the Sentinel importer on rules in the published YAML and ARM/REST shapes.

use attest_core::rule::{Dependency, RuleStatus};

use super::*;
use crate::{Input, Severity};

const YAML: &str = r#"id: 0b9ae89d-8cad-461c-808f-0494f70ad5c4
name: Brute force attack against Azure Portal
description: |
  Identifies evidence of brute force activity against Azure Portal by highlighting multiple authentication failures.
severity: Medium
requiredDataConnectors:
  - connectorId: AzureActiveDirectory
    dataTypes:
      - SigninLogs
  - connectorId: AzureActiveDirectoryAADSignInEventsBeta
    dataTypes:
      - SigninLogs
      - AADNonInteractiveUserSignInLogs
  - connectorId: CustomConnector
queryFrequency: 1d
queryPeriod: 7d
triggerOperator: gt
triggerThreshold: 0
tactics:
  - CredentialAccess
  - InitialAccess
relevantTechniques:
  - T1110
  - T1078.004
query: |
  SigninLogs
  | where ResultType in ("50126", "50053")
entityMappings:
  - entityType: Account
    fieldMappings:
      - identifier: FullName
        columnName: UserPrincipalName
version: 2.1.5
kind: Scheduled
"#;

const ARM: &str = r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "parameters": { "workspace": { "type": "String" } },
  "resources": [
    {
      "id": "[concat(resourceId('Microsoft.OperationalInsights/workspaces/providers', parameters('workspace'), 'Microsoft.SecurityInsights'),'/alertRules/8d2a5e4f-36fc-4d7a-9c21-7cd6fc4e8b4a')]",
      "name": "[concat(parameters('workspace'),'/Microsoft.SecurityInsights/8d2a5e4f-36fc-4d7a-9c21-7cd6fc4e8b4a')]",
      "type": "Microsoft.OperationalInsights/workspaces/providers/alertRules",
      "kind": "Scheduled",
      "apiVersion": "2023-12-01-preview",
      "properties": {
        "displayName": "Password spray against Entra ID",
        "description": "",
        "severity": "High",
        "enabled": false,
        "query": "SigninLogs | where ResultType == 50126",
        "queryFrequency": "PT1H",
        "queryPeriod": "PT1H",
        "triggerOperator": "GreaterThan",
        "triggerThreshold": 0,
        "suppressionDuration": "PT5H",
        "suppressionEnabled": false,
        "tactics": ["CredentialAccess"],
        "techniques": ["T1110"],
        "subTechniques": ["T1110.003"],
        "alertRuleTemplateName": "0b9ae89d-8cad-461c-808f-0494f70ad5c4",
        "templateVersion": "2.1.5"
      }
    },
    {
      "name": "[concat(parameters('workspace'),'/Microsoft.SecurityInsights/metadata-1')]",
      "type": "Microsoft.OperationalInsights/workspaces/providers/metadata",
      "properties": { "kind": "AnalyticsRule" }
    },
    {
      "name": "[concat(parameters('workspace'),'/Microsoft.SecurityInsights/f1e2d3c4-0000-0000-0000-000000000001')]",
      "type": "Microsoft.OperationalInsights/workspaces/providers/alertRules",
      "kind": "NRT",
      "properties": { "displayName": "NRT rule", "enabled": true, "tactics": ["DefenseEvasion", "PreAttack"], "techniques": ["T1562"] }
    }
  ]
}"#;

fn read(path: &str, text: &str) -> (Vec<attest_core::rule::Rule>, Vec<crate::Diagnostic>) {
    read_sentinel(
        Input {
            path,
            bytes: text.as_bytes(),
        },
        "sentinel-prod",
    )
}

#[test]
fn analytic_rule_yaml() {
    let (rules, diags) = read(
        "Solutions/Azure Active Directory/Analytic Rules/BruteForceAzurePortal.yaml",
        YAML,
    );
    assert!(diags.is_empty(), "{diags:?}");
    let [r] = rules.as_slice() else {
        panic!("one rule")
    };
    assert_eq!(r.id.0, "0b9ae89d-8cad-461c-808f-0494f70ad5c4");
    assert_eq!(r.title, "Brute force attack against Azure Portal");
    assert_eq!(r.tactics, ["credential-access", "initial-access"]);
    assert_eq!(r.techniques, ["T1110", "T1078.004"]);
    assert_eq!(r.severity.as_deref(), Some("Medium"));
    let deps: Vec<&Dependency> = r.dependencies.iter().map(|d| &d.dependency).collect();
    assert_eq!(
        deps,
        [
            &Dependency::Source("SigninLogs".into()),
            &Dependency::Source("AADNonInteractiveUserSignInLogs".into()),
            &Dependency::Source("CustomConnector".into()),
        ]
    );
}

#[test]
fn arm_export() {
    let (rules, diags) = read("export.json", ARM);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(rules.len(), 2, "the metadata resource is not a rule");
    let r = &rules[0];
    assert_eq!(r.id.0, "8d2a5e4f-36fc-4d7a-9c21-7cd6fc4e8b4a");
    assert_eq!(r.title, "Password spray against Entra ID");
    assert_eq!(r.techniques, ["T1110", "T1110.003"]);
    assert_eq!(r.tactics, ["credential-access"]);
    assert_eq!(r.status, RuleStatus::Disabled);
    assert_eq!(rules[1].status, RuleStatus::Enabled);
    assert_eq!(rules[1].tactics, ["defense-evasion", "pre-attack"]);
}

#[test]
fn rest_list_and_single_object() {
    let list = r#"{"value":[{"id":"/subscriptions/s/resourceGroups/g/providers/Microsoft.OperationalInsights/workspaces/w/providers/Microsoft.SecurityInsights/alertRules/abc","name":"abc","type":"Microsoft.SecurityInsights/alertRules","kind":"Scheduled","properties":{"displayName":"A","enabled":true,"techniques":["T1059"],"lastModifiedUtc":"2025-03-04T05:06:07Z"}}]}"#;
    let (rules, diags) = read("list.json", list);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(rules[0].id.0, "abc");
    assert_eq!(rules[0].modified.as_deref(), Some("2025-03-04"));
    let one = r#"{"name":"def","properties":{"displayName":"D","enabled":true}}"#;
    let (rules, _) = read("one.json", one);
    assert_eq!(rules[0].id.0, "def");
}

#[test]
fn content_hash_ignores_key_order() {
    let a = r#"{"name":"x","properties":{"displayName":"D","enabled":true}}"#;
    let b = "{\"name\":\"x\",\"properties\":{ \"enabled\": true, \"displayName\": \"D\" }}";
    assert_eq!(
        read("a.json", a).0[0].content_hash,
        read("b.json", b).0[0].content_hash
    );
}

#[test]
fn errors_name_file_and_line() {
    let (rules, diags) = read(
        "bad.json",
        "{\n  \"resources\": [\n    {\"name\": }\n  ]\n}",
    );
    assert!(rules.is_empty());
    assert_eq!(diags[0].severity, Severity::Error);
    assert_eq!(diags[0].line, Some(3));
    let (rules, diags) = read("x.json", "{\"foo\": 1}");
    assert!(rules.is_empty());
    assert!(diags[0].message.contains("ARM template"));
    let (rules, diags) = read("noid.yaml", "name: x\nseverity: High\n");
    assert!(rules.is_empty());
    assert!(diags[0].message.contains("without `id`"));
    let (_, diags) = read(
        "badname.json",
        r#"{"resources":[{"name":"[concat(parameters('w'))]","type":"x/alertRules","properties":{}}]}"#,
    );
    assert!(diags[0].message.contains("no rule id"), "{diags:?}");
}
