//! The fields read from Sentinel rules.

use serde::Deserialize;

/// An analytic rule YAML.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct YamlRule {
    /// Stable GUID.
    pub id: Option<String>,
    /// Title.
    pub name: Option<String>,
    /// `Informational` … `High`.
    pub severity: Option<String>,
    /// Deployment switch, when the file states it.
    pub enabled: Option<bool>,
    /// Content status (`Available`, `Deprecated`).
    pub status: Option<String>,
    /// Tactic names without spaces (`CredentialAccess`).
    pub tactics: Option<Vec<String>>,
    /// Technique and sub-technique ids.
    pub relevant_techniques: Option<Vec<String>>,
    /// Connectors and the tables they fill.
    pub required_data_connectors: Option<Vec<Connector>>,
}

/// One `requiredDataConnectors` entry.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Connector {
    /// E.g. `AzureActiveDirectory`.
    pub connector_id: Option<String>,
    /// Log Analytics tables, e.g. `SigninLogs`.
    pub data_types: Option<Vec<String>>,
}

/// The top of a JSON export: an ARM template, a REST list or one REST object.
#[derive(Debug, Deserialize)]
pub struct JsonExport {
    /// ARM template resources.
    pub resources: Option<Vec<JsonResource>>,
    /// REST list results.
    pub value: Option<Vec<JsonResource>>,
    /// A single REST object's name.
    pub name: Option<String>,
    /// A single REST object's properties.
    pub properties: Option<serde_json::Value>,
}

/// One rule resource.
#[derive(Debug, Deserialize)]
pub struct JsonResource {
    /// ARM: `[concat(parameters('workspace'),'/Microsoft.SecurityInsights/<guid>')]`; REST: the GUID.
    pub name: Option<String>,
    /// ARM resource type; rules are `…/alertRules`.
    #[serde(rename = "type")]
    pub kind_of_resource: Option<String>,
    /// The rule's settings (hashed in their canonical JSON form: keys sorted).
    pub properties: Option<serde_json::Value>,
}

/// The rule settings inside `properties`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonProperties {
    /// Title.
    pub display_name: Option<String>,
    /// Deployment state.
    pub enabled: Option<bool>,
    /// Severity.
    pub severity: Option<String>,
    /// Tactic names without spaces.
    pub tactics: Option<Vec<String>>,
    /// Technique ids (`T1110`).
    pub techniques: Option<Vec<String>>,
    /// Sub-technique ids (`T1110.003`).
    pub sub_techniques: Option<Vec<String>>,
    /// The content-hub template the rule was created from.
    pub alert_rule_template_name: Option<String>,
    /// Last modification (RFC 3339).
    pub last_modified_utc: Option<String>,
}

/// The rule id in an ARM or REST resource name: the text after the last `/`, without ARM's
/// closing `')]`.
pub fn id_from_name(name: &str) -> Option<String> {
    let tail = name.rsplit('/').next().unwrap_or(name);
    let id = tail.trim_end_matches([']', ')', '\'', '"', ' ']).trim();
    (!id.is_empty() && !id.contains(['[', '(', ','])).then(|| id.to_string())
}
