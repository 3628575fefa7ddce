//! `attest coverage`: the coverage rule applied — per technique state, reasons and the headline.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use attest_core::coverage::CoverageState;
use clap::Subcommand;
use serde_json::json;

use crate::cmd::analysis::{self, Analysis, ScopeArgs, reason_text};
use crate::cmd::workspace;
use crate::global::Context;
use crate::output::{Format, Table};

/// `attest coverage` arguments.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    verb: Option<Verb>,
    #[command(flatten)]
    show: ShowArgs,
}

#[derive(Debug, Default, clap::Args)]
struct ShowArgs {
    #[command(flatten)]
    scope: ScopeArgs,
    /// Compute from the journal up to this instant (RFC 3339 or a date).
    #[arg(long)]
    as_of: Option<String>,
    /// Only techniques in this state (validated, unvalidated, failing, degraded, gap).
    #[arg(long)]
    state: Option<String>,
    /// Only techniques of this tactic.
    #[arg(long)]
    tactic: Option<String>,
    /// Also write an XLSX workbook (headline, tactics, techniques, rules).
    #[arg(long, value_name = "FILE")]
    xlsx: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Verb {
    /// The "green map problem": techniques a Navigator layer claims as covered, against what the
    /// evidence says.
    ClaimedVsValidated {
        /// An ATT&CK Navigator layer (4.x) whose scored or coloured techniques are claims.
        layer: PathBuf,
    },
    /// A SIEM lookup table: rule id → techniques, tactics, data sources, validation status, last
    /// tested (CSV).
    Lookup,
}

/// Runs `attest coverage …`.
pub async fn run(ctx: &Context, args: Args) -> Result<ExitCode> {
    let store = workspace::open(ctx).await?;
    let code = match args.verb {
        None => show(ctx, &store, args.show).await?,
        Some(Verb::ClaimedVsValidated { layer }) => claimed(ctx, &store, &layer).await?,
        Some(Verb::Lookup) => lookup(ctx, &store).await?,
    };
    store.close().await;
    Ok(code)
}

use attest_formats::export::coverage_table::{
    COVERAGE_COLUMNS as COLUMNS, coverage_workbook, technique_row,
};

async fn show(ctx: &Context, store: &attest_store::Store, args: ShowArgs) -> Result<ExitCode> {
    let as_of = analysis::as_of(args.as_of.as_deref())?;
    let a = analysis::analyse(ctx, store, &args.scope, as_of).await?;
    let state_filter = args
        .state
        .as_deref()
        .map(|s| {
            CoverageState::parse(s).with_context(|| {
                format!("--state {s:?}: use validated, unvalidated, failing, degraded or gap")
            })
        })
        .transpose()?;
    let tactic = args
        .tactic
        .as_deref()
        .map(attest_formats::import::normalize_tactic);
    let mut table = Table::new(COLUMNS);
    for t in &a.coverage.techniques {
        if state_filter.is_some_and(|s| s != t.state)
            || tactic.as_ref().is_some_and(|x| !t.tactics.contains(x))
        {
            continue;
        }
        table.push(technique_row(t));
    }
    let headline = headline_json(&a);
    if let Some(path) = &args.xlsx {
        write_xlsx(&a, &table, path)?;
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match ctx.format {
        Format::Json => {
            let doc = json!({"headline": headline, "techniques": table.to_json()});
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
        Format::Csv => table.write(Format::Csv, &mut out)?,
        Format::Table | Format::Md => {
            write_headline(&a, ctx.format, &mut out)?;
            writeln!(out)?;
            table.write(ctx.format, &mut out)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The headline: shares of the (priority-weighted, with a profile) technique set per state.
pub fn headline_json(a: &Analysis) -> serde_json::Value {
    let o = &a.coverage.overall;
    let mut states = serde_json::Map::new();
    for s in CoverageState::ALL {
        states.insert(
            s.as_str().to_string(),
            json!({"techniques": o.count(s), "weight": o.weight(s), "share": o.share(s)}),
        );
    }
    let tactics: Vec<_> = a
        .coverage
        .tactics
        .iter()
        .map(|t| {
            json!({
                "tactic": t.tactic.shortname,
                "techniques": t.tally.total(),
                "validated": t.tally.count(CoverageState::Validated),
                "validated_share": t.tally.share(CoverageState::Validated),
            })
        })
        .collect();
    json!({
        "at": a.at.to_string(),
        "attack": a.kb.kb.release_label(),
        "profile": a.target.as_ref().map(|t| t.profile.clone()),
        "techniques": o.total(),
        "total_weight": o.total_weight(),
        "validated_share": o.share(CoverageState::Validated),
        "states": states,
        "tactics": tactics,
    })
}

fn write_headline(a: &Analysis, format: Format, out: &mut dyn Write) -> Result<()> {
    let o = &a.coverage.overall;
    let what = match &a.target {
        Some(t) => format!(
            "profile {} ({} priority techniques, weighted)",
            t.profile,
            o.total()
        ),
        None => format!("{} techniques", o.total()),
    };
    let bullet = if format == Format::Md { "- " } else { "  " };
    writeln!(
        out,
        "Coverage of {what}, ATT&CK {}, as of {}:",
        a.kb.kb.release_label(),
        a.at
    )?;
    for s in CoverageState::ALL {
        writeln!(
            out,
            "{bullet}{:<12} {:>5.1}%  ({} techniques)",
            s.as_str(),
            100.0 * o.share(s),
            o.count(s)
        )?;
    }
    writeln!(out)?;
    let mut t = Table::new(&["tactic", "techniques", "validated", "in_progress", "gap"]);
    for ts in &a.coverage.tactics {
        let in_progress = ts.tally.count(CoverageState::Unvalidated)
            + ts.tally.count(CoverageState::Failing)
            + ts.tally.count(CoverageState::Degraded);
        t.push(vec![
            ts.tactic.shortname.clone(),
            ts.tally.total().to_string(),
            ts.tally.count(CoverageState::Validated).to_string(),
            in_progress.to_string(),
            ts.tally.count(CoverageState::Gap).to_string(),
        ]);
    }
    t.write(format, out)
}

fn write_xlsx(a: &Analysis, techniques: &Table, path: &std::path::Path) -> Result<()> {
    let bytes = coverage_workbook(&a.coverage, &techniques.rows)?;
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

async fn claimed(
    ctx: &Context,
    store: &attest_store::Store,
    layer: &std::path::Path,
) -> Result<ExitCode> {
    let bytes = std::fs::read(layer).with_context(|| format!("reading {}", layer.display()))?;
    let label = layer.display().to_string();
    let (claims, diags) =
        attest_formats::import::navigator::read_layer_claims(attest_formats::Input {
            path: &label,
            bytes: &bytes,
        });
    for d in &diags {
        eprintln!("{d}");
    }
    let Some(claims) = claims else {
        anyhow::bail!("{} is not a readable Navigator layer", layer.display());
    };
    let a = analysis::analyse(ctx, store, &ScopeArgs::default(), None).await?;
    let mut table = Table::new(&["technique", "name", "claimed", "state", "why"]);
    let checks = attest_core::check::check_claims(
        claims.techniques.iter().map(|c| c.technique.as_str()),
        &a.coverage,
    );
    let not_validated = checks.iter().filter(|c| !c.is_validated()).count();
    for c in &checks {
        let (state, why, name) = match c.coverage {
            Some(t) => (
                t.state.as_str().to_string(),
                t.reasons
                    .iter()
                    .map(reason_text)
                    .collect::<Vec<_>>()
                    .join("; "),
                t.name.clone(),
            ),
            None => (
                "unknown".into(),
                format!(
                    "not an active technique of ATT&CK {}",
                    a.kb.kb.release_label()
                ),
                String::new(),
            ),
        };
        table.push(vec![c.claimed.clone(), name, "yes".into(), state, why]);
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if ctx.format == Format::Table {
        writeln!(
            out,
            "{} techniques claimed by {}: {} not validated by evidence",
            checks.len(),
            layer.display(),
            not_validated
        )?;
    }
    table.write(ctx.format, &mut out)?;
    Ok(ExitCode::SUCCESS)
}

async fn lookup(ctx: &Context, store: &attest_store::Store) -> Result<ExitCode> {
    use attest_formats::export::lookup::{lookup_csv, lookup_rows};
    let a = analysis::analyse(ctx, store, &ScopeArgs::default(), None).await?;
    let rows = lookup_rows(&a.catalog, &a.state, a.at);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    out.write_all(lookup_csv(&rows).as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
