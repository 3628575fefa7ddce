//! Shared test helpers: a tiny inline ATT&CK bundle, a journal builder, and the gate for tests
//! on the real corpora.
#![allow(dead_code)]

use attest_attack::{BundleInput, KnowledgeBase, TechniqueId};
use attest_core::coverage::Catalog;
use attest_core::journal::{Event, JournalEntry};
use attest_core::result::{Evidence, Outcome, ValidationResult};
use attest_core::rule::{
    Dependency, DependencyOrigin, Origin, Rule, RuleDependency, RuleFormat, RuleId,
};
use attest_core::source::DataSource;
use attest_core::state::State;
use jiff::{SignedDuration, Timestamp};

/// A v18-style Enterprise bundle cut down to what coverage needs: two parents with
/// sub-techniques, a revoked id with a `revoked-by` chain, a deprecated id, telemetry through
/// detection strategies and analytics, and two groups using techniques directly, via software
/// and via a campaign.
pub const BUNDLE: &str = r#"{
  "type": "bundle", "id": "bundle--1", "spec_version": "2.0",
  "objects": [
    {"type": "x-mitre-matrix", "id": "x-mitre-matrix--1", "name": "Enterprise ATT&CK",
     "x_mitre_domains": ["enterprise-attack"],
     "external_references": [{"source_name": "mitre-attack", "external_id": "enterprise-attack"}],
     "tactic_refs": ["x-mitre-tactic--ex", "x-mitre-tactic--pe", "x-mitre-tactic--ca"]},
    {"type": "x-mitre-tactic", "id": "x-mitre-tactic--ex", "name": "Execution",
     "x_mitre_shortname": "execution",
     "external_references": [{"source_name": "mitre-attack", "external_id": "TA0002"}]},
    {"type": "x-mitre-tactic", "id": "x-mitre-tactic--pe", "name": "Persistence",
     "x_mitre_shortname": "persistence",
     "external_references": [{"source_name": "mitre-attack", "external_id": "TA0003"}]},
    {"type": "x-mitre-tactic", "id": "x-mitre-tactic--ca", "name": "Credential Access",
     "x_mitre_shortname": "credential-access",
     "external_references": [{"source_name": "mitre-attack", "external_id": "TA0006"}]},
    {"type": "attack-pattern", "id": "attack-pattern--t1003", "name": "OS Credential Dumping",
     "x_mitre_domains": ["enterprise-attack"], "x_mitre_platforms": ["Windows", "Linux"],
     "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "credential-access"}],
     "external_references": [{"source_name": "mitre-attack", "external_id": "T1003"}]},
    {"type": "attack-pattern", "id": "attack-pattern--t1003-001", "name": "LSASS Memory",
     "x_mitre_domains": ["enterprise-attack"], "x_mitre_is_subtechnique": true, "x_mitre_platforms": ["Windows"],
     "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "credential-access"}],
     "external_references": [{"source_name": "mitre-attack", "external_id": "T1003.001"}]},
    {"type": "attack-pattern", "id": "attack-pattern--t1003-008", "name": "/etc/passwd and /etc/shadow",
     "x_mitre_domains": ["enterprise-attack"], "x_mitre_is_subtechnique": true, "x_mitre_platforms": ["Linux"],
     "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "credential-access"}],
     "external_references": [{"source_name": "mitre-attack", "external_id": "T1003.008"}]},
    {"type": "attack-pattern", "id": "attack-pattern--t1059", "name": "Command and Scripting Interpreter",
     "x_mitre_domains": ["enterprise-attack"], "x_mitre_platforms": ["Windows", "Linux"],
     "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "execution"}],
     "external_references": [{"source_name": "mitre-attack", "external_id": "T1059"}]},
    {"type": "attack-pattern", "id": "attack-pattern--t1059-001", "name": "PowerShell",
     "x_mitre_domains": ["enterprise-attack"], "x_mitre_is_subtechnique": true, "x_mitre_platforms": ["Windows"],
     "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "execution"}],
     "external_references": [{"source_name": "mitre-attack", "external_id": "T1059.001"}]},
    {"type": "attack-pattern", "id": "attack-pattern--t1078", "name": "Valid Accounts",
     "x_mitre_domains": ["enterprise-attack"], "x_mitre_platforms": ["Windows", "Linux"],
     "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "persistence"},
                           {"kill_chain_name": "mitre-attack", "phase_name": "credential-access"}],
     "external_references": [{"source_name": "mitre-attack", "external_id": "T1078"}]},
    {"type": "attack-pattern", "id": "attack-pattern--t1086", "name": "PowerShell", "revoked": true,
     "x_mitre_domains": ["enterprise-attack"],
     "external_references": [{"source_name": "mitre-attack", "external_id": "T1086"}]},
    {"type": "attack-pattern", "id": "attack-pattern--t1099", "name": "Timestomp", "x_mitre_deprecated": true,
     "x_mitre_domains": ["enterprise-attack"],
     "external_references": [{"source_name": "mitre-attack", "external_id": "T1099"}]},
    {"type": "intrusion-set", "id": "intrusion-set--apt29", "name": "APT29",
     "aliases": ["APT29", "Cozy Bear"],
     "external_references": [{"source_name": "mitre-attack", "external_id": "G0016"}]},
    {"type": "intrusion-set", "id": "intrusion-set--apt28", "name": "APT28",
     "aliases": ["APT28", "Fancy Bear"],
     "external_references": [{"source_name": "mitre-attack", "external_id": "G0007"}]},
    {"type": "malware", "id": "malware--mimikatz", "name": "Mimikatz",
     "external_references": [{"source_name": "mitre-attack", "external_id": "S0002"}]},
    {"type": "campaign", "id": "campaign--solarwinds", "name": "SolarWinds Compromise",
     "external_references": [{"source_name": "mitre-attack", "external_id": "C0024"}]},
    {"type": "x-mitre-data-component", "id": "x-mitre-data-component--pa", "name": "Process Access",
     "external_references": [{"source_name": "mitre-attack", "external_id": "DC0035"}]},
    {"type": "x-mitre-data-component", "id": "x-mitre-data-component--pc", "name": "Process Creation",
     "external_references": [{"source_name": "mitre-attack", "external_id": "DC0032"}]},
    {"type": "x-mitre-data-component", "id": "x-mitre-data-component--ce", "name": "Command Execution",
     "external_references": [{"source_name": "mitre-attack", "external_id": "DC0064"}]},
    {"type": "x-mitre-detection-strategy", "id": "x-mitre-detection-strategy--1", "name": "LSASS access",
     "x_mitre_analytic_refs": ["x-mitre-analytic--1"],
     "external_references": [{"source_name": "mitre-attack", "external_id": "DET0001"}]},
    {"type": "x-mitre-analytic", "id": "x-mitre-analytic--1", "name": "Analytic 0001",
     "x_mitre_platforms": ["Windows"],
     "x_mitre_log_source_references": [
       {"x_mitre_data_component_ref": "x-mitre-data-component--pa", "name": "WinEventLog:Sysmon", "channel": "EventCode=10"}],
     "external_references": [{"source_name": "mitre-attack", "external_id": "AN0001"}]},
    {"type": "x-mitre-detection-strategy", "id": "x-mitre-detection-strategy--2", "name": "PowerShell",
     "x_mitre_analytic_refs": ["x-mitre-analytic--2"],
     "external_references": [{"source_name": "mitre-attack", "external_id": "DET0002"}]},
    {"type": "x-mitre-analytic", "id": "x-mitre-analytic--2", "name": "Analytic 0002",
     "x_mitre_platforms": ["Windows"],
     "x_mitre_log_source_references": [
       {"x_mitre_data_component_ref": "x-mitre-data-component--pc", "name": "WinEventLog:Security", "channel": "EventCode=4688"},
       {"x_mitre_data_component_ref": "x-mitre-data-component--ce", "name": "WinEventLog:PowerShell", "channel": "EventCode=4104"}],
     "external_references": [{"source_name": "mitre-attack", "external_id": "AN0002"}]},
    {"type": "relationship", "id": "relationship--s1", "relationship_type": "subtechnique-of",
     "source_ref": "attack-pattern--t1003-001", "target_ref": "attack-pattern--t1003"},
    {"type": "relationship", "id": "relationship--s2", "relationship_type": "subtechnique-of",
     "source_ref": "attack-pattern--t1003-008", "target_ref": "attack-pattern--t1003"},
    {"type": "relationship", "id": "relationship--s3", "relationship_type": "subtechnique-of",
     "source_ref": "attack-pattern--t1059-001", "target_ref": "attack-pattern--t1059"},
    {"type": "relationship", "id": "relationship--r1", "relationship_type": "revoked-by",
     "source_ref": "attack-pattern--t1086", "target_ref": "attack-pattern--t1059-001"},
    {"type": "relationship", "id": "relationship--d1", "relationship_type": "detects",
     "source_ref": "x-mitre-detection-strategy--1", "target_ref": "attack-pattern--t1003-001"},
    {"type": "relationship", "id": "relationship--d2", "relationship_type": "detects",
     "source_ref": "x-mitre-detection-strategy--2", "target_ref": "attack-pattern--t1059-001"},
    {"type": "relationship", "id": "relationship--u1", "relationship_type": "uses",
     "source_ref": "intrusion-set--apt29", "target_ref": "attack-pattern--t1078"},
    {"type": "relationship", "id": "relationship--u2", "relationship_type": "uses",
     "source_ref": "intrusion-set--apt29", "target_ref": "malware--mimikatz"},
    {"type": "relationship", "id": "relationship--u3", "relationship_type": "uses",
     "source_ref": "malware--mimikatz", "target_ref": "attack-pattern--t1003-001"},
    {"type": "relationship", "id": "relationship--u4", "relationship_type": "uses",
     "source_ref": "campaign--solarwinds", "target_ref": "attack-pattern--t1059-001"},
    {"type": "relationship", "id": "relationship--a1", "relationship_type": "attributed-to",
     "source_ref": "campaign--solarwinds", "target_ref": "intrusion-set--apt29"},
    {"type": "relationship", "id": "relationship--u5", "relationship_type": "uses",
     "source_ref": "intrusion-set--apt28", "target_ref": "attack-pattern--t1003-001"},
    {"type": "relationship", "id": "relationship--u6", "relationship_type": "uses",
     "source_ref": "intrusion-set--apt28", "target_ref": "attack-pattern--t1078"}
  ]
}"#;

