//! Borrowed serde views of STIX objects: the fast path parses straight out of the bundle text.
//!
//! Strings are `Cow<'a, str>` behind the `Str` newtype so that serde borrows them whenever the JSON
//! has no escapes (a plain `Vec<Cow<str>>` would always allocate). Every field is optional: what
//! is missing or odd is judged later, in `build`, and reported as a warning.

use std::borrow::Cow;

use std::fmt;

use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
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
    pub spec_version: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub objects: Option<Vec<&'a RawValue>>,
}

/// What the streaming fast path learns about the envelope.
pub(crate) struct StreamedBundle<'a> {
    pub kind: Option<Str<'a>>,
    pub spec_version: Option<Str<'a>>,
    pub has_objects: bool,
}

/// Streams a bundle: each object is decoded and handed to `on_object` as soon as it is read,
/// so that no vector of all objects is ever built.
pub(crate) struct BundleSeed<'f, 'de> {
    pub on_object: &'f mut dyn FnMut(RawObject<'de>),
}

impl<'de> DeserializeSeed<'de> for BundleSeed<'_, 'de> {
    type Value = StreamedBundle<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for BundleSeed<'_, 'de> {
    type Value = StreamedBundle<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a STIX bundle object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut kind = None;
        let mut spec_version = None;
        let mut has_objects = false;
        while let Some(key) = map.next_key::<Str<'de>>()? {
            match key.as_str() {
                "type" => kind = map.next_value()?,
                "spec_version" => spec_version = map.next_value()?,
                "objects" => {
                    map.next_value_seed(ObjectsSeed {
                        on_object: &mut *self.on_object,
                    })?;
                    has_objects = true;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(StreamedBundle {
            kind,
            spec_version,
            has_objects,
        })
    }
}

struct ObjectsSeed<'f, 'de> {
    on_object: &'f mut dyn FnMut(RawObject<'de>),
}

impl<'de> DeserializeSeed<'de> for ObjectsSeed<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ObjectsSeed<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of STIX objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(o) = seq.next_element::<RawObject<'de>>()? {
            (self.on_object)(o);
        }
        Ok(())
    }
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
    pub spec_version: Option<Str<'a>>,
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
