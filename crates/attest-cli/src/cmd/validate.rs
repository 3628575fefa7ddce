//! `attest validate …`: record validation results — by hand, from execution logs joined with
//! alerts, from VECTR or pipelines, or by replaying recorded telemetry through the Sigma rules.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use attest_core::journal::Event;
use attest_core::result::{Evidence, Outcome, ValidationResult};
use attest_core::rule::{RuleFormat, RuleId, RuleStatus};
use attest_core::test::Test;
use attest_formats::{Diagnostic, Input, Severity};
use attest_store::{NewEntry, RuleFilter, Store};
use clap::Subcommand;
use serde_json::json;

use crate::cmd::workspace;
use crate::global::Context;
use crate::output::{Format, Table};

/// `attest validate` arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    verb: Verb,
}

#[derive(Debug, Subcommand)]
enum Verb {
    /// Record one result by hand or from a script.
    Record {
        /// Rule id.
        #[arg(long)]
        rule: String,
        /// Technique exercised.
        #[arg(long)]
        technique: String,
        /// Test id (Atomic GUID, scenario name…).
        #[arg(long)]
        test: Option<String>,
        /// pass, fail, error or skipped.
        #[arg(long)]
        outcome: String,
        /// When the test ran (default now).
        #[arg(long)]
        at: Option<String>,
        /// Who or what ran it (default: you).
        #[arg(long)]
        by: Option<String>,
        /// Evidence text.
        #[arg(long)]
        evidence: Option<String>,
        /// Evidence link.
        #[arg(long)]
        url: Option<String>,
        /// Matched event or alert id; repeatable.
        #[arg(long = "event-id")]
        event_ids: Vec<String>,
    },
    /// Import results: Invoke-AtomicRedTeam logs (CSV or Attire JSON) joined with an alert
    /// export, a VECTR CSV export, or JSON lines from a pipeline.
    Import {
        #[command(subcommand)]
        source: ImportSource,
    },
    /// Replay recorded telemetry (EVTX, JSON, JSON lines; SigmaHQ regression_data, manifests or
    /// folders) through the Sigma rules and record pass/fail for each expected rule.
    Replay {
        /// Dataset folders, manifests or `info.yml` files.
        #[arg(required = true)]
        datasets: Vec<PathBuf>,
        /// Sigma rules (file or folder); default: the workspace's registered Sigma rules.
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Show results only; record nothing.
        #[arg(long)]
        no_record: bool,
    },
}

#[derive(Debug, Subcommand)]
enum ImportSource {
    /// Invoke-AtomicRedTeam execution logs joined with the alerts your SIEM raised.
    Atomic {
        /// Execution logs (default CSV logger, any header version, or Attire JSON); repeatable.
        #[arg(required = true)]
        logs: Vec<PathBuf>,
        /// Alert export (CSV or JSON lines with rule id or name and time).
        #[arg(long)]
        alerts: PathBuf,
        /// How long after an execution an alert still counts.
        #[arg(long, default_value = "15m")]
        window: String,
        /// Only alerts from the host the test ran on count.
        #[arg(long)]
        match_host: bool,
    },
    /// A VECTR CSV export; results are assigned to every rule claiming the technique.
    Vectr {
        /// The export.
        file: PathBuf,
    },
    /// JSON lines, one result per line (the fields of `attest validate record`).
    Jsonl {
        /// The file.
        file: PathBuf,
    },
}

/// Runs `attest validate …`.
pub async fn run(ctx: &Context, args: Args) -> Result<ExitCode> {
    let store = workspace::open(ctx).await?;
    let code = match args.verb {
        Verb::Record {
            rule,
            technique,
            test,
            outcome,
            at,
            by,
            evidence,
            url,
            event_ids,
        } => {
            let outcome = Outcome::parse(&outcome).with_context(|| {
                format!("--outcome {outcome:?}: use pass, fail, error or skipped")
            })?;
            let technique = attest_attack::TechniqueId::parse(&technique).with_context(|| {
                format!("--technique {technique:?} is not an ATT&CK technique ID")
            })?;
            let result = ValidationResult {
                rule: RuleId(rule),
                technique: technique.to_string(),
                test,
                outcome,
                at: match at {
                    Some(s) => workspace::parse_time(&s)?,
                    None => workspace::now(),
                },
                by: by.unwrap_or_else(workspace::who),
                evidence: Evidence {
                    text: evidence,
                    url,
                    event_ids,
                },
            };
            record(ctx, &store, vec![result], &[], "attest validate record").await?
        }
        Verb::Import { source } => import(ctx, &store, source).await?,
        Verb::Replay {
            datasets,
            rules,
            no_record,
        } => replay(ctx, &store, &datasets, rules.as_deref(), no_record).await?,
    };
    store.close().await;
    Ok(code)
}

