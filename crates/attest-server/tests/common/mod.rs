//! Shared helpers of the integration tests: a small ATT&CK bundle, a seeded workspace, a real
//! server on 127.0.0.1, and the gates for PostgreSQL and the real corpora.
#![allow(dead_code)] // Each test binary uses a different subset of these helpers.

use std::net::SocketAddr;

use attest_attack::{BundleInput, KnowledgeBase};
use attest_core::journal::Event;
use attest_core::rule::{Dependency, DependencyOrigin, Origin, Rule, RuleDependency, RuleFormat};
use attest_core::source::DataSource;
use attest_server::{AppState, AuthMode, Limits, Role};
use attest_store::{NewEntry, Store};
use jiff::{SignedDuration, Timestamp};
use sqlx::Connection;
use tokio::sync::oneshot;

/// A v18-style bundle: credential access and execution, a revoked id, a detection strategy with
/// analytics on two platforms, users with procedure text, and a mitigation.
pub const BUNDLE: &str = r#"{
  "type": "bundle", "id": "bundle--srv", "spec_version": "2.1",
  "objects": [
    {"type": "x-mitre-matrix", "id": "x-mitre-matrix--1", "name": "Enterprise ATT&CK",
     "x_mitre_domains": ["enterprise-attack"],
     "external_references": [{"source_name": "mitre-attack", "external_id": "enterprise-attack"}],
     "tactic_refs": ["x-mitre-tactic--ex", "x-mitre-tactic--ca"]},
    {"type": "x-mitre-tactic", "id": "x-mitre-tactic--ex", "name": "Execution",
     "x_mitre_shortname": "execution",
     "external_references": [{"source_name": "mitre-attack", "external_id": "TA0002"}]},
    {"type": "x-mitre-tactic", "id": "x-mitre-tactic--ca", "name": "Credential Access",
     "x_mitre_shortname": "credential-access",
     "external_references": [{"source_name": "mitre-attack", "external_id": "TA0006"}]},
    {"type": "attack-pattern", "id": "attack-pattern--t1003", "name": "OS Credential Dumping",
     "description": "Adversaries may dump credentials.",
     "x_mitre_domains": ["enterprise-attack"], "x_mitre_platforms": ["Windows", "Linux"],
     "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "credential-access"}],
     "external_references": [{"source_name": "mitre-attack", "external_id": "T1003"}]},
    {"type": "attack-pattern", "id": "attack-pattern--t1003-001", "name": "LSASS Memory",
     "description": "Adversaries may access LSASS process memory.",
     "x_mitre_domains": ["enterprise-attack"], "x_mitre_is_subtechnique": true, "x_mitre_platforms": ["Windows"],
     "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "credential-access"}],
     "external_references": [{"source_name": "mitre-attack", "external_id": "T1003.001",
                              "url": "https://attack.mitre.org/techniques/T1003/001"}]},
    {"type": "attack-pattern", "id": "attack-pattern--t1003-008", "name": "/etc/passwd and /etc/shadow",
     "x_mitre_domains": ["enterprise-attack"], "x_mitre_is_subtechnique": true, "x_mitre_platforms": ["Linux"],
     "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "credential-access"}],
     "external_references": [{"source_name": "mitre-attack", "external_id": "T1003.008"}]},
    {"type": "attack-pattern", "id": "attack-pattern--t1110", "name": "Brute Force",
     "x_mitre_domains": ["enterprise-attack"], "x_mitre_platforms": ["Windows", "Linux"],
     "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "credential-access"}],
     "external_references": [{"source_name": "mitre-attack", "external_id": "T1110"}]},
    {"type": "attack-pattern", "id": "attack-pattern--t1110-001", "name": "Password Guessing",
     "x_mitre_domains": ["enterprise-attack"], "x_mitre_is_subtechnique": true, "x_mitre_platforms": ["Windows"],
     "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "credential-access"}],
     "external_references": [{"source_name": "mitre-attack", "external_id": "T1110.001"}]},
    {"type": "attack-pattern", "id": "attack-pattern--t1059", "name": "Command and Scripting Interpreter",
     "x_mitre_domains": ["enterprise-attack"], "x_mitre_platforms": ["Windows", "Linux"],
     "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "execution"}],
     "external_references": [{"source_name": "mitre-attack", "external_id": "T1059"}]},
    {"type": "attack-pattern", "id": "attack-pattern--t1059-001", "name": "PowerShell",
     "x_mitre_domains": ["enterprise-attack"], "x_mitre_is_subtechnique": true, "x_mitre_platforms": ["Windows"],
     "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "execution"}],
     "external_references": [{"source_name": "mitre-attack", "external_id": "T1059.001"}]},
    {"type": "attack-pattern", "id": "attack-pattern--t1086", "name": "PowerShell", "revoked": true,
     "x_mitre_domains": ["enterprise-attack"],
     "external_references": [{"source_name": "mitre-attack", "external_id": "T1086"}]},
    {"type": "intrusion-set", "id": "intrusion-set--apt28", "name": "APT28", "aliases": ["APT28", "Fancy Bear"],
     "external_references": [{"source_name": "mitre-attack", "external_id": "G0007"}]},
    {"type": "malware", "id": "malware--mimikatz", "name": "Mimikatz",
     "external_references": [{"source_name": "mitre-attack", "external_id": "S0002"}]},
    {"type": "course-of-action", "id": "course-of-action--m1043", "name": "Credential Access Protection",
     "external_references": [{"source_name": "mitre-attack", "external_id": "M1043"}]},
    {"type": "x-mitre-data-component", "id": "x-mitre-data-component--pa", "name": "Process Access",
     "external_references": [{"source_name": "mitre-attack", "external_id": "DC0035"}]},
    {"type": "x-mitre-data-component", "id": "x-mitre-data-component--ce", "name": "Command Execution",
     "external_references": [{"source_name": "mitre-attack", "external_id": "DC0064"}]},
    {"type": "x-mitre-detection-strategy", "id": "x-mitre-detection-strategy--1", "name": "LSASS access",
     "x_mitre_analytic_refs": ["x-mitre-analytic--w", "x-mitre-analytic--l"],
     "external_references": [{"source_name": "mitre-attack", "external_id": "DET0001"}]},
    {"type": "x-mitre-analytic", "id": "x-mitre-analytic--w", "name": "Analytic 0001",
     "x_mitre_platforms": ["Windows"],
     "x_mitre_log_source_references": [
       {"x_mitre_data_component_ref": "x-mitre-data-component--pa", "name": "WinEventLog:Sysmon", "channel": "EventCode=10"}],
     "external_references": [{"source_name": "mitre-attack", "external_id": "AN0001"}]},
    {"type": "x-mitre-analytic", "id": "x-mitre-analytic--l", "name": "Analytic 0002",
     "x_mitre_platforms": ["Linux"],
     "x_mitre_log_source_references": [
       {"x_mitre_data_component_ref": "x-mitre-data-component--pa", "name": "auditd:SYSCALL", "channel": "ptrace"}],
     "external_references": [{"source_name": "mitre-attack", "external_id": "AN0002"}]},
    {"type": "relationship", "id": "relationship--s1", "relationship_type": "subtechnique-of",
     "source_ref": "attack-pattern--t1003-001", "target_ref": "attack-pattern--t1003"},
    {"type": "relationship", "id": "relationship--s2", "relationship_type": "subtechnique-of",
     "source_ref": "attack-pattern--t1003-008", "target_ref": "attack-pattern--t1003"},
    {"type": "relationship", "id": "relationship--s3", "relationship_type": "subtechnique-of",
     "source_ref": "attack-pattern--t1059-001", "target_ref": "attack-pattern--t1059"},
    {"type": "relationship", "id": "relationship--s4", "relationship_type": "subtechnique-of",
     "source_ref": "attack-pattern--t1110-001", "target_ref": "attack-pattern--t1110"},
    {"type": "relationship", "id": "relationship--r1", "relationship_type": "revoked-by",
     "source_ref": "attack-pattern--t1086", "target_ref": "attack-pattern--t1059-001"},
    {"type": "relationship", "id": "relationship--d1", "relationship_type": "detects",
     "source_ref": "x-mitre-detection-strategy--1", "target_ref": "attack-pattern--t1003-001"},
    {"type": "relationship", "id": "relationship--u1", "relationship_type": "uses",
     "description": "APT28 dumped LSASS with a custom tool.",
     "source_ref": "intrusion-set--apt28", "target_ref": "attack-pattern--t1003-001"},
    {"type": "relationship", "id": "relationship--u2", "relationship_type": "uses",
     "description": "Mimikatz reads LSASS memory (sekurlsa::logonpasswords).",
     "source_ref": "malware--mimikatz", "target_ref": "attack-pattern--t1003-001"},
    {"type": "relationship", "id": "relationship--m1", "relationship_type": "mitigates",
     "description": "Enable Credential Guard.",
     "source_ref": "course-of-action--m1043", "target_ref": "attack-pattern--t1003-001"}
  ]
}"#;

