//! The server's shared state: the store, the knowledge base and its indexes (loaded once), and
//! a snapshot of the projected state with its coverage, swapped whole when the journal moves.
//!
//! Readers take an `Arc` of the current snapshot and never wait for a recomputation; the
//! refresher builds the next snapshot aside and swaps it in.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use attest_attack::KnowledgeBase;
use attest_core::coverage::{self, Catalog, Coverage, Index, Scope};
use attest_core::exposure::{self, EffectiveOptions, EffectivePriority, MappingIndex};
use attest_core::journal::{Event, JournalEntry};
use attest_core::rule::RuleId;
use attest_core::state::State;
use attest_store::Store;
use jiff::Timestamp;
use tokio::sync::{Mutex, Notify};

use crate::Error;
use crate::auth::TokenCache;
use crate::enrich::EnrichIndex;
use crate::metrics::Metrics;

/// How often the journal head is polled, and how old coverage may get when nothing is
/// written (staleness and silence depend on the clock, not only on the journal).
const POLL: Duration = Duration::from_secs(1);
const MAX_AGE: Duration = Duration::from_secs(60);
/// At most this many new journal entries are folded into a snapshot incrementally; a larger
/// gap (an import, a catch-up after a long disconnection) is cheaper to recompute whole.
const INCREMENTAL_MAX: u64 = 512;

/// The projected state at one journal position and its coverage, computed once.
#[derive(Debug)]
pub struct Snapshot {
    /// The state (projection of the journal).
    pub state: State,
    /// Coverage of every technique at `coverage.at`.
    pub coverage: Coverage,
    /// Effective priorities of every exposure, highest first (computed with the coverage, so
    /// requests only filter).
    pub exposures: Vec<EffectivePriority>,
    /// Lower-cased rule title → rules with it (shared with the snapshots advanced from this one:
    /// results and rule status changes leave titles alone).
    names: Arc<HashMap<String, Vec<RuleId>>>,
    /// Which rules claim which techniques in scope, kept to advance the snapshot one rule at a
    /// time (claims only change when rules are imported or the remap table changes).
    index: Arc<Index>,
    /// When its coverage was last computed whole (wall clock), to recompute old ones: an
    /// advanced snapshot keeps its predecessor's instant, as its coverage does.
    computed: std::time::Instant,
    /// Enrichment's coverage part per technique, made on first use.
    pub(crate) enrich_cache: crate::enrich::CoverageCache,
}

impl Snapshot {
    /// Computes the snapshot of `state` at `now`.
    pub fn new(catalog: &Catalog, state: State, now: Timestamp) -> Snapshot {
        let index = coverage::index(catalog, &state, &Scope::all());
        let coverage = coverage::compute_indexed(&index, catalog, &state, &Scope::all(), now);
        let mut names: HashMap<String, Vec<RuleId>> = HashMap::new();
        for (id, r) in &state.rules {
            names
                .entry(r.rule.title.trim().to_lowercase())
                .or_default()
                .push(id.clone());
        }
        let exposures = exposure_priorities(catalog, &state, &coverage);
        Snapshot {
            state,
            coverage,
            exposures,
            names: Arc::new(names),
            index: Arc::new(index),
            computed: std::time::Instant::now(),
            enrich_cache: Default::default(),
        }
    }

    /// The snapshot after `entries` (the journal entries right after this snapshot's position,
    /// in order), computed by re-evaluating only the techniques of the rules they touch — or
    /// `None` when one of them may change more than its rule's techniques (an import, a source
    /// heartbeat, a profile), and the caller must recompute whole.
    ///
    /// This is what keeps a result write cheap for the writer, who waits for its own write to
    /// be visible: folding one result costs a clone of the state and a fraction of a
    /// millisecond of evaluation, where a whole recomputation reads the journal and evaluates
    /// every technique.
    pub fn advanced(&self, catalog: &Catalog, entries: &[JournalEntry]) -> Option<Snapshot> {
        let mut touched: Vec<&RuleId> = Vec::new();
        let mut expected = self.state.last_seq;
        for entry in entries {
            expected += 1;
            if entry.seq != expected {
                return None;
            }
            match &entry.event {
                Event::ResultRecorded(result) => touched.push(&result.rule),
                Event::RuleStatusChanged { id, .. }
                | Event::RuleOwnerAssigned { id, .. }
                | Event::RuleTuned { id, .. } => touched.push(id),
                // Job runs and token changes are journaled for the record; coverage reads
                // nothing of them.
                Event::JobRan(_) | Event::TokenIssued { .. } | Event::TokenRevoked { .. } => {}
                _ => return None,
            }
        }
        let mut state = self.state.clone();
        for entry in entries {
            state.apply(entry);
        }
        touched.sort();
        touched.dedup();
        let mut coverage = self.coverage.clone();
        // Evaluated at the instant the rest of the coverage was, so techniques never mix two
        // instants; time catches up at the next whole recomputation (at most MAX_AGE away).
        let at = coverage.at;
        let scope = Scope::all();
        for rule in touched {
            coverage::update_rule(
                &mut coverage,
                &self.index,
                catalog,
                &state,
                &scope,
                at,
                rule,
            );
        }
        coverage.seq = state.last_seq;
        let exposures = if state.exposures.is_empty() {
            Vec::new()
        } else {
            exposure_priorities(catalog, &state, &coverage)
        };
        Some(Snapshot {
            state,
            coverage,
            exposures,
            names: Arc::clone(&self.names),
            index: Arc::clone(&self.index),
            computed: self.computed,
            enrich_cache: Default::default(),
        })
    }

