//! Coverage over the real Enterprise ATT&CK 18.1 bundle (set `ATTEST_ATTACK_DIR`).

mod common;

use attest_core::coverage::{self, Catalog, Claim, CoverageState, Scope};
use attest_core::journal::Event;
use attest_core::priority::{self, PriorityOptions};
use attest_core::profile::{ActorPaths, Profile, ProfileActor};
use attest_core::result::Outcome;
use common::*;

/// The catalog of Enterprise ATT&CK 18.1, or `None` (after a loud SKIPPED line) without
/// `ATTEST_ATTACK_DIR`.
fn enterprise_catalog(test: &str) -> Option<Catalog> {
    let path = attack_dir(test)?.join("enterprise-attack-18.1.json.gz");
    match attest_attack::load::from_path(&path) {
        Ok((kb, _)) => Some(Catalog::from_kb(&kb)),
        Err(e) => panic!("{}: {e}", path.display()),
    }
}

#[test]
fn coverage_over_the_enterprise_bundle() {
    let Some(cat) = enterprise_catalog("coverage_over_the_enterprise_bundle") else {
        return;
    };
    let parents = cat
        .techniques()
        .iter()
        .filter(|t| t.parent.is_none())
        .count();
    let subs = cat.techniques().len() - parents;
    assert_eq!((parents, subs), (216, 475));
    assert_eq!(cat.tactics().len(), 14);
    assert!(
        matches!(cat.resolve("T1086"), Claim::Remapped { current, .. } if current == tid("T1059.001"))
    );
    let lsass_needs: Vec<String> = cat
        .technique(tid("T1003.001"))
        .map(|t| t.telemetry.iter().map(|n| n.component.clone()).collect())
        .unwrap_or_default();
    assert_eq!(lsass_needs.len(), 5, "{lsass_needs:?}");
    assert!(lsass_needs.iter().any(|c| c == "Process Access"));

    let t0 = ts("2026-06-01T00:00:00Z");
    let mut j = Journal::default();
    let mut sysmon = source(
        "sysmon",
        &["Process Access", "Process Creation"],
        &["Windows"],
    );
    sysmon.max_silence = None;
    j.push(t0, Event::SourceUpserted(sysmon));
    j.push(
        t0,
        Event::RuleUpserted(rule("lsass", &["T1003.001"], &["Process Access"])),
    );
    j.push(
        t0,
        Event::RuleUpserted(rule("old-ps", &["T1086"], &["Process Creation"])),
    );
    j.push(
        t0,
        Event::ResultRecorded(result("lsass", "T1003.001", Outcome::Pass, t0)),
    );
    let state = j.state();
    let cov = coverage::compute(&cat, &state, &Scope::all(), t0);
    assert_eq!(cov.overall.total(), 691);
    assert_eq!(cov.overall.count(CoverageState::Validated), 1);
    assert_eq!(cov.overall.count(CoverageState::Unvalidated), 1);
    assert_eq!(cov.overall.count(CoverageState::Gap), 689);
    assert_eq!(cov.claims.remapped.len(), 1);
    assert_eq!(cov.tactics.len(), 14);
    let lsass = cov.technique(tid("T1003.001"));
    assert_eq!(
        lsass.map(|l| l.visibility.iter().map(|v| v.ratio()).collect::<Vec<_>>()),
        Some(vec![(2, 5)])
    );
    let parent = cov.technique(tid("T1003")).and_then(|t| t.subtechniques);
    assert_eq!(parent.map(|s| (s.validated, s.total)), Some((1, 8)));
    assert_eq!(
        cov.technique(tid("T1003")).map(|t| t.state),
        Some(CoverageState::Gap)
    );

    let p = Profile {
        name: "apt29".into(),
        actors: vec![ProfileActor {
            actor: "APT29".into(),
            weight: 1.0,
        }],
        platforms: vec!["Windows".into()],
        paths: ActorPaths {
            via_software: true,
            via_campaigns: true,
        },
        ..Profile::default()
    };
    let target = priority::target_set(&cat, &state.actors, &p, &PriorityOptions::default());
    assert_eq!(target.techniques.len(), 214);
    assert!(target.problems.is_empty(), "{:?}", target.problems);
    let pc = coverage::compute(&cat, &state, &Scope::profile(target), t0);
    assert_eq!(pc.overall.total(), 214);
    assert_eq!(pc.overall.count(CoverageState::Validated), 1);
}

