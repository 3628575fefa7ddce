//! The routes: health, metrics, the OpenAPI document, and the JSON API under `/api/v1`.
//!
//! Every route is declared once, with its `#[utoipa::path]` annotation, through
//! [`utoipa_axum::router::OpenApiRouter`]: the router and `/api/openapi.json` are built from the
//! same declarations, and `tests/openapi.rs` checks that nothing is routed undocumented.
//! One module per noun, like the CLI's `cmd/`: `kb` (ATT&CK look-ups), `rules`, `sources`,
//! `results` (and the test catalogue), `intel` (actors, profiles, tokens), `analysis`
//! (coverage, diff, backlog, layers, check), `exposures` (CTEM), `health` (probes, metrics, ping, the document).

mod analysis;
mod attack;
mod doc;
mod exposures;
mod health;
mod intel;
mod kb;
mod results;
mod rules;
mod sources;
mod tokens;
mod upload;
mod validate;

use std::sync::Arc;
use std::time::{Duration, Instant};

use attest_attack::TechniqueId;
use attest_core::journal::Event;
use attest_store::{AppendOutcome, NewEntry};
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json, Router};
use jiff::Timestamp;
use serde::de::DeserializeOwned;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Principal, Role};
use crate::problem::{Problem, from_json_rejection, from_query_rejection};
use crate::state::{AppState, AuthMode};

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

/// The routes that need a token (every `/api/v1` route), documented.
fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health::ping))
        .routes(routes!(kb::technique))
        .routes(routes!(kb::group))
        .routes(routes!(kb::search))
        .routes(routes!(attack::info))
        .routes(routes!(attack::remap))
        .routes(routes!(
            attack::remap_table,
            attack::set_remap_table,
            attack::clear_remap_table
        ))
        .routes(attack::update_route())
        .routes(routes!(rules::list, rules::import))
        .routes(routes!(rules::show))
        .routes(routes!(rules::enable))
        .routes(routes!(rules::disable))
        .routes(routes!(rules::assign))
        .routes(routes!(rules::suppress))
        .routes(routes!(sources::list, sources::create))
        .routes(routes!(sources::show, sources::update, sources::remove))
        .routes(routes!(sources::heartbeat))
        .routes(routes!(sources::export_inventory, sources::apply_inventory))
        .routes(routes!(sources::import_dettect))
        .routes(routes!(sources::visibility))
        .routes(routes!(results::record, results::list))
        .routes(routes!(results::tests, validate::add_test))
        .routes(routes!(validate::import_atomic))
        .routes(routes!(validate::import_atomic_results))
        .routes(routes!(validate::import_vectr))
        .routes(routes!(validate::import_jsonl))
        .routes(routes!(validate::replay))
        .routes(routes!(intel::actors, intel::import_actors))
        .routes(routes!(intel::actor))
        .routes(routes!(intel::profiles, intel::create_profile))
        .routes(routes!(
            intel::profile,
            intel::update_profile,
            intel::remove_profile
        ))
        .routes(routes!(intel::export_profile))
        .routes(routes!(intel::create_token, tokens::list))
        .routes(routes!(tokens::revoke))
        .routes(routes!(analysis::coverage))
        .routes(routes!(analysis::lookup))
        .routes(routes!(analysis::claimed))
        .routes(routes!(analysis::diff))
        .routes(routes!(analysis::backlog, analysis::backlog_owned))
        .routes(routes!(analysis::plan))
        .routes(routes!(analysis::trend))
        .routes(routes!(analysis::layer))
        .routes(routes!(analysis::check, analysis::check_baseline))
        .routes(routes!(analysis::enrich_get, analysis::enrich_post))
        .routes(routes!(analysis::runbooks))
        .routes(routes!(exposures::list, exposures::import))
        .routes(routes!(exposures::mappings, exposures::import_mappings))
        .routes(routes!(exposures::show))
        .merge(crate::hooks_api::routes())
}

/// The open routes: probes, metrics and the document itself.
fn open_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(health::metrics))
        .routes(routes!(health::openapi_json))
}

/// The OpenAPI 3 document of every route, as served at `/api/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    OpenApiRouter::<AppState>::with_openapi(doc::ApiDoc::openapi())
        .merge(open_routes())
        .merge(api_routes())
        .into_openapi()
}