/// The catalog of [`BUNDLE`].
pub fn catalog() -> Catalog {
    let input = BundleInput {
        name: "fixture",
        bytes: BUNDLE.as_bytes(),
        release: Some("18.1"),
    };
    match KnowledgeBase::from_bundles(&[input]) {
        Ok((kb, _warnings)) => Catalog::from_kb(&kb),
        Err(e) => panic!("fixture bundle does not load: {e}"),
    }
}

/// A technique id from a literal.
pub fn tid(s: &str) -> TechniqueId {
    match TechniqueId::parse(s) {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    }
}

/// An instant from a literal.
pub fn ts(s: &str) -> Timestamp {
    match s.parse() {
        Ok(t) => t,
        Err(e) => panic!("{s}: {e}"),
    }
}

/// `days` days.
pub fn days(days: i64) -> SignedDuration {
    SignedDuration::from_hours(24 * days)
}

/// A Sigma rule claiming `techniques` and needing `components`.
pub fn rule(id: &str, techniques: &[&str], components: &[&str]) -> Rule {
    let mut r = Rule::new(
        id,
        format!("rule {id}"),
        Origin {
            format: RuleFormat::Sigma,
            path: format!("{id}.yml"),
            root: "repo".into(),
        },
    );
    r.techniques = techniques.iter().map(|t| t.to_string()).collect();
    r.dependencies = components
        .iter()
        .map(|c| RuleDependency {
            dependency: Dependency::Component(c.to_string()),
            origin: DependencyOrigin::Declared,
        })
        .collect();
    r.content_hash = format!("{id}-v1");
    r
}

