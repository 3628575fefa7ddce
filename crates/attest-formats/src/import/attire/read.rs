//! Reading Attire documents.

use jiff::Timestamp;

use super::spec::{RawLog, RawProcedure};
use crate::correlate::Execution;
use crate::import::invoke_atomic::decode::{decode_text, parse_time};
use crate::{Diagnostic, Input};

/// Reads one Attire JSON document. Never fails as a whole: invalid JSON gives no executions and
/// one error with its line; unusable procedures are skipped with an error naming their line.
pub fn read_attire(input: Input<'_>) -> (Vec<Execution>, Vec<Diagnostic>) {
    let path = input.path;
    let (text, mut diags) = decode_text(path, input.bytes);
    let raw: RawLog = match serde_json::from_str(&text) {
        Ok(raw) => raw,
        Err(e) => {
            diags.push(Diagnostic::error(
                path,
                Some(e.line()),
                format!("not an Attire JSON document: {e}"),
            ));
            return (Vec::new(), diags);
        }
    };
    if raw.version.is_none() {
        diags.push(Diagnostic::warning(
            path,
            Some(1),
            "no attire-version; read as Attire 1.1",
        ));
    }
    let target = raw
        .execution_data
        .as_ref()
        .and_then(|d| d.get("target"))
        .cloned()
        .unwrap_or(serde_json::Value::Null);
    let text_field = |key: &str| {
        target
            .get(key)
            .and_then(|v| v.as_str())
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let host = text_field("host");
    let user = text_field("user");

    // serde_json does not say where a value that parsed fine sits; procedures appear in file
    // order, so the n-th `"mitre-technique-id"` key is the n-th procedure's.
    let lines: Vec<usize> = line_starts_of(&text, "\"mitre-technique-id\"");

    let mut executions = Vec::new();
    for (index, value) in raw.procedures.into_vec().into_iter().enumerate() {
        let line = lines.get(index).copied();
        let proc: RawProcedure = match serde_json::from_value(value) {
            Ok(p) => p,
            Err(e) => {
                diags.push(Diagnostic::error(
                    path,
                    line,
                    format!("procedures[{index}]: {e}; skipped"),
                ));
                continue;
            }
        };
        let Some(technique) = proc
            .technique
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        else {
            diags.push(Diagnostic::error(
                path,
                line,
                format!("procedures[{index}] has no mitre-technique-id; skipped"),
            ));
            continue;
        };
        let mut started: Option<Timestamp> = None;
        let mut finished: Option<Timestamp> = None;
        for (si, step) in proc.steps.into_vec().into_iter().enumerate() {
            for (field, raw_time, slot, earliest) in [
                ("time-start", &step.time_start, &mut started, true),
                ("time-stop", &step.time_stop, &mut finished, false),
            ] {
                let Some(raw_time) = raw_time.as_deref().filter(|s| !s.trim().is_empty()) else {
                    continue;
                };
                match parse_time(raw_time) {
                    Some((t, _)) => {
                        *slot = Some(match *slot {
                            Some(old) if earliest => old.min(t),
                            Some(old) => old.max(t),
                            None => t,
                        });
                    }
                    None => diags.push(Diagnostic::warning(
                        path,
                        line,
                        format!("procedures[{index}].steps[{si}].{field} {raw_time:?} is not a time; ignored"),
                    )),
                }
            }
        }
        let Some(started) = started else {
            diags.push(Diagnostic::error(
                path,
                line,
                format!("procedures[{index}] ({technique}) has no readable time-start; skipped"),
            ));
            continue;
        };
        let test_guid = proc.id.and_then(|id| {
            let is_guid = id
                .kind
                .as_deref()
                .is_none_or(|k| k.trim().eq_ignore_ascii_case("guid"));
            id.id
                .map(|g| g.trim().to_ascii_lowercase())
                .filter(|g| is_guid && !g.is_empty())
        });
        let test_number = proc.order.and_then(|o| match o {
            serde_json::Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
            serde_json::Value::String(s) => s.trim().parse().ok(),
            _ => None,
        });
        executions.push(Execution {
            technique: technique.to_ascii_uppercase(),
            test_guid,
            test_name: proc
                .name
                .map(|n| n.trim().to_string())
                .filter(|n| !n.is_empty()),
            test_number,
            host: host.clone(),
            user: user.clone(),
            started,
            finished,
            exit_code: None,
            source: match line {
                Some(l) => format!("{path}:{l}"),
                None => format!("{path}: procedures[{index}]"),
            },
        });
    }
    (executions, diags)
}

/// 1-based lines of every occurrence of `needle`.
fn line_starts_of(text: &str, needle: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut line = 1;
    let mut last = 0;
    for (at, _) in text.match_indices(needle) {
        line += text.as_bytes()[last..at]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        last = at;
        out.push(line);
    }
    out
}
