//! Trends: the validated share over time per profile, from the journal. At evenly spaced
//! instants the journal is folded as of that instant ([`State::from_journal`] over the entries
//! at or before it, as `attest coverage --as-of` does) and attest-core computes coverage; a
//! drop from one instant to the next is a regression. Charts are SVG written server-side.
//! The series are cached per journal head: history does not change until the journal moves.

use std::sync::{Arc, Mutex};

use askama::Template;
use attest_attack::TechniqueId;
use attest_core::coverage::{self, CoverageState, Scope};
use attest_core::journal::JournalEntry;
use attest_core::priority::{PriorityOptions, target_set};
use attest_core::state::State as CoreState;
use attest_store::JournalQuery;
use axum::Extension;
use axum::extract::{Query, State};
use axum::response::Response;
use jiff::Timestamp;
use serde::Deserialize;

use super::session::Csrf;
use super::{Frame, PageError, WebState, render};
use crate::auth::Principal;
use crate::state::AppState;

/// Instants sampled between the first journal entry and now.
const POINTS: usize = 16;

/// One series: a profile (or every technique) and its validated share at each instant
/// (`None` where the profile did not exist yet).
#[derive(Debug, Clone)]
pub(crate) struct Series {
    pub name: String,
    pub shares: Vec<Option<f64>>,
}

/// The computed history.
#[derive(Debug)]
pub(crate) struct Trend {
    seq: u64,
    pub instants: Vec<Timestamp>,
    pub series: Vec<Series>,
    /// Per instant, every technique's state (all techniques in scope), sorted by id.
    pub states: Vec<Vec<(TechniqueId, CoverageState)>>,
}

/// The cached trend for the current journal head.
#[derive(Debug, Default)]
pub struct TrendCache {
    current: Mutex<Option<Arc<Trend>>>,
    /// Serialises computations so two requests never compute the same trend at once.
    computing: tokio::sync::Mutex<()>,
}

/// The trend for the current snapshot, computed when the journal moved.
pub(crate) async fn trend(app: &AppState, web: &WebState) -> Result<Arc<Trend>, PageError> {
    let snap = app.snapshot();
    let seq = snap.state.last_seq;
    let cached = |web: &WebState| {
        web.trends
            .current
            .lock()
            .ok()
            .and_then(|c| c.as_ref().filter(|t| t.seq == seq).cloned())
    };
    if let Some(t) = cached(web) {
        return Ok(t);
    }
    let _guard = web.trends.computing.lock().await;
    if let Some(t) = cached(web) {
        return Ok(t);
    }
    let entries = app
        .store()
        .journal(&JournalQuery {
            until_seq: Some(seq),
            ..Default::default()
        })
        .await
        .map_err(|e| PageError::internal(format!("reading the journal: {e}")))?;
    let app2 = app.clone();
    let end = snap.coverage.at;
    let trend = tokio::task::spawn_blocking(move || compute(&app2, &entries, seq, end))
        .await
        .map_err(|e| PageError::internal(format!("computing trends: {e}")))?;
    let trend = Arc::new(trend);
    if let Ok(mut c) = web.trends.current.lock() {
        *c = Some(Arc::clone(&trend));
    }
    Ok(trend)
}

fn instants(entries: &[JournalEntry], end: Timestamp) -> Vec<Timestamp> {
    let Some(first) = entries.iter().map(|e| e.at).min() else {
        return vec![end];
    };
    if first >= end {
        return vec![end];
    }
    let span = end.duration_since(first);
    (0..POINTS)
        .map(|i| {
            let frac = i as f64 / (POINTS - 1) as f64;
            let offset = jiff::SignedDuration::from_secs_f64(span.as_secs_f64() * frac);
            first.checked_add(offset).unwrap_or(end)
        })
        .collect()
}

fn compute(app: &AppState, entries: &[JournalEntry], seq: u64, end: Timestamp) -> Trend {
    let catalog = app.catalog();
    let instants = instants(entries, end);
    let final_state = CoreState::from_journal(entries.iter());
    let profiles: Vec<String> = final_state.profiles.keys().cloned().collect();
    let mut all = Series {
        name: "all techniques".into(),
        shares: Vec::new(),
    };
    let mut per_profile: Vec<Series> = profiles
        .iter()
        .map(|p| Series {
            name: p.clone(),
            shares: Vec::new(),
        })
        .collect();
    let mut states = Vec::new();
    for &t in &instants {
        let state = CoreState::from_journal(entries.iter().filter(|e| e.at <= t));
        let cov = coverage::compute(catalog, &state, &Scope::all(), t);
        all.shares
            .push(Some(cov.overall.share(CoverageState::Validated)));
        states.push(
            cov.techniques
                .iter()
                .map(|c| (c.technique, c.state))
                .collect(),
        );
        for s in &mut per_profile {
            let share = state.profiles.get(&s.name).map(|p| {
                let target = target_set(catalog, &state.actors, p, &PriorityOptions::default());
                coverage::compute(catalog, &state, &Scope::profile(target), t)
                    .overall
                    .share(CoverageState::Validated)
            });
            s.shares.push(share);
        }
    }
    let mut series = per_profile;
    series.push(all);
    Trend {
        seq,
        instants,
        series,
        states,
    }
}

