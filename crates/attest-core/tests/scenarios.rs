//! Scenario tests: one technique walked through every coverage state, each with its reason
//! asserted, plus the rules of DESIGN.md §3 that hold across techniques.

mod common;

use attest_core::coverage::{
    self, Coverage, CoverageState, DependencyState, Reason, Scope, TechniqueCoverage, Unresolved,
    View,
};
use attest_core::journal::{Event, Policy};
use attest_core::result::Outcome;
use attest_core::rule::{Dependency, RuleId, RuleStatus, Tuning, TuningKind};
use attest_core::validation::{Invalidation, ValidationKind, ValidationStatus};
use common::*;

const LSASS: &str = "T1003.001";

fn at(cov: &Coverage, t: &str) -> TechniqueCoverage {
    match cov.technique(tid(t)) {
        Some(t) => t.clone(),
        None => panic!("{t} not in coverage"),
    }
}

fn kinds(t: &TechniqueCoverage) -> Vec<&'static str> {
    t.reasons.iter().map(Reason::kind).collect()
}

fn heartbeat(j: &mut Journal, name: &str, when: jiff::Timestamp) {
    j.push(
        when,
        Event::SourceSeen {
            name: name.into(),
            at: when,
        },
    );
}

#[test]
fn one_technique_walks_through_every_state_with_its_reason() {
    let cat = catalog();
    let scope = Scope::all();
    let mut j = Journal::default();
    let t0 = ts("2026-01-01T00:00:00Z");
    let compute = |j: &Journal, now| coverage::compute(&cat, &j.state(), &scope, now);

    // 1. Nothing claims it: gap.
    let c = compute(&j, t0);
    let t = at(&c, LSASS);
    assert_eq!(t.state, CoverageState::Gap);
    assert_eq!(t.reasons, vec![Reason::NoRule]);
    assert_eq!(t.state.view(), View::Gap);

    // 2. A rule claims it but its data component is provided by nothing: degraded.
    j.push(
        t0,
        Event::RuleUpserted(rule("r1", &[LSASS], &["Process Access"])),
    );
    let c = compute(&j, t0);
    let t = at(&c, LSASS);
    assert_eq!(t.state, CoverageState::Degraded);
    assert_eq!(
        t.reasons,
        vec![Reason::SourceMissing {
            rule: RuleId("r1".into()),
            dependency: Dependency::Component("Process Access".into()),
        }]
    );
    assert_eq!(t.state.view(), View::InProgress);

    // 3. Sysmon arrives and is seen: usable, untested.
    let t1 = t0 + days(1);
    j.push(
        t1,
        Event::SourceUpserted(source("sysmon", &["Process Access"], &["Windows"])),
    );
    heartbeat(&mut j, "sysmon", t1);
    let c = compute(&j, t1);
    let t = at(&c, LSASS);
    assert_eq!(t.state, CoverageState::Unvalidated);
    assert_eq!(kinds(&t), ["untested"]);

    // 4. A pass: validated, fresh for 90 days.
    let t2 = t0 + days(2);
    j.push(
        t2,
        Event::ResultRecorded(result("r1", LSASS, Outcome::Pass, t2)),
    );
    heartbeat(&mut j, "sysmon", t2);
    let c = compute(&j, t2);
    let t = at(&c, LSASS);
    assert_eq!(t.state, CoverageState::Validated);
    assert!(t.reasons.is_empty(), "{:?}", t.reasons);
    assert_eq!(
        t.rules[0].validation.status,
        ValidationStatus::Passing {
            passed_at: t2,
            fresh_until: t2 + days(90)
        }
    );

    // 5. 91 days later (source still alive): stale.
    let t3 = t2 + days(91);
    heartbeat(&mut j, "sysmon", t3);
    let c = compute(&j, t3);
    let t = at(&c, LSASS);
    assert_eq!(t.state, CoverageState::Unvalidated);
    assert_eq!(
        t.reasons,
        vec![Reason::Stale {
            rule: RuleId("r1".into()),
            passed_at: t2,
            expired_at: t2 + days(90),
        }]
    );

    // 6. Re-tested, then a suppression is added: suppressed since test.
    let t4 = t3 + days(1);
    j.push(
        t4,
        Event::ResultRecorded(result("r1", LSASS, Outcome::Pass, t4)),
    );
    heartbeat(&mut j, "sysmon", t4);
    assert_eq!(at(&compute(&j, t4), LSASS).state, CoverageState::Validated);
    let t5 = t4 + days(1);
    j.push(
        t5,
        Event::RuleTuned {
            id: RuleId("r1".into()),
            tuning: Tuning {
                kind: TuningKind::Suppression,
                what: "host=backup01".into(),
                reason: "noisy backup agent".into(),
                author: "bob".into(),
                at: t5,
            },
        },
    );
    heartbeat(&mut j, "sysmon", t5);
    let t = at(&compute(&j, t5), LSASS);
    assert_eq!(t.state, CoverageState::Unvalidated);
    assert_eq!(kinds(&t), ["suppressed-since-test"]);

    // 7. Re-tested, then the rule's content changes: invalidated.
    let t6 = t5 + days(1);
    j.push(
        t6,
        Event::ResultRecorded(result("r1", LSASS, Outcome::Pass, t6)),
    );
    heartbeat(&mut j, "sysmon", t6);
    assert_eq!(at(&compute(&j, t6), LSASS).state, CoverageState::Validated);
    let t7 = t6 + days(1);
    let mut changed = rule("r1", &[LSASS], &["Process Access"]);
    changed.content_hash = "r1-v2".into();
    j.push(t7, Event::RuleUpserted(changed));
    heartbeat(&mut j, "sysmon", t7);
    let t = at(&compute(&j, t7), LSASS);
    assert_eq!(t.state, CoverageState::Unvalidated);
    assert_eq!(
        t.reasons,
        vec![Reason::Invalidated {
            rule: RuleId("r1".into()),
            result_at: t6,
            cause: Invalidation::ContentChanged { at: t7 },
        }]
    );

    // 8. Re-tested, then Sysmon goes silent: degraded, and the pass is invalidated.
    let t8 = t7 + days(1);
    j.push(
        t8,
        Event::ResultRecorded(result("r1", LSASS, Outcome::Pass, t8)),
    );
    heartbeat(&mut j, "sysmon", t8);
    assert_eq!(at(&compute(&j, t8), LSASS).state, CoverageState::Validated);
    let t9 = t8 + days(3);
    let t = at(&compute(&j, t9), LSASS);
    assert_eq!(t.state, CoverageState::Degraded);
    assert_eq!(
        t.reasons,
        vec![Reason::SourceSilent {
            rule: RuleId("r1".into()),
            dependency: Dependency::Component("Process Access".into()),
            source: "sysmon".into(),
            since: Some(t8 + days(1)),
        }]
    );
    assert_eq!(
        t.rules[0].validation.status.kind(),
        ValidationKind::Invalidated,
        "{:?}",
        t.rules[0].validation
    );

    // 9. Sysmon is back: the pass stands again (silence is not a change to the rule).
    heartbeat(&mut j, "sysmon", t9);
    assert_eq!(at(&compute(&j, t9), LSASS).state, CoverageState::Validated);

    // 10. A failing run: failing.
    let t10 = t9 + days(1);
    j.push(
        t10,
        Event::ResultRecorded(result("r1", LSASS, Outcome::Fail, t10)),
    );
    // Errors and skips after it say nothing about the rule.
    j.push(
        t10,
        Event::ResultRecorded(result("r1", LSASS, Outcome::Error, t10 + days(1))),
    );
    heartbeat(&mut j, "sysmon", t10 + days(1));
    let t = at(&compute(&j, t10 + days(1)), LSASS);
    assert_eq!(t.state, CoverageState::Failing);
    assert_eq!(
        t.reasons,
        vec![Reason::Failing {
            rule: RuleId("r1".into()),
            failed_at: t10
        }]
    );

    // 11. Disabled by hand: degraded.
    let t11 = t10 + days(1);
    j.push(
        t11,
        Event::RuleStatusChanged {
            id: RuleId("r1".into()),
            status: RuleStatus::Disabled,
        },
    );
    let t = at(&compute(&j, t11), LSASS);
    assert_eq!(t.state, CoverageState::Degraded);
    assert_eq!(kinds(&t), ["rule-disabled"]);

    // 12. Retired: gap again, with the retired rule named.
    j.push(
        t11,
        Event::RuleRetired {
            id: RuleId("r1".into()),
        },
    );
    let t = at(&compute(&j, t11), LSASS);
    assert_eq!(t.state, CoverageState::Gap);
    assert_eq!(
        t.reasons,
        vec![
            Reason::NoRule,
            Reason::RuleRetired {
                rule: RuleId("r1".into())
            }
        ]
    );
}

