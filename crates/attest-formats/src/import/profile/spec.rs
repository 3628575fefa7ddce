//! The profile YAML document, as serde types (the file format's own types, converted by hand to
//! the domain's [`attest_core::profile::Profile`]).

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

/// The whole document.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ProfileDoc {
    /// The profile's unique name.
    pub name: String,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Actors with weights.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actors: Vec<WeightedEntry<ActorKey>>,
    /// Sectors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sectors: Vec<String>,
    /// Platforms in scope.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<String>,
    /// Hand-picked techniques with weights.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub techniques: Vec<WeightedEntry<TechniqueKey>>,
    /// Excluded techniques.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclusions: Vec<String>,
    /// Group → technique paths.
    #[serde(default, skip_serializing_if = "PathsDoc::is_default")]
    pub paths: PathsDoc,
    /// Techniques that exploit open exposures join the target set.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub include_exposures: bool,
    /// Their weight (default 1: a finding of severity 10 adds 1 to its techniques' scores).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposure_weight: Option<f64>,
}

/// `paths:`.
#[derive(Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub(super) struct PathsDoc {
    /// Count techniques of software the group uses.
    #[serde(default)]
    pub via_software: bool,
    /// Count techniques of campaigns attributed to the group.
    #[serde(default)]
    pub via_campaigns: bool,
}

impl PathsDoc {
    fn is_default(&self) -> bool {
        *self == PathsDoc::default()
    }
}

/// The key name of a weighted entry's map form (`actor:` or `technique:`).
pub(super) trait EntryKey {
    /// The key.
    const KEY: &'static str;
}

/// Marker for `actor:` entries.
#[derive(Debug)]
pub(super) struct ActorKey;
impl EntryKey for ActorKey {
    const KEY: &'static str = "actor";
}

/// Marker for `technique:` entries.
#[derive(Debug)]
pub(super) struct TechniqueKey;
impl EntryKey for TechniqueKey {
    const KEY: &'static str = "technique";
}

/// A list entry: a bare string (weight 1) or `{<key>: string, weight: number}`.
#[derive(Debug)]
pub(super) struct WeightedEntry<K> {
    /// The actor or technique as written.
    pub value: String,
    /// The weight; `None` when not written.
    pub weight: Option<f64>,
    _key: std::marker::PhantomData<K>,
}

impl<K> WeightedEntry<K> {
    /// An entry.
    pub fn new(value: String, weight: Option<f64>) -> Self {
        WeightedEntry {
            value,
            weight,
            _key: std::marker::PhantomData,
        }
    }
}

// A hand-written visitor instead of an untagged enum: serde's untagged enums replace the real
// error ("unknown field `wieght`") by "data did not match any variant", which no user can act on.
impl<'de, K: EntryKey> Deserialize<'de> for WeightedEntry<K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntryVisitor<K>(std::marker::PhantomData<K>);
        impl<'de, K: EntryKey> Visitor<'de> for EntryVisitor<K> {
            type Value = WeightedEntry<K>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a string or a map with `{}` and `weight`", K::KEY)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(WeightedEntry::new(v.to_string(), None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let (mut value, mut weight) = (None, None);
                while let Some(key) = map.next_key::<String>()? {
                    if key == K::KEY {
                        if value.is_some() {
                            return Err(de::Error::duplicate_field(K::KEY));
                        }
                        value = Some(map.next_value::<String>()?);
                    } else if key == "weight" {
                        if weight.is_some() {
                            return Err(de::Error::duplicate_field("weight"));
                        }
                        weight = Some(map.next_value::<f64>()?);
                    } else {
                        return Err(de::Error::unknown_field(&key, &[K::KEY, "weight"]));
                    }
                }
                let value = value.ok_or_else(|| de::Error::missing_field(K::KEY))?;
                Ok(WeightedEntry::new(value, weight))
            }
        }
        deserializer.deserialize_any(EntryVisitor(std::marker::PhantomData))
    }
}

impl<K: EntryKey> Serialize for WeightedEntry<K> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self.weight {
            None => serializer.serialize_str(&self.value),
            Some(w) => {
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry(K::KEY, &self.value)?;
                map.serialize_entry("weight", &w)?;
                map.end()
            }
        }
    }
}
