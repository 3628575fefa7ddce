//! The attest workspace store: the append-only journal and its current-state projections, on
//! SQLite (embedded default) or PostgreSQL (shared by several servers).
//!
//! Every change to a workspace is a [`journal::Event`](attest_core::journal::Event) appended with
//! who, when and why. [`Store::append`] writes a whole batch — an import, a hand edit — in ONE
//! transaction, together with the projection tables (rules, their techniques, tactics and
//! dependencies, sources, tests, results, ...) that make listings fast SQL. A failure or a kill
//! mid-way leaves the previous state: nothing is ever half written.
//!
//! Reads come in two kinds. [`Store::state`] folds the journal (up to an instant, for "coverage
//! as of D") into an [`attest_core::state::State`]: the journal is the truth. The query functions
//! ([`Store::rules`], [`Store::sources`], [`Store::results`], ...) read the projections and return
//! core types.
//!
//! ```no_run
//! # async fn demo() -> attest_store::Result<()> {
//! use attest_core::journal::Event;
//! use attest_core::source::DataSource;
//! use attest_store::{NewEntry, Store};
//!
//! let store = Store::create("sqlite://workspace/attest.db").await?;
//! let at: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
//! let event = Event::SourceUpserted(DataSource::new("Sysmon"));
//! let outcome = store.append(vec![NewEntry::new("alice", at, event)]).await?;
//! assert_eq!(outcome.last_seq, store.head().await?);
//! let state = store.state(None).await?;
//! assert_eq!(state.sources.len(), 1);
//! # Ok(()) }
//! ```
//!
//! Design choices a reader would not guess:
//! - The stored payload is owned here (`stored::v1`), converted by hand from the core types, and
//!   versioned; old versions keep decoding. Core types have no serde.
//! - `seq` is assigned by the store under the write lock (`BEGIN IMMEDIATE` on SQLite, `LOCK TABLE`
//!   on PostgreSQL), so it is gapless and strictly increasing across concurrent writers.
//! - The projection is updated by loading the touched records, applying the batch with the core's
//!   own [`State::apply`](attest_core::state::State::apply), and writing them back: projections and
//!   folds cannot disagree. Projections are derived data and are rebuilt from the journal when
//!   their layout version changes (a workspace from an older attest upgrades itself on open).
//! - One SQL text serves both databases (`$1` placeholders, `ON CONFLICT ... excluded`); the
//!   operations are compiled once per backend from `src/backend/ops.rs`.
//! - On PostgreSQL every append also sends `NOTIFY attest_journal, '<last seq>'` inside its
//!   transaction, so listeners hear of it exactly when it is committed.
#![deny(missing_docs)]

mod backend;
mod error;
pub mod hooks;
pub mod stored;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use attest_core::journal::{Event, JournalEntry};
use attest_core::result::ValidationResult;
use attest_core::rule::{RuleFormat, RuleId, RuleStatus};
use attest_core::state::{RuleRecord, SourceRecord, State};
use attest_core::test::Test;
use jiff::Timestamp;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use error::{BackendKind, Error, Result};

/// An entry to append: the store assigns its `seq`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEntry {
    /// Who made the change (a user, a token name, a pipeline).
    pub who: String,
    /// Why, when given.
    pub why: Option<String>,
    /// When the change was made (journal time).
    pub at: Timestamp,
    /// What changed.
    pub event: Event,
}

impl NewEntry {
    /// An entry without a reason.
    pub fn new(who: impl Into<String>, at: Timestamp, event: Event) -> NewEntry {
        NewEntry {
            who: who.into(),
            why: None,
            at,
            event,
        }
    }

    /// The same entry with a reason.
    pub fn with_why(mut self, why: impl Into<String>) -> NewEntry {
        self.why = Some(why.into());
        self
    }
}

