//! The projection: the workspace's state after a prefix of the journal.
//!
//! `State` is what the coverage engine reads. It is rebuilt by folding journal entries in order,
//! so "coverage as of D" is simply the fold of the entries up to D. Besides current values it keeps
//! *when* things last changed, because a change after a passing test invalidates that pass.

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::exposure::{Exposure, ExposureKey, ExposureStatus, MappingSet};
use crate::journal::{AttackRelease, Event, JournalEntry, Policy};
use crate::profile::{Actor, Profile};
use crate::result::ValidationResult;
use crate::rule::{Rule, RuleId, RuleStatus};
use crate::source::DataSource;
use crate::test::Test;

/// A rule with the instants that matter to validation.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleRecord {
    /// The rule as it stands.
    pub rule: Rule,
    /// When its imported content last changed (first import included).
    pub content_changed_at: Timestamp,
    /// When it was first imported. A first import is not a change: results recorded for runs
    /// before it (history uploaded together with the rules) are not invalidated by it.
    pub imported_at: Timestamp,
    /// When its tuning last changed, if ever.
    pub tuning_changed_at: Option<Timestamp>,
    /// When its status last changed (first import included).
    pub status_changed_at: Timestamp,
}

/// A data source with the instant it last changed.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRecord {
    /// The source as declared, with its latest heartbeat.
    pub source: DataSource,
    /// When its declaration last changed (heartbeats excluded).
    pub changed_at: Timestamp,
}

/// One declaration of a source in its history: the value declared at `at`, or `None` when the
/// source was removed then.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceDeclaration {
    /// Journal time of the change.
    pub at: Timestamp,
    /// The declaration (heartbeats excluded), `None` for a removal.
    pub source: Option<DataSource>,
}

/// An exposure with the instants that matter to history.
#[derive(Debug, Clone, PartialEq)]
pub struct ExposureRecord {
    /// The finding as last reported (status `Fixed` once closed).
    pub exposure: Exposure,
    /// When it was first journaled.
    pub observed_at: Timestamp,
    /// When its reported values last changed.
    pub changed_at: Timestamp,
    /// When it closed, while it is closed.
    pub closed_at: Option<Timestamp>,
}

impl ExposureRecord {
    /// Open or accepted: still present on the asset.
    pub fn is_active(&self) -> bool {
        self.exposure.status != ExposureStatus::Fixed
    }
}

/// The workspace's state at one instant.
#[derive(Debug, Clone, Default)]
pub struct State {
    /// ATT&CK releases in use.
    pub releases: Vec<AttackRelease>,
    /// The inventory, by name.
    pub sources: BTreeMap<String, SourceRecord>,
    /// Removed sources and when they were removed (a rule depending on one is degraded, and a
    /// pass older than the removal is invalidated).
    pub removed_sources: BTreeMap<String, Timestamp>,
    /// Every declaration and removal of each source, oldest first. Validation needs what a
    /// source provided when a test ran to tell whether a later redeclaration or removal took
    /// away telemetry a pass relied on.
    pub source_history: BTreeMap<String, Vec<SourceDeclaration>>,
    /// The registry, by id (retired rules included).
    pub rules: BTreeMap<RuleId, RuleRecord>,
    /// The test catalogue, by id.
    pub tests: BTreeMap<String, Test>,
    /// Results per (rule, technique), oldest first.
    pub results: BTreeMap<(RuleId, String), Vec<ValidationResult>>,
    /// Re-validation policy.
    pub policy: Policy,
    /// Intel actors, by id.
    pub actors: BTreeMap<String, Actor>,
    /// Profiles, by name.
    pub profiles: BTreeMap<String, Profile>,
    /// Exposures, by (asset, finding); closed ones stay, marked fixed.
    pub exposures: BTreeMap<ExposureKey, ExposureRecord>,
    /// Finding → technique mapping sets, by name.
    pub exposure_mappings: BTreeMap<String, MappingSet>,
    /// The workspace's remap table for technique ids its rules claim (empty: none).
    pub remap: attest_attack::RemapTable,
    /// Sequence number of the last entry applied (0 for an empty journal).
    pub last_seq: u64,
    /// Journal time of the last entry applied.
    pub last_at: Option<Timestamp>,
}

