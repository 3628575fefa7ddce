//! The data source inventory: the telemetry the organisation really has.

use jiff::{SignedDuration, Timestamp};

/// Where a data source stands in the ingestion pipeline. Only `Queryable` telemetry can feed a
/// detection rule; the earlier states are kept so the inventory can also be a roadmap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum PipelineState {
    /// Planned, not yet collected.
    Planned,
    /// Collected into the SIEM, not yet normalised.
    Ingested,
    /// Normalised to a schema, not yet usable by rules.
    Normalised,
    /// Usable by detection rules.
    #[default]
    Queryable,
}

impl PipelineState {
    /// All states in pipeline order.
    pub const ALL: [PipelineState; 4] = [
        PipelineState::Planned,
        PipelineState::Ingested,
        PipelineState::Normalised,
        PipelineState::Queryable,
    ];

    /// The lowercase word used in files, the CLI and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            PipelineState::Planned => "planned",
            PipelineState::Ingested => "ingested",
            PipelineState::Normalised => "normalised",
            PipelineState::Queryable => "queryable",
        }
    }

    /// Parses the lowercase word (also accepts the American `normalized`).
    pub fn parse(s: &str) -> Option<PipelineState> {
        match s.trim().to_ascii_lowercase().as_str() {
            "planned" => Some(PipelineState::Planned),
            "ingested" => Some(PipelineState::Ingested),
            "normalised" | "normalized" => Some(PipelineState::Normalised),
            "queryable" => Some(PipelineState::Queryable),
            _ => None,
        }
    }
}

/// An ATT&CK log-source reference: a name such as `WinEventLog:Security` and, optionally, a
/// channel such as `EventCode=4688`. This is ATT&CK's own vocabulary (v18 analytics use it).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogSourceRef {
    /// The log-source name, e.g. `WinEventLog:Sysmon`.
    pub name: String,
    /// The channel within it, e.g. `EventCode=1`; `None` means the whole log source.
    pub channel: Option<String>,
}

impl LogSourceRef {
    /// Parses the CLI form `NAME` or `NAME:CHANNEL` where the channel is the part after the last
    /// colon *if* it contains `=` (ATT&CK names themselves contain colons, e.g.
    /// `WinEventLog:Security:EventCode=4688`).
    pub fn parse(s: &str) -> LogSourceRef {
        let s = s.trim();
        if let Some((name, channel)) = s.rsplit_once(':')
            && channel.contains('=')
        {
            return LogSourceRef {
                name: name.to_string(),
                channel: Some(channel.to_string()),
            };
        }
        LogSourceRef {
            name: s.to_string(),
            channel: None,
        }
    }

    /// Whether this reference (what a source provides) satisfies `wanted` (what a rule or an
    /// analytic needs): same name, and either this covers every channel or the channels match.
    /// Names and channels compare case-insensitively, as ATT&CK's own data is not consistent.
    pub fn provides(&self, wanted: &LogSourceRef) -> bool {
        if !self.name.eq_ignore_ascii_case(&wanted.name) {
            return false;
        }
        match (&self.channel, &wanted.channel) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        }
    }
}

impl std::fmt::Display for LogSourceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.channel {
            Some(c) => write!(f, "{}:{}", self.name, c),
            None => f.write_str(&self.name),
        }
    }
}

/// One entry of the data source inventory, e.g. "Sysmon on Windows servers".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataSource {
    /// Unique name within the workspace; the key.
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// ATT&CK platforms covered (e.g. `Windows`); empty means "not restricted".
    pub platforms: Vec<String>,
    /// Free-form systems or segments (DeTT&CT's `applicable_to`), e.g. "Windows servers".
    pub scope: Vec<String>,
    /// ATT&CK data component names provided, e.g. "Process Creation".
    pub components: Vec<String>,
    /// ATT&CK log-source name/channel pairs provided.
    pub log_sources: Vec<LogSourceRef>,
    /// Pipeline state.
    pub state: PipelineState,
    /// Products behind the source (e.g. "Sysmon", "Splunk").
    pub products: Vec<String>,
    /// Owner (a person or team).
    pub owner: Option<String>,
    /// When the source was last seen producing events.
    pub last_seen: Option<Timestamp>,
    /// The longest expected silence; past it the source is silent. `None`: never silent.
    pub max_silence: Option<SignedDuration>,
}

