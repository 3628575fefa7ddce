//! The runbook library: a folder of Markdown runbooks (parsed by
//! `attest_formats::import::runbook`), indexed by the techniques they answer, offered in SOAR
//! enrichment and listed at `GET /api/v1/runbooks`.
//!
//! The library is loaded when the server starts and reloaded when the folder changes: a watcher
//! compares the files' names, sizes and modification times every [`POLL`] and re-reads only the
//! files that changed. The new library is built aside and swapped in whole (`arc_swap::ArcSwap`,
//! held only to clone or replace the `Arc`), so requests never wait for a reload.
//!
//! A file that fails to parse is left out at start with a warning naming the file and line (the
//! server still starts: one broken runbook must not take SOAR enrichment down), and on reload
//! keeps its last good version, with the same warning. Both show in the listing's `problems`.
//! A folder that cannot be read at start is a startup error.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use attest_attack::TechniqueId;
use attest_core::coverage::Catalog;
use attest_formats::import::runbook::{
    Resolved, Runbook, RunbookError, read_runbook, resolve_techniques,
};
use attest_formats::{Diagnostic, Input, Severity};
use serde::Serialize;
use serde_json::value::RawValue;

use crate::state::AppState;

/// How often the watcher looks at the folder.
pub const POLL: Duration = Duration::from_secs(2);

/// The largest runbook read (1 MiB); a bigger file is reported, not read.
const MAX_BYTES: u64 = 1024 * 1024;

/// A runbook with the current techniques it answers.
#[derive(Debug)]
pub struct Entry {
    /// As read.
    pub runbook: Runbook,
    /// Its ids resolved against the catalog (unknown ones left out, with a warning).
    pub techniques: Vec<Resolved>,
    /// Its JSON in an answer, made once at load: offered for the technique, and for a child.
    json: [Box<RawValue>; 2],
}

impl Entry {
    fn new(runbook: Runbook, techniques: Vec<Resolved>) -> Entry {
        let json = [Matched::Technique, Matched::Parent].map(|matched| {
            let view = RunbookView {
                title: &runbook.title,
                file: &runbook.file,
                owner: runbook.owner.as_deref(),
                platforms: &runbook.platforms,
                matched,
                steps: &runbook.steps,
            };
            serde_json::value::to_raw_value(&view).unwrap_or_else(|error| {
                tracing::warn!(file = %runbook.file, %error, "runbook not serializable");
                Box::<RawValue>::default()
            })
        });
        Entry {
            runbook,
            techniques,
            json,
        }
    }
}

/// A runbook as an enrichment answer shows it.
#[derive(Debug, Serialize)]
struct RunbookView<'a> {
    title: &'a str,
    file: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner: Option<&'a str>,
    platforms: &'a [String],
    matched: Matched,
    steps: &'a [String],
}

/// What identifies a version of a file without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
}

/// One file of the folder as last seen.
#[derive(Debug, Clone)]
struct FileState {
    stamp: Stamp,
    /// The last good version (kept when a later edit breaks the file).
    good: Option<Arc<Entry>>,
    /// Warnings of the good version.
    warnings: Vec<Diagnostic>,
    /// Why the current version of the file is not used, if it is not.
    error: Option<RunbookError>,
}

/// The runbooks of one folder, indexed by technique. Immutable: a reload builds a new one.
#[derive(Debug, Default)]
pub struct RunbookLibrary {
    dir: Option<PathBuf>,
    /// The ATT&CK release its ids were resolved on: a reload after a release swap re-resolves
    /// every file, even unchanged ones. (A `Weak` keeps the address from being reused.)
    release: std::sync::Weak<crate::state::Knowledge>,
    files: BTreeMap<String, FileState>,
    by_technique: HashMap<TechniqueId, Vec<Arc<Entry>>>,
}

/// Whether a runbook answers the technique itself or its parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Matched {
    /// It names the technique (or a revoked id that maps to it).
    Technique,
    /// It names the technique's parent.
    Parent,
}

/// A runbook offered for one technique of an alert. Serializes as its JSON made at load (title,
/// file, owner, platforms, matched, steps).
#[derive(Debug, Clone, Copy)]
pub struct RunbookMatch<'a> {
    /// The runbook.
    pub entry: &'a Entry,
    /// Whether it answers the technique or its parent.
    pub matched: Matched,
}

impl RunbookMatch<'_> {
    /// Its JSON.
    pub fn json(&self) -> &RawValue {
        match self.matched {
            Matched::Technique => &self.entry.json[0],
            Matched::Parent => &self.entry.json[1],
        }
    }
}

