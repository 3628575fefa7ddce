//! Validation status of a rule for a technique: untested, passing, failing, stale, invalidated.
//!
//! A rule is a hypothesis until it has fired on adversary behaviour. Its latest *conclusive*
//! result (pass or fail; errors and skips say nothing about the rule) decides:
//!
//! * a **pass** is fresh for the policy window ([`window`]: per technique, else per priority tier,
//!   else the default of 90 days) and **invalidated** by any later change to the rule's content,
//!   its tuning (a suppression or exclusion added), or a data source it needs (removed,
//!   redeclared so it no longer provides what the rule needs, or silent past its bound);
//! * a **fail** stands until the rule's content changes — a fix makes the rule untested again,
//!   while a suppression or a new source does not repair a rule that did not fire.
//!
//! Everything here is pure: the instant is an argument.

use jiff::{SignedDuration, Timestamp};

use attest_attack::TechniqueId;

use crate::coverage::inventory::{Inventory, SourceLoss};
use crate::journal::Policy;
use crate::result::{Outcome, ValidationResult};
use crate::rule::{Tuning, TuningKind};
use crate::state::RuleRecord;

/// The five validation statuses, without their details (for filters such as
/// `attest rules list --validation stale`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ValidationKind {
    /// No conclusive result.
    Untested,
    /// A fresh, standing pass.
    Passing,
    /// The latest conclusive result is a fail.
    Failing,
    /// The pass is older than its window.
    Stale,
    /// A later change took the pass (or a fixed rule's fail) away.
    Invalidated,
}

impl ValidationKind {
    /// All kinds.
    pub const ALL: [ValidationKind; 5] = [
        ValidationKind::Untested,
        ValidationKind::Passing,
        ValidationKind::Failing,
        ValidationKind::Stale,
        ValidationKind::Invalidated,
    ];

    /// The lower-case word.
    pub fn as_str(self) -> &'static str {
        match self {
            ValidationKind::Untested => "untested",
            ValidationKind::Passing => "passing",
            ValidationKind::Failing => "failing",
            ValidationKind::Stale => "stale",
            ValidationKind::Invalidated => "invalidated",
        }
    }

    /// Parses the lower-case word.
    pub fn parse(s: &str) -> Option<ValidationKind> {
        let s = s.trim();
        ValidationKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s))
    }
}

/// What invalidated a result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalidation {
    /// The rule's imported content changed.
    ContentChanged {
        /// When.
        at: Timestamp,
    },
    /// A suppression or exclusion was added.
    Tuned {
        /// When (the tuning entry's own date).
        at: Timestamp,
        /// Suppression or exclusion.
        kind: TuningKind,
        /// What it suppresses or excludes.
        what: String,
    },
    /// A data source the pass relied on was removed.
    SourceRemoved {
        /// Source name.
        source: String,
        /// When.
        at: Timestamp,
    },
    /// A data source the pass relied on was redeclared and no longer provides what the rule
    /// needs (or is no longer queryable).
    SourceChanged {
        /// Source name.
        source: String,
        /// When.
        at: Timestamp,
    },
    /// A data source the pass relied on is silent past its bound.
    SourceSilent {
        /// Source name.
        source: String,
        /// When its bound ran out; `None` when it was never seen.
        since: Option<Timestamp>,
    },
}

/// What invalidated a result, in words.
impl std::fmt::Display for Invalidation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Invalidation::ContentChanged { at } => write!(f, "the rule changed at {at}"),
            Invalidation::Tuned { at, kind, what } => {
                write!(f, "{} {what:?} added at {at}", kind.as_str())
            }
            Invalidation::SourceRemoved { source, at } => {
                write!(f, "source {source} removed at {at}")
            }
            Invalidation::SourceChanged { source, at } => {
                write!(f, "source {source} redeclared at {at}")
            }
            Invalidation::SourceSilent {
                source,
                since: Some(t),
            } => write!(f, "source {source} silent since {t}"),
            Invalidation::SourceSilent {
                source,
                since: None,
            } => write!(f, "source {source} never seen"),
        }
    }
}

impl Invalidation {
    /// When it happened (`None` for a never-seen source).
    pub fn at(&self) -> Option<Timestamp> {
        match self {
            Invalidation::ContentChanged { at }
            | Invalidation::Tuned { at, .. }
            | Invalidation::SourceRemoved { at, .. }
            | Invalidation::SourceChanged { at, .. } => Some(*at),
            Invalidation::SourceSilent { since, .. } => *since,
        }
    }

    /// Whether this is the "suppressed since test" case.
    pub fn is_tuning(&self) -> bool {
        matches!(self, Invalidation::Tuned { .. })
    }
}

impl From<SourceLoss> for Invalidation {
    fn from(l: SourceLoss) -> Invalidation {
        match l {
            SourceLoss::Removed { source, at } => Invalidation::SourceRemoved { source, at },
            SourceLoss::Changed { source, at } => Invalidation::SourceChanged { source, at },
            SourceLoss::Silent { source, since } => Invalidation::SourceSilent { source, since },
        }
    }
}

