//! The coverage engine: DESIGN.md §3, exactly.
//!
//! [`compute`] turns a [`Catalog`] (the ATT&CK knowledge base, flattened), a [`State`] (the
//! journal folded up to an instant), a [`Scope`] and `now` into a [`Coverage`]: for every active
//! technique and sub-technique in scope, a [`CoverageState`] with its [`Reason`]s, the rules and
//! results behind it, telemetry visibility per platform and, for a parent, how many of its
//! sub-techniques are validated; plus headline [`Tally`]s per tactic and overall.
//!
//! For a technique T:
//!
//! * **validated** — some enabled rule claims T, every data source it depends on is present and
//!   healthy, and its latest conclusive result for T is a fresh pass not invalidated since;
//! * **unvalidated** — a usable rule exists, but it is untested, stale or invalidated;
//! * **failing** — usable rules exist and every one's latest result for T is a fail;
//! * **degraded** — rules claim T but none is usable (disabled, or a source missing or silent);
//! * **gap** — no rule claims T.
//!
//! A rule claims exactly the techniques it names: a parent tag never covers a sub-technique. A
//! revoked id is followed through `revoked-by` and the remapping is reported in
//! [`ClaimReport`]; ids that resolve to nothing are reported there too.
//!
//! The computation is split so that an incremental update stays cheap: [`index`] resolves every
//! rule's claims once (it depends only on the rules' claims and the scope), [`compute_indexed`]
//! evaluates, and [`update_rule`] re-evaluates just the techniques one rule claims after a new
//! result, a status change or tuning of that rule.

pub mod catalog;
pub mod inventory;
pub mod standing;

use std::collections::BTreeMap;

use jiff::Timestamp;

use attest_attack::TechniqueId;

pub use catalog::{
    Catalog, CatalogGroup, CatalogTactic, CatalogTechnique, Claim, TelemetryNeed, Unresolved,
    UseVia,
};
pub use inventory::{DependencyState, Inventory};

use catalog::FastMap;

use crate::priority::TargetSet;
use crate::result::ValidationResult;
use crate::rule::{Dependency, RuleId, RuleStatus};
use crate::source::{LogSourceRef, PipelineState};
use crate::state::State;
use crate::validation::{self, Invalidation, Validation, ValidationStatus};

/// What to compute coverage for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scope {
    /// ATT&CK platforms in scope (case-insensitive); empty means all. A technique is in scope
    /// when it lists one of them, and a data-component dependency is met only by a source that
    /// covers one of them.
    pub platforms: Vec<String>,
    /// Systems or segments (matched against each source's `scope`); empty means all. Sources
    /// outside them do not count, so a rule can be usable in one segment and degraded in another.
    pub systems: Vec<String>,
    /// ATT&CK domains (`enterprise-attack`, …); empty means all.
    pub domains: Vec<String>,
    /// A profile's target set: only its techniques are in scope, weighted by priority, and its
    /// tiers pick the re-validation windows.
    pub target: Option<TargetSet>,
}

impl Scope {
    /// Every active technique.
    pub fn all() -> Scope {
        Scope::default()
    }

    /// One platform.
    pub fn platform(platform: impl Into<String>) -> Scope {
        Scope {
            platforms: vec![platform.into()],
            ..Scope::default()
        }
    }

    /// One system or segment.
    pub fn system(system: impl Into<String>) -> Scope {
        Scope {
            systems: vec![system.into()],
            ..Scope::default()
        }
    }

    /// A profile's target set, with its platforms.
    pub fn profile(target: TargetSet) -> Scope {
        Scope {
            platforms: target.platforms.clone(),
            target: Some(target),
            ..Scope::default()
        }
    }

    fn admits(&self, t: &CatalogTechnique) -> bool {
        (self.domains.is_empty()
            || t.domains
                .iter()
                .any(|d| self.domains.iter().any(|s| s.eq_ignore_ascii_case(d))))
            && (self.platforms.is_empty() || self.platforms.iter().any(|p| t.on_platform(p)))
    }
}

/// The coverage state of a technique, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CoverageState {
    /// A usable rule has a fresh, standing pass.
    Validated,
    /// A usable rule exists, untested, stale or invalidated ("rule exists").
    Unvalidated,
    /// Usable rules exist and all of them fail.
    Failing,
    /// Rules claim the technique but none is usable.
    Degraded,
    /// No rule claims the technique.
    Gap,
}

impl CoverageState {
    /// All states, best first.
    pub const ALL: [CoverageState; 5] = [
        CoverageState::Validated,
        CoverageState::Unvalidated,
        CoverageState::Failing,
        CoverageState::Degraded,
        CoverageState::Gap,
    ];

    /// The lower-case word.
    pub fn as_str(self) -> &'static str {
        match self {
            CoverageState::Validated => "validated",
            CoverageState::Unvalidated => "unvalidated",
            CoverageState::Failing => "failing",
            CoverageState::Degraded => "degraded",
            CoverageState::Gap => "gap",
        }
    }

    /// Parses the lower-case word.
    pub fn parse(s: &str) -> Option<CoverageState> {
        let s = s.trim();
        CoverageState::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s))
    }

    /// Position from best (0, validated) to worst (4, gap): a lower rank is better.
    pub fn rank(self) -> u8 {
        match self {
            CoverageState::Validated => 0,
            CoverageState::Unvalidated => 1,
            CoverageState::Failing => 2,
            CoverageState::Degraded => 3,
            CoverageState::Gap => 4,
        }
    }

    /// The seed's three-word view.
    pub fn view(self) -> View {
        match self {
            CoverageState::Validated => View::Validated,
            CoverageState::Gap => View::Gap,
            _ => View::InProgress,
        }
    }
}

