//! Coverage at two instants compared: what got better, what regressed, and why.
//!
//! The caller folds the journal twice (up to each instant), computes coverage for the same
//! scope, and passes the journal entries (any superset of those between the two instants: the
//! coverages' `seq` bound them). [`diff`] lists every technique whose state changed, with the
//! entries that touched its rules or their sources in between, and the causes no entry records
//! because they are the passage of time: a pass going stale, a source going silent.

use jiff::Timestamp;

use attest_attack::TechniqueId;

use crate::coverage::{Coverage, CoverageState, DependencyState, TechniqueCoverage};
use crate::journal::{Event, JournalEntry};
use crate::result::Outcome;
use crate::rule::{Dependency, RuleId, RuleStatus, TuningKind};
use crate::validation::{Invalidation, ValidationStatus};

/// Better or worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The state improved (e.g. gap → unvalidated).
    Better,
    /// The state got worse: a regression.
    Worse,
}

/// What a journal entry did, as it bears on a technique.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryCause {
    /// A claiming rule was imported or re-imported.
    RuleImported {
        /// The rule.
        rule: RuleId,
        /// Its content changed (a re-import with the same content is not listed).
        content_changed: bool,
    },
    /// A claiming rule's status was set.
    RuleStatusChanged {
        /// The rule.
        rule: RuleId,
        /// The new status.
        status: RuleStatus,
    },
    /// A claiming rule was retired.
    RuleRetired {
        /// The rule.
        rule: RuleId,
    },
    /// A suppression or exclusion was added to a claiming rule.
    RuleTuned {
        /// The rule.
        rule: RuleId,
        /// Suppression or exclusion.
        kind: TuningKind,
        /// What.
        what: String,
    },
    /// A result was recorded for a claiming rule on this technique.
    ResultRecorded {
        /// The rule.
        rule: RuleId,
        /// Outcome.
        outcome: Outcome,
        /// When the test ran.
        ran_at: Timestamp,
    },
    /// A source a claiming rule depends on was added or redeclared.
    SourceDeclared {
        /// The source.
        source: String,
    },
    /// A source a claiming rule depended on was removed.
    SourceRemoved {
        /// The source.
        source: String,
    },
    /// The re-validation policy changed.
    PolicyChanged,
    /// The workspace's remap table changed, so rules' claims may count for other techniques.
    RemapTableChanged,
}

/// A cause of a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// A journal entry.
    Entry {
        /// Its position.
        seq: u64,
        /// Its journal time.
        at: Timestamp,
        /// Who.
        who: String,
        /// Why, when given.
        why: Option<String>,
        /// What it did.
        what: EntryCause,
    },
    /// A source went silent past its bound (no entry records silence).
    SourceSilent {
        /// The rule that needs it.
        rule: RuleId,
        /// The source.
        source: String,
        /// Since when (`None`: never seen).
        since: Option<Timestamp>,
    },
    /// A pass went stale.
    PassExpired {
        /// The rule.
        rule: RuleId,
        /// When it went stale.
        expired_at: Timestamp,
    },
}

/// A cause in words: what happened, who did it, when and why.
impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cause::Entry {
                at, who, why, what, ..
            } => {
                match what {
                    EntryCause::RuleImported {
                        rule,
                        content_changed,
                    } => {
                        if *content_changed {
                            write!(f, "rule {rule} content changed")?;
                        } else {
                            write!(f, "rule {rule} imported")?;
                        }
                    }
                    EntryCause::RuleStatusChanged { rule, status } => {
                        write!(f, "rule {rule} {}", status.as_str())?;
                    }
                    EntryCause::RuleRetired { rule } => write!(f, "rule {rule} retired")?,
                    EntryCause::RuleTuned { rule, kind, what } => {
                        write!(f, "{} added to rule {rule}: {what}", kind.as_str())?;
                    }
                    EntryCause::ResultRecorded {
                        rule,
                        outcome,
                        ran_at,
                    } => write!(f, "rule {rule} {} at {ran_at}", outcome.as_str())?,
                    EntryCause::SourceDeclared { source } => write!(f, "source {source} changed")?,
                    EntryCause::SourceRemoved { source } => write!(f, "source {source} removed")?,
                    EntryCause::PolicyChanged => f.write_str("re-validation policy changed")?,
                    EntryCause::RemapTableChanged => f.write_str("remap table changed")?,
                }
                match why {
                    Some(w) => write!(f, " by {who} on {at} ({w})"),
                    None => write!(f, " by {who} on {at}"),
                }
            }
            Cause::SourceSilent {
                rule,
                source,
                since,
            } => match since {
                Some(s) => write!(f, "source {source} (needed by {rule}) silent since {s}"),
                None => write!(f, "source {source} (needed by {rule}) never seen"),
            },
            Cause::PassExpired { rule, expired_at } => {
                write!(f, "pass of rule {rule} expired at {expired_at}")
            }
        }
    }
}

