//! Reading Sigma documents into registry rules.

use std::fmt;

use attest_core::rule::{Dependency, DependencyOrigin, Origin, Rule, RuleDependency, RuleFormat};
use attest_core::source::LogSourceRef;
use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::spec::{self, KNOWN_TACTICS};
use crate::import::{
    RuleImporter, check_yaml_shape, input_text, normalize_technique, push_unique, sha256_hex,
    yaml_error,
};
use crate::{Diagnostic, Input};

/// Imports Sigma rule files (`.yml`, `.yaml`).
#[derive(Debug, Clone)]
pub struct SigmaImporter {
    /// The import root recorded in each rule's origin.
    pub root: String,
}

impl SigmaImporter {
    /// An importer whose rules belong to `root`.
    pub fn new(root: impl Into<String>) -> SigmaImporter {
        SigmaImporter { root: root.into() }
    }
}

impl RuleImporter for SigmaImporter {
    fn format(&self) -> RuleFormat {
        RuleFormat::Sigma
    }

    fn extensions(&self) -> &'static [&'static str] {
        &["yml", "yaml"]
    }

    fn import(&self, input: Input<'_>) -> (Vec<Rule>, Vec<Diagnostic>) {
        let (records, diags) = read_sigma(input, &self.root);
        (records.into_iter().map(|r| r.rule).collect(), diags)
    }
}

/// A Sigma rule with what the registry's [`Rule`] has no field for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigmaRecord {
    /// The registry rule.
    pub rule: Rule,
    /// Every tag, sorted into kinds (techniques and tactics are also in `rule`).
    pub tags: SigmaTags,
    /// `related` entries: (rule id, relation type such as `obsolete`, `derived`, `similar`).
    pub related: Vec<(String, String)>,
    /// The `logsource` as written: category, product, service.
    pub logsource: [Option<String>; 3],
}

/// Sigma tags sorted by the tag grammar of the Sigma specification's appendix.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SigmaTags {
    /// `attack.tNNNN[.NNN]`, upper-cased (`T1059.001`).
    pub techniques: Vec<String>,
    /// `attack.<tactic>`, as ATT&CK short names (`credential_access` → `credential-access`).
    pub tactics: Vec<String>,
    /// `attack.gNNNN`, upper-cased.
    pub groups: Vec<String>,
    /// `attack.sNNNN`, upper-cased.
    pub software: Vec<String>,
    /// `cve.YYYY-NNNN`, as `CVE-YYYY-NNNN`.
    pub cves: Vec<String>,
    /// Every other tag (`car.*`, `detection.*`, `tlp.*`…), as written.
    pub other: Vec<String>,
}

/// Sorts `tags` by kind. Returns the sorted tags and one message per tag that looks like an
/// ATT&CK tag but is not one (kept in `tactics` or `other` regardless).
pub fn parse_tags<'a>(tags: impl IntoIterator<Item = &'a str>) -> (SigmaTags, Vec<String>) {
    let mut out = SigmaTags::default();
    let mut problems = Vec::new();
    for raw in tags {
        let tag = raw.trim();
        let lower = tag.to_ascii_lowercase();
        if let Some(rest) = lower.strip_prefix("attack.") {
            if let Some(t) = normalize_technique(rest) {
                push_unique(&mut out.techniques, t);
            } else if let Some(id) = attack_object_id(rest, b'g') {
                push_unique(&mut out.groups, id);
            } else if let Some(id) = attack_object_id(rest, b's') {
                push_unique(&mut out.software, id);
            } else if !rest.is_empty()
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'-')
            {
                let tactic = rest.replace('_', "-");
                if !KNOWN_TACTICS.contains(&tactic.as_str()) {
                    problems.push(format!(
                        "tag `{tag}`: unknown ATT&CK tactic `{tactic}` (kept)"
                    ));
                }
                push_unique(&mut out.tactics, tactic);
            } else {
                problems.push(format!(
                    "tag `{tag}`: not an ATT&CK technique (tNNNN[.NNN]), group (gNNNN), software (sNNNN) or tactic"
                ));
                push_unique(&mut out.other, tag.to_string());
            }
        } else if let Some(rest) = lower.strip_prefix("cve.") {
            push_unique(&mut out.cves, format!("CVE-{}", rest.to_ascii_uppercase()));
        } else if !tag.is_empty() {
            push_unique(&mut out.other, tag.to_string());
        }
    }
    (out, problems)
}

