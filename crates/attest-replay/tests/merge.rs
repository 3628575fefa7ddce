//! A dataset's files are replayed as one time-ordered stream, so correlation rules see events
//! of every file in one timeline.

use std::path::Path;

use attest_replay::{ReplayOptions, load_datasets, replay_dataset};
use attest_sigma::{CompileOptions, RuleSet, SourceRule};

const RULES: &str = r#"title: Failed logon
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
---
title: Success after failure
id: success-after-failure
correlation:
  type: temporal_ordered
  rules: [failed_logon, success_logon]
  group-by: [TargetUserName]
  timespan: 5m
level: high
---
title: Three failures
id: three-failures
correlation:
  type: event_count
  rules: [failed_logon]
  group-by: [TargetUserName]
  timespan: 1m
  condition: {gte: 3}
level: medium
"#;

fn logon(event_id: u32, user: &str, at: &str) -> String {
    format!(
        "{{\"Channel\":\"Security\",\"EventID\":{event_id},\"TargetUserName\":\"{user}\",\"@timestamp\":\"{at}\"}}\n"
    )
}

fn write(dir: &Path, name: &str, lines: &[String]) {
    std::fs::write(dir.join(name), lines.concat()).unwrap_or_else(|e| panic!("{name}: {e}"));
}

fn fired(dir: &Path) -> Vec<(String, u64)> {
    let (rules, diags) = RuleSet::compile(
        [SourceRule::new("rules.yml", RULES)],
        &CompileOptions::default(),
    );
    assert!(diags.is_empty(), "{diags:#?}");
    let datasets = load_datasets(dir).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(datasets.len(), 1);
    assert_eq!(datasets[0].files.len(), 2);
    let result = replay_dataset(&datasets[0], &rules, &ReplayOptions::default());
    assert!(result.errors.is_empty(), "{:?}", result.errors);
    assert_eq!(result.events, 6);
    let mut out: Vec<(String, u64)> = result
        .other_fired
        .iter()
        .filter(|f| {
            rules
                .rule(f.rule)
                .is_some_and(|r| matches!(r.kind, attest_sigma::RuleKind::Correlation(_)))
        })
        .map(|f| (f.rule_key.clone(), f.match_count))
        .collect();
    out.sort();
    out
}

#[test]
fn correlations_see_the_files_of_a_dataset_as_one_timeline() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    // The first file (by name) holds the later events: read one file after the other, the
    // success would come before the failures it follows, and the failures would not fall in
    // one minute in arrival order.
    write(
        dir.path(),
        "a-dc1.jsonl",
        &[
            logon(4625, "bob", "2025-01-01T10:00:40Z"),
            logon(4624, "bob", "2025-01-01T10:02:00Z"),
            logon(4624, "eve", "2025-01-01T10:03:00Z"),
        ],
    );
    write(
        dir.path(),
        "b-dc2.jsonl",
        &[
            logon(4625, "bob", "2025-01-01T10:00:00Z"),
            logon(4625, "bob", "2025-01-01T10:00:20Z"),
            logon(4625, "eve", "2025-01-01T10:05:00Z"),
        ],
    );
    assert_eq!(
        fired(dir.path()),
        vec![
            ("success-after-failure".to_owned(), 1),
            ("three-failures".to_owned(), 1)
        ]
    );
}

#[test]
fn order_within_the_merged_stream_decides() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    // The same events, but bob's success comes before his failures in time: nothing ordered
    // fires, and the failures are too far apart to count three in a minute.
    write(
        dir.path(),
        "a-dc1.jsonl",
        &[
            logon(4625, "bob", "2025-01-01T10:01:40Z"),
            logon(4624, "bob", "2025-01-01T09:59:00Z"),
            logon(4624, "eve", "2025-01-01T10:03:00Z"),
        ],
    );
    write(
        dir.path(),
        "b-dc2.jsonl",
        &[
            logon(4625, "bob", "2025-01-01T10:00:00Z"),
            logon(4625, "bob", "2025-01-01T10:00:20Z"),
            logon(4625, "eve", "2025-01-01T10:05:00Z"),
        ],
    );
    assert_eq!(fired(dir.path()), Vec::<(String, u64)>::new());
}
