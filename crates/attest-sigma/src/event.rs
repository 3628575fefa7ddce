//! The flattened event that rules are evaluated on.
//!
//! Sigma's Windows rules name fields flatly (`Image`, `CommandLine`, `EventID`, `Channel`), so an
//! event is one JSON object whose keys are those names, plus an optional timestamp used by
//! correlation windows. Decoding EVTX or EVTX-shaped JSON into this form is `attest-replay`'s job.

use jiff::Timestamp;
use rsigma_eval::event::JsonEvent;
use serde_json::{Map, Value};

/// Field holding the Windows channel (`Security`, `Microsoft-Windows-Sysmon/Operational`, …).
pub const FIELD_CHANNEL: &str = "Channel";
/// Field holding the numeric Windows event id.
pub const FIELD_EVENT_ID: &str = "EventID";
/// Field holding the provider name (`Microsoft-Windows-Sysmon`, …).
pub const FIELD_PROVIDER: &str = "Provider_Name";
/// Field holding the host name.
pub const FIELD_COMPUTER: &str = "Computer";

/// One event: a flat JSON object of fields and an optional timestamp.
///
/// Values keep their JSON types (numbers stay numbers), which is what Sigma's numeric modifiers
/// and `null` checks expect. Nested objects are allowed and reachable with dotted field names.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Always a JSON object (the constructors guarantee it).
    value: Value,
    timestamp: Option<Timestamp>,
}

impl Event {
    /// Wraps a map of fields, without a timestamp.
    pub fn new(fields: Map<String, Value>) -> Self {
        Event {
            value: Value::Object(fields),
            timestamp: None,
        }
    }

    /// Wraps a JSON value; `None` unless it is an object.
    pub fn from_json(value: Value) -> Option<Self> {
        match value {
            Value::Object(map) => Some(Event::new(map)),
            _ => None,
        }
    }

    /// Sets the time the event happened (used by correlation windows).
    pub fn with_timestamp(mut self, timestamp: Option<Timestamp>) -> Self {
        self.timestamp = timestamp;
        self
    }

    /// The time the event happened, when known.
    pub fn timestamp(&self) -> Option<Timestamp> {
        self.timestamp
    }

    /// The event's fields.
    pub fn fields(&self) -> &Map<String, Value> {
        match &self.value {
            Value::Object(map) => map,
            // The constructors only ever store objects; an empty map is the harmless answer.
            _ => empty_map(),
        }
    }

    /// One field's value, by exact name.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields().get(name)
    }

    /// The event as a JSON value (an object).
    pub fn as_json(&self) -> &Value {
        &self.value
    }

    /// The channel, when the event has one.
    pub fn channel(&self) -> Option<&str> {
        self.get(FIELD_CHANNEL).and_then(Value::as_str)
    }

    /// The numeric event id, accepting numbers and numeric strings.
    pub fn event_id(&self) -> Option<u32> {
        match self.get(FIELD_EVENT_ID)? {
            Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// The view rsigma evaluates.
    pub(crate) fn as_rsigma(&self) -> JsonEvent<'_> {
        JsonEvent::borrow(&self.value)
    }
}

fn empty_map() -> &'static Map<String, Value> {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    EMPTY.get_or_init(Map::new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn event_id_accepts_numbers_and_strings() {
        let e = Event::from_json(json!({"EventID": 4688})).map(|e| e.event_id());
        assert_eq!(e, Some(Some(4688)));
        let e = Event::from_json(json!({"EventID": " 1 "})).map(|e| e.event_id());
        assert_eq!(e, Some(Some(1)));
        let e = Event::from_json(json!({"EventID": "x"})).map(|e| e.event_id());
        assert_eq!(e, Some(None));
    }

    #[test]
    fn only_objects_are_events() {
        assert!(Event::from_json(json!([1, 2])).is_none());
        assert!(Event::from_json(json!("x")).is_none());
    }
}
