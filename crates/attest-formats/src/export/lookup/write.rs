//! Writing the lookup CSV.

use super::spec::{LOOKUP_COLUMNS, LookupRow};

/// The lookup table as CSV text (header plus one row per rule, `\n` line ends).
pub fn lookup_csv(rows: &[LookupRow]) -> String {
    let mut out = String::new();
    push_record(&mut out, LOOKUP_COLUMNS.iter().map(|c| c.to_string()));
    for r in rows {
        push_record(
            &mut out,
            [
                r.rule_id.clone(),
                r.rule_name.clone(),
                list(&r.techniques),
                list(&r.tactics),
                list(&r.data_sources),
                r.status.as_str().to_string(),
                r.last_tested
                    .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
                    .unwrap_or_default(),
            ],
        );
    }
    out
}

/// A `;`-separated list; `;` inside an item becomes `,`.
fn list(items: &[String]) -> String {
    items
        .iter()
        .map(|i| i.trim().replace(';', ","))
        .filter(|i| !i.is_empty())
        .collect::<Vec<_>>()
        .join(";")
}

/// One CSV record, fields quoted when they hold a comma, quote or line break (RFC 4180).
fn push_record(out: &mut String, fields: impl IntoIterator<Item = String>) {
    for (i, f) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if f.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&f.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(&f);
        }
    }
    out.push('\n');
}
