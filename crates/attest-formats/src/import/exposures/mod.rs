//! Exposure management: findings (CSV or JSON lines) → [`attest_core::exposure::Exposure`]s.
//!
//! Scanners and CTEM platforms export findings with their own column names, so fields are found
//! by alias ([`spec`]): CSV headers and JSON keys are compared case-insensitively with spaces,
//! dots, dashes and underscores ignored (`CVE ID`, `cve_id` and `cveId` are one name), and JSON
//! also accepts nested objects (`{"asset": {"name": …}}` for `asset.name`). The format is
//! sniffed from the first non-blank character (`{` is JSON lines) unless the caller says.
//!
//! | field | required | read as |
//! | --- | --- | --- |
//! | asset | yes | text |
//! | finding id | yes | CVE id (normalised upper-case) or a misconfiguration id |
//! | title | no | text (defaults to the finding id) |
//! | severity | yes | a CVSS score 0–10 or a label (`critical`, `high`, `medium`, `low`, `info`) |
//! | first / last seen | no | RFC 3339, date-time without zone (UTC), epoch, `M/D/YYYY h:mm AM` |
//! | status | no | open (default), fixed/closed/remediated, accepted/risk accepted |
//! | techniques | no | ATT&CK ids separated by `;`, `,`, `|` or spaces (a JSON array too) |
//!
//! A row that lacks a required field or has a bad value is skipped with an error naming the
//! file and line; the rest of the file is read.

mod read;
pub mod spec;
#[cfg(test)]
mod tests;

pub use read::{ExposureFormat, read_exposures};
