//! `attest serve` and `attest tokens` end to end, over raw HTTP on loopback.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failing test should fail loudly

mod util;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use util::Env;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A GET with an optional bearer token; returns (status, body).
fn get(port: u16, path: &str, token: Option<&str>) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Connection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Some((status, body))
}

struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn serve_answers_with_tokens_and_refuses_without() {
    let env = Env::new();
    env.ok(&["init"]);
    let token = env
        .ok(&["tokens", "create", "ci", "--role", "viewer"])
        .trim()
        .to_string();
    assert!(token.starts_with("attest_"), "{token}");

    let port = free_port();
    let child = env
        .cmd()
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let _server = Server(child);
    let started = Instant::now();
    let health = loop {
        if let Some(r) = get(port, "/healthz", None) {
            break r;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(health.0, 200);
    assert_eq!(get(port, "/api/v1/rules", None).unwrap().0, 401);
    let (status, body) = get(port, "/api/v1/techniques/T1003.001", Some(&token)).unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("LSASS Memory"), "{body}");
}

#[test]
fn serve_finds_the_journaled_release_in_the_cache_when_its_recorded_file_is_gone() {
    let env = Env::new();
    let here = env
        .path()
        .join("elsewhere")
        .join("enterprise-attack-9.0.json");
    std::fs::create_dir_all(here.parent().unwrap()).unwrap();
    std::fs::copy(env.bundle(), &here).unwrap();
    env.ok(&["init", "--attack", here.to_str().unwrap()]);
    // The file is gone (recorded by another host); the bundle cache has the release.
    std::fs::create_dir_all(env.path().join("cache")).unwrap();
    std::fs::rename(
        &here,
        env.path().join("cache").join("enterprise-attack-9.0.json"),
    )
    .unwrap();
    let port = free_port();
    let child = env
        .cmd()
        .env_remove("ATTEST_ATTACK_BUNDLE")
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let _server = Server(child);
    let started = Instant::now();
    while get(port, "/healthz", None).is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "server did not start from the cached release"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn serve_refuses_a_public_address_without_a_token() {
    let env = Env::new();
    env.ok(&["init"]);
    let out = env.run(&["serve", "--listen", &format!("0.0.0.0:{}", free_port())]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("token"), "{err}");
}

/// A request with a method, an optional token and an optional body; returns (status, body).
fn request(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let body = body.unwrap_or("");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Content-Type: application/yaml\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

fn serve(env: &Env) -> (Server, u16) {
    let port = free_port();
    let child = env
        .cmd()
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    let started = Instant::now();
    while get(port, "/healthz", None).is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    (server, port)
}

const LSASS_RULE: &str = r#"title: LSASS Access From Unusual Process
id: 0d894093-71bc-43c3-8c4d-ecfa28dcd1ff
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
"#;

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
"#;

const PROFILE: &str = "name: lsass\ntechniques:\n  - T1003.001\n";

const INVENTORY: &str = "version: 1\nsources:\n  - name: Sysmon\n    platforms: [Windows]\n    log_sources: [WinEventLog:Sysmon]\n    max_silence: 24h\n  - name: EDR\n    components: [Process Creation]\n";

#[test]
fn the_cli_and_the_api_say_the_same() {
    let env = Env::new();
    env.ok(&["init"]);
    let admin = env
        .ok(&["tokens", "create", "lead", "--role", "admin"])
        .trim()
        .to_string();
    let (_server, port) = serve(&env);

    // Inventory as code through the API, read back through the CLI, and the other way round.
    let (status, body) = request(
        port,
        "PUT",
        "/api/v1/inventory",
        Some(&admin),
        Some(INVENTORY),
    );
    assert_eq!(status, 200, "{body}");
    let applied: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(applied["added"], serde_json::json!(["Sysmon", "EDR"]));
    let (status, exported) = request(port, "GET", "/api/v1/inventory", Some(&admin), None);
    assert_eq!(status, 200);
    assert_eq!(exported, env.ok(&["sources", "export"]), "one export");
    let file = env.write("inventory.yaml", INVENTORY);
    let cli = env.json(&["sources", "apply", file.to_str().unwrap()]);
    assert_eq!(
        cli,
        serde_json::json!([]),
        "the CLI finds nothing to change"
    );

    // Visibility: the same rows.
    let (status, body) = request(
        port,
        "GET",
        "/api/v1/visibility/T1003.001",
        Some(&admin),
        None,
    );
    assert_eq!(status, 200, "{body}");
    let api: serde_json::Value = serde_json::from_str(&body).unwrap();
    let cli = env.json(&["sources", "visibility", "T1003.001"]);
    let cli_rows: Vec<(String, String, String)> = cli
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["data_component"].as_str().unwrap().to_string(),
                r["provided_by"].as_str().unwrap().to_string(),
                r["visible"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let api_rows: Vec<(String, String, String)> = api["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["data_component"].as_str().unwrap().to_string(),
                r["provided_by"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p.as_str().unwrap())
                    .collect::<Vec<_>>()
                    .join(","),
                if r["visible"] == true { "yes" } else { "no" }.to_string(),
            )
        })
        .collect();
    // (The mini bundle lists no telemetry, so both are empty here; the rows are compared
    // anyway so a change to either side shows.)
    assert_eq!(api_rows, cli_rows);

    // An exercise plan over what the API wrote: a rule, an Atomic test and a profile.
    let (status, body) = request(
        port,
        "POST",
        "/api/v1/rules?format=sigma&path=lsass.yml",
        Some(&admin),
        Some(LSASS_RULE),
    );
    assert_eq!(status, 201, "{body}");
    let (status, body) = request(
        port,
        "POST",
        "/api/v1/tests/atomic?path=T1003.001.yaml",
        Some(&admin),
        Some(ATOMIC),
    );
    assert_eq!(status, 200, "{body}");
    let (status, body) = request(
        port,
        "POST",
        "/api/v1/profiles",
        Some(&admin),
        Some(PROFILE),
    );
    assert_eq!(status, 201, "{body}");
    let (status, body) = request(
        port,
        "GET",
        "/api/v1/plan?profile=lsass",
        Some(&admin),
        None,
    );
    assert_eq!(status, 200, "{body}");
    let api: serde_json::Value = serde_json::from_str(&body).unwrap();
    let api_rows: Vec<(String, String, String)> = api["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let tests: Vec<String> = i["tests"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| {
                    format!(
                        "{} ({})",
                        t["id"].as_str().unwrap(),
                        t["name"].as_str().unwrap()
                    )
                })
                .collect();
            let rules: Vec<&str> = i["rules_expected"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_str().unwrap())
                .collect();
            (
                i["technique"].as_str().unwrap().to_string(),
                tests.join("; "),
                rules.join("; "),
            )
        })
        .collect();
    let cli = env.json(&["plan", "--profile", "lsass"]);
    let cli_rows: Vec<(String, String, String)> = cli
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["technique"].as_str().unwrap().to_string(),
                r["tests"].as_str().unwrap().to_string(),
                r["rules_expected"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        api_rows.first().map(|r| r.0.as_str()),
        Some("T1003.001"),
        "{api}"
    );
    assert!(api_rows[0].1.contains("0be2230c"), "{api}");
    assert_eq!(api_rows, cli_rows);

    // The SIEM lookup table: the same CSV.
    let (status, csv) = request(port, "GET", "/api/v1/coverage/lookup", Some(&admin), None);
    assert_eq!(status, 200);
    assert!(
        csv.contains("0d894093-71bc-43c3-8c4d-ecfa28dcd1ff"),
        "{csv}"
    );
    assert_eq!(csv, env.ok(&["coverage", "lookup"]));

    // Tokens: listed alike; revoked by the CLI, refused by the running server within a second.
    let temp = env
        .ok(&["tokens", "create", "temp", "--role", "viewer"])
        .trim()
        .to_string();
    assert_eq!(get(port, "/api/v1/sources", Some(&temp)).unwrap().0, 200);
    let (status, body) = request(port, "GET", "/api/v1/tokens", Some(&admin), None);
    assert_eq!(status, 200, "{body}");
    let api: serde_json::Value = serde_json::from_str(&body).unwrap();
    let cli = env.json(&["tokens", "list"]);
    let ids = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&api["tokens"]), ids(&cli));
    assert!(!body.contains(&temp) && !env.ok(&["tokens", "list"]).contains(&temp));
    env.ok(&["tokens", "revoke", "temp"]);
    let started = Instant::now();
    while get(port, "/api/v1/sources", Some(&temp)).unwrap().0 != 401 {
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "the server still accepts a token the CLI revoked"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = env.run(&["tokens", "revoke", "temp"]);
    assert_eq!(out.status.code(), Some(2), "nothing live to revoke");
}

