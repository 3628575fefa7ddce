//! Profiles → target sets, the backlog built from them, and coverage diffs between two instants.

mod common;

use std::collections::BTreeMap;

use attest_core::backlog::{self, BacklogOptions, ItemKind, NextStep, Ownership};
use attest_core::coverage::{self, CoverageState, Scope, UseVia};
use attest_core::diff::{self, Cause, Direction, EntryCause};
use attest_core::journal::Event;
use attest_core::priority::{self, ActorKind, PriorityOptions, TargetProblem};
use attest_core::profile::{Actor, ActorOrigin, ActorPaths, ActorTechnique, Profile, ProfileActor};
use attest_core::result::Outcome;
use attest_core::rule::{Dependency, RuleId, RuleStatus};
use attest_core::test::{Test, TestKind};
use common::*;

fn profile(actors: &[(&str, f64)], paths: ActorPaths) -> Profile {
    Profile {
        name: "finance".into(),
        actors: actors
            .iter()
            .map(|(a, w)| ProfileActor {
                actor: a.to_string(),
                weight: *w,
            })
            .collect(),
        paths,
        ..Profile::default()
    }
}

fn intel() -> BTreeMap<String, Actor> {
    let actor = Actor {
        id: "intel--fin7ish".into(),
        name: "Local Crew".into(),
        aliases: vec!["crew".into()],
        origin: ActorOrigin::Intel("tip.json".into()),
        techniques: vec![
            ActorTechnique {
                technique: "T1086".into(),
                weight: 2.0,
                low_confidence: false,
            },
            ActorTechnique {
                technique: "T4242".into(),
                weight: 1.0,
                low_confidence: true,
            },
        ],
    };
    BTreeMap::from([(actor.id.clone(), actor)])
}

#[test]
fn paths_actors_weights_and_exclusions_make_the_score() {
    let cat = catalog();
    let direct = priority::target_set(
        &cat,
        &intel(),
        &profile(
            &[("APT29", 1.0), ("fancy bear", 2.0)],
            ActorPaths::default(),
        ),
        &PriorityOptions::default(),
    );
    let got: Vec<(String, f64, usize, &str)> = direct
        .techniques
        .iter()
        .map(|t| {
            (
                t.technique.to_string(),
                t.score,
                t.actor_count(),
                t.tier.as_str(),
            )
        })
        .collect();
    // APT28 (weight 2) uses LSASS and Valid Accounts; APT29 (1) only Valid Accounts directly.
    assert_eq!(
        got,
        vec![
            ("T1078".to_string(), 3.0, 2, "critical"),
            ("T1003.001".to_string(), 2.0, 1, "high")
        ]
    );

    let mut p = profile(
        &[("G0016", 1.0), ("crew", 0.5), ("nobody", 1.0)],
        ActorPaths {
            via_software: true,
            via_campaigns: true,
        },
    );
    p.extra_techniques.push(("T1003.008".into(), 0.25));
    p.exclusions.push("T1078".into());
    p.platforms = vec!["Windows".into()];
    let t = priority::target_set(&cat, &intel(), &p, &PriorityOptions::default());
    let lsass = t
        .get(tid("T1003.001"))
        .map(|x| x.actors.clone())
        .unwrap_or_default();
    assert_eq!(lsass.len(), 1);
    assert_eq!(lsass[0].kind, ActorKind::AttackGroup);
    assert_eq!(lsass[0].via, vec![UseVia::Software("Mimikatz".into())]);
    // PowerShell: APT29 via the SolarWinds campaign (1) + the intel crew through the revoked
    // T1086 (0.5 × 2).
    let ps = t.get(tid("T1059.001")).map(|x| x.score);
    assert_eq!(ps, Some(2.0));
    // Hand-picked Linux technique stays although the profile is Windows-only.
    assert_eq!(t.get(tid("T1003.008")).map(|x| x.extra), Some(Some(0.25)));
    assert_eq!(t.excluded, vec![tid("T1078")]);
    assert!(t.problems.contains(&TargetProblem::UnknownActor {
        actor: "nobody".into()
    }));
    assert!(t.problems.contains(&TargetProblem::Remapped {
        origin: "intel--fin7ish".into(),
        technique: tid("T1086"),
        current: tid("T1059.001"),
    }));
    assert!(t.problems.iter().any(|p| matches!(p,
        TargetProblem::UnresolvedTechnique { technique, .. } if technique == "T4242")));
    let order: Vec<String> = t
        .techniques
        .iter()
        .map(|x| x.technique.to_string())
        .collect();
    assert_eq!(order, ["T1059.001", "T1003.001", "T1003.008"]);
}

