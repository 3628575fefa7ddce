//! SOAR enrichment: an alert (rule id or name, technique ids, raw tags) in, everything an analyst
//! needs about each technique out — from in-memory indexes only.
//!
//! The knowledge-base half of an answer never changes while the server runs, so it is built
//! once per technique at start ([`EnrichIndex`]); a request only resolves its techniques,
//! filters analytics by platform, adds the coverage from the current snapshot and the runbooks
//! from the runbook library.
//!
//! With a profile, procedure examples, groups and software come with the profile's actors
//! first, each entry marked `in_profile`. That reordered JSON is made once per (profile,
//! technique) and snapshot ([`ProfileMarks`], kept in the snapshot's [`CoverageCache`]):
//! profiles only change with the journal, and a new journal head means a new snapshot.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use attest_attack::{KnowledgeBase, ObjectRef, TechniqueId};
use attest_core::coverage::{Catalog, CatalogGroup, UseVia};
use attest_core::priority::{UnknownProfile, question_scope};
use attest_core::rule::RuleId;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::runbooks::{RunbookLibrary, RunbookMatch};
use crate::state::Snapshot;
use crate::views::CoverageView;

/// A named ATT&CK object.
#[derive(Debug, Clone, Serialize)]
pub struct NamedRef {
    /// ATT&CK id (`G0016`, `S0002`, `T1003`).
    pub id: String,
    /// Name.
    pub name: String,
}

/// A procedure example: who uses the technique, and how.
#[derive(Debug, Clone, Serialize)]
pub struct ProcedureInfo {
    /// `group`, `software` or `campaign`.
    pub kind: &'static str,
    /// ATT&CK id.
    pub id: String,
    /// Name.
    pub name: String,
    /// The procedure text of the `uses` relationship.
    pub description: Option<String>,
}

/// A mitigation with the text of its `mitigates` relationship.
#[derive(Debug, Clone, Serialize)]
pub struct MitigationInfo {
    /// ATT&CK id.
    pub id: String,
    /// Name.
    pub name: String,
    /// How it mitigates this technique.
    pub description: Option<String>,
}

/// A log source an analytic reads.
#[derive(Debug, Clone, Serialize)]
pub struct LogSourceInfo {
    /// The data component (by name when resolvable).
    pub data_component: String,
    /// Log source name.
    pub name: String,
    /// Channel.
    pub channel: Option<String>,
}

/// An analytic.
#[derive(Debug, Clone, Serialize)]
pub struct AnalyticInfo {
    /// ATT&CK id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Platforms.
    pub platforms: Vec<String>,
    /// What it reads.
    pub log_sources: Vec<LogSourceInfo>,
}

/// A detection strategy with all its analytics (filtered per request by platform).
#[derive(Debug, Clone)]
pub struct StrategyInfo {
    /// ATT&CK id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Analytics.
    pub analytics: Vec<AnalyticInfo>,
}

/// The knowledge-base half of an enrichment answer for one technique.
#[derive(Debug, Clone, Serialize)]
pub struct TechniqueInfo {
    /// Technique id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Description (Markdown, as ATT&CK writes it).
    pub description: String,
    /// ATT&CK page.
    pub url: Option<String>,
    /// Tactic short names.
    pub tactics: Vec<String>,
    /// Platforms.
    pub platforms: Vec<String>,
    /// Parent technique of a sub-technique.
    pub parent: Option<String>,
    /// Detection strategies; serialized per request, filtered by platform.
    #[serde(skip)]
    pub strategies: Vec<StrategyInfo>,
    /// Procedure examples.
    pub procedures: Vec<ProcedureInfo>,
    /// Groups using it directly.
    pub groups: Vec<NamedRef>,
    /// Software using it.
    pub software: Vec<NamedRef>,
    /// Mitigations.
    pub mitigations: Vec<MitigationInfo>,
    /// Other techniques of the same tactics (parents and siblings; the technique itself left out).
    pub related: Vec<NamedRef>,
}

/// Per-technique knowledge, built once from the knowledge base.
#[derive(Debug, Default)]
pub struct EnrichIndex {
    /// Each technique's facts, with their JSON serialized once (most of an answer's bytes are
    /// procedure texts that never change).
    techniques: HashMap<TechniqueId, (TechniqueInfo, JsonChunk)>,
    /// Revoked id → current id.
    remap: HashMap<TechniqueId, TechniqueId>,
    /// Each technique's detection strategies as JSON: for every platform (no platform asked)
    /// and for each platform its analytics name, made at start — a few per technique.
    detections: HashMap<TechniqueId, Detections>,
}

