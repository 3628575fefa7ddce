//! `correlate`: join test executions with SIEM alerts into validation results.
//!
//! An [`Execution`] (from an Invoke-AtomicRedTeam CSV log or an Attire log) says a technique
//! ran on a host at a time. An [`Alert`] (from a SIEM alert export) says a rule fired at a time.
//! The caller passes which registered rules claim each technique; [`correlate`] then decides, for
//! every execution and every rule claiming its technique:
//!
//! | execution | alert from that rule in `[started, started + window]` (same host if asked) | outcome |
//! | --- | --- | --- |
//! | exit code known and non-zero | — | [`Outcome::Error`](attest_core::result::Outcome::Error) |
//! | ran | at least one | [`Outcome::Pass`](attest_core::result::Outcome::Pass), evidence = the alerts |
//! | ran | none | [`Outcome::Fail`](attest_core::result::Outcome::Fail) |
//!
//! Techniques match exactly (case-insensitively): a rule claiming the parent `T1003` is not
//! expected to fire on `T1003.001`, and the reverse, as DESIGN §3 says a parent never stands
//! for a sub-technique. An alert is matched to a rule by its rule id, or else by its rule name
//! through [`CorrelateOptions::rule_names`]. The function is pure and deterministic: results come
//! in execution order, then rule order as the caller listed them.
//!
//! Executions from logs without GUIDs get them from the catalogue with [`resolve_test_guids`]
//! before correlating, so results name their test.

mod guids;
mod join;
mod spec;
#[cfg(test)]
mod tests;

pub use guids::resolve_test_guids;
pub use join::{Correlation, correlate};
pub use spec::{Alert, CorrelateOptions, Execution};
