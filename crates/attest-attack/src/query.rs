//! The answer types of [`KnowledgeBase`](crate::KnowledgeBase) queries: resolutions, a group's
//! techniques with their paths, telemetry requirements, search hits and counts.

use crate::TechniqueId;
use crate::kb::ObjectRef;
use crate::model::*;

/// How an ATT&CK technique id stands in the loaded release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution<'a> {
    /// A current technique.
    Active(&'a Technique),
    /// Revoked: `revoked-by` was followed to `replacement` through `chain` (the ids of each hop,
    /// ending with the replacement's). `replacement` is `None` when the chain ends nowhere (a
    /// dangling or cyclic `revoked-by`); it may itself be deprecated.
    Revoked {
        /// The revoked technique itself.
        technique: &'a Technique,
        /// Where the chain ends.
        replacement: Option<&'a Technique>,
        /// Ids along the chain, first replacement first.
        chain: Vec<TechniqueId>,
    },
    /// Deprecated without replacement.
    Deprecated(&'a Technique),
    /// The loaded release does not know the id (e.g. an id from a newer ATT&CK release).
    Unknown {
        /// The id asked for.
        id: TechniqueId,
        /// The loaded release(s), for "unknown to ATT&CK v18.1".
        release: String,
    },
}

impl<'a> Resolution<'a> {
    /// The active technique this resolves to, if any (itself, or the end of its revoked chain
    /// when that is active).
    pub fn current(&self) -> Option<&'a Technique> {
        match self {
            Resolution::Active(t) => Some(t),
            Resolution::Revoked {
                replacement: Some(r),
                ..
            } if r.meta.is_active() => Some(r),
            _ => None,
        }
    }
}

impl std::fmt::Display for Resolution<'_> {
    /// One line for people: `T1003: active (OS Credential Dumping)`,
    /// `T1150: revoked by T1547.011 → T1647 (Plist File Modification)`,
    /// `T1685: unknown to ATT&CK v18.1`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Resolution::Active(t) => write!(f, "{}: active ({})", t.id, t.meta.name),
            Resolution::Deprecated(t) => write!(f, "{}: deprecated ({})", t.id, t.meta.name),
            Resolution::Revoked {
                technique,
                replacement,
                chain,
            } => {
                write!(f, "{}: revoked", technique.id)?;
                if !chain.is_empty() {
                    let ids: Vec<String> = chain.iter().map(ToString::to_string).collect();
                    write!(f, " by {}", ids.join(" → "))?;
                }
                match replacement {
                    Some(r) if r.meta.deprecated => write!(f, " ({}, deprecated)", r.meta.name),
                    Some(r) => write!(f, " ({})", r.meta.name),
                    None => write!(f, " (no replacement found)"),
                }
            }
            // A single release reads "v18.1"; several domains read as their own label.
            Resolution::Unknown { id, release } if release.contains(' ') => {
                write!(f, "{id}: unknown to ATT&CK ({release})")
            }
            Resolution::Unknown { id, release } => {
                write!(f, "{id}: unknown to ATT&CK v{release}")
            }
        }
    }
}

/// A resolution after applying a user remap table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemappedResolution<'a> {
    /// The id asked for.
    pub requested: TechniqueId,
    /// The id the remap table sent it to, when it had an entry.
    pub remapped_to: Option<TechniqueId>,
    /// How the (remapped) id stands in the loaded release.
    pub resolution: Resolution<'a>,
}

impl<'a> RemappedResolution<'a> {
    /// `active`, `revoked`, `deprecated` or `unknown`.
    pub fn status(&self) -> &'static str {
        match &self.resolution {
            Resolution::Active(_) => "active",
            Resolution::Revoked { .. } => "revoked",
            Resolution::Deprecated(_) => "deprecated",
            Resolution::Unknown { .. } => "unknown",
        }
    }

    /// The technique it leads to: itself when active or deprecated, the end of the revoked-by
    /// chain when revoked (`None` when the chain ends nowhere or the id is unknown).
    pub fn current(&self) -> Option<&'a Technique> {
        match &self.resolution {
            Resolution::Active(t) | Resolution::Deprecated(t) => Some(t),
            Resolution::Revoked { replacement, .. } => *replacement,
            Resolution::Unknown { .. } => None,
        }
    }

    /// Every hop from the id asked for to where it leads, e.g.
    /// `["T1086", "T1059.001 (remap table)", "T1059.001"]` deduplicated in order, or ending
    /// with `unknown to ATT&CK 18.1`.
    pub fn path(&self) -> Vec<String> {
        let mut path = vec![self.requested.to_string()];
        if let Some(to) = self.remapped_to {
            path.push(format!("{to} (remap table)"));
        }
        match &self.resolution {
            Resolution::Revoked { chain, .. } => {
                path.extend(chain.iter().skip(1).map(ToString::to_string));
            }
            Resolution::Unknown { release, .. } => {
                path.push(format!("unknown to ATT&CK {release}"));
            }
            Resolution::Active(_) | Resolution::Deprecated(_) => {}
        }
        if let Some(t) = self.current() {
            path.push(t.id.to_string());
        }
        let mut seen = std::collections::HashSet::new();
        path.retain(|s| seen.insert(s.clone()));
        path
    }
}