    /// Rules titled `name` (case-insensitive).
    pub fn rules_named(&self, name: &str) -> Vec<&RuleId> {
        self.names
            .get(&name.trim().to_lowercase())
            .map(|v| v.iter().collect())
            .unwrap_or_default()
    }

    /// A rule's title.
    pub fn rule_title(&self, id: &str) -> Option<&str> {
        self.state
            .rules
            .get(&RuleId(id.to_string()))
            .map(|r| r.rule.title.as_str())
    }
}

/// Effective priorities of every exposure, highest first.
fn exposure_priorities(
    catalog: &Catalog,
    state: &State,
    coverage: &Coverage,
) -> Vec<EffectivePriority> {
    let index = MappingIndex::new(state.exposure_mappings.values(), catalog, &state.remap);
    exposure::effective_priorities(
        state.exposures.values(),
        &index,
        catalog,
        &exposure::states_of(coverage),
        &EffectiveOptions::default(),
    )
}

/// Whether requests must carry a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// Every `/api` request needs a bearer token; roles are enforced.
    Required,
    /// No token needed; every request acts as an anonymous admin. Only for trusted setups.
    Disabled,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub store: Store,
    pub kb: KnowledgeBase,
    pub catalog: Catalog,
    pub enrich: EnrichIndex,
    /// The runbook library and its folder (`runbooks.rs`).
    pub runbooks: crate::runbooks::Shared,
    pub snapshot: RwLock<Arc<Snapshot>>,
    pub metrics: Metrics,
    pub tokens: TokenCache,
    pub auth: AuthMode,
    /// Serialises refreshes so two never compute the same snapshot at once.
    refresh_lock: Mutex<()>,
    /// Wakes the refresher (on a PostgreSQL notification or after a local write).
    wake: Notify,
    /// Wakes the webhook event detector when the snapshot moved to a new journal head.
    pub journal_moved: Notify,
    /// Wakes the webhook deliverer when deliveries were queued.
    pub deliveries_queued: Notify,
    /// This server's identity in delivery and job leases (several servers share a database).
    pub instance: String,
    /// How background work runs (set when serving starts).
    pub background: std::sync::OnceLock<crate::webhooks::BackgroundOptions>,
}

/// Everything a request handler needs; cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    pub(crate) inner: Arc<Inner>,
}

