//! Reading exposure exports.

use attest_core::exposure::{Exposure, ExposureStatus, Severity, normalise_finding};
use jiff::Timestamp;
use serde_json::Value;

use super::spec::{
    ASSET_FIELDS, FINDING_FIELDS, FIRST_SEEN_FIELDS, LAST_SEEN_FIELDS, SEVERITY_FIELDS,
    STATUS_FIELDS, TECHNIQUE_FIELDS, TITLE_FIELDS, normalise_name,
};
use crate::import::invoke_atomic::decode::{LineCounter, decode_text, parse_time};
use crate::import::normalize_technique;
use crate::{Diagnostic, Input};

/// The largest exposure export read (1 GiB): a million findings fit well below it.
pub const MAX_EXPOSURE_BYTES: usize = 1024 * 1024 * 1024;

/// Which shape an export has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExposureFormat {
    /// Sniff: JSON lines when the first non-blank character is `{`, CSV otherwise.
    Auto,
    /// CSV with a header row.
    Csv,
    /// One JSON object per line.
    JsonLines,
}

/// Reads one export of `feed`. Never fails as a whole: unusable rows are skipped with an error
/// naming the file and line.
pub fn read_exposures(
    input: Input<'_>,
    feed: &str,
    format: ExposureFormat,
) -> (Vec<Exposure>, Vec<Diagnostic>) {
    if input.bytes.len() > MAX_EXPOSURE_BYTES {
        return (
            Vec::new(),
            vec![Diagnostic::error(
                input.path,
                None,
                format!(
                    "file is {} bytes, above the {MAX_EXPOSURE_BYTES}-byte limit; not parsed",
                    input.bytes.len()
                ),
            )],
        );
    }
    let (text, mut diags) = decode_text(input.path, input.bytes);
    let mut out = Vec::new();
    let format = match format {
        ExposureFormat::Auto if text.trim_start().starts_with('{') => ExposureFormat::JsonLines,
        ExposureFormat::Auto => ExposureFormat::Csv,
        f => f,
    };
    if text.trim().is_empty() {
        diags.push(Diagnostic::error(
            input.path,
            None,
            "empty file: no findings",
        ));
        return (out, diags);
    }
    let mut rows = Rows {
        path: input.path,
        feed,
        out: &mut out,
        diags: &mut diags,
    };
    match format {
        ExposureFormat::JsonLines => rows.json_lines(&text),
        _ => rows.csv(&text),
    }
    (out, diags)
}

/// One record's fields, found by alias.
#[derive(Default)]
struct Fields {
    asset: Option<String>,
    finding: Option<String>,
    title: Option<String>,
    severity: Option<String>,
    first_seen: Option<String>,
    last_seen: Option<String>,
    status: Option<String>,
    techniques: Vec<String>,
}

struct Rows<'a, 'p> {
    path: &'p str,
    feed: &'p str,
    out: &'a mut Vec<Exposure>,
    diags: &'a mut Vec<Diagnostic>,
}

