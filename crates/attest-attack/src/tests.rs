//! Unit tests of loading and querying, on small hand-written STIX bundles.

use crate::*;

/// A v18-style Enterprise bundle cut down to the cases that matter.
const V18: &str = r#"{
  "type": "bundle", "id": "bundle--1", "spec_version": "2.0",
  "objects": [
    {"type": "x-mitre-matrix", "id": "x-mitre-matrix--1", "name": "Enterprise ATT&CK",
     "x_mitre_domains": ["enterprise-attack"],
     "external_references": [{"source_name": "mitre-attack", "external_id": "enterprise-attack"}],
     "tactic_refs": ["x-mitre-tactic--ia", "x-mitre-tactic--pe", "x-mitre-tactic--ca"],
     "x_mitre_attack_spec_version": "3.2.0"},
    {"type": "x-mitre-tactic", "id": "x-mitre-tactic--pe", "name": "Persistence",
     "x_mitre_shortname": "persistence",
     "external_references": [{"source_name": "mitre-attack", "external_id": "TA0003"}]},
    {"type": "x-mitre-tactic", "id": "x-mitre-tactic--ia", "name": "Initial Access",
     "x_mitre_shortname": "initial-access",
     "external_references": [{"source_name": "mitre-attack", "external_id": "TA0001"}]},
    {"type": "x-mitre-tactic", "id": "x-mitre-tactic--ca", "name": "Credential Access",
     "x_mitre_shortname": "credential-access",
     "external_references": [{"source_name": "mitre-attack", "external_id": "TA0006"}]},
    {"type": "attack-pattern", "id": "attack-pattern--t1078", "name": "Valid Accounts",
     "description": "Adversaries may obtain and abuse credentials.",
     "x_mitre_domains": ["enterprise-attack"], "x_mitre_platforms": ["Windows", "Linux"],
     "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "persistence"},
                           {"kill_chain_name": "mitre-attack", "phase_name": "initial-access"}],
     "external_references": [{"source_name": "mitre-attack", "external_id": "T1078"}]},
    {"type": "attack-pattern", "id": "attack-pattern--t1078-001", "name": "Default Accounts",
     "x_mitre_is_subtechnique": true, "x_mitre_platforms": ["Windows"],
     "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "initial-access"}],
     "external_references": [{"source_name": "mitre-attack", "external_id": "T1078.001"}]},
    {"type": "attack-pattern", "id": "attack-pattern--t1003", "name": "OS Credential Dumping",
     "x_mitre_platforms": ["Windows", "Linux"],
     "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "credential-access"}],
     "external_references": [{"source_name": "mitre-attack", "external_id": "T1003"}]},
    {"type": "attack-pattern", "id": "attack-pattern--t1003-001", "name": "LSASS Memory",
     "x_mitre_is_subtechnique": true, "x_mitre_platforms": ["Windows"],
     "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "credential-access"}],
     "external_references": [{"source_name": "mitre-attack", "external_id": "t1003.001"}]},
    {"type": "attack-pattern", "id": "attack-pattern--t1150", "name": "Plist Modification",
     "revoked": true,
     "external_references": [{"source_name": "mitre-attack", "external_id": "T1150"}]},
    {"type": "attack-pattern", "id": "attack-pattern--t1547-011", "name": "Plist Modification",
     "revoked": true,
     "external_references": [{"source_name": "mitre-attack", "external_id": "T1547.011"}]},
    {"type": "attack-pattern", "id": "attack-pattern--t1647", "name": "Plist File Modification",
     "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "defense-evasion"}],
     "external_references": [{"source_name": "mitre-attack", "external_id": "T1647"}]},
    {"type": "attack-pattern", "id": "attack-pattern--t1099", "name": "Timestomp",
     "x_mitre_deprecated": true,
     "external_references": [{"source_name": "mitre-attack", "external_id": "T1099"}]},
    {"type": "course-of-action", "id": "course-of-action--m1026", "name": "Privileged Account Management",
     "external_references": [{"source_name": "mitre-attack", "external_id": "M1026"}]},
    {"type": "course-of-action", "id": "course-of-action--old", "name": "OS Credential Dumping Mitigation",
     "x_mitre_deprecated": true,
     "external_references": [{"source_name": "mitre-attack", "external_id": "T1003"}]},
    {"type": "intrusion-set", "id": "intrusion-set--apt29", "name": "APT29",
     "aliases": ["APT29", "Cozy Bear", "NOBELIUM"],
     "external_references": [{"source_name": "mitre-attack", "external_id": "G0016"}]},
    {"type": "malware", "id": "malware--mimikatz", "name": "Mimikatz",
     "x_mitre_aliases": ["Mimikatz"],
     "external_references": [{"source_name": "mitre-attack", "external_id": "S0002"}]},
    {"type": "campaign", "id": "campaign--solarwinds", "name": "SolarWinds Compromise",
     "aliases": ["SolarWinds Compromise"],
     "external_references": [{"source_name": "mitre-attack", "external_id": "C0024"}]},
    {"type": "x-mitre-data-component", "id": "x-mitre-data-component--pa", "name": "Process Access",
     "x_mitre_log_sources": [{"name": "WinEventLog:Sysmon", "channel": "EventCode=10"}],
     "external_references": [{"source_name": "mitre-attack", "external_id": "DC0035"}]},
    {"type": "x-mitre-data-component", "id": "x-mitre-data-component--pc", "name": "Process Creation",
     "x_mitre_log_sources": [{"name": "WinEventLog:Sysmon", "channel": "EventCode=1"},
                             {"name": "auditd:SYSCALL", "channel": "execve"}],
     "external_references": [{"source_name": "mitre-attack", "external_id": "DC0032"}]},
    {"type": "x-mitre-detection-strategy", "id": "x-mitre-detection-strategy--1",
     "name": "LSASS access", "x_mitre_analytic_refs": ["x-mitre-analytic--win", "x-mitre-analytic--lin", "x-mitre-analytic--gone"],
     "external_references": [{"source_name": "mitre-attack", "external_id": "DET0001"}]},
    {"type": "x-mitre-analytic", "id": "x-mitre-analytic--win", "name": "Analytic 0001",
     "x_mitre_platforms": ["Windows"],
     "x_mitre_log_source_references": [
       {"x_mitre_data_component_ref": "x-mitre-data-component--pa", "name": "WinEventLog:Sysmon", "channel": "EventCode=10"}],
     "external_references": [{"source_name": "mitre-attack", "external_id": "AN0001"}]},
    {"type": "x-mitre-analytic", "id": "x-mitre-analytic--lin", "name": "Analytic 0002",
     "x_mitre_platforms": ["Linux"],
     "x_mitre_log_source_references": [
       {"x_mitre_data_component_ref": "x-mitre-data-component--pc", "name": "auditd:SYSCALL", "channel": "execve"}],
     "external_references": [{"source_name": "mitre-attack", "external_id": "AN0002"}]},
    {"type": "x-mitre-asset", "id": "x-mitre-asset--1", "name": "Some asset"},
    {"id": "attack-pattern--no-type", "name": "No type"},
    {"type": "malware", "id": "malware--odd", "name": 5},
    {"type": "relationship", "id": "relationship--sub1", "relationship_type": "subtechnique-of",
     "source_ref": "attack-pattern--t1078-001", "target_ref": "attack-pattern--t1078"},
    {"type": "relationship", "id": "relationship--sub2", "relationship_type": "subtechnique-of",
     "source_ref": "attack-pattern--t1003-001", "target_ref": "attack-pattern--t1003"},
    {"type": "relationship", "id": "relationship--rev1", "relationship_type": "revoked-by",
     "source_ref": "attack-pattern--t1150", "target_ref": "attack-pattern--t1547-011"},
    {"type": "relationship", "id": "relationship--rev2", "relationship_type": "revoked-by",
     "source_ref": "attack-pattern--t1547-011", "target_ref": "attack-pattern--t1647"},
    {"type": "relationship", "id": "relationship--mit", "relationship_type": "mitigates",
     "source_ref": "course-of-action--m1026", "target_ref": "attack-pattern--t1078",
     "description": "Audit accounts."},
    {"type": "relationship", "id": "relationship--u1", "relationship_type": "uses",
     "source_ref": "intrusion-set--apt29", "target_ref": "attack-pattern--t1078",
     "description": "APT29 used compromised accounts."},
    {"type": "relationship", "id": "relationship--u2", "relationship_type": "uses",
     "source_ref": "intrusion-set--apt29", "target_ref": "malware--mimikatz"},
    {"type": "relationship", "id": "relationship--u3", "relationship_type": "uses",
     "source_ref": "malware--mimikatz", "target_ref": "attack-pattern--t1003-001",
     "description": "Mimikatz reads LSASS."},
    {"type": "relationship", "id": "relationship--u4", "relationship_type": "uses",
     "source_ref": "campaign--solarwinds", "target_ref": "attack-pattern--t1003-001",
     "description": "During the campaign, APT29 dumped LSASS."},
    {"type": "relationship", "id": "relationship--u5", "relationship_type": "uses",
     "source_ref": "campaign--solarwinds", "target_ref": "attack-pattern--t1078"},
    {"type": "relationship", "id": "relationship--att", "relationship_type": "attributed-to",
     "source_ref": "campaign--solarwinds", "target_ref": "intrusion-set--apt29"},
    {"type": "relationship", "id": "relationship--det", "relationship_type": "detects",
     "source_ref": "x-mitre-detection-strategy--1", "target_ref": "attack-pattern--t1003-001"},
    {"type": "relationship", "id": "relationship--dangling", "relationship_type": "uses",
     "source_ref": "intrusion-set--apt29", "target_ref": "attack-pattern--missing"},
    {"type": "relationship", "id": "relationship--noends", "relationship_type": "uses"},
    {"type": "relationship", "id": "relationship--targets", "relationship_type": "targets",
     "source_ref": "attack-pattern--t1078", "target_ref": "x-mitre-asset--1"},
    {"type": "relationship", "id": "relationship--odd", "relationship_type": "mitigates",
     "source_ref": "intrusion-set--apt29", "target_ref": "attack-pattern--t1078"}
  ]
}"#;

