//! `attest layer export`: ATT&CK Navigator layers (format 4.5) of coverage, priority or an actor.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use attest_formats::export::navigator::{CoverageLayerError, CoverageLayerKind, coverage_layer};
use clap::Subcommand;

use crate::cmd::analysis::{self, ScopeArgs};
use crate::cmd::workspace;
use crate::global::Context;

/// `attest layer` arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    verb: Verb,
}

#[derive(Debug, Subcommand)]
enum Verb {
    /// Write a Navigator layer.
    Export {
        /// state (coverage colours), priority (uncovered priority techniques) or actor (overlay).
        #[arg(long, default_value = "state")]
        kind: String,
        #[command(flatten)]
        scope: ScopeArgs,
        /// The actor for --kind actor (ATT&CK group ID, name or alias).
        #[arg(long)]
        actor: Option<String>,
        /// As of this instant.
        #[arg(long)]
        as_of: Option<String>,
        /// Output file (default: standard output).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

/// Runs `attest layer …`.
pub async fn run(ctx: &Context, args: Args) -> Result<ExitCode> {
    let Verb::Export {
        kind,
        scope,
        actor,
        as_of,
        output,
    } = args.verb;
    let store = workspace::open(ctx).await?;
    let a = analysis::analyse(ctx, &store, &scope, analysis::as_of(as_of.as_deref())?).await?;
    store.close().await;
    let kind = CoverageLayerKind::parse(&kind, actor.as_deref())
        .map_err(|e| anyhow::anyhow!("--kind: {e}"))?;
    let json = coverage_layer(
        &a.kb.kb,
        &a.coverage,
        a.target.as_ref(),
        kind,
        scope.platform.as_deref(),
    )
    .map_err(|e| match e {
        CoverageLayerError::NeedsProfile => anyhow::anyhow!("--kind priority needs --profile"),
        CoverageLayerError::NeedsActor => anyhow::anyhow!("--kind actor needs --actor"),
        other => anyhow::anyhow!(other),
    })?;
    match output {
        Some(path) => {
            std::fs::write(&path, json).with_context(|| format!("writing {}", path.display()))?;
            eprintln!("layer written to {}", path.display());
        }
        None => println!("{json}"),
    }
    Ok(ExitCode::SUCCESS)
}
