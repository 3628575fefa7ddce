//! Unit tests of the Attire reader on inline documents.

use super::*;
use crate::{Input, Severity};

fn read(text: &str) -> (Vec<crate::correlate::Execution>, Vec<crate::Diagnostic>) {
    read_attire(Input {
        path: "attire.json",
        bytes: text.as_bytes(),
    })
}

fn ts(s: &str) -> jiff::Timestamp {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn one_procedure_with_two_steps_spans_both() {
    let text = r#"{
  "attire-version": "1.1",
  "execution-data": {"target": {"user": "bob", "host": "HOST1", "ip": "", "path": ""}},
  "procedures": [
    {
      "mitre-technique-id": "t1059.001",
      "procedure-name": "Mimikatz",
      "procedure-id": {"type": "guid", "id": "F3132740-55BC-48C4-BCC0-758A459CD027"},
      "order": "3",
      "steps": [
        {"order": 2, "time-start": "2024-01-01T10:05:00.000Z", "time-stop": "2024-01-01T10:09:00.000Z"},
        {"order": 1, "time-start": "2024-01-01T10:00:00.000Z", "time-stop": "2024-01-01T10:01:00.000Z"}
      ]
    }
  ]
}"#;
    let (ex, diags) = read(text);
    assert!(diags.is_empty(), "{diags:?}");
    let e = &ex[0];
    assert_eq!(e.technique, "T1059.001");
    assert_eq!(
        e.test_guid.as_deref(),
        Some("f3132740-55bc-48c4-bcc0-758a459cd027")
    );
    assert_eq!(e.test_name.as_deref(), Some("Mimikatz"));
    assert_eq!(e.test_number, Some(3));
    assert_eq!(
        (e.host.as_deref(), e.user.as_deref()),
        (Some("HOST1"), Some("bob"))
    );
    assert_eq!(e.started, ts("2024-01-01T10:00:00Z"));
    assert_eq!(e.finished, Some(ts("2024-01-01T10:09:00Z")));
    assert_eq!(e.exit_code, None);
    assert_eq!(e.source, "attire.json:6");
}

#[test]
fn powershell_flattened_single_element_arrays_are_read() {
    let text = r#"{"attire-version":"1.1","execution-data":"","procedures":
      {"mitre-technique-id":"T1082","procedure-name":"x","procedure-id":{"type":"name","id":"not-a-guid"},
       "steps":{"time-start":"2024-01-01T10:00:00.000Z","time-stop":"2024-01-01T10:00:01.000Z"}}}"#;
    let (ex, diags) = read(text);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(ex.len(), 1);
    assert_eq!(
        ex[0].test_guid, None,
        "only guid-typed procedure ids are test GUIDs"
    );
    assert_eq!(ex[0].host, None);
}

#[test]
fn bad_procedures_are_skipped_with_their_line() {
    let text = r#"{
  "attire-version": "1.1",
  "procedures": [
    {"mitre-technique-id": "T1082", "steps": []},
    {"mitre-technique-id": 42, "steps": []},
    {"mitre-technique-id": "T1059", "steps": [{"time-start": "soon"}]},
    {"mitre-technique-id": "T1057", "steps": [{"time-start": "2024-01-01T10:00:00Z"}]}
  ]
}"#;
    let (ex, diags) = read(text);
    assert_eq!(ex.len(), 1);
    assert_eq!(ex[0].technique, "T1057");
    let got: Vec<(Severity, Option<usize>)> = diags.iter().map(|d| (d.severity, d.line)).collect();
    assert_eq!(
        got,
        [
            (Severity::Error, Some(4)),
            (Severity::Error, Some(5)),
            (Severity::Warning, Some(6)),
            (Severity::Error, Some(6))
        ]
    );
}

#[test]
fn invalid_json_is_one_error_with_a_line() {
    let (ex, diags) = read("{\n  \"procedures\": [\n    {,}\n");
    assert!(ex.is_empty());
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].line, Some(3));
    let (ex, diags) = read("[]");
    assert!(ex.is_empty());
    assert_eq!(diags[0].severity, Severity::Error);
}
