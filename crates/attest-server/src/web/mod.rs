//! The dashboard: server-rendered HTML pages over the same [`Snapshot`](crate::Snapshot) the
//! JSON API reads.
//!
//! Pages: the matrix (`/`), a technique (`/techniques/{id}`), profiles and actors
//! (`/profiles`, `/actors`), rules (`/rules`, `/rules/{id}`), data sources (`/sources`),
//! exposures (`/exposures`), the backlog (`/backlog`), trends (`/trends`) and downloads
//! (`/downloads/...`), plus `/login`.
//!
//! Design choices a reader would not guess:
//! - Templates are askama (compiled in, HTML-escaped by default); CSS and the one small
//!   script are embedded with `include_str!`: no CDN, works offline.
//! - Every filter lives in the query string ([`filters::Filters`]), so any view is a link.
//! - The Content-Security-Policy allows only the server's own script and style (no inline
//!   script or style at all), so an escaped-but-hostile rule title could not run even if a
//!   template forgot to escape it.
//! - When auth is on, the browser holds the API token in an `HttpOnly`, `SameSite=Strict`
//!   cookie set by the login form; forms that change something carry a CSRF token checked
//!   against a second cookie (double submit).
//! - Coverage for a profile or platform is computed from the snapshot's state on demand and
//!   kept in a small cache tied to the snapshot ([`ScopeCache`]); trends come from
//!   attest-core's `trend::series` at evenly spaced instants, cached per journal head.

mod cache;
mod filters;
mod matrix;
mod pages;
mod session;
mod trends;

use std::sync::Arc;

use askama::Template;
use axum::extract::Request;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Router};

use crate::auth::Principal;
use crate::state::AppState;

pub use cache::ScopeCache;
pub use matrix::render_matrix;
pub use trends::TrendCache;

/// The policy every page is served with: own scripts and styles only, no inline script or
/// style, no framing, forms post only to this server.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

const APP_CSS: &str = include_str!("../../static/app.css");
const APP_JS: &str = include_str!("../../static/app.js");

/// Every route of the dashboard: HTML pages, downloads and assets, which the OpenAPI document
/// (the JSON API's reference) leaves out.
pub const ROUTES: &[&str] = &[
    "/",
    "/techniques/{id}",
    "/profiles",
    "/actors",
    "/rules",
    "/rules/{id}",
    "/sources",
    "/exposures",
    "/backlog",
    "/trends",
    "/trends.svg",
    "/downloads/layer.json",
    "/downloads/coverage.csv",
    "/downloads/coverage.xlsx",
    "/downloads/rules.csv",
    "/downloads/backlog.csv",
    "/downloads/sources.csv",
    "/downloads/exposures.csv",
    "/login",
    "/logout",
    "/static/app.css",
    "/static/app.js",
];

/// The dashboard's routes (merged into the application router by [`crate::api::router_with`]).
pub fn router(app: AppState) -> Router<AppState> {
    let web = Arc::new(WebState::default());
    let pages = Router::new()
        .route("/", get(matrix::matrix_page))
        .route("/techniques/{id}", get(pages::technique_page))
        .route("/profiles", get(pages::profiles_page))
        .route("/actors", get(pages::actors_page))
        .route("/rules", get(pages::rules_page))
        .route("/rules/{id}", get(pages::rule_page))
        .route("/sources", get(pages::sources_page))
        .route("/exposures", get(pages::exposures_page))
        .route("/backlog", get(pages::backlog_page))
        .route("/trends", get(trends::trends_page))
        .route("/trends.svg", get(trends::trends_svg))
        .route("/downloads/layer.json", get(matrix::download_layer))
        .route("/downloads/coverage.csv", get(matrix::download_csv))
        .route("/downloads/coverage.xlsx", get(matrix::download_xlsx))
        .route("/downloads/rules.csv", get(pages::download_rules_csv))
        .route("/downloads/backlog.csv", get(pages::download_backlog_csv))
        .route("/downloads/sources.csv", get(pages::download_sources_csv))
        .route(
            "/downloads/exposures.csv",
            get(pages::download_exposures_csv),
        )
        .route("/logout", axum::routing::post(session::logout))
        .route_layer(middleware::from_fn_with_state(
            app.clone(),
            session::require_viewer,
        ));
    Router::new()
        .route(
            "/login",
            get(session::login_form).post(session::login_submit),
        )
        .route("/static/app.css", get(css))
        .route("/static/app.js", get(js))
        .merge(pages)
        .layer(middleware::from_fn(security_headers))
        .layer(Extension(web))
}

/// The dashboard's own caches, shared by its handlers.
#[derive(Debug, Default)]
pub struct WebState {
    /// Coverage per scope for the current snapshot.
    pub scopes: ScopeCache,
    /// Trend series per journal head.
    pub trends: trends::TrendCache,
}

async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        HeaderName::from_static("content-security-policy"),
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        HeaderName::from_static("referrer-policy"),
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        HeaderName::from_static("x-frame-options"),
        HeaderValue::from_static("DENY"),
    );
    res
}

async fn css() -> Response {
    (
        [
            (CONTENT_TYPE, "text/css; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=3600"),
        ],
        APP_CSS,
    )
        .into_response()
}

async fn js() -> Response {
    (
        [
            (CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=3600"),
        ],
        APP_JS,
    )
        .into_response()
}

/// What every page's frame needs: which nav entry is current and who is signed in.
#[derive(Debug, Clone)]
pub(crate) struct Frame {
    /// The nav entry to mark current.
    pub nav: &'static str,
    /// Page title.
    pub title: String,
    /// The signed-in token's name, when auth is on.
    pub user: Option<String>,
    /// CSRF token for the logout form.
    pub csrf: String,
    /// ATT&CK release and journal position, for the footer.
    pub footer: String,
}

impl Frame {
    pub(crate) fn new(
        app: &AppState,
        nav: &'static str,
        title: impl Into<String>,
        who: Option<&Principal>,
        csrf: &session::Csrf,
    ) -> Frame {
        let snap = app.snapshot();
        Frame {
            nav,
            title: title.into(),
            user: who.map(|p| p.name.clone()),
            csrf: csrf.0.clone(),
            footer: format!(
                "ATT&CK {} · journal #{} · computed {}",
                snap.catalog().release(),
                snap.state.last_seq,
                snap.coverage.at.strftime("%Y-%m-%d %H:%M UTC")
            ),
        }
    }
}

/// A page that failed: the status and a message, rendered as a small HTML page.
#[derive(Debug)]
pub(crate) struct PageError {
    status: StatusCode,
    message: String,
}

impl PageError {
    pub(crate) fn not_found(message: impl Into<String>) -> PageError {
        PageError {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> PageError {
        PageError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }

    pub(crate) fn internal(message: impl Into<String>) -> PageError {
        PageError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: message.into(),
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    message: &'a str,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let page = ErrorPage {
            status: self.status.as_u16(),
            message: &self.message,
        };
        match page.render() {
            Ok(html) => (self.status, Html(html)).into_response(),
            Err(_) => (self.status, self.message).into_response(),
        }
    }
}

/// Renders a template into a response (500 when rendering fails).
pub(crate) fn render(t: &impl Template) -> Result<Response, PageError> {
    t.render()
        .map(|html| Html(html).into_response())
        .map_err(|e| PageError::internal(format!("rendering the page: {e}")))
}

/// Redirects to the login page, remembering where the user was going.
pub(crate) fn to_login(path_and_query: &str) -> Response {
    let next = filters::encode(path_and_query);
    Redirect::to(&format!("/login?next={next}")).into_response()
}
