//! Integration tests on MITRE's real bundles in `ATTEST_ATTACK_DIR`.
//!
//! Every expected figure was computed independently with a small Python script over the raw
//! STIX JSON (active = neither `revoked` nor `x_mitre_deprecated`, domain from
//! `x_mitre_domains`), not read back from this crate.

mod common;

use std::collections::BTreeSet;
use std::sync::OnceLock;

use attest_attack::{
    DataModel, DomainCounts, GroupTechniqueOptions, KnowledgeBase, LookupOptions, ObjectRef,
    Resolution, TechniqueId, UsePath, Warning, WarningKind, load,
};

fn tid(s: &str) -> TechniqueId {
    TechniqueId::parse(s).unwrap_or_else(|e| panic!("{e}"))
}

type Loaded = (KnowledgeBase, Vec<Warning>);

/// Loads a bundle once per test binary (the tests share it).
fn bundle(
    cell: &'static OnceLock<Loaded>,
    file: &str,
    test: &str,
) -> Option<&'static (KnowledgeBase, Vec<Warning>)> {
    // Asked per test, so that every skipped test says so.
    let dir = common::attack_dir(test)?;
    Some(
        cell.get_or_init(|| {
            load::from_path(&dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
        }),
    )
}

fn v18(test: &str) -> Option<&'static (KnowledgeBase, Vec<Warning>)> {
    static CELL: OnceLock<Loaded> = OnceLock::new();
    bundle(&CELL, "enterprise-attack-18.1.json.gz", test)
}

fn v17(test: &str) -> Option<&'static (KnowledgeBase, Vec<Warning>)> {
    static CELL: OnceLock<Loaded> = OnceLock::new();
    bundle(&CELL, "enterprise-attack-17.1.json.gz", test)
}

/// Expected counts in the order tactics, techniques, sub-techniques, inactive techniques,
/// groups, software, campaigns, mitigations, data sources, data components, detection
/// strategies, analytics.
fn counts(n: [usize; 12]) -> DomainCounts {
    DomainCounts {
        domain: String::new(),
        tactics: n[0],
        techniques: n[1],
        subtechniques: n[2],
        inactive_techniques: n[3],
        groups: n[4],
        software: n[5],
        campaigns: n[6],
        mitigations: n[7],
        data_sources: n[8],
        data_components: n[9],
        detection_strategies: n[10],
        analytics: n[11],
    }
}

fn only_counts(kb: &KnowledgeBase, domain: &str) -> DomainCounts {
    let all = kb.counts();
    assert_eq!(all.len(), 1);
    let mut c = all[0].clone();
    assert_eq!(c.domain, domain);
    c.domain.clear();
    c
}

#[test]
fn enterprise_18_1_counts() {
    let Some((kb, warnings)) = v18("enterprise_18_1_counts") else {
        return;
    };
    let d = &kb.domains()[0];
    assert_eq!(d.key, "enterprise-attack");
    assert_eq!(d.name, "Enterprise ATT&CK");
    assert_eq!(d.release.as_deref(), Some("18.1"), "from the file name");
    assert_eq!(d.stix_version.as_deref(), Some("2.0"));
    assert_eq!(d.data_model, DataModel::DetectionStrategies);
    assert_eq!(
        only_counts(kb, "enterprise-attack"),
        counts([14, 216, 475, 144, 172, 784, 52, 44, 0, 106, 691, 1739])
    );
    assert_eq!(kb.relationships().len(), 20_048);
    assert!(
        warnings.is_empty(),
        "{:#?}",
        &warnings[..warnings.len().min(5)]
    );
}

#[test]
fn enterprise_17_1_counts() {
    let Some((kb, warnings)) = v17("enterprise_17_1_counts") else {
        return;
    };
    assert_eq!(kb.domains()[0].data_model, DataModel::DataComponentDetects);
    assert_eq!(
        only_counts(kb, "enterprise-attack"),
        counts([14, 211, 468, 144, 166, 755, 47, 44, 37, 106, 0, 0])
    );
    assert_eq!(kb.relationships().len(), 20_411);
    assert!(warnings.is_empty());
    // v17 data components have no external_references at all.
    assert!(
        kb.data_components()
            .iter()
            .all(|d| d.meta.attack_id.is_none())
    );
    assert!(kb.data_component("process creation").is_some());
}

