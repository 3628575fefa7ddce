//! attest-server: the HTTP API of an attest workspace (`attest serve`).
//!
//! It serves, as JSON under `/api/v1`, the knowledge base, rules, sources, validation results
//! and coverage of one workspace store, and answers SOAR enrichment requests from in-memory
//! indexes. `/healthz`, `/readyz` and `/metrics` (Prometheus text) sit beside the API, and the
//! web dashboard ([`web`]: server-rendered pages over the same snapshot) at `/`.
//!
//! Design choices a reader would not guess:
//! - The ATT&CK release ([`state::Knowledge`]), the projected state and its coverage live in
//!   a [`state::Snapshot`] that is recomputed when the journal head moves (polled every second,
//!   and woken by PostgreSQL `NOTIFY`) and swapped whole, so readers never wait. When the
//!   journal names another release (an update through any instance), it is loaded aside
//!   ([`release`]) and swapped in with the next snapshot.
//! - A write through this server refreshes the snapshot before it answers: a client reads its
//!   own writes.
//! - Errors are RFC 9457 problem documents with a stable `code` ([`problem::Problem`]).
//! - Routes are declared with their OpenAPI annotations (`utoipa`), so the router and the
//!   document served at `/api/openapi.json` ([`openapi`]) come from the same code.
//! - Tokens are random 256-bit secrets stored only as SHA-256 hashes in the store's metadata
//!   ([`auth`]); every write is journaled under the token's name.
//!
//! - Webhooks and scheduled jobs run in the background of every server ([`webhooks`],
//!   [`jobs`]; what they announce is computed by the pure functions of [`notices`]). Whatever
//!   must happen once across several servers on one database — queueing an event, sending a
//!   delivery, running a job — is claimed in the store, so servers need no coordination of
//!   their own.
//!
//! The CLI (`attest serve`, `attest tokens create|list|revoke`) lives in `attest-cli`; the knowledge base
//! in `attest-attack`, coverage in `attest-core`, persistence in `attest-store`.
#![deny(missing_docs)]

pub mod api;
pub mod auth;
pub mod enrich;
pub mod hooks_api;
pub mod jobs;
pub mod metrics;
pub mod notices;
pub mod problem;
pub mod release;
pub mod runbooks;
pub mod state;
pub mod views;
pub mod web;
pub mod webhooks;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;

pub use api::{Limits, openapi, required_role, router, router_with};
pub use auth::{
    Role, TokenInfo, create_token, create_token_by, list_tokens, revoke_token, token_count,
};
pub use state::{AppState, AuthMode, Knowledge, Snapshot};
pub use webhooks::{BackgroundOptions, DeliveryOptions};

/// Everything that can stop the server from starting or running.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A store operation failed.
    #[error("{operation}: {source}")]
    Store {
        /// What the server was doing.
        operation: &'static str,
        /// The store's error.
        #[source]
        source: attest_store::Error,
    },
    /// The ATT&CK bundles could not be loaded.
    #[error("loading the ATT&CK knowledge base: {0}")]
    Attack(#[from] attest_attack::Error),
    /// No ATT&CK bundle was given.
    #[error("no ATT&CK bundle given: the server needs the knowledge base")]
    NoAttack,
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Serving failed.
    #[error("serving on {addr}: {source}")]
    Serve {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Listening beyond loopback without any API token (and without `insecure_no_auth`).
    #[error(
        "refusing to listen on {addr} without an API token: create one with `attest tokens create`, \
         or listen on 127.0.0.1, or pass --insecure-no-auth"
    )]
    InsecureBind {
        /// The address.
        addr: SocketAddr,
    },
    /// Background work (webhooks, jobs) could not run.
    #[error("{0}")]
    Background(String),
    /// The runbook folder cannot be read.
    #[error(transparent)]
    Runbooks(#[from] runbooks::FolderError),
    /// A token name that cannot be stored.
    #[error("invalid token name `{name}`: it must be non-empty and contain no `:`")]
    InvalidTokenName {
        /// The name given.
        name: String,
    },
    /// No live token has the name or id given.
    #[error("no live API token named `{which}` or with that id (see `attest tokens list`)")]
    TokenNotFound {
        /// The name or id given.
        which: String,
    },
}

