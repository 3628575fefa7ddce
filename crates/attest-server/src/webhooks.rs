//! Webhook delivery in the background: the detector turns new journal entries into queued
//! deliveries, and the deliverer POSTs them, retrying with exponential backoff.
//!
//! Both run in every server. The detector reads the journal from a cursor kept in the store and
//! moves it with a compare-and-set in the same transaction as the deliveries it queues, so of
//! several servers exactly one queues each stretch of the journal, and a crash between reading
//! and queueing loses nothing (the cursor did not move). The deliverer claims due deliveries
//! under a row lock with a lease; a server that dies mid-delivery leaves the lease to expire
//! and another server delivers. Every attempt is logged in the store.

use std::sync::Arc;
use std::time::{Duration, Instant};

use attest_core::state::State;
use attest_store::JournalQuery;
use attest_store::hooks::{Attempt, AttemptResult, Delivery};
use jiff::{SignedDuration, Timestamp};

use crate::Error;
use crate::notices;
use crate::state::AppState;

/// The detector's journal cursor.
const CURSOR: &str = "webhook-events";
/// Most journal entries one detector pass reads.
const BATCH: u64 = 10_000;

/// How deliveries are attempted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryOptions {
    /// Wait before the second attempt; doubled for each further one.
    pub first_retry: Duration,
    /// Longest wait between attempts.
    pub max_retry: Duration,
    /// Attempts before giving up.
    pub max_attempts: u32,
    /// Time limit of one HTTP request.
    pub timeout: Duration,
    /// How long a claimed delivery is reserved for the server that claimed it.
    pub lease: Duration,
}

impl Default for DeliveryOptions {
    fn default() -> DeliveryOptions {
        DeliveryOptions {
            first_retry: Duration::from_secs(30),
            max_retry: Duration::from_secs(3600),
            // 30 s doubling to the hour: about a day and a half of retries.
            max_attempts: 12,
            timeout: Duration::from_secs(10),
            lease: Duration::from_secs(60),
        }
    }
}

impl DeliveryOptions {
    /// Wait after the `attempt`-th failed attempt: `first_retry × 2^(attempt-1)`, capped.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.first_retry
            .checked_mul(factor)
            .unwrap_or(self.max_retry)
            .min(self.max_retry)
    }
}

/// How the background work of a server runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackgroundOptions {
    /// How often the detector, deliverer and scheduler look for work when nothing wakes them.
    pub tick: Duration,
    /// Delivery retries and limits.
    pub delivery: DeliveryOptions,
    /// Run scheduled jobs (the jobs stay triggerable through the API either way).
    pub scheduler: bool,
    /// How long a claimed job run is reserved for the server running it.
    pub job_lease: Duration,
    /// Wait before retrying a failed job run; doubled per consecutive failure, capped at an
    /// hour.
    pub job_retry: Duration,
}

impl Default for BackgroundOptions {
    fn default() -> BackgroundOptions {
        BackgroundOptions {
            tick: Duration::from_secs(2),
            delivery: DeliveryOptions::default(),
            scheduler: true,
            job_lease: Duration::from_secs(30 * 60),
            job_retry: Duration::from_secs(60),
        }
    }
}

pub(crate) fn after(t: Timestamp, d: Duration) -> Timestamp {
    SignedDuration::try_from(d)
        .ok()
        .and_then(|d| t.checked_add(d).ok())
        .unwrap_or(t)
}

fn store_err(operation: &'static str) -> impl FnOnce(attest_store::Error) -> Error {
    move |source| Error::Store { operation, source }
}

/// The detector's state between passes: the projected state at the cursor, so consecutive
/// passes do not fold the journal again.
#[derive(Default)]
pub(crate) struct Detector {
    at_cursor: Option<State>,
}

