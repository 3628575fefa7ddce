//! Unit tests of the exposure export reader.

use attest_core::exposure::{ExposureStatus, Severity, SeverityLabel};

use super::*;
use crate::{Input, Severity as DiagSeverity};

fn read(text: &str) -> (Vec<attest_core::exposure::Exposure>, Vec<crate::Diagnostic>) {
    read_exposures(
        Input {
            path: "scan.csv",
            bytes: text.as_bytes(),
        },
        "tenable",
        ExposureFormat::Auto,
    )
}

#[test]
fn csv_with_scanner_headers_reads_every_field() {
    let text = "\
Asset Name,CVE ID,Plugin Name,CVSS3 Base Score,First Found,Last Found,State,MITRE Techniques
web-01,cve-2021-44228,Apache Log4j RCE,10.0,2026-01-01T00:00:00Z,2026-01-05 10:00:00,Active,T1190; t1059.004
db-01,CVE-2023-0001,Postgres bug,,,,,
acct-1,AWS-IAM-ROOT-KEYS,Root access keys,,,,remediated,
";
    // Row 3 has no severity; the CVSS column is empty, and there is no label column.
    let (found, diags) = read(text);
    assert_eq!(found.len(), 1, "{diags:?}");
    let e = &found[0];
    assert_eq!(e.asset, "web-01");
    assert_eq!(e.finding, "CVE-2021-44228");
    assert_eq!(e.title, "Apache Log4j RCE");
    assert_eq!(e.severity, Severity::Cvss(10.0));
    assert_eq!(e.first_seen, Some("2026-01-01T00:00:00Z".parse().unwrap()));
    assert_eq!(e.last_seen, Some("2026-01-05T10:00:00Z".parse().unwrap()));
    assert_eq!(e.status, ExposureStatus::Open);
    assert_eq!(e.techniques, ["T1190", "T1059.004"]);
    assert_eq!(e.feed, "tenable");
    assert_eq!(diags.len(), 2);
    assert!(diags.iter().all(|d| d.severity == DiagSeverity::Error));
    assert_eq!(diags[0].line, Some(3));
    assert!(
        diags[0].message.starts_with("no severity"),
        "{}",
        diags[0].message
    );
    assert_eq!(diags[1].line, Some(4));
}

#[test]
fn labels_status_and_several_cves_per_cell() {
    let text = "\
host,cves,severity,status
web-02,\"CVE-2021-44228; CVE-2021-45046\",Critical,risk accepted
web-03,CVE-2021-44228,severe,open
web-04,CVE-2021-44228,high,maybe
";
    let (found, diags) = read(text);
    assert_eq!(found.len(), 2);
    assert_eq!(found[1].finding, "CVE-2021-45046");
    assert_eq!(found[0].severity, Severity::Label(SeverityLabel::Critical));
    assert_eq!(found[0].status, ExposureStatus::Accepted);
    assert_eq!(found[0].title, "CVE-2021-44228");
    let lines: Vec<Option<usize>> = diags.iter().map(|d| d.line).collect();
    assert_eq!(lines, [Some(3), Some(4)]);
    assert!(
        diags[0].message.contains("\"severe\""),
        "{}",
        diags[0].message
    );
    assert!(
        diags[1].message.contains("\"maybe\""),
        "{}",
        diags[1].message
    );
}

#[test]
fn a_header_without_required_columns_names_line_one() {
    let (found, diags) = read("hostname,title\nweb,x\n");
    assert!(found.is_empty());
    assert_eq!(diags.len(), 1);
    assert_eq!(
        (diags[0].path.as_str(), diags[0].line),
        ("scan.csv", Some(1))
    );
}

#[test]
fn json_lines_accept_nested_keys_arrays_and_report_bad_lines() {
    let text = r#"{"asset": {"name": "web-01"}, "finding_id": "CVE-2021-44228", "cvss": 9.8, "techniques": ["T1190", "bogus"], "status": "fixed"}

{"host": "web-02", "cve": "CVE-2021-44228", "severity": "medium"}
not json
[1, 2]
"#;
    let (found, diags) = read(text);
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].asset, "web-01");
    assert_eq!(found[0].severity, Severity::Cvss(9.8));
    assert_eq!(found[0].status, ExposureStatus::Fixed);
    assert_eq!(found[0].techniques, ["T1190"]);
    assert_eq!(found[1].severity.score(), 5.5);
    let lines: Vec<(Option<usize>, DiagSeverity)> =
        diags.iter().map(|d| (d.line, d.severity)).collect();
    assert_eq!(
        lines,
        [
            (Some(1), DiagSeverity::Warning),
            (Some(4), DiagSeverity::Error),
            (Some(5), DiagSeverity::Error)
        ]
    );
}

#[test]
fn binary_and_empty_input_never_panic() {
    for bytes in [
        &b""[..],
        b"\xff\xfe\x00",
        b"\x00\x01\x02",
        b"{",
        b"a\n\"unterminated",
    ] {
        let _ = read_exposures(Input { path: "x", bytes }, "f", ExposureFormat::Auto);
    }
}
