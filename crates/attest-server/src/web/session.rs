//! Signing in to the dashboard: the login form puts the API token in an `HttpOnly` cookie, every
//! page checks it (a viewer may read everything), and forms that post carry a CSRF token that
//! must equal the `attest_csrf` cookie (double submit; `SameSite=Strict` on both cookies too).

use axum::Form;
use axum::extract::{Query, Request, State};
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{Frame, PageError, render, to_login};
use crate::auth::{Principal, Role};
use crate::state::{AppState, AuthMode};

/// The cookie holding the API token.
pub const SESSION_COOKIE: &str = "attest_session";
/// The cookie holding the CSRF token.
pub const CSRF_COOKIE: &str = "attest_csrf";

/// The request's CSRF token (from its cookie, or fresh).
#[derive(Debug, Clone)]
pub(crate) struct Csrf(pub String);

/// A cookie's value from the request headers.
pub(crate) fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

fn fresh_token() -> String {
    let bytes: [u8; 32] = rand::random();
    hex::encode(bytes)
}

/// Equal without an early exit on the first differing byte.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn set_cookie(res: &mut Response, name: &str, value: &str, max_age: Option<i64>) {
    let age = max_age
        .map(|s| format!("; Max-Age={s}"))
        .unwrap_or_default();
    let cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict{age}");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().append(SET_COOKIE, v);
    }
}

/// The CSRF token of a request, and whether a cookie must be set for it.
fn csrf_of(headers: &HeaderMap) -> (Csrf, bool) {
    match cookie(headers, CSRF_COOKIE)
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        Some(v) => (Csrf(v.to_string()), false),
        None => (Csrf(fresh_token()), true),
    }
}

/// Lets a request through when it carries a known token in its session cookie (or auth is off),
/// with the [`Principal`] and [`Csrf`] in its extensions; sends a browser to `/login` otherwise.
pub(crate) async fn require_viewer(
    State(app): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let principal = match app.inner.auth {
        AuthMode::Disabled => Principal {
            name: "anonymous".to_string(),
            role: Role::Admin,
        },
        AuthMode::Required => {
            let token = cookie(req.headers(), SESSION_COOKIE).map(str::to_string);
            let found = match token {
                Some(t) => match app.inner.tokens.verify(&app.inner.store, &t).await {
                    Ok(p) => p,
                    Err(e) => {
                        return PageError {
                            status: StatusCode::SERVICE_UNAVAILABLE,
                            message: e.to_string(),
                        }
                        .into_response();
                    }
                },
                None => None,
            };
            match found {
                Some(p) => p,
                None => {
                    if req.method() == Method::GET || req.method() == Method::HEAD {
                        let target = req
                            .uri()
                            .path_and_query()
                            .map_or("/", |pq| pq.as_str())
                            .to_string();
                        return to_login(&target);
                    }
                    return PageError {
                        status: StatusCode::UNAUTHORIZED,
                        message: "sign in first".into(),
                    }
                    .into_response();
                }
            }
        }
    };
    let (csrf, set) = csrf_of(req.headers());
    req.extensions_mut().insert(principal);
    req.extensions_mut().insert(csrf.clone());
    let mut res = next.run(req).await;
    if set {
        set_cookie(&mut res, CSRF_COOKIE, &csrf.0, None);
    }
    res
}

#[derive(Debug, Deserialize)]
pub(crate) struct LoginQuery {
    next: Option<String>,
    failed: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "login.html")]
struct LoginPage {
    frame: Frame,
    next: String,
    failed: bool,
    auth_off: bool,
}

/// Only a path on this server may be a redirect target (no `//host`, no scheme).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

pub(crate) async fn login_form(
    State(app): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Result<Response, PageError> {
    let (csrf, set) = csrf_of(&headers);
    let page = LoginPage {
        frame: Frame::new(&app, "login", "Sign in", None, &csrf),
        next: safe_next(q.next.as_deref()),
        failed: q.failed.is_some(),
        auth_off: app.inner.auth == AuthMode::Disabled,
    };
    let mut res = render(&page)?;
    if set {
        set_cookie(&mut res, CSRF_COOKIE, &csrf.0, None);
    }
    Ok(res)
}

#[derive(Debug, Deserialize)]
pub(crate) struct LoginForm {
    token: String,
    csrf: String,
    next: Option<String>,
}

pub(crate) async fn login_submit(
    State(app): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    let Some(cookie_csrf) = cookie(&headers, CSRF_COOKIE) else {
        return Err(PageError {
            status: StatusCode::FORBIDDEN,
            message: "the form expired (no CSRF cookie): reload the sign-in page".into(),
        });
    };
    if !same(cookie_csrf, form.csrf.trim()) {
        return Err(PageError {
            status: StatusCode::FORBIDDEN,
            message: "CSRF token mismatch: reload the sign-in page".into(),
        });
    }
    let next = safe_next(form.next.as_deref());
    let token = form.token.trim();
    let principal = app
        .inner
        .tokens
        .verify(&app.inner.store, token)
        .await
        .map_err(|e| PageError::internal(e.to_string()))?;
    if principal.is_none() {
        let url = format!("/login?failed=1&next={}", super::filters::encode(&next));
        return Ok(Redirect::to(&url).into_response());
    }
    let mut res = Redirect::to(&next).into_response();
    set_cookie(&mut res, SESSION_COOKIE, token, Some(60 * 60 * 12));
    Ok(res)
}

#[derive(Debug, Deserialize)]
pub(crate) struct LogoutForm {
    csrf: String,
}

pub(crate) async fn logout(
    headers: HeaderMap,
    Form(form): Form<LogoutForm>,
) -> Result<Response, PageError> {
    let ok = cookie(&headers, CSRF_COOKIE).is_some_and(|c| same(c, form.csrf.trim()));
    if !ok {
        return Err(PageError {
            status: StatusCode::FORBIDDEN,
            message: "CSRF token mismatch".into(),
        });
    }
    let mut res = Redirect::to("/login").into_response();
    set_cookie(&mut res, SESSION_COOKIE, "", Some(0));
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_by_name() {
        let mut h = HeaderMap::new();
        h.insert(
            COOKIE,
            HeaderValue::from_static("a=1; attest_session=attest_x ; b=2"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("attest_x"));
        assert_eq!(cookie(&h, "c"), None);
    }

    #[test]
    fn redirects_stay_on_this_server() {
        assert_eq!(safe_next(Some("/rules?q=x")), "/rules?q=x");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn comparison_needs_equal_strings() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
    }
}
