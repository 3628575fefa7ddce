//! `attest tests …`: the test catalogue — Atomic Red Team tests and other ways to exercise a
//! technique.

use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use attest_core::journal::Event;
use attest_core::test::{Test, TestKind};
use attest_formats::Input;
use attest_store::NewEntry;
use clap::Subcommand;
use serde_json::json;

use crate::cmd::workspace;
use crate::global::Context;
use crate::output::{Table, write_document};

/// `attest tests` arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    verb: Verb,
}

#[derive(Debug, Subcommand)]
enum Verb {
    /// Import the Atomic Red Team catalogue (an `atomics/` folder, or one technique file). One test
    /// per `auto_generated_guid`; re-importing writes only what changed.
    ImportAtomic {
        /// The `atomics/` folder or a `Txxxx.yaml` file.
        path: std::path::PathBuf,
    },
    /// Add a purple-team scenario, simulation action or replay dataset to the catalogue.
    Add {
        /// Stable id.
        id: String,
        /// purple-team, simulation or replay.
        #[arg(long)]
        kind: String,
        /// Technique exercised; repeatable.
        #[arg(long = "technique", required = true)]
        techniques: Vec<String>,
        /// Human name.
        #[arg(long)]
        name: String,
        /// Platform; repeatable.
        #[arg(long = "platform")]
        platforms: Vec<String>,
    },
    /// List tests, optionally for one technique and platform.
    List {
        /// Technique ID.
        #[arg(long)]
        technique: Option<String>,
        /// Platform (e.g. windows).
        #[arg(long)]
        platform: Option<String>,
    },
}

/// Runs `attest tests …`.
pub async fn run(ctx: &Context, args: Args) -> Result<ExitCode> {
    let store = workspace::open(ctx).await?;
    match args.verb {
        Verb::ImportAtomic { path } => {
            let files = collect(&path)?;
            let contents: Vec<(String, Vec<u8>)> = files
                .iter()
                .map(|(rel, full)| {
                    std::fs::read(full)
                        .map(|b| (rel.clone(), b))
                        .with_context(|| format!("reading {}", full.display()))
                })
                .collect::<Result<_>>()?;
            let inputs = contents.iter().map(|(p, b)| Input { path: p, bytes: b });
            let catalogue = attest_formats::import::atomic::read_catalogue(inputs);
            for d in &catalogue.diagnostics {
                eprintln!("{d}");
            }
            let existing = store.tests().await?;
            let plan = attest_core::registry::plan_test_import(&existing, &catalogue.tests);
            let (new, changed) = (plan.new, plan.changed);
            let events = plan.events;
            if !events.is_empty() {
                let (who, now) = (workspace::who(), workspace::now());
                let why = format!("attest tests import-atomic {}", path.display());
                let batch = events
                    .into_iter()
                    .map(|e| NewEntry::new(who.clone(), now, e).with_why(why.clone()))
                    .collect();
                store.append(batch).await?;
            }
            let doc = json!({
                "technique_files": catalogue.techniques,
                "tests": catalogue.tests.len(),
                "new": new,
                "changed": changed,
                "unchanged": catalogue.tests.len() - new - changed,
                "problems": catalogue.diagnostics.len(),
            });
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            write_document(
                ctx.format,
                &doc,
                |out| {
                    writeln!(
                        out,
                        "{} Atomic tests from {} technique files: {new} new, {changed} changed ({} problems reported)",
                        catalogue.tests.len(),
                        catalogue.techniques,
                        catalogue.diagnostics.len()
                    )?;
                    Ok(())
                },
                &mut out,
            )?;
        }
        Verb::Add {
            id,
            kind,
            techniques,
            name,
            platforms,
        } => {
            let kind = TestKind::parse(&kind).with_context(|| {
                format!("--kind {kind:?}: use purple-team, simulation or replay")
            })?;
            if kind == TestKind::Atomic {
                bail!("Atomic tests come from the catalogue: use `attest tests import-atomic`");
            }
            let test = Test {
                id: id.clone(),
                kind,
                techniques: techniques
                    .iter()
                    .map(|t| t.trim().to_ascii_uppercase())
                    .collect(),
                name,
                platforms,
                executor: None,
                elevation_required: false,
            };
            store
                .append(vec![NewEntry::new(
                    workspace::who(),
                    workspace::now(),
                    Event::TestUpserted(test),
                )])
                .await?;
            println!("test {id} recorded");
        }
        Verb::List {
            technique,
            platform,
        } => {
            let mut table = Table::new(&[
                "id",
                "kind",
                "techniques",
                "name",
                "platforms",
                "executor",
                "elevation",
            ]);
            let technique = technique.map(|t| t.trim().to_ascii_uppercase());
            for t in store.tests().await? {
                if technique
                    .as_ref()
                    .is_some_and(|x| !t.techniques.contains(x))
                {
                    continue;
                }
                if platform
                    .as_ref()
                    .is_some_and(|p| !t.platforms.iter().any(|q| q.eq_ignore_ascii_case(p)))
                {
                    continue;
                }
                table.push(vec![
                    t.id.clone(),
                    t.kind.as_str().into(),
                    t.techniques.join(","),
                    t.name.clone(),
                    t.platforms.join(","),
                    t.executor.clone().unwrap_or_default(),
                    t.elevation_required.to_string(),
                ]);
            }
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            table.write(ctx.format, &mut out)?;
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

fn collect(path: &std::path::Path) -> Result<Vec<(String, std::path::PathBuf)>> {
    if path.is_file() {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        return Ok(vec![(name, path.to_path_buf())]);
    }
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(path).sort_by_file_name() {
        let entry = entry.with_context(|| format!("listing {}", path.display()))?;
        let rel = entry
            .path()
            .strip_prefix(path)
            .unwrap_or(entry.path())
            .to_string_lossy()
            .replace('\\', "/");
        if entry.file_type().is_file() && attest_formats::import::atomic::is_technique_file(&rel) {
            out.push((rel, entry.path().to_path_buf()));
        }
    }
    if out.is_empty() {
        bail!(
            "no Atomic technique files (Txxxx.yaml) under {}",
            path.display()
        );
    }
    Ok(out)
}
