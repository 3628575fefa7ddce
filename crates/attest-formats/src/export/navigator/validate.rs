//! The layer format 4.5 field rules, checked on a layer file's bytes.

use serde_json::{Map, Value};

use super::spec::LAYER_FORMAT;
use crate::import::normalize_technique;
use crate::{Diagnostic, Input};

/// Checks a layer file (one layer object, or a list of them as Navigator downloads several)
/// against the layer format 4.5 rules. `is_known` says whether a well-formed technique id
/// exists in the ATT&CK release the layer is for (pass `&|_| true` to check shapes only).
/// Returns every problem found; an empty list means the layer is valid. Errors are what
/// Navigator refuses or warns about; warnings are keys the format does not define.
pub fn validate_layer(input: Input<'_>, is_known: &dyn Fn(&str) -> bool) -> Vec<Diagnostic> {
    let path = input.path;
    let text = match std::str::from_utf8(input.bytes) {
        Ok(t) => t.strip_prefix('\u{feff}').unwrap_or(t),
        Err(_) => return vec![Diagnostic::error(path, None, "not valid UTF-8")],
    };
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            return vec![Diagnostic::error(
                path,
                Some(e.line()),
                format!("invalid JSON: {e}"),
            )];
        }
    };
    let mut v = Validator {
        path,
        text,
        technique_lines: key_lines(text, "\"techniqueID\""),
        technique_index: 0,
        diags: Vec::new(),
        is_known,
    };
    match &value {
        Value::Object(layer) => v.layer(layer, ""),
        Value::Array(layers) if !layers.is_empty() => {
            for (i, layer) in layers.iter().enumerate() {
                match layer {
                    Value::Object(l) => v.layer(l, &format!("layer {}: ", i + 1)),
                    _ => v.err(None, format!("layer {} is not an object", i + 1)),
                }
            }
        }
        _ => v.err(
            Some(1),
            "a layer file is a layer object or a non-empty list of layers",
        ),
    }
    v.diags
}

/// Keys a 4.5 layer may have.
const LAYER_KEYS: &[&str] = &[
    "name",
    "versions",
    "domain",
    "description",
    "customDataURL",
    "filters",
    "sorting",
    "layout",
    "hideDisabled",
    "techniques",
    "gradient",
    "legendItems",
    "showTacticRowBackground",
    "tacticRowBackground",
    "selectTechniquesAcrossTactics",
    "selectSubtechniquesWithParent",
    "selectVisibleTechniques",
    "metadata",
    "links",
];

/// Keys a technique entry may have.
const TECHNIQUE_KEYS: &[&str] = &[
    "techniqueID",
    "tactic",
    "comment",
    "enabled",
    "score",
    "color",
    "metadata",
    "links",
    "showSubtechniques",
];

struct Validator<'a> {
    path: &'a str,
    text: &'a str,
    /// Line of each `"techniqueID"` key, in file order: the i-th technique entry's line.
    technique_lines: Vec<usize>,
    technique_index: usize,
    diags: Vec<Diagnostic>,
    is_known: &'a dyn Fn(&str) -> bool,
}

