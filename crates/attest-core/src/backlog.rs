//! The backlog: every priority technique that is not validated becomes a work item.
//!
//! [`backlog`] reads a profile's [`TargetSet`] and the [`Coverage`] computed for it
//! (`Scope::profile`), and returns one [`BacklogItem`] per technique that is not validated —
//! with a stable id, an owner from the [`Ownership`] map, the priority, the reasons and the
//! suggested next steps — plus a *due* item for each validated technique whose pass expires
//! within the horizon. Items "close themselves": a validated technique simply produces no gap
//! item on the next computation, and its id never changes while the profile and technique stay
//! the same.

use jiff::{SignedDuration, Timestamp};

use attest_attack::TechniqueId;

use crate::coverage::{
    Catalog, Coverage, CoverageState, DependencyState, Reason, TechniqueCoverage,
};
use crate::priority::TargetSet;
use crate::rule::{Dependency, RuleId, RuleStatus};
use crate::state::State;
use crate::validation::ValidationStatus;

/// Who owns which techniques: technique clusters are owned by engineers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ownership {
    /// Technique id → owner. A parent's entry also covers its sub-techniques unless they have
    /// their own.
    pub techniques: Vec<(TechniqueId, String)>,
    /// Tactic short name (`credential-access`) or id (`TA0006`) → owner.
    pub tactics: Vec<(String, String)>,
    /// Owner of everything else.
    pub default: Option<String>,
}

impl Ownership {
    /// The owner of a technique: its own entry, its parent's, its first tactic's (matrix
    /// order) with an entry, or the default.
    pub fn owner_of(&self, catalog: &Catalog, technique: TechniqueId) -> Option<&str> {
        let by_technique = |t: TechniqueId| {
            self.techniques
                .iter()
                .find(|(x, _)| *x == t)
                .map(|(_, o)| o.as_str())
        };
        by_technique(technique)
            .or_else(|| technique.parent().and_then(by_technique))
            .or_else(|| {
                let info = catalog.technique(technique)?;
                info.tactics.iter().find_map(|short| {
                    let id = catalog
                        .tactics()
                        .iter()
                        .find(|t| t.shortname == *short)
                        .map(|t| t.id.as_str());
                    self.tactics
                        .iter()
                        .find(|(k, _)| {
                            k.eq_ignore_ascii_case(short)
                                || id.is_some_and(|id| k.eq_ignore_ascii_case(id))
                        })
                        .map(|(_, o)| o.as_str())
                })
            })
            .or(self.default.as_deref())
    }
}

/// Options of [`backlog`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BacklogOptions {
    /// A validated technique whose pass goes stale within this horizon gets a due item.
    pub due_within: SignedDuration,
}

impl Default for BacklogOptions {
    fn default() -> BacklogOptions {
        BacklogOptions {
            due_within: SignedDuration::from_hours(24 * 14),
        }
    }
}

/// Why an item is on the backlog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemKind {
    /// The technique is not validated.
    NotValidated,
    /// Validated, but its pass expires at `expires`.
    Due {
        /// When the freshest pass goes stale.
        expires: Timestamp,
    },
}

/// A suggested next step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextStep {
    /// No rule claims the technique: write one.
    WriteRule,
    /// Enable a disabled rule.
    EnableRule {
        /// The rule.
        rule: RuleId,
    },
    /// Onboard telemetry: a data component (from ATT&CK's list for the technique) or a
    /// dependency a rule declares that nothing provides.
    OnboardDataSource {
        /// What to onboard.
        dependency: Dependency,
        /// The rule that needs it, when one does.
        rule: Option<RuleId>,
    },
    /// Get a silent or not-yet-queryable source back.
    RepairDataSource {
        /// The source.
        source: String,
        /// The rule that needs it.
        rule: RuleId,
    },
    /// Run a test (the rule's own first, then the catalogue's for the technique and platforms).
    RunTest {
        /// The test id (an Atomic GUID for Atomic tests).
        test: String,
        /// The rule expected to fire, when there is one.
        rule: Option<RuleId>,
    },
    /// Re-run the test behind a stale or invalidated (or soon stale) pass.
    Retest {
        /// The rule.
        rule: RuleId,
        /// The test used last time, if known.
        test: Option<String>,
    },
    /// Fix a rule whose latest result is a fail.
    FixRule {
        /// The rule.
        rule: RuleId,
        /// The failing test, if known.
        test: Option<String>,
    },
}

