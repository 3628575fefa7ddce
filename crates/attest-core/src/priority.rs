//! Profiles → target sets: which techniques matter, how much, and why.
//!
//! A [`Profile`] names actors with weights (ATT&CK groups from the [`Catalog`], or intel actors
//! from `State.actors`), platforms in scope, extra techniques and exclusions. [`target_set`]
//! turns it into a [`TargetSet`]: every technique with a priority score and its reasons — which
//! actors use it, how many (the intersection weight), by which path, with which weights.
//!
//! The score of a technique is the sum, over the actors that use it, of the actor's weight
//! times the intel's weight for that technique (1 for ATT&CK groups), plus any extra weight the
//! profile gives it by hand. An actor counts once per technique however many paths lead there.
//! Tiers (`critical`, `high`, `medium`, `low` by default) are cut from the share of the highest
//! score and pick the re-validation window from the policy.
//!
//! A profile with `exposures` set also counts exposure management's findings
//! ([`target_set_with_exposures`]): a technique that would exploit open findings gains the
//! profile's exposure weight times the highest severity among them (on a 0–1 scale), with the
//! reason "exposure CVE-… on N assets".

use std::collections::BTreeMap;

use attest_attack::TechniqueId;

use crate::coverage::{Catalog, Claim, Unresolved, UseVia};
use crate::exposure::{ExposureNeeds, ExposureUse};
use crate::profile::{Actor, Profile};

/// Whence an actor comes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActorKind {
    /// An ATT&CK group.
    AttackGroup,
    /// An actor from the team's own intel.
    Intel,
}

/// One actor's use of a technique.
#[derive(Debug, Clone, PartialEq)]
pub struct ActorUse {
    /// The actor's id (ATT&CK `G…` id, or the intel actor's id).
    pub actor: String,
    /// Its name.
    pub name: String,
    /// ATT&CK group or intel.
    pub kind: ActorKind,
    /// The actor's weight in the profile.
    pub weight: f64,
    /// The intel's weight for this technique (1 for ATT&CK groups).
    pub technique_weight: f64,
    /// The paths by which the group uses it (ATT&CK groups; empty for intel).
    pub via: Vec<UseVia>,
    /// The intel resolved the technique from a name only.
    pub low_confidence: bool,
}

/// A technique in a target set.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetTechnique {
    /// The technique.
    pub technique: TechniqueId,
    /// Priority score (see the module documentation).
    pub score: f64,
    /// Tier name, from the share of the highest score.
    pub tier: String,
    /// The actors that use it, sorted by id.
    pub actors: Vec<ActorUse>,
    /// The weight the profile adds by hand, if it lists the technique.
    pub extra: Option<f64>,
    /// Open findings it would exploit, highest severity first (profiles with `exposures` only).
    pub exposures: Vec<ExposureUse>,
    /// The score the exposures add.
    pub exposure_score: f64,
}

impl TargetTechnique {
    /// How many actors of the profile use it (the intersection weight).
    pub fn actor_count(&self) -> usize {
        self.actors.len()
    }
}

/// A problem met while building a target set. None stops the work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetProblem {
    /// A profile actor matches no ATT&CK group and no intel actor.
    UnknownActor {
        /// As written in the profile.
        actor: String,
    },
    /// A technique id (of an intel actor, an extra or an exclusion) resolves to nothing.
    UnresolvedTechnique {
        /// Where it was written (actor id, `extra` or `exclusion`).
        origin: String,
        /// As written.
        technique: String,
        /// Why.
        why: Unresolved,
    },
    /// A revoked id was mapped to its replacement.
    Remapped {
        /// Where it was written.
        origin: String,
        /// As written.
        technique: TechniqueId,
        /// What it counts for.
        current: TechniqueId,
    },
}

/// A profile's prioritised target set.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetSet {
    /// The profile's name.
    pub profile: String,
    /// Platforms in scope (empty: all).
    pub platforms: Vec<String>,
    /// Techniques, highest score first, then by id.
    pub techniques: Vec<TargetTechnique>,
    /// Techniques the profile excluded that would otherwise be in the set.
    pub excluded: Vec<TechniqueId>,
    /// Techniques dropped because they list none of the profile's platforms.
    pub off_platform: Vec<TechniqueId>,
    /// Problems met.
    pub problems: Vec<TargetProblem>,
}

impl TargetSet {
    /// The entry of one technique.
    pub fn get(&self, id: TechniqueId) -> Option<&TargetTechnique> {
        self.techniques.iter().find(|t| t.technique == id)
    }
}

