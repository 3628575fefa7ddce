//! Webhook subscriptions, the delivery queue, journal cursors and job claims, on every available
//! backend (SQLite always, PostgreSQL when `ATTEST_TEST_POSTGRES_URL` is set).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use attest_core::journal::{Event, JobOutcome, JobRun, JobTrigger};
use attest_store::NewEntry;
use attest_store::hooks::{
    Attempt, AttemptResult, DeliveryStatus, JobFinish, NewDelivery, Webhook,
};
use common::{backends, create, ts};

fn hook(name: &str) -> Webhook {
    Webhook {
        name: name.into(),
        url: format!("http://127.0.0.1:9/{name}"),
        events: vec!["regression".into(), "result_failed".into()],
        shape: "generic".into(),
        secret: Some("s3cret".into()),
        created: ts("2026-02-01T00:00:00Z"),
    }
}

fn delivery(webhook: &str, key: &str) -> NewDelivery {
    NewDelivery {
        webhook: webhook.into(),
        event_key: key.into(),
        kind: "regression".into(),
        body: format!("{{\"key\":\"{key}\"}}"),
    }
}

#[tokio::test]
async fn subscriptions_are_kept_replaced_and_removed() {
    for db in backends("subscriptions_are_kept_replaced_and_removed").await {
        let store = create(&db).await;
        store.upsert_webhook(&hook("soc")).await.unwrap();
        let mut changed = hook("soc");
        changed.url = "http://127.0.0.1:9/other".into();
        changed.secret = None;
        store.upsert_webhook(&changed).await.unwrap();
        store.upsert_webhook(&hook("ci")).await.unwrap();
        let all = store.webhooks().await.unwrap();
        assert_eq!(all.len(), 2, "{}", db.label);
        assert_eq!(all[1], changed, "{}", db.label);
        let now = ts("2026-02-02T00:00:00Z");
        store
            .enqueue_deliveries(&[delivery("soc", "e1")], now)
            .await
            .unwrap();
        assert!(store.remove_webhook("soc", now).await.unwrap());
        assert!(!store.remove_webhook("soc", now).await.unwrap());
        let d = store.deliveries(None, 10).await.unwrap();
        assert_eq!(d[0].status, DeliveryStatus::Failed, "{}", db.label);
        assert_eq!(d[0].last_error.as_deref(), Some("subscription removed"));
    }
}

#[tokio::test]
async fn deliveries_are_queued_once_claimed_once_and_logged() {
    for db in backends("deliveries_are_queued_once_claimed_once_and_logged").await {
        let store = create(&db).await;
        store.upsert_webhook(&hook("soc")).await.unwrap();
        let now = ts("2026-02-02T00:00:00Z");
        let batch = [delivery("soc", "e1"), delivery("soc", "e2")];
        assert_eq!(store.enqueue_deliveries(&batch, now).await.unwrap(), 2);
        // The same events again: nothing new.
        assert_eq!(store.enqueue_deliveries(&batch, now).await.unwrap(), 0);

        let lease = ts("2026-02-02T00:01:00Z");
        let a = store.claim_deliveries("a", now, lease, 1).await.unwrap();
        let b = store.claim_deliveries("b", now, lease, 10).await.unwrap();
        assert_eq!((a.len(), b.len()), (1, 1), "{}", db.label);
        assert_ne!(a[0].id, b[0].id);
        assert_eq!(a[0].url, "http://127.0.0.1:9/soc");
        assert_eq!(a[0].secret.as_deref(), Some("s3cret"));
        // Both leased: nothing left to claim.
        assert!(
            store
                .claim_deliveries("c", now, lease, 10)
                .await
                .unwrap()
                .is_empty()
        );

        // a fails and retries later; b delivers. A stranger cannot finish a's delivery.
        let retry_at = ts("2026-02-02T00:00:30Z");
        let failed = Attempt {
            delivery_id: a[0].id,
            attempt: 1,
            at: now,
            owner: "a".into(),
            status_code: Some(500),
            error: Some("HTTP 500".into()),
            duration_ms: 12,
        };
        let stranger = Attempt {
            owner: "c".into(),
            ..failed.clone()
        };
        assert!(
            !store
                .finish_attempt(&stranger, AttemptResult::GiveUp)
                .await
                .unwrap()
        );
        assert!(
            store
                .finish_attempt(&failed, AttemptResult::RetryAt(retry_at))
                .await
                .unwrap()
        );
        let ok = Attempt {
            delivery_id: b[0].id,
            attempt: 1,
            at: now,
            owner: "b".into(),
            status_code: Some(204),
            error: None,
            duration_ms: 3,
        };
        assert!(
            store
                .finish_attempt(&ok, AttemptResult::Delivered)
                .await
                .unwrap()
        );

        // Not due yet, then due.
        assert!(
            store
                .claim_deliveries("c", now, lease, 10)
                .await
                .unwrap()
                .is_empty()
        );
        let again = store
            .claim_deliveries("c", retry_at, ts("2026-02-02T00:02:00Z"), 10)
            .await
            .unwrap();
        assert_eq!(again.len(), 1, "{}", db.label);
        assert_eq!(again[0].attempts, 1);
        assert_eq!(again[0].id, a[0].id);

        let attempts = store.delivery_attempts(a[0].id).await.unwrap();
        assert_eq!(attempts, vec![failed], "{}", db.label);
        let delivered = store
            .deliveries(Some(DeliveryStatus::Delivered), 10)
            .await
            .unwrap();
        assert_eq!(delivered.len(), 1);
        assert_eq!(delivered[0].delivered, Some(now));
    }
}

