//! ATT&CK release operations over HTTP on real releases (Enterprise 17.1 → 18.1 from
//! `ATTEST_ATTACK_DIR`): info, remap, the remap table, and an update — dry run, roles, a bad
//! bundle, the real thing answered at once by this server and, after its next refresh, by a
//! second server on the same database — then an update by version through the bundle cache,
//! and a journaled release that cannot be loaded (the old one keeps answering, the error is
//! shown).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use attest_core::journal::{AttackRelease, Event};
use attest_server::{AppState, AuthMode, Limits, Role};
use attest_store::{NewEntry, Store};
use jiff::Timestamp;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// Renamed between the releases: "Bash History" (17.1) → "Shell History" (18.1).
const RENAMED: &str = "T1552.003";
/// New in 18.1 ("Container CLI/API"): unknown to 17.1.
const NEW_IN_18: &str = "T1059.013";

struct Server {
    base: String,
    app: AppState,
    stop: Option<oneshot::Sender<()>>,
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// A generous deadline: a debug build loads and indexes a whole Enterprise release slowly.
fn limits() -> Limits {
    Limits {
        timeout: Duration::from_secs(300),
        ..Limits::default()
    }
}

async fn serve(store: Store, bundle: &Path, cache: &Path) -> Server {
    let (kb, warnings) = attest_attack::load::from_path(bundle).unwrap();
    let app = AppState::with_warnings(store, kb, warnings, AuthMode::Required)
        .await
        .unwrap();
    app.set_bundle_cache(cache.to_path_buf());
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(attest_server::serve_on(
        listener,
        app.clone(),
        limits(),
        async {
            let _ = rx.await;
        },
    ));
    Server {
        base: format!("http://{addr}"),
        app,
        stop: Some(tx),
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(300))
        .build()
        .unwrap()
}

async fn get(c: &reqwest::Client, s: &Server, path: &str, token: &str) -> (StatusCode, Value) {
    let r = c.get(s.url(path)).bearer_auth(token).send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn send_bytes(
    c: &reqwest::Client,
    method: reqwest::Method,
    s: &Server,
    path: &str,
    token: Option<&str>,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let mut req = c
        .request(method, s.url(path))
        .header("content-type", content_type)
        .body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// The name a server gives a technique (404 → `None`).
async fn technique_name(c: &reqwest::Client, s: &Server, id: &str, token: &str) -> Option<String> {
    let (status, body) = get(c, s, &format!("/api/v1/techniques/{id}"), token).await;
    match status {
        StatusCode::OK => Some(body["technique"]["name"].as_str().unwrap().to_string()),
        StatusCode::NOT_FOUND => None,
        other => panic!("GET technique {id}: {other} {body}"),
    }
}

fn rule_on(id: &str, technique: &str) -> Event {
    Event::RuleUpserted(common::rule(id, id, &[technique], "Process Access"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn update_from_17_1_to_18_1_over_http() {
    let Some(dir) = common::attack_dir("update_from_17_1_to_18_1_over_http") else {
        return;
    };
    let old_bundle = dir.join("enterprise-attack-17.1.json.gz");
    let new_bundle = dir.join("enterprise-attack-18.1.json.gz");
    for b in [&old_bundle, &new_bundle] {
        assert!(
            b.is_file(),
            "{} is missing from ATTEST_ATTACK_DIR",
            b.display()
        );
    }
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let url = format!("sqlite://{}", tmp.path().join("attest.db").display());
    let store = Store::create(&url).await.unwrap();
    let now = Timestamp::now();
    store
        .append(vec![
            NewEntry::new(
                "init",
                now,
                Event::AttackReleasesSet(vec![AttackRelease {
                    domain: "enterprise-attack".into(),
                    version: "17.1".into(),
                    location: old_bundle.display().to_string(),
                }]),
            ),
            NewEntry::new("seed", now, rule_on("r-shell", RENAMED)),
            NewEntry::new("seed", now, rule_on("r-container", NEW_IN_18)),
            NewEntry::new("seed", now, rule_on("r-ps", "T1086")),
        ])
        .await
        .unwrap();
    let viewer = attest_server::create_token(&store, "dashboard", Role::Viewer)
        .await
        .unwrap();
    let engineer = attest_server::create_token(&store, "ci", Role::Engineer)
        .await
        .unwrap();
    let admin = attest_server::create_token(&store, "lead", Role::Admin)
        .await
        .unwrap();
    let a = serve(store.clone(), &old_bundle, &cache).await;
    let b = serve(Store::open(&url).await.unwrap(), &old_bundle, &cache).await;
    let c = client();

    // The release answering.
    let (status, info) = get(&c, &a, "/api/v1/attack", &viewer).await;
    assert_eq!(status, StatusCode::OK, "{info}");
    assert_eq!(info["release"], "17.1");
    assert_eq!(info["current"], true);
    assert_eq!(info["journaled"][0]["version"], "17.1");
    assert!(
        info["domains"][0]["techniques"].as_u64().unwrap() > 150,
        "{info}"
    );
    assert_eq!(
        technique_name(&c, &a, RENAMED, &viewer).await.as_deref(),
        Some("Bash History")
    );
    assert_eq!(technique_name(&c, &a, NEW_IN_18, &viewer).await, None);
    let head = store.head().await.unwrap();

    // Where old ids lead.
    let (status, remap) = get(&c, &a, "/api/v1/attack/remap?ids=T1086,T1552.003", &viewer).await;
    assert_eq!(status, StatusCode::OK, "{remap}");
    assert_eq!(remap[0]["status"], "revoked");
    assert_eq!(remap[0]["current"], "T1059.001");
    assert_eq!(remap[1]["status"], "active");
    let (status, _) = get(&c, &a, "/api/v1/attack/remap?ids=nonsense", &viewer).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let new_bytes = std::fs::read(&new_bundle).unwrap();
    let update = "/api/v1/attack/update?name=enterprise-attack-18.1.json.gz";
    let post = reqwest::Method::POST;

    // Roles: only an admin moves the release.
    for (token, want) in [
        (None, StatusCode::UNAUTHORIZED),
        (Some(viewer.as_str()), StatusCode::FORBIDDEN),
        (Some(engineer.as_str()), StatusCode::FORBIDDEN),
    ] {
        // Refused before the body is read (a big body would meet a closed connection).
        let (status, body) = send_bytes(
            &c,
            post.clone(),
            &a,
            update,
            token,
            "application/gzip",
            b"{}".to_vec(),
        )
        .await;
        assert_eq!(status, want, "{body}");
    }

    // A dry run reports and changes nothing.
    let started = Instant::now();
    let (status, report) = send_bytes(
        &c,
        post.clone(),
        &a,
        &format!("{update}&dry_run=true"),
        Some(&admin),
        "application/gzip",
        new_bytes.clone(),
    )
    .await;
    eprintln!("dry run answered in {:?}", started.elapsed());
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["from"], "17.1");
    assert_eq!(report["to"], "18.1");
    assert_eq!(report["dry_run"], true);
    let change = |id: &str, kind: &str| {
        report["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|ch| ch["technique"] == id && ch["change"] == kind)
            .cloned()
    };
    let renamed = change(RENAMED, "renamed").expect("the rename is reported");
    assert_eq!(renamed["detail"], "Bash History → Shell History");
    assert_eq!(renamed["used_by"], json!(["rule r-shell"]));
    assert!(change(NEW_IN_18, "now-resolves").is_some(), "{report}");
    assert_eq!(
        store.head().await.unwrap(),
        head,
        "a dry run journals nothing"
    );
    assert!(!cache.join("uploads").exists(), "a dry run keeps no bundle");
    assert_eq!(
        technique_name(&c, &a, RENAMED, &viewer).await.as_deref(),
        Some("Bash History")
    );

    // A bad bundle: 422, and the old release still answers.
    let mut truncated = new_bytes.clone();
    truncated.truncate(new_bytes.len() / 2);
    for bad in [b"{\"type\": \"bundle\", \"objects\": [".to_vec(), truncated] {
        let (status, body) = send_bytes(
            &c,
            post.clone(),
            &a,
            update,
            Some(&admin),
            "application/gzip",
            bad,
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["code"], "invalid-bundle");
    }
    let (status, _) = send_bytes(
        &c,
        post.clone(),
        &a,
        "/api/v1/attack/update",
        Some(&admin),
        "application/gzip",
        Vec::new(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(store.head().await.unwrap(), head);
    assert_eq!(
        technique_name(&c, &a, RENAMED, &viewer).await.as_deref(),
        Some("Bash History")
    );

    // The real update: this server answers from 18.1 as soon as it has answered.
    let started = Instant::now();
    let (status, report) = send_bytes(
        &c,
        post.clone(),
        &a,
        update,
        Some(&admin),
        "application/gzip",
        new_bytes.clone(),
    )
    .await;
    eprintln!("update answered in {:?}", started.elapsed());
    assert_eq!(status, StatusCode::CREATED, "{report}");
    assert!(report["seq"].as_u64().unwrap() > head);
    let location = report["releases"][0]["location"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        Path::new(&location).starts_with(cache.join("uploads")),
        "{location}"
    );
    assert_eq!(
        std::fs::read(&location).unwrap(),
        new_bytes,
        "the upload is kept whole"
    );
    assert_eq!(
        technique_name(&c, &a, RENAMED, &viewer).await.as_deref(),
        Some("Shell History")
    );
    assert_eq!(
        technique_name(&c, &a, NEW_IN_18, &viewer).await.as_deref(),
        Some("Container CLI/API")
    );
    let (_, info) = get(&c, &a, "/api/v1/attack", &viewer).await;
    assert_eq!(info["release"], "18.1");
    assert_eq!(info["current"], true);
    assert_eq!(info["journaled"][0]["location"], location.as_str());
    // Enrichment and coverage were rebuilt on the new release.
    let r = c
        .post(a.url("/api/v1/enrich"))
        .bearer_auth(&viewer)
        .json(&json!({"techniques": [RENAMED, NEW_IN_18]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let enriched: Value = r.json().await.unwrap();
    assert_eq!(
        enriched["techniques"][0]["technique"]["name"],
        "Shell History"
    );
    assert_eq!(
        enriched["techniques"][1]["technique"]["name"],
        "Container CLI/API"
    );
    assert_eq!(enriched["unknown"], json!([]));
    let (_, coverage) = get(&c, &a, "/api/v1/coverage", &viewer).await;
    let row = |id: &str| {
        coverage["techniques"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == id)
            .cloned()
    };
    assert_eq!(row(RENAMED).unwrap()["name"], "Shell History");
    assert_eq!(
        row(NEW_IN_18).unwrap()["rules"],
        json!(["r-container"]),
        "{coverage}"
    );

    // The second server sees the journaled release on its next refresh and loads it.
    let started = Instant::now();
    loop {
        if technique_name(&c, &b, RENAMED, &viewer).await.as_deref() == Some("Shell History") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(240),
            "the second server still answers from 17.1"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!(
        "second server answered from 18.1 after {:?}",
        started.elapsed()
    );
    assert_eq!(b.app.knowledge().kb.release_label(), "18.1");

    // The remap table.
    let table = "/api/v1/attack/remap-table";
    let put = reqwest::Method::PUT;
    let csv = b"old,new\nT1552.003,T1552.001\n".to_vec();
    let (status, _) = send_bytes(
        &c,
        put.clone(),
        &a,
        table,
        Some(&engineer),
        "text/csv",
        csv.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = send_bytes(
        &c,
        put.clone(),
        &a,
        table,
        Some(&admin),
        "text/csv",
        csv.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["changed"], true);
    assert_eq!(
        body["entries"],
        json!([{"old": "T1552.003", "new": "T1552.001"}])
    );
    let (_, body) = send_bytes(&c, put.clone(), &a, table, Some(&admin), "text/csv", csv).await;
    assert_eq!(
        body["changed"], false,
        "the same table again changes nothing"
    );
    let (_, remap) = get(&c, &a, "/api/v1/attack/remap?ids=T1552.003", &viewer).await;
    assert_eq!(remap[0]["current"], "T1552.001");
    assert_eq!(
        remap[0]["path"],
        json!(["T1552.003", "T1552.001 (remap table)", "T1552.001"])
    );
    let (_, coverage) = get(&c, &a, "/api/v1/coverage", &viewer).await;
    let row = coverage["techniques"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == "T1552.001")
        .cloned()
        .unwrap();
    assert_eq!(
        row["rules"],
        json!(["r-shell"]),
        "the claim now goes through the table"
    );
    let (status, body) = send_bytes(
        &c,
        put.clone(),
        &a,
        table,
        Some(&admin),
        "text/csv",
        b"T1086,T1059.001\nT1,T2\n".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("line 2"),
        "{body}"
    );
    let (status, body) = send_bytes(
        &c,
        put.clone(),
        &a,
        table,
        Some(&admin),
        "application/yaml",
        b"T1086: T1059.001\nT1064: nonsense\n".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("line 2"),
        "{body}"
    );
    let (status, body) = send_bytes(
        &c,
        put.clone(),
        &a,
        table,
        Some(&admin),
        "application/yaml",
        b"T1086: T1059.001\n".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["entries"],
        json!([{"old": "T1086", "new": "T1059.001"}])
    );
    let (status, body) = send_bytes(
        &c,
        reqwest::Method::DELETE,
        &a,
        table,
        Some(&admin),
        "text/plain",
        Vec::new(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, body) = get(&c, &b, table, &viewer).await;
    assert_eq!(
        body["entries"],
        json!([]),
        "the other server reads the same table"
    );

    // Back to 17.1 by version, from the bundle cache (no network): the release MITRE names
    // enterprise-attack-17.1.json, here gzip under that name.
    std::fs::copy(&old_bundle, cache.join("enterprise-attack-17.1.json.gz")).unwrap();
    let (status, report) = send_bytes(
        &c,
        post.clone(),
        &a,
        "/api/v1/attack/update?version=17.1",
        Some(&admin),
        "application/octet-stream",
        Vec::new(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{report}");
    assert_eq!(report["to"], "17.1");
    assert!(
        report["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|ch| ch["technique"] == RENAMED)
    );
    assert_eq!(
        technique_name(&c, &a, RENAMED, &viewer).await.as_deref(),
        Some("Bash History")
    );
    let started = Instant::now();
    while technique_name(&c, &b, RENAMED, &viewer).await.as_deref() != Some("Bash History") {
        assert!(
            started.elapsed() < Duration::from_secs(240),
            "the second server never went back to 17.1"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // A journaled release that cannot be loaded (as if written by another instance): the old
    // release keeps answering everywhere, and the failure is shown.
    let broken = tmp.path().join("enterprise-attack-19.0.json");
    std::fs::write(&broken, b"{\"type\": \"bundle\", \"objects\": [").unwrap();
    store
        .append(vec![NewEntry::new(
            "someone",
            Timestamp::now(),
            Event::AttackReleasesSet(vec![AttackRelease {
                domain: "enterprise-attack".into(),
                version: "19.0".into(),
                location: broken.display().to_string(),
            }]),
        )])
        .await
        .unwrap();
    for s in [&a, &b] {
        let started = Instant::now();
        let info = loop {
            let (_, info) = get(&c, s, "/api/v1/attack", &viewer).await;
            if !info["load_error"].is_null() {
                break info;
            }
            assert!(
                started.elapsed() < Duration::from_secs(240),
                "no load error shown: {info}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        assert_eq!(info["current"], false, "{info}");
        assert_eq!(info["journaled"][0]["version"], "19.0");
        assert_eq!(info["load_error"]["releases"][0]["version"], "19.0");
        assert!(
            info["load_error"]["error"]
                .as_str()
                .unwrap()
                .contains("enterprise-attack-19.0.json"),
            "{info}"
        );
        assert_eq!(info["release"], "17.1", "{info}");
        assert_eq!(
            technique_name(&c, s, RENAMED, &viewer).await.as_deref(),
            Some("Bash History"),
            "the old release keeps answering"
        );
    }

    for mut s in [a, b] {
        if let Some(stop) = s.stop.take() {
            let _ = stop.send(());
        }
    }
}
