//! ATT&CK Navigator layers (format 4.x) read back: as a profile, or as claimed coverage.
//!
//! Teams arrive with hand-coloured layers. [`read_layer_profile`] turns a threat layer into a
//! [`Profile`](attest_core::profile::Profile): every enabled technique with a score above 0
//! becomes a hand-picked technique with the score as its weight, or weight 1 when it is
//! unscored but coloured; a technique listed under several tactics keeps its highest weight.
//! The layer's name, description and platform filter become the profile's.
//!
//! [`read_layer_claims`] reads a "coverage" layer as **claims**: every enabled technique with a
//! score above 0, or unscored with a colour, is claimed covered. A score of 0 is read as "not
//! covered", the usual meaning in hand-made heat maps. Claims are compared with validated
//! coverage by `attest coverage claimed-vs-validated`.
//!
//! Layer versions 4.0–4.5 are read (the technique fields have not changed since 4.0); other
//! versions give a warning and are read the same way. Entries with a malformed technique id, a
//! non-numeric score or of an unexpected shape are skipped with a diagnostic naming their line.
//! A file holding a list of layers is read as its first layer, with a warning.

mod read;
#[cfg(test)]
mod tests;

pub use read::{ClaimedCoverage, ClaimedTechnique, read_layer_claims, read_layer_profile};
