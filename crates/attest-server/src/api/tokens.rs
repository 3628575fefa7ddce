//! API tokens: list and revoke (`attest tokens list|revoke`; admins only). Creation is in
//! `intel.rs` beside profiles, where it started.
//!
//! A listing never shows a token's secret or its stored hash, only a public id derived from it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::{Principal, TokenInfo, list_tokens, revoke_token};
use crate::problem::Problem;
use crate::state::AppState;

/// A token as listed.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct TokenView {
    /// Public id (not the secret, not its hash); revokes this one token.
    id: String,
    /// Name: journaled as the author of its writes.
    name: String,
    /// `viewer`, `engineer` or `admin`.
    role: &'static str,
    /// When it was created (absent for tokens older than this record).
    #[serde(skip_serializing_if = "Option::is_none")]
    created: Option<Timestamp>,
    /// When it was revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    revoked: Option<Timestamp>,
    /// Who revoked it.
    #[serde(skip_serializing_if = "Option::is_none")]
    revoked_by: Option<String>,
}

impl TokenView {
    fn of(t: TokenInfo) -> TokenView {
        let (revoked, revoked_by) = t
            .revoked
            .map_or((None, None), |(at, by)| (Some(at), Some(by)));
        TokenView {
            id: t.id,
            name: t.name,
            role: t.role.as_str(),
            created: t.created,
            revoked,
            revoked_by,
        }
    }
}

/// The tokens.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct TokenList {
    /// Live tokens.
    live: usize,
    /// Every token, revoked ones included.
    tokens: Vec<TokenView>,
}

fn unavailable(e: &crate::Error) -> Problem {
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "store-unavailable",
        e.to_string(),
    )
}

/// The API tokens, revoked ones included (admins only). Last use is not recorded.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "intel",
    responses((status = 200, description = "The tokens", body = TokenList),
              (status = 403, description = "Not an admin token", body = Problem)))]
pub(super) async fn list(State(app): State<AppState>) -> Result<Json<TokenList>, Problem> {
    let tokens: Vec<TokenView> = list_tokens(app.store())
        .await
        .map_err(|e| unavailable(&e))?
        .into_iter()
        .map(TokenView::of)
        .collect();
    Ok(Json(TokenList {
        live: tokens.iter().filter(|t| t.revoked.is_none()).count(),
        tokens,
    }))
}

/// What a revocation did.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct Revoked {
    /// The tokens revoked.
    revoked: Vec<TokenView>,
}

/// Revokes the live tokens with this name, or the one with this id (admins only). They are
/// refused (401) on this server from the next request, and on every other server within a
/// second.
#[utoipa::path(delete, path = "/api/v1/tokens/{which}", tag = "intel",
    params(("which" = String, Path, description = "Token name or id")),
    responses((status = 200, description = "Revoked", body = Revoked),
              (status = 403, description = "Not an admin token", body = Problem),
              (status = 404, description = "No live token by that name or id", body = Problem)))]
pub(super) async fn revoke(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(which): Path<String>,
) -> Result<Json<Revoked>, Problem> {
    let revoked = revoke_token(app.store(), &which, &who.name, Timestamp::now())
        .await
        .map_err(|e| match e {
            crate::Error::TokenNotFound { .. } => {
                Problem::not_found("token-not-found", e.to_string())
            }
            other => unavailable(&other),
        })?;
    app.inner.tokens.forget_all();
    super::refresh_after_write(&app).await;
    tracing::info!(by = %who.name, which = %which, count = revoked.len(), "API tokens revoked");
    Ok(Json(Revoked {
        revoked: revoked.into_iter().map(TokenView::of).collect(),
    }))
}
