//! Reading one Elastic detection-rules TOML file.

use attest_core::rule::{Origin, Rule, RuleFormat, RuleStatus};
use serde::Deserialize;

use super::spec::{Threat, claims};
use crate::import::{RuleImporter, input_text, line_of, normalize_date, sha256_hex};
use crate::{Diagnostic, Input};

/// Imports Elastic detection-rules TOML files (`.toml`).
#[derive(Debug, Clone)]
pub struct ElasticImporter {
    /// The import root recorded in each rule's origin.
    pub root: String,
}

impl ElasticImporter {
    /// An importer whose rules belong to `root`.
    pub fn new(root: impl Into<String>) -> ElasticImporter {
        ElasticImporter { root: root.into() }
    }
}

impl RuleImporter for ElasticImporter {
    fn format(&self) -> RuleFormat {
        RuleFormat::Elastic
    }

    fn extensions(&self) -> &'static [&'static str] {
        &["toml"]
    }

    fn import(&self, input: Input<'_>) -> (Vec<Rule>, Vec<Diagnostic>) {
        let (record, diags) = read_elastic(input, &self.root);
        (record.map(|r| r.rule).into_iter().collect(), diags)
    }
}

/// An Elastic rule with what [`Rule`] has no field for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElasticRecord {
    /// The registry rule.
    pub rule: Rule,
    /// `rule.building_block_type` is set: the rule's alerts feed other rules and are hidden.
    pub building_block: bool,
}

#[derive(Deserialize)]
struct File {
    metadata: Option<Metadata>,
    rule: Option<RuleDoc>,
}

#[derive(Deserialize)]
struct Metadata {
    maturity: Option<String>,
    creation_date: Option<String>,
    updated_date: Option<String>,
}

#[derive(Deserialize)]
struct RuleDoc {
    rule_id: Option<String>,
    name: Option<String>,
    severity: Option<String>,
    enabled: Option<bool>,
    building_block_type: Option<String>,
    #[serde(default)]
    threat: Vec<Threat>,
}

/// Reads one TOML rule file.
pub fn read_elastic(input: Input<'_>, root: &str) -> (Option<ElasticRecord>, Vec<Diagnostic>) {
    let path = input.path;
    let text = match input_text(&input) {
        Ok(t) => t,
        Err(d) => return (None, vec![d]),
    };
    let file: File = match toml::from_str(text) {
        Ok(f) => f,
        Err(e) => {
            let line = e.span().map(|s| line_of(text, s.start));
            let message = e.message().to_string();
            return (
                None,
                vec![Diagnostic::error(
                    path,
                    line,
                    format!("invalid TOML: {message}"),
                )],
            );
        }
    };
    let Some(doc) = file.rule else {
        return (
            None,
            vec![Diagnostic::error(
                path,
                None,
                "no [rule] table: not an Elastic detection rule",
            )],
        );
    };
    let Some(id) = doc
        .rule_id
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
    else {
        return (
            None,
            vec![Diagnostic::error(path, None, "no `rule.rule_id`; skipped")],
        );
    };
    let mut diags = Vec::new();
    let title = doc.name.unwrap_or_else(|| {
        diags.push(Diagnostic::warning(
            path,
            None,
            format!("rule {id} has no `name`; its id is used"),
        ));
        id.clone()
    });
    let origin = Origin {
        format: RuleFormat::Elastic,
        path: path.to_string(),
        root: root.to_string(),
    };
    let mut rule = Rule::new(id.clone(), title, origin);
    let (techniques, tactics, problems) = claims(&doc.threat);
    diags.extend(
        problems
            .into_iter()
            .map(|p| Diagnostic::warning(path, None, format!("rule {id}: {p}"))),
    );
    rule.techniques = techniques;
    rule.tactics = tactics;
    rule.severity = doc.severity;
    if doc.enabled == Some(false) {
        rule.status = RuleStatus::Disabled;
    }
    if let Some(meta) = file.metadata {
        rule.maturity = meta.maturity;
        rule.created = meta.creation_date.map(|d| normalize_date(&d).unwrap_or(d));
        rule.modified = meta.updated_date.map(|d| normalize_date(&d).unwrap_or(d));
    }
    rule.content_hash = sha256_hex(input.bytes);
    let record = ElasticRecord {
        rule,
        building_block: doc.building_block_type.is_some(),
    };
    (Some(record), diags)
}