/// The seed's three-word summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum View {
    /// Validated.
    Validated,
    /// Unvalidated, failing or degraded.
    InProgress,
    /// No rule.
    Gap,
}

impl View {
    /// The words.
    pub fn as_str(self) -> &'static str {
        match self {
            View::Validated => "validated",
            View::InProgress => "in progress",
            View::Gap => "gap",
        }
    }
}

/// Why a technique is in its state, per rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// No rule claims the technique.
    NoRule,
    /// A rule that claimed it is retired (kept for history; it claims nothing).
    RuleRetired {
        /// The rule.
        rule: RuleId,
    },
    /// A claiming rule is disabled.
    RuleDisabled {
        /// The rule.
        rule: RuleId,
    },
    /// No source in scope provides what the rule needs.
    SourceMissing {
        /// The rule.
        rule: RuleId,
        /// The unmet dependency.
        dependency: Dependency,
    },
    /// The sources that would provide it are not queryable yet.
    SourceNotQueryable {
        /// The rule.
        rule: RuleId,
        /// The unmet dependency.
        dependency: Dependency,
        /// A provider.
        source: String,
        /// Its pipeline state.
        state: PipelineState,
    },
    /// The sources that would provide it are silent past their bound.
    SourceSilent {
        /// The rule.
        rule: RuleId,
        /// The unmet dependency.
        dependency: Dependency,
        /// A provider.
        source: String,
        /// When its bound ran out (`None`: never seen).
        since: Option<Timestamp>,
    },
    /// A usable rule has no conclusive result.
    Untested {
        /// The rule.
        rule: RuleId,
    },
    /// A usable rule's pass is older than its window.
    Stale {
        /// The rule.
        rule: RuleId,
        /// When it passed.
        passed_at: Timestamp,
        /// When it went stale.
        expired_at: Timestamp,
    },
    /// A usable rule's result was invalidated by a change to the rule or its sources.
    Invalidated {
        /// The rule.
        rule: RuleId,
        /// When the test ran.
        result_at: Timestamp,
        /// What changed.
        cause: Invalidation,
    },
    /// A suppression or exclusion was added to a usable rule after its pass.
    SuppressedSinceTest {
        /// The rule.
        rule: RuleId,
        /// When it passed.
        passed_at: Timestamp,
        /// The tuning (always [`Invalidation::Tuned`]).
        tuning: Invalidation,
    },
    /// A usable rule's latest conclusive result is a fail.
    Failing {
        /// The rule.
        rule: RuleId,
        /// When it failed.
        failed_at: Timestamp,
    },
}

impl Reason {
    /// A short stable word for the kind of reason.
    pub fn kind(&self) -> &'static str {
        match self {
            Reason::NoRule => "no-rule",
            Reason::RuleRetired { .. } => "rule-retired",
            Reason::RuleDisabled { .. } => "rule-disabled",
            Reason::SourceMissing { .. } => "source-missing",
            Reason::SourceNotQueryable { .. } => "source-not-queryable",
            Reason::SourceSilent { .. } => "source-silent",
            Reason::Untested { .. } => "untested",
            Reason::Stale { .. } => "stale",
            Reason::Invalidated { .. } => "invalidated",
            Reason::SuppressedSinceTest { .. } => "suppressed-since-test",
            Reason::Failing { .. } => "failing",
        }
    }

    /// The rule the reason is about, if any.
    pub fn rule(&self) -> Option<&RuleId> {
        match self {
            Reason::NoRule => None,
            Reason::RuleRetired { rule }
            | Reason::RuleDisabled { rule }
            | Reason::SourceMissing { rule, .. }
            | Reason::SourceNotQueryable { rule, .. }
            | Reason::SourceSilent { rule, .. }
            | Reason::Untested { rule }
            | Reason::Stale { rule, .. }
            | Reason::Invalidated { rule, .. }
            | Reason::SuppressedSinceTest { rule, .. }
            | Reason::Failing { rule, .. } => Some(rule),
        }
    }
}

/// A reason in words a person can act on (the CLI's tables, Navigator comments, the API).
impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::NoRule => f.write_str("no rule claims it"),
            Reason::RuleRetired { rule } => write!(f, "rule {rule} retired"),
            Reason::RuleDisabled { rule } => write!(f, "rule {rule} disabled"),
            Reason::SourceMissing { rule, dependency } => {
                write!(
                    f,
                    "rule {rule} needs {dependency}, which no source provides"
                )
            }
            Reason::SourceNotQueryable {
                rule,
                dependency,
                source,
                state,
            } => write!(
                f,
                "rule {rule} needs {dependency}; source {source} is only {}",
                state.as_str()
            ),
            Reason::SourceSilent {
                rule,
                dependency,
                source,
                since,
            } => match since {
                Some(t) => write!(
                    f,
                    "rule {rule} needs {dependency}; source {source} silent since {t}"
                ),
                None => write!(
                    f,
                    "rule {rule} needs {dependency}; source {source} never seen"
                ),
            },
            Reason::Untested { rule } => write!(f, "rule {rule} untested"),
            Reason::Stale {
                rule,
                passed_at,
                expired_at,
            } => write!(
                f,
                "rule {rule} passed {passed_at}, stale since {expired_at}"
            ),
            Reason::Invalidated {
                rule,
                result_at,
                cause,
            } => write!(
                f,
                "rule {rule}: its result of {result_at} no longer counts: {cause}"
            ),
            Reason::SuppressedSinceTest {
                rule, passed_at, ..
            } => write!(f, "rule {rule} tuned after its pass of {passed_at}"),
            Reason::Failing { rule, failed_at } => write!(f, "rule {rule} failed at {failed_at}"),
        }
    }
}