#[test]
fn serve_offers_the_runbooks_of_the_folder_named_in_the_environment() {
    let env = Env::new();
    env.ok(&["init"]);
    let token = env
        .ok(&["tokens", "create", "soar", "--role", "viewer"])
        .trim()
        .to_string();
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(
        folder.path().join("lsass.md"),
        "---\ntitle: LSASS runbook\ntechniques: [T1003.001]\n---\n1. Isolate the host.\n",
    )
    .unwrap();
    let port = free_port();
    let child = env
        .cmd()
        .env("ATTEST_RUNBOOKS", folder.path())
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let _server = Server(child);
    let started = Instant::now();
    while get(port, "/healthz", None).is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let (status, body) = get(port, "/api/v1/runbooks", Some(&token)).unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"file\":\"lsass.md\""), "{body}");
    let (status, body) = get(port, "/api/v1/enrich?technique=T1003.001", Some(&token)).unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("\"title\":\"LSASS runbook\"") && body.contains("Isolate the host."),
        "{body}"
    );
}

#[test]
fn serve_refuses_a_runbook_folder_it_cannot_read() {
    let env = Env::new();
    env.ok(&["init"]);
    let out = env.run(&[
        "serve",
        "--listen",
        &format!("127.0.0.1:{}", free_port()),
        "--runbooks",
        "/nonexistent/attest-runbooks",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/attest-runbooks"), "{err}");
}