/// A technique's state changes over the sampled instants (first state included).
pub(crate) async fn technique_history(
    app: &AppState,
    web: &WebState,
    id: TechniqueId,
) -> Result<Vec<(Timestamp, CoverageState)>, PageError> {
    let trend = trend(app, web).await?;
    let mut out: Vec<(Timestamp, CoverageState)> = Vec::new();
    for (at, states) in trend.instants.iter().zip(&trend.states) {
        let s = states
            .binary_search_by_key(&id, |(t, _)| *t)
            .ok()
            .and_then(|i| states.get(i))
            .map_or(CoverageState::Gap, |(_, s)| *s);
        if out.last().is_none_or(|(_, last)| *last != s) {
            out.push((*at, s));
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------- the chart

const WIDTH: f64 = 860.0;
const HEIGHT: f64 = 320.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 40.0;
/// Okabe–Ito colours (distinct under colour blindness) and dash patterns, so two lines never
/// differ by colour alone.
const STYLES: [(&str, &str); 6] = [
    ("#0072b2", ""),
    ("#e69f00", "8 4"),
    ("#009e73", "2 3"),
    ("#cc79a7", "10 3 2 3"),
    ("#d55e00", "5 5"),
    ("#000000", "1 2"),
];

pub(crate) struct Line {
    name: String,
    color: &'static str,
    dash: &'static str,
    points: String,
    markers: Vec<Marker>,
    last: String,
}

pub(crate) struct Marker {
    x: String,
    y: String,
    title: String,
}

pub(crate) struct Regression {
    at: String,
    series: String,
    from: String,
    to: String,
    techniques: Vec<String>,
}

#[derive(Template)]
#[template(path = "trends.html")]
struct TrendsPage {
    frame: Frame,
    width: f64,
    height: f64,
    plot_left: f64,
    plot_right: f64,
    plot_bottom: f64,
    grid: Vec<(String, String)>,
    ticks: Vec<(String, String)>,
    lines: Vec<Line>,
    regressions: Vec<Regression>,
    only: Option<String>,
    names: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct TrendQuery {
    profile: Option<String>,
}

fn pct(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

pub(crate) async fn trends_page(
    State(app): State<AppState>,
    Extension(web): Extension<Arc<WebState>>,
    Extension(who): Extension<Principal>,
    Extension(csrf): Extension<Csrf>,
    Query(q): Query<TrendQuery>,
) -> Result<Response, PageError> {
    let trend = trend(&app, &web).await?;
    let only = q.profile.filter(|p| !p.trim().is_empty());
    let n = trend.instants.len();
    let x = |i: usize| {
        if n <= 1 {
            LEFT + (WIDTH - LEFT - RIGHT) / 2.0
        } else {
            LEFT + (WIDTH - LEFT - RIGHT) * i as f64 / (n - 1) as f64
        }
    };
    let y = |v: f64| TOP + (HEIGHT - TOP - BOTTOM) * (1.0 - v.clamp(0.0, 1.0));
    let mut lines = Vec::new();
    let mut regressions = Vec::new();
    for (k, s) in trend
        .series
        .iter()
        .filter(|s| {
            only.as_ref()
                .is_none_or(|o| *o == s.name || s.name == "all techniques")
        })
        .enumerate()
    {
        let (color, dash) = STYLES[k % STYLES.len()];
        let mut points = Vec::new();
        let mut markers = Vec::new();
        let mut prev: Option<f64> = None;
        for (i, v) in s.shares.iter().enumerate() {
            let Some(v) = *v else {
                prev = None;
                continue;
            };
            points.push(format!("{:.1},{:.1}", x(i), y(v)));
            if let Some(p) = prev
                && v + 1e-9 < p
            {
                let at = trend.instants[i].strftime("%Y-%m-%d").to_string();
                markers.push(Marker {
                    x: format!("{:.1}", x(i)),
                    y: format!("{:.1}", y(v)),
                    title: format!("{}: {} → {} on {at}", s.name, pct(p), pct(v)),
                });
                // Which techniques stopped being validated between the two instants.
                let before = &trend.states[i - 1];
                let after = &trend.states[i];
                let lost: Vec<String> = before
                    .iter()
                    .filter(|(_, st)| *st == CoverageState::Validated)
                    .filter(|(t, _)| {
                        after
                            .binary_search_by_key(t, |(x, _)| *x)
                            .ok()
                            .and_then(|j| after.get(j))
                            .is_none_or(|(_, st)| *st != CoverageState::Validated)
                    })
                    .map(|(t, _)| t.to_string())
                    .collect();
                regressions.push(Regression {
                    at,
                    series: s.name.clone(),
                    from: pct(p),
                    to: pct(v),
                    techniques: lost,
                });
            }
            prev = Some(v);
        }
        lines.push(Line {
            name: s.name.clone(),
            color,
            dash,
            points: points.join(" "),
            markers,
            last: s
                .shares
                .iter()
                .rev()
                .find_map(|v| *v)
                .map(pct)
                .unwrap_or_else(|| "—".into()),
        });
    }
    let grid = [0.0, 0.25, 0.5, 0.75, 1.0]
        .iter()
        .map(|v| (format!("{:.1}", y(*v)), format!("{:.0}%", v * 100.0)))
        .collect();
    let ticks = if n == 0 {
        Vec::new()
    } else {
        let mut idx = vec![0, n / 2, n - 1];
        idx.dedup();
        idx.into_iter()
            .map(|i| {
                (
                    format!("{:.1}", x(i)),
                    trend.instants[i].strftime("%Y-%m-%d").to_string(),
                )
            })
            .collect()
    };
    let page = TrendsPage {
        frame: Frame::new(&app, "trends", "Trends", Some(&who), &csrf),
        width: WIDTH,
        height: HEIGHT,
        plot_left: LEFT,
        plot_right: WIDTH - RIGHT,
        plot_bottom: HEIGHT - BOTTOM,
        grid,
        ticks,
        lines,
        regressions,
        names: trend
            .series
            .iter()
            .map(|s| s.name.clone())
            .filter(|n| n != "all techniques")
            .collect(),
        only,
    };
    render(&page)
}
