//! The answers: coverage (now, as of an instant, per profile/platform/system), diffs between
//! two instants, a profile's backlog, Navigator layers, the CI check, and SOAR enrichment.

use std::time::Instant;

use attest_core::backlog::{BacklogOptions, ItemKind, Ownership, backlog as plan_backlog};
use attest_core::check::{CheckFailure, check as run_check};
use attest_core::coverage::{Coverage, CoverageState, compute};
use attest_core::diff::{Cause, Direction, diff as state_diff};
use attest_core::priority::{TargetSet, question_scope};
use attest_core::state::State as Projected;
use attest_formats::export::navigator::{CoverageLayerError, CoverageLayerKind, coverage_layer};
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::HeaderValue;
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{body, parse_instant, query};
use crate::enrich::{EnrichRequest, enrich};
use crate::problem::Problem;
use crate::state::AppState;
use crate::views::{ReasonView, TallyView};

/// What a coverage question is about (the CLI's `--profile/--platform/--scope`).
#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(super) struct ScopeQuery {
    /// Only the profile's target set, weighted by priority.
    profile: Option<String>,
    /// Only techniques on this platform.
    platform: Option<String>,
    /// Only telemetry from sources covering this system or segment.
    scope: Option<String>,
}

impl ScopeQuery {
    fn is_all(&self) -> bool {
        self.profile.is_none() && self.platform.is_none() && self.scope.is_none()
    }
}

/// The folded state at `at` (`None`: the served snapshot's).
async fn state_at(app: &AppState, at: Option<Timestamp>) -> Result<Option<Projected>, Problem> {
    match at {
        Some(at) => Ok(Some(
            app.store()
                .state(Some(at))
                .await
                .map_err(|e| Problem::store("fold the journal", &e))?,
        )),
        None => Ok(None),
    }
}

/// Coverage of `state` for the scope at `at`, with the profile's target set when asked.
fn scoped(
    app: &AppState,
    state: &Projected,
    scope: &ScopeQuery,
    at: Timestamp,
) -> Result<(Option<TargetSet>, Coverage), Problem> {
    let knowledge = app.knowledge();
    let (target, s) = question_scope(
        &knowledge.catalog,
        state,
        scope.profile.as_deref(),
        scope.platform.as_deref(),
        scope.scope.as_deref(),
    )
    .map_err(|e| Problem::not_found("profile-not-found", e.to_string()))?;
    Ok((target, compute(&knowledge.catalog, state, &s, at)))
}

/// A coverage answer: the served snapshot's (shared, not copied) or one computed for the
/// question.
enum Answer {
    Snapshot(std::sync::Arc<crate::state::Snapshot>),
    Computed(Box<Coverage>),
}

impl std::ops::Deref for Answer {
    type Target = Coverage;
    fn deref(&self) -> &Coverage {
        match self {
            Answer::Snapshot(s) => &s.coverage,
            Answer::Computed(c) => c,
        }
    }
}

/// The coverage question, answered from the snapshot when it can be.
async fn answer(
    app: &AppState,
    scope: &ScopeQuery,
    as_of: Option<&str>,
) -> Result<(Option<TargetSet>, Answer), Problem> {
    let at = as_of.map(|raw| parse_instant("as_of", raw)).transpose()?;
    let snap = app.snapshot();
    if at.is_none() && scope.is_all() {
        // The served snapshot already holds exactly this answer.
        return Ok((None, Answer::Snapshot(snap)));
    }
    let folded = state_at(app, at).await?;
    let state = folded.as_ref().unwrap_or(&snap.state);
    let (target, cov) = scoped(app, state, scope, at.unwrap_or(snap.coverage.at))?;
    Ok((target, Answer::Computed(Box::new(cov))))
}

/// Filters of `GET /api/v1/coverage`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(super) struct CoverageQuery {
    /// Fold the journal up to this instant (RFC 3339 or a date).
    as_of: Option<String>,
    /// Only techniques in this state.
    state: Option<String>,
    /// Only techniques of this tactic.
    tactic: Option<String>,
    /// `json` (default), `csv` or `xlsx`: the table the CLI's `coverage --format csv` and
    /// `--xlsx` write (the workbook with its summary sheet).
    format: Option<String>,
}

/// One technique's coverage.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct TechniqueRow<'a> {
    /// Technique id.
    id: String,
    /// Name.
    name: &'a str,
    /// Tactic short names.
    tactics: &'a [String],
    /// `validated`, `unvalidated`, `failing`, `degraded` or `gap`.
    state: &'static str,
    /// Why.
    reasons: Vec<ReasonView>,
    /// Rules claiming it.
    rules: Vec<&'a str>,
    /// Priority in the profile's target set (with `profile`).
    #[serde(skip_serializing_if = "Option::is_none")]
    priority: Option<f64>,
}

/// One tactic's headline.
#[derive(Debug, Serialize)]
struct TacticRow<'a> {
    tactic: &'a str,
    name: &'a str,
    tally: TallyView,
}