/// What an append wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendOutcome {
    /// Sequence number of the first entry written (`last_seq + 1` when nothing was written).
    pub first_seq: u64,
    /// Sequence number of the last entry written: the journal's head after the append.
    pub last_seq: u64,
    /// Number of entries written.
    pub count: usize,
}

/// Which journal entries to read. The default reads the whole journal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JournalQuery {
    /// Only entries with `seq` greater than this (0: from the start).
    pub after_seq: u64,
    /// Only entries with `seq` up to and including this.
    pub until_seq: Option<u64>,
    /// Only entries whose journal time is at or before this instant.
    pub as_of: Option<Timestamp>,
    /// At most this many entries.
    pub limit: Option<u64>,
}

/// Filters for [`Store::rules`]; every field set must match (AND). The default lists every
/// rule, retired ones included.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleFilter {
    /// Claims this technique ID (compared upper-cased, e.g. `T1003.001`).
    pub technique: Option<String>,
    /// With `technique`, also match rules claiming its sub-techniques (`T1003` → `T1003.*`).
    pub with_subtechniques: bool,
    /// Claims this tactic short name (compared lower-cased, e.g. `credential-access`).
    pub tactic: Option<String>,
    /// Depends on this inventory source: by name, or through a data component or log source
    /// the source provides (name compared case-insensitively).
    pub data_source: Option<String>,
    /// Comes from this format.
    pub format: Option<RuleFormat>,
    /// Comes from this import root (or SIEM).
    pub root: Option<String>,
    /// Has this status.
    pub status: Option<RuleStatus>,
    /// Is owned by this owner (exact).
    pub owner: Option<String>,
}

/// A workspace store: a pool of connections to one SQLite file or PostgreSQL database. Cheap to
/// clone (the pool is shared).
#[derive(Debug, Clone)]
pub struct Store {
    backend: Backend,
    /// Appends waiting to be committed together (see [`Store::append`]).
    group: Arc<GroupCommit>,
}

/// Group commit: appends that arrive while another is being committed wait, and are then
/// committed together in one transaction. A durable commit costs an fsync (milliseconds on
/// real disks); without grouping, concurrent writers — a validation pipeline posting results
/// while the server answers — would queue one fsync each behind the database's write lock.
#[derive(Debug, Default)]
struct GroupCommit {
    queue: std::sync::Mutex<GroupQueue>,
}

#[derive(Debug, Default)]
struct GroupQueue {
    pending: Vec<PendingAppend>,
    /// Whether a committer task is running (it takes whatever is pending until none is).
    running: bool,
}

#[derive(Debug)]
struct PendingAppend {
    batch: Vec<NewEntry>,
    payloads: Vec<String>,
    reply: tokio::sync::oneshot::Sender<Result<AppendOutcome>>,
}

/// At most this many batches share a commit, so one commit's work stays bounded.
const GROUP_MAX: usize = 256;

#[derive(Debug, Clone)]
enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same operation on whichever backend the store has: `ops` is
/// `backend::sqlite::ops` or `backend::postgres::ops`, compiled from the same source.
/// Workspace metadata key holding the ATT&CK bundle files of the workspace's release, one path
/// per line (written by `attest init` and ATT&CK updates, read when a server starts).
pub const META_ATTACK_BUNDLES: &str = "attack.bundles";

macro_rules! dispatch {
    ($self:expr, $f:ident ( $($arg:expr),* )) => {
        match &$self.backend {
            Backend::Sqlite(pool) => backend::sqlite::ops::$f(pool $(, $arg)*).await,
            Backend::Postgres(pool) => backend::postgres::ops::$f(pool $(, $arg)*).await,
        }
    };
}

enum Target {
    Sqlite(PathBuf),
    Postgres(Box<PgConnectOptions>),
}

