//! One CVE walked through CTEM: imported → mapped to techniques through a CTID-shaped mapping
//! → its technique's gap raises its priority → a rule is validated → its priority drops, with
//! the reasons asserted at each step; and the exposure side of profiles, imports and history.

mod common;

use std::collections::BTreeMap;

use attest_core::coverage::{self, CoverageState, Scope};
use attest_core::exposure::{
    self, CloseReason, EffectiveOptions, Exposure, ExposureChangeKind, ExposureKey, ExposureStatus,
    FindingMapping, MappingIndex, MappingKind, MappingProblem, MappingSet, MappingType, Severity,
    TechniqueProvenance,
};
use attest_core::journal::Event;
use attest_core::priority::{self, PriorityOptions};
use attest_core::profile::Profile;
use attest_core::result::Outcome;
use attest_core::state::State;
use common::*;

const LOG4J: &str = "CVE-2021-44228";

fn finding(asset: &str, id: &str, cvss: f64) -> Exposure {
    Exposure {
        asset: asset.into(),
        finding: exposure::normalise_finding(id),
        title: "Apache Log4j2 JNDI RCE".into(),
        severity: Severity::Cvss(cvss),
        first_seen: Some(ts("2026-01-01T00:00:00Z")),
        last_seen: Some(ts("2026-01-02T00:00:00Z")),
        status: ExposureStatus::Open,
        techniques: Vec::new(),
        feed: "scanner".into(),
    }
}

/// A CTID-shaped mapping made for an older ATT&CK: T1086 was revoked by T1059.001 since, and
/// T1999 exists in no release we load.
fn ctid() -> MappingSet {
    let row = |t: &str, ty| FindingMapping {
        finding: LOG4J.into(),
        technique: t.into(),
        mapping_type: ty,
    };
    MappingSet {
        name: "ctid".into(),
        kind: MappingKind::Cve,
        attack_version: Some("9.0".into()),
        remap: Vec::new(),
        mappings: vec![
            row("T1086", MappingType::ExploitationTechnique),
            row("T1999", MappingType::SecondaryImpact),
        ],
    }
}

fn priorities(state: &State, now: jiff::Timestamp) -> Vec<exposure::EffectivePriority> {
    let cat = catalog();
    let cov = coverage::compute(&cat, state, &Scope::all(), now);
    let index = MappingIndex::new(state.exposure_mappings.values(), &cat, &state.remap);
    exposure::effective_priorities(
        state.exposures.values(),
        &index,
        &cat,
        &exposure::states_of(&cov),
        &EffectiveOptions::default(),
    )
}

#[test]
fn one_cve_walks_from_import_to_validated_detection() {
    let cat = catalog();
    let mut j = Journal::default();
    let t0 = ts("2026-01-03T00:00:00Z");

    // 1. Imported: two assets, nothing mapped yet — the severity alone.
    let plan = exposure::plan_exposure_import(
        &State::default().exposures,
        "scanner",
        vec![
            finding("web-01", "cve-2021-44228", 9.0),
            finding("web-02", LOG4J, 8.0),
        ],
        true,
    );
    assert_eq!((plan.new, plan.events.len()), (2, 2));
    for e in plan.events {
        j.push(t0, e);
    }
    let p = priorities(&j.state(), t0);
    assert_eq!(p[0].key, ExposureKey::new("web-01", LOG4J));
    assert_eq!(p[0].effective, 9.0);
    assert_eq!(
        p[0].reasons,
        vec![
            "severity CVSS 9.0 → 9.0".to_string(),
            "no technique mapped: priority is the severity alone".to_string()
        ]
    );

    // 2. Mapped through the CTID set: T1086 counts for T1059.001 (revoked-by), T1999 is
    // reported and not counted.
    j.push(t0, Event::ExposureMappingsLoaded(ctid()));
    let state = j.state();
    let index = MappingIndex::new(state.exposure_mappings.values(), &cat, &state.remap);
    assert_eq!(
        index.problems,
        vec![
            MappingProblem::Remapped {
                set: "ctid".into(),
                written: "T1086".into(),
                current: tid("T1059.001"),
            },
            MappingProblem::Unresolved {
                set: "ctid".into(),
                written: "T1999".into(),
                why: coverage::Unresolved::Unknown,
            },
        ]
    );
    let techniques = index.techniques_of(
        &state.exposures[&ExposureKey::new("web-01", LOG4J)].exposure,
        &cat,
    );
    assert_eq!(techniques.len(), 2);
    assert_eq!(techniques[0].technique, Some(tid("T1059.001")));
    assert_eq!(
        techniques[0].provenance,
        TechniqueProvenance::CveMapping {
            set: "ctid".into(),
            mapping_type: MappingType::ExploitationTechnique
        }
    );

    // 3. Nothing detects T1059.001: a gap raises most (half the headroom).
    let p = priorities(&state, t0);
    let top = &p[0];
    assert_eq!(top.key, ExposureKey::new("web-01", LOG4J));
    assert!((top.effective - 9.5).abs() < 1e-9, "{}", top.effective);
    assert_eq!(
        top.reasons,
        vec![
            "severity CVSS 9.0 → 9.0".to_string(),
            "T1059.001 (written T1086) from CVE mapping ctid (exploitation technique): no rule (gap) → raises most".to_string(),
            "T1999 from CVE mapping ctid (secondary impact): unknown to the loaded ATT&CK release, not counted".to_string(),
            "effective 9.5 = 9.0 + (10 − 9.0) × 0.5 because T1059.001 gap".to_string(),
        ]
    );
    // The lower-severity asset is raised too and stays below.
    assert!((p[1].effective - 9.0).abs() < 1e-9);

    // 4. A rule with telemetry exists: unvalidated raises less.
    let t1 = t0 + days(1);
    j.push(
        t1,
        Event::RuleUpserted(rule("ps", &["T1059.001"], &["Process Creation"])),
    );
    j.push(
        t1,
        Event::SourceUpserted(source("edr", &["Process Creation"], &["Windows"])),
    );
    j.push(
        t1,
        Event::SourceSeen {
            name: "edr".into(),
            at: t1,
        },
    );
    let p = priorities(&j.state(), t1);
    assert_eq!(p[0].techniques[0].state, Some(CoverageState::Unvalidated));
    assert!((p[0].effective - 9.25).abs() < 1e-9, "{}", p[0].effective);
    assert!(
        p[0].reasons[1].ends_with("a rule exists but is not validated → raises less"),
        "{:?}",
        p[0].reasons
    );

    // 5. A passing result validates it: the priority drops back to the severity.
    j.push(
        t1,
        Event::ResultRecorded(result("ps", "T1059.001", Outcome::Pass, t1)),
    );
    let p = priorities(&j.state(), t1);
    assert_eq!(p[0].techniques[0].state, Some(CoverageState::Validated));
    assert_eq!(p[0].effective, 9.0);
    assert_eq!(p[0].raise, 0.0);
    assert_eq!(
        p[0].reasons.last().map(String::as_str),
        Some("all 1 technique validated: priority stays at the severity 9.0")
    );
}

