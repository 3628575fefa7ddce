//! Finding and loading the ATT&CK knowledge base: explicit bundles, or MITRE's, downloaded once.
//!
//! Precedence: `--attack PATH` (repeatable) > `ATTEST_ATTACK_BUNDLE` > the bundles the workspace
//! recorded at `attest init` > the cached download of the pinned Enterprise release. The download
//! shows a progress bar on a terminal and is written to the cache atomically (temp file + rename),
//! so an interrupted download never leaves a truncated bundle that later runs would trust.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

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
    let cached = cache_dir()?.join(file_name_of(PINNED_ENTERPRISE_URL));
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

fn file_name_of(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or("enterprise-attack.json")
}

/// `$ATTEST_CACHE_DIR`, else `$XDG_CACHE_HOME/attest`, else `~/.cache/attest`.
pub fn cache_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("ATTEST_CACHE_DIR") {
        return Ok(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return Ok(PathBuf::from(dir).join("attest"));
    }
    match std::env::var_os("HOME") {
        Some(home) => Ok(PathBuf::from(home).join(".cache").join("attest")),
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
    let bytes = runtime
        .block_on(fetch(url, progress))
        .with_context(|| format!("could not download ATT&CK from {url}; {how_to_avoid}"))?;
    if let Some(dir) = dest.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let tmp = dest.with_extension("part");
    let mut file =
        std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    file.write_all(&bytes)
        .with_context(|| format!("writing {}", tmp.display()))?;
    file.sync_all()
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, dest).with_context(|| format!("moving into {}", dest.display()))?;
    Ok(())
}

async fn fetch(url: &str, progress: bool) -> Result<Vec<u8>> {
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(300))
        .build()?;
    let mut response = client.get(url).send().await?.error_for_status()?;
    let bar = if progress {
        let bar = indicatif::ProgressBar::new(response.content_length().unwrap_or(0));
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
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        bytes.extend_from_slice(&chunk);
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    Ok(bytes)
}
