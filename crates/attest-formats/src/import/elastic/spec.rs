//! The fields read from Elastic rules, shared by the TOML files and the Kibana NDJSON export.

use serde::Deserialize;

use crate::import::{normalize_tactic, normalize_technique, push_unique};

/// One `threat` entry: a framework, a tactic and the techniques claimed under it.
#[derive(Debug, Clone, Deserialize)]
pub struct Threat {
    /// `MITRE ATT&CK` for the entries we read; others are skipped with a warning.
    pub framework: Option<String>,
    /// The tactic.
    pub tactic: Option<ThreatRef>,
    /// Techniques, each with optional sub-techniques.
    #[serde(default)]
    pub technique: Vec<ThreatTechnique>,
}

/// A technique entry with its nested sub-techniques.
#[derive(Debug, Clone, Deserialize)]
pub struct ThreatTechnique {
    /// `T1055`.
    pub id: Option<String>,
    /// `Process Injection`.
    pub name: Option<String>,
    /// Sub-techniques such as `T1055.012`.
    #[serde(default)]
    pub subtechnique: Vec<ThreatRef>,
}

/// An id and a name (`TA0004`, `Privilege Escalation`).
#[derive(Debug, Clone, Deserialize)]
pub struct ThreatRef {
    /// The ATT&CK id.
    pub id: Option<String>,
    /// The ATT&CK name.
    pub name: Option<String>,
}

/// Techniques and tactic short names claimed by `threats`, in order, without duplicates, plus
/// one message per entry that could not be read.
pub fn claims(threats: &[Threat]) -> (Vec<String>, Vec<String>, Vec<String>) {
    let mut techniques = Vec::new();
    let mut tactics = Vec::new();
    let mut problems = Vec::new();
    for threat in threats {
        let framework = threat.framework.as_deref().unwrap_or("MITRE ATT&CK");
        if !framework.trim().eq_ignore_ascii_case("MITRE ATT&CK") {
            problems.push(format!(
                "threat framework `{framework}` is not MITRE ATT&CK; skipped"
            ));
            continue;
        }
        if let Some(name) = threat.tactic.as_ref().and_then(|t| t.name.as_deref()) {
            push_unique(&mut tactics, normalize_tactic(name));
        }
        let ids = threat.technique.iter().flat_map(|t| {
            t.id.iter()
                .chain(t.subtechnique.iter().filter_map(|s| s.id.as_ref()))
        });
        for id in ids {
            match normalize_technique(id) {
                Some(t) => push_unique(&mut techniques, t),
                None => problems.push(format!("`{id}` is not an ATT&CK technique id; skipped")),
            }
        }
    }
    (techniques, tactics, problems)
}
