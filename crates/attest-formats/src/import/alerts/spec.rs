//! Field names (and their aliases) read from alert exports.

/// Rule id: generic, ECS (`rule.id`, `rule.uuid`), Splunk (`signature_id`), Kibana alerts
/// (`kibana.alert.rule.rule_id`, the detection rule's stable id), and a Sigma id column.
pub const RULE_ID_FIELDS: &[&str] = &[
    "rule_id",
    "rule.id",
    "ruleId",
    "rule.uuid",
    "signature_id",
    "kibana.alert.rule.rule_id",
    "sigma_id",
];

/// Rule name: generic, ECS, Splunk (`search_name` of notable events, `signature`), Kibana
/// alerts, Sentinel's `SecurityAlert` (`AlertName`).
pub const RULE_NAME_FIELDS: &[&str] = &[
    "rule_name",
    "rule.name",
    "ruleName",
    "search_name",
    "signature",
    "kibana.alert.rule.name",
    "AlertName",
    "alert_name",
];

/// When the alert fired: generic, ECS (`@timestamp`), Splunk (`_time`), Sentinel
/// (`TimeGenerated`).
pub const TIME_FIELDS: &[&str] = &[
    "time",
    "@timestamp",
    "_time",
    "timestamp",
    "TimeGenerated",
    "alert_time",
];

/// The host concerned: generic, ECS (`host.name`), Windows (`Computer`), Splunk CIM (`dest`,
/// `dvc`), Defender (`DeviceName`), Sentinel (`CompromisedEntity`).
pub const HOST_FIELDS: &[&str] = &[
    "host",
    "host.name",
    "hostname",
    "host.hostname",
    "Computer",
    "ComputerName",
    "dest",
    "dvc",
    "DeviceName",
    "CompromisedEntity",
];

/// The alert's own id, kept as evidence: generic, Elasticsearch (`_id`), Splunk ES notable
/// (`event_id`), Kibana (`kibana.alert.uuid`), Sentinel (`SystemAlertId`).
pub const ALERT_ID_FIELDS: &[&str] = &[
    "alert_id",
    "id",
    "_id",
    "event_id",
    "kibana.alert.uuid",
    "SystemAlertId",
];
