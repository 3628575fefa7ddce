//! Profile YAML: which actors, platforms and techniques matter to the team, read and written.
//!
//! A profile combines actors (ATT&CK groups by id, name or alias, or actors from the team's own
//! intel) with weights, sectors, platforms in scope, hand-picked techniques with weights,
//! exclusions and the group → technique paths that count. It becomes an
//! [`attest_core::profile::Profile`]. The schema (every key optional except `name`; unknown keys
//! are errors so a typo never silently drops a setting):
//!
//! ```yaml
//! name: finance-2026                 # required, the profile's key
//! description: Sector actors plus the ones known to target us
//! actors:                            # an entry is an id/name/alias, or a map with a weight
//!   - G0016                          # weight 1
//!   - actor: FIN7
//!     weight: 2.5
//!   - actor: intrusion-set--2e2c…    # an intel actor by id or name
//! sectors: [financial]               # informational
//! platforms: [Windows, Linux]        # empty or absent: all platforms
//! techniques:                        # hand-picked techniques with weights
//!   - T1486                          # weight 1
//!   - technique: T1059.001
//!     weight: 3
//! exclusions: [T1566.002]            # never in the target set
//! paths:                             # which group → technique paths count (default: direct only)
//!   via_software: true
//!   via_campaigns: false
//! ```
//!
//! Weights are finite and not negative. Technique ids are upper-cased and must have the ATT&CK
//! shape (`T1234` or `T1234.001`); whether they exist in the loaded release is the caller's check.
//! [`write_profile`] writes the same schema back; reading what it wrote gives the same profile.

pub(crate) mod read;
mod spec;
#[cfg(test)]
mod tests;
mod write;

pub use read::read_profile;
pub(crate) use read::{last_token_line, slug, token_line};
pub use write::write_profile;
