//! The store's behaviour, run on every available backend (SQLite always, PostgreSQL when
//! `ATTEST_TEST_POSTGRES_URL` is set).

mod common;

use attest_core::exposure::{
    CloseReason, Exposure, ExposureKey, ExposureStatus, FindingMapping, MappingKind, MappingSet,
    MappingType, Severity, SeverityLabel,
};
use attest_core::journal::{AttackRelease, Event, Policy};
use attest_core::profile::{Actor, ActorOrigin, ActorTechnique, Profile, ProfileActor};
use attest_core::result::{Evidence, Outcome, ValidationResult};
use attest_core::rule::{
    Dependency, DependencyOrigin, RuleDependency, RuleFormat, RuleId, RuleStatus, Tuning,
    TuningKind,
};
use attest_core::source::{DataSource, LogSourceRef, PipelineState};
use attest_core::state::State;
use attest_core::test::{Test, TestKind};
use attest_store::{Error, JournalQuery, NewEntry, RuleFilter, Store};
use common::{backends, create, rule, ts};
use jiff::SignedDuration;

fn exposure(asset: &str, cvss: f64) -> Exposure {
    Exposure {
        asset: asset.into(),
        finding: "CVE-2021-44228".into(),
        title: "Log4Shell".into(),
        severity: if cvss > 9.0 {
            Severity::Cvss(cvss)
        } else {
            Severity::Label(SeverityLabel::Medium)
        },
        first_seen: Some(ts("2026-01-01T00:00:00Z")),
        last_seen: None,
        status: ExposureStatus::Open,
        techniques: vec!["T1190".into()],
        feed: "scanner".into(),
    }
}

fn entry(at: &str, event: Event) -> NewEntry {
    NewEntry::new("alice", ts(at), event)
}

fn id(s: &str) -> RuleId {
    RuleId(s.into())
}

fn result(rule: &str, technique: &str, outcome: Outcome, at: &str) -> ValidationResult {
    ValidationResult {
        rule: id(rule),
        technique: technique.into(),
        test: Some("atomic-1".into()),
        outcome,
        at: ts(at),
        by: "ci".into(),
        evidence: Evidence {
            text: Some("fired".into()),
            url: None,
            event_ids: vec!["4688-1".into()],
        },
    }
}

