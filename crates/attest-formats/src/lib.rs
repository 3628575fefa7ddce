//! Importers and exporters: bytes in, typed records plus diagnostics out.
//!
//! Every file format attest reads or writes is a component in its own folder under
//! [`import`] or [`export`] (`spec.rs` for options and field mappings, `read.rs` or `write.rs`,
//! `tests.rs`), named after the format or product. Importers never touch the store and never
//! open files themselves: the caller hands them [`Input`]s (a path label and bytes) and journals
//! what comes back. One bad file is a [`Diagnostic`] naming the file and line, not a failed batch;
//! callers that want all-or-nothing (`--strict`) check the diagnostics before writing.
//!
//! Deliberately absent: I/O and the store. The domain types come from `attest-core`.
#![deny(missing_docs)]

pub mod correlate;
pub mod diag;
pub mod export;
pub mod import;

pub use diag::{Diagnostic, Input, Severity};