/// A rule evaluated once per computation: its lifecycle and each dependency in scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleAssessment {
    /// The rule.
    pub rule: RuleId,
    /// Its lifecycle.
    pub status: RuleStatus,
    /// Its dependencies: positions in [`Coverage::dependencies`] (many rules share a
    /// dependency, so each is checked and stored once).
    pub dependencies: Vec<usize>,
    /// Enabled and every dependency met.
    pub usable: bool,
    /// When its content last changed (first import included).
    pub content_changed_at: Timestamp,
}

/// One rule as it bears on one technique.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleCoverage {
    /// The rule.
    pub rule: RuleId,
    /// The revoked id through which the rule claims this technique (`revoked-by` followed);
    /// `None` when it names the technique itself.
    pub remapped_from: Option<TechniqueId>,
    /// Its lifecycle.
    pub status: RuleStatus,
    /// Enabled and every dependency met.
    pub usable: bool,
    /// Its validation for this technique, with the latest conclusive result.
    pub validation: Validation,
}

/// One data component ATT&CK lists for detecting a technique on a platform, and who provides it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentVisibility {
    /// The data component.
    pub component: String,
    /// Usable sources in scope providing the component by name, or one of its log sources.
    pub provided_by: Vec<String>,
    /// The log sources ATT&CK names for it, each with the usable sources providing it.
    pub log_sources: Vec<(LogSourceRef, Vec<String>)>,
}

impl ComponentVisibility {
    /// Whether the inventory provides it.
    pub fn is_visible(&self) -> bool {
        !self.provided_by.is_empty()
    }
}

/// Telemetry visibility of a technique on one platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformVisibility {
    /// The platform.
    pub platform: String,
    /// Each required data component.
    pub components: Vec<ComponentVisibility>,
}

impl PlatformVisibility {
    /// (visible components, required components).
    pub fn ratio(&self) -> (usize, usize) {
        (
            self.components.iter().filter(|c| c.is_visible()).count(),
            self.components.len(),
        )
    }
}

/// How many of a parent's sub-techniques in scope are validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubtechniqueCount {
    /// Validated sub-techniques.
    pub validated: usize,
    /// Sub-techniques in scope.
    pub total: usize,
}

/// The coverage of one technique or sub-technique.
#[derive(Debug, Clone, PartialEq)]
pub struct TechniqueCoverage {
    /// The technique.
    pub technique: TechniqueId,
    /// Its name.
    pub name: String,
    /// Its tactics (short names, matrix order).
    pub tactics: Vec<String>,
    /// Its own state (a parent's state never depends on its sub-techniques).
    pub state: CoverageState,
    /// Why, rule by rule (sorted by rule id). A validated technique may still list other
    /// rules' problems.
    pub reasons: Vec<Reason>,
    /// The rules that claim it, sorted by id (retired ones included, for history).
    pub rules: Vec<RuleCoverage>,
    /// Telemetry visibility per platform in scope.
    pub visibility: Vec<PlatformVisibility>,
    /// For a technique with sub-techniques: how many of them are validated.
    pub subtechniques: Option<SubtechniqueCount>,
    /// Weight in the headline: the profile's priority score, else 1.
    pub weight: f64,
    /// The profile's priority tier, if any.
    pub tier: Option<String>,
}

/// Counts and weights per state.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Tally {
    counts: [usize; 5],
    weights: [f64; 5],
}

impl Tally {
    fn add(&mut self, state: CoverageState, weight: f64) {
        let i = usize::from(state.rank());
        if let (Some(c), Some(w)) = (self.counts.get_mut(i), self.weights.get_mut(i)) {
            *c += 1;
            *w += weight;
        }
    }

    /// Techniques in `state`.
    pub fn count(&self, state: CoverageState) -> usize {
        self.counts
            .get(usize::from(state.rank()))
            .copied()
            .unwrap_or(0)
    }

    /// Weight of techniques in `state`.
    pub fn weight(&self, state: CoverageState) -> f64 {
        self.weights
            .get(usize::from(state.rank()))
            .copied()
            .unwrap_or(0.0)
    }

    /// All techniques counted.
    pub fn total(&self) -> usize {
        self.counts.iter().sum()
    }

    /// Their total weight.
    pub fn total_weight(&self) -> f64 {
        self.weights.iter().sum()
    }

    /// Share (0..=1) of the total weight that is in `state`; 0 when nothing is counted.
    pub fn share(&self, state: CoverageState) -> f64 {
        let total = self.total_weight();
        if total > 0.0 {
            self.weight(state) / total
        } else {
            0.0
        }
    }
}

/// The headline of one tactic.
#[derive(Debug, Clone, PartialEq)]
pub struct TacticSummary {
    /// The tactic.
    pub tactic: CatalogTactic,
    /// Its techniques in scope.
    pub tally: Tally,
}

