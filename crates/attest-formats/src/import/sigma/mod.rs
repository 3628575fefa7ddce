//! Sigma rules (SigmaHQ YAML): metadata only, for the rule registry.
//!
//! Reads what the registry needs from each Sigma document — `id`, `title`, `tags` (techniques,
//! tactics, groups, software, CVEs), `status`, `level`, `logsource`, `related`, `simulation`
//! (Atomic Red Team GUIDs), `date`/`modified` — and infers the rule's telemetry dependencies from
//! its `logsource` through the versioned table in [`spec`]. Detection logic is *not* compiled here
//! (that is `attest-sigma`'s job); the detection block is only scanned for `EventID` values.
//!
//! Multi-document collections (`action: global`, `reset`, `repeat`) are merged as the Sigma
//! specification describes. A file under a `deprecated/` folder is marked with maturity
//! `deprecated`. The rule id is the Sigma `id`; the content hash is the SHA-256 of the file's
//! bytes, so any edit of the file (even of a comment) counts as a change of the rule.
//!
//! Speed: single-document files, nearly all of SigmaHQ, go straight from text into a small typed
//! struct that skips every field it does not need; only collections go through a YAML value tree.

mod read;
pub mod spec;
#[cfg(test)]
mod tests;

pub use read::{SigmaImporter, SigmaRecord, SigmaTags, parse_tags, read_sigma};