/// A journal with Sysmon healthy and rule r1 passing on LSASS at `t0 + 1 day`.
fn passing_journal() -> (Journal, jiff::Timestamp) {
    let t0 = ts("2026-03-01T00:00:00Z");
    let mut j = Journal::default();
    j.push(
        t0,
        Event::SourceUpserted(source("sysmon", &["Process Access"], &["Windows"])),
    );
    j.push(
        t0,
        Event::RuleUpserted(rule("r1", &[LSASS], &["Process Access"])),
    );
    let t1 = t0 + days(1);
    j.push(
        t1,
        Event::ResultRecorded(result("r1", LSASS, Outcome::Pass, t1)),
    );
    heartbeat(&mut j, "sysmon", t1);
    (j, t1)
}

#[test]
fn removing_the_source_behind_a_pass_degrades_and_invalidates() {
    let cat = catalog();
    let (mut j, t1) = passing_journal();
    let t2 = t1 + days(1) - jiff::SignedDuration::from_hours(1);
    j.push(
        t2,
        Event::SourceRemoved {
            name: "sysmon".into(),
        },
    );
    let c = coverage::compute(&cat, &j.state(), &Scope::all(), t2);
    let t = at(&c, LSASS);
    assert_eq!(t.state, CoverageState::Degraded);
    assert_eq!(kinds(&t), ["source-missing"]);
    assert_eq!(
        t.rules[0].validation.status,
        ValidationStatus::Invalidated {
            result_at: t1,
            outcome: Outcome::Pass,
            cause: Invalidation::SourceRemoved {
                source: "sysmon".into(),
                at: t2
            },
        }
    );
}