/// A technique's detection strategies JSON, whole and per platform.
#[derive(Debug)]
struct Detections {
    all: JsonChunk,
    /// Platform as the analytics spell it → the strategies with their analytics for it.
    by_platform: Vec<(String, JsonChunk)>,
}

impl Detections {
    fn of(info: &TechniqueInfo) -> Result<Detections, serde_json::Error> {
        let mut platforms: Vec<&String> = info
            .strategies
            .iter()
            .flat_map(|s| &s.analytics)
            .flat_map(|a| &a.platforms)
            .collect();
        platforms.sort();
        platforms.dedup();
        let mut by_platform = Vec::with_capacity(platforms.len());
        for p in platforms {
            by_platform.push((p.clone(), JsonChunk::of(&strategy_views(info, Some(p)))?));
        }
        Ok(Detections {
            all: JsonChunk::of(&strategy_views(info, None))?,
            by_platform,
        })
    }
}

fn attack_id(o: &attest_attack::Meta) -> String {
    o.attack_id.clone().unwrap_or_else(|| o.stix_id.clone())
}

impl EnrichIndex {
    /// Builds the index of every active technique.
    pub fn build(kb: &KnowledgeBase) -> EnrichIndex {
        let mut index = EnrichIndex::default();
        for t in kb.techniques() {
            if !t.meta.is_active() {
                if let Some(current) = kb.resolve_technique(t.id).current() {
                    index.remap.insert(t.id, current.id);
                }
                continue;
            }
            let info = technique_info(kb, t);
            match JsonChunk::of(&info).and_then(|json| Ok((json, Detections::of(&info)?))) {
                Ok((json, detections)) => {
                    index.detections.insert(t.id, detections);
                    index.techniques.insert(t.id, (info, json));
                }
                Err(error) => tracing::warn!(id = %t.id, %error, "technique not indexed"),
            }
        }
        index
    }

    /// The knowledge about a technique (revoked ids followed), with the id it resolved to.
    pub fn get(&self, id: TechniqueId) -> Option<&TechniqueInfo> {
        self.entry(id).map(|(info, _)| info)
    }

    fn entry(&self, id: TechniqueId) -> Option<(&TechniqueInfo, &JsonChunk)> {
        let id = self.remap.get(&id).copied().unwrap_or(id);
        self.techniques.get(&id).map(|(i, j)| (i, j))
    }

    /// The detection strategies of technique `id` with the analytics for `platform` (every
    /// strategy with all its analytics when none is given); `[]` for a platform none of its
    /// analytics names.
    fn detections(&self, id: TechniqueId, platform: Option<&str>) -> JsonChunk {
        let empty = || JsonChunk(Bytes::from_static(b"[]"));
        let Some(d) = self.detections.get(&id) else {
            return empty();
        };
        match platform {
            None => d.all.clone(),
            Some(p) => d
                .by_platform
                .iter()
                .find(|(known, _)| known.eq_ignore_ascii_case(p))
                .map_or_else(empty, |(_, json)| json.clone()),
        }
    }

    /// Number of techniques indexed.
    pub fn len(&self) -> usize {
        self.techniques.len()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.techniques.is_empty()
    }
}

