//! The records `correlate` joins and its options.

use std::collections::BTreeMap;

use attest_core::rule::RuleId;
use jiff::{SignedDuration, Timestamp};

/// One run of a test, as an execution log records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Execution {
    /// ATT&CK technique executed, upper-cased as written (e.g. `T1003.001`).
    pub technique: String,
    /// The Atomic test's `auto_generated_guid`, lower-cased, when the log has it (the first
    /// Invoke-AtomicRedTeam CSV header version does not).
    pub test_guid: Option<String>,
    /// The test's name.
    pub test_name: Option<String>,
    /// The test's number within its technique, when the log has it (it changes between
    /// Atomic Red Team releases; the GUID is the stable key).
    pub test_number: Option<u32>,
    /// Host the test ran on.
    pub host: Option<String>,
    /// User it ran as.
    pub user: Option<String>,
    /// When it started (UTC).
    pub started: Timestamp,
    /// When it finished, when the log says.
    pub finished: Option<Timestamp>,
    /// Exit code of the test's process, when the log says (only the newest CSV header has it).
    pub exit_code: Option<i64>,
    /// Where it was read: `path:line`.
    pub source: String,
}

/// One alert from a SIEM export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// The rule's id as the SIEM reports it, if present.
    pub rule_id: Option<String>,
    /// The rule's name (search name, signature), if present.
    pub rule_name: Option<String>,
    /// When the alert fired (or the time of the event it fired on).
    pub at: Timestamp,
    /// The host it concerns, if present.
    pub host: Option<String>,
    /// The alert's own id, if present (kept as evidence).
    pub id: Option<String>,
    /// Where it was read: `path:line`.
    pub source: String,
}

/// Options of [`crate::correlate::correlate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrelateOptions {
    /// How long after an execution's start an alert still counts. Default 15 minutes.
    pub window: SignedDuration,
    /// Tolerated clock skew: alerts up to this long *before* the start also count. Default 0.
    pub skew: SignedDuration,
    /// Require the alert's host to equal the execution's host (case-insensitive, comparing the
    /// first DNS label so `WS01` matches `ws01.corp.example`). An alert or execution without a
    /// host then never matches. Default false.
    pub match_host: bool,
    /// Rule names (as alerts spell them, compared case-insensitively) to rule ids, for alerts that
    /// carry only a name (Splunk `search_name`, Sentinel `AlertName`). Empty by default.
    pub rule_names: BTreeMap<String, RuleId>,
    /// Who or what produced the results (`ValidationResult::by`).
    pub by: String,
}

impl Default for CorrelateOptions {
    fn default() -> Self {
        CorrelateOptions {
            window: SignedDuration::from_mins(15),
            skew: SignedDuration::ZERO,
            match_host: false,
            rule_names: BTreeMap::new(),
            by: "attest validate correlate".to_string(),
        }
    }
}
