//! The inventory file's schema, shared by the importer and the exporter.

use std::fmt;

use attest_core::source::PipelineState;
use jiff::SignedDuration;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The schema version this crate reads and writes.
pub const VERSION: u32 = 1;

/// The whole file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InventoryFile {
    /// Schema version; [`VERSION`] when absent.
    #[serde(default = "default_version")]
    pub version: u32,
    /// The sources, in file order.
    #[serde(default)]
    pub sources: Vec<SourceEntry>,
}

fn default_version() -> u32 {
    VERSION
}

/// One data source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceEntry {
    /// Unique name.
    pub name: String,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// ATT&CK platforms covered; empty: not restricted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<String>,
    /// Free-form systems or segments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scope: Vec<String>,
    /// ATT&CK data component names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<String>,
    /// ATT&CK log sources as `Name` or `Name:Channel`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log_sources: Vec<String>,
    /// Pipeline state; `queryable` when absent.
    #[serde(default)]
    pub state: State,
    /// Products behind the source.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub products: Vec<String>,
    /// Owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Longest expected silence; absent: never silent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_silence: Option<Silence>,
}

/// A pipeline state word, checked while parsing so the error carries its line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct State(pub PipelineState);

impl<'de> Deserialize<'de> for State {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<State, D::Error> {
        let s = String::deserialize(d)?;
        PipelineState::parse(&s).map(State).ok_or_else(|| {
            de::Error::custom(format!(
                "unknown state `{s}`, expected one of planned, ingested, normalised, queryable"
            ))
        })
    }
}

impl Serialize for State {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.as_str())
    }
}

/// A duration written `<n><unit>` with unit `s`, `m`, `h`, `d` (24 h) or `w` (7 d).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Silence(pub SignedDuration);

/// Parses `24h`, `7d`, `90m`, `30s`, `2w`. A bare number is refused: its unit would be a guess.
pub fn parse_duration(s: &str) -> Option<SignedDuration> {
    let s = s.trim();
    let unit = s.chars().last()?;
    let n: i64 = s[..s.len() - unit.len_utf8()].trim().parse().ok()?;
    let secs = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3_600,
        'd' => 86_400,
        'w' => 604_800,
        _ => return None,
    };
    (n > 0)
        .then(|| n.checked_mul(secs))
        .flatten()
        .map(SignedDuration::from_secs)
}

/// Writes a duration in the largest unit that divides it exactly (`86400s` → `1d`).
pub fn format_duration(d: SignedDuration) -> String {
    let secs = d.as_secs();
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60)] {
        if secs != 0 && secs % size == 0 {
            return format!("{}{unit}", secs / size);
        }
    }
    format!("{secs}s")
}

impl<'de> Deserialize<'de> for Silence {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Silence, D::Error> {
        d.deserialize_any(SilenceVisitor)
    }
}

struct SilenceVisitor;

impl Visitor<'_> for SilenceVisitor {
    type Value = Silence;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration such as 24h or 7d")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Silence, E> {
        parse_duration(v).map(Silence).ok_or_else(|| {
            E::custom(format!(
                "`{v}` is not a duration; write a positive number and s, m, h, d or w (e.g. 24h)"
            ))
        })
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Silence, E> {
        Err(E::custom(format!(
            "`{v}` has no unit; write e.g. {v}h or {v}d"
        )))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Silence, E> {
        Err(E::custom(format!(
            "`{v}` has no unit; write e.g. {v}h or {v}d"
        )))
    }
}

impl Serialize for Silence {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_duration(self.0))
    }
}
