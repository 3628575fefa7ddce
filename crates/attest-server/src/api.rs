//! The routes: health, metrics, and the JSON API under `/api/v1`.

use std::time::{Duration, Instant};

use attest_attack::TechniqueId;
use attest_core::coverage::{self, CoverageState, Scope};
use attest_core::journal::Event;
use attest_core::result::{Evidence, Outcome, ValidationResult};
use attest_core::rule::{RuleFormat, RuleId, RuleStatus};
use attest_core::source::Health;
use attest_store::{NewEntry, RuleFilter};
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, MatchedPath, Path, Query, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use tower_http::timeout::TimeoutLayer;

use crate::auth::{Principal, Role};
use crate::enrich::{EnrichRequest, enrich};
use crate::metrics::Gauge;
use crate::problem::{Problem, from_json_rejection, from_query_rejection};
use crate::state::{AppState, AuthMode};
use crate::views::{ReasonView, ResultView, RuleView, SourceView, TallyView};

/// Request limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body accepted, in bytes.
    pub body_bytes: usize,
    /// Longest a request may take before it is answered 408.
    pub timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            body_bytes: 4 * 1024 * 1024,
            timeout: Duration::from_secs(30),
        }
    }
}

/// The application's routes with default [`Limits`].
pub fn router(app: AppState) -> Router {
    router_with(app, Limits::default())
}

/// The application's routes.
pub fn router_with(app: AppState, limits: Limits) -> Router {
    let api = Router::new()
        .route("/api/v1/techniques/{id}", get(technique))
        .route("/api/v1/rules", get(rules))
        .route("/api/v1/rules/{id}", get(rule))
        .route("/api/v1/sources", get(sources))
        .route("/api/v1/sources/{name}/heartbeat", post(heartbeat))
        .route("/api/v1/results", post(results))
        .route("/api/v1/coverage", get(coverage_route))
        .route("/api/v1/enrich", get(enrich_get).post(enrich_post))
        .route_layer(middleware::from_fn_with_state(app.clone(), authenticate));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .merge(api)
        .merge(crate::web::router(app.clone()))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(app.clone(), track))
        .layer(DefaultBodyLimit::max(limits.body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.timeout,
        ))
        .with_state(app)
}

/// Counts every request by route template and status, with its latency.
async fn track(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    let start = Instant::now();
    let response = next.run(req).await;
    app.inner
        .metrics
        .observe(&route, response.status().as_u16(), start.elapsed());
    response
}

/// POST routes that only read.
const READ_ONLY_POSTS: [&str; 1] = ["/api/v1/enrich"];

/// Resolves the bearer token to a [`Principal`] and enforces roles: viewers read, engineers
/// and admins also write.
async fn authenticate(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    let principal = match app.inner.auth {
        AuthMode::Disabled => Principal {
            name: "anonymous".to_string(),
            role: Role::Admin,
        },
        AuthMode::Required => {
            let token = req
                .headers()
                .get(AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| {
                    v.strip_prefix("Bearer ")
                        .or_else(|| v.strip_prefix("bearer "))
                })
                .map(str::trim);
            let Some(token) = token else {
                return unauthorized("an `Authorization: Bearer <token>` header is required");
            };
            match app.inner.tokens.verify(&app.inner.store, token).await {
                Ok(Some(p)) => p,
                Ok(None) => return unauthorized("unknown API token"),
                Err(e) => {
                    return Problem::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "store-unavailable",
                        e.to_string(),
                    )
                    .into_response();
                }
            }
        }
    };
    // Enrichment is a read that takes a body, so it is a POST a viewer may make.
    let reads_only = req
        .extensions()
        .get::<MatchedPath>()
        .is_some_and(|m| READ_ONLY_POSTS.contains(&m.as_str()));
    let writes =
        !reads_only && !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if writes && principal.role < Role::Engineer {
        return Problem::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "token `{}` has role {}; writing needs engineer or admin",
                principal.name,
                principal.role.as_str()
            ),
        )
        .into_response();
    }
    req.extensions_mut().insert(principal);
    next.run(req).await
}

fn unauthorized(detail: &str) -> Response {
    let mut r = Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", detail).into_response();
    r.headers_mut()
        .insert("www-authenticate", HeaderValue::from_static("Bearer"));
    r
}

async fn not_found(req: Request) -> Problem {
    Problem::not_found(
        "route-not-found",
        format!("no route {} {}", req.method(), req.uri().path()),
    )
}

async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}

