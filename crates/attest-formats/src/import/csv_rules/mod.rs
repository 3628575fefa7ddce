//! The generic rule CSV, for any SIEM without an importer of its own.
//!
//! The first row is a header naming the columns, in any order and any case:
//!
//! | column | required | meaning |
//! | --- | --- | --- |
//! | `id` | yes | stable rule id (the SIEM's own id or search name) |
//! | `title` | yes | rule title |
//! | `techniques` | no | ATT&CK technique ids, e.g. `T1059.001; T1027` |
//! | `tactics` | no | tactic names in any spelling (`Credential Access`, `credential-access`) |
//! | `data_sources` | no | what the rule needs: `component:Process Creation`, `log-source:WinEventLog:Security:EventCode=4688`, `source:Windows Security`, or a bare name (= `source:`) |
//! | `enabled` | no | `true`/`false`, `yes`/`no`, `1`/`0` |
//! | `status` | no | `enabled`, `disabled` or `retired` (wins over `enabled` when both are given) |
//! | `owner` | no | person or team |
//! | `severity` | no | as the SIEM spells it |
//! | `origin_path` | no | where the rule lives in the SIEM; defaults to the CSV's own path |
//!
//! Lists are separated by `;` (or by `,` inside a quoted cell). An unknown column is a warning,
//! a missing required column an error naming it. The content hash of a rule is the SHA-256 of
//! its row. Rules are enabled unless a column says otherwise.

mod read;
pub mod spec;
#[cfg(test)]
mod tests;

pub use read::{CsvImporter, read_csv};
