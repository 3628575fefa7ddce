//! Webhooks and scheduled jobs through real servers on 127.0.0.1, delivering to a real test
//! receiver: signatures, retries with backoff, Slack shape, job runs, restarts — on SQLite,
//! and with two servers sharing one PostgreSQL database when configured.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use attest_server::{AppState, AuthMode, BackgroundOptions, DeliveryOptions, Limits, Role};
use attest_store::Store;
use axum::http::{HeaderMap, StatusCode as AxStatus};
use jiff::Timestamp;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    event: String,
    delivery: String,
    signature: Option<String>,
    body: String,
}

/// A test HTTP receiver that answers 500 to the first `fail_first` requests, then 204.
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
    stop: Option<oneshot::Sender<()>>,
}

impl Receiver {
    async fn start(fail_first: usize) -> Receiver {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        Receiver::on(listener, fail_first).await
    }

    async fn on(listener: tokio::net::TcpListener, fail_first: usize) -> Receiver {
        let addr = listener.local_addr().unwrap();
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let seen = got.clone();
        let handler = move |headers: HeaderMap, body: String| {
            let seen = seen.clone();
            async move {
                let h = |k: &str| {
                    headers
                        .get(k)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string)
                };
                let mut all = seen.lock().unwrap();
                all.push(Received {
                    event: h("x-attest-event").unwrap_or_default(),
                    delivery: h("x-attest-delivery").unwrap_or_default(),
                    signature: h("x-attest-signature"),
                    body,
                });
                if all.len() <= fail_first {
                    AxStatus::INTERNAL_SERVER_ERROR
                } else {
                    AxStatus::NO_CONTENT
                }
            }
        };
        let app = axum::Router::new().route("/hook", axum::routing::post(handler));
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await
                .ok();
        });
        Receiver {
            url: format!("http://{addr}/hook"),
            got,
            stop: Some(tx),
        }
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    async fn wait_for(&self, n: usize, within: Duration) -> Vec<Received> {
        let start = Instant::now();
        loop {
            let got = self.received();
            if got.len() >= n || start.elapsed() > within {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// Fast background work for tests.
fn fast() -> BackgroundOptions {
    BackgroundOptions {
        tick: Duration::from_millis(100),
        delivery: DeliveryOptions {
            first_retry: Duration::from_millis(200),
            max_retry: Duration::from_secs(2),
            max_attempts: 8,
            timeout: Duration::from_secs(2),
            lease: Duration::from_secs(5),
        },
        // Jobs run when triggered; the schedules are weekly/hourly anyway.
        scheduler: false,
        job_lease: Duration::from_secs(60),
        job_retry: Duration::from_secs(60),
    }
}

struct Server {
    base: String,
    app: AppState,
    store: Store,
    client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<Result<(), attest_server::Error>>>,
}

struct Tokens {
    viewer: String,
    engineer: String,
    admin: String,
}

/// Creates and seeds a workspace with a token per role.
async fn workspace(url: &str) -> Tokens {
    let store = Store::create(url).await.unwrap();
    common::seed(&store, Timestamp::now()).await;
    let t = Tokens {
        viewer: attest_server::create_token(&store, "dashboard", Role::Viewer)
            .await
            .unwrap(),
        engineer: attest_server::create_token(&store, "ci", Role::Engineer)
            .await
            .unwrap(),
        admin: attest_server::create_token(&store, "ops", Role::Admin)
            .await
            .unwrap(),
    };
    store.close().await;
    t
}

/// Starts a server over its own store connection to `url`.
async fn boot(url: &str, options: BackgroundOptions) -> Server {
    let store = Store::open(url).await.unwrap();
    let app = AppState::new(store.clone(), common::kb(), AuthMode::Required)
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let handle = tokio::spawn(attest_server::serve_on_with(
        listener,
        app.clone(),
        Limits::default(),
        options,
        async {
            let _ = rx.await;
        },
    ));
    Server {
        base: format!("http://{addr}"),
        app,
        store,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap(),
        stop: Some(tx),
        handle: Some(handle),
    }
}

impl Server {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut r = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::GET, path, token, None).await
    }

    async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, token, Some(body))
            .await
    }

    async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(h) = self.handle.take() {
            h.await.unwrap().unwrap();
        }
        self.store.close().await;
    }
}

