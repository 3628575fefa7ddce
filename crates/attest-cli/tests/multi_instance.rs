//! Two `attest serve` processes on one PostgreSQL database (`ATTEST_TEST_POSTGRES_URL`, from
//! `.ci/postgres.sh`): a write through one is read through the other within a second (the
//! delay is measured and printed), a webhook subscriber — a tiny HTTP receiver in this test —
//! gets each event exactly once across both, an ATT&CK update through one is answered from the
//! new release by the other, and after one process is sent SIGTERM the other still serves and
//! delivers. Skipped loudly without PostgreSQL; a failure with `ATTEST_REQUIRE_POSTGRES=1`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failing test should fail loudly

mod util;

use std::collections::BTreeMap;
use std::net::TcpListener as StdListener;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::Connection as _;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use util::{Env, MINI_BUNDLE};

/// A fresh schema in the test PostgreSQL as a database URL, or `None` with a loud SKIPPED line.
async fn postgres_url(test: &str) -> Option<String> {
    let base = match std::env::var("ATTEST_TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => u,
        _ => {
            assert!(
                std::env::var("ATTEST_REQUIRE_POSTGRES").map_or(true, |v| v != "1"),
                "{test}: ATTEST_REQUIRE_POSTGRES=1 but ATTEST_TEST_POSTGRES_URL is not set"
            );
            eprintln!(
                "SKIPPED: {test}: set ATTEST_TEST_POSTGRES_URL to run (.ci/postgres.sh start)"
            );
            return None;
        }
    };
    let schema = format!(
        "cli_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    );
    let mut conn = sqlx::PgConnection::connect(&base).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.ok();
    let sep = if base.contains('?') { '&' } else { '?' };
    Some(format!("{base}{sep}options=-c%20search_path%3D{schema}"))
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One `attest serve` process; killed when dropped.
struct Serve {
    name: &'static str,
    child: Child,
    base: String,
    log: std::path::PathBuf,
}

impl Serve {
    fn start(env: &Env, name: &'static str, database: &str) -> Serve {
        let port = free_port();
        let log = env.path().join(format!("{name}.log"));
        let child = env
            .cmd()
            .env("ATTEST_LOG", "info")
            .args(["--database", database, "serve", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Serve {
            name,
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    async fn wait_ready(&self, c: &reqwest::Client) {
        let started = Instant::now();
        loop {
            if let Ok(r) = c.get(self.url("/readyz")).send().await
                && r.status().is_success()
            {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{} did not start:\n{}",
                self.name,
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGTERM, then waits for a graceful exit.
    fn terminate(&mut self) -> std::process::ExitStatus {
        let killed = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{} did not stop on SIGTERM",
                self.name
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A webhook receiver: counts each POST by its `id` (the notice key) and answers 204.
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<(String, String)>>>,
}

impl Receiver {
    async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let got: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
        let seen = got.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut stream = BufReader::new(stream);
                    let mut length = 0usize;
                    let mut delivery = String::new();
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let l = line.trim_end();
                        if l.is_empty() {
                            break;
                        }
                        if let Some((k, v)) = l.split_once(':') {
                            let k = k.trim().to_ascii_lowercase();
                            if k == "content-length" {
                                length = v.trim().parse().unwrap_or(0);
                            } else if k == "x-attest-delivery" {
                                delivery = v.trim().to_string();
                            }
                        }
                    }
                    let mut body = vec![0; length];
                    if stream.read_exact(&mut body).await.is_err() {
                        return;
                    }
                    let id = serde_json::from_slice::<Value>(&body)
                        .ok()
                        .and_then(|v| v["id"].as_str().map(str::to_string))
                        .unwrap_or_default();
                    seen.lock().unwrap().push((id, delivery));
                    let _ = stream
                        .get_mut()
                        .write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                        .await;
                });
            }
        });
        Receiver { url, got }
    }

    fn ids(&self) -> Vec<String> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .map(|(id, _)| id.clone())
            .collect()
    }

    async fn wait_for(&self, n: usize, within: Duration) -> Vec<String> {
        let started = Instant::now();
        loop {
            let ids = self.ids();
            if ids.len() >= n || started.elapsed() > within {
                return ids;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

const LSASS_RULE: &str = r#"title: LSASS Access
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
    condition: selection
level: high
"#;

async fn send(
    c: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = c.request(method.clone(), &url).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn fail_result(c: &reqwest::Client, s: &Serve, token: &str) -> u64 {
    let (status, doc) = send(
        c,
        reqwest::Method::POST,
        s.url("/api/v1/results"),
        token,
        Some(
            json!({"rule": "0d894093-71bc-43c3-8c4d-ecfa28dcd1ff", "technique": "T1003.001",
                    "outcome": "fail", "test": "atomic-1"}),
        ),
    )
    .await;
    assert_eq!(status, 201, "result through {}: {doc}", s.name);
    doc["last_seq"].as_u64().unwrap()
}

/// Each expected notice arrived exactly once.
fn assert_once(got: &[String], seqs: &[u64]) {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for id in got {
        *counts.entry(id).or_default() += 1;
    }
    let want: Vec<String> = seqs.iter().map(|s| format!("result_failed:{s}")).collect();
    for w in &want {
        assert_eq!(
            counts.get(w.as_str()),
            Some(&1),
            "{w} delivered once: {got:?}"
        );
    }
    assert_eq!(got.len(), want.len(), "nothing else delivered: {got:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_serve_processes_on_one_postgres() {
    let Some(url) = postgres_url("two_serve_processes_on_one_postgres").await else {
        return;
    };
    let env = Env::new();
    env.ok(&["--database", &url, "init"]);
    let token = |name: &str, role: &str| {
        env.ok(&["--database", &url, "tokens", "create", name, "--role", role])
            .trim()
            .to_string()
    };
    let (admin, engineer, viewer) = (
        token("lead", "admin"),
        token("ci", "engineer"),
        token("soc", "viewer"),
    );
    let mut a = Serve::start(&env, "a", &url);
    let b = Serve::start(&env, "b", &url);
    let c = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    a.wait_ready(&c).await;
    b.wait_ready(&c).await;

    // Writes through one process are read through the other within a second, both ways: the
    // other's snapshot (what coverage, enrichment and the dashboard answer from) reaches the
    // write's journal position.
    let mut delays = Vec::new();
    for i in 0..6 {
        let (from, to) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let name = format!("source-{i}");
        let (status, doc) = send(
            &c,
            reqwest::Method::POST,
            from.url("/api/v1/sources"),
            &engineer,
            Some(json!({"name": name, "components": ["Process Access"], "platforms": ["Windows"]})),
        )
        .await;
        assert_eq!(status, 201, "{doc}");
        let seq = doc["seq"].as_u64().unwrap();
        let started = Instant::now();
        loop {
            let (_, ready) = send(&c, reqwest::Method::GET, to.url("/readyz"), &viewer, None).await;
            if ready["snapshot_seq"].as_u64() >= Some(seq) {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(1),
                "{name} (#{seq}) written through {} not in {}'s snapshot within 1 s: {ready}",
                from.name,
                to.name
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        delays.push((from.name, to.name, started.elapsed()));
    }
    for (from, to, d) in &delays {
        eprintln!("write through {from} read through {to} after {d:?}");
    }

    // A webhook: each event once across both processes.
    let receiver = Receiver::start().await;
    let (status, doc) = send(
        &c,
        reqwest::Method::POST,
        a.url("/api/v1/webhooks"),
        &admin,
        Some(json!({"name": "soc", "url": receiver.url, "events": ["result_failed"]})),
    )
    .await;
    assert_eq!(status, 201, "{doc}");
    let r = c
        .post(a.url("/api/v1/rules?format=sigma&path=lsass.yml"))
        .bearer_auth(&engineer)
        .header("content-type", "application/yaml")
        .body(LSASS_RULE)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status().as_u16(),
        201,
        "{}",
        r.text().await.unwrap_or_default()
    );
    let mut seqs = Vec::new();
    for i in 0..6 {
        seqs.push(fail_result(&c, if i % 2 == 0 { &a } else { &b }, &engineer).await);
    }
    let started = Instant::now();
    loop {
        let (_, cov) = send(
            &c,
            reqwest::Method::GET,
            b.url("/api/v1/coverage"),
            &viewer,
            None,
        )
        .await;
        let state = cov["techniques"]
            .as_array()
            .and_then(|ts| ts.iter().find(|t| t["id"] == "T1003.001"))
            .map(|t| t["state"].clone());
        if state == Some(json!("failing")) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "B's coverage does not show the failure"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let got = receiver.wait_for(seqs.len(), Duration::from_secs(30)).await;
    assert_eq!(got.len(), seqs.len(), "delivered: {got:?}");
    tokio::time::sleep(Duration::from_secs(3)).await; // room for a duplicate to arrive
    assert_once(&receiver.ids(), &seqs);

    // An ATT&CK update through A is answered from the new release by B.
    let renamed = MINI_BUNDLE.replace("\"LSASS Memory\"", "\"LSASS Memory (2.0)\"");
    assert_ne!(renamed, MINI_BUNDLE);
    let r = c
        .post(a.url("/api/v1/attack/update?name=mini-attack-2.0.json"))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body(renamed)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let report: Value = r.json().await.unwrap();
    assert_eq!(status, 201, "{report}");
    assert_eq!(report["to"], "2.0");
    assert!(
        report["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|ch| ch["technique"] == "T1003.001" && ch["change"] == "renamed"),
        "{report}"
    );
    let name_on = |s: &Serve| {
        let (c, url, viewer) = (
            c.clone(),
            s.url("/api/v1/techniques/T1003.001"),
            viewer.clone(),
        );
        async move {
            let (_, doc) = send(&c, reqwest::Method::GET, url, &viewer, None).await;
            doc["technique"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        }
    };
    assert_eq!(name_on(&a).await, "LSASS Memory (2.0)");
    let started = Instant::now();
    while name_on(&b).await != "LSASS Memory (2.0)" {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "B still answers from the old release:\n{}",
            b.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!(
        "update through A answered by B after {:?}",
        started.elapsed()
    );
    let (_, info) = send(
        &c,
        reqwest::Method::GET,
        b.url("/api/v1/attack"),
        &viewer,
        None,
    )
    .await;
    assert_eq!(info["release"], "2.0", "{info}");
    assert_eq!(info["current"], true, "{info}");

    // SIGTERM A while B keeps taking writes: B still serves and delivers, each event once.
    seqs.push(fail_result(&c, &b, &engineer).await);
    let status = a.terminate();
    assert!(
        status.success(),
        "A exits cleanly on SIGTERM: {status:?}\n{}",
        a.log()
    );
    for _ in 0..3 {
        seqs.push(fail_result(&c, &b, &engineer).await);
    }
    let (status, _) = send(
        &c,
        reqwest::Method::GET,
        b.url("/api/v1/coverage"),
        &viewer,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert!(c.get(a.url("/healthz")).send().await.is_err(), "A is gone");
    let got = receiver.wait_for(seqs.len(), Duration::from_secs(30)).await;
    assert_eq!(
        got.len(),
        seqs.len(),
        "delivered after A stopped: {got:?}\n{}",
        b.log()
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_once(&receiver.ids(), &seqs);
}