#[test]
fn backlog_lists_every_unvalidated_priority_technique_with_owner_and_next_step() {
    let cat = catalog();
    let t0 = ts("2026-03-01T00:00:00Z");
    let mut j = Journal::default();
    j.push(
        t0,
        Event::TestUpserted(Test {
            id: "a1b2-guid".into(),
            kind: TestKind::Atomic,
            techniques: vec!["T1003.001".into()],
            name: "Dump LSASS with procdump".into(),
            platforms: vec!["windows".into()],
            executor: Some("command_prompt".into()),
            elevation_required: true,
        }),
    );
    j.push(
        t0,
        Event::RuleUpserted(rule("lsass", &["T1003.001"], &["Process Access"])),
    );
    j.push(t0, Event::RuleUpserted(rule("ps", &["T1059.001"], &[])));
    j.push(
        t0,
        Event::ResultRecorded(result("ps", "T1059.001", Outcome::Pass, t0 - days(80))),
    );
    let state = j.state();
    let p = profile(
        &[("APT29", 1.0)],
        ActorPaths {
            via_software: true,
            via_campaigns: true,
        },
    );
    let target = priority::target_set(&cat, &state.actors, &p, &PriorityOptions::default());
    let cov = coverage::compute(&cat, &state, &Scope::profile(target.clone()), t0);
    let owners = Ownership {
        techniques: vec![(tid("T1003"), "carol".into())],
        tactics: vec![("TA0002".into(), "dave".into())],
        default: Some("soc".into()),
    };
    let items = backlog::backlog(
        &cat,
        &state,
        &target,
        &cov,
        &owners,
        &BacklogOptions::default(),
        t0,
    );
    let summary: Vec<(String, Option<&str>, CoverageState, bool)> = items
        .iter()
        .map(|i| {
            (
                i.technique.to_string(),
                i.owner.as_deref(),
                i.state,
                matches!(i.kind, ItemKind::Due { .. }),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "T1003.001".into(),
                Some("carol"),
                CoverageState::Degraded,
                false
            ),
            (
                "T1059.001".into(),
                Some("dave"),
                CoverageState::Validated,
                true
            ),
            ("T1078".into(), Some("soc"), CoverageState::Gap, false),
        ]
    );
    assert_eq!(
        items[0].next,
        vec![NextStep::OnboardDataSource {
            dependency: Dependency::Component("Process Access".into()),
            rule: Some(RuleId("lsass".into())),
        }]
    );
    assert_eq!(
        items[1].kind,
        ItemKind::Due {
            expires: t0 + days(10)
        }
    );
    assert_eq!(items[2].next, vec![NextStep::WriteRule]);
    // Stable ids: from profile and technique only.
    assert_eq!(items[0].id, backlog::item_id("finance", tid("T1003.001")));
    assert_ne!(items[0].id, backlog::item_id("other", tid("T1003.001")));

    // Once the source exists, the next step is the Atomic test for the platform.
    j.push(
        t0,
        Event::SourceUpserted(source("sysmon", &["Process Access"], &[])),
    );
    j.push(
        t0,
        Event::SourceSeen {
            name: "sysmon".into(),
            at: t0,
        },
    );
    let state = j.state();
    let cov = coverage::compute(&cat, &state, &Scope::profile(target.clone()), t0);
    let items = backlog::backlog(
        &cat,
        &state,
        &target,
        &cov,
        &owners,
        &BacklogOptions::default(),
        t0,
    );
    assert_eq!(
        items[0].next,
        vec![NextStep::RunTest {
            test: "a1b2-guid".into(),
            rule: Some(RuleId("lsass".into())),
        }]
    );
}

