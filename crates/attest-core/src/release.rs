//! What moving a workspace to another ATT&CK release changes for *its* rules and profiles.
//!
//! Only the technique IDs the workspace uses are compared (claimed by rules, picked in profiles,
//! used by intel actors), because a release note of the whole matrix is not what a detection team
//! needs before an upgrade: it needs "these 12 rules now point at a revoked technique".

use std::collections::{BTreeMap, BTreeSet};

use attest_attack::{KnowledgeBase, Resolution, TechniqueId};

use crate::journal::AttackRelease;
use crate::rule::RuleStatus;
use crate::state::State;

/// How one technique ID the workspace uses fares in the new release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReleaseChange {
    /// Known in the old release, revoked in the new one.
    Revoked {
        /// The replacement in the new release, if any.
        replacement: Option<TechniqueId>,
    },
    /// Active in the old release, deprecated in the new one.
    Deprecated,
    /// The name changed.
    Renamed {
        /// Old name.
        from: String,
        /// New name.
        to: String,
    },
    /// Unknown to the old release, known to the new one (e.g. v19 IDs on a v19 release).
    NowResolves {
        /// Its name in the new release.
        name: String,
    },
    /// Known in the old release, unknown to the new one.
    NoLongerKnown,
    /// The telemetry ATT&CK lists for detecting it changed.
    TelemetryChanged {
        /// (platform, data component) pairs added.
        added: Vec<(String, String)>,
        /// (platform, data component) pairs removed.
        removed: Vec<(String, String)>,
    },
}

impl ReleaseChange {
    /// A short stable name: `revoked`, `deprecated`, `renamed`, `now-resolves`,
    /// `no-longer-known` or `telemetry`.
    pub fn kind(&self) -> &'static str {
        match self {
            ReleaseChange::Revoked { .. } => "revoked",
            ReleaseChange::Deprecated => "deprecated",
            ReleaseChange::Renamed { .. } => "renamed",
            ReleaseChange::NowResolves { .. } => "now-resolves",
            ReleaseChange::NoLongerKnown => "no-longer-known",
            ReleaseChange::TelemetryChanged { .. } => "telemetry",
        }
    }

    /// The change in words, e.g. `replaced by T1560` or `Credential Dumping → OS Credential
    /// Dumping` (empty when the kind says it all).
    pub fn detail(&self) -> String {
        match self {
            ReleaseChange::Revoked { replacement } => replacement
                .map(|r| format!("replaced by {r}"))
                .unwrap_or_else(|| "no replacement".into()),
            ReleaseChange::Deprecated | ReleaseChange::NoLongerKnown => String::new(),
            ReleaseChange::Renamed { from, to } => format!("{from} → {to}"),
            ReleaseChange::NowResolves { name } => name.clone(),
            ReleaseChange::TelemetryChanged { added, removed } => {
                let list = |v: &Vec<(String, String)>| {
                    v.iter()
                        .map(|(p, c)| format!("{c} [{p}]"))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                format!("added: {}; removed: {}", list(added), list(removed))
            }
        }
    }
}

/// The release set a knowledge base holds, as the journal records it: one entry per domain with
/// its version (`unknown` when the bundle did not say) and the bundle it was loaded from.
pub fn releases_of(kb: &KnowledgeBase) -> Vec<AttackRelease> {
    kb.domains()
        .iter()
        .map(|d| AttackRelease {
            domain: d.key.clone(),
            version: d.release.clone().unwrap_or_else(|| "unknown".into()),
            location: d.bundle.clone(),
        })
        .collect()
}

/// The technique IDs a workspace uses and who uses each (`rule <id>`, `profile <name>`,
/// `actor <name>`): claims of rules that are not retired, techniques picked in profiles, and
/// techniques of intel actors. Its keys are what [`compare_releases`] compares.
pub fn technique_users(state: &State) -> BTreeMap<String, Vec<String>> {
    let mut users: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for rec in state.rules.values() {
        if rec.rule.status == RuleStatus::Retired {
            continue;
        }
        for t in &rec.rule.techniques {
            users
                .entry(t.clone())
                .or_default()
                .push(format!("rule {}", rec.rule.id));
        }
    }
    for p in state.profiles.values() {
        for (t, _) in &p.extra_techniques {
            users
                .entry(t.clone())
                .or_default()
                .push(format!("profile {}", p.name));
        }
    }
    for a in state.actors.values() {
        for t in &a.techniques {
            users
                .entry(t.technique.clone())
                .or_default()
                .push(format!("actor {}", a.name));
        }
    }
    users
}

/// One change, with the technique and how many workspace items use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TechniqueChange {
    /// The ID as used by the workspace.
    pub technique: String,
    /// What changed.
    pub change: ReleaseChange,
}

