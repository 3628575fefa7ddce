//! The fields read from one line of a Kibana export.

use serde::Deserialize;

use crate::import::elastic::spec::Threat;

/// One NDJSON line, with every field we look at optional: the line's kind is told by which are
/// present (see [`Line::kind`]).
#[derive(Debug, Deserialize)]
pub struct Line {
    /// Rules: the stable rule id.
    pub rule_id: Option<String>,
    /// Rules: the title.
    pub name: Option<String>,
    /// Rules: deployment state.
    pub enabled: Option<bool>,
    /// Rules: `low` … `critical`.
    pub severity: Option<String>,
    /// Rules: ATT&CK claims, as in the TOML files.
    #[serde(default)]
    pub threat: Vec<Threat>,
    /// Rules: set on building-block rules.
    pub building_block_type: Option<String>,
    /// Rules: creation time (RFC 3339).
    pub created_at: Option<String>,
    /// Rules: last update time (RFC 3339).
    pub updated_at: Option<String>,
    /// Rules: who created the rule.
    pub created_by: Option<String>,
    /// Exception lists and items.
    pub list_id: Option<String>,
    /// Saved objects such as action connectors (`"type": "action"`).
    pub attributes: Option<serde::de::IgnoredAny>,
    /// The summary line.
    pub exported_count: Option<u64>,
    /// The summary line: number of rules exported.
    pub exported_rules_count: Option<u64>,
}

/// What a line of an export is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// A detection rule.
    Rule,
    /// An exception list or exception item.
    Exception,
    /// A saved object such as an action connector.
    SavedObject,
    /// The trailing summary.
    Summary,
    /// None of the above.
    Unknown,
}

impl Line {
    /// Tells the line's kind by its fields.
    pub fn kind(&self) -> LineKind {
        if self.exported_count.is_some() || self.exported_rules_count.is_some() {
            LineKind::Summary
        } else if self.list_id.is_some() {
            LineKind::Exception
        } else if self.rule_id.is_some() {
            LineKind::Rule
        } else if self.attributes.is_some() {
            LineKind::SavedObject
        } else {
            LineKind::Unknown
        }
    }
}
