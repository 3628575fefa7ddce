//! `Catalog`: the slice of the ATT&CK knowledge base the coverage engine reads, flattened once.
//!
//! The engine asks the same questions of ATT&CK for every computation (which techniques exist,
//! their platforms and tactics, their sub-techniques, what telemetry detects them, where a
//! revoked id now points, which techniques a group uses). Answering them from the
//! [`KnowledgeBase`] each time walks relationship graphs; answering them from this table is an
//! array look-up. Building it is the only place `attest-core` touches `attest-attack`'s API, so a
//! change there is absorbed here.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use attest_attack::{GroupTechniqueOptions, KnowledgeBase, Resolution, TechniqueId, UsePath};

use crate::source::LogSourceRef;

/// A small multiplicative hasher (the Fx hash of rustc) for maps keyed by small ids on the hot
/// path. SipHash's resistance to collision attacks buys nothing here: keys are ATT&CK ids and
/// our own positions, not attacker-chosen strings. It is also seedless, so runs are identical.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.add(u64::from(b));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    fn write_u16(&mut self, n: u16) {
        self.add(u64::from(n));
    }

    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl FxHasher {
    fn add(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// A hash map with [`FxHasher`].
pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// An active technique or sub-technique, with what coverage needs to know about it.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogTechnique {
    /// Its id.
    pub id: TechniqueId,
    /// Its name.
    pub name: String,
    /// Tactic short names, in matrix order.
    pub tactics: Vec<String>,
    /// Platforms as written in the bundle.
    pub platforms: Vec<String>,
    /// Domains it belongs to (`enterprise-attack`, …).
    pub domains: Vec<String>,
    /// The parent of a sub-technique.
    pub parent: Option<TechniqueId>,
    /// Active sub-techniques, by id.
    pub subtechniques: Vec<TechniqueId>,
    /// The telemetry ATT&CK lists for detecting it, one entry per data component.
    pub telemetry: Vec<TelemetryNeed>,
}

impl CatalogTechnique {
    /// Whether the technique lists `platform` (case-insensitive). A technique without platforms
    /// is taken to apply everywhere.
    pub fn on_platform(&self, platform: &str) -> bool {
        self.platforms.is_empty()
            || self
                .platforms
                .iter()
                .any(|p| p.eq_ignore_ascii_case(platform))
    }
}

/// A data component that detects a technique, with the log sources ATT&CK names for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelemetryNeed {
    /// The data component's name, e.g. `Process Creation`.
    pub component: String,
    /// The platforms it applies to (empty: every platform of the technique).
    pub platforms: Vec<String>,
    /// The log sources (name, channel) that carry it for this technique (v18+ analytics).
    pub log_sources: Vec<LogSourceRef>,
}

impl TelemetryNeed {
    /// Whether the need applies on `platform`.
    pub fn applies_to(&self, platform: &str) -> bool {
        self.platforms.is_empty()
            || self
                .platforms
                .iter()
                .any(|p| p.eq_ignore_ascii_case(platform))
    }
}

/// A tactic in matrix order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogTactic {
    /// ATT&CK id, e.g. `TA0006`.
    pub id: String,
    /// Name, e.g. `Credential Access`.
    pub name: String,
    /// Short name used in kill-chain phases, e.g. `credential-access`.
    pub shortname: String,
    /// Domain key.
    pub domain: String,
}

/// How a group comes to use a technique.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum UseVia {
    /// The group uses it directly.
    Direct,
    /// Through software it uses (named).
    Software(String),
    /// Through a campaign attributed to it (named).
    Campaign(String),
}

/// An ATT&CK group with every technique it uses and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogGroup {
    /// ATT&CK id, e.g. `G0016`.
    pub id: String,
    /// Name.
    pub name: String,
    /// Aliases.
    pub aliases: Vec<String>,
    /// (technique, path) pairs, sorted.
    pub uses: Vec<(TechniqueId, UseVia)>,
}

/// How a claimed technique id stands in the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// A current technique.
    Active(TechniqueId),
    /// Revoked, and `revoked-by` leads to the current technique `current` through `chain`.
    Remapped {
        /// The id as claimed.
        claimed: TechniqueId,
        /// The current technique it maps to.
        current: TechniqueId,
        /// Ids along the way, first replacement first: the remap table's target (when
        /// `by_table`), then the `revoked-by` chain.
        chain: Vec<TechniqueId>,
        /// Whether the workspace's remap table made the first step (else `revoked-by` did).
        by_table: bool,
    },
    /// Not usable: see [`Unresolved`].
    Unresolved(Unresolved),
}

impl Claim {
    /// The current technique the claim counts for, if any.
    pub fn current(&self) -> Option<TechniqueId> {
        match self {
            Claim::Active(t) => Some(*t),
            Claim::Remapped { current, .. } => Some(*current),
            Claim::Unresolved(_) => None,
        }
    }
}

