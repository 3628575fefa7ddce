//! `attest serve` and `attest tokens create|list|revoke`: the HTTP API over the workspace.

use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use clap::Subcommand;

use crate::cmd::workspace;
use crate::global::Context;
use crate::output::Table;

/// `attest serve` arguments.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on. Beyond loopback, the server refuses to start without an API token
    /// (`attest tokens create`) unless --insecure-no-auth.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Serve without authentication (only for a lab; every request is anonymous).
    #[arg(long)]
    insecure_no_auth: bool,
    /// A folder of Markdown runbooks (YAML front matter naming their techniques) offered in SOAR
    /// enrichment; reloaded when its files change.
    #[arg(long, env = "ATTEST_RUNBOOKS", value_name = "DIR")]
    runbooks: Option<std::path::PathBuf>,
}

/// `attest tokens` arguments.
#[derive(Debug, clap::Args)]
pub struct TokensArgs {
    #[command(subcommand)]
    verb: TokenVerb,
}

#[derive(Debug, Subcommand)]
enum TokenVerb {
    /// Create an API token; it is printed once and stored only as a hash.
    Create {
        /// A name for the token (journaled as the author of its writes), e.g. "soar-prod".
        name: String,
        /// viewer (read), engineer (write rules, sources, results) or admin.
        #[arg(long, default_value = "viewer")]
        role: String,
    },
    /// The tokens: id, name, role, created, revoked (never the secret or its hash).
    List,
    /// Revoke the live tokens with this name, or the one with this id; running servers refuse
    /// them within a second.
    Revoke {
        /// Token name or id (see `attest tokens list`).
        which: String,
    },
}

/// Runs `attest serve`.
pub async fn run_serve(ctx: &Context, args: ServeArgs) -> Result<ExitCode> {
    let store = workspace::open(ctx).await?;
    let mut recorded = workspace::recorded_bundles(&store).await?;
    if !recorded.iter().all(|p| p.is_file()) {
        // Recorded on another host (an update through another instance): the journaled release
        // found here, in the bundle cache, as every instance finds it when the release changes.
        let releases = store.projected_state().await?.releases;
        let cache = attest_attack::cache::default_dir();
        let found: Option<Vec<_>> = releases
            .iter()
            .map(|r| {
                attest_attack::cache::find_local(
                    cache.as_deref(),
                    &r.domain,
                    &r.version,
                    &r.location,
                )
            })
            .collect();
        if let Some(found) = found.filter(|f| !f.is_empty()) {
            recorded = found;
        }
    }
    store.close().await;
    let attack = {
        let ctx = ctx.clone();
        tokio::task::spawn_blocking(move || crate::kb_source::bundle_paths(&ctx, &recorded))
            .await??
    };
    let config = attest_server::ServerConfig {
        listen: args.listen,
        database: workspace::database_url(ctx),
        attack,
        insecure_no_auth: args.insecure_no_auth,
        limits: attest_server::Limits::default(),
        runbooks: args.runbooks,
    };
    eprintln!(
        "attest serving {} on http://{}",
        config.database, config.listen
    );
    attest_server::serve(config)
        .await
        .context("serving the HTTP API")?;
    Ok(ExitCode::SUCCESS)
}

/// Runs `attest tokens …`.
pub async fn run_tokens(ctx: &Context, args: TokensArgs) -> Result<ExitCode> {
    let store = workspace::open(ctx).await?;
    match args.verb {
        TokenVerb::Create { name, role } => {
            let Some(role) = attest_server::Role::parse(&role) else {
                bail!("--role {role:?}: use viewer, engineer or admin");
            };
            let token =
                attest_server::create_token_by(&store, &name, role, &workspace::who()).await?;
            println!("{token}");
            eprintln!(
                "token {name:?} ({}) created; it is shown only now",
                role.as_str()
            );
        }
        TokenVerb::List => {
            let mut table = Table::new(&["id", "name", "role", "created", "revoked", "revoked_by"]);
            for t in attest_server::list_tokens(&store).await? {
                let (revoked, by) = t
                    .revoked
                    .map_or((String::new(), String::new()), |(at, by)| {
                        (at.to_string(), by)
                    });
                table.push(vec![
                    t.id,
                    t.name,
                    t.role.as_str().to_string(),
                    t.created.map(|c| c.to_string()).unwrap_or_default(),
                    revoked,
                    by,
                ]);
            }
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            table.write(ctx.format, &mut out)?;
        }
        TokenVerb::Revoke { which } => {
            let revoked =
                attest_server::revoke_token(&store, &which, &workspace::who(), workspace::now())
                    .await?;
            for t in &revoked {
                println!("revoked {} ({}, {})", t.name, t.id, t.role.as_str());
            }
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