/// A validation status with its date and reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValidationStatus {
    /// No conclusive result.
    Untested,
    /// Passed at `passed_at`; fresh until `fresh_until`.
    Passing {
        /// When the test ran.
        passed_at: Timestamp,
        /// When it goes stale.
        fresh_until: Timestamp,
    },
    /// Failed at `failed_at`.
    Failing {
        /// When the test ran.
        failed_at: Timestamp,
    },
    /// Passed at `passed_at`, stale since `expired_at`.
    Stale {
        /// When the test ran.
        passed_at: Timestamp,
        /// When the window ran out.
        expired_at: Timestamp,
    },
    /// The result at `result_at` no longer stands because of `cause`.
    Invalidated {
        /// When the test ran.
        result_at: Timestamp,
        /// Its outcome (a pass, or a fail followed by a content change).
        outcome: Outcome,
        /// The (earliest) change that invalidated it.
        cause: Invalidation,
    },
}

impl ValidationStatus {
    /// The status without details.
    pub fn kind(&self) -> ValidationKind {
        match self {
            ValidationStatus::Untested => ValidationKind::Untested,
            ValidationStatus::Passing { .. } => ValidationKind::Passing,
            ValidationStatus::Failing { .. } => ValidationKind::Failing,
            ValidationStatus::Stale { .. } => ValidationKind::Stale,
            ValidationStatus::Invalidated { .. } => ValidationKind::Invalidated,
        }
    }

    /// The date that matters: when the pass goes stale, when it failed, when it went stale,
    /// when it was invalidated. `None` when untested.
    pub fn date(&self) -> Option<Timestamp> {
        match self {
            ValidationStatus::Untested => None,
            ValidationStatus::Passing { fresh_until, .. } => Some(*fresh_until),
            ValidationStatus::Failing { failed_at } => Some(*failed_at),
            ValidationStatus::Stale { expired_at, .. } => Some(*expired_at),
            ValidationStatus::Invalidated {
                cause, result_at, ..
            } => Some(cause.at().unwrap_or(*result_at)),
        }
    }
}

/// The latest conclusive result behind a status, abridged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultRef {
    /// The test used.
    pub test: Option<String>,
    /// Pass or fail.
    pub outcome: Outcome,
    /// When the test ran.
    pub at: Timestamp,
    /// Who or what ran it.
    pub by: String,
}

impl ResultRef {
    fn of(r: &ValidationResult) -> ResultRef {
        ResultRef {
            test: r.test.clone(),
            outcome: r.outcome,
            at: r.at,
            by: r.by.clone(),
        }
    }
}

/// The validation of one rule for one technique.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validation {
    /// Status, with date and reason.
    pub status: ValidationStatus,
    /// The latest conclusive result, when there is one.
    pub latest: Option<ResultRef>,
}

/// The freshness window of a pass for `technique`: the policy's per-technique window, else its
/// tier's (`tier` is the technique's priority tier in the profile, if any), else the default.
/// A revoked id in the policy is not remapped: policies are written against current ids.
pub fn window(policy: &Policy, technique: TechniqueId, tier: Option<&str>) -> SignedDuration {
    let by_technique = policy
        .technique_windows
        .iter()
        .find(|(t, _)| TechniqueId::parse(t).is_ok_and(|t| t == technique));
    if let Some((_, w)) = by_technique {
        return *w;
    }
    let by_tier = tier.and_then(|tier| {
        policy
            .tier_windows
            .iter()
            .find(|(t, _)| t.trim().eq_ignore_ascii_case(tier))
    });
    by_tier.map_or(policy.default_window, |(_, w)| *w)
}

/// The latest conclusive result among several lists (each sorted by run time, oldest first).
/// On a tie the fail wins: equal evidence for and against is not a pass.
pub fn latest_conclusive<'a>(
    lists: impl IntoIterator<Item = &'a [ValidationResult]>,
) -> Option<&'a ValidationResult> {
    let mut best: Option<&ValidationResult> = None;
    for list in lists {
        let Some(r) = list.iter().rev().find(|r| r.outcome.is_conclusive()) else {
            continue;
        };
        best = match best {
            None => Some(r),
            Some(b) if (r.at, r.outcome == Outcome::Fail) > (b.at, b.outcome == Outcome::Fail) => {
                Some(r)
            }
            keep => keep,
        };
    }
    best
}

/// The first tuning entry dated after `at` (suppressions and exclusions both count).
fn tuning_after(tuning: &[Tuning], at: Timestamp) -> Option<&Tuning> {
    tuning.iter().filter(|t| t.at > at).min_by_key(|t| t.at)
}