/// A v17-style bundle (STIX 2.1 envelope as attack-stix-data publishes it): data components
/// without ATT&CK ids `detect` techniques directly; the release is in `x-mitre-collection`.
const V17: &str = r#"{
  "type": "bundle", "id": "bundle--2",
  "objects": [
    {"type": "x-mitre-collection", "id": "x-mitre-collection--1", "name": "Mobile ATT&CK",
     "x_mitre_version": "17.1", "spec_version": "2.1"},
    {"type": "x-mitre-matrix", "id": "x-mitre-matrix--old", "name": "Old", "x_mitre_deprecated": true,
     "x_mitre_domains": ["mobile-attack"], "tactic_refs": ["x-mitre-tactic--m1", "x-mitre-tactic--m2", "x-mitre-tactic--m3"]},
    {"type": "x-mitre-matrix", "id": "x-mitre-matrix--2", "name": "Mobile ATT&CK",
     "x_mitre_domains": ["mobile-attack"], "tactic_refs": ["x-mitre-tactic--m1"]},
    {"type": "x-mitre-tactic", "id": "x-mitre-tactic--m1", "name": "Collection",
     "x_mitre_shortname": "collection", "x_mitre_domains": ["mobile-attack"],
     "external_references": [{"source_name": "mitre-attack", "external_id": "TA0035"}]},
    {"type": "attack-pattern", "id": "attack-pattern--t1429", "name": "Audio Capture",
     "x_mitre_domains": ["mobile-attack"], "x_mitre_platforms": ["Android", "iOS"],
     "kill_chain_phases": [{"kill_chain_name": "mitre-mobile-attack", "phase_name": "collection"}],
     "external_references": [{"source_name": "mitre-attack", "external_id": "T1429"}]},
    {"type": "x-mitre-data-component", "id": "x-mitre-data-component--api", "name": "API Calls",
     "x_mitre_domains": ["mobile-attack"]},
    {"type": "relationship", "id": "relationship--d1", "relationship_type": "detects",
     "source_ref": "x-mitre-data-component--api", "target_ref": "attack-pattern--t1429",
     "description": "Watch for microphone API use."}
  ]
}"#;

