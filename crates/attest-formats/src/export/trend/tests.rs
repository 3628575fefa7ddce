use attest_attack::TechniqueId;
use attest_core::coverage::CoverageState;
use attest_core::trend::{Regression, TrendPoint};

use super::*;

fn ts(s: &str) -> jiff::Timestamp {
    s.parse().unwrap()
}

/// Two points of a real computation are awkward to build by hand here (the tally is the
/// engine's); the engine's own tests cover tallies, these cover the output shapes.
fn points() -> Vec<TrendPoint> {
    vec![
        TrendPoint {
            at: ts("2026-01-01T00:00:00Z"),
            tally: None,
            regressions: vec![],
            improvements: 0,
        },
        TrendPoint {
            at: ts("2026-01-08T00:00:00Z"),
            tally: Some(Default::default()),
            regressions: vec![Regression {
                technique: TechniqueId::parse("T1003.001").unwrap(),
                name: "LSASS Memory".into(),
                from: Some(CoverageState::Validated),
                to: CoverageState::Degraded,
            }],
            improvements: 2,
        },
    ]
}

#[test]
fn csv_has_a_row_per_point_and_empty_cells_before_the_scope_existed() {
    let p = points();
    let mut out = Vec::new();
    trend_csv(
        &[TrendSeries {
            name: "apt29",
            points: &p,
        }],
        &mut out,
    )
    .unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], TREND_COLUMNS.join(","));
    assert_eq!(lines[1], "apt29,2026-01-01T00:00:00Z,,,,,,,,0,,0");
    assert_eq!(
        lines[2],
        "apt29,2026-01-08T00:00:00Z,0,0,0,0,0,0,0.0000,1,T1003.001,2"
    );
    assert_eq!(lines.len(), 3);
}

#[test]
fn svg_draws_the_series_and_marks_regressions() {
    let p = points();
    let svg = trend_svg(
        "Validated share <profile & co>",
        &[TrendSeries {
            name: "apt29",
            points: &p,
        }],
    )
    .unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..80.min(svg.len())]);
    assert!(svg.contains("apt29"));
    assert!(svg.contains("regression"), "a regression is in the legend");
    // Vermillion triangles mark the regression.
    assert!(svg.contains("#D55E00") || svg.contains("rgb(213,94,0)"));
    // The title is escaped, not injected.
    assert!(!svg.contains("<profile & co>"));
    assert!(svg.contains("01-08"), "date labels on the time axis");
}

#[test]
fn svg_without_any_tally_is_an_error() {
    let p = vec![points().remove(0)];
    let err = trend_svg(
        "t",
        &[TrendSeries {
            name: "x",
            points: &p,
        }],
    )
    .unwrap_err();
    assert!(err.to_string().contains("nothing to chart"));
}
