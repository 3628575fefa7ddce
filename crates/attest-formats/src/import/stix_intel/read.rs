//! Reading a STIX 2.1 bundle into intel actors, resolving attack-patterns by the ladder of
//! [`super`].

use std::collections::{HashMap, HashSet};

use attest_core::profile::{Actor, ActorOrigin, ActorTechnique};
use serde::Deserialize;

use super::spec::{
    Bundle, MAX_BUNDLE_BYTES, MITRE_EXTENSION, OPENCTI_EXTENSION, Obj, StixIntelOptions,
    TechniqueLookup,
};
use crate::import::{line_of, normalize_technique};
use crate::{Diagnostic, Input};

/// Reads one STIX 2.1 bundle into intel actors. Never fails as a whole on a bad object: a
/// file that is not JSON or not a bundle is one error naming the line; an object of an
/// unexpected shape, an unresolvable attack-pattern or a report-based attribution is a
/// diagnostic naming the object and, where found, its line.
pub fn read_stix_intel(
    input: Input<'_>,
    options: &StixIntelOptions,
    lookup: &dyn TechniqueLookup,
) -> (Vec<Actor>, Vec<Diagnostic>) {
    let path = input.path;
    let mut diags = Vec::new();
    let text = match bundle_text(&input) {
        Ok(t) => t,
        Err(d) => return (Vec::new(), vec![d]),
    };
    let objects = match parse_objects(path, text, &mut diags) {
        Some(o) => o,
        None => return (Vec::new(), diags),
    };

    let live = |o: &Obj| o.revoked != Some(true) && o.x_mitre_deprecated != Some(true);
    let by_id: HashMap<&str, &Obj> = objects.iter().map(|o| (o.id.as_str(), o)).collect();
    let actors: Vec<&Obj> = objects
        .iter()
        .filter(|o| matches!(o.kind.as_str(), "intrusion-set" | "threat-actor") && live(o))
        .collect();
    let actor_index: HashMap<&str, usize> = actors
        .iter()
        .enumerate()
        .map(|(i, a)| (a.id.as_str(), i))
        .collect();

    // Pattern ids per actor, in relationship order.
    let mut uses: Vec<Vec<&str>> = vec![Vec::new(); actors.len()];
    for rel in objects
        .iter()
        .filter(|o| o.kind == "relationship" && live(o))
    {
        if rel.relationship_type.as_deref() != Some("uses") {
            continue;
        }
        let (Some(src), Some(dst)) = (rel.source_ref.as_deref(), rel.target_ref.as_deref()) else {
            continue;
        };
        if !dst.starts_with("attack-pattern--") {
            continue;
        }
        if by_id.get(dst).is_some_and(|p| !live(p)) {
            continue;
        }
        if let Some(&i) = actor_index.get(src)
            && !uses[i].contains(&dst)
        {
            uses[i].push(dst);
        }
    }

    // MISP events: a report or grouping naming one actor and patterns without relationships.
    for report in objects
        .iter()
        .filter(|o| matches!(o.kind.as_str(), "report" | "grouping") && live(o))
    {
        let refs = report.object_refs.as_deref().unwrap_or_default();
        let in_report: Vec<usize> = refs
            .iter()
            .filter_map(|r| actor_index.get(r.as_str()).copied())
            .collect();
        let [actor] = in_report[..] else {
            // Several actors: which one used which pattern is not said, so nothing is guessed.
            let orphans = refs
                .iter()
                .filter(|r| r.starts_with("attack-pattern--"))
                .filter(|r| !in_report.iter().any(|&a| uses[a].contains(&r.as_str())))
                .count();
            if in_report.len() > 1 && orphans > 0 {
                diags.push(Diagnostic::warning(
                    path,
                    object_line(text, &report.id),
                    format!(
                        "{} `{}` names {} actors and {orphans} attack-pattern(s) without `uses` relationships; they are not attributed to any actor",
                        report.kind,
                        report.id,
                        in_report.len()
                    ),
                ));
            }
            continue;
        };
        let mut added = 0;
        for r in refs.iter().filter(|r| r.starts_with("attack-pattern--")) {
            if by_id.get(r.as_str()).is_some_and(|p| !live(p)) {
                continue;
            }
            if !uses[actor].contains(&r.as_str()) {
                uses[actor].push(r.as_str());
                added += 1;
            }
        }
        if added > 0 {
            diags.push(Diagnostic::warning(
                path,
                object_line(text, &report.id),
                format!(
                    "{} `{}` has no `uses` relationships for {added} attack-pattern(s); they are attributed to its only actor {}",
                    report.kind, report.id, actors[actor].id
                ),
            ));
        }
    }

    let mut resolved: HashMap<&str, Option<(String, bool)>> = HashMap::new();
    let mut reported: HashSet<&str> = HashSet::new();
    let mut out = Vec::with_capacity(actors.len());
    for (actor, pattern_ids) in actors.iter().zip(&uses) {
        let mut techniques: Vec<ActorTechnique> = Vec::new();
        for pid in pattern_ids {
            let hit = resolved
                .entry(pid)
                .or_insert_with(|| resolve(pid, by_id.get(pid).copied(), lookup))
                .clone();
            let Some((technique, low)) = hit else {
                if reported.insert(pid) {
                    let name = by_id.get(pid).and_then(|p| p.name.as_deref());
                    diags.push(Diagnostic::warning(
                        path,
                        object_line(text, pid),
                        format!(
                            "attack-pattern {pid}{} does not resolve to an ATT&CK technique (no mitre external id, x_mitre_id, known STIX id, T-number in the name or known name); not counted",
                            name.map(|n| format!(" (`{n}`)")).unwrap_or_default()
                        ),
                    ));
                }
                continue;
            };
            match techniques.iter_mut().find(|t| t.technique == technique) {
                // Two patterns naming the same technique: an id-based one makes it confident.
                Some(t) => t.low_confidence &= low,
                None => techniques.push(ActorTechnique {
                    technique,
                    weight: 1.0,
                    low_confidence: low,
                }),
            }
        }
        let name = actor
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .unwrap_or(&actor.id)
            .to_string();
        if techniques.is_empty() {
            diags.push(Diagnostic::warning(
                path,
                object_line(text, &actor.id),
                format!(
                    "{} `{name}` ({}) uses no resolvable attack-pattern",
                    actor.kind, actor.id
                ),
            ));
        }
        let mut aliases: Vec<String> = Vec::new();
        for alias in aliases_of(actor) {
            let alias = alias.trim();
            if !alias.is_empty()
                && !alias.eq_ignore_ascii_case(&name)
                && !aliases.iter().any(|a| a.eq_ignore_ascii_case(alias))
            {
                aliases.push(alias.to_string());
            }
        }
        out.push(Actor {
            id: actor.id.clone(),
            name,
            aliases,
            origin: ActorOrigin::Intel(options.label.clone()),
            techniques,
        });
    }
    (out, diags)
}