/// The knowledge base of [`BUNDLE`].
pub fn kb() -> KnowledgeBase {
    let input = BundleInput {
        name: "fixture",
        bytes: BUNDLE.as_bytes(),
        release: Some("18.1"),
    };
    match KnowledgeBase::from_bundles(&[input]) {
        Ok((kb, _)) => kb,
        Err(e) => panic!("fixture bundle does not load: {e}"),
    }
}

/// A Sigma rule claiming `techniques` and needing data component `component`.
pub fn rule(id: &str, title: &str, techniques: &[&str], component: &str) -> Rule {
    let mut r = Rule::new(
        id,
        title,
        Origin {
            format: RuleFormat::Sigma,
            path: format!("rules/{id}.yml"),
            root: "sigma".into(),
        },
    );
    r.techniques = techniques.iter().map(|t| t.to_string()).collect();
    r.tactics = vec!["credential-access".into()];
    r.content_hash = format!("hash-{id}");
    r.dependencies.push(RuleDependency {
        dependency: Dependency::Component(component.into()),
        origin: DependencyOrigin::Declared,
    });
    r
}

/// Seeds a workspace: Sysmon (providing Process Access, seen now), a rule on T1003.001 that is
/// usable but untested, and a rule on the revoked T1086 that needs a missing component.
pub async fn seed(store: &Store, at: Timestamp) {
    let mut sysmon = DataSource::new("Sysmon");
    sysmon.components = vec!["Process Access".into()];
    sysmon.platforms = vec!["Windows".into()];
    sysmon.max_silence = Some(SignedDuration::from_hours(24 * 365 * 10));
    let batch = vec![
        NewEntry::new("seed", at, Event::SourceUpserted(sysmon)),
        NewEntry::new(
            "seed",
            at,
            Event::SourceSeen {
                name: "Sysmon".into(),
                at,
            },
        ),
        NewEntry::new(
            "seed",
            at,
            Event::RuleUpserted(rule(
                "r-lsass",
                "LSASS Access",
                &["T1003.001"],
                "Process Access",
            )),
        ),
        NewEntry::new(
            "seed",
            at,
            Event::RuleUpserted(rule(
                "r-ps",
                "PowerShell Download",
                &["T1086"],
                "Command Execution",
            )),
        ),
    ];
    if let Err(e) = store.append(batch).await {
        panic!("seeding the workspace: {e}");
    }
}

