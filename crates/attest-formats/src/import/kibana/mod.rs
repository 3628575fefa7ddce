//! Kibana detection rule export (`POST /api/detection_engine/rules/_export`, NDJSON).
//!
//! An export is one JSON object per line: rules, then exception lists and their items, action
//! connectors, and a trailing summary line (`exported_count`, `exported_rules_count`, …). Only the
//! rule lines become rules; the others are recognised and skipped, and the summary's rule count is
//! checked against the rules found. Unlike the detection-rules repository, an export records the
//! real deployment state: `enabled: false` makes the rule [`attest_core::rule::RuleStatus::Disabled`].
//! The rule id is `rule_id` (stable across spaces and clusters, unlike the saved object `id`); the
//! content hash is the SHA-256 of the rule's line.

mod read;
pub mod spec;
#[cfg(test)]
mod tests;

pub use read::{KibanaImporter, read_kibana};