/// A rule's claim that went through `revoked-by`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remap {
    /// The rule.
    pub rule: RuleId,
    /// The id as claimed.
    pub claimed: TechniqueId,
    /// The current technique it counts for.
    pub current: TechniqueId,
    /// The chain followed.
    pub chain: Vec<TechniqueId>,
    /// Whether the workspace's remap table made the first step.
    pub by_table: bool,
}

/// A rule's claim that counts for nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnresolvedClaim {
    /// The rule.
    pub rule: RuleId,
    /// The id as claimed.
    pub claimed: String,
    /// Why it resolves to nothing.
    pub why: Unresolved,
}

/// What became of the rules' claims.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClaimReport {
    /// Claims mapped through `revoked-by`.
    pub remapped: Vec<Remap>,
    /// Claims that count for nothing.
    pub unresolved: Vec<UnresolvedClaim>,
}

/// The claims of every rule resolved for one scope: compute it once, evaluate many times.
#[derive(Debug, Clone, Default)]
pub struct Index {
    /// Rules claiming something evaluated, sorted by id (as `State` keeps them).
    rule_ids: Vec<RuleId>,
    /// Per rule: (technique evaluated, the revoked id it came through, if any).
    claims: Vec<Vec<(TechniqueId, Option<TechniqueId>)>>,
    /// Catalog position of a technique evaluated → rules claiming it (positions, ascending =
    /// by rule id).
    by_technique: Vec<Vec<u32>>,
    /// Techniques in scope, sorted.
    in_scope: Vec<TechniqueId>,
    /// Sub-techniques evaluated only to count a parent's validated sub-techniques.
    context: Vec<TechniqueId>,
    /// Technique in scope → (weight, tier) from the target set.
    weights: FastMap<TechniqueId, (f64, Option<String>)>,
    report: ClaimReport,
}

impl Index {
    /// What became of the rules' claims.
    pub fn claims(&self) -> &ClaimReport {
        &self.report
    }

    fn position(&self, rule: &RuleId) -> Option<usize> {
        self.rule_ids.binary_search(rule).ok()
    }

    fn rules_claiming(&self, catalog: &Catalog, t: TechniqueId) -> &[u32] {
        catalog
            .position(t)
            .and_then(|p| self.by_technique.get(p))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Techniques in scope, sorted.
    pub fn in_scope(&self) -> &[TechniqueId] {
        &self.in_scope
    }

    /// The techniques a rule claims in this scope (after `revoked-by` mapping).
    pub fn claims_of(&self, rule: &RuleId) -> Vec<TechniqueId> {
        self.position(rule)
            .and_then(|i| self.claims.get(i))
            .map(|c| c.iter().map(|(t, _)| *t).collect())
            .unwrap_or_default()
    }
}

/// The coverage of a scope at an instant.
#[derive(Debug, Clone, PartialEq)]
pub struct Coverage {
    /// The instant it was computed for.
    pub at: Timestamp,
    /// The last journal position folded into the state (`State::last_seq`).
    pub seq: u64,
    /// Every technique and sub-technique in scope, sorted by id.
    pub techniques: Vec<TechniqueCoverage>,
    /// Headline per tactic, in matrix order (tactics without techniques in scope left out).
    pub tactics: Vec<TacticSummary>,
    /// Headline over every technique in scope (each once).
    pub overall: Tally,
    /// What became of the rules' claims.
    pub claims: ClaimReport,
    /// Every rule claiming something evaluated, in rule-id order.
    pub rules: Vec<RuleAssessment>,
    /// Every distinct dependency of those rules, with whether it is met in scope.
    pub dependencies: Vec<(Dependency, DependencyState)>,
    /// Sub-techniques outside the target set, evaluated to count their parents' sub-techniques.
    pub context: Vec<TechniqueCoverage>,
}

impl Coverage {
    /// The coverage of one technique in scope.
    pub fn technique(&self, id: TechniqueId) -> Option<&TechniqueCoverage> {
        self.techniques
            .binary_search_by_key(&id, |t| t.technique)
            .ok()
            .and_then(|i| self.techniques.get(i))
    }

    /// The assessment of one rule.
    pub fn rule(&self, id: &RuleId) -> Option<&RuleAssessment> {
        self.rules
            .binary_search_by(|r| r.rule.cmp(id))
            .ok()
            .and_then(|i| self.rules.get(i))
    }

    /// A rule's dependencies with whether each is met.
    pub fn dependencies_of<'a>(
        &'a self,
        rule: &'a RuleAssessment,
    ) -> impl Iterator<Item = &'a (Dependency, DependencyState)> + 'a {
        rule.dependencies
            .iter()
            .filter_map(|&i| self.dependencies.get(i))
    }

    fn state_of(&self, id: TechniqueId) -> Option<CoverageState> {
        let find = |v: &[TechniqueCoverage]| {
            v.binary_search_by_key(&id, |t| t.technique)
                .ok()
                .and_then(|i| v.get(i))
                .map(|t| t.state)
        };
        find(&self.techniques).or_else(|| find(&self.context))
    }
}

