//! Facts in words a person can act on, where a type has no `Display` of its own: one wording
//! shared by the CLI's tables and the dashboard. (Reasons, invalidations and next steps read
//! through their `Display` implementations.)

use crate::source::Health;

/// A source's health in words.
pub fn health_text(health: &Health) -> String {
    match health {
        Health::Healthy => "healthy".into(),
        Health::NeverSeen => "never seen".into(),
        Health::Silent { since } => format!("silent since {since}"),
    }
}
