//! Operational tables beside the journal: webhook subscriptions, the persistent delivery queue
//! (every attempt logged), the event detector's journal cursor, and the scheduler's jobs.
//!
//! None of this is derived from the journal, so none of it is rebuilt from it. What must be
//! exactly-once across several servers on one database is claimed under a row lock: a
//! delivery with `SELECT … FOR UPDATE SKIP LOCKED` (PostgreSQL; SQLite has one writer) and a
//! lease, a job run with a conditional lease update, the detector's progress with a
//! compare-and-set of its cursor in the same transaction as the deliveries it queues.

use jiff::Timestamp;

/// A webhook subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    /// Unique name.
    pub name: String,
    /// Where events are POSTed.
    pub url: String,
    /// Event kinds it wants (`regression`, `result_failed`, …).
    pub events: Vec<String>,
    /// Payload shape (`generic` or `slack`).
    pub shape: String,
    /// Key of the `X-Attest-Signature` HMAC; `None`: unsigned.
    pub secret: Option<String>,
    /// When it was created.
    pub created: Timestamp,
}

/// An event rendered for one subscription, to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    /// The subscription's name.
    pub webhook: String,
    /// Identifies the event: queueing the same key twice for a subscription queues it once.
    pub event_key: String,
    /// Event kind.
    pub kind: String,
    /// The exact body to POST.
    pub body: String,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Waiting for its (next) attempt.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Every attempt failed; given up.
    Failed,
}

impl DeliveryStatus {
    /// The stored word.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    /// Parses the stored word.
    pub fn parse(s: &str) -> Option<DeliveryStatus> {
        match s {
            "pending" => Some(DeliveryStatus::Pending),
            "delivered" => Some(DeliveryStatus::Delivered),
            "failed" => Some(DeliveryStatus::Failed),
            _ => None,
        }
    }
}

/// A queued delivery, with its subscription's URL and secret as they are now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Its id (sent as `X-Attest-Delivery` so receivers can drop duplicates).
    pub id: i64,
    /// The subscription.
    pub webhook: String,
    /// The subscription's URL (empty when the subscription was removed).
    pub url: String,
    /// The subscription's secret.
    pub secret: Option<String>,
    /// The event's key.
    pub event_key: String,
    /// Event kind.
    pub kind: String,
    /// The body.
    pub body: String,
    /// Status.
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: u32,
    /// When it was queued.
    pub created: Timestamp,
    /// When the next attempt is due.
    pub next_at: Timestamp,
    /// When it was delivered.
    pub delivered: Option<Timestamp>,
    /// The last attempt's error.
    pub last_error: Option<String>,
}

/// One logged delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The delivery.
    pub delivery_id: i64,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// When it was made.
    pub at: Timestamp,
    /// The server instance that made it.
    pub owner: String,
    /// The HTTP status answered, if any.
    pub status_code: Option<u16>,
    /// What went wrong, if anything.
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: u64,
}

/// What became of an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptResult {
    /// Delivered.
    Delivered,
    /// Failed; try again at this instant.
    RetryAt(Timestamp),
    /// Failed for the last time.
    GiveUp,
}

/// A scheduled job's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRow {
    /// Name.
    pub name: String,
    /// When it is due.
    pub next_at: Timestamp,
    /// Consecutive failed runs.
    pub failures: u32,
    /// The instance holding it, while it runs.
    pub lease_owner: Option<String>,
    /// Until when that lease holds.
    pub lease_until: Option<Timestamp>,
    /// When it last ran.
    pub last_run: Option<Timestamp>,
    /// When it last succeeded.
    pub last_ok: Option<Timestamp>,
    /// The last outcome, in words.
    pub last_outcome: Option<String>,
}

/// How a claimed job run ended, to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobFinish {
    /// When it is due next (the schedule's next time, or a retry).
    pub next_at: Timestamp,
    /// Consecutive failures after this run (0 after a success).
    pub failures: u32,
    /// When it ran.
    pub ran_at: Timestamp,
    /// Whether it succeeded.
    pub ok: bool,
    /// The outcome in words.
    pub outcome: String,
}

use crate::{AppendOutcome, Backend, NewEntry, Result, Store, backend};