#[test]
fn profiles_with_exposures_gain_their_techniques_with_a_reason() {
    let cat = catalog();
    let mut j = Journal::default();
    let t0 = ts("2026-01-03T00:00:00Z");
    for e in [
        finding("web-01", LOG4J, 10.0),
        finding("web-02", LOG4J, 7.0),
    ] {
        j.push(t0, Event::ExposureObserved(e));
    }
    let mut accepted = finding("web-03", "CVE-2023-0001", 9.0);
    accepted.status = ExposureStatus::Accepted;
    accepted.techniques = vec!["T1078".into()];
    j.push(t0, Event::ExposureObserved(accepted));
    j.push(t0, Event::ExposureMappingsLoaded(ctid()));
    let state = j.state();
    let index = MappingIndex::new(state.exposure_mappings.values(), &cat, &state.remap);
    let needs = exposure::exposure_needs(state.exposures.values(), &index, &cat);
    // Accepted findings raise no need; the open CVE needs T1059.001 on two assets.
    assert_eq!(
        needs.keys().copied().collect::<Vec<_>>(),
        vec![tid("T1059.001")]
    );
    let uses = &needs[&tid("T1059.001")];
    assert_eq!(uses[0].reason(), "exposure CVE-2021-44228 on 2 assets");
    assert_eq!(uses[0].severity, 10.0);

    let mut profile = Profile {
        name: "fin".into(),
        platforms: vec!["Linux".into()],
        ..Profile::default()
    };
    profile.actors.push(attest_core::profile::ProfileActor {
        actor: "APT28".into(),
        weight: 1.0,
    });
    // Off: exposures change nothing.
    let off = priority::target_set_with_exposures(
        &cat,
        &BTreeMap::new(),
        &needs,
        &profile,
        &PriorityOptions::default(),
    );
    assert!(off.get(tid("T1059.001")).is_none());
    // On with weight 2: T1059.001 (Windows only) joins a Linux profile with score 2 × 1.0.
    profile.exposures = Some(2.0);
    let on = priority::target_set_with_exposures(
        &cat,
        &BTreeMap::new(),
        &needs,
        &profile,
        &PriorityOptions::default(),
    );
    let t = on.get(tid("T1059.001")).expect("joins the target set");
    assert_eq!(t.score, 2.0);
    assert_eq!(t.exposure_score, 2.0);
    assert_eq!(t.tier, "critical");
    assert_eq!(
        t.exposures[0].reason(),
        "exposure CVE-2021-44228 on 2 assets"
    );
    // Actor techniques keep their scores.
    assert_eq!(on.get(tid("T1078")).map(|t| t.score), Some(1.0));
}

