//! The [`KnowledgeBase`]: every loaded object, its indexes, and the look-ups built on them.

use std::collections::BTreeSet;

use crate::hash::FxHashMap as HashMap;

use crate::build::{Builder, BundleInput};
use crate::error::{Error, Warning, WarningKind};
use crate::model::*;
use crate::query::*;
use crate::remap::RemapTable;
use crate::{TechniqueId, TechniqueIdError};

/// Object kinds with their own vector in the knowledge base.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Kind {
    Tactic,
    Technique,
    Group,
    Software,
    Campaign,
    Mitigation,
    DataSource,
    DataComponent,
    DetectionStrategy,
    Analytic,
}

impl Kind {
    pub(crate) const ALL: [Kind; 10] = [
        Kind::Tactic,
        Kind::Technique,
        Kind::Group,
        Kind::Software,
        Kind::Campaign,
        Kind::Mitigation,
        Kind::DataSource,
        Kind::DataComponent,
        Kind::DetectionStrategy,
        Kind::Analytic,
    ];

    pub(crate) fn label(self) -> &'static str {
        match self {
            Kind::Tactic => "tactic",
            Kind::Technique => "technique",
            Kind::Group => "group",
            Kind::Software => "software",
            Kind::Campaign => "campaign",
            Kind::Mitigation => "mitigation",
            Kind::DataSource => "data source",
            Kind::DataComponent => "data component",
            Kind::DetectionStrategy => "detection strategy",
            Kind::Analytic => "analytic",
        }
    }
}

/// A typed index into one of the knowledge base's vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Ref {
    pub(crate) kind: Kind,
    pub(crate) idx: u32,
}