/// A journal that exercises every event kind.
fn everything() -> Vec<NewEntry> {
    let mut sysmon = DataSource::new("Sysmon");
    sysmon.components = vec!["Process Creation".into()];
    sysmon.log_sources = vec![LogSourceRef::parse("WinEventLog:Sysmon")];
    sysmon.max_silence = Some(SignedDuration::from_hours(24));
    sysmon.platforms = vec!["Windows".into()];
    let mut security = DataSource::new("Windows Security");
    security.log_sources = vec![LogSourceRef::parse("WinEventLog:Security:EventCode=4688")];
    security.state = PipelineState::Ingested;
    security.owner = Some("soc".into());
    let okta = DataSource::new("Okta");

    let mut r2 = rule("r2", &["T1003.001"], &["credential-access"]);
    r2.dependencies = vec![RuleDependency {
        dependency: Dependency::LogSource(LogSourceRef::parse(
            "WinEventLog:Security:EventCode=4688",
        )),
        origin: DependencyOrigin::Declared,
    }];
    let mut r3 = rule("r3", &["T1059"], &["execution"]);
    r3.origin.format = RuleFormat::Elastic;
    r3.origin.root = "elastic".into();
    r3.dependencies = vec![RuleDependency {
        dependency: Dependency::Source("windows security".into()),
        origin: DependencyOrigin::Declared,
    }];
    let mut r4 = rule("r4", &["T1110"], &["credential-access"]);
    r4.dependencies = vec![RuleDependency {
        dependency: Dependency::LogSource(LogSourceRef::parse("WinEventLog:Security")),
        origin: DependencyOrigin::Inferred,
    }];
    vec![
        entry(
            "2026-01-01T00:00:00Z",
            Event::AttackReleasesSet(vec![AttackRelease {
                domain: "enterprise-attack".into(),
                version: "18.1".into(),
                location: "/attack/enterprise-attack-18.1.json".into(),
            }]),
        ),
        entry("2026-01-01T00:00:00Z", Event::SourceUpserted(sysmon)),
        entry("2026-01-01T00:00:00Z", Event::SourceUpserted(security)),
        entry("2026-01-01T00:00:00Z", Event::SourceUpserted(okta)),
        entry(
            "2026-01-01T00:00:01Z",
            Event::RuleUpserted(rule("r1", &["T1003", "t1003.001"], &["credential-access"])),
        ),
        entry("2026-01-01T00:00:01Z", Event::RuleUpserted(r2)),
        entry("2026-01-01T00:00:01Z", Event::RuleUpserted(r3)),
        entry("2026-01-01T00:00:01Z", Event::RuleUpserted(r4)),
        entry(
            "2026-01-02T00:00:00Z",
            Event::SourceSeen {
                name: "Sysmon".into(),
                at: ts("2026-01-02T00:00:00Z"),
            },
        ),
        entry(
            "2026-01-02T00:00:00Z",
            Event::SourceRemoved {
                name: "Okta".into(),
            },
        ),
        entry(
            "2026-01-03T00:00:00Z",
            Event::RuleStatusChanged {
                id: id("r2"),
                status: RuleStatus::Disabled,
            },
        ),
        entry(
            "2026-01-03T00:00:00Z",
            Event::RuleOwnerAssigned {
                id: id("r1"),
                owner: "bob".into(),
            },
        ),
        entry(
            "2026-01-03T00:00:00Z",
            Event::RuleTuned {
                id: id("r1"),
                tuning: Tuning {
                    kind: TuningKind::Exclusion,
                    what: "host=build01".into(),
                    reason: "noisy".into(),
                    author: "bob".into(),
                    at: ts("2026-01-03T00:00:00Z"),
                },
            },
        ),
        entry("2026-01-04T00:00:00Z", Event::RuleRetired { id: id("r4") }),
        entry(
            "2026-01-04T00:00:00Z",
            Event::TestUpserted(Test {
                id: "atomic-1".into(),
                kind: TestKind::Atomic,
                techniques: vec!["T1003.001".into()],
                name: "Dump LSASS".into(),
                platforms: vec!["windows".into()],
                executor: Some("powershell".into()),
                elevation_required: true,
            }),
        ),
        entry(
            "2026-01-05T00:00:00Z",
            Event::ResultRecorded(result("r1", "T1003", Outcome::Fail, "2026-01-05T00:00:00Z")),
        ),
        entry(
            "2026-01-05T00:00:00Z",
            Event::ResultRecorded(result("r1", "T1003", Outcome::Pass, "2026-01-04T00:00:00Z")),
        ),
        entry(
            "2026-01-05T00:00:00Z",
            Event::ResultRecorded(result(
                "r1",
                "T1003.001",
                Outcome::Pass,
                "2026-01-05T00:00:00Z",
            )),
        ),
        entry(
            "2026-01-06T00:00:00Z",
            Event::PolicySet(Policy {
                default_window: SignedDuration::from_hours(24 * 30),
                tier_windows: vec![("critical".into(), SignedDuration::from_hours(24 * 7))],
                technique_windows: vec![],
            }),
        ),
        entry(
            "2026-01-06T00:00:00Z",
            Event::ActorUpserted(Actor {
                id: "intel--1".into(),
                name: "Spider".into(),
                aliases: vec!["Arachnid".into()],
                origin: ActorOrigin::Intel("tip.json".into()),
                techniques: vec![ActorTechnique {
                    technique: "T1003".into(),
                    weight: 0.5,
                    low_confidence: false,
                }],
            }),
        ),
        entry(
            "2026-01-06T00:00:00Z",
            Event::ProfileUpserted(Profile {
                name: "finance".into(),
                actors: vec![ProfileActor {
                    actor: "G0016".into(),
                    weight: 2.0,
                }],
                extra_techniques: vec![("T1110".into(), 1.5)],
                ..Profile::default()
            }),
        ),
        entry(
            "2026-01-06T00:00:00Z",
            Event::ProfileUpserted(Profile {
                name: "gone".into(),
                ..Profile::default()
            }),
        ),
        entry(
            "2026-01-07T00:00:00Z",
            Event::ProfileRemoved {
                name: "gone".into(),
            },
        ),
        entry(
            "2026-01-07T00:00:00Z",
            Event::ProfileUpserted(Profile {
                name: "ctem".into(),
                exposures: Some(1.5),
                ..Profile::default()
            }),
        ),
        entry(
            "2026-01-07T00:00:00Z",
            Event::ExposureObserved(exposure("web-01", 9.8)),
        ),
        entry(
            "2026-01-07T00:00:00Z",
            Event::ExposureObserved(exposure("web-02", 5.0)),
        ),
        entry(
            "2026-01-07T00:00:00Z",
            Event::ExposureMappingsLoaded(MappingSet {
                name: "ctid".into(),
                kind: MappingKind::Cve,
                attack_version: Some("16.1".into()),
                remap: vec![("T1086".into(), "T1059.001".into())],
                mappings: vec![FindingMapping {
                    finding: "CVE-2021-44228".into(),
                    technique: "T1190".into(),
                    mapping_type: MappingType::ExploitationTechnique,
                }],
            }),
        ),
        entry(
            "2026-01-08T00:00:00Z",
            Event::ExposureClosed {
                key: ExposureKey::new("web-02", "CVE-2021-44228"),
                reason: CloseReason::Absent,
            },
        ),
        entry(
            "2026-01-08T00:00:00Z",
            Event::JobRan(attest_core::journal::JobRun {
                job: "silence".into(),
                trigger: attest_core::journal::JobTrigger::Schedule,
                attempt: 1,
                started: ts("2026-01-08T00:00:00Z"),
                finished: ts("2026-01-08T00:00:02Z"),
                outcome: attest_core::journal::JobOutcome::Succeeded {
                    summary: "0 sources silent".into(),
                },
            }),
        ),
        entry(
            "2026-01-08T00:00:00Z",
            Event::RemapTableSet({
                let mut t = attest_attack::RemapTable::new();
                t.insert(
                    attest_attack::TechniqueId::parse("T1086").expect("id"),
                    attest_attack::TechniqueId::parse("T1059.001").expect("id"),
                );
                t
            }),
        ),
    ]
    .into_iter()
    .map(|e| e.with_why("test"))
    .collect()
}

