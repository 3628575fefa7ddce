use std::io::Write;

use attest_core::coverage::CoverageState;
use attest_core::trend::TrendPoint;
use jiff::Timestamp;
use plotters::prelude::*;

/// The CSV header.
pub const TREND_COLUMNS: [&str; 12] = [
    "series",
    "at",
    "techniques",
    "validated",
    "unvalidated",
    "failing",
    "degraded",
    "gap",
    "validated_share",
    "regressions",
    "regressed",
    "improvements",
];

/// One named line of a trend.
#[derive(Debug, Clone, Copy)]
pub struct TrendSeries<'a> {
    /// What it is about (a profile name, or `all`).
    pub name: &'a str,
    /// Its points, in time order.
    pub points: &'a [TrendPoint],
}

/// Writes the points of every series as CSV.
pub fn trend_csv(series: &[TrendSeries<'_>], out: impl Write) -> Result<(), csv::Error> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(TREND_COLUMNS)?;
    for s in series {
        for p in s.points {
            let mut row: Vec<String> = vec![s.name.to_string(), p.at.to_string()];
            match &p.tally {
                Some(t) => {
                    row.push(t.total().to_string());
                    for state in [
                        CoverageState::Validated,
                        CoverageState::Unvalidated,
                        CoverageState::Failing,
                        CoverageState::Degraded,
                        CoverageState::Gap,
                    ] {
                        row.push(t.count(state).to_string());
                    }
                    row.push(format!("{:.4}", t.share(CoverageState::Validated)));
                }
                None => row.extend(std::iter::repeat_n(String::new(), 7)),
            }
            row.push(p.regressions.len().to_string());
            row.push(
                p.regressions
                    .iter()
                    .map(|r| r.technique.to_string())
                    .collect::<Vec<_>>()
                    .join(";"),
            );
            row.push(p.improvements.to_string());
            w.write_record(&row)?;
        }
    }
    w.flush()?;
    Ok(())
}

/// Why a chart could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum TrendChartError {
    /// No series has a point with a tally.
    #[error("nothing to chart: no point has coverage (does the profile exist in that period?)")]
    Empty,
    /// The drawing library failed.
    #[error("drawing the chart: {0}")]
    Draw(String),
}

/// Okabe–Ito: blue, orange, bluish green, reddish purple, sky blue, yellow, black.
const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(240, 228, 66),
    RGBColor(0, 0, 0),
];
/// Vermillion, kept for regression marks only.
const REGRESSION: RGBColor = RGBColor(213, 94, 0);

const DAY: f64 = 86_400.0;

fn day_of(t: Timestamp) -> f64 {
    t.as_second() as f64 / DAY
}

/// A time-axis label: dates for long ranges, times for ranges of a few days or less.
fn date_label(day: f64, range_days: f64) -> String {
    let format = if range_days > 4.0 {
        "%Y-%m-%d"
    } else if range_days > 0.1 {
        "%m-%d %H:%M"
    } else {
        "%H:%M:%S"
    };
    Timestamp::from_second((day * DAY).round() as i64)
        .map(|t| t.strftime(format).to_string())
        .unwrap_or_default()
}

fn draw_err(e: impl std::fmt::Display) -> TrendChartError {
    TrendChartError::Draw(e.to_string())
}

/// Draws the validated share (percent of the priority weight) of every series over time as an
/// SVG document, `title` on top.
pub fn trend_svg(title: &str, series: &[TrendSeries<'_>]) -> Result<String, TrendChartError> {
    let all: Vec<(f64, f64)> = series
        .iter()
        .flat_map(|s| s.points.iter())
        .filter_map(|p| Some((day_of(p.at), 100.0 * p.validated_share()?)))
        .collect();
    let (Some(first), Some(last)) = (
        all.iter().map(|p| p.0).reduce(f64::min),
        all.iter().map(|p| p.0).reduce(f64::max),
    ) else {
        return Err(TrendChartError::Empty);
    };
    // One point still needs a non-empty axis.
    let last = if last - first <= 0.0 {
        first + 1.0
    } else {
        last
    };
    let range = last - first;
    // The y axis starts at 0 (a share is never shown out of proportion) and ends at 100 or, when
    // every share is small, at the next multiple of 10 above 125 % of the highest, so a change
    // from 2 % to 3 % is still visible.
    let highest = all.iter().map(|p| p.1).fold(0.0, f64::max);
    let top = ((highest * 1.25 / 10.0).ceil() * 10.0).clamp(10.0, 100.0);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 420)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(52)
            .build_cartesian_2d(first..last, 0.0..top)
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .x_labels(6)
            .x_label_formatter(&|d| date_label(*d, range))
            .y_desc("validated share of priority weight (%)")
            .y_label_formatter(&|v| format!("{v:.0}"))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(draw_err)?;
        let mut regression_in_legend = false;
        for (i, s) in series.iter().enumerate() {
            let colour = PALETTE[i % PALETTE.len()];
            let line: Vec<(f64, f64)> = s
                .points
                .iter()
                .filter_map(|p| Some((day_of(p.at), 100.0 * p.validated_share()?)))
                .collect();
            chart
                .draw_series(LineSeries::new(line.clone(), colour.stroke_width(2)))
                .map_err(draw_err)?
                .label(s.name.to_string())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
                });
            // Dots help read a few points; on a dense series they only thicken the line.
            if line.len() <= 60 {
                chart
                    .draw_series(
                        line.iter()
                            .map(|&(x, y)| Circle::new((x, y), 2, colour.filled())),
                    )
                    .map_err(draw_err)?;
            }
            let marks: Vec<(f64, f64)> = s
                .points
                .iter()
                .filter(|p| !p.regressions.is_empty())
                .filter_map(|p| Some((day_of(p.at), 100.0 * p.validated_share()?)))
                .collect();
            let drawn = chart
                .draw_series(
                    marks
                        .iter()
                        .map(|&(x, y)| TriangleMarker::new((x, y), 7, REGRESSION.filled())),
                )
                .map_err(draw_err)?;
            if !marks.is_empty() && !regression_in_legend {
                regression_in_legend = true;
                drawn
                    .label("regression")
                    .legend(|(x, y)| TriangleMarker::new((x + 9, y), 6, REGRESSION.filled()));
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(draw_err)?;
        root.present().map_err(draw_err)?;
    }
    Ok(svg)
}