/// Resolves every rule's claims for `scope`. Depends only on the rules' claimed ids, the catalog
/// and the scope: recompute it after rules are imported or re-imported, not after results.
pub fn index(catalog: &Catalog, state: &State, scope: &Scope) -> Index {
    let mut weights = FastMap::default();
    let in_scope: Vec<TechniqueId> = match &scope.target {
        Some(target) => {
            let mut v: Vec<TechniqueId> = target
                .techniques
                .iter()
                .filter(|t| {
                    catalog
                        .technique(t.technique)
                        .is_some_and(|c| scope.admits(c))
                })
                .map(|t| {
                    weights.insert(t.technique, (t.score, Some(t.tier.clone())));
                    t.technique
                })
                .collect();
            v.sort();
            v.dedup();
            v
        }
        None => catalog
            .techniques()
            .iter()
            .filter(|t| scope.admits(t))
            .map(|t| t.id)
            .collect(),
    };
    let mut context: Vec<TechniqueId> = in_scope
        .iter()
        .filter_map(|&t| catalog.technique(t))
        .flat_map(|t| t.subtechniques.iter().copied())
        .filter(|s| in_scope.binary_search(s).is_err())
        .filter(|&s| catalog.technique(s).is_some_and(|c| scope.admits(c)))
        .collect();
    context.sort();
    context.dedup();
    // Evaluated techniques flagged by catalog position: one array read per claim.
    let mut evaluated = vec![false; catalog.techniques().len()];
    for t in in_scope.iter().chain(&context) {
        if let Some(p) = catalog.position(*t) {
            evaluated[p] = true;
        }
    }

    let mut ix = Index {
        in_scope,
        context,
        weights,
        by_technique: vec![Vec::new(); catalog.techniques().len()],
        ..Index::default()
    };
    for (id, rec) in &state.rules {
        let mut mine: Vec<(TechniqueId, Option<TechniqueId>)> = Vec::new();
        for raw in &rec.rule.techniques {
            let claim = catalog.resolve_with(raw, &state.remap);
            let (current, via) = match claim {
                Claim::Active(t) => (t, None),
                Claim::Remapped {
                    claimed,
                    current,
                    chain,
                    by_table,
                } => {
                    ix.report.remapped.push(Remap {
                        rule: id.clone(),
                        claimed,
                        current,
                        chain,
                        by_table,
                    });
                    (current, Some(claimed))
                }
                Claim::Unresolved(why) => {
                    ix.report.unresolved.push(UnresolvedClaim {
                        rule: id.clone(),
                        claimed: raw.clone(),
                        why,
                    });
                    continue;
                }
            };
            if !catalog.position(current).is_some_and(|p| evaluated[p]) {
                continue;
            }
            match mine.iter_mut().find(|(x, _)| *x == current) {
                // Naming the technique itself wins over reaching it through a revoked id.
                Some((_, v)) => {
                    if via.is_none() {
                        *v = None;
                    }
                }
                None => mine.push((current, via)),
            }
        }
        if mine.is_empty() {
            continue;
        }
        mine.sort_by_key(|(t, _)| *t);
        let pos = ix.rule_ids.len() as u32;
        for (t, _) in &mine {
            if let Some(list) = catalog
                .position(*t)
                .and_then(|p| ix.by_technique.get_mut(p))
            {
                list.push(pos);
            }
        }
        ix.rule_ids.push(id.clone());
        ix.claims.push(mine);
    }
    ix
}

/// Computes coverage: [`index`] then [`compute_indexed`].
pub fn compute(catalog: &Catalog, state: &State, scope: &Scope, now: Timestamp) -> Coverage {
    let ix = index(catalog, state, scope);
    compute_indexed(&ix, catalog, state, scope, now)
}

/// Evaluates every rule once, then every technique in scope, with an [`Index`] made by
/// [`index`] from the same catalog, rules and scope.
pub fn compute_indexed(
    ix: &Index,
    catalog: &Catalog,
    state: &State,
    scope: &Scope,
    now: Timestamp,
) -> Coverage {
    let inventory = Inventory::new(state, &scope.systems, now);
    let mut table = DependencyTable::default();
    let mut rules: Vec<RuleAssessment> = Vec::with_capacity(ix.rule_ids.len());
    // Per rule and claimed technique, the validation, flat in claim order (rule `pos` starts
    // at `starts[pos]`); each is moved into the one technique it is for.
    let mut validations: Vec<Option<Validation>> = Vec::with_capacity(ix.rule_ids.len() * 2);
    let mut starts: Vec<usize> = Vec::with_capacity(ix.rule_ids.len());
    // Rules, their records and their results are all sorted by rule id: walk them together
    // instead of searching the state's maps once per rule.
    let mut records = state.rules.iter().peekable();
    let mut results = state.results.iter().peekable();
    let mut lists: Vec<(Option<TechniqueId>, &[ValidationResult])> = Vec::new();
    for (pos, id) in ix.rule_ids.iter().enumerate() {
        while records.next_if(|(r, _)| *r < id).is_some() {}
        let rec = records.next_if(|(r, _)| *r == id).map(|(_, rec)| rec);
        while results.next_if(|((r, _), _)| r < id).is_some() {}
        lists.clear();
        while let Some(((_, raw), list)) = results.next_if(|((r, _), _)| r == id) {
            lists.push((catalog.resolve(raw).current(), list.as_slice()));
        }
        rules.push(assess_rule(
            id,
            rec,
            &mut table,
            &inventory,
            &scope.platforms,
        ));
        starts.push(validations.len());
        validations.extend(
            validate_rule(ix, state, rec, &lists, &inventory, pos, now)
                .into_iter()
                .map(Some),
        );
    }
    let dependencies = table.entries;

    let mut build = |t: TechniqueId, with_visibility: bool| {
        evaluate(
            ix,
            catalog,
            &rules,
            &dependencies,
            (&starts, &mut validations),
            t,
            with_visibility.then_some((&inventory, scope)),
        )
    };
    let techniques: Vec<TechniqueCoverage> = ix.in_scope.iter().map(|&t| build(t, true)).collect();
    let context: Vec<TechniqueCoverage> = ix.context.iter().map(|&t| build(t, false)).collect();
    let mut cov = Coverage {
        at: now,
        seq: state.last_seq,
        techniques,
        tactics: Vec::new(),
        overall: Tally::default(),
        claims: ix.report.clone(),
        rules,
        dependencies,
        context,
    };
    finish(&mut cov, catalog, scope);
    cov
}

