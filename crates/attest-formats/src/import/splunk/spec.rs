//! The fields read from an ESCU detection.

use serde::Deserialize;

/// An ESCU detection YAML, reduced to what the registry needs.
#[derive(Debug, Deserialize)]
pub struct Detection {
    /// Stable UUID.
    pub id: Option<String>,
    /// Title.
    pub name: Option<String>,
    /// `production`, `experimental`, `deprecated`.
    pub status: Option<String>,
    /// Creation or last change date, `YYYY-MM-DD`.
    pub date: Option<String>,
    /// Data sources named by Splunk's data source catalogue (`Sysmon EventID 1`).
    pub data_source: Option<Vec<String>>,
    /// The SPL query; present on every detection and absent on stories, macros and lookups.
    pub search: Option<serde::de::IgnoredAny>,
    /// Tags, including ATT&CK claims.
    pub tags: Option<Tags>,
}

/// The `tags` block.
#[derive(Debug, Deserialize)]
pub struct Tags {
    /// ATT&CK technique ids (`T1003.001`).
    pub mitre_attack_id: Option<Vec<String>>,
}