/// Compares two states field by field (State has no PartialEq): the projections must be
/// exactly the fold.
fn assert_same_state(label: &str, a: &State, b: &State) {
    assert_eq!(a.releases, b.releases, "{label}: releases");
    assert_eq!(a.sources, b.sources, "{label}: sources");
    assert_eq!(a.removed_sources, b.removed_sources, "{label}: removed");
    assert_eq!(
        a.source_history, b.source_history,
        "{label}: source history"
    );
    assert_eq!(a.rules, b.rules, "{label}: rules");
    assert_eq!(a.tests, b.tests, "{label}: tests");
    assert_eq!(a.results, b.results, "{label}: results");
    assert_eq!(a.policy, b.policy, "{label}: policy");
    assert_eq!(a.actors, b.actors, "{label}: actors");
    assert_eq!(a.profiles, b.profiles, "{label}: profiles");
    assert_eq!(a.exposures, b.exposures, "{label}: exposures");
    assert_eq!(
        a.exposure_mappings, b.exposure_mappings,
        "{label}: exposure mappings"
    );
    assert_eq!(a.remap, b.remap, "{label}: remap table");
    assert_eq!(a.last_seq, b.last_seq, "{label}: last seq");
    assert_eq!(a.last_at, b.last_at, "{label}: last at");
}

#[tokio::test]
async fn every_event_kind_round_trips_and_projections_equal_the_fold() {
    for db in backends("every_event_kind_round_trips").await {
        let store = create(&db).await;
        let batch = everything();
        let n = batch.len();
        let events: Vec<Event> = batch.iter().map(|e| e.event.clone()).collect();
        // Appended in two batches, so the second one merges into existing projection rows.
        let mut first = batch;
        let second = first.split_off(9);
        let o1 = store.append(first).await.expect("append 1");
        let o2 = store.append(second).await.expect("append 2");
        assert_eq!(
            (o1.first_seq, o1.last_seq, o1.count),
            (1, 9, 9),
            "{}",
            db.label
        );
        assert_eq!((o2.first_seq, o2.last_seq), (10, n as u64), "{}", db.label);
        assert_eq!(store.head().await.expect("head"), n as u64);

        let journal = store
            .journal(&JournalQuery::default())
            .await
            .expect("journal");
        assert_eq!(journal.len(), n);
        for (i, (e, ev)) in journal.iter().zip(&events).enumerate() {
            assert_eq!(e.seq, i as u64 + 1, "{}", db.label);
            assert_eq!(&e.event, ev, "{}: entry {i} round-trips", db.label);
            assert_eq!(e.who, "alice");
            assert_eq!(e.why.as_deref(), Some("test"));
        }

        let fold = store.state(None).await.expect("state");
        let projected = store.projected_state().await.expect("projected");
        assert_same_state(db.label, &fold, &projected);
        let direct = State::from_journal(&journal);
        assert_same_state(db.label, &fold, &direct);

        assert_eq!(fold.rules.len(), 4);
        assert_eq!(fold.rules[&id("r1")].rule.owner.as_deref(), Some("bob"));
        assert_eq!(fold.rules[&id("r1")].rule.tuning.len(), 1);
        assert_eq!(fold.rules[&id("r2")].rule.status, RuleStatus::Disabled);
        assert_eq!(fold.rules[&id("r4")].rule.status, RuleStatus::Retired);
        assert_eq!(fold.sources.len(), 2);
        assert!(fold.removed_sources.contains_key("Okta"));
        assert_eq!(
            fold.sources["Sysmon"].source.last_seen,
            Some(ts("2026-01-02T00:00:00Z"))
        );
        assert_eq!(fold.profiles.len(), 2);
        assert_eq!(fold.profiles["ctem"].exposures, Some(1.5));
        assert_eq!(fold.exposures.len(), 2);
        assert_eq!(
            fold.exposures[&ExposureKey::new("web-02", "CVE-2021-44228")]
                .exposure
                .status,
            ExposureStatus::Fixed
        );
        assert_eq!(fold.exposure_mappings["ctid"].mappings.len(), 1);
        assert_eq!(fold.policy.tier_windows.len(), 1);
        // The later-run fail is the latest result though it was recorded first.
        assert_eq!(
            fold.latest_result(&id("r1"), "T1003").map(|r| r.outcome),
            Some(Outcome::Fail)
        );

        // Rebuilding the projections from the journal gives the same state again.
        store.rebuild_projections().await.expect("rebuild");
        let rebuilt = store
            .projected_state()
            .await
            .expect("projected after rebuild");
        assert_same_state(db.label, &fold, &rebuilt);
        store.close().await;
    }
}