/// A next step in words.
impl std::fmt::Display for NextStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NextStep::WriteRule => f.write_str("write a rule"),
            NextStep::EnableRule { rule } => write!(f, "enable rule {rule}"),
            NextStep::OnboardDataSource { dependency, rule } => match rule {
                Some(r) => write!(f, "onboard {dependency} (for rule {r})"),
                None => write!(f, "onboard {dependency}"),
            },
            NextStep::RepairDataSource { source, rule } => {
                write!(f, "repair source {source} (for rule {rule})")
            }
            NextStep::RunTest { test, rule } => match rule {
                Some(r) => write!(f, "run test {test} against rule {r}"),
                None => write!(f, "run test {test}"),
            },
            NextStep::Retest { rule, test } => match test {
                Some(t) => write!(f, "re-test rule {rule} with {t}"),
                None => write!(f, "re-test rule {rule}"),
            },
            NextStep::FixRule { rule, test } => match test {
                Some(t) => write!(f, "fix rule {rule} (failed {t})"),
                None => write!(f, "fix rule {rule}"),
            },
        }
    }
}

/// One backlog item.
#[derive(Debug, Clone, PartialEq)]
pub struct BacklogItem {
    /// Stable id derived from the profile and the technique (see [`item_id`]).
    pub id: String,
    /// Not validated, or due.
    pub kind: ItemKind,
    /// The technique.
    pub technique: TechniqueId,
    /// Its name.
    pub name: String,
    /// Owner, from the ownership map.
    pub owner: Option<String>,
    /// Priority score in the profile.
    pub priority: f64,
    /// Priority tier.
    pub tier: String,
    /// Coverage state.
    pub state: CoverageState,
    /// Why (from the coverage).
    pub reasons: Vec<Reason>,
    /// What to do next, most useful first.
    pub next: Vec<NextStep>,
}

/// The stable id of a backlog item: `AT-` and 12 hex digits of the FNV-1a hash of the profile
/// name and the technique id. It does not depend on the item's state, so a ticket keeps its id
/// from gap to due.
pub fn item_id(profile: &str, technique: TechniqueId) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in profile
        .bytes()
        .chain(std::iter::once(0x1f))
        .chain(technique.to_string().bytes())
    {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("AT-{:012x}", h >> 16)
}

/// The backlog of a profile: one item per target technique that is not validated, and one due
/// item per validated target technique whose pass expires within `opts.due_within`. Sorted by
/// priority (highest first), then technique. `coverage` must have been computed for
/// `Scope::profile(target)`; techniques missing from it are skipped.
pub fn backlog(
    catalog: &Catalog,
    state: &State,
    target: &TargetSet,
    coverage: &Coverage,
    ownership: &Ownership,
    opts: &BacklogOptions,
    now: Timestamp,
) -> Vec<BacklogItem> {
    let horizon = now.checked_add(opts.due_within).unwrap_or(now);
    let mut items = Vec::new();
    for tt in &target.techniques {
        let Some(tc) = coverage.technique(tt.technique) else {
            continue;
        };
        let kind = if tc.state == CoverageState::Validated {
            // The technique stays validated as long as its freshest pass does.
            let expires = tc
                .rules
                .iter()
                .filter(|r| r.usable)
                .filter_map(|r| match r.validation.status {
                    ValidationStatus::Passing { fresh_until, .. } => Some(fresh_until),
                    _ => None,
                })
                .max();
            match expires {
                Some(e) if e <= horizon => ItemKind::Due { expires: e },
                _ => continue,
            }
        } else {
            ItemKind::NotValidated
        };
        let next = match kind {
            ItemKind::Due { .. } => tc
                .rules
                .iter()
                .filter(|r| {
                    r.usable && matches!(r.validation.status, ValidationStatus::Passing { .. })
                })
                .map(|r| NextStep::Retest {
                    rule: r.rule.clone(),
                    test: r.validation.latest.as_ref().and_then(|l| l.test.clone()),
                })
                .collect(),
            ItemKind::NotValidated => next_steps(catalog, state, coverage, tc, &target.platforms),
        };
        items.push(BacklogItem {
            id: item_id(&target.profile, tt.technique),
            kind,
            technique: tt.technique,
            name: tc.name.clone(),
            owner: ownership
                .owner_of(catalog, tt.technique)
                .map(str::to_string),
            priority: tt.score,
            tier: tt.tier.clone(),
            state: tc.state,
            reasons: tc.reasons.clone(),
            next,
        });
    }
    items.sort_by(|a, b| {
        b.priority
            .total_cmp(&a.priority)
            .then(a.technique.cmp(&b.technique))
    });
    items
}