impl Serialize for RunbookMatch<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.json().serialize(serializer)
    }
}

/// One runbook in the listing.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RunbookSummary {
    /// File, relative to the runbook folder.
    pub file: String,
    /// Title.
    pub title: String,
    /// Owner.
    pub owner: Option<String>,
    /// Platforms it is for (empty: all).
    pub platforms: Vec<String>,
    /// Techniques it answers, as written and as they count in the loaded ATT&CK release.
    pub techniques: Vec<RunbookTechnique>,
    /// Its steps.
    pub steps: Vec<String>,
    /// Whether this is the last good version of a file whose current version is broken.
    pub stale: bool,
}

/// A technique of a runbook.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RunbookTechnique {
    /// As written in the front matter.
    pub written: String,
    /// The current technique it counts for.
    pub id: String,
}

/// A problem with one runbook file.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RunbookProblem {
    /// `warning` (the runbook is used) or `error` (the file, or its current version, is not).
    pub severity: &'static str,
    /// File, relative to the runbook folder.
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

/// `GET /api/v1/runbooks`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RunbookListing {
    /// The folder (absent when the server runs without `--runbooks`).
    pub dir: Option<String>,
    /// Runbooks by file name.
    pub runbooks: Vec<RunbookSummary>,
    /// Errors and warnings of the files, by file name.
    pub problems: Vec<RunbookProblem>,
}

/// The library's shared slot in the server state.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    library: arc_swap::ArcSwap<RunbookLibrary>,
    dir: OnceLock<PathBuf>,
}

/// Why the runbook folder cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("runbook folder {}: {source}", dir.display())]
pub struct FolderError {
    /// The folder.
    pub dir: PathBuf,
    /// The cause.
    #[source]
    pub source: std::io::Error,
}

impl RunbookLibrary {
    /// Runbooks for a technique: those naming it first, then those naming its parent, each
    /// group by file name; a runbook that lists platforms only when the alert's platform (if
    /// given) is among them.
    pub fn for_technique(&self, id: TechniqueId, platform: Option<&str>) -> Vec<RunbookMatch<'_>> {
        if self.by_technique.is_empty() {
            return Vec::new();
        }
        let mut out: Vec<RunbookMatch<'_>> = Vec::new();
        let on_platform = |e: &Entry| {
            platform.is_none_or(|p| {
                e.runbook.platforms.is_empty()
                    || e.runbook
                        .platforms
                        .iter()
                        .any(|x| x.eq_ignore_ascii_case(p))
            })
        };
        let groups = [
            (Some(id), Matched::Technique),
            (id.parent(), Matched::Parent),
        ];
        for (tid, matched) in groups {
            let Some(entries) = tid.and_then(|t| self.by_technique.get(&t)) else {
                continue;
            };
            for e in entries {
                if on_platform(e) && !out.iter().any(|m| std::ptr::eq(m.entry, &**e)) {
                    out.push(RunbookMatch { entry: e, matched });
                }
            }
        }
        out
    }

    /// Number of usable runbooks.
    pub fn len(&self) -> usize {
        self.files.values().filter(|f| f.good.is_some()).count()
    }

    /// Whether no runbook is usable.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The listing: every usable runbook and every file's problems.
    pub fn listing(&self) -> RunbookListing {
        let mut runbooks = Vec::new();
        let mut problems = Vec::new();
        for (file, f) in &self.files {
            if let Some(e) = &f.good {
                let r = &e.runbook;
                runbooks.push(RunbookSummary {
                    file: r.file.clone(),
                    title: r.title.clone(),
                    owner: r.owner.clone(),
                    platforms: r.platforms.clone(),
                    techniques: e
                        .techniques
                        .iter()
                        .map(|t| RunbookTechnique {
                            written: t.written.clone(),
                            id: t.current.to_string(),
                        })
                        .collect(),
                    steps: r.steps.clone(),
                    stale: f.error.is_some(),
                });
            }
            if let Some(err) = &f.error {
                let kept = if f.good.is_some() {
                    "; the last good version is used"
                } else {
                    "; not used"
                };
                problems.push(RunbookProblem {
                    severity: "error",
                    file: file.clone(),
                    line: err.line,
                    message: format!("{}{kept}", err.message),
                });
            }
            for w in &f.warnings {
                problems.push(RunbookProblem {
                    severity: match w.severity {
                        Severity::Warning => "warning",
                        Severity::Error => "error",
                    },
                    file: w.path.clone(),
                    line: w.line,
                    message: w.message.clone(),
                });
            }
        }
        RunbookListing {
            dir: self.dir.as_ref().map(|d| d.display().to_string()),
            runbooks,
            problems,
        }
    }

    /// Loads the folder `dir`, reusing from `previous` every file whose size and modification
    /// time did not change (unless `reread`: after an ATT&CK release swap every id must be
    /// resolved again). A file that fails keeps its good version from `previous`. Returns the
    /// library and whether it differs from `previous`. Logs each new problem with its file and
    /// line.
    pub fn load(
        dir: &Path,
        catalog: &Catalog,
        previous: Option<&RunbookLibrary>,
        reread: bool,
    ) -> Result<(RunbookLibrary, bool), FolderError> {
        let found = scan(dir).map_err(|source| FolderError {
            dir: dir.to_path_buf(),
            source,
        })?;
        let mut changed = reread || previous.is_none_or(|p| p.files.len() != found.len());
        let mut files = BTreeMap::new();
        for (label, (path, stamp)) in found {
            let before = previous.and_then(|p| p.files.get(&label));
            if let Some(b) = before.filter(|b| b.stamp == stamp && !reread) {
                files.insert(label, b.clone());
                continue;
            }
            changed = true;
            let state = read_file(&label, &path, stamp, catalog, before);
            files.insert(label, state);
        }
        if let Some(p) = previous
            && !changed
        {
            changed = p.files.keys().ne(files.keys());
        }
        let mut by_technique: HashMap<TechniqueId, Vec<Arc<Entry>>> = HashMap::new();
        for f in files.values() {
            if let Some(e) = &f.good {
                for t in &e.techniques {
                    by_technique
                        .entry(t.current)
                        .or_default()
                        .push(Arc::clone(e));
                }
            }
        }
        Ok((
            RunbookLibrary {
                dir: Some(dir.to_path_buf()),
                release: std::sync::Weak::new(),
                files,
                by_technique,
            },
            changed,
        ))
    }
}