#[tokio::test]
async fn an_expired_lease_is_claimed_again() {
    for db in backends("an_expired_lease_is_claimed_again").await {
        let store = create(&db).await;
        store.upsert_webhook(&hook("soc")).await.unwrap();
        let now = ts("2026-02-02T00:00:00Z");
        store
            .enqueue_deliveries(&[delivery("soc", "e1")], now)
            .await
            .unwrap();
        let lease = ts("2026-02-02T00:00:10Z");
        assert_eq!(
            store
                .claim_deliveries("dead", now, lease, 5)
                .await
                .unwrap()
                .len(),
            1
        );
        // The server holding it died; after the lease another one takes it.
        let later = ts("2026-02-02T00:00:11Z");
        let d = store
            .claim_deliveries("alive", later, ts("2026-02-02T00:01:00Z"), 5)
            .await
            .unwrap();
        assert_eq!(d.len(), 1, "{}", db.label);
    }
}

#[tokio::test]
async fn a_cursor_moves_once_and_queues_with_it() {
    for db in backends("a_cursor_moves_once_and_queues_with_it").await {
        let store = create(&db).await;
        store.upsert_webhook(&hook("soc")).await.unwrap();
        let now = ts("2026-02-02T00:00:00Z");
        assert_eq!(store.cursor("events").await.unwrap(), None);
        assert!(
            store
                .advance_cursor("events", None, 5, &[], now)
                .await
                .unwrap()
        );
        assert!(
            !store
                .advance_cursor("events", None, 6, &[], now)
                .await
                .unwrap()
        );
        // Two servers read entries 6..=9; only the first to commit queues their event.
        let d = [delivery("soc", "regression:5-9")];
        assert!(
            store
                .advance_cursor("events", Some(5), 9, &d, now)
                .await
                .unwrap()
        );
        assert!(
            !store
                .advance_cursor("events", Some(5), 9, &d, now)
                .await
                .unwrap()
        );
        assert_eq!(store.cursor("events").await.unwrap(), Some(9));
        assert_eq!(
            store.deliveries(None, 10).await.unwrap().len(),
            1,
            "{}",
            db.label
        );
    }
}

