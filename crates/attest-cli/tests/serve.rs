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
fn serve_refuses_a_public_address_without_a_token() {
    let env = Env::new();
    env.ok(&["init"]);
    let out = env.run(&["serve", "--listen", &format!("0.0.0.0:{}", free_port())]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("token"), "{err}");
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