/// The technique of an attack-pattern and whether it was found by name only. `pattern` is
/// `None` when the bundle refers to a pattern it does not contain (then only its STIX id can
/// help).
fn resolve(
    stix_id: &str,
    pattern: Option<&Obj>,
    lookup: &dyn TechniqueLookup,
) -> Option<(String, bool)> {
    let confident = |t: String| Some((t, false));
    if let Some(p) = pattern {
        // 1. mitre-* external reference.
        for r in p.external_references.iter().flatten() {
            let mitre = r
                .source_name
                .as_deref()
                .is_some_and(|s| s.trim().to_ascii_lowercase().starts_with("mitre"));
            if let (true, Some(id)) = (
                mitre,
                r.external_id.as_deref().and_then(normalize_technique),
            ) {
                return confident(id);
            }
        }
        // 2. x_mitre_id, then OpenCTI's MITRE extension.
        if let Some(id) = p.x_mitre_id.as_deref().and_then(normalize_technique) {
            return confident(id);
        }
        let ext_id = p
            .extensions
            .as_ref()
            .and_then(|e| e.get(MITRE_EXTENSION))
            .and_then(|e| e.id.as_ref())
            .and_then(|v| v.as_str())
            .and_then(normalize_technique);
        if let Some(id) = ext_id {
            return confident(id);
        }
    }
    // 3. A known MITRE STIX id.
    if let Some(id) = lookup
        .by_stix_id(stix_id)
        .and_then(|t| normalize_technique(&t))
    {
        return confident(id);
    }
    let p = pattern?;
    // 4. A T-number in the name.
    if let Some(id) = p.name.as_deref().and_then(technique_in_text) {
        return confident(id);
    }
    // 5. The name or an alias, by the knowledge base.
    p.name
        .iter()
        .map(String::as_str)
        .chain(aliases_of(p))
        .find_map(|n| lookup.by_name(n).and_then(|t| normalize_technique(&t)))
        .map(|t| (t, true))
}

/// Every alias property of an object (STIX `aliases`, `x_opencti_aliases`, `x_mitre_aliases`,
/// OpenCTI's extension `aliases`).
fn aliases_of(o: &Obj) -> impl Iterator<Item = &str> {
    let ext = o
        .extensions
        .as_ref()
        .and_then(|e| e.get(OPENCTI_EXTENSION))
        .and_then(|e| e.aliases.as_ref())
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str());
    o.aliases
        .iter()
        .chain(&o.x_opencti_aliases)
        .chain(&o.x_mitre_aliases)
        .flatten()
        .map(String::as_str)
        .chain(ext)
}

