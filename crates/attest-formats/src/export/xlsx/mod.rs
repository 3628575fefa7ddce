//! XLSX workbooks: named sheets of a header and rows of text or number cells.
//!
//! A generic writer, so the CLI can put one sheet per view (headline, per tactic, per
//! technique, backlog, rules) without this crate knowing the views. Every sheet gets a bold,
//! frozen header row, an autofilter over its table and column widths fitted to the content
//! (between 8 and 60 characters). Text is always written as text: a rule name starting with `=`
//! stays a string, never a formula. Sheet names follow Excel's rules (1–31 characters, none of
//! `[ ] : * ? / \`, unique ignoring case); a bad name is an [`XlsxError`], not a corrupt file.

mod spec;
#[cfg(test)]
mod tests;
mod write;

pub use spec::{Cell, Sheet, XlsxError};
pub use write::write_workbook;
