//! The CLI's operations over HTTP, on SQLite and (when `ATTEST_TEST_POSTGRES_URL` is set)
//! PostgreSQL: tokens (list, revoke — refused at once here and within a second on another
//! server of the same database), inventory as code (apply, export, DeTT&CT, visibility), the
//! test catalogue (Atomic upload, scenarios), validation imports (Atomic logs joined with
//! alerts, VECTR, JSON lines), replay, actors import, profile export, the exercise plan, the
//! trend, and the exposure imports — with the roles each needs and bad uploads named by file
//! and line.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use attest_core::journal::Event;
use attest_core::rule::{Origin, Rule, RuleFormat};
use attest_server::{AppState, AuthMode, Limits};
use attest_store::NewEntry;
use jiff::Timestamp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use common::{Running, sqlite_url, start};

async fn call(
    s: &Running,
    base: &str,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<(&str, String)>,
) -> (StatusCode, String) {
    let mut req = s.client.request(method.clone(), format!("{base}{path}"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some((content_type, text)) = body {
        req = req.header("content-type", content_type).body(text);
    }
    let r = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let status = r.status();
    (status, r.text().await.unwrap_or_default())
}

async fn json_call(
    s: &Running,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<(&str, String)>,
) -> (StatusCode, Value) {
    let (status, text) = call(s, &s.base, method, path, token, body).await;
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn get(s: &Running, path: &str, token: &str) -> (StatusCode, Value) {
    json_call(s, Method::GET, path, Some(token), None).await
}

async fn send_text(
    s: &Running,
    method: Method,
    path: &str,
    token: &str,
    content_type: &str,
    text: &str,
) -> (StatusCode, Value) {
    json_call(
        s,
        method,
        path,
        Some(token),
        Some((content_type, text.to_string())),
    )
    .await
}

async fn send_json(
    s: &Running,
    method: Method,
    path: &str,
    token: &str,
    body: &Value,
) -> (StatusCode, Value) {
    send_text(
        s,
        method,
        path,
        token,
        "application/json",
        &body.to_string(),
    )
    .await
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Checks that a write needs a token (401 without) and more than a viewer (403).
async fn needs_writer(s: &Running, method: Method, path: &str, content_type: &str, body: &str) {
    let (status, doc) = json_call(
        s,
        method.clone(),
        path,
        None,
        Some((content_type, body.to_string())),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}: {doc}");
    let (status, doc) = send_text(s, method.clone(), path, &s.viewer, content_type, body).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {doc}");
    assert_eq!(doc["code"], "forbidden");
}

/// Serves another server over the same store (a second instance on one database).
async fn second_instance(s: &Running) -> (String, tokio::sync::oneshot::Sender<()>) {
    let app = AppState::new(s.store.clone(), common::kb(), AuthMode::Required)
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(attest_server::serve_on(
        listener,
        app,
        Limits::default(),
        async {
            let _ = rx.await;
        },
    ));
    (format!("http://{addr}"), tx)
}

async fn tokens(s: &Running) {
    let (status, list) = get(s, "/api/v1/tokens", &s.admin).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let names: Vec<&str> = list["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ci pipeline", "dashboard", "lead"]);
    assert_eq!(list["live"], 3);
    let text = list.to_string();
    for secret in [&s.viewer, &s.engineer, &s.admin] {
        assert!(!text.contains(secret.as_str()), "a listing shows a secret");
        let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(secret.as_bytes()));
        assert!(!text.contains(&hash), "a listing shows a stored hash");
    }
    let (status, _) = get(s, "/api/v1/tokens", &s.viewer).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = get(s, "/api/v1/tokens", &s.engineer).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = json_call(s, Method::GET, "/api/v1/tokens", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A token used on two servers of one database, revoked through the first.
    let (status, made) = send_json(
        s,
        Method::POST,
        "/api/v1/tokens",
        &s.admin,
        &json!({"name": "temp", "role": "engineer"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let temp = made["token"].as_str().unwrap().to_string();
    let (other, stop_other) = second_instance(s).await;
    let (status, _) = call(
        s,
        &s.base,
        Method::GET,
        "/api/v1/sources",
        Some(&temp),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(s, &other, Method::GET, "/api/v1/sources", Some(&temp), None).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the other server knows it (and caches it)"
    );
    let (status, _) = json_call(
        s,
        Method::DELETE,
        "/api/v1/tokens/temp",
        Some(&s.viewer),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, revoked) = json_call(
        s,
        Method::DELETE,
        "/api/v1/tokens/temp",
        Some(&s.admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    assert_eq!(revoked["revoked"][0]["name"], "temp");
    assert_eq!(revoked["revoked"][0]["revoked_by"], "lead");
    let (status, body) = call(
        s,
        &s.base,
        Method::GET,
        "/api/v1/sources",
        Some(&temp),
        None,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "refused at once where it was revoked: {body}"
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    loop {
        let (status, _) = call(s, &other, Method::GET, "/api/v1/sources", Some(&temp), None).await;
        if status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the other server still accepts a revoked token"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = stop_other.send(());
    // Both are journaled under the admin's name, and no secret is.
    let journal = s.store.journal(&Default::default()).await.unwrap();
    let token_entries: Vec<(&str, &Event)> = journal
        .iter()
        .filter(|e| {
            matches!(
                &e.event,
                Event::TokenIssued { name, .. } | Event::TokenRevoked { name, .. } if name == "temp"
            )
        })
        .map(|e| (e.who.as_str(), &e.event))
        .collect();
    assert!(
        matches!(
            &token_entries[..],
            [("lead", Event::TokenIssued { role, .. }), ("lead", Event::TokenRevoked { .. })]
                if role == "engineer"
        ),
        "{token_entries:?}"
    );
    let (status, list) = get(s, "/api/v1/tokens", &s.admin).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["live"], 3, "{list}");
    let temp_row = list["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "temp")
        .unwrap();
    assert!(temp_row["revoked"].is_string());
    // By id, and twice: the second finds nothing live.
    let id = temp_row["id"].as_str().unwrap();
    let (status, body) = json_call(
        s,
        Method::DELETE,
        &format!("/api/v1/tokens/{id}"),
        Some(&s.admin),
        None,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("token-not-found"))
    );
}

const INVENTORY: &str = "version: 1
sources:
  - name: Sysmon
    platforms: [Windows]
    log_sources: [WinEventLog:Sysmon]
    max_silence: 24h
  - name: EDR
    components: [Command Execution]
";

const DETTECT: &str = "version: 1.1
file_type: data-source-administration
name: example
domain: enterprise-attack
systems:
  - applicable_to: servers
    platform: [Linux]
data_sources:
  - data_source_name: Process Access
    data_source:
      - applicable_to: [servers]
        date_registered: 2020-01-01
        date_connected: 2020-02-01
        products: [Auditd]
        available_for_data_analytics: true
        data_quality:
          device_completeness: 4
          data_field_completeness: 4
          timeliness: 4
          consistency: 4
          retention: 4
";

async fn inventory(s: &Running) {
    let yaml = "application/yaml";
    needs_writer(s, Method::PUT, "/api/v1/inventory", yaml, INVENTORY).await;
    let (status, plan) = send_text(
        s,
        Method::PUT,
        "/api/v1/inventory?dry_run=true",
        &s.engineer,
        yaml,
        INVENTORY,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    assert_eq!(
        (strings(&plan["added"]), strings(&plan["changed"])),
        (vec!["EDR".to_string()], vec!["Sysmon".to_string()])
    );
    let (_, list) = get(s, "/api/v1/sources", &s.viewer).await;
    assert_eq!(list["count"], 1, "a dry run writes nothing");

    let (status, applied) = send_text(
        s,
        Method::PUT,
        "/api/v1/inventory",
        &s.engineer,
        yaml,
        INVENTORY,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{applied}");
    assert!(applied["seq"].is_u64());
    let (_, sysmon) = get(s, "/api/v1/sources/Sysmon", &s.viewer).await;
    assert_eq!(
        sysmon["components"],
        json!(["Process Access"]),
        "derived from the catalogue: {sysmon}"
    );
    let journal = s.store.journal(&Default::default()).await.unwrap();
    let last = journal.last().unwrap();
    assert_eq!(last.who, "ci pipeline", "journaled under the token's name");
    assert!(
        last.why
            .as_deref()
            .is_some_and(|w| w.contains("inventory.yaml"))
    );

    let (_, again) = send_text(
        s,
        Method::PUT,
        "/api/v1/inventory",
        &s.engineer,
        yaml,
        INVENTORY,
    )
    .await;
    assert_eq!(again["unchanged"], 2, "idempotent: {again}");
    assert!(again["seq"].is_null());

    let (status, exported) = call(
        s,
        &s.base,
        Method::GET,
        "/api/v1/inventory",
        Some(&s.viewer),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(exported.contains("name: EDR"), "{exported}");
    let (_, round) = send_text(
        s,
        Method::PUT,
        "/api/v1/inventory",
        &s.engineer,
        yaml,
        &exported,
    )
    .await;
    assert_eq!(round["unchanged"], 2, "the export applies as-is: {round}");

    let only_edr = "version: 1\nsources:\n  - name: EDR\n    components: [Command Execution]\n";
    let (_, kept) = send_text(
        s,
        Method::PUT,
        "/api/v1/inventory?no_prune=true&dry_run=true",
        &s.engineer,
        yaml,
        only_edr,
    )
    .await;
    assert_eq!(kept["removed"], json!([]));
    let (_, pruned) = send_text(
        s,
        Method::PUT,
        "/api/v1/inventory?dry_run=true",
        &s.engineer,
        yaml,
        only_edr,
    )
    .await;
    assert_eq!(pruned["removed"], json!(["Sysmon"]));

    let typo = "version: 1\nsources:\n  - name: EDR\n    componets: [Command Execution]\n";
    let (status, problem) = send_text(
        s,
        Method::PUT,
        "/api/v1/inventory?path=inv/prod.yaml",
        &s.engineer,
        yaml,
        typo,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["code"], "invalid-inventory");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("inv/prod.yaml:4")),
        "names file and line: {problem}"
    );

    // DeTT&CT: added, nothing removed.
    needs_writer(s, Method::POST, "/api/v1/inventory/dettect", yaml, DETTECT).await;
    let (status, imported) = send_text(
        s,
        Method::POST,
        "/api/v1/inventory/dettect",
        &s.engineer,
        yaml,
        DETTECT,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{imported}");
    assert_eq!(imported["added"].as_array().map(Vec::len), Some(1));
    assert_eq!(imported["removed"], json!([]));
    let (_, list) = get(s, "/api/v1/sources", &s.viewer).await;
    assert_eq!(list["count"], 3, "{list}");

    // Visibility: Sysmon provides the Windows analytic's log source, the DeTT&CT source
    // Process Access on Linux servers.
    let (status, vis) = get(s, "/api/v1/visibility/T1003.001", &s.viewer).await;
    assert_eq!(status, StatusCode::OK, "{vis}");
    assert_eq!(vis["total"], 2, "{vis}");
    let windows = vis["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["platforms"] == json!(["Windows"]))
        .unwrap();
    assert_eq!(windows["provided_by"], json!(["Sysmon"]));
    assert_eq!(windows["visible"], true);
    let (status, vis) = get(s, "/api/v1/visibility/T1003.001?platform=Linux", &s.viewer).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(vis["total"], 1, "{vis}");
    let linux = &vis["requirements"][0];
    assert_eq!(linux["log_source"], "auditd:SYSCALL");
    assert!(
        !strings(&linux["provided_by"]).contains(&"Sysmon".to_string()),
        "a Windows source does not see Linux: {vis}"
    );
    let (status, body) = get(s, "/api/v1/visibility/lsass", &s.viewer).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid-technique"))
    );
}

const ATOMIC: &str = r#"attack_technique: T1003.001
display_name: "OS Credential Dumping: LSASS Memory"
atomic_tests:
- name: Dump LSASS.exe Memory using ProcDump
  auto_generated_guid: 0be2230c-9ab3-4ac2-8826-3199b9a0ebf8
  description: dump
  supported_platforms:
  - windows
  executor:
    command: procdump.exe -accepteula -ma lsass.exe
    name: command_prompt
    elevation_required: true
"#;

const PROFILE: &str = "name: finance
description: Who targets us
actors:
  - actor: APT28
    weight: 2
techniques:
  - T1059.001
";

async fn catalogue_and_plan(s: &Running) {
    let yaml = "application/yaml";
    needs_writer(s, Method::POST, "/api/v1/tests/atomic", yaml, ATOMIC).await;
    let (status, first) = send_text(
        s,
        Method::POST,
        "/api/v1/tests/atomic?path=T1003.001.yaml",
        &s.engineer,
        yaml,
        ATOMIC,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(
        (first["tests"].as_u64(), first["new"].as_u64()),
        (Some(1), Some(1))
    );
    // Several files as JSON; the same test again is unchanged.
    let bundle =
        json!({"files": [{"name": "atomics/T1003.001/T1003.001.yaml", "content": ATOMIC}]});
    let (_, again) = send_json(
        s,
        Method::POST,
        "/api/v1/tests/atomic",
        &s.engineer,
        &bundle,
    )
    .await;
    assert_eq!(again["unchanged"], 1, "{again}");
    assert!(again["seq"].is_null());
    let broken = json!({"files": [
        {"path": "atomics/T1003.001/T1003.001.yaml", "content": ATOMIC},
        {"path": "atomics/T1059/T1059.yaml", "content": "attack_technique: T1059\natomic_tests:\n- name: [unclosed\n"}
    ]});
    let (status, problem) = send_json(
        s,
        Method::POST,
        "/api/v1/tests/atomic",
        &s.engineer,
        &broken,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("atomics/T1059/T1059.yaml:")),
        "names the file and line: {problem}"
    );

    let scenario = json!({"id": "pt-lsass", "kind": "purple-team", "techniques": ["t1003.001"],
                          "name": "Purple LSASS", "platforms": ["windows"]});
    needs_writer(
        s,
        Method::POST,
        "/api/v1/tests",
        "application/json",
        &scenario.to_string(),
    )
    .await;
    let (status, made) = send_json(s, Method::POST, "/api/v1/tests", &s.engineer, &scenario).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let (_, tests) = get(s, "/api/v1/tests?technique=T1003.001", &s.viewer).await;
    let kinds: Vec<(&str, &str)> = tests
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["id"].as_str().unwrap(), t["kind"].as_str().unwrap()))
        .collect();
    assert!(kinds.contains(&("pt-lsass", "purple-team")), "{tests}");
    assert!(
        kinds.contains(&("0be2230c-9ab3-4ac2-8826-3199b9a0ebf8", "atomic")),
        "{tests}"
    );
    let (status, body) = send_json(
        s,
        Method::POST,
        "/api/v1/tests",
        &s.engineer,
        &json!({"id": "x", "kind": "atomic", "techniques": ["T1003"], "name": "x"}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid-test-kind"))
    );
    let (status, body) = send_json(
        s,
        Method::POST,
        "/api/v1/tests",
        &s.engineer,
        &json!({"id": "x", "kind": "simulation", "techniques": ["lsass"], "name": "x"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("techniques[0]")),
        "{body}"
    );

    // The exercise plan for a profile: T1003.001 (APT28) is not validated yet.
    let (status, _) = send_text(s, Method::POST, "/api/v1/profiles", &s.admin, yaml, PROFILE).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, plan) = get(s, "/api/v1/plan?profile=finance", &s.viewer).await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    assert_eq!(plan["platform"], "windows");
    let lsass = plan["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["technique"] == "T1003.001")
        .unwrap_or_else(|| panic!("{plan}"));
    assert_eq!(lsass["rules_expected"], json!(["r-lsass"]));
    let test_ids: Vec<&str> = lsass["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert!(
        test_ids.contains(&"0be2230c-9ab3-4ac2-8826-3199b9a0ebf8"),
        "{plan}"
    );
    // The backlog with technique-cluster owners from a file (a read, for any role).
    let owners =
        "default: detection-team\nowners:\n  - owner: carol\n    techniques: [T1003.001]\n";
    let (status, items) = send_text(
        s,
        Method::POST,
        "/api/v1/backlog?profile=finance",
        &s.viewer,
        yaml,
        owners,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{items}");
    let owner_of = |items: &Value, t: &str| {
        items
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["technique"] == t)
            .map(|i| i["owner"].clone())
    };
    assert_eq!(
        owner_of(&items, "T1003.001"),
        Some(json!("carol")),
        "{items}"
    );
    assert_eq!(owner_of(&items, "T1059.001"), Some(json!("detection-team")));
    let (_, plain) = get(s, "/api/v1/backlog?profile=finance", &s.viewer).await;
    assert_eq!(owner_of(&plain, "T1003.001"), Some(Value::Null));
    let (status, body) = send_text(
        s,
        Method::POST,
        "/api/v1/backlog?profile=finance",
        &s.viewer,
        yaml,
        "owners:\n  - owner: carol\n    techniques: 7\n",
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("owners.yaml:")),
        "{body}"
    );
    let (status, body) = get(s, "/api/v1/plan?profile=nobody", &s.viewer).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("profile-not-found"))
    );

    // The profile as a file, read back as the same profile.
    let (status, exported) = call(
        s,
        &s.base,
        Method::GET,
        "/api/v1/profiles/finance/export",
        Some(&s.viewer),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, replaced) = send_text(
        s,
        Method::PUT,
        "/api/v1/profiles/finance",
        &s.admin,
        yaml,
        &exported,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    let (_, shown) = get(s, "/api/v1/profiles/finance", &s.viewer).await;
    assert_eq!(shown["profile"]["actors"][0]["name"], "APT28", "{shown}");
    let (status, _) = get(s, "/api/v1/profiles/nobody/export", &s.viewer).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

const EXECUTIONS: &str = "\"Execution Time (UTC)\",\"Execution Time (Local)\",\"Technique\",\"Test Number\",\"Test Name\",\"Hostname\",\"IP Address\",\"Username\",\"GUID\",\"ProcessId\",\"ExitCode\"
\"2024-03-05T16:20:00Z\",\"2024-03-05T17:20:00Z\",\"T1003.001\",\"1\",\"ProcDump\",\"WS01\",\"10.0.0.21\",\"WS01\\alice\",\"0be2230c-9ab3-4ac2-8826-3199b9a0ebf8\",\"5124\",\"0\"
\"2024-03-05T16:25:00Z\",\"2024-03-05T17:25:00Z\",\"T1003.001\",\"2\",\"comsvcs\",\"WS01\",\"10.0.0.21\",\"WS01\\alice\",\"2536dee2-12fb-459a-8c37-971844fa73be\",\"6232\",\"1\"
\"2024-03-05T16:40:00Z\",\"2024-03-05T17:40:00Z\",\"T1082\",\"1\",\"systeminfo\",\"WS01\",\"10.0.0.21\",\"WS01\\alice\",\"66703791-c902-4560-8770-42b8a91f7667\",\"7010\",\"0\"
";

const VECTR: &str = "\"Variant\",\"MitreID\",\"Status\",\"Outcome\",\"DetectingTools\",\"Start Time\",\"Start Time Epoch\"
\"ProcDump\",\"T1003.001\",\"Completed\",\"Detected\",\"EDR\",\"2024-03-05 16:20:00\",\"1709655600000\"
\"Comsvcs\",\"T1003.001\",\"Completed\",\"Not Detected\",\"\",\"2024-03-05 16:25:00\",\"\"
";

async fn validation_imports(s: &Running) {
    let upload = json!({
        "logs": [{"path": "exec.csv", "content": EXECUTIONS}],
        "alerts": {"path": "alerts.csv", "content": "_time,rule_id,dest\n2024-03-05T16:21:13Z,r-lsass,WS01\n"},
    });
    needs_writer(
        s,
        Method::POST,
        "/api/v1/results/atomic",
        "application/json",
        &upload.to_string(),
    )
    .await;
    let (status, got) = send_json(
        s,
        Method::POST,
        "/api/v1/results/atomic",
        &s.engineer,
        &upload,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{got}");
    let outcomes: Vec<&str> = got["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["pass", "error"], "{got}");
    assert_eq!(
        got["results"][0]["test"],
        "0be2230c-9ab3-4ac2-8826-3199b9a0ebf8"
    );
    assert_eq!(got["unclaimed"], json!(["T1082"]));
    let (_, results) = get(s, "/api/v1/results?rule=r-lsass", &s.viewer).await;
    assert_eq!(results["total"], 2, "{results}");
    let bad = json!({
        "logs": [{"path": "exec.csv", "content": EXECUTIONS}],
        "alerts": {"path": "alerts.csv", "content": "_time,rule_id\nyesterday-ish,r-lsass\n"},
    });
    let (status, problem) =
        send_json(s, Method::POST, "/api/v1/results/atomic", &s.engineer, &bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("alerts.csv:2")),
        "{problem}"
    );
    let (status, problem) = send_json(
        s,
        Method::POST,
        "/api/v1/results/atomic",
        &s.engineer,
        &json!({"logs": [], "alerts": {"path": "a.csv", "content": ""}}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("logs"))
    );

    needs_writer(s, Method::POST, "/api/v1/results/vectr", "text/csv", VECTR).await;
    let (status, got) = send_text(
        s,
        Method::POST,
        "/api/v1/results/vectr?path=vectr.csv",
        &s.engineer,
        "text/csv",
        VECTR,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{got}");
    assert_eq!(
        (got["pass"].as_u64(), got["fail"].as_u64()),
        (Some(1), Some(1)),
        "{got}"
    );
    assert_eq!(got["results"][0]["rule"], "r-lsass");

    let lines = "{\"rule\":\"r-lsass\",\"technique\":\"T1003.001\",\"outcome\":\"pass\",\"at\":\"2026-02-01T00:00:00Z\"}\n";
    needs_writer(
        s,
        Method::POST,
        "/api/v1/results/jsonl",
        "application/x-ndjson",
        lines,
    )
    .await;
    let (status, got) = send_text(
        s,
        Method::POST,
        "/api/v1/results/jsonl",
        &s.engineer,
        "application/x-ndjson",
        lines,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{got}");
    assert_eq!(
        got["results"][0]["by"], "ci pipeline",
        "by defaults to the token's name"
    );
    let bad = "{\"rule\":\"x\",\"technique\":\"T1003\",\"outcome\":\"pass\"}\n{\"rule\": \"x\", \"outcome\": \"maybe\"}\n";
    let (status, problem) = send_text(
        s,
        Method::POST,
        "/api/v1/results/jsonl?path=bad.jsonl",
        &s.engineer,
        "application/x-ndjson",
        bad,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("bad.jsonl:2")),
        "{problem}"
    );
    let (_, results) = get(s, "/api/v1/results?rule=x", &s.viewer).await;
    assert_eq!(results["total"], 0, "nothing of a bad upload is written");
}

const FAILED_LOGON: &str = "title: Failed logon
id: 5f0b1c2d-0000-4000-8000-00000000f001
logsource: {product: windows, service: security}
detection:
  sel:
    EventID: 4625
  condition: sel
tags: [attack.t1110.001]
";

async fn replay(s: &Running, dir: &std::path::Path) {
    // A Sigma rule registered from a folder on the server, and a dataset beside it.
    std::fs::create_dir_all(dir.join("rules")).unwrap();
    std::fs::write(dir.join("rules/failed.yml"), FAILED_LOGON).unwrap();
    let data = dir.join("dataset");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(
        data.join("events.jsonl"),
        "{\"Channel\":\"Security\",\"EventID\":4625,\"TargetUserName\":\"bob\",\"@timestamp\":\"2026-01-01T00:00:00Z\"}\n",
    )
    .unwrap();
    std::fs::write(
        data.join("dataset.yml"),
        "name: guessing\nfiles: [events.jsonl]\nexpected_rules: [5f0b1c2d-0000-4000-8000-00000000f001]\nexpected_techniques: [T1110.001]\n",
    )
    .unwrap();
    let mut rule = Rule::new(
        "5f0b1c2d-0000-4000-8000-00000000f001",
        "Failed logon",
        Origin {
            format: RuleFormat::Sigma,
            path: "rules/failed.yml".into(),
            root: dir.display().to_string(),
        },
    );
    rule.techniques = vec!["T1110.001".into()];
    s.store
        .append(vec![NewEntry::new(
            "seed",
            Timestamp::now(),
            Event::RuleUpserted(rule),
        )])
        .await
        .unwrap();

    let body = json!({"datasets": [data.display().to_string()]});
    needs_writer(
        s,
        Method::POST,
        "/api/v1/replay",
        "application/json",
        &body.to_string(),
    )
    .await;
    let (status, problem) = send_json(s, Method::POST, "/api/v1/replay", &s.engineer, &body).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "paths on the server are for admins: {problem}"
    );
    let (status, problem) =
        send_json(s, Method::POST, "/api/v1/replay", &s.engineer, &json!({})).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("no-datasets"))
    );
    let (status, dry) = send_json(
        s,
        Method::POST,
        "/api/v1/replay",
        &s.admin,
        &json!({"datasets": [data.display().to_string()], "record": false}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{dry}");
    assert_eq!(dry["results_recorded"], 0);
    assert_eq!(dry["rows"][0]["outcome"], "pass", "{dry}");
    let (_, none) = get(s, "/api/v1/results?technique=T1110.001", &s.viewer).await;
    assert_eq!(none["total"], 0);
    let (status, run) = send_json(s, Method::POST, "/api/v1/replay", &s.admin, &body).await;
    assert_eq!(status, StatusCode::OK, "{run}");
    assert_eq!(
        (
            run["expected_total"].as_u64(),
            run["expected_passed"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(run["results_recorded"], 1);
    let (_, got) = get(s, "/api/v1/results?technique=T1110.001", &s.viewer).await;
    assert_eq!(got["total"], 1, "{got}");
    assert_eq!(got["results"][0]["outcome"], "pass");
    let journal = s.store.journal(&Default::default()).await.unwrap();
    assert_eq!(journal.last().unwrap().who, "lead");

    // Rules from a folder on the server instead of the registered ones (admins only).
    let with_rules = json!({"datasets": [data.display().to_string()],
                            "rules": dir.join("rules").display().to_string(), "record": false});
    let (status, _) = send_json(
        s,
        Method::POST,
        "/api/v1/replay",
        &s.engineer,
        &json!({"rules": "/"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, run) = send_json(s, Method::POST, "/api/v1/replay", &s.admin, &with_rules).await;
    assert_eq!(status, StatusCode::OK, "{run}");
    assert_eq!(
        (
            run["rules_compiled"].as_u64(),
            run["expected_passed"].as_u64()
        ),
        (Some(1), Some(1)),
        "{run}"
    );

    // The registered datasets, by an engineer.
    s.store
        .set_meta(&[("jobs.replay.datasets", &data.display().to_string())])
        .await
        .unwrap();
    let (status, run) = send_json(s, Method::POST, "/api/v1/replay", &s.engineer, &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{run}");
    assert_eq!(run["expected_passed"], 1);
    let (status, problem) = send_json(
        s,
        Method::POST,
        "/api/v1/replay",
        &s.admin,
        &json!({"datasets": [dir.join("nowhere").display().to_string()]}),
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("replay-failed")),
        "{problem}"
    );
}

const STIX: &str = r#"{"type": "bundle", "id": "bundle--intel", "objects": [
 {"type": "intrusion-set", "spec_version": "2.1", "id": "intrusion-set--w", "name": "Wizard Spider", "aliases": ["UNC1878"]},
 {"type": "attack-pattern", "spec_version": "2.1", "id": "attack-pattern--t1003-001", "name": "LSASS Memory"},
 {"type": "relationship", "spec_version": "2.1", "id": "relationship--w1", "relationship_type": "uses",
  "source_ref": "intrusion-set--w", "target_ref": "attack-pattern--t1003-001"}]}"#;

const GROUPS: &str = "version: 1.0
file_type: group-administration
platform: Windows
groups:
  - group_name: Red team
    campaign: Scenario 1
    technique_id: [T1059.001, T1110]
    software_id: []
    enabled: True
";

async fn intel_and_trend(s: &Running) {
    let json_type = "application/json";
    needs_writer(
        s,
        Method::POST,
        "/api/v1/actors?format=stix",
        json_type,
        STIX,
    )
    .await;
    let (status, _) = send_text(
        s,
        Method::POST,
        "/api/v1/actors?format=stix",
        &s.engineer,
        json_type,
        STIX,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "actors are intel: admins write"
    );
    let (status, got) = send_text(
        s,
        Method::POST,
        "/api/v1/actors?format=stix",
        &s.admin,
        json_type,
        STIX,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{got}");
    assert_eq!(got["imported"], 1);
    let (status, actor) = get(s, "/api/v1/actors/Wizard%20Spider", &s.viewer).await;
    assert_eq!(status, StatusCode::OK, "{actor}");
    assert_eq!(actor["techniques"], json!(["T1003.001"]));
    let (status, got) = send_text(
        s,
        Method::POST,
        "/api/v1/actors?format=dettect&path=groups.yaml",
        &s.admin,
        "application/yaml",
        GROUPS,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{got}");
    assert_eq!(got["imported"], 1);
    let (status, problem) = send_text(
        s,
        Method::POST,
        "/api/v1/actors?format=stix&path=intel.json",
        &s.admin,
        json_type,
        "{\"type\": \"bundle\",\n \"objects\": [\n",
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("intel.json")),
        "{problem}"
    );
    let (status, _) = send_text(
        s,
        Method::POST,
        "/api/v1/actors?format=misp",
        &s.admin,
        json_type,
        STIX,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, trend) = get(s, "/api/v1/trend?every=day", &s.viewer).await;
    assert_eq!(status, StatusCode::OK, "{trend}");
    let points = trend["points"].as_array().unwrap();
    assert!(!points.is_empty());
    assert!(
        points.last().unwrap()["tally"]["total"].as_u64().unwrap() > 0,
        "{trend}"
    );
    let (status, csv) = call(
        s,
        &s.base,
        Method::GET,
        "/api/v1/trend?every=day&profile=finance&format=csv",
        Some(&s.viewer),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(csv.starts_with("series,"), "{csv}");
    assert!(
        csv.lines().skip(1).all(|l| l.starts_with("finance,")),
        "{csv}"
    );
    let (status, svg) = call(
        s,
        &s.base,
        Method::GET,
        "/api/v1/trend?every=day&format=svg",
        Some(&s.viewer),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        svg.contains("<svg") && svg.contains("Validated share — all techniques"),
        "{svg}"
    );
    let (status, body) = get(s, "/api/v1/trend?every=fortnight", &s.viewer).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid-interval"))
    );
    let (status, _) = get(s, "/api/v1/trend?profile=nobody", &s.viewer).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

const SCAN: &str = "Asset,CVE ID,Title,CVSS,First Seen,Status
web-01,CVE-2024-1234,Credential disclosure in AppServer,8.0,2026-01-01T00:00:00Z,open
web-02,CVE-2024-1234,Credential disclosure in AppServer,6.0,2026-01-01T00:00:00Z,open
";

const CTID: &str = r#"{
  "metadata": {"attack_version": "9.0", "mapping_framework": "cve"},
  "mapping_objects": [
    {"capability_id": "CVE-2024-1234", "mapping_type": "primary_impact", "attack_object_id": "T1003.001"},
    {"capability_id": "CVE-2024-1234", "mapping_type": "exploitation_technique", "attack_object_id": "T1086"}
  ]
}"#;

async fn exposure_imports(s: &Running) {
    needs_writer(s, Method::POST, "/api/v1/exposures", "text/csv", SCAN).await;
    let (status, got) = send_text(
        s,
        Method::POST,
        "/api/v1/exposures?path=scanner.csv",
        &s.engineer,
        "text/csv",
        SCAN,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(
        (got["feed"].as_str(), got["new"].as_u64()),
        (Some("scanner"), Some(2)),
        "{got}"
    );
    let (_, again) = send_text(
        s,
        Method::POST,
        "/api/v1/exposures?path=scanner.csv",
        &s.engineer,
        "text/csv",
        SCAN,
    )
    .await;
    assert_eq!(again["unchanged"], 2, "{again}");
    let (_, listed) = get(s, "/api/v1/exposures", &s.viewer).await;
    assert_eq!(listed["count"], 2, "{listed}");
    let bad = "Asset,CVE ID,Title,CVSS,First Seen,Status\nweb-03,CVE-2024-1234,x,eleven,2026-01-01T00:00:00Z,open\n";
    let (status, problem) = send_text(
        s,
        Method::POST,
        "/api/v1/exposures?path=scanner.csv",
        &s.engineer,
        "text/csv",
        bad,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("scanner.csv:2")),
        "{problem}"
    );

    needs_writer(
        s,
        Method::POST,
        "/api/v1/exposure-mappings",
        "application/json",
        CTID,
    )
    .await;
    let (status, got) = send_text(
        s,
        Method::POST,
        "/api/v1/exposure-mappings?path=ctid.json",
        &s.engineer,
        "application/json",
        CTID,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{got}");
    assert_eq!(
        (
            got["name"].as_str(),
            got["mappings"].as_u64(),
            got["findings"].as_u64()
        ),
        (Some("ctid"), Some(2), Some(1))
    );
    assert_eq!(got["attack_version"], "9.0");
    let (status, sets) = get(s, "/api/v1/exposure-mappings", &s.viewer).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            sets[0]["name"].as_str(),
            sets[0]["kind"].as_str(),
            sets[0]["remapped"].as_u64(),
            sets[0]["unresolved"].as_u64()
        ),
        (Some("ctid"), Some("cve"), Some(1), Some(0)),
        "T1086 resolves through revoked-by: {sets}"
    );
    let (_, shown) = get(s, "/api/v1/exposures/CVE-2024-1234@web-01", &s.viewer).await;
    let text = shown.to_string();
    assert!(
        text.contains("T1003.001"),
        "the mapping reached the answer: {shown}"
    );

    // The CLI's --remap: ids remapped before resolution, as pairs; a bad pair changes nothing.
    let (status, problem) = send_text(
        s,
        Method::POST,
        "/api/v1/exposure-mappings?path=ctid.json&remap=T1086=T1110.001,nonsense",
        &s.engineer,
        "application/json",
        CTID,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert_eq!(problem["code"], "invalid-remap", "{problem}");
    let (_, before) = get(s, "/api/v1/exposures/CVE-2024-1234@web-01", &s.viewer).await;
    assert!(!before.to_string().contains("T1110.001"), "{before}");
    let (status, got) = send_text(
        s,
        Method::POST,
        "/api/v1/exposure-mappings?path=ctid.json&remap=T1086=T1110.001",
        &s.engineer,
        "application/json",
        CTID,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{got}");
    let (_, shown) = get(s, "/api/v1/exposures/CVE-2024-1234@web-01", &s.viewer).await;
    assert!(
        shown.to_string().contains("\"technique\":\"T1110.001\""),
        "T1086 now leads where the pair says, not where revoked-by does: {shown}"
    );
}

async fn lookups_claims_and_jobs(s: &Running, dir: &std::path::Path) {
    let (status, csv) = call(
        s,
        &s.base,
        Method::GET,
        "/api/v1/coverage/lookup",
        Some(&s.viewer),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        csv.starts_with(
            "rule_id,rule_name,techniques,tactics,data_sources,validation_status,last_tested"
        ),
        "{csv}"
    );
    let lsass = csv
        .lines()
        .find(|l| l.starts_with("r-lsass,"))
        .unwrap_or_else(|| panic!("{csv}"));
    // Its latest pass (the JSON lines upload, dated 2026-02-01) is past the 90-day window.
    assert!(
        lsass.ends_with(",stale,2026-02-01T00:00:00Z"),
        "the uploads reached the lookup: {lsass}"
    );

    let layer = json!({"name": "green", "domain": "enterprise-attack", "versions": {"layer": "4.5"},
        "techniques": [{"techniqueID": "T1003.001", "score": 1}, {"techniqueID": "T1110", "score": 1},
                       {"techniqueID": "T1003.001", "score": 1}, {"techniqueID": "T9999", "score": 1}]});
    let (status, got) = send_json(
        s,
        Method::POST,
        "/api/v1/coverage/claimed",
        &s.viewer,
        &layer,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "a read, even for a viewer: {got}");
    assert_eq!(got["claimed"], 3, "each claim once: {got}");
    let states: Vec<(&str, &str)> = got["techniques"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["technique"].as_str().unwrap(),
                t["state"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            ("T1003.001", "unvalidated"),
            ("T1110", "gap"),
            ("T9999", "unknown")
        ]
    );
    assert_eq!(got["not_validated"], 3);
    let (status, body) = send_text(
        s,
        Method::POST,
        "/api/v1/coverage/claimed",
        &s.viewer,
        "application/json",
        "[1, 2",
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid-layer"))
    );

    let every_day = json!({"schedule": "0 4 * * *"});
    let (status, _) = send_json(
        s,
        Method::PUT,
        "/api/v1/jobs/replay/schedule",
        &s.engineer,
        &every_day,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, got) = send_json(
        s,
        Method::PUT,
        "/api/v1/jobs/replay/schedule",
        &s.admin,
        &every_day,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{got}");
    // Journaled under the admin token's name, with the setting and its new value.
    let journal = s.store.journal(&Default::default()).await.unwrap();
    let last = journal.last().unwrap();
    assert_eq!(last.who, "lead");
    assert_eq!(
        last.event,
        attest_core::journal::Event::SettingChanged {
            key: "jobs.replay.schedule".into(),
            value: Some("0 4 * * *".into()),
        }
    );
    let (_, jobs) = get(s, "/api/v1/jobs", &s.viewer).await;
    let replay = jobs["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["name"] == "replay")
        .unwrap();
    assert_eq!(replay["schedule"], "0 4 * * *");
    let (status, body) = send_json(
        s,
        Method::PUT,
        "/api/v1/jobs/replay/schedule",
        &s.admin,
        &json!({"schedule": "every tuesday"}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid-schedule"))
    );
    let (status, _) = send_json(
        s,
        Method::PUT,
        "/api/v1/jobs/nope/schedule",
        &s.admin,
        &every_day,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, got) = send_json(
        s,
        Method::PUT,
        "/api/v1/jobs/replay/schedule",
        &s.admin,
        &json!({"schedule": "default"}),
    )
    .await;
    assert_eq!(got["schedule"], "0 3 * * 1");

    let data = dir.join("dataset").display().to_string();
    let (status, _) = send_json(
        s,
        Method::PUT,
        "/api/v1/replay/datasets",
        &s.engineer,
        &json!({"datasets": [data]}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, got) = send_json(
        s,
        Method::PUT,
        "/api/v1/replay/datasets",
        &s.admin,
        &json!({"datasets": [data]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{got}");
    let (_, listed) = get(s, "/api/v1/replay/datasets", &s.viewer).await;
    assert_eq!(listed, got);
    let (status, body) = send_json(
        s,
        Method::PUT,
        "/api/v1/replay/datasets",
        &s.admin,
        &json!({"datasets": ["/nowhere/at/all"]}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("datasets[0]"))
    );
    let (_, cleared) = send_json(
        s,
        Method::PUT,
        "/api/v1/replay/datasets",
        &s.admin,
        &json!({"datasets": []}),
    )
    .await;
    assert_eq!(cleared["datasets"], json!([]));
}

async fn operations(s: &Running) {
    tokens(s).await;
    inventory(s).await;
    catalogue_and_plan(s).await;
    validation_imports(s).await;
    let dir = tempfile::tempdir().unwrap();
    replay(s, dir.path()).await;
    lookups_claims_and_jobs(s, dir.path()).await;
    intel_and_trend(s).await;
    exposure_imports(s).await;
}

#[tokio::test]
async fn uploads_over_the_limit_are_problem_documents() {
    let (_dir, url) = sqlite_url();
    let limits = Limits {
        body_bytes: 1024,
        ..Limits::default()
    };
    let s = start(&url, limits).await;
    let big = INVENTORY.repeat(20);
    for (method, path) in [
        (Method::PUT, "/api/v1/inventory"),
        (Method::POST, "/api/v1/tests/atomic"),
        (Method::POST, "/api/v1/results/jsonl"),
        (Method::POST, "/api/v1/rules?format=sigma"),
    ] {
        let (status, body) =
            send_text(&s, method.clone(), path, &s.admin, "application/yaml", &big).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::PAYLOAD_TOO_LARGE, Some("body-too-large")),
            "{method} {path}: {body}"
        );
    }
    s.stop().await;
}

#[tokio::test]
async fn operations_on_sqlite() {
    let (_dir, url) = sqlite_url();
    let s = start(&url, Limits::default()).await;
    operations(&s).await;
    s.stop().await;
}

#[tokio::test]
async fn operations_on_postgres() {
    let Some(url) = common::postgres_url("operations_on_postgres").await else {
        return;
    };
    let s = start(&url, Limits::default()).await;
    operations(&s).await;
    s.stop().await;
}
