//! `attest backlog` and `attest plan`: gaps as work items, and exercises that close them.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use attest_core::backlog::{BacklogOptions, ItemKind, NextStep, Ownership, backlog};

use crate::cmd::analysis::{self, ScopeArgs, reason_text};
use crate::cmd::workspace;
use crate::global::Context;
use crate::output::{Format, Table};

/// `attest backlog` arguments.
#[derive(Debug, clap::Args)]
pub struct BacklogArgs {
    /// The profile whose target set is the backlog's scope.
    #[arg(long)]
    profile: String,
    /// Technique-cluster ownership file (tactics/techniques → engineer).
    #[arg(long, value_name = "FILE")]
    owners: Option<PathBuf>,
    /// Passes expiring within this many days appear as due re-validations.
    #[arg(long, default_value_t = 14)]
    due_days: i64,
}

/// `attest plan` arguments.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// The profile to plan an exercise for.
    #[arg(long)]
    profile: String,
    /// Platform the exercise runs on (default: the profile's, else windows).
    #[arg(long)]
    platform: Option<String>,
}

fn step_text(s: &NextStep) -> String {
    s.to_string()
}

/// Runs `attest backlog`.
pub async fn run_backlog(ctx: &Context, args: BacklogArgs) -> Result<ExitCode> {
    let store = workspace::open(ctx).await?;
    let scope = ScopeArgs {
        profile: Some(args.profile.clone()),
        ..Default::default()
    };
    let a = analysis::analyse(ctx, &store, &scope, None).await?;
    store.close().await;
    let ownership = match &args.owners {
        Some(path) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            let label = path.display().to_string();
            let (map, diags) =
                attest_formats::import::ownership::read_ownership(attest_formats::Input {
                    path: &label,
                    bytes: &bytes,
                });
            for d in &diags {
                eprintln!("{d}");
            }
            match map {
                Some(m)
                    if !diags
                        .iter()
                        .any(|d| d.severity == attest_formats::Severity::Error) =>
                {
                    m.to_core()
                }
                _ => bail!("{} has errors", path.display()),
            }
        }
        None => Ownership::default(),
    };
    let Some(target) = &a.target else {
        bail!("no profile {:?}", args.profile)
    };
    let options = BacklogOptions {
        due_within: jiff::SignedDuration::from_hours(24 * args.due_days),
    };
    let items = backlog(
        &a.catalog,
        &a.state,
        target,
        &a.coverage,
        &ownership,
        &options,
        a.at,
    );
    let mut t = Table::new(&[
        "id",
        "kind",
        "technique",
        "name",
        "priority",
        "tier",
        "owner",
        "state",
        "reasons",
        "next",
    ]);
    for i in &items {
        t.push(vec![
            i.id.clone(),
            match &i.kind {
                ItemKind::NotValidated => "gap".to_string(),
                ItemKind::Due { expires } => format!("due {expires}"),
            },
            i.technique.to_string(),
            i.name.clone(),
            format!("{:.3}", i.priority),
            i.tier.clone(),
            i.owner.clone().unwrap_or_default(),
            i.state.as_str().into(),
            i.reasons
                .iter()
                .map(reason_text)
                .collect::<Vec<_>>()
                .join("; "),
            i.next.iter().map(step_text).collect::<Vec<_>>().join("; "),
        ]);
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if ctx.format == Format::Table {
        writeln!(
            out,
            "{} backlog items for profile {}",
            items.len(),
            args.profile
        )?;
    }
    t.write(ctx.format, &mut out)?;
    Ok(ExitCode::SUCCESS)
}

/// Runs `attest plan`: per unvalidated priority technique, the Atomic tests for the platform, the
/// rules expected to fire and the data sources they need.
pub async fn run_plan(ctx: &Context, args: PlanArgs) -> Result<ExitCode> {
    let store = workspace::open(ctx).await?;
    let scope = ScopeArgs {
        profile: Some(args.profile.clone()),
        ..Default::default()
    };
    let a = analysis::analyse(ctx, &store, &scope, None).await?;
    store.close().await;
    let Some(target) = &a.target else {
        bail!("no profile {:?}", args.profile)
    };
    let platform = attest_core::backlog::plan_platform(target, args.platform.as_deref());
    let mut t = Table::new(&[
        "technique",
        "name",
        "priority",
        "state",
        "tests",
        "rules_expected",
        "data_sources",
    ]);
    for item in attest_core::backlog::exercise_plan(&a.state, target, &a.coverage, &platform) {
        let tests: Vec<String> = item
            .tests
            .iter()
            .map(|(id, name)| format!("{id} ({name})"))
            .collect();
        let rules: Vec<String> = item.rules.iter().map(|r| r.0.clone()).collect();
        let sources: Vec<String> = item
            .data_sources
            .iter()
            .map(|(component, by)| {
                if by.is_empty() {
                    format!("{component} (missing)")
                } else {
                    format!("{component} ({})", by.join(", "))
                }
            })
            .collect();
        t.push(vec![
            item.technique.to_string(),
            item.name,
            format!("{:.3}", item.priority),
            item.state.as_str().into(),
            tests.join("; "),
            rules.join("; "),
            sources.join("; "),
        ]);
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if matches!(ctx.format, Format::Table | Format::Md) {
        writeln!(
            out,
            "# Exercise plan — profile {} on {platform}\n",
            args.profile
        )?;
        writeln!(
            out,
            "{} priority techniques are not validated; run these tests and record results with `attest validate import atomic`.\n",
            t.rows.len()
        )?;
    }
    t.write(ctx.format, &mut out)?;
    Ok(ExitCode::SUCCESS)
}
