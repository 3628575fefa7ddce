//! Trends: the validated share over time per profile, from the journal. attest-core's
//! [`trend::series`] folds the journal once and computes coverage at evenly spaced instants
//! (the same answer as `attest coverage --as-of` at each), with the techniques that got worse
//! between points; the chart is attest-formats' [`trend_svg`] (the one `attest trend --svg`
//! writes), served as an image. The series are cached per journal head.

use std::sync::{Arc, Mutex};

use askama::Template;
use attest_attack::TechniqueId;
use attest_core::coverage::{CoverageState, Scope};
use attest_core::journal::JournalEntry;
use attest_core::priority::{TargetSet, TargetTechnique, question_scope};
use attest_core::trend::{self, Interval, TrendPoint};
use attest_formats::export::trend::{TrendSeries, trend_svg};
use attest_store::JournalQuery;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::Deserialize;

use super::matrix::state_words;
use super::session::Csrf;
use super::{Frame, PageError, WebState, render};
use crate::auth::Principal;
use crate::state::{AppState, Snapshot};

/// Instants sampled between the first journal entry and now.
const POINTS: i64 = 16;
/// The series of every technique (beside one per profile).
const ALL: &str = "all techniques";

/// One series: a profile (or every technique) and its points.
#[derive(Debug)]
pub(crate) struct Series {
    pub name: String,
    pub points: Vec<TrendPoint>,
}

/// The computed history at one journal head.
#[derive(Debug)]
pub(crate) struct Trend {
    seq: u64,
    /// The release it was computed on (a release swapped in at the same journal head makes
    /// it stale too).
    knowledge: Arc<crate::state::Knowledge>,
    pub instants: Vec<Timestamp>,
    pub series: Vec<Series>,
    entries: Arc<Vec<JournalEntry>>,
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
        web.trends.current.lock().ok().and_then(|c| {
            c.as_ref()
                .filter(|t| t.seq == seq && Arc::ptr_eq(&t.knowledge, &snap.knowledge))
                .cloned()
        })
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
    let end = snap.coverage.at;
    let snap2 = Arc::clone(&snap);
    let trend = tokio::task::spawn_blocking(move || compute(&snap2, entries, seq, end))
        .await
        .map_err(|e| PageError::internal(format!("computing trends: {e}")))?;
    let trend = Arc::new(trend);
    if let Ok(mut c) = web.trends.current.lock() {
        *c = Some(Arc::clone(&trend));
    }
    Ok(trend)
}

/// `POINTS` instants from the first entry to `end` (one when the journal is empty or young).
fn instants(entries: &[JournalEntry], end: Timestamp) -> Vec<Timestamp> {
    let Some(first) = entries.iter().map(|e| e.at).min().filter(|f| *f < end) else {
        return vec![end];
    };
    let step = end.duration_since(first).as_secs() / (POINTS - 1);
    Interval::parse(&format!("{}s", step.max(1)))
        .and_then(|every| trend::instants(first, end, every).ok())
        .unwrap_or_else(|| vec![end])
}

fn compute(snap: &Snapshot, entries: Vec<JournalEntry>, seq: u64, end: Timestamp) -> Trend {
    let catalog = snap.catalog();
    let instants = instants(&entries, end);
    let profiles: Vec<String> = snap.state.profiles.keys().cloned().collect();
    let mut series: Vec<Series> = profiles
        .iter()
        .map(|name| Series {
            name: name.clone(),
            points: trend::series(catalog, &entries, &instants, |state| {
                question_scope(catalog, state, Some(name), None, None)
                    .ok()
                    .map(|(_, scope)| scope)
            }),
        })
        .collect();
    series.push(Series {
        name: ALL.into(),
        points: trend::series(catalog, &entries, &instants, |_| Some(Scope::all())),
    });
    Trend {
        seq,
        knowledge: Arc::clone(&snap.knowledge),
        instants,
        series,
        entries: Arc::new(entries),
    }
}

/// The most instants a technique's history evaluates (each is one coverage computation of a
/// one-technique scope).
const HISTORY_POINTS: usize = 1_000;