impl Detector {
    /// One pass: reads the entries after the cursor, queues what they announce, moves the
    /// cursor. Returns how many deliveries were queued.
    pub(crate) async fn pass(&mut self, app: &AppState) -> Result<usize, Error> {
        let store = app.store();
        let now = Timestamp::now();
        let head = store
            .head()
            .await
            .map_err(store_err("read the journal head"))?;
        let Some(cursor) = store
            .cursor(CURSOR)
            .await
            .map_err(store_err("read the webhook cursor"))?
        else {
            start_cursor(app).await?;
            return Ok(0);
        };
        if cursor >= head {
            return Ok(0);
        }
        let upto = head.min(cursor + BATCH);
        let hooks = store.webhooks().await.map_err(store_err("read webhooks"))?;
        if hooks.is_empty() {
            // Nobody listens: move on without computing anything.
            self.at_cursor = None;
            store
                .advance_cursor(CURSOR, Some(cursor), upto, &[], now)
                .await
                .map_err(store_err("advance the webhook cursor"))?;
            return Ok(0);
        }
        let before = match self.at_cursor.take() {
            Some(s) if s.last_seq == cursor => s,
            _ => {
                let q = JournalQuery {
                    until_seq: Some(cursor),
                    ..JournalQuery::default()
                };
                let entries = store
                    .journal(&q)
                    .await
                    .map_err(store_err("read the journal"))?;
                State::from_journal(&entries)
            }
        };
        let q = JournalQuery {
            after_seq: cursor,
            until_seq: Some(upto),
            ..JournalQuery::default()
        };
        let entries = store
            .journal(&q)
            .await
            .map_err(store_err("read the journal"))?;
        let knowledge = app.knowledge();
        let (after_state, notices) = tokio::task::spawn_blocking(move || {
            let mut after_state = before.clone();
            for e in &entries {
                after_state.apply(e);
            }
            // Entries past `upto` cannot be here, so the fold ends exactly at it.
            after_state.last_seq = upto;
            let notices =
                notices::from_entries(&knowledge.catalog, &before, &after_state, &entries, now);
            (after_state, notices)
        })
        .await
        .map_err(|e| Error::Background(format!("event detection panicked: {e}")))?;
        let deliveries = notices::fan_out(&hooks, &notices);
        let moved = store
            .advance_cursor(CURSOR, Some(cursor), upto, &deliveries, now)
            .await
            .map_err(store_err("queue webhook deliveries"))?;
        if moved {
            self.at_cursor = Some(after_state);
            Ok(deliveries.len())
        } else {
            // Another server queued this stretch first.
            Ok(0)
        }
    }
}

/// Starts the detector's cursor at the journal head if no server ever did: history before the
/// first server is not news. Called before the server answers its first request, so nothing
/// written through it can fall before the cursor unannounced.
pub(crate) async fn start_cursor(app: &AppState) -> Result<(), Error> {
    let store = app.store();
    if store
        .cursor(CURSOR)
        .await
        .map_err(store_err("read the webhook cursor"))?
        .is_some()
    {
        return Ok(());
    }
    let head = store
        .head()
        .await
        .map_err(store_err("read the journal head"))?;
    // Losing this race to another server is fine: its cursor is as good.
    store
        .advance_cursor(CURSOR, None, head, &[], Timestamp::now())
        .await
        .map_err(store_err("start the webhook cursor"))?;
    Ok(())
}

/// Sends claimed deliveries.
pub(crate) struct Deliverer {
    client: reqwest::Client,
    options: DeliveryOptions,
}

impl Deliverer {
    pub(crate) fn new(options: DeliveryOptions) -> Result<Deliverer, Error> {
        let client = reqwest::Client::builder()
            .timeout(options.timeout)
            // A receiver answers; it does not send us elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("attest/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Background(format!("building the HTTP client: {e}")))?;
        Ok(Deliverer { client, options })
    }

    /// Claims and sends what is due. Returns how many attempts were made.
    pub(crate) async fn pass(&self, app: &AppState) -> Result<usize, Error> {
        let store = app.store();
        let owner = app.instance();
        let mut made = 0;
        loop {
            let now = Timestamp::now();
            let batch = store
                .claim_deliveries(owner, now, after(now, self.options.lease), 16)
                .await
                .map_err(store_err("claim webhook deliveries"))?;
            if batch.is_empty() {
                return Ok(made);
            }
            for d in batch {
                self.attempt(app, &d).await?;
                made += 1;
            }
        }
    }

