//! The stored form of the journal: versioned JSON payloads, owned by this crate.
//!
//! A payload is `{"version": N, "event": {...}}`. The version selects the mirror types that
//! decode `event` (`v1` today). Writers always write the newest version; readers keep every old
//! version decoding, so a journal written years ago still folds into a state.
//!
//! The projection tables also keep JSON records (a rule with its change instants, a source with
//! its change instant); those are derived data and are rebuilt from the journal whenever their
//! layout changes, so they are not versioned the same way.

pub mod convert;
pub mod v1;

use attest_core::journal::Event;
use attest_core::state::{ExposureRecord, RuleRecord, SourceRecord};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// The payload version this build writes.
pub const PAYLOAD_VERSION: u32 = 1;

/// Why a payload or record could not be encoded or decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The core event kind has no stored form in this version of the store.
    #[error("event kind {kind:?} has no stored form in this version of attest-store")]
    UnsupportedEvent {
        /// The core event kind.
        kind: &'static str,
    },
    /// The payload was written by a newer attest (or is not a payload at all).
    #[error("unknown payload version {version}")]
    UnknownVersion {
        /// The version found.
        version: u32,
    },
    /// The JSON does not match the expected shape.
    #[error("invalid JSON")]
    Json(#[from] serde_json::Error),
    /// A timestamp column does not parse.
    #[error("invalid timestamp {0:?}")]
    Timestamp(String),
    /// A number (a `seq`, a notification payload) is out of range or does not parse.
    #[error("invalid number {0:?}")]
    Number(String),
}

#[derive(Serialize)]
struct EnvelopeOut<'a> {
    version: u32,
    event: &'a v1::Event,
}

#[derive(Deserialize)]
struct EnvelopeIn<'a> {
    version: u32,
    #[serde(borrow)]
    event: &'a RawValue,
}

/// Encodes an event as the newest payload version.
pub fn encode_event(event: &Event) -> Result<String, CodecError> {
    let stored =
        convert::event_to_v1(event).ok_or(CodecError::UnsupportedEvent { kind: event.kind() })?;
    Ok(serde_json::to_string(&EnvelopeOut {
        version: PAYLOAD_VERSION,
        event: &stored,
    })?)
}

/// Decodes a payload of any known version.
pub fn decode_event(payload: &str) -> Result<Event, CodecError> {
    let envelope: EnvelopeIn<'_> = serde_json::from_str(payload)?;
    match envelope.version {
        1 => {
            let event: v1::Event = serde_json::from_str(envelope.event.get())?;
            Ok(convert::event_from_v1(event))
        }
        version => Err(CodecError::UnknownVersion { version }),
    }
}

/// Parses a timestamp column written by [`timestamp_text`].
pub fn parse_timestamp(s: &str) -> Result<Timestamp, CodecError> {
    s.parse().map_err(|_| CodecError::Timestamp(s.to_string()))
}

/// The exact text form of a timestamp (RFC 3339, UTC, full precision).
pub fn timestamp_text(t: Timestamp) -> String {
    t.to_string()
}

#[derive(Serialize, Deserialize)]
struct RuleRecordV1 {
    rule: v1::Rule,
    content_changed_at: Timestamp,
    imported_at: Timestamp,
    #[serde(default)]
    tuning_changed_at: Option<Timestamp>,
    status_changed_at: Timestamp,
}

/// Encodes a projected rule record.
pub fn encode_rule_record(rec: &RuleRecord) -> Result<String, CodecError> {
    Ok(serde_json::to_string(&RuleRecordV1 {
        rule: convert::rule_to_v1(&rec.rule),
        content_changed_at: rec.content_changed_at,
        imported_at: rec.imported_at,
        tuning_changed_at: rec.tuning_changed_at,
        status_changed_at: rec.status_changed_at,
    })?)
}

/// Decodes a projected rule record.
pub fn decode_rule_record(s: &str) -> Result<RuleRecord, CodecError> {
    let r: RuleRecordV1 = serde_json::from_str(s)?;
    Ok(RuleRecord {
        rule: convert::rule_from_v1(r.rule),
        content_changed_at: r.content_changed_at,
        imported_at: r.imported_at,
        tuning_changed_at: r.tuning_changed_at,
        status_changed_at: r.status_changed_at,
    })
}

#[derive(Serialize, Deserialize)]
struct SourceRecordV1 {
    source: v1::DataSource,
    changed_at: Timestamp,
}

/// Encodes a projected source record.
pub fn encode_source_record(rec: &SourceRecord) -> Result<String, CodecError> {
    Ok(serde_json::to_string(&SourceRecordV1 {
        source: convert::source_to_v1(&rec.source),
        changed_at: rec.changed_at,
    })?)
}

/// Decodes a projected source record.
pub fn decode_source_record(s: &str) -> Result<SourceRecord, CodecError> {
    let r: SourceRecordV1 = serde_json::from_str(s)?;
    Ok(SourceRecord {
        source: convert::source_from_v1(r.source),
        changed_at: r.changed_at,
    })
}

