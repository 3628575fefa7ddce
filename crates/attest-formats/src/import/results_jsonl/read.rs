//! Reading result lines.

use attest_core::result::{Evidence, Outcome, ValidationResult};
use attest_core::rule::RuleId;
use jiff::Timestamp;

use super::spec::{EvidenceLine, ResultLine, ResultsJsonlOptions};
use crate::import::invoke_atomic::decode::decode_text;
use crate::{Diagnostic, Input};

/// Reads a JSON-lines file of results. Never fails as a whole; each unusable line is one error
/// naming it.
pub fn read_results_jsonl(
    input: Input<'_>,
    options: &ResultsJsonlOptions,
) -> (Vec<ValidationResult>, Vec<Diagnostic>) {
    let (text, mut diags) = decode_text(input.path, input.bytes);
    let mut results = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let raw = raw.trim();
        if raw.is_empty() {
            continue;
        }
        let parsed: ResultLine = match serde_json::from_str(raw) {
            Ok(p) => p,
            Err(e) => {
                diags.push(Diagnostic::error(
                    input.path,
                    Some(line),
                    format!("not a result line: {e}"),
                ));
                continue;
            }
        };
        match convert(parsed, options) {
            Ok(r) => results.push(r),
            Err(message) => diags.push(Diagnostic::error(input.path, Some(line), message)),
        }
    }
    (results, diags)
}

fn convert(line: ResultLine, options: &ResultsJsonlOptions) -> Result<ValidationResult, String> {
    let rule = line.rule.trim();
    if rule.is_empty() {
        return Err("rule is empty".to_string());
    }
    let technique = line.technique.trim().to_ascii_uppercase();
    if !is_technique_id(&technique) {
        return Err(format!(
            "technique {:?} is not an ATT&CK ID (T1234 or T1234.001)",
            line.technique
        ));
    }
    let outcome = Outcome::parse(&line.outcome).ok_or_else(|| {
        format!(
            "outcome {:?} is not pass, fail, error or skipped",
            line.outcome
        )
    })?;
    let at = match line.at.as_deref() {
        Some(s) => s
            .trim()
            .parse::<Timestamp>()
            .map_err(|e| format!("at {s:?} is not an RFC 3339 time with Z or an offset: {e}"))?,
        None => options.now.ok_or("at is missing")?,
    };
    let by = match line
        .by
        .map(|b| b.trim().to_string())
        .filter(|b| !b.is_empty())
    {
        Some(b) => b,
        None => options.default_by.clone().ok_or("by is missing")?,
    };
    let test = line
        .test
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .map(|t| {
            // Atomic GUIDs are keyed lower-case; names of other test kinds keep their case.
            if looks_like_guid(&t) {
                t.to_ascii_lowercase()
            } else {
                t
            }
        });
    let evidence = match line.evidence {
        None => Evidence::default(),
        Some(EvidenceLine::Text(text)) => Evidence {
            text: Some(text),
            ..Evidence::default()
        },
        Some(EvidenceLine::Full(e)) => Evidence {
            text: e.text,
            url: e.url,
            event_ids: e.event_ids,
        },
    };
    Ok(ValidationResult {
        rule: RuleId(rule.to_string()),
        technique,
        test,
        outcome,
        at,
        by,
        evidence,
    })
}

fn is_technique_id(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: &[u8]| r.iter().all(u8::is_ascii_digit);
    (b.len() == 5 || (b.len() == 9 && b[5] == b'.' && digits(&b[6..9])))
        && b[0] == b'T'
        && digits(&b[1..5])
}

fn looks_like_guid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}