/// The answer of `GET /api/v1/coverage`.
#[derive(Debug, Serialize)]
struct CoverageAnswer<'a> {
    at: Timestamp,
    seq: u64,
    profile: Option<&'a str>,
    headline: TallyView,
    tactics: Vec<TacticRow<'a>>,
    techniques: Vec<TechniqueRow<'a>>,
}

/// Coverage: headline, per tactic and per technique with reasons and rules.
#[utoipa::path(get, path = "/api/v1/coverage", tag = "coverage", params(CoverageQuery, ScopeQuery),
    responses((status = 200, description = "Coverage", body = serde_json::Value),
              (status = 400, description = "A filter value is not valid", body = Problem),
              (status = 404, description = "No such profile", body = Problem)))]
pub(super) async fn coverage(
    State(app): State<AppState>,
    q: Result<Query<CoverageQuery>, QueryRejection>,
    s: Result<Query<ScopeQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    let q = query(q)?;
    let scope = query(s)?;
    let wanted_state = match q.state.as_deref() {
        Some(s) => Some(CoverageState::parse(s).ok_or_else(|| {
            Problem::bad_request(
                "invalid-state",
                format!("state: `{s}` is not a coverage state"),
            )
        })?),
        None => None,
    };
    let download = match q.format.as_deref().unwrap_or("json") {
        "json" => None,
        f @ ("csv" | "xlsx") => Some(f),
        other => {
            return Err(Problem::bad_request(
                "invalid-format",
                format!("format: `{other}` is not json, csv or xlsx"),
            ));
        }
    };
    let (target, cov) = answer(&app, &scope, q.as_of.as_deref()).await?;
    if let Some(format) = download {
        use attest_formats::export::coverage_table::{
            coverage_csv, coverage_workbook, technique_row,
        };
        let rows: Vec<Vec<String>> = cov
            .techniques
            .iter()
            .filter(|t| wanted_state.is_none_or(|s| t.state == s))
            .filter(|t| {
                q.tactic
                    .as_deref()
                    .is_none_or(|tac| t.tactics.iter().any(|x| x.eq_ignore_ascii_case(tac)))
            })
            .map(technique_row)
            .collect();
        let (content_type, name, bytes) = if format == "csv" {
            (
                "text/csv; charset=utf-8",
                "attest-coverage.csv",
                coverage_csv(&rows).into_bytes(),
            )
        } else {
            let bytes = coverage_workbook(&cov, &rows).map_err(|e| {
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "xlsx",
                    format!("writing the workbook: {e}"),
                )
            })?;
            (
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "attest-coverage.xlsx",
                bytes,
            )
        };
        return Ok((
            [
                (CONTENT_TYPE, content_type.to_string()),
                (
                    CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}\""),
                ),
            ],
            bytes,
        )
            .into_response());
    }
    let priority = |id| {
        target
            .as_ref()
            .and_then(|t| t.techniques.iter().find(|tt| tt.technique == id))
            .map(|tt| tt.score)
    };
    let rows: Vec<TechniqueRow<'_>> = cov
        .techniques
        .iter()
        .filter(|t| wanted_state.is_none_or(|s| t.state == s))
        .filter(|t| {
            q.tactic
                .as_deref()
                .is_none_or(|tac| t.tactics.iter().any(|x| x.eq_ignore_ascii_case(tac)))
        })
        .map(|t| TechniqueRow {
            id: t.technique.to_string(),
            name: &t.name,
            tactics: &t.tactics,
            state: t.state.as_str(),
            reasons: t.reasons.iter().map(ReasonView::of).collect(),
            rules: t.rules.iter().map(|r| r.rule.0.as_str()).collect(),
            priority: priority(t.technique),
        })
        .collect();
    let tactics = cov
        .tactics
        .iter()
        .map(|t| TacticRow {
            tactic: &t.tactic.shortname,
            name: &t.tactic.name,
            tally: TallyView::of(&t.tally),
        })
        .collect();
    // Serialized straight from the rows: a `serde_json::Value` tree of every technique would
    // cost more than computing the answer.
    Ok(Json(CoverageAnswer {
        at: cov.at,
        seq: cov.seq,
        profile: scope.profile.as_deref(),
        headline: TallyView::of(&cov.overall),
        tactics,
        techniques: rows,
    })
    .into_response())
}

/// The two instants of a diff.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct DiffQuery {
    /// From this instant (RFC 3339 or a date).
    from: String,
    /// To this instant (default now).
    to: Option<String>,
}

/// One technique whose state changed.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ChangeView {
    /// Technique id.
    technique: String,
    /// State before (absent: not in scope then).
    from: Option<&'static str>,
    /// State after (absent: not in scope any more).
    to: Option<&'static str>,
    /// `better` or `worse`.
    direction: &'static str,
    /// What caused it: the journal entries (with their position) and elapsed-time causes.
    causes: Vec<CauseView>,
}

/// A cause of a change.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct CauseView {
    /// The journal entry's position, when the cause is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<u64>,
    /// In words: what happened, who did it, when and why.
    text: String,
}

/// The changes between two instants.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct DiffView {
    /// From.
    from: Timestamp,
    /// To.
    to: Timestamp,
    /// Techniques that got worse.
    worse: usize,
    /// Techniques that got better.
    better: usize,
    /// Every change, by technique.
    changes: Vec<ChangeView>,
}