/// Tests in the catalogue for a technique on the platforms in scope, by id.
fn tests_for(state: &State, technique: TechniqueId, platforms: &[String]) -> Vec<String> {
    let id = technique.to_string();
    state
        .tests
        .values()
        .filter(|t| {
            t.techniques
                .iter()
                .any(|x| x.trim().eq_ignore_ascii_case(&id))
        })
        .filter(|t| {
            platforms.is_empty()
                || t.platforms.is_empty()
                || t.platforms
                    .iter()
                    .any(|p| platforms.iter().any(|q| q.eq_ignore_ascii_case(p)))
        })
        .map(|t| t.id.clone())
        .collect()
}

fn next_steps(
    catalog: &Catalog,
    state: &State,
    coverage: &Coverage,
    tc: &TechniqueCoverage,
    platforms: &[String],
) -> Vec<NextStep> {
    let mut steps = Vec::new();
    let tests = tests_for(state, tc.technique, platforms);
    match tc.state {
        CoverageState::Gap => {
            // Telemetry first: a rule without its data cannot fire.
            let mut missing: Vec<&str> = tc
                .visibility
                .iter()
                .flat_map(|v| v.components.iter())
                .filter(|c| !c.is_visible())
                .map(|c| c.component.as_str())
                .collect();
            if missing.is_empty() && tc.visibility.is_empty() {
                // Visibility not computed (outside the target set): fall back to the catalog.
                missing = catalog
                    .technique(tc.technique)
                    .map(|c| c.telemetry.iter().map(|n| n.component.as_str()).collect())
                    .unwrap_or_default();
            }
            missing.sort();
            missing.dedup();
            steps.extend(missing.into_iter().map(|c| NextStep::OnboardDataSource {
                dependency: Dependency::Component(c.to_string()),
                rule: None,
            }));
            steps.push(NextStep::WriteRule);
            steps.extend(tests.iter().map(|t| NextStep::RunTest {
                test: t.clone(),
                rule: None,
            }));
        }
        _ => {
            for r in tc.rules.iter().filter(|r| r.status != RuleStatus::Retired) {
                if !r.usable {
                    if r.status == RuleStatus::Disabled {
                        steps.push(NextStep::EnableRule {
                            rule: r.rule.clone(),
                        });
                    }
                    let deps: Vec<&(Dependency, DependencyState)> = coverage
                        .rule(&r.rule)
                        .map(|a| coverage.dependencies_of(a).collect())
                        .unwrap_or_default();
                    for (dep, st) in deps {
                        match st {
                            DependencyState::Satisfied { .. } => {}
                            DependencyState::Missing => steps.push(NextStep::OnboardDataSource {
                                dependency: dep.clone(),
                                rule: Some(r.rule.clone()),
                            }),
                            DependencyState::Silent { source, .. }
                            | DependencyState::NotQueryable { source, .. } => {
                                steps.push(NextStep::RepairDataSource {
                                    source: source.clone(),
                                    rule: r.rule.clone(),
                                })
                            }
                        }
                    }
                    continue;
                }
                let last_test = r.validation.latest.as_ref().and_then(|l| l.test.clone());
                match &r.validation.status {
                    ValidationStatus::Untested => {
                        // The rule's own tests (e.g. Sigma `simulation`) first.
                        let own: Vec<String> = state
                            .rules
                            .get(&r.rule)
                            .map(|rec| rec.rule.tests.clone())
                            .unwrap_or_default();
                        let mut picked: Vec<String> = own;
                        picked.extend(
                            tests
                                .iter()
                                .filter(|t| !picked.contains(t))
                                .cloned()
                                .collect::<Vec<_>>(),
                        );
                        steps.extend(picked.into_iter().map(|t| NextStep::RunTest {
                            test: t,
                            rule: Some(r.rule.clone()),
                        }));
                    }
                    ValidationStatus::Stale { .. } | ValidationStatus::Invalidated { .. } => steps
                        .push(NextStep::Retest {
                            rule: r.rule.clone(),
                            test: last_test,
                        }),
                    ValidationStatus::Failing { .. } => steps.push(NextStep::FixRule {
                        rule: r.rule.clone(),
                        test: last_test,
                    }),
                    ValidationStatus::Passing { .. } => {}
                }
            }
        }
    }
    steps
}

