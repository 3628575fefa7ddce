//! Unit tests of the lookup CSV: written, then read back with the `csv` crate.

use super::*;

fn rows() -> Vec<LookupRow> {
    vec![
        LookupRow {
            rule_id: "sigma:5f2a".into(),
            rule_name: "Suspicious \"PowerShell\", encoded".into(),
            techniques: vec!["T1059.001".into(), "T1027".into()],
            tactics: vec!["execution".into(), "defense-evasion".into()],
            data_sources: vec!["windows/process_creation".into(), "a;b".into()],
            status: LookupStatus::Passing,
            last_tested: Some("2026-11-01T10:20:30.123Z".parse().expect("time")),
        },
        LookupRow {
            rule_id: "splunk:x".into(),
            rule_name: "Line\nbreak".into(),
            techniques: vec![],
            tactics: vec![],
            data_sources: vec![],
            status: LookupStatus::Untested,
            last_tested: None,
        },
    ]
}

#[test]
fn columns_and_values_read_back() {
    let text = lookup_csv(&rows());
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    assert_eq!(header, LOOKUP_COLUMNS);
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("record")).collect();
    assert_eq!(records.len(), 2);
    let r = &records[0];
    assert_eq!(&r[1], "Suspicious \"PowerShell\", encoded");
    assert_eq!(&r[2], "T1059.001;T1027");
    assert_eq!(&r[3], "execution;defense-evasion");
    assert_eq!(&r[4], "windows/process_creation;a,b");
    assert_eq!(&r[5], "passing");
    assert_eq!(&r[6], "2026-11-01T10:20:30Z");
    let r = &records[1];
    assert_eq!(&r[1], "Line\nbreak");
    assert_eq!((&r[2], &r[5], &r[6]), ("", "untested", ""));
}

#[test]
fn empty_table_has_the_header() {
    assert_eq!(
        lookup_csv(&[]),
        "rule_id,rule_name,techniques,tactics,data_sources,validation_status,last_tested\n"
    );
}
