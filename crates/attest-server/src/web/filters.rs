//! The matrix filters, read from and written back to the query string so that every view is a
//! shareable link, and the one matcher that decides whether a technique passes them (used by
//! the matrix and by every download, so a download holds what the page shows).

use attest_core::coverage::{CoverageState, TechniqueCoverage};
use serde::Deserialize;

/// Filters of the matrix and of downloads. Empty values (as a GET form sends them) mean "any".
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub(crate) struct Filters {
    /// A profile: scope and priority weights; techniques outside it are muted.
    pub profile: Option<String>,
    /// An ATT&CK group (id, name or alias): techniques it does not use are muted.
    pub actor: Option<String>,
    /// An ATT&CK platform.
    pub platform: Option<String>,
    /// A system or segment: only telemetry from sources covering it counts.
    pub scope: Option<String>,
    /// A tactic short name: only that column.
    pub tactic: Option<String>,
    /// A coverage state: only techniques in it (or with a sub-technique in it).
    pub state: Option<String>,
    /// An inventory source: only techniques whose telemetry it provides.
    pub source: Option<String>,
    /// Search in ids and names.
    pub q: Option<String>,
}

fn clean(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl Filters {
    pub fn profile(&self) -> Option<&str> {
        clean(&self.profile)
    }
    pub fn actor(&self) -> Option<&str> {
        clean(&self.actor)
    }
    pub fn platform(&self) -> Option<&str> {
        clean(&self.platform)
    }
    pub fn scope(&self) -> Option<&str> {
        clean(&self.scope)
    }
    pub fn tactic(&self) -> Option<&str> {
        clean(&self.tactic)
    }
    pub fn state(&self) -> Option<CoverageState> {
        clean(&self.state).and_then(CoverageState::parse)
    }
    /// Whether the state filter is `value`.
    pub fn state_is(&self, value: &str) -> bool {
        self.state().is_some_and(|s| s.as_str() == value)
    }
    pub fn source(&self) -> Option<&str> {
        clean(&self.source)
    }
    pub fn q(&self) -> Option<&str> {
        clean(&self.q)
    }

    /// The filters as a query string (without `?`), empty ones left out.
    pub fn query(&self) -> String {
        let pairs = [
            ("profile", self.profile()),
            ("actor", self.actor()),
            ("platform", self.platform()),
            ("scope", self.scope()),
            ("tactic", self.tactic()),
            ("state", clean(&self.state)),
            ("source", self.source()),
            ("q", self.q()),
        ];
        pairs
            .iter()
            .filter_map(|(k, v)| v.map(|v| format!("{k}={}", encode(v))))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// Whether any filter that hides techniques is set.
    pub fn narrows(&self) -> bool {
        self.state().is_some() || self.source().is_some() || self.q().is_some()
    }

    /// Whether `t` passes the state, source and search filters (tactic, profile and actor are
    /// applied by the caller: they pick columns and mute cells rather than hide them).
    pub fn matches(&self, t: &TechniqueCoverage) -> bool {
        if let Some(s) = self.state()
            && t.state != s
        {
            return false;
        }
        if let Some(src) = self.source()
            && !provided_by(t, src)
        {
            return false;
        }
        if let Some(q) = self.q() {
            let q = q.to_lowercase();
            if !t.technique.to_string().to_lowercase().contains(&q)
                && !t.name.to_lowercase().contains(&q)
            {
                return false;
            }
        }
        true
    }
}

/// Whether inventory source `source` provides telemetry `t` needs.
pub(crate) fn provided_by(t: &TechniqueCoverage, source: &str) -> bool {
    t.visibility.iter().any(|p| {
        p.components.iter().any(|c| {
            c.provided_by.iter().any(|s| s == source)
                || c.log_sources
                    .iter()
                    .any(|(_, by)| by.iter().any(|s| s == source))
        })
    })
}

/// Percent-encodes a query value (RFC 3986 unreserved characters kept).
pub(crate) fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_are_no_filter_and_the_query_round_trips() {
        let f = Filters {
            profile: Some("finance 2026".into()),
            state: Some(String::new()),
            q: Some("a&b=c".into()),
            ..Default::default()
        };
        assert_eq!(f.state(), None);
        assert_eq!(f.query(), "profile=finance%202026&q=a%26b%3Dc");
        let back: Filters = serde_urlencoded_like(&f.query());
        assert_eq!(back.profile(), Some("finance 2026"));
        assert_eq!(back.q(), Some("a&b=c"));
    }

    fn serde_urlencoded_like(q: &str) -> Filters {
        let uri: axum::http::Uri = format!("/?{q}").parse().unwrap();
        axum::extract::Query::<Filters>::try_from_uri(&uri)
            .unwrap()
            .0
    }
}