fn run(job: &str, ok: bool) -> Event {
    Event::JobRan(JobRun {
        job: job.into(),
        trigger: JobTrigger::Schedule,
        attempt: 1,
        started: ts("2026-02-02T00:00:00Z"),
        finished: ts("2026-02-02T00:00:01Z"),
        outcome: if ok {
            JobOutcome::Succeeded {
                summary: "done".into(),
            }
        } else {
            JobOutcome::Failed {
                error: "boom".into(),
            }
        },
    })
}

#[tokio::test]
async fn jobs_are_claimed_once_and_finished_with_their_journal_entry() {
    for db in backends("jobs_are_claimed_once_and_finished_with_their_journal_entry").await {
        let store = create(&db).await;
        store.upsert_webhook(&hook("soc")).await.unwrap();
        let due = ts("2026-02-02T00:00:00Z");
        store.ensure_job("silence", due, false).await.unwrap();
        // Not rescheduled without asking.
        store
            .ensure_job("silence", ts("2030-01-01T00:00:00Z"), false)
            .await
            .unwrap();
        let before = ts("2026-02-01T23:59:00Z");
        let lease = ts("2026-02-02T00:10:00Z");
        assert!(
            store
                .claim_job("silence", "a", before, lease, false)
                .await
                .unwrap()
                .is_none()
        );
        let claimed = store
            .claim_job("silence", "a", due, lease, false)
            .await
            .unwrap();
        assert_eq!(claimed.unwrap().lease_owner.as_deref(), Some("a"));
        // Held: neither a due claim nor a forced one gets it.
        assert!(
            store
                .claim_job("silence", "b", due, lease, false)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .claim_job("silence", "b", due, lease, true)
                .await
                .unwrap()
                .is_none()
        );

        let next = ts("2026-02-02T01:00:00Z");
        let finish = JobFinish {
            next_at: next,
            failures: 0,
            ran_at: due,
            ok: true,
            outcome: "succeeded: done".into(),
        };
        let entries = vec![NewEntry::new("scheduler", due, run("silence", true))];
        // b never held it: nothing is written.
        assert!(
            store
                .finish_job("silence", "b", &finish, entries.clone(), &[])
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(store.head().await.unwrap(), 0, "{}", db.label);
        let out = store
            .finish_job(
                "silence",
                "a",
                &finish,
                entries,
                &[delivery("soc", "silent:x")],
            )
            .await
            .unwrap()
            .expect("a holds the lease");
        assert_eq!(out.last_seq, 1);
        let journal = store.journal(&Default::default()).await.unwrap();
        assert_eq!(journal[0].event, run("silence", true), "{}", db.label);
        assert_eq!(store.deliveries(None, 10).await.unwrap().len(), 1);
        let jobs = store.jobs().await.unwrap();
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].next_at, next);
        assert_eq!(jobs[0].last_ok, Some(due));
        assert_eq!(jobs[0].lease_owner, None);

        // A forced run (triggered by hand) before it is due; a failure keeps last_ok.
        let c = store
            .claim_job("silence", "b", due, lease, true)
            .await
            .unwrap();
        assert!(c.is_some(), "{}", db.label);
        let failed = JobFinish {
            next_at: ts("2026-02-02T00:01:00Z"),
            failures: 1,
            ran_at: ts("2026-02-02T00:00:30Z"),
            ok: false,
            outcome: "failed: boom".into(),
        };
        let entries = vec![NewEntry::new("scheduler", due, run("silence", false))];
        store
            .finish_job("silence", "b", &failed, entries, &[])
            .await
            .unwrap()
            .expect("b holds the lease");
        let jobs = store.jobs().await.unwrap();
        assert_eq!(jobs[0].failures, 1);
        assert_eq!(jobs[0].last_ok, Some(due));
        assert_eq!(jobs[0].last_run, Some(ts("2026-02-02T00:00:30Z")));
        // A failing job is not moved by a schedule change: its retry stands.
        store
            .ensure_job("silence", ts("2030-01-01T00:00:00Z"), true)
            .await
            .unwrap();
        assert_eq!(
            store.jobs().await.unwrap()[0].next_at,
            ts("2026-02-02T00:01:00Z")
        );
    }
}
