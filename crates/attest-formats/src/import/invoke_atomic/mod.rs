//! Invoke-AtomicRedTeam execution logs: the default CSV logger → [`crate::correlate::Execution`]s.
//!
//! `Invoke-AtomicTest` appends one row per test run with PowerShell's `Export-Csv
//! -NoTypeInformation -Append` (every field quoted). The module's `Default-ExecutionLogger`
//! has written three header versions over the years (see [`HeaderVersion`]); columns are found by
//! name, so any of them, in any order, reads the same way. A header line repeated in the middle
//! of a file (logs of several hosts concatenated) starts a new section with its own header.
//!
//! Times: `Execution Time (UTC)` is the truth. `Execution Time (Local)` is the host's wall-clock
//! time; the newest logger writes it with a `Z` it does not deserve (it is *not* UTC), so that
//! `Z` is ignored, and the local column is used only when the UTC one is empty or unreadable —
//! read as UTC, with a warning. Encodings: ASCII (PowerShell 5's `Export-Csv` default), UTF-8
//! with or without BOM, and UTF-16 LE/BE with BOM (`-Encoding Unicode`).
//!
//! Rows that cannot be used (no technique, no readable time) are skipped with an error naming
//! the line; the rest of the file is still read.

pub(crate) mod decode;
mod read;
mod spec;
#[cfg(test)]
mod tests;

pub use read::read_execution_log;
pub use spec::HeaderVersion;