#[test]
fn ics_18_1_and_mobile_17_1_counts() {
    let Some(dir) = common::attack_dir("ics_18_1_and_mobile_17_1_counts") else {
        return;
    };
    let (kb, warnings) =
        load::from_path(&dir.join("ics-attack-18.1.json")).unwrap_or_else(|e| panic!("{e}"));
    let d = &kb.domains()[0];
    assert_eq!(
        (d.key.as_str(), d.name.as_str()),
        ("ics-attack", "ICS ATT&CK")
    );
    assert_eq!(
        d.release.as_deref(),
        Some("18.1"),
        "from x-mitre-collection"
    );
    assert_eq!(d.data_model, DataModel::DetectionStrategies);
    assert_eq!(
        only_counts(&kb, "ics-attack"),
        counts([12, 83, 0, 12, 14, 23, 7, 52, 0, 36, 83, 82])
    );
    assert_eq!(kb.relationships().len(), 688);
    // 18 x-mitre-asset objects and 685 `targets` relationships are not modelled.
    let by_kind = attest_attack::count_warnings(&warnings);
    assert_eq!(
        by_kind,
        [
            (WarningKind::UnknownType, 18),
            (WarningKind::UnknownRelationship, 685)
        ]
    );

    let (kb, warnings) =
        load::from_path(&dir.join("mobile-attack-17.1.json")).unwrap_or_else(|e| panic!("{e}"));
    let d = &kb.domains()[0];
    assert_eq!(
        (d.key.as_str(), d.release.as_deref()),
        ("mobile-attack", Some("17.1"))
    );
    assert_eq!(d.data_model, DataModel::DataComponentDetects);
    assert_eq!(
        only_counts(&kb, "mobile-attack"),
        counts([12, 75, 46, 67, 15, 118, 3, 13, 6, 17, 0, 0])
    );
    assert_eq!(kb.relationships().len(), 1_766);
    assert!(warnings.is_empty());
}

