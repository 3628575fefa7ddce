//! Unit tests of the VECTR reader and of placeholder mapping.

use std::collections::BTreeMap;

use attest_core::result::Outcome;
use attest_core::rule::RuleId;

use super::*;
use crate::{Input, Severity};

fn read(
    text: &str,
) -> (
    Vec<attest_core::result::ValidationResult>,
    Vec<crate::Diagnostic>,
) {
    read_vectr(
        Input {
            path: "vectr.csv",
            bytes: text.as_bytes(),
        },
        &VectrOptions::default(),
    )
}

fn ts(s: &str) -> jiff::Timestamp {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn outcomes_map_and_other_words_are_skipped_with_lines() {
    let text = "\"Variant\",\"MitreID\",\"Status\",\"Outcome\",\"DetectingTools\",\"Start Time\",\"Start Time Epoch\"\n\
        \"ProcDump\",\"t1003.001\",\"Completed\",\"Detected\",\"EDR\",\"2024-03-05 16:20:00\",\"1709655600000\"\n\
        \"Comsvcs\",\"T1003.001\",\"Completed\",\"Not Detected\",\"\",\"2024-03-05 16:25:00\",\"\"\n\
        \"Sysinfo\",\"T1082\",\"Completed\",\"Blocked\",\"\",\"\",\"1709656800\"\n\
        \"Tasklist\",\"T1057\",\"Completed\",\"TBD\",\"\",\"2024-03-05 16:45:00\",\"\"\n\
        \"Net view\",\"T1135\",\"Not Performed\",\"\",\"\",\"\",\"\"\n\
        \"Whoami\",\"T1033\",\"Completed\",\"Detected\",\"\",\"\",\"\"\n\
        \"No id\",\"\",\"Completed\",\"Detected\",\"\",\"2024-03-05 16:45:00\",\"\"\n";
    let (results, diags) = read(text);
    let got: Vec<(&str, Outcome, jiff::Timestamp)> = results
        .iter()
        .map(|r| (r.technique.as_str(), r.outcome, r.at))
        .collect();
    assert_eq!(
        got,
        [
            ("T1003.001", Outcome::Pass, ts("2024-03-05T16:20:00Z")),
            ("T1003.001", Outcome::Fail, ts("2024-03-05T16:25:00Z")),
            ("T1082", Outcome::Pass, ts("2024-03-05T16:40:00Z")),
        ]
    );
    assert!(
        results
            .iter()
            .all(|r| r.rule.0 == PLACEHOLDER_RULE && r.by == "vectr")
    );
    assert_eq!(results[0].test.as_deref(), Some("ProcDump"));
    let text0 = results[0].evidence.text.as_deref().unwrap_or("");
    assert!(
        text0.contains("detecting tools: EDR") && text0.contains("vectr.csv:2"),
        "{text0}"
    );
    let d: Vec<(Severity, Option<usize>)> = diags.iter().map(|d| (d.severity, d.line)).collect();
    assert_eq!(
        d,
        [
            (Severity::Warning, Some(5)),
            (Severity::Warning, Some(6)),
            (Severity::Error, Some(7)),
            (Severity::Error, Some(8))
        ]
    );
}

#[test]
fn a_rule_id_column_names_the_rule() {
    let text = "MitreID,Outcome,Start Time,Rule ID\nT1059,Detected,2024-01-01T00:00:00Z,abc\n";
    let (results, diags) = read(text);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(results[0].rule, RuleId("abc".to_string()));
}

#[test]
fn not_a_vectr_file_is_one_error() {
    let (results, diags) = read("rule_id,time\nx,y\n");
    assert!(results.is_empty());
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].line, Some(1));
}

#[test]
fn placeholders_go_to_every_claiming_rule_or_stay_unclaimed() {
    let text = "MitreID,Outcome,Start Time\nT1003.001,Detected,2024-01-01T00:00:00Z\nT1003,Detected,2024-01-01T00:00:00Z\nT1082,NotDetected,2024-01-01T00:00:00Z\n";
    let (results, _) = read(text);
    let claims: BTreeMap<String, Vec<RuleId>> = [
        (
            "t1003.001".to_string(),
            vec![RuleId("a".into()), RuleId("b".into())],
        ),
        ("T1082".to_string(), vec![RuleId("c".into())]),
    ]
    .into();
    let (assigned, unclaimed) = assign_rules(results, &claims);
    let got: Vec<(&str, &str)> = assigned
        .iter()
        .map(|r| (r.rule.0.as_str(), r.technique.as_str()))
        .collect();
    assert_eq!(
        got,
        [("a", "T1003.001"), ("b", "T1003.001"), ("c", "T1082")]
    );
    assert_eq!(unclaimed.len(), 1);
    assert_eq!(
        unclaimed[0].technique, "T1003",
        "a sub-technique claim does not cover the parent"
    );
}
