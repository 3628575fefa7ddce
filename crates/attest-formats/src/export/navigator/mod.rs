//! ATT&CK Navigator layers (layer format 4.5): state, priority and actor-overlay layers, and a
//! validator for the format's field rules.
//!
//! The exporters take small input types of their own ([`StateTechnique`],
//! [`PriorityTechnique`], [`OverlayTechnique`]), so they do not depend on the coverage engine's
//! internals; the CLI converts. Every layer names the ATT&CK version and domain
//! ([`LayerInfo`]), and a technique with several tactics gets one entry per tactic (or one
//! entry without `tactic` when the caller gives none, which Navigator shows under every tactic).
//!
//! - **State layer** ([`state_layer`]): each technique coloured by its coverage state —
//!   validated, rule exists (unvalidated), failing, degraded, gap — in the colour-blind-safe
//!   Okabe–Ito palette ([`LayerState::color`]), with a legend; the comment lists the rules and
//!   the reasons; layer metadata carries the count per state.
//! - **Priority layer** ([`priority_layer`]): techniques not validated, scored by priority, on a
//!   white → orange → vermillion gradient from 0 to the highest priority.
//! - **Actor overlay** ([`actor_layer`]): the techniques an actor uses, coloured by our state,
//!   scored by the actor's weight.
//!
//! [`coverage_layer`] is the one conversion from a coverage answer to a finished layer, checked
//! before it leaves, shared by `attest layer export` and the API's `GET /api/v1/layers/{kind}`.
//!
//! [`validate_layer`] checks a layer file (one layer or a list of layers) against the 4.5 field
//! rules: required fields, `versions.layer == "4.5"`, a known domain, numeric scores, technique
//! ids of the ATT&CK shape and — through the caller's predicate — known to the release, tactic
//! short names, `#rrggbb` colours (gradient colours may carry an alpha byte, `#rrggbbaa`, as
//! Navigator writes them), gradient and layout values. Output is deterministic.

mod coverage;
mod spec;
#[cfg(test)]
mod tests;
mod validate;
mod write;

pub use coverage::{CoverageLayerError, CoverageLayerKind, coverage_layer};
pub use spec::{
    Gradient, LAYER_FORMAT, Layer, LayerFilters, LayerLayout, LayerTechnique, LegendItem,
    MetadataItem, NAVIGATOR_VERSION, Versions,
};
pub(crate) use validate::key_lines;
pub use validate::validate_layer;
pub use write::{
    LayerInfo, LayerState, OverlayTechnique, PriorityTechnique, StateTechnique, actor_layer,
    layer_to_json, priority_layer, state_layer,
};