/// (technique, direction, from, to, number of causes).
type Brief = (
    String,
    Direction,
    Option<CoverageState>,
    Option<CoverageState>,
    usize,
);

#[test]
fn diff_lists_regressions_and_improvements_with_their_causes() {
    let cat = catalog();
    let t0 = ts("2026-03-01T00:00:00Z");
    let mut j = Journal::default();
    let mut s = source("sysmon", &["Process Access"], &["Windows"]);
    s.max_silence = None;
    j.push(t0, Event::SourceUpserted(s));
    j.push(
        t0,
        Event::RuleUpserted(rule("lsass", &["T1003.001"], &["Process Access"])),
    );
    j.push(
        t0,
        Event::ResultRecorded(result("lsass", "T1003.001", Outcome::Pass, t0)),
    );
    let mid = j.entries.len() as u64;
    let t1 = t0 + days(5);
    j.push(
        t1,
        Event::RuleStatusChanged {
            id: RuleId("lsass".into()),
            status: RuleStatus::Disabled,
        },
    );
    j.push(t1, Event::RuleUpserted(rule("ps", &["T1059.001"], &[])));
    // Unrelated noise is not a cause.
    j.push(t1, Event::RuleUpserted(rule("other", &["T1078"], &[])));
    let scope = Scope::platform("Windows");
    let before = coverage::compute(&cat, &j.state_at(mid), &scope, t0);
    let after = coverage::compute(&cat, &j.state(), &scope, t1);
    let changes = diff::diff(&before, &after, &j.entries);
    let brief: Vec<Brief> = changes
        .iter()
        .map(|c| {
            (
                c.technique.to_string(),
                c.direction,
                c.from,
                c.to,
                c.causes.len(),
            )
        })
        .collect();
    assert_eq!(
        brief,
        vec![
            (
                "T1003.001".into(),
                Direction::Worse,
                Some(CoverageState::Validated),
                Some(CoverageState::Degraded),
                1
            ),
            (
                "T1059.001".into(),
                Direction::Better,
                Some(CoverageState::Gap),
                Some(CoverageState::Unvalidated),
                1
            ),
            (
                "T1078".into(),
                Direction::Better,
                Some(CoverageState::Gap),
                Some(CoverageState::Unvalidated),
                1
            ),
        ]
    );
    match &changes[0].causes[0] {
        Cause::Entry { seq, who, what, .. } => {
            assert_eq!(*seq, 4);
            assert_eq!(who, "tester");
            assert_eq!(
                what,
                &EntryCause::RuleStatusChanged {
                    rule: RuleId("lsass".into()),
                    status: RuleStatus::Disabled
                }
            );
        }
        other => panic!("unexpected cause {other:?}"),
    }
}

#[test]
fn diff_names_silence_and_expiry_which_no_entry_records() {
    let cat = catalog();
    let t0 = ts("2026-03-01T00:00:00Z");
    let mut j = Journal::default();
    j.push(
        t0,
        Event::SourceUpserted(source("sysmon", &["Process Access"], &["Windows"])),
    );
    j.push(
        t0,
        Event::SourceSeen {
            name: "sysmon".into(),
            at: t0,
        },
    );
    j.push(
        t0,
        Event::RuleUpserted(rule("lsass", &["T1003.001"], &["Process Access"])),
    );
    j.push(
        t0,
        Event::ResultRecorded(result("lsass", "T1003.001", Outcome::Pass, t0)),
    );
    let state = j.state();
    let before = coverage::compute(&cat, &state, &Scope::all(), t0);
    let after = coverage::compute(&cat, &state, &Scope::all(), t0 + days(3));
    let changes = diff::diff(&before, &after, &j.entries);
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].direction, Direction::Worse);
    assert_eq!(
        changes[0].causes,
        vec![Cause::SourceSilent {
            rule: RuleId("lsass".into()),
            source: "sysmon".into(),
            since: Some(t0 + days(1)),
        }]
    );
}
