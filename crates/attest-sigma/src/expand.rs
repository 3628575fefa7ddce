//! The `expand` modifier: `%name%` placeholders replaced by values from the configuration.
//!
//! rsigma leaves `expand` values to be resolved from the *event* at match time, which is not what
//! the Sigma specification means: placeholders name lists kept in the deployment's configuration
//! (`%Admins_Workstations%`). We resolve them on the parsed rule, before compiling, and drop the
//! modifier once every placeholder of an item is resolved. A placeholder with several values
//! yields one alternative per value (Sigma's OR of list values).

use std::collections::BTreeMap;

use rsigma_parser::value::{SigmaString, SigmaValue};
use rsigma_parser::{Detection, DetectionItem, Modifier, SigmaRule};

/// Replaces `expand` placeholders in `rule`; returns the names that had no value.
pub(crate) fn expand_rule(
    rule: &mut SigmaRule,
    vars: &BTreeMap<String, Vec<String>>,
) -> Vec<String> {
    let mut unresolved = Vec::new();
    for detection in rule.detection.named.values_mut() {
        expand_detection(detection, vars, &mut unresolved);
    }
    unresolved.sort();
    unresolved.dedup();
    unresolved
}

fn expand_detection(
    d: &mut Detection,
    vars: &BTreeMap<String, Vec<String>>,
    unresolved: &mut Vec<String>,
) {
    match d {
        Detection::AllOf(items) => items
            .iter_mut()
            .for_each(|i| expand_item(i, vars, unresolved)),
        Detection::AnyOf(subs) | Detection::And(subs) => subs
            .iter_mut()
            .for_each(|s| expand_detection(s, vars, unresolved)),
        Detection::ArrayMatch { body, .. } => expand_detection(body, vars, unresolved),
        Detection::Conditional { named, .. } => named
            .values_mut()
            .for_each(|s| expand_detection(s, vars, unresolved)),
        Detection::Keywords(_) => {}
    }
}

fn expand_item(
    item: &mut DetectionItem,
    vars: &BTreeMap<String, Vec<String>>,
    unresolved: &mut Vec<String>,
) {
    if !item.field.has_modifier(Modifier::Expand) {
        return;
    }
    let mut out = Vec::with_capacity(item.values.len());
    let mut all_resolved = true;
    for value in item.values.drain(..) {
        let SigmaValue::String(s) = &value else {
            out.push(value);
            continue;
        };
        match expand_text(&s.original, vars) {
            Ok(texts) => out.extend(
                texts
                    .iter()
                    .map(|t| SigmaValue::String(SigmaString::new(t))),
            ),
            Err(missing) => {
                all_resolved = false;
                unresolved.push(missing);
                out.push(value);
            }
        }
    }
    item.values = out;
    if all_resolved {
        item.field.modifiers.retain(|m| *m != Modifier::Expand);
    }
}

/// Every expansion of `text`, or the first placeholder name without a value.
fn expand_text(text: &str, vars: &BTreeMap<String, Vec<String>>) -> Result<Vec<String>, String> {
    let mut results = vec![String::new()];
    let mut rest = text;
    while let Some(start) = rest.find('%') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('%') else { break };
        let name = &after[..end];
        let values = match vars.get(name) {
            Some(v) if !v.is_empty() => v,
            _ => return Err(name.to_owned()),
        };
        let prefix = &rest[..start];
        results = results
            .iter()
            .flat_map(|r| values.iter().map(move |v| format!("{r}{prefix}{v}")))
            .collect();
        rest = &after[end + 1..];
    }
    for r in &mut results {
        r.push_str(rest);
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_all_combinations() {
        let mut vars = BTreeMap::new();
        vars.insert("a".to_owned(), vec!["1".to_owned(), "2".to_owned()]);
        vars.insert("b".to_owned(), vec!["x".to_owned()]);
        assert_eq!(
            expand_text("p%a%-%b%s", &vars),
            Ok(vec!["p1-xs".to_owned(), "p2-xs".to_owned()])
        );
        assert_eq!(
            expand_text("no placeholder", &vars),
            Ok(vec!["no placeholder".to_owned()])
        );
        assert_eq!(expand_text("%c%", &vars), Err("c".to_owned()));
    }
}
