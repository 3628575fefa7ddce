//! Unit tests of the JSON-lines exporter, including the round trip through the importer.

use attest_core::result::{Evidence, Outcome, ValidationResult};
use attest_core::rule::RuleId;

use super::*;
use crate::Input;
use crate::import::results_jsonl::{ResultsJsonlOptions, read_results_jsonl};

fn sample() -> Vec<ValidationResult> {
    vec![
        ValidationResult {
            rule: RuleId("0aa96c56-27f5-4b50-9f3b-7e8c1b1a2b3c".into()),
            technique: "T1003.001".into(),
            test: Some("0be2230c-9ab3-4ac2-8826-3199b9a0ebf8".into()),
            outcome: Outcome::Pass,
            at: "2024-03-05T16:20:00.5Z".parse().unwrap_or_default(),
            by: "ci \"nightly\"".into(),
            evidence: Evidence {
                text: Some("line1\nline2 — ü".into()),
                url: Some("https://siem.example/alerts/1".into()),
                event_ids: vec!["a1".into(), "a2".into()],
            },
        },
        ValidationResult {
            rule: RuleId("r2".into()),
            technique: "T1082".into(),
            test: None,
            outcome: Outcome::Skipped,
            at: "2024-03-05T16:40:00Z".parse().unwrap_or_default(),
            by: "alice".into(),
            evidence: Evidence::default(),
        },
    ]
}

#[test]
fn writes_the_documented_shape() {
    let out = results_to_jsonl(&sample()[1..]);
    assert_eq!(
        out,
        "{\"rule\":\"r2\",\"technique\":\"T1082\",\"outcome\":\"skipped\",\"at\":\"2024-03-05T16:40:00Z\",\"by\":\"alice\"}\n"
    );
    let mut bytes = Vec::new();
    assert!(write_results_jsonl(&sample(), &mut bytes).is_ok());
    assert_eq!(
        String::from_utf8(bytes).unwrap_or_default(),
        results_to_jsonl(&sample())
    );
}

#[test]
fn round_trips_through_the_importer() {
    let text = results_to_jsonl(&sample());
    let (back, diags) = read_results_jsonl(
        Input {
            path: "r.jsonl",
            bytes: text.as_bytes(),
        },
        &ResultsJsonlOptions::default(),
    );
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(back, sample());
    assert_eq!(results_to_jsonl(&back), text);
}
