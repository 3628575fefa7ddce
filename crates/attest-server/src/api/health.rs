//! Probes, metrics, the OpenAPI document and the trivial handler load tests compare against.

use std::sync::Arc;

use attest_core::coverage::CoverageState;
use attest_core::source::Health;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use jiff::Timestamp;

use crate::metrics::Gauge;
use crate::problem::Problem;
use crate::state::AppState;

/// The serialized OpenAPI document (built once with the router).
#[derive(Debug)]
pub(super) struct OpenApiJson(pub String);

/// Liveness.
#[utoipa::path(get, path = "/healthz", tag = "health", security(()),
    responses((status = 200, description = "The process answers", body = serde_json::Value)))]
pub(super) async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}

/// The trivial handler: authenticated like every API route, answers a constant. Load tests
/// compare enrichment's requests per second against it, in the same run.
#[utoipa::path(get, path = "/api/v1/ping", tag = "health",
    responses((status = 200, description = "pong", body = serde_json::Value),
              (status = 401, description = "No or unknown token", body = Problem)))]
pub(super) async fn ping() -> Response {
    ([(CONTENT_TYPE, "application/json")], r#"{"pong":true}"#).into_response()
}

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "health", security(()),
    responses((status = 200, description = "The OpenAPI 3 document", body = serde_json::Value)))]
pub(super) async fn openapi_json(Extension(doc): Extension<Arc<OpenApiJson>>) -> Response {
    ([(CONTENT_TYPE, "application/json")], doc.0.clone()).into_response()
}

/// Readiness: the store answers.
#[utoipa::path(get, path = "/readyz", tag = "health", security(()),
    responses((status = 200, description = "The store answers: journal head and snapshot position", body = serde_json::Value),
              (status = 503, description = "The store does not answer", body = Problem)))]
pub(super) async fn readyz(
    State(app): State<AppState>,
) -> Result<Json<serde_json::Value>, Problem> {
    let head = app
        .store()
        .head()
        .await
        .map_err(|e| Problem::store("read the journal head", &e))?;
    Ok(Json(serde_json::json!({
        "status": "ready",
        "journal_head": head,
        "snapshot_seq": app.snapshot().state.last_seq,
    })))
}

/// Prometheus text: requests by route and status, latencies, coverage by state, sources by
/// health, results recorded and ingested, journal position.
#[utoipa::path(get, path = "/metrics", tag = "health", security(()),
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String)))]
pub(super) async fn metrics(State(app): State<AppState>) -> Response {
    let snap = app.snapshot();
    let now = Timestamp::now();
    let count = |f: fn(&Health) -> bool| {
        snap.state
            .sources
            .values()
            .filter(|s| f(&s.source.health(now)))
            .count() as f64
    };
    let gauges = vec![
        Gauge {
            name: "attest_coverage_techniques",
            help: "Techniques in each coverage state (all techniques in scope).",
            values: CoverageState::ALL
                .iter()
                .map(|s| {
                    (
                        format!("state=\"{}\"", s.as_str()),
                        snap.coverage.overall.count(*s) as f64,
                    )
                })
                .collect(),
        },
        Gauge {
            name: "attest_sources",
            help: "Inventory sources by health.",
            values: vec![
                (
                    "health=\"healthy\"".into(),
                    count(|h| matches!(h, Health::Healthy)),
                ),
                (
                    "health=\"silent\"".into(),
                    count(|h| matches!(h, Health::Silent { .. })),
                ),
                (
                    "health=\"never-seen\"".into(),
                    count(|h| matches!(h, Health::NeverSeen)),
                ),
            ],
        },
        Gauge {
            name: "attest_sources_silent",
            help: "Inventory sources silent past their bound.",
            values: vec![(String::new(), count(|h| matches!(h, Health::Silent { .. })))],
        },
        Gauge {
            name: "attest_results_recorded",
            help: "Validation results in the workspace.",
            values: vec![(
                String::new(),
                snap.state.results.values().map(Vec::len).sum::<usize>() as f64,
            )],
        },
        Gauge {
            name: "attest_journal_seq",
            help: "Journal position of the served snapshot.",
            values: vec![(String::new(), snap.state.last_seq as f64)],
        },
    ];
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        app.inner.metrics.render(&gauges),
    )
        .into_response()
}
