//! The attest domain and its coverage engine: state in, answers out.
//!
//! This crate holds the words of the product — [`source::DataSource`], [`rule::Rule`],
//! [`test::Test`], [`result::ValidationResult`], [`profile::Profile`] — and the
//! [`journal::Event`]s that change them. [`state::State`] is the projection of a journal: fold
//! events in order and you have the organisation's detection state at that instant. The coverage
//! engine (`coverage`) turns a state, a scope and a point in time into a state plus reasons for
//! every technique (DESIGN.md §3).
//!
//! Deliberately absent: I/O, async, the clock, SQL and serde. "Now" is always an argument, and
//! every serialized form (the journal's stored form, the API's JSON, file formats) is owned by the
//! crate that owns that format and converted by hand, so a change here cannot silently break an
//! old journal.
//!
//! ```
//! use attest_core::journal::{Event, JournalEntry};
//! use attest_core::source::{DataSource, PipelineState};
//! use attest_core::state::State;
//!
//! let at: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
//! let mut source = DataSource::new("Sysmon on Windows servers");
//! source.components.push("Process Creation".into());
//! source.state = PipelineState::Queryable;
//! let entry = JournalEntry::new(1, at, "alice", Event::SourceUpserted(source));
//! let state = State::from_journal([&entry]);
//! assert_eq!(state.sources.len(), 1);
//! ```
#![deny(missing_docs)]

pub mod backlog;
pub mod check;
pub mod coverage;
pub mod diff;
pub mod exposure;
pub mod journal;
pub mod priority;
pub mod profile;
pub mod registry;
pub mod release;
pub mod result;
pub mod rule;
pub mod source;
pub mod state;
pub mod test;
pub mod trend;
pub mod validation;
pub mod visibility;
pub mod words;