#[test]
fn a_replacement_source_keeps_the_rule_usable_but_the_pass_is_invalidated() {
    let cat = catalog();
    let (mut j, t1) = passing_journal();
    let t2 = t1 + jiff::SignedDuration::from_hours(2);
    let mut edr = source("edr", &["Process Access"], &["Windows"]);
    edr.max_silence = None;
    j.push(t2, Event::SourceUpserted(edr));
    // Sysmon is redeclared without the component: it no longer provides what r1 needs.
    j.push(
        t2,
        Event::SourceUpserted(source("sysmon", &["Network Traffic"], &["Windows"])),
    );
    let c = coverage::compute(&cat, &j.state(), &Scope::all(), t2);
    let t = at(&c, LSASS);
    assert_eq!(t.state, CoverageState::Unvalidated);
    assert_eq!(
        t.reasons,
        vec![Reason::Invalidated {
            rule: RuleId("r1".into()),
            result_at: t1,
            cause: Invalidation::SourceChanged {
                source: "sysmon".into(),
                at: t2
            },
        }]
    );
    // The rule is usable through the EDR.
    let r = c
        .rule(&RuleId("r1".into()))
        .map(|r| c.dependencies_of(r).cloned().collect::<Vec<_>>());
    assert_eq!(
        r,
        Some(vec![(
            Dependency::Component("Process Access".into()),
            DependencyState::Satisfied {
                by: vec!["edr".into()]
            }
        )])
    );
}

