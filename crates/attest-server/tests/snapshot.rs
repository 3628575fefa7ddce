//! A snapshot advanced entry by entry (results, status changes, tuning) must say exactly what a
//! snapshot computed whole from the same journal says, on the real Enterprise release.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use attest_core::coverage::{self, Scope};
use attest_core::journal::{Event, JournalEntry};
use attest_core::result::{Evidence, Outcome, ValidationResult};
use attest_core::rule::{RuleId, RuleStatus, Tuning, TuningKind};
use attest_core::state::State;
use attest_server::Snapshot;
use attest_server::state::Knowledge;
use jiff::{SignedDuration, Timestamp};

/// A small deterministic generator, so a failure replays.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        usize::try_from((self.0 >> 33) % n as u64).unwrap()
    }
}

#[test]
fn an_advanced_snapshot_equals_one_computed_whole() {
    let Some(dir) = common::attack_dir("an_advanced_snapshot_equals_one_computed_whole") else {
        return;
    };
    let (kb, _) = attest_attack::load::from_paths(&[dir.join("enterprise-attack-18.1.json.gz")])
        .unwrap_or_else(|e| panic!("{e}"));
    let knowledge = Arc::new(Knowledge::new(kb, Vec::new(), Vec::new()));
    let catalog = &knowledge.catalog;
    let start = Timestamp::now() - SignedDuration::from_hours(24 * 200);

    // A workspace of 300 rules over the first techniques of the catalogue (several rules per
    // technique, parents and sub-techniques), one source providing what half of them need.
    let techniques: Vec<String> = catalog
        .techniques()
        .iter()
        .take(120)
        .map(|t| t.id.to_string())
        .collect();
    let mut entries = Vec::new();
    let mut seq = 0;
    let mut push = |entries: &mut Vec<JournalEntry>, at: Timestamp, event: Event| {
        seq += 1;
        entries.push(JournalEntry::new(seq, at, "test", event));
    };
    let mut sysmon = attest_core::source::DataSource::new("Sysmon");
    sysmon.components = vec!["Process Creation".into()];
    sysmon.platforms = vec!["Windows".into()];
    sysmon.max_silence = Some(SignedDuration::from_hours(24 * 365 * 10));
    push(&mut entries, start, Event::SourceUpserted(sysmon));
    push(
        &mut entries,
        start,
        Event::SourceSeen {
            name: "Sysmon".into(),
            at: Timestamp::now(),
        },
    );
    let mut rules = Vec::new();
    for i in 0..300 {
        let t = &techniques[i % techniques.len()];
        let component = if i % 2 == 0 {
            "Process Creation"
        } else {
            "Network Traffic Content"
        };
        let id = format!("r{i:03}");
        let rule = common::rule(&id, &format!("Rule {i}"), &[t], component);
        push(&mut entries, start, Event::RuleUpserted(rule));
        rules.push((RuleId(id), t.clone()));
    }
    let base = State::from_journal(&entries);
    let first = Snapshot::new(Arc::clone(&knowledge), base, Timestamp::now());
    let at = first.coverage.at;

    // 400 changes in batches of 1 to 20, each batch folded into the last snapshot.
    let mut rng = Lcg(7);
    let mut snapshot = first;
    let mut all = entries.clone();
    let mut batches = 0;
    let mut changed_states = 0;
    while all.len() < entries.len() + 400 {
        let mut batch = Vec::new();
        for _ in 0..=rng.next(20) {
            let (rule, technique) = &rules[rng.next(rules.len())];
            let when =
                start + SignedDuration::from_hours(i64::try_from(rng.next(24 * 199)).unwrap());
            let event = match rng.next(10) {
                0 => Event::RuleStatusChanged {
                    id: rule.clone(),
                    status: if rng.next(2) == 0 {
                        RuleStatus::Disabled
                    } else {
                        RuleStatus::Enabled
                    },
                },
                1 => Event::RuleTuned {
                    id: rule.clone(),
                    tuning: Tuning {
                        kind: TuningKind::Suppression,
                        what: "noisy host".into(),
                        reason: "false positives".into(),
                        author: "test".into(),
                        at: when,
                    },
                },
                2 => Event::RuleOwnerAssigned {
                    id: rule.clone(),
                    owner: "blue".into(),
                },
                _ => Event::ResultRecorded(ValidationResult {
                    rule: rule.clone(),
                    technique: technique.clone(),
                    test: None,
                    outcome: match rng.next(4) {
                        0 => Outcome::Fail,
                        1 => Outcome::Error,
                        _ => Outcome::Pass,
                    },
                    at: when,
                    by: "test".into(),
                    evidence: Evidence::default(),
                }),
            };
            let seq = snapshot.state.last_seq + 1 + batch.len() as u64;
            batch.push(JournalEntry::new(seq, when, "test", event));
        }
        let next = snapshot
            .advanced(&batch)
            .expect("results, status, owner and tuning fold in incrementally");
        all.extend(batch);
        let whole = coverage::compute(catalog, &State::from_journal(&all), &Scope::all(), at);
        assert_eq!(next.coverage.seq, whole.seq, "batch {batches}");
        for (a, b) in next.coverage.techniques.iter().zip(&whole.techniques) {
            assert_eq!(a, b, "batch {batches}: {} differs", a.technique);
        }
        assert_eq!(next.coverage, whole, "batch {batches}");
        changed_states += next
            .coverage
            .techniques
            .iter()
            .zip(&snapshot.coverage.techniques)
            .filter(|(a, b)| a.state != b.state)
            .count();
        snapshot = next;
        batches += 1;
    }
    // The changes must have moved coverage, or the comparison proves nothing.
    assert!(changed_states > 20, "only {changed_states} state changes");
    eprintln!("{batches} batches, {changed_states} technique state changes, all equal");
}

#[test]
fn anything_but_rule_changes_asks_for_a_whole_recomputation() {
    let knowledge = Arc::new(Knowledge::new(common::kb(), Vec::new(), Vec::new()));
    let now = Timestamp::now();
    let base = State::from_journal(&[JournalEntry::new(
        1,
        now,
        "test",
        Event::RuleUpserted(common::rule(
            "r1",
            "LSASS",
            &["T1003.001"],
            "Process Access",
        )),
    )]);
    let snapshot = Snapshot::new(knowledge, base, now);
    let heartbeat = JournalEntry::new(
        2,
        now,
        "test",
        Event::SourceSeen {
            name: "Sysmon".into(),
            at: now,
        },
    );
    assert!(snapshot.advanced(&[heartbeat]).is_none());
    let import = JournalEntry::new(
        2,
        now,
        "test",
        Event::RuleUpserted(common::rule("r2", "More", &["T1003.001"], "Process Access")),
    );
    assert!(snapshot.advanced(&[import]).is_none());
    // A gap in the sequence (an entry missed) is never folded.
    let result = |seq| {
        JournalEntry::new(
            seq,
            now,
            "test",
            Event::ResultRecorded(ValidationResult {
                rule: RuleId("r1".into()),
                technique: "T1003.001".into(),
                test: None,
                outcome: Outcome::Pass,
                at: now,
                by: "test".into(),
                evidence: Evidence::default(),
            }),
        )
    };
    assert!(snapshot.advanced(&[result(3)]).is_none());
    let next = snapshot.advanced(&[result(2)]).unwrap();
    assert_eq!(next.state.last_seq, 2);
    assert_eq!(next.coverage.seq, 2);
}
