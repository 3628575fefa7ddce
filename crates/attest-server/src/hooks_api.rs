//! Routes for webhooks (admin) and scheduled jobs: `/api/v1/webhooks…`, `/api/v1/jobs…`.

use attest_store::hooks::{DeliveryStatus, Webhook};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Extension, Json, Router};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::{Principal, Role};
use crate::jobs;
use crate::notices::{NoticeKind, Shape};
use crate::problem::{Problem, from_json_rejection};
use crate::state::AppState;

/// The routes; the caller adds authentication.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/webhooks", get(list_webhooks).post(add_webhook))
        .route("/api/v1/webhooks/{name}", delete(remove_webhook))
        .route("/api/v1/webhooks/deliveries", get(deliveries))
        .route("/api/v1/jobs", get(list_jobs))
        .route("/api/v1/jobs/{name}/run", post(run_job))
}

fn admin(who: &Principal) -> Result<(), Problem> {
    if who.role < Role::Admin {
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "token `{}` has role {}; managing webhooks needs admin",
                who.name,
                who.role.as_str()
            ),
        ));
    }
    Ok(())
}

fn hook_json(h: &Webhook) -> Value {
    json!({
        "name": h.name,
        "url": h.url,
        "events": h.events,
        "shape": h.shape,
        // The secret is never shown again.
        "signed": h.secret.is_some(),
        "created": h.created.to_string(),
    })
}

async fn list_webhooks(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
) -> Result<Json<Value>, Problem> {
    admin(&who)?;
    let hooks = app
        .store()
        .webhooks()
        .await
        .map_err(|e| Problem::store("read webhooks", &e))?;
    Ok(Json(json!({
        "count": hooks.len(),
        "webhooks": hooks.iter().map(hook_json).collect::<Vec<_>>(),
    })))
}

/// A subscription as posted.
#[derive(Debug, Deserialize)]
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

async fn add_webhook(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
    body: Result<Json<WebhookInput>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    admin(&who)?;
    let Json(input) = body.map_err(from_json_rejection)?;
    let hook = validate_webhook(input, Timestamp::now())
        .map_err(|e| Problem::bad_request("invalid-webhook", e))?;
    app.store()
        .upsert_webhook(&hook)
        .await
        .map_err(|e| Problem::store("write a webhook", &e))?;
    tracing::info!(webhook = %hook.name, by = %who.name, "webhook subscription saved");
    Ok((StatusCode::CREATED, Json(hook_json(&hook))))
}

async fn remove_webhook(
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

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DeliveryQuery {
    status: Option<String>,
    limit: Option<u32>,
}

async fn deliveries(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
    Query(q): Query<DeliveryQuery>,
) -> Result<Json<Value>, Problem> {
    admin(&who)?;
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
        out.push(json!({
            "id": d.id,
            "webhook": d.webhook,
            "kind": d.kind,
            "event": d.event_key,
            "status": d.status.as_str(),
            "attempts": attempts.iter().map(|a| json!({
                "attempt": a.attempt,
                "at": a.at.to_string(),
                "server": a.owner,
                "status_code": a.status_code,
                "error": a.error,
                "duration_ms": a.duration_ms,
            })).collect::<Vec<_>>(),
            "created": d.created.to_string(),
            "next_attempt": (d.status == DeliveryStatus::Pending).then(|| d.next_at.to_string()),
            "delivered": d.delivered.map(|t| t.to_string()),
            "last_error": d.last_error,
        }));
    }
    Ok(Json(json!({"count": out.len(), "deliveries": out})))
}

async fn list_jobs(State(app): State<AppState>) -> Result<Json<Value>, Problem> {
    let list = jobs::list(&app).await.map_err(|e| {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store-unavailable",
            e.to_string(),
        )
    })?;
    let now = Timestamp::now();
    let rows: Vec<Value> = list
        .iter()
        .map(|j| {
            let r = j.row.as_ref();
            json!({
                "name": j.spec.name,
                "description": j.spec.description,
                "schedule": j.schedule,
                "next_run": r.map(|r| r.next_at.to_string()),
                "running": r.is_some_and(|r| r.lease_until.is_some_and(|u| u > now)),
                "last_run": r.and_then(|r| r.last_run).map(|t| t.to_string()),
                "last_success": r.and_then(|r| r.last_ok).map(|t| t.to_string()),
                "consecutive_failures": r.map_or(0, |r| r.failures),
                "last_outcome": r.and_then(|r| r.last_outcome.clone()),
            })
        })
        .collect();
    Ok(Json(json!({"count": rows.len(), "jobs": rows})))
}

async fn run_job(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
) -> Result<Json<Value>, Problem> {
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
    let report = jobs::run_now(&app, &name, &who.name, &options)
        .await
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
    Ok(Json(json!({
        "job": report.job,
        "outcome": if report.ok { "succeeded" } else { "failed" },
        "summary": report.summary,
        "seq": report.seq,
        "next_run": report.next_at.to_string(),
    })))
}
