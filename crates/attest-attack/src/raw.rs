//! Borrowed serde views of STIX objects: the fast path parses straight out of the bundle text.
//!
//! Strings are `Cow<'a, str>` behind the `Str` newtype so that serde borrows them whenever the JSON
//! has no escapes (a plain `Vec<Cow<str>>` would always allocate). Every field is optional: what
//! is missing or odd is judged later, in `build`, and reported as a warning.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

/// A borrowed-when-possible string.
#[derive(Deserialize, Debug, Default, Clone)]
#[serde(transparent)]
pub(crate) struct Str<'a>(#[serde(borrow)] pub Cow<'a, str>);

impl Str<'_> {
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// The bundle envelope; objects are kept raw so that each can fail on its own.
#[derive(Deserialize)]
pub(crate) struct RawBundle<'a> {
    #[serde(rename = "type", borrow, default)]
    pub kind: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub objects: Option<Vec<&'a RawValue>>,
}

/// The bundle envelope with typed objects: the fast path, one pass over the text.
#[derive(Deserialize)]
pub(crate) struct FastBundle<'a> {
    #[serde(rename = "type", borrow, default)]
    pub kind: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub objects: Option<Vec<RawObject<'a>>>,
}

/// Just enough of an object to name it in a warning when the full decode fails.
#[derive(Deserialize)]
pub(crate) struct RawIdOnly<'a> {
    #[serde(borrow, default)]
    pub id: Option<Str<'a>>,
}

#[derive(Deserialize, Debug)]
pub(crate) struct RawExternalRef<'a> {
    #[serde(borrow, default)]
    pub source_name: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub external_id: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub url: Option<Str<'a>>,
}

#[derive(Deserialize, Debug)]
pub(crate) struct RawKillChainPhase<'a> {
    #[serde(borrow, default)]
    pub kill_chain_name: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub phase_name: Option<Str<'a>>,
}

#[derive(Deserialize, Debug)]
pub(crate) struct RawLogSource<'a> {
    #[serde(borrow, default)]
    pub name: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub channel: Option<Str<'a>>,
}

#[derive(Deserialize, Debug)]
pub(crate) struct RawLogSourceRef<'a> {
    #[serde(borrow, default)]
    pub x_mitre_data_component_ref: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub name: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub channel: Option<Str<'a>>,
}

/// Every field attest reads from any STIX object type, all optional.
#[derive(Deserialize, Debug, Default)]
pub(crate) struct RawObject<'a> {
    #[serde(rename = "type", borrow, default)]
    pub kind: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub id: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub name: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub description: Option<Str<'a>>,
    #[serde(default)]
    pub revoked: Option<bool>,
    #[serde(default)]
    pub x_mitre_deprecated: Option<bool>,
    #[serde(borrow, default)]
    pub external_references: Option<Vec<RawExternalRef<'a>>>,
    #[serde(borrow, default)]
    pub modified: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub x_mitre_version: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub x_mitre_attack_spec_version: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub x_mitre_domains: Option<Vec<Str<'a>>>,
    #[serde(borrow, default)]
    pub x_mitre_platforms: Option<Vec<Str<'a>>>,
    // attack-pattern
    #[serde(borrow, default)]
    pub kill_chain_phases: Option<Vec<RawKillChainPhase<'a>>>,
    #[serde(default)]
    pub x_mitre_is_subtechnique: Option<bool>,
    // intrusion-set, campaign; malware/tool use x_mitre_aliases
    #[serde(borrow, default)]
    pub aliases: Option<Vec<Str<'a>>>,
    #[serde(borrow, default)]
    pub x_mitre_aliases: Option<Vec<Str<'a>>>,
    // x-mitre-tactic
    #[serde(borrow, default)]
    pub x_mitre_shortname: Option<Str<'a>>,
    // x-mitre-matrix
    #[serde(borrow, default)]
    pub tactic_refs: Option<Vec<Str<'a>>>,
    // x-mitre-data-component
    #[serde(borrow, default)]
    pub x_mitre_data_source_ref: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub x_mitre_log_sources: Option<Vec<RawLogSource<'a>>>,
    // x-mitre-detection-strategy
    #[serde(borrow, default)]
    pub x_mitre_analytic_refs: Option<Vec<Str<'a>>>,
    // x-mitre-analytic
    #[serde(borrow, default)]
    pub x_mitre_log_source_references: Option<Vec<RawLogSourceRef<'a>>>,
    // relationship
    #[serde(borrow, default)]
    pub relationship_type: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub source_ref: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub target_ref: Option<Str<'a>>,
}
