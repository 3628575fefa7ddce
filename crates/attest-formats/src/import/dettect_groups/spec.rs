//! The DeTT&CT group administration document and the reader's options.

use std::collections::BTreeMap;

use serde::Deserialize;

/// Options of [`super::read_dettect_groups`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DettectGroupsOptions {
    /// Names the file in every actor's [`attest_core::profile::ActorOrigin::Intel`].
    pub label: String,
    /// Also read groups marked `enabled: False`.
    pub include_disabled: bool,
}

/// The file. DeTT&CT's own keys only; others are ignored, as DeTT&CT ignores them.
#[derive(Debug, Deserialize)]
pub(super) struct GroupsDoc {
    /// `1.0`.
    pub version: Option<serde_json::Value>,
    /// `group-administration`.
    pub file_type: Option<String>,
    /// The groups.
    #[serde(default)]
    pub groups: Option<Vec<GroupDoc>>,
}

/// One group.
#[derive(Debug, Deserialize)]
pub(super) struct GroupDoc {
    /// Name.
    pub group_name: Option<String>,
    /// Campaign, often empty.
    pub campaign: Option<String>,
    /// Techniques: a list, or a map technique → score.
    pub technique_id: Option<TechniqueIds>,
    /// Whether DeTT&CT uses the group (default true).
    pub enabled: Option<bool>,
}

/// The two forms of `technique_id`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum TechniqueIds {
    /// `[T1086, T1053]`.
    List(Vec<String>),
    /// `{T1086: 1774}`.
    Weighted(BTreeMap<String, f64>),
}