/// Techniques whose state changed between two instants, with the journal entries behind them.
#[utoipa::path(get, path = "/api/v1/diff", tag = "coverage", params(DiffQuery, ScopeQuery),
    responses((status = 200, description = "The changes", body = DiffView),
              (status = 400, description = "Bad instants, or from after to", body = Problem)))]
pub(super) async fn diff(
    State(app): State<AppState>,
    q: Result<Query<DiffQuery>, QueryRejection>,
    s: Result<Query<ScopeQuery>, QueryRejection>,
) -> Result<Json<DiffView>, Problem> {
    let q = query(q)?;
    let scope = query(s)?;
    let from = parse_instant("from", &q.from)?;
    let to = match &q.to {
        Some(t) => parse_instant("to", t)?,
        None => Timestamp::now(),
    };
    if from > to {
        return Err(Problem::bad_request(
            "invalid-range",
            format!("from {from} is after to {to}"),
        ));
    }
    let store = app.store();
    let before_state = store
        .state(Some(from))
        .await
        .map_err(|e| Problem::store("fold the journal", &e))?;
    let after_state = store
        .state(Some(to))
        .await
        .map_err(|e| Problem::store("fold the journal", &e))?;
    let entries = store
        .journal(&attest_store::JournalQuery {
            as_of: Some(to),
            ..Default::default()
        })
        .await
        .map_err(|e| Problem::store("read the journal", &e))?;
    let (_, before) = scoped(&app, &before_state, &scope, from)?;
    let (_, after) = scoped(&app, &after_state, &scope, to)?;
    let changes: Vec<ChangeView> = state_diff(&before, &after, &entries)
        .iter()
        .map(|c| ChangeView {
            technique: c.technique.to_string(),
            from: c.from.map(|s| s.as_str()),
            to: c.to.map(|s| s.as_str()),
            direction: match c.direction {
                Direction::Better => "better",
                Direction::Worse => "worse",
            },
            causes: c
                .causes
                .iter()
                .map(|cause| CauseView {
                    seq: match cause {
                        Cause::Entry { seq, .. } => Some(*seq),
                        _ => None,
                    },
                    text: cause.to_string(),
                })
                .collect(),
        })
        .collect();
    let worse = changes.iter().filter(|c| c.direction == "worse").count();
    Ok(Json(DiffView {
        from,
        to,
        worse,
        better: changes.len() - worse,
        changes,
    }))
}

/// Whose backlog.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct BacklogQuery {
    /// The profile whose target set is the backlog's scope.
    profile: String,
    /// Passes expiring within this many days appear as due re-validations (default 14).
    due_days: Option<i64>,
}

/// A backlog item.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct BacklogItemView {
    /// Stable id (profile + technique).
    id: String,
    /// `gap` (not validated) or `due` (re-validation due).
    kind: &'static str,
    /// With `due`: when the pass goes stale.
    #[serde(skip_serializing_if = "Option::is_none")]
    expires: Option<Timestamp>,
    /// Technique id.
    technique: String,
    /// Name.
    name: String,
    /// Priority score.
    priority: f64,
    /// Tier.
    tier: String,
    /// Owner.
    owner: Option<String>,
    /// Coverage state.
    state: &'static str,
    /// Why.
    reasons: Vec<ReasonView>,
    /// Next steps, in words.
    next: Vec<String>,
}

/// A profile's gaps as work items with owners and next steps; due re-validations.
#[utoipa::path(get, path = "/api/v1/backlog", tag = "coverage", params(BacklogQuery),
    responses((status = 200, description = "Backlog items, highest priority first", body = Vec<BacklogItemView>),
              (status = 404, description = "No such profile", body = Problem)))]
pub(super) async fn backlog(
    State(app): State<AppState>,
    q: Result<Query<BacklogQuery>, QueryRejection>,
) -> Result<Json<Vec<BacklogItemView>>, Problem> {
    let q = query(q)?;
    backlog_with(&app, &q, &Ownership::default())
}

/// A profile's backlog with technique-cluster owners from an ownership file (the body; the
/// CLI's `attest backlog --owners FILE`). Reads only.
#[utoipa::path(post, path = "/api/v1/backlog", tag = "coverage", params(BacklogQuery),
    request_body(content = String, description = "A technique-cluster ownership file (YAML)",
                 content_type = "application/yaml"),
    responses((status = 200, description = "Backlog items, highest priority first", body = Vec<BacklogItemView>),
              (status = 404, description = "No such profile", body = Problem),
              (status = 422, description = "Invalid ownership file, naming the line", body = Problem)))]
pub(super) async fn backlog_owned(
    State(app): State<AppState>,
    q: Result<Query<BacklogQuery>, QueryRejection>,
    body_in: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<Vec<BacklogItemView>>, Problem> {
    let q = query(q)?;
    let bytes = super::upload::bytes(body_in)?;
    let (map, diags) = attest_formats::import::ownership::read_ownership(attest_formats::Input {
        path: "owners.yaml",
        bytes: &bytes,
    });
    super::upload::check("invalid-ownership", &diags)?;
    let Some(map) = map else {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-ownership",
            "the body holds no ownership map",
        ));
    };
    backlog_with(&app, &q, &map.to_core())
}