#[tokio::test]
async fn rule_queries_filter_in_sql() {
    for db in backends("rule_queries_filter_in_sql").await {
        let store = create(&db).await;
        store.append(everything()).await.expect("append");
        let ids = |rules: Vec<attest_core::state::RuleRecord>| {
            rules
                .into_iter()
                .map(|r| r.rule.id.0)
                .collect::<Vec<String>>()
        };
        let q = |f: RuleFilter| {
            let store = store.clone();
            async move { ids(store.rules(&f).await.expect("rules")) }
        };
        let l = db.label;
        assert_eq!(
            q(RuleFilter::default()).await,
            ["r1", "r2", "r3", "r4"],
            "{l}"
        );
        let by_technique = |t: &str, sub: bool| RuleFilter {
            technique: Some(t.into()),
            with_subtechniques: sub,
            ..RuleFilter::default()
        };
        // Technique IDs compare upper-cased; a parent does not match sub-technique claims
        // unless asked.
        assert_eq!(q(by_technique("t1003", false)).await, ["r1"], "{l}");
        assert_eq!(q(by_technique("T1003", true)).await, ["r1", "r2"], "{l}");
        assert_eq!(
            q(by_technique("T1003.001", false)).await,
            ["r1", "r2"],
            "{l}"
        );
        assert!(q(by_technique("T9999", true)).await.is_empty(), "{l}");
        let tactic = RuleFilter {
            tactic: Some("Credential-Access".into()),
            ..RuleFilter::default()
        };
        assert_eq!(q(tactic).await, ["r1", "r2", "r4"], "{l}");
        let status = |s| RuleFilter {
            status: Some(s),
            ..RuleFilter::default()
        };
        assert_eq!(q(status(RuleStatus::Enabled)).await, ["r1", "r3"], "{l}");
        assert_eq!(q(status(RuleStatus::Disabled)).await, ["r2"], "{l}");
        assert_eq!(q(status(RuleStatus::Retired)).await, ["r4"], "{l}");
        let owner = RuleFilter {
            owner: Some("bob".into()),
            ..RuleFilter::default()
        };
        assert_eq!(q(owner).await, ["r1"], "{l}");
        let origin = RuleFilter {
            format: Some(RuleFormat::Elastic),
            root: Some("elastic".into()),
            ..RuleFilter::default()
        };
        assert_eq!(q(origin).await, ["r3"], "{l}");
        let source = |s: &str| RuleFilter {
            data_source: Some(s.into()),
            ..RuleFilter::default()
        };
        // Sysmon provides "Process Creation" (r1's inferred dependency) and not the Security log.
        assert_eq!(q(source("sysmon")).await, ["r1"], "{l}");
        // Windows Security: r3 names it; r2 needs its EventCode=4688 channel, which it provides;
        // r4 needs the whole Security log, which one channel does not provide.
        assert_eq!(q(source("Windows Security")).await, ["r2", "r3"], "{l}");
        assert!(q(source("nothing")).await.is_empty(), "{l}");
        // Filters combine with AND.
        let both = RuleFilter {
            tactic: Some("credential-access".into()),
            data_source: Some("Windows Security".into()),
            ..RuleFilter::default()
        };
        assert_eq!(q(both).await, ["r2"], "{l}");

        let r1 = store
            .rule(&id("r1"))
            .await
            .expect("rule")
            .expect("r1 exists");
        assert_eq!(r1.rule.techniques, ["T1003", "t1003.001"]);
        assert!(store.rule(&id("nope")).await.expect("rule").is_none());

        let sources = store.sources().await.expect("sources");
        let names: Vec<&str> = sources.iter().map(|s| s.source.name.as_str()).collect();
        assert_eq!(names, ["Sysmon", "Windows Security"], "{l}");
        let sec = store.source("Windows Security").await.expect("source");
        assert_eq!(sec.map(|s| s.source.state), Some(PipelineState::Ingested));
        assert!(store.source("Okta").await.expect("source").is_none());

        let tests = store.tests().await.expect("tests");
        assert_eq!(tests.len(), 1);
        assert!(tests[0].elevation_required);

        let results = store.results(&id("r1"), None).await.expect("results");
        let summary: Vec<(&str, Outcome)> = results
            .iter()
            .map(|r| (r.technique.as_str(), r.outcome))
            .collect();
        assert_eq!(
            summary,
            [
                ("T1003", Outcome::Pass),
                ("T1003", Outcome::Fail),
                ("T1003.001", Outcome::Pass)
            ],
            "{l}: by technique, then by run time"
        );
        let one = store
            .results(&id("r1"), Some("T1003.001"))
            .await
            .expect("results");
        assert_eq!(one.len(), 1);
        assert!(
            store
                .results(&id("r2"), None)
                .await
                .expect("results")
                .is_empty()
        );
    }
}