#[test]
fn reimports_are_idempotent_and_close_what_is_fixed_or_gone() {
    let mut j = Journal::default();
    let t0 = ts("2026-01-03T00:00:00Z");
    let first = vec![
        finding("a", LOG4J, 9.0),
        finding("b", LOG4J, 9.0),
        finding("c", "AWS-S3-001", 5.0),
    ];
    let plan = exposure::plan_exposure_import(&j.state().exposures, "scanner", first.clone(), true);
    for e in plan.events {
        j.push(t0, e);
    }
    let before = j.state();
    // The same file again: nothing to write.
    let again = exposure::plan_exposure_import(&before.exposures, "scanner", first.clone(), true);
    assert!(again.events.is_empty());
    assert_eq!(again.unchanged, 3);
    // Another feed's full import closes nothing of this feed.
    let other = exposure::plan_exposure_import(&before.exposures, "other", vec![], true);
    assert!(other.events.is_empty());

    // Next scan: a fixed, b gone, c's severity up, d new (listed twice: last wins).
    let mut a = finding("a", LOG4J, 9.0);
    a.status = ExposureStatus::Fixed;
    let c = finding("c", "AWS-S3-001", 7.5);
    let next = vec![a, c, finding("d", LOG4J, 4.0), finding("d", LOG4J, 6.0)];
    let plan = exposure::plan_exposure_import(&before.exposures, "scanner", next, true);
    assert_eq!((plan.new, plan.updated, plan.closed), (1, 1, 2));
    assert_eq!(plan.duplicates, vec![ExposureKey::new("d", LOG4J)]);
    assert!(plan.events.contains(&Event::ExposureClosed {
        key: ExposureKey::new("b", LOG4J),
        reason: CloseReason::Absent
    }));
    let t1 = t0 + days(1);
    for e in plan.events {
        j.push(t1, e);
    }
    let after = j.state();
    assert_eq!(
        after.exposures[&ExposureKey::new("a", LOG4J)].closed_at,
        Some(t1)
    );
    assert_eq!(
        after.exposures[&ExposureKey::new("d", LOG4J)]
            .exposure
            .severity,
        Severity::Cvss(6.0)
    );

    // History lists every change.
    let changes = exposure::exposure_changes(&before.exposures, &after.exposures);
    let kinds: Vec<(String, &ExposureChangeKind)> =
        changes.iter().map(|c| (c.key.id(), &c.kind)).collect();
    assert_eq!(
        kinds,
        vec![
            ("CVE-2021-44228@a".to_string(), &ExposureChangeKind::Closed),
            ("CVE-2021-44228@b".to_string(), &ExposureChangeKind::Closed),
            (
                "AWS-S3-001@c".to_string(),
                &ExposureChangeKind::SeverityChanged {
                    from: Severity::Cvss(5.0),
                    to: Severity::Cvss(7.5)
                }
            ),
            ("CVE-2021-44228@d".to_string(), &ExposureChangeKind::Opened),
        ]
    );

    // A closed finding reported open again reopens.
    let plan = exposure::plan_exposure_import(
        &after.exposures,
        "scanner",
        vec![finding("b", LOG4J, 9.0)],
        false,
    );
    assert_eq!(plan.updated, 1);
}

#[test]
fn misconfigurations_map_through_their_own_sets_and_given_techniques_win() {
    let cat = catalog();
    let map = MappingSet {
        name: "cloud".into(),
        kind: MappingKind::Misconfiguration,
        attack_version: None,
        remap: vec![("T1234".into(), "T1078".into())],
        mappings: vec![FindingMapping {
            finding: "AWS-IAM-ROOT-KEYS".into(),
            technique: "T1234".into(),
            mapping_type: MappingType::Enables,
        }],
    };
    let mut map = map;
    // A CVE row in a misconfiguration map never applies to a CVE finding.
    map.mappings.push(FindingMapping {
        finding: "CVE-2020-0001".into(),
        technique: "T1003".into(),
        mapping_type: MappingType::Enables,
    });
    let index = MappingIndex::new([&map, &ctid()], &cat, &Default::default());
    let m = finding("acct-1", "AWS-IAM-ROOT-KEYS", 7.0);
    let ts_ = index.techniques_of(&m, &cat);
    assert_eq!(ts_.len(), 1);
    assert_eq!(ts_[0].technique, Some(tid("T1078")));
    assert_eq!(ts_[0].provenance.text(), "misconfiguration map cloud");
    assert!(
        index
            .techniques_of(&finding("x", "CVE-2020-0001", 5.0), &cat)
            .is_empty()
    );
    // Given techniques win over mappings.
    let mut given = finding("web-01", LOG4J, 9.0);
    given.techniques = vec!["T1003.001".into()];
    let g = index.techniques_of(&given, &cat);
    assert_eq!(g.len(), 1);
    assert_eq!(
        (g[0].technique, &g[0].provenance),
        (Some(tid("T1003.001")), &TechniqueProvenance::Given)
    );
}
