//! Routes for webhooks (admin) and scheduled jobs: `/api/v1/webhooks…`, `/api/v1/jobs…`,
//! documented in the OpenAPI document like every other route.

use attest_store::hooks::{DeliveryStatus, Webhook};
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Principal, Role};
use crate::jobs;
use crate::notices::{NoticeKind, Shape};
use crate::problem::{Problem, from_json_rejection, from_query_rejection};
use crate::state::AppState;

/// The routes; the caller adds authentication.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_webhooks, add_webhook))
        .routes(routes!(remove_webhook))
        .routes(routes!(deliveries))
        .routes(routes!(list_jobs))
        .routes(routes!(run_job))
        .routes(routes!(schedule_job))
        .routes(routes!(replay_datasets, set_replay_datasets))
}

fn admin(who: &Principal) -> Result<(), Problem> {
    admin_for(who, "managing webhooks")
}

fn admin_for(who: &Principal, what: &str) -> Result<(), Problem> {
    if who.role < Role::Admin {
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "token `{}` has role {}; {what} needs admin",
                who.name,
                who.role.as_str()
            ),
        ));
    }
    Ok(())
}

/// A subscription as shown (its secret never is).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct WebhookView {
    /// Unique name.
    name: String,
    /// Where events are POSTed.
    url: String,
    /// Event kinds it receives.
    events: Vec<String>,
    /// `generic` or `slack`.
    shape: String,
    /// Whether bodies carry `X-Attest-Signature`.
    signed: bool,
    /// When it was created (RFC 3339).
    created: String,
}

impl WebhookView {
    fn of(h: &Webhook) -> WebhookView {
        WebhookView {
            name: h.name.clone(),
            url: h.url.clone(),
            events: h.events.clone(),
            shape: h.shape.clone(),
            signed: h.secret.is_some(),
            created: h.created.to_string(),
        }
    }
}

/// Every subscription.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct WebhookList {
    /// How many.
    count: usize,
    /// By name.
    webhooks: Vec<WebhookView>,
}

/// Every webhook subscription (admin).
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks",
    responses((status = 200, description = "The subscriptions", body = WebhookList),
              (status = 403, description = "Not an admin", body = Problem)))]
pub(crate) async fn list_webhooks(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
) -> Result<Json<WebhookList>, Problem> {
    admin(&who)?;
    let hooks = app
        .store()
        .webhooks()
        .await
        .map_err(|e| Problem::store("read webhooks", &e))?;
    Ok(Json(WebhookList {
        count: hooks.len(),
        webhooks: hooks.iter().map(WebhookView::of).collect(),
    }))
}

/// A subscription as posted.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    /// Unique name.
    pub name: String,
    /// `http://` or `https://` URL.
    pub url: String,
    /// Event kinds.
    pub events: Vec<String>,
    /// `generic` (default) or `slack`.
    #[serde(default)]
    pub shape: Option<String>,
    /// HMAC key for `X-Attest-Signature`.
    #[serde(default)]
    pub secret: Option<String>,
}

/// Checks a subscription and turns it into the stored form. Shared with the CLI.
pub fn validate_webhook(input: WebhookInput, now: Timestamp) -> Result<Webhook, String> {
    let name = input.name.trim().to_string();
    if name.is_empty() {
        return Err("the webhook name is empty".to_string());
    }
    let url = reqwest::Url::parse(input.url.trim())
        .map_err(|e| format!("`{}` is not a URL: {e}", input.url))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "`{url}`: only http and https URLs can receive webhooks"
        ));
    }
    if input.events.is_empty() {
        return Err(format!(
            "no events given; choose from {}",
            NoticeKind::ALL.map(NoticeKind::as_str).join(", ")
        ));
    }
    let mut events = Vec::new();
    for e in &input.events {
        for part in e.split(',').filter(|p| !p.trim().is_empty()) {
            let kind = NoticeKind::parse(part).ok_or_else(|| {
                format!(
                    "unknown event `{part}`; choose from {}",
                    NoticeKind::ALL.map(NoticeKind::as_str).join(", ")
                )
            })?;
            if !events.contains(&kind.as_str().to_string()) {
                events.push(kind.as_str().to_string());
            }
        }
    }
    let shape = match input.shape.as_deref() {
        None => Shape::Generic,
        Some(s) => {
            Shape::parse(s).ok_or_else(|| format!("unknown shape `{s}`: generic or slack"))?
        }
    };
    let secret = input.secret.filter(|s| !s.is_empty());
    Ok(Webhook {
        name,
        url: url.to_string(),
        events,
        shape: shape.as_str().to_string(),
        secret,
        created: now,
    })
}

