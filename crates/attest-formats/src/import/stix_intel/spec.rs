//! Options, the knowledge-base lookup, and the subset of STIX 2.1 objects the reader needs.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

/// The largest bundle read (256 MiB). TIP exports of a whole instance are large (the ATT&CK
/// Enterprise bundle alone is 34 MB), so this is well above the rule-file limit.
pub const MAX_BUNDLE_BYTES: usize = 256 * 1024 * 1024;

/// OpenCTI's MITRE ATT&CK property extension; its `id` property holds the ATT&CK id.
pub const MITRE_EXTENSION: &str = "extension-definition--322b8f77-262a-4cb8-a915-1e441e00329b";

/// OpenCTI's own property extension; its `aliases` property holds attack-pattern aliases.
pub(super) const OPENCTI_EXTENSION: &str =
    "extension-definition--ea279b3e-5c71-4632-ac08-831c66a786ba";

/// Options of [`super::read_stix_intel`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StixIntelOptions {
    /// Names the file or feed in every actor's [`attest_core::profile::ActorOrigin::Intel`].
    pub label: String,
}

/// What the knowledge base knows about techniques, for ladder steps 3 and 5. Implemented by the
/// caller over the loaded ATT&CK release; [`MapLookup`] is a ready-made implementation.
pub trait TechniqueLookup {
    /// The technique id (`T1059.001`) of a MITRE ATT&CK STIX id (`attack-pattern--…`).
    fn by_stix_id(&self, stix_id: &str) -> Option<String>;
    /// The technique id of a technique name or alias (`PowerShell`), if exactly one matches.
    fn by_name(&self, name: &str) -> Option<String>;
}

/// A lookup that knows nothing: only ladder steps 1, 2 and 4 resolve.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoLookup;

impl TechniqueLookup for NoLookup {
    fn by_stix_id(&self, _: &str) -> Option<String> {
        None
    }
    fn by_name(&self, _: &str) -> Option<String> {
        None
    }
}

/// A lookup from two maps. Names are matched case-insensitively: insert them with
/// [`MapLookup::add_name`].
#[derive(Debug, Clone, Default)]
pub struct MapLookup {
    /// STIX id → technique id.
    pub stix_ids: HashMap<String, String>,
    /// Lowercased name or alias → technique id; `None` when two techniques share the name.
    pub names: HashMap<String, Option<String>>,
}

impl MapLookup {
    /// Records a name or alias of `technique`. A name given to two different techniques becomes
    /// ambiguous and resolves to nothing (a wrong guess is worse than a reported miss).
    pub fn add_name(&mut self, name: &str, technique: &str) {
        let key = name.trim().to_lowercase();
        match self.names.get(&key) {
            Some(Some(t)) if t != technique => {
                self.names.insert(key, None);
            }
            Some(_) => {}
            None => {
                self.names.insert(key, Some(technique.to_string()));
            }
        }
    }
}

impl TechniqueLookup for MapLookup {
    fn by_stix_id(&self, stix_id: &str) -> Option<String> {
        self.stix_ids.get(stix_id).cloned()
    }
    fn by_name(&self, name: &str) -> Option<String> {
        self.names
            .get(&name.trim().to_lowercase())
            .cloned()
            .flatten()
    }
}

/// A bundle. `objects` is generic so the reader can first try the fast typed parse and fall
/// back to a value tree, object by object, when one object has an unexpected shape.
#[derive(Debug, Deserialize)]
pub(super) struct Bundle<T> {
    /// `bundle`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The objects.
    #[serde(default = "Vec::new")]
    pub objects: Vec<T>,
}

/// One STIX object, only the properties the reader uses. `null` is accepted wherever a value is
/// optional, as TIP exports write it.
#[derive(Debug, Deserialize)]
pub(super) struct Obj {
    /// Object type.
    #[serde(rename = "type")]
    pub kind: String,
    /// STIX id.
    #[serde(default)]
    pub id: String,
    /// Name.
    pub name: Option<String>,
    /// Aliases (intrusion-set, threat-actor).
    #[serde(default, deserialize_with = "strings")]
    pub aliases: Option<Vec<String>>,
    /// Aliases (older OpenCTI exports).
    #[serde(default, deserialize_with = "strings")]
    pub x_opencti_aliases: Option<Vec<String>>,
    /// Aliases (ATT&CK software; harmless elsewhere).
    #[serde(default, deserialize_with = "strings")]
    pub x_mitre_aliases: Option<Vec<String>>,
    /// ATT&CK id (OpenCTI, many feeds).
    pub x_mitre_id: Option<String>,
    /// External references.
    pub external_references: Option<Vec<ExtRef>>,
    /// Relationship type.
    pub relationship_type: Option<String>,
    /// Relationship source.
    pub source_ref: Option<String>,
    /// Relationship target.
    pub target_ref: Option<String>,
    /// Revoked objects are skipped.
    pub revoked: Option<bool>,
    /// Deprecated ATT&CK objects are skipped.
    pub x_mitre_deprecated: Option<bool>,
    /// Objects of a report or grouping.
    pub object_refs: Option<Vec<String>>,
    /// Property extensions.
    pub extensions: Option<BTreeMap<String, Ext>>,
}

/// An external reference.
#[derive(Debug, Deserialize)]
pub(super) struct ExtRef {
    /// `mitre-attack`, `capec`, `url`, …
    pub source_name: Option<String>,
    /// `T1059.001`, `CAPEC-633`, …
    pub external_id: Option<String>,
}

/// A property extension: the two properties the reader uses, others ignored.
#[derive(Debug, Deserialize)]
pub(super) struct Ext {
    /// In the MITRE extension: the ATT&CK id. Other extensions put other things here.
    pub id: Option<serde_json::Value>,
    /// In OpenCTI's extension: aliases.
    pub aliases: Option<serde_json::Value>,
}

/// A list of strings, leniently: `null` entries and non-string entries are dropped, a single
/// string is a list of one. Alias lists are informational, so an odd entry must not cost the
/// whole object.
fn strings<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    let value = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match value {
        Some(serde_json::Value::String(s)) => Some(vec![s]),
        Some(serde_json::Value::Array(items)) => Some(
            items
                .into_iter()
                .filter_map(|v| match v {
                    serde_json::Value::String(s) => Some(s),
                    _ => None,
                })
                .collect(),
        ),
        _ => None,
    })
}

/// The lookup over a loaded ATT&CK release: STIX ids of techniques, and names that exactly one
/// active technique has. The CLI's `attest actors import stix` and the API's actor import both
/// resolve through it.
#[derive(Debug, Clone, Copy)]
pub struct KbLookup<'a>(pub &'a attest_attack::KnowledgeBase);

impl TechniqueLookup for KbLookup<'_> {
    fn by_stix_id(&self, id: &str) -> Option<String> {
        match self.0.by_stix_id(id)? {
            attest_attack::ObjectRef::Technique(t) => Some(t.id.to_string()),
            _ => None,
        }
    }
    fn by_name(&self, name: &str) -> Option<String> {
        let mut hits = self
            .0
            .techniques()
            .iter()
            .filter(|t| t.meta.is_active() && t.meta.name.eq_ignore_ascii_case(name.trim()))
            .map(|t| t.id.to_string());
        let first = hits.next()?;
        hits.next().is_none().then_some(first)
    }
}
