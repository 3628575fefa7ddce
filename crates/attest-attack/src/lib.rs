//! ATT&CK as a typed, indexed, read-only knowledge base.
//!
//! `attest-attack` loads MITRE's STIX bundles (STIX 2.0 from `mitre/cti`, 2.1 from
//! `attack-stix-data`; plain `.json` or gzip, detected by magic bytes; several domains at once)
//! into a [`KnowledgeBase`] and answers the questions the rest of attest asks of ATT&CK.
//!
//! Main types:
//!
//! * [`TechniqueId`]: a validated `T1234` / `T1234.001`, used across attest.
//! * [`KnowledgeBase`]: the loaded objects ([`Technique`], [`Tactic`], [`Group`], [`Software`],
//!   [`Campaign`], [`Mitigation`], [`DataSource`], [`DataComponent`], [`DetectionStrategy`],
//!   [`Analytic`], [`Relationship`]) and their indexes. Built from bytes by
//!   [`KnowledgeBase::from_bundles`] with a list of [`Warning`]s about what was tolerated; the
//!   [`load`] module is the thin file-reading edge.
//! * [`Resolution`]: how an id stands in the loaded release (active, revoked with its
//!   `revoked-by` chain, deprecated, or unknown to this release); a [`RemapTable`] of the user's
//!   own old → new ids is applied first when given.
//! * [`TelemetryRequirement`]: which data component (and log source / channel) detects a
//!   technique on a platform, for the v18 model (detection strategies → analytics → log-source
//!   references) and the v17 model (data component `detects` technique) alike.
//! * [`GroupTechnique`]: a technique a group uses, with every path (direct, via software, via
//!   an attributed campaign) and the procedure text.
//!
//! ```no_run
//! use attest_attack::{BundleInput, KnowledgeBase, TechniqueId};
//!
//! let bytes = std::fs::read("enterprise-attack-18.1.json.gz")?;
//! let input = BundleInput { name: "enterprise", bytes: &bytes, release: Some("18.1") };
//! let (kb, warnings) = KnowledgeBase::from_bundles(&[input])?;
//! let id = TechniqueId::parse("T1003.001")?;
//! if let Some(t) = kb.technique(id) {
//!     println!("{} {} ({} warnings)", t.id, t.meta.name, warnings.len());
//!     for req in kb.telemetry(id, Some("Windows")) {
//!         println!("  {} via {:?}", req.data_component.meta.name, req.log_source);
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Design choices a reader would not guess:
//!
//! * The load streams the bundle text once into borrowed structs (serde with `Cow<str>`) and
//!   converts each object to owned types as it is read, without a `serde_json::Value` tree or a
//!   vector of all objects. A gzip bundle is inflated on a helper thread and handed over in
//!   pieces cut between top-level objects, so parsing overlaps decompression. If that fast path
//!   fails in any way, the load restarts in a robust mode that splits the bundle per object
//!   (`RawValue`), so that one odd object becomes a warning naming its id instead of failing
//!   the bundle, and that reports errors with line and column.
//! * When several bundles hold the same STIX id (objects shared by domains), the copy with the
//!   latest `modified` wins and the domains of both are kept.
//! * T-numbers resolve among techniques only: deprecated mitigations reuse T-numbers as their
//!   ATT&CK ids.
//! * Releases: `mitre/cti` bundles do not state their ATT&CK release, so the caller may pass it
//!   (the [`load`] edge takes it from the file name); `x-mitre-collection` wins when present.
//! * The core never opens files or touches the network; [`load`] reads files, [`cache`] keeps
//!   releases on disk and (feature `download`) fetches them for the CLI and the server.

#![deny(missing_docs)]

mod build;
pub mod cache;
mod error;
mod hash;
mod id;
mod kb;
pub mod load;
mod model;
mod pieces;
mod query;
mod raw;
mod remap;
#[cfg(test)]
mod tests;

pub use build::{BundleInput, decode_bundle};
pub use error::{Error, Warning, WarningKind, count_warnings};
pub use id::{TechniqueId, TechniqueIdError};
pub use kb::{KnowledgeBase, ObjectRef};
pub use model::{
    Analytic, Campaign, DataComponent, DataModel, DataSource, DetectionStrategy, Domain, Group,
    LogSource, LogSourceReference, Meta, Mitigation, Relationship, RelationshipKind, Software,
    SoftwareKind, Tactic, Technique,
};
pub use query::{
    DomainCounts, GroupTechnique, GroupTechniqueOptions, LookupOptions, MatchField, Procedure,
    RemappedResolution, Resolution, SearchHit, TelemetryOrigin, TelemetryRequirement, UseEvidence,
    UsePath,
};
pub use remap::RemapTable;
