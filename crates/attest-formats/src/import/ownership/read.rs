//! Reading the ownership file, and looking owners up.

use serde::Deserialize;

use crate::import::profile::{last_token_line, token_line};
use crate::import::{
    check_yaml_shape, input_text, normalize_tactic, normalize_technique, yaml_error,
};
use crate::{Diagnostic, Input};

/// The file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OwnershipDoc {
    /// Owner of everything else.
    default: Option<String>,
    /// Entries.
    #[serde(default)]
    owners: Vec<EntryDoc>,
}

/// One entry of the file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryDoc {
    owner: String,
    #[serde(default)]
    tactics: Vec<String>,
    #[serde(default)]
    techniques: Vec<String>,
}

/// One owner's cluster.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OwnershipEntry {
    /// The engineer or team.
    pub owner: String,
    /// Tactics, normalised: short names (`credential-access`) or upper-case ids (`TA0006`).
    pub tactics: Vec<String>,
    /// Technique ids, upper-cased.
    pub techniques: Vec<String>,
}

/// Who owns which techniques.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OwnershipMap {
    /// The entries, in file order.
    pub entries: Vec<OwnershipEntry>,
    /// Owner of everything no entry matches.
    pub default: Option<String>,
}

impl OwnershipMap {
    /// The owner of `technique` (`T1003.001`), given the technique's tactics as short names or
    /// ids (`credential-access`, `TA0006`; pass both when known). Most specific match wins: the
    /// technique, its parent, its first tactic with an owner, the default.
    pub fn owner_of(&self, technique: &str, tactics: &[&str]) -> Option<&str> {
        let technique = technique.trim().to_ascii_uppercase();
        let by_technique = |t: &str| {
            self.entries
                .iter()
                .find(|e| e.techniques.iter().any(|x| x == t))
                .map(|e| e.owner.as_str())
        };
        let parent = technique.split_once('.').map(|(p, _)| p.to_string());
        by_technique(&technique)
            .or_else(|| parent.as_deref().and_then(by_technique))
            .or_else(|| {
                tactics.iter().find_map(|t| {
                    let key = tactic_key(t);
                    self.entries
                        .iter()
                        .find(|e| e.tactics.contains(&key))
                        .map(|e| e.owner.as_str())
                })
            })
            .or(self.default.as_deref())
    }

    /// The engine's ownership type. Technique ids the engine's parser refuses cannot occur
    /// (the reader checked their shape) and are left out.
    pub fn to_core(&self) -> attest_core::backlog::Ownership {
        let mut out = attest_core::backlog::Ownership {
            default: self.default.clone(),
            ..Default::default()
        };
        for e in &self.entries {
            for t in &e.techniques {
                if let Ok(id) = attest_attack::TechniqueId::parse(t) {
                    out.techniques.push((id, e.owner.clone()));
                }
            }
            for t in &e.tactics {
                out.tactics.push((t.clone(), e.owner.clone()));
            }
        }
        out
    }
}

/// A tactic as written (`Credential Access`, `credential_access`, `ta0006`) in the form entries
/// are stored in: an upper-case id or a short name.
fn tactic_key(raw: &str) -> String {
    let t = raw.trim();
    let upper = t.to_ascii_uppercase();
    if upper.len() == 6 && upper.starts_with("TA") && upper[2..].bytes().all(|b| b.is_ascii_digit())
    {
        upper
    } else {
        normalize_tactic(t)
    }
}

/// Reads one ownership file. `None` when the file cannot be used (not YAML, unknown key);
/// entries with a bad technique id or a technique or tactic already owned are reported with
/// their line and that item is dropped.
pub fn read_ownership(input: Input<'_>) -> (Option<OwnershipMap>, Vec<Diagnostic>) {
    let path = input.path;
    let text = match input_text(&input) {
        Ok(t) => t,
        Err(d) => return (None, vec![d]),
    };
    if let Err(d) = check_yaml_shape(&input, text) {
        return (None, vec![d]);
    }
    let doc: OwnershipDoc = match yaml_serde::from_str(text) {
        Ok(d) => d,
        Err(e) => return (None, vec![yaml_error(path, &e)]),
    };
    let mut diags = Vec::new();
    let mut map = OwnershipMap {
        entries: Vec::new(),
        default: doc
            .default
            .map(|d| d.trim().to_string())
            .filter(|d| !d.is_empty()),
    };
    for entry in doc.owners {
        let owner = entry.owner.trim().to_string();
        if owner.is_empty() {
            diags.push(Diagnostic::error(
                path,
                token_line(text, "owner"),
                "an entry with an empty owner; skipped",
            ));
            continue;
        }
        let mut e = OwnershipEntry {
            owner,
            ..Default::default()
        };
        for raw in &entry.techniques {
            let Some(id) = normalize_technique(raw) else {
                diags.push(Diagnostic::error(
                    path,
                    token_line(text, raw.trim()),
                    format!("`{raw}` is not an ATT&CK technique id; skipped"),
                ));
                continue;
            };
            if let Some(prev) = map
                .entries
                .iter()
                .chain([&e])
                .find(|x| x.techniques.contains(&id))
            {
                diags.push(Diagnostic::error(
                    path,
                    last_token_line(text, raw.trim()),
                    format!(
                        "{id} is already owned by {}; `{}` does not get it",
                        prev.owner, e.owner
                    ),
                ));
                continue;
            }
            e.techniques.push(id);
        }
        for raw in &entry.tactics {
            let key = tactic_key(raw);
            if key.is_empty() {
                continue;
            }
            if let Some(prev) = map
                .entries
                .iter()
                .chain([&e])
                .find(|x| x.tactics.contains(&key))
            {
                diags.push(Diagnostic::error(
                    path,
                    last_token_line(text, raw.trim()),
                    format!(
                        "tactic {key} is already owned by {}; `{}` does not get it",
                        prev.owner, e.owner
                    ),
                ));
                continue;
            }
            e.tactics.push(key);
        }
        map.entries.push(e);
    }
    (Some(map), diags)
}