fn parse_url(url: &str) -> Result<Target> {
    let invalid = |reason: &str| Error::InvalidUrl {
        url: url.to_string(),
        reason: reason.to_string(),
    };
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let options = PgConnectOptions::from_str(url).map_err(|e| invalid(&e.to_string()))?;
        return Ok(Target::Postgres(Box::new(options)));
    }
    let path = if let Some(rest) = url.strip_prefix("sqlite://") {
        rest
    } else if let Some(rest) = url.strip_prefix("sqlite:") {
        rest
    } else if url.contains("://") {
        return Err(invalid("unsupported scheme (use sqlite:// or postgres://)"));
    } else {
        url
    };
    if path.is_empty() {
        return Err(invalid("empty database path"));
    }
    Ok(Target::Sqlite(PathBuf::from(path)))
}

impl Store {
    /// Opens an existing workspace (a SQLite file must exist; see [`Store::create`]), applies
    /// pending migrations and rebuilds the projections if their layout changed.
    pub async fn open(url: &str) -> Result<Store> {
        Store::connect(url, false).await
    }

    /// Opens a workspace, creating the SQLite file if it does not exist (`attest init`). On
    /// PostgreSQL the database must exist; its tables are created.
    pub async fn create(url: &str) -> Result<Store> {
        Store::connect(url, true).await
    }

