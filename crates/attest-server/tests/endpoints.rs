//! Every endpoint of the API over HTTP on 127.0.0.1, with the roles each needs, on SQLite and
//! (when `ATTEST_TEST_POSTGRES_URL` is set) PostgreSQL: knowledge-base look-ups, sources CRUD,
//! the rule registry (filters, lifecycle, owner, tuning, import uploads), results, tests,
//! actors, profiles, tokens, coverage by profile, diff, backlog, layers, the check; bad bodies
//! and timeouts as problem documents.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use attest_core::journal::Event;
use attest_core::test::{Test, TestKind};
use attest_server::Limits;
use attest_store::NewEntry;
use jiff::Timestamp;
use reqwest::StatusCode;
use serde_json::{Value, json};

use common::{Running, sqlite_url, start};

async fn send(
    s: &Running,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    let mut req = s
        .client
        .request(method.clone(), s.url(path))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(b);
    }
    let r = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn get(s: &Running, path: &str, token: &str) -> (StatusCode, Value) {
    send(s, reqwest::Method::GET, path, token, None).await
}

async fn post(s: &Running, path: &str, token: &str, body: &Value) -> (StatusCode, Value) {
    send(s, reqwest::Method::POST, path, token, Some(body)).await
}

async fn post_text(
    s: &Running,
    path: &str,
    token: &str,
    content_type: &str,
    text: &str,
) -> (StatusCode, Value) {
    let r = s
        .client
        .post(s.url(path))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(text.to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {path}: {e}"));
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn ids(v: &Value, list: &str, key: &str) -> Vec<String> {
    v[list]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x[key].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

const SIGMA: &str = r"title: LSASS Dump via Procdump
id: 0c9a7f6e-5b1d-4d0e-9d7a-1f1e2d3c4b5a
status: test
description: Procdump writing an LSASS dump.
logsource:
  product: windows
  category: process_access
detection:
  selection:
    TargetImage|endswith: '\lsass.exe'
  condition: selection
tags:
  - attack.credential_access
  - attack.t1003.001
level: high
";

const PROFILE: &str = "name: finance
description: Who targets us
actors:
  - actor: APT28
    weight: 2
techniques:
  - T1059.001
";

async fn knowledge_base(s: &Running) {
    let (status, t) = get(s, "/api/v1/techniques/T1003.001?platform=Linux", &s.viewer).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    assert_eq!(t["detection_strategies"][0]["analytics"][0]["id"], "AN0002");
    let (status, g) = get(s, "/api/v1/groups/Fancy%20Bear", &s.viewer).await;
    assert_eq!(status, StatusCode::OK, "{g}");
    assert_eq!(g["id"], "G0007");
    assert_eq!(g["techniques"][0]["id"], "T1003.001");
    assert_eq!(g["techniques"][0]["paths"], json!(["direct"]));
    assert_eq!(g["techniques"][0]["state"], "unvalidated");
    let (status, body) = get(s, "/api/v1/groups/nobody", &s.viewer).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("group-not-found"))
    );
    let (status, hits) = get(s, "/api/v1/search?q=lsass&limit=5", &s.viewer).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        hits.as_array()
            .is_some_and(|h| h.iter().any(|x| x["id"] == "T1003.001")),
        "{hits}"
    );
    let (status, body) = get(s, "/api/v1/search", &s.viewer).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid-query"))
    );
}

