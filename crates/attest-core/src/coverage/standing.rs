//! How each rule stands through the techniques it claims, for rule listings filtered by coverage
//! (`attest rules list --state … --validation …` and `GET /api/v1/rules?state=…`): one
//! definition shared by the CLI and the API.

use std::collections::BTreeMap;

use attest_attack::{KnowledgeBase, Resolution, TechniqueId};
use jiff::Timestamp;

use crate::coverage::{Catalog, Coverage, rule_validations};
use crate::rule::{Rule, RuleId, RuleStatus};
use crate::state::State;
use crate::validation::ValidationKind;

/// A rule's validations (one per claimed technique) and whether it is usable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleStanding {
    /// Validation of each claimed technique, sorted, without repeats.
    pub validations: Vec<ValidationKind>,
    /// Enabled and every dependency met (scope-independent coverage).
    pub usable: bool,
}

/// The standing of every rule claiming something, from a scope-independent coverage of `state`
/// computed at `at` (`coverage` must be for [`crate::coverage::Scope::all`]).
pub fn rule_standings(
    catalog: &Catalog,
    state: &State,
    coverage: &Coverage,
    at: Timestamp,
) -> BTreeMap<RuleId, RuleStanding> {
    let mut out: BTreeMap<RuleId, RuleStanding> = BTreeMap::new();
    for (rule, _, v) in rule_validations(catalog, state, at) {
        out.entry(rule)
            .or_default()
            .validations
            .push(v.status.kind());
    }
    for ra in &coverage.rules {
        out.entry(ra.rule.clone()).or_default().usable = ra.usable;
    }
    for s in out.values_mut() {
        s.validations.sort();
        s.validations.dedup();
    }
    out
}

/// A coverage filter on rules: the state a claimed technique is in *through this rule*.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleStateFilter {
    /// Usable, and a claimed technique passed (fresh).
    Validated,
    /// Usable, and a claimed technique is untested, stale or invalidated.
    RuleExists,
    /// Usable, and a claimed technique failed.
    Failing,
    /// Disabled.
    Disabled,
    /// Enabled but not usable (a source missing or silent).
    Degraded,
}

impl RuleStateFilter {
    /// Parses `validated`, `rule-exists` (or `unvalidated`), `failing`, `disabled`, `degraded`.
    pub fn parse(s: &str) -> Option<RuleStateFilter> {
        match s.trim().to_ascii_lowercase().as_str() {
            "validated" => Some(RuleStateFilter::Validated),
            "rule-exists" | "unvalidated" => Some(RuleStateFilter::RuleExists),
            "failing" => Some(RuleStateFilter::Failing),
            "disabled" => Some(RuleStateFilter::Disabled),
            "degraded" => Some(RuleStateFilter::Degraded),
            _ => None,
        }
    }

    /// Whether `rule` with its `standing` (absent: claims nothing) passes the filter.
    pub fn matches(self, rule: &Rule, standing: Option<&RuleStanding>) -> bool {
        use ValidationKind as K;
        let ks = standing.map(|s| s.validations.as_slice()).unwrap_or(&[]);
        let ok = standing.is_some_and(|s| s.usable) && rule.status == RuleStatus::Enabled;
        match self {
            RuleStateFilter::Validated => ok && ks.contains(&K::Passing),
            RuleStateFilter::RuleExists => {
                ok && ks
                    .iter()
                    .any(|k| matches!(k, K::Untested | K::Stale | K::Invalidated))
            }
            RuleStateFilter::Failing => ok && ks.contains(&K::Failing),
            RuleStateFilter::Disabled => rule.status == RuleStatus::Disabled,
            RuleStateFilter::Degraded => rule.status == RuleStatus::Enabled && !ok,
        }
    }
}

/// Whether a rule claims an id the knowledge base does not know (or that is not an id at all).
pub fn claims_unknown_technique(kb: &KnowledgeBase, rule: &Rule) -> bool {
    rule.techniques.iter().any(|t| match TechniqueId::parse(t) {
        Ok(id) => matches!(kb.resolve_technique(id), Resolution::Unknown { .. }),
        Err(_) => true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::{Origin, RuleFormat};

    #[test]
    fn state_filters_parse_and_match() {
        assert_eq!(
            RuleStateFilter::parse("Unvalidated"),
            Some(RuleStateFilter::RuleExists)
        );
        assert_eq!(RuleStateFilter::parse("green"), None);
        let mut rule = Rule::new(
            "r",
            "R",
            Origin {
                format: RuleFormat::Sigma,
                path: "r.yml".into(),
                root: "x".into(),
            },
        );
        rule.status = RuleStatus::Enabled;
        let passing = RuleStanding {
            validations: vec![ValidationKind::Passing],
            usable: true,
        };
        assert!(RuleStateFilter::Validated.matches(&rule, Some(&passing)));
        assert!(!RuleStateFilter::RuleExists.matches(&rule, Some(&passing)));
        assert!(RuleStateFilter::Degraded.matches(&rule, None));
        rule.status = RuleStatus::Disabled;
        assert!(RuleStateFilter::Disabled.matches(&rule, Some(&passing)));
        assert!(!RuleStateFilter::Validated.matches(&rule, Some(&passing)));
    }
}