#[tokio::test]
async fn state_as_of_and_journal_ranges() {
    for db in backends("state_as_of_and_journal_ranges").await {
        let store = create(&db).await;
        store.append(everything()).await.expect("append");
        let l = db.label;
        // Before anything: empty.
        let s = store
            .state(Some(ts("2025-12-31T23:59:59Z")))
            .await
            .expect("state");
        assert!(s.rules.is_empty() && s.sources.is_empty(), "{l}");
        assert_eq!(s.last_seq, 0);
        // After the imports and the heartbeat, before the disable.
        let s = store
            .state(Some(ts("2026-01-02T12:00:00Z")))
            .await
            .expect("state");
        assert_eq!(s.rules[&id("r2")].rule.status, RuleStatus::Enabled, "{l}");
        assert_eq!(s.last_seq, 10, "{l}");
        // Nanosecond precision: an instant just before the disable excludes it.
        let s = store
            .state(Some(ts("2026-01-02T23:59:59.999999999Z")))
            .await
            .expect("state");
        assert_eq!(s.last_seq, 10, "{l}");
        let s = store
            .state(Some(ts("2026-01-03T00:00:00Z")))
            .await
            .expect("state");
        assert_eq!(s.rules[&id("r2")].rule.status, RuleStatus::Disabled, "{l}");

        let after = store.entries_after(20, 100).await.expect("after");
        let seqs: Vec<u64> = after.iter().map(|e| e.seq).collect();
        let head = everything().len() as u64;
        assert_eq!(seqs, (21..=head).collect::<Vec<_>>(), "{l}");
        let page = store.entries_after(0, 2).await.expect("page");
        assert_eq!(page.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2]);
        let range = store
            .journal(&JournalQuery {
                after_seq: 4,
                until_seq: Some(6),
                ..JournalQuery::default()
            })
            .await
            .expect("range");
        assert_eq!(range.iter().map(|e| e.seq).collect::<Vec<_>>(), [5, 6]);
        assert!(
            store
                .entries_after(head, 10)
                .await
                .expect("none")
                .is_empty()
        );
    }
}

#[tokio::test]
async fn empty_batch_and_unknown_targets() {
    for db in backends("empty_batch_and_unknown_targets").await {
        let store = create(&db).await;
        let l = db.label;
        let o = store.append(Vec::new()).await.expect("empty");
        assert_eq!((o.count, o.last_seq, o.first_seq), (0, 0, 1), "{l}");
        // Events about rules and sources that do not exist are journaled and ignored by the
        // projection, as the fold ignores them.
        let batch = vec![
            entry(
                "2026-01-01T00:00:00Z",
                Event::RuleStatusChanged {
                    id: id("ghost"),
                    status: RuleStatus::Disabled,
                },
            ),
            entry(
                "2026-01-01T00:00:00Z",
                Event::SourceSeen {
                    name: "ghost".into(),
                    at: ts("2026-01-01T00:00:00Z"),
                },
            ),
            entry(
                "2026-01-01T00:00:00Z",
                Event::SourceRemoved {
                    name: "ghost".into(),
                },
            ),
            entry(
                "2026-01-01T00:00:00Z",
                Event::ResultRecorded(result(
                    "ghost",
                    "T1003",
                    Outcome::Pass,
                    "2026-01-01T00:00:00Z",
                )),
            ),
        ];
        let o = store.append(batch).await.expect("append");
        assert_eq!((o.first_seq, o.last_seq, o.count), (1, 4, 4), "{l}");
        assert!(
            store
                .rules(&RuleFilter::default())
                .await
                .expect("rules")
                .is_empty()
        );
        assert!(store.sources().await.expect("sources").is_empty());
        let fold = store.state(None).await.expect("state");
        let projected = store.projected_state().await.expect("projected");
        assert_same_state(l, &fold, &projected);
        assert!(fold.removed_sources.is_empty(), "{l}");
        // A result about an unknown rule is still a result (the fold keeps it too).
        assert_eq!(
            store
                .results(&id("ghost"), None)
                .await
                .expect("results")
                .len(),
            1
        );
        let o = store.append(Vec::new()).await.expect("empty");
        assert_eq!((o.count, o.last_seq), (0, 4), "{l}");
    }
}

