//! VECTR test case CSV exports → validation results.
//!
//! VECTR (SRA's purple-team tracker) exports a campaign's test cases as CSV with the columns
//! `AssessmentGroup, Campaign, Phase, Variant, MitreID, …, Status, Outcome, …, Outcome Notes, …,
//! TargetAssets, …, DetectingTools, Start Time, Start Time Epoch, Stop Time, Stop Time Epoch,
//! …`. One row with a conclusive outcome becomes one
//! [`ValidationResult`](attest_core::result::ValidationResult):
//!
//! | `Outcome` | result |
//! | --- | --- |
//! | `Detected`, `Blocked`, `Alerted` | [`Outcome::Pass`](attest_core::result::Outcome::Pass) |
//! | `NotDetected`, `Not Detected`, `None` | [`Outcome::Fail`](attest_core::result::Outcome::Fail) |
//! | anything else (`TBD`, `Logged`, empty) | row skipped, with a warning naming the line |
//!
//! Rows whose `Status` says the test was not performed are skipped too. The time is
//! `Start Time Epoch` (milliseconds or seconds) when present, else `Start Time`.
//!
//! **Rules.** VECTR records *that* something detected the technique, not which rule. A row
//! keeps the technique (`MitreID`), the test case (`Variant`, or `Test Case Name`) and, in the
//! evidence text, the detecting tools and notes. Its rule is the rule id in an optional
//! `Rule ID` (or `rule_id`) column when the team keeps one, else the placeholder
//! [`PLACEHOLDER_RULE`] (`vectr:unmapped`). The caller maps placeholders with [`assign_rules`]
//! (each rule claiming the technique gets the result) or asks the user; placeholders must not be
//! journaled as they are.

mod read;
mod spec;
#[cfg(test)]
mod tests;

pub use read::{assign_rules, read_vectr};
pub use spec::{PLACEHOLDER_RULE, VectrOptions};
