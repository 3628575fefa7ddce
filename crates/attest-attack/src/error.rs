//! Errors (the bundle cannot be used) and warnings (something was skipped or looked odd).

use std::fmt;
use std::path::PathBuf;

/// An error that stops a bundle from loading. Problems confined to one object are
/// [`Warning`]s instead.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The gzip stream is corrupt or truncated.
    #[error(
        "gzip stream is corrupt or truncated after {decompressed} decompressed bytes: {source}"
    )]
    Gzip {
        /// Bytes decompressed before the failure.
        decompressed: usize,
        /// The decoder's error.
        #[source]
        source: std::io::Error,
    },
    /// The (decompressed) bundle is not UTF-8.
    #[error("bundle is not valid UTF-8 at byte offset {offset}")]
    Utf8 {
        /// Byte offset of the first invalid byte.
        offset: usize,
    },
    /// The bundle is not well-formed JSON.
    #[error("malformed JSON at line {line}, column {column}: {source}")]
    Json {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// The JSON is well-formed but not a STIX bundle (e.g. a top-level array).
    #[error("not a STIX bundle: {reason}")]
    NotABundle {
        /// What was found instead.
        reason: String,
    },
    /// An error in one named input (a file name or a caller-chosen label).
    #[error("{name}: {source}")]
    InBundle {
        /// The input's name.
        name: String,
        /// The underlying error.
        #[source]
        source: Box<Error>,
    },
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A remap table could not be parsed.
    #[error("remap table, line {line}: {message}")]
    Remap {
        /// 1-based line (0 when unknown).
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// The kind of a [`Warning`], for counting and filtering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum WarningKind {
    /// An object could not be decoded (a field of the wrong type) and was skipped.
    MalformedObject,
    /// An object has no `type` or no `id` and was skipped.
    MissingField,
    /// An object type this crate does not model (e.g. `x-mitre-asset`); skipped.
    UnknownType,
    /// A relationship type this crate does not model (e.g. `targets`); kept out of the indexes.
    UnknownRelationship,
    /// A reference to an object that is not in the loaded bundles.
    DanglingReference,
    /// A relationship whose ends have types that make no sense for its relationship type.
    UnexpectedEnds,
    /// An ATT&CK object without a usable ATT&CK id (e.g. an attack-pattern without a T-number).
    MissingAttackId,
    /// The same STIX id appeared twice (in one or several bundles); the first was kept.
    DuplicateObject,
    /// A value that is present but odd (an unknown tactic, a malformed platform list, …).
    OddValue,
    /// The domain's ATT&CK release could not be determined.
    UnknownRelease,
}

impl fmt::Display for WarningKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MalformedObject => "malformed object",
            Self::MissingField => "missing field",
            Self::UnknownType => "unknown object type",
            Self::UnknownRelationship => "unknown relationship type",
            Self::DanglingReference => "dangling reference",
            Self::UnexpectedEnds => "unexpected relationship ends",
            Self::MissingAttackId => "missing ATT&CK id",
            Self::DuplicateObject => "duplicate object",
            Self::OddValue => "odd value",
            Self::UnknownRelease => "unknown release",
        })
    }
}

/// Something in a bundle that was tolerated: the object or reference was skipped or kept as-is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// What kind of problem.
    pub kind: WarningKind,
    /// The input (file name or label) it came from.
    pub bundle: String,
    /// The STIX id of the object concerned, when known.
    pub object: Option<String>,
    /// A human-readable explanation.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.bundle, self.kind)?;
        if let Some(o) = &self.object {
            write!(f, " ({o})")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Counts warnings by kind, in kind order (for `attest attack info`).
pub fn count_warnings(warnings: &[Warning]) -> Vec<(WarningKind, usize)> {
    let mut m = std::collections::BTreeMap::new();
    for w in warnings {
        *m.entry(w.kind).or_insert(0usize) += 1;
    }
    m.into_iter().collect()
}