fn technique_info(kb: &KnowledgeBase, t: &attest_attack::Technique) -> TechniqueInfo {
    let component_name = |r: &str| match kb.by_stix_id(r) {
        Some(o) => o.meta().name.clone(),
        None => r.to_string(),
    };
    let strategies = kb
        .detection_strategies_of(t)
        .into_iter()
        .map(|s| StrategyInfo {
            id: attack_id(&s.meta),
            name: s.meta.name.clone(),
            analytics: kb
                .analytics_of(s)
                .into_iter()
                .map(|a| AnalyticInfo {
                    id: attack_id(&a.meta),
                    name: a.meta.name.clone(),
                    platforms: a.platforms.clone(),
                    log_sources: a
                        .log_source_references
                        .iter()
                        .map(|l| LogSourceInfo {
                            data_component: component_name(&l.data_component),
                            name: l.name.clone(),
                            channel: l.channel.clone(),
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect();
    let mut procedures = Vec::new();
    let mut groups = Vec::new();
    let mut software = Vec::new();
    for p in kb.technique_users(t) {
        let meta = p.user.meta();
        let named = NamedRef {
            id: attack_id(meta),
            name: meta.name.clone(),
        };
        match p.user {
            ObjectRef::Group(_) => groups.push(named.clone()),
            ObjectRef::Software(_) => software.push(named.clone()),
            _ => {}
        }
        procedures.push(ProcedureInfo {
            kind: p.user.kind_label(),
            id: named.id,
            name: named.name,
            description: p.description.map(str::to_string),
        });
    }
    let mitigations = kb
        .mitigations_of(t)
        .into_iter()
        .map(|(m, d)| MitigationInfo {
            id: attack_id(&m.meta),
            name: m.meta.name.clone(),
            description: d.map(str::to_string),
        })
        .collect();
    let mut related: Vec<NamedRef> = Vec::new();
    for tactic in kb.tactics() {
        if !t.tactics.contains(&tactic.shortname) || !tactic.meta.is_active() {
            continue;
        }
        for other in kb.techniques_of_tactic(tactic) {
            // Parents and this technique's siblings: every sub-technique of a large tactic
            // would drown the list.
            let relevant = other.id != t.id
                && (!other.is_subtechnique || other.id.parent() == t.id.parent().or(Some(t.id)));
            if relevant && !related.iter().any(|r| r.id == other.id.to_string()) {
                related.push(NamedRef {
                    id: other.id.to_string(),
                    name: other.meta.name.clone(),
                });
            }
        }
    }
    TechniqueInfo {
        id: t.id.to_string(),
        name: t.meta.name.clone(),
        description: t.meta.description.clone(),
        url: t.meta.url.clone(),
        tactics: t.tactics.clone(),
        platforms: t.platforms.clone(),
        parent: t.id.parent().map(|p| p.to_string()),
        strategies,
        procedures,
        groups,
        software,
        mitigations,
        related,
    }
}

/// An alert as a SOAR sends it: any subset of the fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct EnrichRequest {
    /// A rule id from any imported origin.
    pub rule_id: Option<String>,
    /// A rule title (case-insensitive).
    pub rule_name: Option<String>,
    /// Technique ids.
    pub techniques: Vec<String>,
    /// Raw tags such as `attack.t1003.001` (tactic tags are ignored).
    pub tags: Vec<String>,
    /// The alert's platform: analytics are filtered to it.
    pub platform: Option<String>,
    /// A profile name: procedures, groups and software of its actors come first, marked
    /// `in_profile`, and each technique says whether it is in the profile's target set.
    pub profile: Option<String>,
}

/// The detection strategies of a technique with the analytics for `platform` (all when none is
/// given); with a platform, strategies without an analytic for it are left out.
fn strategy_views<'a>(info: &'a TechniqueInfo, platform: Option<&str>) -> Vec<StrategyView<'a>> {
    info.strategies
        .iter()
        .filter_map(|s| {
            let analytics: Vec<&AnalyticInfo> = s
                .analytics
                .iter()
                .filter(|a| {
                    platform.is_none_or(|p| a.platforms.iter().any(|x| x.eq_ignore_ascii_case(p)))
                })
                .collect();
            (platform.is_none() || !analytics.is_empty()).then_some(StrategyView {
                id: &s.id,
                name: &s.name,
                analytics,
            })
        })
        .collect()
}

/// A detection strategy with the analytics for the requested platform.
#[derive(Debug, Serialize)]
pub struct StrategyView<'a> {
    /// ATT&CK id.
    pub id: &'a str,
    /// Name.
    pub name: &'a str,
    /// Analytics for the platform (all when no platform was given).
    pub analytics: Vec<&'a AnalyticInfo>,
}

/// One technique of an enrichment answer.
#[derive(Debug, Serialize)]
pub struct EnrichedTechnique<'a> {
    /// The knowledge-base facts.
    #[serde(skip)]
    pub info: &'a TechniqueInfo,
    /// The same facts as JSON, serialized once at start (with a profile: reordered and marked,
    /// once per snapshot).
    pub technique: JsonChunk,
    /// The id as the alert named it, when it was revoked and remapped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested_as: Option<String>,
    /// Detection strategies and analytics for the platform, as JSON made once per platform.
    pub detection_strategies: JsonChunk,
    /// Our coverage (shared by every answer from the same snapshot).
    pub coverage: CoverageRef<'a>,
    /// Runbooks for it (or its parent), for the alert's platform.
    pub runbooks: Vec<RunbookMatch<'a>>,
    /// How it stands in the requested profile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<ProfileStanding>,
}

/// JSON serialized once and shared: an answer writes it out without copying it (the bytes go
/// to the socket as they are, see [`EnrichResponse::segments`]).
#[derive(Debug, Clone)]
pub struct JsonChunk(Bytes);

impl JsonChunk {
    /// The JSON of `value`.
    pub fn of<T: Serialize>(value: &T) -> Result<JsonChunk, serde_json::Error> {
        serde_json::to_vec(value).map(|v| JsonChunk(Bytes::from(v)))
    }

    /// `null`.
    pub fn null() -> JsonChunk {
        JsonChunk(Bytes::from_static(b"null"))
    }

    /// The JSON text.
    pub fn get(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("null")
    }

    /// Its length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether it is empty (never, for JSON made by [`JsonChunk::of`]).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The bytes, shared.
    pub fn bytes(&self) -> Bytes {
        self.0.clone()
    }
}

impl Serialize for JsonChunk {
    /// Embeds the stored JSON as it is (for answers serialized whole, off the hot path).
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let raw: &RawValue = serde_json::from_slice(&self.0).map_err(serde::ser::Error::custom)?;
        raw.serialize(serializer)
    }
}

