//! Finding → ATT&CK technique mappings → [`attest_core::exposure::MappingSet`]s.
//!
//! Three published or user shapes:
//! - **CTID Mappings Explorer, unified JSON** (the KEV and CVE mapping projects): a `metadata`
//!   object with `attack_version`, and `mapping_objects[]` with `capability_id` (the CVE id),
//!   `mapping_type` (`exploitation_technique`, `primary_impact`, `secondary_impact`, …) and
//!   `attack_object_id` (the technique). Objects without a technique (CTID's non-mappable
//!   entries) are counted in one warning.
//! - **The older KEV/NVD CSV** of the Mappings Explorer: a header `CVE ID, Primary Impact,
//!   Secondary Impact, Exploitation Technique, …`, several technique ids per cell separated by
//!   `; `. Other columns are ignored.
//! - **A misconfiguration map**, YAML written by the user ([`spec::MisconfigMapDoc`]):
//!   ```yaml
//!   attack_version: "16.1"      # optional
//!   mappings:
//!     AWS-S3-BUCKET-PUBLIC: [T1530]
//!     AZ-STORAGE-ANON-ACCESS: [T1530, T1619]
//!   ```
//!
//! Technique ids are kept as written (upper-cased); resolving them against the loaded ATT&CK
//! release, the user's remap and revoked-by chains happens in `attest-core` when answers are
//! computed. A malformed id is an error naming the file and line (the object's line in JSON),
//! and that row is skipped.

mod read;
pub mod spec;
#[cfg(test)]
mod tests;

pub use read::{read_cve_mappings, read_misconfig_map};