impl AppState {
    /// Builds the state: indexes the knowledge base and computes the first snapshot.
    pub async fn new(store: Store, kb: KnowledgeBase, auth: AuthMode) -> Result<AppState, Error> {
        let catalog = Catalog::from_kb(&kb);
        let enrich = EnrichIndex::build(&kb);
        let state = store
            .projected_state()
            .await
            .map_err(|source| Error::Store {
                operation: "read the workspace state",
                source,
            })?;
        let snapshot = Snapshot::new(&catalog, state, Timestamp::now());
        Ok(AppState {
            inner: Arc::new(Inner {
                store,
                kb,
                catalog,
                enrich,
                runbooks: Default::default(),
                snapshot: RwLock::new(Arc::new(snapshot)),
                metrics: Metrics::default(),
                tokens: TokenCache::default(),
                auth,
                refresh_lock: Mutex::new(()),
                wake: Notify::new(),
                journal_moved: Notify::new(),
                deliveries_queued: Notify::new(),
                instance: format!(
                    "{}-{}",
                    std::process::id(),
                    hex::encode(rand::random::<[u8; 4]>())
                ),
                background: std::sync::OnceLock::new(),
            }),
        })
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The knowledge base.
    pub fn kb(&self) -> &KnowledgeBase {
        &self.inner.kb
    }

    /// The coverage catalog.
    pub fn catalog(&self) -> &Catalog {
        &self.inner.catalog
    }

    /// The enrichment index.
    pub fn enrich_index(&self) -> &EnrichIndex {
        &self.inner.enrich
    }

    /// This server's identity in leases: process id and a random suffix.
    pub fn instance(&self) -> &str {
        &self.inner.instance
    }

    /// How background work runs (the defaults until serving starts).
    pub fn background(&self) -> crate::webhooks::BackgroundOptions {
        self.inner.background.get().copied().unwrap_or_default()
    }

    /// The current snapshot.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        match self.inner.snapshot.read() {
            Ok(s) => Arc::clone(&s),
            // A panic while swapping cannot leave a torn Arc: the old one is still whole.
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Brings the snapshot up to the journal head when the head moved past it (or recomputes it
    /// whole with `force`, or when it is old). Returns whether it was replaced.
    pub async fn refresh(&self, force: bool) -> Result<bool, Error> {
        let _guard = self.inner.refresh_lock.lock().await;
        self.refresh_locked(force).await
    }

    /// Makes sure the snapshot includes journal position `seq` (a write just appended): returns
    /// at once when a refresh made for another writer already folded it in, so writers arriving
    /// together share one refresh.
    pub async fn refresh_to(&self, seq: u64) -> Result<bool, Error> {
        let _guard = self.inner.refresh_lock.lock().await;
        if self.snapshot().state.last_seq >= seq {
            return Ok(false);
        }
        self.refresh_locked(false).await
    }

    async fn refresh_locked(&self, force: bool) -> Result<bool, Error> {
        let started = std::time::Instant::now();
        let current = self.snapshot();
        let store_error = |operation| move |source| Error::Store { operation, source };
        let head = self
            .inner
            .store
            .head()
            .await
            .map_err(store_error("read the journal head"))?;
        let old = current.computed.elapsed() >= MAX_AGE;
        if head == current.state.last_seq && !force && !old {
            return Ok(false);
        }
        let catalog = &self.inner.catalog;
        let mut next = None;
        if !force && !old && head > current.state.last_seq {
            let gap = head - current.state.last_seq;
            if gap <= INCREMENTAL_MAX {
                let entries = self
                    .inner
                    .store
                    .entries_after(current.state.last_seq, gap)
                    .await
                    .map_err(store_error("read the new journal entries"))?;
                next = current.advanced(catalog, &entries);
                if next.is_some() {
                    self.inner.metrics.snapshot_advanced();
                }
            }
        }
        let next = match next {
            Some(next) => next,
            None => {
                let state = self
                    .inner
                    .store
                    .projected_state()
                    .await
                    .map_err(store_error("read the workspace state"))?;
                self.inner.metrics.snapshot_recomputed();
                Snapshot::new(catalog, state, Timestamp::now())
            }
        };
        tracing::debug!(
            seq = next.state.last_seq,
            from = current.state.last_seq,
            ms = started.elapsed().as_secs_f64() * 1000.0,
            "coverage snapshot refreshed"
        );
        match self.inner.snapshot.write() {
            Ok(mut s) => *s = Arc::new(next),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(next),
        }
        self.inner.journal_moved.notify_one();
        Ok(true)
    }

    /// Starts the background refresher: polls the head every second, and on PostgreSQL also
    /// wakes on journal notifications.
    pub fn spawn_refresher(&self) -> tokio::task::JoinHandle<()> {
        let app = self.clone();
        tokio::spawn(async move {
            if app.inner.store.backend() == attest_store::BackendKind::Postgres {
                let waker = app.clone();
                tokio::spawn(async move { listen(waker).await });
            }
            let mut tick = tokio::time::interval(POLL);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    () = app.inner.wake.notified() => {}
                }
                if let Err(error) = app.refresh(false).await {
                    tracing::warn!(%error, "snapshot refresh failed");
                }
            }
        })
    }
}

/// Wakes the refresher on every journal notification, for as long as the server runs. When the
/// connection drops, it wakes the refresher once more (notifications sent while it was down are
/// lost, so the refresh reads the head and catches up) and listens again, retrying every few
/// seconds while the database is unreachable; the one-second poll covers the gap.
async fn listen(app: AppState) {
    loop {
        let mut listener = match app.inner.store.listen().await {
            Ok(Some(l)) => l,
            Ok(None) => return,
            Err(error) => {
                tracing::warn!(%error, "cannot listen for journal notifications; retrying");
                tokio::time::sleep(Duration::from_secs(5)).await;
                continue;
            }
        };
        // (Re)connected: anything written before this point is read by one catch-up refresh.
        app.inner.wake.notify_one();
        loop {
            match listener.try_recv().await {
                Ok(Some(_)) => app.inner.wake.notify_one(),
                Ok(None) => {
                    tracing::info!("journal listener reconnecting; catching up");
                    app.inner.wake.notify_one();
                }
                Err(error) => {
                    tracing::warn!(%error, "journal listener failed; listening again");
                    app.inner.wake.notify_one();
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    break;
                }
            }
        }
    }
}
