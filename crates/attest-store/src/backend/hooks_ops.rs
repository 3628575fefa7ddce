//! Webhook, cursor and job operations, written once and compiled once per backend like
//! `ops.rs`. The only difference between the databases is `super::SKIP_LOCKED` (PostgreSQL
//! claims rows with `FOR UPDATE SKIP LOCKED`; SQLite's one writer makes it unnecessary) and how
//! a claiming transaction begins.

use jiff::Timestamp;
use sqlx::{AssertSqlSafe, QueryBuilder};

use super::ops::{append_in, encode_batch};
use super::{Db, KIND};
use crate::error::{Error, Result, db};
use crate::hooks::{
    Attempt, AttemptResult, Delivery, DeliveryStatus, JobFinish, JobRow, NewDelivery, Webhook,
};
use crate::stored::CodecError;
use crate::{AppendOutcome, NewEntry};

type Pool = sqlx::Pool<Db>;
type Conn = <Db as sqlx::Database>::Connection;

fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

fn time(op: &'static str, what: &'static str, ms: i64) -> Result<Timestamp> {
    Timestamp::from_millisecond(ms).map_err(|_| Error::Corrupt {
        op,
        backend: KIND,
        what,
        key: ms.to_string(),
        source: CodecError::Number(ms.to_string()),
    })
}

fn opt_time(op: &'static str, what: &'static str, ms: Option<i64>) -> Result<Option<Timestamp>> {
    ms.map(|m| time(op, what, m)).transpose()
}

fn count(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

type WebhookRow = (String, String, String, String, Option<String>, i64);

/// Every subscription, by name.
pub(crate) async fn webhooks(pool: &Pool) -> Result<Vec<Webhook>> {
    const OP: &str = "reading webhooks";
    let rows: Vec<WebhookRow> = sqlx::query_as(
        "SELECT name, url, events, shape, secret, created_ms FROM webhooks ORDER BY name",
    )
    .fetch_all(pool)
    .await
    .map_err(db(OP, KIND))?;
    rows.into_iter()
        .map(|(name, url, events, shape, secret, created)| {
            Ok(Webhook {
                name,
                url,
                events: events
                    .split(',')
                    .filter(|e| !e.is_empty())
                    .map(str::to_string)
                    .collect(),
                shape,
                secret,
                created: time(OP, "webhook creation time", created)?,
            })
        })
        .collect()
}

/// Adds or replaces a subscription.
pub(crate) async fn upsert_webhook(pool: &Pool, hook: &Webhook) -> Result<()> {
    sqlx::query(
        "INSERT INTO webhooks (name, url, events, shape, secret, created_ms) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (name) DO UPDATE SET url = excluded.url, events = excluded.events, \
         shape = excluded.shape, secret = excluded.secret",
    )
    .bind(&hook.name)
    .bind(&hook.url)
    .bind(hook.events.join(","))
    .bind(&hook.shape)
    .bind(hook.secret.as_deref())
    .bind(ms(hook.created))
    .execute(pool)
    .await
    .map_err(db("writing a webhook", KIND))?;
    Ok(())
}

/// Removes a subscription; its pending deliveries are given up in the same transaction.
/// Returns whether it existed.
pub(crate) async fn remove_webhook(pool: &Pool, name: &str, now: Timestamp) -> Result<bool> {
    const OP: &str = "removing a webhook";
    let mut tx = pool.begin().await.map_err(db(OP, KIND))?;
    let gone = sqlx::query("DELETE FROM webhooks WHERE name = $1")
        .bind(name)
        .execute(&mut *tx)
        .await
        .map_err(db(OP, KIND))?
        .rows_affected();
    sqlx::query(
        "UPDATE webhook_deliveries SET status = 'failed', last_error = 'subscription removed', \
         next_ms = $2, lease_owner = NULL, lease_until_ms = NULL \
         WHERE webhook = $1 AND status = 'pending'",
    )
    .bind(name)
    .bind(ms(now))
    .execute(&mut *tx)
    .await
    .map_err(db(OP, KIND))?;
    tx.commit().await.map_err(db(OP, KIND))?;
    Ok(gone > 0)
}

/// Inserts deliveries; one already queued for the same (webhook, event key) is kept as it is.
async fn insert_deliveries(
    conn: &mut Conn,
    deliveries: &[NewDelivery],
    now: Timestamp,
) -> Result<u64> {
    const OP: &str = "queueing webhook deliveries";
    let mut inserted = 0;
    // 7 binds per row, well under both databases' limits.
    for chunk in deliveries.chunks(1000) {
        let mut qb = QueryBuilder::<Db>::new(
            "INSERT INTO webhook_deliveries \
             (webhook, event_key, kind, body, status, attempts, created_ms, next_ms) ",
        );
        qb.push_values(chunk, |mut b, d| {
            b.push_bind(d.webhook.as_str())
                .push_bind(d.event_key.as_str())
                .push_bind(d.kind.as_str())
                .push_bind(d.body.as_str())
                .push("'pending'")
                .push("0")
                .push_bind(ms(now))
                .push_bind(ms(now));
        });
        qb.push(" ON CONFLICT (webhook, event_key) DO NOTHING");
        inserted += qb
            .build()
            .persistent(false)
            .execute(&mut *conn)
            .await
            .map_err(db(OP, KIND))?
            .rows_affected();
    }
    Ok(inserted)
}

/// Queues deliveries in one transaction; returns how many were new.
pub(crate) async fn enqueue(
    pool: &Pool,
    deliveries: &[NewDelivery],
    now: Timestamp,
) -> Result<u64> {
    const OP: &str = "queueing webhook deliveries";
    let mut tx = pool.begin().await.map_err(db(OP, KIND))?;
    let n = insert_deliveries(&mut tx, deliveries, now).await?;
    tx.commit().await.map_err(db(OP, KIND))?;
    Ok(n)
}

/// A journal cursor's position.
pub(crate) async fn cursor(pool: &Pool, name: &str) -> Result<Option<u64>> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT seq FROM journal_cursors WHERE name = $1")
        .bind(name)
        .fetch_optional(pool)
        .await
        .map_err(db("reading a journal cursor", KIND))?;
    Ok(row.map(|(s,)| u64::try_from(s).unwrap_or(0)))
}

