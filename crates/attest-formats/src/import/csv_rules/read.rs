//! Reading the rule CSV.

use attest_core::rule::{
    Dependency, DependencyOrigin, Origin, Rule, RuleDependency, RuleFormat, RuleStatus,
};
use attest_core::source::LogSourceRef;

use super::spec::{self, COLUMNS, REQUIRED, split_list};
use crate::import::{
    RuleImporter, input_text, normalize_tactic, normalize_technique, push_unique, sha256_hex,
};
use crate::{Diagnostic, Input};

/// Imports rule CSV files (`.csv`).
#[derive(Debug, Clone)]
pub struct CsvImporter {
    /// The import root (e.g. the SIEM's name) recorded in each rule's origin.
    pub root: String,
}

impl CsvImporter {
    /// An importer whose rules belong to `root`.
    pub fn new(root: impl Into<String>) -> CsvImporter {
        CsvImporter { root: root.into() }
    }
}

impl RuleImporter for CsvImporter {
    fn format(&self) -> RuleFormat {
        RuleFormat::Csv
    }

    fn extensions(&self) -> &'static [&'static str] {
        &["csv"]
    }

    fn import(&self, input: Input<'_>) -> (Vec<Rule>, Vec<Diagnostic>) {
        read_csv(input, &self.root)
    }
}

/// A `data_sources` item as a dependency: `component:`, `log-source:` or `source:` prefixed, or
/// a bare inventory source name.
fn dependency(item: &str) -> Dependency {
    let lower = item.to_ascii_lowercase();
    if lower.starts_with("component:") {
        Dependency::Component(item["component:".len()..].trim().to_string())
    } else if lower.starts_with("log-source:") {
        Dependency::LogSource(LogSourceRef::parse(&item["log-source:".len()..]))
    } else if lower.starts_with("source:") {
        Dependency::Source(item["source:".len()..].trim().to_string())
    } else {
        Dependency::Source(item.to_string())
    }
}

fn parse_enabled(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "1" | "enabled" | "on" => Some(true),
        "false" | "no" | "n" | "0" | "disabled" | "off" => Some(false),
        _ => None,
    }
}

/// Reads one rule CSV.
pub fn read_csv(input: Input<'_>, root: &str) -> (Vec<Rule>, Vec<Diagnostic>) {
    let path = input.path;
    let text = match input_text(&input) {
        Ok(t) => t,
        Err(d) => return (Vec::new(), vec![d]),
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut diags = Vec::new();
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.trim().to_ascii_lowercase()).collect(),
        Err(e) => return (Vec::new(), vec![csv_error(path, &e)]),
    };
    let missing: Vec<&str> = REQUIRED
        .iter()
        .copied()
        .filter(|c| !headers.iter().any(|h| h == c))
        .collect();
    if !missing.is_empty() {
        return (
            Vec::new(),
            vec![Diagnostic::error(
                path,
                Some(1),
                format!(
                    "missing required column{} {} (the header must name at least: {})",
                    if missing.len() > 1 { "s" } else { "" },
                    missing.join(", "),
                    REQUIRED.join(", ")
                ),
            )],
        );
    }
    for h in &headers {
        if !COLUMNS.contains(&h.as_str()) {
            diags.push(Diagnostic::warning(
                path,
                Some(1),
                format!(
                    "unknown column `{h}` ignored (known: {})",
                    COLUMNS.join(", ")
                ),
            ));
        }
    }
    let col = |name: &str| headers.iter().position(|h| h == name);
    let cols: Vec<Option<usize>> = COLUMNS.iter().map(|c| col(c)).collect();
    let mut rules = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                diags.push(csv_error(path, &e));
                continue;
            }
        };
        let line = record.position().map(|p| p.line() as usize);
        let get = |name: &str| -> &str {
            COLUMNS
                .iter()
                .position(|c| *c == name)
                .and_then(|i| cols[i])
                .and_then(|i| record.get(i))
                .unwrap_or("")
        };
        let id = get(spec::ID);
        if id.is_empty() {
            diags.push(Diagnostic::error(
                path,
                line,
                "row without an `id`; skipped",
            ));
            continue;
        }
        let title = match get(spec::TITLE) {
            "" => {
                diags.push(Diagnostic::warning(
                    path,
                    line,
                    format!("rule {id} has no title; its id is used"),
                ));
                id
            }
            t => t,
        };
        let origin_path = match get(spec::ORIGIN_PATH) {
            "" => path,
            p => p,
        };
        let origin = Origin {
            format: RuleFormat::Csv,
            path: origin_path.to_string(),
            root: root.to_string(),
        };
        let mut rule = Rule::new(id, title, origin);
        for raw in split_list(get(spec::TECHNIQUES)) {
            match normalize_technique(raw) {
                Some(t) => push_unique(&mut rule.techniques, t),
                None => diags.push(Diagnostic::warning(
                    path,
                    line,
                    format!("rule {id}: `{raw}` is not a technique id; skipped"),
                )),
            }
        }
        for raw in split_list(get(spec::TACTICS)) {
            push_unique(&mut rule.tactics, normalize_tactic(raw));
        }
        // `;` separates items when present, so that a bare source name may contain a comma.
        let sources = get(spec::DATA_SOURCES);
        let separator = if sources.contains(';') { ';' } else { ',' };
        for raw in sources.split(separator) {
            let raw = raw.trim();
            if !raw.is_empty() {
                push_unique(
                    &mut rule.dependencies,
                    RuleDependency {
                        dependency: dependency(raw),
                        origin: DependencyOrigin::Declared,
                    },
                );
            }
        }
        if let Some(v) = Some(get(spec::ENABLED)).filter(|v| !v.is_empty()) {
            match parse_enabled(v) {
                Some(false) => rule.status = RuleStatus::Disabled,
                Some(true) => {}
                None => diags.push(Diagnostic::warning(
                    path,
                    line,
                    format!("rule {id}: enabled `{v}` is not a boolean; taken as enabled"),
                )),
            }
        }
        if let Some(v) = Some(get(spec::STATUS)).filter(|v| !v.is_empty()) {
            match RuleStatus::parse(v) {
                Some(s) => rule.status = s,
                None => diags.push(Diagnostic::warning(
                    path,
                    line,
                    format!("rule {id}: status `{v}` is not enabled, disabled or retired; ignored"),
                )),
            }
        }
        rule.owner = Some(get(spec::OWNER))
            .filter(|v| !v.is_empty())
            .map(str::to_string);
        rule.severity = Some(get(spec::SEVERITY))
            .filter(|v| !v.is_empty())
            .map(str::to_string);
        let joined: Vec<&str> = record.iter().collect();
        rule.content_hash = sha256_hex(joined.join("\u{1f}").as_bytes());
        rules.push(rule);
    }
    (rules, diags)
}

fn csv_error(path: &str, e: &csv::Error) -> Diagnostic {
    let line = e.position().map(|p| p.line() as usize);
    Diagnostic::error(path, line, format!("invalid CSV: {e}"))
}