/// Why a claimed id counts for no technique.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unresolved {
    /// Not a technique id at all.
    Malformed,
    /// Unknown to the loaded release (e.g. from a newer release).
    Unknown,
    /// Deprecated without replacement.
    Deprecated,
    /// Revoked, but its `revoked-by` chain ends nowhere usable.
    RevokedWithoutReplacement,
}

impl Unresolved {
    /// A lower-case word for listings.
    pub fn as_str(&self) -> &'static str {
        match self {
            Unresolved::Malformed => "malformed",
            Unresolved::Unknown => "unknown",
            Unresolved::Deprecated => "deprecated",
            Unresolved::RevokedWithoutReplacement => "revoked-without-replacement",
        }
    }
}

/// The flattened ATT&CK table the coverage engine, priorities and the backlog read.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    release: String,
    techniques: Vec<CatalogTechnique>,
    by_id: FastMap<TechniqueId, usize>,
    /// Inactive ids and what they resolve to (`None`: no usable replacement).
    inactive: BTreeMap<TechniqueId, Claim>,
    tactics: Vec<CatalogTactic>,
    groups: Vec<CatalogGroup>,
}

impl Catalog {
    /// Flattens a knowledge base: active techniques (sorted by id) with their telemetry, the
    /// resolution of every inactive id, tactics in matrix order, and every active group's
    /// technique uses on all three paths (the profile picks the paths later).
    pub fn from_kb(kb: &KnowledgeBase) -> Catalog {
        let mut techniques: Vec<CatalogTechnique> = kb
            .techniques()
            .iter()
            .filter(|t| t.meta.is_active())
            .map(|t| CatalogTechnique {
                id: t.id,
                name: t.meta.name.clone(),
                tactics: t.tactics.clone(),
                platforms: t.platforms.clone(),
                domains: t.meta.domains.clone(),
                parent: t.id.parent(),
                subtechniques: kb.subtechniques(t).iter().map(|s| s.id).collect(),
                telemetry: telemetry_of(kb, t.id),
            })
            .collect();
        techniques.sort_by_key(|t| t.id);
        techniques.dedup_by_key(|t| t.id);
        let by_id = techniques
            .iter()
            .enumerate()
            .map(|(i, t)| (t.id, i))
            .collect();

        let mut inactive = BTreeMap::new();
        for t in kb.techniques().iter().filter(|t| !t.meta.is_active()) {
            let claim = match kb.resolve_technique(t.id) {
                Resolution::Active(a) => Claim::Active(a.id),
                r @ Resolution::Revoked { .. } => match (r.current(), &r) {
                    (Some(cur), Resolution::Revoked { chain, .. }) => Claim::Remapped {
                        claimed: t.id,
                        current: cur.id,
                        chain: chain.clone(),
                        by_table: false,
                    },
                    _ => Claim::Unresolved(Unresolved::RevokedWithoutReplacement),
                },
                Resolution::Deprecated(_) => Claim::Unresolved(Unresolved::Deprecated),
                Resolution::Unknown { .. } => Claim::Unresolved(Unresolved::Unknown),
            };
            inactive.insert(t.id, claim);
        }

        let tactics = kb
            .domains()
            .iter()
            .flat_map(|d| {
                kb.tactics_in_order(Some(&d.key))
                    .into_iter()
                    .map(|t| CatalogTactic {
                        id: t.meta.attack_id.clone().unwrap_or_default(),
                        name: t.meta.name.clone(),
                        shortname: t.shortname.clone(),
                        domain: d.key.clone(),
                    })
            })
            .collect();

        let all_paths = GroupTechniqueOptions {
            via_software: true,
            via_campaigns: true,
        };
        let mut groups: Vec<CatalogGroup> = kb
            .groups()
            .iter()
            .filter(|g| g.meta.is_active())
            .map(|g| {
                let mut uses: Vec<(TechniqueId, UseVia)> = kb
                    .group_techniques(g, all_paths)
                    .iter()
                    .flat_map(|gt| {
                        gt.paths.iter().map(|p| {
                            let via = match p.path {
                                UsePath::Direct => UseVia::Direct,
                                UsePath::Software(s) => UseVia::Software(s.meta.name.clone()),
                                UsePath::Campaign(c) => UseVia::Campaign(c.meta.name.clone()),
                            };
                            (gt.technique.id, via)
                        })
                    })
                    .collect();
                uses.sort();
                uses.dedup();
                CatalogGroup {
                    id: g.meta.attack_id.clone().unwrap_or_default(),
                    name: g.meta.name.clone(),
                    aliases: g.aliases.clone(),
                    uses,
                }
            })
            .collect();
        groups.sort_by(|a, b| (&a.id, &a.name).cmp(&(&b.id, &b.name)));

        Catalog {
            release: kb.release_label(),
            techniques,
            by_id,
            inactive,
            tactics,
            groups,
        }
    }