async fn readyz(State(app): State<AppState>) -> Result<Json<serde_json::Value>, Problem> {
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

async fn metrics(State(app): State<AppState>) -> Response {
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

fn parse_technique(raw: &str) -> Result<TechniqueId, Problem> {
    TechniqueId::parse(raw.trim()).map_err(|e| {
        Problem::bad_request(
            "invalid-technique",
            format!("`{raw}` is not a technique id: {e}"),
        )
    })
}

async fn technique(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let tid = parse_technique(&id)?;
    let snap = app.snapshot();
    let req = EnrichRequest {
        techniques: vec![tid.to_string()],
        ..EnrichRequest::default()
    };
    let answer = enrich(app.enrich_index(), &snap, &req);
    match answer.techniques.into_iter().next() {
        Some(t) => Ok(Json(t).into_response()),
        None => Err(Problem::not_found(
            "technique-not-found",
            format!("no active technique {tid} in the knowledge base"),
        )),
    }
}

/// Filters of `GET /api/v1/rules`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RulesQuery {
    technique: Option<String>,
    subtechniques: bool,
    tactic: Option<String>,
    data_source: Option<String>,
    /// A format (`sigma`, `elastic`, …) or an import root.
    origin: Option<String>,
    status: Option<String>,
    owner: Option<String>,
}

async fn rules(
    State(app): State<AppState>,
    query: Result<Query<RulesQuery>, QueryRejection>,
) -> Result<Json<serde_json::Value>, Problem> {
    let Query(q) = query.map_err(from_query_rejection)?;
    let status = match q.status.as_deref() {
        Some(s) => Some(RuleStatus::parse(s).ok_or_else(|| {
            Problem::bad_request(
                "invalid-status",
                format!("`{s}` is not a rule status (enabled, disabled, retired)"),
            )
        })?),
        None => None,
    };
    let (format, root) = match q.origin.as_deref() {
        Some(o) => match RuleFormat::parse(o) {
            Some(f) => (Some(f), None),
            None => (None, Some(o.to_string())),
        },
        None => (None, None),
    };
    let filter = RuleFilter {
        technique: q.technique,
        with_subtechniques: q.subtechniques,
        tactic: q.tactic,
        data_source: q.data_source,
        format,
        root,
        status,
        owner: q.owner,
    };
    let found = app
        .store()
        .rules(&filter)
        .await
        .map_err(|e| Problem::store("list rules", &e))?;
    let views: Vec<RuleView> = found.iter().map(RuleView::of).collect();
    Ok(Json(
        serde_json::json!({"count": views.len(), "rules": views}),
    ))
}

async fn rule(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, Problem> {
    let rid = RuleId(id.clone());
    let record = app
        .store()
        .rule(&rid)
        .await
        .map_err(|e| Problem::store("read a rule", &e))?
        .ok_or_else(|| Problem::not_found("rule-not-found", format!("no rule `{id}`")))?;
    let results = app
        .store()
        .results(&rid, None)
        .await
        .map_err(|e| Problem::store("read a rule's results", &e))?;
    let snap = app.snapshot();
    let assessment = snap.coverage.rule(&rid).map(|a| {
        serde_json::json!({
            "usable": a.usable,
            "dependencies": snap.coverage.dependencies_of(a).map(|(d, s)| {
                serde_json::json!({"dependency": d.to_string(), "met": s.is_satisfied()})
            }).collect::<Vec<_>>(),
        })
    });
    Ok(Json(serde_json::json!({
        "rule": RuleView::of(&record),
        "assessment": assessment,
        "results": results.iter().map(ResultView::of).collect::<Vec<_>>(),
    })))
}

async fn sources(State(app): State<AppState>) -> Result<Json<serde_json::Value>, Problem> {
    let found = app
        .store()
        .sources()
        .await
        .map_err(|e| Problem::store("list sources", &e))?;
    let now = Timestamp::now();
    let views: Vec<SourceView> = found.iter().map(|s| SourceView::of(s, now)).collect();
    Ok(Json(
        serde_json::json!({"count": views.len(), "sources": views}),
    ))
}

async fn heartbeat(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
) -> Result<Json<serde_json::Value>, Problem> {
    let known = app
        .store()
        .source(&name)
        .await
        .map_err(|e| Problem::store("read a source", &e))?;
    if known.is_none() {
        return Err(Problem::not_found(
            "source-not-found",
            format!("no inventory source `{name}`"),
        ));
    }
    let at = Timestamp::now();
    let event = Event::SourceSeen {
        name: name.clone(),
        at,
    };
    let outcome = app
        .store()
        .append(vec![NewEntry::new(who.name, at, event)])
        .await
        .map_err(|e| Problem::store("journal a heartbeat", &e))?;
    refresh_after_write(&app).await;
    Ok(Json(
        serde_json::json!({"source": name, "last_seen": at, "seq": outcome.last_seq}),
    ))
}

/// A result as a validation pipeline posts it.
#[derive(Debug, Deserialize)]
struct ResultInput {
    rule: String,
    technique: String,
    #[serde(default)]
    test: Option<String>,
    outcome: String,
    #[serde(default)]
    at: Option<Timestamp>,
    #[serde(default)]
    by: Option<String>,
    #[serde(default)]
    evidence: Option<EvidenceInput>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct EvidenceInput {
    text: Option<String>,
    url: Option<String>,
    event_ids: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    Many(Vec<ResultInput>),
    One(Box<ResultInput>),
}

async fn results(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
    body: Result<Json<OneOrMany>, JsonRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), Problem> {
    let Json(body) = body.map_err(from_json_rejection)?;
    let inputs = match body {
        OneOrMany::Many(v) => v,
        OneOrMany::One(r) => vec![*r],
    };
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
    refresh_after_write(&app).await;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({
            "recorded": count,
            "first_seq": outcome.first_seq,
            "last_seq": outcome.last_seq,
        })),
    ))
}

