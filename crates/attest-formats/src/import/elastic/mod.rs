//! Elastic detection-rules TOML (the `elastic/detection-rules` repository's `rules/**/*.toml`).
//!
//! One rule per file: `[metadata]` (maturity, creation and update dates) and `[rule]` (`rule_id`,
//! `name`, `severity`, `building_block_type`, optional `enabled`) with `[[rule.threat]]` tables
//! whose `technique` entries nest `subtechnique` entries. The rule id is `rule.rule_id`; the
//! content hash is the SHA-256 of the file's bytes. Tactic names (`Credential Access`) become
//! ATT&CK short names (`credential-access`). The `threat` shape is shared with the Kibana export
//! ([`crate::import::kibana`]), which reads it through [`spec::Threat`].

mod read;
pub mod spec;
#[cfg(test)]
mod tests;

pub use read::{ElasticImporter, ElasticRecord, read_elastic};
