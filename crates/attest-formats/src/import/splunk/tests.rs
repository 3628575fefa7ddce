//! Unit tests of the ESCU importer on a detection in the published shape.

use attest_core::rule::{Dependency, DependencyOrigin};

use super::*;
use crate::{Input, Severity};

const DETECTION: &str = r#"name: Windows Credential Dumping LSASS Memory Createdump
id: b3b7ce35-fce5-4c73-85f4-700aeada81a9
version: 7
date: '2025-02-10'
author: Michael Haag, Splunk
status: production
type: TTP
description: The following analytic detects the use of CreateDump.exe to perform a process dump.
data_source:
- Sysmon EventID 1
- Windows Event Log Security 4688
- CrowdStrike ProcessRollup2
search: '| tstats `security_content_summariesonly` count min(_time) as firstTime from datamodel=Endpoint.Processes
  where Processes.process_name=createdump.exe by Processes.dest | `drop_dm_object_name(Processes)`'
how_to_implement: The detection is based on data that originates from Endpoint Detection and Response agents.
known_false_positives: False positives should be limited.
references:
- https://twitter.com/bopin2020/status/1366400799199272960
drilldown_searches:
- name: View the detection results for - "$dest$"
  search: '%original_detection_search% | search  dest = "$dest$"'
  earliest_offset: $info_min_time$
  latest_offset: $info_max_time$
rba:
  message: User $user$ attempted to dump lsass.exe on $dest$
  risk_objects:
  - field: dest
    type: system
    score: 80
tags:
  analytic_story:
  - Credential Dumping
  asset_type: Endpoint
  mitre_attack_id:
  - T1003.001
  product:
  - Splunk Enterprise
  - Splunk Enterprise Security
  - Splunk Cloud
  security_domain: endpoint
tests:
- name: True Positive Test
  attack_data:
  - data: https://media.githubusercontent.com/media/splunk/attack_data/master/datasets/attack_techniques/T1003.001/atomic_red_team/windows-sysmon_createdump.log
    source: XmlWinEventLog:Microsoft-Windows-Sysmon/Operational
    sourcetype: XmlWinEventLog
"#;

fn read(path: &str, text: &str) -> (Option<attest_core::rule::Rule>, Vec<crate::Diagnostic>) {
    read_escu(
        Input {
            path,
            bytes: text.as_bytes(),
        },
        "security_content",
    )
}

#[test]
fn published_detection_shape() {
    let (rule, diags) = read(
        "detections/endpoint/windows_credential_dumping_lsass_memory_createdump.yml",
        DETECTION,
    );
    assert!(diags.is_empty(), "{diags:?}");
    let rule = rule.expect("a rule");
    assert_eq!(rule.id.0, "b3b7ce35-fce5-4c73-85f4-700aeada81a9");
    assert_eq!(
        rule.title,
        "Windows Credential Dumping LSASS Memory Createdump"
    );
    assert_eq!(rule.techniques, ["T1003.001"]);
    assert_eq!(rule.maturity.as_deref(), Some("production"));
    assert_eq!(rule.created.as_deref(), Some("2025-02-10"));
    let deps: Vec<&Dependency> = rule.dependencies.iter().map(|d| &d.dependency).collect();
    assert_eq!(
        deps,
        [
            &Dependency::Source("Sysmon EventID 1".into()),
            &Dependency::Source("Windows Event Log Security 4688".into()),
            &Dependency::Source("CrowdStrike ProcessRollup2".into()),
        ]
    );
    assert!(
        rule.dependencies
            .iter()
            .all(|d| d.origin == DependencyOrigin::Declared)
    );
}

#[test]
fn stories_and_macros_are_skipped_with_a_warning() {
    let story = "name: Credential Dumping\nid: 854d78bf-d0e2-4f4e-b05c-640905f86d7a\nversion: 1\nnarrative: text\n";
    let (rule, diags) = read("stories/credential_dumping.yml", story);
    assert!(rule.is_none());
    assert_eq!(diags[0].severity, Severity::Warning);
}

#[test]
fn bad_technique_ids_are_warnings_and_bad_yaml_errors() {
    let text = DETECTION.replace("  - T1003.001", "  - T1003.001\n  - Credential Dumping");
    let (rule, diags) = read("d.yml", &text);
    assert_eq!(rule.expect("a rule").techniques, ["T1003.001"]);
    assert_eq!(diags.len(), 1);
    let (rule, diags) = read("d.yml", "name: x\nid: [\n");
    assert!(rule.is_none());
    assert_eq!(diags[0].severity, Severity::Error);
    assert!(diags[0].line.is_some());
}
