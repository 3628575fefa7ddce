//! Loading the ATT&CK release the journal names, aside, when it is not the one answering.
//!
//! Another instance (or `attest attack update`) moved the workspace to another release: this
//! server notices it when it refreshes its snapshot ([`crate::state`]), finds the release's
//! bundles the way the CLI does (`attest_attack::cache`: the journaled location, then the
//! bundle cache, then MITRE's download), loads and indexes them on a blocking thread, and
//! swaps in a snapshot built on them. One load runs at a time; a failed one is logged, kept
//! for `GET /api/v1/attack` and retried after [`RETRY_AFTER`], and the old release keeps
//! answering meanwhile — never half of each.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use attest_attack::{BundleInput, KnowledgeBase, Warning};
use attest_core::journal::AttackRelease;
use jiff::Timestamp;

use crate::state::{AppState, Knowledge};

/// How long a failed load of a release is not retried.
pub const RETRY_AFTER: Duration = Duration::from_secs(60);

/// The state of release loading in one server.
#[derive(Debug, Default)]
pub struct ReleaseLoading {
    status: Mutex<LoadStatus>,
    cache: OnceLock<PathBuf>,
}

/// What release loading is doing.
#[derive(Debug, Default, Clone)]
pub struct LoadStatus {
    /// The release set being loaded, if a load runs.
    pub loading: Option<Vec<AttackRelease>>,
    /// The last load that failed, until a load succeeds.
    pub failed: Option<LoadFailure>,
}

/// A load that failed: the old release kept answering.
#[derive(Debug, Clone)]
pub struct LoadFailure {
    /// The release set that could not be loaded.
    pub releases: Vec<AttackRelease>,
    /// Why.
    pub error: String,
    /// When it failed.
    pub at: Timestamp,
    when: Instant,
}

impl ReleaseLoading {
    /// A copy of the current status.
    pub fn status(&self) -> LoadStatus {
        match self.status.lock() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut LoadStatus) -> T) -> T {
        match self.status.lock() {
            Ok(mut s) => f(&mut s),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }
}

impl AppState {
    /// Where this server keeps ATT&CK bundles it was sent or downloaded (and looks for
    /// journaled releases): as set by [`AppState::set_bundle_cache`], else the CLI's cache
    /// (`ATTEST_CACHE_DIR`, `XDG_CACHE_HOME/attest`, `~/.cache/attest`).
    pub fn bundle_cache(&self) -> Option<PathBuf> {
        self.inner
            .release
            .cache
            .get()
            .cloned()
            .or_else(attest_attack::cache::default_dir)
    }

    /// Sets the bundle cache directory (before serving; a second call is ignored).
    pub fn set_bundle_cache(&self, dir: PathBuf) {
        let _ = self.inner.release.cache.set(dir);
    }

    /// What release loading is doing (for `GET /api/v1/attack`).
    pub fn release_status(&self) -> LoadStatus {
        self.inner.release.status()
    }
}

/// Starts loading `wanted` unless a load runs or it failed less than [`RETRY_AFTER`] ago.
pub(crate) fn start_load(app: &AppState, wanted: Vec<AttackRelease>) {
    let start = app.inner.release.with(|st| {
        if st.loading.is_some() {
            return false;
        }
        if let Some(f) = &st.failed
            && f.releases == wanted
            && f.when.elapsed() < RETRY_AFTER
        {
            return false;
        }
        st.loading = Some(wanted.clone());
        true
    });
    if !start {
        return;
    }
    tracing::info!(
        releases = %describe(&wanted),
        "the journal names another ATT&CK release; loading it aside"
    );
    let app = app.clone();
    tokio::spawn(async move {
        let cache = app.bundle_cache();
        let loaded = load_journaled(cache.as_deref(), &wanted).await;
        app.inner.release.with(|st| st.loading = None);
        match loaded {
            Ok(knowledge) => {
                app.inner.release.with(|st| st.failed = None);
                let _guard = app.inner.refresh_lock.lock().await;
                if let Err(error) = app.refresh_locked(true, Some(Arc::new(knowledge))).await {
                    tracing::warn!(%error, "swapping in the new ATT&CK release failed; retrying");
                }
            }
            Err(error) => {
                tracing::error!(
                    releases = %describe(&wanted),
                    %error,
                    "cannot load the ATT&CK release the journal names; the old release keeps answering"
                );
                app.inner.release.with(|st| {
                    st.failed = Some(LoadFailure {
                        releases: wanted,
                        error,
                        at: Timestamp::now(),
                        when: Instant::now(),
                    });
                });
            }
        }
    });
}