/// Moves a cursor from `from` (`None`: it does not exist yet) to `to` and queues `deliveries`,
/// in one transaction — only if the cursor is still at `from`. Returns false (and writes
/// nothing) when another server moved it first.
pub(crate) async fn advance_cursor(
    pool: &Pool,
    name: &str,
    from: Option<u64>,
    to: u64,
    deliveries: &[NewDelivery],
    now: Timestamp,
) -> Result<bool> {
    const OP: &str = "advancing a journal cursor";
    let to = i64::try_from(to).unwrap_or(i64::MAX);
    let mut tx = super::begin_claim(pool).await.map_err(db(OP, KIND))?;
    let moved = match from {
        None => sqlx::query(
            "INSERT INTO journal_cursors (name, seq, at_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(to)
        .bind(ms(now))
        .execute(&mut *tx)
        .await
        .map_err(db(OP, KIND))?
        .rows_affected(),
        Some(from) => sqlx::query(
            "UPDATE journal_cursors SET seq = $2, at_ms = $3 WHERE name = $1 AND seq = $4",
        )
        .bind(name)
        .bind(to)
        .bind(ms(now))
        .bind(i64::try_from(from).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await
        .map_err(db(OP, KIND))?
        .rows_affected(),
    };
    if moved != 1 {
        tx.rollback().await.map_err(db(OP, KIND))?;
        return Ok(false);
    }
    insert_deliveries(&mut tx, deliveries, now).await?;
    tx.commit().await.map_err(db(OP, KIND))?;
    Ok(true)
}

type DeliveryRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    i64,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
);

const DELIVERY_COLUMNS: &str = "d.id, d.webhook, d.event_key, d.kind, d.body, d.status, \
     d.attempts, d.created_ms, d.next_ms, d.delivered_ms, d.last_error, w.url, w.secret \
     FROM webhook_deliveries d LEFT JOIN webhooks w ON w.name = d.webhook";

fn delivery(row: DeliveryRow) -> Result<Delivery> {
    const OP: &str = "reading webhook deliveries";
    let (id, webhook, event_key, kind, body, status, attempts, created, next, delivered, err) = (
        row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8, row.9, row.10,
    );
    Ok(Delivery {
        id,
        webhook,
        url: row.11.unwrap_or_default(),
        secret: row.12,
        event_key,
        kind,
        body,
        status: DeliveryStatus::parse(&status).ok_or_else(|| Error::Corrupt {
            op: OP,
            backend: KIND,
            what: "delivery status",
            key: status.clone(),
            source: CodecError::Number(status.clone()),
        })?,
        attempts: count(attempts),
        created: time(OP, "delivery time", created)?,
        next_at: time(OP, "delivery time", next)?,
        delivered: opt_time(OP, "delivery time", delivered)?,
        last_error: err,
    })
}

/// Claims up to `limit` due deliveries for `owner` until `lease_until`: their rows are locked
/// (skipping rows another server holds), leased and committed, so no other server picks them
/// until the lease runs out (a server that dies mid-delivery loses nothing: the lease expires).
pub(crate) async fn claim_deliveries(
    pool: &Pool,
    owner: &str,
    now: Timestamp,
    lease_until: Timestamp,
    limit: u32,
) -> Result<Vec<Delivery>> {
    const OP: &str = "claiming webhook deliveries";
    let mut tx = super::begin_claim(pool).await.map_err(db(OP, KIND))?;
    let select = format!(
        "SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_ms <= $1 \
         AND (lease_until_ms IS NULL OR lease_until_ms < $1) ORDER BY id LIMIT $2{}",
        super::SKIP_LOCKED
    );
    let ids: Vec<(i64,)> = sqlx::query_as(AssertSqlSafe(select))
        .bind(ms(now))
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(db(OP, KIND))?;
    let mut out = Vec::with_capacity(ids.len());
    for (id,) in ids {
        sqlx::query(
            "UPDATE webhook_deliveries SET lease_owner = $2, lease_until_ms = $3 WHERE id = $1",
        )
        .bind(id)
        .bind(owner)
        .bind(ms(lease_until))
        .execute(&mut *tx)
        .await
        .map_err(db(OP, KIND))?;
        let row: DeliveryRow = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {DELIVERY_COLUMNS} WHERE d.id = $1"
        )))
        .bind(id)
        .fetch_one(&mut *tx)
        .await
        .map_err(db(OP, KIND))?;
        out.push(delivery(row)?);
    }
    tx.commit().await.map_err(db(OP, KIND))?;
    Ok(out)
}