#[test]
fn results_uploaded_after_the_first_import_are_not_invalidated_by_it() {
    let cat = catalog();
    let t0 = ts("2026-03-01T00:00:00Z");
    let mut j = Journal::default();
    let mut s = source("sysmon", &["Process Access"], &["Windows"]);
    s.max_silence = None;
    j.push(t0, Event::SourceUpserted(s));
    // Last month's run, imported together with the rule today.
    j.push(
        t0,
        Event::RuleUpserted(rule("r1", &[LSASS], &["Process Access"])),
    );
    j.push(
        t0,
        Event::ResultRecorded(result("r1", LSASS, Outcome::Pass, t0 - days(30))),
    );
    let c = coverage::compute(&cat, &j.state(), &Scope::all(), t0);
    assert_eq!(at(&c, LSASS).state, CoverageState::Validated);
}

#[test]
fn failing_needs_every_usable_rule_to_fail_and_a_content_change_clears_a_fail() {
    let cat = catalog();
    let (mut j, t1) = passing_journal();
    let t2 = t1 + days(1);
    heartbeat(&mut j, "sysmon", t2);
    j.push(
        t2,
        Event::RuleUpserted(rule("r2", &[LSASS], &["Process Access"])),
    );
    j.push(
        t2,
        Event::ResultRecorded(result("r1", LSASS, Outcome::Fail, t2)),
    );
    let c = coverage::compute(&cat, &j.state(), &Scope::all(), t2);
    let t = at(&c, LSASS);
    // r1 fails, r2 is untested: not every usable rule fails.
    assert_eq!(t.state, CoverageState::Unvalidated);
    assert_eq!(kinds(&t), ["failing", "untested"]);
    j.push(
        t2,
        Event::ResultRecorded(result("r2", LSASS, Outcome::Fail, t2)),
    );
    let t = at(
        &coverage::compute(&cat, &j.state(), &Scope::all(), t2),
        LSASS,
    );
    assert_eq!(t.state, CoverageState::Failing);
    // r1 is fixed: its fail no longer stands.
    let mut fixed = rule("r1", &[LSASS], &["Process Access"]);
    fixed.content_hash = "r1-v2".into();
    let t3 = t2 + jiff::SignedDuration::from_hours(1);
    j.push(t3, Event::RuleUpserted(fixed));
    let t = at(
        &coverage::compute(&cat, &j.state(), &Scope::all(), t3),
        LSASS,
    );
    assert_eq!(t.state, CoverageState::Unvalidated);
    assert_eq!(kinds(&t), ["invalidated", "failing"]);
}

#[test]
fn a_parent_tag_covers_the_parent_only_and_counts_validated_subtechniques() {
    let cat = catalog();
    let t0 = ts("2026-03-01T00:00:00Z");
    let mut j = Journal::default();
    j.push(t0, Event::RuleUpserted(rule("parent", &["T1003"], &[])));
    j.push(
        t0,
        Event::ResultRecorded(result("parent", "T1003", Outcome::Pass, t0)),
    );
    // A result for a sub-technique the rule does not claim does not count either.
    j.push(
        t0,
        Event::ResultRecorded(result("parent", LSASS, Outcome::Pass, t0)),
    );
    j.push(t0, Event::RuleUpserted(rule("sub", &[LSASS], &[])));
    j.push(
        t0,
        Event::ResultRecorded(result("sub", LSASS, Outcome::Pass, t0)),
    );
    let c = coverage::compute(&cat, &j.state(), &Scope::all(), t0);
    let parent = at(&c, "T1003");
    assert_eq!(parent.state, CoverageState::Validated);
    assert_eq!(
        parent.subtechniques.map(|s| (s.validated, s.total)),
        Some((1, 2))
    );
    assert_eq!(at(&c, "T1003.008").state, CoverageState::Gap);
    let lsass = at(&c, LSASS);
    assert_eq!(lsass.rules.len(), 1);
    assert_eq!(lsass.rules[0].rule, RuleId("sub".into()));
    // On Linux only T1003.008 of the two sub-techniques is in scope.
    let linux = coverage::compute(&cat, &j.state(), &Scope::platform("linux"), t0);
    assert!(linux.technique(tid(LSASS)).is_none());
    assert_eq!(
        at(&linux, "T1003")
            .subtechniques
            .map(|s| (s.validated, s.total)),
        Some((0, 1))
    );
}

