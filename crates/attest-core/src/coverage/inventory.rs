//! `Inventory`: the data sources indexed for one computation — who provides what, now and when a
//! test ran.
//!
//! A rule's dependency is checked once per rule and a pass's backing once per result, tens of
//! thousands of times per computation, so each question is answered from a hash look-up by the
//! lower-cased component, log-source name or source name rather than by scanning the inventory.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use jiff::Timestamp;

use crate::coverage::catalog::FastMap;
use crate::rule::Dependency;
use crate::source::{DataSource, Health, PipelineState};
use crate::state::{SourceDeclaration, State};

/// Why a source that would provide a dependency cannot, or that it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DependencyState {
    /// Provided by these usable sources (sorted by name).
    Satisfied {
        /// The sources.
        by: Vec<String>,
    },
    /// Providers exist, but every one is silent past its bound (or never seen).
    Silent {
        /// The first silent provider by name.
        source: String,
        /// When its bound ran out; `None` when it was never seen.
        since: Option<Timestamp>,
    },
    /// Providers exist, but none is queryable yet.
    NotQueryable {
        /// The first such provider by name.
        source: String,
        /// Its pipeline state.
        state: PipelineState,
    },
    /// No source in scope provides it.
    Missing,
}

impl DependencyState {
    /// Whether the dependency is met.
    pub fn is_satisfied(&self) -> bool {
        matches!(self, DependencyState::Satisfied { .. })
    }
}

/// A change to a source after a pass that took away the telemetry the pass relied on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceLoss {
    /// Removed from the inventory at `at`.
    Removed {
        /// Source name.
        source: String,
        /// When.
        at: Timestamp,
    },
    /// Redeclared at `at` so that it no longer provides the dependency (or is no longer
    /// queryable).
    Changed {
        /// Source name.
        source: String,
        /// When.
        at: Timestamp,
    },
    /// Silent past its bound.
    Silent {
        /// Source name.
        source: String,
        /// When the bound ran out; `None` when never seen.
        since: Option<Timestamp>,
    },
}

impl SourceLoss {
    /// The instant of the loss, for ordering (`None` for a never-seen source).
    pub fn at(&self) -> Option<Timestamp> {
        match self {
            SourceLoss::Removed { at, .. } | SourceLoss::Changed { at, .. } => Some(*at),
            SourceLoss::Silent { since, .. } => *since,
        }
    }
}

/// The lower-cased key a dependency is indexed by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Component(String),
    LogName(String),
    Name(String),
}

fn key_of(dep: &Dependency) -> Key {
    match dep {
        Dependency::Component(c) => Key::Component(c.trim().to_lowercase()),
        Dependency::LogSource(l) => Key::LogName(l.name.trim().to_lowercase()),
        Dependency::Source(s) => Key::Name(s.trim().to_lowercase()),
    }
}

/// Whether a declaration provides `dep` (platform aside).
fn declares(source: &DataSource, dep: &Dependency) -> bool {
    match dep {
        Dependency::Component(c) => source.provides_component(c.trim()),
        Dependency::LogSource(l) => source.log_sources.iter().any(|s| s.provides(l)),
        Dependency::Source(s) => source.name.trim().eq_ignore_ascii_case(s.trim()),
    }
}

fn keys_of(source: &DataSource) -> impl Iterator<Item = Key> + '_ {
    source
        .components
        .iter()
        .map(|c| Key::Component(c.trim().to_lowercase()))
        .chain(
            source
                .log_sources
                .iter()
                .map(|l| Key::LogName(l.name.trim().to_lowercase())),
        )
        .chain(std::iter::once(Key::Name(
            source.name.trim().to_lowercase(),
        )))
}

/// One current source with its health at `now` and whether it is in the system scope.
#[derive(Debug, Clone)]
struct Entry<'s> {
    source: &'s DataSource,
    health: Health,
    in_scope: bool,
}

impl Entry<'_> {
    fn usable(&self) -> bool {
        self.source.state == PipelineState::Queryable && self.health == Health::Healthy
    }
}

/// A memo entry: the latest change among a dependency's sources, and the loss for passes after
/// it.
type Settled = (Option<Timestamp>, Option<SourceLoss>);

/// The inventory of a [`State`] indexed for one instant and one system scope.
#[derive(Debug)]
pub struct Inventory<'s> {
    entries: Vec<Entry<'s>>,
    /// Current sources by key, positions into `entries` (sorted by name, as `State` keeps them).
    current: HashMap<Key, Vec<usize>>,
    /// Every source name that ever declared something under a key, with its history.
    ever: HashMap<Key, Vec<(&'s str, &'s [SourceDeclaration])>>,
    /// The latest history instant among the sources under each key: a pass at or after it saw
    /// today's declarations.
    last_change: HashMap<Key, Timestamp>,
    /// Memo per dependency: the latest change among its sources, and the answer of
    /// [`Inventory::loss_since`] for passes after it (which then depends on the dependency
    /// only). Tens of thousands of passes ask; a memo hit allocates nothing.
    settled: RefCell<FastMap<Dependency, Settled>>,
}