impl Validator<'_> {
    fn err(&mut self, line: Option<usize>, msg: impl Into<String>) {
        self.diags.push(Diagnostic::error(self.path, line, msg));
    }

    fn warn(&mut self, line: Option<usize>, msg: impl Into<String>) {
        self.diags.push(Diagnostic::warning(self.path, line, msg));
    }

    fn key_line(&self, key: &str) -> Option<usize> {
        key_lines(self.text, &format!("\"{key}\"")).first().copied()
    }

    fn layer(&mut self, layer: &Map<String, Value>, at: &str) {
        for key in layer.keys() {
            if !LAYER_KEYS.contains(&key.as_str()) {
                let line = self.key_line(key);
                self.warn(
                    line,
                    format!("{at}`{key}` is not a layer format 4.5 property"),
                );
            }
        }
        match layer.get("name") {
            Some(Value::String(s)) if !s.trim().is_empty() => {}
            _ => self.err(
                self.key_line("name"),
                format!("{at}`name` is required and must be a non-empty string"),
            ),
        }
        match layer.get("domain").and_then(Value::as_str) {
            Some("enterprise-attack" | "mobile-attack" | "ics-attack") => {}
            other => self.err(
                self.key_line("domain"),
                format!(
                    "{at}`domain` is required and must be enterprise-attack, mobile-attack or ics-attack (found {})",
                    other.map_or("none".to_string(), |d| format!("`{d}`"))
                ),
            ),
        }
        match layer.get("versions") {
            Some(Value::Object(v)) => {
                match v.get("layer").and_then(Value::as_str) {
                    Some(l) if l == LAYER_FORMAT => {}
                    other => self.err(
                        self.key_line("layer"),
                        format!(
                            "{at}`versions.layer` must be \"{LAYER_FORMAT}\" (found {other:?})"
                        ),
                    ),
                }
                if !v.get("navigator").is_some_and(Value::is_string) {
                    self.err(
                        self.key_line("versions"),
                        format!("{at}`versions.navigator` is required (a string, at least 4.9.0)"),
                    );
                }
                if v.get("attack").is_some_and(|a| !a.is_string()) {
                    self.err(
                        self.key_line("attack"),
                        format!("{at}`versions.attack` must be a string"),
                    );
                }
            }
            _ => self.err(
                self.key_line("versions"),
                format!(
                    "{at}`versions` with `layer: \"{LAYER_FORMAT}\"` and `navigator` is required"
                ),
            ),
        }
        self.optional_string(layer, "description", at);
        self.optional_bool(layer, "hideDisabled", at);
        self.optional_bool(layer, "showTacticRowBackground", at);
        self.optional_bool(layer, "selectTechniquesAcrossTactics", at);
        self.optional_bool(layer, "selectSubtechniquesWithParent", at);
        self.optional_bool(layer, "selectVisibleTechniques", at);
        if let Some(c) = layer.get("tacticRowBackground") {
            self.color(
                c,
                "tacticRowBackground",
                self.key_line("tacticRowBackground"),
                at,
            );
        }
        if let Some(s) = layer.get("sorting")
            && s.as_u64().is_none_or(|n| n > 3)
        {
            self.err(
                self.key_line("sorting"),
                format!("{at}`sorting` must be 0, 1, 2 or 3"),
            );
        }
        if let Some(f) = layer.get("filters") {
            let ok = f
                .get("platforms")
                .is_none_or(|p| p.as_array().is_some_and(|a| a.iter().all(Value::is_string)));
            if !f.is_object() || !ok {
                self.err(
                    self.key_line("filters"),
                    format!("{at}`filters.platforms` must be a list of strings"),
                );
            }
        }
        if let Some(l) = layer.get("layout") {
            self.layout(l, at);
        }
        if let Some(g) = layer.get("gradient") {
            self.gradient(g, at);
        }
        if let Some(items) = layer.get("legendItems") {
            let line = self.key_line("legendItems");
            match items.as_array() {
                Some(items) => {
                    for item in items {
                        if !item.get("label").is_some_and(Value::is_string) {
                            self.err(
                                line,
                                format!("{at}every legend item needs a string `label`"),
                            );
                        }
                        match item.get("color") {
                            Some(c) => self.color(c, "legend item color", line, at),
                            None => {
                                self.err(line, format!("{at}every legend item needs a `color`"))
                            }
                        }
                    }
                }
                None => self.err(line, format!("{at}`legendItems` must be a list")),
            }
        }
        if let Some(m) = layer.get("metadata") {
            self.metadata(m, self.key_line("metadata"), at);
        }
        match layer.get("techniques") {
            None => {}
            Some(Value::Array(ts)) => {
                for t in ts {
                    let line = self.technique_lines.get(self.technique_index).copied();
                    self.technique_index += 1;
                    self.technique(t, line, at);
                }
            }
            Some(_) => self.err(
                self.key_line("techniques"),
                format!("{at}`techniques` must be a list"),
            ),
        }
    }

    fn technique(&mut self, t: &Value, line: Option<usize>, at: &str) {
        let Some(t) = t.as_object() else {
            self.err(line, format!("{at}a technique entry must be an object"));
            return;
        };
        let id = match t.get("techniqueID").and_then(Value::as_str) {
            None => {
                self.err(
                    line,
                    format!("{at}a technique entry needs a string `techniqueID`"),
                );
                "?".to_string()
            }
            Some(raw) => match normalize_technique(raw) {
                Some(id) if id == raw => {
                    if !(self.is_known)(&id) {
                        self.err(
                            line,
                            format!("{at}technique {id} is not in this ATT&CK release"),
                        );
                    }
                    id
                }
                _ => {
                    self.err(
                        line,
                        format!(
                            "{at}`{raw}` is not a technique id (T1234 or T1234.001, upper case)"
                        ),
                    );
                    raw.to_string()
                }
            },
        };
        let at = format!("{at}{id}: ");
        for key in t.keys() {
            if !TECHNIQUE_KEYS.contains(&key.as_str()) {
                self.warn(line, format!("{at}`{key}` is not a technique property"));
            }
        }
        if let Some(tactic) = t.get("tactic") {
            let ok = tactic.as_str().is_some_and(|s| {
                !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
            });
            if !ok {
                self.err(line, format!("{at}`tactic` must be a tactic short name such as `defense-evasion` (found {tactic})"));
            }
        }
        if let Some(score) = t.get("score")
            && !score.is_number()
            && !score.is_null()
        {
            self.err(
                line,
                format!("{at}`score` must be a number (found {score})"),
            );
        }
        if let Some(c) = t.get("color")
            && c.as_str() != Some("")
        {
            self.color(c, "color", line, &at);
        }
        for key in ["enabled", "showSubtechniques"] {
            if t.get(key).is_some_and(|v| !v.is_boolean()) {
                self.err(line, format!("{at}`{key}` must be true or false"));
            }
        }
        if t.get("comment").is_some_and(|v| !v.is_string()) {
            self.err(line, format!("{at}`comment` must be a string"));
        }
        if let Some(m) = t.get("metadata") {
            self.metadata(m, line, &at);
        }
    }

    fn layout(&mut self, l: &Value, at: &str) {
        let line = self.key_line("layout");
        let Some(l) = l.as_object() else {
            self.err(line, format!("{at}`layout` must be an object"));
            return;
        };
        let allowed: [(&str, &[&str]); 3] = [
            ("layout", &["side", "flat", "mini"]),
            ("aggregateFunction", &["average", "min", "max", "sum"]),
            ("expandedSubtechniques", &["none", "all", "annotated"]),
        ];
        for (key, values) in allowed {
            if let Some(v) = l.get(key)
                && !v.as_str().is_some_and(|s| values.contains(&s))
            {
                self.err(
                    line,
                    format!("{at}`layout.{key}` must be one of {}", values.join(", ")),
                );
            }
        }
        for key in ["showID", "showName", "showAggregateScores", "countUnscored"] {
            if l.get(key).is_some_and(|v| !v.is_boolean()) {
                self.err(line, format!("{at}`layout.{key}` must be true or false"));
            }
        }
    }

    fn gradient(&mut self, g: &Value, at: &str) {
        let line = self.key_line("gradient");
        let colors = g.get("colors").and_then(Value::as_array);
        match colors {
            Some(c) if c.len() >= 2 => {
                for color in c {
                    // Navigator itself writes gradient colours with an alpha byte (#ff6666ff).
                    let alpha = color.as_str().is_some_and(|s| {
                        s.len() == 9
                            && s.starts_with('#')
                            && s[1..].bytes().all(|b| b.is_ascii_hexdigit())
                    });
                    if !alpha {
                        self.color(color, "gradient color", line, at);
                    }
                }
            }
            _ => self.err(
                line,
                format!("{at}`gradient.colors` must list at least two colours"),
            ),
        }
        let min = g.get("minValue").and_then(Value::as_f64);
        let max = g.get("maxValue").and_then(Value::as_f64);
        match (min, max) {
            (Some(a), Some(b)) if b > a => {}
            (Some(_), Some(_)) => self.err(
                line,
                format!("{at}`gradient.maxValue` must be above `minValue`"),
            ),
            _ => self.err(
                line,
                format!("{at}`gradient.minValue` and `maxValue` must be numbers"),
            ),
        }
    }

    fn metadata(&mut self, m: &Value, line: Option<usize>, at: &str) {
        let Some(items) = m.as_array() else {
            self.err(line, format!("{at}`metadata` must be a list"));
            return;
        };
        for item in items {
            let divider = item.get("divider").is_some_and(Value::is_boolean);
            let pair = item.get("name").is_some_and(Value::is_string)
                && item.get("value").is_some_and(Value::is_string);
            if !divider && !pair {
                self.err(
                    line,
                    format!("{at}a metadata entry needs string `name` and `value` (or `divider`)"),
                );
            }
        }
    }

    fn color(&mut self, c: &Value, what: &str, line: Option<usize>, at: &str) {
        let ok = c.as_str().is_some_and(|s| {
            s.len() == 7 && s.starts_with('#') && s[1..].bytes().all(|b| b.is_ascii_hexdigit())
        });
        if !ok {
            self.err(
                line,
                format!("{at}{what} must be a #rrggbb colour (found {c})"),
            );
        }
    }

    fn optional_string(&mut self, layer: &Map<String, Value>, key: &str, at: &str) {
        if layer.get(key).is_some_and(|v| !v.is_string()) {
            let line = self.key_line(key);
            self.err(line, format!("{at}`{key}` must be a string"));
        }
    }

    fn optional_bool(&mut self, layer: &Map<String, Value>, key: &str, at: &str) {
        if layer.get(key).is_some_and(|v| !v.is_boolean()) {
            let line = self.key_line(key);
            self.err(line, format!("{at}`{key}` must be true or false"));
        }
    }
}

/// The line of every occurrence of `needle` followed by `:` (a JSON key), counting lines in
/// one pass (a layer has thousands of entries; recounting from the start for each is quadratic).
pub(crate) fn key_lines(text: &str, needle: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let (mut line, mut counted) = (1usize, 0usize);
    let mut from = 0;
    while let Some(pos) = text[from..].find(needle) {
        let start = from + pos;
        from = start + needle.len();
        if text[from..].trim_start().starts_with(':') {
            line += text.as_bytes()[counted..start]
                .iter()
                .filter(|b| **b == b'\n')
                .count();
            counted = start;
            out.push(line);
        }
    }
    out
}