#[tokio::test]
async fn reimport_keeps_registry_fields() {
    for db in backends("reimport_keeps_registry_fields").await {
        let store = create(&db).await;
        let l = db.label;
        let r = rule("r1", &["T1003"], &[]);
        store
            .append(vec![
                entry("2026-01-01T00:00:00Z", Event::RuleUpserted(r.clone())),
                entry(
                    "2026-01-02T00:00:00Z",
                    Event::RuleStatusChanged {
                        id: id("r1"),
                        status: RuleStatus::Disabled,
                    },
                ),
                entry(
                    "2026-01-02T00:00:00Z",
                    Event::RuleOwnerAssigned {
                        id: id("r1"),
                        owner: "carol".into(),
                    },
                ),
            ])
            .await
            .expect("append");
        let mut changed = r.clone();
        changed.content_hash = "new".into();
        changed.techniques.push("T1003.001".into());
        store
            .append(vec![entry(
                "2026-01-03T00:00:00Z",
                Event::RuleUpserted(changed),
            )])
            .await
            .expect("re-import");
        let rec = store.rule(&id("r1")).await.expect("rule").expect("r1");
        assert_eq!(
            rec.rule.status,
            RuleStatus::Disabled,
            "{l}: hand-disabled survives"
        );
        assert_eq!(
            rec.rule.owner.as_deref(),
            Some("carol"),
            "{l}: owner survives"
        );
        assert_eq!(rec.content_changed_at, ts("2026-01-03T00:00:00Z"), "{l}");
        assert_eq!(rec.imported_at, ts("2026-01-01T00:00:00Z"), "{l}");
        // The technique index follows the new content.
        let sub = RuleFilter {
            technique: Some("T1003.001".into()),
            ..RuleFilter::default()
        };
        assert_eq!(store.rules(&sub).await.expect("rules").len(), 1, "{l}");
        let owned = RuleFilter {
            owner: Some("carol".into()),
            ..RuleFilter::default()
        };
        assert_eq!(store.rules(&owned).await.expect("rules").len(), 1, "{l}");
    }
}

#[tokio::test]
async fn a_failing_batch_writes_nothing() {
    for db in backends("a_failing_batch_writes_nothing").await {
        let store = create(&db).await;
        let l = db.label;
        store
            .append(vec![entry(
                "2026-01-01T00:00:00Z",
                Event::RuleUpserted(rule("victim", &["T1003"], &[])),
            )])
            .await
            .expect("append");
        let before = store.state(None).await.expect("state");
        // Corrupt the victim's projection row behind the store's back, so the next batch that
        // touches it fails mid-transaction: after its journal rows are written.
        corrupt_rule_row(&db, "victim").await;
        let batch = vec![
            entry(
                "2026-01-02T00:00:00Z",
                Event::RuleUpserted(rule("new-a", &["T1059"], &[])),
            ),
            entry(
                "2026-01-02T00:00:00Z",
                Event::RuleStatusChanged {
                    id: id("victim"),
                    status: RuleStatus::Disabled,
                },
            ),
        ];
        let err = store.append(batch).await.expect_err("must fail");
        match &err {
            Error::Corrupt { what, key, .. } => {
                assert_eq!((*what, key.as_str()), ("rule", "victim"), "{l}");
            }
            other => panic!("{l}: unexpected error {other:?}"),
        }
        assert_eq!(
            store.head().await.expect("head"),
            1,
            "{l}: no journal row written"
        );
        assert!(
            store.rule(&id("new-a")).await.expect("rule").is_none(),
            "{l}: no projection row written"
        );
        let after = store.state(None).await.expect("state");
        assert_same_state(l, &before, &after);
    }
}

/// Overwrites a rule's JSON record with garbage through a separate connection.
async fn corrupt_rule_row(db: &common::TestDb, rule: &str) {
    use sqlx::Connection;
    let sql = "UPDATE rules SET record = 'not json' WHERE id = $1";
    if db.label == "sqlite" {
        let mut c = sqlx::SqliteConnection::connect(&db.url)
            .await
            .expect("connect");
        let n = sqlx::query(sql)
            .bind(rule)
            .execute(&mut c)
            .await
            .expect("update");
        assert_eq!(n.rows_affected(), 1);
    } else {
        let mut c = sqlx::PgConnection::connect(&db.url).await.expect("connect");
        let n = sqlx::query(sql)
            .bind(rule)
            .execute(&mut c)
            .await
            .expect("update");
        assert_eq!(n.rows_affected(), 1);
    }
}

#[tokio::test]
async fn the_journal_refuses_updates_and_deletes() {
    use sqlx::Connection;
    for db in backends("the_journal_refuses_updates_and_deletes").await {
        let store = create(&db).await;
        store.append(everything()).await.expect("append");
        let update = "UPDATE journal SET who = 'mallory' WHERE seq = 1";
        let delete = "DELETE FROM journal WHERE seq = 1";
        for sql in [update, delete] {
            let failed = if db.label == "sqlite" {
                let mut c = sqlx::SqliteConnection::connect(&db.url)
                    .await
                    .expect("connect");
                sqlx::query(sql).execute(&mut c).await.is_err()
            } else {
                let mut c = sqlx::PgConnection::connect(&db.url).await.expect("connect");
                sqlx::query(sql).execute(&mut c).await.is_err()
            };
            assert!(failed, "{}: {sql} must be refused", db.label);
        }
        let first = store.entries_after(0, 1).await.expect("journal");
        assert_eq!(first[0].who, "alice");
    }
}

