//! The JSON shape of one result line, shared with the exporter, and the reader's options.

use serde::{Deserialize, Serialize};

/// Options of [`super::read_results_jsonl`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResultsJsonlOptions {
    /// `by` for lines that omit it (e.g. the pipeline's name). `None`: `by` is required.
    pub default_by: Option<String>,
    /// `at` for lines that omit it (the caller's clock; the library never reads it). `None`:
    /// `at` is required.
    pub now: Option<jiff::Timestamp>,
}

/// One line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResultLine {
    pub rule: String,
    pub technique: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<String>,
    pub outcome: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<EvidenceLine>,
}

/// `evidence`: an object, or a bare string meaning its text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum EvidenceLine {
    /// `{"text": …, "url": …, "event_ids": […]}`.
    Full(EvidenceObject),
    /// `"text"`.
    Text(String),
}

/// The evidence object.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EvidenceObject {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub event_ids: Vec<String>,
}
