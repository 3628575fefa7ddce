//! Writing a [`Profile`] as profile YAML (the schema of [`super`]).

use attest_core::profile::Profile;

use super::spec::{PathsDoc, ProfileDoc, WeightedEntry};

/// The profile as YAML text in the documented schema. Weights of exactly 1 are written as bare
/// entries, others as `{actor|technique, weight}` maps; empty lists are left out. Reading the
/// text back with [`super::read_profile`] gives an equal profile.
pub fn write_profile(profile: &Profile) -> String {
    let weight = |w: f64| (w != 1.0).then_some(w);
    let doc = ProfileDoc {
        name: profile.name.clone(),
        description: profile.description.clone(),
        actors: profile
            .actors
            .iter()
            .map(|a| WeightedEntry::new(a.actor.clone(), weight(a.weight)))
            .collect(),
        sectors: profile.sectors.clone(),
        platforms: profile.platforms.clone(),
        techniques: profile
            .extra_techniques
            .iter()
            .map(|(t, w)| WeightedEntry::new(t.clone(), weight(*w)))
            .collect(),
        exclusions: profile.exclusions.clone(),
        paths: PathsDoc {
            via_software: profile.paths.via_software,
            via_campaigns: profile.paths.via_campaigns,
        },
        include_exposures: profile.exposures.is_some(),
        exposure_weight: profile.exposures.and_then(weight),
    };
    // yaml_serde fails only on maps with non-string keys and on custom Serialize errors; this
    // document has neither, so the fallback is unreachable (and would show as an empty file
    // that the reader rejects, not as a panic).
    yaml_serde::to_string(&doc).unwrap_or_default()
}
