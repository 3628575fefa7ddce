//! Unit tests of the join on hand-written executions and alerts.

use std::collections::BTreeMap;

use attest_core::result::Outcome;
use attest_core::rule::RuleId;
use jiff::{SignedDuration, Timestamp};

use super::*;

fn t(s: &str) -> Timestamp {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn exec(technique: &str, started: &str) -> Execution {
    Execution {
        technique: technique.to_string(),
        test_guid: Some("0be2230c-9ab3-4ac2-8826-3199b9a0ebf8".to_string()),
        test_name: Some("Dump LSASS".to_string()),
        test_number: Some(1),
        host: Some("WS01".to_string()),
        user: Some("alice".to_string()),
        started: t(started),
        finished: None,
        exit_code: Some(0),
        source: "log.csv:2".to_string(),
    }
}

fn alert(rule: &str, at: &str) -> Alert {
    Alert {
        rule_id: Some(rule.to_string()),
        rule_name: None,
        at: t(at),
        host: Some("ws01.corp.example".to_string()),
        id: Some(format!("a-{at}")),
        source: "alerts.csv:2".to_string(),
    }
}

fn claims(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<RuleId>> {
    pairs
        .iter()
        .map(|(t, rs)| {
            (
                t.to_string(),
                rs.iter().map(|r| RuleId(r.to_string())).collect(),
            )
        })
        .collect()
}

fn outcomes(c: &Correlation) -> Vec<(String, Outcome)> {
    c.results
        .iter()
        .map(|r| (r.rule.0.clone(), r.outcome))
        .collect()
}

#[test]
fn alert_in_window_passes_and_missing_alert_fails() {
    let executions = [exec("T1003.001", "2026-01-01T10:00:00Z")];
    let alerts = [alert("r1", "2026-01-01T10:03:00Z")];
    let c = correlate(
        &executions,
        &alerts,
        &claims(&[("t1003.001", &["r1", "r2"])]),
        &CorrelateOptions::default(),
    );
    assert_eq!(
        outcomes(&c),
        [
            ("r1".to_string(), Outcome::Pass),
            ("r2".to_string(), Outcome::Fail)
        ]
    );
    let pass = &c.results[0];
    assert_eq!(pass.technique, "T1003.001");
    assert_eq!(
        pass.test.as_deref(),
        Some("0be2230c-9ab3-4ac2-8826-3199b9a0ebf8")
    );
    assert_eq!(pass.at, t("2026-01-01T10:00:00Z"));
    assert_eq!(pass.evidence.event_ids, ["a-2026-01-01T10:03:00Z"]);
    assert!(
        c.results[1]
            .evidence
            .text
            .as_deref()
            .unwrap_or("")
            .contains("no alert from rule r2")
    );
    assert!(c.unclaimed.is_empty());
    assert!(c.unused_alerts.is_empty());
}

#[test]
fn window_edges_are_inclusive_and_one_second_outside_fails() {
    let executions = [exec("T1059", "2026-01-01T10:00:00Z")];
    let c = claims(&[("T1059", &["r1"])]);
    let o = CorrelateOptions::default();
    let at_edge = correlate(&executions, &[alert("r1", "2026-01-01T10:15:00Z")], &c, &o);
    assert_eq!(at_edge.results[0].outcome, Outcome::Pass);
    let outside = correlate(&executions, &[alert("r1", "2026-01-01T10:15:01Z")], &c, &o);
    assert_eq!(outside.results[0].outcome, Outcome::Fail);
    assert_eq!(outside.unused_alerts, [0]);
    let at_start = correlate(&executions, &[alert("r1", "2026-01-01T10:00:00Z")], &c, &o);
    assert_eq!(at_start.results[0].outcome, Outcome::Pass);
}

#[test]
fn alert_before_execution_fails_unless_skew_allows_it() {
    let executions = [exec("T1059", "2026-01-01T10:00:00Z")];
    let alerts = [alert("r1", "2026-01-01T09:59:30Z")];
    let c = claims(&[("T1059", &["r1"])]);
    let strict = correlate(&executions, &alerts, &c, &CorrelateOptions::default());
    assert_eq!(strict.results[0].outcome, Outcome::Fail);
    let skewed = CorrelateOptions {
        skew: SignedDuration::from_mins(1),
        ..CorrelateOptions::default()
    };
    assert_eq!(
        correlate(&executions, &alerts, &c, &skewed).results[0].outcome,
        Outcome::Pass
    );
}

#[test]
fn same_technique_executed_twice_is_judged_per_execution() {
    let executions = [
        exec("T1059", "2026-01-01T10:00:00Z"),
        exec("T1059", "2026-01-01T11:00:00Z"),
    ];
    // One alert only in the second run's window.
    let alerts = [alert("r1", "2026-01-01T11:05:00Z")];
    let c = correlate(
        &executions,
        &alerts,
        &claims(&[("T1059", &["r1"])]),
        &CorrelateOptions::default(),
    );
    assert_eq!(
        c.results
            .iter()
            .map(|r| (r.at, r.outcome))
            .collect::<Vec<_>>(),
        [
            (t("2026-01-01T10:00:00Z"), Outcome::Fail),
            (t("2026-01-01T11:00:00Z"), Outcome::Pass)
        ]
    );
    // Overlapping windows: one alert is evidence for both runs.
    let close = [
        exec("T1059", "2026-01-01T10:00:00Z"),
        exec("T1059", "2026-01-01T10:05:00Z"),
    ];
    let c = correlate(
        &close,
        &[alert("r1", "2026-01-01T10:06:00Z")],
        &claims(&[("T1059", &["r1"])]),
        &CorrelateOptions::default(),
    );
    assert_eq!(
        c.results
            .iter()
            .filter(|r| r.outcome == Outcome::Pass)
            .count(),
        2
    );
}

#[test]
fn parent_and_sub_technique_do_not_stand_for_each_other() {
    let executions = [
        exec("T1003.001", "2026-01-01T10:00:00Z"),
        exec("T1003", "2026-01-01T12:00:00Z"),
    ];
    let alerts = [
        alert("parent-rule", "2026-01-01T10:01:00Z"),
        alert("sub-rule", "2026-01-01T12:01:00Z"),
    ];
    let c = correlate(
        &executions,
        &alerts,
        &claims(&[("T1003", &["parent-rule"]), ("T1003.001", &["sub-rule"])]),
        &CorrelateOptions::default(),
    );
    // The sub-technique run expects only sub-rule, which did not fire in its window; the
    // parent-rule alert in that window is not evidence for the sub-technique.
    assert_eq!(
        c.results
            .iter()
            .map(|r| (r.technique.as_str(), r.rule.0.as_str(), r.outcome))
            .collect::<Vec<_>>(),
        [
            ("T1003.001", "sub-rule", Outcome::Fail),
            ("T1003", "parent-rule", Outcome::Fail)
        ]
    );
    assert_eq!(c.unused_alerts, [0, 1]);
}

#[test]
fn non_zero_exit_code_is_an_error_whatever_alerted() {
    let mut e = exec("T1059", "2026-01-01T10:00:00Z");
    e.exit_code = Some(1);
    let c = correlate(
        &[e],
        &[alert("r1", "2026-01-01T10:01:00Z")],
        &claims(&[("T1059", &["r1"])]),
        &CorrelateOptions::default(),
    );
    assert_eq!(c.results[0].outcome, Outcome::Error);
    assert!(
        c.results[0]
            .evidence
            .text
            .as_deref()
            .unwrap_or("")
            .contains("exited with code 1")
    );
    // Unknown exit code (older logs, Attire) is not an error.
    let mut e = exec("T1059", "2026-01-01T10:00:00Z");
    e.exit_code = None;
    let c = correlate(
        &[e],
        &[alert("r1", "2026-01-01T10:01:00Z")],
        &claims(&[("T1059", &["r1"])]),
        &CorrelateOptions::default(),
    );
    assert_eq!(c.results[0].outcome, Outcome::Pass);
}

#[test]
fn host_matching_compares_first_label_and_rejects_other_hosts() {
    let executions = [exec("T1059", "2026-01-01T10:00:00Z")];
    let mut elsewhere = alert("r1", "2026-01-01T10:01:00Z");
    elsewhere.host = Some("WS02".to_string());
    let same = alert("r1", "2026-01-01T10:02:00Z");
    let c = claims(&[("T1059", &["r1"])]);
    let o = CorrelateOptions {
        match_host: true,
        ..CorrelateOptions::default()
    };
    let r = correlate(&executions, &[elsewhere.clone()], &c, &o);
    assert_eq!(r.results[0].outcome, Outcome::Fail);
    let r = correlate(&executions, &[elsewhere.clone(), same], &c, &o);
    assert_eq!(r.results[0].outcome, Outcome::Pass);
    assert_eq!(r.results[0].evidence.event_ids, ["a-2026-01-01T10:02:00Z"]);
    // Without host matching, the other host's alert counts.
    let r = correlate(&executions, &[elsewhere], &c, &CorrelateOptions::default());
    assert_eq!(r.results[0].outcome, Outcome::Pass);
}

#[test]
fn alerts_with_only_a_rule_name_resolve_through_the_name_map() {
    let executions = [exec("T1059", "2026-01-01T10:00:00Z")];
    let mut named = alert("x", "2026-01-01T10:01:00Z");
    named.rule_id = None;
    named.rule_name = Some("Suspicious PowerShell".to_string());
    named.id = None;
    let c = claims(&[("T1059", &["R-1"])]);
    let unresolved = correlate(
        &executions,
        &[named.clone()],
        &c,
        &CorrelateOptions::default(),
    );
    assert_eq!(unresolved.results[0].outcome, Outcome::Fail);
    let o = CorrelateOptions {
        rule_names: [(
            "suspicious powershell".to_string(),
            RuleId("R-1".to_string()),
        )]
        .into(),
        ..CorrelateOptions::default()
    };
    let r = correlate(&executions, &[named], &c, &o);
    assert_eq!(r.results[0].outcome, Outcome::Pass);
    // No alert id: the evidence names rule and time instead.
    assert_eq!(
        r.results[0].evidence.event_ids,
        ["R-1@2026-01-01T10:01:00Z"]
    );
}

#[test]
fn unclaimed_techniques_and_rule_id_case_and_determinism() {
    let executions = [
        exec("T1082", "2026-01-01T10:00:00Z"),
        exec("T1059", "2026-01-01T10:00:00Z"),
    ];
    let alerts = [alert("ABC-DEF", "2026-01-01T10:01:00Z")];
    let c = claims(&[("T1059", &["abc-def"])]);
    let a = correlate(&executions, &alerts, &c, &CorrelateOptions::default());
    assert_eq!(a.unclaimed, [0]);
    assert_eq!(a.results.len(), 1);
    assert_eq!(a.results[0].outcome, Outcome::Pass);
    assert_eq!(
        a,
        correlate(&executions, &alerts, &c, &CorrelateOptions::default())
    );
}

#[test]
fn far_future_times_do_not_overflow() {
    let executions = [exec("T1059", "9999-12-30T21:59:00Z")];
    let c = correlate(
        &executions,
        &[alert("r1", "9999-12-30T21:59:30Z")],
        &claims(&[("T1059", &["r1"])]),
        &CorrelateOptions::default(),
    );
    assert_eq!(c.results[0].outcome, Outcome::Pass);
}

#[test]
fn guids_are_resolved_by_technique_and_name_unless_ambiguous() {
    use attest_core::test::{Test, TestKind};
    let test = |id: &str, technique: &str, name: &str| Test {
        id: id.to_string(),
        kind: TestKind::Atomic,
        techniques: vec![technique.to_string()],
        name: name.to_string(),
        platforms: vec!["windows".to_string()],
        executor: Some("powershell".to_string()),
        elevation_required: false,
    };
    let catalogue = [
        test("g1", "T1003", "Powershell Mimikatz"),
        test("g2", "T1003", "Gsecdump"),
        test("g3", "T1003", "gsecdump"),
        test("g4", "T1082", "Powershell Mimikatz"),
    ];
    let mut runs = [
        exec("T1003", "2020-01-01T00:00:00Z"),
        exec("t1003", "2020-01-01T00:00:00Z"),
        exec("T1003", "2020-01-01T00:00:00Z"),
        exec("T1059", "2020-01-01T00:00:00Z"),
    ];
    for (run, name) in runs.iter_mut().zip([
        "powershell mimikatz ",
        "Gsecdump",
        "Powershell Mimikatz",
        "x",
    ]) {
        run.test_guid = None;
        run.test_name = Some(name.to_string());
    }
    runs[2].test_guid = Some("kept".to_string());
    assert_eq!(resolve_test_guids(&mut runs, &catalogue), 1);
    let got: Vec<Option<&str>> = runs.iter().map(|r| r.test_guid.as_deref()).collect();
    assert_eq!(got, [Some("g1"), None, Some("kept"), None]);
}