/// The first `T1234` or `T1234.001` token in `text` not glued to other letters or digits.
pub(crate) fn technique_in_text(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let mut i = 0;
    while i + 5 <= b.len() {
        let starts = (b[i] == b'T' || b[i] == b't')
            && (i == 0 || !b[i - 1].is_ascii_alphanumeric())
            && b[i + 1..i + 5].iter().all(u8::is_ascii_digit);
        if starts {
            let sub = b.len() >= i + 9
                && b[i + 5] == b'.'
                && b[i + 6..i + 9].iter().all(u8::is_ascii_digit);
            let end = if sub { i + 9 } else { i + 5 };
            if b.get(end).is_none_or(|c| !c.is_ascii_alphanumeric()) {
                return normalize_technique(&text[i..end]);
            }
        }
        i += 1;
    }
    None
}

/// The text of a bundle after the size and encoding checks.
fn bundle_text<'a>(input: &Input<'a>) -> Result<&'a str, Diagnostic> {
    if input.bytes.len() > MAX_BUNDLE_BYTES {
        return Err(Diagnostic::error(
            input.path,
            None,
            format!(
                "file is {} bytes, above the {MAX_BUNDLE_BYTES}-byte limit for STIX bundles; not parsed",
                input.bytes.len()
            ),
        ));
    }
    match std::str::from_utf8(input.bytes) {
        Ok(t) => Ok(t.strip_prefix('\u{feff}').unwrap_or(t)),
        Err(e) => Err(Diagnostic::error(
            input.path,
            Some(
                input.bytes[..e.valid_up_to()]
                    .iter()
                    .filter(|b| **b == b'\n')
                    .count()
                    + 1,
            ),
            "not valid UTF-8; a STIX bundle is UTF-8 JSON",
        )),
    }
}

/// The bundle's objects. The typed parse is tried first (fast); when one object has an
/// unexpected shape, the bundle is re-read as a value tree and only that object is skipped.
fn parse_objects(path: &str, text: &str, diags: &mut Vec<Diagnostic>) -> Option<Vec<Obj>> {
    let check_kind = |kind: Option<&str>, diags: &mut Vec<Diagnostic>| {
        if kind.is_some_and(|k| k != "bundle") {
            diags.push(Diagnostic::error(
                path,
                Some(1),
                format!(
                    "not a STIX bundle (type `{}`); export the actors as a bundle",
                    kind.unwrap_or_default()
                ),
            ));
            return false;
        }
        true
    };
    match serde_json::from_str::<Bundle<Obj>>(text) {
        Ok(b) => check_kind(b.kind.as_deref(), diags).then_some(b.objects),
        Err(e) if e.is_data() => {
            let bundle = match serde_json::from_str::<Bundle<serde_json::Value>>(text) {
                Ok(b) => b,
                Err(e) => {
                    diags.push(Diagnostic::error(
                        path,
                        Some(e.line()),
                        format!("not a STIX bundle: {e}"),
                    ));
                    return None;
                }
            };
            if !check_kind(bundle.kind.as_deref(), diags) {
                return None;
            }
            let mut objects = Vec::with_capacity(bundle.objects.len());
            for (i, value) in bundle.objects.iter().enumerate() {
                match Obj::deserialize(value) {
                    Ok(o) => objects.push(o),
                    Err(e) => {
                        let id = value.get("id").and_then(|v| v.as_str());
                        diags.push(Diagnostic::warning(
                            path,
                            id.and_then(|id| object_line(text, id)),
                            format!(
                                "object #{} ({}) has an unexpected shape and is skipped: {e}",
                                i + 1,
                                id.unwrap_or("no id")
                            ),
                        ));
                    }
                }
            }
            Some(objects)
        }
        Err(e) => {
            diags.push(Diagnostic::error(
                path,
                Some(e.line()),
                format!("invalid JSON: {e}"),
            ));
            None
        }
    }
}

/// The line of the object whose `"id"` property is `id`: the first `"<id>"` preceded by
/// `"id":`.
fn object_line(text: &str, id: &str) -> Option<usize> {
    if id.is_empty() {
        return None;
    }
    let quoted = format!("\"{id}\"");
    let mut from = 0;
    while let Some(pos) = text[from..].find(&quoted) {
        let start = from + pos;
        let before = text[..start].trim_end();
        if let Some(rest) = before.strip_suffix(':')
            && rest.trim_end().ends_with("\"id\"")
        {
            return Some(line_of(text, start));
        }
        from = start + quoted.len();
    }
    None
}