/// The workspace's remap table goes first, is journaled, and counts claims for its targets;
/// a target that is itself revoked is followed further.
#[test]
fn remap_table_resolves_claims_before_revoked_by() {
    let Some(cat) = enterprise_catalog("remap_table_resolves_claims_before_revoked_by") else {
        return;
    };
    let mut table = attest_attack::RemapTable::new();
    // T1086 (PowerShell) is revoked by T1059.001 in ATT&CK; the team says otherwise.
    table.insert(tid("T1086"), tid("T1059.003"));
    // An id from a newer release, mapped onto an id the table maps again.
    table.insert(tid("T1685"), tid("T1086"));
    match cat.resolve_with("T1086", &table) {
        Claim::Remapped {
            current,
            chain,
            by_table,
            ..
        } => {
            assert_eq!(current, tid("T1059.003"));
            assert_eq!(chain, vec![tid("T1059.003")]);
            assert!(by_table);
        }
        other => panic!("{other:?}"),
    }
    match cat.resolve_with("T1685", &table) {
        Claim::Remapped {
            current,
            chain,
            by_table,
            ..
        } => {
            assert_eq!(
                current,
                tid("T1059.003"),
                "the table is followed: T1685 → T1086 → T1059.003"
            );
            assert_eq!(chain, vec![tid("T1086"), tid("T1059.003")]);
            assert!(by_table);
        }
        other => panic!("{other:?}"),
    }
    // A target that is revoked is followed through revoked-by; a loop stops.
    let mut revoked_target = attest_attack::RemapTable::new();
    revoked_target.insert(tid("T1685"), tid("T1086"));
    revoked_target.insert(tid("T1686"), tid("T1687"));
    revoked_target.insert(tid("T1687"), tid("T1686"));
    assert!(matches!(
        cat.resolve_with("T1685", &revoked_target),
        Claim::Remapped { current, by_table: true, .. } if current == tid("T1059.001")
    ));
    assert!(matches!(
        cat.resolve_with("T1686", &revoked_target),
        Claim::Unresolved(coverage::Unresolved::Unknown)
    ));
    // Without the table, ATT&CK's resolution stands.
    assert!(matches!(
        cat.resolve_with("T1086", &attest_attack::RemapTable::new()),
        Claim::Remapped { current, by_table: false, .. } if current == tid("T1059.001")
    ));

    // In the engine: a rule claiming T1685 counts for nothing until the table is journaled.
    let t0 = ts("2026-06-01T00:00:00Z");
    let mut j = Journal::default();
    j.push(t0, Event::RuleUpserted(rule("r-new", &["T1685"], &[])));
    let scope = Scope::all();
    let c = coverage::compute(&cat, &j.state(), &scope, t0);
    assert_eq!(c.claims.unresolved.len(), 1);
    assert_eq!(
        c.technique(tid("T1059.001")).map(|t| t.state),
        Some(CoverageState::Gap)
    );
    j.push(t0, Event::RemapTableSet(table));
    let c = coverage::compute(&cat, &j.state(), &scope, t0);
    assert!(c.claims.unresolved.is_empty());
    let remap = &c.claims.remapped[0];
    assert!(remap.by_table);
    assert_eq!(remap.current, tid("T1059.003"));
    assert_ne!(
        c.technique(tid("T1059.003")).map(|t| t.state),
        Some(CoverageState::Gap),
        "the rule now claims T1059.003"
    );
}
