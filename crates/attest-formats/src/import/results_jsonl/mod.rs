//! Validation results as JSON lines, for pipelines: one result per line with the fields of
//! `attest validate record`.
//!
//! ```text
//! {"rule":"0aa96c56-…","technique":"T1003.001","test":"0be2230c-…","outcome":"pass","at":"2024-03-05T16:20:00Z","by":"ci","evidence":{"text":"…","url":"https://…","event_ids":["4688:123"]}}
//! ```
//!
//! | field | required | meaning |
//! | --- | --- | --- |
//! | `rule` | yes | the rule's stable id |
//! | `technique` | yes | ATT&CK ID, `T1234` or `T1234.001` (any case; stored upper-cased) |
//! | `test` | no | the test's id (Atomic GUID, lower-cased when it is a GUID) or name |
//! | `outcome` | yes | `pass`, `fail`, `error` or `skipped` |
//! | `at` | yes, unless [`ResultsJsonlOptions::now`] is given | RFC 3339 with `Z` or an offset |
//! | `by` | yes, unless [`ResultsJsonlOptions::default_by`] is given | who or what ran it |
//! | `evidence` | no | `{text, url, event_ids}`, each optional; a bare string is the text |
//!
//! Unknown fields are errors (a typo such as `outcom` must not silently drop data). Blank lines
//! are skipped. Each bad line is one error naming the line; the other lines are still read.
//! [`crate::export::results_jsonl`] writes the same shape, so export → import round-trips.

mod read;
pub(crate) mod spec;
#[cfg(test)]
mod tests;

pub use read::read_results_jsonl;
pub use spec::ResultsJsonlOptions;