fn backlog_with(
    app: &AppState,
    q: &BacklogQuery,
    ownership: &Ownership,
) -> Result<Json<Vec<BacklogItemView>>, Problem> {
    let snap = app.snapshot();
    let scope = ScopeQuery {
        profile: Some(q.profile.clone()),
        ..ScopeQuery::default()
    };
    let at = snap.coverage.at;
    let (target, cov) = scoped(app, &snap.state, &scope, at)?;
    let Some(target) = target else {
        return Err(Problem::not_found(
            "profile-not-found",
            format!("no profile `{}`", q.profile),
        ));
    };
    let options = BacklogOptions {
        due_within: jiff::SignedDuration::from_hours(24 * q.due_days.unwrap_or(14).clamp(0, 3650)),
    };
    let items = plan_backlog(
        snap.catalog(),
        &snap.state,
        &target,
        &cov,
        ownership,
        &options,
        at,
    );
    Ok(Json(
        items
            .iter()
            .map(|i| BacklogItemView {
                id: i.id.clone(),
                kind: match i.kind {
                    ItemKind::NotValidated => "gap",
                    ItemKind::Due { .. } => "due",
                },
                expires: match i.kind {
                    ItemKind::Due { expires } => Some(expires),
                    ItemKind::NotValidated => None,
                },
                technique: i.technique.to_string(),
                name: i.name.clone(),
                priority: i.priority,
                tier: i.tier.clone(),
                owner: i.owner.clone(),
                state: i.state.as_str(),
                reasons: i.reasons.iter().map(ReasonView::of).collect(),
                next: i.next.iter().map(ToString::to_string).collect(),
            })
            .collect(),
    ))
}

/// Options of a layer.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(super) struct LayerQuery {
    /// For `actor`: the ATT&CK group (id, name or alias).
    actor: Option<String>,
    /// As of this instant.
    as_of: Option<String>,
}

/// An ATT&CK Navigator 4.5 layer: `state` (coverage colours), `priority` (a profile's
/// uncovered priority techniques; needs `profile`) or `actor` (an overlay; needs `actor`).
#[utoipa::path(get, path = "/api/v1/layers/{kind}", tag = "coverage",
    params(("kind" = String, Path, description = "state, priority or actor"), LayerQuery, ScopeQuery),
    responses((status = 200, description = "The layer (a download)", body = serde_json::Value),
              (status = 400, description = "Unknown kind, or a missing profile/actor", body = Problem),
              (status = 404, description = "No such profile or actor", body = Problem)))]
pub(super) async fn layer(
    State(app): State<AppState>,
    Path(kind): Path<String>,
    q: Result<Query<LayerQuery>, QueryRejection>,
    s: Result<Query<ScopeQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    let q = query(q)?;
    let scope = query(s)?;
    let kind = CoverageLayerKind::parse(&kind, q.actor.as_deref()).map_err(layer_problem)?;
    let (target, cov) = answer(&app, &scope, q.as_of.as_deref()).await?;
    let json = coverage_layer(
        &app.knowledge().kb,
        &cov,
        target.as_ref(),
        kind,
        scope.platform.as_deref(),
    )
    .map_err(layer_problem)?;
    let mut response = ([(CONTENT_TYPE, "application/json")], json).into_response();
    let file = format!("attest-{}-layer.json", layer_name(kind));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        response.headers_mut().insert(CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

fn layer_name(kind: CoverageLayerKind<'_>) -> &'static str {
    match kind {
        CoverageLayerKind::State => "state",
        CoverageLayerKind::Priority => "priority",
        CoverageLayerKind::Actor(_) => "actor",
    }
}

fn layer_problem(e: CoverageLayerError) -> Problem {
    match e {
        CoverageLayerError::UnknownActor(_) => Problem::not_found("actor-not-found", e.to_string()),
        CoverageLayerError::Invalid(_) => Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "invalid-layer",
            e.to_string(),
        ),
        _ => Problem::bad_request("invalid-layer-request", e.to_string()),
    }
}

/// The bars of a check.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(super) struct CheckQuery {
    /// Fail when a technique is worse than it was at this instant.
    baseline: Option<String>,
    /// Fail when the validated share (priority-weighted with a profile) is below this percent.
    min_validated: Option<f64>,
}

/// A baseline document, as `attest check --write-baseline` writes it.
#[derive(Debug, Deserialize, ToSchema)]
pub(super) struct BaselineDocument {
    /// Technique id → coverage state.
    states: std::collections::BTreeMap<String, String>,
}

/// A check failure.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct FailureView {
    /// `below-minimum` or `regressed`.
    kind: &'static str,
    /// With `regressed`: the technique.
    #[serde(skip_serializing_if = "Option::is_none")]
    technique: Option<String>,
    /// With `regressed`: the state in the baseline and now.
    #[serde(skip_serializing_if = "Option::is_none")]
    was: Option<&'static str>,
    /// With `regressed`: the state now.
    #[serde(skip_serializing_if = "Option::is_none")]
    now: Option<&'static str>,
    /// In words.
    text: String,
}

