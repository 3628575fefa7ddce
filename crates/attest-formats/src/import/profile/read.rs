//! Reading a profile YAML file into a [`Profile`], and small text helpers shared by the intel
//! readers.

use attest_core::profile::{ActorPaths, Profile, ProfileActor};

use super::spec::ProfileDoc;
use crate::import::{check_yaml_shape, input_text, normalize_technique, yaml_error};
use crate::{Diagnostic, Input};

/// Reads one profile file. `None` when the file cannot be used at all (not YAML, unknown key,
/// no `name`), with an error naming the line. Bad entries (a technique id of the wrong shape, a
/// negative or non-finite weight) are dropped with an error naming their line, and the rest of
/// the profile is kept; callers that want all-or-nothing check for errors.
pub fn read_profile(input: Input<'_>) -> (Option<Profile>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let text = match input_text(&input) {
        Ok(t) => t,
        Err(d) => return (None, vec![d]),
    };
    if let Err(d) = check_yaml_shape(&input, text) {
        return (None, vec![d]);
    }
    let doc: ProfileDoc = match yaml_serde::from_str(text) {
        Ok(d) => d,
        Err(e) => return (None, vec![yaml_error(input.path, &e)]),
    };
    let path = input.path;
    let name = doc.name.trim().to_string();
    if name.is_empty() {
        diags.push(Diagnostic::error(
            path,
            token_line(text, "name"),
            "the profile's `name` is empty; it is the profile's key",
        ));
        return (None, diags);
    }
    let weight_ok = |value: &str, weight: Option<f64>, diags: &mut Vec<Diagnostic>| {
        let w = weight.unwrap_or(1.0);
        if w.is_finite() && w >= 0.0 {
            Some(w)
        } else {
            diags.push(Diagnostic::error(
                path,
                token_line(text, value),
                format!("weight {w} of `{value}` is not a finite number ≥ 0; entry skipped"),
            ));
            None
        }
    };

    let mut actors: Vec<ProfileActor> = Vec::new();
    for entry in &doc.actors {
        let actor = entry.value.trim();
        if actor.is_empty() {
            diags.push(Diagnostic::error(
                path,
                token_line(text, "actor"),
                "empty actor; skipped",
            ));
            continue;
        }
        let Some(weight) = weight_ok(actor, entry.weight, &mut diags) else {
            continue;
        };
        if actors.iter().any(|a| a.actor.eq_ignore_ascii_case(actor)) {
            diags.push(Diagnostic::warning(
                path,
                token_line(text, actor),
                format!("actor `{actor}` is listed twice; the first entry is kept"),
            ));
            continue;
        }
        actors.push(ProfileActor {
            actor: actor.to_string(),
            weight,
        });
    }

    let mut extra: Vec<(String, f64)> = Vec::new();
    for entry in &doc.techniques {
        let Some(id) = technique(path, text, &entry.value, &mut diags) else {
            continue;
        };
        let Some(weight) = weight_ok(&entry.value, entry.weight, &mut diags) else {
            continue;
        };
        if extra.iter().any(|(t, _)| *t == id) {
            diags.push(Diagnostic::warning(
                path,
                token_line(text, &entry.value),
                format!("technique {id} is listed twice; the first entry is kept"),
            ));
            continue;
        }
        extra.push((id, weight));
    }

    let mut exclusions: Vec<String> = Vec::new();
    for raw in &doc.exclusions {
        if let Some(id) = technique(path, text, raw, &mut diags) {
            crate::import::push_unique(&mut exclusions, id);
        }
    }

    let clean = |list: &[String]| {
        let mut out: Vec<String> = Vec::new();
        for s in list.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
            if !out.iter().any(|o| o.eq_ignore_ascii_case(s)) {
                out.push(s.to_string());
            }
        }
        out
    };

    let exposures = match (doc.include_exposures, doc.exposure_weight) {
        (false, None) => None,
        (false, Some(_)) => {
            diags.push(Diagnostic::warning(
                path,
                token_line(text, "exposure_weight"),
                "`exposure_weight` without `include_exposures: true` has no effect",
            ));
            None
        }
        (true, w) => weight_ok("exposure_weight", w, &mut diags),
    };
    let profile = Profile {
        name,
        description: doc
            .description
            .map(|d| d.trim().to_string())
            .filter(|d| !d.is_empty()),
        actors,
        sectors: clean(&doc.sectors),
        platforms: clean(&doc.platforms),
        extra_techniques: extra,
        exclusions,
        paths: ActorPaths {
            via_software: doc.paths.via_software,
            via_campaigns: doc.paths.via_campaigns,
        },
        exposures,
    };
    (Some(profile), diags)
}

/// `raw` as a technique id, or an error naming its line.
fn technique(path: &str, text: &str, raw: &str, diags: &mut Vec<Diagnostic>) -> Option<String> {
    let id = normalize_technique(raw);
    if id.is_none() {
        diags.push(Diagnostic::error(
            path,
            token_line(text, raw.trim()),
            format!(
                "`{}` is not an ATT&CK technique id (T1234 or T1234.001); skipped",
                raw.trim()
            ),
        ));
    }
    id
}

/// The 1-based line of the first occurrence of `token` in `text` that is not part of a longer
/// word: the best line for a value-level problem found after parsing, when the parser no longer
/// knows where the value was.
pub(crate) fn token_line(text: &str, token: &str) -> Option<usize> {
    token_lines(text, token).next()
}

/// Like [`token_line`], the last occurrence: for a repeated value, the repetition.
pub(crate) fn last_token_line(text: &str, token: &str) -> Option<usize> {
    token_lines(text, token).last()
}

/// The lines of every whole-word occurrence of `token`.
fn token_lines<'a>(text: &'a str, token: &'a str) -> impl Iterator<Item = usize> + 'a {
    let is_word = |c: char| c.is_alphanumeric() || c == '_' || c == '.' || c == '-';
    let mut from = 0;
    std::iter::from_fn(move || {
        if token.is_empty() {
            return None;
        }
        while let Some(pos) = text[from..].find(token) {
            let start = from + pos;
            let end = start + token.len();
            from = end;
            let before = text[..start].chars().next_back();
            let after = text[end..].chars().next();
            if !before.is_some_and(is_word) && !after.is_some_and(is_word) {
                return Some(crate::import::line_of(text, start));
            }
        }
        None
    })
}

/// A stable id from a name: lowercase ASCII letters and digits, other runs turned into `-`.
pub(crate) fn slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}
