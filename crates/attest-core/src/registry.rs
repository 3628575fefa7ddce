//! Planning a rule import: which journal events turn the registry into what a source now says.
//!
//! Importers parse; this decides. Keeping the decision here (pure, over the projected state)
//! makes re-imports idempotent by construction — an unchanged rule yields no event — and lets the
//! CLI and the server share one definition of "changed" and "retired".

use std::collections::{BTreeMap, BTreeSet};

use crate::journal::Event;
use crate::rule::{Rule, RuleId, RuleStatus};
use crate::state::RuleRecord;

/// What an import will do.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportPlan {
    /// Events to append, in one transaction.
    pub events: Vec<Event>,
    /// Rules seen for the first time.
    pub new: usize,
    /// Rules whose content changed.
    pub updated: usize,
    /// Rules that were retired and came back.
    pub revived: usize,
    /// Rules with no change (no event).
    pub unchanged: usize,
    /// Rules of this root gone from the source (retired, never deleted).
    pub retired: usize,
    /// Ids that appeared more than once in the import; the first occurrence wins.
    pub duplicates: Vec<RuleId>,
}

/// Plans importing `imported` from import root `root`, given the registry's current rules.
///
/// `complete` says whether `imported` is the whole content of the root: only then are rules of
/// that root missing from it retired (a `--strict`-less import that skipped invalid files still
/// retires nothing that failed to parse, because the caller passes the ids of skipped files' rules
/// as `keep`).
pub fn plan_rule_import(
    existing: &BTreeMap<RuleId, RuleRecord>,
    root: &str,
    imported: Vec<Rule>,
    complete: bool,
) -> ImportPlan {
    let mut plan = ImportPlan::default();
    let mut seen: BTreeSet<RuleId> = BTreeSet::new();
    for rule in imported {
        if !seen.insert(rule.id.clone()) {
            plan.duplicates.push(rule.id.clone());
            continue;
        }
        match existing.get(&rule.id) {
            None => {
                plan.new += 1;
                plan.events.push(Event::RuleUpserted(rule));
            }
            Some(rec) if rec.rule.status == RuleStatus::Retired => {
                plan.revived += 1;
                plan.events.push(Event::RuleUpserted(rule));
            }
            Some(rec) => {
                // A source that now says "disabled" (a SIEM export) is news even when the content
                // is the same; a source saying "enabled" never overrides a hand-made disable.
                let newly_disabled =
                    rule.status == RuleStatus::Disabled && rec.rule.status == RuleStatus::Enabled;
                if rec.rule.same_content(&rule) && !newly_disabled {
                    plan.unchanged += 1;
                } else {
                    plan.updated += 1;
                    plan.events.push(Event::RuleUpserted(rule));
                }
            }
        }
    }
    if complete {
        for (id, rec) in existing {
            if rec.rule.origin.root == root
                && rec.rule.status != RuleStatus::Retired
                && !seen.contains(id)
            {
                plan.retired += 1;
                plan.events.push(Event::RuleRetired { id: id.clone() });
            }
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::JournalEntry;
    use crate::rule::{Origin, RuleFormat};
    use crate::state::State;

    fn rule(id: &str, hash: &str) -> Rule {
        let mut r = Rule::new(
            id,
            format!("rule {id}"),
            Origin {
                format: RuleFormat::Sigma,
                path: format!("{id}.yml"),
                root: "repo".into(),
            },
        );
        r.content_hash = hash.into();
        r
    }

    fn apply(state: &mut State, plan: &ImportPlan) {
        for (i, e) in plan.events.iter().enumerate() {
            let at = "2026-03-01T00:00:00Z".parse().unwrap();
            state.apply(&JournalEntry::new(
                state.last_seq + 1 + i as u64,
                at,
                "t",
                e.clone(),
            ));
        }
    }

    #[test]
    fn reimport_of_the_same_rules_writes_nothing() {
        let mut state = State::default();
        let first = plan_rule_import(
            &state.rules,
            "repo",
            vec![rule("a", "1"), rule("b", "1")],
            true,
        );
        assert_eq!((first.new, first.events.len()), (2, 2));
        apply(&mut state, &first);
        let again = plan_rule_import(
            &state.rules,
            "repo",
            vec![rule("a", "1"), rule("b", "1")],
            true,
        );
        assert_eq!(again.events, vec![]);
        assert_eq!(again.unchanged, 2);
    }

    #[test]
    fn changed_rule_is_updated_and_missing_rule_retired_then_revived() {
        let mut state = State::default();
        let plan = plan_rule_import(
            &state.rules,
            "repo",
            vec![rule("a", "1"), rule("b", "1")],
            true,
        );
        apply(&mut state, &plan);
        let plan = plan_rule_import(&state.rules, "repo", vec![rule("a", "2")], true);
        assert_eq!((plan.updated, plan.retired), (1, 1));
        apply(&mut state, &plan);
        assert_eq!(
            state.rules[&RuleId("b".into())].rule.status,
            RuleStatus::Retired
        );
        let plan = plan_rule_import(
            &state.rules,
            "repo",
            vec![rule("a", "2"), rule("b", "1")],
            true,
        );
        assert_eq!((plan.revived, plan.unchanged), (1, 1));
    }

    #[test]
    fn other_roots_and_incomplete_imports_retire_nothing() {
        let mut state = State::default();
        let plan = plan_rule_import(&state.rules, "repo", vec![rule("a", "1")], true);
        apply(&mut state, &plan);
        assert_eq!(
            plan_rule_import(&state.rules, "other", vec![], true).retired,
            0
        );
        assert_eq!(
            plan_rule_import(&state.rules, "repo", vec![], false).retired,
            0
        );
    }

    #[test]
    fn duplicate_ids_keep_the_first() {
        let plan = plan_rule_import(
            &BTreeMap::new(),
            "repo",
            vec![rule("a", "1"), rule("a", "2")],
            true,
        );
        assert_eq!(plan.new, 1);
        assert_eq!(plan.duplicates, vec![RuleId("a".into())]);
    }
}