/// `g0016` → `G0016` when `rest` is the letter `kind` and four digits.
fn attack_object_id(rest: &str, kind: u8) -> Option<String> {
    let b = rest.as_bytes();
    (b.len() == 5 && b[0] == kind && b[1..].iter().all(u8::is_ascii_digit))
        .then(|| rest.to_ascii_uppercase())
}

/// Reads one Sigma file: every rule document in it (collections merged), plus diagnostics.
pub fn read_sigma(input: Input<'_>, root: &str) -> (Vec<SigmaRecord>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let text = match input_text(&input) {
        Ok(t) => t,
        Err(d) => return (Vec::new(), vec![d]),
    };
    if let Err(d) = check_yaml_shape(&input, text) {
        return (Vec::new(), vec![d]);
    }
    let hash = sha256_hex(input.bytes);
    let docs: Vec<SigmaDoc> = if is_multi_document(text) {
        match merge_collection(&input, text, &mut diags) {
            Some(docs) => docs,
            None => return (Vec::new(), diags),
        }
    } else {
        match yaml_serde::from_str::<Option<SigmaDoc>>(text) {
            Ok(Some(doc)) => vec![doc],
            Ok(None) => {
                diags.push(Diagnostic::error(
                    input.path,
                    None,
                    "empty YAML document: no Sigma rule",
                ));
                return (Vec::new(), diags);
            }
            Err(e) => {
                diags.push(yaml_error(input.path, &e));
                return (Vec::new(), diags);
            }
        }
    };
    let deprecated = input
        .path
        .split(['/', '\\'])
        .any(|seg| seg.eq_ignore_ascii_case("deprecated"));
    let records = docs
        .into_iter()
        .filter_map(|doc| to_record(doc, &input, root, &hash, deprecated, &mut diags))
        .collect();
    (records, diags)
}

/// Whether `text` holds more than one YAML document: a `---` line after the first content line.
fn is_multi_document(text: &str) -> bool {
    let body = text.trim_start();
    let body = body.strip_prefix("---").unwrap_or(body);
    body.match_indices("\n---").any(|(i, _)| {
        let after = &body[i + 4..];
        after.is_empty() || after.starts_with(['\n', '\r', ' ', '\t'])
    })
}

