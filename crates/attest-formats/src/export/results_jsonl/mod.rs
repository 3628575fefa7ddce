//! Validation results as JSON lines: the shape [`crate::import::results_jsonl`] reads, so a
//! pipeline can export results from one workspace and import them into another.
//!
//! One result per line, fields in a fixed order (`rule`, `technique`, `test`, `outcome`, `at`,
//! `by`, `evidence`), absent optional fields omitted, `at` in RFC 3339 UTC. Output is
//! deterministic: same results, same bytes.

#[cfg(test)]
mod tests;
mod write;

pub use write::{results_to_jsonl, write_results_jsonl};
