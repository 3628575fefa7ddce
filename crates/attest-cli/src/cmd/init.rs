//! `attest init`: create a workspace and record the ATT&CK release(s) it is built on.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use attest_core::journal::{AttackRelease, Event};
use attest_store::{NewEntry, Store};

use crate::cmd::workspace::{self, META_ATTACK_BUNDLES};
use crate::global::Context;
use crate::kb_source;

/// `attest init` arguments. The global `--attack PATH|URL` (repeatable, one per domain; URLs
/// are downloaded into the cache) chooses the release; without it ATTEST_ATTACK_BUNDLE, else
/// MITRE's pinned Enterprise release.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `attest init`.
pub async fn run(ctx: &Context, _args: Args) -> Result<ExitCode> {
    run_at(ctx, workspace::now()).await
}

/// `attest init` journaling the release set at `at` (`attest demo` builds a workspace whose
/// history starts in the past, and the journal's times must not go backwards).
pub async fn run_at(ctx: &Context, at: jiff::Timestamp) -> Result<ExitCode> {
    let mut ctx = ctx.clone();
    let given: Vec<String> = ctx
        .attack
        .iter()
        .map(|p| p.to_string_lossy().to_string())
        .collect();
    ctx.attack = resolve_locations(&ctx, &given)?;
    let paths = kb_source::bundle_paths(&ctx, &[])?;
    let paths: Vec<PathBuf> = paths
        .iter()
        .map(|p| std::fs::canonicalize(p).with_context(|| format!("resolving {}", p.display())))
        .collect::<Result<_>>()?;
    let (kb, _warnings) = attest_attack::load::from_paths(&paths)
        .with_context(|| "loading the ATT&CK bundles to record")?;

    if ctx.database.is_none() {
        std::fs::create_dir_all(&ctx.workspace).with_context(|| {
            format!(
                "creating the workspace directory {}",
                ctx.workspace.display()
            )
        })?;
    }
    let url = workspace::database_url(&ctx);
    let store = Store::create(&url)
        .await
        .with_context(|| format!("creating the workspace at {url}"))?;
    let releases: Vec<AttackRelease> = attest_core::release::releases_of(&kb);
    let state = store.state(None).await?;
    let joined = paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join("\n");
    if state.releases != releases {
        let entry = NewEntry::new(
            workspace::who(),
            at,
            Event::AttackReleasesSet(releases.clone()),
        )
        .with_why("attest init");
        store.append(vec![entry]).await?;
    }
    store
        .set_meta(&[(META_ATTACK_BUNDLES, joined.as_str())])
        .await?;
    println!("workspace ready at {url}");
    for r in &releases {
        println!("  ATT&CK {} {} ({})", r.domain, r.version, r.location);
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// Turns `--attack` values into local files, downloading URLs into the cache.
fn resolve_locations(ctx: &Context, given: &[String]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for g in given {
        if g.starts_with("http://") || g.starts_with("https://") {
            let name = g
                .rsplit('/')
                .next()
                .filter(|n| !n.is_empty())
                .unwrap_or("attack-bundle.json");
            let dest = kb_source::cache_dir()?.join(name);
            if !dest.is_file() {
                kb_source::download(g, &dest, ctx.stderr_is_terminal)?;
            }
            out.push(dest);
        } else {
            out.push(PathBuf::from(g));
        }
    }
    Ok(out)
}
