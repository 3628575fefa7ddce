//! Validation results (record, list) and the test catalogue.

use attest_core::journal::Event;
use attest_core::result::{Evidence, Outcome, ValidationResult};
use attest_core::rule::RuleId;
use attest_store::NewEntry;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{body, parse_instant, parse_technique, query, refresh_after_append};
use crate::auth::Principal;
use crate::problem::Problem;
use crate::state::AppState;
use crate::views::ResultView;

/// A result as a validation pipeline posts it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ResultInput {
    /// Rule id.
    rule: String,
    /// Technique id.
    technique: String,
    /// Test id.
    #[serde(default)]
    test: Option<String>,
    /// `pass`, `fail`, `error` or `skipped`.
    outcome: String,
    /// When it ran (default now).
    #[serde(default)]
    at: Option<Timestamp>,
    /// Who ran it (default the token's name).
    #[serde(default)]
    by: Option<String>,
    /// Evidence.
    #[serde(default)]
    evidence: Option<EvidenceInput>,
}

/// Evidence of a result.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub(super) struct EvidenceInput {
    /// Free text.
    text: Option<String>,
    /// A link.
    url: Option<String>,
    /// Event ids that show it.
    event_ids: Vec<String>,
}

/// One result or a batch. Only describes the body in the OpenAPI document: bodies are decoded
/// one result at a time, so that a problem names the result at fault.
#[allow(dead_code)]
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub(super) enum OneOrMany {
    /// A batch.
    Many(Vec<ResultInput>),
    /// One.
    One(Box<ResultInput>),
}

/// Records validation results — one, or a batch in one transaction. Any invalid result fails the
/// whole batch with a problem naming it by position; nothing is written then.
#[utoipa::path(post, path = "/api/v1/results", tag = "validation", request_body = OneOrMany,
    responses((status = 201, description = "Recorded", body = serde_json::Value),
              (status = 400, description = "Bad body; names the result by position", body = Problem),
              (status = 403, description = "A viewer token", body = Problem),
              (status = 422, description = "A result names a rule that does not exist", body = Problem)))]
pub(super) async fn record(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
    body_in: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), Problem> {
    // Each result is decoded on its own so that a problem names it by position and field.
    let items = match body(body_in)? {
        serde_json::Value::Array(items) => items,
        one @ serde_json::Value::Object(_) => vec![one],
        _ => {
            return Err(Problem::bad_request(
                "invalid-json",
                "the body must be a result object or an array of them",
            ));
        }
    };
    let mut inputs: Vec<ResultInput> = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        inputs.push(
            serde_json::from_value(item)
                .map_err(|e| Problem::bad_request("invalid-result", format!("result {i}: {e}")))?,
        );
    }
    if inputs.is_empty() {
        return Err(Problem::bad_request(
            "empty-batch",
            "no results in the request",
        ));
    }
    let now = Timestamp::now();
    let snap = app.snapshot();
    let mut entries = Vec::with_capacity(inputs.len());
    for (i, r) in inputs.into_iter().enumerate() {
        let outcome = Outcome::parse(&r.outcome).ok_or_else(|| {
            Problem::bad_request(
                "invalid-outcome",
                format!(
                    "result {i}: `{}` is not an outcome (pass, fail, error, skipped)",
                    r.outcome
                ),
            )
        })?;
        let technique = parse_technique(&r.technique)
            .map_err(|p| Problem::bad_request(p.code, format!("result {i}: {}", p.detail)))?;
        let rule = RuleId(r.rule.trim().to_string());
        if !snap.state.rules.contains_key(&rule) {
            // The snapshot may lag a write made a moment ago: ask the store before refusing.
            let stored = app
                .store()
                .rule(&rule)
                .await
                .map_err(|e| Problem::store("read a rule", &e))?;
            if stored.is_none() {
                return Err(Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "rule-not-found",
                    format!("result {i}: no rule `{}`", rule.0),
                ));
            }
        }
        let evidence = r.evidence.unwrap_or_default();
        let result = ValidationResult {
            rule,
            technique: technique.to_string(),
            test: r.test,
            outcome,
            at: r.at.unwrap_or(now),
            by: r.by.unwrap_or_else(|| who.name.clone()),
            evidence: Evidence {
                text: evidence.text,
                url: evidence.url,
                event_ids: evidence.event_ids,
            },
        };
        entries.push(NewEntry::new(
            who.name.clone(),
            now,
            Event::ResultRecorded(result),
        ));
    }
    let count = entries.len();
    let outcome = app
        .store()
        .append(entries)
        .await
        .map_err(|e| Problem::store("journal results", &e))?;
    app.inner.metrics.add_results(count);
    refresh_after_append(&app, &outcome).await;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({
            "recorded": count,
            "first_seq": outcome.first_seq,
            "last_seq": outcome.last_seq,
        })),
    ))
}

