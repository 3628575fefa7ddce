//! PostgreSQL: the shared backend for several `attest serve` instances.

use sqlx::Postgres;
use sqlx::migrate::Migrator;
use sqlx::postgres::PgListener;

use crate::error::{BackendKind, Error, Result, db};
use crate::stored::CodecError;

/// The sqlx database type the shared operations are compiled for.
pub(crate) type Db = Postgres;

/// Named in errors.
pub(crate) const KIND: BackendKind = BackendKind::Postgres;

/// The versioned schema.
pub(crate) static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// The notification channel appends signal on.
pub(crate) const CHANNEL: &str = "attest_journal";

// Deliberately the same file as the other backend's `ops`: one source, compiled per database.
#[allow(clippy::duplicate_mod)]
#[path = "ops.rs"]
pub(crate) mod ops;

#[allow(clippy::duplicate_mod)]
#[path = "hooks_ops.rs"]
pub(crate) mod hooks_ops;

/// Appended to the SELECT that picks due rows to claim.
pub(crate) const SKIP_LOCKED: &str = " FOR UPDATE SKIP LOCKED";

/// A claim is an ordinary transaction: the rows it selects are locked `FOR UPDATE SKIP LOCKED`,
/// so concurrent claimers on other servers pass over them instead of waiting.
pub(crate) async fn begin_claim(
    pool: &sqlx::Pool<Db>,
) -> Result<sqlx::Transaction<'static, Db>, sqlx::Error> {
    pool.begin().await
}

/// Begins a write transaction and takes the journal's table lock, which serializes appenders
/// (so `seq` is read and assigned without races) while readers carry on.
pub(crate) async fn begin_write(
    pool: &sqlx::Pool<Db>,
) -> Result<sqlx::Transaction<'static, Db>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("LOCK TABLE journal IN EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// `NOTIFY attest_journal, '<seq>'`, delivered by PostgreSQL only if the transaction commits.
pub(crate) async fn notify(
    conn: &mut sqlx::PgConnection,
    last_seq: u64,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(last_seq.to_string())
        .execute(conn)
        .await?;
    Ok(())
}

/// A listener on the journal channel.
pub(crate) async fn listen(pool: &sqlx::Pool<Db>) -> Result<crate::JournalListener> {
    let mut inner = PgListener::connect_with(pool)
        .await
        .map_err(db("listening for journal notifications", KIND))?;
    inner
        .listen(CHANNEL)
        .await
        .map_err(db("listening for journal notifications", KIND))?;
    Ok(crate::JournalListener { inner })
}

/// The next notified head, or `None` when the connection was lost (the next call reconnects).
pub(crate) async fn try_recv(listener: &mut PgListener) -> Result<Option<u64>> {
    const OP: &str = "receiving a journal notification";
    match listener.try_recv().await.map_err(db(OP, KIND))? {
        Some(n) => seq_of(&n).map(Some),
        None => Ok(None),
    }
}

/// The next notified head.
pub(crate) async fn recv(listener: &mut PgListener) -> Result<u64> {
    const OP: &str = "receiving a journal notification";
    let n = listener.recv().await.map_err(db(OP, KIND))?;
    seq_of(&n)
}

fn seq_of(n: &sqlx::postgres::PgNotification) -> Result<u64> {
    const OP: &str = "receiving a journal notification";
    n.payload().parse().map_err(|_| Error::Corrupt {
        op: OP,
        backend: KIND,
        what: "notification",
        key: n.payload().to_string(),
        source: CodecError::Number(n.payload().to_string()),
    })
}