/// How a technique stands in the requested profile.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileStanding {
    /// The profile.
    pub name: String,
    /// Whether the technique is in its target set.
    pub in_target_set: bool,
    /// Priority score there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// Tier there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    /// 1-based rank in the target set (highest score first).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rank: Option<usize>,
    /// The profile's actors that use it (ATT&CK group ids or intel actor ids).
    pub actors: Vec<String>,
}

/// A profile as enrichment uses it: its actors (ATT&CK groups, and intel actors matched to
/// groups by name or alias), the software and campaigns of those groups, its target set, and
/// the reordered technique JSON made so far.
#[derive(Debug)]
pub struct ProfileMarks {
    name: String,
    groups: HashSet<String>,
    software: HashSet<String>,
    campaigns: HashSet<String>,
    standing: HashMap<TechniqueId, ProfileStanding>,
    json: RwLock<HashMap<TechniqueId, JsonChunk>>,
}

impl ProfileMarks {
    /// Resolves the profile `name` of the snapshot's state the way target sets do: an intel
    /// actor id, else an ATT&CK group id, name or alias, else an intel actor name or alias.
    fn build(
        catalog: &Catalog,
        snapshot: &Snapshot,
        name: &str,
    ) -> Result<ProfileMarks, UnknownProfile> {
        let state = &snapshot.state;
        let (target, _) = question_scope(catalog, state, Some(name), None, None)?;
        let Some(profile) = state.profiles.get(name) else {
            return Err(UnknownProfile {
                name: name.to_string(),
                known: state.profiles.keys().cloned().collect(),
            });
        };
        let mut groups: Vec<&CatalogGroup> = Vec::new();
        for pa in &profile.actors {
            let q = pa.actor.trim();
            let intel_by_id = state.actors.values().find(|a| a.id.eq_ignore_ascii_case(q));
            if intel_by_id.is_none()
                && let Some(g) = catalog.group(q)
            {
                groups.push(g);
                continue;
            }
            let intel = intel_by_id.or_else(|| {
                state.actors.values().find(|a| {
                    a.name.eq_ignore_ascii_case(q)
                        || a.aliases.iter().any(|x| x.eq_ignore_ascii_case(q))
                })
            });
            // An intel actor that ATT&CK knows under one of its names brings that group's
            // procedures forward too.
            if let Some(a) = intel
                && let Some(g) = std::iter::once(&a.name)
                    .chain(&a.aliases)
                    .find_map(|n| catalog.group(n))
            {
                groups.push(g);
            }
        }
        let mut marks = ProfileMarks {
            name: name.to_string(),
            groups: HashSet::new(),
            software: HashSet::new(),
            campaigns: HashSet::new(),
            standing: HashMap::new(),
            json: RwLock::default(),
        };
        for g in groups {
            marks.groups.insert(g.id.clone());
            for (_, via) in &g.uses {
                match via {
                    UseVia::Direct => {}
                    UseVia::Software(s) => {
                        marks.software.insert(s.clone());
                    }
                    UseVia::Campaign(c) => {
                        marks.campaigns.insert(c.clone());
                    }
                }
            }
        }
        if let Some(target) = target {
            for (i, t) in target.techniques.iter().enumerate() {
                marks.standing.insert(
                    t.technique,
                    ProfileStanding {
                        name: name.to_string(),
                        in_target_set: true,
                        score: Some(t.score),
                        tier: Some(t.tier.clone()),
                        rank: Some(i + 1),
                        actors: t.actors.iter().map(|a| a.actor.clone()).collect(),
                    },
                );
            }
        }
        Ok(marks)
    }

