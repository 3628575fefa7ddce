//! Finding and loading the ATT&CK knowledge base: explicit bundles, or MITRE's, downloaded once.
//!
//! Precedence: `--attack PATH` (repeatable) > `ATTEST_ATTACK_BUNDLE` > the bundles the workspace
//! recorded at `attest init` > the cached download of the pinned Enterprise release. The download
//! shows a progress bar on a terminal and is written to the cache atomically (temp file + rename),
//! so an interrupted download never leaves a truncated bundle that later runs would trust.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use attest_attack::{KnowledgeBase, Warning};

use crate::global::Context;

/// The release attest pins when it downloads ATT&CK itself.
pub const PINNED_ENTERPRISE_URL: &str = attest_attack::load::ENTERPRISE_URL;

/// A loaded knowledge base and where it came from.
pub struct LoadedKb {
    /// The knowledge base.
    pub kb: KnowledgeBase,
    /// Load warnings (dangling references, unknown types…), counted in `attest attack info`.
    pub warnings: Vec<Warning>,
    /// The files it was loaded from.
    pub paths: Vec<PathBuf>,
}

/// Loads the knowledge base for a command, downloading the pinned release when nothing is given.
pub fn load(ctx: &Context, recorded: &[PathBuf]) -> Result<LoadedKb> {
    let paths = bundle_paths(ctx, recorded)?;
    let (kb, warnings) = attest_attack::load::from_paths(&paths)
        .with_context(|| format!("loading ATT&CK from {}", display_paths(&paths)))?;
    Ok(LoadedKb {
        kb,
        warnings,
        paths,
    })
}

/// The bundle files to load, in precedence order (see the module documentation).
pub fn bundle_paths(ctx: &Context, recorded: &[PathBuf]) -> Result<Vec<PathBuf>> {
    if !ctx.attack.is_empty() {
        for p in &ctx.attack {
            if !p.is_file() {
                bail!(
                    "ATT&CK bundle {} does not exist (given by --attack or ATTEST_ATTACK_BUNDLE)",
                    p.display()
                );
            }
        }
        return Ok(ctx.attack.clone());
    }
    if !recorded.is_empty() {
        return Ok(recorded.to_vec());
    }
    let cached = cache_dir()?.join(attest_attack::cache::file_name_of(PINNED_ENTERPRISE_URL));
    if !cached.is_file() {
        download(PINNED_ENTERPRISE_URL, &cached, ctx.stderr_is_terminal)?;
    }
    Ok(vec![cached])
}

fn display_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `$ATTEST_CACHE_DIR`, else `$XDG_CACHE_HOME/attest`, else `~/.cache/attest` (the same cache
/// the server uses, see `attest_attack::cache`).
pub fn cache_dir() -> Result<PathBuf> {
    match attest_attack::cache::default_dir() {
        Some(dir) => Ok(dir),
        None => bail!("cannot find a cache directory: set ATTEST_CACHE_DIR or HOME"),
    }
}

/// Downloads `url` to `dest` with a progress bar on a terminal.
pub fn download(url: &str, dest: &Path, progress: bool) -> Result<()> {
    let how_to_avoid = "give a local bundle with --attack PATH or ATTEST_ATTACK_BUNDLE=PATH \
                        (MITRE publishes them at https://github.com/mitre-attack/attack-stix-data)";
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the download runtime")?;
    let bar = if progress {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "downloading ATT&CK {bar:40} {bytes}/{total_bytes} {bytes_per_sec}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut on_progress = |done: u64, total: Option<u64>| {
        if let Some(total) = total {
            bar.set_length(total);
        }
        bar.set_position(done);
    };
    let bytes = runtime
        .block_on(attest_attack::cache::fetch(url, &mut on_progress))
        .with_context(|| how_to_avoid.to_string())?;
    bar.finish_and_clear();
    attest_attack::cache::write_atomically(dest, &bytes)
        .with_context(|| format!("saving the download to {}", dest.display()))?;
    Ok(())
}