/// Filters of `GET /api/v1/results`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(super) struct ResultsQuery {
    /// Of this rule.
    rule: Option<String>,
    /// For this technique.
    technique: Option<String>,
    /// `pass`, `fail`, `error` or `skipped`.
    outcome: Option<String>,
    /// Ran at or after this instant.
    since: Option<String>,
    /// At most this many, newest first (default 1000).
    limit: Option<usize>,
}

/// A result listing.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ResultList {
    /// Results matching (before the limit).
    total: usize,
    /// Newest first.
    results: Vec<ResultView>,
}

/// Recorded validation results, newest first.
#[utoipa::path(get, path = "/api/v1/results", tag = "validation", params(ResultsQuery),
    responses((status = 200, description = "Results", body = ResultList),
              (status = 400, description = "A filter value is not valid", body = Problem)))]
pub(super) async fn list(
    State(app): State<AppState>,
    q: Result<Query<ResultsQuery>, QueryRejection>,
) -> Result<Json<ResultList>, Problem> {
    let q = query(q)?;
    let technique = q
        .technique
        .as_deref()
        .map(parse_technique)
        .transpose()?
        .map(|t| t.to_string());
    let outcome = match &q.outcome {
        Some(o) => Some(Outcome::parse(o).ok_or_else(|| {
            Problem::bad_request(
                "invalid-outcome",
                format!("outcome: `{o}` is not pass, fail, error or skipped"),
            )
        })?),
        None => None,
    };
    let since = q
        .since
        .as_deref()
        .map(|s| parse_instant("since", s))
        .transpose()?;
    let snap = app.snapshot();
    let mut found: Vec<&ValidationResult> = snap
        .state
        .results
        .iter()
        .filter(|((rule, _), _)| q.rule.as_ref().is_none_or(|r| &rule.0 == r))
        .flat_map(|(_, v)| v.iter())
        .filter(|r| {
            technique
                .as_ref()
                .is_none_or(|t| r.technique.eq_ignore_ascii_case(t))
        })
        .filter(|r| outcome.is_none_or(|o| r.outcome == o))
        .filter(|r| since.is_none_or(|s| r.at >= s))
        .collect();
    found.sort_by_key(|r| std::cmp::Reverse(r.at));
    let total = found.len();
    Ok(Json(ResultList {
        total,
        results: found
            .into_iter()
            .take(q.limit.unwrap_or(1000))
            .map(ResultView::of)
            .collect(),
    }))
}

/// Filters of the test catalogue.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(super) struct TestsQuery {
    /// Exercises this technique.
    technique: Option<String>,
    /// Runs on this platform.
    platform: Option<String>,
}

/// A test of the catalogue.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct TestView {
    /// Stable id (an Atomic GUID, a scenario id…).
    id: String,
    /// `atomic`, `purple-team`, `simulation` or `replay`.
    kind: &'static str,
    /// Techniques exercised.
    techniques: Vec<String>,
    /// Name.
    name: String,
    /// Platforms.
    platforms: Vec<String>,
    /// Executor.
    executor: Option<String>,
    /// Needs elevation.
    elevation_required: bool,
}

/// The test catalogue (`attest tests list`).
#[utoipa::path(get, path = "/api/v1/tests", tag = "validation", params(TestsQuery),
    responses((status = 200, description = "Tests", body = Vec<TestView>)))]
pub(super) async fn tests(
    State(app): State<AppState>,
    q: Result<Query<TestsQuery>, QueryRejection>,
) -> Result<Json<Vec<TestView>>, Problem> {
    let q = query(q)?;
    let technique = q.technique.map(|t| t.trim().to_ascii_uppercase());
    let snap = app.snapshot();
    Ok(Json(
        snap.state
            .tests
            .values()
            .filter(|t| technique.as_ref().is_none_or(|x| t.techniques.contains(x)))
            .filter(|t| {
                q.platform
                    .as_ref()
                    .is_none_or(|p| t.platforms.iter().any(|x| x.eq_ignore_ascii_case(p)))
            })
            .map(|t| TestView {
                id: t.id.clone(),
                kind: t.kind.as_str(),
                techniques: t.techniques.clone(),
                name: t.name.clone(),
                platforms: t.platforms.clone(),
                executor: t.executor.clone(),
                elevation_required: t.elevation_required,
            })
            .collect(),
    ))
}
