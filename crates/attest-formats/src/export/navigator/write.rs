//! Building state, priority and actor-overlay layers, and writing them as JSON.

use super::spec::{
    Gradient, LAYER_FORMAT, Layer, LayerFilters, LayerLayout, LayerTechnique, LegendItem,
    MetadataItem, NAVIGATOR_VERSION, Versions,
};

/// What every layer says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerInfo {
    /// Layer name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// ATT&CK version of the knowledge base the layer was computed on (`17.1`).
    pub attack_version: String,
    /// `enterprise-attack`, `mobile-attack` or `ics-attack`.
    pub domain: String,
    /// Platforms in scope; empty means all of the domain's (no filter written).
    pub platforms: Vec<String>,
}

/// A technique's coverage state, as a layer shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LayerState {
    /// A usable rule has a fresh, standing pass.
    Validated,
    /// A usable rule exists but is untested, stale or invalidated.
    RuleExists,
    /// Usable rules exist and all of them fail.
    Failing,
    /// Rules claim the technique but none is usable.
    Degraded,
    /// No rule claims the technique.
    Gap,
}

impl LayerState {
    /// Every state, best first (legend order).
    pub const ALL: [LayerState; 5] = [
        LayerState::Validated,
        LayerState::RuleExists,
        LayerState::Failing,
        LayerState::Degraded,
        LayerState::Gap,
    ];

    /// The state's colour, from the Okabe–Ito palette, which stays distinct under the common
    /// forms of colour blindness: bluish green, sky blue, vermillion, orange, reddish purple.
    pub fn color(self) -> &'static str {
        match self {
            LayerState::Validated => "#009e73",
            LayerState::RuleExists => "#56b4e9",
            LayerState::Failing => "#d55e00",
            LayerState::Degraded => "#e69f00",
            LayerState::Gap => "#cc79a7",
        }
    }

    /// The legend and metadata label.
    pub fn label(self) -> &'static str {
        match self {
            LayerState::Validated => "validated",
            LayerState::RuleExists => "rule exists (unvalidated)",
            LayerState::Failing => "failing",
            LayerState::Degraded => "degraded",
            LayerState::Gap => "gap",
        }
    }
}

impl From<attest_core::coverage::CoverageState> for LayerState {
    fn from(s: attest_core::coverage::CoverageState) -> LayerState {
        use attest_core::coverage::CoverageState;
        match s {
            CoverageState::Validated => LayerState::Validated,
            CoverageState::Unvalidated => LayerState::RuleExists,
            CoverageState::Failing => LayerState::Failing,
            CoverageState::Degraded => LayerState::Degraded,
            CoverageState::Gap => LayerState::Gap,
        }
    }
}

/// A technique in a state layer.
#[derive(Debug, Clone, PartialEq)]
pub struct StateTechnique {
    /// `T1234` or `T1234.001`.
    pub id: String,
    /// Tactic short names (`defense-evasion`); one entry is written per tactic.
    pub tactics: Vec<String>,
    /// Its state.
    pub state: LayerState,
    /// Rules behind the state (ids or names).
    pub rules: Vec<String>,
    /// Reasons, in words (`source silent since 2026-10-01`).
    pub reasons: Vec<String>,
}

/// A technique in a priority layer.
#[derive(Debug, Clone, PartialEq)]
pub struct PriorityTechnique {
    /// `T1234` or `T1234.001`.
    pub id: String,
    /// Tactic short names.
    pub tactics: Vec<String>,
    /// Priority score (higher first).
    pub priority: f64,
    /// Its state; validated techniques are left out of the layer.
    pub state: LayerState,
    /// Why it has that priority (`used by APT29 (w 2), FIN7 (w 1)`).
    pub reasons: Vec<String>,
}

