//! Validation results: the evidence that a rule fires (or not) on a technique.

use jiff::Timestamp;

use crate::rule::RuleId;

/// Outcome of running a test against a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    /// The rule fired on the technique.
    Pass,
    /// The technique ran and the rule did not fire.
    Fail,
    /// The test could not run properly; says nothing about the rule.
    Error,
    /// The test was skipped; says nothing about the rule.
    Skipped,
}

impl Outcome {
    /// The lowercase word.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Error => "error",
            Outcome::Skipped => "skipped",
        }
    }

    /// Parses the lowercase word.
    pub fn parse(s: &str) -> Option<Outcome> {
        match s.trim().to_ascii_lowercase().as_str() {
            "pass" | "passed" => Some(Outcome::Pass),
            "fail" | "failed" => Some(Outcome::Fail),
            "error" => Some(Outcome::Error),
            "skipped" | "skip" => Some(Outcome::Skipped),
            _ => None,
        }
    }

    /// Whether the outcome says something about the rule (pass or fail).
    pub fn is_conclusive(self) -> bool {
        matches!(self, Outcome::Pass | Outcome::Fail)
    }
}

/// What backs a result.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Evidence {
    /// Free text.
    pub text: Option<String>,
    /// A link (ticket, SIEM search, report).
    pub url: Option<String>,
    /// Ids of the events that matched (EVTX record ids, SIEM alert ids).
    pub event_ids: Vec<String>,
}

/// That rule R was tested against test X for technique T at time t, with an outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationResult {
    /// The rule tested.
    pub rule: RuleId,
    /// The technique exercised (ATT&CK ID as given, upper-cased).
    pub technique: String,
    /// The test used, if known.
    pub test: Option<String>,
    /// Outcome.
    pub outcome: Outcome,
    /// When the test ran.
    pub at: Timestamp,
    /// Who or what ran it (person, pipeline, `attest validate replay`).
    pub by: String,
    /// Evidence.
    pub evidence: Evidence,
}