/// How to run the server.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Store URL (`sqlite://…` or `postgres://…`).
    pub database: String,
    /// ATT&CK bundle files (JSON or gzip).
    pub attack: Vec<PathBuf>,
    /// Serve without tokens, even beyond loopback.
    pub insecure_no_auth: bool,
    /// Body size and timeout limits.
    pub limits: Limits,
    /// A folder of Markdown runbooks offered in enrichment, reloaded when it changes.
    pub runbooks: Option<PathBuf>,
}

/// Whether the server may start: beyond loopback it needs a token unless told otherwise.
/// Returns the auth mode to run with.
pub fn auth_mode(
    addr: SocketAddr,
    tokens: usize,
    insecure_no_auth: bool,
) -> Result<AuthMode, Error> {
    if insecure_no_auth {
        return Ok(AuthMode::Disabled);
    }
    if tokens == 0 && !addr.ip().is_loopback() {
        return Err(Error::InsecureBind { addr });
    }
    Ok(AuthMode::Required)
}

/// Runs the server until SIGTERM or ctrl-c, then finishes in-flight requests and returns.
pub async fn serve(config: ServerConfig) -> Result<(), Error> {
    if config.attack.is_empty() {
        return Err(Error::NoAttack);
    }
    let store = attest_store::Store::open(&config.database)
        .await
        .map_err(|source| Error::Store {
            operation: "open the workspace",
            source,
        })?;
    let mode = auth_mode(
        config.listen,
        token_count(&store).await?,
        config.insecure_no_auth,
    )?;
    let (kb, warnings) = attest_attack::load::from_paths(&config.attack)?;
    if !warnings.is_empty() {
        tracing::info!(
            count = warnings.len(),
            "ATT&CK bundles loaded with warnings"
        );
    }
    let app = AppState::with_warnings(store, kb, warnings, mode).await?;
    if let Some(dir) = &config.runbooks {
        app.load_runbooks(dir.clone()).await?;
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| Error::Bind {
            addr: config.listen,
            source,
        })?;
    tracing::info!(addr = %config.listen, "attest serving");
    serve_on(listener, app, config.limits, shutdown_signal()).await
}

/// Serves `app` on an already bound listener until `shutdown` completes (tests bind port 0),
/// with the default background work (webhooks and scheduled jobs).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    app: AppState,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    serve_on_with(
        listener,
        app,
        limits,
        BackgroundOptions::default(),
        shutdown,
    )
    .await
}

/// [`serve_on`] with chosen background options. Starts the snapshot refresher, the webhook
/// detector and deliverer and (unless disabled) the job scheduler, and stops them when
/// serving ends. Work they had claimed and not finished is picked up again when its lease
/// runs out, by this server after a restart or by another.
pub async fn serve_on_with(
    listener: tokio::net::TcpListener,
    app: AppState,
    limits: Limits,
    background: BackgroundOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let addr = listener
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
    let _ = app.inner.background.set(background);
    webhooks::start_cursor(&app).await?;
    let mut tasks = vec![app.spawn_refresher()];
    tasks.extend(app.spawn_runbook_watcher());
    tasks.extend(webhooks::spawn(&app, background)?);
    if background.scheduler {
        tasks.push(jobs::spawn(&app, background));
    }
    let result = axum::serve(listener, router_with(app, limits))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|source| Error::Serve { addr, source });
    for t in tasks {
        t.abort();
    }
    result
}

/// Completes on ctrl-c or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beyond_loopback_needs_a_token() {
        let lo: SocketAddr = ([127, 0, 0, 1], 8080).into();
        let any: SocketAddr = ([0, 0, 0, 0], 8080).into();
        assert!(matches!(auth_mode(lo, 0, false), Ok(AuthMode::Required)));
        assert!(matches!(
            auth_mode(any, 0, false),
            Err(Error::InsecureBind { .. })
        ));
        assert!(matches!(auth_mode(any, 1, false), Ok(AuthMode::Required)));
        assert!(matches!(auth_mode(any, 0, true), Ok(AuthMode::Disabled)));
    }
}