#[test]
fn revoked_and_unknown_claims_are_mapped_or_reported() {
    let cat = catalog();
    let t0 = ts("2026-03-01T00:00:00Z");
    let mut j = Journal::default();
    j.push(
        t0,
        Event::RuleUpserted(rule("old", &["T1086", "T1099", "T9999", "X1"], &[])),
    );
    // Results recorded under the old id count for the replacement too.
    j.push(
        t0,
        Event::ResultRecorded(result("old", "T1086", Outcome::Pass, t0)),
    );
    let c = coverage::compute(&cat, &j.state(), &Scope::all(), t0);
    let ps = at(&c, "T1059.001");
    assert_eq!(ps.state, CoverageState::Validated);
    assert_eq!(ps.rules[0].remapped_from, Some(tid("T1086")));
    assert_eq!(c.claims.remapped.len(), 1);
    assert_eq!(c.claims.remapped[0].claimed, tid("T1086"));
    assert_eq!(c.claims.remapped[0].current, tid("T1059.001"));
    let why: Vec<(&str, &Unresolved)> = c
        .claims
        .unresolved
        .iter()
        .map(|u| (u.claimed.as_str(), &u.why))
        .collect();
    assert_eq!(
        why,
        vec![
            ("T1099", &Unresolved::Deprecated),
            ("T9999", &Unresolved::Unknown),
            ("X1", &Unresolved::Malformed)
        ]
    );
    // The parent T1059 is not covered by the sub-technique's claim.
    assert_eq!(at(&c, "T1059").state, CoverageState::Gap);
}

#[test]
fn telemetry_visibility_is_per_platform_and_scopes_restrict_sources() {
    let cat = catalog();
    let t0 = ts("2026-03-01T00:00:00Z");
    let mut j = Journal::default();
    let mut sec = source("security", &[], &["Windows"]);
    sec.max_silence = None;
    sec.log_sources = vec![attest_core::source::LogSourceRef::parse(
        "WinEventLog:Security",
    )];
    sec.scope = vec!["servers".into()];
    j.push(t0, Event::SourceUpserted(sec));
    let c = coverage::compute(&cat, &j.state(), &Scope::all(), t0);
    let ps = at(&c, "T1059.001");
    assert_eq!(ps.visibility.len(), 1);
    let v = &ps.visibility[0];
    assert_eq!(v.platform, "Windows");
    let comps: Vec<(&str, &[String])> = v
        .components
        .iter()
        .map(|c| (c.component.as_str(), c.provided_by.as_slice()))
        .collect();
    assert_eq!(
        comps,
        vec![
            ("Command Execution", &[][..]),
            ("Process Creation", &["security".to_string()][..])
        ]
    );
    assert_eq!(v.ratio(), (1, 2));
    // The source serves servers only: for workstations nothing is visible.
    let ws = coverage::compute(&cat, &j.state(), &Scope::system("workstations"), t0);
    assert_eq!(at(&ws, "T1059.001").visibility[0].ratio(), (0, 2));
}

#[test]
fn a_component_dependency_needs_a_source_on_the_scoped_platform() {
    let cat = catalog();
    let t0 = ts("2026-03-01T00:00:00Z");
    let mut j = Journal::default();
    let mut s = source("auditd", &["Process Access"], &["Linux"]);
    s.max_silence = None;
    j.push(t0, Event::SourceUpserted(s));
    j.push(
        t0,
        Event::RuleUpserted(rule("r1", &["T1003"], &["Process Access"])),
    );
    let all = coverage::compute(&cat, &j.state(), &Scope::all(), t0);
    assert_eq!(at(&all, "T1003").state, CoverageState::Unvalidated);
    let win = coverage::compute(&cat, &j.state(), &Scope::platform("Windows"), t0);
    assert_eq!(at(&win, "T1003").state, CoverageState::Degraded);
    assert_eq!(kinds(&at(&win, "T1003")), ["source-missing"]);
}

