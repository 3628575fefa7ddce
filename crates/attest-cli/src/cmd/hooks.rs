//! `attest webhooks …` and `attest jobs …`: webhook subscriptions and the server's scheduled
//! jobs, managed in the workspace store (every `attest serve` on it picks them up).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use attest_server::hooks_api::{WebhookInput, validate_webhook};
use attest_server::jobs::{JOBS, META_REPLAY_DATASETS, Schedule, schedule_key, spec};
use attest_store::hooks::DeliveryStatus;
use clap::Subcommand;

use crate::cmd::workspace;
use crate::global::Context;
use crate::output::Table;

/// `attest webhooks` arguments.
#[derive(Debug, clap::Args)]
pub struct WebhooksArgs {
    #[command(subcommand)]
    verb: WebhookVerb,
}

#[derive(Debug, Subcommand)]
enum WebhookVerb {
    /// Subscribe a URL to events (replaces a subscription of the same name).
    Add {
        /// A name for the subscription.
        name: String,
        /// The http(s) URL that receives POSTs.
        url: String,
        /// Event kinds, comma-separated: regression, result_failed, source_silent,
        /// backlog_opened, backlog_closed, weekly_digest, job_failed.
        #[arg(long, required = true, value_delimiter = ',')]
        events: Vec<String>,
        /// Body shape: generic JSON, or slack (`{"text", "blocks"}` for incoming webhooks).
        #[arg(long, default_value = "generic")]
        shape: String,
        /// Read the HMAC-SHA256 signing secret from this environment variable (bodies then
        /// carry `X-Attest-Signature: sha256=<hex>`).
        #[arg(long)]
        secret_env: Option<String>,
    },
    /// List subscriptions.
    List,
    /// Remove a subscription; its pending deliveries are given up.
    Remove {
        /// The subscription's name.
        name: String,
    },
    /// The delivery log, newest first.
    Deliveries {
        /// Only pending, delivered or failed deliveries.
        #[arg(long)]
        status: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

/// `attest jobs` arguments.
#[derive(Debug, clap::Args)]
pub struct JobsArgs {
    #[command(subcommand)]
    verb: JobVerb,
}

#[derive(Debug, Subcommand)]
enum JobVerb {
    /// The scheduled jobs, their schedules and last runs.
    List,
    /// Set a job's schedule: a cron expression in UTC (`0 3 * * 1`), `off`, or `default`.
    Schedule {
        /// silence, coverage, replay or digest.
        job: String,
        /// The expression.
        expression: String,
    },
    /// Register the replay datasets the `replay` job re-runs (replaces the list).
    Datasets {
        /// Dataset folders, manifests or `info.yml` files.
        paths: Vec<PathBuf>,
        /// Register none.
        #[arg(long, conflicts_with = "paths")]
        clear: bool,
    },
}

/// Runs `attest webhooks …`.
pub async fn run_webhooks(ctx: &Context, args: WebhooksArgs) -> Result<ExitCode> {
    let store = workspace::open(ctx).await?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.verb {
        WebhookVerb::Add {
            name,
            url,
            events,
            shape,
            secret_env,
        } => {
            let secret = match secret_env {
                Some(var) => Some(std::env::var(&var).with_context(|| {
                    format!("--secret-env {var}: the environment variable is not set")
                })?),
                None => None,
            };
            let hook = validate_webhook(
                WebhookInput {
                    name,
                    url,
                    events,
                    shape: Some(shape),
                    secret,
                },
                workspace::now(),
            )
            .map_err(anyhow::Error::msg)?;
            store.upsert_webhook(&hook).await?;
            eprintln!(
                "webhook {:?} → {} ({}; {}{})",
                hook.name,
                hook.url,
                hook.events.join(", "),
                hook.shape,
                if hook.secret.is_some() {
                    ", signed"
                } else {
                    ""
                }
            );
        }
        WebhookVerb::List => {
            let mut table = Table::new(&["name", "url", "events", "shape", "signed", "created"]);
            for h in store.webhooks().await? {
                table.push(vec![
                    h.name,
                    h.url,
                    h.events.join(","),
                    h.shape,
                    h.secret.is_some().to_string(),
                    h.created.to_string(),
                ]);
            }
            table.write(ctx.format, &mut out)?;
        }
        WebhookVerb::Remove { name } => {
            if !store.remove_webhook(&name, workspace::now()).await? {
                bail!("no webhook named {name:?} (see `attest webhooks list`)");
            }
            eprintln!("webhook {name:?} removed");
        }
        WebhookVerb::Deliveries { status, limit } => {
            let status = match status.as_deref() {
                None => None,
                Some(s) => Some(DeliveryStatus::parse(s).with_context(|| {
                    format!("--status {s:?}: use pending, delivered or failed")
                })?),
            };
            let mut table = Table::new(&[
                "id", "webhook", "kind", "status", "attempts", "created", "next", "error",
            ]);
            for d in store.deliveries(status, limit).await? {
                table.push(vec![
                    d.id.to_string(),
                    d.webhook,
                    d.kind,
                    d.status.as_str().to_string(),
                    d.attempts.to_string(),
                    d.created.to_string(),
                    if d.status == DeliveryStatus::Pending {
                        d.next_at.to_string()
                    } else {
                        String::new()
                    },
                    d.last_error.unwrap_or_default(),
                ]);
            }
            table.write(ctx.format, &mut out)?;
        }
    }
    out.flush()?;
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// Runs `attest jobs …`.
pub async fn run_jobs(ctx: &Context, args: JobsArgs) -> Result<ExitCode> {
    let store = workspace::open(ctx).await?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.verb {
        JobVerb::List => {
            let rows = store.jobs().await?;
            let mut table = Table::new(&[
                "job",
                "schedule",
                "next_run",
                "last_run",
                "last_success",
                "failures",
                "last_outcome",
            ]);
            for j in JOBS {
                let schedule = store
                    .meta(&schedule_key(j.name))
                    .await?
                    .unwrap_or_else(|| j.default_schedule.to_string());
                let row = rows.iter().find(|r| r.name == j.name);
                let when =
                    |t: Option<jiff::Timestamp>| t.map(|t| t.to_string()).unwrap_or_default();
                table.push(vec![
                    j.name.to_string(),
                    schedule,
                    when(row.map(|r| r.next_at)),
                    when(row.and_then(|r| r.last_run)),
                    when(row.and_then(|r| r.last_ok)),
                    row.map_or(0, |r| r.failures).to_string(),
                    row.and_then(|r| r.last_outcome.clone()).unwrap_or_default(),
                ]);
            }
            table.write(ctx.format, &mut out)?;
        }
        JobVerb::Schedule { job, expression } => {
            let Some(j) = spec(&job) else {
                bail!("no job {job:?} (jobs: {})", JOBS.map(|j| j.name).join(", "));
            };
            let expr = if expression.trim().eq_ignore_ascii_case("default") {
                j.default_schedule.to_string()
            } else {
                expression.trim().to_string()
            };
            Schedule::parse(&expr).map_err(anyhow::Error::msg)?;
            attest_server::jobs::set_setting(
                &store,
                &super::workspace::who(),
                &schedule_key(j.name),
                &expr,
            )
            .await?;
            eprintln!(
                "job {} scheduled: {expr} (UTC); running servers pick it up at their next pass",
                j.name
            );
        }
        JobVerb::Datasets { paths, clear } => {
            if !clear && paths.is_empty() {
                bail!("give dataset paths, or --clear");
            }
            let mut lines = Vec::new();
            for p in &paths {
                let abs =
                    std::fs::canonicalize(p).with_context(|| format!("dataset {}", p.display()))?;
                lines.push(abs.display().to_string());
            }
            attest_server::jobs::set_setting(
                &store,
                &super::workspace::who(),
                META_REPLAY_DATASETS,
                &lines.join("\n"),
            )
            .await?;
            eprintln!(
                "{} replay dataset(s) registered for the replay job",
                lines.len()
            );
        }
    }
    out.flush()?;
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
