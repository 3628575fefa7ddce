//! Turning one decoded record (EVTX-JSON shape, or flat JSON) into a flattened Sigma event.
//!
//! The EVTX-JSON shape is what the `evtx` crate renders and what `evtx_dump`-style exports hold:
//! `{"Event": {"System": {...}, "EventData": {...}}}` with XML attributes under `#attributes` and
//! element text under `#text`. Sigma's Windows rules expect a flat record: the `EventData` (or
//! `UserData`) fields, plus `EventID`, `Channel`, `Provider_Name`, `Computer` at the top level.
//! Anything else is taken as flat JSON already (a SIEM export) and kept as it is.

use attest_sigma::Event;
use jiff::Timestamp;
use serde_json::{Map, Value};

/// A normalised record: the event, its record id when it has one, and nothing else.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalized {
    /// The flattened event (with its timestamp when one was found).
    pub event: Event,
    /// `EventRecordID` (EVTX) or a record-number field of flat JSON.
    pub record_id: Option<u64>,
}

/// Normalises one JSON record. `None` when it is not a JSON object.
pub fn normalize(value: Value) -> Option<Normalized> {
    let Value::Object(mut top) = value else {
        return None;
    };
    // `{"Event": {...}}` or the inner object directly.
    let inner_is_evtx =
        matches!(top.get("Event"), Some(Value::Object(e)) if e.contains_key("System"));
    let record = if inner_is_evtx {
        match top.remove("Event") {
            Some(Value::Object(e)) => e,
            _ => return None,
        }
    } else if top.contains_key("System")
        && (top.contains_key("EventData") || top.contains_key("UserData"))
    {
        top
    } else {
        return Some(flat(top));
    };
    Some(evtx_shape(record))
}

fn flat(map: Map<String, Value>) -> Normalized {
    let record_id = ["EventRecordID", "RecordNumber", "record_id"]
        .iter()
        .find_map(|k| map.get(*k).and_then(as_u64));
    let timestamp = [
        "@timestamp",
        "timestamp",
        "TimeCreated",
        "SystemTime",
        "UtcTime",
        "EventTime",
        "TimeGenerated",
    ]
    .iter()
    .find_map(|k| map.get(*k).and_then(Value::as_str).and_then(parse_time));
    Normalized {
        event: Event::new(map).with_timestamp(timestamp),
        record_id,
    }
}

fn evtx_shape(mut record: Map<String, Value>) -> Normalized {
    let mut out = Map::new();
    // Event data first; System fields then take the names Sigma reserves for them.
    if let Some(data) = record.remove("EventData") {
        flatten_data(data, &mut out);
    }
    if let Some(data) = record.remove("UserData") {
        flatten_user_data(data, &mut out);
    }
    let mut record_id = None;
    let mut timestamp = None;
    if let Some(Value::Object(system)) = record.remove("System") {
        for (key, value) in system {
            match key.as_str() {
                "Provider" => {
                    if let Some(attrs) = attributes(&value) {
                        if let Some(name) = attrs.get("Name") {
                            out.insert("Provider_Name".to_owned(), name.clone());
                        }
                        if let Some(guid) = attrs.get("Guid") {
                            out.entry("Provider_Guid").or_insert_with(|| guid.clone());
                        }
                        if let Some(source) = attrs.get("EventSourceName") {
                            out.entry("EventSourceName")
                                .or_insert_with(|| source.clone());
                        }
                    }
                }
                "EventID" => {
                    out.insert("EventID".to_owned(), text_of(value));
                }
                "TimeCreated" => {
                    if let Some(t) = attributes(&value)
                        .and_then(|a| a.get("SystemTime"))
                        .and_then(Value::as_str)
                    {
                        timestamp = parse_time(t);
                    }
                }
                "EventRecordID" => {
                    record_id = as_u64(&value);
                    out.entry("EventRecordID").or_insert(value);
                }
                "Channel" | "Computer" => {
                    out.insert(key, text_of(value));
                }
                "Execution" => {
                    if let Some(attrs) = attributes(&value) {
                        for (k, v) in attrs {
                            out.entry(k.clone()).or_insert_with(|| v.clone());
                        }
                    }
                }
                "Security" => {
                    if let Some(uid) = attributes(&value).and_then(|a| a.get("UserID")) {
                        out.entry("UserID").or_insert_with(|| uid.clone());
                    }
                }
                "Correlation" => {}
                _ => {
                    out.entry(key).or_insert_with(|| text_of(value));
                }
            }
        }
    }
    alias_security_process_creation(&mut out);
    Normalized {
        event: Event::new(out).with_timestamp(timestamp),
        record_id,
    }
}

