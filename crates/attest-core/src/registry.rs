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

/// Claimed technique ids the release does not know, and revoked ones written `old→new`: what an
/// import reports about its claims (the CLI's summary and the API's answer).
pub fn classify_claims(
    kb: &attest_attack::KnowledgeBase,
    claimed: &BTreeSet<String>,
) -> (Vec<String>, Vec<String>) {
    use attest_attack::{Resolution, TechniqueId};
    let mut unknown = Vec::new();
    let mut revoked = Vec::new();
    for c in claimed {
        let Ok(id) = TechniqueId::parse(c) else {
            unknown.push(c.clone());
            continue;
        };
        match kb.resolve_technique(id) {
            Resolution::Unknown { .. } => unknown.push(c.clone()),
            Resolution::Revoked { replacement, .. } => revoked.push(match replacement {
                Some(r) => format!("{c}→{}", r.id),
                None => c.clone(),
            }),
            _ => {}
        }
    }
    (unknown, revoked)
}

/// Data components ATT&CK says these log sources provide, in catalogue order, without repeats:
/// what a source declared with log sources only is taken to provide.
pub fn derive_components(
    kb: &attest_attack::KnowledgeBase,
    log_sources: &[crate::source::LogSourceRef],
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for ls in log_sources {
        for dc in kb.data_components_for_log_source(&ls.name, ls.channel.as_deref()) {
            if !out.contains(&dc.meta.name) {
                out.push(dc.meta.name.clone());
            }
        }
    }
    out
}

/// Gives every declared source that names log sources but no data component the components
/// ATT&CK says those log sources provide (what `attest sources apply` and `PUT
/// /api/v1/inventory` both do before planning).
pub fn fill_components(
    kb: &attest_attack::KnowledgeBase,
    declared: &mut [crate::source::DataSource],
) {
    for s in declared.iter_mut().filter(|s| s.components.is_empty()) {
        s.components = derive_components(kb, &s.log_sources);
    }
}

/// What importing a test catalogue will do.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TestImportPlan {
    /// Events to append, in one transaction.
    pub events: Vec<Event>,
    /// Tests seen for the first time.
    pub new: usize,
    /// Tests whose definition changed.
    pub changed: usize,
    /// Tests exactly as recorded (no event).
    pub unchanged: usize,
}

/// Plans recording `tests` given the catalogue's `existing` tests: only new or changed tests
/// are journaled, so a re-import writes nothing.
pub fn plan_test_import(
    existing: &[crate::test::Test],
    tests: &[crate::test::Test],
) -> TestImportPlan {
    let mut plan = TestImportPlan::default();
    for t in tests {
        match existing.iter().find(|e| e.id == t.id) {
            None => plan.new += 1,
            Some(e) if e == t => {
                plan.unchanged += 1;
                continue;
            }
            Some(_) => plan.changed += 1,
        }
        plan.events.push(Event::TestUpserted(t.clone()));
    }
    plan
}

/// Which registered rules a validation import can credit: technique (as claimed) → the rules
/// claiming it, and title → rule, over every rule that is not retired. Atomic logs joined with
/// alerts, VECTR exports and the API's uploads all assign results through this.
pub fn claims_index<'a>(
    rules: impl IntoIterator<Item = &'a Rule>,
) -> (BTreeMap<String, Vec<RuleId>>, BTreeMap<String, RuleId>) {
    let mut by_technique: BTreeMap<String, Vec<RuleId>> = BTreeMap::new();
    let mut by_name = BTreeMap::new();
    for rule in rules {
        if rule.status == RuleStatus::Retired {
            continue;
        }
        for t in &rule.techniques {
            by_technique
                .entry(t.clone())
                .or_default()
                .push(rule.id.clone());
        }
        by_name.insert(rule.title.clone(), rule.id.clone());
    }
    (by_technique, by_name)
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

/// What applying a declared inventory will do.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InventoryPlan {
    /// Events to append, in one transaction.
    pub events: Vec<crate::journal::Event>,
    /// Sources added.
    pub added: Vec<String>,
    /// Sources whose declaration changed.
    pub changed: Vec<String>,
    /// Sources removed (in the workspace, not in the file).
    pub removed: Vec<String>,
    /// Sources declared exactly as they are.
    pub unchanged: usize,
}

