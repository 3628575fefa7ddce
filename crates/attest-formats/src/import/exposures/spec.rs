//! Field aliases of exposure exports, first match wins. Names are compared after removing
//! spaces, dots, dashes and underscores and lower-casing ([`normalise_name`]).

/// The asset: generic, Tenable (`DNS Name`, `NetBIOS Name`, `IP Address`), Qualys (`IP`,
/// `DNS`), cloud posture tools (`resource_id`, `Resource`).
pub const ASSET_FIELDS: &[&str] = &[
    "asset",
    "asset_name",
    "asset.name",
    "asset_id",
    "host",
    "hostname",
    "host.name",
    "dns_name",
    "dns",
    "netbios_name",
    "resource_id",
    "resource",
    "ip_address",
    "ip",
];

/// The finding id: a CVE column first, then a generic id or a check/control id.
pub const FINDING_FIELDS: &[&str] = &[
    "finding_id",
    "finding",
    "cve",
    "cve_id",
    "cves",
    "vulnerability_id",
    "vuln_id",
    "misconfiguration_id",
    "check_id",
    "control_id",
    "rule_id",
    "id",
];

/// The title.
pub const TITLE_FIELDS: &[&str] = &[
    "title",
    "name",
    "finding_title",
    "vulnerability",
    "vulnerability_name",
    "plugin_name",
    "summary",
];

/// Severity: CVSS scores first (a number is more precise than a label), then labels.
pub const SEVERITY_FIELDS: &[&str] = &[
    "cvss",
    "cvss_score",
    "cvss3_base_score",
    "cvss_v3_base_score",
    "cvss_base_score",
    "cvss2_base_score",
    "severity",
    "risk",
    "risk_rating",
    "severity_label",
];

/// When first seen.
pub const FIRST_SEEN_FIELDS: &[&str] = &[
    "first_seen",
    "first_found",
    "first_discovered",
    "first_observed",
    "first_detected",
];

/// When last seen.
pub const LAST_SEEN_FIELDS: &[&str] =
    &["last_seen", "last_found", "last_observed", "last_detected"];

/// Status.
pub const STATUS_FIELDS: &[&str] = &["status", "state", "finding_status", "vuln_status"];

/// Techniques given by the scanner.
pub const TECHNIQUE_FIELDS: &[&str] = &[
    "techniques",
    "technique",
    "attack_techniques",
    "mitre_techniques",
    "mitre_attack",
    "technique_ids",
];

/// A field name as compared: lower-case, without spaces, dots, dashes and underscores.
pub fn normalise_name(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-' | '_'))
        .flat_map(char::to_lowercase)
        .collect()
}
