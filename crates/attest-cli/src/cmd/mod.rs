//! One module per noun (`attest <noun> <verb>`); this file only lists them and dispatches.

pub mod analysis;
pub mod attack;
pub mod backlog;
pub mod coverage;
pub mod demo;
pub mod exposures;
pub mod history;
pub mod hooks;
pub mod init;
pub mod layer;
pub mod profiles;
pub mod rules;
pub mod serve;
pub mod sources;
pub mod tests;
pub mod trend;
pub mod validate;
pub mod workspace;

use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

use crate::global::{Context, GlobalArgs};

/// attest: where your ATT&CK detection coverage is validated, assumed, or missing.
#[derive(Debug, Parser)]
#[command(
    name = "attest",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// The nouns.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The ATT&CK knowledge base: info, techniques, groups, search, remap.
    Attack(attack::Args),
    /// Create a workspace and record the ATT&CK release(s) it is built on.
    Init(init::Args),
    /// The data source inventory: add, edit, remove, heartbeats, health, visibility.
    Sources(sources::Args),
    /// The detection rule registry: import, list, show, enable/disable, assign, suppress.
    Rules(rules::Args),
    /// The test catalogue: Atomic Red Team tests, scenarios, replay datasets.
    Tests(tests::Args),
    /// Record validation results, import them, or replay recorded telemetry through the rules.
    Validate(validate::Args),
    /// Intel actors: import from STIX bundles or DeTT&CT, list with ATT&CK groups.
    Actors(profiles::ActorsArgs),
    /// Profiles: the prioritised target set of techniques and why.
    Profiles(profiles::ProfilesArgs),
    /// Coverage per technique and tactic with reasons, the headline, claimed vs validated, lookups.
    Coverage(coverage::Args),
    /// ATT&CK Navigator layers (4.5): coverage states, priorities, actor overlays.
    Layer(layer::Args),
    /// Gaps in a profile as work items with owners and next steps; due re-validations.
    Backlog(backlog::BacklogArgs),
    /// An exercise plan: Atomic tests, rules and data sources for a profile's unvalidated techniques.
    Plan(backlog::PlanArgs),
    /// Techniques whose state changed between two instants, with the events that caused it.
    Diff(history::DiffArgs),
    /// CI gate: exit 1 when coverage regressed against a baseline or is below a bar.
    Check(history::CheckArgs),
    /// Exposures (CTEM): import findings and CVE/misconfiguration mappings; effective priorities.
    Exposures(exposures::Args),
    /// The validated share over time (table, CSV, SVG chart), with regressions between points.
    Trend(trend::TrendArgs),
    /// Build a realistic demo workspace (rules in four formats, an inventory, real ATT&CK groups,
    /// months of recorded results) and serve its dashboard.
    Demo(demo::Args),
    /// Serve the HTTP API (JSON under /api/v1, SOAR enrichment, /metrics, /healthz).
    Serve(serve::ServeArgs),
    /// API tokens for the HTTP API.
    Tokens(serve::TokensArgs),
    /// Webhook subscriptions (regressions, failed results, silent sources, backlog, digests).
    Webhooks(hooks::WebhooksArgs),
    /// The server's scheduled jobs: list, schedule, replay datasets.
    Jobs(hooks::JobsArgs),
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let ctx = Context::new(&cli.global);
    match cli.command {
        Command::Attack(args) => attack::run(&ctx, args),
        Command::Init(args) => block_on(init::run(&ctx, args)),
        Command::Sources(args) => block_on(sources::run(&ctx, args)),
        Command::Rules(args) => block_on(rules::run(&ctx, args)),
        Command::Tests(args) => block_on(tests::run(&ctx, args)),
        Command::Validate(args) => block_on(validate::run(&ctx, args)),
        Command::Actors(args) => block_on(profiles::run_actors(&ctx, args)),
        Command::Profiles(args) => block_on(profiles::run_profiles(&ctx, args)),
        Command::Coverage(args) => block_on(coverage::run(&ctx, args)),
        Command::Layer(args) => block_on(layer::run(&ctx, args)),
        Command::Backlog(args) => block_on(backlog::run_backlog(&ctx, args)),
        Command::Plan(args) => block_on(backlog::run_plan(&ctx, args)),
        Command::Diff(args) => block_on(history::run_diff(&ctx, args)),
        Command::Check(args) => block_on(history::run_check(&ctx, args)),
        Command::Exposures(args) => block_on(exposures::run(&ctx, args)),
        Command::Trend(args) => block_on(trend::run(&ctx, args)),
        Command::Demo(args) => block_on(demo::run(&ctx, args)),
        Command::Serve(args) => block_on(serve::run_serve(&ctx, args)),
        Command::Tokens(args) => block_on(serve::run_tokens(&ctx, args)),
        Command::Webhooks(args) => block_on(hooks::run_webhooks(&ctx, args)),
        Command::Jobs(args) => block_on(hooks::run_jobs(&ctx, args)),
    }
}

/// Runs an async command on a runtime sized for this machine's cores.
pub fn block_on<F: std::future::Future<Output = Result<ExitCode>>>(future: F) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("starting the async runtime: {e}"))?;
    runtime.block_on(future)
}