/// Options of [`target_set`].
#[derive(Debug, Clone, PartialEq)]
pub struct PriorityOptions {
    /// Tiers as (name, minimum share of the highest score), highest first; the last tier
    /// should have 0 so every technique gets one.
    pub tiers: Vec<(String, f64)>,
}

impl Default for PriorityOptions {
    fn default() -> PriorityOptions {
        PriorityOptions {
            tiers: vec![
                ("critical".into(), 0.75),
                ("high".into(), 0.5),
                ("medium".into(), 0.25),
                ("low".into(), 0.0),
            ],
        }
    }
}

struct Acc {
    actors: BTreeMap<String, ActorUse>,
    extra: Option<f64>,
    exposures: Vec<ExposureUse>,
}

fn entry(acc: &mut BTreeMap<TechniqueId, Acc>, t: TechniqueId) -> &mut Acc {
    acc.entry(t).or_insert_with(|| Acc {
        actors: BTreeMap::new(),
        extra: None,
        exposures: Vec::new(),
    })
}

/// Builds the target set of `profile` from the catalog's groups and the intel `actors`.
///
/// A profile actor is looked up as an intel actor id, then as an ATT&CK group id, name or alias,
/// then as an intel actor name or alias (all case-insensitive). A group's techniques come
/// directly, and via its software or campaigns when the profile's `paths` say so.
pub fn target_set(
    catalog: &Catalog,
    actors: &BTreeMap<String, Actor>,
    profile: &Profile,
    opts: &PriorityOptions,
) -> TargetSet {
    target_set_with_exposures(catalog, actors, &ExposureNeeds::new(), profile, opts)
}

/// [`target_set`], plus the techniques that exploit open exposures when the profile's
/// `exposures` weight is set (`needs` from [`crate::exposure::exposure_needs`]; ignored
/// otherwise). Exposure techniques stay whatever the profile's platforms: the findings are real.
pub fn target_set_with_exposures(
    catalog: &Catalog,
    actors: &BTreeMap<String, Actor>,
    needs: &ExposureNeeds,
    profile: &Profile,
    opts: &PriorityOptions,
) -> TargetSet {
    let mut problems = Vec::new();
    let mut acc: BTreeMap<TechniqueId, Acc> = BTreeMap::new();
    let resolve =
        |origin: &str, raw: &str, problems: &mut Vec<TargetProblem>| match catalog.resolve(raw) {
            Claim::Active(t) => Some(t),
            Claim::Remapped {
                claimed, current, ..
            } => {
                problems.push(TargetProblem::Remapped {
                    origin: origin.to_string(),
                    technique: claimed,
                    current,
                });
                Some(current)
            }
            Claim::Unresolved(why) => {
                problems.push(TargetProblem::UnresolvedTechnique {
                    origin: origin.to_string(),
                    technique: raw.to_string(),
                    why,
                });
                None
            }
        };

    for pa in &profile.actors {
        let q = pa.actor.trim();
        let intel_by_id = actors.values().find(|a| a.id.eq_ignore_ascii_case(q));
        let intel = || {
            intel_by_id.or_else(|| {
                actors.values().find(|a| {
                    a.name.eq_ignore_ascii_case(q)
                        || a.aliases.iter().any(|x| x.eq_ignore_ascii_case(q))
                })
            })
        };
        if intel_by_id.is_none()
            && let Some(g) = catalog.group(q)
        {
            for (t, via) in &g.uses {
                let counts = match via {
                    UseVia::Direct => true,
                    UseVia::Software(_) => profile.paths.via_software,
                    UseVia::Campaign(_) => profile.paths.via_campaigns,
                };
                if !counts {
                    continue;
                }
                let u = entry(&mut acc, *t)
                    .actors
                    .entry(g.id.clone())
                    .or_insert_with(|| ActorUse {
                        actor: g.id.clone(),
                        name: g.name.clone(),
                        kind: ActorKind::AttackGroup,
                        weight: pa.weight,
                        technique_weight: 1.0,
                        via: Vec::new(),
                        low_confidence: false,
                    });
                if !u.via.contains(via) {
                    u.via.push(via.clone());
                }
            }
            continue;
        }
        let Some(a) = intel() else {
            problems.push(TargetProblem::UnknownActor {
                actor: pa.actor.clone(),
            });
            continue;
        };
        for at in &a.techniques {
            let Some(t) = resolve(&a.id, &at.technique, &mut problems) else {
                continue;
            };
            let u = entry(&mut acc, t)
                .actors
                .entry(a.id.clone())
                .or_insert_with(|| ActorUse {
                    actor: a.id.clone(),
                    name: a.name.clone(),
                    kind: ActorKind::Intel,
                    weight: pa.weight,
                    technique_weight: 0.0,
                    via: Vec::new(),
                    low_confidence: true,
                });
            // Listed twice (e.g. by id and by name): keep the strongest statement.
            u.technique_weight = u.technique_weight.max(at.weight);
            u.low_confidence &= at.low_confidence;
        }
    }
    for (raw, w) in &profile.extra_techniques {
        if let Some(t) = resolve("extra", raw, &mut problems) {
            let e = entry(&mut acc, t);
            e.extra = Some(e.extra.unwrap_or(0.0) + w);
        }
    }
    if profile.exposures.is_some() {
        for (t, uses) in needs {
            entry(&mut acc, *t).exposures = uses.clone();
        }
    }
    let exposure_weight = profile.exposures.unwrap_or(0.0);
    let mut excluded = Vec::new();
    for raw in &profile.exclusions {
        if let Some(t) = resolve("exclusion", raw, &mut problems)
            && acc.remove(&t).is_some()
        {
            excluded.push(t);
        }
    }
    excluded.sort();
    excluded.dedup();

    let mut off_platform = Vec::new();
    let mut techniques: Vec<TargetTechnique> = Vec::new();
    for (t, a) in acc {
        // Hand-picked techniques stay whatever their platforms: the profile asked for them.
        let on_platform = profile.platforms.is_empty()
            || a.extra.is_some()
            || !a.exposures.is_empty()
            || catalog
                .technique(t)
                .is_some_and(|c| profile.platforms.iter().any(|p| c.on_platform(p)));
        if !on_platform {
            off_platform.push(t);
            continue;
        }
        let actors: Vec<ActorUse> = a.actors.into_values().collect();
        let score = actors
            .iter()
            .map(|u| u.weight * u.technique_weight)
            .sum::<f64>()
            + a.extra.unwrap_or(0.0);
        let exposure_score = exposure_weight
            * a.exposures
                .iter()
                .map(|u| u.severity / 10.0)
                .fold(0.0_f64, f64::max);
        techniques.push(TargetTechnique {
            technique: t,
            score: score + exposure_score,
            tier: String::new(),
            actors,
            extra: a.extra,
            exposures: a.exposures,
            exposure_score,
        });
    }
    let max = techniques.iter().map(|t| t.score).fold(0.0_f64, f64::max);
    for t in &mut techniques {
        let share = if max > 0.0 { t.score / max } else { 0.0 };
        t.tier = opts
            .tiers
            .iter()
            .find(|(_, min)| share >= *min)
            .or(opts.tiers.last())
            .map(|(n, _)| n.clone())
            .unwrap_or_default();
    }
    techniques.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.technique.cmp(&b.technique))
    });
    TargetSet {
        profile: profile.name.clone(),
        platforms: profile.platforms.clone(),
        techniques,
        excluded,
        off_platform,
        problems,
    }
}