fn verify(secret: &str, r: &Received) {
    let expected = attest_server::notices::sign(secret, r.body.as_bytes());
    assert_eq!(r.signature.as_deref(), Some(expected.as_str()), "signature");
    assert!(expected.starts_with("sha256=") && expected.len() == 7 + 64);
}

async fn subscribe(s: &Server, t: &Tokens, body: Value) {
    let (status, doc) = s.post("/api/v1/webhooks", &t.admin, body).await;
    assert_eq!(status, StatusCode::CREATED, "{doc}");
}

async fn fail_result(s: &Server, t: &Tokens) -> u64 {
    let (status, doc) = s
        .post(
            "/api/v1/results",
            &t.engineer,
            json!({"rule": "r-lsass", "technique": "T1003.001", "outcome": "fail", "test": "atomic-1"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{doc}");
    doc["last_seq"].as_u64().unwrap()
}

#[tokio::test]
async fn deliveries_are_signed_retried_with_backoff_and_logged() {
    let (_dir, url) = common::sqlite_url();
    let t = workspace(&url).await;
    let s = boot(&url, fast()).await;
    let receiver = Receiver::start(2).await;

    // Only admins manage webhooks, and bad subscriptions are refused with a reason.
    let hook =
        json!({"name": "soc", "url": receiver.url, "events": ["result_failed"], "secret": "k3y"});
    let (status, _) = s.post("/api/v1/webhooks", &t.engineer, hook.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = s.get("/api/v1/webhooks", &t.viewer).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for bad in [
        json!({"name": "x", "url": "ftp://h/", "events": ["regression"]}),
        json!({"name": "x", "url": receiver.url, "events": ["nope"]}),
        json!({"name": "x", "url": receiver.url, "events": ["regression"], "shape": "teams"}),
    ] {
        let (status, doc) = s.post("/api/v1/webhooks", &t.admin, bad).await;
        assert_eq!(
            (status, doc["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid-webhook")),
            "{doc}"
        );
    }
    subscribe(&s, &t, hook).await;
    let (_, list) = s.get("/api/v1/webhooks", &t.admin).await;
    assert_eq!(list["webhooks"][0]["signed"], true);
    assert!(
        list["webhooks"][0].get("secret").is_none(),
        "secrets are never shown"
    );

    let seq = fail_result(&s, &t).await;
    let got = receiver.wait_for(3, Duration::from_secs(15)).await;
    assert_eq!(got.len(), 3, "two failures then a success: {got:?}");
    for r in &got {
        assert_eq!(r.event, "result_failed");
        verify("k3y", r);
        // Every retry sends the same bytes under the same delivery id.
        assert_eq!(r.body, got[0].body);
        assert_eq!(r.delivery, got[0].delivery);
    }
    let body: Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(body["kind"], "result_failed");
    assert_eq!(body["id"], format!("result_failed:{seq}"));
    assert_eq!(body["data"]["rule"], "r-lsass");
    assert_eq!(body["data"]["technique"], "T1003.001");
    // The tampered body does not verify.
    let forged = Received {
        body: got[0].body.replace("r-lsass", "r-other"),
        ..got[0].clone()
    };
    assert_ne!(
        attest_server::notices::sign("k3y", forged.body.as_bytes()),
        forged.signature.clone().unwrap()
    );

    // The attempt log: 500, 500, 204, each wait at least double the one before.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, doc) = s.get("/api/v1/webhooks/deliveries", &t.admin).await;
    let d = &doc["deliveries"][0];
    assert_eq!(d["status"], "delivered", "{doc}");
    let attempts = d["attempts"].as_array().unwrap();
    let codes: Vec<u64> = attempts
        .iter()
        .map(|a| a["status_code"].as_u64().unwrap())
        .collect();
    assert_eq!(codes, [500, 500, 204]);
    let at = |i: usize| -> Timestamp { attempts[i]["at"].as_str().unwrap().parse().unwrap() };
    let gap1 = at(1).duration_since(at(0)).as_millis();
    let gap2 = at(2).duration_since(at(1)).as_millis();
    assert!(gap1 >= 200, "first retry after {gap1} ms");
    assert!(gap2 >= 400, "second retry after {gap2} ms");
    let metrics = s
        .client
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("attest_webhook_attempts_total{result=\"retried\"} 2"),
        "{metrics}"
    );
    assert!(metrics.contains("attest_webhook_attempts_total{result=\"delivered\"} 1"));

    // Removal: 204, then 404.
    let (status, _) = s
        .send(
            reqwest::Method::DELETE,
            "/api/v1/webhooks/soc",
            &t.admin,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = s
        .send(
            reqwest::Method::DELETE,
            "/api/v1/webhooks/soc",
            &t.admin,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    s.stop().await;
}

#[tokio::test]
async fn regressions_reach_slack_shaped_subscribers() {
    let (_dir, url) = common::sqlite_url();
    let t = workspace(&url).await;
    let s = boot(&url, fast()).await;
    let receiver = Receiver::start(0).await;
    subscribe(
        &s,
        &t,
        json!({"name": "chat", "url": receiver.url, "events": ["regression"], "shape": "slack"}),
    )
    .await;
    // A pass makes T1003.001 validated (better: not announced); a later fail makes it failing.
    let (status, _) = s
        .post(
            "/api/v1/results",
            &t.engineer,
            json!({"rule": "r-lsass", "technique": "T1003.001", "outcome": "pass"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        receiver.received().is_empty(),
        "an improvement is not a regression"
    );
    fail_result(&s, &t).await;
    let got = receiver.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].event, "regression");
    assert!(got[0].signature.is_none(), "no secret, no signature");
    let body: Value = serde_json::from_str(&got[0].body).unwrap();
    assert!(
        body["text"]
            .as_str()
            .unwrap()
            .contains("regressed on 1 technique")
    );
    assert_eq!(body["blocks"][0]["type"], "section");
    let section = body["blocks"][0]["text"]["text"].as_str().unwrap();
    assert!(
        section.contains("T1003.001 LSASS Memory: validated → failing"),
        "{section}"
    );
    assert!(section.contains("rule r-lsass result fail"), "{section}");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(receiver.received().len(), 1, "announced once");
    s.stop().await;
}

#[tokio::test]
async fn jobs_are_listed_run_journaled_and_failures_reported() {
    let (_dir, url) = common::sqlite_url();
    let t = workspace(&url).await;
    // A source that must be seen every minute and never was.
    {
        let store = Store::open(&url).await.unwrap();
        let mut okta = attest_core::source::DataSource::new("Okta");
        okta.max_silence = Some(jiff::SignedDuration::from_secs(60));
        store
            .append(vec![attest_store::NewEntry::new(
                "seed",
                Timestamp::now(),
                attest_core::journal::Event::SourceUpserted(okta),
            )])
            .await
            .unwrap();
        store.close().await;
    }
    let s = boot(&url, fast()).await;
    let receiver = Receiver::start(0).await;
    subscribe(
        &s,
        &t,
        json!({"name": "ops", "url": receiver.url, "events": ["source_silent", "job_failed"]}),
    )
    .await;

    let (status, doc) = s.get("/api/v1/jobs", &t.viewer).await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = doc["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["silence", "coverage", "replay", "digest"]);
    assert_eq!(doc["jobs"][2]["schedule"], "0 3 * * 1");

    let (status, _) = s
        .post("/api/v1/jobs/silence/run", &t.viewer, json!({}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = s
        .post("/api/v1/jobs/nope/run", &t.engineer, json!({}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, run) = s
        .post("/api/v1/jobs/silence/run", &t.engineer, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{run}");
    assert_eq!(run["outcome"], "succeeded");
    assert_eq!(run["summary"], "1 of 2 sources silent");
    let got = receiver.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1);
    let body: Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(body["kind"], "source_silent");
    assert_eq!(body["data"]["source"], "Okta");
    // The same silence is announced once, however often the check runs.
    let (_, again) = s
        .post("/api/v1/jobs/silence/run", &t.engineer, json!({}))
        .await;
    assert_eq!(again["outcome"], "succeeded");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(receiver.received().len(), 1);

    // The run is journaled with who asked.
    let journal = s
        .store
        .journal(&attest_store::JournalQuery::default())
        .await
        .unwrap();
    let runs: Vec<_> = journal
        .iter()
        .filter_map(|e| match &e.event {
            attest_core::journal::Event::JobRan(r) => Some((e.who.clone(), r.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].0, "ci");
    assert_eq!(runs[0].1.job, "silence");
    assert_eq!(runs[0].1.trigger, attest_core::journal::JobTrigger::Manual);

    // The replay job has datasets but no rule files: it fails, is journaled, reported, and
    // scheduled for a retry rather than skipped.
    s.store
        .set_meta(&[(
            attest_server::jobs::META_REPLAY_DATASETS,
            "/nonexistent/dataset",
        )])
        .await
        .unwrap();
    let (status, run) = s
        .post("/api/v1/jobs/replay/run", &t.engineer, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{run}");
    assert_eq!(run["outcome"], "failed", "{run}");
    let (_, doc) = s.get("/api/v1/jobs", &t.viewer).await;
    let replay = &doc["jobs"][2];
    assert_eq!(replay["consecutive_failures"], 1, "{replay}");
    let next: Timestamp = replay["next_run"].as_str().unwrap().parse().unwrap();
    let wait = next.duration_since(Timestamp::now()).as_secs();
    assert!(
        (50..=60).contains(&wait),
        "retried in about a minute, not next week: {wait}s"
    );
    assert!(
        replay["last_outcome"]
            .as_str()
            .unwrap()
            .starts_with("failed: ")
    );
    let got = receiver.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].event, "job_failed");
    let last = s
        .store
        .journal(&attest_store::JournalQuery::default())
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert!(matches!(
        last.event,
        attest_core::journal::Event::JobRan(attest_core::journal::JobRun {
            outcome: attest_core::journal::JobOutcome::Failed { .. },
            attempt: 1,
            ..
        })
    ));
    s.stop().await;
}

/// A delivery queued while the receiver is down survives a server restart and is delivered
/// by the restarted server.
async fn survives_a_restart(url: &str) {
    let t = workspace(url).await;
    // A port nobody listens on yet.
    let parked = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = parked.local_addr().unwrap().port();
    drop(parked);
    let hook_url = format!("http://127.0.0.1:{port}/hook");
    let s = boot(url, fast()).await;
    subscribe(
        &s,
        &t,
        json!({"name": "later", "url": hook_url, "events": ["result_failed"]}),
    )
    .await;
    fail_result(&s, &t).await;
    // Wait for a failed attempt: it is queued and pending.
    let start = Instant::now();
    loop {
        let d = s.store.deliveries(None, 10).await.unwrap();
        if d.first().is_some_and(|d| d.attempts >= 1) {
            assert_eq!(d[0].status, attest_store::hooks::DeliveryStatus::Pending);
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "no attempt made");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    s.stop().await;

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let receiver = Receiver::on(listener, 0).await;
    let s = boot(url, fast()).await;
    let got = receiver.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1, "delivered after the restart");
    assert_eq!(got[0].event, "result_failed");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(receiver.received().len(), 1);
    s.stop().await;
}

#[tokio::test]
async fn a_queued_delivery_survives_a_restart_on_sqlite() {
    let (_dir, url) = common::sqlite_url();
    survives_a_restart(&url).await;
}

#[tokio::test]
async fn a_queued_delivery_survives_a_restart_on_postgres() {
    let Some(url) = common::postgres_url("a_queued_delivery_survives_a_restart_on_postgres").await
    else {
        return;
    };
    survives_a_restart(&url).await;
}

#[tokio::test]
async fn two_servers_on_one_postgres_see_each_other_and_deliver_once() {
    let Some(url) =
        common::postgres_url("two_servers_on_one_postgres_see_each_other_and_deliver_once").await
    else {
        return;
    };
    let t = workspace(&url).await;
    let a = boot(&url, fast()).await;
    let b = boot(&url, fast()).await;
    assert_ne!(a.app.instance(), b.app.instance());

    // A write through A is visible through B within a second.
    let seq = fail_result(&a, &t).await;
    let start = Instant::now();
    loop {
        let (_, ready) = b.get("/readyz", &t.viewer).await;
        let (_, cov) = b.get("/api/v1/coverage", &t.viewer).await;
        let state = cov["techniques"]
            .as_array()
            .and_then(|ts| ts.iter().find(|x| x["id"] == "T1003.001"))
            .map(|x| x["state"].clone());
        if ready["snapshot_seq"].as_u64() == Some(seq) && state == Some(json!("failing")) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "B did not see A's write within 1 s: {ready}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let visible_after = start.elapsed();
    eprintln!("write through A visible through B after {visible_after:?}");

    // Drop every journal listener's connection (as a network cut or a failover would): the
    // servers reconnect, catch up, and writes stay visible across them within a second.
    {
        use sqlx::Connection;
        let base = std::env::var("ATTEST_TEST_POSTGRES_URL").unwrap();
        let mut conn = sqlx::PgConnection::connect(&base).await.unwrap();
        let killed: Vec<(bool,)> = sqlx::query_as(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE query ILIKE 'LISTEN%' AND pid <> pg_backend_pid()",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        assert!(killed.len() >= 2, "both servers listen: {killed:?}");
        conn.close().await.ok();
    }
    let mut latencies = Vec::new();
    for _ in 0..5 {
        let seq = fail_result(&a, &t).await;
        let start = Instant::now();
        loop {
            let (_, ready) = b.get("/readyz", &t.viewer).await;
            if ready["snapshot_seq"].as_u64() == Some(seq) {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(1),
                "after a reconnect, B did not see A's write within 1 s"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        latencies.push(start.elapsed());
    }
    eprintln!("after the listeners were cut, writes visible through B after {latencies:?}");
    // Notifications, not only the one-second poll, carry them again: by polling alone the
    // median would be about half a second.
    let mut sorted = latencies.clone();
    sorted.sort();
    assert!(
        sorted[2] < Duration::from_millis(250),
        "listening did not resume after the reconnect: {latencies:?}"
    );

    // Both servers run a detector and a deliverer: each event is delivered exactly once.
    let receiver = Receiver::start(0).await;
    subscribe(
        &a,
        &t,
        json!({"name": "soc", "url": receiver.url, "events": ["result_failed"], "secret": "pg"}),
    )
    .await;
    let mut seqs = Vec::new();
    for i in 0..6 {
        let s = if i % 2 == 0 { &a } else { &b };
        seqs.push(fail_result(s, &t).await);
    }
    let got = receiver.wait_for(6, Duration::from_secs(15)).await;
    // Let any duplicate arrive before counting.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let got_all = receiver.received();
    assert_eq!(got.len(), 6, "{got:?}");
    assert_eq!(got_all.len(), 6, "each event delivered exactly once");
    let mut ids: Vec<String> = got_all
        .iter()
        .map(|r| {
            verify("pg", r);
            serde_json::from_str::<Value>(&r.body).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    ids.sort();
    let mut want: Vec<String> = seqs.iter().map(|s| format!("result_failed:{s}")).collect();
    want.sort();
    assert_eq!(ids, want);

    // A job triggered on both at once runs on one; the other is told it is running, or runs
    // after it — never both at the same time.
    let (ra, rb) = tokio::join!(
        a.post("/api/v1/jobs/silence/run", &t.engineer, json!({})),
        b.post("/api/v1/jobs/silence/run", &t.engineer, json!({}))
    );
    let statuses = [ra.0, rb.0];
    assert!(statuses.contains(&StatusCode::OK), "{ra:?} {rb:?}");
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::CONFLICT),
        "{ra:?} {rb:?}"
    );
    a.stop().await;
    b.stop().await;
}

const LSASS_RULE: &str = r#"title: LSASS Access From Unusual Process
id: 0d894093-71bc-43c3-8c4d-ecfa28dcd1ff
status: test
tags:
    - attack.credential-access
    - attack.t1003.001
logsource:
    category: process_access
    product: windows
detection:
    selection:
        TargetImage|endswith: '\lsass.exe'
        GrantedAccess: '0x1010'
    condition: selection
level: high
"#;

#[tokio::test]
async fn the_replay_job_journals_results_that_close_backlog_items_and_the_digest_follows() {
    let (dir, url) = common::sqlite_url();
    let t = workspace(&url).await;
    // A registered Sigma rule whose file is on disk, a dataset that makes it fire, and a
    // profile that wants T1003.001.
    let sigma = dir.path().join("sigma");
    std::fs::create_dir_all(&sigma).unwrap();
    std::fs::write(sigma.join("lsass.yml"), LSASS_RULE).unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(
        data.join("events.jsonl"),
        "{\"EventID\": 10, \"Channel\": \"Microsoft-Windows-Sysmon/Operational\", \"TargetImage\": \"C:\\\\Windows\\\\System32\\\\lsass.exe\", \"GrantedAccess\": \"0x1010\"}\n",
    )
    .unwrap();
    std::fs::write(
        data.join("dataset.yml"),
        "name: lsass-dump\nfiles: [events.jsonl]\nexpected_rules: [0d894093-71bc-43c3-8c4d-ecfa28dcd1ff]\n",
    )
    .unwrap();
    {
        let store = Store::open(&url).await.unwrap();
        let mut rule = attest_core::rule::Rule::new(
            "0d894093-71bc-43c3-8c4d-ecfa28dcd1ff",
            "LSASS Access From Unusual Process",
            attest_core::rule::Origin {
                format: attest_core::rule::RuleFormat::Sigma,
                path: "lsass.yml".into(),
                root: sigma.display().to_string(),
            },
        );
        rule.techniques = vec!["T1003.001".into()];
        let profile = attest_core::profile::Profile {
            name: "finance".into(),
            extra_techniques: vec![("T1003.001".into(), 1.0)],
            ..attest_core::profile::Profile::default()
        };
        let now = Timestamp::now();
        store
            .append(vec![
                attest_store::NewEntry::new(
                    "seed",
                    now,
                    attest_core::journal::Event::RuleUpserted(rule),
                ),
                attest_store::NewEntry::new(
                    "seed",
                    now,
                    attest_core::journal::Event::ProfileUpserted(profile),
                ),
            ])
            .await
            .unwrap();
        store
            .set_meta(&[(
                attest_server::jobs::META_REPLAY_DATASETS,
                data.display().to_string().as_str(),
            )])
            .await
            .unwrap();
        store.close().await;
    }
    let s = boot(&url, fast()).await;
    let receiver = Receiver::start(0).await;
    subscribe(
        &s,
        &t,
        json!({"name": "lead", "url": receiver.url, "events": ["backlog_opened", "backlog_closed", "weekly_digest"]}),
    )
    .await;

    let (status, run) = s
        .post("/api/v1/jobs/replay/run", &t.engineer, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{run}");
    assert_eq!(run["outcome"], "succeeded", "{run}");
    assert!(
        run["summary"]
            .as_str()
            .unwrap()
            .starts_with("1 of 1 expected rules fired on 1 datasets"),
        "{run}"
    );
    let journal = s
        .store
        .journal(&attest_store::JournalQuery::default())
        .await
        .unwrap();
    let passes: Vec<_> = journal
        .iter()
        .filter_map(|e| match &e.event {
            attest_core::journal::Event::ResultRecorded(r) => Some(r.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(passes.len(), 1);
    assert_eq!(passes[0].outcome, attest_core::result::Outcome::Pass);
    assert_eq!(passes[0].test.as_deref(), Some("replay:lsass-dump"));
    assert_eq!(passes[0].by, "attest replay job");
    assert!(matches!(
        journal.last().unwrap().event,
        attest_core::journal::Event::JobRan(_)
    ));

    // The pass validated T1003.001: the finance backlog item closed.
    let got = receiver.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].event, "backlog_closed");
    let body: Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(body["data"]["profile"], "finance");
    assert_eq!(body["data"]["items"][0]["technique"], "T1003.001");

    // The weekly digest of the profile: one validated technique now, none a week ago.
    let (status, run) = s
        .post("/api/v1/jobs/digest/run", &t.engineer, json!({}))
        .await;
    assert_eq!(
        (status, run["summary"].as_str()),
        (StatusCode::OK, Some("1 digest(s)"))
    );
    let got = receiver.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].event, "weekly_digest");
    let body: Value = serde_json::from_str(&got[1].body).unwrap();
    assert_eq!(body["data"]["profile"], "finance");
    assert_eq!(body["data"]["states"]["validated"], 1, "{body}");
    assert_eq!(body["data"]["states_before"]["validated"], 0, "{body}");
    s.stop().await;
}

#[tokio::test]
async fn the_coverage_job_announces_what_time_alone_made_worse() {
    let (_dir, url) = common::sqlite_url();
    let t = workspace(&url).await;
    let now = Timestamp::now();
    {
        // An EDR that must be heard from every 2 seconds, a rule that needs it, and a pass.
        let store = Store::open(&url).await.unwrap();
        let mut edr = attest_core::source::DataSource::new("EDR");
        edr.components = vec!["Network Traffic".into()];
        edr.max_silence = Some(jiff::SignedDuration::from_secs(2));
        let rule = common::rule("r-brute", "Brute force", &["T1110"], "Network Traffic");
        let pass = attest_core::result::ValidationResult {
            rule: attest_core::rule::RuleId("r-brute".into()),
            technique: "T1110".into(),
            test: Some("t".into()),
            outcome: attest_core::result::Outcome::Pass,
            at: now,
            by: "seed".into(),
            evidence: attest_core::result::Evidence::default(),
        };
        use attest_core::journal::Event as E;
        store
            .append(vec![
                attest_store::NewEntry::new("seed", now, E::SourceUpserted(edr)),
                attest_store::NewEntry::new(
                    "seed",
                    now,
                    E::SourceSeen {
                        name: "EDR".into(),
                        at: now,
                    },
                ),
                attest_store::NewEntry::new("seed", now, E::RuleUpserted(rule)),
                attest_store::NewEntry::new("seed", now, E::ResultRecorded(pass)),
            ])
            .await
            .unwrap();
        store.close().await;
    }
    let s = boot(&url, fast()).await;
    let receiver = Receiver::start(0).await;
    subscribe(
        &s,
        &t,
        json!({"name": "soc", "url": receiver.url, "events": ["regression", "source_silent"]}),
    )
    .await;
    let (_, run) = s
        .post("/api/v1/jobs/coverage/run", &t.engineer, json!({}))
        .await;
    assert_eq!(run["summary"], "first run: baseline taken", "{run}");
    let (_, run) = s
        .post("/api/v1/jobs/silence/run", &t.engineer, json!({}))
        .await;
    assert_eq!(run["summary"], "0 of 2 sources silent", "{run}");

    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (_, run) = s
        .post("/api/v1/jobs/coverage/run", &t.engineer, json!({}))
        .await;
    assert_eq!(run["outcome"], "succeeded", "{run}");
    let (_, run) = s
        .post("/api/v1/jobs/silence/run", &t.engineer, json!({}))
        .await;
    assert_eq!(run["summary"], "1 of 2 sources silent", "{run}");
    let got = receiver.wait_for(2, Duration::from_secs(10)).await;
    let mut kinds: Vec<&str> = got.iter().map(|r| r.event.as_str()).collect();
    kinds.sort();
    assert_eq!(kinds, ["regression", "source_silent"], "{got:?}");
    let regression: Value =
        serde_json::from_str(&got.iter().find(|r| r.event == "regression").unwrap().body).unwrap();
    let change = &regression["data"]["changes"][0];
    assert_eq!(change["technique"], "T1110", "{regression}");
    assert_eq!(change["from"], "validated");
    assert_eq!(change["to"], "degraded");
    assert_eq!(change["causes"][0], "source EDR silent", "{regression}");
    s.stop().await;
}

/// Servers with their schedulers on and the silence check due every 2 seconds: each due time
/// is run once, by whichever server claims it, and journaled as a scheduled run.
async fn scheduled_runs_happen_once(url: &str, servers: usize) {
    let _t = workspace(url).await;
    {
        let store = Store::open(url).await.unwrap();
        store
            .set_meta(&[("jobs.silence.schedule", "*/2 * * * * *")])
            .await
            .unwrap();
        store.close().await;
    }
    let options = BackgroundOptions {
        scheduler: true,
        ..fast()
    };
    let mut running = Vec::new();
    for _ in 0..servers {
        running.push(boot(url, options).await);
    }
    tokio::time::sleep(Duration::from_millis(6500)).await;
    for s in running {
        s.stop().await;
    }
    let store = Store::open(url).await.unwrap();
    let runs: Vec<attest_core::journal::JobRun> = store
        .journal(&attest_store::JournalQuery::default())
        .await
        .unwrap()
        .into_iter()
        .filter_map(|e| match e.event {
            attest_core::journal::Event::JobRan(r) if r.job == "silence" => Some(r),
            _ => None,
        })
        .collect();
    store.close().await;
    assert!(
        (2..=4).contains(&runs.len()),
        "{servers} server(s), 6.5 s, every 2 s: {runs:?}"
    );
    // Each due time (an even second) is run once: a second run of the same due time would
    // start within milliseconds of the first, in the same two-second slot. (A run made late
    // under load may start in the next second; the next due time is then the one after it.)
    let mut slots: Vec<i64> = runs.iter().map(|r| r.started.as_second() / 2).collect();
    slots.dedup();
    assert_eq!(
        slots.len(),
        runs.len(),
        "two runs of one due time: {runs:?}"
    );
    assert!(
        runs.iter()
            .all(|r| r.trigger == attest_core::journal::JobTrigger::Schedule
                && matches!(
                    r.outcome,
                    attest_core::journal::JobOutcome::Succeeded { .. }
                ))
    );
}

#[tokio::test]
async fn the_scheduler_runs_due_jobs_on_sqlite() {
    let (_dir, url) = common::sqlite_url();
    scheduled_runs_happen_once(&url, 1).await;
}

#[tokio::test]
async fn two_schedulers_on_one_postgres_run_each_due_job_once() {
    let Some(url) =
        common::postgres_url("two_schedulers_on_one_postgres_run_each_due_job_once").await
    else {
        return;
    };
    scheduled_runs_happen_once(&url, 2).await;
}