/// The verdict of a check.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct CheckView {
    /// `pass` or `fail`.
    verdict: &'static str,
    /// Validated share now, in percent.
    validated_share: f64,
    /// Techniques counted.
    techniques: usize,
    /// The profile, when the check is for one.
    profile: Option<String>,
    /// What failed.
    failures: Vec<FailureView>,
}

async fn verdict(
    app: &AppState,
    scope: &ScopeQuery,
    baseline: Vec<(String, CoverageState)>,
    min_validated: Option<f64>,
) -> Result<CheckView, Problem> {
    let (_, current) = answer(app, scope, None).await?;
    let outcome = run_check(&current, &baseline, min_validated);
    Ok(CheckView {
        verdict: if outcome.passed() { "pass" } else { "fail" },
        validated_share: outcome.validated_share,
        techniques: outcome.total,
        profile: scope.profile.clone(),
        failures: outcome
            .failures
            .iter()
            .map(|f| match f {
                CheckFailure::BelowMinimum { .. } => FailureView {
                    kind: "below-minimum",
                    technique: None,
                    was: None,
                    now: None,
                    text: f.to_string(),
                },
                CheckFailure::Regressed {
                    technique,
                    was,
                    now,
                    ..
                } => FailureView {
                    kind: "regressed",
                    technique: Some(technique.to_string()),
                    was: Some(was.as_str()),
                    now: Some(now.as_str()),
                    text: f.to_string(),
                },
            })
            .collect(),
    })
}

/// The CI gate: `fail` when a technique regressed against the baseline instant or the
/// validated share is below `min_validated` (the CLI's `attest check`, exit 1 ↔ `fail`).
#[utoipa::path(get, path = "/api/v1/check", tag = "coverage", params(CheckQuery, ScopeQuery),
    responses((status = 200, description = "The verdict", body = CheckView),
              (status = 400, description = "A bad instant or bar", body = Problem)))]
pub(super) async fn check(
    State(app): State<AppState>,
    q: Result<Query<CheckQuery>, QueryRejection>,
    s: Result<Query<ScopeQuery>, QueryRejection>,
) -> Result<Json<CheckView>, Problem> {
    let q = query(q)?;
    let scope = query(s)?;
    let baseline = match &q.baseline {
        Some(raw) => {
            let at = parse_instant("baseline", raw)?;
            let snap = app.snapshot();
            let then = state_at(&app, Some(at)).await?;
            let state = then.as_ref().unwrap_or(&snap.state);
            let (_, cov) = scoped(&app, state, &scope, at)?;
            cov.techniques
                .iter()
                .map(|t| (t.technique.to_string(), t.state))
                .collect()
        }
        None => Vec::new(),
    };
    Ok(Json(
        verdict(&app, &scope, baseline, q.min_validated).await?,
    ))
}

/// The CI gate against a baseline document (`attest check --write-baseline`'s file) in the body.
#[utoipa::path(post, path = "/api/v1/check", tag = "coverage", params(CheckQuery, ScopeQuery),
    request_body = BaselineDocument,
    responses((status = 200, description = "The verdict", body = CheckView),
              (status = 400, description = "Not a baseline document; names the technique", body = Problem)))]
pub(super) async fn check_baseline(
    State(app): State<AppState>,
    q: Result<Query<CheckQuery>, QueryRejection>,
    s: Result<Query<ScopeQuery>, QueryRejection>,
    b: Result<Json<BaselineDocument>, JsonRejection>,
) -> Result<Json<CheckView>, Problem> {
    let q = query(q)?;
    let scope = query(s)?;
    let doc = body(b)?;
    let mut baseline = Vec::with_capacity(doc.states.len());
    for (id, state) in doc.states {
        let s = CoverageState::parse(&state).ok_or_else(|| {
            Problem::bad_request(
                "invalid-baseline",
                format!("states.{id}: `{state}` is not a coverage state"),
            )
        })?;
        baseline.push((id, s));
    }
    Ok(Json(
        verdict(&app, &scope, baseline, q.min_validated).await?,
    ))
}

/// `GET /api/v1/enrich?technique=T1003.001,T1059&platform=Windows` for simple callers.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(super) struct EnrichQuery {
    /// Technique ids, comma-separated.
    technique: Option<String>,
    /// Raw tags (`attack.t1003.001`), comma-separated.
    tag: Option<String>,
    /// A rule id from any imported origin.
    rule_id: Option<String>,
    /// A rule title (case-insensitive).
    rule_name: Option<String>,
    /// The alert's platform.
    platform: Option<String>,
    /// A profile name.
    profile: Option<String>,
}

fn split(v: Option<String>) -> Vec<String> {
    v.map(|s| {
        s.split(',')
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(str::to_string)
            .collect()
    })
    .unwrap_or_default()
}

/// SOAR enrichment for simple callers: the same answer as the POST form.
#[utoipa::path(get, path = "/api/v1/enrich", tag = "coverage", params(EnrichQuery),
    responses((status = 200, description = "Per technique: knowledge, detection strategies for the platform, procedures, groups, software, mitigations, related techniques and our coverage", body = serde_json::Value),
              (status = 400, description = "Nothing to enrich", body = Problem)))]
