//! `attest exposures …`: findings from exposure management, the techniques that would exploit
//! them, and their effective priority given what we can detect.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use attest_core::exposure::{
    self, EffectiveOptions, EffectivePriority, ExposureKey, MappingIndex, normalise_finding,
};
use attest_core::journal::Event;
use attest_formats::Input;
use attest_formats::import::exposure_mappings::{read_cve_mappings, read_misconfig_map};
use attest_formats::import::exposures::{ExposureFormat, read_exposures};
use attest_store::NewEntry;
use clap::Subcommand;
use serde_json::json;

use crate::cmd::analysis::{self, Analysis, ScopeArgs};
use crate::cmd::workspace;
use crate::global::Context;
use crate::output::{Table, write_document};

/// `attest exposures` arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    verb: Verb,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum InputFormat {
    /// JSON lines when the file starts with `{`, CSV otherwise.
    Auto,
    /// CSV with a header row.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum SortBy {
    /// Effective priority (severity raised where detection is missing), highest first.
    Effective,
    /// Severity, highest first.
    Severity,
    /// Exposure id.
    Id,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum StatusFilter {
    /// Open findings (the default).
    Open,
    /// Risk-accepted findings.
    Accepted,
    /// Fixed or gone.
    Fixed,
    /// Every finding.
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum MappingKindArg {
    /// From the file: YAML is a misconfiguration map, anything else a CVE mapping.
    Auto,
    /// CVE → ATT&CK (CTID unified JSON or the KEV/NVD CSV).
    Cve,
    /// Misconfiguration id → techniques (YAML).
    Misconfig,
}

#[derive(Debug, Subcommand)]
enum Verb {
    /// Import findings (CSV or JSON lines) from a scanner or CTEM platform. Unchanged findings
    /// write nothing; findings reported fixed, or absent from a full import of the same feed,
    /// close.
    Import {
        /// The export.
        file: PathBuf,
        /// Input shape (the global --format is the output's).
        #[arg(long, value_enum, default_value_t = InputFormat::Auto)]
        input_format: InputFormat,
        /// The feed (scanner) these findings come from; a full import closes only this feed's
        /// missing findings. Default: the file name without extension.
        #[arg(long)]
        feed: Option<String>,
        /// The file lists only some findings: close none for being absent.
        #[arg(long)]
        partial: bool,
        /// Import nothing when any row has an error (default: skip bad rows).
        #[arg(long)]
        strict: bool,
    },
    /// Finding → technique mappings: CTID Mappings Explorer JSON or KEV/NVD CSV (CVEs), YAML
    /// (misconfigurations).
    Mappings {
        #[command(subcommand)]
        verb: MappingVerb,
    },
    /// Exposures with severity, effective priority and the techniques behind it.
    List {
        /// Sort order.
        #[arg(long, value_enum, default_value_t = SortBy::Effective)]
        sort: SortBy,
        /// Which findings.
        #[arg(long, value_enum, default_value_t = StatusFilter::Open)]
        status: StatusFilter,
        /// Only this finding id (CVE or misconfiguration id).
        #[arg(long)]
        finding: Option<String>,
        /// Only findings exploited through this technique.
        #[arg(long)]
        technique: Option<String>,
        /// At most this many rows.
        #[arg(long)]
        limit: Option<usize>,
    },
    /// One exposure (FINDING@ASSET), or every asset of a finding (FINDING), with the reasoning.
    Show {
        /// `CVE-2021-44228@web-01` or `CVE-2021-44228`.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
enum MappingVerb {
    /// Load a mapping set (replaces the set of the same name).
    Import {
        /// The mapping file.
        file: PathBuf,
        /// Set name (default: the file name without extension).
        #[arg(long)]
        name: Option<String>,
        /// What it maps.
        #[arg(long, value_enum, default_value_t = MappingKindArg::Auto)]
        kind: MappingKindArg,
        /// A remap table (old,new technique ids; CSV or YAML) applied before resolution.
        #[arg(long, value_name = "FILE")]
        remap: Option<PathBuf>,
        /// Import nothing when any mapping has an error.
        #[arg(long)]
        strict: bool,
    },
    /// The loaded sets, with the ids that were remapped or did not resolve.
    List,
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

fn report(diags: &[attest_formats::Diagnostic], strict: bool, file: &Path) -> Result<()> {
    let errors = diags
        .iter()
        .filter(|d| d.severity == attest_formats::Severity::Error)
        .count();
    for d in diags.iter().take(50) {
        eprintln!("{d}");
    }
    if diags.len() > 50 {
        eprintln!("… and {} more problems", diags.len() - 50);
    }
    if strict && errors > 0 {
        bail!(
            "{} has {errors} errors and --strict is set; nothing was changed",
            file.display()
        );
    }
    Ok(())
}

/// Runs `attest exposures …`.
pub async fn run(ctx: &Context, args: Args) -> Result<ExitCode> {
    let store = workspace::open(ctx).await?;
    let code = match args.verb {
        Verb::Import {
            file,
            input_format,
            feed,
            partial,
            strict,
        } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let label = file.display().to_string();
            let feed = feed.unwrap_or_else(|| stem(&file));
            let format = match input_format {
                InputFormat::Auto => ExposureFormat::Auto,
                InputFormat::Csv => ExposureFormat::Csv,
                InputFormat::Jsonl => ExposureFormat::JsonLines,
            };
            let (found, diags) = read_exposures(
                Input {
                    path: &label,
                    bytes: &bytes,
                },
                &feed,
                format,
            );
            report(&diags, strict, &file)?;
            let errors = diags
                .iter()
                .any(|d| d.severity == attest_formats::Severity::Error);
            // A file with skipped rows is not the whole feed: closing what it does not list
            // would close findings whose rows were merely unreadable.
            let full = !partial && !errors;
            if !partial && errors {
                eprintln!("note: rows were skipped, so no finding is closed for being absent");
            }
            let state = store.projected_state().await?;
            let n = found.len();
            let plan = exposure::plan_exposure_import(&state.exposures, &feed, found, full);
            for key in plan.duplicates.iter().take(10) {
                eprintln!(
                    "note: {} listed more than once; the last row wins",
                    key.id()
                );
            }
            let (who, now) = (workspace::who(), workspace::now());
            let why = format!("attest exposures import {}", file.display());
            let batch: Vec<NewEntry> = plan
                .events
                .into_iter()
                .map(|e| NewEntry::new(who.clone(), now, e).with_why(why.clone()))
                .collect();
            let written = batch.len();
            store.append(batch).await?;
            println!(
                "{n} findings read from {} (feed {feed}): {} new, {} updated, {} closed, {} unchanged; {written} journal entries",
                file.display(),
                plan.new,
                plan.updated,
                plan.closed,
                plan.unchanged,
            );
            ExitCode::SUCCESS
        }
        Verb::Mappings {
            verb:
                MappingVerb::Import {
                    file,
                    name,
                    kind,
                    remap,
                    strict,
                },
        } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let label = file.display().to_string();
            let name = name.unwrap_or_else(|| stem(&file));
            let is_yaml = file
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"));
            let misconfig = match kind {
                MappingKindArg::Auto => is_yaml,
                MappingKindArg::Cve => false,
                MappingKindArg::Misconfig => true,
            };
            let input = Input {
                path: &label,
                bytes: &bytes,
            };
            let (set, diags) = if misconfig {
                read_misconfig_map(input, &name)
            } else {
                read_cve_mappings(input, &name)
            };
            report(&diags, strict, &file)?;
            let Some(mut set) = set else {
                bail!(
                    "{} holds no usable mapping; nothing was changed",
                    file.display()
                )
            };
            if let Some(path) = remap {
                set.remap = read_remap(&path)?;
            }
            let (rows, findings) = (
                set.mappings.len(),
                set.mappings
                    .iter()
                    .map(|m| m.finding.as_str())
                    .collect::<std::collections::BTreeSet<_>>()
                    .len(),
            );
            let version = set.attack_version.clone();
            store
                .append(vec![
                    NewEntry::new(
                        workspace::who(),
                        workspace::now(),
                        Event::ExposureMappingsLoaded(set),
                    )
                    .with_why(format!(
                        "attest exposures mappings import {}",
                        file.display()
                    )),
                ])
                .await?;
            println!(
                "mapping set {name}: {rows} mappings for {findings} findings{}",
                version
                    .map(|v| format!(", made for ATT&CK {v}"))
                    .unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        Verb::Mappings {
            verb: MappingVerb::List,
        } => {
            let state = store.state(None).await?;
            let kb = workspace::load_kb(ctx, &store).await?;
            let catalog = attest_core::coverage::Catalog::from_kb(&kb.kb);
            let mut t = Table::new(&[
                "name",
                "kind",
                "attack_version",
                "mappings",
                "findings",
                "remapped",
                "unresolved",
            ]);
            for set in state.exposure_mappings.values() {
                let (remapped, unresolved) =
                    exposure::mapping_resolution(set, &catalog, &state.remap);
                t.push(vec![
                    set.name.clone(),
                    set.kind.as_str().into(),
                    set.attack_version.clone().unwrap_or_default(),
                    set.mappings.len().to_string(),
                    set.mappings
                        .iter()
                        .map(|m| m.finding.as_str())
                        .collect::<std::collections::BTreeSet<_>>()
                        .len()
                        .to_string(),
                    remapped.to_string(),
                    unresolved.to_string(),
                ]);
            }
            print(ctx, &t)?;
            ExitCode::SUCCESS
        }
        Verb::List {
            sort,
            status,
            finding,
            technique,
            limit,
        } => {
            let a = analysis::analyse(ctx, &store, &ScopeArgs::default(), None).await?;
            let mut ps = priorities(&a);
            let finding = finding.map(|f| normalise_finding(&f));
            let technique = technique.map(|t| t.trim().to_ascii_uppercase());
            ps.retain(|p| {
                let rec = &a.state.exposures[&p.key];
                let status_ok = match status {
                    StatusFilter::All => true,
                    StatusFilter::Open => rec.exposure.status == exposure::ExposureStatus::Open,
                    StatusFilter::Accepted => {
                        rec.exposure.status == exposure::ExposureStatus::Accepted
                    }
                    StatusFilter::Fixed => rec.exposure.status == exposure::ExposureStatus::Fixed,
                };
                status_ok
                    && finding.as_ref().is_none_or(|f| p.key.finding == *f)
                    && technique.as_ref().is_none_or(|t| {
                        p.techniques
                            .iter()
                            .any(|d| d.technique.technique.is_some_and(|x| x.to_string() == *t))
                    })
            });
            match sort {
                SortBy::Effective => {}
                SortBy::Severity => {
                    ps.sort_by(|a, b| b.severity.total_cmp(&a.severity).then(a.key.cmp(&b.key)))
                }
                SortBy::Id => ps.sort_by_key(|a| a.key.id()),
            }
            let mut t = Table::new(&[
                "id",
                "asset",
                "finding",
                "title",
                "severity",
                "effective",
                "status",
                "techniques",
                "why",
            ]);
            for p in ps.iter().take(limit.unwrap_or(usize::MAX)) {
                let e = &a.state.exposures[&p.key].exposure;
                t.push(vec![
                    p.key.id(),
                    e.asset.clone(),
                    e.finding.clone(),
                    e.title.clone(),
                    format!("{:.1}", p.severity),
                    format!("{:.2}", p.effective),
                    e.status.as_str().into(),
                    technique_cells(p),
                    p.reasons().pop().unwrap_or_default(),
                ]);
            }
            print(ctx, &t)?;
            ExitCode::SUCCESS
        }
        Verb::Show { id } => {
            let a = analysis::analyse(ctx, &store, &ScopeArgs::default(), None).await?;
            let ps = priorities(&a);
            let chosen: Vec<&EffectivePriority> = match ExposureKey::parse_id(&id) {
                Some(key) => ps.iter().filter(|p| p.key == key).collect(),
                None => {
                    let f = normalise_finding(&id);
                    ps.iter().filter(|p| p.key.finding == f).collect()
                }
            };
            if chosen.is_empty() {
                bail!(
                    "no exposure {id:?} (give FINDING@ASSET or a finding id; `attest exposures list`)"
                );
            }
            let docs: Vec<serde_json::Value> =
                chosen.iter().map(|p| exposure_json(&a, p)).collect();
            let doc = if docs.len() == 1 {
                docs[0].clone()
            } else {
                json!(docs)
            };
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            write_document(
                ctx.format,
                &doc,
                |out| {
                    for p in &chosen {
                        write_text(&a, p, out)?;
                    }
                    Ok(())
                },
                &mut out,
            )?;
            ExitCode::SUCCESS
        }
    };
    store.close().await;
    Ok(code)
}

fn read_remap(path: &Path) -> Result<Vec<(String, String)>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let is_yaml = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
    let table = if is_yaml {
        attest_attack::RemapTable::from_yaml(&bytes)
    } else {
        attest_attack::RemapTable::from_csv(&bytes)
    }
    .with_context(|| format!("reading remap table {}", path.display()))?;
    Ok(table
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect())
}

/// Effective priorities of every exposure in the analysis, highest first.
pub fn priorities(a: &Analysis) -> Vec<EffectivePriority> {
    let index = MappingIndex::new(
        a.state.exposure_mappings.values(),
        &a.catalog,
        &a.state.remap,
    );
    exposure::effective_priorities(
        a.state.exposures.values(),
        &index,
        &a.catalog,
        &exposure::states_of(&a.coverage),
        &EffectiveOptions::default(),
    )
}

fn technique_cells(p: &EffectivePriority) -> String {
    p.techniques
        .iter()
        .map(|d| match (d.technique.technique, d.state) {
            (Some(t), Some(s)) => format!("{t} {}", s.as_str()),
            (Some(t), None) => format!("{t} ?"),
            (None, _) => format!("{} unresolved", d.technique.written),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn exposure_json(a: &Analysis, p: &EffectivePriority) -> serde_json::Value {
    let rec = &a.state.exposures[&p.key];
    let e = &rec.exposure;
    json!({
        "id": p.key.id(),
        "asset": e.asset,
        "finding": e.finding,
        "kind": e.kind().as_str(),
        "title": e.title,
        "severity": e.severity.text(),
        "severity_score": p.severity,
        "effective": p.effective,
        "raise": p.raise,
        "status": e.status.as_str(),
        "feed": e.feed,
        "first_seen": e.first_seen.map(|t| t.to_string()),
        "last_seen": e.last_seen.map(|t| t.to_string()),
        "observed_at": rec.observed_at.to_string(),
        "changed_at": rec.changed_at.to_string(),
        "closed_at": rec.closed_at.map(|t| t.to_string()),
        "techniques": p.techniques.iter().map(|d| json!({
            "written": d.technique.written,
            "technique": d.technique.technique.map(|t| t.to_string()),
            "name": d.technique.technique.and_then(|t| a.catalog.technique(t)).map(|c| c.name.clone()),
            "provenance": d.technique.provenance.text(),
            "state": d.state.map(|s| s.as_str()),
            "raise": d.raise,
        })).collect::<Vec<_>>(),
        "reasons": p.reasons(),
    })
}

fn write_text(a: &Analysis, p: &EffectivePriority, out: &mut dyn Write) -> Result<()> {
    let rec = &a.state.exposures[&p.key];
    let e = &rec.exposure;
    writeln!(out, "{}  {}", p.key.id(), e.title)?;
    writeln!(
        out,
        "  status {} (feed {}), severity {}, effective priority {:.2}",
        e.status.as_str(),
        e.feed,
        e.severity.text(),
        p.effective
    )?;
    if let Some(t) = e.first_seen {
        writeln!(out, "  first seen {t}")?;
    }
    if let Some(t) = e.last_seen {
        writeln!(out, "  last seen {t}")?;
    }
    writeln!(out, "  why:")?;
    for r in &p.reasons() {
        writeln!(out, "    - {r}")?;
    }
    Ok(())
}

fn print(ctx: &Context, t: &Table) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    t.write(ctx.format, &mut out)
}
