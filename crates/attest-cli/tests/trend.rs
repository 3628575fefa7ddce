//! `attest trend` end to end: a technique validated then disabled shows as a rise and a marked
//! regression, in the table, the CSV and the SVG.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failing test should fail loudly

mod util;

use std::time::Duration;

use util::Env;

const RULE_ID: &str = "5c7a9a4e-2b43-4d3e-9b8e-111111111111";

fn rule() -> String {
    format!(
        r#"title: Trend Test LSASS Access
id: {RULE_ID}
tags:
    - attack.credential-access
    - attack.t1003.001
logsource:
    category: process_access
    product: windows
detection:
    selection:
        TargetImage|endswith: '\lsass.exe'
    condition: selection
"#
    )
}

fn now() -> jiff::Timestamp {
    jiff::Timestamp::now()
}

#[test]
fn trend_shows_validation_then_the_regression() {
    let env = Env::new();
    env.ok(&["init"]);
    env.write("rules/lsass.yml", &rule());
    env.ok(&["rules", "import", "sigma", "rules"]);
    env.ok(&[
        "sources",
        "add",
        "Sysmon",
        "--log-source",
        "WinEventLog:Sysmon",
        "--platform",
        "Windows",
        "--max-silence",
        "1d",
    ]);
    env.ok(&["sources", "seen", "Sysmon"]);
    let start = now();
    std::thread::sleep(Duration::from_millis(1100));
    env.ok(&[
        "validate",
        "record",
        "--rule",
        RULE_ID,
        "--technique",
        "T1003.001",
        "--outcome",
        "pass",
    ]);
    std::thread::sleep(Duration::from_millis(1100));
    env.ok(&["rules", "disable", RULE_ID, "--reason", "noisy"]);
    std::thread::sleep(Duration::from_millis(200));
    let end = now();

    let svg = env.path().join("trend.svg");
    let csv = env.path().join("trend.csv");
    let (from, to) = (start.to_string(), end.to_string());
    let rows = env.json(&[
        "trend",
        "--every",
        "1s",
        "--from",
        &from,
        "--to",
        &to,
        "--svg",
        svg.to_str().unwrap(),
        "--csv",
        csv.to_str().unwrap(),
    ]);
    let rows = rows.as_array().unwrap();
    assert!(rows.len() >= 3, "{rows:?}");
    let validated: Vec<u64> = rows
        .iter()
        .map(|r| r["validated"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(validated[0], 0, "not validated before the pass: {rows:?}");
    assert!(validated.contains(&1), "validated after the pass: {rows:?}");
    assert_eq!(*validated.last().unwrap(), 0, "disabled at the end");
    let regressions: Vec<&str> = rows
        .iter()
        .map(|r| r["regressions"].as_str().unwrap())
        .filter(|r| !r.is_empty())
        .collect();
    assert_eq!(
        regressions,
        vec!["T1003.001 validated→degraded"],
        "exactly one regression, where the rule was disabled"
    );

    let chart = std::fs::read_to_string(&svg).unwrap();
    assert!(chart.starts_with("<svg"));
    assert!(chart.contains("regression"));
    let table = std::fs::read_to_string(&csv).unwrap();
    assert!(table.starts_with("series,at,techniques,validated"));
    assert!(table.contains(",T1003.001,"), "{table}");

    // Bad input says what is wrong.
    let out = env.run(&["trend", "--every", "fortnight"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--every"));
    let out = env.run(&["trend", "--profile", "nope"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no profile named \"nope\""));
}