pub(super) async fn enrich_get(
    State(app): State<AppState>,
    q: Result<Query<EnrichQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    let q = query(q)?;
    let req = EnrichRequest {
        rule_id: q.rule_id,
        rule_name: q.rule_name,
        techniques: split(q.technique),
        tags: split(q.tag),
        platform: q.platform,
        profile: q.profile,
    };
    answer_enrich(&app, &req)
}

/// SOAR enrichment: an alert as a SOAR sends it (any subset of rule id or name, technique ids,
/// raw tags, platform, profile), answered from in-memory indexes. A viewer may call it.
#[utoipa::path(post, path = "/api/v1/enrich", tag = "coverage", request_body = EnrichRequest,
    responses((status = 200, description = "The enrichment (server time in `Server-Timing`)", body = serde_json::Value),
              (status = 400, description = "Bad body, or nothing to enrich", body = Problem)))]
pub(super) async fn enrich_post(
    State(app): State<AppState>,
    b: Result<Json<EnrichRequest>, JsonRejection>,
) -> Result<Response, Problem> {
    let req = body(b)?;
    answer_enrich(&app, &req)
}

/// The runbook library: every runbook with its techniques and steps, and each file's problems
/// (a broken file, or a broken edit whose last good version is still used, and warnings such
/// as technique ids unknown to the loaded ATT&CK release).
#[utoipa::path(get, path = "/api/v1/runbooks", tag = "coverage",
    responses((status = 200, description = "The runbooks the server offers in enrichment (empty without `--runbooks`)", body = crate::runbooks::RunbookListing)))]
pub(super) async fn runbooks(State(app): State<AppState>) -> Json<crate::runbooks::RunbookListing> {
    Json(app.runbooks().listing())
}

/// Answers an enrichment, with the server-side time in a `Server-Timing` header.
fn answer_enrich(app: &AppState, req: &EnrichRequest) -> Result<Response, Problem> {
    let start = Instant::now();
    if req.rule_id.is_none()
        && req.rule_name.is_none()
        && req.techniques.is_empty()
        && req.tags.is_empty()
    {
        return Err(Problem::bad_request(
            "empty-alert",
            "give at least one of rule_id, rule_name, techniques, tags",
        ));
    }
    // Guards, not clones: every core answers alerts at once, and a shared reference count
    // would bounce between them on every request.
    let snap = app.snapshot_now();
    let runbooks = app.runbooks_now();
    let answer = enrich(app.enrich_sources(&snap, &runbooks), req)
        .map_err(|e| Problem::not_found("profile-not-found", e.to_string()))?;
    // The stored parts of the answer are sent as they are, not copied into one buffer.
    let parts = answer.segments().map_err(|e| {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "serialization",
            e.to_string(),
        )
    })?;
    let body = axum::body::Body::new(crate::enrich::SegmentedBody::new(parts));
    let millis = start.elapsed().as_secs_f64() * 1000.0;
    let mut response = ([(CONTENT_TYPE, "application/json")], body).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("enrich;dur={millis:.3}")) {
        response.headers_mut().insert("server-timing", v);
    }
    Ok(response)
}

/// Which profile an exercise plan is for.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(super) struct PlanQuery {
    /// The profile.
    profile: String,
    /// Platform the exercise runs on (default: the profile's first, else windows).
    platform: Option<String>,
}

/// A data component a planned technique needs on the platform.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct PlanSourceView {
    /// The ATT&CK data component.
    component: String,
    /// Usable sources providing it (empty: missing).
    provided_by: Vec<String>,
}

/// A test to run.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct PlanTestView {
    /// Test id.
    id: String,
    /// Name.
    name: String,
}

/// One technique of an exercise plan.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct PlanItemView {
    technique: String,
    name: String,
    /// Priority score.
    priority: f64,
    /// Coverage state.
    state: &'static str,
    /// Tests of the catalogue on the platform.
    tests: Vec<PlanTestView>,
    /// Rules expected to fire.
    rules_expected: Vec<String>,
    /// Telemetry needed on the platform.
    data_sources: Vec<PlanSourceView>,
}

/// An exercise plan.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct PlanView {
    /// The profile.
    profile: String,
    /// The platform.
    platform: String,
    /// Priority techniques not validated, highest priority first.
    items: Vec<PlanItemView>,
}

/// An exercise plan (`attest plan`): for a profile's priority techniques that are not
/// validated, the catalogue's tests on the platform, the rules expected to fire and the
/// telemetry they need.
#[utoipa::path(get, path = "/api/v1/plan", tag = "coverage", params(PlanQuery),
    responses((status = 200, description = "The plan", body = PlanView),
              (status = 404, description = "No such profile", body = Problem)))]
