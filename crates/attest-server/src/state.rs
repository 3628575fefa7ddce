//! The server's shared state: the store and a snapshot — the ATT&CK release it answers from
//! ([`Knowledge`]: knowledge base, coverage catalog, enrichment index) with the projected state
//! and its coverage — swapped whole when the journal moves or the release changes.
//!
//! Readers take an `Arc` of the current snapshot and never wait for a recomputation; the
//! refresher builds the next snapshot aside and swaps it in. A request that holds one snapshot
//! answers from one release and one journal position, however long it runs.
//!
//! The release is the journal's (`Event::AttackReleasesSet`). When a refresh sees the journal
//! name another release than the one loaded — an update through another instance, or through
//! the CLI — it loads that release on a blocking thread, aside ([`crate::release`]), and swaps
//! in a snapshot built on it; until then, and for good if the load fails (logged, shown by
//! `GET /api/v1/attack`, retried a minute later), the old release keeps answering.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use attest_attack::{KnowledgeBase, Warning};
use attest_core::coverage::{self, Catalog, Coverage, Index, Scope};
use attest_core::exposure::{self, EffectiveOptions, EffectivePriority, MappingIndex};
use attest_core::journal::{AttackRelease, Event, JournalEntry};
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

/// The ATT&CK release a server answers from: the knowledge base and everything indexed from
/// it, built together and swapped together.
#[derive(Debug)]
pub struct Knowledge {
    /// The knowledge base.
    pub kb: KnowledgeBase,
    /// The coverage catalog flattened from it.
    pub catalog: Catalog,
    /// The enrichment index built from it.
    pub enrich: EnrichIndex,
    /// What the load tolerated (counted by `GET /api/v1/attack`).
    pub warnings: Vec<Warning>,
    /// The journaled release set this knowledge answers for: a refresh loads another release
    /// only when the journal's differs from this. At start it is the journal's, whatever
    /// bundles the server was given, so `--attack` keeps its meaning until the next update.
    pub journaled: Vec<AttackRelease>,
}

impl Knowledge {
    /// Indexes `kb` (catalog and enrichment) for the journaled release set `journaled`.
    pub fn new(
        kb: KnowledgeBase,
        warnings: Vec<Warning>,
        journaled: Vec<AttackRelease>,
    ) -> Knowledge {
        let catalog = Catalog::from_kb(&kb);
        let enrich = EnrichIndex::build(&kb);
        Knowledge {
            kb,
            catalog,
            enrich,
            warnings,
            journaled,
        }
    }
}

