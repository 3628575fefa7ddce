//! `attest trend`: the validated share over time, as a table/CSV and an SVG chart, with the
//! regressions between points.

use std::path::PathBuf;

use anyhow::{Context as _, Result, bail};
use attest_core::coverage::{Catalog, CoverageState};
use attest_core::trend::{Interval, instants, series};
use attest_formats::export::trend::{TrendSeries, trend_csv, trend_svg};

use crate::cmd::analysis::{ScopeArgs, scope_for};
use crate::cmd::workspace;
use crate::global::Context;
use crate::output::{Format, Table};

/// `attest trend` arguments.
#[derive(Debug, clap::Args)]
pub struct TrendArgs {
    #[command(flatten)]
    scope: ScopeArgs,
    /// Distance between points: day, week, month, or a span such as 12h or "2 weeks".
    #[arg(long, default_value = "week")]
    every: String,
    /// First point (default: the first journal entry).
    #[arg(long)]
    from: Option<String>,
    /// Last point (default now).
    #[arg(long)]
    to: Option<String>,
    /// Also write the chart as SVG to this file.
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
    /// Also write the points as CSV to this file (the same columns as `--format csv`).
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
}

/// Runs `attest trend`.
pub async fn run(ctx: &Context, args: TrendArgs) -> Result<std::process::ExitCode> {
    let every = Interval::parse(&args.every).with_context(|| {
        format!(
            "--every {:?}: expected day, week, month or a positive span such as 12h",
            args.every
        )
    })?;
    let store = workspace::open(ctx).await?;
    let kb = workspace::load_kb(ctx, &store).await?;
    let to = match &args.to {
        Some(t) => workspace::parse_time(t).context("--to")?,
        None => workspace::now(),
    };
    let entries = store
        .journal(&attest_store::JournalQuery {
            as_of: Some(to),
            ..Default::default()
        })
        .await?;
    store.close().await;
    let from = match &args.from {
        Some(t) => workspace::parse_time(t).context("--from")?,
        None => match entries.first() {
            Some(e) => e.at,
            None => bail!("the journal is empty: nothing has happened to chart yet"),
        },
    };
    let catalog = Catalog::from_kb(&kb.kb);
    // The scope must exist at the end; before that a missing profile is a point without data
    // (the profile was created later), not an error.
    let final_state = attest_core::state::State::from_journal(&entries);
    scope_for(&catalog, &final_state, &args.scope)?;
    let points = instants(from, to, every)?;
    let got = series(&catalog, &entries, &points, |state| {
        scope_for(&catalog, state, &args.scope).ok().map(|(_, s)| s)
    });
    let name = args.scope.profile.as_deref().unwrap_or("all");
    let lines = [TrendSeries { name, points: &got }];

    if let Some(path) = &args.svg {
        let title = attest_formats::export::trend::trend_title(
            args.scope.profile.as_deref(),
            args.scope.platform.as_deref(),
        );
        let svg = trend_svg(&title, &lines)?;
        std::fs::write(path, svg).with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &args.csv {
        let file =
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
        trend_csv(&lines, std::io::BufWriter::new(file))
            .with_context(|| format!("writing {}", path.display()))?;
    }

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if ctx.format == Format::Csv {
        trend_csv(&lines, &mut out)?;
        return Ok(std::process::ExitCode::SUCCESS);
    }
    let mut t = Table::new(&[
        "at",
        "techniques",
        "validated",
        "validated_share",
        "failing",
        "degraded",
        "gap",
        "regressions",
    ]);
    for p in &got {
        let Some(tally) = &p.tally else {
            t.push(vec![
                p.at.to_string(),
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                String::new(),
            ]);
            continue;
        };
        t.push(vec![
            p.at.to_string(),
            tally.total().to_string(),
            tally.count(CoverageState::Validated).to_string(),
            format!("{:.1}%", 100.0 * tally.share(CoverageState::Validated)),
            tally.count(CoverageState::Failing).to_string(),
            tally.count(CoverageState::Degraded).to_string(),
            tally.count(CoverageState::Gap).to_string(),
            p.regressions
                .iter()
                .map(|r| {
                    format!(
                        "{} {}→{}",
                        r.technique,
                        r.from.map(|s| s.as_str()).unwrap_or("-"),
                        r.to.as_str()
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
        ]);
    }
    t.write(ctx.format, &mut out)?;
    Ok(std::process::ExitCode::SUCCESS)
}