pub(super) async fn plan(
    State(app): State<AppState>,
    q: Result<Query<PlanQuery>, QueryRejection>,
) -> Result<Json<PlanView>, Problem> {
    let q = query(q)?;
    let snap = app.snapshot();
    let scope = ScopeQuery {
        profile: Some(q.profile.clone()),
        ..ScopeQuery::default()
    };
    let (target, cov) = scoped(&app, &snap.state, &scope, snap.coverage.at)?;
    let Some(target) = target else {
        return Err(Problem::not_found(
            "profile-not-found",
            format!("no profile `{}`", q.profile),
        ));
    };
    let platform = attest_core::backlog::plan_platform(&target, q.platform.as_deref());
    let items = attest_core::backlog::exercise_plan(&snap.state, &target, &cov, &platform)
        .into_iter()
        .map(|i| PlanItemView {
            technique: i.technique.to_string(),
            name: i.name,
            priority: i.priority,
            state: i.state.as_str(),
            tests: i
                .tests
                .into_iter()
                .map(|(id, name)| PlanTestView { id, name })
                .collect(),
            rules_expected: i.rules.into_iter().map(|r| r.0).collect(),
            data_sources: i
                .data_sources
                .into_iter()
                .map(|(component, provided_by)| PlanSourceView {
                    component,
                    provided_by,
                })
                .collect(),
        })
        .collect();
    Ok(Json(PlanView {
        profile: q.profile,
        platform,
        items,
    }))
}

/// A trend question.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(super) struct TrendQuery {
    /// Only the profile's target set.
    profile: Option<String>,
    /// Only techniques on this platform.
    platform: Option<String>,
    /// Only telemetry from sources covering this system or segment.
    scope: Option<String>,
    /// Distance between points: day, week (default), month, or a span such as 12h.
    every: Option<String>,
    /// First point (default: the first journal entry).
    from: Option<String>,
    /// Last point (default now).
    to: Option<String>,
    /// `json` (default), `csv` (the columns of `attest trend --format csv`) or `svg` (the chart
    /// of `attest trend --svg`).
    format: Option<String>,
}

/// A technique worse than at the previous point.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct TrendRegressionView {
    technique: String,
    name: String,
    /// State at the previous point (absent: not in scope then).
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<&'static str>,
    to: &'static str,
}

/// Coverage at one instant.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct TrendPointView {
    at: Timestamp,
    /// Counts per state (absent when the scope did not exist yet).
    #[serde(skip_serializing_if = "Option::is_none")]
    tally: Option<TallyView>,
    /// Share of the scope's weight validated (0..=1).
    #[serde(skip_serializing_if = "Option::is_none")]
    validated_share: Option<f64>,
    regressions: Vec<TrendRegressionView>,
    /// Techniques better than at the previous point.
    improvements: usize,
}

/// A trend.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct TrendView {
    /// The profile, or `all`.
    series: String,
    every: String,
    points: Vec<TrendPointView>,
}

/// The validated share over time with the regressions between points (`attest trend`), from
/// one fold of the journal (`attest_core::trend::series`, as the CLI and the dashboard).
#[utoipa::path(get, path = "/api/v1/trend", tag = "coverage", params(TrendQuery),
    responses((status = 200, description = "The points (JSON; CSV with format=csv; the SVG chart with format=svg)", body = TrendView),
              (status = 400, description = "A bad interval or instant, or too many points", body = Problem),
              (status = 404, description = "No such profile", body = Problem)))]
pub(super) async fn trend(
    State(app): State<AppState>,
    q: Result<Query<TrendQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    use attest_core::trend::{Interval, instants, series};
    let q = query(q)?;
    let every_raw = q.every.clone().unwrap_or_else(|| "week".to_string());
    let every = Interval::parse(&every_raw).ok_or_else(|| {
        Problem::bad_request(
            "invalid-interval",
            format!("every: `{every_raw}` is not day, week, month or a positive span such as 12h"),
        )
    })?;
    let format = q.format.clone().unwrap_or_else(|| "json".to_string());
    if !matches!(format.as_str(), "json" | "csv" | "svg") {
        return Err(Problem::bad_request(
            "invalid-format",
            format!("format: `{format}` is not json, csv or svg"),
        ));
    }
    let to = match &q.to {
        Some(raw) => parse_instant("to", raw)?,
        None => Timestamp::now(),
    };
    let entries = app
        .store()
        .journal(&attest_store::JournalQuery {
            as_of: Some(to),
            ..Default::default()
        })
        .await
        .map_err(|e| Problem::store("read the journal", &e))?;
    let from = match &q.from {
        Some(raw) => parse_instant("from", raw)?,
        None => match entries.first() {
            Some(e) => e.at,
            None => {
                return Err(Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "empty-journal",
                    "the journal is empty: nothing has happened to chart yet",
                ));
            }
        },
    };
    let points = instants(from, to, every)
        .map_err(|e| Problem::bad_request("invalid-trend", e.to_string()))?;
    let scope = ScopeQuery {
        profile: q.profile.clone(),
        platform: q.platform.clone(),
        scope: q.scope.clone(),
    };
    // The scope must exist at the end; before that a missing profile is a point without data.
    let final_state = Projected::from_journal(&entries);
    let knowledge = app.knowledge();
    question_scope(
        &knowledge.catalog,
        &final_state,
        scope.profile.as_deref(),
        scope.platform.as_deref(),
        scope.scope.as_deref(),
    )
    .map_err(|e| Problem::not_found("profile-not-found", e.to_string()))?;
    let got = tokio::task::spawn_blocking(move || {
        let catalog = &knowledge.catalog;
        series(catalog, &entries, &points, |state| {
            question_scope(
                catalog,
                state,
                scope.profile.as_deref(),
                scope.platform.as_deref(),
                scope.scope.as_deref(),
            )
            .ok()
            .map(|(_, s)| s)
        })
    })
    .await
    .map_err(|e| {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "trend-panicked",
            e.to_string(),
        )
    })?;
    let name = q.profile.clone().unwrap_or_else(|| "all".to_string());
    let lines = [attest_formats::export::trend::TrendSeries {
        name: &name,
        points: &got,
    }];
    if format == "svg" {
        let title =
            attest_formats::export::trend::trend_title(q.profile.as_deref(), q.platform.as_deref());
        let svg = attest_formats::export::trend::trend_svg(&title, &lines).map_err(|e| {
            Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "no-chart", e.to_string())
        })?;
        return Ok(([(CONTENT_TYPE, "image/svg+xml")], svg).into_response());
    }
    if format == "csv" {
        let mut out = Vec::new();
        attest_formats::export::trend::trend_csv(&lines, &mut out).map_err(|e| {
            Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "export-failed",
                e.to_string(),
            )
        })?;
        return Ok(([(CONTENT_TYPE, "text/csv; charset=utf-8")], out).into_response());
    }
    let points = got
        .iter()
        .map(|p| TrendPointView {
            at: p.at,
            tally: p.tally.as_ref().map(TallyView::of),
            validated_share: p.validated_share(),
            regressions: p
                .regressions
                .iter()
                .map(|r| TrendRegressionView {
                    technique: r.technique.to_string(),
                    name: r.name.clone(),
                    from: r.from.map(CoverageState::as_str),
                    to: r.to.as_str(),
                })
                .collect(),
            improvements: p.improvements,
        })
        .collect();
    Ok(Json(TrendView {
        series: name,
        every: every.as_string(),
        points,
    })
    .into_response())
}