#[tokio::test]
async fn workspace_metadata() {
    for db in backends("workspace_metadata").await {
        let store = create(&db).await;
        assert_eq!(store.meta("attack.enterprise").await.expect("meta"), None);
        store
            .set_meta(&[("attack.enterprise", "18.1"), ("cache", "/tmp/x")])
            .await
            .expect("set");
        store
            .set_meta(&[("attack.enterprise", "19.0")])
            .await
            .expect("overwrite");
        assert_eq!(
            store
                .meta("attack.enterprise")
                .await
                .expect("meta")
                .as_deref(),
            Some("19.0")
        );
        let all = store.all_meta().await.expect("all");
        assert_eq!(all.len(), 2, "{}", db.label);
        assert_eq!(all["cache"], "/tmp/x");
    }
}

#[tokio::test]
async fn an_entry_and_metadata_in_one_append() {
    for db in backends("an_entry_and_metadata_in_one_append").await {
        let store = create(&db).await;
        let release = AttackRelease {
            domain: "enterprise-attack".into(),
            version: "18.1".into(),
            location: "/cache/enterprise-attack-18.1.json".into(),
        };
        let out = store
            .append_with_meta(
                vec![NewEntry::new(
                    "lead",
                    ts("2026-01-01T00:00:00Z"),
                    Event::AttackReleasesSet(vec![release.clone()]),
                )],
                &[(
                    attest_store::META_ATTACK_BUNDLES,
                    "/cache/enterprise-attack-18.1.json",
                )],
            )
            .await
            .expect("append with meta");
        assert_eq!(
            (out.first_seq, out.last_seq, out.count),
            (1, 1, 1),
            "{}",
            db.label
        );
        assert_eq!(
            store.projected_state().await.expect("state").releases,
            vec![release]
        );
        assert_eq!(
            store
                .meta(attest_store::META_ATTACK_BUNDLES)
                .await
                .expect("meta")
                .as_deref(),
            Some("/cache/enterprise-attack-18.1.json")
        );
        // No entry: only the metadata, and the head stays.
        let out = store
            .append_with_meta(Vec::new(), &[("cache", "/tmp/x")])
            .await
            .expect("meta only");
        assert_eq!((out.last_seq, out.count), (1, 0), "{}", db.label);
        assert_eq!(
            store.meta("cache").await.expect("meta").as_deref(),
            Some("/tmp/x")
        );
    }
}

#[tokio::test]
async fn open_requires_an_existing_sqlite_workspace() {
    let db = common::sqlite_db();
    let err = Store::open(&db.url).await.expect_err("missing");
    assert!(matches!(err, Error::Missing { .. }), "{err:?}");
    let store = create(&db).await;
    store
        .append(vec![entry(
            "2026-01-01T00:00:00Z",
            Event::RuleUpserted(rule("r1", &[], &[])),
        )])
        .await
        .expect("append");
    store.close().await;
    // Reopening finds the journal and projections as they were.
    let store = Store::open(&db.url).await.expect("reopen");
    assert_eq!(store.head().await.expect("head"), 1);
    assert_eq!(
        store
            .rules(&RuleFilter::default())
            .await
            .expect("rules")
            .len(),
        1
    );
    // WAL mode, as promised to `attest init`.
    use sqlx::Connection;
    let mut c = sqlx::SqliteConnection::connect(&db.url)
        .await
        .expect("connect");
    let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
        .fetch_one(&mut c)
        .await
        .expect("pragma");
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn postgres_notifies_listeners_on_commit() {
    let Some(db) = common::postgres_db("postgres_notifies_listeners_on_commit").await else {
        return;
    };
    let store = create(&db).await;
    let mut listener = store
        .listen()
        .await
        .expect("listen")
        .expect("postgres listens");
    let o = store
        .append(common::synthetic_batch(37, ts("2026-01-01T00:00:00Z")))
        .await
        .expect("append");
    // Other tests share the server and its channel: wait for our head.
    let got = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        loop {
            let seq = listener.recv().await.expect("recv");
            if seq == o.last_seq {
                return seq;
            }
        }
    })
    .await
    .expect("notified within 20 s");
    assert_eq!(got, 37);
    let sqlite = create(&common::sqlite_db()).await;
    assert!(sqlite.listen().await.expect("listen").is_none());
}

