//! Reading VECTR CSV exports, and mapping placeholder rules.

use std::collections::BTreeMap;

use attest_core::result::{Evidence, ValidationResult};
use attest_core::rule::RuleId;

use super::spec::{self, PLACEHOLDER_RULE, VectrOptions};
use crate::import::invoke_atomic::decode::{LineCounter, decode_text, parse_time};
use crate::{Diagnostic, Input};

/// Reads one VECTR CSV export. Never fails as a whole: a file without `MitreID` and `Outcome`
/// columns is one error; rows without a usable technique, outcome or time are skipped with a
/// diagnostic naming their line.
pub fn read_vectr(
    input: Input<'_>,
    options: &VectrOptions,
) -> (Vec<ValidationResult>, Vec<Diagnostic>) {
    let path = input.path;
    let (text, mut diags) = decode_text(path, input.bytes);
    let mut results = Vec::new();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|s| s.trim().to_string()).collect(),
        Err(e) => {
            diags.push(Diagnostic::error(
                path,
                Some(1),
                format!("unreadable CSV header: {e}"),
            ));
            return (results, diags);
        }
    };
    let col = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| headers.iter().position(|h| h.eq_ignore_ascii_case(n)))
    };
    let (Some(mitre), Some(outcome_col)) = (col(spec::MITRE_ID), col(spec::OUTCOME)) else {
        diags.push(Diagnostic::error(
            path,
            Some(1),
            "not a VECTR export: the header needs MitreID and Outcome columns; file skipped",
        ));
        return (results, diags);
    };
    let (status, test_case, start_epoch, start, tools, notes, campaign, assessment, targets, rule) = (
        col(spec::STATUS),
        col(spec::TEST_CASE),
        col(spec::START_EPOCH),
        col(spec::START),
        col(spec::DETECTING_TOOLS),
        col(spec::NOTES),
        col(spec::CAMPAIGN),
        col(spec::ASSESSMENT),
        col(spec::TARGETS),
        col(spec::RULE),
    );

    let mut lines = LineCounter::new(&text);
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| lines.line_of(p.byte()));
                diags.push(Diagnostic::error(
                    path,
                    line,
                    format!("unreadable CSV: {e}; the rest of the file is skipped"),
                ));
                break;
            }
        };
        let line = record.position().map(|p| lines.line_of(p.byte()));
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let get = |i: Option<usize>| {
            i.and_then(|i| record.get(i))
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };

        if let Some(s) = get(status).filter(|s| spec::not_performed(s)) {
            diags.push(Diagnostic::warning(
                path,
                line,
                format!("Status {s:?}: test case skipped"),
            ));
            continue;
        }
        let raw_outcome = get(Some(outcome_col)).unwrap_or("");
        let Some(outcome) = spec::outcome(raw_outcome) else {
            diags.push(Diagnostic::warning(
                path,
                line,
                format!("Outcome {raw_outcome:?} is neither detected nor not detected; test case skipped"),
            ));
            continue;
        };
        let Some(technique) = get(Some(mitre)).map(str::to_ascii_uppercase) else {
            diags.push(Diagnostic::error(
                path,
                line,
                "no MitreID; test case skipped",
            ));
            continue;
        };
        // The epoch column is unambiguous; the text column is in whatever form the export used.
        let time = get(start_epoch)
            .and_then(parse_time)
            .or_else(|| get(start).and_then(parse_time));
        let Some((at, _)) = time else {
            diags.push(Diagnostic::error(
                path,
                line,
                format!(
                    "no readable Start Time ({:?}); test case skipped",
                    get(start).or(get(start_epoch)).unwrap_or("")
                ),
            ));
            continue;
        };

        let mut text = format!("VECTR {raw_outcome}");
        if let Some(v) = get(test_case) {
            text.push_str(&format!(": {v}"));
        }
        let place: Vec<&str> = [get(assessment), get(campaign)]
            .into_iter()
            .flatten()
            .collect();
        if !place.is_empty() {
            text.push_str(&format!(" ({})", place.join(" / ")));
        }
        for (label, value) in [
            ("targets", get(targets)),
            ("detecting tools", get(tools)),
            ("notes", get(notes)),
        ] {
            if let Some(v) = value {
                text.push_str(&format!("; {label}: {v}"));
            }
        }
        text.push_str(&format!(" [{path}:{}]", line.unwrap_or(0)));
        results.push(ValidationResult {
            rule: RuleId(get(rule).unwrap_or(PLACEHOLDER_RULE).to_string()),
            technique,
            test: get(test_case).map(str::to_string),
            outcome,
            at,
            by: options.by.clone(),
            evidence: Evidence {
                text: Some(text),
                url: None,
                event_ids: Vec::new(),
            },
        });
    }
    (results, diags)
}

/// Replaces the [`PLACEHOLDER_RULE`] of each result with every rule claiming its technique
/// (exact technique match, case-insensitive; a parent claim does not count for a sub-technique).
/// Returns the assigned results (including those that already named a rule) and, separately,
/// the placeholder results no rule claims — a detected technique without a registered rule.
pub fn assign_rules(
    results: Vec<ValidationResult>,
    claims: &BTreeMap<String, Vec<RuleId>>,
) -> (Vec<ValidationResult>, Vec<ValidationResult>) {
    let claims: BTreeMap<String, &Vec<RuleId>> = claims
        .iter()
        .map(|(t, r)| (t.trim().to_ascii_uppercase(), r))
        .collect();
    let mut assigned = Vec::new();
    let mut unclaimed = Vec::new();
    for result in results {
        if result.rule.0 != PLACEHOLDER_RULE {
            assigned.push(result);
            continue;
        }
        match claims
            .get(&result.technique.to_ascii_uppercase())
            .filter(|r| !r.is_empty())
        {
            Some(rules) => {
                for rule in rules.iter() {
                    assigned.push(ValidationResult {
                        rule: rule.clone(),
                        ..result.clone()
                    });
                }
            }
            None => unclaimed.push(result),
        }
    }
    (assigned, unclaimed)
}