/// Journals results in one transaction, warning about rules the registry does not know.
async fn record(
    ctx: &Context,
    store: &Store,
    results: Vec<ValidationResult>,
    tests: &[Test],
    why: &str,
) -> Result<ExitCode> {
    let known: std::collections::BTreeSet<RuleId> = store
        .rules(&RuleFilter::default())
        .await?
        .into_iter()
        .map(|r| r.rule.id)
        .collect();
    let mut unknown: Vec<&str> = results
        .iter()
        .filter(|r| !known.contains(&r.rule))
        .map(|r| r.rule.0.as_str())
        .collect();
    unknown.sort();
    unknown.dedup();
    for u in &unknown {
        eprintln!(
            "warning: rule {u} is not in the registry; its results are kept and count once it is imported"
        );
    }
    let (who, now) = (workspace::who(), workspace::now());
    let mut batch: Vec<NewEntry> = tests
        .iter()
        .map(|t| NewEntry::new(who.clone(), now, Event::TestUpserted(t.clone())).with_why(why))
        .collect();
    batch.extend(
        results.iter().map(|r| {
            NewEntry::new(who.clone(), now, Event::ResultRecorded(r.clone())).with_why(why)
        }),
    );
    if !batch.is_empty() {
        store.append(batch).await?;
    }
    let mut table = Table::new(&["rule", "technique", "test", "outcome", "at", "by"]);
    for r in &results {
        table.push(vec![
            r.rule.0.clone(),
            r.technique.clone(),
            r.test.clone().unwrap_or_default(),
            r.outcome.as_str().into(),
            r.at.to_string(),
            r.by.clone(),
        ]);
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    table.write(ctx.format, &mut out)?;
    if ctx.format == Format::Table {
        let count = |o: Outcome| results.iter().filter(|r| r.outcome == o).count();
        writeln!(
            out,
            "{} results recorded: {} pass, {} fail, {} error, {} skipped",
            results.len(),
            count(Outcome::Pass),
            count(Outcome::Fail),
            count(Outcome::Error),
            count(Outcome::Skipped)
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

fn report(diags: &[Diagnostic]) -> Result<()> {
    for d in diags {
        eprintln!("{d}");
    }
    let errors = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    if errors > 0 {
        bail!("{errors} error(s) in the input; nothing was recorded");
    }
    Ok(())
}

/// Technique (as claimed) → rules claiming it, and title → rule (shared with the API).
async fn claims(
    store: &Store,
) -> Result<(BTreeMap<String, Vec<RuleId>>, BTreeMap<String, RuleId>)> {
    let records = store.rules(&RuleFilter::default()).await?;
    Ok(attest_core::registry::claims_index(
        records.iter().map(|r| &r.rule),
    ))
}

async fn import(ctx: &Context, store: &Store, source: ImportSource) -> Result<ExitCode> {
    match source {
        ImportSource::Atomic {
            logs,
            alerts,
            window,
            match_host,
        } => {
            let mut executions = Vec::new();
            let mut diags = Vec::new();
            for log in &logs {
                let bytes = read(log)?;
                let label = log.display().to_string();
                let (e, d) = attest_formats::import::read_executions(Input {
                    path: &label,
                    bytes: &bytes,
                });
                executions.extend(e);
                diags.extend(d);
            }
            let alert_bytes = read(&alerts)?;
            let alert_label = alerts.display().to_string();
            let (alerts, d) = attest_formats::import::alerts::read_alerts(Input {
                path: &alert_label,
                bytes: &alert_bytes,
            });
            diags.extend(d);
            report(&diags)?;
            let tests = store.tests().await?;
            attest_formats::correlate::resolve_test_guids(&mut executions, &tests);
            let (by_technique, by_name) = claims(store).await?;
            let options = attest_formats::correlate::CorrelateOptions {
                window: workspace::parse_duration(&window)?,
                match_host,
                rule_names: by_name,
                by: "attest validate import atomic".into(),
                ..Default::default()
            };
            let c =
                attest_formats::correlate::correlate(&executions, &alerts, &by_technique, &options);
            for i in &c.unclaimed {
                if let Some(e) = executions.get(*i) {
                    eprintln!(
                        "note: {} ran at {} but no registered rule claims it (a gap, not a failure)",
                        e.technique, e.started
                    );
                }
            }
            record(ctx, store, c.results, &[], "attest validate import atomic").await
        }
        ImportSource::Vectr { file } => {
            let bytes = read(&file)?;
            let label = file.display().to_string();
            let (results, diags) = attest_formats::import::vectr::read_vectr(
                Input {
                    path: &label,
                    bytes: &bytes,
                },
                &Default::default(),
            );
            report(&diags)?;
            let (by_technique, _) = claims(store).await?;
            let (assigned, unclaimed) =
                attest_formats::import::vectr::assign_rules(results, &by_technique);
            for r in &unclaimed {
                eprintln!(
                    "note: VECTR tested {} but no registered rule claims it",
                    r.technique
                );
            }
            record(ctx, store, assigned, &[], "attest validate import vectr").await
        }
        ImportSource::Jsonl { file } => {
            let bytes = read(&file)?;
            let label = file.display().to_string();
            let options = attest_formats::import::results_jsonl::ResultsJsonlOptions {
                default_by: Some(workspace::who()),
                now: Some(workspace::now()),
            };
            let (results, diags) = attest_formats::import::results_jsonl::read_results_jsonl(
                Input {
                    path: &label,
                    bytes: &bytes,
                },
                &options,
            );
            report(&diags)?;
            record(ctx, store, results, &[], "attest validate import jsonl").await
        }
    }
}

/// Sigma sources to compile: a given file/folder, or the registry's Sigma rules read back from
/// where they were imported.
async fn sigma_sources(
    store: &Store,
    rules: Option<&Path>,
) -> Result<Vec<attest_sigma::SourceRule>> {
    let out = match rules {
        Some(path) => attest_replay::record::sources_at(path)
            .with_context(|| format!("reading Sigma rules at {}", path.display()))?,
        None => {
            let filter = RuleFilter {
                format: Some(RuleFormat::Sigma),
                ..Default::default()
            };
            let records = store.rules(&filter).await?;
            let (sources, missing) = attest_replay::record::registered_sources(
                records
                    .iter()
                    .filter(|r| r.rule.status == RuleStatus::Enabled)
                    .map(|r| (r.rule.origin.root.as_str(), r.rule.origin.path.as_str())),
            );
            if missing > 0 {
                eprintln!(
                    "warning: {missing} registered Sigma rule files are no longer where they were imported from; give --rules"
                );
            }
            if sources.is_empty() {
                bail!(
                    "no Sigma rules to replay: import some with `attest rules import sigma` or give --rules"
                );
            }
            sources
        }
    };
    Ok(out)
}

pub(crate) async fn replay(
    ctx: &Context,
    store: &Store,
    datasets: &[PathBuf],
    rules: Option<&Path>,
    no_record: bool,
) -> Result<ExitCode> {
    let started = std::time::Instant::now();
    let sources = sigma_sources(store, rules).await?;
    let (ruleset, diags) =
        attest_sigma::RuleSet::compile(sources, &attest_sigma::CompileOptions::default());
    let skipped = diags.len();
    let mut loaded = Vec::new();
    for d in datasets {
        loaded.extend(
            attest_replay::load_datasets(d)
                .with_context(|| format!("loading dataset {}", d.display()))?,
        );
    }
    let mut results: Vec<attest_replay::DatasetResult> = Vec::new();
    let summary = attest_replay::replay(
        &loaded,
        &ruleset,
        &attest_replay::ReplayOptions::default(),
        &mut results,
    );

    let registry: BTreeMap<String, Vec<String>> = store
        .rules(&RuleFilter::default())
        .await?
        .into_iter()
        .map(|r| (r.rule.id.0, r.rule.techniques))
        .collect();
    let now = workspace::now();
    let recorded =
        attest_replay::record::record(&results, &ruleset, &registry, now, "attest validate replay");
    let mut table = Table::new(&[
        "dataset",
        "rule",
        "techniques",
        "expected_min",
        "matches",
        "outcome",
        "events",
    ]);
    for row in &recorded.rows {
        table.push(vec![
            row.dataset.clone(),
            row.rule.clone(),
            row.techniques.join(","),
            row.expected_min.to_string(),
            row.matches.to_string(),
            row.outcome.as_str().into(),
            row.events
                .iter()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join(","),
        ]);
    }
    let journal = recorded.results;
    if !no_record && !journal.is_empty() {
        let who = workspace::who();
        let mut batch: Vec<NewEntry> = recorded
            .tests
            .into_iter()
            .map(|t| {
                NewEntry::new(who.clone(), now, Event::TestUpserted(t))
                    .with_why("attest validate replay")
            })
            .collect();
        batch.extend(journal.iter().cloned().map(|r| {
            NewEntry::new(who.clone(), now, Event::ResultRecorded(r))
                .with_why("attest validate replay")
        }));
        store.append(batch).await?;
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if ctx.format == Format::Json {
        let doc = json!({
            "rules_compiled": ruleset.len(),
            "rules_skipped": skipped,
            "datasets": summary.datasets,
            "events": summary.events,
            "expected_total": summary.expected_total,
            "expected_passed": summary.expected_passed,
            "results_recorded": if no_record { 0 } else { journal.len() },
            "seconds": started.elapsed().as_secs_f64(),
            "rows": table.to_json(),
        });
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
    } else {
        table.write(ctx.format, &mut out)?;
        if ctx.format == Format::Table {
            writeln!(
                out,
                "\n{} of {} expected rules fired on {} datasets ({} events) — {} rules compiled, {} skipped; {} results {} in {:.2}s",
                summary.expected_passed,
                summary.expected_total,
                summary.datasets,
                summary.events,
                ruleset.len(),
                skipped,
                journal.len(),
                if no_record {
                    "not recorded (--no-record)"
                } else {
                    "recorded"
                },
                started.elapsed().as_secs_f64()
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