/// A borrowed reference to any loaded ATT&CK object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ObjectRef<'a> {
    /// A tactic.
    Tactic(&'a Tactic),
    /// A technique or sub-technique.
    Technique(&'a Technique),
    /// A group.
    Group(&'a Group),
    /// Malware or a tool.
    Software(&'a Software),
    /// A campaign.
    Campaign(&'a Campaign),
    /// A mitigation.
    Mitigation(&'a Mitigation),
    /// A data source.
    DataSource(&'a DataSource),
    /// A data component.
    DataComponent(&'a DataComponent),
    /// A detection strategy.
    DetectionStrategy(&'a DetectionStrategy),
    /// An analytic.
    Analytic(&'a Analytic),
}

impl<'a> ObjectRef<'a> {
    /// The shared fields.
    pub fn meta(&self) -> &'a Meta {
        match *self {
            ObjectRef::Tactic(o) => &o.meta,
            ObjectRef::Technique(o) => &o.meta,
            ObjectRef::Group(o) => &o.meta,
            ObjectRef::Software(o) => &o.meta,
            ObjectRef::Campaign(o) => &o.meta,
            ObjectRef::Mitigation(o) => &o.meta,
            ObjectRef::DataSource(o) => &o.meta,
            ObjectRef::DataComponent(o) => &o.meta,
            ObjectRef::DetectionStrategy(o) => &o.meta,
            ObjectRef::Analytic(o) => &o.meta,
        }
    }

    /// A lower-case label of the kind (`technique`, `group`, `data component`, …).
    pub fn kind_label(&self) -> &'static str {
        match self {
            ObjectRef::Tactic(_) => "tactic",
            ObjectRef::Technique(_) => "technique",
            ObjectRef::Group(_) => "group",
            ObjectRef::Software(_) => "software",
            ObjectRef::Campaign(_) => "campaign",
            ObjectRef::Mitigation(_) => "mitigation",
            ObjectRef::DataSource(_) => "data source",
            ObjectRef::DataComponent(_) => "data component",
            ObjectRef::DetectionStrategy(_) => "detection strategy",
            ObjectRef::Analytic(_) => "analytic",
        }
    }

    /// Aliases, for the kinds that have them.
    pub fn aliases(&self) -> &'a [String] {
        match *self {
            ObjectRef::Group(o) => &o.aliases,
            ObjectRef::Software(o) => &o.aliases,
            ObjectRef::Campaign(o) => &o.aliases,
            _ => &[],
        }
    }
}

/// The ATT&CK knowledge base: read-only once built.
///
/// Build it with [`KnowledgeBase::from_bundles`] (bytes in) or [`crate::load::from_paths`].
#[derive(Debug, Default)]
pub struct KnowledgeBase {
    pub(crate) domains: Vec<Domain>,
    pub(crate) tactics: Vec<Tactic>,
    pub(crate) techniques: Vec<Technique>,
    pub(crate) groups: Vec<Group>,
    pub(crate) software: Vec<Software>,
    pub(crate) campaigns: Vec<Campaign>,
    pub(crate) mitigations: Vec<Mitigation>,
    pub(crate) data_sources: Vec<DataSource>,
    pub(crate) data_components: Vec<DataComponent>,
    pub(crate) detection_strategies: Vec<DetectionStrategy>,
    pub(crate) analytics: Vec<Analytic>,
    pub(crate) relationships: Vec<Relationship>,
    /// Resolved ends of `relationships`, same order.
    rel_ends: Vec<(Ref, Ref)>,
    pub(crate) by_stix: HashMap<String, Ref>,
    /// Upper-case ATT&CK id → objects (several when a deprecated mitigation reuses a T-number).
    by_attack_id: HashMap<String, Vec<Ref>>,
    /// Technique id → technique indexes, active ones first.
    techniques_by_id: HashMap<TechniqueId, Vec<u32>>,
    /// Lower-case name or alias → objects.
    by_name: HashMap<String, Vec<Ref>>,
    outgoing: HashMap<Ref, Vec<u32>>,
    incoming: HashMap<Ref, Vec<u32>>,
    /// Lower-case log-source name → data component indexes providing it.
    by_log_source: HashMap<String, Vec<u32>>,
}

fn lower(s: &str) -> String {
    s.to_lowercase()
}

impl KnowledgeBase {
    /// Loads one or more bundles (several domains at once) from bytes. Returns the knowledge
    /// base with the warnings about tolerated problems; fails only when a bundle as a whole is
    /// unusable (corrupt gzip, malformed JSON, not a bundle), naming the input.
    pub fn from_bundles(inputs: &[BundleInput<'_>]) -> Result<(Self, Vec<Warning>), Error> {
        let mut warnings = Vec::new();
        let kb = Builder::load(&mut warnings, inputs)?;
        Ok((kb, warnings))
    }

    // ----- construction helpers used by `build` -------------------------------------------

    pub(crate) fn kind_len(&self, k: Kind) -> u32 {
        let n = match k {
            Kind::Tactic => self.tactics.len(),
            Kind::Technique => self.techniques.len(),
            Kind::Group => self.groups.len(),
            Kind::Software => self.software.len(),
            Kind::Campaign => self.campaigns.len(),
            Kind::Mitigation => self.mitigations.len(),
            Kind::DataSource => self.data_sources.len(),
            Kind::DataComponent => self.data_components.len(),
            Kind::DetectionStrategy => self.detection_strategies.len(),
            Kind::Analytic => self.analytics.len(),
        };
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    pub(crate) fn obj(&self, r: Ref) -> Option<ObjectRef<'_>> {
        let i = r.idx as usize;
        Some(match r.kind {
            Kind::Tactic => ObjectRef::Tactic(self.tactics.get(i)?),
            Kind::Technique => ObjectRef::Technique(self.techniques.get(i)?),
            Kind::Group => ObjectRef::Group(self.groups.get(i)?),
            Kind::Software => ObjectRef::Software(self.software.get(i)?),
            Kind::Campaign => ObjectRef::Campaign(self.campaigns.get(i)?),
            Kind::Mitigation => ObjectRef::Mitigation(self.mitigations.get(i)?),
            Kind::DataSource => ObjectRef::DataSource(self.data_sources.get(i)?),
            Kind::DataComponent => ObjectRef::DataComponent(self.data_components.get(i)?),
            Kind::DetectionStrategy => {
                ObjectRef::DetectionStrategy(self.detection_strategies.get(i)?)
            }
            Kind::Analytic => ObjectRef::Analytic(self.analytics.get(i)?),
        })
    }

    pub(crate) fn meta_of_mut(&mut self, r: Ref) -> Option<&mut Meta> {
        let i = r.idx as usize;
        Some(match r.kind {
            Kind::Tactic => &mut self.tactics.get_mut(i)?.meta,
            Kind::Technique => &mut self.techniques.get_mut(i)?.meta,
            Kind::Group => &mut self.groups.get_mut(i)?.meta,
            Kind::Software => &mut self.software.get_mut(i)?.meta,
            Kind::Campaign => &mut self.campaigns.get_mut(i)?.meta,
            Kind::Mitigation => &mut self.mitigations.get_mut(i)?.meta,
            Kind::DataSource => &mut self.data_sources.get_mut(i)?.meta,
            Kind::DataComponent => &mut self.data_components.get_mut(i)?.meta,
            Kind::DetectionStrategy => &mut self.detection_strategies.get_mut(i)?.meta,
            Kind::Analytic => &mut self.analytics.get_mut(i)?.meta,
        })
    }

    /// Moves the last object of `kind` into slot `idx` (replacing what was there).
    pub(crate) fn replace_with_last(&mut self, kind: Kind, idx: u32) {
        fn mv<T>(v: &mut Vec<T>, idx: u32) {
            let i = idx as usize;
            if i + 1 < v.len()
                && let Some(last) = v.pop()
                && let Some(slot) = v.get_mut(i)
            {
                *slot = last;
            }
        }
        match kind {
            Kind::Tactic => mv(&mut self.tactics, idx),
            Kind::Technique => mv(&mut self.techniques, idx),
            Kind::Group => mv(&mut self.groups, idx),
            Kind::Software => mv(&mut self.software, idx),
            Kind::Campaign => mv(&mut self.campaigns, idx),
            Kind::Mitigation => mv(&mut self.mitigations, idx),
            Kind::DataSource => mv(&mut self.data_sources, idx),
            Kind::DataComponent => mv(&mut self.data_components, idx),
            Kind::DetectionStrategy => mv(&mut self.detection_strategies, idx),
            Kind::Analytic => mv(&mut self.analytics, idx),
        }
    }

    pub(crate) fn push_relationship(&mut self, rel: Relationship, s: Ref, t: Ref) {
        let i = u32::try_from(self.relationships.len()).unwrap_or(u32::MAX);
        self.relationships.push(rel);
        self.rel_ends.push((s, t));
        self.outgoing.entry(s).or_default().push(i);
        self.incoming.entry(t).or_default().push(i);
    }

    /// Builds the look-up indexes once every object and relationship is in.
    pub(crate) fn finish_indexes(&mut self, warnings: &mut Vec<Warning>, bundles: &[String]) {
        // Collected first and attributed to a bundle at the end, when `self` is free to read.
        let mut found: Vec<(WarningKind, String, String)> = Vec::new();
        let mut warn = |kind, object: &str, message: String| {
            found.push((kind, object.to_owned(), message));
        };

        // Identity indexes.
        let mut by_attack_id: HashMap<String, Vec<Ref>> = HashMap::default();
        let mut by_name: HashMap<String, Vec<Ref>> = HashMap::default();
        for k in Kind::ALL {
            for idx in 0..self.kind_len(k) {
                let r = Ref { kind: k, idx };
                let Some(o) = self.obj(r) else { continue };
                let m = o.meta();
                if let Some(a) = &m.attack_id {
                    by_attack_id
                        .entry(a.to_ascii_uppercase())
                        .or_default()
                        .push(r);
                }
                by_name.entry(lower(&m.name)).or_default().push(r);
                for a in o.aliases() {
                    let key = lower(a);
                    let v = by_name.entry(key).or_default();
                    if !v.contains(&r) {
                        v.push(r);
                    }
                }
            }
        }
        self.by_attack_id = by_attack_id;
        self.by_name = by_name;

        let mut by_tid: HashMap<TechniqueId, Vec<u32>> = HashMap::default();
        for (i, t) in self.techniques.iter().enumerate() {
            by_tid
                .entry(t.id)
                .or_default()
                .push(u32::try_from(i).unwrap_or(u32::MAX));
        }
        for v in by_tid.values_mut() {
            let techniques = &self.techniques;
            v.sort_by_key(|&i| {
                techniques
                    .get(i as usize)
                    .map_or(3, |t| (t.meta.revoked as u8) * 2 + t.meta.deprecated as u8)
            });
        }
        self.techniques_by_id = by_tid;

        // Tactics of each technique in matrix order.
        let mut tactic_pos: HashMap<(&str, &str), usize> = HashMap::default();
        for d in &self.domains {
            for (pos, sid) in d.tactic_order.iter().enumerate() {
                if let Some(Ref {
                    kind: Kind::Tactic,
                    idx,
                }) = self.by_stix.get(sid).copied()
                    && let Some(t) = self.tactics.get(idx as usize)
                {
                    tactic_pos.insert((d.key.as_str(), t.shortname.as_str()), pos);
                } else {
                    warn(
                        WarningKind::DanglingReference,
                        sid,
                        format!("matrix of `{}` names a tactic that is not loaded", d.key),
                    );
                }
            }
        }
        let mut odd = Vec::new();
        for t in &mut self.techniques {
            let pos = |s: &String| {
                t.meta
                    .domains
                    .iter()
                    .find_map(|d| tactic_pos.get(&(d.as_str(), s.as_str())).copied())
            };
            for s in &t.tactics {
                if pos(s).is_none() && t.meta.is_active() {
                    odd.push((t.meta.stix_id.clone(), s.clone()));
                }
            }
            let mut keyed: Vec<(usize, String)> = t
                .tactics
                .drain(..)
                .map(|s| (pos(&s).unwrap_or(usize::MAX), s))
                .collect();
            keyed.sort();
            keyed.dedup();
            t.tactics = keyed.into_iter().map(|(_, s)| s).collect();
        }
        for (id, s) in odd {
            warn(
                WarningKind::OddValue,
                &id,
                format!("tactic `{s}` is not in the technique's matrix"),
            );
        }

        // Data model per domain.
        let mut models: HashMap<String, DataModel> = HashMap::default();
        for (rel, (s, _)) in self.relationships.iter().zip(&self.rel_ends) {
            if rel.kind != RelationshipKind::Detects {
                continue;
            }
            let model = if s.kind == Kind::DetectionStrategy {
                DataModel::DetectionStrategies
            } else {
                DataModel::DataComponentDetects
            };
            if let Some(o) = self.obj(*s) {
                for d in &o.meta().domains {
                    let e = models.entry(d.clone()).or_insert(model);
                    if model == DataModel::DetectionStrategies {
                        *e = model;
                    }
                }
            }
        }
        for d in &mut self.domains {
            d.data_model = models.get(&d.key).copied().unwrap_or(DataModel::None);
        }

        // Dangling references inside v18 objects.
        for s in &self.detection_strategies {
            for a in &s.analytic_refs {
                if !matches!(self.by_stix.get(a), Some(r) if r.kind == Kind::Analytic) {
                    warn(
                        WarningKind::DanglingReference,
                        &s.meta.stix_id,
                        format!("analytic `{a}` is not loaded"),
                    );
                }
            }
        }
        let mut by_log_source: HashMap<String, Vec<u32>> = HashMap::default();
        let mut add = |name: &str, dc: u32| {
            let v = by_log_source.entry(lower(name)).or_default();
            if !v.contains(&dc) {
                v.push(dc);
            }
        };
        for (i, dc) in self.data_components.iter().enumerate() {
            for l in &dc.log_sources {
                add(&l.name, u32::try_from(i).unwrap_or(u32::MAX));
            }
        }
        for a in &self.analytics {
            for l in &a.log_source_references {
                match self.by_stix.get(&l.data_component) {
                    Some(r) if r.kind == Kind::DataComponent => add(&l.name, r.idx),
                    _ => warn(
                        WarningKind::DanglingReference,
                        &a.meta.stix_id,
                        format!("data component `{}` is not loaded", l.data_component),
                    ),
                }
            }
        }
        self.by_log_source = by_log_source;

        for (kind, object, message) in found {
            // The bundle of the object's first domain (objects shared by domains name the first).
            let bundle = self
                .by_stix_id(&object)
                .and_then(|o| o.meta().domains.first())
                .and_then(|d| self.domains.iter().find(|x| &x.key == d))
                .map(|d| d.bundle.clone())
                .or_else(|| bundles.first().cloned())
                .unwrap_or_default();
            warnings.push(Warning {
                kind,
                bundle,
                object: Some(object),
                message,
            });
        }
    }

    // ----- relationship helpers -------------------------------------------------------------

    fn rels_out(
        &self,
        r: Ref,
        kind: RelationshipKind,
    ) -> impl Iterator<Item = (&Relationship, Ref)> {
        self.outgoing
            .get(&r)
            .into_iter()
            .flatten()
            .filter_map(move |&i| {
                let rel = self.relationships.get(i as usize)?;
                let (_, t) = self.rel_ends.get(i as usize)?;
                (rel.kind == kind).then_some((rel, *t))
            })
    }

    fn rels_in(
        &self,
        r: Ref,
        kind: RelationshipKind,
    ) -> impl Iterator<Item = (&Relationship, Ref)> {
        self.incoming
            .get(&r)
            .into_iter()
            .flatten()
            .filter_map(move |&i| {
                let rel = self.relationships.get(i as usize)?;
                let (s, _) = self.rel_ends.get(i as usize)?;
                (rel.kind == kind).then_some((rel, *s))
            })
    }

    fn ref_of(&self, stix_id: &str) -> Option<Ref> {
        self.by_stix.get(stix_id).copied()
    }

    fn technique_at(&self, r: Ref) -> Option<&Technique> {
        (r.kind == Kind::Technique)
            .then(|| self.techniques.get(r.idx as usize))
            .flatten()
    }

    // ----- plain accessors ------------------------------------------------------------------

    /// The loaded domains, in load order.
    pub fn domains(&self) -> &[Domain] {
        &self.domains
    }

    /// All techniques and sub-techniques, including revoked and deprecated ones.
    pub fn techniques(&self) -> &[Technique] {
        &self.techniques
    }

    /// All tactics (every domain), in load order; see [`Self::tactics_in_order`].
    pub fn tactics(&self) -> &[Tactic] {
        &self.tactics
    }

    /// All groups, including inactive ones.
    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    /// All software, including inactive ones.
    pub fn software(&self) -> &[Software] {
        &self.software
    }

    /// All campaigns.
    pub fn campaigns(&self) -> &[Campaign] {
        &self.campaigns
    }

    /// All mitigations, including deprecated ones.
    pub fn mitigations(&self) -> &[Mitigation] {
        &self.mitigations
    }

    /// All data sources.
    pub fn data_sources(&self) -> &[DataSource] {
        &self.data_sources
    }

    /// All data components with their log-source catalogue (`log_sources`).
    pub fn data_components(&self) -> &[DataComponent] {
        &self.data_components
    }

    /// All detection strategies (v18+).
    pub fn detection_strategies(&self) -> &[DetectionStrategy] {
        &self.detection_strategies
    }

    /// All analytics (v18+).
    pub fn analytics(&self) -> &[Analytic] {
        &self.analytics
    }

    /// Every modelled relationship whose two ends are loaded.
    pub fn relationships(&self) -> &[Relationship] {
        &self.relationships
    }

    /// The object with this STIX id, whatever its kind or status.
    pub fn by_stix_id(&self, stix_id: &str) -> Option<ObjectRef<'_>> {
        self.ref_of(stix_id).and_then(|r| self.obj(r))
    }

    /// The tactics of a domain (or of every domain, one after the other) in matrix order.
    pub fn tactics_in_order(&self, domain: Option<&str>) -> Vec<&Tactic> {
        self.domains
            .iter()
            .filter(|d| domain.is_none_or(|k| d.key == k))
            .flat_map(|d| d.tactic_order.iter())
            .filter_map(|sid| match self.ref_of(sid) {
                Some(Ref {
                    kind: Kind::Tactic,
                    idx,
                }) => self.tactics.get(idx as usize),
                _ => None,
            })
            .collect()
    }

    /// A description of the loaded release(s) for messages: `18.1` when every domain agrees,
    /// else `enterprise-attack 18.1, mobile-attack 17.1`.
    pub fn release_label(&self) -> String {
        let releases: BTreeSet<Option<&str>> =
            self.domains.iter().map(|d| d.release.as_deref()).collect();
        match releases.into_iter().collect::<Vec<_>>().as_slice() {
            [Some(r)] => (*r).to_owned(),
            [] => "(nothing loaded)".to_owned(),
            _ => self
                .domains
                .iter()
                .map(|d| {
                    format!(
                        "{} {}",
                        d.key,
                        d.release.as_deref().unwrap_or("(release unknown)")
                    )
                })
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    // ----- identity ---------------------------------------------------------------------------

    /// The active technique with this id.
    pub fn technique(&self, id: TechniqueId) -> Option<&Technique> {
        self.technique_any(id).filter(|t| t.meta.is_active())
    }

    /// The technique with this id, active or not (an active one is preferred).
    pub fn technique_any(&self, id: TechniqueId) -> Option<&Technique> {
        self.techniques_by_id
            .get(&id)
            .and_then(|v| v.first())
            .and_then(|&i| self.techniques.get(i as usize))
    }

    /// How `id` stands in the loaded release: active, revoked (with the end of its `revoked-by`
    /// chain), deprecated, or unknown to this release.
    pub fn resolve_technique(&self, id: TechniqueId) -> Resolution<'_> {
        let Some(t) = self.technique_any(id) else {
            return Resolution::Unknown {
                id,
                release: self.release_label(),
            };
        };
        if t.meta.revoked {
            let mut chain = Vec::new();
            let mut cur = t;
            let mut seen = vec![t.id];
            let replacement = loop {
                let r = self
                    .ref_of(&cur.meta.stix_id)
                    .and_then(|r| self.rels_out(r, RelationshipKind::RevokedBy).next())
                    .and_then(|(_, tr)| self.technique_at(tr));
                match r {
                    Some(next) if !seen.contains(&next.id) => {
                        chain.push(next.id);
                        seen.push(next.id);
                        if !next.meta.revoked {
                            break Some(next);
                        }
                        cur = next;
                    }
                    _ => break None,
                }
            };
            return Resolution::Revoked {
                technique: t,
                replacement,
                chain,
            };
        }
        if t.meta.deprecated {
            return Resolution::Deprecated(t);
        }
        Resolution::Active(t)
    }

    /// [`Self::resolve_technique`] on a string; fails only when it is not a technique id.
    pub fn resolve_technique_str(&self, id: &str) -> Result<Resolution<'_>, TechniqueIdError> {
        Ok(self.resolve_technique(TechniqueId::parse(id)?))
    }

    /// Applies the user's remap table (old → new) first, then resolves.
    pub fn resolve_with_remap(
        &self,
        id: TechniqueId,
        remap: &RemapTable,
    ) -> RemappedResolution<'_> {
        let to = remap.get(id);
        RemappedResolution {
            requested: id,
            remapped_to: to,
            resolution: self.resolve_technique(to.unwrap_or(id)),
        }
    }

    /// Objects whose ATT&CK id, STIX id, name or alias equals `query` (case-insensitive), active
    /// only unless asked. ATT&CK-id matches come first. A T-number matches techniques only:
    /// deprecated mitigations reuse T-numbers as their ids.
    pub fn lookup(&self, query: &str, opts: LookupOptions) -> Vec<ObjectRef<'_>> {
        let q = query.trim();
        let mut refs: Vec<Ref> = Vec::new();
        if let Ok(tid) = TechniqueId::parse(q) {
            if let Some(v) = self.techniques_by_id.get(&tid) {
                refs.extend(v.iter().map(|&idx| Ref {
                    kind: Kind::Technique,
                    idx,
                }));
            }
        } else if let Some(v) = self.by_attack_id.get(&q.to_ascii_uppercase()) {
            refs.extend(v);
        }
        if let Some(r) = self.ref_of(q) {
            refs.push(r);
        }
        if let Some(v) = self.by_name.get(&lower(q)) {
            refs.extend(v);
        }
        let mut out: Vec<ObjectRef<'_>> = Vec::new();
        for r in refs {
            if let Some(o) = self.obj(r)
                && (opts.include_inactive || o.meta().is_active())
                && !out.iter().any(|x| x.meta().stix_id == o.meta().stix_id)
            {
                out.push(o);
            }
        }
        out
    }

    fn lookup_kind<'a, T>(
        &'a self,
        query: &str,
        pick: impl Fn(ObjectRef<'a>) -> Option<&'a T>,
    ) -> Option<&'a T> {
        self.lookup(query, LookupOptions::default())
            .into_iter()
            .find_map(pick)
    }

    /// The active group with this ATT&CK id, name or alias (case-insensitive).
    pub fn group(&self, query: &str) -> Option<&Group> {
        self.lookup_kind(query, |o| match o {
            ObjectRef::Group(g) => Some(g),
            _ => None,
        })
    }

    /// The active software with this ATT&CK id, name or alias.
    pub fn software_named(&self, query: &str) -> Option<&Software> {
        self.lookup_kind(query, |o| match o {
            ObjectRef::Software(s) => Some(s),
            _ => None,
        })
    }

    /// The active campaign with this ATT&CK id, name or alias.
    pub fn campaign(&self, query: &str) -> Option<&Campaign> {
        self.lookup_kind(query, |o| match o {
            ObjectRef::Campaign(c) => Some(c),
            _ => None,
        })
    }

    /// The active mitigation with this ATT&CK id or name.
    pub fn mitigation(&self, query: &str) -> Option<&Mitigation> {
        self.lookup_kind(query, |o| match o {
            ObjectRef::Mitigation(m) => Some(m),
            _ => None,
        })
    }

    /// The active tactic with this ATT&CK id, name or short name (`credential-access`).
    pub fn tactic(&self, query: &str) -> Option<&Tactic> {
        self.lookup_kind(query, |o| match o {
            ObjectRef::Tactic(t) => Some(t),
            _ => None,
        })
        .or_else(|| {
            self.tactics
                .iter()
                .find(|t| t.meta.is_active() && t.shortname.eq_ignore_ascii_case(query.trim()))
        })
    }

    /// The active data component with this name (case-insensitive) or ATT&CK id (`DC0001`).
    pub fn data_component(&self, query: &str) -> Option<&DataComponent> {
        self.lookup_kind(query, |o| match o {
            ObjectRef::DataComponent(d) => Some(d),
            _ => None,
        })
    }

    /// Data components observed in a log source (by name, case-insensitive), from the
    /// components' own catalogue and from analytics' log-source references. With a channel, only
    /// components that list that exact channel (case-insensitive) for that log.
    pub fn data_components_for_log_source(
        &self,
        name: &str,
        channel: Option<&str>,
    ) -> Vec<&DataComponent> {
        let Some(v) = self.by_log_source.get(&lower(name.trim())) else {
            return Vec::new();
        };
        let mut out: Vec<&DataComponent> = v
            .iter()
            .filter_map(|&i| self.data_components.get(i as usize))
            .filter(|dc| dc.meta.is_active())
            .filter(|dc| {
                let Some(ch) = channel else { return true };
                let same = |n: &str, c: Option<&str>| {
                    n.eq_ignore_ascii_case(name.trim())
                        && c.is_some_and(|c| c.eq_ignore_ascii_case(ch))
                };
                dc.log_sources
                    .iter()
                    .any(|l| same(&l.name, l.channel.as_deref()))
                    || self.analytics.iter().any(|a| {
                        a.log_source_references.iter().any(|l| {
                            l.data_component == dc.meta.stix_id
                                && same(&l.name, l.channel.as_deref())
                        })
                    })
            })
            .collect();
        out.sort_by(|a, b| a.meta.name.cmp(&b.meta.name));
        out
    }

    // ----- technique neighbourhood ------------------------------------------------------------

    fn tech_ref(&self, t: &Technique) -> Option<Ref> {
        self.ref_of(&t.meta.stix_id)
    }

    /// The active sub-techniques of a technique, by id.
    pub fn subtechniques(&self, t: &Technique) -> Vec<&Technique> {
        let mut out: Vec<&Technique> = self
            .tech_ref(t)
            .into_iter()
            .flat_map(|r| self.rels_in(r, RelationshipKind::SubtechniqueOf))
            .filter_map(|(_, s)| self.technique_at(s))
            .filter(|s| s.meta.is_active())
            .collect();
        out.sort_by_key(|s| s.id);
        out.dedup_by_key(|s| s.id);
        out
    }

    /// The parent of a sub-technique.
    pub fn parent(&self, t: &Technique) -> Option<&Technique> {
        self.tech_ref(t)
            .and_then(|r| self.rels_out(r, RelationshipKind::SubtechniqueOf).next())
            .and_then(|(_, p)| self.technique_at(p))
            .or_else(|| t.id.parent().and_then(|p| self.technique_any(p)))
    }

    /// The active techniques and sub-techniques of a tactic (same domain, by kill-chain phase),
    /// sorted by id: one column of the matrix.
    pub fn techniques_of_tactic(&self, tactic: &Tactic) -> Vec<&Technique> {
        let mut out: Vec<&Technique> = self
            .techniques
            .iter()
            .filter(|t| {
                t.meta.is_active()
                    && t.tactics.contains(&tactic.shortname)
                    && t.meta.domains.iter().any(|d| tactic.meta.in_domain(d))
            })
            .collect();
        out.sort_by_key(|t| t.id);
        out
    }

    /// Active mitigations of a technique, with the `mitigates` description.
    pub fn mitigations_of(&self, t: &Technique) -> Vec<(&Mitigation, Option<&str>)> {
        let mut out: Vec<(&Mitigation, Option<&str>)> = self
            .tech_ref(t)
            .into_iter()
            .flat_map(|r| self.rels_in(r, RelationshipKind::Mitigates))
            .filter_map(|(rel, s)| {
                let m = (s.kind == Kind::Mitigation)
                    .then(|| self.mitigations.get(s.idx as usize))
                    .flatten()?;
                m.meta
                    .is_active()
                    .then_some((m, rel.description.as_deref()))
            })
            .collect();
        out.sort_by(|a, b| a.0.meta.attack_id.cmp(&b.0.meta.attack_id));
        out
    }

    /// Active detection strategies that `detect` a technique (v18+).
    pub fn detection_strategies_of(&self, t: &Technique) -> Vec<&DetectionStrategy> {
        let mut out: Vec<&DetectionStrategy> = self
            .tech_ref(t)
            .into_iter()
            .flat_map(|r| self.rels_in(r, RelationshipKind::Detects))
            .filter_map(|(_, s)| {
                (s.kind == Kind::DetectionStrategy)
                    .then(|| self.detection_strategies.get(s.idx as usize))
                    .flatten()
            })
            .filter(|d| d.meta.is_active())
            .collect();
        out.sort_by(|a, b| a.meta.attack_id.cmp(&b.meta.attack_id));
        out
    }

    /// The analytics of a detection strategy, in its order (dangling references skipped).
    pub fn analytics_of(&self, s: &DetectionStrategy) -> Vec<&Analytic> {
        s.analytic_refs
            .iter()
            .filter_map(|a| match self.ref_of(a) {
                Some(r) if r.kind == Kind::Analytic => self.analytics.get(r.idx as usize),
                _ => None,
            })
            .collect()
    }

    /// Active groups, software and campaigns that `use` a technique, with procedure text.
    pub fn technique_users(&self, t: &Technique) -> Vec<Procedure<'_>> {
        let mut out: Vec<Procedure<'_>> = self
            .tech_ref(t)
            .into_iter()
            .flat_map(|r| self.rels_in(r, RelationshipKind::Uses))
            .filter_map(|(rel, s)| {
                let user = self.obj(s)?;
                user.meta().is_active().then_some(Procedure {
                    user,
                    description: rel.description.as_deref(),
                })
            })
            .collect();
        out.sort_by(|a, b| {
            (a.user.kind_label(), &a.user.meta().attack_id)
                .cmp(&(b.user.kind_label(), &b.user.meta().attack_id))
        });
        out
    }

    /// Active campaigns attributed to a group.
    pub fn campaigns_of(&self, g: &Group) -> Vec<&Campaign> {
        self.ref_of(&g.meta.stix_id)
            .into_iter()
            .flat_map(|r| self.rels_in(r, RelationshipKind::AttributedTo))
            .filter_map(|(_, c)| {
                (c.kind == Kind::Campaign)
                    .then(|| self.campaigns.get(c.idx as usize))
                    .flatten()
            })
            .filter(|c| c.meta.is_active())
            .collect()
    }

    /// Active software a group (or campaign, or software) uses.
    fn software_used_by(&self, r: Ref) -> Vec<(&Software, Option<&str>)> {
        self.rels_out(r, RelationshipKind::Uses)
            .filter_map(|(rel, t)| {
                let s = (t.kind == Kind::Software)
                    .then(|| self.software.get(t.idx as usize))
                    .flatten()?;
                s.meta
                    .is_active()
                    .then_some((s, rel.description.as_deref()))
            })
            .collect()
    }

    /// Active software a group uses, with the procedure text.
    pub fn software_of(&self, g: &Group) -> Vec<(&Software, Option<&str>)> {
        self.ref_of(&g.meta.stix_id)
            .map(|r| self.software_used_by(r))
            .unwrap_or_default()
    }

    fn techniques_used_by(&self, r: Ref) -> impl Iterator<Item = (&Technique, Option<&str>)> {
        self.rels_out(r, RelationshipKind::Uses)
            .filter_map(|(rel, t)| {
                let tech = self.technique_at(t)?;
                tech.meta
                    .is_active()
                    .then_some((tech, rel.description.as_deref()))
            })
    }

    /// The active techniques a group uses: directly, and optionally via its software and via
    /// campaigns attributed to it. Each technique lists every path; sorted by technique id.
    pub fn group_techniques(
        &self,
        g: &Group,
        opts: GroupTechniqueOptions,
    ) -> Vec<GroupTechnique<'_>> {
        let Some(gr) = self.ref_of(&g.meta.stix_id) else {
            return Vec::new();
        };
        let mut map: HashMap<TechniqueId, GroupTechnique<'_>> = HashMap::default();
        let mut items: Vec<(&Technique, UseEvidence<'_>)> = Vec::new();
        for (t, procedure) in self.techniques_used_by(gr) {
            items.push((
                t,
                UseEvidence {
                    path: UsePath::Direct,
                    procedure,
                },
            ));
        }
        if opts.via_software {
            for (s, _) in self.software_used_by(gr) {
                if let Some(sr) = self.ref_of(&s.meta.stix_id) {
                    for (t, procedure) in self.techniques_used_by(sr) {
                        items.push((
                            t,
                            UseEvidence {
                                path: UsePath::Software(s),
                                procedure,
                            },
                        ));
                    }
                }
            }
        }
        if opts.via_campaigns {
            for c in self.campaigns_of(g) {
                if let Some(cr) = self.ref_of(&c.meta.stix_id) {
                    for (t, procedure) in self.techniques_used_by(cr) {
                        items.push((
                            t,
                            UseEvidence {
                                path: UsePath::Campaign(c),
                                procedure,
                            },
                        ));
                    }
                }
            }
        }
        for (t, ev) in items {
            map.entry(t.id)
                .or_insert_with(|| GroupTechnique {
                    technique: t,
                    paths: Vec::new(),
                })
                .paths
                .push(ev);
        }
        let mut out: Vec<GroupTechnique<'_>> = map.into_values().collect();
        out.sort_by_key(|g| g.technique.id);
        out
    }

    // ----- telemetry --------------------------------------------------------------------------

    /// The telemetry a technique's detection needs, optionally for one platform
    /// (case-insensitive), whichever data model the loaded release uses:
    ///
    /// * v18+: technique ← `detects` ← detection strategy → analytics → log-source references.
    ///   Each analytic's own platforms are honoured: with `platform`, only analytics for that
    ///   platform count.
    /// * v17: data component → `detects` → technique. Data components have no platform, so the
    ///   technique's platforms stand in: with `platform`, nothing is returned when the technique
    ///   does not list it.
    ///
    /// Revoked and deprecated detection strategies, analytics and data components are skipped.
    pub fn telemetry(
        &self,
        id: TechniqueId,
        platform: Option<&str>,
    ) -> Vec<TelemetryRequirement<'_>> {
        let Some(t) = self.technique_any(id) else {
            return Vec::new();
        };
        let Some(tr) = self.tech_ref(t) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (rel, s) in self.rels_in(tr, RelationshipKind::Detects) {
            match s.kind {
                Kind::DetectionStrategy => {
                    let Some(strategy) = self.detection_strategies.get(s.idx as usize) else {
                        continue;
                    };
                    if !strategy.meta.is_active() {
                        continue;
                    }
                    for analytic in self.analytics_of(strategy) {
                        if !analytic.meta.is_active()
                            || platform.is_some_and(|p| !analytic.has_platform(p))
                        {
                            continue;
                        }
                        for l in &analytic.log_source_references {
                            let Some(dc) = self.data_component_by_stix(&l.data_component) else {
                                continue;
                            };
                            out.push(TelemetryRequirement {
                                platforms: &analytic.platforms,
                                data_component: dc,
                                log_source: Some((l.name.as_str(), l.channel.as_deref())),
                                origin: TelemetryOrigin::Analytic { strategy, analytic },
                            });
                        }
                    }
                }
                Kind::DataComponent => {
                    let Some(dc) = self.data_components.get(s.idx as usize) else {
                        continue;
                    };
                    if !dc.meta.is_active()
                        || platform.is_some_and(|p| !t.platforms.is_empty() && !t.has_platform(p))
                    {
                        continue;
                    }
                    out.push(TelemetryRequirement {
                        platforms: &t.platforms,
                        data_component: dc,
                        log_source: None,
                        origin: TelemetryOrigin::DataComponentDetects {
                            description: rel.description.as_deref(),
                        },
                    });
                }
                _ => {}
            }
        }
        out
    }

    fn data_component_by_stix(&self, stix_id: &str) -> Option<&DataComponent> {
        match self.ref_of(stix_id) {
            Some(r) if r.kind == Kind::DataComponent => self
                .data_components
                .get(r.idx as usize)
                .filter(|d| d.meta.is_active()),
            _ => None,
        }
    }

    // ----- search and counts ------------------------------------------------------------------

    /// Case-insensitive substring search over the ATT&CK id, name, aliases and description of
    /// active techniques, tactics, groups, software, campaigns, mitigations, data sources, data
    /// components and detection strategies. Id and name hits rank first, then alias and
    /// description hits; within each, techniques first, then by ATT&CK id.
    pub fn search(&self, query: &str) -> Vec<SearchHit<'_>> {
        let q = lower(query.trim());
        if q.is_empty() {
            return Vec::new();
        }
        let mut hits: Vec<SearchHit<'_>> = Vec::new();
        for k in Kind::ALL {
            if k == Kind::Analytic {
                // Analytics are named "Analytic 0110"; they are reached through their strategy.
                continue;
            }
            for idx in 0..self.kind_len(k) {
                let Some(o) = self.obj(Ref { kind: k, idx }) else {
                    continue;
                };
                let m = o.meta();
                if !m.is_active() {
                    continue;
                }
                let field = if m
                    .attack_id
                    .as_deref()
                    .is_some_and(|a| lower(a).contains(&q))
                {
                    MatchField::Id
                } else if lower(&m.name).contains(&q) {
                    MatchField::Name
                } else if o.aliases().iter().any(|a| lower(a).contains(&q)) {
                    MatchField::Alias
                } else if lower(&m.description).contains(&q) {
                    MatchField::Description
                } else {
                    continue;
                };
                hits.push(SearchHit { object: o, field });
            }
        }
        // Within a field, techniques come before the other kinds: they are what people look for.
        let key = |h: &SearchHit<'_>| {
            let kind = match h.object {
                ObjectRef::Technique(_) => 0,
                ObjectRef::Tactic(_) => 1,
                ObjectRef::Group(_) => 2,
                ObjectRef::Software(_) => 3,
                ObjectRef::Campaign(_) => 4,
                ObjectRef::Mitigation(_) => 5,
                ObjectRef::DataComponent(_) => 6,
                ObjectRef::DataSource(_) => 7,
                ObjectRef::DetectionStrategy(_) => 8,
                ObjectRef::Analytic(_) => 9,
            };
            (h.field, kind)
        };
        hits.sort_by(|a, b| {
            (key(a), &a.object.meta().attack_id, &a.object.meta().name).cmp(&(
                key(b),
                &b.object.meta().attack_id,
                &b.object.meta().name,
            ))
        });
        hits
    }

    /// Active-object counts per loaded domain.
    pub fn counts(&self) -> Vec<DomainCounts> {
        self.domains
            .iter()
            .map(|d| {
                let k = d.key.as_str();
                fn n<'a, T: 'a>(
                    it: impl IntoIterator<Item = &'a T>,
                    meta: impl Fn(&T) -> &Meta,
                    k: &str,
                ) -> usize {
                    it.into_iter()
                        .filter(|o| {
                            let m = meta(o);
                            m.is_active() && m.in_domain(k)
                        })
                        .count()
                }
                DomainCounts {
                    domain: d.key.clone(),
                    tactics: self.tactics_in_order(Some(k)).len(),
                    techniques: n(
                        self.techniques.iter().filter(|t| !t.is_subtechnique),
                        |t| &t.meta,
                        k,
                    ),
                    subtechniques: n(
                        self.techniques.iter().filter(|t| t.is_subtechnique),
                        |t| &t.meta,
                        k,
                    ),
                    inactive_techniques: self
                        .techniques
                        .iter()
                        .filter(|t| !t.meta.is_active() && t.meta.in_domain(k))
                        .count(),
                    groups: n(&self.groups, |o| &o.meta, k),
                    software: n(&self.software, |o| &o.meta, k),
                    campaigns: n(&self.campaigns, |o| &o.meta, k),
                    mitigations: n(&self.mitigations, |o| &o.meta, k),
                    data_sources: n(&self.data_sources, |o| &o.meta, k),
                    data_components: n(&self.data_components, |o| &o.meta, k),
                    detection_strategies: n(&self.detection_strategies, |o| &o.meta, k),
                    analytics: n(&self.analytics, |o| &o.meta, k),
                }
            })
            .collect()
    }
}
