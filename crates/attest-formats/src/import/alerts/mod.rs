//! Detection outcome files: SIEM alert exports (CSV, JSON lines, or a JSON array) →
//! [`crate::correlate::Alert`]s.
//!
//! The format is sniffed from the first non-blank character: `{` is JSON lines (one alert per
//! line; Splunk's `{"result": {…}}` wrapper is unwrapped), `[` a JSON array, anything else CSV
//! with a header row. Fields are found by name — the first alias present wins, CSV headers are
//! compared case-insensitively, and JSON accepts both flat dotted keys (`"rule.id"`) and nested
//! objects (`{"rule": {"id": …}}`):
//!
//! | field | aliases, in order |
//! | --- | --- |
//! | rule id | [`RULE_ID_FIELDS`] |
//! | rule name | [`RULE_NAME_FIELDS`] |
//! | time | [`TIME_FIELDS`] |
//! | host (optional) | [`HOST_FIELDS`] |
//! | alert id (optional) | [`ALERT_ID_FIELDS`] |
//!
//! An alert needs a rule id or a rule name (names are resolved to ids by
//! [`crate::correlate::CorrelateOptions::rule_names`]) and a time: RFC 3339 with or without
//! offset (no offset is read as UTC, with one warning per file), epoch seconds or milliseconds.
//! Rows without them are skipped with an error naming the line.

mod read;
mod spec;
#[cfg(test)]
mod tests;

pub use read::read_alerts;
pub use spec::{ALERT_ID_FIELDS, HOST_FIELDS, RULE_ID_FIELDS, RULE_NAME_FIELDS, TIME_FIELDS};