fn load(inputs: &[BundleInput<'_>]) -> (KnowledgeBase, Vec<Warning>) {
    KnowledgeBase::from_bundles(inputs).unwrap_or_else(|e| panic!("load failed: {e}"))
}

fn v18() -> (KnowledgeBase, Vec<Warning>) {
    load(&[BundleInput {
        name: "v18.json",
        bytes: V18.as_bytes(),
        release: Some("18.1"),
    }])
}

fn tid(s: &str) -> TechniqueId {
    TechniqueId::parse(s).unwrap_or_else(|e| panic!("{e}"))
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap_or_else(|e| panic!("{e}"));
    enc.finish().unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn domain_release_and_counts() {
    let (kb, _) = v18();
    let d = &kb.domains()[0];
    assert_eq!(d.key, "enterprise-attack");
    assert_eq!(d.name, "Enterprise ATT&CK");
    assert_eq!(d.release.as_deref(), Some("18.1"));
    assert_eq!(d.attack_spec_version.as_deref(), Some("3.2.0"));
    assert_eq!(d.data_model, DataModel::DetectionStrategies);
    let c = &kb.counts()[0];
    assert_eq!(
        (
            c.tactics,
            c.techniques,
            c.subtechniques,
            c.inactive_techniques
        ),
        (3, 3, 2, 3)
    );
    assert_eq!(
        (c.groups, c.software, c.campaigns, c.mitigations),
        (1, 1, 1, 1)
    );
    assert_eq!(
        (c.data_components, c.detection_strategies, c.analytics),
        (2, 1, 2)
    );
}

#[test]
fn warnings_for_tolerated_problems() {
    let (kb, warnings) = v18();
    let kinds = count_warnings(&warnings);
    let n = |k: WarningKind| {
        kinds
            .iter()
            .find(|(kind, _)| *kind == k)
            .map_or(0, |(_, n)| *n)
    };
    assert_eq!(n(WarningKind::UnknownType), 1, "{warnings:#?}");
    // The object without `type`, and the relationship without ends.
    assert_eq!(n(WarningKind::MissingField), 2, "{warnings:#?}");
    assert_eq!(n(WarningKind::MalformedObject), 1, "{warnings:#?}");
    // The `uses` to a missing technique and the analytic that is not loaded.
    assert_eq!(n(WarningKind::DanglingReference), 2, "{warnings:#?}");
    // `targets` (ICS technique → asset) is not modelled.
    assert_eq!(n(WarningKind::UnknownRelationship), 1, "{warnings:#?}");
    assert_eq!(n(WarningKind::UnexpectedEnds), 1, "{warnings:#?}");
    // The `defense-evasion` phase of T1647 is not in this small matrix.
    assert_eq!(n(WarningKind::OddValue), 1, "{warnings:#?}");
    let malformed = warnings
        .iter()
        .find(|w| w.kind == WarningKind::MalformedObject)
        .map(|w| (w.object.clone(), w.message.clone()));
    let (object, message) = malformed.unwrap_or_default();
    assert_eq!(object.as_deref(), Some("malware--odd"));
    assert!(message.contains("byte offset"), "{message}");
    assert!(kb.by_stix_id("malware--odd").is_none());
    // 12 well-formed modelled relationships survive out of 16.
    assert_eq!(kb.relationships().len(), 12);
}

#[test]
fn technique_lookup_and_tactics_in_matrix_order() {
    let (kb, _) = v18();
    let t = kb
        .technique(tid("t1078"))
        .unwrap_or_else(|| panic!("T1078"));
    assert_eq!(t.meta.name, "Valid Accounts");
    assert_eq!(t.tactics, ["initial-access", "persistence"]);
    assert_eq!(t.platforms, ["Windows", "Linux"]);
    assert!(!t.is_subtechnique);
    let subs: Vec<String> = kb
        .subtechniques(t)
        .iter()
        .map(|s| s.id.to_string())
        .collect();
    assert_eq!(subs, ["T1078.001"]);
    let sub = kb
        .technique(tid("T1003.001"))
        .unwrap_or_else(|| panic!("T1003.001"));
    // The bundle spells it lower-case; the model keeps the canonical form.
    assert_eq!(sub.meta.attack_id.as_deref(), Some("T1003.001"));
    assert_eq!(kb.parent(sub).map(|p| p.id), Some(tid("T1003")));
    let order: Vec<&str> = kb
        .tactics_in_order(None)
        .iter()
        .map(|t| t.shortname.as_str())
        .collect();
    assert_eq!(
        order,
        ["initial-access", "persistence", "credential-access"]
    );
    assert_eq!(
        kb.tactic("Credential-Access")
            .map(|t| t.meta.attack_id.clone()),
        Some(Some("TA0006".into()))
    );
    assert_eq!(kb.technique(tid("T1099")), None, "deprecated is not active");
    let initial = kb.tactic("TA0001").unwrap_or_else(|| panic!("TA0001"));
    let column: Vec<String> = kb
        .techniques_of_tactic(initial)
        .iter()
        .map(|t| t.id.to_string())
        .collect();
    assert_eq!(column, ["T1078", "T1078.001"]);
    assert!(kb.technique_any(tid("T1099")).is_some());
}

#[test]
fn t_numbers_resolve_among_techniques_only() {
    let (kb, _) = v18();
    // A deprecated mitigation carries T1003 as its ATT&CK id.
    let hits = kb.lookup(
        "T1003",
        LookupOptions {
            include_inactive: true,
        },
    );
    assert_eq!(hits.len(), 1);
    assert!(matches!(hits[0], ObjectRef::Technique(t) if t.meta.name == "OS Credential Dumping"));
    assert!(matches!(
        kb.resolve_technique(tid("T1003")),
        Resolution::Active(t) if t.meta.stix_id == "attack-pattern--t1003"
    ));
    // By name, the deprecated mitigation is found only when asked.
    assert!(
        kb.lookup("os credential dumping mitigation", LookupOptions::default())
            .is_empty()
    );
    assert_eq!(
        kb.lookup(
            "os credential dumping mitigation",
            LookupOptions {
                include_inactive: true
            }
        )
        .len(),
        1
    );
}

#[test]
fn revoked_chain_is_followed_transitively() {
    let (kb, _) = v18();
    match kb.resolve_technique(tid("T1150")) {
        Resolution::Revoked {
            technique,
            replacement,
            chain,
        } => {
            assert_eq!(technique.id, tid("T1150"));
            assert_eq!(replacement.map(|r| r.id), Some(tid("T1647")));
            assert_eq!(chain, [tid("T1547.011"), tid("T1647")]);
        }
        other => panic!("expected revoked, got {other:?}"),
    }
    assert_eq!(
        kb.resolve_technique(tid("T1150")).to_string(),
        "T1150: revoked by T1547.011 → T1647 (Plist File Modification)"
    );
    assert_eq!(
        kb.resolve_technique(tid("T1099")).to_string(),
        "T1099: deprecated (Timestomp)"
    );
    assert_eq!(
        kb.resolve_technique(tid("T1685")).to_string(),
        "T1685: unknown to ATT&CK v18.1"
    );
    assert_eq!(
        kb.resolve_technique(tid("T1150")).current().map(|t| t.id),
        Some(tid("T1647"))
    );
    assert!(matches!(
        kb.resolve_technique(tid("T1099")),
        Resolution::Deprecated(_)
    ));
    assert_eq!(kb.resolve_technique(tid("T1099")).current(), None);
}

#[test]
fn unknown_ids_are_reported_with_the_release() {
    let (kb, _) = v18();
    assert_eq!(
        kb.resolve_technique(tid("T1685")),
        Resolution::Unknown {
            id: tid("T1685"),
            release: "18.1".into()
        }
    );
    assert!(kb.resolve_technique_str("not-an-id").is_err());
    let mut remap = RemapTable::new();
    remap.insert(tid("T1685"), tid("T1078"));
    let r = kb.resolve_with_remap(tid("T1685"), &remap);
    assert_eq!(r.remapped_to, Some(tid("T1078")));
    assert!(matches!(r.resolution, Resolution::Active(t) if t.id == tid("T1078")));
    let r = kb.resolve_with_remap(tid("T1003"), &remap);
    assert_eq!(r.remapped_to, None);
    assert!(matches!(r.resolution, Resolution::Active(_)));
}

#[test]
fn group_lookup_by_id_name_alias_and_stix_id() {
    let (kb, _) = v18();
    for q in [
        "G0016",
        "g0016",
        "APT29",
        "cozy bear",
        " Nobelium ",
        "intrusion-set--apt29",
    ] {
        assert_eq!(
            kb.group(q).map(|g| g.meta.name.as_str()),
            Some("APT29"),
            "{q}"
        );
    }
    assert!(kb.group("Mimikatz").is_none());
    assert_eq!(
        kb.software_named("s0002").map(|s| s.kind),
        Some(SoftwareKind::Malware)
    );
    assert!(kb.campaign("SolarWinds Compromise").is_some());
    assert!(kb.mitigation("M1026").is_some());
}

#[test]
fn group_techniques_with_paths() {
    let (kb, _) = v18();
    let g = kb.group("APT29").unwrap_or_else(|| panic!("APT29"));
    let direct = kb.group_techniques(g, GroupTechniqueOptions::default());
    assert_eq!(direct.len(), 1);
    assert_eq!(direct[0].technique.id, tid("T1078"));
    assert_eq!(
        direct[0].paths[0].procedure,
        Some("APT29 used compromised accounts.")
    );
    let all = kb.group_techniques(
        g,
        GroupTechniqueOptions {
            via_software: true,
            via_campaigns: true,
        },
    );
    let ids: Vec<String> = all.iter().map(|t| t.technique.id.to_string()).collect();
    assert_eq!(ids, ["T1003.001", "T1078"]);
    let lsass = &all[0];
    assert_eq!(lsass.paths.len(), 2);
    assert!(matches!(lsass.paths[0].path, UsePath::Software(s) if s.meta.name == "Mimikatz"));
    assert_eq!(lsass.paths[0].procedure, Some("Mimikatz reads LSASS."));
    assert!(
        matches!(lsass.paths[1].path, UsePath::Campaign(c) if c.meta.attack_id.as_deref() == Some("C0024"))
    );
    let accounts = &all[1];
    assert_eq!(accounts.paths.len(), 2);
    assert_eq!(accounts.paths[0].path, UsePath::Direct);
}

#[test]
fn technique_neighbourhood() {
    let (kb, _) = v18();
    let t = kb
        .technique(tid("T1078"))
        .unwrap_or_else(|| panic!("T1078"));
    let mitigations = kb.mitigations_of(t);
    assert_eq!(mitigations.len(), 1);
    assert_eq!(mitigations[0].0.meta.attack_id.as_deref(), Some("M1026"));
    assert_eq!(mitigations[0].1, Some("Audit accounts."));
    let users: Vec<(&str, Option<&str>)> = kb
        .technique_users(t)
        .iter()
        .map(|p| (p.user.kind_label(), p.user.meta().attack_id.as_deref()))
        .collect();
    assert_eq!(
        users,
        [("campaign", Some("C0024")), ("group", Some("G0016"))]
    );
    let lsass = kb
        .technique(tid("T1003.001"))
        .unwrap_or_else(|| panic!("T1003.001"));
    let strategies = kb.detection_strategies_of(lsass);
    assert_eq!(strategies.len(), 1);
    assert_eq!(kb.analytics_of(strategies[0]).len(), 2);
}

#[test]
fn telemetry_v18_honours_the_analytics_platform() {
    let (kb, _) = v18();
    let win = kb.telemetry(tid("T1003.001"), Some("windows"));
    assert_eq!(win.len(), 1);
    assert_eq!(win[0].data_component.meta.name, "Process Access");
    assert_eq!(
        win[0].log_source,
        Some(("WinEventLog:Sysmon", Some("EventCode=10")))
    );
    assert_eq!(win[0].platforms, ["Windows"]);
    assert!(matches!(
        win[0].origin,
        TelemetryOrigin::Analytic { analytic, .. } if analytic.meta.attack_id.as_deref() == Some("AN0001")
    ));
    // The technique lists Windows only, but the Linux analytic still counts on Linux: the
    // analytic's own platform decides, never a flattened union.
    let lin = kb.telemetry(tid("T1003.001"), Some("Linux"));
    assert_eq!(lin.len(), 1);
    assert_eq!(lin[0].data_component.meta.name, "Process Creation");
    assert_eq!(kb.telemetry(tid("T1003.001"), None).len(), 2);
    assert!(kb.telemetry(tid("T1003.001"), Some("macOS")).is_empty());
    assert!(kb.telemetry(tid("T1685"), None).is_empty());
}

#[test]
fn data_component_catalogue() {
    let (kb, _) = v18();
    let pc = kb
        .data_component("process creation")
        .unwrap_or_else(|| panic!("Process Creation"));
    assert_eq!(pc.log_sources.len(), 2);
    assert_eq!(
        kb.data_component("DC0035").map(|d| d.meta.name.as_str()),
        Some("Process Access")
    );
    let names =
        |v: Vec<&DataComponent>| -> Vec<String> { v.iter().map(|d| d.meta.name.clone()).collect() };
    assert_eq!(
        names(kb.data_components_for_log_source("winEventLog:sysmon", None)),
        ["Process Access", "Process Creation"]
    );
    assert_eq!(
        names(kb.data_components_for_log_source("WinEventLog:Sysmon", Some("eventcode=1"))),
        ["Process Creation"]
    );
    assert!(kb.data_components_for_log_source("nope", None).is_empty());
}

#[test]
fn search_ranks_id_and_name_first() {
    let (kb, _) = v18();
    let hits = kb.search("accounts");
    let got: Vec<(String, MatchField)> = hits
        .iter()
        .map(|h| (h.object.meta().name.clone(), h.field))
        .collect();
    assert_eq!(
        got,
        [
            ("Valid Accounts".to_owned(), MatchField::Name),
            ("Default Accounts".to_owned(), MatchField::Name),
        ]
    );
    let hits = kb.search("cozy");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].field, MatchField::Alias);
    let hits = kb.search("t1003");
    assert_eq!(
        hits.len(),
        2,
        "techniques only; the deprecated mitigation is inactive"
    );
    assert!(hits.iter().all(|h| h.field == MatchField::Id));
    assert!(
        kb.search("credentials")
            .iter()
            .any(|h| h.field == MatchField::Description)
    );
    assert!(kb.search("  ").is_empty());
}

