//! From a coverage answer to a finished, validated Navigator layer: the one conversion the CLI
//! (`attest layer export`) and the API (`GET /api/v1/layers/{kind}`) share.

use attest_attack::{KnowledgeBase, TechniqueId};
use attest_core::coverage::{Coverage, CoverageState};
use attest_core::priority::TargetSet;

use super::{
    LayerInfo, LayerState, OverlayTechnique, PriorityTechnique, StateTechnique, actor_layer,
    layer_to_json, priority_layer, state_layer, validate_layer,
};
use crate::{Input, Severity};

/// Which layer to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoverageLayerKind<'a> {
    /// Every technique coloured by its coverage state.
    State,
    /// A profile's priority techniques (needs the target set).
    Priority,
    /// An ATT&CK group's techniques (by ID, name or alias) coloured by our state.
    Actor(&'a str),
}

impl<'a> CoverageLayerKind<'a> {
    /// Parses `state`, `priority` or `actor` (which takes the actor query).
    pub fn parse(kind: &str, actor: Option<&'a str>) -> Result<Self, CoverageLayerError> {
        match kind.trim() {
            "state" => Ok(CoverageLayerKind::State),
            "priority" => Ok(CoverageLayerKind::Priority),
            "actor" => actor
                .map(CoverageLayerKind::Actor)
                .ok_or(CoverageLayerError::NeedsActor),
            other => Err(CoverageLayerError::UnknownKind(other.to_string())),
        }
    }
}

/// Why a layer could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CoverageLayerError {
    /// Not `state`, `priority` or `actor`.
    #[error("layer kind {0:?}: use state, priority or actor")]
    UnknownKind(String),
    /// A priority layer without a profile.
    #[error("a priority layer needs a profile")]
    NeedsProfile,
    /// An actor layer without an actor.
    #[error("an actor layer needs an actor")]
    NeedsActor,
    /// No ATT&CK group matches.
    #[error("no ATT&CK group matches {0:?}")]
    UnknownActor(String),
    /// The layer written breaks the 4.5 format (a bug: every layer is checked before it leaves).
    #[error("internal error: the exported layer breaks the 4.5 format: {0}")]
    Invalid(String),
}

fn layer_state(s: CoverageState) -> LayerState {
    LayerState::from(s)
}

/// Writes the layer of `kind` for `coverage` (and the profile's `target`, when the coverage is
/// for a profile), checked against the 4.5 rules, as JSON.
pub fn coverage_layer(
    kb: &KnowledgeBase,
    coverage: &Coverage,
    target: Option<&TargetSet>,
    kind: CoverageLayerKind<'_>,
    platform: Option<&str>,
) -> Result<String, CoverageLayerError> {
    let domain = kb
        .domains()
        .first()
        .map(|d| d.key.clone())
        .unwrap_or_else(|| "enterprise-attack".into());
    let release = kb
        .domains()
        .first()
        .and_then(|d| d.release.clone())
        .unwrap_or_default();
    let mut info = LayerInfo {
        name: String::new(),
        description: format!("attest coverage as of {}", coverage.at),
        attack_version: release.split('.').next().unwrap_or("").to_string(),
        domain,
        platforms: platform.iter().map(|p| p.to_string()).collect(),
    };
    let layer = match kind {
        CoverageLayerKind::State => {
            info.name = match target {
                Some(t) => format!("attest coverage — {}", t.profile),
                None => "attest coverage".into(),
            };
            let techniques: Vec<StateTechnique> = coverage
                .techniques
                .iter()
                .map(|t| StateTechnique {
                    id: t.technique.to_string(),
                    tactics: t.tactics.clone(),
                    state: layer_state(t.state),
                    rules: t.rules.iter().map(|r| r.rule.0.clone()).collect(),
                    reasons: t.reasons.iter().map(ToString::to_string).collect(),
                })
                .collect();
            state_layer(&info, &techniques)
        }
        CoverageLayerKind::Priority => {
            let target = target.ok_or(CoverageLayerError::NeedsProfile)?;
            info.name = format!("attest priorities — {}", target.profile);
            let techniques: Vec<PriorityTechnique> = target
                .techniques
                .iter()
                .filter_map(|tt| {
                    let tc = coverage.technique(tt.technique)?;
                    Some(PriorityTechnique {
                        id: tt.technique.to_string(),
                        tactics: tc.tactics.clone(),
                        priority: tt.score,
                        state: layer_state(tc.state),
                        reasons: tc.reasons.iter().map(ToString::to_string).collect(),
                    })
                })
                .collect();
            priority_layer(&info, &techniques)
        }
        CoverageLayerKind::Actor(q) => {
            let g = kb
                .group(q)
                .ok_or_else(|| CoverageLayerError::UnknownActor(q.to_string()))?;
            info.name = format!("{} vs attest coverage", g.meta.name);
            let techniques: Vec<OverlayTechnique> = kb
                .group_techniques(g, Default::default())
                .iter()
                .filter_map(|gt| {
                    let tc = coverage.technique(gt.technique.id)?;
                    Some(OverlayTechnique {
                        id: gt.technique.id.to_string(),
                        tactics: tc.tactics.clone(),
                        weight: 1.0,
                        state: layer_state(tc.state),
                    })
                })
                .collect();
            actor_layer(&info, &g.meta.name, &techniques)
        }
    };
    let json = layer_to_json(&layer);
    // Every layer we write must load in Navigator: check it against the 4.5 rules first.
    let known = |id: &str| TechniqueId::parse(id).is_ok_and(|t| kb.technique(t).is_some());
    let problems = validate_layer(
        Input {
            path: "layer",
            bytes: json.as_bytes(),
        },
        &known,
    );
    if let Some(p) = problems.iter().find(|d| d.severity == Severity::Error) {
        return Err(CoverageLayerError::Invalid(p.to_string()));
    }
    Ok(json)
}