/// One technique whose state changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The technique.
    pub technique: TechniqueId,
    /// Its state before (`None`: not in scope then).
    pub from: Option<CoverageState>,
    /// Its state after (`None`: not in scope any more).
    pub to: Option<CoverageState>,
    /// Better or worse (a technique entering or leaving scope counts as better when it arrives
    /// validated, worse otherwise).
    pub direction: Direction,
    /// The entries and elapsed-time causes behind it, entries in journal order first.
    pub causes: Vec<Cause>,
}

/// Techniques whose state differs between `before` and `after`, sorted by technique, each with
/// its causes from `entries` (only those with `before.seq < seq <= after.seq` are considered).
pub fn diff(before: &Coverage, after: &Coverage, entries: &[JournalEntry]) -> Vec<Change> {
    let window: Vec<&JournalEntry> = entries
        .iter()
        .filter(|e| e.seq > before.seq && e.seq <= after.seq)
        .collect();
    let mut ids: Vec<TechniqueId> = before
        .techniques
        .iter()
        .chain(&after.techniques)
        .map(|t| t.technique)
        .collect();
    ids.sort();
    ids.dedup();
    let mut out = Vec::new();
    for id in ids {
        let b = before.technique(id);
        let a = after.technique(id);
        let (from, to) = (b.map(|t| t.state), a.map(|t| t.state));
        if from == to {
            continue;
        }
        let direction = match (from, to) {
            (Some(f), Some(t)) if t.rank() < f.rank() => Direction::Better,
            (Some(_), Some(_)) => Direction::Worse,
            (None, Some(CoverageState::Validated)) => Direction::Better,
            (Some(CoverageState::Validated), None) => Direction::Worse,
            (None, _) => Direction::Worse,
            (_, None) => Direction::Better,
        };
        out.push(Change {
            technique: id,
            from,
            to,
            direction,
            causes: causes(id, b, a, before, after, &window),
        });
    }
    out
}