/// Security 4688 names the process fields differently from Sysmon, whose names the
/// `process_creation` rules use; add the Sysmon names (as the Sigma `windows-audit` pipeline maps
/// them) when they are absent.
fn alias_security_process_creation(out: &mut Map<String, Value>) {
    let is_4688 = out.get("EventID").and_then(as_u64) == Some(4688)
        && out.get("Channel").and_then(Value::as_str) == Some("Security");
    if !is_4688 {
        return;
    }
    for (sysmon, security) in [
        ("Image", "NewProcessName"),
        ("ParentImage", "ParentProcessName"),
    ] {
        if !out.contains_key(sysmon)
            && let Some(v) = out.get(security).cloned()
        {
            out.insert(sysmon.to_owned(), v);
        }
    }
}

/// `EventData`: named fields, `#attributes` dropped, `{"#text": x}` unwrapped; unnamed `Data`
/// values stay under `Data`.
fn flatten_data(data: Value, out: &mut Map<String, Value>) {
    match data {
        Value::Object(map) => {
            for (key, value) in map {
                if key == "#attributes" {
                    continue;
                }
                if key == "#text" {
                    out.entry("Data").or_insert(value);
                    continue;
                }
                out.insert(key, text_of(value));
            }
        }
        Value::Null => {}
        other => {
            out.entry("Data").or_insert(other);
        }
    }
}

/// `UserData` wraps its fields in one provider-specific element (`EventXML`, `LogFileCleared`…);
/// its fields go to the top level, nested elements flattened too, without overwriting.
fn flatten_user_data(data: Value, out: &mut Map<String, Value>) {
    fn walk(map: Map<String, Value>, out: &mut Map<String, Value>, depth: usize) {
        for (key, value) in map {
            if key == "#attributes" {
                continue;
            }
            match value {
                Value::Object(inner) if depth < 8 && !inner.contains_key("#text") => {
                    walk(inner, out, depth + 1)
                }
                other => {
                    out.entry(key).or_insert_with(|| text_of(other));
                }
            }
        }
    }
    if let Value::Object(map) = data {
        walk(map, out, 0);
    }
}

/// `{"#attributes": {...}, "#text": x}` → `x`; anything else unchanged.
fn text_of(value: Value) -> Value {
    match value {
        Value::Object(mut map) if map.contains_key("#text") => {
            map.remove("#text").unwrap_or(Value::Null)
        }
        other => other,
    }
}

fn attributes(value: &Value) -> Option<&Map<String, Value>> {
    value.get("#attributes").and_then(Value::as_object)
}

fn as_u64(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        Value::Object(_) => value.get("#text").and_then(as_u64),
        _ => None,
    }
}