#[test]
fn policy_windows_per_technique_win_over_the_default() {
    let cat = catalog();
    let (mut j, t1) = passing_journal();
    let mut policy = Policy::default();
    policy.technique_windows.push((LSASS.into(), days(7)));
    j.push(t1, Event::PolicySet(policy));
    let now = t1 + days(8);
    heartbeat(&mut j, "sysmon", now);
    let t = at(
        &coverage::compute(&cat, &j.state(), &Scope::all(), now),
        LSASS,
    );
    assert_eq!(kinds(&t), ["stale"]);
}

#[test]
fn headline_counts_per_tactic_and_overall() {
    let cat = catalog();
    let (j, t1) = passing_journal();
    let c = coverage::compute(&cat, &j.state(), &Scope::all(), t1);
    // Six active techniques; LSASS validated.
    assert_eq!(c.overall.total(), 6);
    assert_eq!(c.overall.count(CoverageState::Validated), 1);
    assert_eq!(c.overall.count(CoverageState::Gap), 5);
    let tactics: Vec<(&str, usize, usize)> = c
        .tactics
        .iter()
        .map(|t| {
            (
                t.tactic.shortname.as_str(),
                t.tally.total(),
                t.tally.count(CoverageState::Validated),
            )
        })
        .collect();
    // Matrix order; T1078 counts in both persistence and credential access.
    assert_eq!(
        tactics,
        vec![
            ("execution", 2, 0),
            ("persistence", 1, 0),
            ("credential-access", 4, 1)
        ]
    );
}

#[test]
fn incremental_update_matches_a_full_computation() {
    let cat = catalog();
    let (mut j, t1) = passing_journal();
    j.push(
        t1,
        Event::RuleUpserted(rule("r2", &[LSASS, "T1003", "T1086"], &["Process Access"])),
    );
    let scope = Scope::all();
    let state = j.state();
    let ix = coverage::index(&cat, &state, &scope);
    let mut cov = coverage::compute_indexed(&ix, &cat, &state, &scope, t1);
    j.push(
        t1,
        Event::ResultRecorded(result("r2", "T1003", Outcome::Pass, t1)),
    );
    j.push(
        t1,
        Event::ResultRecorded(result("r2", "T1086", Outcome::Fail, t1)),
    );
    let state = j.state();
    coverage::update_rule(
        &mut cov,
        &ix,
        &cat,
        &state,
        &scope,
        t1,
        &RuleId("r2".into()),
    );
    let full = coverage::compute(&cat, &state, &scope, t1);
    assert_eq!(cov, full);
    assert_eq!(at(&cov, "T1003").state, CoverageState::Validated);
    assert_eq!(at(&cov, "T1059.001").state, CoverageState::Failing);
}

#[test]
fn rule_validations_list_every_claim_for_filters() {
    let cat = catalog();
    let (mut j, t1) = passing_journal();
    j.push(
        t1,
        Event::RuleUpserted(rule("r2", &["T1086", "T1003"], &["Process Access"])),
    );
    let now = t1 + days(100);
    heartbeat(&mut j, "sysmon", now);
    let list = coverage::rule_validations(&cat, &j.state(), now);
    let got: Vec<(String, String, ValidationKind)> = list
        .iter()
        .map(|(r, t, v)| (r.0.clone(), t.to_string(), v.status.kind()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("r1".into(), LSASS.into(), ValidationKind::Stale),
            ("r2".into(), "T1003".into(), ValidationKind::Untested),
            ("r2".into(), "T1059.001".into(), ValidationKind::Untested),
        ]
    );
}