/// A profile name the state does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no profile named {name:?} (profiles: {})", if known.is_empty() { "none yet".to_string() } else { known.join(", ") })]
pub struct UnknownProfile {
    /// The name asked for.
    pub name: String,
    /// The profiles there are.
    pub known: Vec<String>,
}

/// The scope of a coverage question — a profile's target set (default priority options), a
/// platform, a system — as the CLI's `--profile/--platform/--scope` and the API's query ask it.
pub fn question_scope(
    catalog: &Catalog,
    state: &crate::state::State,
    profile: Option<&str>,
    platform: Option<&str>,
    system: Option<&str>,
) -> Result<(Option<TargetSet>, crate::coverage::Scope), UnknownProfile> {
    use crate::coverage::Scope;
    let target = match profile {
        Some(name) => {
            let Some(p) = state.profiles.get(name) else {
                return Err(UnknownProfile {
                    name: name.to_string(),
                    known: state.profiles.keys().cloned().collect(),
                });
            };
            // Exposures count only when the profile asks for them: resolving the mappings
            // costs a pass over every exposure.
            let needs = if p.exposures.is_some() {
                let index = crate::exposure::MappingIndex::new(
                    state.exposure_mappings.values(),
                    catalog,
                    &state.remap,
                );
                crate::exposure::exposure_needs(state.exposures.values(), &index, catalog)
            } else {
                ExposureNeeds::new()
            };
            Some(target_set_with_exposures(
                catalog,
                &state.actors,
                &needs,
                p,
                &PriorityOptions::default(),
            ))
        }
        None => None,
    };
    let mut scope = match &target {
        Some(t) => Scope::profile(t.clone()),
        None => Scope::all(),
    };
    if let Some(p) = platform {
        scope.platforms = vec![p.to_string()];
    }
    if let Some(s) = system {
        scope.systems = vec![s.to_string()];
    }
    Ok((target, scope))
}
