//! Property tests of the coverage rule on generated journals over the fixture catalog.
//!
//! Sources are declared when the workspace starts and may later be removed or fall silent;
//! rules are imported, re-imported with new content, disabled, tuned; results arrive at any
//! time. (A source redeclared later to provide *more* is left out of the generator: a pass
//! recorded before any source provided the rule's data is taken at face value, so adding a pass
//! after such a redeclaration can compare differently — by design, see `Inventory::loss_since`.)

mod common;

use attest_core::coverage::{self, Catalog, Coverage, CoverageState, Scope};
use attest_core::journal::Event;
use attest_core::result::Outcome;
use attest_core::rule::{RuleId, RuleStatus, Tuning, TuningKind};
use common::*;
use proptest::prelude::*;

const TECHNIQUES: [&str; 7] = [
    "T1003",
    "T1003.001",
    "T1003.008",
    "T1059",
    "T1059.001",
    "T1078",
    "T1086",
];
const COMPONENTS: [&str; 3] = ["Process Access", "Process Creation", "Command Execution"];

#[derive(Debug, Clone)]
struct GenSource {
    components: Vec<usize>,
    silence_bound: bool,
    seen_day: Option<u8>,
    removed_day: Option<u8>,
}

#[derive(Debug, Clone)]
struct GenRule {
    claims: Vec<usize>,
    deps: Vec<usize>,
    changed_day: Option<u8>,
    disabled_day: Option<u8>,
    tuned_day: Option<u8>,
}

#[derive(Debug, Clone)]
struct GenResult {
    rule: usize,
    claim: usize,
    pass: bool,
    day: u8,
}

#[derive(Debug, Clone)]
struct Scenario {
    sources: Vec<GenSource>,
    rules: Vec<GenRule>,
    results: Vec<GenResult>,
}

fn day_opt() -> impl Strategy<Value = Option<u8>> {
    prop::option::weighted(0.3, 1u8..40)
}

fn scenario() -> impl Strategy<Value = Scenario> {
    let source = (
        prop::collection::vec(0..COMPONENTS.len(), 0..3),
        any::<bool>(),
        prop::option::of(0u8..40),
        day_opt(),
    )
        .prop_map(
            |(components, silence_bound, seen_day, removed_day)| GenSource {
                components,
                silence_bound,
                seen_day,
                removed_day,
            },
        );
    let rule = (
        prop::collection::vec(0..TECHNIQUES.len(), 1..3),
        prop::collection::vec(0..COMPONENTS.len(), 0..2),
        day_opt(),
        day_opt(),
        day_opt(),
    )
        .prop_map(
            |(claims, deps, changed_day, disabled_day, tuned_day)| GenRule {
                claims,
                deps,
                changed_day,
                disabled_day,
                tuned_day,
            },
        );
    (
        prop::collection::vec(source, 0..4),
        prop::collection::vec(rule, 1..5),
        prop::collection::vec((0usize..5, 0usize..3, any::<bool>(), 1u8..40), 0..10),
    )
        .prop_map(|(sources, rules, results)| {
            let results = results
                .into_iter()
                .map(|(rule, claim, pass, day)| GenResult {
                    rule: rule % rules.len(),
                    claim,
                    pass,
                    day,
                })
                .collect();
            Scenario {
                sources,
                rules,
                results,
            }
        })
}

fn start() -> jiff::Timestamp {
    ts("2026-01-01T00:00:00Z")
}

fn now() -> jiff::Timestamp {
    start() + days(40)
}

fn rule_id(i: usize) -> String {
    format!("r{i}")
}

fn claim_of(s: &Scenario, r: usize, c: usize) -> &'static str {
    let claims = &s.rules[r].claims;
    TECHNIQUES[claims[c % claims.len()]]
}

/// The scenario as a journal, entries in time order.
fn journal(s: &Scenario) -> Journal {
    let t0 = start();
    let at = |d: u8| t0 + days(i64::from(d));
    let mut timed: Vec<(jiff::Timestamp, Event)> = Vec::new();
    for (i, g) in s.sources.iter().enumerate() {
        let comps: Vec<&str> = g.components.iter().map(|&c| COMPONENTS[c]).collect();
        let mut src = source(&format!("s{i}"), &comps, &[]);
        src.max_silence = g.silence_bound.then(|| days(3));
        let name = src.name.clone();
        timed.push((t0, Event::SourceUpserted(src)));
        if let Some(d) = g.seen_day {
            timed.push((
                at(d),
                Event::SourceSeen {
                    name: name.clone(),
                    at: at(d),
                },
            ));
        }
        if let Some(d) = g.removed_day {
            timed.push((at(d), Event::SourceRemoved { name }));
        }
    }
    for (i, g) in s.rules.iter().enumerate() {
        let claims: Vec<&str> = g.claims.iter().map(|&c| TECHNIQUES[c]).collect();
        let deps: Vec<&str> = g.deps.iter().map(|&c| COMPONENTS[c]).collect();
        let r = rule(&rule_id(i), &claims, &deps);
        timed.push((t0, Event::RuleUpserted(r.clone())));
        if let Some(d) = g.changed_day {
            let mut changed = r;
            changed.content_hash = format!("{}-v2", rule_id(i));
            timed.push((at(d), Event::RuleUpserted(changed)));
        }
        if let Some(d) = g.disabled_day {
            timed.push((
                at(d),
                Event::RuleStatusChanged {
                    id: RuleId(rule_id(i)),
                    status: RuleStatus::Disabled,
                },
            ));
        }
        if let Some(d) = g.tuned_day {
            timed.push((
                at(d),
                Event::RuleTuned {
                    id: RuleId(rule_id(i)),
                    tuning: Tuning {
                        kind: TuningKind::Exclusion,
                        what: "host=x".into(),
                        reason: "noise".into(),
                        author: "a".into(),
                        at: at(d),
                    },
                },
            ));
        }
    }
    for r in &s.results {
        let outcome = if r.pass { Outcome::Pass } else { Outcome::Fail };
        let t = claim_of(s, r.rule, r.claim);
        timed.push((
            at(r.day),
            Event::ResultRecorded(result(&rule_id(r.rule), t, outcome, at(r.day))),
        ));
    }
    timed.sort_by_key(|(t, _)| *t);
    let mut j = Journal::default();
    for (t, e) in timed {
        j.push(t, e);
    }
    j
}