/// Adds a webhook subscription, or replaces the one with the same name (admin).
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = WebhookInput,
    responses((status = 201, description = "Saved", body = WebhookView),
              (status = 400, description = "Invalid URL, event, or shape", body = Problem),
              (status = 403, description = "Not an admin", body = Problem)))]
pub(crate) async fn add_webhook(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
    body: Result<Json<WebhookInput>, JsonRejection>,
) -> Result<(StatusCode, Json<WebhookView>), Problem> {
    admin(&who)?;
    let Json(input) = body.map_err(from_json_rejection)?;
    let hook = validate_webhook(input, Timestamp::now())
        .map_err(|e| Problem::bad_request("invalid-webhook", e))?;
    app.store()
        .upsert_webhook(&hook)
        .await
        .map_err(|e| Problem::store("write a webhook", &e))?;
    tracing::info!(webhook = %hook.name, by = %who.name, "webhook subscription saved");
    Ok((StatusCode::CREATED, Json(WebhookView::of(&hook))))
}

/// Removes a webhook subscription; its pending deliveries are given up (admin).
#[utoipa::path(delete, path = "/api/v1/webhooks/{name}", tag = "webhooks",
    params(("name" = String, Path, description = "Subscription name")),
    responses((status = 204, description = "Removed"),
              (status = 403, description = "Not an admin", body = Problem),
              (status = 404, description = "No such subscription", body = Problem)))]
pub(crate) async fn remove_webhook(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
) -> Result<StatusCode, Problem> {
    admin(&who)?;
    let existed = app
        .store()
        .remove_webhook(&name, Timestamp::now())
        .await
        .map_err(|e| Problem::store("remove a webhook", &e))?;
    if !existed {
        return Err(Problem::not_found(
            "webhook-not-found",
            format!("no webhook `{name}`"),
        ));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Which deliveries to list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct DeliveryQuery {
    /// `pending`, `delivered` or `failed`.
    status: Option<String>,
    /// At most this many, newest first (default 100, at most 1000).
    limit: Option<u32>,
}

/// One logged attempt.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AttemptView {
    /// 1 for the first.
    attempt: u32,
    /// When (RFC 3339).
    at: String,
    /// The server instance that made it.
    server: String,
    /// The receiver's HTTP status, if it answered.
    status_code: Option<u16>,
    /// What went wrong.
    error: Option<String>,
    /// How long it took.
    duration_ms: u64,
}

/// A queued delivery with its attempts.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DeliveryView {
    /// Its id (the `X-Attest-Delivery` header).
    id: i64,
    /// The subscription.
    webhook: String,
    /// Event kind.
    kind: String,
    /// The event's key (the body's `id` in the generic shape).
    event: String,
    /// `pending`, `delivered` or `failed`.
    status: String,
    /// Every attempt so far.
    attempts: Vec<AttemptView>,
    /// When it was queued.
    created: String,
    /// When the next attempt is due, while pending.
    next_attempt: Option<String>,
    /// When it was delivered.
    delivered: Option<String>,
    /// The last attempt's error.
    last_error: Option<String>,
}

/// Deliveries.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DeliveryList {
    /// How many.
    count: usize,
    /// Newest first.
    deliveries: Vec<DeliveryView>,
}

/// The webhook delivery log: queued, delivered and failed deliveries with every attempt (admin).
#[utoipa::path(get, path = "/api/v1/webhooks/deliveries", tag = "webhooks", params(DeliveryQuery),
    responses((status = 200, description = "Deliveries, newest first", body = DeliveryList),
              (status = 400, description = "Unknown status", body = Problem),
              (status = 403, description = "Not an admin", body = Problem)))]