    /// How `id` stands in the profile.
    fn standing(&self, id: TechniqueId) -> ProfileStanding {
        self.standing
            .get(&id)
            .cloned()
            .unwrap_or_else(|| ProfileStanding {
                name: self.name.clone(),
                in_target_set: false,
                score: None,
                tier: None,
                rank: None,
                actors: Vec::new(),
            })
    }

    fn procedure_in(&self, p: &ProcedureInfo) -> bool {
        match p.kind {
            "group" => self.groups.contains(&p.id),
            "software" => self.software.contains(&p.name),
            "campaign" => self.campaigns.contains(&p.name),
            _ => false,
        }
    }

    /// The technique's JSON with the profile's entries first and marked, made once.
    fn technique_json(&self, id: TechniqueId, info: &TechniqueInfo) -> JsonChunk {
        if let Some(hit) = self.json.read().ok().and_then(|m| m.get(&id).cloned()) {
            return hit;
        }
        let procedures = marked(&info.procedures, |p| self.procedure_in(p));
        let groups = marked(&info.groups, |g| self.groups.contains(&g.id));
        let software = marked(&info.software, |s| self.software.contains(&s.name));
        let view = TechniqueInProfile {
            id: &info.id,
            name: &info.name,
            description: &info.description,
            url: &info.url,
            tactics: &info.tactics,
            platforms: &info.platforms,
            parent: &info.parent,
            procedures,
            groups,
            software,
            mitigations: &info.mitigations,
            related: &info.related,
        };
        let json = JsonChunk::of(&view).unwrap_or_else(|error| {
            tracing::warn!(%id, %error, "technique not serializable for a profile");
            JsonChunk::null()
        });
        if let Ok(mut m) = self.json.write() {
            m.entry(id).or_insert_with(|| json.clone());
        }
        json
    }
}

/// An entry of a list, marked whether it belongs to the profile.
#[derive(Debug, Serialize)]
struct Marked<'a, T> {
    #[serde(flatten)]
    item: &'a T,
    in_profile: bool,
}

/// The profile's entries first (in their order), then the rest (in theirs).
fn marked<T>(items: &[T], in_profile: impl Fn(&T) -> bool) -> Vec<Marked<'_, T>> {
    let (mut first, rest): (Vec<_>, Vec<_>) = items
        .iter()
        .map(|item| Marked {
            item,
            in_profile: in_profile(item),
        })
        .partition(|m| m.in_profile);
    first.extend(rest);
    first
}

/// [`TechniqueInfo`]'s JSON shape with marked, reordered procedures, groups and software.
#[derive(Debug, Serialize)]
struct TechniqueInProfile<'a> {
    id: &'a str,
    name: &'a str,
    description: &'a str,
    url: &'a Option<String>,
    tactics: &'a [String],
    platforms: &'a [String],
    parent: &'a Option<String>,
    procedures: Vec<Marked<'a, ProcedureInfo>>,
    groups: Vec<Marked<'a, NamedRef>>,
    software: Vec<Marked<'a, NamedRef>>,
    mitigations: &'a [MitigationInfo],
    related: &'a [NamedRef],
}

/// A technique's coverage view with its JSON, made once per snapshot: it changes only when the
/// journal moves, while alerts about the same techniques keep coming.
#[derive(Debug)]
pub struct CachedCoverage {
    view: CoverageView,
    json: JsonChunk,
}

