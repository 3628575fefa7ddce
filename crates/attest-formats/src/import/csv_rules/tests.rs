//! Unit tests of the rule CSV importer.

use attest_core::rule::{Dependency, RuleStatus};
use attest_core::source::LogSourceRef;

use super::*;
use crate::{Input, Severity};

fn read(text: &str) -> (Vec<attest_core::rule::Rule>, Vec<crate::Diagnostic>) {
    read_csv(
        Input {
            path: "qradar.csv",
            bytes: text.as_bytes(),
        },
        "qradar",
    )
}

#[test]
fn documented_columns_in_any_order_and_case() {
    let text = "\
Title,ID,Techniques,Tactics,Data_Sources,Enabled,Owner,Severity,origin_path
LSASS access,QR-1,\"T1003.001, t1003\",Credential Access,\"component:Process Access; log-source:WinEventLog:Sysmon:EventCode=10; Windows Security\",yes,alice,high,Rules/Credential
Disabled one,QR-2,T1059,,,0,,,
Retired one,QR-3,,,,\"\",,,
";
    let (rules, diags) = read(text);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(rules.len(), 3);
    let r = &rules[0];
    assert_eq!(r.id.0, "QR-1");
    assert_eq!(r.title, "LSASS access");
    assert_eq!(r.techniques, ["T1003.001", "T1003"]);
    assert_eq!(r.tactics, ["credential-access"]);
    let deps: Vec<&Dependency> = r.dependencies.iter().map(|d| &d.dependency).collect();
    assert_eq!(
        deps,
        [
            &Dependency::Component("Process Access".into()),
            &Dependency::LogSource(LogSourceRef::parse("WinEventLog:Sysmon:EventCode=10")),
            &Dependency::Source("Windows Security".into()),
        ]
    );
    assert_eq!(r.owner.as_deref(), Some("alice"));
    assert_eq!(r.severity.as_deref(), Some("high"));
    assert_eq!(r.origin.path, "Rules/Credential");
    assert_eq!(rules[1].status, RuleStatus::Disabled);
    assert_eq!(rules[1].origin.path, "qradar.csv");
    assert_eq!(rules[2].status, RuleStatus::Enabled);
}

#[test]
fn status_column_wins_and_bad_values_warn() {
    let text =
        "id,title,enabled,status,techniques\nA,a,true,retired,\nB,b,maybe,,T99\nC,c,,paused,\n";
    let (rules, diags) = read(text);
    assert_eq!(rules[0].status, RuleStatus::Retired);
    assert_eq!(diags.len(), 3, "{diags:?}");
    assert!(diags.iter().all(|d| d.severity == Severity::Warning));
    assert_eq!(diags[0].line, Some(3));
    assert_eq!(diags[2].line, Some(4));
}

#[test]
fn missing_required_column_names_it() {
    let (rules, diags) = read("name,techniques\nx,T1059\n");
    assert!(rules.is_empty());
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].severity, Severity::Error);
    assert!(
        diags[0]
            .message
            .contains("missing required columns id, title"),
        "{}",
        diags[0]
    );
}

#[test]
fn unknown_columns_warn_and_ragged_rows_error_with_line() {
    let (rules, diags) = read("id,title,colour\nA,a,red\nB,b\nC,c,blue\n,d,x\n");
    let ids: Vec<&str> = rules.iter().map(|r| r.id.0.as_str()).collect();
    assert_eq!(ids, ["A", "C"]);
    assert_eq!(diags[0].severity, Severity::Warning);
    assert!(diags[0].message.contains("unknown column `colour`"));
    assert_eq!(diags[1].severity, Severity::Error);
    assert_eq!(diags[1].line, Some(3), "{}", diags[1]);
    assert_eq!(diags[2].line, Some(5));
}

#[test]
fn content_hash_follows_the_row() {
    let (a, _) = read("id,title\nA,a\n");
    let (b, _) = read("id,title\nA,b\n");
    assert_ne!(a[0].content_hash, b[0].content_hash);
    let (c, _) = read("id,title\n A , a \n");
    assert_eq!(a[0].content_hash, c[0].content_hash, "cells are trimmed");
}
