//! The Navigator layer format 4.5, as serde types (field names as the format spells them).

use serde::{Deserialize, Serialize};

/// The layer format version written and validated.
pub const LAYER_FORMAT: &str = "4.5";

/// The Navigator version written in `versions.navigator` (4.5 layers need at least 4.9.0).
pub const NAVIGATOR_VERSION: &str = "5.1.0";

/// One layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Layer {
    /// Layer name.
    pub name: String,
    /// ATT&CK, Navigator and layer format versions.
    pub versions: Versions,
    /// `enterprise-attack`, `mobile-attack` or `ics-attack`.
    pub domain: String,
    /// Free text.
    pub description: String,
    /// Platform filter.
    pub filters: LayerFilters,
    /// 0–3: name ascending/descending, score ascending/descending.
    pub sorting: u8,
    /// Matrix layout.
    pub layout: LayerLayout,
    /// Hide disabled techniques.
    pub hide_disabled: bool,
    /// Annotated techniques.
    pub techniques: Vec<LayerTechnique>,
    /// Score colours.
    pub gradient: Gradient,
    /// Legend.
    pub legend_items: Vec<LegendItem>,
    /// Layer metadata.
    pub metadata: Vec<MetadataItem>,
    /// Show the tactic row background.
    pub show_tactic_row_background: bool,
    /// Tactic row background colour.
    pub tactic_row_background: String,
    /// Selecting a technique selects it under every tactic.
    pub select_techniques_across_tactics: bool,
    /// Selecting a technique selects its sub-techniques.
    pub select_subtechniques_with_parent: bool,
    /// Only visible techniques are selected.
    pub select_visible_techniques: bool,
}

/// `versions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Versions {
    /// ATT&CK version (`17`, `18.1`).
    pub attack: String,
    /// Navigator version.
    pub navigator: String,
    /// Layer format version, `4.5`.
    pub layer: String,
}

/// `filters`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerFilters {
    /// Platforms shown.
    pub platforms: Vec<String>,
}

/// `layout`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LayerLayout {
    /// `side`, `flat` or `mini`.
    pub layout: String,
    /// Aggregate function: `average`, `min`, `max`, `sum`.
    pub aggregate_function: String,
    /// Show ATT&CK ids.
    #[serde(rename = "showID")]
    pub show_id: bool,
    /// Show names.
    pub show_name: bool,
    /// Show aggregate scores.
    pub show_aggregate_scores: bool,
    /// Count unscored techniques in aggregates.
    pub count_unscored: bool,
    /// `none`, `all` or `annotated`.
    pub expanded_subtechniques: String,
}

impl Default for LayerLayout {
    fn default() -> Self {
        LayerLayout {
            layout: "side".into(),
            aggregate_function: "average".into(),
            show_id: true,
            show_name: true,
            show_aggregate_scores: false,
            count_unscored: false,
            expanded_subtechniques: "annotated".into(),
        }
    }
}

/// One technique entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LayerTechnique {
    /// `T1234` or `T1234.001`.
    #[serde(rename = "techniqueID")]
    pub technique_id: String,
    /// Tactic short name; absent: every tactic of the technique.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tactic: Option<String>,
    /// Score; absent: unscored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// `#rrggbb`, or empty for the gradient colour.
    pub color: String,
    /// Free text.
    pub comment: String,
    /// Enabled.
    pub enabled: bool,
    /// Metadata.
    pub metadata: Vec<MetadataItem>,
    /// Show sub-techniques by default.
    pub show_subtechniques: bool,
}

/// `gradient`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Gradient {
    /// At least two `#rrggbb` colours.
    pub colors: Vec<String>,
    /// Score of the first colour.
    pub min_value: f64,
    /// Score of the last colour (above `min_value`).
    pub max_value: f64,
}

/// A legend entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegendItem {
    /// Label.
    pub label: String,
    /// `#rrggbb`.
    pub color: String,
}

/// A metadata entry (name and value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetadataItem {
    /// Name.
    pub name: String,
    /// Value.
    pub value: String,
}

impl MetadataItem {
    /// A metadata entry.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        MetadataItem {
            name: name.into(),
            value: value.into(),
        }
    }
}
