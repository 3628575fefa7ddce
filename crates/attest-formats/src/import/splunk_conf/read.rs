//! Parsing `.conf` stanzas and reading correlation searches from them.

use attest_core::rule::{Origin, Rule, RuleFormat, RuleStatus};

use super::spec::{
    Annotations, CS_ANNOTATIONS, CS_ENABLED, CS_LABEL, CS_PREFIX, DISABLED, NOTABLE_SEVERITY,
    parse_bool,
};
use crate::import::{
    RuleImporter, input_text, normalize_tactic, normalize_technique, push_unique, sha256_hex,
};
use crate::{Diagnostic, Input};

/// Imports `savedsearches.conf` files (`.conf`).
#[derive(Debug, Clone)]
pub struct SplunkConfImporter {
    /// The import root (e.g. the Splunk app or search head) recorded in each rule's origin.
    pub root: String,
}

impl SplunkConfImporter {
    /// An importer whose rules belong to `root`.
    pub fn new(root: impl Into<String>) -> SplunkConfImporter {
        SplunkConfImporter { root: root.into() }
    }
}

impl RuleImporter for SplunkConfImporter {
    fn format(&self) -> RuleFormat {
        RuleFormat::SplunkConf
    }

    fn extensions(&self) -> &'static [&'static str] {
        &["conf"]
    }

    fn import(&self, input: Input<'_>) -> (Vec<Rule>, Vec<Diagnostic>) {
        read_saved_searches(input, &self.root)
    }
}

/// One `[stanza]` of a `.conf` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stanza<'a> {
    /// The name between the brackets.
    pub name: &'a str,
    /// 1-based line of the `[name]` header.
    pub line: usize,
    /// The stanza's text, header included (for its content hash).
    pub text: &'a str,
    /// Settings in file order, continuation lines joined with `\n`.
    pub settings: Vec<(&'a str, String)>,
}

impl Stanza<'_> {
    /// The last value of `key` (later lines override earlier ones, as in Splunk).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.settings
            .iter()
            .rev()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Splits `.conf` text into stanzas. Settings before the first stanza belong to an implicit
/// `default` stanza. Lines that are neither comments, headers nor `key = value` are reported.
pub fn parse_conf<'a>(path: &str, text: &'a str) -> (Vec<Stanza<'a>>, Vec<Diagnostic>) {
    let mut stanzas: Vec<Stanza<'a>> = Vec::new();
    let mut diags = Vec::new();
    let mut current = Stanza {
        name: "default",
        line: 0,
        text: "",
        settings: Vec::new(),
    };
    let mut start_offset = 0usize;
    let mut offset = 0usize;
    let mut lines = text.split_inclusive('\n').enumerate().peekable();
    while let Some((index, raw)) = lines.next() {
        let line_start = offset;
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if trimmed.starts_with('[') {
            let Some(end) = trimmed.rfind(']') else {
                diags.push(Diagnostic::error(
                    path,
                    Some(index + 1),
                    "stanza header without a closing `]`",
                ));
                continue;
            };
            current.text = &text[start_offset..line_start];
            if current.line > 0 || !current.settings.is_empty() {
                stanzas.push(current);
            }
            current = Stanza {
                name: trimmed[1..end].trim(),
                line: index + 1,
                text: "",
                settings: Vec::new(),
            };
            start_offset = line_start;
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            diags.push(Diagnostic::warning(
                path,
                Some(index + 1),
                "line is neither `key = value`, a `[stanza]` nor a comment; ignored",
            ));
            continue;
        };
        let mut value = value.trim().to_string();
        // A trailing backslash continues the value on the next line.
        while value.ends_with('\\') {
            value.pop();
            match lines.next() {
                Some((_, next)) => {
                    offset += next.len();
                    value.push('\n');
                    value.push_str(next.trim_end_matches(['\n', '\r']).trim());
                }
                None => break,
            }
        }
        current
            .settings
            .push((key.trim(), value.trim_end().to_string()));
    }
    current.text = &text[start_offset..];
    if current.line > 0 || !current.settings.is_empty() {
        stanzas.push(current);
    }
    (stanzas, diags)
}

/// Reads the correlation searches of one `savedsearches.conf`.
pub fn read_saved_searches(input: Input<'_>, root: &str) -> (Vec<Rule>, Vec<Diagnostic>) {
    let path = input.path;
    let text = match input_text(&input) {
        Ok(t) => t,
        Err(d) => return (Vec::new(), vec![d]),
    };
    let (stanzas, mut diags) = parse_conf(path, text);
    if !diags.is_empty() && stanzas.iter().all(|s| s.line == 0) {
        // Not one `[stanza]` and lines that are not settings: this is not a .conf file at all.
        return (
            Vec::new(),
            vec![Diagnostic::error(
                path,
                None,
                "no `[stanza]` and unreadable lines: not a Splunk .conf file",
            )],
        );
    }
    let mut rules = Vec::new();
    for stanza in &stanzas {
        if stanza.name == "default"
            || !stanza
                .settings
                .iter()
                .any(|(k, _)| k.starts_with(CS_PREFIX))
        {
            continue;
        }
        rules.push(to_rule(stanza, path, root, &mut diags));
    }
    (rules, diags)
}

fn to_rule(stanza: &Stanza<'_>, path: &str, root: &str, diags: &mut Vec<Diagnostic>) -> Rule {
    let id = stanza.name;
    let line = Some(stanza.line);
    let title = stanza
        .get(CS_LABEL)
        .filter(|l| !l.trim().is_empty())
        .unwrap_or(id);
    let origin = Origin {
        format: RuleFormat::SplunkConf,
        path: path.to_string(),
        root: root.to_string(),
    };
    let mut rule = Rule::new(id, title.trim(), origin);
    if let Some(json) = stanza.get(CS_ANNOTATIONS).filter(|j| !j.trim().is_empty()) {
        match serde_json::from_str::<Annotations>(json) {
            Ok(a) => {
                for raw in &a.mitre_attack {
                    match normalize_technique(raw) {
                        Some(t) => push_unique(&mut rule.techniques, t),
                        None => diags.push(Diagnostic::warning(
                            path,
                            line,
                            format!("[{id}]: `{raw}` in annotations.mitre_attack is not a technique id; skipped"),
                        )),
                    }
                }
                for t in &a.mitre_attack_tactics {
                    push_unique(&mut rule.tactics, normalize_tactic(t));
                }
            }
            Err(e) => diags.push(Diagnostic::warning(
                path,
                line,
                format!("[{id}]: {CS_ANNOTATIONS} is not valid annotations JSON ({e}); no ATT&CK claims read"),
            )),
        }
    }
    let flag = |key: &str, diags: &mut Vec<Diagnostic>| {
        stanza.get(key).and_then(|v| {
            let parsed = parse_bool(v);
            if parsed.is_none() {
                diags.push(Diagnostic::warning(
                    path,
                    line,
                    format!("[{id}]: `{key} = {v}` is not a boolean; ignored"),
                ));
            }
            parsed
        })
    };
    let disabled = flag(DISABLED, diags).unwrap_or(false);
    let cs_enabled = flag(CS_ENABLED, diags).unwrap_or(true);
    rule.status = if disabled || !cs_enabled {
        RuleStatus::Disabled
    } else {
        RuleStatus::Enabled
    };
    rule.severity = stanza.get(NOTABLE_SEVERITY).map(str::to_string);
    rule.content_hash = sha256_hex(stanza.text.as_bytes());
    rule
}
