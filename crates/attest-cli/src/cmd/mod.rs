//! One module per noun (`attest <noun> <verb>`); this file only lists them and dispatches.

pub mod attack;

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
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let ctx = Context::new(&cli.global);
    match cli.command {
        Command::Attack(args) => attack::run(&ctx, args),
    }
}
