//! End-to-end tests of the validation formats on the fixtures in `tests/fixtures/validation/`
//! (hand-written in the published shapes): execution logs + alert exports → `correlate` →
//! results → JSON lines and back; VECTR exports.

use std::collections::BTreeMap;

use attest_core::result::Outcome;
use attest_core::rule::RuleId;
use attest_formats::correlate::{CorrelateOptions, Execution, correlate, resolve_test_guids};
use attest_formats::export::results_jsonl::results_to_jsonl;
use attest_formats::import::results_jsonl::{ResultsJsonlOptions, read_results_jsonl};
use attest_formats::import::{alerts, attire, invoke_atomic, vectr};
use attest_formats::{Input, Severity};

const V1: &[u8] = include_bytes!("fixtures/validation/invoke-atomic-v1.csv");
const V2_BOM: &[u8] = include_bytes!("fixtures/validation/invoke-atomic-v2-utf8bom.csv");
const V3: &[u8] = include_bytes!("fixtures/validation/invoke-atomic-v3.csv");
const V3_UTF16: &[u8] = include_bytes!("fixtures/validation/invoke-atomic-v3-utf16le.csv");
const ATTIRE: &[u8] = include_bytes!("fixtures/validation/attire.json");
const SPLUNK: &[u8] = include_bytes!("fixtures/validation/alerts-splunk-notable.csv");
const KIBANA: &[u8] = include_bytes!("fixtures/validation/alerts-kibana.ndjson");
const VECTR: &[u8] = include_bytes!("fixtures/validation/vectr-export.csv");

const PROCDUMP_RULE: &str = "0aa96c56-27f5-4b50-9f3b-7e8c1b1a2b3c";
const DISCOVERY_RULE: &str = "1f9c6e2d-0000-4000-8000-000000000001";