#[derive(Serialize, Deserialize)]
struct ExposureRecordV1 {
    exposure: v1::Exposure,
    observed_at: Timestamp,
    changed_at: Timestamp,
    #[serde(default)]
    closed_at: Option<Timestamp>,
}

/// Encodes a projected exposure record.
pub fn encode_exposure_record(rec: &ExposureRecord) -> Result<String, CodecError> {
    Ok(serde_json::to_string(&ExposureRecordV1 {
        exposure: convert::exposure_to_v1(&rec.exposure),
        observed_at: rec.observed_at,
        changed_at: rec.changed_at,
        closed_at: rec.closed_at,
    })?)
}

/// Decodes a projected exposure record.
pub fn decode_exposure_record(s: &str) -> Result<ExposureRecord, CodecError> {
    let r: ExposureRecordV1 = serde_json::from_str(s)?;
    Ok(ExposureRecord {
        exposure: convert::exposure_from_v1(r.exposure),
        observed_at: r.observed_at,
        changed_at: r.changed_at,
        closed_at: r.closed_at,
    })
}

/// Encodes any stored value (tests, results, actors, profiles, singletons).
pub fn encode<T: Serialize>(value: &T) -> Result<String, CodecError> {
    Ok(serde_json::to_string(value)?)
}

/// Decodes any stored value.
pub fn decode<'a, T: Deserialize<'a>>(s: &'a str) -> Result<T, CodecError> {
    Ok(serde_json::from_str(s)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use attest_core::rule::{
        Dependency, DependencyOrigin, Origin, Rule, RuleDependency, RuleFormat,
    };
    use attest_core::source::LogSourceRef;

    fn sample_rule() -> Rule {
        let mut r = Rule::new(
            "5f1f",
            "LSASS access",
            Origin {
                format: RuleFormat::SplunkConf,
                path: "savedsearches.conf".into(),
                root: "splunk-prod".into(),
            },
        );
        r.techniques = vec!["T1003.001".into()];
        r.tactics = vec!["credential-access".into()];
        r.dependencies = vec![RuleDependency {
            dependency: Dependency::LogSource(LogSourceRef::parse(
                "WinEventLog:Security:EventCode=4656",
            )),
            origin: DependencyOrigin::Declared,
        }];
        r.severity = Some("high".into());
        r.content_hash = "abc".into();
        r
    }

    /// The v1 wire form of a rule upsert, byte for byte. If this changes, old journals no
    /// longer mean what they meant: add a v2 instead.
    const RULE_V1: &str = r#"{"version":1,"event":{"rule_upserted":{"id":"5f1f","title":"LSASS access","origin":{"format":"splunk_conf","path":"savedsearches.conf","root":"splunk-prod"},"techniques":["T1003.001"],"tactics":["credential-access"],"dependencies":[{"dependency":{"log_source":{"name":"WinEventLog:Security","channel":"EventCode=4656"}},"origin":"declared"}],"status":"enabled","severity":"high","owner":null,"maturity":null,"tests":[],"created":null,"modified":null,"content_hash":"abc","tuning":[]}}}"#;

    #[test]
    fn v1_wire_form_is_stable() {
        let event = Event::RuleUpserted(sample_rule());
        assert_eq!(encode_event(&event).expect("encodes"), RULE_V1);
        assert_eq!(decode_event(RULE_V1).expect("decodes"), event);
    }

    /// The v1 wire form of a job run, byte for byte (see [`RULE_V1`]).
    const JOB_V1: &str = r#"{"version":1,"event":{"job_ran":{"job":"silence","trigger":"manual","attempt":2,"started":"2026-03-01T00:00:00Z","finished":"2026-03-01T00:00:01.5Z","outcome":{"failed":{"error":"store unavailable"}}}}}"#;

    #[test]
    fn job_runs_have_a_stable_wire_form() {
        use attest_core::journal::{JobOutcome, JobRun, JobTrigger};
        let event = Event::JobRan(JobRun {
            job: "silence".into(),
            trigger: JobTrigger::Manual,
            attempt: 2,
            started: "2026-03-01T00:00:00Z".parse().expect("time"),
            finished: "2026-03-01T00:00:01.5Z".parse().expect("time"),
            outcome: JobOutcome::Failed {
                error: "store unavailable".into(),
            },
        });
        assert_eq!(encode_event(&event).expect("encodes"), JOB_V1);
        assert_eq!(decode_event(JOB_V1).expect("decodes"), event);
    }

    /// The v1 wire form of a token revocation, byte for byte (see [`RULE_V1`]).
    const TOKEN_V1: &str =
        r#"{"version":1,"event":{"token_revoked":{"name":"ci","id":"0123456789ab"}}}"#;

    #[test]
    fn token_events_have_a_stable_wire_form() {
        let event = Event::TokenRevoked {
            name: "ci".into(),
            id: "0123456789ab".into(),
        };
        assert_eq!(encode_event(&event).expect("encodes"), TOKEN_V1);
        assert_eq!(decode_event(TOKEN_V1).expect("decodes"), event);
        let issued = Event::TokenIssued {
            name: "soar".into(),
            role: "viewer".into(),
            id: "ba9876543210".into(),
        };
        let text = encode_event(&issued).expect("encodes");
        assert!(!text.contains("attest_"), "never a secret: {text}");
        assert_eq!(decode_event(&text).expect("decodes"), issued);
        let setting = Event::SettingChanged {
            key: "job.schedule.replay".into(),
            value: Some("0 4 * * 1".into()),
        };
        let text = encode_event(&setting).expect("encodes");
        assert_eq!(
            text,
            r#"{"version":1,"event":{"setting_changed":{"key":"job.schedule.replay","value":"0 4 * * 1"}}}"#
        );
        assert_eq!(decode_event(&text).expect("decodes"), setting);
    }

    #[test]
    fn minimal_v1_payloads_decode_with_defaults() {
        // Written by hand, as an older or foreign writer might: optional fields omitted.
        let payload = r#"{"version":1,"event":{"rule_upserted":{"id":"r","title":"t","origin":{"format":"sigma","path":"p","root":"x"},"status":"disabled"}}}"#;
        let Event::RuleUpserted(rule) = decode_event(payload).expect("decodes") else {
            panic!("wrong kind");
        };
        assert_eq!(rule.status, attest_core::rule::RuleStatus::Disabled);
        assert!(rule.techniques.is_empty() && rule.content_hash.is_empty());
        let seen = r#"{"version":1,"event":{"source_seen":{"name":"okta","at":"2026-01-02T03:04:05.123456789Z"}}}"#;
        let Event::SourceSeen { at, .. } = decode_event(seen).expect("decodes") else {
            panic!("wrong kind");
        };
        assert_eq!(at.subsec_nanosecond(), 123_456_789);
        let policy = r#"{"version":1,"event":{"policy_set":{"default_window":"PT720H"}}}"#;
        let Event::PolicySet(p) = decode_event(policy).expect("decodes") else {
            panic!("wrong kind");
        };
        assert_eq!(p.default_window.as_hours(), 720);
    }

    #[test]
    fn exposure_payloads_decode_from_their_documented_shape() {
        use attest_core::exposure::{
            CloseReason, ExposureKey, ExposureStatus, MappingType, Severity,
        };
        let observed = r#"{"version":1,"event":{"exposure_observed":{"asset":"web-01","finding":"cve-2021-44228","severity":{"cvss":10.0},"status":"open"}}}"#;
        let Event::ExposureObserved(e) = decode_event(observed).expect("decodes") else {
            panic!("wrong kind");
        };
        assert_eq!(e.finding, "CVE-2021-44228");
        assert_eq!(e.severity, Severity::Cvss(10.0));
        assert_eq!(e.status, ExposureStatus::Open);
        assert!(e.techniques.is_empty() && e.feed.is_empty());
        let back = encode_event(&Event::ExposureObserved(e.clone())).expect("encodes");
        assert_eq!(
            decode_event(&back).expect("decodes"),
            Event::ExposureObserved(e)
        );

        let closed = r#"{"version":1,"event":{"exposure_closed":{"asset":"web-01","finding":"CVE-2021-44228","reason":"absent"}}}"#;
        assert_eq!(
            decode_event(closed).expect("decodes"),
            Event::ExposureClosed {
                key: ExposureKey::new("web-01", "CVE-2021-44228"),
                reason: CloseReason::Absent
            }
        );
        let set = r#"{"version":1,"event":{"exposure_mappings_loaded":{"name":"ctid","kind":"cve","attack_version":"16.1","mappings":[{"finding":"CVE-2021-44228","technique":"T1190","mapping_type":"exploitation_technique"}]}}}"#;
        let Event::ExposureMappingsLoaded(m) = decode_event(set).expect("decodes") else {
            panic!("wrong kind");
        };
        assert_eq!(
            m.mappings[0].mapping_type,
            MappingType::ExploitationTechnique
        );
        assert!(m.remap.is_empty());
        let bad = r#"{"version":1,"event":{"exposure_observed":{"asset":"a","finding":"f","severity":{"cvss":"high"},"status":"open"}}}"#;
        assert!(matches!(decode_event(bad), Err(CodecError::Json(_))));
    }

    #[test]
    fn unknown_versions_and_shapes_are_errors() {
        let future = r#"{"version":2,"event":{"rule_upserted":{}}}"#;
        assert!(matches!(
            decode_event(future),
            Err(CodecError::UnknownVersion { version: 2 })
        ));
        for bad in [
            "",
            "null",
            r#"{"event":{}}"#,
            r#"{"version":1,"event":{"no_such_kind":{}}}"#,
            r#"{"version":1,"event":{"rule_retired":{"id":7}}}"#,
            r#"{"version":1,"event":{"source_seen":{"name":"x","at":"yesterday"}}}"#,
        ] {
            assert!(
                matches!(decode_event(bad), Err(CodecError::Json(_))),
                "{bad:?} must be a JSON error"
            );
        }
    }
}
