//! Typed errors: every variant names the operation and the backend it failed on.

use std::fmt;

use crate::stored::CodecError;

/// The database behind a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BackendKind {
    /// An embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BackendKind::Sqlite => "SQLite",
            BackendKind::Postgres => "PostgreSQL",
        })
    }
}

/// An error of the store. A failed write never leaves a partial change behind: every write runs
/// in one transaction, which the database rolls back when any step fails.
///
/// Messages do not repeat their cause; walk [`std::error::Error::source`] to print the chain.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The store URL could not be understood.
    #[error("invalid store URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `open` was asked for a SQLite workspace that does not exist (use `create`).
    #[error("no workspace database at {path} (run `attest init` first)")]
    Missing {
        /// The database file.
        path: String,
    },
    /// The database reported an error.
    #[error("{op} on {backend} failed")]
    Database {
        /// What the store was doing.
        op: &'static str,
        /// Which backend.
        backend: BackendKind,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// Applying the schema migrations failed.
    #[error("migrating the {backend} schema failed")]
    Migrate {
        /// Which backend.
        backend: BackendKind,
        /// The migrator's error.
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    /// The task committing appends stopped before answering (the runtime is shutting down).
    #[error("append: the journal writer stopped before the batch was committed")]
    WriterStopped,
    /// A journal entry could not be encoded for storage.
    #[error("append on {backend}: entry {index} of the batch ({kind}) cannot be stored")]
    Encode {
        /// Which backend.
        backend: BackendKind,
        /// Position of the entry in the batch.
        index: usize,
        /// The event kind.
        kind: &'static str,
        /// Why.
        #[source]
        source: CodecError,
    },
    /// A stored journal entry could not be decoded.
    #[error("{op} on {backend}: journal entry {seq} cannot be decoded")]
    Decode {
        /// What the store was doing.
        op: &'static str,
        /// Which backend.
        backend: BackendKind,
        /// The entry's sequence number.
        seq: u64,
        /// Why.
        #[source]
        source: CodecError,
    },
    /// A stored projection row or column could not be decoded.
    #[error("{op} on {backend}: stored {what} {key:?} is corrupt")]
    Corrupt {
        /// What the store was doing.
        op: &'static str,
        /// Which backend.
        backend: BackendKind,
        /// Which kind of row (rule, source, ...).
        what: &'static str,
        /// Its key.
        key: String,
        /// Why.
        #[source]
        source: CodecError,
    },
}

/// The store's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Shorthand to wrap a driver error with the operation and backend.
pub(crate) fn db(op: &'static str, backend: BackendKind) -> impl FnOnce(sqlx::Error) -> Error {
    move |source| Error::Database {
        op,
        backend,
        source,
    }
}
