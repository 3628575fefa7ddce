//! Unit tests of the JSON-lines result reader.

use attest_core::result::Outcome;

use super::*;
use crate::Input;

fn read(
    text: &str,
    options: &ResultsJsonlOptions,
) -> (
    Vec<attest_core::result::ValidationResult>,
    Vec<crate::Diagnostic>,
) {
    read_results_jsonl(
        Input {
            path: "results.jsonl",
            bytes: text.as_bytes(),
        },
        options,
    )
}

#[test]
fn reads_full_and_minimal_lines() {
    let text = r#"{"rule":"r1","technique":"t1003.001","test":"0BE2230C-9AB3-4AC2-8826-3199B9A0EBF8","outcome":"PASS","at":"2024-03-05T17:20:00+01:00","by":"ci","evidence":{"text":"fired","url":"https://x","event_ids":["1","2"]}}

{"rule":"r2","technique":"T1082","outcome":"fail","at":"2024-03-05T16:20:00Z","by":"bob","evidence":"no alert","test":"Scenario Alpha"}
"#;
    let (results, diags) = read(text, &ResultsJsonlOptions::default());
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(results.len(), 2);
    let r = &results[0];
    assert_eq!(
        (r.rule.0.as_str(), r.technique.as_str(), r.outcome),
        ("r1", "T1003.001", Outcome::Pass)
    );
    assert_eq!(
        r.test.as_deref(),
        Some("0be2230c-9ab3-4ac2-8826-3199b9a0ebf8")
    );
    assert_eq!(
        r.at,
        "2024-03-05T16:20:00Z"
            .parse::<jiff::Timestamp>()
            .unwrap_or_default()
    );
    assert_eq!(r.evidence.event_ids, ["1", "2"]);
    assert_eq!(r.evidence.url.as_deref(), Some("https://x"));
    assert_eq!(results[1].evidence.text.as_deref(), Some("no alert"));
    assert_eq!(results[1].test.as_deref(), Some("Scenario Alpha"));
}

#[test]
fn every_bad_line_is_named() {
    let text = [
        r#"{"rule":"r","technique":"T1059","outcome":"pass","at":"2024-01-01T00:00:00Z","by":"x"}"#,
        r#"{"rule":"r","technique":"T1059","outcome":"pass","at":"2024-01-01T00:00:00Z","by":"x","outcom":"pass"}"#,
        r#"{"rule":"r","technique":"1059","outcome":"pass","at":"2024-01-01T00:00:00Z","by":"x"}"#,
        r#"{"rule":"r","technique":"T1059","outcome":"maybe","at":"2024-01-01T00:00:00Z","by":"x"}"#,
        r#"{"rule":"r","technique":"T1059","outcome":"pass","at":"2024-01-01 00:00:00","by":"x"}"#,
        r#"{"rule":"r","technique":"T1059","outcome":"pass","by":"x"}"#,
        r#"{"rule":"r","technique":"T1059","outcome":"pass","at":"2024-01-01T00:00:00Z"}"#,
        r#"{"rule":" ","technique":"T1059","outcome":"pass","at":"2024-01-01T00:00:00Z","by":"x"}"#,
        r#"{"rule":"r","technique":"T1059","outcome":"pass","at":"2024-01-01T00:00:00Z","by":"x","evidence":{"txt":"a"}}"#,
        "[1,2]",
        "{",
    ]
    .join("\n");
    let (results, diags) = read(&text, &ResultsJsonlOptions::default());
    assert_eq!(results.len(), 1);
    let lines: Vec<Option<usize>> = diags.iter().map(|d| d.line).collect();
    assert_eq!(lines, (2..=11).map(Some).collect::<Vec<_>>());
    assert!(diags[0].message.contains("outcom"), "{}", diags[0]);
    assert!(diags[3].message.contains("RFC 3339"), "{}", diags[3]);
}

#[test]
fn defaults_fill_at_and_by_when_given() {
    let now: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap_or_default();
    let options = ResultsJsonlOptions {
        default_by: Some("pipeline".into()),
        now: Some(now),
    };
    let (results, diags) = read(
        r#"{"rule":"r","technique":"T1059","outcome":"error"}"#,
        &options,
    );
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(
        (results[0].at, results[0].by.as_str(), results[0].outcome),
        (now, "pipeline", Outcome::Error)
    );
}
