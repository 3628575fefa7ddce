//! Rows and columns of the lookup table.

/// The columns, in order.
pub const LOOKUP_COLUMNS: [&str; 7] = [
    "rule_id",
    "rule_name",
    "techniques",
    "tactics",
    "data_sources",
    "validation_status",
    "last_tested",
];

/// A rule's validation status, as the lookup shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LookupStatus {
    /// A fresh, standing pass.
    Passing,
    /// The last conclusive result failed.
    Failing,
    /// Passed, but the pass is older than the re-validation window.
    Stale,
    /// The pass no longer stands (rule or source changed since).
    Invalidated,
    /// No conclusive result.
    Untested,
}

impl LookupStatus {
    /// The word written in `validation_status`.
    pub fn as_str(self) -> &'static str {
        match self {
            LookupStatus::Passing => "passing",
            LookupStatus::Failing => "failing",
            LookupStatus::Stale => "stale",
            LookupStatus::Invalidated => "invalidated",
            LookupStatus::Untested => "untested",
        }
    }
}

/// One rule's row.
#[derive(Debug, Clone, PartialEq)]
pub struct LookupRow {
    /// Stable rule id.
    pub rule_id: String,
    /// Title.
    pub rule_name: String,
    /// Technique ids.
    pub techniques: Vec<String>,
    /// Tactic short names.
    pub tactics: Vec<String>,
    /// Data sources the rule needs.
    pub data_sources: Vec<String>,
    /// Validation status.
    pub status: LookupStatus,
    /// Time of the last conclusive result.
    pub last_tested: Option<jiff::Timestamp>,
}