/// The result lists of one rule, each with the technique its recorded id resolves to: a result
/// recorded under a revoked id counts for its replacement, as the rule's claim does.
fn result_lists<'s>(
    catalog: &Catalog,
    state: &'s State,
    id: &RuleId,
) -> Vec<(Option<TechniqueId>, &'s [ValidationResult])> {
    state
        .results
        .range((id.clone(), String::new())..)
        .take_while(|((r, _), _)| r == id)
        .map(|((_, raw), list)| (catalog.resolve(raw).current(), list.as_slice()))
        .collect()
}

/// Re-evaluates the techniques `rule` claims, after a change that touched only that rule's
/// results, status, owner or tuning (not its claims: re-run [`index`] after a re-import), then
/// the parents' sub-technique counts and the headlines. `now` should be the instant `coverage`
/// was computed for: other techniques are not re-evaluated, so moving time only here would mix
/// two instants. An unknown rule (or one claiming nothing in scope) changes nothing.
pub fn update_rule(
    coverage: &mut Coverage,
    ix: &Index,
    catalog: &Catalog,
    state: &State,
    scope: &Scope,
    now: Timestamp,
    rule: &RuleId,
) {
    let Some(pos) = ix.position(rule) else {
        return;
    };
    let rec = state.rules.get(rule);
    let deps: Vec<Dependency> = rec
        .map(|r| {
            r.rule
                .dependencies
                .iter()
                .map(|d| d.dependency.clone())
                .collect()
        })
        .unwrap_or_default();
    // Only this rule's dependencies need indexing: the rest of the inventory is untouched.
    let inventory = Inventory::for_dependencies(state, &scope.systems, now, &deps);
    let mut table = DependencyTable {
        entries: std::mem::take(&mut coverage.dependencies),
        positions: FastMap::default(),
    };
    let assessment = assess_rule(rule, rec, &mut table, &inventory, &scope.platforms);
    coverage.dependencies = table.entries;
    let lists = result_lists(catalog, state, rule);
    let fresh = validate_rule(ix, state, rec, &lists, &inventory, pos, now);
    if let Some(slot) = coverage.rules.get_mut(pos) {
        *slot = assessment.clone();
    }
    let claims = ix.claims.get(pos).map(Vec::as_slice).unwrap_or(&[]);
    for ((t, _), validation) in claims.iter().zip(fresh) {
        let list = if ix.in_scope.binary_search(t).is_ok() {
            &mut coverage.techniques
        } else {
            &mut coverage.context
        };
        let Ok(i) = list.binary_search_by_key(t, |c| c.technique) else {
            continue;
        };
        let Some(tc) = list.get_mut(i) else {
            continue;
        };
        if let Ok(j) = tc.rules.binary_search_by(|r| r.rule.cmp(rule))
            && let Some(rc) = tc.rules.get_mut(j)
        {
            rc.status = assessment.status;
            rc.usable = assessment.usable;
            rc.validation = validation;
        }
        let (state, reasons) = derive(&tc.rules, ix, &coverage.rules, &coverage.dependencies);
        tc.state = state;
        tc.reasons = reasons;
    }
    coverage.at = now;
    coverage.seq = state.last_seq;
    finish(coverage, catalog, scope);
}

/// Distinct dependencies, each checked once.
#[derive(Default)]
struct DependencyTable {
    entries: Vec<(Dependency, DependencyState)>,
    positions: FastMap<Dependency, usize>,
}

impl DependencyTable {
    fn position(
        &mut self,
        dep: &Dependency,
        inventory: &Inventory<'_>,
        platforms: &[String],
    ) -> usize {
        if let Some(&i) = self.positions.get(dep) {
            return i;
        }
        // Filled from an earlier computation (incremental update): look it up once.
        let i = match self.entries.iter().position(|(d, _)| d == dep) {
            Some(i) => i,
            None => {
                self.entries
                    .push((dep.clone(), inventory.satisfy(dep, platforms)));
                self.entries.len() - 1
            }
        };
        self.positions.insert(dep.clone(), i);
        i
    }

    fn satisfied(&self, i: usize) -> bool {
        self.entries.get(i).is_some_and(|(_, s)| s.is_satisfied())
    }
}

/// Lifecycle and dependencies of one rule in scope (`rec` is `None` for a rule gone from the
/// state since the index was made).
fn assess_rule(
    id: &RuleId,
    rec: Option<&crate::state::RuleRecord>,
    table: &mut DependencyTable,
    inventory: &Inventory<'_>,
    platforms: &[String],
) -> RuleAssessment {
    let Some(rec) = rec else {
        return RuleAssessment {
            rule: id.clone(),
            status: RuleStatus::Retired,
            dependencies: Vec::new(),
            usable: false,
            content_changed_at: Timestamp::UNIX_EPOCH,
        };
    };
    let dependencies: Vec<usize> = rec
        .rule
        .dependencies
        .iter()
        .map(|d| table.position(&d.dependency, inventory, platforms))
        .collect();
    let usable =
        rec.rule.status == RuleStatus::Enabled && dependencies.iter().all(|&i| table.satisfied(i));
    RuleAssessment {
        rule: id.clone(),
        status: rec.rule.status,
        dependencies,
        usable,
        content_changed_at: rec.content_changed_at,
    }
}

