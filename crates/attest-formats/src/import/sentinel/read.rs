//! Reading Sentinel analytic rules from YAML or JSON.

use attest_core::rule::{
    Dependency, DependencyOrigin, Origin, Rule, RuleDependency, RuleFormat, RuleStatus,
};

use super::spec::{JsonExport, JsonProperties, JsonResource, YamlRule, id_from_name};
use crate::import::{
    RuleImporter, check_yaml_shape, input_text, line_of, normalize_date, normalize_tactic,
    normalize_technique, push_unique, sha256_hex, yaml_error,
};
use crate::{Diagnostic, Input};

/// Imports Sentinel analytic rules (`.yaml`, `.yml`, `.json`).
#[derive(Debug, Clone)]
pub struct SentinelImporter {
    /// The import root (e.g. the workspace name) recorded in each rule's origin.
    pub root: String,
}

impl SentinelImporter {
    /// An importer whose rules belong to `root`.
    pub fn new(root: impl Into<String>) -> SentinelImporter {
        SentinelImporter { root: root.into() }
    }
}

impl RuleImporter for SentinelImporter {
    fn format(&self) -> RuleFormat {
        RuleFormat::Sentinel
    }

    fn extensions(&self) -> &'static [&'static str] {
        &["yaml", "yml", "json"]
    }

    fn import(&self, input: Input<'_>) -> (Vec<Rule>, Vec<Diagnostic>) {
        read_sentinel(input, &self.root)
    }
}

/// Reads one Sentinel file; JSON when it starts with `{`, YAML otherwise.
pub fn read_sentinel(input: Input<'_>, root: &str) -> (Vec<Rule>, Vec<Diagnostic>) {
    let text = match input_text(&input) {
        Ok(t) => t,
        Err(d) => return (Vec::new(), vec![d]),
    };
    if text.trim_start().starts_with('{') {
        read_json(&input, text, root)
    } else {
        read_yaml(&input, text, root)
    }
}

fn origin(path: &str, root: &str) -> Origin {
    Origin {
        format: RuleFormat::Sentinel,
        path: path.to_string(),
        root: root.to_string(),
    }
}

fn add_claims(
    rule: &mut Rule,
    tactics: &[String],
    techniques: &[&String],
    path: &str,
    diags: &mut Vec<Diagnostic>,
) {
    for t in tactics {
        push_unique(&mut rule.tactics, normalize_tactic(t));
    }
    for raw in techniques {
        match normalize_technique(raw) {
            Some(t) => push_unique(&mut rule.techniques, t),
            None => diags.push(Diagnostic::warning(
                path,
                None,
                format!("rule {}: `{raw}` is not a technique id; skipped", rule.id),
            )),
        }
    }
}

