//! Splunk ESCU detections (`splunk/security_content`, `detections/**/*.yml`).
//!
//! One detection per file: `id` (the rule id), `name`, `status` (`production`, `experimental`,
//! `deprecated`), `date`, `data_source` (e.g. `Sysmon EventID 1`) and `tags.mitre_attack_id`.
//! Each `data_source` becomes a declared [`attest_core::rule::Dependency::Source`]. YAML files of
//! the same repository that are not detections (stories, macros, lookups: no `search`) are
//! skipped with a warning. The content hash is the SHA-256 of the file's bytes.

mod read;
pub mod spec;
#[cfg(test)]
mod tests;

pub use read::{SplunkImporter, read_escu};