    async fn attempt(&self, app: &AppState, d: &Delivery) -> Result<(), Error> {
        let number = d.attempts + 1;
        let at = Timestamp::now();
        let started = Instant::now();
        let (status_code, error) = if d.url.is_empty() {
            (None, Some("subscription removed".to_string()))
        } else {
            let mut req = self
                .client
                .post(&d.url)
                .header("content-type", "application/json")
                .header("x-attest-event", &d.kind)
                .header("x-attest-delivery", d.id.to_string())
                .body(d.body.clone());
            if let Some(secret) = &d.secret {
                req = req.header(
                    "x-attest-signature",
                    notices::sign(secret, d.body.as_bytes()),
                );
            }
            match req.send().await {
                Ok(resp) if resp.status().is_success() => (Some(resp.status().as_u16()), None),
                Ok(resp) => (
                    Some(resp.status().as_u16()),
                    Some(format!("HTTP {}", resp.status())),
                ),
                Err(e) => (None, Some(error_chain(&e))),
            }
        };
        let result = match &error {
            None => AttemptResult::Delivered,
            Some(_) if d.url.is_empty() || number >= self.options.max_attempts => {
                AttemptResult::GiveUp
            }
            Some(_) => {
                AttemptResult::RetryAt(after(Timestamp::now(), self.options.backoff(number)))
            }
        };
        match &result {
            AttemptResult::Delivered => {
                tracing::debug!(id = d.id, webhook = %d.webhook, "webhook delivered");
                app.inner.metrics.add_webhook("delivered");
            }
            AttemptResult::RetryAt(t) => {
                tracing::info!(id = d.id, webhook = %d.webhook, attempt = number, error = ?error, retry_at = %t, "webhook delivery failed; will retry");
                app.inner.metrics.add_webhook("retried");
            }
            AttemptResult::GiveUp => {
                tracing::warn!(id = d.id, webhook = %d.webhook, attempt = number, error = ?error, "webhook delivery given up");
                app.inner.metrics.add_webhook("failed");
            }
        }
        let attempt = Attempt {
            delivery_id: d.id,
            attempt: number,
            at,
            owner: app.instance().to_string(),
            status_code,
            error,
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        };
        app.store()
            .finish_attempt(&attempt, result)
            .await
            .map_err(store_err("record a webhook attempt"))?;
        Ok(())
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// Starts the detector and the deliverer; they run until the handles are aborted.
pub(crate) fn spawn(
    app: &AppState,
    options: BackgroundOptions,
) -> Result<Vec<tokio::task::JoinHandle<()>>, Error> {
    let deliverer = Arc::new(Deliverer::new(options.delivery)?);
    let detect_app = app.clone();
    let detector = tokio::spawn(async move {
        let mut detector = Detector::default();
        let mut tick = tokio::time::interval(options.tick);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = detect_app.inner.journal_moved.notified() => {}
            }
            match detector.pass(&detect_app).await {
                Ok(0) => {}
                Ok(_) => detect_app.inner.deliveries_queued.notify_one(),
                Err(error) => tracing::warn!(%error, "webhook event detection failed"),
            }
        }
    });
    let deliver_app = app.clone();
    let sender = tokio::spawn(async move {
        let mut tick = tokio::time::interval(options.tick);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = deliver_app.inner.deliveries_queued.notified() => {}
            }
            if let Err(error) = deliverer.pass(&deliver_app).await {
                tracing::warn!(%error, "webhook delivery failed");
            }
        }
    });
    Ok(vec![detector, sender])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let o = DeliveryOptions {
            first_retry: Duration::from_secs(30),
            max_retry: Duration::from_secs(3600),
            ..DeliveryOptions::default()
        };
        assert_eq!(o.backoff(1), Duration::from_secs(30));
        assert_eq!(o.backoff(2), Duration::from_secs(60));
        assert_eq!(o.backoff(4), Duration::from_secs(240));
        assert_eq!(o.backoff(10), Duration::from_secs(3600));
        assert_eq!(o.backoff(99), Duration::from_secs(3600));
    }
}
