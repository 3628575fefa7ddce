//! Reading DeTT&CT group administration files.

use attest_core::profile::{Actor, ActorOrigin, ActorTechnique};

use super::spec::{DettectGroupsOptions, GroupsDoc, TechniqueIds};
use crate::import::profile::{slug, token_line};
use crate::import::{check_yaml_shape, input_text, normalize_technique, yaml_error};
use crate::{Diagnostic, Input};

/// Reads one group administration file. A file that is not YAML or not a group administration
/// file is one error; a group without a name or a technique id of the wrong shape is skipped
/// with a diagnostic naming its line.
pub fn read_dettect_groups(
    input: Input<'_>,
    options: &DettectGroupsOptions,
) -> (Vec<Actor>, Vec<Diagnostic>) {
    let path = input.path;
    let text = match input_text(&input) {
        Ok(t) => t,
        Err(d) => return (Vec::new(), vec![d]),
    };
    if let Err(d) = check_yaml_shape(&input, text) {
        return (Vec::new(), vec![d]);
    }
    // DeTT&CT files start with a `%YAML 1.2` directive, which the YAML 1.1 parser refuses; the
    // documents themselves use nothing 1.2-specific.
    let body = strip_yaml_directive(text);
    let doc: GroupsDoc = match yaml_serde::from_str(&body) {
        Ok(d) => d,
        Err(e) => return (Vec::new(), vec![yaml_error(path, &e)]),
    };
    let mut diags = Vec::new();
    if doc.file_type.as_deref() != Some("group-administration") {
        diags.push(Diagnostic::error(
            path,
            token_line(text, "file_type").or(Some(1)),
            format!(
                "not a DeTT&CT group administration file (file_type is {}); expected `group-administration`",
                doc.file_type.as_deref().map_or("missing".to_string(), |t| format!("`{t}`"))
            ),
        ));
        return (Vec::new(), diags);
    }
    let version = doc.version.as_ref().map(|v| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    });
    if version.as_deref().is_some_and(|v| v != "1.0" && v != "1") {
        diags.push(Diagnostic::warning(
            path,
            token_line(text, "version"),
            format!(
                "group administration version {} is not 1.0; read as 1.0",
                version.unwrap_or_default()
            ),
        ));
    }

    let mut actors: Vec<Actor> = Vec::new();
    for group in doc.groups.unwrap_or_default() {
        let Some(name) = group
            .group_name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
        else {
            diags.push(Diagnostic::error(
                path,
                token_line(text, "group_name"),
                "a group without `group_name`; skipped",
            ));
            continue;
        };
        let line = token_line(text, name);
        if group.enabled == Some(false) && !options.include_disabled {
            continue;
        }
        let campaign = group
            .campaign
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty());
        let raw: Vec<(String, f64)> = match group.technique_id {
            None => Vec::new(),
            Some(TechniqueIds::List(list)) => list.into_iter().map(|t| (t, 1.0)).collect(),
            Some(TechniqueIds::Weighted(map)) => map.into_iter().collect(),
        };
        let mut techniques: Vec<ActorTechnique> = Vec::new();
        for (raw_id, weight) in raw {
            let Some(technique) = normalize_technique(&raw_id) else {
                diags.push(Diagnostic::error(
                    path,
                    token_line(text, raw_id.trim()).or(line),
                    format!("group `{name}`: `{raw_id}` is not an ATT&CK technique id; skipped"),
                ));
                continue;
            };
            if !weight.is_finite() || weight < 0.0 {
                diags.push(Diagnostic::error(
                    path,
                    token_line(text, raw_id.trim()).or(line),
                    format!(
                        "group `{name}`: score {weight} of {technique} is not a number ≥ 0; skipped"
                    ),
                ));
                continue;
            }
            match techniques.iter_mut().find(|t| t.technique == technique) {
                Some(t) => t.weight = t.weight.max(weight),
                None => techniques.push(ActorTechnique {
                    technique,
                    weight,
                    low_confidence: false,
                }),
            }
        }
        if techniques.is_empty() {
            diags.push(Diagnostic::warning(
                path,
                line,
                format!("group `{name}` lists no technique"),
            ));
        }
        let (id, display) = match campaign {
            Some(c) => (
                format!("{}--{}", slug(name), slug(c)),
                format!("{name} ({c})"),
            ),
            None => (slug(name), name.to_string()),
        };
        if actors.iter().any(|a| a.id == id) {
            diags.push(Diagnostic::warning(
                path,
                line,
                format!("group `{display}` appears twice; the first one is kept"),
            ));
            continue;
        }
        actors.push(Actor {
            id,
            name: display,
            aliases: Vec::new(),
            origin: ActorOrigin::Intel(options.label.clone()),
            techniques,
        });
    }
    (actors, diags)
}

/// `text` with a leading `%YAML` directive line blanked (kept as an empty line so that line
/// numbers stay right).
fn strip_yaml_directive(text: &str) -> std::borrow::Cow<'_, str> {
    let first = text.lines().next().unwrap_or_default();
    if first.trim_start().starts_with("%YAML") {
        std::borrow::Cow::Owned(format!(
            "\n{}",
            &text[first.len()..]
                .trim_start_matches('\r')
                .trim_start_matches('\n')
        ))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}
