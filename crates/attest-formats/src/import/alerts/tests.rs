//! Unit tests of the alert export reader on inline CSV and JSON.

use super::*;
use crate::{Input, Severity};

fn read(text: &str) -> (Vec<crate::correlate::Alert>, Vec<crate::Diagnostic>) {
    read_alerts(Input {
        path: "alerts",
        bytes: text.as_bytes(),
    })
}

fn ts(s: &str) -> jiff::Timestamp {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn csv_with_aliases_in_any_case() {
    let text = "Signature_ID,TimeStamp,Computer,_id\nr-1,2024-01-01T10:00:00Z,WS01,a1\n,,,\nr-2,1704103200,,\n";
    let (alerts, diags) = read(text);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(alerts.len(), 2);
    assert_eq!(alerts[0].rule_id.as_deref(), Some("r-1"));
    assert_eq!(alerts[0].at, ts("2024-01-01T10:00:00Z"));
    assert_eq!(alerts[0].host.as_deref(), Some("WS01"));
    assert_eq!(alerts[0].id.as_deref(), Some("a1"));
    assert_eq!(alerts[0].source, "alerts:2");
    assert_eq!(alerts[1].at, ts("2024-01-01T10:00:00Z"));
    assert_eq!(alerts[1].host, None);
    assert_eq!(alerts[1].source, "alerts:4");
}

#[test]
fn csv_rows_without_rule_or_time_are_errors_with_lines() {
    let text = "rule_name,time\nA,2024-01-01 10:00:00\n,2024-01-01T10:00:00Z\nB,\nC,later\n";
    let (alerts, diags) = read(text);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].rule_name.as_deref(), Some("A"));
    assert_eq!(alerts[0].at, ts("2024-01-01T10:00:00Z"));
    let got: Vec<(Severity, Option<usize>)> = diags.iter().map(|d| (d.severity, d.line)).collect();
    assert_eq!(
        got,
        [
            (Severity::Error, Some(3)),
            (Severity::Error, Some(4)),
            (Severity::Error, Some(5)),
            (Severity::Warning, None)
        ]
    );
}

#[test]
fn csv_without_the_needed_columns_is_one_error() {
    let (alerts, diags) = read("name,when\na,b\n");
    assert!(alerts.is_empty());
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].line, Some(1));
}

#[test]
fn json_lines_flat_nested_and_splunk_wrapped() {
    let text = r#"{"rule":{"id":"r-1","name":"One"},"@timestamp":"2024-01-01T10:00:00Z","host":{"name":"WS01"},"event":{"id":"e1"}}

{"preview":false,"result":{"_time":"2024-01-01T10:00:00.000+00:00","search_name":"Two","dest":["WS02","WS03"]}}
{"rule.id":"r-3","_time":1704103200000}
not json
{"rule.id":"r-4"}
"#;
    let (alerts, diags) = read(text);
    assert_eq!(alerts.len(), 3);
    assert_eq!(alerts[0].rule_id.as_deref(), Some("r-1"));
    assert_eq!(alerts[0].rule_name.as_deref(), Some("One"));
    assert_eq!(alerts[0].host.as_deref(), Some("WS01"));
    assert_eq!(alerts[1].rule_name.as_deref(), Some("Two"));
    assert_eq!(alerts[1].host.as_deref(), Some("WS02"));
    assert_eq!(alerts[1].source, "alerts:3");
    assert_eq!(alerts[2].at, ts("2024-01-01T10:00:00Z"));
    let got: Vec<Option<usize>> = diags.iter().map(|d| d.line).collect();
    assert_eq!(got, [Some(5), Some(6)]);
}

#[test]
fn json_array_names_the_index() {
    let (alerts, diags) =
        read(r#"[{"rule_id":"a","time":"2024-01-01T10:00:00Z"},{"rule_id":"b"}]"#);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].source, "alerts:[0]");
    assert!(diags[0].message.starts_with("[1]:"), "{}", diags[0]);
    let (alerts, diags) = read("[1, 2");
    assert!(alerts.is_empty());
    assert_eq!(diags.len(), 1);
    let (alerts, diags) = read("  \n");
    assert!(alerts.is_empty());
    assert_eq!(diags.len(), 1);
}