/// The application's routes.
pub fn router_with(app: AppState, limits: Limits) -> Router {
    let api = api_routes().route_layer(middleware::from_fn_with_state(app.clone(), authenticate));
    let (router, document) = OpenApiRouter::with_openapi(doc::ApiDoc::openapi())
        .merge(open_routes())
        .merge(api)
        .split_for_parts();
    let document = Arc::new(health::OpenApiJson(
        document.to_json().unwrap_or_else(|_| "{}".to_string()),
    ));
    let timeout = limits.timeout;
    router
        .merge(crate::web::router(app.clone()))
        .fallback(not_found)
        .layer(Extension(document))
        .layer(middleware::from_fn_with_state(app.clone(), track))
        .layer(DefaultBodyLimit::max(limits.body_bytes))
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            deadline(timeout, req, next)
        }))
        .with_state(app)
}

/// Answers 408 with a problem document when a request takes longer than the limit (the
/// handler's future is dropped; a write in flight is one transaction, so it either committed or
/// did not).
async fn deadline(limit: Duration, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => Problem::new(
            StatusCode::REQUEST_TIMEOUT,
            "timeout",
            format!("the request took longer than {} ms", limit.as_millis()),
        )
        .into_response(),
    }
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

/// POST routes that only read: they take a body but change nothing.
const READ_ONLY_POSTS: [&str; 4] = [
    "/api/v1/enrich",
    "/api/v1/check",
    "/api/v1/coverage/claimed",
    "/api/v1/backlog",
];
/// Route prefixes whose writes need an admin: intel actors, profiles, tokens, webhooks and the
/// ATT&CK release (update, remap table).
const ADMIN_WRITES: [&str; 5] = [
    "/api/v1/actors",
    "/api/v1/profiles",
    "/api/v1/tokens",
    "/api/v1/webhooks",
    "/api/v1/attack",
];
/// Route prefixes that only admins may even read: tokens.
const ADMIN_READS: [&str; 1] = ["/api/v1/tokens"];

/// The role a request needs: viewers read (except tokens); engineers also write rules, sources,
/// tests and results; admins also read tokens and write actors, profiles, tokens, webhooks and
/// the ATT&CK release.
pub fn required_role(method: &Method, route: &str) -> Role {
    let reads = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
        || READ_ONLY_POSTS.contains(&route);
    if ADMIN_READS.iter().any(|p| route.starts_with(p)) {
        Role::Admin
    } else if reads {
        Role::Viewer
    } else if ADMIN_WRITES.iter().any(|p| route.starts_with(p)) {
        Role::Admin
    } else {
        Role::Engineer
    }
}