/// Logs an attempt and moves the delivery on (delivered, retry later, given up), in one
/// transaction, if `owner` still holds its lease. Returns whether it did.
pub(crate) async fn finish_attempt(
    pool: &Pool,
    attempt: &Attempt,
    result: AttemptResult,
) -> Result<bool> {
    const OP: &str = "recording a webhook attempt";
    let mut tx = pool.begin().await.map_err(db(OP, KIND))?;
    let (status, next, delivered) = match result {
        AttemptResult::Delivered => ("delivered", attempt.at, Some(ms(attempt.at))),
        AttemptResult::RetryAt(t) => ("pending", t, None),
        AttemptResult::GiveUp => ("failed", attempt.at, None),
    };
    let updated = sqlx::query(
        "UPDATE webhook_deliveries SET status = $3, attempts = $4, next_ms = $5, \
         delivered_ms = $6, last_error = $7, lease_owner = NULL, lease_until_ms = NULL \
         WHERE id = $1 AND lease_owner = $2",
    )
    .bind(attempt.delivery_id)
    .bind(&attempt.owner)
    .bind(status)
    .bind(i64::from(attempt.attempt))
    .bind(ms(next))
    .bind(delivered)
    .bind(attempt.error.as_deref())
    .execute(&mut *tx)
    .await
    .map_err(db(OP, KIND))?
    .rows_affected();
    if updated != 1 {
        tx.rollback().await.map_err(db(OP, KIND))?;
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO webhook_attempts \
         (delivery_id, attempt, at_ms, owner, status_code, error, duration_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(attempt.delivery_id)
    .bind(i64::from(attempt.attempt))
    .bind(ms(attempt.at))
    .bind(&attempt.owner)
    .bind(attempt.status_code.map(i64::from))
    .bind(attempt.error.as_deref())
    .bind(i64::try_from(attempt.duration_ms).unwrap_or(i64::MAX))
    .execute(&mut *tx)
    .await
    .map_err(db(OP, KIND))?;
    tx.commit().await.map_err(db(OP, KIND))?;
    Ok(true)
}

/// Deliveries, newest first, optionally of one status.
pub(crate) async fn deliveries(
    pool: &Pool,
    status: Option<DeliveryStatus>,
    limit: u32,
) -> Result<Vec<Delivery>> {
    let rows: Vec<DeliveryRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {DELIVERY_COLUMNS} WHERE ($1 = '' OR d.status = $1) ORDER BY d.id DESC LIMIT $2"
    )))
    .bind(status.map_or("", DeliveryStatus::as_str))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db("reading webhook deliveries", KIND))?;
    rows.into_iter().map(delivery).collect()
}