#[test]
fn v17_data_model_and_several_domains() {
    let gz = gzip(V18.as_bytes());
    let (kb, warnings) = load(&[
        BundleInput {
            name: "v18.json.gz",
            bytes: &gz,
            release: Some("18.1"),
        },
        BundleInput {
            name: "mobile.json",
            bytes: V17.as_bytes(),
            release: Some("99.9"),
        },
    ]);
    assert_eq!(kb.domains().len(), 2);
    let m = &kb.domains()[1];
    assert_eq!(m.key, "mobile-attack");
    assert_eq!(m.name, "Mobile ATT&CK");
    assert_eq!(
        m.release.as_deref(),
        Some("17.1"),
        "x-mitre-collection wins"
    );
    assert_eq!(m.data_model, DataModel::DataComponentDetects);
    assert_eq!(m.tactic_order.len(), 1, "the deprecated matrix is ignored");
    assert_eq!(
        kb.release_label(),
        "enterprise-attack 18.1, mobile-attack 17.1"
    );
    let t = kb.telemetry(tid("T1429"), Some("Android"));
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].data_component.meta.name, "API Calls");
    assert_eq!(t[0].data_component.meta.attack_id, None);
    assert_eq!(t[0].log_source, None);
    assert_eq!(t[0].platforms, ["Android", "iOS"]);
    assert!(matches!(
        t[0].origin,
        TelemetryOrigin::DataComponentDetects { description: Some(d) } if d.starts_with("Watch")
    ));
    assert!(kb.telemetry(tid("T1429"), Some("Windows")).is_empty());
    assert_eq!(kb.counts()[1].techniques, 1);
    assert_eq!(kb.counts()[0].techniques, 3);
    assert!(warnings.iter().any(|w| w.bundle == "v18.json.gz"));
}