/// The validation of `rule` for a technique, from its latest conclusive result `latest` (see
/// [`latest_conclusive`]), with the freshness window `window` (see [`window`]).
///
/// `inventory` answers whether the sources a pass relied on are still there.
pub fn assess(
    rule: &RuleRecord,
    latest: Option<&ValidationResult>,
    window: SignedDuration,
    inventory: &Inventory<'_>,
    now: Timestamp,
) -> Validation {
    let Some(result) = latest else {
        return Validation {
            status: ValidationStatus::Untested,
            latest: None,
        };
    };
    let content_changed = (rule.content_changed_at != rule.imported_at
        && rule.content_changed_at > result.at)
        .then_some(Invalidation::ContentChanged {
            at: rule.content_changed_at,
        });
    let status = match result.outcome {
        Outcome::Fail => match content_changed {
            Some(cause) => ValidationStatus::Invalidated {
                result_at: result.at,
                outcome: Outcome::Fail,
                cause,
            },
            None => ValidationStatus::Failing {
                failed_at: result.at,
            },
        },
        _ => {
            let mut causes: Vec<Invalidation> = Vec::new();
            causes.extend(content_changed);
            if let Some(t) = tuning_after(&rule.rule.tuning, result.at) {
                causes.push(Invalidation::Tuned {
                    at: t.at,
                    kind: t.kind,
                    what: t.what.clone(),
                });
            }
            for dep in &rule.rule.dependencies {
                if let Some(loss) = inventory.loss_since(&dep.dependency, result.at) {
                    causes.push(loss.into());
                }
            }
            // The earliest change is the one that broke the pass; ties keep the order above
            // (content, tuning, sources) so the answer is the same every time.
            let cause = causes
                .into_iter()
                .enumerate()
                .min_by_key(|(i, c)| (c.at(), *i))
                .map(|(_, c)| c);
            match cause {
                Some(cause) => ValidationStatus::Invalidated {
                    result_at: result.at,
                    outcome: Outcome::Pass,
                    cause,
                },
                None => {
                    let fresh_until = result.at.checked_add(window).unwrap_or(result.at);
                    if fresh_until > now {
                        ValidationStatus::Passing {
                            passed_at: result.at,
                            fresh_until,
                        }
                    } else {
                        ValidationStatus::Stale {
                            passed_at: result.at,
                            expired_at: fresh_until,
                        }
                    }
                }
            }
        }
    };
    Validation {
        status,
        latest: Some(ResultRef::of(result)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::Evidence;
    use crate::rule::RuleId;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap_or(Timestamp::UNIX_EPOCH)
    }

    fn res(outcome: Outcome, at: &str) -> ValidationResult {
        ValidationResult {
            rule: RuleId("r".into()),
            technique: "T1003".into(),
            test: None,
            outcome,
            at: ts(at),
            by: "ci".into(),
            evidence: Evidence::default(),
        }
    }

    #[test]
    fn technique_window_wins_over_tier_which_wins_over_default() {
        let t = TechniqueId::parse("T1003.001").unwrap_or_else(|e| panic!("{e}"));
        let mut p = Policy::default();
        assert_eq!(
            window(&p, t, Some("critical")),
            SignedDuration::from_hours(24 * 90)
        );
        p.tier_windows
            .push(("Critical".into(), SignedDuration::from_hours(24 * 30)));
        assert_eq!(
            window(&p, t, Some("critical")),
            SignedDuration::from_hours(24 * 30)
        );
        assert_eq!(
            window(&p, t, Some("low")),
            SignedDuration::from_hours(24 * 90)
        );
        assert_eq!(window(&p, t, None), SignedDuration::from_hours(24 * 90));
        p.technique_windows
            .push(("t1003.001".into(), SignedDuration::from_hours(24 * 7)));
        assert_eq!(
            window(&p, t, Some("critical")),
            SignedDuration::from_hours(24 * 7)
        );
        // The parent's window does not apply to the sub-technique, nor the reverse.
        let parent = TechniqueId::parse("T1003").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            window(&p, parent, None),
            SignedDuration::from_hours(24 * 90)
        );
    }

    #[test]
    fn errors_and_skips_are_not_conclusive_and_a_tie_goes_to_the_fail() {
        let a = [
            res(Outcome::Pass, "2026-01-01T00:00:00Z"),
            res(Outcome::Error, "2026-01-05T00:00:00Z"),
            res(Outcome::Skipped, "2026-01-06T00:00:00Z"),
        ];
        let latest = latest_conclusive([&a[..]]);
        assert_eq!(latest.map(|r| r.outcome), Some(Outcome::Pass));
        let b = [res(Outcome::Fail, "2026-01-01T00:00:00Z")];
        let latest = latest_conclusive([&a[..], &b[..]]);
        assert_eq!(latest.map(|r| r.outcome), Some(Outcome::Fail));
        let c = [res(Outcome::Error, "2026-02-01T00:00:00Z")];
        assert_eq!(latest_conclusive([&c[..]]), None);
    }

    #[test]
    fn kinds_round_trip_their_words() {
        for k in ValidationKind::ALL {
            assert_eq!(ValidationKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(
            ValidationKind::parse(" STALE "),
            Some(ValidationKind::Stale)
        );
        assert_eq!(ValidationKind::parse("fresh"), None);
    }
}
