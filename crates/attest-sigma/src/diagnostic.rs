//! Why a rule (or one document of a rule file) could not be compiled, or compiled with a caveat.

use std::fmt;

/// How bad a [`Diagnostic`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The rule was compiled; something about it deserves a look (e.g. an unresolved placeholder).
    Warning,
    /// The rule (or document) was skipped.
    Error,
}

/// The kind of problem, so callers can count and group them without parsing messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum DiagnosticKind {
    /// The file is not valid YAML.
    Yaml,
    /// A document is valid YAML but not a valid Sigma rule (missing field, bad detection,
    /// unknown modifier, bad condition, …).
    Parse,
    /// The rule parsed but the evaluator could not compile it (invalid regex, regex too big,
    /// bad modifier combination, …).
    Compile,
    /// Another rule already has this id; the later one is skipped.
    DuplicateId,
    /// A correlation refers to a rule that is not in the set.
    UnknownRuleRef,
    /// A correlation rule could not be compiled.
    Correlation,
    /// An `expand` placeholder has no value in the configuration; the rule keeps it as written.
    UnresolvedPlaceholder,
    /// A filter rule refers to no rule in the set.
    UnusedFilter,
}

impl DiagnosticKind {
    /// A short stable name, for counting and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            DiagnosticKind::Yaml => "yaml",
            DiagnosticKind::Parse => "parse",
            DiagnosticKind::Compile => "compile",
            DiagnosticKind::DuplicateId => "duplicate-id",
            DiagnosticKind::UnknownRuleRef => "unknown-rule-ref",
            DiagnosticKind::Correlation => "correlation",
            DiagnosticKind::UnresolvedPlaceholder => "unresolved-placeholder",
            DiagnosticKind::UnusedFilter => "unused-filter",
        }
    }
}

/// One problem found while compiling a rule set, naming where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Where the rule came from: the [`crate::SourceRule::origin`] (usually a file path).
    pub origin: String,
    /// The rule's id, when it could be read.
    pub rule_id: Option<String>,
    /// The rule's title, when it could be read.
    pub title: Option<String>,
    /// Error (skipped) or warning (compiled).
    pub severity: Severity,
    /// What kind of problem.
    pub kind: DiagnosticKind,
    /// The precise reason, as the parser or compiler gave it.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(f, "{sev}[{}] {}", self.kind.as_str(), self.origin)?;
        if let Some(id) = &self.rule_id {
            write!(f, " (rule {id})")?;
        } else if let Some(t) = &self.title {
            write!(f, " (rule \"{t}\")")?;
        }
        write!(f, ": {}", self.message)
    }
}