/// Resolves the bearer token to a [`Principal`] and enforces [`required_role`].
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
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_default();
    let needed = required_role(req.method(), &route);
    if principal.role < needed {
        return Problem::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "token `{}` has role {}; {} {route} needs {}",
                principal.name,
                principal.role.as_str(),
                req.method(),
                needed.as_str()
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

/// Parses a technique id given by a client.
pub(crate) fn parse_technique(raw: &str) -> Result<TechniqueId, Problem> {
    TechniqueId::parse(raw.trim()).map_err(|e| {
        Problem::bad_request(
            "invalid-technique",
            format!("`{raw}` is not a technique id: {e}"),
        )
    })
}

/// Parses an instant given by a client: RFC 3339, a date (midnight UTC) or `now`. The problem
/// code is `invalid-instant`, or `invalid-as-of` for the `as_of` field (its original code).
pub(crate) fn parse_instant(field: &str, raw: &str) -> Result<Timestamp, Problem> {
    let s = raw.trim();
    if s.eq_ignore_ascii_case("now") {
        return Ok(Timestamp::now());
    }
    if let Ok(t) = s.parse::<Timestamp>() {
        return Ok(t);
    }
    if let Ok(d) = s.parse::<jiff::civil::Date>()
        && let Ok(z) = d.to_zoned(jiff::tz::TimeZone::UTC)
    {
        return Ok(z.timestamp());
    }
    let code = if field == "as_of" {
        "invalid-as-of"
    } else {
        "invalid-instant"
    };
    Err(Problem::bad_request(
        code,
        format!("{field}: `{raw}` is not an instant (RFC 3339, a date, or `now`)"),
    ))
}

/// The query string, or a problem naming what is wrong with it.
pub(crate) fn query<T>(q: Result<axum::extract::Query<T>, QueryRejection>) -> Result<T, Problem> {
    q.map(|axum::extract::Query(v)| v)
        .map_err(from_query_rejection)
}

/// The JSON body, or a problem naming the field at fault.
pub(crate) fn body<T: DeserializeOwned>(b: Result<Json<T>, JsonRejection>) -> Result<T, Problem> {
    b.map(|Json(v)| v).map_err(from_json_rejection)
}

/// Appends `events` as one transaction under the token's name, then refreshes the snapshot so
/// the next read through this server sees the write.
pub(crate) async fn journal(
    app: &AppState,
    who: &Principal,
    events: Vec<Event>,
    why: Option<&str>,
) -> Result<AppendOutcome, Problem> {
    let now = Timestamp::now();
    let batch = events
        .into_iter()
        .map(|e| {
            let entry = NewEntry::new(who.name.clone(), now, e);
            match why {
                Some(w) => entry.with_why(w),
                None => entry,
            }
        })
        .collect();
    let outcome = app
        .store()
        .append(batch)
        .await
        .map_err(|e| Problem::store("journal the change", &e))?;
    refresh_after_append(app, &outcome).await;
    Ok(outcome)
}

/// Makes a write visible to the next read through this server: the caller waits until the
/// snapshot includes its entries (usually folded in incrementally, often by a refresh made for
/// another writer) rather than reading stale coverage.
pub(crate) async fn refresh_after_append(app: &AppState, written: &AppendOutcome) {
    if let Err(error) = app.refresh_to(written.last_seq).await {
        tracing::warn!(%error, "snapshot refresh after a write failed");
    }
}

/// Makes a write whose journal position the caller does not know visible to the next read
/// through this server.
pub(crate) async fn refresh_after_write(app: &AppState) {
    if let Err(error) = app.refresh(false).await {
        tracing::warn!(%error, "snapshot refresh after a write failed");
    }
}

/// A 422 for a request that is well-formed but names something that is not there or cannot be.
pub(crate) fn unprocessable(code: &'static str, detail: impl Into<String>) -> Problem {
    Problem::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_needed_by_route() {
        assert_eq!(
            required_role(&Method::GET, "/api/v1/profiles"),
            Role::Viewer
        );
        assert_eq!(required_role(&Method::POST, "/api/v1/enrich"), Role::Viewer);
        assert_eq!(
            required_role(&Method::POST, "/api/v1/coverage/claimed"),
            Role::Viewer
        );
        assert_eq!(
            required_role(&Method::POST, "/api/v1/backlog"),
            Role::Viewer
        );
        assert_eq!(
            required_role(&Method::POST, "/api/v1/results"),
            Role::Engineer
        );
        assert_eq!(
            required_role(&Method::PUT, "/api/v1/profiles/{name}"),
            Role::Admin
        );
        assert_eq!(required_role(&Method::POST, "/api/v1/tokens"), Role::Admin);
        assert_eq!(
            required_role(&Method::POST, "/api/v1/attack/update"),
            Role::Admin
        );
        assert_eq!(
            required_role(&Method::PUT, "/api/v1/attack/remap-table"),
            Role::Admin
        );
        assert_eq!(
            required_role(&Method::GET, "/api/v1/attack/remap-table"),
            Role::Viewer
        );
        assert_eq!(required_role(&Method::GET, "/api/v1/tokens"), Role::Admin);
        assert_eq!(required_role(&Method::POST, "/api/v1/actors"), Role::Admin);
        assert_eq!(
            required_role(&Method::PUT, "/api/v1/inventory"),
            Role::Engineer
        );
        assert_eq!(
            required_role(&Method::POST, "/api/v1/tests/atomic"),
            Role::Engineer
        );
        assert_eq!(
            required_role(&Method::POST, "/api/v1/replay"),
            Role::Engineer
        );
        assert_eq!(
            required_role(&Method::DELETE, "/api/v1/tokens/{which}"),
            Role::Admin
        );
    }
}
