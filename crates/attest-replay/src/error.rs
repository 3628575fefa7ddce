//! Errors and warnings of replay, each naming the file (and chunk or line) involved.

use std::path::PathBuf;

/// A failure that stops reading one file or loading one dataset.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// An EVTX file could not be opened (bad header).
    #[error("{path}: not a readable EVTX file: {message}")]
    Evtx {
        /// The file.
        path: PathBuf,
        /// The parser's reason.
        message: String,
    },
    /// A manifest or `info.yml` is not valid.
    #[error("{path}: invalid dataset manifest: {message}")]
    Manifest {
        /// The file.
        path: PathBuf,
        /// The reason.
        message: String,
    },
    /// A dataset path is neither a folder, a manifest, nor an event file.
    #[error(
        "{path}: not a dataset (expected a folder, a .yml manifest, or an .evtx/.json/.jsonl file)"
    )]
    NotADataset {
        /// The path.
        path: PathBuf,
    },
}

/// A problem that skipped part of a file (a corrupt EVTX chunk, a bad JSON line) but not the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayWarning {
    /// The file.
    pub path: PathBuf,
    /// The EVTX chunk, when known.
    pub chunk: Option<u64>,
    /// The line (JSON) or record ordinal, when known.
    pub line: Option<u64>,
    /// What went wrong.
    pub message: String,
}

impl std::fmt::Display for ReplayWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(c) = self.chunk {
            write!(f, " chunk {c}")?;
        }
        if let Some(l) = self.line {
            write!(f, " line {l}")?;
        }
        write!(f, ": {}", self.message)
    }
}
