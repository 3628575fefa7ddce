//! Reading a layer into a profile or claims.

use attest_core::profile::Profile;
use serde_json::Value;

use crate::import::{MAX_INPUT_BYTES, normalize_tactic, normalize_technique};
use crate::{Diagnostic, Input};

/// A technique a layer claims is covered.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedTechnique {
    /// `T1234` or `T1234.001`.
    pub technique: String,
    /// Tactic short names the claim was made under; empty when the entry had no tactic.
    pub tactics: Vec<String>,
    /// The highest score given, if any.
    pub score: Option<f64>,
    /// The first colour given, if any.
    pub color: Option<String>,
    /// Comments, joined.
    pub comment: Option<String>,
}

/// What a coverage layer claims.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClaimedCoverage {
    /// The layer's name.
    pub name: String,
    /// `enterprise-attack`, …; empty when absent.
    pub domain: String,
    /// `versions.attack`, when given.
    pub attack_version: Option<String>,
    /// Claimed techniques, in layer order.
    pub techniques: Vec<ClaimedTechnique>,
}

/// One usable technique entry of a layer.
struct Entry {
    technique: String,
    tactic: Option<String>,
    score: Option<f64>,
    color: Option<String>,
    comment: Option<String>,
}

/// A parsed layer: header fields and usable entries.
struct Parsed {
    name: String,
    description: Option<String>,
    domain: String,
    attack_version: Option<String>,
    platforms: Vec<String>,
    entries: Vec<Entry>,
}

/// Reads a threat layer as a profile named `name` (default: the layer's name). `None` when the
/// file is not a layer.
pub fn read_layer_profile(
    input: Input<'_>,
    name: Option<&str>,
) -> (Option<Profile>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let Some(parsed) = parse(input, &mut diags) else {
        return (None, diags);
    };
    let mut extra: Vec<(String, f64)> = Vec::new();
    for e in &parsed.entries {
        let weight = match e.score {
            Some(s) if s > 0.0 => s,
            Some(_) => continue,
            None if e.color.is_some() => 1.0,
            None => continue,
        };
        match extra.iter_mut().find(|(t, _)| *t == e.technique) {
            Some((_, w)) => *w = w.max(weight),
            None => extra.push((e.technique.clone(), weight)),
        }
    }
    let profile = Profile {
        name: name.map(str::to_string).unwrap_or(parsed.name),
        description: parsed.description,
        platforms: parsed.platforms,
        extra_techniques: extra,
        ..Profile::default()
    };
    (Some(profile), diags)
}

/// Reads a coverage layer as claims. `None` when the file is not a layer.
pub fn read_layer_claims(input: Input<'_>) -> (Option<ClaimedCoverage>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let Some(parsed) = parse(input, &mut diags) else {
        return (None, diags);
    };
    let mut techniques: Vec<ClaimedTechnique> = Vec::new();
    for e in parsed.entries {
        let claimed = match e.score {
            Some(s) => s > 0.0,
            None => e.color.is_some(),
        };
        if !claimed {
            continue;
        }
        let i = match techniques.iter().position(|t| t.technique == e.technique) {
            Some(i) => i,
            None => {
                techniques.push(ClaimedTechnique {
                    technique: e.technique.clone(),
                    tactics: Vec::new(),
                    score: None,
                    color: None,
                    comment: None,
                });
                techniques.len() - 1
            }
        };
        let t = &mut techniques[i];
        if let Some(tactic) = e.tactic {
            crate::import::push_unique(&mut t.tactics, tactic);
        }
        t.score = match (t.score, e.score) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        if t.color.is_none() {
            t.color = e.color;
        }
        if let Some(c) = e.comment {
            t.comment = Some(match t.comment.take() {
                Some(prev) if prev != c => format!("{prev}\n{c}"),
                Some(prev) => prev,
                None => c,
            });
        }
    }
    let claims = ClaimedCoverage {
        name: parsed.name,
        domain: parsed.domain,
        attack_version: parsed.attack_version,
        techniques,
    };
    (Some(claims), diags)
}

