//! Rows, CSV and workbook of the coverage table.

use attest_core::coverage::{Coverage, CoverageState, TechniqueCoverage};

use crate::export::xlsx::{Cell, Sheet, XlsxError, write_workbook};

/// The columns, in order.
pub const COVERAGE_COLUMNS: &[&str] = &[
    "technique",
    "name",
    "tactics",
    "state",
    "view",
    "weight",
    "rules",
    "reasons",
    "telemetry_visible",
    "subtechniques_validated",
];

/// One technique's row, in [`COVERAGE_COLUMNS`] order.
pub fn technique_row(t: &TechniqueCoverage) -> Vec<String> {
    let visible: usize = t
        .visibility
        .iter()
        .map(|p| {
            p.components
                .iter()
                .filter(|c| !c.provided_by.is_empty())
                .count()
        })
        .sum();
    let needed: usize = t.visibility.iter().map(|p| p.components.len()).sum();
    vec![
        t.technique.to_string(),
        t.name.clone(),
        t.tactics.join(","),
        t.state.as_str().to_string(),
        t.state.view().as_str().to_string(),
        format!("{:.2}", t.weight),
        t.rules
            .iter()
            .map(|r| r.rule.0.clone())
            .collect::<Vec<_>>()
            .join(";"),
        t.reasons
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; "),
        format!("{visible}/{needed}"),
        t.subtechniques
            .map(|s| format!("{}/{}", s.validated, s.total))
            .unwrap_or_default(),
    ]
}

/// The rows as CSV (header first, RFC 4180 quoting, `\n` line ends). A cell starting with
/// `=`, `+`, `-` or `@` is prefixed with `'` so a spreadsheet never runs it as a formula
/// (titles and reasons come from imported rules).
pub fn coverage_csv(rows: &[Vec<String>]) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    // Writing to a Vec cannot fail; a failed record would only drop that record.
    let _ = w.write_record(COVERAGE_COLUMNS);
    for r in rows {
        let _ = w.write_record(r.iter().map(|c| defuse(c).into_owned()));
    }
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

fn defuse(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '@']) || (cell.starts_with('-') && cell.len() > 1) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// The workbook: a Headline sheet (count, weight and share per state), a Tactics sheet and the
/// Techniques sheet of `rows`.
pub fn coverage_workbook(coverage: &Coverage, rows: &[Vec<String>]) -> Result<Vec<u8>, XlsxError> {
    let o = &coverage.overall;
    let headline = Sheet {
        name: "Headline".into(),
        header: vec![
            "state".into(),
            "techniques".into(),
            "weight".into(),
            "share".into(),
        ],
        rows: CoverageState::ALL
            .iter()
            .map(|s| {
                vec![
                    Cell::from(s.as_str()),
                    Cell::from(o.count(*s)),
                    Cell::from(o.weight(*s)),
                    Cell::from(o.share(*s)),
                ]
            })
            .collect(),
    };
    let tactics = Sheet {
        name: "Tactics".into(),
        header: vec![
            "tactic".into(),
            "techniques".into(),
            "validated".into(),
            "validated share".into(),
        ],
        rows: coverage
            .tactics
            .iter()
            .map(|t| {
                vec![
                    Cell::from(t.tactic.shortname.as_str()),
                    Cell::from(t.tally.total()),
                    Cell::from(t.tally.count(CoverageState::Validated)),
                    Cell::from(t.tally.share(CoverageState::Validated)),
                ]
            })
            .collect(),
    };
    let techniques = Sheet {
        name: "Techniques".into(),
        header: COVERAGE_COLUMNS.iter().map(|c| c.to_string()).collect(),
        rows: rows
            .iter()
            .map(|r| r.iter().map(|c| Cell::from(c.as_str())).collect())
            .collect(),
    };
    write_workbook(&[headline, tactics, techniques])
}