pub(crate) async fn deliveries(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
    q: Result<Query<DeliveryQuery>, QueryRejection>,
) -> Result<Json<DeliveryList>, Problem> {
    admin(&who)?;
    let Query(q) = q.map_err(from_query_rejection)?;
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => Some(DeliveryStatus::parse(s).ok_or_else(|| {
            Problem::bad_request(
                "invalid-status",
                format!("`{s}` is not a delivery status (pending, delivered, failed)"),
            )
        })?),
    };
    let list = app
        .store()
        .deliveries(status, q.limit.unwrap_or(100).min(1000))
        .await
        .map_err(|e| Problem::store("read webhook deliveries", &e))?;
    let mut out = Vec::with_capacity(list.len());
    for d in &list {
        let attempts = app
            .store()
            .delivery_attempts(d.id)
            .await
            .map_err(|e| Problem::store("read webhook attempts", &e))?;
        out.push(DeliveryView {
            id: d.id,
            webhook: d.webhook.clone(),
            kind: d.kind.clone(),
            event: d.event_key.clone(),
            status: d.status.as_str().to_string(),
            attempts: attempts
                .iter()
                .map(|a| AttemptView {
                    attempt: a.attempt,
                    at: a.at.to_string(),
                    server: a.owner.clone(),
                    status_code: a.status_code,
                    error: a.error.clone(),
                    duration_ms: a.duration_ms,
                })
                .collect(),
            created: d.created.to_string(),
            next_attempt: (d.status == DeliveryStatus::Pending).then(|| d.next_at.to_string()),
            delivered: d.delivered.map(|t| t.to_string()),
            last_error: d.last_error.clone(),
        });
    }
    Ok(Json(DeliveryList {
        count: out.len(),
        deliveries: out,
    }))
}

/// A scheduled job.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct JobView {
    /// Its name.
    name: &'static str,
    /// What it does.
    description: &'static str,
    /// Cron expression (UTC), or `off`.
    schedule: String,
    /// When it runs next (after a failure: the retry).
    next_run: Option<String>,
    /// Whether a server is running it now.
    running: bool,
    /// When it last ran.
    last_run: Option<String>,
    /// When it last succeeded.
    last_success: Option<String>,
    /// Failed runs since the last success.
    consecutive_failures: u32,
    /// The last outcome in words.
    last_outcome: Option<String>,
}

/// Every job.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct JobList {
    /// How many.
    count: usize,
    /// The jobs.
    jobs: Vec<JobView>,
}

/// The scheduled jobs with their schedules and last runs.
#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs",
    responses((status = 200, description = "The jobs", body = JobList)))]
pub(crate) async fn list_jobs(State(app): State<AppState>) -> Result<Json<JobList>, Problem> {
    let list = jobs::list(&app).await.map_err(|e| {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store-unavailable",
            e.to_string(),
        )
    })?;
    let now = Timestamp::now();
    let jobs: Vec<JobView> = list
        .iter()
        .map(|j| {
            let r = j.row.as_ref();
            JobView {
                name: j.spec.name,
                description: j.spec.description,
                schedule: j.schedule.clone(),
                next_run: r.map(|r| r.next_at.to_string()),
                running: r.is_some_and(|r| r.lease_until.is_some_and(|u| u > now)),
                last_run: r.and_then(|r| r.last_run).map(|t| t.to_string()),
                last_success: r.and_then(|r| r.last_ok).map(|t| t.to_string()),
                consecutive_failures: r.map_or(0, |r| r.failures),
                last_outcome: r.and_then(|r| r.last_outcome.clone()),
            }
        })
        .collect();
    Ok(Json(JobList {
        count: jobs.len(),
        jobs,
    }))
}

/// A job run's outcome.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct JobRunView {
    /// The job.
    job: String,
    /// `succeeded` or `failed` (a failed run is retried on its own).
    outcome: &'static str,
    /// What it did, or the error.
    summary: String,
    /// The journal entry recording the run.
    seq: u64,
    /// When it runs next.
    next_run: String,
}

/// Runs a job now and answers with its outcome (engineer or admin). The run is journaled
/// under the token's name.
#[utoipa::path(post, path = "/api/v1/jobs/{name}/run", tag = "jobs",
    params(("name" = String, Path, description = "silence, coverage, replay or digest")),
    responses((status = 200, description = "The run's outcome", body = JobRunView),
              (status = 404, description = "No such job", body = Problem),
              (status = 409, description = "A server is running it now", body = Problem)))]
pub(crate) async fn run_job(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
) -> Result<Json<JobRunView>, Problem> {
    if jobs::spec(&name).is_none() {
        return Err(Problem::not_found(
            "job-not-found",
            format!(
                "no job `{name}` (jobs: {})",
                jobs::JOBS.map(|j| j.name).join(", ")
            ),
        ));
    }
    let options = app.background();
    // The run is a task of its own: a client that gives up (or the request deadline) must not
    // cancel a run halfway; it finishes and is journaled, and the answer is just not read.
    let runner = app.clone();
    let who_name = who.name.clone();
    let job = name.clone();
    let report =
        tokio::spawn(async move { jobs::run_now(&runner, &job, &who_name, &options).await })
            .await
            .map_err(|e| {
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "job-panicked",
                    e.to_string(),
                )
            })?
            .map_err(|e| {
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "job-not-run",
                    e.to_string(),
                )
            })?;
    let Some(report) = report else {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "job-running",
            format!("job `{name}` is running on a server right now; try again when it is done"),
        ));
    };
    Ok(Json(JobRunView {
        job: report.job,
        outcome: if report.ok { "succeeded" } else { "failed" },
        summary: report.summary,
        seq: report.seq,
        next_run: report.next_at.to_string(),
    }))
}