#[test]
fn same_object_in_two_bundles_is_merged_not_duplicated() {
    let (kb, warnings) = load(&[
        BundleInput::new("a.json", V17.as_bytes()),
        BundleInput::new("b.json", V17.as_bytes()),
    ]);
    assert_eq!(kb.techniques().len(), 1);
    assert_eq!(kb.relationships().len(), 1);
    assert!(
        !warnings
            .iter()
            .any(|w| w.kind == WarningKind::DuplicateObject)
    );
    let dup = V17.replace(
        r#"{"type": "relationship""#,
        r#"{"type": "x-mitre-data-component", "id": "x-mitre-data-component--api", "name": "Again"},
    {"type": "relationship""#,
    );
    let (_, warnings) = load(&[BundleInput::new("dup.json", dup.as_bytes())]);
    assert_eq!(
        warnings
            .iter()
            .filter(|w| w.kind == WarningKind::DuplicateObject)
            .count(),
        1
    );
}

#[test]
fn missing_release_is_a_warning() {
    let (kb, warnings) = load(&[BundleInput::new("x.json", V18.as_bytes())]);
    assert_eq!(kb.domains()[0].release, None);
    assert!(
        warnings
            .iter()
            .any(|w| w.kind == WarningKind::UnknownRelease)
    );
    assert!(matches!(
        kb.resolve_technique(tid("T1685")),
        Resolution::Unknown { release, .. } if release.contains("unknown")
    ));
    assert_eq!(
        kb.resolve_technique(tid("T1685")).to_string(),
        "T1685: unknown to ATT&CK (enterprise-attack (release unknown))"
    );
}

fn load_err(bytes: &[u8]) -> Error {
    match KnowledgeBase::from_bundles(&[BundleInput::new("bad", bytes)]) {
        Ok(_) => panic!("expected an error"),
        Err(Error::InBundle { name, source }) => {
            assert_eq!(name, "bad");
            *source
        }
        Err(e) => panic!("error without the input name: {e}"),
    }
}

#[test]
fn truncated_gzip_is_an_error() {
    let gz = gzip(V18.as_bytes());
    let cut = &gz[..gz.len() / 2];
    let err = load_err(cut);
    assert!(matches!(err, Error::Gzip { .. }), "{err}");
    // A valid deflate stream with the trailer cut off is caught too.
    let err = load_err(&gz[..gz.len() - 3]);
    assert!(matches!(err, Error::Gzip { .. }), "{err}");
    let err = load_err(&[0x1f, 0x8b]);
    assert!(matches!(err, Error::Gzip { .. }), "{err}");
}

#[test]
fn json_array_is_not_a_bundle() {
    let err = load_err(br#"[{"type": "attack-pattern", "id": "attack-pattern--1"}]"#);
    assert!(
        matches!(&err, Error::NotABundle { reason } if reason.contains("array")),
        "{err}"
    );
    let err = load_err(br#"{"type": "attack-pattern", "id": "x"}"#);
    assert!(matches!(err, Error::NotABundle { .. }), "{err}");
    let err = load_err(br#"{"type": "bundle"}"#);
    assert!(matches!(err, Error::NotABundle { .. }), "{err}");
    let err = load_err(b"   ");
    assert!(matches!(err, Error::NotABundle { .. }), "{err}");
}

#[test]
fn malformed_json_names_line_and_column() {
    let err = load_err(b"{\"type\": \"bundle\",\n \"objects\": [ {\"type\": \"tool\", }\n]}");
    match err {
        Error::Json { line, column, .. } => {
            assert_eq!(line, 2);
            assert!(column > 20, "{column}");
        }
        other => panic!("expected a JSON error, got {other}"),
    }
    let err = load_err(b"nonsense");
    assert!(matches!(err, Error::Json { line: 1, .. }), "{err}");
    let err = load_err(&[b'{', 0xff, b'}']);
    assert!(matches!(err, Error::Utf8 { offset: 1 }), "{err}");
}

#[test]
fn object_without_type_and_relationship_without_ends_are_warnings() {
    let bundle = br#"{"type": "bundle", "objects": [
        {"id": "attack-pattern--x", "name": "no type"},
        {"type": "relationship", "id": "relationship--x", "relationship_type": "uses",
         "source_ref": "intrusion-set--gone", "target_ref": "attack-pattern--gone"},
        {"type": "relationship", "id": "relationship--y", "relationship_type": "uses"},
        {"type": "attack-pattern", "name": "no id"},
        {"type": "attack-pattern", "id": "attack-pattern--noref", "name": "no external refs"}
    ]}"#;
    let (kb, warnings) = load(&[BundleInput::new("w.json", bundle)]);
    let kinds: Vec<WarningKind> = warnings.iter().map(|w| w.kind).collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == WarningKind::MissingField)
            .count(),
        3,
        "{warnings:#?}"
    );
    assert!(kinds.contains(&WarningKind::DanglingReference));
    assert!(kinds.contains(&WarningKind::MissingAttackId));
    assert!(kb.relationships().is_empty());
    assert!(kb.techniques().is_empty());
}