fn read_yaml(input: &Input<'_>, text: &str, root: &str) -> (Vec<Rule>, Vec<Diagnostic>) {
    let path = input.path;
    if let Err(d) = check_yaml_shape(input, text) {
        return (Vec::new(), vec![d]);
    }
    let doc: YamlRule = match yaml_serde::from_str(text) {
        Ok(d) => d,
        Err(e) => return (Vec::new(), vec![yaml_error(path, &e)]),
    };
    let Some(id) = doc
        .id
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
    else {
        return (
            Vec::new(),
            vec![Diagnostic::error(
                path,
                None,
                "Sentinel rule without `id`; skipped",
            )],
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
    let mut rule = Rule::new(id, title, origin(path, root));
    let techniques = doc.relevant_techniques.unwrap_or_default();
    add_claims(
        &mut rule,
        &doc.tactics.unwrap_or_default(),
        &techniques.iter().collect::<Vec<_>>(),
        path,
        &mut diags,
    );
    for connector in doc.required_data_connectors.unwrap_or_default() {
        let types = connector.data_types.unwrap_or_default();
        let names: Vec<String> = if types.is_empty() {
            connector.connector_id.into_iter().collect()
        } else {
            types
        };
        for name in names {
            let name = name.trim();
            if !name.is_empty() {
                push_unique(
                    &mut rule.dependencies,
                    RuleDependency {
                        dependency: Dependency::Source(name.to_string()),
                        origin: DependencyOrigin::Declared,
                    },
                );
            }
        }
    }
    rule.severity = doc.severity;
    rule.maturity = doc.status;
    if doc.enabled == Some(false) {
        rule.status = RuleStatus::Disabled;
    }
    rule.content_hash = sha256_hex(input.bytes);
    (vec![rule], diags)
}

fn read_json(input: &Input<'_>, text: &str, root: &str) -> (Vec<Rule>, Vec<Diagnostic>) {
    let path = input.path;
    let export: JsonExport = match serde_json::from_str(text) {
        Ok(e) => e,
        Err(e) => {
            return (
                Vec::new(),
                vec![Diagnostic::error(
                    path,
                    Some(e.line()),
                    format!("invalid JSON: {e}"),
                )],
            );
        }
    };
    let resources: Vec<JsonResource> = match (export.resources, export.value, export.properties) {
        (Some(r), _, _) | (None, Some(r), _) => r,
        (None, None, Some(properties)) => vec![JsonResource {
            name: export.name,
            kind_of_resource: None,
            properties: Some(properties),
        }],
        (None, None, None) => {
            return (
                Vec::new(),
                vec![Diagnostic::error(
                    path,
                    None,
                    "neither an ARM template (`resources`), a REST list (`value`) nor a rule (`properties`)",
                )],
            );
        }
    };
    let mut rules = Vec::new();
    let mut diags = Vec::new();
    for (index, resource) in resources.into_iter().enumerate() {
        let is_rule = resource
            .kind_of_resource
            .as_deref()
            .is_none_or(|t| t.to_ascii_lowercase().ends_with("alertrules"));
        let Some(raw) = resource.properties.filter(|_| is_rule) else {
            continue;
        };
        // Sorted keys and no whitespace: the hash ignores formatting and key order.
        let canonical = canonical_json(&raw);
        let line = resource
            .name
            .as_deref()
            .and_then(|n| text.find(n))
            .map(|offset| line_of(text, offset));
        let props: JsonProperties = match serde_json::from_value(raw) {
            Ok(p) => p,
            Err(e) => {
                diags.push(Diagnostic::error(
                    path,
                    line,
                    format!("resource {}: invalid properties: {e}", index + 1),
                ));
                continue;
            }
        };
        let Some(id) = resource.name.as_deref().and_then(id_from_name) else {
            diags.push(Diagnostic::error(
                path,
                line,
                format!("resource {}: no rule id in its `name`; skipped", index + 1),
            ));
            continue;
        };
        let title = props.display_name.clone().unwrap_or_else(|| {
            diags.push(Diagnostic::warning(
                path,
                line,
                format!("rule {id} has no `displayName`; its id is used"),
            ));
            id.clone()
        });
        let mut rule = Rule::new(id, title, origin(path, root));
        let techniques: Vec<&String> = props
            .techniques
            .iter()
            .flatten()
            .chain(props.sub_techniques.iter().flatten())
            .collect();
        add_claims(
            &mut rule,
            &props.tactics.clone().unwrap_or_default(),
            &techniques,
            path,
            &mut diags,
        );
        rule.severity = props.severity;
        rule.status = match props.enabled {
            Some(false) => RuleStatus::Disabled,
            _ => RuleStatus::Enabled,
        };
        rule.modified = props
            .last_modified_utc
            .map(|d| normalize_date(&d).unwrap_or(d));
        rule.content_hash = sha256_hex(canonical.as_bytes());
        rules.push(rule);
    }
    (rules, diags)
}

/// JSON text with object keys sorted at every level, so the content hash ignores key order
/// whether or not serde_json's `preserve_order` feature is on somewhere in the build (feature
/// unification turns it on in the whole workspace when any crate asks for it).
fn canonical_json(value: &serde_json::Value) -> String {
    fn sorted(value: &serde_json::Value) -> serde_json::Value {
        match value {
            serde_json::Value::Object(map) => {
                let mut entries: Vec<(&String, &serde_json::Value)> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                serde_json::Value::Object(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k.clone(), sorted(v)))
                        .collect(),
                )
            }
            serde_json::Value::Array(items) => {
                serde_json::Value::Array(items.iter().map(sorted).collect())
            }
            other => other.clone(),
        }
    }
    sorted(value).to_string()
}
