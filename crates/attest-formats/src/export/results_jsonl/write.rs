//! Writing result lines.

use std::io::Write;

use attest_core::result::ValidationResult;

use crate::import::results_jsonl::spec::{EvidenceLine, EvidenceObject, ResultLine};

/// Writes one line per result to `out`.
pub fn write_results_jsonl<W: Write>(
    results: &[ValidationResult],
    mut out: W,
) -> std::io::Result<()> {
    for r in results {
        serde_json::to_writer(&mut out, &line(r))?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// The JSON lines of `results` as a string.
pub fn results_to_jsonl(results: &[ValidationResult]) -> String {
    let mut out = String::new();
    for r in results {
        // Serializing these plain strings cannot fail; an empty line would be the only symptom.
        out.push_str(&serde_json::to_string(&line(r)).unwrap_or_default());
        out.push('\n');
    }
    out
}

fn line(r: &ValidationResult) -> ResultLine {
    let e = &r.evidence;
    let evidence = (e.text.is_some() || e.url.is_some() || !e.event_ids.is_empty()).then(|| {
        EvidenceLine::Full(EvidenceObject {
            text: e.text.clone(),
            url: e.url.clone(),
            event_ids: e.event_ids.clone(),
        })
    });
    ResultLine {
        rule: r.rule.0.clone(),
        technique: r.technique.clone(),
        test: r.test.clone(),
        outcome: r.outcome.as_str().to_string(),
        at: Some(r.at.to_string()),
        by: Some(r.by.clone()),
        evidence,
    }
}