/// Parses the layer and its usable entries; `None` (with an error) when it is not a layer.
fn parse(input: Input<'_>, diags: &mut Vec<Diagnostic>) -> Option<Parsed> {
    let path = input.path;
    if input.bytes.len() > MAX_INPUT_BYTES {
        diags.push(Diagnostic::error(
            path,
            None,
            format!(
                "file is {} bytes, above the {MAX_INPUT_BYTES}-byte limit; not parsed",
                input.bytes.len()
            ),
        ));
        return None;
    }
    let Ok(text) = std::str::from_utf8(input.bytes) else {
        diags.push(Diagnostic::error(
            path,
            None,
            "not valid UTF-8; a layer is UTF-8 JSON",
        ));
        return None;
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            diags.push(Diagnostic::error(
                path,
                Some(e.line()),
                format!("invalid JSON: {e}"),
            ));
            return None;
        }
    };
    let layer = match value {
        Value::Object(o) => o,
        Value::Array(mut layers) if !layers.is_empty() => {
            if layers.len() > 1 {
                diags.push(Diagnostic::warning(
                    path,
                    Some(1),
                    format!(
                        "the file holds {} layers; only the first is read",
                        layers.len()
                    ),
                ));
            }
            match layers.swap_remove(0) {
                Value::Object(o) => o,
                _ => {
                    diags.push(Diagnostic::error(
                        path,
                        Some(1),
                        "the first layer is not an object",
                    ));
                    return None;
                }
            }
        }
        _ => {
            diags.push(Diagnostic::error(
                path,
                Some(1),
                "not a Navigator layer (expected a JSON object)",
            ));
            return None;
        }
    };
    let Some(techniques) = layer.get("techniques").and_then(Value::as_array) else {
        diags.push(Diagnostic::error(
            path,
            Some(1),
            "not a Navigator layer: no `techniques` list",
        ));
        return None;
    };
    let version = layer
        .get("versions")
        .and_then(|v| v.get("layer"))
        .and_then(Value::as_str)
        .map(str::to_string);
    match version.as_deref() {
        Some("4.0" | "4.1" | "4.2" | "4.3" | "4.4" | "4.5") => {}
        other => diags.push(Diagnostic::warning(
            path,
            Some(1),
            format!(
                "layer format {} is not 4.x; technique fields are read as in 4.5",
                other.unwrap_or("unknown")
            ),
        )),
    }
    let str_of = |key: &str| layer.get(key).and_then(Value::as_str).map(str::to_string);
    // The i-th `"techniqueID"` key in the file is the i-th entry's line, when the counts agree.
    let lines = crate::export::navigator::key_lines(text, "\"techniqueID\"");
    let lines = (lines.len() == techniques.len()).then_some(lines);
    let mut entries = Vec::new();
    for (i, t) in techniques.iter().enumerate() {
        let line = lines.as_ref().and_then(|l| l.get(i).copied());
        let Some(raw) = t.get("techniqueID").and_then(Value::as_str) else {
            diags.push(Diagnostic::error(
                path,
                line,
                format!("technique entry {} has no `techniqueID`; skipped", i + 1),
            ));
            continue;
        };
        let Some(technique) = normalize_technique(raw) else {
            diags.push(Diagnostic::error(
                path,
                line,
                format!("`{raw}` is not a technique id; entry skipped"),
            ));
            continue;
        };
        if t.get("enabled").and_then(Value::as_bool) == Some(false) {
            continue;
        }
        let score = match t.get("score") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => n.as_f64().filter(|f| f.is_finite()),
            Some(other) => {
                diags.push(Diagnostic::error(
                    path,
                    line,
                    format!("{technique}: score {other} is not a number; entry skipped"),
                ));
                continue;
            }
        };
        let color = t
            .get("color")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string);
        entries.push(Entry {
            technique,
            tactic: t
                .get("tactic")
                .and_then(Value::as_str)
                .map(normalize_tactic)
                .filter(|s| !s.is_empty()),
            score,
            color,
            comment: t
                .get("comment")
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_string),
        });
    }
    Some(Parsed {
        name: str_of("name").unwrap_or_default(),
        description: str_of("description").filter(|d| !d.trim().is_empty()),
        domain: str_of("domain").unwrap_or_default(),
        attack_version: layer
            .get("versions")
            .and_then(|v| v.get("attack"))
            .and_then(Value::as_str)
            .map(str::to_string),
        platforms: layer
            .get("filters")
            .and_then(|f| f.get("platforms"))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        entries,
    })
}
