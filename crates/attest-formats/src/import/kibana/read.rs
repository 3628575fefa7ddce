//! Reading a Kibana NDJSON rule export.

use attest_core::rule::{Origin, Rule, RuleFormat, RuleStatus};

use super::spec::{Line, LineKind};
use crate::import::elastic::spec::claims;
use crate::import::{RuleImporter, input_text, normalize_date, sha256_hex};
use crate::{Diagnostic, Input};

/// Imports Kibana rule exports (`.ndjson`).
#[derive(Debug, Clone)]
pub struct KibanaImporter {
    /// The import root (e.g. the Kibana space or cluster name) recorded in each rule's origin.
    pub root: String,
}

impl KibanaImporter {
    /// An importer whose rules belong to `root`.
    pub fn new(root: impl Into<String>) -> KibanaImporter {
        KibanaImporter { root: root.into() }
    }
}

impl RuleImporter for KibanaImporter {
    fn format(&self) -> RuleFormat {
        RuleFormat::Kibana
    }

    fn extensions(&self) -> &'static [&'static str] {
        &["ndjson"]
    }

    fn import(&self, input: Input<'_>) -> (Vec<Rule>, Vec<Diagnostic>) {
        read_kibana(input, &self.root)
    }
}

/// Reads one export file. A line that is not JSON is an error for that line only: the other
/// rules of the export are still read.
pub fn read_kibana(input: Input<'_>, root: &str) -> (Vec<Rule>, Vec<Diagnostic>) {
    let path = input.path;
    let text = match input_text(&input) {
        Ok(t) => t,
        Err(d) => return (Vec::new(), vec![d]),
    };
    let mut rules = Vec::new();
    let mut diags = Vec::new();
    let mut summary_rules = None;
    for (index, raw) in text.lines().enumerate() {
        let line_no = index + 1;
        let raw = raw.trim();
        if raw.is_empty() {
            continue;
        }
        let line: Line = match serde_json::from_str(raw) {
            Ok(l) => l,
            Err(e) => {
                diags.push(Diagnostic::error(
                    path,
                    Some(line_no),
                    format!("invalid JSON: {e}"),
                ));
                continue;
            }
        };
        match line.kind() {
            LineKind::Rule => {
                if let Some(rule) = to_rule(line, raw, path, root, line_no, &mut diags) {
                    rules.push(rule);
                }
            }
            LineKind::Summary => summary_rules = line.exported_rules_count,
            LineKind::Exception | LineKind::SavedObject => {}
            LineKind::Unknown => diags.push(Diagnostic::warning(
                path,
                Some(line_no),
                "line is neither a rule, an exception, a saved object nor the export summary; skipped",
            )),
        }
    }
    if let Some(expected) = summary_rules
        && expected != rules.len() as u64
    {
        diags.push(Diagnostic::warning(
            path,
            None,
            format!(
                "the export summary counts {expected} rules but {} were read",
                rules.len()
            ),
        ));
    }
    (rules, diags)
}

fn to_rule(
    line: Line,
    raw: &str,
    path: &str,
    root: &str,
    line_no: usize,
    diags: &mut Vec<Diagnostic>,
) -> Option<Rule> {
    let Some(id) = line
        .rule_id
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
    else {
        diags.push(Diagnostic::error(
            path,
            Some(line_no),
            "rule with an empty `rule_id`; skipped",
        ));
        return None;
    };
    let title = line.name.unwrap_or_else(|| {
        diags.push(Diagnostic::warning(
            path,
            Some(line_no),
            format!("rule {id} has no `name`; its id is used"),
        ));
        id.clone()
    });
    let origin = Origin {
        format: RuleFormat::Kibana,
        path: path.to_string(),
        root: root.to_string(),
    };
    let mut rule = Rule::new(id.clone(), title, origin);
    let (techniques, tactics, problems) = claims(&line.threat);
    for p in problems {
        diags.push(Diagnostic::warning(
            path,
            Some(line_no),
            format!("rule {id}: {p}"),
        ));
    }
    rule.techniques = techniques;
    rule.tactics = tactics;
    rule.severity = line.severity;
    rule.status = match line.enabled {
        Some(false) => RuleStatus::Disabled,
        Some(true) => RuleStatus::Enabled,
        None => {
            diags.push(Diagnostic::warning(
                path,
                Some(line_no),
                format!("rule {id} has no `enabled` field; taken as enabled"),
            ));
            RuleStatus::Enabled
        }
    };
    if line.building_block_type.is_some() {
        rule.maturity = Some("building-block".to_string());
    }
    rule.created = line.created_at.map(|d| normalize_date(&d).unwrap_or(d));
    rule.modified = line.updated_at.map(|d| normalize_date(&d).unwrap_or(d));
    rule.owner = line.created_by;
    rule.content_hash = sha256_hex(raw.as_bytes());
    Some(rule)
}
