//! Correlation rules over a stream of timestamped events.

use attest_sigma::{CompileOptions, Event, RuleKind, RuleSet, SourceRule};
use jiff::Timestamp;
use serde_json::json;

const BASE: &str = r#"title: Failed logon
id: failed-logon
name: failed_logon
logsource: {product: windows, service: security}
detection:
  sel:
    EventID: 4625
  condition: sel
---
title: Success logon
id: success-logon
name: success_logon
logsource: {product: windows, service: security}
detection:
  sel:
    EventID: 4624
  condition: sel
"#;

fn compile(correlation: &str) -> RuleSet {
    let text = format!("{BASE}---\n{correlation}");
    let (set, diags) = RuleSet::compile(
        [SourceRule::new("corr.yml", text)],
        &CompileOptions::default(),
    );
    assert!(diags.is_empty(), "{diags:#?}");
    assert!(set.has_correlations());
    set
}

fn logon(event_id: u32, user: &str, host: &str, second: i64) -> Event {
    let ts = Timestamp::from_second(1_700_000_000 + second).ok();
    Event::from_json(json!({
        "Channel": "Security", "EventID": event_id, "TargetUserName": user, "IpAddress": host
    }))
    .map(|e| e.with_timestamp(ts))
    .unwrap_or_else(|| Event::new(serde_json::Map::new()))
}

/// Titles of the correlation rules that fired on each event of the stream.
fn run(set: &RuleSet, events: &[Event]) -> Vec<Vec<String>> {
    let mut c = set.correlator();
    events
        .iter()
        .map(|e| {
            c.process(e)
                .into_iter()
                .filter(|m| m.correlation.is_some())
                .map(|m| set.rules()[m.rule].title.clone())
                .collect()
        })
        .collect()
}

#[test]
fn event_count_with_group_by_and_timespan() {
    let set = compile(
        "title: Brute force\nid: brute\ncorrelation:\n  type: event_count\n  rules: [failed_logon]\n  group-by: [TargetUserName]\n  timespan: 60s\n  condition:\n    gte: 3\n",
    );
    let corr = set.find("brute").map(|i| set.rules()[i].kind.clone());
    assert!(
        matches!(corr, Some(RuleKind::Correlation(ref c)) if c.group_by == ["TargetUserName"] && c.timespan.as_secs() == 60)
    );
    let fired = run(
        &set,
        &[
            logon(4625, "bob", "h", 0),
            logon(4625, "alice", "h", 1),
            logon(4625, "bob", "h", 2),
            logon(4625, "bob", "h", 3),
        ],
    );
    assert_eq!(
        fired,
        vec![vec![], vec![], vec![], vec!["Brute force".to_owned()]]
    );
    // Outside the window: no firing.
    let fired = run(
        &set,
        &[
            logon(4625, "bob", "h", 0),
            logon(4625, "bob", "h", 100),
            logon(4625, "bob", "h", 200),
        ],
    );
    assert!(fired.iter().all(Vec::is_empty), "{fired:?}");
}

#[test]
fn value_count() {
    let set = compile(
        "title: Spray\nid: spray\ncorrelation:\n  type: value_count\n  rules: [failed-logon]\n  group-by: [IpAddress]\n  timespan: 5m\n  condition:\n    field: TargetUserName\n    gte: 3\n",
    );
    let fired = run(
        &set,
        &[
            logon(4625, "a", "10.0.0.1", 0),
            logon(4625, "a", "10.0.0.1", 1),
            logon(4625, "b", "10.0.0.1", 2),
            logon(4625, "c", "10.0.0.1", 3),
        ],
    );
    assert_eq!(fired[2], Vec::<String>::new());
    assert_eq!(fired[3], vec!["Spray".to_owned()]);
    let mut c = set.correlator();
    let last = [
        logon(4625, "a", "10.0.0.1", 0),
        logon(4625, "b", "10.0.0.1", 1),
        logon(4625, "c", "10.0.0.1", 2),
    ]
    .iter()
    .map(|e| c.process(e))
    .last()
    .unwrap_or_default();
    let m = last.iter().find_map(|m| m.correlation.clone());
    assert_eq!(
        m.map(|m| (m.group, m.value)),
        Some((vec![("IpAddress".to_owned(), "10.0.0.1".to_owned())], 3.0))
    );
}

#[test]
fn temporal_any_order() {
    let set = compile(
        "title: Fail then success\nid: fts\ncorrelation:\n  type: temporal\n  rules: [failed_logon, success_logon]\n  group-by: [TargetUserName]\n  timespan: 1m\n  condition:\n    gte: 2\n",
    );
    let fired = run(
        &set,
        &[logon(4624, "bob", "h", 0), logon(4625, "bob", "h", 10)],
    );
    assert_eq!(fired[1], vec!["Fail then success".to_owned()]);
    let fired = run(
        &set,
        &[logon(4624, "bob", "h", 0), logon(4625, "alice", "h", 10)],
    );
    assert!(fired.iter().all(Vec::is_empty));
}

#[test]
fn temporal_ordered_needs_the_order() {
    let set = compile(
        "title: Ordered\nid: ord\ncorrelation:\n  type: temporal_ordered\n  rules: [failed_logon, success_logon]\n  group-by: [TargetUserName]\n  timespan: 1m\n  condition:\n    gte: 2\n",
    );
    let fired = run(
        &set,
        &[logon(4625, "bob", "h", 0), logon(4624, "bob", "h", 10)],
    );
    assert_eq!(fired[1], vec!["Ordered".to_owned()]);
    let fired = run(
        &set,
        &[logon(4624, "bob", "h", 0), logon(4625, "bob", "h", 10)],
    );
    assert!(fired.iter().all(Vec::is_empty), "{fired:?}");
}

#[test]
fn correlation_with_unknown_rule_is_a_diagnostic() {
    let text = format!(
        "{BASE}---\ntitle: Broken\nid: broken\ncorrelation:\n  type: event_count\n  rules: [nope]\n  timespan: 1m\n  condition:\n    gte: 2\n"
    );
    let (set, diags) =
        RuleSet::compile([SourceRule::new("c.yml", text)], &CompileOptions::default());
    assert_eq!(set.len(), 2);
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].kind, attest_sigma::DiagnosticKind::UnknownRuleRef);
    assert!(diags[0].message.contains("nope"));
}

#[test]
fn untimed_events_do_not_enter_windows() {
    let set = compile(
        "title: Brute force\nid: brute\ncorrelation:\n  type: event_count\n  rules: [failed_logon]\n  timespan: 60s\n  condition:\n    gte: 2\n",
    );
    let mut c = set.correlator();
    let e = logon(4625, "bob", "h", 0).with_timestamp(None);
    assert_eq!(c.process(&e).len(), 1);
    assert_eq!(c.process(&e).len(), 1);
    assert_eq!(c.untimed_events(), 2);
}