fn states(c: &Coverage) -> Vec<(String, CoverageState)> {
    c.techniques
        .iter()
        .map(|t| (t.technique.to_string(), t.state))
        .collect()
}

fn compute(cat: &Catalog, j: &Journal) -> Coverage {
    coverage::compute(cat, &j.state(), &Scope::all(), now())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn adding_a_passing_result_never_makes_a_technique_worse(
        s in scenario(), r in 0usize..5, c in 0usize..3, day in 1u8..40,
    ) {
        let cat = catalog();
        let mut j = journal(&s);
        let before = compute(&cat, &j);
        let r = r % s.rules.len();
        let t = claim_of(&s, r, c);
        j.push(now(), Event::ResultRecorded(result(&rule_id(r), t, Outcome::Pass, start() + days(i64::from(day)))));
        let after = compute(&cat, &j);
        for ((id, b), (_, a)) in states(&before).into_iter().zip(states(&after)) {
            prop_assert!(a.rank() <= b.rank(), "{id}: {b:?} -> {a:?}");
        }
    }

    #[test]
    fn disabling_the_only_rule_never_leaves_a_technique_validated(s in scenario()) {
        let cat = catalog();
        let mut j = journal(&s);
        let before = compute(&cat, &j);
        let mut only: Vec<(String, RuleId)> = Vec::new();
        for t in &before.techniques {
            let live: Vec<&RuleId> = t.rules.iter().filter(|r| r.status != RuleStatus::Retired).map(|r| &r.rule).collect();
            if let [one] = live.as_slice() {
                only.push((t.technique.to_string(), (*one).clone()));
            }
        }
        for (_, rule) in &only {
            j.push(now(), Event::RuleStatusChanged { id: rule.clone(), status: RuleStatus::Disabled });
        }
        let after = compute(&cat, &j);
        for (t, rule) in only {
            let state = after.technique(tid(&t)).map(|x| x.state);
            prop_assert_ne!(state, Some(CoverageState::Validated), "{} still validated with {} disabled", t, rule);
            prop_assert_eq!(state, Some(CoverageState::Degraded));
        }
    }

    #[test]
    fn a_parent_tag_never_changes_a_subtechnique(s in scenario(), pass in any::<bool>()) {
        let cat = catalog();
        let mut j = journal(&s);
        let before = compute(&cat, &j);
        j.push(now(), Event::RuleUpserted(rule("parent-tagged", &["T1003", "T1059"], &[])));
        let outcome = if pass { Outcome::Pass } else { Outcome::Fail };
        for t in ["T1003", "T1059", "T1003.001", "T1059.001"] {
            j.push(now(), Event::ResultRecorded(result("parent-tagged", t, outcome, now())));
        }
        let after = compute(&cat, &j);
        for sub in ["T1003.001", "T1003.008", "T1059.001"] {
            prop_assert_eq!(before.technique(tid(sub)), after.technique(tid(sub)), "{}", sub);
        }
    }

    #[test]
    fn the_same_journal_gives_the_same_answer(s in scenario(), r in 0usize..5, c in 0usize..3) {
        let cat = catalog();
        let mut j = journal(&s);
        let a = compute(&cat, &j);
        let b = compute(&cat, &journal(&s));
        prop_assert_eq!(&a, &b);
        // And an incremental update after one result equals a full computation.
        let scope = Scope::all();
        let state = j.state();
        let ix = coverage::index(&cat, &state, &scope);
        let mut inc = coverage::compute_indexed(&ix, &cat, &state, &scope, now());
        let r = r % s.rules.len();
        j.push(now(), Event::ResultRecorded(result(&rule_id(r), claim_of(&s, r, c), Outcome::Pass, now())));
        let state = j.state();
        coverage::update_rule(&mut inc, &ix, &cat, &state, &scope, now(), &RuleId(rule_id(r)));
        prop_assert_eq!(inc, coverage::compute(&cat, &state, &scope, now()));
    }
}