/// The projected state at one journal position and its coverage on one ATT&CK release,
/// computed once.
#[derive(Debug)]
pub struct Snapshot {
    /// The release the coverage was computed on (and everything ATT&CK a request needs).
    pub knowledge: Arc<Knowledge>,
    /// The state (projection of the journal).
    pub state: State,
    /// Coverage of every technique at `coverage.at`.
    pub coverage: Coverage,
    /// Effective priorities of every exposure, highest first (computed with the coverage, so
    /// requests only filter).
    pub exposures: Vec<EffectivePriority>,
    /// Lower-cased rule title → rules with it.
    /// (Shared with the snapshots advanced from this one: results and rule status changes
    /// leave titles alone.)
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
    /// Computes the snapshot of `state` at `now` on `knowledge`.
    pub fn new(knowledge: Arc<Knowledge>, state: State, now: Timestamp) -> Snapshot {
        let catalog = &knowledge.catalog;
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
            knowledge,
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
    /// heartbeat, a profile, a release), and the caller must recompute whole.
    ///
    /// This is what keeps a result write cheap for the writer, who waits for its own write to
    /// be visible: folding one result costs a clone of the state and a fraction of a
    /// millisecond of evaluation, where a whole recomputation reads the journal and evaluates
    /// every technique.
    pub fn advanced(&self, entries: &[JournalEntry]) -> Option<Snapshot> {
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
                Event::JobRan(_)
                | Event::TokenIssued { .. }
                | Event::TokenRevoked { .. }
                | Event::SettingChanged { .. } => {}
                _ => return None,
            }
        }
        let catalog = &self.knowledge.catalog;
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
            knowledge: Arc::clone(&self.knowledge),
            state,
            coverage,
            exposures,
            names: Arc::clone(&self.names),
            index: Arc::clone(&self.index),
            computed: self.computed,
            enrich_cache: Default::default(),
        })
    }

    /// The knowledge base of this snapshot's release.
    pub fn kb(&self) -> &KnowledgeBase {
        &self.knowledge.kb
    }

    /// The coverage catalog of this snapshot's release.
    pub fn catalog(&self) -> &Catalog {
        &self.knowledge.catalog
    }

    /// The enrichment index of this snapshot's release.
    pub fn enrich_index(&self) -> &EnrichIndex {
        &self.knowledge.enrich
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
    /// The runbook library and its folder (`runbooks.rs`).
    pub runbooks: crate::runbooks::Shared,
    /// Swapped whole; read without a lock or a reference count touched on the hot path
    /// (`arc_swap`: every core reads it for every request).
    pub snapshot: arc_swap::ArcSwap<Snapshot>,
    pub metrics: Metrics,
    pub tokens: TokenCache,
    pub auth: AuthMode,
    /// Serialises refreshes so two never compute the same snapshot at once.
    pub(crate) refresh_lock: Mutex<()>,
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
    /// Loading the journal's release when it is not the one answering (at most one at a time).
    pub release: crate::release::ReleaseLoading,
}

/// Everything a request handler needs; cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    pub(crate) inner: Arc<Inner>,
}

impl AppState {
    /// Builds the state: indexes the knowledge base and computes the first snapshot.
    pub async fn new(store: Store, kb: KnowledgeBase, auth: AuthMode) -> Result<AppState, Error> {
        AppState::with_warnings(store, kb, Vec::new(), auth).await
    }

