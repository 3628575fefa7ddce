//! attest-replay: replay recorded telemetry through a compiled Sigma rule set.
//!
//! - [`read`] reads event files — EVTX (the `evtx` crate), JSON lines, pretty-printed JSON
//!   objects back to back, JSON arrays — streaming, one event at a time.
//! - [`normalize`] flattens each record (EVTX-JSON shape with `Event.System`/`Event.EventData`/
//!   `UserData`, `#attributes`, `EventID` as a number or `{"#text": …}`; or flat JSON) into an
//!   [`attest_sigma::Event`] whose field names match Sigma's Windows rules.
//! - [`dataset`] loads datasets: the SigmaHQ `regression_data` layout as-is, a YAML manifest, or
//!   a plain folder of event files.
//! - [`replay()`] runs datasets through an [`attest_sigma::RuleSet`] and hands back, per dataset,
//!   each expected rule's verdict (fired or not, match count, matched event record ids) and every
//!   other rule that fired. The files of one dataset are merged by timestamp into one stream, so
//!   correlation rules see all of them in one timeline.
//!
//! ```no_run
//! use attest_replay::{ReplayOptions, load_datasets, replay};
//! use attest_sigma::{CompileOptions, RuleSet, SourceRule};
//!
//! let rule = std::fs::read_to_string("rule.yml").unwrap();
//! let (rules, _diagnostics) = RuleSet::compile([SourceRule::new("rule.yml", rule)], &CompileOptions::default());
//! let datasets = load_datasets(std::path::Path::new("regression_data")).unwrap();
//! let mut results = Vec::new();
//! let summary = replay(&datasets, &rules, &ReplayOptions::default(), &mut results);
//! println!("{}/{} expected rules fired", summary.expected_passed, summary.expected_total);
//! ```
//!
//! This crate neither prints nor journals: the caller records the results. It is the only crate
//! that decodes EVTX. The `evtx` crate logs once per chunk at info level through `log`; callers
//! that install a subscriber should add [`LOG_FILTER`] to it.

#![deny(missing_docs)]

pub mod dataset;
mod error;
pub mod normalize;
pub mod read;
pub mod record;
mod replay;

pub use dataset::{Dataset, ExpectedRule, Manifest, load_datasets};
pub use error::{Error, ReplayWarning};
pub use normalize::{Normalized, normalize};
pub use read::{FileSummary, Format, ReadEvent, read_events};
pub use replay::{
    DatasetResult, EventRef, ExpectedOutcome, ReplayOptions, ReplaySink, ReplaySummary, RuleFired,
    replay, replay_dataset,
};

/// A `tracing`/`env_logger` filter directive that quiets the `evtx` crate's per-chunk logging.
pub const LOG_FILTER: &str = "evtx=warn";
