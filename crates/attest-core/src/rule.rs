//! The detection rule registry: every rule, whatever its origin.

use jiff::Timestamp;

use crate::source::LogSourceRef;

/// The stable id of a rule. For Sigma it is the rule's `id`; for other origins the importer
/// derives one that survives re-imports (e.g. Elastic's `rule_id`, Splunk's stanza name).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleId(pub String);

impl std::fmt::Display for RuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The format or product a rule came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RuleFormat {
    /// Sigma YAML.
    Sigma,
    /// Elastic detection-rules TOML.
    Elastic,
    /// Kibana saved-objects rule export (NDJSON).
    Kibana,
    /// Splunk ESCU detection YAML.
    Splunk,
    /// Splunk `savedsearches.conf` correlation searches.
    SplunkConf,
    /// Microsoft Sentinel analytic rule (YAML or ARM/REST JSON).
    Sentinel,
    /// The generic CSV for any other SIEM.
    Csv,
    /// Entered by hand through the CLI or API.
    Manual,
}

impl RuleFormat {
    /// All formats.
    pub const ALL: [RuleFormat; 8] = [
        RuleFormat::Sigma,
        RuleFormat::Elastic,
        RuleFormat::Kibana,
        RuleFormat::Splunk,
        RuleFormat::SplunkConf,
        RuleFormat::Sentinel,
        RuleFormat::Csv,
        RuleFormat::Manual,
    ];

    /// The lowercase name used on the command line (`attest rules import <format>`).
    pub fn as_str(self) -> &'static str {
        match self {
            RuleFormat::Sigma => "sigma",
            RuleFormat::Elastic => "elastic",
            RuleFormat::Kibana => "kibana",
            RuleFormat::Splunk => "splunk",
            RuleFormat::SplunkConf => "splunk-conf",
            RuleFormat::Sentinel => "sentinel",
            RuleFormat::Csv => "csv",
            RuleFormat::Manual => "manual",
        }
    }

    /// Parses [`RuleFormat::as_str`]'s words.
    pub fn parse(s: &str) -> Option<RuleFormat> {
        RuleFormat::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// Where a rule came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// Its format.
    pub format: RuleFormat,
    /// The file path (relative to the imported root) or SIEM object name.
    pub path: String,
    /// The import root or SIEM this rule belongs to. A rule gone from a re-import of the same
    /// root is retired; rules from other roots are untouched.
    pub root: String,
}

/// Lifecycle of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum RuleStatus {
    /// Deployed and running.
    #[default]
    Enabled,
    /// Present but switched off.
    Disabled,
    /// Gone from its source; kept for history.
    Retired,
}

impl RuleStatus {
    /// The lowercase word.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleStatus::Enabled => "enabled",
            RuleStatus::Disabled => "disabled",
            RuleStatus::Retired => "retired",
        }
    }

    /// Parses the lowercase word.
    pub fn parse(s: &str) -> Option<RuleStatus> {
        match s.trim().to_ascii_lowercase().as_str() {
            "enabled" => Some(RuleStatus::Enabled),
            "disabled" => Some(RuleStatus::Disabled),
            "retired" => Some(RuleStatus::Retired),
            _ => None,
        }
    }
}

/// What telemetry a rule needs. A dependency is satisfied when some usable inventory source
/// provides it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dependency {
    /// An ATT&CK data component by name, e.g. "Process Creation".
    Component(String),
    /// An ATT&CK log source (name and optional channel).
    LogSource(LogSourceRef),
    /// An inventory source by its name, e.g. "Windows Security" (declared by hand or by CSV).
    Source(String),
}

impl std::fmt::Display for Dependency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dependency::Component(c) => write!(f, "component:{c}"),
            Dependency::LogSource(l) => write!(f, "log-source:{l}"),
            Dependency::Source(s) => write!(f, "source:{s}"),
        }
    }
}

/// How a dependency became known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DependencyOrigin {
    /// Stated in the rule or its import file.
    Declared,
    /// Derived, e.g. from a Sigma `logsource` through the mapping table.
    Inferred,
}

/// A dependency with where it came from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleDependency {
    /// What is needed.
    pub dependency: Dependency,
    /// Declared or inferred.
    pub origin: DependencyOrigin,
}

/// Kind of a tuning entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TuningKind {
    /// Alerts matching a condition are suppressed.
    Suppression,
    /// Entities excluded from the rule.
    Exclusion,
}

impl TuningKind {
    /// The lowercase word.
    pub fn as_str(self) -> &'static str {
        match self {
            TuningKind::Suppression => "suppression",
            TuningKind::Exclusion => "exclusion",
        }
    }
}

/// One entry of a rule's tuning log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tuning {
    /// Suppression or exclusion.
    pub kind: TuningKind,
    /// What is suppressed or excluded (free text or a query fragment).
    pub what: String,
    /// Why.
    pub reason: String,
    /// Who.
    pub author: String,
    /// When.
    pub at: Timestamp,
}

/// A detection rule as the registry knows it.
///
/// Techniques are kept as *claimed* (the raw IDs found in the rule, upper-cased). They are
/// resolved against the knowledge base when coverage is computed, so moving a workspace to a new
/// ATT&CK release re-resolves every claim without rewriting history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Stable id.
    pub id: RuleId,
    /// Title (untrusted text: escape wherever shown).
    pub title: String,
    /// Where it came from.
    pub origin: Origin,
    /// Claimed technique IDs as written, upper-cased (e.g. `T1003.001`, `T1685`).
    pub techniques: Vec<String>,
    /// Claimed tactic short names (e.g. `credential-access`).
    pub tactics: Vec<String>,
    /// Telemetry dependencies.
    pub dependencies: Vec<RuleDependency>,
    /// Lifecycle.
    pub status: RuleStatus,
    /// Severity or level as the origin spells it.
    pub severity: Option<String>,
    /// Owner.
    pub owner: Option<String>,
    /// The origin's own maturity/status word (Sigma `status`, Elastic `maturity`, …).
    pub maturity: Option<String>,
    /// Test ids the rule names (e.g. Sigma `simulation` Atomic GUIDs).
    pub tests: Vec<String>,
    /// Rule authored/modified dates as written in the origin.
    pub created: Option<String>,
    /// Last modification date as written in the origin.
    pub modified: Option<String>,
    /// Hash of the rule's content; a change invalidates earlier passes.
    pub content_hash: String,
    /// Tuning log, oldest first.
    pub tuning: Vec<Tuning>,
}

impl Rule {
    /// A rule with only the required fields, enabled, no claims.
    pub fn new(id: impl Into<String>, title: impl Into<String>, origin: Origin) -> Rule {
        Rule {
            id: RuleId(id.into()),
            title: title.into(),
            origin,
            techniques: Vec::new(),
            tactics: Vec::new(),
            dependencies: Vec::new(),
            status: RuleStatus::Enabled,
            severity: None,
            owner: None,
            maturity: None,
            tests: Vec::new(),
            created: None,
            modified: None,
            content_hash: String::new(),
            tuning: Vec::new(),
        }
    }

    /// Whether the rule's *imported* content equals `other`'s, ignoring what the registry adds
    /// afterwards (status changes by hand, owner assignment, tuning). Re-imports use it to write
    /// nothing for unchanged rules.
    pub fn same_content(&self, other: &Rule) -> bool {
        self.content_hash == other.content_hash
            && self.title == other.title
            && self.origin == other.origin
            && self.techniques == other.techniques
            && self.tactics == other.tactics
            && self.dependencies == other.dependencies
    }
}