/// A running server and what a test needs to talk to it.
pub struct Running {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The application state (for in-process checks).
    pub app: AppState,
    /// The store.
    pub store: Store,
    /// Tokens by role.
    pub viewer: String,
    /// An engineer token.
    pub engineer: String,
    /// An admin token.
    pub admin: String,
    /// A reqwest client with timeouts.
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<Result<(), attest_server::Error>>>,
}

impl Running {
    /// Full URL of a path.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(h) = self.handle.take() {
            match h.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => panic!("server ended with {e}"),
                Err(e) => panic!("server task: {e}"),
            }
        }
    }
}

/// Starts a server on 127.0.0.1 (port 0) over a store at `url`, seeded, with a viewer and an
/// engineer token.
pub async fn start(url: &str, limits: Limits) -> Running {
    start_with(url, limits, None).await
}

/// [`start`], with a runbook folder loaded and watched.
pub async fn start_with(url: &str, limits: Limits, runbooks: Option<&std::path::Path>) -> Running {
    let store = match Store::create(url).await {
        Ok(s) => s,
        Err(e) => panic!("create store {url}: {e}"),
    };
    seed(&store, Timestamp::now()).await;
    let viewer = attest_server::create_token(&store, "dashboard", Role::Viewer)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let engineer = attest_server::create_token(&store, "ci pipeline", Role::Engineer)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let admin = attest_server::create_token(&store, "lead", Role::Admin)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let app = AppState::new(store.clone(), kb(), AuthMode::Required)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    if let Some(dir) = runbooks {
        app.load_runbooks(dir.to_path_buf())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap_or_else(|e| panic!("bind: {e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let (tx, rx) = oneshot::channel::<()>();
    let handle = tokio::spawn(attest_server::serve_on(
        listener,
        app.clone(),
        limits,
        async {
            let _ = rx.await;
        },
    ));
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    Running {
        base: format!("http://{addr}"),
        app,
        store,
        viewer,
        engineer,
        admin,
        client,
        stop: Some(tx),
        handle: Some(handle),
    }
}

/// A fresh SQLite workspace URL; keep the directory alive while the test runs.
pub fn sqlite_url() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let url = format!("sqlite://{}", dir.path().join("attest.db").display());
    (dir, url)
}

/// A fresh schema in the test PostgreSQL (`ATTEST_TEST_POSTGRES_URL`), or `None` with a loud
/// SKIPPED line; fails when `ATTEST_REQUIRE_POSTGRES=1` and it is not set.
pub async fn postgres_url(test: &str) -> Option<String> {
    let base = match std::env::var("ATTEST_TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => u,
        _ => {
            assert!(
                std::env::var("ATTEST_REQUIRE_POSTGRES").map_or(true, |v| v != "1"),
                "{test}: ATTEST_REQUIRE_POSTGRES=1 but ATTEST_TEST_POSTGRES_URL is not set"
            );
            eprintln!("SKIPPED: {test} on PostgreSQL: set ATTEST_TEST_POSTGRES_URL to run");
            return None;
        }
    };
    let schema = format!(
        "srv_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    );
    let mut conn = sqlx::PgConnection::connect(&base)
        .await
        .unwrap_or_else(|e| panic!("connect to ATTEST_TEST_POSTGRES_URL: {e}"));
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("create schema: {e}"));
    conn.close().await.ok();
    let sep = if base.contains('?') { '&' } else { '?' };
    Some(format!("{base}{sep}options=-c%20search_path%3D{schema}"))
}

/// The folder of the real ATT&CK bundles (`ATTEST_ATTACK_DIR`), or `None` with a loud SKIPPED
/// line; fails when `ATTEST_REQUIRE_CORPORA=1` and it is not set.
pub fn attack_dir(test: &str) -> Option<std::path::PathBuf> {
    match std::env::var("ATTEST_ATTACK_DIR") {
        Ok(d) if !d.is_empty() => Some(d.into()),
        _ => {
            assert!(
                std::env::var("ATTEST_REQUIRE_CORPORA").map_or(true, |v| v != "1"),
                "{test}: ATTEST_REQUIRE_CORPORA=1 but ATTEST_ATTACK_DIR is not set"
            );
            eprintln!("SKIPPED: {test}: set ATTEST_ATTACK_DIR to run");
            None
        }
    }
}