/// Runs a webhook/job operation on whichever backend the store has.
macro_rules! hooks {
    ($self:expr, $f:ident ( $($arg:expr),* )) => {
        match &$self.backend {
            Backend::Sqlite(pool) => backend::sqlite::hooks_ops::$f(pool $(, $arg)*).await,
            Backend::Postgres(pool) => backend::postgres::hooks_ops::$f(pool $(, $arg)*).await,
        }
    };
}

impl Store {
    /// Every webhook subscription, by name.
    pub async fn webhooks(&self) -> Result<Vec<Webhook>> {
        hooks!(self, webhooks())
    }

    /// Adds a subscription, or replaces the one with the same name.
    pub async fn upsert_webhook(&self, hook: &Webhook) -> Result<()> {
        hooks!(self, upsert_webhook(hook))
    }

    /// Removes a subscription and gives up its pending deliveries. Returns whether it existed.
    pub async fn remove_webhook(&self, name: &str, now: Timestamp) -> Result<bool> {
        hooks!(self, remove_webhook(name, now))
    }

    /// Queues deliveries due now, in one transaction. An event already queued for a
    /// subscription (same event key) is not queued twice. Returns how many were new.
    pub async fn enqueue_deliveries(
        &self,
        deliveries: &[NewDelivery],
        now: Timestamp,
    ) -> Result<u64> {
        hooks!(self, enqueue(deliveries, now))
    }

    /// Where a journal cursor stands (`None`: never advanced).
    pub async fn cursor(&self, name: &str) -> Result<Option<u64>> {
        hooks!(self, cursor(name))
    }

    /// Moves a journal cursor from `from` to `to` and queues `deliveries` in one transaction,
    /// only if the cursor is still at `from`: of several servers reading the same entries,
    /// exactly one queues their events. Returns whether this call did.
    pub async fn advance_cursor(
        &self,
        name: &str,
        from: Option<u64>,
        to: u64,
        deliveries: &[NewDelivery],
        now: Timestamp,
    ) -> Result<bool> {
        hooks!(self, advance_cursor(name, from, to, deliveries, now))
    }

    /// Claims up to `limit` due deliveries for the server `owner` until `lease_until`.
    pub async fn claim_deliveries(
        &self,
        owner: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<Delivery>> {
        hooks!(self, claim_deliveries(owner, now, lease_until, limit))
    }

    /// Logs an attempt and moves its delivery on, if `attempt.owner` still holds the lease.
    pub async fn finish_attempt(&self, attempt: &Attempt, result: AttemptResult) -> Result<bool> {
        hooks!(self, finish_attempt(attempt, result))
    }

    /// Deliveries, newest first, optionally only those in one status.
    pub async fn deliveries(
        &self,
        status: Option<DeliveryStatus>,
        limit: u32,
    ) -> Result<Vec<Delivery>> {
        hooks!(self, deliveries(status, limit))
    }

    /// The logged attempts of a delivery.
    pub async fn delivery_attempts(&self, delivery_id: i64) -> Result<Vec<Attempt>> {
        hooks!(self, attempts(delivery_id))
    }

    /// Every scheduled job's row.
    pub async fn jobs(&self) -> Result<Vec<JobRow>> {
        hooks!(self, jobs())
    }

    /// Creates a job due at `next_at` if it does not exist; with `reschedule`, also moves an
    /// existing idle job (not running, not retrying) to `next_at`.
    pub async fn ensure_job(&self, name: &str, next_at: Timestamp, reschedule: bool) -> Result<()> {
        hooks!(self, ensure_job(name, next_at, reschedule))
    }

    /// Claims a job for `owner` until `lease_until`, if it is due (or `force`) and no server
    /// holds it. `None`: not claimed.
    pub async fn claim_job(
        &self,
        name: &str,
        owner: &str,
        now: Timestamp,
        lease_until: Timestamp,
        force: bool,
    ) -> Result<Option<JobRow>> {
        hooks!(self, claim_job(name, owner, now, lease_until, force))
    }

    /// Records a claimed job run in one transaction: the job's next due time, the journal
    /// `entries` (the run and what it found) and the `deliveries` it queues. `None` when
    /// `owner` no longer holds the lease (nothing written).
    pub async fn finish_job(
        &self,
        name: &str,
        owner: &str,
        finish: &JobFinish,
        entries: Vec<NewEntry>,
        deliveries: &[NewDelivery],
    ) -> Result<Option<AppendOutcome>> {
        hooks!(self, finish_job(name, owner, finish, entries, deliveries))
    }
}
