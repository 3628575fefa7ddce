//! The rule CSV's columns.

/// Column: stable rule id (required).
pub const ID: &str = "id";
/// Column: title (required).
pub const TITLE: &str = "title";
/// Column: technique ids.
pub const TECHNIQUES: &str = "techniques";
/// Column: tactic names.
pub const TACTICS: &str = "tactics";
/// Column: telemetry dependencies.
pub const DATA_SOURCES: &str = "data_sources";
/// Column: boolean deployment state.
pub const ENABLED: &str = "enabled";
/// Column: `enabled`, `disabled` or `retired`.
pub const STATUS: &str = "status";
/// Column: owner.
pub const OWNER: &str = "owner";
/// Column: severity.
pub const SEVERITY: &str = "severity";
/// Column: path or object name inside the SIEM.
pub const ORIGIN_PATH: &str = "origin_path";

/// Every column, in the documented order (the order [`crate::import::csv_rules`] writes in its
/// header documentation and that an export would use).
pub const COLUMNS: [&str; 10] = [
    ID,
    TITLE,
    TECHNIQUES,
    TACTICS,
    DATA_SOURCES,
    ENABLED,
    STATUS,
    OWNER,
    SEVERITY,
    ORIGIN_PATH,
];

/// The columns without which no row can be read.
pub const REQUIRED: [&str; 2] = [ID, TITLE];

/// Splits a multi-valued cell on `;` and `,`, trimming and dropping empty items.
pub fn split_list(cell: &str) -> impl Iterator<Item = &str> {
    cell.split([';', ','])
        .map(str::trim)
        .filter(|s| !s.is_empty())
}
