//! The coverage table: one row per technique with its state, weight, rules, reasons and
//! telemetry, written as CSV or as a workbook (Headline, Tactics and Techniques sheets).
//!
//! `attest coverage --format csv|--xlsx` and the dashboard's downloads write the same columns,
//! so a file taken from either reads the same:
//!
//! | column | content |
//! | --- | --- |
//! | `technique` | ATT&CK id |
//! | `name` | technique name |
//! | `tactics` | tactic short names, `,`-separated |
//! | `state` | `validated`, `unvalidated`, `failing`, `degraded` or `gap` |
//! | `view` | `validated`, `in progress` or `gap` |
//! | `weight` | priority weight in the scope (1 without a profile) |
//! | `rules` | rule ids, `;`-separated |
//! | `reasons` | reasons in words, `; `-separated |
//! | `telemetry_visible` | telemetry components provided / needed |
//! | `subtechniques_validated` | for a parent: validated / in scope |

#[cfg(test)]
mod tests;
mod write;

pub use write::{COVERAGE_COLUMNS, coverage_csv, coverage_workbook, technique_row};