/// `enterprise-attack 18.1, ics-attack 18.1`.
pub fn describe(releases: &[AttackRelease]) -> String {
    releases
        .iter()
        .map(|r| format!("{} {}", r.domain, r.version))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Finds (downloading into the cache when it is nowhere here), loads and indexes a journaled
/// release set.
pub async fn load_journaled(
    cache: Option<&Path>,
    releases: &[AttackRelease],
) -> Result<Knowledge, String> {
    if releases.is_empty() {
        return Err("the journal names no ATT&CK release".into());
    }
    let mut paths = Vec::new();
    for r in releases {
        paths.push(locate(cache, r).await?);
    }
    let wanted = releases.to_vec();
    tokio::task::spawn_blocking(move || {
        // The journal's version is the release hint (a kept upload's file name may not say it;
        // a bundle's own `x-mitre-collection` still wins).
        let mut bundles = Vec::new();
        for (path, r) in paths.iter().zip(&wanted) {
            let bytes = attest_attack::load::read_file(path).map_err(|e| e.to_string())?;
            let hint = (r.version != "unknown")
                .then(|| r.version.clone())
                .or_else(|| attest_attack::load::release_from_file_name(path));
            bundles.push((path.display().to_string(), hint, bytes));
        }
        let (kb, warnings) = load_bytes(&bundles).map_err(|e| e.to_string())?;
        check_versions(&kb, &wanted)?;
        Ok(Knowledge::new(kb, warnings, wanted))
    })
    .await
    .map_err(|e| format!("loading panicked: {e}"))?
}

/// A release's bundle here, or downloaded into the cache.
async fn locate(cache: Option<&Path>, r: &AttackRelease) -> Result<PathBuf, String> {
    if let Some(p) = attest_attack::cache::find_local(cache, &r.domain, &r.version, &r.location) {
        return Ok(p);
    }
    let Some(cache) = cache else {
        return Err(format!(
            "{} {} is not at {} and there is no bundle cache to download it into \
             (set ATTEST_CACHE_DIR)",
            r.domain, r.version, r.location
        ));
    };
    let url = attest_attack::cache::download_url(&r.domain, &r.version, &r.location);
    tracing::info!(%url, "downloading an ATT&CK release");
    let bytes = attest_attack::cache::fetch(&url, &mut |_, _| {})
        .await
        .map_err(|e| format!("{} {} is not at {}: {e}", r.domain, r.version, r.location))?;
    let dest = cache.join(attest_attack::cache::release_file_name(
        &r.domain, &r.version,
    ));
    let d = dest.clone();
    tokio::task::spawn_blocking(move || attest_attack::cache::write_atomically(&d, &bytes))
        .await
        .map_err(|e| format!("saving panicked: {e}"))?
        .map_err(|e| e.to_string())?;
    Ok(dest)
}

/// Refuses bundles that hold another version than the journal names (a file replaced in
/// place), where both are known.
fn check_versions(kb: &KnowledgeBase, wanted: &[AttackRelease]) -> Result<(), String> {
    for d in kb.domains() {
        let Some(got) = d.release.as_deref() else {
            continue;
        };
        if let Some(w) = wanted.iter().find(|w| w.domain == d.key)
            && w.version != "unknown"
            && w.version != got
        {
            return Err(format!(
                "{} holds {} {got}, but the journal names {}",
                d.bundle, d.key, w.version
            ));
        }
    }
    Ok(())
}

/// Loads bundles given as bytes (an upload, a fetched release), each named by where it will be
/// kept, on the calling thread.
pub fn load_bytes(
    bundles: &[(String, Option<String>, Vec<u8>)],
) -> Result<(KnowledgeBase, Vec<Warning>), attest_attack::Error> {
    let inputs: Vec<BundleInput<'_>> = bundles
        .iter()
        .map(|(name, release, bytes)| BundleInput {
            name,
            bytes,
            release: release.as_deref(),
        })
        .collect();
    KnowledgeBase::from_bundles(&inputs)
}
