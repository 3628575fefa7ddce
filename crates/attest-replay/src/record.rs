//! Replay results as validation results: what `attest validate replay` and the server's
//! scheduled replay job record. Pure: the caller reads the rule files and journals the output.

use std::collections::BTreeMap;
use std::path::Path;

use attest_core::result::{Evidence, Outcome, ValidationResult};
use attest_core::rule::RuleId;
use attest_core::test::{Test, TestKind};
use attest_sigma::RuleSet;
use jiff::Timestamp;

use crate::DatasetResult;

/// One expected rule of one dataset, for a report row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Dataset name.
    pub dataset: String,
    /// Rule id (the Sigma id, or the reference the dataset gave).
    pub rule: String,
    /// Techniques the result is recorded for.
    pub techniques: Vec<String>,
    /// Matches the dataset expects at least.
    pub expected_min: u64,
    /// Matches seen.
    pub matches: u64,
    /// The outcome recorded.
    pub outcome: Outcome,
    /// Matching events (`record:N` or `event:N`).
    pub events: Vec<String>,
}

/// What a replay records: one replay test per dataset and one result per (expected rule,
/// technique).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Recorded {
    /// The datasets as tests (`replay:<name>`).
    pub tests: Vec<Test>,
    /// The results.
    pub results: Vec<ValidationResult>,
    /// One row per expected rule.
    pub rows: Vec<Row>,
}

/// Turns replay `results` into tests and validation results. A result is recorded for every
/// technique the registry (`rule id → claimed techniques`) gives the rule, else for the
/// dataset's expected techniques. A dataset that failed to read gives `error`, an expected
/// rule that did not compile `skipped`, otherwise `pass` when it fired at least as often as
/// expected and `fail` when not.
pub fn record(
    results: &[DatasetResult],
    ruleset: &RuleSet,
    registry: &BTreeMap<String, Vec<String>>,
    now: Timestamp,
    by: &str,
) -> Recorded {
    let mut out = Recorded::default();
    for r in results {
        let test_id = format!("replay:{}", r.name);
        let mut techniques_all = Vec::new();
        for e in &r.expected {
            let rule_id = e
                .rule
                .and_then(|i| ruleset.rule(i))
                .and_then(|m| m.id.clone())
                .unwrap_or_else(|| e.rule_ref.clone());
            let mut techniques = registry.get(&rule_id).cloned().unwrap_or_default();
            if techniques.is_empty() {
                techniques = r.expected_techniques.clone();
            }
            let outcome = if !r.errors.is_empty() {
                Outcome::Error
            } else if e.rule.is_none() {
                Outcome::Skipped
            } else if e.passed {
                Outcome::Pass
            } else {
                Outcome::Fail
            };
            let event_ids: Vec<String> = e
                .events
                .iter()
                .map(|ev| match ev.record_id {
                    Some(id) => format!("record:{id}"),
                    None => format!("event:{}", ev.ordinal),
                })
                .collect();
            for t in &techniques {
                techniques_all.push(t.clone());
                out.results.push(ValidationResult {
                    rule: RuleId(rule_id.clone()),
                    technique: t.clone(),
                    test: Some(test_id.clone()),
                    outcome,
                    at: now,
                    by: by.to_string(),
                    evidence: Evidence {
                        text: Some(format!(
                            "{} of {} matches expected on {} events of {}",
                            e.match_count,
                            e.min_matches,
                            r.events,
                            r.source.display()
                        )),
                        url: None,
                        event_ids: event_ids.clone(),
                    },
                });
            }
            out.rows.push(Row {
                dataset: r.name.clone(),
                rule: rule_id,
                techniques,
                expected_min: e.min_matches,
                matches: e.match_count,
                outcome,
                events: event_ids,
            });
        }
        techniques_all.sort();
        techniques_all.dedup();
        out.tests.push(Test {
            id: test_id,
            kind: TestKind::Replay,
            techniques: techniques_all,
            name: r.name.clone(),
            platforms: Vec::new(),
            executor: None,
            elevation_required: false,
        });
    }
    out
}

/// Reads the Sigma rule files of registered rules (`(import root, path)` pairs) for
/// compilation. Returns the sources and how many files are no longer where they were imported
/// from.
pub fn registered_sources<'a>(
    rules: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> (Vec<attest_sigma::SourceRule>, usize) {
    let mut out = Vec::new();
    let mut missing = 0;
    for (root, path) in rules {
        let path = Path::new(root).join(path);
        match std::fs::read_to_string(&path) {
            Ok(text) => out.push(attest_sigma::SourceRule::new(
                path.display().to_string(),
                text,
            )),
            Err(_) => missing += 1,
        }
    }
    (out, missing)
}

/// Reads the Sigma rule files at `path` (one file, or every `.yml`/`.yaml` below a folder, by
/// name) for compilation: what `attest validate replay --rules PATH` and `POST /api/v1/replay`
/// with `rules` replay instead of the registered rules.
pub fn sources_at(path: &Path) -> std::io::Result<Vec<attest_sigma::SourceRule>> {
    let files: Vec<std::path::PathBuf> = if path.is_file() {
        vec![path.to_path_buf()]
    } else {
        let mut files = Vec::new();
        for entry in walkdir::WalkDir::new(path).sort_by_file_name() {
            let entry = entry.map_err(std::io::Error::other)?;
            let p = entry.path();
            if entry.file_type().is_file()
                && p.extension().is_some_and(|x| x == "yml" || x == "yaml")
            {
                files.push(p.to_path_buf());
            }
        }
        files
    };
    files
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(&f)?;
            Ok(attest_sigma::SourceRule::new(f.display().to_string(), text))
        })
        .collect()
}