impl State {
    /// Folds journal entries in order.
    pub fn from_journal<'a>(entries: impl IntoIterator<Item = &'a JournalEntry>) -> State {
        let mut state = State::default();
        for entry in entries {
            state.apply(entry);
        }
        state
    }

    /// Applies one entry. Entries about unknown rules or sources are ignored rather than failing,
    /// because the journal is history: an event can only refer to what existed when it was
    /// written, and a projection must never refuse to load a journal.
    pub fn apply(&mut self, entry: &JournalEntry) {
        let at = entry.at;
        self.last_seq = entry.seq;
        self.last_at = Some(at);
        match &entry.event {
            Event::AttackReleasesSet(releases) => self.releases = releases.clone(),
            Event::SourceUpserted(source) => {
                let mut source = source.clone();
                if let Some(old) = self.sources.get(&source.name) {
                    // A redeclaration does not erase the last heartbeat.
                    if source.last_seen.is_none() {
                        source.last_seen = old.source.last_seen;
                    }
                }
                self.removed_sources.remove(&source.name);
                let mut declared = source.clone();
                declared.last_seen = None;
                self.source_history
                    .entry(source.name.clone())
                    .or_default()
                    .push(SourceDeclaration {
                        at,
                        source: Some(declared),
                    });
                self.sources.insert(
                    source.name.clone(),
                    SourceRecord {
                        source,
                        changed_at: at,
                    },
                );
            }
            Event::SourceRemoved { name } => {
                if self.sources.remove(name).is_some() {
                    self.removed_sources.insert(name.clone(), at);
                    self.source_history
                        .entry(name.clone())
                        .or_default()
                        .push(SourceDeclaration { at, source: None });
                }
            }
            Event::SourceSeen { name, at: seen } => {
                if let Some(rec) = self.sources.get_mut(name)
                    && rec.source.last_seen.is_none_or(|prev| prev < *seen)
                {
                    rec.source.last_seen = Some(*seen);
                }
            }
            Event::RuleUpserted(rule) => match self.rules.get_mut(&rule.id) {
                Some(rec) => {
                    let content_changed = !rec.rule.same_content(rule);
                    let mut new = rule.clone();
                    // Registry-owned fields survive a re-import.
                    new.tuning = std::mem::take(&mut rec.rule.tuning);
                    if new.owner.is_none() {
                        new.owner = rec.rule.owner.take();
                    }
                    if rec.rule.status == RuleStatus::Disabled && rule.status == RuleStatus::Enabled
                    {
                        new.status = RuleStatus::Disabled;
                    }
                    if new.status != rec.rule.status {
                        rec.status_changed_at = at;
                    }
                    if content_changed {
                        rec.content_changed_at = at;
                    }
                    rec.rule = new;
                }
                None => {
                    self.rules.insert(
                        rule.id.clone(),
                        RuleRecord {
                            rule: rule.clone(),
                            content_changed_at: at,
                            imported_at: at,
                            tuning_changed_at: None,
                            status_changed_at: at,
                        },
                    );
                }
            },
            Event::RuleRetired { id } => {
                if let Some(rec) = self.rules.get_mut(id) {
                    rec.rule.status = RuleStatus::Retired;
                    rec.status_changed_at = at;
                }
            }
            Event::RuleStatusChanged { id, status } => {
                if let Some(rec) = self.rules.get_mut(id) {
                    rec.rule.status = *status;
                    rec.status_changed_at = at;
                }
            }
            Event::RuleOwnerAssigned { id, owner } => {
                if let Some(rec) = self.rules.get_mut(id) {
                    rec.rule.owner = Some(owner.clone());
                }
            }
            Event::RuleTuned { id, tuning } => {
                if let Some(rec) = self.rules.get_mut(id) {
                    rec.rule.tuning.push(tuning.clone());
                    rec.tuning_changed_at = Some(at);
                }
            }
            Event::TestUpserted(test) => {
                self.tests.insert(test.id.clone(), test.clone());
            }
            Event::ResultRecorded(result) => {
                let list = self
                    .results
                    .entry((result.rule.clone(), result.technique.clone()))
                    .or_default();
                // Results can arrive out of order (a pipeline uploading last week's run); keep
                // each list sorted by the time the test ran so "latest" means latest run.
                let pos = list.partition_point(|r| r.at <= result.at);
                list.insert(pos, result.clone());
            }
            Event::PolicySet(policy) => self.policy = policy.clone(),
            Event::ActorUpserted(actor) => {
                self.actors.insert(actor.id.clone(), actor.clone());
            }
            Event::ProfileUpserted(profile) => {
                self.profiles.insert(profile.name.clone(), profile.clone());
            }
            Event::ProfileRemoved { name } => {
                self.profiles.remove(name);
            }
            Event::ExposureObserved(exposure) => {
                let closed_at = (exposure.status == ExposureStatus::Fixed).then_some(at);
                match self.exposures.get_mut(&exposure.key()) {
                    Some(rec) => {
                        if rec.exposure != *exposure {
                            rec.changed_at = at;
                        }
                        rec.exposure = exposure.clone();
                        rec.closed_at = closed_at;
                    }
                    None => {
                        self.exposures.insert(
                            exposure.key(),
                            ExposureRecord {
                                exposure: exposure.clone(),
                                observed_at: at,
                                changed_at: at,
                                closed_at,
                            },
                        );
                    }
                }
            }
            Event::ExposureClosed { key, .. } => {
                if let Some(rec) = self.exposures.get_mut(key)
                    && rec.is_active()
                {
                    rec.exposure.status = ExposureStatus::Fixed;
                    rec.changed_at = at;
                    rec.closed_at = Some(at);
                }
            }
            Event::ExposureMappingsLoaded(set) => {
                self.exposure_mappings.insert(set.name.clone(), set.clone());
            }
            // A job run is a record of work done; the state it changed (results, ...) comes
            // in entries of its own.
            Event::JobRan(_) => {}
            Event::RemapTableSet(table) => self.remap = table.clone(),
            // Who may use the API is the server's business; the journal keeps the record.
            Event::TokenIssued { .. }
            | Event::TokenRevoked { .. }
            | Event::SettingChanged { .. } => {}
        }
    }

    /// The latest result for (rule, technique), by the time the test ran.
    pub fn latest_result(&self, rule: &RuleId, technique: &str) -> Option<&ValidationResult> {
        self.results
            .get(&(rule.clone(), technique.to_string()))
            .and_then(|l| l.last())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::{Evidence, Outcome};
    use crate::rule::{Origin, RuleFormat};

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn rule(id: &str, hash: &str) -> Rule {
        let mut r = Rule::new(
            id,
            "title",
            Origin {
                format: RuleFormat::Sigma,
                path: "a.yml".into(),
                root: "repo".into(),
            },
        );
        r.content_hash = hash.into();
        r
    }

    #[test]
    fn reimport_keeps_hand_disabled_status_and_content_time() {
        let e1 = JournalEntry::new(
            1,
            ts("2026-01-01T00:00:00Z"),
            "ci",
            Event::RuleUpserted(rule("r1", "h1")),
        );
        let e2 = JournalEntry::new(
            2,
            ts("2026-01-02T00:00:00Z"),
            "bob",
            Event::RuleStatusChanged {
                id: RuleId("r1".into()),
                status: RuleStatus::Disabled,
            },
        );
        let e3 = JournalEntry::new(
            3,
            ts("2026-01-03T00:00:00Z"),
            "ci",
            Event::RuleUpserted(rule("r1", "h1")),
        );
        let state = State::from_journal([&e1, &e2, &e3]);
        let rec = &state.rules[&RuleId("r1".into())];
        assert_eq!(rec.rule.status, RuleStatus::Disabled);
        assert_eq!(rec.content_changed_at, ts("2026-01-01T00:00:00Z"));

        let e4 = JournalEntry::new(
            4,
            ts("2026-01-04T00:00:00Z"),
            "ci",
            Event::RuleUpserted(rule("r1", "h2")),
        );
        let state = State::from_journal([&e1, &e2, &e3, &e4]);
        assert_eq!(
            state.rules[&RuleId("r1".into())].content_changed_at,
            ts("2026-01-04T00:00:00Z")
        );
    }

    #[test]
    fn results_are_ordered_by_run_time_not_arrival() {
        let mk = |seq, at: &str, outcome| {
            JournalEntry::new(
                seq,
                ts("2026-02-01T00:00:00Z"),
                "ci",
                Event::ResultRecorded(ValidationResult {
                    rule: RuleId("r1".into()),
                    technique: "T1003.001".into(),
                    test: None,
                    outcome,
                    at: ts(at),
                    by: "ci".into(),
                    evidence: Evidence::default(),
                }),
            )
        };
        let late = mk(1, "2026-01-10T00:00:00Z", Outcome::Fail);
        let early = mk(2, "2026-01-05T00:00:00Z", Outcome::Pass);
        let state = State::from_journal([&late, &early]);
        let latest = state
            .latest_result(&RuleId("r1".into()), "T1003.001")
            .unwrap();
        assert_eq!(latest.outcome, Outcome::Fail);
    }
}