/// A technique an actor uses, in an actor overlay.
#[derive(Debug, Clone, PartialEq)]
pub struct OverlayTechnique {
    /// `T1234` or `T1234.001`.
    pub id: String,
    /// Tactic short names.
    pub tactics: Vec<String>,
    /// The actor's weight for it (1 when the intel gives none).
    pub weight: f64,
    /// Our state for it.
    pub state: LayerState,
}

/// A state layer: every technique coloured by its state, with a legend, rules and reasons in
/// the comments, and the count per state in the layer metadata.
pub fn state_layer(info: &LayerInfo, techniques: &[StateTechnique]) -> Layer {
    let mut layer = base(info);
    let ids: Vec<&str> = techniques.iter().map(|t| t.id.as_str()).collect();
    for t in techniques {
        let mut comment = format!("State: {}.", t.state.label());
        if !t.rules.is_empty() {
            comment.push_str(&format!(" Rules: {}.", t.rules.join(", ")));
        }
        if !t.reasons.is_empty() {
            comment.push_str(&format!(" Reasons: {}.", t.reasons.join("; ")));
        }
        let metadata = vec![
            MetadataItem::new("state", t.state.label()),
            MetadataItem::new("rules", t.rules.len().to_string()),
        ];
        push_entries(
            &mut layer,
            &ids,
            &t.id,
            &t.tactics,
            None,
            t.state.color(),
            &comment,
            &metadata,
        );
    }
    layer.legend_items = legend();
    layer.metadata = counts(techniques.iter().map(|t| t.state));
    layer.metadata.insert(0, MetadataItem::new("kind", "state"));
    layer
}

/// A priority layer: techniques not validated, scored by priority on a gradient from 0 to the
/// highest priority; the comment gives the state and the reasons.
pub fn priority_layer(info: &LayerInfo, techniques: &[PriorityTechnique]) -> Layer {
    let mut layer = base(info);
    let open: Vec<&PriorityTechnique> = techniques
        .iter()
        .filter(|t| t.state != LayerState::Validated && t.priority.is_finite())
        .collect();
    let ids: Vec<&str> = open.iter().map(|t| t.id.as_str()).collect();
    let max = open.iter().map(|t| t.priority).fold(0.0_f64, f64::max);
    for t in &open {
        let mut comment = format!(
            "Priority {}; state: {}.",
            round(t.priority),
            t.state.label()
        );
        if !t.reasons.is_empty() {
            comment.push_str(&format!(" {}.", t.reasons.join("; ")));
        }
        let metadata = vec![
            MetadataItem::new("state", t.state.label()),
            MetadataItem::new("priority", round(t.priority).to_string()),
        ];
        push_entries(
            &mut layer,
            &ids,
            &t.id,
            &t.tactics,
            Some(round(t.priority)),
            "",
            &comment,
            &metadata,
        );
    }
    layer.gradient = Gradient {
        colors: vec!["#ffffff".into(), "#e69f00".into(), "#d55e00".into()],
        min_value: 0.0,
        // Navigator requires maxValue > minValue, even when every priority is 0.
        max_value: if max > 0.0 { round(max) } else { 1.0 },
    };
    layer.sorting = 3;
    layer.layout.show_aggregate_scores = true;
    layer.metadata = counts(open.iter().map(|t| t.state));
    layer
        .metadata
        .insert(0, MetadataItem::new("kind", "priority"));
    layer
}

/// An actor overlay: the techniques `actor` uses, coloured by our state and scored by the
/// actor's weight, with the state legend and the count per state.
pub fn actor_layer(info: &LayerInfo, actor: &str, techniques: &[OverlayTechnique]) -> Layer {
    let mut layer = base(info);
    let ids: Vec<&str> = techniques.iter().map(|t| t.id.as_str()).collect();
    for t in techniques {
        let comment = format!(
            "Used by {actor} (weight {}); our state: {}.",
            round(t.weight),
            t.state.label()
        );
        let metadata = vec![
            MetadataItem::new("actor", actor),
            MetadataItem::new("state", t.state.label()),
        ];
        let score = t.weight.is_finite().then(|| round(t.weight));
        push_entries(
            &mut layer,
            &ids,
            &t.id,
            &t.tactics,
            score,
            t.state.color(),
            &comment,
            &metadata,
        );
    }
    layer.legend_items = legend();
    layer.metadata = counts(techniques.iter().map(|t| t.state));
    layer.metadata.insert(0, MetadataItem::new("actor", actor));
    layer.metadata.insert(0, MetadataItem::new("kind", "actor"));
    layer
}