/// Reads and parses one file; on failure keeps `before`'s good version.
fn read_file(
    label: &str,
    path: &Path,
    stamp: Stamp,
    catalog: &Catalog,
    before: Option<&FileState>,
) -> FileState {
    let parsed = if stamp.len > MAX_BYTES {
        Err(RunbookError {
            file: label.to_string(),
            line: None,
            message: format!("{} bytes, above the {MAX_BYTES}-byte limit", stamp.len),
        })
    } else {
        match std::fs::read(path) {
            Ok(bytes) => read_runbook(Input {
                path: label,
                bytes: &bytes,
            }),
            Err(e) => Err(RunbookError {
                file: label.to_string(),
                line: None,
                message: format!("cannot be read: {e}"),
            }),
        }
    };
    match parsed {
        Ok((runbook, mut warnings)) => {
            let (techniques, more) = resolve_techniques(&runbook, catalog);
            warnings.extend(more);
            for w in &warnings {
                tracing::warn!("runbook {w}");
            }
            tracing::info!(file = %label, title = %runbook.title, "runbook loaded");
            FileState {
                stamp,
                good: Some(Arc::new(Entry::new(runbook, techniques))),
                warnings,
                error: None,
            }
        }
        Err(error) => {
            let good = before.and_then(|b| b.good.clone());
            if good.is_some() {
                tracing::warn!("runbook not reloaded, its last good version stays: {error}");
            } else {
                tracing::warn!("runbook not loaded: {error}");
            }
            FileState {
                stamp,
                warnings: before
                    .filter(|_| good.is_some())
                    .map(|b| b.warnings.clone())
                    .unwrap_or_default(),
                good,
                error: Some(error),
            }
        }
    }
}

/// The Markdown files under `dir` (recursively; hidden files and folders skipped), by path
/// relative to `dir` with `/` separators.
fn scan(dir: &Path) -> std::io::Result<BTreeMap<String, (PathBuf, Stamp)>> {
    let mut out = BTreeMap::new();
    let mut pending = vec![(dir.to_path_buf(), String::new())];
    let mut first = true;
    while let Some((folder, prefix)) = pending.pop() {
        let entries = match std::fs::read_dir(&folder) {
            Ok(e) => e,
            // The folder itself must be readable; a subfolder removed meanwhile is just gone.
            Err(e) if first => return Err(e),
            Err(_) => continue,
        };
        first = false;
        for entry in entries {
            let Ok(entry) = entry else { continue };
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let Ok(meta) = std::fs::metadata(entry.path()) else {
                continue;
            };
            let label = format!("{prefix}{name}");
            if meta.is_dir() {
                pending.push((entry.path(), format!("{label}/")));
            } else if meta.is_file() {
                let lower = name.to_ascii_lowercase();
                if lower.ends_with(".md") || lower.ends_with(".markdown") {
                    let stamp = Stamp {
                        modified: meta.modified().ok(),
                        len: meta.len(),
                    };
                    out.insert(label, (entry.path(), stamp));
                }
            }
        }
    }
    Ok(out)
}

