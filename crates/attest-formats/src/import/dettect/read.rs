//! Reading a DeTT&CT data source administration file into data sources.

use attest_core::source::{DataSource, PipelineState};

use super::spec::{AdminFile, Entry};
use crate::import::{SourceImporter, check_yaml_shape, input_text, push_unique, yaml_error};
use crate::{Diagnostic, Input};

/// Reads DeTT&CT data source administration YAML files.
#[derive(Debug, Clone, Copy, Default)]
pub struct DettectImporter;

impl SourceImporter for DettectImporter {
    fn import(&self, input: Input<'_>) -> (Vec<DataSource>, Vec<Diagnostic>) {
        read_dettect(input)
    }
}

fn is_all(applicable_to: &[String]) -> bool {
    applicable_to.is_empty() || applicable_to.iter().any(|a| a.eq_ignore_ascii_case("all"))
}

fn is_template(entry: &Entry) -> bool {
    entry.date_registered.is_none()
        && entry.date_connected.is_none()
        && entry.products.0.is_empty()
        && !entry.available_for_data_analytics
        && entry.data_quality.is_empty()
}

/// Reads one file.
pub fn read_dettect(input: Input<'_>) -> (Vec<DataSource>, Vec<Diagnostic>) {
    let path = input.path;
    let text = match input_text(&input).and_then(|t| check_yaml_shape(&input, t).map(|()| t)) {
        Ok(t) => t,
        Err(d) => return (Vec::new(), vec![d]),
    };
    let file: AdminFile = match yaml_serde::from_str(text) {
        Ok(f) => f,
        Err(e) => return (Vec::new(), vec![yaml_error(path, &e)]),
    };
    if let Some(kind) = file.file_type.as_deref()
        && kind != "data-source-administration"
    {
        return (
            Vec::new(),
            vec![Diagnostic::error(
                path,
                None,
                format!("file_type `{kind}` is not data-source-administration"),
            )],
        );
    }
    let version = match &file.version {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => String::new(),
    };
    if version.trim() != "1.1" {
        return (
            Vec::new(),
            vec![Diagnostic::error(
                path,
                Some(1),
                format!(
                    "DeTT&CT data source administration version `{version}` is not supported (only 1.1, DeTT&CT 1.6 and later)"
                ),
            )],
        );
    }
    let mut diags = Vec::new();
    let mut sources: Vec<DataSource> = Vec::new();
    let mut skipped = 0usize;
    for ds in &file.data_sources {
        let component = ds.data_source_name.trim();
        for entry in &ds.data_source {
            if is_template(entry) {
                skipped += 1;
                continue;
            }
            let applicable = &entry.applicable_to.0;
            let all = is_all(applicable);
            let name = if all {
                component.to_string()
            } else {
                format!("{component} ({})", applicable.join(", "))
            };
            if sources.iter().any(|s| s.name.eq_ignore_ascii_case(&name)) {
                diags.push(Diagnostic::error(
                    path,
                    None,
                    format!("two entries of `{component}` apply to the same systems; the second is skipped"),
                ));
                continue;
            }
            let mut s = DataSource::new(name);
            s.components = vec![component.to_string()];
            if !all {
                s.scope = applicable.clone();
                for system in &file.systems {
                    if applicable
                        .iter()
                        .any(|a| a.eq_ignore_ascii_case(system.applicable_to.trim()))
                    {
                        for p in &system.platform.0 {
                            push_unique(&mut s.platforms, p.clone());
                        }
                    }
                }
                for a in applicable {
                    if !file
                        .systems
                        .iter()
                        .any(|sys| sys.applicable_to.trim().eq_ignore_ascii_case(a))
                    {
                        diags.push(Diagnostic::warning(
                            path,
                            None,
                            format!("`{component}` applies to `{a}`, which is not listed under `systems`"),
                        ));
                    }
                }
                if s.platforms.iter().any(|p| p.eq_ignore_ascii_case("all")) {
                    s.platforms.clear();
                }
            }
            s.products = entry.products.0.clone();
            s.state = if entry.available_for_data_analytics {
                PipelineState::Queryable
            } else if entry.date_connected.is_some() {
                PipelineState::Ingested
            } else {
                PipelineState::Planned
            };
            s.description = Some(describe(entry));
            sources.push(s);
        }
    }
    if skipped > 0 {
        diags.push(Diagnostic::warning(
            path,
            None,
            format!(
                "{skipped} empty template entries (no dates, products or quality scores) skipped"
            ),
        ));
    }
    (sources, diags)
}

fn describe(entry: &Entry) -> String {
    let q = &entry.data_quality;
    let mut out = format!(
        "DeTT&CT data quality: device completeness {}, data field completeness {}, timeliness {}, consistency {}, retention {}",
        q.device_completeness, q.data_field_completeness, q.timeliness, q.consistency, q.retention
    );
    if let Some(d) = &entry.date_registered {
        out.push_str(&format!("; registered {}", d.0));
    }
    if let Some(d) = &entry.date_connected {
        out.push_str(&format!("; connected {}", d.0));
    }
    if let Some(c) = entry
        .comment
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        out.push_str(&format!(". {c}"));
    }
    out
}