/// The layer as pretty-printed JSON, ending in a newline.
pub fn layer_to_json(layer: &Layer) -> String {
    // Serializing plain structs of strings, bools and finite numbers cannot fail; non-finite
    // scores are filtered out by the builders (serde_json would write them as null).
    let mut s = serde_json::to_string_pretty(layer).unwrap_or_default();
    s.push('\n');
    s
}

/// A layer with everything but the techniques.
fn base(info: &LayerInfo) -> Layer {
    Layer {
        name: info.name.clone(),
        versions: Versions {
            attack: info.attack_version.clone(),
            navigator: NAVIGATOR_VERSION.into(),
            layer: LAYER_FORMAT.into(),
        },
        domain: info.domain.clone(),
        description: info.description.clone(),
        filters: LayerFilters {
            platforms: info.platforms.clone(),
        },
        sorting: 0,
        layout: LayerLayout::default(),
        hide_disabled: false,
        techniques: Vec::new(),
        gradient: Gradient {
            colors: vec!["#ffffff".into(), "#009e73".into()],
            min_value: 0.0,
            max_value: 100.0,
        },
        legend_items: Vec::new(),
        metadata: Vec::new(),
        show_tactic_row_background: false,
        tactic_row_background: "#dddddd".into(),
        select_techniques_across_tactics: true,
        select_subtechniques_with_parent: false,
        select_visible_techniques: false,
    }
}

/// One entry per tactic (or one without a tactic). A parent whose sub-techniques are in the
/// layer shows them by default.
#[allow(clippy::too_many_arguments)]
fn push_entries(
    layer: &mut Layer,
    all_ids: &[&str],
    id: &str,
    tactics: &[String],
    score: Option<f64>,
    color: &str,
    comment: &str,
    metadata: &[MetadataItem],
) {
    let id = id.trim().to_ascii_uppercase();
    let prefix = format!("{id}.");
    let show_subtechniques = !id.contains('.')
        && all_ids
            .iter()
            .any(|x| x.to_ascii_uppercase().starts_with(&prefix));
    let tactics: Vec<Option<String>> = if tactics.is_empty() {
        vec![None]
    } else {
        tactics.iter().map(|t| Some(t.clone())).collect()
    };
    for tactic in tactics {
        layer.techniques.push(LayerTechnique {
            technique_id: id.clone(),
            tactic,
            score,
            color: color.to_string(),
            comment: comment.to_string(),
            enabled: true,
            metadata: metadata.to_vec(),
            show_subtechniques,
        });
    }
}

/// The state legend.
fn legend() -> Vec<LegendItem> {
    LayerState::ALL
        .iter()
        .map(|s| LegendItem {
            label: s.label().into(),
            color: s.color().into(),
        })
        .collect()
}

/// Layer metadata: the number of techniques per state.
fn counts(states: impl Iterator<Item = LayerState>) -> Vec<MetadataItem> {
    let mut n = [0usize; 5];
    let mut total = 0;
    for s in states {
        n[LayerState::ALL.iter().position(|x| *x == s).unwrap_or(4)] += 1;
        total += 1;
    }
    let mut out = vec![MetadataItem::new("techniques", total.to_string())];
    for (s, c) in LayerState::ALL.iter().zip(n) {
        out.push(MetadataItem::new(s.label(), c.to_string()));
    }
    out
}

/// A score rounded to 2 decimals, so layers stay readable and stable across runs.
fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
