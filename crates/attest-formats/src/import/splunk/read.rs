//! Reading one ESCU detection YAML.

use attest_core::rule::{Dependency, DependencyOrigin, Origin, Rule, RuleDependency, RuleFormat};

use super::spec::Detection;
use crate::import::{
    RuleImporter, check_yaml_shape, input_text, normalize_date, normalize_technique, push_unique,
    sha256_hex, yaml_error,
};
use crate::{Diagnostic, Input};

/// Imports Splunk ESCU detection files (`.yml`, `.yaml`).
#[derive(Debug, Clone)]
pub struct SplunkImporter {
    /// The import root recorded in each rule's origin.
    pub root: String,
}

impl SplunkImporter {
    /// An importer whose rules belong to `root`.
    pub fn new(root: impl Into<String>) -> SplunkImporter {
        SplunkImporter { root: root.into() }
    }
}

impl RuleImporter for SplunkImporter {
    fn format(&self) -> RuleFormat {
        RuleFormat::Splunk
    }

    fn extensions(&self) -> &'static [&'static str] {
        &["yml", "yaml"]
    }

    fn import(&self, input: Input<'_>) -> (Vec<Rule>, Vec<Diagnostic>) {
        let (rule, diags) = read_escu(input, &self.root);
        (rule.into_iter().collect(), diags)
    }
}

/// Reads one ESCU detection file.
pub fn read_escu(input: Input<'_>, root: &str) -> (Option<Rule>, Vec<Diagnostic>) {
    let path = input.path;
    let text = match input_text(&input).and_then(|t| check_yaml_shape(&input, t).map(|()| t)) {
        Ok(t) => t,
        Err(d) => return (None, vec![d]),
    };
    let doc: Detection = match yaml_serde::from_str(text) {
        Ok(d) => d,
        Err(e) => return (None, vec![yaml_error(path, &e)]),
    };
    if doc.search.is_none() {
        return (
            None,
            vec![Diagnostic::warning(
                path,
                None,
                "no `search`: not an ESCU detection (a story, macro or lookup?); skipped",
            )],
        );
    }
    let Some(id) = doc
        .id
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
    else {
        return (
            None,
            vec![Diagnostic::error(
                path,
                None,
                "ESCU detection without `id`; skipped",
            )],
        );
    };
    let mut diags = Vec::new();
    let title = doc.name.unwrap_or_else(|| {
        diags.push(Diagnostic::warning(
            path,
            None,
            format!("detection {id} has no `name`; its id is used"),
        ));
        id.clone()
    });
    let origin = Origin {
        format: RuleFormat::Splunk,
        path: path.to_string(),
        root: root.to_string(),
    };
    let mut rule = Rule::new(id.clone(), title, origin);
    for raw in doc.tags.and_then(|t| t.mitre_attack_id).unwrap_or_default() {
        match normalize_technique(&raw) {
            Some(t) => push_unique(&mut rule.techniques, t),
            None => diags.push(Diagnostic::warning(
                path,
                None,
                format!(
                    "detection {id}: `{raw}` in tags.mitre_attack_id is not a technique id; skipped"
                ),
            )),
        }
    }
    for source in doc.data_source.unwrap_or_default() {
        let source = source.trim();
        if !source.is_empty() {
            push_unique(
                &mut rule.dependencies,
                RuleDependency {
                    dependency: Dependency::Source(source.to_string()),
                    origin: DependencyOrigin::Declared,
                },
            );
        }
    }
    rule.maturity = doc.status;
    rule.created = doc.date.map(|d| normalize_date(&d).unwrap_or(d));
    rule.content_hash = sha256_hex(input.bytes);
    (Some(rule), diags)
}