/// The validation of rule `pos` for each technique it claims, in claim order, from its result
/// lists (see [`result_lists`]).
fn validate_rule(
    ix: &Index,
    state: &State,
    rec: Option<&crate::state::RuleRecord>,
    lists: &[(Option<TechniqueId>, &[ValidationResult])],
    inventory: &Inventory<'_>,
    pos: usize,
    now: Timestamp,
) -> Vec<Validation> {
    let claims = ix.claims.get(pos).map(Vec::as_slice).unwrap_or(&[]);
    let Some(rec) = rec else {
        return claims
            .iter()
            .map(|_| Validation {
                status: ValidationStatus::Untested,
                latest: None,
            })
            .collect();
    };
    claims
        .iter()
        .map(|(t, _)| {
            let latest = validation::latest_conclusive(
                lists
                    .iter()
                    .filter(|(rt, _)| *rt == Some(*t))
                    .map(|(_, l)| *l),
            );
            let tier = ix.weights.get(t).and_then(|(_, tier)| tier.as_deref());
            let window = validation::window(&state.policy, *t, tier);
            validation::assess(rec, latest, window, inventory, now)
        })
        .collect()
}

/// The coverage of one technique from its rules' assessments and validations.
fn evaluate(
    ix: &Index,
    catalog: &Catalog,
    rules: &[RuleAssessment],
    dependencies: &[(Dependency, DependencyState)],
    (starts, validations): (&[usize], &mut [Option<Validation>]),
    t: TechniqueId,
    visibility: Option<(&Inventory<'_>, &Scope)>,
) -> TechniqueCoverage {
    let info = catalog.technique(t);
    let claiming = ix.rules_claiming(catalog, t);
    let mut covs = Vec::with_capacity(claiming.len());
    for &pos in claiming {
        let pos = pos as usize;
        let (Some(a), Some(claims)) = (rules.get(pos), ix.claims.get(pos)) else {
            continue;
        };
        let Some(k) = claims.iter().position(|(x, _)| *x == t) else {
            continue;
        };
        let validation = starts
            .get(pos)
            .and_then(|&start| validations.get_mut(start + k))
            .and_then(Option::take)
            .unwrap_or(Validation {
                status: ValidationStatus::Untested,
                latest: None,
            });
        covs.push(RuleCoverage {
            rule: a.rule.clone(),
            remapped_from: claims.get(k).and_then(|(_, via)| *via),
            status: a.status,
            usable: a.usable,
            validation,
        });
    }
    let (state, reasons) = derive(&covs, ix, rules, dependencies);
    let (weight, tier) = ix.weights.get(&t).cloned().unwrap_or((1.0, None));
    TechniqueCoverage {
        technique: t,
        name: info.map(|i| i.name.clone()).unwrap_or_default(),
        tactics: info.map(|i| i.tactics.clone()).unwrap_or_default(),
        state,
        reasons,
        rules: covs,
        visibility: match (visibility, info) {
            (Some((inv, scope)), Some(info)) => visible(info, inv, scope),
            _ => Vec::new(),
        },
        subtechniques: None,
        weight,
        tier,
    }
}

/// The state and reasons of a technique from the rules claiming it (sorted by id).
fn derive(
    covs: &[RuleCoverage],
    ix: &Index,
    assessments: &[RuleAssessment],
    dependencies: &[(Dependency, DependencyState)],
) -> (CoverageState, Vec<Reason>) {
    let mut reasons = Vec::new();
    let claiming: Vec<&RuleCoverage> = covs
        .iter()
        .filter(|r| r.status != RuleStatus::Retired)
        .collect();
    if claiming.is_empty() {
        reasons.push(Reason::NoRule);
        reasons.extend(covs.iter().map(|r| Reason::RuleRetired {
            rule: r.rule.clone(),
        }));
        return (CoverageState::Gap, reasons);
    }
    let mut usable = 0usize;
    let mut passing = 0usize;
    let mut failing = 0usize;
    for r in &claiming {
        if !r.usable {
            if r.status == RuleStatus::Disabled {
                reasons.push(Reason::RuleDisabled {
                    rule: r.rule.clone(),
                });
            }
            let deps = ix
                .position(&r.rule)
                .and_then(|p| assessments.get(p))
                .map(|a| a.dependencies.as_slice())
                .unwrap_or(&[]);
            for (dependency, st) in deps.iter().filter_map(|&i| dependencies.get(i)) {
                let rule = r.rule.clone();
                let dependency = dependency.clone();
                match st {
                    DependencyState::Satisfied { .. } => {}
                    DependencyState::Missing => {
                        reasons.push(Reason::SourceMissing { rule, dependency })
                    }
                    DependencyState::Silent { source, since } => {
                        reasons.push(Reason::SourceSilent {
                            rule,
                            dependency,
                            source: source.clone(),
                            since: *since,
                        })
                    }
                    DependencyState::NotQueryable { source, state } => {
                        reasons.push(Reason::SourceNotQueryable {
                            rule,
                            dependency,
                            source: source.clone(),
                            state: *state,
                        })
                    }
                }
            }
            continue;
        }
        usable += 1;
        let rule = r.rule.clone();
        match &r.validation.status {
            ValidationStatus::Passing { .. } => passing += 1,
            ValidationStatus::Untested => reasons.push(Reason::Untested { rule }),
            ValidationStatus::Failing { failed_at } => {
                failing += 1;
                reasons.push(Reason::Failing {
                    rule,
                    failed_at: *failed_at,
                })
            }
            ValidationStatus::Stale {
                passed_at,
                expired_at,
            } => reasons.push(Reason::Stale {
                rule,
                passed_at: *passed_at,
                expired_at: *expired_at,
            }),
            ValidationStatus::Invalidated {
                result_at, cause, ..
            } => reasons.push(if cause.is_tuning() {
                Reason::SuppressedSinceTest {
                    rule,
                    passed_at: *result_at,
                    tuning: cause.clone(),
                }
            } else {
                Reason::Invalidated {
                    rule,
                    result_at: *result_at,
                    cause: cause.clone(),
                }
            }),
        }
    }
    let state = if usable == 0 {
        CoverageState::Degraded
    } else if passing > 0 {
        CoverageState::Validated
    } else if failing == usable {
        CoverageState::Failing
    } else {
        CoverageState::Unvalidated
    };
    (state, reasons)
}

/// Telemetry visibility of a technique on each platform in scope that it lists.
fn visible(
    info: &CatalogTechnique,
    inventory: &Inventory<'_>,
    scope: &Scope,
) -> Vec<PlatformVisibility> {
    let platforms: Vec<&String> = if scope.platforms.is_empty() {
        info.platforms.iter().collect()
    } else {
        scope
            .platforms
            .iter()
            .filter(|p| info.on_platform(p))
            .collect()
    };
    platforms
        .into_iter()
        .map(|p| PlatformVisibility {
            platform: p.clone(),
            components: info
                .telemetry
                .iter()
                .filter(|n| n.applies_to(p))
                .map(|n| {
                    let log_sources: Vec<(LogSourceRef, Vec<String>)> = n
                        .log_sources
                        .iter()
                        .map(|l| {
                            let by = inventory.log_source_providers(l, p);
                            (l.clone(), by.into_iter().map(str::to_string).collect())
                        })
                        .collect();
                    let mut provided_by: Vec<String> = inventory
                        .component_providers(&n.component, p)
                        .into_iter()
                        .map(str::to_string)
                        .chain(log_sources.iter().flat_map(|(_, by)| by.iter().cloned()))
                        .collect();
                    provided_by.sort();
                    provided_by.dedup();
                    ComponentVisibility {
                        component: n.component.clone(),
                        provided_by,
                        log_sources,
                    }
                })
                .collect(),
        })
        .collect()
}

/// Parents' sub-technique counts and the headlines.
fn finish(cov: &mut Coverage, catalog: &Catalog, scope: &Scope) {
    let mut counts: Vec<Option<SubtechniqueCount>> = Vec::with_capacity(cov.techniques.len());
    for t in &cov.techniques {
        let subs: Vec<TechniqueId> = catalog
            .technique(t.technique)
            .map(|c| {
                c.subtechniques
                    .iter()
                    .copied()
                    .filter(|&s| catalog.technique(s).is_some_and(|x| scope.admits(x)))
                    .collect()
            })
            .unwrap_or_default();
        counts.push((!subs.is_empty()).then(|| {
            SubtechniqueCount {
                validated: subs
                    .iter()
                    .filter(|&&s| cov.state_of(s) == Some(CoverageState::Validated))
                    .count(),
                total: subs.len(),
            }
        }));
    }
    for (t, c) in cov.techniques.iter_mut().zip(counts) {
        t.subtechniques = c;
    }
    let mut overall = Tally::default();
    let mut per_tactic: BTreeMap<&str, Tally> = BTreeMap::new();
    for t in &cov.techniques {
        overall.add(t.state, t.weight);
        for tactic in &t.tactics {
            per_tactic
                .entry(tactic.as_str())
                .or_default()
                .add(t.state, t.weight);
        }
    }
    let mut seen = std::collections::HashSet::new();
    cov.tactics = catalog
        .tactics()
        .iter()
        .filter(|t| seen.insert(t.shortname.clone()))
        .filter_map(|t| {
            per_tactic
                .get(t.shortname.as_str())
                .map(|tally| TacticSummary {
                    tactic: t.clone(),
                    tally: *tally,
                })
        })
        .collect();
    cov.overall = overall;
}

/// The validation of every (rule, claimed technique) pair, for listings such as
/// `attest rules list --validation stale`: scope-independent (every technique, every source),
/// default tiers. Sorted by rule id, then technique.
pub fn rule_validations(
    catalog: &Catalog,
    state: &State,
    now: Timestamp,
) -> Vec<(RuleId, TechniqueId, Validation)> {
    let ix = index(catalog, state, &Scope::all());
    let inventory = Inventory::new(state, &[], now);
    let mut out = Vec::new();
    for (pos, id) in ix.rule_ids.iter().enumerate() {
        let lists = result_lists(catalog, state, id);
        let vals = validate_rule(
            &ix,
            state,
            state.rules.get(id),
            &lists,
            &inventory,
            pos,
            now,
        );
        let claims = ix.claims.get(pos).map(Vec::as_slice).unwrap_or(&[]);
        for ((t, _), v) in claims.iter().zip(vals) {
            out.push((id.clone(), *t, v));
        }
    }
    out
}