fn telemetry_set(kb: &KnowledgeBase, id: TechniqueId) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for req in kb.telemetry(id, None) {
        let component = req.data_component.meta.name.clone();
        if req.platforms.is_empty() {
            out.insert((String::new(), component));
        } else {
            for p in req.platforms {
                out.insert((p.clone(), component.clone()));
            }
        }
    }
    out
}

/// Compares `used` technique IDs between two releases. IDs that do not parse are skipped (the
/// registry reports them separately). Output is sorted by technique, deterministic.
pub fn compare_releases(
    old: &KnowledgeBase,
    new: &KnowledgeBase,
    used: &BTreeSet<String>,
) -> Vec<TechniqueChange> {
    let mut out = Vec::new();
    for raw in used {
        let Ok(id) = TechniqueId::parse(raw) else {
            continue;
        };
        let before = old.resolve_technique(id);
        let after = new.resolve_technique(id);
        let mut push = |change| {
            out.push(TechniqueChange {
                technique: raw.clone(),
                change,
            })
        };
        match (&before, &after) {
            (Resolution::Unknown { .. }, Resolution::Unknown { .. }) => {}
            (Resolution::Unknown { .. }, _) => {
                if let Some(t) = after.current() {
                    push(ReleaseChange::NowResolves {
                        name: t.meta.name.clone(),
                    });
                }
            }
            (_, Resolution::Unknown { .. }) => push(ReleaseChange::NoLongerKnown),
            (Resolution::Active(_), Resolution::Revoked { replacement, .. }) => {
                push(ReleaseChange::Revoked {
                    replacement: replacement.map(|r| r.id),
                })
            }
            (Resolution::Active(_), Resolution::Deprecated(_)) => push(ReleaseChange::Deprecated),
            (Resolution::Active(a), Resolution::Active(b)) => {
                if a.meta.name != b.meta.name {
                    push(ReleaseChange::Renamed {
                        from: a.meta.name.clone(),
                        to: b.meta.name.clone(),
                    });
                }
                let (ta, tb) = (telemetry_set(old, id), telemetry_set(new, id));
                if ta != tb {
                    push(ReleaseChange::TelemetryChanged {
                        added: tb.difference(&ta).cloned().collect(),
                        removed: ta.difference(&tb).cloned().collect(),
                    });
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use attest_attack::BundleInput;

    fn kb(objects: &str) -> KnowledgeBase {
        let bundle = format!(
            r#"{{"type": "bundle", "id": "bundle--1", "spec_version": "2.0", "objects": [
            {{"type": "x-mitre-matrix", "id": "x-mitre-matrix--1", "name": "Enterprise ATT&CK",
              "x_mitre_domains": ["enterprise-attack"], "tactic_refs": [],
              "external_references": [{{"source_name": "mitre-attack", "external_id": "enterprise-attack"}}]}},
            {objects}]}}"#
        );
        KnowledgeBase::from_bundles(&[BundleInput::new("test.json", bundle.as_bytes())])
            .unwrap()
            .0
    }

    fn technique(stix: &str, id: &str, name: &str, extra: &str) -> String {
        format!(
            r#"{{"type": "attack-pattern", "id": "attack-pattern--{stix}", "name": "{name}" {extra},
                "external_references": [{{"source_name": "mitre-attack", "external_id": "{id}"}}]}}"#
        )
    }

    #[test]
    fn revoked_renamed_and_newly_known_ids_are_reported() {
        let old = kb(&[
            technique("a", "T1001", "Data Obfuscation", ""),
            technique("b", "T1002", "Data Compressed", ""),
            technique("c", "T1003", "Credential Dumping", ""),
        ]
        .join(","));
        let new = kb(&[
            technique("a", "T1001", "Data Obfuscation", ""),
            technique("b", "T1002", "Data Compressed", r#", "revoked": true"#),
            technique("c", "T1003", "OS Credential Dumping", ""),
            technique("d", "T1560", "Archive Collected Data", ""),
            technique("e", "T1685", "Disable or Modify Tools", ""),
            r#"{"type": "relationship", "id": "relationship--1", "relationship_type": "revoked-by",
                "source_ref": "attack-pattern--b", "target_ref": "attack-pattern--d"}"#
                .to_string(),
        ]
        .join(","));
        let used: BTreeSet<String> = ["T1001", "T1002", "T1003", "T1685", "T9999"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let changes = compare_releases(&old, &new, &used);
        assert_eq!(
            changes,
            vec![
                TechniqueChange {
                    technique: "T1002".into(),
                    change: ReleaseChange::Revoked {
                        replacement: TechniqueId::parse("T1560").ok()
                    },
                },
                TechniqueChange {
                    technique: "T1003".into(),
                    change: ReleaseChange::Renamed {
                        from: "Credential Dumping".into(),
                        to: "OS Credential Dumping".into()
                    },
                },
                TechniqueChange {
                    technique: "T1685".into(),
                    change: ReleaseChange::NowResolves {
                        name: "Disable or Modify Tools".into()
                    },
                },
            ]
        );
    }
}
