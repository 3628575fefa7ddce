//! STIX 2.1 intel bundles from a threat-intelligence platform (OpenCTI, MISP) → intel actors.
//!
//! An actor is an `intrusion-set` or `threat-actor` object; its techniques are the
//! `attack-pattern`s it `uses` (relationship objects, `source_ref` the actor, `target_ref` the
//! pattern). Each attack-pattern is resolved to an ATT&CK technique id by this ladder, first
//! match wins:
//!
//! 1. an `external_references` entry whose `source_name` starts with `mitre` (`mitre-attack`,
//!    `mitre-mobile-attack`, `mitre-ics-attack`) → its `external_id`;
//! 2. `x_mitre_id` (OpenCTI before 5.x and many feeds), or the `id` of OpenCTI's MITRE ATT&CK
//!    property extension (`extensions["extension-definition--322b8f77-…"].id`, OpenCTI 5+);
//! 3. the object's STIX id, when it is a known MITRE ATT&CK STIX id (MISP keeps MITRE's UUIDs
//!    for its `mitre-attack-pattern` galaxy clusters) — through the caller's [`TechniqueLookup`];
//! 4. a `T1234` / `T1234.001` token in the name (MISP names clusters `Access Token
//!    Manipulation - T1134`);
//! 5. the name or an alias, through the caller's lookup — flagged
//!    [`low_confidence`](attest_core::profile::ActorTechnique::low_confidence).
//!
//! Patterns nothing resolves are reported as warnings naming the object. Revoked objects and
//! relationships are skipped.
//!
//! **MISP events.** MISP exports an event as a `report` whose `object_refs` list the event's
//! galaxy clusters, often without `uses` relationships. When a `report` or `grouping` refers to
//! exactly one actor and to attack-patterns the actor has no explicit relationship to, those
//! patterns are attributed to the actor, with a warning saying so. When it refers to several
//! actors nothing is guessed: a warning says how many patterns stay unattributed.
//!
//! Every actor gets [`ActorOrigin::Intel`](attest_core::profile::ActorOrigin::Intel) with the
//! caller's label and weight 1 per technique. Actor ids are STIX ids.

mod read;
mod spec;
#[cfg(test)]
mod tests;

pub use read::read_stix_intel;
pub use spec::{
    KbLookup, MAX_BUNDLE_BYTES, MITRE_EXTENSION, MapLookup, NoLookup, StixIntelOptions,
    TechniqueLookup,
};
