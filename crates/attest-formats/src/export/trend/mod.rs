//! Coverage trends: a CSV of the points and an SVG chart of the validated share over time.
//!
//! CSV columns, in this order, one row per series and instant:
//!
//! | column | content |
//! | --- | --- |
//! | `series` | what the series is about (a profile name, or `all`) |
//! | `at` | RFC 3339 UTC instant |
//! | `techniques` | techniques in scope (empty when the scope did not exist yet) |
//! | `validated` … `gap` | techniques in each state |
//! | `validated_share` | validated share of the (priority) weight, 0–1, 4 decimals |
//! | `regressions` | how many techniques got worse since the previous point |
//! | `regressed` | their ids, `;`-separated |
//! | `improvements` | how many got better |
//!
//! The chart draws one line per series (Okabe–Ito colours, which stay distinct for the common
//! colour-vision deficiencies) and marks every point where something regressed with a triangle, so
//! the eye goes to where coverage was lost, not only to where the line dips: a regression can hide
//! under a rising line when other techniques improve at the same time.

#[cfg(test)]
mod tests;
mod write;

pub use write::{TREND_COLUMNS, TrendChartError, TrendSeries, trend_csv, trend_svg};

/// The chart's title for a scope: `Validated share — profile P, Windows` (the CLI's `--svg` and
/// the API's `format=svg` say the same).
pub fn trend_title(profile: Option<&str>, platform: Option<&str>) -> String {
    format!(
        "Validated share — {}{}",
        profile.map_or_else(|| "all techniques".to_string(), |p| format!("profile {p}")),
        platform.map(|p| format!(", {p}")).unwrap_or_default()
    )
}