async fn sources_crud(s: &Running) {
    let new = json!({"name": "Auditd", "components": ["process access"], "platforms": ["Linux"],
                     "state": "queryable", "max_silence_secs": 3600, "owner": "linux team"});
    let (status, _) = post(s, "/api/v1/sources", &s.viewer, &new).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = post(s, "/api/v1/sources", &s.engineer, &new).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["source"]["components"], json!(["Process Access"]));
    assert_eq!(body["source"]["health"], "never-seen");
    let (status, body) = post(s, "/api/v1/sources", &s.engineer, &new).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("source-exists"))
    );
    // A field of the wrong type is named; an unknown component is named.
    let (status, body) = post(
        s,
        "/api/v1/sources",
        &s.engineer,
        &json!({"name": "X", "platforms": "Linux"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("platforms")),
        "{body}"
    );
    let (status, body) = post(
        s,
        "/api/v1/sources",
        &s.engineer,
        &json!({"name": "X", "components": ["Telepathy"]}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("unknown-component"))
    );
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("Telepathy"))
    );

    let (status, body) = send(
        s,
        reqwest::Method::PATCH,
        "/api/v1/sources/Auditd",
        &s.engineer,
        Some(&json!({"scope": ["Linux servers"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["changed"], true);
    assert_eq!(body["source"]["scope"], json!(["Linux servers"]));
    assert_eq!(body["source"]["owner"], "linux team");
    let (status, beat) = post(
        s,
        "/api/v1/sources/Auditd/heartbeat",
        &s.engineer,
        &json!({"at": "2026-01-02T03:04:05Z"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{beat}");
    let (_, one) = get(s, "/api/v1/sources/Auditd", &s.viewer).await;
    assert_eq!(one["last_seen"], "2026-01-02T03:04:05Z");
    assert_eq!(one["health"], "silent");
    let (status, _) = send(
        s,
        reqwest::Method::DELETE,
        "/api/v1/sources/Auditd?reason=decommissioned",
        &s.engineer,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = get(s, "/api/v1/sources/Auditd", &s.viewer).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("source-not-found"))
    );
    // The removal is journaled with the token's name and the reason.
    let journal = s.store.journal(&Default::default()).await.unwrap();
    let last = journal.last().unwrap();
    assert_eq!(last.who, "ci pipeline");
    assert_eq!(last.why.as_deref(), Some("decommissioned"));
}

async fn rule_registry(s: &Running) {
    // Filters the CLI has.
    let (_, r) = get(s, "/api/v1/rules?tactic=Credential%20Access", &s.viewer).await;
    assert_eq!(r["count"], 2);
    let (_, r) = get(s, "/api/v1/rules?state=rule-exists", &s.viewer).await;
    assert_eq!(ids(&r, "rules", "id"), vec!["r-lsass"]);
    assert_eq!(r["rules"][0]["validation"], json!(["untested"]));
    let (_, r) = get(s, "/api/v1/rules?state=degraded", &s.viewer).await;
    assert_eq!(ids(&r, "rules", "id"), vec!["r-ps"]);
    let (_, r) = get(s, "/api/v1/rules?validation=untested", &s.viewer).await;
    assert_eq!(r["count"], 2);
    let (_, r) = get(s, "/api/v1/rules?unknown_techniques=true", &s.viewer).await;
    assert_eq!(r["count"], 0);
    let (_, r) = get(s, "/api/v1/rules?technique=T1003", &s.viewer).await;
    assert_eq!(ids(&r, "rules", "id"), vec!["r-lsass"]);
    let (status, body) = get(s, "/api/v1/rules?validation=green", &s.viewer).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid-validation"))
    );

    // Lifecycle, owner, tuning.
    let (status, body) = post(
        s,
        "/api/v1/rules/r-lsass/disable",
        &s.engineer,
        &json!({"reason": "noisy"}),
    )
    .await;
    assert_eq!(
        (status, body["changed"].as_bool()),
        (StatusCode::OK, Some(true))
    );
    let (_, r) = get(s, "/api/v1/rules?state=disabled", &s.viewer).await;
    assert_eq!(ids(&r, "rules", "id"), vec!["r-lsass"]);
    let (_, cov) = get(s, "/api/v1/coverage?state=degraded", &s.viewer).await;
    assert!(ids(&cov, "techniques", "id").contains(&"T1003.001".to_string()));
    let (status, body) = post(
        s,
        "/api/v1/rules/r-lsass/disable",
        &s.engineer,
        &json!({"reason": "again"}),
    )
    .await;
    assert_eq!(
        (status, body["changed"].as_bool()),
        (StatusCode::OK, Some(false))
    );
    let (status, _) = post(
        s,
        "/api/v1/rules/r-lsass/enable",
        &s.engineer,
        &json!({"reason": "tuned"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = post(
        s,
        "/api/v1/rules/r-lsass/enable",
        &s.engineer,
        &json!({"why": "typo"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["detail"].as_str().is_some_and(|d| d.contains("why")));
    let (status, _) = send(
        s,
        reqwest::Method::PUT,
        "/api/v1/rules/r-lsass/owner",
        &s.engineer,
        Some(&json!({"owner": "alice"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, r) = get(s, "/api/v1/rules?owner=alice", &s.viewer).await;
    assert_eq!(ids(&r, "rules", "id"), vec!["r-lsass"]);
    let (status, _) = post(
        s,
        "/api/v1/rules/r-lsass/tuning",
        &s.engineer,
        &json!({"what": "host=backup01", "reason": "backup agent", "kind": "exclusion"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, shown) = get(s, "/api/v1/rules/r-lsass", &s.viewer).await;
    assert_eq!(shown["rule"]["owner"], "alice");
    assert_eq!(shown["tuning"][0]["kind"], "exclusion");
    assert_eq!(shown["tuning"][0]["author"], "ci pipeline");
    let (status, body) = post(
        s,
        "/api/v1/rules/nope/tuning",
        &s.engineer,
        &json!({"what": "x", "reason": "y"}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("rule-not-found"))
    );

    // Import uploads: one Sigma file; then a bundle with a broken file writes nothing.
    let head = s.store.head().await.unwrap();
    let (status, body) = post_text(
        s,
        "/api/v1/rules?format=sigma&root=detections&path=lsass_procdump.yml",
        &s.viewer,
        "application/yaml",
        SIGMA,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = post_text(
        s,
        "/api/v1/rules?format=sigma&root=detections&path=lsass_procdump.yml",
        &s.engineer,
        "application/yaml",
        SIGMA,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        (body["new"].as_u64(), body["rules"].as_u64()),
        (Some(1), Some(1))
    );
    let (_, r) = get(s, "/api/v1/rules?origin=detections", &s.viewer).await;
    assert_eq!(r["count"], 1);
    assert_eq!(r["rules"][0]["title"], "LSASS Dump via Procdump");
    let (_, again) = post_text(
        s,
        "/api/v1/rules?format=sigma&root=detections&path=lsass_procdump.yml",
        &s.engineer,
        "application/yaml",
        SIGMA,
    )
    .await;
    assert_eq!(
        (again["new"].as_u64(), again["unchanged"].as_u64()),
        (Some(0), Some(1))
    );
    let head_after = s.store.head().await.unwrap();
    assert_eq!(
        head_after,
        head + 1,
        "an unchanged re-import writes nothing"
    );
    let bundle = json!({"files": [
        {"path": "good.yml", "content": SIGMA.replace("0c9a7f6e", "1c9a7f6e")},
        {"path": "broken/bad.yml", "content": "title: x\ndetection: [unclosed\n"}
    ]});
    let (status, body) = post_text(
        s,
        "/api/v1/rules?format=sigma&root=detections",
        &s.engineer,
        "application/json",
        &bundle.to_string(),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid-rules")),
        "{body}"
    );
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("broken/bad.yml:")),
        "{body}"
    );
    assert_eq!(s.store.head().await.unwrap(), head_after);
    let (status, body) = post_text(
        s,
        "/api/v1/rules?format=yara",
        &s.engineer,
        "text/plain",
        "x",
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid-format"))
    );
    let (status, body) = post_text(
        s,
        "/api/v1/rules?format=sigma&dry_run=true",
        &s.engineer,
        "application/yaml",
        &SIGMA.replace("0c9a7f6e", "2c9a7f6e"),
    )
    .await;
    assert_eq!((status, body["new"].as_u64()), (StatusCode::OK, Some(1)));
    assert_eq!(s.store.head().await.unwrap(), head_after);
}

async fn results_and_tests(s: &Running) {
    let batch = json!([
        {"rule": "r-lsass", "technique": "T1003.001", "test": "atomic-1", "outcome": "pass"},
        {"rule": "r-lsass", "technique": "T1003.001", "test": "atomic-2"}
    ]);
    let (status, body) = post(s, "/api/v1/results", &s.engineer, &batch).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid-result"))
    );
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.starts_with("result 1:") && detail.contains("outcome"),
        "{detail}"
    );
    let (status, body) = post(
        s,
        "/api/v1/results",
        &s.engineer,
        &json!({"rule": "r-lsass", "technique": "T1003.001", "test": "atomic-1", "outcome": "pass"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, list) = get(s, "/api/v1/results?rule=r-lsass&outcome=pass", &s.viewer).await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["results"][0]["test"], "atomic-1");
    assert_eq!(list["results"][0]["by"], "ci pipeline");
    let (_, none) = get(s, "/api/v1/results?technique=T1059.001", &s.viewer).await;
    assert_eq!(none["total"], 0);
    let (status, body) = get(s, "/api/v1/results?since=someday", &s.viewer).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid-instant"))
    );

    let test = Test {
        id: "atomic-1".into(),
        kind: TestKind::Atomic,
        techniques: vec!["T1003.001".into()],
        name: "Dump LSASS with procdump".into(),
        platforms: vec!["windows".into()],
        executor: Some("command_prompt".into()),
        elevation_required: true,
    };
    s.store
        .append(vec![NewEntry::new(
            "seed",
            Timestamp::now(),
            Event::TestUpserted(test),
        )])
        .await
        .unwrap();
    s.app.refresh(true).await.unwrap();
    let (_, tests) = get(
        s,
        "/api/v1/tests?technique=t1003.001&platform=Windows",
        &s.viewer,
    )
    .await;
    assert_eq!(tests[0]["id"], "atomic-1");
    assert_eq!(tests[0]["kind"], "atomic");
    let (_, tests) = get(s, "/api/v1/tests?platform=linux", &s.viewer).await;
    assert_eq!(tests, json!([]));
}

async fn intel(s: &Running) {
    let (_, actors) = get(s, "/api/v1/actors", &s.viewer).await;
    assert!(
        actors
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x["id"] == "G0007"))
    );
    let (status, apt) = get(s, "/api/v1/actors/APT28", &s.viewer).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(apt["techniques"], json!(["T1003.001"]));

    // Profiles are written by admins only.
    for token in [&s.viewer, &s.engineer] {
        let (status, body) =
            post_text(s, "/api/v1/profiles", token, "application/yaml", PROFILE).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    }
    let (status, body) =
        post_text(s, "/api/v1/profiles", &s.admin, "application/yaml", PROFILE).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["profile"]["actors"][0]["name"], "APT28");
    let (status, body) =
        post_text(s, "/api/v1/profiles", &s.admin, "application/yaml", PROFILE).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("profile-exists"))
    );
    let (status, body) = post_text(
        s,
        "/api/v1/profiles",
        &s.admin,
        "application/yaml",
        "name: x\nactors:\n  - actor: APT28\n    wieght: 2\n",
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["detail"].as_str().is_some_and(|d| d.contains("body:")),
        "{body}"
    );
    let r = s
        .client
        .put(s.url("/api/v1/profiles/finance"))
        .bearer_auth(&s.admin)
        .body(PROFILE.replace("name: finance", "name: other"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = s
        .client
        .put(s.url("/api/v1/profiles/finance"))
        .bearer_auth(&s.admin)
        .body(PROFILE.replace("weight: 2", "weight: 3"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (_, list) = get(s, "/api/v1/profiles", &s.viewer).await;
    assert_eq!(list[0]["name"], "finance");
    assert_eq!(list[0]["actors"][0]["weight"], 3.0);
    let (status, shown) = get(s, "/api/v1/profiles/finance", &s.viewer).await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    let targets: Vec<&str> = shown["techniques"]
        .as_array()
        .map(|a| a.iter().filter_map(|t| t["technique"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        targets.contains(&"T1003.001") && targets.contains(&"T1059.001"),
        "{shown}"
    );
    let (status, _) = get(s, "/api/v1/profiles/nobody", &s.viewer).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Tokens: admins create them; the new one works with its role.
    let (status, _) = post(
        s,
        "/api/v1/tokens",
        &s.engineer,
        &json!({"name": "soar", "role": "viewer"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = post(
        s,
        "/api/v1/tokens",
        &s.admin,
        &json!({"name": "soar", "role": "viewer"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let token = body["token"].as_str().unwrap_or_default().to_string();
    let (status, _) = get(s, "/api/v1/ping", &token).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = post(s, "/api/v1/results", &token, &json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = post(
        s,
        "/api/v1/tokens",
        &s.admin,
        &json!({"name": "x", "role": "root"}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid-role"))
    );
}

async fn answers(s: &Running, seeded_at: Timestamp) {
    let (status, cov) = get(s, "/api/v1/coverage?profile=finance", &s.viewer).await;
    assert_eq!(status, StatusCode::OK, "{cov}");
    assert_eq!(cov["profile"], "finance");
    let rows = ids(&cov, "techniques", "id");
    assert_eq!(rows, vec!["T1003.001", "T1059.001"]);
    assert!(cov["techniques"][0]["priority"].as_f64().is_some());
    let (status, body) = get(s, "/api/v1/coverage?profile=nobody", &s.viewer).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("profile-not-found"))
    );

    let from = seeded_at.to_string();
    let (status, d) = get(s, &format!("/api/v1/diff?from={from}"), &s.viewer).await;
    assert_eq!(status, StatusCode::OK, "{d}");
    let lsass = d["changes"]
        .as_array()
        .and_then(|c| c.iter().find(|x| x["technique"] == "T1003.001"))
        .unwrap_or_else(|| panic!("{d}"));
    assert_eq!(
        (lsass["from"].as_str(), lsass["to"].as_str()),
        (Some("unvalidated"), Some("validated"))
    );
    assert!(lsass["causes"][0]["seq"].as_u64().is_some(), "{lsass}");
    let (status, body) = get(
        s,
        &format!("/api/v1/diff?from=2099-01-01&to={from}"),
        &s.viewer,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid-range"))
    );

    let (status, items) = get(s, "/api/v1/backlog?profile=finance", &s.viewer).await;
    assert_eq!(status, StatusCode::OK, "{items}");
    let ps = items
        .as_array()
        .and_then(|a| a.iter().find(|i| i["technique"] == "T1059.001"))
        .unwrap_or_else(|| panic!("{items}"));
    assert_eq!(ps["kind"], "gap");
    assert_eq!(ps["state"], "degraded");
    assert!(!ps["next"].as_array().is_none_or(Vec::is_empty), "{ps}");

    for (path, name) in [
        ("/api/v1/layers/state", "attest coverage"),
        (
            "/api/v1/layers/priority?profile=finance",
            "attest priorities — finance",
        ),
        (
            "/api/v1/layers/actor?actor=APT28",
            "APT28 vs attest coverage",
        ),
    ] {
        let r = s
            .client
            .get(s.url(path))
            .bearer_auth(&s.viewer)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert!(
            r.headers()
                .get("content-disposition")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("attachment")),
            "{path}"
        );
        let layer: Value = r.json().await.unwrap();
        assert_eq!(layer["name"], name);
        assert_eq!(layer["versions"]["layer"], "4.5");
    }
    let (status, body) = get(s, "/api/v1/layers/priority", &s.viewer).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid-layer-request"))
    );
    let (status, _) = get(s, "/api/v1/layers/heat", &s.viewer).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, c) = get(s, "/api/v1/check?min_validated=100", &s.viewer).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(c["verdict"], "fail");
    assert_eq!(c["failures"][0]["kind"], "below-minimum");
    let (_, c) = get(s, &format!("/api/v1/check?baseline={from}"), &s.viewer).await;
    assert_eq!(c["verdict"], "pass", "{c}");
    // A baseline document in the body: T1059.001 was validated then, degraded now.
    let (status, c) = post(
        s,
        "/api/v1/check",
        &s.viewer,
        &json!({"states": {"T1059.001": "validated", "T1003.001": "validated"}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{c}");
    assert_eq!(c["verdict"], "fail");
    assert_eq!(c["failures"][0]["technique"], "T1059.001");
    assert_eq!(c["failures"][0]["now"], "degraded");
    let (status, body) = post(
        s,
        "/api/v1/check",
        &s.viewer,
        &json!({"states": {"T1059.001": "great"}}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("states.T1059.001"))
    );
}

async fn every_endpoint(s: &Running) {
    let seeded_at = s.store.journal(&Default::default()).await.unwrap()[0].at;
    knowledge_base(s).await;
    sources_crud(s).await;
    rule_registry(s).await;
    results_and_tests(s).await;
    intel(s).await;
    answers(s, seeded_at).await;
}

#[tokio::test]
async fn every_endpoint_on_sqlite() {
    let (_dir, url) = sqlite_url();
    let s = start(&url, Limits::default()).await;
    every_endpoint(&s).await;
    s.stop().await;
}

#[tokio::test]
async fn every_endpoint_on_postgres() {
    let Some(url) = common::postgres_url("every_endpoint_on_postgres").await else {
        return;
    };
    let s = start(&url, Limits::default()).await;
    every_endpoint(&s).await;
    s.stop().await;
}

#[tokio::test]
async fn a_slow_request_is_a_408_problem() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (_dir, url) = sqlite_url();
    let limits = Limits {
        timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let s = start(&url, limits).await;
    // A client that announces a body and stalls half-way: the handler waits for the rest, and
    // the deadline answers for it.
    let addr = s.base.trim_start_matches("http://").to_string();
    let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/v1/results HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"rule\":",
        s.engineer
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let read = async {
        loop {
            let n = conn.read(&mut buf).await.unwrap_or(0);
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&answer);
            if let Some((_, body)) = text.split_once("\r\n\r\n")
                && body.ends_with('}')
            {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .unwrap_or_else(|_| panic!("no answer: {}", String::from_utf8_lossy(&answer)));
    let text = String::from_utf8_lossy(&answer).to_string();
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(
        text.to_ascii_lowercase()
            .contains("content-type: application/problem+json"),
        "{text}"
    );
    let body: Value = serde_json::from_str(text.split_once("\r\n\r\n").unwrap().1).unwrap();
    assert_eq!(
        (body["code"].as_str(), body["status"].as_u64()),
        (Some("timeout"), Some(408))
    );
    s.stop().await;
}
