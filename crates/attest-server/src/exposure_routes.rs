//! `GET /api/v1/exposures` and `/api/v1/exposures/{id}`: exposures by effective priority, with
//! the techniques behind them and the reasoning. Prioritised once per snapshot
//! ([`crate::state::Snapshot::exposures`]); requests only filter.

use attest_core::exposure::{ExposureKey, ExposureStatus, normalise_finding};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use serde::Deserialize;

use crate::api::parse_technique;
use crate::problem::{Problem, from_query_rejection};
use crate::state::AppState;
use crate::views::ExposureView;

/// Filters of `GET /api/v1/exposures`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ExposuresQuery {
    /// `open` (default), `accepted`, `fixed` or `all`.
    status: Option<String>,
    /// Only this finding id.
    finding: Option<String>,
    /// Only exposures exploited through this technique.
    technique: Option<String>,
    /// Only techniques without validated detection (the CTEM page's "cannot see" list).
    unseen: bool,
    /// At most this many (default 1000).
    limit: Option<usize>,
}

/// `GET /api/v1/exposures`: exposures by effective priority, highest first.
pub(crate) async fn list(
    State(app): State<AppState>,
    query: Result<Query<ExposuresQuery>, QueryRejection>,
) -> Result<Json<serde_json::Value>, Problem> {
    let Query(q) = query.map_err(from_query_rejection)?;
    let status = match q.status.as_deref().map(str::trim) {
        None | Some("") => Some(ExposureStatus::Open),
        Some(s) if s.eq_ignore_ascii_case("all") => None,
        Some(s) => Some(ExposureStatus::parse(s).ok_or_else(|| {
            Problem::bad_request(
                "invalid-status",
                format!("`{s}` is not an exposure status (open, accepted, fixed, all)"),
            )
        })?),
    };
    let technique = q.technique.as_deref().map(parse_technique).transpose()?;
    let finding = q.finding.as_deref().map(normalise_finding);
    let snap = app.snapshot();
    let catalog = app.catalog();
    let matching: Vec<ExposureView> = snap
        .exposures
        .iter()
        .filter_map(|p| snap.state.exposures.get(&p.key).map(|rec| (rec, p)))
        .filter(|(rec, p)| {
            status.is_none_or(|s| rec.exposure.status == s)
                && finding.as_ref().is_none_or(|f| p.key.finding == *f)
                && technique.is_none_or(|t| {
                    p.techniques
                        .iter()
                        .any(|d| d.technique.technique == Some(t))
                })
                && (!q.unseen || p.raise > 0.0)
        })
        .map(|(rec, p)| ExposureView::of(rec, p, catalog))
        .collect();
    let total = matching.len();
    let shown: Vec<ExposureView> = matching.into_iter().take(q.limit.unwrap_or(1000)).collect();
    Ok(Json(
        serde_json::json!({"count": total, "exposures": shown}),
    ))
}

/// `GET /api/v1/exposures/{id}`: one exposure (`FINDING@ASSET`), or every asset of a finding.
pub(crate) async fn show(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, Problem> {
    let snap = app.snapshot();
    let catalog = app.catalog();
    let key = ExposureKey::parse_id(&id);
    let finding = normalise_finding(&id);
    let found: Vec<ExposureView> = snap
        .exposures
        .iter()
        .filter(|p| match &key {
            Some(k) => p.key == *k,
            None => p.key.finding == finding,
        })
        .filter_map(|p| {
            snap.state
                .exposures
                .get(&p.key)
                .map(|rec| ExposureView::of(rec, p, catalog))
        })
        .collect();
    match (key, found.len()) {
        (_, 0) => Err(Problem::not_found(
            "exposure-not-found",
            format!("no exposure `{id}` (FINDING@ASSET or a finding id)"),
        )),
        (Some(_), _) => Ok(Json(serde_json::json!(found[0]))),
        (None, n) => Ok(Json(
            serde_json::json!({"finding": finding, "count": n, "exposures": found}),
        )),
    }
}