fn causes(
    id: TechniqueId,
    b: Option<&TechniqueCoverage>,
    a: Option<&TechniqueCoverage>,
    before: &Coverage,
    after: &Coverage,
    window: &[&JournalEntry],
) -> Vec<Cause> {
    let mut rules: Vec<&RuleId> = b
        .into_iter()
        .chain(a)
        .flat_map(|t| t.rules.iter().map(|r| &r.rule))
        .collect();
    rules.sort();
    rules.dedup();
    let claims = |r: &RuleId| rules.binary_search(&r).is_ok();
    // Dependencies of those rules (either instant) and the sources that met them.
    let mut deps: Vec<&Dependency> = Vec::new();
    let mut sources: Vec<&str> = Vec::new();
    for cov in [before, after] {
        for r in &rules {
            if let Some(ra) = cov.rule(r) {
                for (d, st) in cov.dependencies_of(ra) {
                    deps.push(d);
                    match st {
                        DependencyState::Satisfied { by } => {
                            sources.extend(by.iter().map(String::as_str))
                        }
                        DependencyState::Silent { source, .. }
                        | DependencyState::NotQueryable { source, .. } => sources.push(source),
                        DependencyState::Missing => {}
                    }
                }
            }
        }
    }
    let content_changed = |r: &RuleId, at: Timestamp| {
        after.rule(r).is_some_and(|x| x.content_changed_at == at)
            || before.rule(r).is_some_and(|x| x.content_changed_at == at)
    };
    let id_str = id.to_string();
    let mut out = Vec::new();
    for e in window {
        let what = match &e.event {
            Event::RuleUpserted(rule) if claims(&rule.id) => {
                let changed = content_changed(&rule.id, e.at);
                if !changed {
                    continue;
                }
                EntryCause::RuleImported {
                    rule: rule.id.clone(),
                    content_changed: changed,
                }
            }
            Event::RuleStatusChanged { id: r, status } if claims(r) => {
                EntryCause::RuleStatusChanged {
                    rule: r.clone(),
                    status: *status,
                }
            }
            Event::RuleRetired { id: r } if claims(r) => {
                EntryCause::RuleRetired { rule: r.clone() }
            }
            Event::RuleTuned { id: r, tuning } if claims(r) => EntryCause::RuleTuned {
                rule: r.clone(),
                kind: tuning.kind,
                what: tuning.what.clone(),
            },
            Event::ResultRecorded(res) if claims(&res.rule) => {
                let same = a.into_iter().chain(b).any(|t| {
                    t.rules.iter().any(|rc| {
                        rc.rule == res.rule
                            && (rc.remapped_from.is_some_and(|c| {
                                c.to_string().eq_ignore_ascii_case(res.technique.trim())
                            }) || res.technique.trim().eq_ignore_ascii_case(&id_str))
                    })
                });
                if !same {
                    continue;
                }
                EntryCause::ResultRecorded {
                    rule: res.rule.clone(),
                    outcome: res.outcome,
                    ran_at: res.at,
                }
            }
            Event::SourceUpserted(s)
                if sources.contains(&s.name.as_str()) || deps.iter().any(|d| provides(s, d)) =>
            {
                EntryCause::SourceDeclared {
                    source: s.name.clone(),
                }
            }
            Event::SourceRemoved { name } if sources.contains(&name.as_str()) => {
                EntryCause::SourceRemoved {
                    source: name.clone(),
                }
            }
            Event::PolicySet(_) => EntryCause::PolicyChanged,
            Event::RemapTableSet(_) => EntryCause::RemapTableChanged,
            _ => continue,
        };
        out.push(Cause::Entry {
            seq: e.seq,
            at: e.at,
            who: e.who.clone(),
            why: e.why.clone(),
            what,
        });
    }
    // Causes no entry records: silence and staleness that appeared in between.
    if let Some(a) = a {
        for rc in &a.rules {
            let was = b.and_then(|b| b.rules.iter().find(|x| x.rule == rc.rule));
            if let ValidationStatus::Stale { expired_at, .. } = rc.validation.status
                && !was
                    .is_some_and(|w| matches!(w.validation.status, ValidationStatus::Stale { .. }))
            {
                out.push(Cause::PassExpired {
                    rule: rc.rule.clone(),
                    expired_at,
                });
            }
            if let ValidationStatus::Invalidated {
                cause: Invalidation::SourceSilent { source, since },
                ..
            } = &rc.validation.status
            {
                push_silent(&mut out, &rc.rule, source, *since);
            }
            let now_deps: Vec<&(Dependency, DependencyState)> = after
                .rule(&rc.rule)
                .map(|r| after.dependencies_of(r).collect())
                .unwrap_or_default();
            let then_deps: Vec<&(Dependency, DependencyState)> = before
                .rule(&rc.rule)
                .map(|r| before.dependencies_of(r).collect())
                .unwrap_or_default();
            for (d, st) in now_deps {
                if let DependencyState::Silent { source, since } = st {
                    let already = then_deps
                        .iter()
                        .any(|(d0, s0)| d0 == d && matches!(s0, DependencyState::Silent { .. }));
                    if !already {
                        push_silent(&mut out, &rc.rule, source, *since);
                    }
                }
            }
        }
    }
    out
}

fn push_silent(out: &mut Vec<Cause>, rule: &RuleId, source: &str, since: Option<Timestamp>) {
    let c = Cause::SourceSilent {
        rule: rule.clone(),
        source: source.to_string(),
        since,
    };
    if !out.contains(&c) {
        out.push(c);
    }
}

fn provides(s: &crate::source::DataSource, d: &Dependency) -> bool {
    match d {
        Dependency::Component(c) => s.provides_component(c),
        Dependency::LogSource(l) => s.log_sources.iter().any(|x| x.provides(l)),
        Dependency::Source(n) => s.name.eq_ignore_ascii_case(n),
    }
}
