//! One module per noun (`attest <noun> <verb>`); this file only lists them and dispatches.

pub mod attack;
pub mod init;
pub mod rules;
pub mod sources;
pub mod tests;
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