/// A [`CachedCoverage`] of the snapshot answering: reads as a [`CoverageView`], serializes as
/// its stored JSON.
#[derive(Debug, Clone, Copy)]
pub struct CoverageRef<'a>(&'a CachedCoverage);

impl std::ops::Deref for CoverageRef<'_> {
    type Target = CoverageView;
    fn deref(&self) -> &CoverageView {
        &self.0.view
    }
}

impl CoverageRef<'_> {
    /// Length of its JSON, to size an answer's buffer once.
    pub fn json_len(&self) -> usize {
        self.0.json.len()
    }
}

impl Serialize for CoverageRef<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.json.serialize(serializer)
    }
}

/// What enrichment makes once per [`Snapshot`] and keeps until the next one: coverage views by
/// technique and profiles' marks, filled on first use, so a new snapshot starts empty and
/// nothing is ever stale.
#[derive(Debug, Default)]
pub struct CoverageCache {
    /// One slot per technique of the catalog (by position), set once: reading a filled slot
    /// takes no lock and touches no reference count, which alerts arriving on every core at
    /// once would otherwise contend on.
    coverage: std::sync::OnceLock<Box<[std::sync::OnceLock<CachedCoverage>]>>,
    /// For a technique the catalog does not list (none in practice): its gap view.
    outside: std::sync::OnceLock<CachedCoverage>,
    profiles: RwLock<HashMap<String, Arc<ProfileMarks>>>,
}

impl CoverageCache {
    fn profile(
        &self,
        name: &str,
        make: impl FnOnce() -> Result<ProfileMarks, UnknownProfile>,
    ) -> Result<Arc<ProfileMarks>, UnknownProfile> {
        if let Some(hit) = self.profiles.read().ok().and_then(|m| m.get(name).cloned()) {
            return Ok(hit);
        }
        let made = Arc::new(make()?);
        if let Ok(mut m) = self.profiles.write() {
            return Ok(Arc::clone(
                m.entry(name.to_string()).or_insert_with(|| made.clone()),
            ));
        }
        Ok(made)
    }

    fn get(
        &self,
        catalog: &Catalog,
        id: TechniqueId,
        make: impl FnOnce() -> CoverageView,
    ) -> CoverageRef<'_> {
        let cached = |view: CoverageView| {
            let json = JsonChunk::of(&view).unwrap_or_else(|error| {
                tracing::warn!(%id, %error, "coverage view not serializable");
                JsonChunk::null()
            });
            CachedCoverage { view, json }
        };
        let slots = self.coverage.get_or_init(|| {
            (0..catalog.techniques().len())
                .map(|_| std::sync::OnceLock::new())
                .collect()
        });
        match catalog.position(id).and_then(|i| slots.get(i)) {
            Some(slot) => CoverageRef(slot.get_or_init(|| cached(make()))),
            None => CoverageRef(self.outside.get_or_init(|| cached(CoverageView::gap()))),
        }
    }
}

/// The enrichment answer.
#[derive(Debug, Serialize)]
pub struct EnrichResponse<'a> {
    /// Per technique, in the order the alert named them.
    pub techniques: Vec<EnrichedTechnique<'a>>,
    /// Rules the alert's rule id or name matched.
    pub matched_rules: Vec<String>,
    /// Ids, tags or rules that matched nothing.
    pub unknown: Vec<String>,
    /// The journal position the coverage reflects.
    pub coverage_seq: u64,
}

fn tag_technique(tag: &str) -> Option<TechniqueId> {
    let t = tag.trim();
    let rest = t
        .get(..7)
        .filter(|p| p.eq_ignore_ascii_case("attack."))
        .and_then(|_| t.get(7..))?;
    TechniqueId::parse(rest).ok()
}