/// The attempts of a delivery, in order.
pub(crate) async fn attempts(pool: &Pool, delivery_id: i64) -> Result<Vec<Attempt>> {
    const OP: &str = "reading webhook attempts";
    type Row = (i64, i64, String, Option<i64>, Option<String>, i64);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT attempt, at_ms, owner, status_code, error, duration_ms FROM webhook_attempts \
         WHERE delivery_id = $1 ORDER BY attempt",
    )
    .bind(delivery_id)
    .fetch_all(pool)
    .await
    .map_err(db(OP, KIND))?;
    rows.into_iter()
        .map(|(attempt, at, owner, code, error, duration)| {
            Ok(Attempt {
                delivery_id,
                attempt: count(attempt),
                at: time(OP, "attempt time", at)?,
                owner,
                status_code: code.and_then(|c| u16::try_from(c).ok()),
                error,
                duration_ms: u64::try_from(duration).unwrap_or(0),
            })
        })
        .collect()
}

type JobTuple = (
    String,
    i64,
    i64,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<String>,
);

const JOB_COLUMNS: &str = "name, next_ms, failures, lease_owner, lease_until_ms, last_run_ms, \
     last_ok_ms, last_outcome FROM jobs";

fn job(row: JobTuple) -> Result<JobRow> {
    const OP: &str = "reading jobs";
    Ok(JobRow {
        name: row.0,
        next_at: time(OP, "job time", row.1)?,
        failures: count(row.2),
        lease_owner: row.3,
        lease_until: opt_time(OP, "job time", row.4)?,
        last_run: opt_time(OP, "job time", row.5)?,
        last_ok: opt_time(OP, "job time", row.6)?,
        last_outcome: row.7,
    })
}

/// Every job row, by name.
pub(crate) async fn jobs(pool: &Pool) -> Result<Vec<JobRow>> {
    let rows: Vec<JobTuple> =
        sqlx::query_as(AssertSqlSafe(format!("SELECT {JOB_COLUMNS} ORDER BY name")))
            .fetch_all(pool)
            .await
            .map_err(db("reading jobs", KIND))?;
    rows.into_iter().map(job).collect()
}

