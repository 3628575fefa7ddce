//! Technique-cluster ownership file: which engineer owns which tactics and techniques.
//!
//! ```yaml
//! default: detection-team          # optional: owner of everything else
//! owners:
//!   - owner: alice
//!     tactics: [credential-access]  # short name, display name or id (TA0006)
//!   - owner: bob
//!     techniques: [T1003, T1558]    # a technique also covers its sub-techniques
//!   - owner: carol
//!     techniques: [T1003.001]
//! ```
//!
//! The most specific match wins: the technique's own entry, then its parent's, then one of its
//! tactics (in the order the caller gives them), then `default`. Listing the same technique or
//! tactic for two owners is an error naming the line (the first owner is kept). Unknown keys are
//! errors. [`OwnershipMap::to_core`] gives the engine's
//! [`attest_core::backlog::Ownership`].

mod read;
#[cfg(test)]
mod tests;

pub use read::{OwnershipEntry, OwnershipMap, read_ownership};