/// One technique of an exercise plan: a priority technique that is not validated, with what
/// to run and what should fire.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanItem {
    /// The technique.
    pub technique: TechniqueId,
    /// Its name.
    pub name: String,
    /// Priority score in the profile.
    pub priority: f64,
    /// Its coverage state.
    pub state: CoverageState,
    /// Tests of the catalogue for it on the platform: (id, name).
    pub tests: Vec<(String, String)>,
    /// Rules expected to fire.
    pub rules: Vec<RuleId>,
    /// Data components ATT&CK lists for it on the platform, with the sources providing each
    /// (empty: missing).
    pub data_sources: Vec<(String, Vec<String>)>,
}

/// The platform an exercise runs on: the one asked for, else the profile's first, else
/// `windows`.
pub fn plan_platform(target: &TargetSet, asked: Option<&str>) -> String {
    asked
        .map(str::to_string)
        .or_else(|| target.platforms.first().cloned())
        .unwrap_or_else(|| "windows".into())
}

/// An exercise plan (`attest plan`, `GET /api/v1/plan`): for each technique of the profile's
/// target set that `coverage` does not show validated, in priority order, the catalogue's tests
/// on `platform`, the rules expected to fire and the telemetry they need.
pub fn exercise_plan(
    state: &State,
    target: &TargetSet,
    coverage: &Coverage,
    platform: &str,
) -> Vec<PlanItem> {
    let mut out = Vec::new();
    for tt in &target.techniques {
        let Some(tc) = coverage.technique(tt.technique) else {
            continue;
        };
        if tc.state == CoverageState::Validated {
            continue;
        }
        let id = tt.technique.to_string();
        let tests = state
            .tests
            .values()
            .filter(|x| {
                x.techniques.contains(&id)
                    && (x.platforms.is_empty()
                        || x.platforms.iter().any(|p| p.eq_ignore_ascii_case(platform)))
            })
            .map(|x| (x.id.clone(), x.name.clone()))
            .collect();
        let data_sources = tc
            .visibility
            .iter()
            .filter(|v| v.platform.eq_ignore_ascii_case(platform))
            .flat_map(|v| {
                v.components
                    .iter()
                    .map(|c| (c.component.clone(), c.provided_by.clone()))
            })
            .collect();
        out.push(PlanItem {
            technique: tt.technique,
            name: tc.name.clone(),
            priority: tt.score,
            state: tc.state,
            tests,
            rules: tc.rules.iter().map(|r| r.rule.clone()).collect(),
            data_sources,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_ids_are_stable_across_releases() {
        let t = TechniqueId::parse("T1003.001").unwrap_or_else(|e| panic!("{e}"));
        // Pinned: tickets in external systems carry this id; it must never change.
        assert_eq!(item_id("finance", t), "AT-242e9eb10a14");
        assert_eq!(item_id("finance", t), item_id("finance", t));
        assert_ne!(item_id("finance", t), item_id("finance2", t));
    }
}