/// A queryable source providing `components`, with a one-day silence bound.
pub fn source(name: &str, components: &[&str], platforms: &[&str]) -> DataSource {
    let mut s = DataSource::new(name);
    s.components = components.iter().map(|c| c.to_string()).collect();
    s.platforms = platforms.iter().map(|p| p.to_string()).collect();
    s.max_silence = Some(days(1));
    s
}

/// A result.
pub fn result(rule: &str, technique: &str, outcome: Outcome, at: Timestamp) -> ValidationResult {
    ValidationResult {
        rule: RuleId(rule.into()),
        technique: technique.into(),
        test: Some("test-guid-1".into()),
        outcome,
        at,
        by: "ci".into(),
        evidence: Evidence::default(),
    }
}

/// An append-only journal that numbers its entries.
#[derive(Debug, Default, Clone)]
pub struct Journal {
    /// The entries.
    pub entries: Vec<JournalEntry>,
}

impl Journal {
    /// Appends an event at `at`.
    pub fn push(&mut self, at: Timestamp, event: Event) -> &mut Journal {
        let seq = self.entries.len() as u64 + 1;
        self.entries
            .push(JournalEntry::new(seq, at, "tester", event));
        self
    }

    /// The state after every entry.
    pub fn state(&self) -> State {
        State::from_journal(&self.entries)
    }

    /// The state after the entries up to `seq`.
    pub fn state_at(&self, seq: u64) -> State {
        State::from_journal(self.entries.iter().filter(|e| e.seq <= seq))
    }
}

/// Where the real ATT&CK bundles are, or `None` (after a loud SKIPPED line) when
/// `ATTEST_ATTACK_DIR` is unset. With `ATTEST_REQUIRE_CORPORA=1` a missing variable fails.
pub fn attack_dir(test: &str) -> Option<std::path::PathBuf> {
    match std::env::var_os("ATTEST_ATTACK_DIR") {
        Some(d) => Some(d.into()),
        None => {
            if std::env::var("ATTEST_REQUIRE_CORPORA").is_ok_and(|v| v == "1") {
                panic!("{test}: ATTEST_REQUIRE_CORPORA=1 but ATTEST_ATTACK_DIR is not set");
            }
            eprintln!("SKIPPED {test}: set ATTEST_ATTACK_DIR to run (e.g. /work/shared/attack)");
            None
        }
    }
}
