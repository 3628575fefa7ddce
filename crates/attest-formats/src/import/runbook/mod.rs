//! Runbooks: Markdown files with YAML front matter saying which techniques they answer.
//!
//! ```markdown
//! ---
//! title: Credential dumping from LSASS   # required (or a `# Heading` in the body)
//! techniques: [T1003.001, T1003]         # required: what the runbook answers
//! platforms: [Windows]                   # optional: only for alerts on these platforms
//! owner: ir-team                         # optional
//! ---
//! Free text is kept out of the steps.
//!
//! 1. Isolate the host.
//! 2. Collect evidence:
//!    - a memory image
//!    - the Security event log
//! ```
//!
//! The steps are the list items of the body, ordered or bullet, in document order; a nested
//! list stays inside its step as indented `- ` lines, so a step reads the same in a ticket as in
//! the file. [`read_runbook`] is pure (text and file name in); [`resolve_techniques`] checks
//! the ids against the catalog, following `revoked-by`, and reports unknown ones by name.

mod read;
#[cfg(test)]
mod tests;

pub use read::{Resolved, Runbook, RunbookError, read_runbook, resolve_techniques};
