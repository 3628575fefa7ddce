//! `attest diff` and `attest check`: what got worse, why, and whether CI should fail.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use attest_core::coverage::CoverageState;
use attest_core::diff::{Cause, Direction, diff};
use serde_json::json;

use crate::cmd::analysis::{self, ScopeArgs};
use crate::cmd::workspace;
use crate::global::Context;
use crate::output::{Format, Table};

/// `attest diff` arguments.
#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// From this instant.
    #[arg(long)]
    from: String,
    /// To this instant (default now).
    #[arg(long)]
    to: Option<String>,
    #[command(flatten)]
    scope: ScopeArgs,
    /// List exposure changes (opened, closed, reopened, severity or status changed) instead of
    /// techniques. The table format shows both.
    #[arg(long)]
    exposures: bool,
}

/// `attest check` arguments.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    #[command(flatten)]
    scope: ScopeArgs,
    /// Fail when a technique is worse than in this baseline: a file written by
    /// --write-baseline, or an instant (the journal as of then).
    #[arg(long)]
    baseline: Option<String>,
    /// Fail when the validated share (of priority weight, with --profile) is below this percent.
    #[arg(long)]
    min_validated: Option<f64>,
    /// Write the current states as a baseline file and exit 0.
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,
}

fn cause_text(c: &Cause) -> String {
    c.to_string()
}

/// Runs `attest diff`.
pub async fn run_diff(ctx: &Context, args: DiffArgs) -> Result<ExitCode> {
    let store = workspace::open(ctx).await?;
    let from = workspace::parse_time(&args.from)?;
    let to = match &args.to {
        Some(t) => workspace::parse_time(t)?,
        None => workspace::now(),
    };
    if from > to {
        bail!("--from {from} is after --to {to}");
    }
    let before = analysis::analyse(ctx, &store, &args.scope, Some(from)).await?;
    let after_state = store.state(Some(to)).await?;
    let entries = store
        .journal(&attest_store::JournalQuery {
            as_of: Some(to),
            ..Default::default()
        })
        .await?;
    store.close().await;
    let (_, after) = analysis::coverage_for(&before.catalog, &after_state, &args.scope, to)?;
    let changes = diff(&before.coverage, &after, &entries);
    let mut t = Table::new(&["technique", "from", "to", "direction", "causes"]);
    for c in &changes {
        t.push(vec![
            c.technique.to_string(),
            c.from.map(|s| s.as_str()).unwrap_or("-").into(),
            c.to.map(|s| s.as_str()).unwrap_or("-").into(),
            match c.direction {
                Direction::Better => "better",
                Direction::Worse => "worse",
            }
            .into(),
            c.causes
                .iter()
                .map(cause_text)
                .collect::<Vec<_>>()
                .join("; "),
        ]);
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if ctx.format == Format::Table {
        let worse = changes
            .iter()
            .filter(|c| c.direction == Direction::Worse)
            .count();
        writeln!(
            out,
            "{} techniques changed between {from} and {to}: {} worse, {} better",
            changes.len(),
            worse,
            changes.len() - worse
        )?;
    }
    let exposure_changes =
        attest_core::exposure::exposure_changes(&before.state.exposures, &after_state.exposures);
    let mut e = Table::new(&["exposure", "change", "detail"]);
    for c in &exposure_changes {
        use attest_core::exposure::ExposureChangeKind as K;
        let (change, detail) = match &c.kind {
            K::Opened => ("opened", String::new()),
            K::Closed => ("closed", String::new()),
            K::Reopened => ("reopened", String::new()),
            K::SeverityChanged { from, to } => {
                ("severity", format!("{} → {}", from.text(), to.text()))
            }
            K::StatusChanged { from, to } => {
                ("status", format!("{} → {}", from.as_str(), to.as_str()))
            }
        };
        e.push(vec![c.key.id(), change.into(), detail]);
    }
    if args.exposures {
        e.write(ctx.format, &mut out)?;
        return Ok(ExitCode::SUCCESS);
    }
    t.write(ctx.format, &mut out)?;
    if ctx.format == Format::Table && !exposure_changes.is_empty() {
        writeln!(out, "\n{} exposures changed:", exposure_changes.len())?;
        e.write(ctx.format, &mut out)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `attest check`: exit 0 when coverage holds, 1 when it regressed or is below the bar.
pub async fn run_check(ctx: &Context, args: CheckArgs) -> Result<ExitCode> {
    let store = workspace::open(ctx).await?;
    let now = workspace::now();
    let current = analysis::analyse(ctx, &store, &args.scope, Some(now)).await?;
    if let Some(path) = &args.write_baseline {
        let states: serde_json::Map<String, serde_json::Value> = current
            .coverage
            .techniques
            .iter()
            .map(|t| (t.technique.to_string(), json!(t.state.as_str())))
            .collect();
        let doc = json!({"attest_baseline": 1, "at": now.to_string(), "profile": args.scope.profile, "states": states});
        std::fs::write(path, serde_json::to_string_pretty(&doc)?)
            .with_context(|| format!("writing {}", path.display()))?;
        println!(
            "baseline of {} techniques written to {}",
            states.len(),
            path.display()
        );
        store.close().await;
        return Ok(ExitCode::SUCCESS);
    }
    let baseline: Vec<(String, CoverageState)> = match &args.baseline {
        None => Vec::new(),
        Some(b) if std::path::Path::new(b).is_file() => {
            let text = std::fs::read_to_string(b).with_context(|| format!("reading {b}"))?;
            let doc: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{b} is not a baseline written by --write-baseline"))?;
            let Some(states) = doc.get("states").and_then(|s| s.as_object()) else {
                bail!("{b} is not a baseline written by --write-baseline (no `states`)");
            };
            states
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), CoverageState::parse(v.as_str()?)?)))
                .collect()
        }
        Some(b) => {
            let at = workspace::parse_time(b)
                .with_context(|| format!("--baseline {b:?} is neither a file nor a time"))?;
            let then = analysis::analyse(ctx, &store, &args.scope, Some(at)).await?;
            then.coverage
                .techniques
                .iter()
                .map(|t| (t.technique.to_string(), t.state))
                .collect()
        }
    };
    let outcome = attest_core::check::check(&current.coverage, &baseline, args.min_validated);
    let share = outcome.validated_share;
    let failures: Vec<String> = outcome.failures.iter().map(ToString::to_string).collect();
    store.close().await;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    writeln!(
        out,
        "validated: {share:.1}% of {} techniques{}",
        current.coverage.overall.total(),
        args.scope
            .profile
            .as_ref()
            .map(|p| format!(" (profile {p}, priority-weighted)"))
            .unwrap_or_default()
    )?;
    if failures.is_empty() {
        writeln!(out, "check passed")?;
        Ok(ExitCode::SUCCESS)
    } else {
        writeln!(out, "check FAILED:")?;
        for f in &failures {
            writeln!(out, "  {f}")?;
        }
        Ok(ExitCode::from(crate::EXIT_NO))
    }
}