impl EnrichResponse<'_> {
    /// The answer as JSON in pieces, byte for byte what serializing it whole gives: the
    /// knowledge-base facts and coverage of each technique are the stored chunks themselves,
    /// shared rather than copied, and only the small parts between them are written per
    /// request. Most of an answer (procedure texts) is thus never copied in user space; the
    /// pieces go to the socket in one vectored write.
    pub fn segments(&self) -> Result<Vec<Bytes>, serde_json::Error> {
        /// A piece of the answer: a range of the per-request text, or a stored chunk.
        enum Piece<'c> {
            Written(std::ops::Range<usize>),
            Stored(&'c JsonChunk),
        }
        // Every per-request piece goes into one small buffer, cut into ranges at the end: one
        // allocation for all of them. Small, because a request of 1 KiB or more makes glibc
        // consolidate its fast bins on every answer.
        let mut buf: Vec<u8> = Vec::with_capacity(256);
        let mut pieces: Vec<Piece<'_>> = Vec::with_capacity(self.techniques.len() * 6 + 1);
        let mut from = 0;
        fn stored<'c>(
            buf: &[u8],
            from: &mut usize,
            pieces: &mut Vec<Piece<'c>>,
            chunk: &'c JsonChunk,
        ) {
            if buf.len() > *from {
                pieces.push(Piece::Written(*from..buf.len()));
            }
            *from = buf.len();
            pieces.push(Piece::Stored(chunk));
        }
        buf.extend_from_slice(b"{\"techniques\":[");
        for (i, t) in self.techniques.iter().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            buf.extend_from_slice(b"{\"technique\":");
            stored(&buf, &mut from, &mut pieces, &t.technique);
            if let Some(requested) = &t.requested_as {
                buf.extend_from_slice(b",\"requested_as\":");
                serde_json::to_writer(&mut buf, requested)?;
            }
            buf.extend_from_slice(b",\"detection_strategies\":");
            stored(&buf, &mut from, &mut pieces, &t.detection_strategies);
            buf.extend_from_slice(b",\"coverage\":");
            stored(&buf, &mut from, &mut pieces, &t.coverage.0.json);
            buf.extend_from_slice(b",\"runbooks\":");
            serde_json::to_writer(&mut buf, &t.runbooks)?;
            if let Some(profile) = &t.profile {
                buf.extend_from_slice(b",\"profile\":");
                serde_json::to_writer(&mut buf, profile)?;
            }
            buf.push(b'}');
        }
        buf.extend_from_slice(b"],\"matched_rules\":");
        serde_json::to_writer(&mut buf, &self.matched_rules)?;
        buf.extend_from_slice(b",\"unknown\":");
        serde_json::to_writer(&mut buf, &self.unknown)?;
        buf.extend_from_slice(b",\"coverage_seq\":");
        serde_json::to_writer(&mut buf, &self.coverage_seq)?;
        buf.push(b'}');
        let end = buf.len();
        let written = Bytes::from(buf);
        let mut parts = Vec::with_capacity(pieces.len() + 1);
        for piece in pieces {
            parts.push(match piece {
                Piece::Written(range) => written.slice(range),
                Piece::Stored(chunk) => chunk.bytes(),
            });
        }
        if end > from {
            parts.push(written.slice(from..end));
        }
        Ok(parts)
    }
}

/// A response body made of shared pieces, sent without joining them (its length is known, so
/// the answer carries a `Content-Length`).
#[derive(Debug)]
pub struct SegmentedBody {
    parts: std::collections::VecDeque<Bytes>,
    remaining: u64,
}

impl SegmentedBody {
    /// The body of `parts`, in order.
    pub fn new(parts: Vec<Bytes>) -> SegmentedBody {
        let remaining = parts.iter().map(|p| p.len() as u64).sum();
        SegmentedBody {
            parts: parts.into(),
            remaining,
        }
    }
}

impl http_body::Body for SegmentedBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        let next = this.parts.pop_front().map(|part| {
            this.remaining = this.remaining.saturating_sub(part.len() as u64);
            Ok(http_body::Frame::data(part))
        });
        std::task::Poll::Ready(next)
    }

    fn is_end_stream(&self) -> bool {
        self.parts.is_empty()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.remaining)
    }
}

/// What an enrichment is answered from.
#[derive(Debug, Clone, Copy)]
pub struct EnrichSources<'a> {
    /// The knowledge-base facts.
    pub index: &'a EnrichIndex,
    /// The catalog (profiles' target sets).
    pub catalog: &'a Catalog,
    /// The state and coverage.
    pub snapshot: &'a Snapshot,
    /// The runbooks.
    pub runbooks: &'a RunbookLibrary,
}

impl crate::state::AppState {
    /// The sources of an enrichment: the index and catalog of the snapshot's release, with the
    /// snapshot and a runbook library the caller holds (`snapshot()`, `runbooks()`).
    pub fn enrich_sources<'a>(
        &'a self,
        snapshot: &'a Snapshot,
        runbooks: &'a RunbookLibrary,
    ) -> EnrichSources<'a> {
        EnrichSources {
            index: snapshot.enrich_index(),
            catalog: snapshot.catalog(),
            snapshot,
            runbooks,
        }
    }
}

