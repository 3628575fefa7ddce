//! attest-sigma: the Sigma language for attest — parse, compile and evaluate Sigma rules.
//!
//! Evaluation is done by `rsigma-parser`/`rsigma-eval` (pinned 0.23.0), kept behind our own
//! types so the rest of attest never sees them:
//!
//! - [`SourceRule`] — one rule file's text and origin; [`RuleSet::compile`] turns many into a
//!   [`RuleSet`] plus a list of [`Diagnostic`]s. One bad rule is a diagnostic (naming the file,
//!   the rule and the precise reason), never a failed batch.
//! - [`SigmaRule`] — the typed metadata of each compiled rule (id, title, status, level,
//!   logsource, tags, related, false positives, dates, `simulation` atomic GUIDs).
//! - [`Event`] — one flattened event (Sigma's Windows field names at the top level).
//! - [`RuleSet::evaluate`] — which detection rules match an event; [`RuleSet::explain`] — why a
//!   rule did or did not; [`RuleSet::correlator`] — a [`Correlator`] that also runs correlation
//!   rules (`event_count`, `value_count`, `temporal`, `temporal_ordered`) over a stream.
//! - [`route`] — the documented table from Sigma `logsource` to Windows channels and event ids,
//!   so an event only meets the rules written for it.
//!
//! ```
//! use attest_sigma::{CompileOptions, Event, RuleSet, SourceRule};
//!
//! let rule = r#"
//! title: Whoami
//! id: 11111111-1111-1111-1111-111111111111
//! logsource: {product: windows, category: process_creation}
//! detection:
//!   selection: {Image|endswith: '\whoami.exe'}
//!   condition: selection
//! "#;
//! let (set, diagnostics) = RuleSet::compile([SourceRule::new("whoami.yml", rule)], &CompileOptions::default());
//! assert!(diagnostics.is_empty());
//! let event = Event::from_json(serde_json::json!({
//!     "Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1,
//!     "Image": "C:\\Windows\\System32\\whoami.exe"})).unwrap();
//! let matches = set.evaluate(&event);
//! assert_eq!(set.rules()[matches[0].rule].title, "Whoami");
//! ```
//!
//! Design choices a reader would not guess:
//! - Rules are grouped per routing bucket (`(product, category, service)` after the fallback in
//!   [`route`]); each kind of event (channel, event id) reaches a fixed set of buckets, its
//!   *route*. Per route, our own literal pre-filter (one Aho-Corasick automaton per field over
//!   the literals each rule requires, anchored as the rule's matchers anchor them, several
//!   required clauses per rule) picks the few rules an event can match, and only those are
//!   evaluated by rsigma. A route's pre-filter is built the first time one of its events is
//!   evaluated ([`RuleSet::build_all_prefilters`] builds them all up front). We do not use rsigma's `Engine`:
//!   its candidate index keeps one witness per rule, so every rule sharing a common literal
//!   (`\powershell.exe`) is evaluated, and its DFA construction dominated compile time.
//! - `expand` placeholders are resolved from [`CompileOptions::placeholders`] before compiling
//!   (rsigma would resolve them from the event).
//! - Regular expressions are compiled by the `regex` crate, whose matching is linear-time and
//!   whose compiled-size limit rejects a "regex bomb" at compile time with a diagnostic.
//!
//! This crate does no I/O: it takes texts and events, and returns values.

#![deny(missing_docs)]

mod compile;
mod diagnostic;
mod event;
mod expand;
mod meta;
mod prefilter;
pub mod route;
mod ruleset;

pub use compile::{CompileOptions, CompileStats, SourceRule};
pub use diagnostic::{Diagnostic, DiagnosticKind, Severity};
pub use event::{Event, FIELD_CHANNEL, FIELD_COMPUTER, FIELD_EVENT_ID, FIELD_PROVIDER};
pub use meta::{
    CorrelationSpec, Level, LogSource, RelatedRule, RuleKind, SigmaRule, Simulation, Status,
};
pub use route::Routing;
pub use ruleset::{
    CorrelationMatch, Correlator, ExplainedItem, Explanation, MatchedField, RuleIndex, RuleMatch,
    RuleSet,
};