/// The SIEM lookup table (`attest coverage lookup`): rule id → techniques, tactics, data
/// sources, validation status, last tested, as CSV.
#[utoipa::path(get, path = "/api/v1/coverage/lookup", tag = "coverage",
    responses((status = 200, description = "The lookup table", body = String, content_type = "text/csv")))]
pub(super) async fn lookup(State(app): State<AppState>) -> Response {
    let snap = app.snapshot();
    let rows =
        attest_formats::export::lookup::lookup_rows(snap.catalog(), &snap.state, snap.coverage.at);
    (
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"attest-lookup.csv\""),
            ),
        ],
        attest_formats::export::lookup::lookup_csv(&rows),
    )
        .into_response()
}

/// A claimed technique against the evidence.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ClaimView {
    /// As the layer wrote it.
    technique: String,
    /// Its name (absent when not an active technique of the loaded release).
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    /// Its state now, or `unknown`.
    state: &'static str,
    /// Why.
    reasons: Vec<ReasonView>,
}

/// Claims against evidence.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ClaimsView {
    /// The layer's name.
    layer: String,
    /// Techniques claimed (each once).
    claimed: usize,
    /// Of which the evidence does not back.
    not_validated: usize,
    /// Each claim.
    techniques: Vec<ClaimView>,
}

/// The "green map problem" (`attest coverage claimed-vs-validated`): the techniques a Navigator
/// layer (4.x) claims by score or colour, against what the evidence says. Reads only.
#[utoipa::path(post, path = "/api/v1/coverage/claimed", tag = "coverage",
    request_body(content = String, description = "A Navigator layer", content_type = "application/json"),
    responses((status = 200, description = "Each claim with its state", body = ClaimsView),
              (status = 422, description = "Not a readable layer", body = Problem)))]
pub(super) async fn claimed(
    State(app): State<AppState>,
    body_in: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<ClaimsView>, Problem> {
    let bytes = super::upload::bytes(body_in)?;
    let (claims, diags) =
        attest_formats::import::navigator::read_layer_claims(attest_formats::Input {
            path: "layer.json",
            bytes: &bytes,
        });
    let Some(claims) = claims else {
        let why: Vec<String> = diags.iter().map(ToString::to_string).collect();
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-layer",
            format!("not a readable Navigator layer: {}", why.join("; ")),
        ));
    };
    let snap = app.snapshot();
    let checks = attest_core::check::check_claims(
        claims.techniques.iter().map(|c| c.technique.as_str()),
        &snap.coverage,
    );
    let not_validated = checks.iter().filter(|c| !c.is_validated()).count();
    let techniques = checks
        .iter()
        .map(|c| ClaimView {
            technique: c.claimed.clone(),
            name: c.coverage.map(|t| t.name.clone()),
            state: c.coverage.map_or("unknown", |t| t.state.as_str()),
            reasons: c
                .coverage
                .map(|t| t.reasons.iter().map(ReasonView::of).collect())
                .unwrap_or_default(),
        })
        .collect();
    Ok(Json(ClaimsView {
        layer: claims.name,
        claimed: checks.len(),
        not_validated,
        techniques,
    }))
}
