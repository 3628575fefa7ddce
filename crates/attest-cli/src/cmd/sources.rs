//! `attest sources …`: the data source inventory — what telemetry we really have, and its health.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use attest_attack::{KnowledgeBase, TechniqueId};
use attest_core::journal::Event;
use attest_core::source::{DataSource, LogSourceRef, PipelineState};
use attest_store::{NewEntry, Store};
use clap::Subcommand;

use crate::cmd::workspace;
use crate::global::Context;
use crate::output::Table;

/// `attest sources` arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    verb: Verb,
}

#[derive(Debug, clap::Args)]
struct SourceFields {
    /// ATT&CK log source, `NAME` or `NAME:CHANNEL` (e.g. 'WinEventLog:Security:EventCode=4688');
    /// repeatable. Data components are derived from ATT&CK's log-source catalogue unless
    /// --component is given.
    #[arg(long = "log-source")]
    log_sources: Vec<String>,
    /// ATT&CK data component provided (e.g. 'Process Creation'); repeatable.
    #[arg(long = "component")]
    components: Vec<String>,
    /// ATT&CK platform covered (e.g. Windows); repeatable.
    #[arg(long = "platform")]
    platforms: Vec<String>,
    /// System or segment covered (e.g. 'Windows servers'); repeatable.
    #[arg(long = "scope")]
    scope: Vec<String>,
    /// planned, ingested, normalised or queryable.
    #[arg(long)]
    state: Option<String>,
    /// Longest expected silence, e.g. 24h, 7d; past it the source is silent.
    #[arg(long)]
    max_silence: Option<String>,
    /// Product behind the source; repeatable.
    #[arg(long = "product")]
    products: Vec<String>,
    /// Owner.
    #[arg(long)]
    owner: Option<String>,
    /// Description.
    #[arg(long)]
    description: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Verb {
    /// Add a source to the inventory.
    Add {
        /// Unique name, e.g. "Sysmon on Windows servers".
        name: String,
        #[command(flatten)]
        fields: SourceFields,
    },
    /// Change a source: given fields replace the old ones.
    Edit {
        /// Its name.
        name: String,
        #[command(flatten)]
        fields: SourceFields,
    },
    /// Remove a source (journaled; rules depending on it become degraded).
    Remove {
        /// Its name.
        name: String,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Record a heartbeat: the source produced events (now, or --at).
    Seen {
        /// Its name.
        name: String,
        /// When (RFC 3339 or a date); default now.
        #[arg(long)]
        at: Option<String>,
    },
    /// The inventory with health.
    List,
    /// Make the inventory equal to a YAML file (inventory as code): adds, changes and removes
    /// sources; idempotent.
    Apply {
        /// The inventory file (see `attest sources export` for the format).
        file: std::path::PathBuf,
        /// Keep sources that the file does not list (default: remove them, journaled).
        #[arg(long)]
        no_prune: bool,
        /// Show what would change, write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Write the inventory as YAML (the format `apply` reads).
    Export,
    /// Import a DeTT&CT data-source administration file (version 1.1); sources are added or
    /// changed, none removed.
    ImportDettect {
        /// The DeTT&CT YAML file.
        file: std::path::PathBuf,
    },
    /// Which telemetry ATT&CK lists for detecting a technique the inventory provides.
    Visibility {
        /// Technique ID.
        technique: String,
        /// Only this platform.
        #[arg(long)]
        platform: Option<String>,
    },
}

/// Runs `attest sources …`.
pub async fn run(ctx: &Context, args: Args) -> Result<ExitCode> {
    let store = workspace::open(ctx).await?;
    let code = match args.verb {
        Verb::Add { name, fields } => {
            if store.source(&name).await?.is_some() {
                bail!(
                    "a source named {name:?} exists already; change it with `attest sources edit`"
                );
            }
            let kb = workspace::load_kb(ctx, &store).await?;
            let mut source = DataSource::new(name.clone());
            apply_fields(&mut source, fields, &kb.kb)?;
            upsert(&store, source, "attest sources add").await?;
            ExitCode::SUCCESS
        }
        Verb::Edit { name, fields } => {
            let Some(rec) = store.source(&name).await? else {
                bail!("no source named {name:?} (see `attest sources list`)");
            };
            let kb = workspace::load_kb(ctx, &store).await?;
            let mut source = rec.source.clone();
            apply_fields(&mut source, fields, &kb.kb)?;
            if source == rec.source {
                println!("{name}: nothing changed");
            } else {
                upsert(&store, source, "attest sources edit").await?;
            }
            ExitCode::SUCCESS
        }
        Verb::Remove { name, reason } => {
            if store.source(&name).await?.is_none() {
                bail!("no source named {name:?} (see `attest sources list`)");
            }
            let mut entry = NewEntry::new(
                workspace::who(),
                workspace::now(),
                Event::SourceRemoved { name: name.clone() },
            );
            if let Some(r) = reason {
                entry = entry.with_why(r);
            }
            store.append(vec![entry]).await?;
            println!("{name}: removed; rules that need it are now degraded");
            ExitCode::SUCCESS
        }
        Verb::Seen { name, at } => {
            if store.source(&name).await?.is_none() {
                bail!("no source named {name:?} (see `attest sources list`)");
            }
            let at = match at {
                Some(s) => workspace::parse_time(&s)?,
                None => workspace::now(),
            };
            let entry = NewEntry::new(
                workspace::who(),
                workspace::now(),
                Event::SourceSeen {
                    name: name.clone(),
                    at,
                },
            );
            store.append(vec![entry]).await?;
            println!("{name}: seen at {at}");
            ExitCode::SUCCESS
        }
        Verb::List => list(ctx, &store).await?,
        Verb::Apply {
            file,
            no_prune,
            dry_run,
        } => {
            let importer = attest_formats::import::inventory::InventoryImporter;
            apply_file(
                ctx,
                &store,
                &file,
                &importer,
                !no_prune,
                dry_run,
                "attest sources apply",
            )
            .await?
        }
        Verb::Export => {
            let sources: Vec<DataSource> = store
                .sources()
                .await?
                .into_iter()
                .map(|r| r.source)
                .collect();
            let yaml = attest_formats::export::inventory::write_inventory(&sources)?;
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            out.write_all(yaml.as_bytes())?;
            ExitCode::SUCCESS
        }
        Verb::ImportDettect { file } => {
            let importer = attest_formats::import::dettect::DettectImporter;
            apply_file(
                ctx,
                &store,
                &file,
                &importer,
                false,
                false,
                "attest sources import-dettect",
            )
            .await?
        }
        Verb::Visibility {
            technique,
            platform,
        } => visibility(ctx, &store, &technique, platform.as_deref()).await?,
    };
    store.close().await;
    Ok(code)
}

/// Reads a declared inventory and makes the workspace match it, in one transaction. Sources
/// declared with log sources but no components get their components from the knowledge base.
async fn apply_file(
    ctx: &Context,
    store: &Store,
    file: &std::path::Path,
    importer: &dyn attest_formats::import::SourceImporter,
    prune: bool,
    dry_run: bool,
    why: &str,
) -> Result<ExitCode> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let label = file.display().to_string();
    let (mut desired, diags) = importer.import(attest_formats::Input {
        path: &label,
        bytes: &bytes,
    });
    for d in &diags {
        eprintln!("{d}");
    }
    if diags
        .iter()
        .any(|d| d.severity == attest_formats::Severity::Error)
    {
        bail!(
            "{} has errors; the inventory was not changed",
            file.display()
        );
    }
    if desired
        .iter()
        .any(|s| s.components.is_empty() && !s.log_sources.is_empty())
    {
        let kb = workspace::load_kb(ctx, store).await?;
        attest_core::registry::fill_components(&kb.kb, &mut desired);
    }
    let existing: Vec<DataSource> = store
        .sources()
        .await?
        .into_iter()
        .map(|r| r.source)
        .collect();
    let plan = attest_core::registry::plan_inventory_apply(&existing, desired, prune);
    if !dry_run && !plan.events.is_empty() {
        let (who, now) = (workspace::who(), workspace::now());
        let batch = plan
            .events
            .iter()
            .cloned()
            .map(|e| {
                NewEntry::new(who.clone(), now, e).with_why(format!("{why} {}", file.display()))
            })
            .collect();
        store.append(batch).await?;
    }
    let mut table = Table::new(&["source", "change"]);
    for n in &plan.added {
        table.push(vec![n.clone(), "added".into()]);
    }
    for n in &plan.changed {
        table.push(vec![n.clone(), "changed".into()]);
    }
    for n in &plan.removed {
        table.push(vec![n.clone(), "removed".into()]);
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if ctx.format == crate::output::Format::Table {
        writeln!(
            out,
            "{}{} added, {} changed, {} removed, {} unchanged",
            if dry_run { "dry run: " } else { "" },
            plan.added.len(),
            plan.changed.len(),
            plan.removed.len(),
            plan.unchanged
        )?;
    }
    table.write(ctx.format, &mut out)?;
    Ok(ExitCode::SUCCESS)
}

async fn upsert(store: &Store, source: DataSource, why: &str) -> Result<()> {
    let name = source.name.clone();
    let components = source.components.join(", ");
    let entry = NewEntry::new(
        workspace::who(),
        workspace::now(),
        Event::SourceUpserted(source),
    )
    .with_why(why);
    store.append(vec![entry]).await?;
    println!(
        "{name}: provides {}",
        if components.is_empty() {
            "no ATT&CK data component"
        } else {
            &components
        }
    );
    Ok(())
}

/// Applies the given flags; log sources derive data components through the KB's catalogue
/// unless components are given explicitly.
fn apply_fields(source: &mut DataSource, f: SourceFields, kb: &KnowledgeBase) -> Result<()> {
    if !f.log_sources.is_empty() {
        source.log_sources = f
            .log_sources
            .iter()
            .map(|s| LogSourceRef::parse(s))
            .collect();
    }
    if !f.components.is_empty() {
        let mut names = Vec::new();
        for c in &f.components {
            match kb.data_component(c) {
                Some(dc) => names.push(dc.meta.name.clone()),
                None => bail!(
                    "{c:?} is not an ATT&CK data component in {} (see `attest attack search`)",
                    kb.release_label()
                ),
            }
        }
        source.components = names;
    } else if !f.log_sources.is_empty() {
        source.components = derive_components(kb, &source.log_sources);
        if source.components.is_empty() {
            eprintln!(
                "warning: ATT&CK {} lists no data component for {}; give --component explicitly",
                kb.release_label(),
                f.log_sources.join(", ")
            );
        }
    }
    if !f.platforms.is_empty() {
        source.platforms = f.platforms;
    }
    if !f.scope.is_empty() {
        source.scope = f.scope;
    }
    if let Some(s) = f.state {
        source.state = PipelineState::parse(&s).with_context(|| {
            format!("--state {s:?}: use planned, ingested, normalised or queryable")
        })?;
    }
    if let Some(d) = f.max_silence {
        source.max_silence = Some(workspace::parse_duration(&d)?);
    }
    if !f.products.is_empty() {
        source.products = f.products;
    }
    if f.owner.is_some() {
        source.owner = f.owner;
    }
    if f.description.is_some() {
        source.description = f.description;
    }
    Ok(())
}

/// Data components ATT&CK says these log sources provide (shared with the API, in `attest-core`).
pub fn derive_components(kb: &KnowledgeBase, log_sources: &[LogSourceRef]) -> Vec<String> {
    attest_core::registry::derive_components(kb, log_sources)
}

fn health_text(source: &DataSource, now: jiff::Timestamp) -> String {
    attest_core::words::health_text(&source.health(now))
}

async fn list(ctx: &Context, store: &Store) -> Result<ExitCode> {
    let now = workspace::now();
    let mut table = Table::new(&[
        "name",
        "state",
        "health",
        "last_seen",
        "max_silence",
        "platforms",
        "scope",
        "components",
        "log_sources",
        "owner",
    ]);
    for rec in store.sources().await? {
        let s = &rec.source;
        table.push(vec![
            s.name.clone(),
            s.state.as_str().to_string(),
            health_text(s, now),
            s.last_seen.map(|t| t.to_string()).unwrap_or_default(),
            s.max_silence
                .map(workspace::format_duration)
                .unwrap_or_default(),
            s.platforms.join(","),
            s.scope.join(","),
            s.components.join(","),
            s.log_sources
                .iter()
                .map(|l| l.to_string())
                .collect::<Vec<_>>()
                .join(","),
            s.owner.clone().unwrap_or_default(),
        ]);
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    table.write(ctx.format, &mut out)?;
    Ok(ExitCode::SUCCESS)
}

async fn visibility(
    ctx: &Context,
    store: &Store,
    technique: &str,
    platform: Option<&str>,
) -> Result<ExitCode> {
    let loaded = workspace::load_kb(ctx, store).await?;
    let kb = &loaded.kb;
    let id = TechniqueId::parse(technique)
        .with_context(|| format!("{technique:?} is not a technique ID"))?;
    let sources = store.sources().await?;
    let rows = attest_core::visibility::telemetry_visibility(
        kb,
        sources.iter().map(|r| &r.source),
        id,
        platform,
        workspace::now(),
    );
    let mut table = Table::new(&[
        "platforms",
        "data_component",
        "log_source",
        "channel",
        "provided_by",
        "visible",
    ]);
    for row in &rows {
        table.push(vec![
            row.platforms.join(","),
            row.data_component.clone(),
            row.log_source.clone().unwrap_or_default(),
            row.channel.clone().unwrap_or_default(),
            row.provided_by.join(","),
            if row.visible() { "yes" } else { "no" }.to_string(),
        ]);
    }

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if ctx.format == crate::output::Format::Table {
        let visible = table.rows.iter().filter(|r| r[5] == "yes").count();
        writeln!(
            out,
            "{id}: {visible} of {} telemetry requirements visible",
            table.rows.len()
        )?;
    }
    table.write(ctx.format, &mut out)?;
    Ok(ExitCode::SUCCESS)
}