/// Creates a job row due at `next_at` unless it exists; moves an existing, idle job's due time
/// when `reschedule` (its schedule changed).
pub(crate) async fn ensure_job(
    pool: &Pool,
    name: &str,
    next_at: Timestamp,
    reschedule: bool,
) -> Result<()> {
    const OP: &str = "writing a job";
    let conflict = if reschedule {
        " ON CONFLICT (name) DO UPDATE SET next_ms = excluded.next_ms \
          WHERE jobs.lease_owner IS NULL AND jobs.failures = 0"
    } else {
        " ON CONFLICT (name) DO NOTHING"
    };
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO jobs (name, next_ms, failures) VALUES ($1, $2, 0){conflict}"
    )))
    .bind(name)
    .bind(ms(next_at))
    .execute(pool)
    .await
    .map_err(db(OP, KIND))?;
    Ok(())
}

/// Claims a job for `owner` until `lease_until` if it is due (or `force`) and nobody holds it.
/// The conditional update takes the row lock, so of several servers exactly one wins.
pub(crate) async fn claim_job(
    pool: &Pool,
    name: &str,
    owner: &str,
    now: Timestamp,
    lease_until: Timestamp,
    force: bool,
) -> Result<Option<JobRow>> {
    const OP: &str = "claiming a job";
    let mut tx = super::begin_claim(pool).await.map_err(db(OP, KIND))?;
    let claimed = sqlx::query(
        "UPDATE jobs SET lease_owner = $2, lease_until_ms = $3 WHERE name = $1 \
         AND (lease_until_ms IS NULL OR lease_until_ms < $4) AND ($5 = 1 OR next_ms <= $4)",
    )
    .bind(name)
    .bind(owner)
    .bind(ms(lease_until))
    .bind(ms(now))
    .bind(i64::from(force))
    .execute(&mut *tx)
    .await
    .map_err(db(OP, KIND))?
    .rows_affected();
    if claimed != 1 {
        tx.rollback().await.map_err(db(OP, KIND))?;
        return Ok(None);
    }
    let row: JobTuple = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {JOB_COLUMNS} WHERE name = $1"
    )))
    .bind(name)
    .fetch_one(&mut *tx)
    .await
    .map_err(db(OP, KIND))?;
    tx.commit().await.map_err(db(OP, KIND))?;
    job(row).map(Some)
}

/// Records a claimed run: releases the lease, sets the next due time, appends `entries` to the
/// journal (the run itself and what it found) and queues `deliveries` — all in one
/// transaction, and only if `owner` still holds the lease (`None` otherwise, nothing written).
pub(crate) async fn finish_job(
    pool: &Pool,
    name: &str,
    owner: &str,
    finish: &JobFinish,
    entries: Vec<NewEntry>,
    deliveries: &[NewDelivery],
) -> Result<Option<AppendOutcome>> {
    const OP: &str = "recording a job run";
    let payloads = encode_batch(&entries)?;
    let mut tx = super::begin_write(pool).await.map_err(db(OP, KIND))?;
    let updated = sqlx::query(
        "UPDATE jobs SET next_ms = $3, failures = $4, last_run_ms = $5, \
         last_ok_ms = CASE WHEN $6 = 1 THEN $5 ELSE last_ok_ms END, last_outcome = $7, \
         lease_owner = NULL, lease_until_ms = NULL WHERE name = $1 AND lease_owner = $2",
    )
    .bind(name)
    .bind(owner)
    .bind(ms(finish.next_at))
    .bind(i64::from(finish.failures))
    .bind(ms(finish.ran_at))
    .bind(i64::from(finish.ok))
    .bind(&finish.outcome)
    .execute(&mut *tx)
    .await
    .map_err(db(OP, KIND))?
    .rows_affected();
    if updated != 1 {
        tx.rollback().await.map_err(db(OP, KIND))?;
        return Ok(None);
    }
    let outcome = if entries.is_empty() {
        AppendOutcome {
            first_seq: 0,
            last_seq: 0,
            count: 0,
        }
    } else {
        append_in(&mut tx, entries, &payloads).await?
    };
    insert_deliveries(&mut tx, deliveries, finish.ran_at).await?;
    tx.commit().await.map_err(db(OP, KIND))?;
    Ok(Some(outcome))
}