#[tokio::test]
async fn exposures_merge_across_appends_and_survive_a_rebuild() {
    for db in backends("exposures_merge_across_appends").await {
        let store = create(&db).await;
        let key = ExposureKey::new("web-01", "cve-2021-44228");
        store
            .append(vec![entry(
                "2026-02-01T00:00:00Z",
                Event::ExposureObserved(exposure("web-01", 9.8)),
            )])
            .await
            .expect("observe");
        store
            .append(vec![entry(
                "2026-02-02T00:00:00Z",
                Event::ExposureClosed {
                    key: key.clone(),
                    reason: CloseReason::Fixed,
                },
            )])
            .await
            .expect("close");
        let projected = store.projected_state().await.expect("projected");
        let rec = &projected.exposures[&key];
        // The close merged into the first observation's record.
        assert_eq!(rec.observed_at, ts("2026-02-01T00:00:00Z"), "{}", db.label);
        assert_eq!(rec.closed_at, Some(ts("2026-02-02T00:00:00Z")));
        assert_eq!(rec.exposure.status, ExposureStatus::Fixed);
        let fold = store.state(None).await.expect("fold");
        assert_same_state(db.label, &fold, &projected);
        store.rebuild_projections().await.expect("rebuild");
        let rebuilt = store.projected_state().await.expect("projected");
        assert_same_state(db.label, &fold, &rebuilt);
        store.close().await;
    }
}

/// Appends made at once by many writers are committed in groups: every batch keeps its own
/// contiguous sequence numbers, none is lost or interleaved with another.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_keep_each_batch_whole_and_contiguous() {
    for db in backends("concurrent_appends_keep_each_batch_whole_and_contiguous").await {
        let store = create(&db).await;
        let l = db.label;
        store
            .append(vec![entry(
                "2026-01-01T00:00:00Z",
                Event::RuleUpserted(rule("r", &["T1003.001"], &[])),
            )])
            .await
            .expect("append");
        let started = std::time::Instant::now();
        let mut tasks = Vec::new();
        for w in 0..120 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let batch: Vec<NewEntry> = (0..=w % 3)
                    .map(|i| {
                        NewEntry::new(
                            format!("writer-{w}"),
                            ts("2026-01-02T00:00:00Z"),
                            Event::ResultRecorded(result(
                                "r",
                                "T1003.001",
                                if i == 0 { Outcome::Pass } else { Outcome::Fail },
                                "2026-01-02T00:00:00Z",
                            )),
                        )
                    })
                    .collect();
                let n = batch.len();
                (w, n, store.append(batch).await)
            }));
        }
        let mut ranges = Vec::new();
        for t in tasks {
            let (w, n, outcome) = t.await.expect("task");
            let o = outcome.unwrap_or_else(|e| panic!("{l}: writer {w}: {e}"));
            assert_eq!(o.count, n, "{l}");
            assert_eq!(o.last_seq + 1 - o.first_seq, n as u64, "{l}");
            ranges.push((o.first_seq, o.last_seq, w));
        }
        eprintln!("{l}: 120 concurrent appends in {:?}", started.elapsed());
        ranges.sort();
        let mut next = 2;
        for (first, last, _) in &ranges {
            assert_eq!(*first, next, "{l}: ranges must tile the journal");
            next = last + 1;
        }
        assert_eq!(store.head().await.expect("head"), next - 1, "{l}");
        // Each range holds exactly its writer's entries.
        let journal = store
            .journal(&JournalQuery::default())
            .await
            .expect("journal");
        for (first, last, w) in ranges {
            for e in journal.iter().filter(|e| e.seq >= first && e.seq <= last) {
                assert_eq!(e.who, format!("writer-{w}"), "{l}: seq {}", e.seq);
            }
        }
        let state = store.state(None).await.expect("state");
        let results: usize = state.results.values().map(Vec::len).sum();
        assert_eq!(results, (0..120).map(|w| w % 3 + 1).sum::<usize>(), "{l}");
    }
}

/// A batch that fails inside a shared commit fails alone: the others are written.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_batch_among_concurrent_ones_fails_alone() {
    for db in backends("a_failing_batch_among_concurrent_ones_fails_alone").await {
        let store = create(&db).await;
        let l = db.label;
        store
            .append(vec![entry(
                "2026-01-01T00:00:00Z",
                Event::RuleUpserted(rule("victim", &["T1003"], &[])),
            )])
            .await
            .expect("append");
        corrupt_rule_row(&db, "victim").await;
        for round in 0..3 {
            let mut tasks = Vec::new();
            for w in 0..30 {
                let store = store.clone();
                tasks.push(tokio::spawn(async move {
                    let event = if w == 15 {
                        Event::RuleStatusChanged {
                            id: id("victim"),
                            status: RuleStatus::Disabled,
                        }
                    } else {
                        Event::RuleUpserted(rule(&format!("ok-{round}-{w}"), &["T1059"], &[]))
                    };
                    (
                        w,
                        store
                            .append(vec![entry("2026-01-02T00:00:00Z", event)])
                            .await,
                    )
                }));
            }
            for t in tasks {
                let (w, outcome) = t.await.expect("task");
                if w == 15 {
                    assert!(
                        matches!(outcome, Err(Error::Corrupt { .. })),
                        "{l}: the bad batch must fail: {outcome:?}"
                    );
                } else {
                    outcome
                        .unwrap_or_else(|e| panic!("{l}: writer {w} failed with the bad one: {e}"));
                }
            }
        }
        assert_eq!(store.head().await.expect("head"), 1 + 3 * 29, "{l}");
    }
}