/// Options of [`KnowledgeBase::lookup`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LookupOptions {
    /// Also return revoked and deprecated objects.
    pub include_inactive: bool,
}

/// Options of [`KnowledgeBase::group_techniques`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GroupTechniqueOptions {
    /// Also count techniques used by software the group uses.
    pub via_software: bool,
    /// Also count techniques used in campaigns attributed to the group.
    pub via_campaigns: bool,
}

/// How a group came to use a technique.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsePath<'a> {
    /// The group `uses` the technique.
    Direct,
    /// The group uses this software, which uses the technique.
    Software(&'a Software),
    /// A campaign attributed to the group used the technique.
    Campaign(&'a Campaign),
}

/// One path by which a group uses a technique, with the procedure text of the last `uses`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UseEvidence<'a> {
    /// The path.
    pub path: UsePath<'a>,
    /// The `uses` relationship's description (procedure example), when given.
    pub procedure: Option<&'a str>,
}

/// A technique a group uses, and every path by which it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupTechnique<'a> {
    /// The technique (active only).
    pub technique: &'a Technique,
    /// Paths, direct first.
    pub paths: Vec<UseEvidence<'a>>,
}

/// A group, software or campaign that uses a technique, with the procedure text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Procedure<'a> {
    /// The user (a group, software or campaign).
    pub user: ObjectRef<'a>,
    /// The procedure example text.
    pub description: Option<&'a str>,
}

/// Where a telemetry requirement comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TelemetryOrigin<'a> {
    /// v18+: a detection strategy's analytic references the data component.
    Analytic {
        /// The detection strategy that `detects` the technique.
        strategy: &'a DetectionStrategy,
        /// Its analytic naming the log source.
        analytic: &'a Analytic,
    },
    /// v17: the data component `detects` the technique directly.
    DataComponentDetects {
        /// The relationship's description.
        description: Option<&'a str>,
    },
}

/// One piece of telemetry a technique's detection needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelemetryRequirement<'a> {
    /// The platforms it applies to: the analytic's own (v18+), or the technique's (v17, where
    /// data components carry no platform).
    pub platforms: &'a [String],
    /// The data component.
    pub data_component: &'a DataComponent,
    /// The log source name and channel (v18+ analytics only).
    pub log_source: Option<(&'a str, Option<&'a str>)>,
    /// Where the requirement comes from.
    pub origin: TelemetryOrigin<'a>,
}

/// Which field a search hit matched, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MatchField {
    /// The ATT&CK id.
    Id,
    /// The name.
    Name,
    /// An alias.
    Alias,
    /// The description.
    Description,
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchHit<'a> {
    /// The object found.
    pub object: ObjectRef<'a>,
    /// The best field it matched in.
    pub field: MatchField,
}

/// Active-object counts of one domain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DomainCounts {
    /// Domain key.
    pub domain: String,
    /// Tactics in the matrix.
    pub tactics: usize,
    /// Techniques (not sub-techniques).
    pub techniques: usize,
    /// Sub-techniques.
    pub subtechniques: usize,
    /// Revoked or deprecated techniques and sub-techniques.
    pub inactive_techniques: usize,
    /// Groups.
    pub groups: usize,
    /// Software (malware + tools).
    pub software: usize,
    /// Campaigns.
    pub campaigns: usize,
    /// Mitigations.
    pub mitigations: usize,
    /// Data sources.
    pub data_sources: usize,
    /// Data components.
    pub data_components: usize,
    /// Detection strategies.
    pub detection_strategies: usize,
    /// Analytics.
    pub analytics: usize,
}
