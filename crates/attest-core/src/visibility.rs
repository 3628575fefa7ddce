//! Telemetry visibility of one technique: which of the data components and log sources ATT&CK
//! lists for detecting it the inventory provides, and through which usable sources. One
//! definition for `attest sources visibility` and `GET /api/v1/visibility/{technique}`.

use attest_attack::{KnowledgeBase, TechniqueId};
use jiff::Timestamp;

use crate::source::{DataSource, LogSourceRef};

/// One telemetry requirement and who provides it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct VisibilityRow {
    /// Platforms the requirement applies to (empty: any).
    pub platforms: Vec<String>,
    /// The ATT&CK data component.
    pub data_component: String,
    /// The ATT&CK log source name (v18+ analytics).
    pub log_source: Option<String>,
    /// Its channel.
    pub channel: Option<String>,
    /// Usable inventory sources providing it, by name (empty: not visible).
    pub provided_by: Vec<String>,
}

impl VisibilityRow {
    /// Whether any usable source provides it.
    pub fn visible(&self) -> bool {
        !self.provided_by.is_empty()
    }
}

/// The telemetry requirements of `technique` (on `platform`, or every platform) with the usable
/// sources at `now` that provide each, sorted and without repeats.
pub fn telemetry_visibility<'s>(
    kb: &KnowledgeBase,
    sources: impl IntoIterator<Item = &'s DataSource> + Clone,
    technique: TechniqueId,
    platform: Option<&str>,
    now: Timestamp,
) -> Vec<VisibilityRow> {
    let mut rows: Vec<VisibilityRow> = kb
        .telemetry(technique, platform)
        .into_iter()
        .map(|req| {
            let wanted = req.log_source.map(|(n, c)| LogSourceRef {
                name: n.to_string(),
                channel: c.map(str::to_string),
            });
            let provided_by = sources
                .clone()
                .into_iter()
                .filter(|s| s.is_usable(now))
                .filter(|s| {
                    req.platforms.is_empty() || req.platforms.iter().any(|p| s.covers_platform(p))
                })
                .filter(|s| {
                    s.provides_component(&req.data_component.meta.name)
                        || wanted
                            .as_ref()
                            .is_some_and(|w| s.log_sources.iter().any(|l| l.provides(w)))
                })
                .map(|s| s.name.clone())
                .collect();
            VisibilityRow {
                platforms: req.platforms.to_vec(),
                data_component: req.data_component.meta.name.clone(),
                log_source: req.log_source.map(|(n, _)| n.to_string()),
                channel: req.log_source.and_then(|(_, c)| c).map(str::to_string),
                provided_by,
            }
        })
        .collect();
    rows.sort();
    rows.dedup();
    rows
}
