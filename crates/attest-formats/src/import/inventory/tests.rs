//! Unit tests of the inventory-as-code reader.

use attest_core::source::{LogSourceRef, PipelineState};
use jiff::SignedDuration;

use super::spec::{format_duration, parse_duration};
use super::*;
use crate::{Input, Severity};

fn read(text: &str) -> (Vec<attest_core::source::DataSource>, Vec<crate::Diagnostic>) {
    read_inventory(Input {
        path: "inventory.yaml",
        bytes: text.as_bytes(),
    })
}

#[test]
fn documented_example_reads() {
    let text = r#"version: 1
sources:
  - name: Sysmon on Windows servers
    description: Sysmon 15 with the SwiftOnSecurity config
    platforms: [Windows]
    scope: [Windows servers]
    components: [Process Creation, Module Load]
    log_sources:
      - WinEventLog:Sysmon
      - WinEventLog:Security:EventCode=4688
    state: queryable
    products: [Sysmon, Splunk]
    owner: SOC platform team
    max_silence: 24h
  - name: Okta System Log
    state: normalized
    max_silence: 7d
"#;
    let (sources, diags) = read(text);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(sources.len(), 2);
    let s = &sources[0];
    assert_eq!(s.name, "Sysmon on Windows servers");
    assert_eq!(s.components, ["Process Creation", "Module Load"]);
    assert_eq!(
        s.log_sources,
        [
            LogSourceRef::parse("WinEventLog:Sysmon"),
            LogSourceRef {
                name: "WinEventLog:Security".into(),
                channel: Some("EventCode=4688".into())
            },
        ]
    );
    assert_eq!(s.state, PipelineState::Queryable);
    assert_eq!(s.max_silence, Some(SignedDuration::from_hours(24)));
    assert_eq!(sources[1].state, PipelineState::Normalised);
    assert_eq!(
        sources[1].max_silence,
        Some(SignedDuration::from_hours(24 * 7))
    );
    assert_eq!(sources[1].platforms, Vec::<String>::new());
}

#[test]
fn unknown_fields_are_errors_with_their_line() {
    let (sources, diags) = read("sources:\n  - name: a\n    componets: [Process Creation]\n");
    assert!(sources.is_empty());
    assert_eq!(diags[0].severity, Severity::Error);
    assert_eq!(diags[0].line, Some(3), "{}", diags[0]);
    assert!(diags[0].message.contains("componets"), "{}", diags[0]);
    let (_, diags) = read("version: 1\nsauces: []\n");
    assert_eq!(diags[0].line, Some(2), "{}", diags[0]);
}

#[test]
fn bad_values_are_errors_with_their_line() {
    let (_, diags) = read("sources:\n  - name: a\n    state: live\n");
    assert_eq!(diags[0].line, Some(3), "{}", diags[0]);
    assert!(
        diags[0].message.contains("unknown state `live`"),
        "{}",
        diags[0]
    );
    let (_, diags) = read("sources:\n  - name: a\n  - name: b\n    max_silence: 24\n");
    assert_eq!(diags[0].line, Some(4), "{}", diags[0]);
    assert!(diags[0].message.contains("no unit"), "{}", diags[0]);
    let (_, diags) = read("sources:\n  - name: a\n    max_silence: soon\n");
    assert!(diags[0].message.contains("not a duration"), "{}", diags[0]);
    let (_, diags) = read("version: 2\nsources: []\n");
    assert!(diags[0].message.contains("version 2"), "{}", diags[0]);
    assert_eq!(diags[0].line, Some(1));
}

#[test]
fn duplicate_names_fail_the_whole_file() {
    let (sources, diags) = read("sources:\n  - name: Okta\n  - name: other\n  - name: okta\n");
    assert!(sources.is_empty(), "all or nothing");
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].line, Some(4), "{}", diags[0]);
}

#[test]
fn empty_file_is_an_empty_inventory_and_garbage_is_an_error() {
    let (sources, diags) = read("");
    assert!(sources.is_empty() && diags.is_empty());
    let (sources, diags) = read_inventory(Input {
        path: "x.yaml",
        bytes: &[0xff, 0xfe, 0x00, 0x01],
    });
    assert!(sources.is_empty());
    assert_eq!(diags[0].severity, Severity::Error);
}

#[test]
fn durations() {
    assert_eq!(parse_duration("90m"), Some(SignedDuration::from_mins(90)));
    assert_eq!(parse_duration("2w"), Some(SignedDuration::from_hours(336)));
    assert_eq!(parse_duration("0h"), None);
    assert_eq!(parse_duration("-1h"), None);
    assert_eq!(parse_duration("h"), None);
    assert_eq!(parse_duration("99999999999999999d"), None);
    assert_eq!(format_duration(SignedDuration::from_hours(48)), "2d");
    assert_eq!(format_duration(SignedDuration::from_mins(90)), "90m");
}