    async fn connect(url: &str, create: bool) -> Result<Store> {
        let backend = match parse_url(url)? {
            Target::Sqlite(path) => {
                if !create && !path.exists() {
                    return Err(Error::Missing {
                        path: path.display().to_string(),
                    });
                }
                let options = SqliteConnectOptions::new()
                    .filename(&path)
                    .create_if_missing(create)
                    .journal_mode(SqliteJournalMode::Wal)
                    // FULL makes a committed import survive a power cut, at one fsync per
                    // commit; imports are one commit each, so it costs nothing noticeable.
                    .synchronous(SqliteSynchronous::Full)
                    // Concurrent writers wait for the lock rather than fail.
                    .busy_timeout(Duration::from_secs(60));
                let pool = SqlitePoolOptions::new()
                    .max_connections(4)
                    .connect_with(options)
                    .await
                    .map_err(error::db("opening the workspace", BackendKind::Sqlite))?;
                Backend::Sqlite(pool)
            }
            Target::Postgres(options) => {
                let pool = PgPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(60))
                    .connect_with(*options)
                    .await
                    .map_err(error::db("connecting", BackendKind::Postgres))?;
                Backend::Postgres(pool)
            }
        };
        let store = Store {
            backend,
            group: Arc::default(),
        };
        dispatch!(store, prepare())?;
        Ok(store)
    }

    /// Which database this store uses.
    pub fn backend(&self) -> BackendKind {
        match self.backend {
            Backend::Sqlite(_) => BackendKind::Sqlite,
            Backend::Postgres(_) => BackendKind::Postgres,
        }
    }

    /// Closes the pool, waiting for connections to finish (SQLite checkpoints its WAL).
    pub async fn close(self) {
        match self.backend {
            Backend::Sqlite(pool) => pool.close().await,
            Backend::Postgres(pool) => pool.close().await,
        }
    }

    /// Appends a batch in one transaction, updating the projections in the same transaction:
    /// all entries are written or none. Entries about unknown rules or sources are journaled and
    /// ignored by the projection, as [`State::apply`] does. An empty batch writes nothing.
    ///
    /// Batches appended concurrently are committed together (group commit): each keeps its own
    /// contiguous sequence numbers and is written whole or not at all. When a shared commit
    /// fails, each of its batches is retried alone, so one bad batch fails only its writer.
    pub async fn append(&self, batch: Vec<NewEntry>) -> Result<AppendOutcome> {
        if batch.is_empty() {
            return dispatch!(self, append(batch));
        }
        // Encoded before queueing: a bad entry fails its own batch at once.
        let payloads = match &self.backend {
            Backend::Sqlite(_) => backend::sqlite::ops::encode_batch(&batch)?,
            Backend::Postgres(_) => backend::postgres::ops::encode_batch(&batch)?,
        };
        let (reply, answer) = tokio::sync::oneshot::channel();
        let start = {
            let mut queue = self
                .group
                .queue
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            queue.pending.push(PendingAppend {
                batch,
                payloads,
                reply,
            });
            !std::mem::replace(&mut queue.running, true)
        };
        if start {
            // A task of its own, not this future: a writer that goes away (a client that
            // disconnects) must not abandon the batches of the others mid-commit.
            let store = self.clone();
            tokio::spawn(async move { store.commit_pending().await });
        }
        answer.await.unwrap_or(Err(Error::WriterStopped))
    }

    /// Commits what is pending, group by group, until nothing is.
    async fn commit_pending(&self) {
        loop {
            let group: Vec<PendingAppend> = {
                let mut queue = self
                    .group
                    .queue
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if queue.pending.is_empty() {
                    queue.running = false;
                    return;
                }
                let n = queue.pending.len().min(GROUP_MAX);
                queue.pending.drain(..n).collect()
            };
            let (work, replies): (Vec<_>, Vec<_>) = group
                .into_iter()
                .map(|p| ((p.batch, p.payloads), p.reply))
                .unzip();
            if work.len() == 1 {
                let outcome = dispatch!(self, append_group(work)).map(|mut o| o.remove(0));
                if let Some(reply) = replies.into_iter().next() {
                    let _ = reply.send(outcome);
                }
                continue;
            }
            let retry = work.clone();
            match dispatch!(self, append_group(work)) {
                Ok(outcomes) => {
                    for (reply, outcome) in replies.into_iter().zip(outcomes) {
                        let _ = reply.send(Ok(outcome));
                    }
                }
                Err(_) => {
                    for (one, reply) in retry.into_iter().zip(replies) {
                        let outcome =
                            dispatch!(self, append_group(vec![one])).map(|mut o| o.remove(0));
                        let _ = reply.send(outcome);
                    }
                }
            }
        }
    }

    /// Appends a batch and sets workspace metadata values in one transaction (both or neither),
    /// e.g. the new ATT&CK release and where its bundles are.
    pub async fn append_with_meta(
        &self,
        batch: Vec<NewEntry>,
        meta: &[(&str, &str)],
    ) -> Result<AppendOutcome> {
        dispatch!(self, append_with_meta(batch, meta))
    }

    /// The sequence number of the last journal entry (0 for an empty journal).
    pub async fn head(&self) -> Result<u64> {
        dispatch!(self, head())
    }

    /// Journal entries in `seq` order.
    pub async fn journal(&self, query: &JournalQuery) -> Result<Vec<JournalEntry>> {
        dispatch!(self, journal(query))
    }

    /// Up to `limit` entries after `seq`, for a server catching up (after a notification on
    /// PostgreSQL, or by polling on SQLite).
    pub async fn entries_after(&self, seq: u64, limit: u64) -> Result<Vec<JournalEntry>> {
        let query = JournalQuery {
            after_seq: seq,
            limit: Some(limit),
            ..JournalQuery::default()
        };
        dispatch!(self, journal(&query))
    }

    /// The state as of an instant (journal time), or now with `None`: the fold of the journal.
    pub async fn state(&self, as_of: Option<Timestamp>) -> Result<State> {
        dispatch!(self, state(as_of))
    }

    /// The current state read from the projection tables instead of folding the journal. It
    /// equals `state(None)`; it is faster on a long journal.
    pub async fn projected_state(&self) -> Result<State> {
        dispatch!(self, projected_state())
    }

    /// Rules matching a filter, ordered by id.
    pub async fn rules(&self, filter: &RuleFilter) -> Result<Vec<RuleRecord>> {
        dispatch!(self, rules(filter))
    }

    /// One rule by id.
    pub async fn rule(&self, id: &RuleId) -> Result<Option<RuleRecord>> {
        dispatch!(self, rule(id))
    }

    /// The inventory, ordered by name.
    pub async fn sources(&self) -> Result<Vec<SourceRecord>> {
        dispatch!(self, sources(None))
    }

    /// One inventory source by exact name.
    pub async fn source(&self, name: &str) -> Result<Option<SourceRecord>> {
        Ok(dispatch!(self, sources(Some(name)))?.into_iter().next())
    }

    /// The test catalogue, ordered by id.
    pub async fn tests(&self) -> Result<Vec<Test>> {
        dispatch!(self, tests())
    }

    /// Validation results of a rule (for one technique, or all), ordered by technique then by
    /// the time the test ran (oldest first), as in [`State::results`].
    pub async fn results(
        &self,
        rule: &RuleId,
        technique: Option<&str>,
    ) -> Result<Vec<ValidationResult>> {
        dispatch!(self, results(rule, technique))
    }

    /// A workspace metadata value (set by `attest init`: ATT&CK releases, cache paths, ...).
    pub async fn meta(&self, key: &str) -> Result<Option<String>> {
        dispatch!(self, meta(key))
    }

    /// Sets workspace metadata values, in one transaction.
    pub async fn set_meta(&self, entries: &[(&str, &str)]) -> Result<()> {
        dispatch!(self, set_meta(entries))
    }

    /// All workspace metadata.
    pub async fn all_meta(&self) -> Result<BTreeMap<String, String>> {
        dispatch!(self, all_meta())
    }

    /// Rebuilds every projection table from the journal, in one transaction.
    pub async fn rebuild_projections(&self) -> Result<()> {
        dispatch!(self, rebuild_projections())
    }

    /// On PostgreSQL, a listener that receives the head `seq` after every committed append
    /// (`NOTIFY attest_journal`). `None` on SQLite, which has no notifications: poll
    /// [`Store::head`] instead.
    pub async fn listen(&self) -> Result<Option<JournalListener>> {
        match &self.backend {
            Backend::Sqlite(_) => Ok(None),
            Backend::Postgres(pool) => backend::postgres::listen(pool).await.map(Some),
        }
    }
}