/// Health of a source at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// Producing events within its bound, or no bound set.
    Healthy,
    /// A bound is set but no heartbeat was ever recorded.
    NeverSeen,
    /// Silent past its bound since the given instant (last seen + max silence).
    Silent {
        /// When the bound ran out.
        since: Timestamp,
    },
}

impl DataSource {
    /// A queryable source with only a name.
    pub fn new(name: impl Into<String>) -> DataSource {
        DataSource {
            name: name.into(),
            description: None,
            platforms: Vec::new(),
            scope: Vec::new(),
            components: Vec::new(),
            log_sources: Vec::new(),
            state: PipelineState::Queryable,
            products: Vec::new(),
            owner: None,
            last_seen: None,
            max_silence: None,
        }
    }

    /// Health at `now`. A source with a silence bound and no heartbeat is `NeverSeen`, which the
    /// coverage rule treats like silent: an unproven pipeline is not proof of telemetry.
    pub fn health(&self, now: Timestamp) -> Health {
        let Some(bound) = self.max_silence else {
            return Health::Healthy;
        };
        let Some(seen) = self.last_seen else {
            return Health::NeverSeen;
        };
        match seen.checked_add(bound) {
            Ok(deadline) if deadline < now => Health::Silent { since: deadline },
            _ => Health::Healthy,
        }
    }

    /// Whether the source is usable by rules at `now`: queryable and healthy.
    pub fn is_usable(&self, now: Timestamp) -> bool {
        self.state == PipelineState::Queryable && self.health(now) == Health::Healthy
    }

    /// Whether this source covers `platform` (no platforms listed means all).
    pub fn covers_platform(&self, platform: &str) -> bool {
        self.platforms.is_empty()
            || self
                .platforms
                .iter()
                .any(|p| p.eq_ignore_ascii_case(platform))
    }

    /// Whether this source provides the data component `name` (case-insensitive).
    pub fn provides_component(&self, name: &str) -> bool {
        self.components.iter().any(|c| c.eq_ignore_ascii_case(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn log_source_parse_keeps_colons_in_names() {
        let r = LogSourceRef::parse("WinEventLog:Security:EventCode=4688");
        assert_eq!(r.name, "WinEventLog:Security");
        assert_eq!(r.channel.as_deref(), Some("EventCode=4688"));
        let r = LogSourceRef::parse("WinEventLog:Sysmon");
        assert_eq!(r.name, "WinEventLog:Sysmon");
        assert_eq!(r.channel, None);
    }

    #[test]
    fn whole_log_source_provides_each_channel_but_not_the_reverse() {
        let whole = LogSourceRef::parse("WinEventLog:Security");
        let one = LogSourceRef::parse("winEventLog:security:EventCode=4688");
        assert!(whole.provides(&one));
        assert!(!one.provides(&whole));
        assert!(one.provides(&LogSourceRef::parse("WinEventLog:Security:eventcode=4688")));
        assert!(!one.provides(&LogSourceRef::parse("WinEventLog:Security:EventCode=4624")));
    }

    #[test]
    fn health_follows_the_silence_bound() {
        let mut s = DataSource::new("okta");
        assert_eq!(s.health(ts("2026-01-02T00:00:00Z")), Health::Healthy);
        s.max_silence = Some(SignedDuration::from_hours(24));
        assert_eq!(s.health(ts("2026-01-02T00:00:00Z")), Health::NeverSeen);
        s.last_seen = Some(ts("2026-01-01T00:00:00Z"));
        assert_eq!(s.health(ts("2026-01-01T23:00:00Z")), Health::Healthy);
        assert_eq!(
            s.health(ts("2026-01-02T01:00:00Z")),
            Health::Silent {
                since: ts("2026-01-02T00:00:00Z")
            }
        );
        assert!(!s.is_usable(ts("2026-01-02T01:00:00Z")));
    }
}
