//! Typed rule metadata for the rule registry: everything other crates need from a rule, so no
//! raw YAML travels downstream.

use std::time::Duration;

use crate::route::Routing;

/// A compiled rule's metadata (detection or correlation rule).
#[derive(Debug, Clone, PartialEq)]
pub struct SigmaRule {
    /// The rule's `id` (a UUID in SigmaHQ), when it has one.
    pub id: Option<String>,
    /// The rule's `name` (used by correlations to refer to rules), when it has one.
    pub name: Option<String>,
    /// `title`.
    pub title: String,
    /// Where the rule came from ([`crate::SourceRule::origin`]).
    pub origin: String,
    /// Detection or correlation, with the correlation's parameters.
    pub kind: RuleKind,
    /// `status`.
    pub status: Option<Status>,
    /// `level`.
    pub level: Option<Level>,
    /// `description`.
    pub description: Option<String>,
    /// `author`.
    pub author: Option<String>,
    /// `logsource` (empty for correlation rules).
    pub logsource: LogSource,
    /// `tags`, as written (`attack.t1059.001`, `attack.execution`, …).
    pub tags: Vec<String>,
    /// `related` rules.
    pub related: Vec<RelatedRule>,
    /// `references`.
    pub references: Vec<String>,
    /// `falsepositives`.
    pub falsepositives: Vec<String>,
    /// `date`, as written (SigmaHQ uses `YYYY-MM-DD`).
    pub date: Option<String>,
    /// `modified`, as written.
    pub modified: Option<String>,
    /// `simulation` entries (Atomic Red Team tests that exercise the rule).
    pub simulation: Vec<Simulation>,
    /// How the rule was routed to events (see [`crate::route`]).
    pub routing: Routing,
}

impl SigmaRule {
    /// The rule's id, or its title when it has none: how results name it.
    pub fn key(&self) -> &str {
        self.id.as_deref().unwrap_or(&self.title)
    }

    /// ATT&CK technique ids from the tags (`attack.t1059.001` → `T1059.001`), in tag order.
    pub fn attack_techniques(&self) -> Vec<String> {
        self.tags
            .iter()
            .filter_map(|t| {
                t.strip_prefix("attack.t")
                    .or_else(|| t.strip_prefix("attack.T"))
            })
            .filter(|rest| rest.chars().next().is_some_and(|c| c.is_ascii_digit()))
            .map(|rest| format!("T{}", rest.to_ascii_uppercase()))
            .collect()
    }
}

/// Detection rule, or correlation rule with its parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleKind {
    /// A detection rule, evaluated on one event at a time.
    Detection,
    /// A correlation rule, evaluated over a stream of events.
    Correlation(CorrelationSpec),
}

/// A correlation rule's parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct CorrelationSpec {
    /// `type`: `event_count`, `value_count`, `temporal`, `temporal_ordered`, ….
    pub correlation_type: String,
    /// The rules it correlates (ids or names, as written).
    pub rules: Vec<String>,
    /// `group-by` fields.
    pub group_by: Vec<String>,
    /// `timespan`.
    pub timespan: Duration,
}

/// `status` of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[allow(missing_docs)]
pub enum Status {
    Stable,
    Test,
    Experimental,
    Deprecated,
    Unsupported,
}

/// `level` of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[allow(missing_docs)]
pub enum Level {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

/// A rule's `logsource`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct LogSource {
    /// `product` (`windows`, `linux`, …).
    pub product: Option<String>,
    /// `category` (`process_creation`, …).
    pub category: Option<String>,
    /// `service` (`security`, `sysmon`, …).
    pub service: Option<String>,
}

/// An entry of `related`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RelatedRule {
    /// The related rule's id.
    pub id: String,
    /// The relation: `derived`, `obsolete`, `merged`, `renamed`, `similar`, …
    pub relation: String,
}

/// An entry of `simulation` (SigmaHQ links rules to Atomic Red Team tests this way).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Simulation {
    /// `type`, e.g. `atomic-red-team`.
    pub kind: Option<String>,
    /// `name` of the test.
    pub name: Option<String>,
    /// `technique` the test exercises.
    pub technique: Option<String>,
    /// `atomic_guid`: the test's stable key.
    pub atomic_guid: Option<String>,
}

pub(crate) fn status(s: rsigma_parser::Status) -> Status {
    match s {
        rsigma_parser::Status::Stable => Status::Stable,
        rsigma_parser::Status::Test => Status::Test,
        rsigma_parser::Status::Experimental => Status::Experimental,
        rsigma_parser::Status::Deprecated => Status::Deprecated,
        rsigma_parser::Status::Unsupported => Status::Unsupported,
    }
}

pub(crate) fn level(l: rsigma_parser::Level) -> Level {
    match l {
        rsigma_parser::Level::Informational => Level::Informational,
        rsigma_parser::Level::Low => Level::Low,
        rsigma_parser::Level::Medium => Level::Medium,
        rsigma_parser::Level::High => Level::High,
        rsigma_parser::Level::Critical => Level::Critical,
    }
}

pub(crate) fn related(r: &[rsigma_parser::Related]) -> Vec<RelatedRule> {
    r.iter()
        .map(|r| RelatedRule {
            id: r.id.clone(),
            relation: format!("{:?}", r.relation_type).to_ascii_lowercase(),
        })
        .collect()
}

/// Reads `simulation` from a rule's custom attributes (the parser keeps unknown keys there).
pub(crate) fn simulation(
    attrs: &std::collections::HashMap<String, yaml_serde::Value>,
) -> Vec<Simulation> {
    let Some(yaml_serde::Value::Sequence(items)) = attrs.get("simulation") else {
        return Vec::new();
    };
    let text =
        |m: &yaml_serde::Mapping, k: &str| m.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    items
        .iter()
        .filter_map(|item| item.as_mapping())
        .map(|m| Simulation {
            kind: text(m, "type"),
            name: text(m, "name"),
            technique: text(m, "technique"),
            atomic_guid: text(m, "atomic_guid"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn techniques_from_tags() {
        let rule = SigmaRule {
            id: None,
            name: None,
            title: "t".into(),
            origin: "o".into(),
            kind: RuleKind::Detection,
            status: None,
            level: None,
            description: None,
            author: None,
            logsource: LogSource::default(),
            tags: vec![
                "attack.execution".into(),
                "attack.t1059.001".into(),
                "attack.t1003".into(),
            ],
            related: vec![],
            references: vec![],
            falsepositives: vec![],
            date: None,
            modified: None,
            simulation: vec![],
            routing: Routing::Routed,
        };
        assert_eq!(rule.attack_techniques(), vec!["T1059.001", "T1003"]);
        assert_eq!(rule.key(), "t");
    }
}
