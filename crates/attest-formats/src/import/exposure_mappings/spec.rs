//! The mapping files' own serde types.

use std::collections::BTreeMap;

use serde::Deserialize;

/// CTID unified JSON: the whole document (unknown keys are allowed: the format carries more
/// metadata than attest uses).
#[derive(Debug, Deserialize)]
pub struct CtidDoc {
    /// `metadata`.
    #[serde(default)]
    pub metadata: CtidMetadata,
    /// `mapping_objects`.
    pub mapping_objects: Vec<CtidMapping>,
}

/// `metadata` of a CTID document.
#[derive(Debug, Default, Deserialize)]
pub struct CtidMetadata {
    /// The ATT&CK version the mappings were made for.
    #[serde(default)]
    pub attack_version: Option<String>,
    /// The mapping framework (`cve`, `kev`, …), informational.
    #[serde(default)]
    pub mapping_framework: Option<String>,
}

/// One `mapping_objects[]` entry.
#[derive(Debug, Deserialize)]
pub struct CtidMapping {
    /// The CVE id.
    pub capability_id: Option<String>,
    /// `exploitation_technique`, `primary_impact`, `secondary_impact`, …
    #[serde(default)]
    pub mapping_type: Option<String>,
    /// The technique id, absent or null for non-mappable entries.
    #[serde(default)]
    pub attack_object_id: Option<String>,
}

/// The misconfiguration map YAML.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MisconfigMapDoc {
    /// The ATT&CK version the map was written for.
    #[serde(default)]
    pub attack_version: Option<String>,
    /// Misconfiguration id → technique ids.
    pub mappings: BTreeMap<String, Vec<String>>,
}

/// The KEV/NVD CSV columns that hold techniques, with their mapping type.
pub const CSV_TECHNIQUE_COLUMNS: &[(&str, &str)] = &[
    ("Exploitation Technique", "exploitation_technique"),
    ("Primary Impact", "primary_impact"),
    ("Secondary Impact", "secondary_impact"),
];

/// The KEV/NVD CSV column of the CVE id.
pub const CSV_CVE_COLUMN: &str = "CVE ID";
