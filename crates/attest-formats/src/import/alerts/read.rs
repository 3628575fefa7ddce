//! Reading alert exports.

use serde_json::Value;

use super::spec::{ALERT_ID_FIELDS, HOST_FIELDS, RULE_ID_FIELDS, RULE_NAME_FIELDS, TIME_FIELDS};
use crate::correlate::Alert;
use crate::import::invoke_atomic::decode::{LineCounter, TimeZoneUse, decode_text, parse_time};
use crate::{Diagnostic, Input};

/// Reads one alert export (CSV, JSON lines or JSON array; see the module documentation). Never
/// fails as a whole; unusable rows are skipped with an error naming their line.
pub fn read_alerts(input: Input<'_>) -> (Vec<Alert>, Vec<Diagnostic>) {
    let (text, mut diags) = decode_text(input.path, input.bytes);
    let mut state = State {
        path: input.path,
        alerts: Vec::new(),
        assumed_utc: false,
    };
    match text.trim_start().as_bytes().first() {
        None => diags.push(Diagnostic::error(input.path, None, "empty file: no alerts")),
        Some(b'{') => read_json_lines(&text, &mut state, &mut diags),
        Some(b'[') => read_json_array(&text, &mut state, &mut diags),
        Some(_) => read_csv(&text, &mut state, &mut diags),
    }
    if state.assumed_utc {
        diags.push(Diagnostic::warning(
            input.path,
            None,
            "some alert times have no zone; they were read as UTC",
        ));
    }
    (state.alerts, diags)
}

struct State<'p> {
    path: &'p str,
    alerts: Vec<Alert>,
    assumed_utc: bool,
}

/// The fields of one record, found by alias.
struct Fields {
    rule_id: Option<String>,
    rule_name: Option<String>,
    time: Option<String>,
    host: Option<String>,
    id: Option<String>,
}

impl State<'_> {
    fn push(
        &mut self,
        f: Fields,
        line: Option<usize>,
        source: String,
        diags: &mut Vec<Diagnostic>,
    ) {
        if f.rule_id.is_none() && f.rule_name.is_none() {
            diags.push(Diagnostic::error(
                self.path,
                line,
                format!(
                    "no rule id or rule name (fields {} or {}); alert skipped",
                    RULE_ID_FIELDS.join("|"),
                    RULE_NAME_FIELDS.join("|")
                ),
            ));
            return;
        }
        let Some(raw_time) = f.time else {
            diags.push(Diagnostic::error(
                self.path,
                line,
                format!("no time (fields {}); alert skipped", TIME_FIELDS.join("|")),
            ));
            return;
        };
        let Some((at, zone)) = parse_time(&raw_time) else {
            diags.push(Diagnostic::error(
                self.path,
                line,
                format!("time {raw_time:?} is not a time; alert skipped"),
            ));
            return;
        };
        self.assumed_utc |= zone == TimeZoneUse::AssumedUtc;
        self.alerts.push(Alert {
            rule_id: f.rule_id,
            rule_name: f.rule_name,
            at,
            host: f.host,
            id: f.id,
            source,
        });
    }
}

fn read_csv(text: &str, state: &mut State<'_>, diags: &mut Vec<Diagnostic>) {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|s| s.trim().to_string()).collect(),
        Err(e) => {
            diags.push(Diagnostic::error(
                state.path,
                Some(1),
                format!("unreadable CSV header: {e}"),
            ));
            return;
        }
    };
    let find = |aliases: &[&str]| -> Vec<usize> {
        aliases
            .iter()
            .filter_map(|a| headers.iter().position(|h| h.eq_ignore_ascii_case(a)))
            .collect()
    };
    let (rule_id, rule_name, time, host, id) = (
        find(RULE_ID_FIELDS),
        find(RULE_NAME_FIELDS),
        find(TIME_FIELDS),
        find(HOST_FIELDS),
        find(ALERT_ID_FIELDS),
    );
    if (rule_id.is_empty() && rule_name.is_empty()) || time.is_empty() {
        diags.push(Diagnostic::error(
            state.path,
            Some(1),
            format!(
                "header has no rule id/name column or no time column (found: {}); file skipped",
                headers.join(", ")
            ),
        ));
        return;
    }
    let mut lines = LineCounter::new(text);
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| lines.line_of(p.byte()));
                diags.push(Diagnostic::error(
                    state.path,
                    line,
                    format!("unreadable CSV: {e}; the rest of the file is skipped"),
                ));
                return;
            }
        };
        let line = record.position().map_or(0, |p| lines.line_of(p.byte()));
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        // First alias with a non-empty value in this row.
        let get = |cols: &[usize]| {
            cols.iter()
                .filter_map(|&i| record.get(i))
                .map(str::trim)
                .find(|s| !s.is_empty())
                .map(str::to_string)
        };
        let fields = Fields {
            rule_id: get(&rule_id),
            rule_name: get(&rule_name),
            time: get(&time),
            host: get(&host),
            id: get(&id),
        };
        state.push(fields, Some(line), format!("{}:{line}", state.path), diags);
    }
}

fn read_json_lines(text: &str, state: &mut State<'_>, diags: &mut Vec<Diagnostic>) {
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let raw = raw.trim();
        if raw.is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(raw) {
            Ok(value) => {
                let fields = json_fields(&value);
                state.push(fields, Some(line), format!("{}:{line}", state.path), diags);
            }
            Err(e) => diags.push(Diagnostic::error(
                state.path,
                Some(line),
                format!("not JSON: {e}; line skipped"),
            )),
        }
    }
}

fn read_json_array(text: &str, state: &mut State<'_>, diags: &mut Vec<Diagnostic>) {
    let values: Vec<Value> = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            diags.push(Diagnostic::error(
                state.path,
                Some(e.line()),
                format!("not a JSON array: {e}"),
            ));
            return;
        }
    };
    for (index, value) in values.iter().enumerate() {
        let fields = json_fields(value);
        // Elements of an array have no line of their own once parsed; name the index instead.
        let before = diags.len();
        state.push(fields, None, format!("{}:[{index}]", state.path), diags);
        for d in &mut diags[before..] {
            d.message = format!("[{index}]: {}", d.message);
        }
    }
}

fn json_fields(value: &Value) -> Fields {
    // Splunk's JSON export wraps each row: {"preview": false, "result": {...}}.
    let value = match value.get("result") {
        Some(inner @ Value::Object(_)) if lookup_any(value, TIME_FIELDS).is_none() => inner,
        _ => value,
    };
    Fields {
        rule_id: lookup_any(value, RULE_ID_FIELDS),
        rule_name: lookup_any(value, RULE_NAME_FIELDS),
        time: lookup_any(value, TIME_FIELDS),
        host: lookup_any(value, HOST_FIELDS),
        id: lookup_any(value, ALERT_ID_FIELDS),
    }
}

fn lookup_any(value: &Value, aliases: &[&str]) -> Option<String> {
    aliases.iter().find_map(|a| lookup(value, a))
}

/// A scalar at `key`: a flat key (`"rule.id"`) first, then the nested path (`rule` → `id`).
/// Splunk multivalue fields arrive as arrays; their first element is taken.
fn lookup(value: &Value, key: &str) -> Option<String> {
    let found = value.get(key).or_else(|| {
        if !key.contains('.') {
            return None;
        }
        key.split('.').try_fold(value, |v, part| v.get(part))
    })?;
    scalar(found)
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(items) => items.first().and_then(scalar),
        _ => None,
    }
}
