//! Microsoft Sentinel analytic rules: the content-hub YAML and the ARM/REST JSON export.
//!
//! - YAML (`Azure/Azure-Sentinel`, `Solutions/*/Analytic Rules/*.yaml`, `Detections/**`): `id`,
//!   `name`, `severity`, `tactics` (`CredentialAccess` → `credential-access`),
//!   `relevantTechniques`, `requiredDataConnectors`, optional `enabled` and `status`.
//!   Each connector's `dataTypes` (Log Analytics tables such as `SecurityEvent`) become declared
//!   [`attest_core::rule::Dependency::Source`]s; a connector without data types is named by its
//!   `connectorId`. Tables, not connectors, because several connectors feed the same table
//!   (`SecurityEvents` and `WindowsSecurityEvents` both fill `SecurityEvent`).
//! - JSON: an ARM template (`resources[]`) as exported from the portal, a REST list
//!   (`value[]`), or one REST object; each rule's `properties` carry `displayName`, `enabled`,
//!   `severity`, `tactics`, `techniques` and `subTechniques`. The id is the rule's resource name
//!   (the GUID at the end of ARM's `[concat(..., '/<guid>')]`).
//!
//! The content hash is the SHA-256 of the YAML file, or of each rule's `properties` JSON.

mod read;
pub mod spec;
#[cfg(test)]
mod tests;

pub use read::{SentinelImporter, read_sentinel};
