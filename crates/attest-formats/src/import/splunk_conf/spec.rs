//! The settings read from a correlation search stanza.

use serde::Deserialize;

/// Setting: the stanza is switched off (`1`, `true`).
pub const DISABLED: &str = "disabled";
/// Setting: the correlation search is active in Enterprise Security (`1`, `0`).
pub const CS_ENABLED: &str = "action.correlationsearch.enabled";
/// Setting: the correlation search's display name.
pub const CS_LABEL: &str = "action.correlationsearch.label";
/// Setting: JSON annotations, with ATT&CK ids under `mitre_attack`.
pub const CS_ANNOTATIONS: &str = "action.correlationsearch.annotations";
/// Setting prefix that makes a stanza a correlation search.
pub const CS_PREFIX: &str = "action.correlationsearch.";
/// Setting: severity of the notable event created.
pub const NOTABLE_SEVERITY: &str = "action.notable.param.severity";

/// The annotations JSON, reduced to what the registry needs.
#[derive(Debug, Default, Deserialize)]
pub struct Annotations {
    /// ATT&CK technique ids.
    #[serde(default)]
    pub mitre_attack: Vec<String>,
    /// Kill-chain phases or tactic names, when given.
    #[serde(default)]
    pub mitre_attack_tactics: Vec<String>,
}

/// Reads a Splunk boolean (`1`, `0`, `true`, `false`, `t`, `f`, `yes`, `no`, any case).
pub fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "t" | "yes" | "y" | "on" => Some(true),
        "0" | "false" | "f" | "no" | "n" | "off" => Some(false),
        _ => None,
    }
}