/// Receives journal notifications from PostgreSQL (see [`Store::listen`]).
#[derive(Debug)]
pub struct JournalListener {
    inner: sqlx::postgres::PgListener,
}

impl JournalListener {
    /// Waits for the next committed append and returns the journal head it wrote. The listener
    /// reconnects by itself; after a reconnect notifications may have been missed, so callers
    /// should read everything after their last seen `seq`.
    pub async fn recv(&mut self) -> Result<u64> {
        backend::postgres::recv(&mut self.inner).await
    }

    /// Like [`JournalListener::recv`], but says when the connection was lost (`Ok(None)`): the
    /// next call reconnects, and notifications sent meanwhile are gone, so the caller should
    /// catch up by reading the journal head now.
    pub async fn try_recv(&mut self) -> Result<Option<u64>> {
        backend::postgres::try_recv(&mut self.inner).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn urls_choose_the_backend() {
        assert!(
            matches!(parse_url("sqlite://a/b.db"), Ok(Target::Sqlite(p)) if p == Path::new("a/b.db"))
        );
        assert!(
            matches!(parse_url("sqlite:///abs/b.db"), Ok(Target::Sqlite(p)) if p == Path::new("/abs/b.db"))
        );
        assert!(
            matches!(parse_url("sqlite:rel.db"), Ok(Target::Sqlite(p)) if p == Path::new("rel.db"))
        );
        assert!(
            matches!(parse_url("ws/attest.db"), Ok(Target::Sqlite(p)) if p == Path::new("ws/attest.db"))
        );
        assert!(matches!(
            parse_url("postgres://u@localhost:5432/db"),
            Ok(Target::Postgres(_))
        ));
        assert!(matches!(
            parse_url("mysql://x"),
            Err(Error::InvalidUrl { .. })
        ));
        assert!(matches!(
            parse_url("sqlite://"),
            Err(Error::InvalidUrl { .. })
        ));
    }
}