/// Parses RFC 3339 / ISO 8601 times, with or without the `T` and the zone (UTC assumed), as
/// EVTX, Sysmon `UtcTime` and SIEM exports write them.
pub(crate) fn parse_time(text: &str) -> Option<Timestamp> {
    if let Ok(t) = text.parse::<Timestamp>() {
        return Some(t);
    }
    let civil = text.trim().replacen(' ', "T", 1);
    let civil = civil.trim_end_matches('Z');
    civil
        .parse::<jiff::civil::DateTime>()
        .ok()
        .and_then(|dt| dt.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|z| z.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn norm(v: Value) -> Normalized {
        normalize(v).unwrap_or_else(|| Normalized {
            event: Event::new(Map::new()),
            record_id: None,
        })
    }

    #[test]
    fn evtx_shape_is_flattened() {
        let n = norm(json!({"Event": {
            "#attributes": {"xmlns": "x"},
            "System": {
                "Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon", "Guid": "G"}},
                "EventID": 11,
                "TimeCreated": {"#attributes": {"SystemTime": "2025-10-24T23:41:48.4971701Z"}},
                "EventRecordID": 24322,
                "Channel": "Microsoft-Windows-Sysmon/Operational",
                "Computer": "host",
                "Security": {"#attributes": {"UserID": "S-1-5-18"}}
            },
            "EventData": {"Image": "C:\\cmd.exe", "ProcessId": 10048, "RuleName": "-"}
        }}));
        let e = &n.event;
        assert_eq!(e.get("Image"), Some(&json!("C:\\cmd.exe")));
        assert_eq!(e.get("ProcessId"), Some(&json!(10048)));
        assert_eq!(e.get("EventID"), Some(&json!(11)));
        assert_eq!(
            e.get("Channel"),
            Some(&json!("Microsoft-Windows-Sysmon/Operational"))
        );
        assert_eq!(
            e.get("Provider_Name"),
            Some(&json!("Microsoft-Windows-Sysmon"))
        );
        assert_eq!(e.get("Computer"), Some(&json!("host")));
        assert_eq!(n.record_id, Some(24322));
        assert_eq!(e.timestamp().map(|t| t.as_second()), Some(1_761_349_308));
    }

    #[test]
    fn event_id_with_qualifiers() {
        let n = norm(json!({"Event": {"System": {
            "EventID": {"#attributes": {"Qualifiers": 16384}, "#text": 7045},
            "Channel": "System"}, "EventData": null}}));
        assert_eq!(n.event.event_id(), Some(7045));
    }

    #[test]
    fn user_data_fields_reach_the_top_level() {
        let n = norm(
            json!({"Event": {"System": {"EventID": 1102, "Channel": "Security"},
            "UserData": {"LogFileCleared": {"#attributes": {"xmlns": "x"}, "SubjectUserName": "bob",
                "Nested": {"Inner": "v"}}}}}),
        );
        assert_eq!(n.event.get("SubjectUserName"), Some(&json!("bob")));
        assert_eq!(n.event.get("Inner"), Some(&json!("v")));
        assert_eq!(n.event.get("EventID"), Some(&json!(1102)));
    }

    #[test]
    fn security_4688_gets_sysmon_names() {
        let n = norm(
            json!({"Event": {"System": {"EventID": 4688, "Channel": "Security"},
            "EventData": {"NewProcessName": "C:\\a.exe", "ParentProcessName": "C:\\p.exe"}}}),
        );
        assert_eq!(n.event.get("Image"), Some(&json!("C:\\a.exe")));
        assert_eq!(n.event.get("ParentImage"), Some(&json!("C:\\p.exe")));
    }

    #[test]
    fn flat_json_is_kept() {
        let n = norm(
            json!({"Image": "x", "EventID": 1, "@timestamp": "2024-01-01T00:00:00Z", "RecordNumber": "7"}),
        );
        assert_eq!(n.event.get("Image"), Some(&json!("x")));
        assert_eq!(n.record_id, Some(7));
        assert_eq!(
            n.event.timestamp().map(|t| t.as_second()),
            Some(1_704_067_200)
        );
        assert!(normalize(json!([1])).is_none());
    }

    #[test]
    fn times_without_zone_are_utc() {
        assert_eq!(
            parse_time("2024-01-01 00:00:01.5").map(|t| t.as_second()),
            Some(1_704_067_201)
        );
        assert_eq!(parse_time("garbage"), None);
    }
}