/// A job's new schedule.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScheduleInput {
    /// A cron expression in UTC (`0 3 * * 1`), `off`, or `default`.
    schedule: String,
}

/// Sets a job's schedule (`attest jobs schedule`; admin). Running servers pick it up at their
/// next pass.
#[utoipa::path(put, path = "/api/v1/jobs/{name}/schedule", tag = "jobs",
    params(("name" = String, Path, description = "silence, coverage, replay or digest")),
    request_body = ScheduleInput,
    responses((status = 200, description = "Scheduled", body = serde_json::Value),
              (status = 403, description = "Not an admin token", body = Problem),
              (status = 404, description = "No such job", body = Problem),
              (status = 422, description = "Not a cron expression", body = Problem)))]
pub(crate) async fn schedule_job(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    b: Result<Json<ScheduleInput>, JsonRejection>,
) -> Result<Json<serde_json::Value>, Problem> {
    admin_for(&who, "scheduling jobs")?;
    let input = b.map(|Json(v)| v).map_err(from_json_rejection)?;
    let Some(job) = jobs::spec(&name) else {
        return Err(Problem::not_found(
            "job-not-found",
            format!(
                "no job `{name}` (jobs: {})",
                jobs::JOBS.map(|j| j.name).join(", ")
            ),
        ));
    };
    let expr = if input.schedule.trim().eq_ignore_ascii_case("default") {
        job.default_schedule.to_string()
    } else {
        input.schedule.trim().to_string()
    };
    jobs::Schedule::parse(&expr).map_err(|e| {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-schedule",
            format!("schedule: {e}"),
        )
    })?;
    jobs::set_setting(app.store(), &who.name, &jobs::schedule_key(job.name), &expr)
        .await
        .map_err(|e| Problem::store("set a job schedule", &e))?;
    tracing::info!(by = %who.name, job = job.name, schedule = %expr, "job scheduled");
    Ok(Json(serde_json::json!({"job": job.name, "schedule": expr})))
}

/// The replay datasets.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Datasets {
    /// Dataset folders, manifests or `info.yml` files on the server.
    datasets: Vec<String>,
}

/// The datasets the `replay` job re-runs (`attest jobs datasets`).
#[utoipa::path(get, path = "/api/v1/replay/datasets", tag = "jobs",
    responses((status = 200, description = "The registered datasets", body = Datasets)))]
pub(crate) async fn replay_datasets(
    State(app): State<AppState>,
) -> Result<Json<Datasets>, Problem> {
    let datasets = jobs::registered_datasets(&app)
        .await
        .map_err(|e| Problem::new(StatusCode::SERVICE_UNAVAILABLE, "store-unavailable", e))?;
    Ok(Json(Datasets {
        datasets: datasets.iter().map(|p| p.display().to_string()).collect(),
    }))
}

/// Registers the datasets the `replay` job re-runs (replaces the list; `[]` clears it). Paths
/// are on the server and must exist there (admin).
#[utoipa::path(put, path = "/api/v1/replay/datasets", tag = "jobs", request_body = Datasets,
    responses((status = 200, description = "Registered (absolute paths)", body = Datasets),
              (status = 403, description = "Not an admin token", body = Problem),
              (status = 422, description = "A path does not exist on the server", body = Problem)))]
pub(crate) async fn set_replay_datasets(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
    b: Result<Json<Datasets>, JsonRejection>,
) -> Result<Json<Datasets>, Problem> {
    admin_for(&who, "registering replay datasets")?;
    let input = b.map(|Json(v)| v).map_err(from_json_rejection)?;
    let mut lines = Vec::new();
    for (i, p) in input.datasets.iter().enumerate() {
        let abs = std::fs::canonicalize(p).map_err(|e| {
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "dataset-not-found",
                format!("datasets[{i}]: `{p}`: {e}"),
            )
        })?;
        lines.push(abs.display().to_string());
    }
    jobs::set_setting(
        app.store(),
        &who.name,
        jobs::META_REPLAY_DATASETS,
        &lines.join("\n"),
    )
    .await
    .map_err(|e| Problem::store("register replay datasets", &e))?;
    tracing::info!(by = %who.name, count = lines.len(), "replay datasets registered");
    Ok(Json(Datasets { datasets: lines }))
}
