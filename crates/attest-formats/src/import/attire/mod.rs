//! Attire JSON execution logs (Invoke-AtomicRedTeam's `Attire-ExecutionLogger`, VECTR's import
//! format) → [`crate::correlate::Execution`]s.
//!
//! One document per run: `attire-version`, `execution-data` (with `target.host` and
//! `target.user`), and `procedures[]`, each with `mitre-technique-id`, `procedure-name`,
//! `procedure-id` (`{"type": "guid", "id": …}` for Atomic tests), `order` and `steps[]` with
//! `time-start`, `time-stop`, `executor`, `command` and `output[]`. One procedure becomes one
//! execution: started at its earliest `time-start`, finished at its latest `time-stop`. Attire
//! records no exit code, so [`crate::correlate::Execution::exit_code`] is `None` and such runs
//! are never judged `Error` by [`crate::correlate::correlate`].
//!
//! PowerShell's `ConvertTo-Json` sometimes writes a one-element array as a bare object; both
//! shapes are read. A procedure that cannot be used (no technique, no time) is skipped with an
//! error naming its line; the others are still read.

mod read;
mod spec;
#[cfg(test)]
mod tests;

pub use read::read_attire;