/// Applies the Sigma collection actions: `global` is merged under every later document, `reset`
/// forgets it, `repeat` merges this document onto the previous one.
fn merge_collection(
    input: &Input<'_>,
    text: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<Vec<SigmaDoc>> {
    let mut global: Option<yaml_serde::Value> = None;
    let mut previous: Option<yaml_serde::Value> = None;
    let mut out = Vec::new();
    for (index, doc) in yaml_serde::Deserializer::from_str(text).enumerate() {
        let value = match yaml_serde::Value::deserialize(doc) {
            Ok(v) => v,
            Err(e) => {
                diags.push(yaml_error(input.path, &e));
                return None;
            }
        };
        if value.is_null() {
            continue;
        }
        let action = value
            .get("action")
            .and_then(yaml_serde::Value::as_str)
            .map(str::to_ascii_lowercase);
        let merged = match action.as_deref() {
            Some("global") => {
                let mut g = value;
                remove_key(&mut g, "action");
                global = Some(g);
                continue;
            }
            Some("reset") => {
                global = None;
                continue;
            }
            Some("repeat") => {
                let Some(prev) = previous.clone() else {
                    diags.push(Diagnostic::error(
                        input.path,
                        None,
                        format!(
                            "document {}: `action: repeat` with no previous rule document",
                            index + 1
                        ),
                    ));
                    continue;
                };
                let mut v = value;
                remove_key(&mut v, "action");
                merge(prev, v)
            }
            Some(other) => {
                diags.push(Diagnostic::error(
                    input.path,
                    None,
                    format!(
                        "document {}: unknown collection action `{other}`; skipped",
                        index + 1
                    ),
                ));
                continue;
            }
            None => match &global {
                Some(g) => merge(g.clone(), value),
                None => value,
            },
        };
        previous = Some(merged.clone());
        match yaml_serde::from_value::<SigmaDoc>(merged) {
            Ok(doc) => out.push(doc),
            Err(e) => diags.push(Diagnostic::error(
                input.path,
                None,
                format!("document {}: {e}", index + 1),
            )),
        }
    }
    Some(out)
}

fn remove_key(value: &mut yaml_serde::Value, key: &str) {
    if let yaml_serde::Value::Mapping(m) = value {
        m.remove(key);
    }
}

/// Deep merge: mappings merge key by key, anything else in `over` replaces `base`.
fn merge(base: yaml_serde::Value, over: yaml_serde::Value) -> yaml_serde::Value {
    match (base, over) {
        (yaml_serde::Value::Mapping(mut b), yaml_serde::Value::Mapping(o)) => {
            for (k, v) in o {
                let merged = match b.remove(&k) {
                    Some(old) => merge(old, v),
                    None => v,
                };
                b.insert(k, merged);
            }
            yaml_serde::Value::Mapping(b)
        }
        (_, o) => o,
    }
}

fn to_record(
    doc: SigmaDoc,
    input: &Input<'_>,
    root: &str,
    hash: &str,
    deprecated: bool,
    diags: &mut Vec<Diagnostic>,
) -> Option<SigmaRecord> {
    let path = input.path;
    // Rule repositories hold other YAML beside rules (SigmaHQ's regression_data `info.yml`,
    // CI configs): a document with no detection, log source or correlation is not a rule.
    if doc.detection.is_none() && doc.logsource.is_none() && doc.correlation.is_none() {
        diags.push(Diagnostic::warning(
            path,
            None,
            "not a Sigma rule (no `detection`, `logsource` or `correlation`); skipped",
        ));
        return None;
    }
    let Some(id) = doc
        .id
        .map(|t| t.0.trim().to_string())
        .filter(|s| !s.is_empty())
    else {
        diags.push(Diagnostic::error(
            path,
            None,
            "Sigma rule without `id`; skipped",
        ));
        return None;
    };
    let title = match doc.title {
        Some(t) if !t.0.trim().is_empty() => t.0.trim().to_string(),
        _ => {
            diags.push(Diagnostic::warning(
                path,
                None,
                format!("rule {id} has no `title`; its id is used"),
            ));
            id.clone()
        }
    };
    let origin = Origin {
        format: RuleFormat::Sigma,
        path: path.to_string(),
        root: root.to_string(),
    };
    let mut rule = Rule::new(id.clone(), title, origin);
    let tag_list: Vec<String> = doc
        .tags
        .unwrap_or_default()
        .into_iter()
        .map(|t| t.0)
        .collect();
    let (tags, problems) = parse_tags(tag_list.iter().map(String::as_str));
    for p in problems {
        diags.push(Diagnostic::warning(path, None, format!("rule {id}: {p}")));
    }
    rule.techniques = tags.techniques.clone();
    rule.tactics = tags.tactics.clone();
    rule.severity = doc.level.map(|t| t.0);
    rule.maturity = if deprecated {
        Some("deprecated".to_string())
    } else {
        doc.status.map(|t| t.0)
    };
    rule.created = doc
        .date
        .map(|t| normalize_date(&t.0, &id, "date", path, diags));
    rule.modified = doc
        .modified
        .map(|t| normalize_date(&t.0, &id, "modified", path, diags));
    for sim in doc.simulation.unwrap_or_default() {
        if let Some(guid) = sim.atomic_guid {
            push_unique(&mut rule.tests, guid.0.trim().to_ascii_lowercase());
        }
    }
    let logsource = doc.logsource.unwrap_or_default();
    let event_ids = doc.detection.map(|d| d.0).unwrap_or_default();
    rule.dependencies = infer_dependencies(
        logsource.category.as_ref().map(|t| t.0.as_str()),
        logsource.product.as_ref().map(|t| t.0.as_str()),
        logsource.service.as_ref().map(|t| t.0.as_str()),
        &event_ids,
    );
    rule.content_hash = hash.to_string();
    let related = doc
        .related
        .unwrap_or_default()
        .into_iter()
        .filter_map(|r| Some((r.id?.0, r.r#type.map(|t| t.0).unwrap_or_default())))
        .collect();
    Some(SigmaRecord {
        rule,
        tags,
        related,
        logsource: [
            logsource.category.map(|t| t.0),
            logsource.product.map(|t| t.0),
            logsource.service.map(|t| t.0),
        ],
    })
}

/// `2023/01/31` and `2023-01-31` → `2023-01-31`; anything else is kept as written, with a warning.
fn normalize_date(
    raw: &str,
    id: &str,
    field: &str,
    path: &str,
    diags: &mut Vec<Diagnostic>,
) -> String {
    let s = raw.trim();
    if let Some(iso) = crate::import::normalize_date(s).filter(|_| s.len() == 10) {
        iso
    } else {
        diags.push(Diagnostic::warning(
            path,
            None,
            format!(
                "rule {id}: `{field}: {s}` is not a YYYY-MM-DD or YYYY/MM/DD date; kept as written"
            ),
        ));
        s.to_string()
    }
}

/// The dependencies the mapping tables of [`spec`] give a logsource, sorted and without
/// duplicates. `event_ids` are the values of `EventID` fields in the rule's detection.
pub(crate) fn infer_dependencies(
    category: Option<&str>,
    product: Option<&str>,
    service: Option<&str>,
    event_ids: &[String],
) -> Vec<RuleDependency> {
    let eq = |a: Option<&str>, b: Option<&str>| match (a, b) {
        (None, _) => true,
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b.trim()),
        (Some(_), None) => false,
    };
    let mut deps: Vec<Dependency> = Vec::new();
    if let Some(category) = category {
        // The most specific row wins: one restricted to this product, else the generic one.
        let row = spec::CATEGORIES
            .iter()
            .filter(|m| m.category.eq_ignore_ascii_case(category.trim()) && eq(m.product, product))
            .max_by_key(|m| m.product.is_some());
        if let Some(row) = row {
            for c in row.components {
                deps.push(Dependency::Component((*c).to_string()));
            }
        }
    }
    if let Some(service) = service {
        let row = spec::SERVICES
            .iter()
            .find(|m| m.service.eq_ignore_ascii_case(service.trim()) && eq(m.product, product));
        if let Some(row) = row {
            let ids: Vec<u32> = event_ids
                .iter()
                .filter_map(|e| e.trim().parse().ok())
                .collect();
            if ids.is_empty() || row.events.is_empty() {
                deps.push(Dependency::LogSource(LogSourceRef {
                    name: row.log_source.to_string(),
                    channel: None,
                }));
                for c in row.components {
                    deps.push(Dependency::Component((*c).to_string()));
                }
            } else {
                let mut known = false;
                for id in &ids {
                    deps.push(Dependency::LogSource(LogSourceRef {
                        name: row.log_source.to_string(),
                        channel: Some(format!("EventCode={id}")),
                    }));
                    if let Some((_, comps)) = row.events.iter().find(|(e, _)| e == id) {
                        known = true;
                        for c in *comps {
                            deps.push(Dependency::Component((*c).to_string()));
                        }
                    }
                }
                if !known {
                    for c in row.components {
                        deps.push(Dependency::Component((*c).to_string()));
                    }
                }
            }
        }
    }
    deps.sort();
    deps.dedup();
    deps.into_iter()
        .map(|dependency| RuleDependency {
            dependency,
            origin: DependencyOrigin::Inferred,
        })
        .collect()
}

// ---- the typed view of a Sigma document: only the fields the registry needs ----

#[derive(Deserialize)]
struct SigmaDoc {
    title: Option<Text>,
    id: Option<Text>,
    status: Option<Text>,
    level: Option<Text>,
    tags: Option<Vec<Text>>,
    logsource: Option<LogSourceDoc>,
    related: Option<Vec<RelatedDoc>>,
    simulation: Option<Vec<SimulationDoc>>,
    date: Option<Text>,
    modified: Option<Text>,
    detection: Option<EventIds>,
    correlation: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize, Default)]
struct LogSourceDoc {
    category: Option<Text>,
    product: Option<Text>,
    service: Option<Text>,
}

#[derive(Deserialize)]
struct RelatedDoc {
    id: Option<Text>,
    r#type: Option<Text>,
}

#[derive(Deserialize)]
struct SimulationDoc {
    atomic_guid: Option<Text>,
}

/// Any YAML scalar as text: Sigma files write ids, dates and levels unquoted, and YAML may read
/// them as numbers or booleans.
struct Text(String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
        d.deserialize_any(TextVisitor)
    }
}

struct TextVisitor;

impl Visitor<'_> for TextVisitor {
    type Value = Text;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, number or boolean")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
        Ok(Text(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Text, E> {
        Ok(Text(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
        Ok(Text(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
        Ok(Text(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
        Ok(Text(v.to_string()))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Text, E> {
        Ok(Text(v.to_string()))
    }
}

/// The values of every `EventID` field (also `EventID|<modifier>`) anywhere in a detection,
/// found without building the detection's tree: everything else is skipped as it is parsed.
#[derive(Default)]
struct EventIds(Vec<String>);

impl<'de> Deserialize<'de> for EventIds {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<EventIds, D::Error> {
        d.deserialize_any(EventIdsVisitor)
    }
}

struct EventIdsVisitor;

impl<'de> Visitor<'de> for EventIdsVisitor {
    type Value = EventIds;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Sigma detection")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EventIds, A::Error> {
        let mut out = Vec::new();
        while let Some(key) = map.next_key::<Key>()? {
            let is_event_id = key.0.as_deref().is_some_and(|k| {
                k == "EventID"
                    || k.strip_prefix("EventID")
                        .is_some_and(|r| r.starts_with('|'))
            });
            if is_event_id {
                out.extend(map.next_value::<Scalars>()?.0);
            } else {
                out.extend(map.next_value::<EventIds>()?.0);
            }
        }
        Ok(EventIds(out))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<EventIds, A::Error> {
        let mut out = Vec::new();
        while let Some(item) = seq.next_element::<EventIds>()? {
            out.extend(item.0);
        }
        Ok(EventIds(out))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<EventIds, E> {
        Ok(EventIds::default())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<EventIds, E> {
        Ok(EventIds::default())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<EventIds, E> {
        Ok(EventIds::default())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<EventIds, E> {
        Ok(EventIds::default())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<EventIds, E> {
        Ok(EventIds::default())
    }
    fn visit_unit<E: de::Error>(self) -> Result<EventIds, E> {
        Ok(EventIds::default())
    }
    fn visit_none<E: de::Error>(self) -> Result<EventIds, E> {
        Ok(EventIds::default())
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<EventIds, D::Error> {
        d.deserialize_any(self)
    }
}

/// A map key: its text when it is a scalar, `None` for complex keys (skipped).
struct Key(Option<String>);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Key, D::Error> {
        d.deserialize_any(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        Ok(Key(Some(v.to_string())))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Key, E> {
        Ok(Key(None))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Key, E> {
        Ok(Key(None))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Key, E> {
        Ok(Key(None))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Key, E> {
        Ok(Key(None))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Key, E> {
        Ok(Key(None))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Key, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Key(None))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Key, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Key(None))
    }
}

/// A scalar or a list of scalars, as text; nested structures are skipped.
struct Scalars(Vec<String>);

impl<'de> Deserialize<'de> for Scalars {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Scalars, D::Error> {
        d.deserialize_any(ScalarsVisitor)
    }
}

struct ScalarsVisitor;

impl<'de> Visitor<'de> for ScalarsVisitor {
    type Value = Scalars;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an event id or a list of them")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalars, E> {
        Ok(Scalars(vec![v.to_string()]))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalars, E> {
        Ok(Scalars(vec![v.to_string()]))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalars, E> {
        Ok(Scalars(vec![v.to_string()]))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Scalars, E> {
        Ok(Scalars(Vec::new()))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Scalars, E> {
        Ok(Scalars(Vec::new()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Scalars, E> {
        Ok(Scalars(Vec::new()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalars, A::Error> {
        let mut out = Vec::new();
        while let Some(item) = seq.next_element::<Scalars>()? {
            out.extend(item.0);
        }
        Ok(Scalars(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalars, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalars(Vec::new()))
    }
}
