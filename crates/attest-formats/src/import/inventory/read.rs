//! Reading an inventory file into data sources.

use std::collections::HashMap;

use attest_core::source::{DataSource, LogSourceRef};

use super::spec::{InventoryFile, SourceEntry, VERSION};
use crate::import::{SourceImporter, check_yaml_shape, input_text, yaml_error};
use crate::{Diagnostic, Input};

/// Reads inventory-as-code YAML files.
#[derive(Debug, Clone, Copy, Default)]
pub struct InventoryImporter;

impl SourceImporter for InventoryImporter {
    fn import(&self, input: Input<'_>) -> (Vec<DataSource>, Vec<Diagnostic>) {
        read_inventory(input)
    }
}

/// The data source an entry declares.
pub(crate) fn to_source(entry: SourceEntry) -> DataSource {
    let mut s = DataSource::new(entry.name.trim());
    s.description = entry.description;
    s.platforms = entry.platforms;
    s.scope = entry.scope;
    s.components = entry.components;
    s.log_sources = entry
        .log_sources
        .iter()
        .map(|l| LogSourceRef::parse(l))
        .collect();
    s.state = entry.state.0;
    s.products = entry.products;
    s.owner = entry.owner;
    s.max_silence = entry.max_silence.map(|m| m.0);
    s
}

/// Reads one inventory file. The file is all-or-nothing: any error returns no source, because
/// applying half an inventory would remove the sources of the other half.
pub fn read_inventory(input: Input<'_>) -> (Vec<DataSource>, Vec<Diagnostic>) {
    let path = input.path;
    let text = match input_text(&input).and_then(|t| check_yaml_shape(&input, t).map(|()| t)) {
        Ok(t) => t,
        Err(d) => return (Vec::new(), vec![d]),
    };
    let file: InventoryFile = match yaml_serde::from_str::<Option<InventoryFile>>(text) {
        Ok(Some(f)) => f,
        Ok(None) => InventoryFile {
            version: VERSION,
            sources: Vec::new(),
        },
        Err(e) => return (Vec::new(), vec![refine_line(text, yaml_error(path, &e))]),
    };
    if file.version != VERSION {
        return (
            Vec::new(),
            vec![Diagnostic::error(
                path,
                line_of_key(text, "version", None),
                format!(
                    "inventory version {} is not supported (this attest reads version {VERSION})",
                    file.version
                ),
            )],
        );
    }
    let mut diags = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut occurrences: HashMap<String, usize> = HashMap::new();
    for (index, entry) in file.sources.iter().enumerate() {
        let name = entry.name.trim();
        let line = line_of_key(text, "name", Some(&entry.name));
        let occurrence = occurrences.entry(name.to_ascii_lowercase()).or_default();
        let nth = *occurrence;
        *occurrence += 1;
        if name.is_empty() {
            diags.push(Diagnostic::error(
                path,
                line,
                format!("source {} has an empty name", index + 1),
            ));
        } else if let Some(first) = seen.insert(name.to_ascii_lowercase(), index) {
            diags.push(Diagnostic::error(
                path,
                nth_line_of_name(text, name, nth),
                format!(
                    "source name `{name}` is used twice (sources {} and {}); names are the key",
                    first + 1,
                    index + 1
                ),
            ));
        }
        for l in &entry.log_sources {
            if l.trim().is_empty() || l.trim().starts_with(':') {
                diags.push(Diagnostic::error(
                    path,
                    line,
                    format!("source `{name}`: log source `{l}` has no name"),
                ));
            }
        }
    }
    if !diags.is_empty() {
        return (Vec::new(), diags);
    }
    (file.sources.into_iter().map(to_source).collect(), diags)
}

/// The line of the first `key:` (whose value contains `value`, when given), for errors the YAML
/// parser cannot place.
fn line_of_key(text: &str, key: &str, value: Option<&str>) -> Option<usize> {
    text.lines()
        .position(|l| {
            let t = l.trim_start().trim_start_matches("- ").trim_start();
            t.strip_prefix(key).is_some_and(|rest| {
                rest.trim_start().starts_with(':') && value.is_none_or(|v| rest.contains(v))
            })
        })
        .map(|i| i + 1)
}

/// The line of the `n`th (0-based) `name:` line naming `name`.
fn nth_line_of_name(text: &str, name: &str, n: usize) -> Option<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            let t = l.trim_start().trim_start_matches("- ").trim_start();
            t.starts_with("name") && t.to_ascii_lowercase().contains(&name.to_ascii_lowercase())
        })
        .nth(n)
        .map(|(i, _)| i + 1)
}

/// yaml_serde places errors raised by a field's own check (a bad state or duration) at the start
/// of the enclosing source entry; move them to the field's line.
fn refine_line(text: &str, mut d: Diagnostic) -> Diagnostic {
    let key = if d.message.contains("unknown state") {
        "state"
    } else if d.message.contains("duration") || d.message.contains("no unit") {
        "max_silence"
    } else {
        return d;
    };
    if let Some(start) = d.line {
        let found = text.lines().enumerate().skip(start - 1).find(|(_, l)| {
            let t = l.trim_start().trim_start_matches("- ").trim_start();
            t.strip_prefix(key)
                .is_some_and(|r| r.trim_start().starts_with(':'))
        });
        if let Some((i, _)) = found {
            d.line = Some(i + 1);
        }
    }
    d
}
