//! Reading mapping files.

use attest_core::exposure::{FindingMapping, MappingKind, MappingSet, MappingType};

use super::spec::{CSV_CVE_COLUMN, CSV_TECHNIQUE_COLUMNS, CtidDoc, MisconfigMapDoc};
use crate::import::exposures::spec::normalise_name;
use crate::import::invoke_atomic::decode::{LineCounter, decode_text};
use crate::import::profile::read::token_line;
use crate::import::{check_yaml_shape, input_text, normalize_technique, yaml_error};
use crate::{Diagnostic, Input};

/// Reads a CVE → ATT&CK mapping: CTID unified JSON when the file starts with `{`, the KEV/NVD
/// CSV otherwise. `None` when nothing in it is usable (with the errors saying why).
pub fn read_cve_mappings(input: Input<'_>, name: &str) -> (Option<MappingSet>, Vec<Diagnostic>) {
    let (text, mut diags) = decode_text(input.path, input.bytes);
    let set = if text.trim_start().starts_with('{') {
        read_ctid_json(input.path, &text, name, &mut diags)
    } else {
        read_kev_csv(input.path, &text, name, &mut diags)
    };
    (set, diags)
}

fn technique(
    path: &str,
    line: Option<usize>,
    raw: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<String> {
    let t = normalize_technique(raw);
    if t.is_none() {
        diags.push(Diagnostic::error(
            path,
            line,
            format!("{raw:?} is not an ATT&CK technique id; mapping skipped"),
        ));
    }
    t
}

fn read_ctid_json(
    path: &str,
    text: &str,
    name: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<MappingSet> {
    let doc: CtidDoc = match serde_json::from_str(text) {
        Ok(d) => d,
        Err(e) => {
            diags.push(Diagnostic::error(
                path,
                Some(e.line()),
                format!("not a CTID mapping document (metadata, mapping_objects[]): {e}"),
            ));
            return None;
        }
    };
    // serde_json keeps no positions; the n-th `"capability_id"` key is the n-th object's line
    // when every object has one (the published files do), else errors name the index only.
    let (mut line, mut from) = (1usize, 0usize);
    let key_lines: Vec<usize> = text
        .match_indices("\"capability_id\"")
        .map(|(at, _)| {
            line += memchr_count(&text.as_bytes()[from..at]);
            from = at;
            line
        })
        .collect();
    let aligned = key_lines.len() == doc.mapping_objects.len();
    let mut mappings = Vec::new();
    let mut unmapped = 0usize;
    for (i, m) in doc.mapping_objects.iter().enumerate() {
        let line = aligned.then(|| key_lines[i]);
        let at = |msg: String| format!("mapping_objects[{i}]: {msg}");
        let Some(cve) = m
            .capability_id
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        else {
            diags.push(Diagnostic::error(
                path,
                line,
                at("no capability_id (the CVE id); skipped".into()),
            ));
            continue;
        };
        let Some(raw) = m
            .attack_object_id
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        else {
            unmapped += 1;
            continue;
        };
        let before = diags.len();
        let Some(t) = technique(path, line, raw, diags) else {
            for d in &mut diags[before..] {
                d.message = at(std::mem::take(&mut d.message));
            }
            continue;
        };
        mappings.push(FindingMapping {
            finding: attest_core::exposure::normalise_finding(cve),
            technique: t,
            mapping_type: MappingType::parse(
                m.mapping_type
                    .as_deref()
                    .unwrap_or("exploitation_technique"),
            ),
        });
    }
    if unmapped > 0 {
        diags.push(Diagnostic::warning(
            path,
            None,
            format!("{unmapped} mapping objects have no attack_object_id (non-mappable); skipped"),
        ));
    }
    Some(MappingSet {
        name: name.to_string(),
        kind: MappingKind::Cve,
        attack_version: doc.metadata.attack_version,
        remap: Vec::new(),
        mappings,
    })
}

fn memchr_count(bytes: &[u8]) -> usize {
    bytes.iter().filter(|b| **b == b'\n').count()
}

fn read_kev_csv(
    path: &str,
    text: &str,
    name: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<MappingSet> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(normalise_name).collect(),
        Err(e) => {
            diags.push(Diagnostic::error(
                path,
                Some(1),
                format!("unreadable CSV header: {e}"),
            ));
            return None;
        }
    };
    let col = |n: &str| headers.iter().position(|h| *h == normalise_name(n));
    let Some(cve_col) = col(CSV_CVE_COLUMN) else {
        diags.push(Diagnostic::error(
            path,
            Some(1),
            format!(
                "neither CTID JSON (it would start with '{{') nor the KEV/NVD CSV: no `{CSV_CVE_COLUMN}` column (found: {})",
                headers.join(", ")
            ),
        ));
        return None;
    };
    let technique_cols: Vec<(usize, MappingType)> = CSV_TECHNIQUE_COLUMNS
        .iter()
        .filter_map(|(c, ty)| col(c).map(|i| (i, MappingType::parse(ty))))
        .collect();
    if technique_cols.is_empty() {
        diags.push(Diagnostic::error(
            path,
            Some(1),
            "no technique column (Exploitation Technique, Primary Impact, Secondary Impact)",
        ));
        return None;
    }
    let mut lines = LineCounter::new(text);
    let mut mappings = Vec::new();
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
        let Some(cve) = record.get(cve_col).map(str::trim).filter(|s| !s.is_empty()) else {
            if record.iter().any(|f| !f.trim().is_empty()) {
                diags.push(Diagnostic::error(path, line, "no CVE ID; row skipped"));
            }
            continue;
        };
        for (i, ty) in &technique_cols {
            let cell = record.get(*i).unwrap_or("");
            for raw in cell
                .split([';', ','])
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                if let Some(t) = technique(path, line, raw, diags) {
                    mappings.push(FindingMapping {
                        finding: attest_core::exposure::normalise_finding(cve),
                        technique: t,
                        mapping_type: ty.clone(),
                    });
                }
            }
        }
    }
    Some(MappingSet {
        name: name.to_string(),
        kind: MappingKind::Cve,
        attack_version: None,
        remap: Vec::new(),
        mappings,
    })
}

/// Reads a misconfiguration map (YAML, see the module documentation). `None` when the file
/// cannot be used at all.
pub fn read_misconfig_map(input: Input<'_>, name: &str) -> (Option<MappingSet>, Vec<Diagnostic>) {
    let text = match input_text(&input) {
        Ok(t) => t,
        Err(d) => return (None, vec![d]),
    };
    if let Err(d) = check_yaml_shape(&input, text) {
        return (None, vec![d]);
    }
    let doc: MisconfigMapDoc = match yaml_serde::from_str(text) {
        Ok(d) => d,
        Err(e) => return (None, vec![yaml_error(input.path, &e)]),
    };
    let mut diags = Vec::new();
    let mut mappings = Vec::new();
    for (id, techniques) in &doc.mappings {
        for raw in techniques {
            let line = token_line(text, raw.trim()).or_else(|| token_line(text, id));
            if let Some(t) = technique(input.path, line, raw, &mut diags) {
                mappings.push(FindingMapping {
                    finding: attest_core::exposure::normalise_finding(id),
                    technique: t,
                    mapping_type: MappingType::Enables,
                });
            }
        }
    }
    (
        Some(MappingSet {
            name: name.to_string(),
            kind: MappingKind::Misconfiguration,
            attack_version: doc.attack_version,
            remap: Vec::new(),
            mappings,
        }),
        diags,
    )
}