    /// The loaded release(s), for messages.
    pub fn release(&self) -> &str {
        &self.release
    }

    /// Every active technique and sub-technique, sorted by id.
    pub fn techniques(&self) -> &[CatalogTechnique] {
        &self.techniques
    }

    /// The active technique with this id.
    pub fn technique(&self, id: TechniqueId) -> Option<&CatalogTechnique> {
        self.by_id.get(&id).and_then(|&i| self.techniques.get(i))
    }

    /// Position of an active technique in [`Catalog::techniques`].
    pub fn position(&self, id: TechniqueId) -> Option<usize> {
        self.by_id.get(&id).copied()
    }

    /// Tactics in matrix order, domain after domain.
    pub fn tactics(&self) -> &[CatalogTactic] {
        &self.tactics
    }

    /// Active ATT&CK groups, sorted by id.
    pub fn groups(&self) -> &[CatalogGroup] {
        &self.groups
    }

    /// The group with this ATT&CK id, name or alias (case-insensitive).
    pub fn group(&self, query: &str) -> Option<&CatalogGroup> {
        let q = query.trim();
        self.groups
            .iter()
            .find(|g| g.id.eq_ignore_ascii_case(q))
            .or_else(|| {
                self.groups.iter().find(|g| {
                    g.name.eq_ignore_ascii_case(q)
                        || g.aliases.iter().any(|a| a.eq_ignore_ascii_case(q))
                })
            })
    }

    /// Resolves a technique id as claimed by a rule, a result or intel: active, remapped through
    /// `revoked-by`, or unresolved with the reason.
    pub fn resolve(&self, claimed: &str) -> Claim {
        match TechniqueId::parse(claimed) {
            Ok(id) => self.resolve_id(id),
            Err(_) => Claim::Unresolved(Unresolved::Malformed),
        }
    }

    /// [`Catalog::resolve`], the workspace's remap table first: an id in the table counts for
    /// its target, itself looked up in the table again and then resolved by ATT&CK (so a target
    /// that was later revoked is followed too). The table wins over ATT&CK's own resolution
    /// because a team writes it to correct or anticipate that resolution (a split MITRE decided
    /// differently, an id from a newer release). A loop in the table stops where it repeats.
    pub fn resolve_with(&self, claimed: &str, remap: &attest_attack::RemapTable) -> Claim {
        let Ok(id) = TechniqueId::parse(claimed) else {
            return Claim::Unresolved(Unresolved::Malformed);
        };
        let mut chain: Vec<TechniqueId> = Vec::new();
        let mut at = id;
        while let Some(next) = remap.get(at) {
            if next == id || chain.contains(&next) {
                break;
            }
            chain.push(next);
            at = next;
        }
        if chain.is_empty() {
            return self.resolve_id(id);
        }
        match self.resolve_id(at) {
            Claim::Active(current) => Claim::Remapped {
                claimed: id,
                current,
                chain,
                by_table: true,
            },
            Claim::Remapped {
                current,
                chain: further,
                ..
            } => {
                chain.extend(further.into_iter().filter(|t| *t != at));
                Claim::Remapped {
                    claimed: id,
                    current,
                    chain,
                    by_table: true,
                }
            }
            unresolved @ Claim::Unresolved(_) => unresolved,
        }
    }

    /// [`Catalog::resolve`] for a parsed id.
    pub fn resolve_id(&self, id: TechniqueId) -> Claim {
        if self.by_id.contains_key(&id) {
            return Claim::Active(id);
        }
        match self.inactive.get(&id) {
            Some(c) => c.clone(),
            None => Claim::Unresolved(Unresolved::Unknown),
        }
    }
}

/// The telemetry of one technique, one entry per data component with the union of platforms and
/// log sources over every analytic (v18) or the technique's platforms (v17).
fn telemetry_of(kb: &KnowledgeBase, id: TechniqueId) -> Vec<TelemetryNeed> {
    let mut by_component: BTreeMap<String, (BTreeSet<String>, BTreeSet<LogSourceRef>, bool)> =
        BTreeMap::new();
    for req in kb.telemetry(id, None) {
        let entry = by_component
            .entry(req.data_component.meta.name.clone())
            .or_default();
        if req.platforms.is_empty() {
            // An empty platform list means "everywhere"; remember it so the union stays empty.
            entry.2 = true;
        }
        entry.0.extend(req.platforms.iter().cloned());
        if let Some((name, channel)) = req.log_source {
            entry.1.insert(LogSourceRef {
                name: name.to_string(),
                channel: channel.map(str::to_string),
            });
        }
    }
    by_component
        .into_iter()
        .map(
            |(component, (platforms, log_sources, everywhere))| TelemetryNeed {
                component,
                platforms: if everywhere {
                    Vec::new()
                } else {
                    platforms.into_iter().collect()
                },
                log_sources: log_sources.into_iter().collect(),
            },
        )
        .collect()
}