/// Answers an enrichment request. Fails only for a profile the state does not hold.
pub fn enrich<'a>(
    sources: EnrichSources<'a>,
    req: &EnrichRequest,
) -> Result<EnrichResponse<'a>, UnknownProfile> {
    let EnrichSources {
        index,
        catalog,
        snapshot,
        runbooks,
    } = sources;
    let profile = match req.profile.as_deref().map(str::trim) {
        Some(name) if !name.is_empty() => Some(
            snapshot
                .enrich_cache
                .profile(name, || ProfileMarks::build(catalog, snapshot, name))?,
        ),
        _ => None,
    };
    let mut wanted: Vec<(TechniqueId, String)> = Vec::new();
    let mut unknown = Vec::new();
    let mut matched_rules: Vec<String> = Vec::new();
    let push = |id: TechniqueId, raw: &str, wanted: &mut Vec<(TechniqueId, String)>| {
        if !wanted.iter().any(|(w, _)| *w == id) {
            wanted.push((id, raw.to_string()));
        }
    };
    for raw in &req.techniques {
        match TechniqueId::parse(raw.trim()) {
            Ok(id) => push(id, raw, &mut wanted),
            Err(_) => unknown.push(format!("technique:{raw}")),
        }
    }
    for tag in &req.tags {
        if let Some(id) = tag_technique(tag) {
            push(id, tag, &mut wanted);
        }
    }
    let mut rules: Vec<&RuleId> = Vec::new();
    if let Some(id) = &req.rule_id {
        match snapshot
            .state
            .rules
            .get_key_value(&RuleId(id.trim().to_string()))
        {
            Some((k, _)) => rules.push(k),
            None => unknown.push(format!("rule_id:{id}")),
        }
    }
    if let Some(name) = &req.rule_name {
        let found = snapshot.rules_named(name);
        if found.is_empty() {
            unknown.push(format!("rule_name:{name}"));
        }
        rules.extend(found);
    }
    for id in rules {
        if matched_rules.contains(&id.0) {
            continue;
        }
        matched_rules.push(id.0.clone());
        if let Some(r) = snapshot.state.rules.get(id) {
            for t in &r.rule.techniques {
                if let Ok(tid) = TechniqueId::parse(t.trim()) {
                    push(tid, t, &mut wanted);
                }
            }
        }
    }
    let platform = req
        .platform
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty());
    let mut techniques = Vec::with_capacity(wanted.len());
    for (id, raw) in wanted {
        let Some((info, technique)) = index.entry(id) else {
            unknown.push(format!("technique:{raw}"));
            continue;
        };
        let current = TechniqueId::parse(&info.id).unwrap_or(id);
        let requested_as = (current != id).then(|| id.to_string());
        let detection_strategies = index.detections(current, platform);
        let (technique, standing) = match &profile {
            Some(p) => (p.technique_json(current, info), Some(p.standing(current))),
            None => (technique.clone(), None),
        };
        let coverage = snapshot.enrich_cache.get(catalog, current, || {
            snapshot
                .coverage
                .technique(current)
                .map(|c| CoverageView::of(c, |r| snapshot.rule_title(r)))
                .unwrap_or_else(CoverageView::gap)
        });
        techniques.push(EnrichedTechnique {
            info,
            technique,
            requested_as,
            detection_strategies,
            coverage,
            runbooks: runbooks.for_technique(current, platform),
            profile: standing,
        });
    }
    Ok(EnrichResponse {
        techniques,
        matched_rules,
        unknown,
        coverage_seq: snapshot.coverage.seq,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attack_tags_name_techniques() {
        assert_eq!(
            tag_technique("attack.t1003.001").map(|t| t.to_string()),
            Some("T1003.001".into())
        );
        assert_eq!(
            tag_technique("ATTACK.T1059").map(|t| t.to_string()),
            Some("T1059".into())
        );
        assert_eq!(tag_technique("attack.credential_access"), None);
        assert_eq!(tag_technique("cve.2021-44228"), None);
        assert_eq!(tag_technique("attack"), None);
    }
}