/// Plans making the inventory equal to `desired` (inventory as code). Heartbeats are not part of
/// a declaration, so a source that differs only in `last_seen` is unchanged; with `prune`, sources
/// missing from `desired` are removed.
pub fn plan_inventory_apply(
    existing: &[crate::source::DataSource],
    desired: Vec<crate::source::DataSource>,
    prune: bool,
) -> InventoryPlan {
    use crate::journal::Event;
    let mut plan = InventoryPlan::default();
    let mut declared = BTreeSet::new();
    for mut source in desired {
        declared.insert(source.name.clone());
        match existing.iter().find(|e| e.name == source.name) {
            None => {
                plan.added.push(source.name.clone());
                plan.events.push(Event::SourceUpserted(source));
            }
            Some(old) => {
                source.last_seen = old.last_seen;
                if *old == source {
                    plan.unchanged += 1;
                } else {
                    plan.changed.push(source.name.clone());
                    plan.events.push(Event::SourceUpserted(source));
                }
            }
        }
    }
    if prune {
        for old in existing {
            if !declared.contains(&old.name) {
                plan.removed.push(old.name.clone());
                plan.events.push(Event::SourceRemoved {
                    name: old.name.clone(),
                });
            }
        }
    }
    plan
}

#[cfg(test)]
mod inventory_tests {
    use super::*;
    use crate::source::DataSource;

    #[test]
    fn applying_the_same_inventory_twice_is_a_no_op_and_missing_sources_are_pruned() {
        let mut a = DataSource::new("a");
        a.components.push("Process Creation".into());
        let b = DataSource::new("b");
        let plan = plan_inventory_apply(&[], vec![a.clone(), b.clone()], true);
        assert_eq!(plan.added, vec!["a", "b"]);
        let mut seen_a = a.clone();
        seen_a.last_seen = Some("2026-01-01T00:00:00Z".parse().unwrap());
        let existing = vec![seen_a, b.clone()];
        let again = plan_inventory_apply(&existing, vec![a.clone(), b.clone()], true);
        assert!(again.events.is_empty());
        assert_eq!(again.unchanged, 2);
        let mut a2 = a.clone();
        a2.components.push("Module Load".into());
        let next = plan_inventory_apply(&existing, vec![a2], true);
        assert_eq!(
            (next.changed.clone(), next.removed.clone()),
            (vec!["a".to_string()], vec!["b".to_string()])
        );
        assert_eq!(
            plan_inventory_apply(&existing, vec![], false).removed.len(),
            0
        );
    }
}

#[cfg(test)]
mod catalogue_tests {
    use super::*;
    use crate::rule::Origin;
    use crate::test::{Test, TestKind};

    fn test(id: &str, name: &str) -> Test {
        Test {
            id: id.into(),
            kind: TestKind::Atomic,
            techniques: vec!["T1003.001".into()],
            name: name.into(),
            platforms: vec!["windows".into()],
            executor: Some("powershell".into()),
            elevation_required: false,
        }
    }

    #[test]
    fn a_test_import_journals_only_new_and_changed_tests() {
        let first = plan_test_import(&[], &[test("a", "one"), test("b", "two")]);
        assert_eq!((first.new, first.changed, first.unchanged), (2, 0, 0));
        assert_eq!(first.events.len(), 2);
        let existing = [test("a", "one"), test("b", "two")];
        let again = plan_test_import(&existing, &[test("a", "one"), test("b", "renamed")]);
        assert_eq!((again.new, again.changed, again.unchanged), (0, 1, 1));
        assert!(
            matches!(&again.events[..], [Event::TestUpserted(t)] if t.name == "renamed"),
            "{:?}",
            again.events
        );
    }

    #[test]
    fn retired_rules_are_credited_nothing() {
        let origin = Origin {
            format: crate::rule::RuleFormat::Sigma,
            path: "x.yml".into(),
            root: "r".into(),
        };
        let mut live = Rule::new("live", "Live rule", origin.clone());
        live.techniques = vec!["T1003.001".into()];
        let mut gone = Rule::new("gone", "Gone rule", origin);
        gone.techniques = vec!["T1003.001".into(), "T1059".into()];
        gone.status = RuleStatus::Retired;
        let (by_technique, by_name) = claims_index([&live, &gone]);
        assert_eq!(
            by_technique.get("T1003.001"),
            Some(&vec![RuleId("live".into())])
        );
        assert!(!by_technique.contains_key("T1059"));
        assert_eq!(by_name.get("Live rule"), Some(&RuleId("live".into())));
        assert!(!by_name.contains_key("Gone rule"));
    }
}