fn split_list(s: &str) -> impl Iterator<Item = &str> {
    s.split([';', ',', '|', ' ', '\t', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

impl Rows<'_, '_> {
    fn error(&mut self, line: usize, message: String) {
        self.diags
            .push(Diagnostic::error(self.path, Some(line), message));
    }

    fn time(&mut self, line: usize, what: &str, raw: Option<String>) -> Option<Timestamp> {
        let raw = raw?;
        match parse_time(&raw) {
            Some((t, _)) => Some(t),
            None => {
                self.diags.push(Diagnostic::warning(
                    self.path,
                    Some(line),
                    format!("{what} {raw:?} is not a time; left empty"),
                ));
                None
            }
        }
    }

    fn push(&mut self, f: Fields, line: usize) {
        let Some(asset) = f.asset else {
            return self.error(
                line,
                format!("no asset (columns {}); row skipped", ASSET_FIELDS.join("|")),
            );
        };
        let Some(finding) = f.finding else {
            return self.error(
                line,
                format!(
                    "no finding id (columns {}); row skipped",
                    FINDING_FIELDS.join("|")
                ),
            );
        };
        let Some(raw) = f.severity else {
            return self.error(
                line,
                format!(
                    "no severity (columns {}); row skipped",
                    SEVERITY_FIELDS.join("|")
                ),
            );
        };
        let Some(severity) = Severity::parse(&raw) else {
            return self.error(
                line,
                format!(
                    "severity {raw:?} is neither a CVSS score 0-10 nor a label \
                     (critical, high, medium, low, info); row skipped"
                ),
            );
        };
        let status = match f.status {
            None => ExposureStatus::Open,
            Some(raw) => match ExposureStatus::parse(&raw) {
                Some(s) => s,
                None => {
                    return self.error(
                        line,
                        format!(
                            "status {raw:?} is not open, fixed or accepted (or a synonym); row skipped"
                        ),
                    );
                }
            },
        };
        let mut techniques = Vec::new();
        for raw in &f.techniques {
            match normalize_technique(raw) {
                Some(t) => {
                    if !techniques.contains(&t) {
                        techniques.push(t);
                    }
                }
                None => self.diags.push(Diagnostic::warning(
                    self.path,
                    Some(line),
                    format!("technique {raw:?} is not an ATT&CK technique id; ignored"),
                )),
            }
        }
        let first_seen = self.time(line, "first seen", f.first_seen);
        let last_seen = self.time(line, "last seen", f.last_seen);
        // A cell listing several CVEs ("CVE-2021-44228; CVE-2021-45046") is one finding each.
        let ids: Vec<&str> = if finding.contains([';', ',', '|']) {
            split_list(&finding).collect()
        } else {
            vec![finding.trim()]
        };
        for id in ids {
            let finding = normalise_finding(id);
            self.out.push(Exposure {
                asset: asset.clone(),
                title: f.title.clone().unwrap_or_else(|| finding.clone()),
                finding,
                severity,
                first_seen,
                last_seen,
                status,
                techniques: techniques.clone(),
                feed: self.feed.to_string(),
            });
        }
    }

    fn csv(&mut self, text: &str) {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(text.as_bytes());
        let headers: Vec<String> = match reader.headers() {
            Ok(h) => h.iter().map(normalise_name).collect(),
            Err(e) => return self.error(1, format!("unreadable CSV header: {e}")),
        };
        let find = |aliases: &[&str]| -> Vec<usize> {
            aliases
                .iter()
                .filter_map(|a| {
                    let a = normalise_name(a);
                    headers.iter().position(|h| *h == a)
                })
                .collect()
        };
        let cols = [
            find(ASSET_FIELDS),
            find(FINDING_FIELDS),
            find(TITLE_FIELDS),
            find(SEVERITY_FIELDS),
            find(FIRST_SEEN_FIELDS),
            find(LAST_SEEN_FIELDS),
            find(STATUS_FIELDS),
            find(TECHNIQUE_FIELDS),
        ];
        if cols[0].is_empty() || cols[1].is_empty() || cols[3].is_empty() {
            return self.error(
                1,
                format!(
                    "the header needs an asset, a finding id and a severity column; found: {}",
                    headers.join(", ")
                ),
            );
        }
        let mut lines = LineCounter::new(text);
        let mut record = csv::StringRecord::new();
        loop {
            match reader.read_record(&mut record) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    let line = e.position().map_or(0, |p| lines.line_of(p.byte()));
                    return self.error(
                        line,
                        format!("unreadable CSV: {e}; the rest of the file is skipped"),
                    );
                }
            }
            let line = record.position().map_or(0, |p| lines.line_of(p.byte()));
            if record.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            // First alias with a non-empty value in this row.
            let get = |i: usize| {
                cols[i]
                    .iter()
                    .filter_map(|&c| record.get(c))
                    .map(str::trim)
                    .find(|s| !s.is_empty())
                    .map(str::to_string)
            };
            let fields = Fields {
                asset: get(0),
                finding: get(1),
                title: get(2),
                severity: get(3),
                first_seen: get(4),
                last_seen: get(5),
                status: get(6),
                techniques: get(7)
                    .map(|s| split_list(&s).map(str::to_string).collect())
                    .unwrap_or_default(),
            };
            self.push(fields, line);
        }
    }

    fn json_lines(&mut self, text: &str) {
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let raw = raw.trim();
            if raw.is_empty() {
                continue;
            }
            let value: Value = match serde_json::from_str(raw) {
                Ok(v @ Value::Object(_)) => v,
                Ok(_) => {
                    self.error(line, "not a JSON object; line skipped".into());
                    continue;
                }
                Err(e) => {
                    self.error(line, format!("not JSON: {e}; line skipped"));
                    continue;
                }
            };
            let techniques = match lookup_value(&value, TECHNIQUE_FIELDS) {
                Some(Value::Array(items)) => items.iter().filter_map(scalar).collect(),
                Some(v) => scalar(v)
                    .map(|s| split_list(&s).map(str::to_string).collect())
                    .unwrap_or_default(),
                None => Vec::new(),
            };
            let get = |aliases: &[&str]| lookup_value(&value, aliases).and_then(scalar);
            let fields = Fields {
                asset: get(ASSET_FIELDS),
                finding: get(FINDING_FIELDS),
                title: get(TITLE_FIELDS),
                severity: get(SEVERITY_FIELDS),
                first_seen: get(FIRST_SEEN_FIELDS),
                last_seen: get(LAST_SEEN_FIELDS),
                status: get(STATUS_FIELDS),
                techniques,
            };
            self.push(fields, line);
        }
    }
}

/// The value of the first alias present: a flat key compared by [`normalise_name`], then the
/// nested path of a dotted alias.
fn lookup_value<'v>(value: &'v Value, aliases: &[&str]) -> Option<&'v Value> {
    let obj = value.as_object()?;
    aliases.iter().find_map(|alias| {
        let want = normalise_name(alias);
        let flat = obj
            .iter()
            .find(|(k, v)| normalise_name(k) == want && scalar_or_list(v))
            .map(|(_, v)| v);
        flat.or_else(|| {
            if !alias.contains('.') {
                return None;
            }
            alias
                .split('.')
                .try_fold(value, |v, part| v.get(part))
                .filter(|v| scalar_or_list(v))
        })
    })
}

fn scalar_or_list(v: &Value) -> bool {
    matches!(v, Value::String(_) | Value::Number(_) | Value::Array(_))
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(items) => items.first().and_then(scalar),
        _ => None,
    }
}