#[test]
fn warnings_display_their_context() {
    let (_, warnings) = v18();
    let w = warnings
        .iter()
        .find(|w| w.kind == WarningKind::UnknownType)
        .map(ToString::to_string)
        .unwrap_or_default();
    assert_eq!(
        w,
        "v18.json: unknown object type (x-mitre-asset--1): object type `x-mitre-asset` is not modelled; skipped"
    );
}

#[test]
fn newer_copy_of_a_shared_object_wins() {
    let older = br#"{"type": "bundle", "objects": [
        {"type": "x-mitre-data-source", "id": "x-mitre-data-source--p", "name": "Process",
         "modified": "2023-01-01T00:00:00.000Z", "x_mitre_domains": ["enterprise-attack"]}]}"#;
    let newer = br#"{"type": "bundle", "objects": [
        {"type": "x-mitre-data-source", "id": "x-mitre-data-source--p", "name": "Process",
         "x_mitre_deprecated": true,
         "modified": "2025-10-01T00:00:00.000Z", "x_mitre_domains": ["ics-attack"]}]}"#;
    let (kb, _) = load(&[
        BundleInput::new("old", older),
        BundleInput::new("new", newer),
    ]);
    assert_eq!(kb.data_sources().len(), 1);
    let ds = &kb.data_sources()[0];
    assert!(ds.meta.deprecated, "the newer copy replaced the older one");
    assert_eq!(ds.meta.domains, ["ics-attack", "enterprise-attack"]);
    let (kb, _) = load(&[
        BundleInput::new("new", newer),
        BundleInput::new("old", older),
    ]);
    assert_eq!(kb.data_sources().len(), 1);
    assert!(
        kb.data_sources()[0].meta.deprecated,
        "an older copy never replaces"
    );
    assert_eq!(
        kb.data_sources()[0].meta.domains,
        ["ics-attack", "enterprise-attack"]
    );
}