    /// [`AppState::new`] keeping the load's warnings for `GET /api/v1/attack`.
    pub async fn with_warnings(
        store: Store,
        kb: KnowledgeBase,
        warnings: Vec<Warning>,
        auth: AuthMode,
    ) -> Result<AppState, Error> {
        let state = store
            .projected_state()
            .await
            .map_err(|source| Error::Store {
                operation: "read the workspace state",
                source,
            })?;
        let knowledge = Arc::new(Knowledge::new(kb, warnings, state.releases.clone()));
        let snapshot = Snapshot::new(knowledge, state, Timestamp::now());
        Ok(AppState {
            inner: Arc::new(Inner {
                store,
                runbooks: Default::default(),
                snapshot: arc_swap::ArcSwap::from_pointee(snapshot),
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
                release: crate::release::ReleaseLoading::default(),
            }),
        })
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The ATT&CK release answering now. A request that also reads the snapshot should take
    /// both from one [`AppState::snapshot`] (`snap.knowledge`), so they cannot come from two
    /// releases when an update lands in between.
    pub fn knowledge(&self) -> Arc<Knowledge> {
        Arc::clone(&self.snapshot().knowledge)
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
        self.inner.snapshot.load_full()
    }

    /// The current snapshot for the length of one request, without touching its reference
    /// count (see [`arc_swap::Guard`]); hold it briefly.
    pub fn snapshot_now(&self) -> arc_swap::Guard<Arc<Snapshot>> {
        self.inner.snapshot.load()
    }

    /// Recomputes the snapshot when the journal head moved past it (or `force`, or it is old).
    /// Returns whether it was replaced. When the journal names another ATT&CK release than the
    /// one answering, a load of it is started aside (see the module documentation).
    pub async fn refresh(&self, force: bool) -> Result<bool, Error> {
        let _guard = self.inner.refresh_lock.lock().await;
        self.refresh_locked(force, None).await
    }

    /// Makes sure the snapshot includes journal position `seq` (a write just appended): returns
    /// at once when a refresh made for another writer already folded it in, so writers arriving
    /// together share one refresh.
    pub async fn refresh_to(&self, seq: u64) -> Result<bool, Error> {
        let _guard = self.inner.refresh_lock.lock().await;
        if self.snapshot().state.last_seq >= seq {
            return Ok(false);
        }
        self.refresh_locked(false, None).await
    }

    /// Swaps in `knowledge` (a release already loaded and indexed) with the current state,
    /// after running `write` (the journal append that names the release) under the refresh
    /// lock, so no refresh in between starts a second load of the same release. When `write`
    /// fails nothing is swapped.
    pub async fn install_release<T, E>(
        &self,
        knowledge: Knowledge,
        write: impl std::future::Future<Output = Result<T, E>>,
    ) -> Result<Result<T, E>, Error> {
        let _guard = self.inner.refresh_lock.lock().await;
        let written = match write.await {
            Ok(v) => v,
            Err(e) => return Ok(Err(e)),
        };
        self.refresh_locked(true, Some(Arc::new(knowledge))).await?;
        Ok(Ok(written))
    }

    /// The refresh itself; the caller holds `refresh_lock`. `knowledge` replaces the release
    /// answering (a load finished); it is installed only while the journal still names it.
    pub(crate) async fn refresh_locked(
        &self,
        force: bool,
        knowledge: Option<Arc<Knowledge>>,
    ) -> Result<bool, Error> {
        let started = std::time::Instant::now();
        let current = self.snapshot();
        let head = self
            .inner
            .store
            .head()
            .await
            .map_err(|source| Error::Store {
                operation: "read the journal head",
                source,
            })?;
        let old = current.computed.elapsed() >= MAX_AGE;
        if head == current.state.last_seq && !force && !old && knowledge.is_none() {
            return Ok(false);
        }
        if !force && !old && knowledge.is_none() && head > current.state.last_seq {
            let gap = head - current.state.last_seq;
            if gap <= INCREMENTAL_MAX {
                let entries = self
                    .inner
                    .store
                    .entries_after(current.state.last_seq, gap)
                    .await
                    .map_err(|source| Error::Store {
                        operation: "read the new journal entries",
                        source,
                    })?;
                if let Some(next) = current.advanced(&entries) {
                    self.inner.metrics.snapshot_advanced();
                    tracing::debug!(
                        seq = next.state.last_seq,
                        from = current.state.last_seq,
                        ms = started.elapsed().as_secs_f64() * 1000.0,
                        "coverage snapshot advanced"
                    );
                    self.inner.snapshot.store(Arc::new(next));
                    self.inner.journal_moved.notify_one();
                    return Ok(true);
                }
            }
        }
        let state = self
            .inner
            .store
            .projected_state()
            .await
            .map_err(|source| Error::Store {
                operation: "read the workspace state",
                source,
            })?;
        self.inner.metrics.snapshot_recomputed();
        let mut swapped = false;
        let knowledge = match knowledge {
            Some(k) if k.journaled == state.releases => {
                tracing::info!(
                    release = %k.kb.release_label(),
                    "now answering from the new ATT&CK release"
                );
                swapped = true;
                k
            }
            Some(_) | None => Arc::clone(&current.knowledge),
        };
        let release_moved = knowledge.journaled != state.releases;
        let wanted = state.releases.clone();
        let next = Snapshot::new(knowledge, state, Timestamp::now());
        tracing::debug!(
            seq = next.state.last_seq,
            from = current.state.last_seq,
            ms = started.elapsed().as_secs_f64() * 1000.0,
            "coverage snapshot recomputed"
        );
        self.inner.snapshot.store(Arc::new(next));
        self.inner.journal_moved.notify_one();
        if swapped {
            self.rebuild_runbooks();
        }
        if release_moved {
            crate::release::start_load(self, wanted);
        }
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