fn ts(s: &str) -> jiff::Timestamp {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn claims() -> BTreeMap<String, Vec<RuleId>> {
    [
        (
            "T1003.001".to_string(),
            vec![RuleId(PROCDUMP_RULE.into()), RuleId("sigma-comsvcs".into())],
        ),
        ("T1082".to_string(), vec![RuleId(DISCOVERY_RULE.into())]),
    ]
    .into()
}

fn clean<T>(
    path: &str,
    bytes: &[u8],
    read: fn(Input<'_>) -> (Vec<T>, Vec<attest_formats::Diagnostic>),
) -> Vec<T> {
    let (items, diags) = read(Input { path, bytes });
    assert!(diags.is_empty(), "{path}: {diags:#?}");
    items
}

#[test]
fn the_three_csv_header_versions_and_encodings() {
    let v1 = clean("v1.csv", V1, invoke_atomic::read_execution_log);
    assert_eq!(v1.len(), 3);
    assert_eq!(v1[0].technique, "T1003");
    assert_eq!(v1[0].started, ts("2020-06-02T14:25:31Z"));
    assert_eq!(
        (
            v1[0].test_guid.as_deref(),
            v1[0].user.as_deref(),
            v1[0].exit_code
        ),
        (None, None, None)
    );

    let v2 = clean("v2.csv", V2_BOM, invoke_atomic::read_execution_log);
    assert_eq!(v2.len(), 2);
    assert_eq!(
        v2[0].test_guid.as_deref(),
        Some("2536dee2-12fb-459a-8c37-971844fa73be")
    );
    assert_eq!(v2[0].user.as_deref(), Some("CORP\\administrator"));
    assert_eq!(
        v2[0].started,
        ts("2021-09-14T08:00:12Z"),
        "UTC column, not the local one"
    );

    let v3 = clean("v3.csv", V3, invoke_atomic::read_execution_log);
    assert_eq!(
        v3.iter()
            .map(|e| (e.started, e.exit_code))
            .collect::<Vec<_>>(),
        [
            (ts("2024-03-05T16:20:00Z"), Some(0)),
            (ts("2024-03-05T16:25:00Z"), Some(1)),
            (ts("2024-03-05T16:40:00Z"), None)
        ]
    );
    assert_eq!(v3[1].source, "v3.csv:3", "CRLF line ends counted right");
    let v3_utf16 = clean("v3.csv", V3_UTF16, invoke_atomic::read_execution_log);
    assert_eq!(v3_utf16, v3, "UTF-16 LE with BOM reads exactly like UTF-8");
}

#[test]
fn v1_logs_get_guids_from_the_catalogue() {
    let mut v1 = clean("v1.csv", V1, invoke_atomic::read_execution_log);
    let yaml = "attack_technique: T1003\natomic_tests:\n- name: Gsecdump\n  auto_generated_guid: 96345bfc-8ae7-4b6a-80b7-223200f24ef9\n  supported_platforms: [windows]\n  executor: {name: command_prompt}\n";
    let (tests, _) = attest_formats::import::atomic::read_technique(Input {
        path: "T1003.yaml",
        bytes: yaml.as_bytes(),
    });
    assert_eq!(resolve_test_guids(&mut v1, &tests), 1);
    assert_eq!(
        v1[1].test_guid.as_deref(),
        Some("96345bfc-8ae7-4b6a-80b7-223200f24ef9")
    );
}

#[test]
fn csv_log_with_kibana_alerts_gives_pass_fail_and_error() {
    let executions = clean("v3.csv", V3, invoke_atomic::read_execution_log);
    let alerts = clean("kibana.ndjson", KIBANA, alerts::read_alerts);
    assert_eq!(alerts.len(), 2);
    assert_eq!(
        alerts[1].rule_id.as_deref(),
        Some(DISCOVERY_RULE),
        "nested kibana.alert.rule.rule_id"
    );
    let options = CorrelateOptions {
        match_host: true,
        by: "ci".into(),
        ..CorrelateOptions::default()
    };
    let c = correlate(&executions, &alerts, &claims(), &options);
    let got: Vec<(&str, &str, Outcome)> = c
        .results
        .iter()
        .map(|r| (r.technique.as_str(), r.rule.0.as_str(), r.outcome))
        .collect();
    assert_eq!(
        got,
        [
            ("T1003.001", PROCDUMP_RULE, Outcome::Pass),
            ("T1003.001", "sigma-comsvcs", Outcome::Fail),
            ("T1003.001", PROCDUMP_RULE, Outcome::Error),
            ("T1003.001", "sigma-comsvcs", Outcome::Error),
            ("T1082", DISCOVERY_RULE, Outcome::Pass),
        ]
    );
    assert_eq!(
        c.results[0].test.as_deref(),
        Some("0be2230c-9ab3-4ac2-8826-3199b9a0ebf8")
    );
    assert_eq!(
        c.results[0].evidence.event_ids,
        ["5c8d9f1e2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5"]
    );
    assert!(c.results.iter().all(|r| r.by == "ci"));
    assert!(c.unclaimed.is_empty() && c.unused_alerts.is_empty());

    // Pipelines: the results survive JSON lines both ways.
    let text = results_to_jsonl(&c.results);
    assert_eq!(text.lines().count(), 5);
    let (back, diags) = read_results_jsonl(
        Input {
            path: "out.jsonl",
            bytes: text.as_bytes(),
        },
        &ResultsJsonlOptions::default(),
    );
    assert!(diags.is_empty(), "{diags:#?}");
    assert_eq!(back, c.results);
}

#[test]
fn attire_log_with_splunk_notables_resolved_by_name() {
    let executions: Vec<Execution> = clean("attire.json", ATTIRE, attire::read_attire);
    assert_eq!(executions.len(), 2);
    assert_eq!(executions[0].host.as_deref(), Some("WS01"));
    assert_eq!(executions[0].user.as_deref(), Some("CORP\\alice"));
    assert_eq!(executions[0].finished, Some(ts("2024-03-05T16:20:07Z")));
    assert_eq!(
        executions[1].test_guid.as_deref(),
        Some("2536dee2-12fb-459a-8c37-971844fa73be")
    );

    let alerts = clean("notable.csv", SPLUNK, alerts::read_alerts);
    assert_eq!(alerts.len(), 3);
    assert_eq!(alerts[0].at, ts("2024-03-05T16:21:13Z"));
    let options = CorrelateOptions {
        rule_names: [(
            "Endpoint - Comsvcs MiniDump - Rule".to_string(),
            RuleId("sigma-comsvcs".into()),
        )]
        .into(),
        ..CorrelateOptions::default()
    };
    let c = correlate(&executions, &alerts, &claims(), &options);
    let got: Vec<(jiff::Timestamp, &str, Outcome)> = c
        .results
        .iter()
        .map(|r| (r.at, r.rule.0.as_str(), r.outcome))
        .collect();
    assert_eq!(
        got,
        [
            // ProcDump run at 16:20: both alerts fall in its 15-minute window.
            (ts("2024-03-05T16:20:00Z"), PROCDUMP_RULE, Outcome::Pass),
            (ts("2024-03-05T16:20:00Z"), "sigma-comsvcs", Outcome::Pass),
            // Comsvcs run at 16:25: the ProcDump alert (16:21) came before it.
            (ts("2024-03-05T16:25:00Z"), PROCDUMP_RULE, Outcome::Fail),
            (ts("2024-03-05T16:25:00Z"), "sigma-comsvcs", Outcome::Pass),
        ]
    );
    assert_eq!(
        c.unused_alerts,
        [2],
        "the port-scan notable belongs to no claiming rule"
    );
}

#[test]
fn vectr_export() {
    let (results, diags) = vectr::read_vectr(
        Input {
            path: "vectr.csv",
            bytes: VECTR,
        },
        &vectr::VectrOptions::default(),
    );
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
    assert_eq!(
        results[0].test.as_deref(),
        Some("Dump LSASS.exe Memory using ProcDump")
    );
    let evidence = results[0].evidence.text.as_deref().unwrap_or("");
    assert!(
        evidence.contains("Elastic Defend")
            && evidence.contains("Q1 Purple Team / Credential Access"),
        "{evidence}"
    );
    assert_eq!(
        diags
            .iter()
            .map(|d| (d.severity, d.line))
            .collect::<Vec<_>>(),
        [(Severity::Warning, Some(5)), (Severity::Warning, Some(6))],
        "TBD and Not Performed rows"
    );
    let (assigned, unclaimed) = vectr::assign_rules(results, &claims());
    assert_eq!(assigned.len(), 5);
    assert!(unclaimed.is_empty());
}
