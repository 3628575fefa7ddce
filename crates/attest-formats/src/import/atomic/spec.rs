//! The subset of the Atomic Red Team YAML schema that the catalogue needs.
//!
//! Unknown fields are ignored on purpose (unlike attest's own configuration types): the upstream
//! schema grows, and a new field there must not break the import.

use serde::Deserialize;

/// One `atomics/Txxxx/Txxxx.yaml` file.
#[derive(Debug, Deserialize)]
pub(super) struct RawTechnique {
    /// The technique, e.g. `T1003.001`.
    pub attack_technique: Option<OneOrMany>,
    /// The tests, in file order (their 1-based position is the "test number").
    #[serde(default)]
    pub atomic_tests: Option<Vec<RawTest>>,
}

/// `attack_technique` is a string upstream; a list is accepted for hand-written files.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum OneOrMany {
    /// One ID.
    One(String),
    /// Several IDs.
    Many(Vec<String>),
}

/// One entry of `atomic_tests`.
#[derive(Debug, Deserialize)]
pub(super) struct RawTest {
    /// Human name.
    pub name: Option<String>,
    /// Stable GUID.
    pub auto_generated_guid: Option<String>,
    /// Platforms, e.g. `windows`, `linux`, `iaas:aws`.
    #[serde(default)]
    pub supported_platforms: Vec<String>,
    /// How the test runs.
    pub executor: Option<RawExecutor>,
}

/// `executor` of a test.
#[derive(Debug, Deserialize)]
pub(super) struct RawExecutor {
    /// `powershell`, `command_prompt`, `sh`, `bash`, `manual`.
    pub name: Option<String>,
    /// Whether the test needs elevation; absent means false.
    #[serde(default)]
    pub elevation_required: Option<bool>,
}