impl<'s> Inventory<'s> {
    /// Indexes `state`'s sources at `now`. `systems` restricts which sources count for coverage
    /// (a source with no scope listed serves every system); empty means every source.
    pub fn new(state: &'s State, systems: &[String], now: Timestamp) -> Inventory<'s> {
        Inventory::build(state, systems, now, None)
    }

    /// Like [`Inventory::new`], but indexes only the sources that declare (or once declared)
    /// one of `deps`: enough to answer [`Inventory::satisfy`] and [`Inventory::loss_since`] for
    /// those, at a fraction of the cost. An incremental update needs no more.
    pub fn for_dependencies(
        state: &'s State,
        systems: &[String],
        now: Timestamp,
        deps: &[Dependency],
    ) -> Inventory<'s> {
        Inventory::build(state, systems, now, Some(deps))
    }

    fn build(
        state: &'s State,
        systems: &[String],
        now: Timestamp,
        only: Option<&[Dependency]>,
    ) -> Inventory<'s> {
        // The keys a source is indexed under: all of its own, or those of the wanted
        // dependencies it declares.
        let keys = |s: &DataSource| -> Vec<Key> {
            match only {
                None => keys_of(s).collect(),
                Some(deps) => deps.iter().filter(|d| declares(s, d)).map(key_of).collect(),
            }
        };
        let mut entries = Vec::with_capacity(state.sources.len());
        let mut current: HashMap<Key, Vec<usize>> = HashMap::new();
        for rec in state.sources.values() {
            let s = &rec.source;
            let in_scope = systems.is_empty()
                || s.scope.is_empty()
                || s.scope
                    .iter()
                    .any(|x| systems.iter().any(|y| y.eq_ignore_ascii_case(x)));
            let idx = entries.len();
            entries.push(Entry {
                source: s,
                health: s.health(now),
                in_scope,
            });
            let mut seen = HashSet::new();
            for k in keys(s) {
                if seen.insert(k.clone()) {
                    current.entry(k).or_default().push(idx);
                }
            }
        }
        let mut ever: HashMap<Key, Vec<(&'s str, &'s [SourceDeclaration])>> = HashMap::new();
        let mut last_change: HashMap<Key, Timestamp> = HashMap::new();
        for (name, history) in &state.source_history {
            let mut key_set = HashSet::new();
            for decl in history {
                if let Some(s) = &decl.source {
                    key_set.extend(keys(s));
                }
            }
            let latest = history.last().map(|d| d.at);
            for k in key_set {
                if let Some(at) = latest {
                    let e = last_change.entry(k.clone()).or_insert(at);
                    if *e < at {
                        *e = at;
                    }
                }
                ever.entry(k)
                    .or_default()
                    .push((name.as_str(), history.as_slice()));
            }
        }
        Inventory {
            entries,
            current,
            ever,
            last_change,
            settled: RefCell::new(FastMap::default()),
        }
    }

    /// Whether `dep` is met by a usable source in scope. A component must also be collected on
    /// one of `platforms` when any are given; a named source or a log source is explicit enough
    /// to need no platform check.
    pub fn satisfy(&self, dep: &Dependency, platforms: &[String]) -> DependencyState {
        let Some(candidates) = self.current.get(&key_of(dep)) else {
            return DependencyState::Missing;
        };
        let mut by = Vec::new();
        let mut silent: Option<(&str, Option<Timestamp>)> = None;
        let mut not_queryable: Option<(&str, PipelineState)> = None;
        for &i in candidates {
            let Some(e) = self.entries.get(i) else {
                continue;
            };
            if !e.in_scope || !declares(e.source, dep) {
                continue;
            }
            if matches!(dep, Dependency::Component(_))
                && !platforms.is_empty()
                && !platforms.iter().any(|p| e.source.covers_platform(p))
            {
                continue;
            }
            if e.usable() {
                by.push(e.source.name.clone());
            } else if e.source.state != PipelineState::Queryable {
                not_queryable.get_or_insert((&e.source.name, e.source.state));
            } else {
                let since = match e.health {
                    Health::Silent { since } => Some(since),
                    _ => None,
                };
                silent.get_or_insert((&e.source.name, since));
            }
        }
        if !by.is_empty() {
            return DependencyState::Satisfied { by };
        }
        if let Some((source, since)) = silent {
            return DependencyState::Silent {
                source: source.to_string(),
                since,
            };
        }
        if let Some((source, state)) = not_queryable {
            return DependencyState::NotQueryable {
                source: source.to_string(),
                state,
            };
        }
        DependencyState::Missing
    }

    /// Usable sources in scope that provide the data component `component` on `platform`.
    pub fn component_providers(&self, component: &str, platform: &str) -> Vec<&'s str> {
        let dep = Dependency::Component(component.to_string());
        self.providers(&dep, |s| s.covers_platform(platform))
    }

    /// Usable sources in scope that provide the log source `wanted` on `platform`.
    pub fn log_source_providers(
        &self,
        wanted: &crate::source::LogSourceRef,
        platform: &str,
    ) -> Vec<&'s str> {
        let dep = Dependency::LogSource(wanted.clone());
        self.providers(&dep, |s| s.covers_platform(platform))
    }

    fn providers(&self, dep: &Dependency, extra: impl Fn(&DataSource) -> bool) -> Vec<&'s str> {
        let Some(candidates) = self.current.get(&key_of(dep)) else {
            return Vec::new();
        };
        candidates
            .iter()
            .filter_map(|&i| self.entries.get(i))
            .filter(|e| e.in_scope && e.usable() && declares(e.source, dep) && extra(e.source))
            .map(|e| e.source.name.as_str())
            .collect()
    }

    /// Whether the telemetry that backed a pass at `passed_at` for `dep` is still there. The
    /// backers are the sources whose declaration in force at `passed_at` provided `dep` and were
    /// queryable; the pass stands while one of them still provides it, queryable and not
    /// silent. Otherwise the earliest loss among the backers is returned. Without backers there
    /// is nothing later to lose (the rule's dependency was unmet when it passed). The system
    /// scope does not apply: a pass is evidence about the rule, wherever it ran.
    pub fn loss_since(&self, dep: &Dependency, passed_at: Timestamp) -> Option<SourceLoss> {
        if let Some((last, settled)) = self.settled.borrow().get(dep)
            && last.is_none_or(|l| l <= passed_at)
        {
            return settled.clone();
        }
        let key = key_of(dep);
        let last = self.last_change.get(&key).copied();
        if last.is_none_or(|l| l <= passed_at) {
            let loss = self.settled_loss(&key, dep);
            self.settled
                .borrow_mut()
                .insert(dep.clone(), (last, loss.clone()));
            return loss;
        }
        let mut loss = None;
        for (name, history) in self.ever.get(&key).map(Vec::as_slice).unwrap_or(&[]) {
            let then = history.partition_point(|d| d.at <= passed_at);
            let backed = then
                .checked_sub(1)
                .and_then(|i| history.get(i))
                .and_then(|d| d.source.as_ref())
                .is_some_and(|s| s.state == PipelineState::Queryable && declares(s, dep));
            if !backed {
                continue;
            }
            // The first later declaration that stopped providing, if any.
            let stopped = history.get(then..).unwrap_or(&[]).iter().find(|d| {
                !d.source
                    .as_ref()
                    .is_some_and(|s| s.state == PipelineState::Queryable && declares(s, dep))
            });
            let candidate = match stopped {
                Some(d) if d.source.is_none() => SourceLoss::Removed {
                    source: name.to_string(),
                    at: d.at,
                },
                Some(d) => SourceLoss::Changed {
                    source: name.to_string(),
                    at: d.at,
                },
                None => {
                    let health = self
                        .entries
                        .iter()
                        .find(|e| e.source.name == *name)
                        .map(|e| (e.health, e.source.state));
                    match health {
                        Some((Health::Healthy, PipelineState::Queryable)) => return None,
                        Some((Health::Silent { since }, _)) => SourceLoss::Silent {
                            source: name.to_string(),
                            since: Some(since),
                        },
                        Some((Health::NeverSeen, _)) => SourceLoss::Silent {
                            source: name.to_string(),
                            since: None,
                        },
                        // Gone without a recorded removal, or not queryable: the history says
                        // otherwise, so treat the last declaration as the change.
                        _ => SourceLoss::Changed {
                            source: name.to_string(),
                            at: history.last().map_or(passed_at, |d| d.at),
                        },
                    }
                }
            };
            keep_earliest(&mut loss, candidate);
        }
        loss
    }

    /// [`Inventory::loss_since`] when declarations are as they were when the test ran: the
    /// backers are today's declared providers, and only silence can have taken them away.
    fn settled_loss(&self, key: &Key, dep: &Dependency) -> Option<SourceLoss> {
        let mut loss = None;
        for &i in self.current.get(key).map(Vec::as_slice).unwrap_or(&[]) {
            let Some(e) = self.entries.get(i) else {
                continue;
            };
            if e.source.state != PipelineState::Queryable || !declares(e.source, dep) {
                continue;
            }
            match e.health {
                Health::Healthy => return None,
                Health::Silent { since } => keep_earliest(
                    &mut loss,
                    SourceLoss::Silent {
                        source: e.source.name.clone(),
                        since: Some(since),
                    },
                ),
                Health::NeverSeen => keep_earliest(
                    &mut loss,
                    SourceLoss::Silent {
                        source: e.source.name.clone(),
                        since: None,
                    },
                ),
            }
        }
        loss
    }
}

/// Keeps the earliest loss (a never-seen source sorts first: it never backed anything live).
fn keep_earliest(slot: &mut Option<SourceLoss>, candidate: SourceLoss) {
    let better = match slot {
        None => true,
        Some(cur) => candidate.at() < cur.at(),
    };
    if better {
        *slot = Some(candidate);
    }
}