/// Makes a write visible to the next read through this server: the caller waits for the
/// recomputation rather than reading stale coverage.
async fn refresh_after_write(app: &AppState) {
    if let Err(error) = app.refresh(false).await {
        tracing::warn!(%error, "snapshot refresh after a write failed");
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CoverageQuery {
    as_of: Option<String>,
    state: Option<String>,
    tactic: Option<String>,
}

#[derive(Debug, Serialize)]
struct TechniqueRow<'a> {
    id: String,
    name: &'a str,
    tactics: &'a [String],
    state: &'static str,
    reasons: Vec<ReasonView>,
    rules: Vec<&'a str>,
}

async fn coverage_route(
    State(app): State<AppState>,
    query: Result<Query<CoverageQuery>, QueryRejection>,
) -> Result<Json<serde_json::Value>, Problem> {
    let Query(q) = query.map_err(from_query_rejection)?;
    let wanted_state = match q.state.as_deref() {
        Some(s) => Some(CoverageState::parse(s).ok_or_else(|| {
            Problem::bad_request("invalid-state", format!("`{s}` is not a coverage state"))
        })?),
        None => None,
    };
    let owned;
    let snap = app.snapshot();
    let cov = match q.as_of.as_deref() {
        Some(raw) => {
            let at: Timestamp = raw.parse().map_err(|e| {
                Problem::bad_request(
                    "invalid-as-of",
                    format!("`{raw}` is not an RFC 3339 instant: {e}"),
                )
            })?;
            let state = app
                .store()
                .state(Some(at))
                .await
                .map_err(|e| Problem::store("fold the journal", &e))?;
            owned = coverage::compute(app.catalog(), &state, &Scope::all(), at);
            &owned
        }
        None => &snap.coverage,
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
        })
        .collect();
    let tactics: Vec<serde_json::Value> = cov
        .tactics
        .iter()
        .map(|t| {
            serde_json::json!({
                "tactic": t.tactic.shortname,
                "name": t.tactic.name,
                "tally": TallyView::of(&t.tally),
            })
        })
        .collect();
    Ok(Json(serde_json::json!({
        "at": cov.at,
        "seq": cov.seq,
        "headline": TallyView::of(&cov.overall),
        "tactics": tactics,
        "techniques": rows,
    })))
}

/// `GET /api/v1/enrich?technique=T1003.001,T1059&platform=Windows` for simple callers.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct EnrichQuery {
    technique: Option<String>,
    tag: Option<String>,
    rule_id: Option<String>,
    rule_name: Option<String>,
    platform: Option<String>,
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

async fn enrich_get(
    State(app): State<AppState>,
    query: Result<Query<EnrichQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    let Query(q) = query.map_err(from_query_rejection)?;
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

async fn enrich_post(
    State(app): State<AppState>,
    body: Result<Json<EnrichRequest>, JsonRejection>,
) -> Result<Response, Problem> {
    let Json(req) = body.map_err(from_json_rejection)?;
    answer_enrich(&app, &req)
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
    let snap = app.snapshot();
    let answer = enrich(app.enrich_index(), &snap, req);
    let body = serde_json::to_vec(&answer).map_err(|e| {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "serialization",
            e.to_string(),
        )
    })?;
    let micros = start.elapsed().as_secs_f64() * 1000.0;
    let mut response = ([(CONTENT_TYPE, "application/json")], body).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("enrich;dur={micros:.3}")) {
        response.headers_mut().insert("server-timing", v);
    }
    Ok(response)
}
