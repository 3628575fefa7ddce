//! Unit tests of the Invoke-AtomicRedTeam CSV reader on inline logs.

use super::*;
use crate::{Input, Severity};

fn read(text: &str) -> (Vec<crate::correlate::Execution>, Vec<crate::Diagnostic>) {
    read_execution_log(Input {
        path: "log.csv",
        bytes: text.as_bytes(),
    })
}

const V3_HEADER: &str = r#""Execution Time (UTC)","Execution Time (Local)","Technique","Test Number","Test Name","Hostname","IP Address","Username","GUID","ProcessId","ExitCode""#;

#[test]
fn detects_the_three_header_versions() {
    let v1 = [
        "Execution Time (UTC)",
        "Execution Time (Local)",
        "Technique",
        "Test Number",
        "Test Name",
        "Hostname",
    ];
    let v2 = [&v1[..], &["Username", "GUID"]].concat();
    let v3 = [
        &v1[..],
        &["IP Address", "Username", "GUID", "ProcessId", "ExitCode"],
    ]
    .concat();
    assert_eq!(HeaderVersion::detect(&v1), Some(HeaderVersion::V1));
    assert_eq!(HeaderVersion::detect(&v2), Some(HeaderVersion::V2));
    assert_eq!(HeaderVersion::detect(&v3), Some(HeaderVersion::V3));
    assert_eq!(HeaderVersion::detect(&["rule_id", "time"]), None);
}

#[test]
fn v3_row_with_local_z_uses_the_utc_column() {
    let text = format!(
        "{V3_HEADER}\n\"2024-03-05T16:20:00Z\",\"2024-03-05T17:20:00Z\",\"t1003.001\",\"1\",\"ProcDump\",\"WS01\",\"10.0.0.21\",\"WS01\\alice\",\"0BE2230C-9AB3-4AC2-8826-3199B9A0EBF8\",\"5124\",\"-1073741819\"\n"
    );
    let (ex, diags) = read(&text);
    assert!(diags.is_empty(), "{diags:?}");
    let e = &ex[0];
    assert_eq!(e.technique, "T1003.001");
    assert_eq!(
        e.started,
        "2024-03-05T16:20:00Z"
            .parse::<jiff::Timestamp>()
            .unwrap_or_default()
    );
    assert_eq!(
        e.test_guid.as_deref(),
        Some("0be2230c-9ab3-4ac2-8826-3199b9a0ebf8")
    );
    assert_eq!(e.test_number, Some(1));
    assert_eq!(e.host.as_deref(), Some("WS01"));
    assert_eq!(e.user.as_deref(), Some("WS01\\alice"));
    assert_eq!(e.exit_code, Some(-1073741819));
    assert_eq!(e.source, "log.csv:2");
}

#[test]
fn falls_back_to_local_time_with_a_warning_and_skips_rows_without_time() {
    let text = "\"Execution Time (UTC)\",\"Execution Time (Local)\",\"Technique\"\n\
                \"\",\"2024-03-05T17:20:00Z\",\"T1059\"\n\
                \"garbage\",\"\",\"T1059\"\n\
                \"2024-03-05T16:20:00Z\",\"\",\"\"\n";
    let (ex, diags) = read(text);
    assert_eq!(ex.len(), 1);
    // The local `Z` is ignored but the wall-clock time is kept (read as UTC).
    assert_eq!(
        ex[0].started,
        "2024-03-05T17:20:00Z"
            .parse::<jiff::Timestamp>()
            .unwrap_or_default()
    );
    let summary: Vec<(Severity, Option<usize>)> =
        diags.iter().map(|d| (d.severity, d.line)).collect();
    assert_eq!(
        summary,
        [
            (Severity::Warning, Some(2)),
            (Severity::Error, Some(3)),
            (Severity::Error, Some(4))
        ]
    );
}

#[test]
fn type_line_repeated_header_and_blank_lines() {
    let text = "#TYPE System.Management.Automation.PSCustomObject\n\
                \"Execution Time (UTC)\",\"Execution Time (Local)\",\"Technique\",\"Test Number\",\"Test Name\",\"Hostname\"\n\
                \"2020-06-02T14:25:31Z\",\"2020-06-02T10:25:31\",\"T1003\",\"1\",\"Mimikatz\",\"A\"\n\
                \n\
                \"Execution Time (UTC)\",\"Execution Time (Local)\",\"Technique\",\"Test Number\",\"Test Name\",\"Hostname\",\"Username\",\"GUID\"\n\
                \"2021-06-02T14:25:31Z\",\"2021-06-02T10:25:31\",\"T1082\",\"x\",\"Sysinfo\",\"B\",\"bob\",\"66703791-C902-4560-8770-42B8A91F7667\"\n";
    let (ex, diags) = read(text);
    assert_eq!(ex.len(), 2);
    assert_eq!(ex[0].test_guid, None);
    assert_eq!(ex[0].source, "log.csv:3");
    assert_eq!(
        ex[1].test_guid.as_deref(),
        Some("66703791-c902-4560-8770-42b8a91f7667")
    );
    assert_eq!(ex[1].user.as_deref(), Some("bob"));
    assert_eq!(ex[1].test_number, None);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0].line, Some(6));
}

#[test]
fn a_file_that_is_not_an_execution_log_is_one_error() {
    let (ex, diags) = read("rule_id,time\nabc,2024-01-01T00:00:00Z\n");
    assert!(ex.is_empty());
    assert_eq!(diags.len(), 1);
    assert_eq!(
        (diags[0].severity, diags[0].line),
        (Severity::Error, Some(1))
    );
    let (ex, diags) = read("");
    assert!(ex.is_empty());
    assert_eq!(diags.len(), 1);
    let (ex, diags) = read_execution_log(Input {
        path: "x",
        bytes: &[0xff, 0x00, 0x12, 0x80, 0x22],
    });
    assert!(ex.is_empty());
    assert!(!diags.is_empty());
}

#[test]
fn unquoted_short_rows_and_bad_numbers_do_not_stop_the_file() {
    let text = format!(
        "{V3_HEADER}\n2024-03-05T16:20:00Z,x,T1059,1,n,H\n2024-03-05T16:21:00Z,x,T1059,1,n,H,ip,u,g,1,oops\n"
    );
    let (ex, diags) = read(&text);
    assert_eq!(ex.len(), 2);
    assert_eq!(ex[0].exit_code, None);
    assert_eq!(ex[1].exit_code, None);
    assert_eq!(diags.len(), 1);
    assert!(diags[0].message.contains("ExitCode"));
}
