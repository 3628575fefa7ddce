//! Trend series: coverage sampled over a journal, regressions found between points, and the
//! series agreeing with computing each point from scratch.

mod common;

use attest_core::coverage::{self, CoverageState, Scope};
use attest_core::journal::Event;
use attest_core::result::Outcome;
use attest_core::rule::RuleStatus;
use attest_core::state::State;
use attest_core::trend::{Interval, instants, series};
use common::*;

const LSASS: &str = "T1003.001";

#[test]
fn a_series_follows_validation_and_marks_the_regression() {
    let cat = catalog();
    let t0 = ts("2026-01-01T00:00:00Z");
    let mut j = Journal::default();
    j.push(
        t0,
        Event::SourceUpserted(source("sysmon", &["Process Access"], &["Windows"])),
    );
    // The source reports daily, so it is never silent.
    for d in 0..=21 {
        j.push(
            t0 + days(d),
            Event::SourceSeen {
                name: "sysmon".into(),
                at: t0 + days(d),
            },
        );
    }
    j.push(
        t0 + days(3),
        Event::RuleUpserted(rule("r1", &[LSASS], &["Process Access"])),
    );
    j.push(
        t0 + days(10),
        Event::ResultRecorded(result("r1", LSASS, Outcome::Pass, t0 + days(10))),
    );
    j.push(
        t0 + days(16),
        Event::RuleStatusChanged {
            id: attest_core::rule::RuleId("r1".into()),
            status: RuleStatus::Disabled,
        },
    );

    // A store journal is in time order: sort by time (stable) and renumber.
    j.entries.sort_by_key(|e| e.at);
    for (i, e) in j.entries.iter_mut().enumerate() {
        e.seq = i as u64 + 1;
    }

    let points = instants(t0, t0 + days(21), Interval::week()).unwrap();
    assert_eq!(points.len(), 4);
    let got = series(&cat, &j.entries, &points, |_| Some(Scope::all()));
    let state_of = |i: usize| {
        // Each point must agree with an as-of computation from scratch.
        let upto: Vec<_> = j.entries.iter().filter(|e| e.at <= points[i]).collect();
        let c = coverage::compute(&cat, &State::from_journal(upto), &Scope::all(), points[i]);
        assert_eq!(Some(c.overall), got[i].tally, "point {i}");
        c.technique(tid(LSASS)).map(|t| t.state)
    };
    assert_eq!(state_of(0), Some(CoverageState::Gap));
    assert_eq!(state_of(1), Some(CoverageState::Unvalidated));
    assert_eq!(state_of(2), Some(CoverageState::Validated));
    assert_eq!(state_of(3), Some(CoverageState::Degraded), "rule disabled");

    assert!(got[1].regressions.is_empty());
    assert_eq!(got[1].improvements, 1, "gap → unvalidated is better");
    assert!(got[2].validated_share().unwrap() > 0.0);
    let r = &got[3].regressions;
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0].technique, tid(LSASS));
    assert_eq!(r[0].from, Some(CoverageState::Validated));
    assert_eq!(r[0].to, CoverageState::Degraded);
    assert_eq!(got[3].validated_share(), Some(0.0));
}

#[test]
fn points_without_a_scope_have_no_tally() {
    let cat = catalog();
    let t0 = ts("2026-01-01T00:00:00Z");
    let mut j = Journal::default();
    j.push(
        t0 + days(2),
        Event::RuleUpserted(rule("r1", &[LSASS], &["Process Access"])),
    );
    let points = instants(t0, t0 + days(4), Interval::day()).unwrap();
    // A scope that exists only once a rule does, as a profile exists only once created.
    let got = series(&cat, &j.entries, &points, |s| {
        (!s.rules.is_empty()).then(Scope::all)
    });
    assert_eq!(
        got.iter().map(|p| p.tally.is_some()).collect::<Vec<_>>(),
        vec![false, false, true, true, true]
    );
    assert!(got.iter().all(|p| p.regressions.is_empty()));
}
