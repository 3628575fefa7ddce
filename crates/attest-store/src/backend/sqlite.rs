//! SQLite: the embedded default. One file in the workspace, WAL mode.

use sqlx::Sqlite;
use sqlx::migrate::Migrator;

use crate::error::BackendKind;

/// The sqlx database type the shared operations are compiled for.
pub(crate) type Db = Sqlite;

/// Named in errors.
pub(crate) const KIND: BackendKind = BackendKind::Sqlite;

/// The versioned schema.
pub(crate) static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

// Deliberately the same file as the other backend's `ops`: one source, compiled per database.
#[allow(clippy::duplicate_mod)]
#[path = "ops.rs"]
pub(crate) mod ops;

#[allow(clippy::duplicate_mod)]
#[path = "hooks_ops.rs"]
pub(crate) mod hooks_ops;

/// Appended to the SELECT that picks due rows to claim.
pub(crate) const SKIP_LOCKED: &str = "";

/// SQLite has one writer: a claim takes the write lock up front (as appends do), so two
/// claimers queue rather than both reading the same due rows.
pub(crate) async fn begin_claim(
    pool: &sqlx::Pool<Db>,
) -> Result<sqlx::Transaction<'static, Db>, sqlx::Error> {
    pool.begin_with("BEGIN IMMEDIATE").await
}

/// Begins a write transaction holding SQLite's write lock from the start. A plain (deferred)
/// `BEGIN` would read the head first and only then try to upgrade to a write lock, which can
/// fail with "database is locked" when another process wrote in between; `IMMEDIATE` makes
/// concurrent writers queue instead (up to the busy timeout).
pub(crate) async fn begin_write(
    pool: &sqlx::Pool<Db>,
) -> Result<sqlx::Transaction<'static, Db>, sqlx::Error> {
    pool.begin_with("BEGIN IMMEDIATE").await
}

/// SQLite has no notifications: readers poll the head.
pub(crate) async fn notify(
    _conn: &mut sqlx::SqliteConnection,
    _last_seq: u64,
) -> Result<(), sqlx::Error> {
    Ok(())
}
