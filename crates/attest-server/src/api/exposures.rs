//! Exposures (CTEM): findings by effective priority, with the techniques behind them and the
//! reasoning — `attest exposures list|show`. Prioritised once per snapshot
//! ([`crate::state::Snapshot::exposures`]); requests only filter.

use attest_core::exposure::{ExposureKey, ExposureStatus, normalise_finding};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{parse_technique, query};
use crate::problem::Problem;
use crate::state::AppState;
use crate::views::ExposureView;

/// Filters of the exposure list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(super) struct ExposuresQuery {
    /// `open` (default), `accepted`, `fixed` or `all`.
    status: Option<String>,
    /// Only this finding id (a CVE or a misconfiguration id).
    finding: Option<String>,
    /// Only exposures exploited through this technique.
    technique: Option<String>,
    /// Only exposures whose priority was raised: techniques without validated detection
    /// ("exposures we cannot see being exploited").
    unseen: bool,
    /// At most this many (default 1000); `count` is the total.
    limit: Option<usize>,
}

/// Exposures, highest effective priority first.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ExposureList {
    /// How many match (before `limit`).
    count: usize,
    /// The exposures.
    exposures: Vec<ExposureView>,
}

/// Every asset with one finding.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct FindingExposures {
    /// The finding id.
    finding: String,
    /// On how many assets.
    count: usize,
    /// One exposure per asset, highest effective priority first.
    exposures: Vec<ExposureView>,
}

/// Exposures by effective priority, with their techniques' detection states and the reasoning.
#[utoipa::path(get, path = "/api/v1/exposures", tag = "exposures", params(ExposuresQuery),
    responses((status = 200, description = "Exposures, highest effective priority first", body = ExposureList),
              (status = 400, description = "A filter value is not valid", body = Problem)))]
pub(super) async fn list(
    State(app): State<AppState>,
    q: Result<Query<ExposuresQuery>, QueryRejection>,
) -> Result<Json<ExposureList>, Problem> {
    let q = query(q)?;
    let status = match q.status.as_deref().map(str::trim) {
        None | Some("") => Some(ExposureStatus::Open),
        Some(s) if s.eq_ignore_ascii_case("all") => None,
        Some(s) => Some(ExposureStatus::parse(s).ok_or_else(|| {
            Problem::bad_request(
                "invalid-status",
                format!("status: `{s}` is not an exposure status (open, accepted, fixed, all)"),
            )
        })?),
    };
    let technique = q.technique.as_deref().map(parse_technique).transpose()?;
    let finding = q.finding.as_deref().map(normalise_finding);
    let snap = app.snapshot();
    let catalog = snap.catalog();
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
    let count = matching.len();
    let exposures = matching.into_iter().take(q.limit.unwrap_or(1000)).collect();
    Ok(Json(ExposureList { count, exposures }))
}

/// One exposure (`CVE-2021-44228@web-01`), or every asset of a finding (`CVE-2021-44228`).
#[utoipa::path(get, path = "/api/v1/exposures/{id}", tag = "exposures",
    params(("id" = String, Path, description = "FINDING@ASSET, or a finding id for all its assets")),
    responses((status = 200, description = "The exposure (FINDING@ASSET: an ExposureView; a finding id: a FindingExposures)", body = serde_json::Value),
              (status = 404, description = "No such exposure", body = Problem)))]
pub(super) async fn show(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, Problem> {
    let snap = app.snapshot();
    let catalog = snap.catalog();
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
    let not_found = || {
        Problem::not_found(
            "exposure-not-found",
            format!("no exposure `{id}` (FINDING@ASSET or a finding id)"),
        )
    };
    let doc = match key {
        Some(_) => serde_json::to_value(found.into_iter().next().ok_or_else(not_found)?),
        None if found.is_empty() => return Err(not_found()),
        None => serde_json::to_value(FindingExposures {
            finding,
            count: found.len(),
            exposures: found,
        }),
    };
    doc.map(Json).map_err(|e| {
        Problem::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            e.to_string(),
        )
    })
}