#[test]
fn several_domains_at_once() {
    let Some(dir) = common::attack_dir("several_domains_at_once") else {
        return;
    };
    let (kb, _) = load::from_paths(&[
        dir.join("enterprise-attack-18.1.json.gz"),
        dir.join("ics-attack-18.1.json"),
        dir.join("mobile-attack-17.1.json"),
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    let keys: Vec<&str> = kb.domains().iter().map(|d| d.key.as_str()).collect();
    assert_eq!(keys, ["enterprise-attack", "ics-attack", "mobile-attack"]);
    let c = kb.counts();
    assert_eq!(
        (c[0].techniques, c[1].techniques, c[2].techniques),
        (216, 83, 75)
    );
    assert_eq!(kb.tactics_in_order(Some("ics-attack")).len(), 12);
    assert!(kb.technique(tid("T0800")).is_some(), "an ICS technique");
    assert!(kb.technique(tid("T1429")).is_some(), "a Mobile technique");
    assert_eq!(
        kb.release_label(),
        "enterprise-attack 18.1, ics-attack 18.1, mobile-attack 17.1"
    );
}

#[test]
fn tactics_of_t1078_in_matrix_order() {
    for (name, loaded) in [
        ("v18", v18("tactics_of_t1078")),
        ("v17", v17("tactics_of_t1078")),
    ] {
        let Some((kb, _)) = loaded else { return };
        let t = kb
            .technique(tid("T1078"))
            .unwrap_or_else(|| panic!("{name}: T1078"));
        assert_eq!(t.meta.name, "Valid Accounts");
        // The bundle lists defense-evasion, persistence, privilege-escalation, initial-access;
        // the matrix orders initial-access first.
        assert_eq!(
            t.tactics,
            [
                "initial-access",
                "persistence",
                "privilege-escalation",
                "defense-evasion"
            ],
            "{name}"
        );
        let subs: Vec<String> = kb
            .subtechniques(t)
            .iter()
            .map(|s| s.id.to_string())
            .collect();
        assert_eq!(
            subs,
            ["T1078.001", "T1078.002", "T1078.003", "T1078.004"],
            "{name}"
        );
    }
}

#[test]
fn credential_access_column() {
    let Some((kb, _)) = v18("credential_access_column") else {
        return;
    };
    let ca = kb
        .tactic("credential-access")
        .unwrap_or_else(|| panic!("TA0006"));
    assert_eq!(ca.meta.attack_id.as_deref(), Some("TA0006"));
    let column = kb.techniques_of_tactic(ca);
    assert_eq!(column.len(), 67);
    assert_eq!(column.iter().filter(|t| t.is_subtechnique).count(), 50);
}

fn component_names<'a>(
    reqs: impl IntoIterator<Item = &'a attest_attack::DataComponent>,
) -> Vec<String> {
    reqs.into_iter()
        .map(|d| d.meta.name.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

#[test]
fn telemetry_of_t1003_001_on_windows_v18() {
    let Some((kb, _)) = v18("telemetry_of_t1003_001_on_windows_v18") else {
        return;
    };
    let reqs = kb.telemetry(tid("T1003.001"), Some("Windows"));
    assert_eq!(
        component_names(reqs.iter().map(|r| r.data_component)),
        [
            "File Creation",
            "Process Access",
            "Process Creation",
            "User Account Metadata",
            "Windows Registry Key Modification"
        ]
    );
    let pairs: BTreeSet<(String, &str, Option<&str>)> = reqs
        .iter()
        .filter_map(|r| {
            let (n, c) = r.log_source?;
            Some((r.data_component.meta.name.clone(), n, c))
        })
        .collect();
    assert_eq!(pairs.len(), 5);
    assert!(pairs.contains(&(
        "Process Access".to_owned(),
        "WinEventLog:Sysmon",
        Some("EventCode=10")
    )));
    assert!(
        reqs.iter()
            .all(|r| r.platforms.iter().any(|p| p == "Windows"))
    );
    assert!(kb.telemetry(tid("T1003.001"), Some("Linux")).is_empty());
    let t = kb
        .technique(tid("T1003.001"))
        .unwrap_or_else(|| panic!("T1003.001"));
    assert_eq!(kb.detection_strategies_of(t).len(), 1);
}

#[test]
fn telemetry_of_t1003_001_on_windows_v17() {
    let Some((kb, _)) = v17("telemetry_of_t1003_001_on_windows_v17") else {
        return;
    };
    let reqs = kb.telemetry(tid("T1003.001"), Some("Windows"));
    assert_eq!(
        component_names(reqs.iter().map(|r| r.data_component)),
        [
            "Command Execution",
            "File Creation",
            "Logon Session Creation",
            "OS API Execution",
            "Process Access",
            "Process Creation",
            "Windows Registry Key Modification"
        ]
    );
    assert!(reqs.iter().all(|r| r.log_source.is_none()));
    assert!(
        kb.telemetry(tid("T1003.001"), Some("Linux")).is_empty(),
        "T1003.001 is Windows-only"
    );
}

#[test]
fn analytics_keep_their_own_platform() {
    let Some((kb, _)) = v18("analytics_keep_their_own_platform") else {
        return;
    };
    // Across every technique, a platform-filtered requirement always comes from an analytic
    // that lists the platform: nothing is flattened across platforms.
    let mut checked = 0;
    for t in kb.techniques().iter().filter(|t| t.meta.is_active()) {
        for p in ["Windows", "Linux", "macOS"] {
            for r in kb.telemetry(t.id, Some(p)) {
                assert!(r.platforms.iter().any(|x| x == p), "{} {p}", t.id);
                checked += 1;
            }
        }
    }
    assert!(checked > 1000, "{checked}");
}

#[test]
fn apt29_techniques_direct_and_via_software_and_campaigns() {
    for (name, loaded, with_sw, with_all) in [
        ("v18", v18("apt29_techniques"), 229, 249),
        ("v17", v17("apt29_techniques"), 227, 247),
    ] {
        let Some((kb, _)) = loaded else { return };
        let g = kb
            .group("cozy bear")
            .unwrap_or_else(|| panic!("{name}: APT29"));
        assert_eq!(g.meta.attack_id.as_deref(), Some("G0016"));
        assert_eq!(g.aliases.len(), 15);
        let direct = kb.group_techniques(g, GroupTechniqueOptions::default());
        assert_eq!(direct.len(), 66, "{name}");
        assert!(
            direct
                .iter()
                .all(|t| t.paths.iter().all(|p| p.path == UsePath::Direct))
        );
        assert_eq!(kb.software_of(g).len(), 49, "{name}");
        let sw = kb.group_techniques(
            g,
            GroupTechniqueOptions {
                via_software: true,
                via_campaigns: false,
            },
        );
        assert_eq!(sw.len(), with_sw, "{name}");
        let camp = kb.group_techniques(
            g,
            GroupTechniqueOptions {
                via_software: false,
                via_campaigns: true,
            },
        );
        assert_eq!(camp.len(), 119, "{name}");
        let campaigns: BTreeSet<&str> = kb
            .campaigns_of(g)
            .iter()
            .filter_map(|c| c.meta.attack_id.as_deref())
            .collect();
        assert_eq!(campaigns, BTreeSet::from(["C0023", "C0024"]));
        let all = kb.group_techniques(
            g,
            GroupTechniqueOptions {
                via_software: true,
                via_campaigns: true,
            },
        );
        assert_eq!(all.len(), with_all, "{name}");
        let direct_with_text = direct
            .iter()
            .filter(|t| t.paths[0].procedure.is_some())
            .count();
        assert_eq!(
            direct_with_text, 66,
            "every direct use carries procedure text"
        );
    }
}

#[test]
fn revoked_chain_of_depth_two() {
    let Some((kb, _)) = v18("revoked_chain_of_depth_two") else {
        return;
    };
    match kb.resolve_technique(tid("T1150")) {
        Resolution::Revoked {
            replacement, chain, ..
        } => {
            assert_eq!(chain, [tid("T1547.011"), tid("T1647")]);
            assert_eq!(
                replacement.map(|t| t.meta.name.as_str()),
                Some("Plist File Modification")
            );
        }
        other => panic!("{other:?}"),
    }
    match kb.resolve_technique(tid("T1073")) {
        Resolution::Revoked { chain, .. } => {
            assert_eq!(chain, [tid("T1574.002"), tid("T1574.001")]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn deprecated_mitigation_t_number_does_not_confuse_technique_lookup() {
    let Some((kb, _)) = v18("deprecated_mitigation_t_number") else {
        return;
    };
    // T1174 is both a revoked technique (Password Filter DLL) and a deprecated mitigation's id.
    let hits = kb.lookup(
        "T1174",
        LookupOptions {
            include_inactive: true,
        },
    );
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|h| matches!(h, ObjectRef::Technique(_))));
    match kb.resolve_technique(tid("T1174")) {
        Resolution::Revoked { technique, .. } => {
            assert_eq!(technique.meta.name, "Password Filter DLL");
            assert!(technique.meta.stix_id.starts_with("attack-pattern--"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(kb.technique(tid("T1174")), None);
}

#[test]
fn ids_from_a_newer_release_are_unknown() {
    let Some((kb, _)) = v18("ids_from_a_newer_release_are_unknown") else {
        return;
    };
    assert_eq!(
        kb.resolve_technique(tid("T1685")),
        Resolution::Unknown {
            id: tid("T1685"),
            release: "18.1".into()
        }
    );
}

#[test]
fn search_lsass() {
    let Some((kb, _)) = v18("search_lsass") else {
        return;
    };
    let hits = kb.search("lsass");
    // 12 active objects mention LSASS (counted with Python over the raw bundle).
    assert_eq!(hits.len(), 12);
    assert!(matches!(hits[0].object, ObjectRef::Technique(t) if t.id == tid("T1003.001")));
}