impl AppState {
    /// The current runbook library (empty when the server runs without a runbook folder).
    pub fn runbooks(&self) -> Arc<RunbookLibrary> {
        self.inner.runbooks.library.load_full()
    }

    /// The current runbook library for the length of one request, without touching its
    /// reference count.
    pub fn runbooks_now(&self) -> arc_swap::Guard<Arc<RunbookLibrary>> {
        self.inner.runbooks.library.load()
    }

    /// Loads the runbook folder `dir` and remembers it, so that serving watches it for changes.
    /// Bad files are left out with a warning; an unreadable folder is an error. Returns how
    /// many runbooks were loaded.
    pub async fn load_runbooks(&self, dir: PathBuf) -> Result<usize, FolderError> {
        let knowledge = self.knowledge();
        let load_dir = dir.clone();
        let library = tokio::task::spawn_blocking(move || {
            RunbookLibrary::load(&load_dir, &knowledge.catalog, None, false).map(|(mut l, _)| {
                l.release = Arc::downgrade(&knowledge);
                l
            })
        })
        .await
        .map_err(|e| FolderError {
            dir: dir.clone(),
            source: std::io::Error::other(e.to_string()),
        })??;
        let n = library.len();
        let broken = library.files.values().filter(|f| f.error.is_some()).count();
        if broken > 0 {
            tracing::warn!(dir = %dir.display(), broken,
                "some runbooks could not be loaded (see the warnings above and GET /api/v1/runbooks)");
        }
        tracing::info!(dir = %dir.display(), runbooks = n, "runbooks loaded");
        let _ = self.inner.runbooks.dir.set(dir);
        self.swap_runbooks(library);
        Ok(n)
    }

    /// Rebuilds the runbook library on the release answering now (after a release swap: the
    /// runbooks' technique ids resolve through the catalog). Nothing without a runbook folder.
    pub(crate) fn rebuild_runbooks(&self) {
        let Some(dir) = self.inner.runbooks.dir.get().cloned() else {
            return;
        };
        let app = self.clone();
        tokio::spawn(async move {
            if let Err(error) = app.load_runbooks(dir).await {
                tracing::warn!(%error, "runbooks could not be rebuilt on the new ATT&CK release");
            }
        });
    }

    fn swap_runbooks(&self, library: RunbookLibrary) {
        self.inner.runbooks.library.store(Arc::new(library));
    }

    /// Re-reads the runbook folder now (what the watcher does every [`POLL`]); returns whether
    /// the library changed. Nothing happens without a runbook folder.
    pub async fn reload_runbooks(&self) -> Result<bool, FolderError> {
        let Some(dir) = self.inner.runbooks.dir.get().cloned() else {
            return Ok(false);
        };
        let current = self.runbooks();
        let knowledge = self.knowledge();
        let err_dir = dir.clone();
        let (library, changed) = tokio::task::spawn_blocking(move || {
            // Built on another release (a swap happened while it loaded): resolve all again.
            let same_release =
                std::sync::Weak::ptr_eq(&current.release, &Arc::downgrade(&knowledge));
            let reread = !same_release;
            RunbookLibrary::load(&dir, &knowledge.catalog, Some(&current), reread).map(
                |(mut l, changed)| {
                    l.release = Arc::downgrade(&knowledge);
                    (l, changed)
                },
            )
        })
        .await
        .map_err(|e| FolderError {
            dir: err_dir,
            source: std::io::Error::other(e.to_string()),
        })??;
        if changed {
            tracing::info!(runbooks = library.len(), "runbooks reloaded");
            self.swap_runbooks(library);
        }
        Ok(changed)
    }

    /// Starts the watcher of the runbook folder, if there is one.
    pub(crate) fn spawn_runbook_watcher(&self) -> Option<tokio::task::JoinHandle<()>> {
        self.inner.runbooks.dir.get()?;
        let app = self.clone();
        Some(tokio::spawn(async move {
            let mut tick = tokio::time::interval(POLL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                if let Err(error) = app.reload_runbooks().await {
                    // A folder briefly gone (replaced by a deploy) keeps the last library.
                    tracing::warn!(%error, "runbook folder not reloaded; the last library stays");
                }
            }
        }))
    }
}