/// A technique's state at every journal instant and the trend's instants, where it changed
/// (the first included): coverage of a scope holding only that technique, folded by
/// attest-core like the trends.
pub(crate) async fn technique_history(
    app: &AppState,
    web: &WebState,
    id: TechniqueId,
) -> Result<Vec<(Timestamp, CoverageState)>, PageError> {
    let t = trend(app, web).await?;
    let knowledge = Arc::clone(&t.knowledge);
    let entries = Arc::clone(&t.entries);
    // Every journal instant, so a change shows at the entry that made it, plus the trend's
    // evenly spaced instants, which catch changes caused by time alone (a pass going stale, a
    // source falling silent). The most recent points are kept when there are too many.
    let mut instants: Vec<Timestamp> = entries.iter().map(|e| e.at).collect();
    instants.extend(t.instants.iter().copied());
    instants.sort();
    instants.dedup();
    if instants.len() > HISTORY_POINTS {
        instants.drain(..instants.len() - HISTORY_POINTS);
    }
    let points = tokio::task::spawn_blocking(move || {
        let only = TargetSet {
            profile: id.to_string(),
            platforms: Vec::new(),
            techniques: vec![TargetTechnique {
                technique: id,
                score: 1.0,
                tier: String::new(),
                actors: Vec::new(),
                extra: None,
                exposures: Vec::new(),
                exposure_score: 0.0,
            }],
            excluded: Vec::new(),
            off_platform: Vec::new(),
            problems: Vec::new(),
        };
        trend::series(&knowledge.catalog, entries.iter(), &instants, |_| {
            Some(Scope::profile(only.clone()))
        })
    })
    .await
    .map_err(|e| PageError::internal(format!("computing the history: {e}")))?;
    let mut out: Vec<(Timestamp, CoverageState)> = Vec::new();
    for p in &points {
        let Some(tally) = p.tally else { continue };
        let Some(s) = CoverageState::ALL.into_iter().find(|s| tally.count(*s) > 0) else {
            continue;
        };
        if out.last().is_none_or(|(_, last)| *last != s) {
            out.push((p.at, s));
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------- the page

pub(crate) struct Row {
    at: String,
    shares: Vec<String>,
}

pub(crate) struct RegressionRow {
    at: String,
    series: String,
    share: String,
    techniques: Vec<(String, String, &'static str)>,
}

#[derive(Template)]
#[template(path = "trends.html")]
struct TrendsPage {
    frame: Frame,
    chart: String,
    names: Vec<String>,
    shown: Vec<String>,
    only: Option<String>,
    rows: Vec<Row>,
    regressions: Vec<RegressionRow>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct TrendQuery {
    profile: Option<String>,
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "—".into(), |v| format!("{:.1}%", v * 100.0))
}

fn chosen<'t>(t: &'t Trend, only: Option<&str>) -> Vec<&'t Series> {
    t.series
        .iter()
        .filter(|s| only.is_none_or(|o| o == s.name || s.name == ALL))
        .collect()
}

pub(crate) async fn trends_page(
    State(app): State<AppState>,
    Extension(web): Extension<Arc<WebState>>,
    Extension(who): Extension<Principal>,
    Extension(csrf): Extension<Csrf>,
    Query(q): Query<TrendQuery>,
) -> Result<Response, PageError> {
    let t = trend(&app, &web).await?;
    let only = q.profile.filter(|p| !p.trim().is_empty());
    let series = chosen(&t, only.as_deref());
    let rows = t
        .instants
        .iter()
        .enumerate()
        .map(|(i, at)| Row {
            at: at.strftime("%Y-%m-%d %H:%M").to_string(),
            shares: series
                .iter()
                .map(|s| pct(s.points.get(i).and_then(TrendPoint::validated_share)))
                .collect(),
        })
        .collect();
    let mut regressions = Vec::new();
    for s in &series {
        for p in s.points.iter().filter(|p| !p.regressions.is_empty()) {
            regressions.push(RegressionRow {
                at: p.at.strftime("%Y-%m-%d").to_string(),
                series: s.name.clone(),
                share: pct(p.validated_share()),
                techniques: p
                    .regressions
                    .iter()
                    .map(|r| {
                        (
                            r.technique.to_string(),
                            format!(
                                "{} → {}",
                                r.from.map_or("out of scope", |f| state_words(f).1),
                                state_words(r.to).1
                            ),
                            state_words(r.to).0,
                        )
                    })
                    .collect(),
            });
        }
    }
    let page = TrendsPage {
        frame: Frame::new(&app, "trends", "Trends", Some(&who), &csrf),
        chart: format!(
            "/trends.svg{}",
            only.as_ref()
                .map(|o| format!("?profile={}", super::filters::encode(o)))
                .unwrap_or_default()
        ),
        names: t
            .series
            .iter()
            .map(|s| s.name.clone())
            .filter(|n| n != ALL)
            .collect(),
        shown: series.iter().map(|s| s.name.clone()).collect(),
        only,
        rows,
        regressions,
    };
    render(&page)
}

/// The chart, as the `attest trend --svg` writer draws it. Served as an image, so nothing in it
/// can run even if a profile name carried markup.
pub(crate) async fn trends_svg(
    State(app): State<AppState>,
    Extension(web): Extension<Arc<WebState>>,
    Query(q): Query<TrendQuery>,
) -> Result<Response, PageError> {
    let t = trend(&app, &web).await?;
    let only = q.profile.filter(|p| !p.trim().is_empty());
    let lines: Vec<TrendSeries<'_>> = chosen(&t, only.as_deref())
        .into_iter()
        .map(|s| TrendSeries {
            name: &s.name,
            points: &s.points,
        })
        .collect();
    let svg = trend_svg("Validated share over time", &lines)
        .map_err(|e| PageError::internal(format!("drawing the chart: {e}")))?;
    Ok((
        [
            (CONTENT_TYPE, "image/svg+xml"),
            (CACHE_CONTROL, "private, max-age=60"),
        ],
        svg,
    )
        .into_response())
}
