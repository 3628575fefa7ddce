//! The subset of the Attire schema (v1.1) read here. Unknown fields are ignored: other Attire
//! producers add their own.

use serde::Deserialize;

/// A whole Attire document.
#[derive(Debug, Deserialize)]
pub(super) struct RawLog {
    /// `1.1` for Invoke-AtomicRedTeam's logger.
    #[serde(rename = "attire-version")]
    pub version: Option<serde_json::Value>,
    /// Run-wide data; the logger writes an empty string before the first run starts.
    #[serde(rename = "execution-data")]
    pub execution_data: Option<serde_json::Value>,
    /// The tests that ran, kept as JSON values so one malformed procedure costs only itself.
    #[serde(default)]
    pub procedures: OneOrMany<serde_json::Value>,
}

/// A list that PowerShell may have flattened to its single element (or to nothing).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum OneOrMany<T> {
    /// The usual array.
    Many(Vec<T>),
    /// A bare element.
    One(T),
    /// `null`.
    Null(()),
}

impl<T> Default for OneOrMany<T> {
    fn default() -> Self {
        OneOrMany::Many(Vec::new())
    }
}

impl<T> OneOrMany<T> {
    pub fn into_vec(self) -> Vec<T> {
        match self {
            OneOrMany::Many(v) => v,
            OneOrMany::One(t) => vec![t],
            OneOrMany::Null(()) => Vec::new(),
        }
    }
}

/// One procedure (one Atomic test run).
#[derive(Debug, Deserialize)]
pub(super) struct RawProcedure {
    /// The technique, e.g. `T1003.001`.
    #[serde(rename = "mitre-technique-id")]
    pub technique: Option<String>,
    /// The test's name.
    #[serde(rename = "procedure-name")]
    pub name: Option<String>,
    /// `{type, id}`; `type` is `guid` for Atomic tests.
    #[serde(rename = "procedure-id")]
    pub id: Option<RawProcedureId>,
    /// The test number (a number or a string).
    pub order: Option<serde_json::Value>,
    /// The steps run.
    #[serde(default)]
    pub steps: OneOrMany<RawStep>,
}

/// `procedure-id`.
#[derive(Debug, Deserialize)]
pub(super) struct RawProcedureId {
    /// Id kind, e.g. `guid`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The id.
    pub id: Option<String>,
}

/// One step of a procedure.
#[derive(Debug, Deserialize)]
pub(super) struct RawStep {
    /// Start, RFC 3339 (`2023-05-01T12:00:00.000Z`).
    #[serde(rename = "time-start")]
    pub time_start: Option<String>,
    /// End, RFC 3339.
    #[serde(rename = "time-stop")]
    pub time_stop: Option<String>,
}