#[test]
fn fast_and_robust_paths_agree() {
    // Without the one malformed object the fast (streaming) path loads V18; with it, the robust
    // path does. Apart from that object, they must build the same knowledge base.
    let clean = V18.replace(
        r#"{"type": "malware", "id": "malware--odd", "name": 5},"#,
        "",
    );
    assert_ne!(clean, V18);
    let (fast, fast_warnings) = load(&[BundleInput::new("v18.json", clean.as_bytes())]);
    let (robust, robust_warnings) = load(&[BundleInput::new("v18.json", V18.as_bytes())]);
    assert_eq!(fast.counts(), robust.counts());
    assert_eq!(fast.relationships(), robust.relationships());
    assert_eq!(fast.techniques(), robust.techniques());
    assert_eq!(fast_warnings.len() + 1, robust_warnings.len());
    // The fast path names objects by position only; the robust one adds the byte offset.
    assert!(
        fast_warnings
            .iter()
            .any(|w| w.message.starts_with("object #") && !w.message.contains("offset"))
    );
}

#[test]
fn large_gzip_bundle_takes_the_pipelined_fast_path() {
    // Big enough (about 10 MB) to be cut into several pieces by the inflating thread.
    let filler = "lorem ipsum }, {\\\"type\\\": dolor ".repeat(60);
    let mut text = String::from(
        r#"{"type": "bundle", "id": "bundle--big", "spec_version": "2.0", "objects": ["#,
    );
    for i in 0..5000 {
        text.push_str(&format!(
            r#"{{"type": "attack-pattern", "id": "attack-pattern--{i}", "name": "T {i}",
               "description": "{filler}",
               "external_references": [{{"source_name": "mitre-attack", "external_id": "T{:04}"}}]}},"#,
            1000 + i
        ));
    }
    text.push_str(r#"{"type": "x-mitre-matrix", "id": "x-mitre-matrix--1", "name": "M", "x_mitre_domains": ["enterprise-attack"], "tactic_refs": []}]}"#);
    assert!(text.len() > 2 * crate::pieces::PIECE);
    let gz = gzip(text.as_bytes());
    let mut warnings = Vec::new();
    let (kb, fast) =
        crate::build::Builder::load_traced(&mut warnings, &[BundleInput::new("big", &gz)]);
    assert!(fast, "the fast path should not have fallen back");
    let kb = kb.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(kb.techniques().len(), 5000);
    assert_eq!(kb.domains()[0].stix_version.as_deref(), Some("2.0"));
    assert!(kb.technique(tid("T3999")).is_some());
    // The same bytes through the robust path (forced by one odd object) agree.
    let odd = text.replacen(r#""name": "T 5","#, r#""name": 5,"#, 1);
    let (kb2, fast2) = crate::build::Builder::load_traced(
        &mut Vec::new(),
        &[BundleInput::new("big", &gzip(odd.as_bytes()))],
    );
    assert!(!fast2);
    assert_eq!(kb2.map(|k| k.techniques().len()).ok(), Some(4999));
}

#[test]
fn every_truncation_and_byte_flip_is_an_error_or_a_load_never_a_panic() {
    // Strided to keep the debug-build test quick; the fuzz target covers the rest.
    let gz = gzip(V18.as_bytes());
    let (mut cuts, mut errors) = (0, 0);
    for (bytes, step) in [(V18.as_bytes(), 5), (&gz[..], 3)] {
        for cut in (0..bytes.len()).step_by(step) {
            cuts += 1;
            if KnowledgeBase::from_bundles(&[BundleInput::new("cut", &bytes[..cut])]).is_err() {
                errors += 1;
            }
        }
        let mut copy = bytes.to_vec();
        for i in (0..copy.len()).step_by(29) {
            let old = copy[i];
            for b in [b'"', b'{', b']', 0xff, b'\\'] {
                copy[i] = b;
                let _ = KnowledgeBase::from_bundles(&[BundleInput::new("flip", &copy)]);
            }
            copy[i] = old;
        }
    }
    // Every strict prefix of a JSON document or a gzip stream is incomplete.
    assert_eq!(errors, cuts);
}
