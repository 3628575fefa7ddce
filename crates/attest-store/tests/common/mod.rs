//! Shared helpers of the integration tests: the backends to run on, fixtures, the Sigma corpus.
#![allow(dead_code)] // Each test binary uses a different subset of these helpers.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use attest_core::journal::Event;
use attest_core::rule::{Dependency, DependencyOrigin, Origin, Rule, RuleDependency, RuleFormat};
use attest_store::{NewEntry, Store};
use jiff::Timestamp;
use sqlx::Connection;

/// A database for one test: a fresh SQLite file, or a fresh schema in the test PostgreSQL.
pub struct TestDb {
    /// `sqlite` or `postgres`, for messages.
    pub label: &'static str,
    /// The store URL.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

/// Whether the PostgreSQL backend must run (`ATTEST_REQUIRE_POSTGRES=1`).
fn postgres_required() -> bool {
    std::env::var("ATTEST_REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

/// The test PostgreSQL server, if configured. Without `ATTEST_TEST_POSTGRES_URL` this prints a
/// loud SKIPPED line, or fails when `ATTEST_REQUIRE_POSTGRES=1`.
pub fn postgres_url(test: &str) -> Option<String> {
    match std::env::var("ATTEST_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                !postgres_required(),
                "{test}: ATTEST_REQUIRE_POSTGRES=1 but ATTEST_TEST_POSTGRES_URL is not set \
                 (run `eval \"$(.ci/postgres.sh start)\"`)"
            );
            eprintln!(
                "SKIPPED: {test} on PostgreSQL: set ATTEST_TEST_POSTGRES_URL to run \
                 (e.g. `eval \"$(.ci/postgres.sh start)\"`)"
            );
            None
        }
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A fresh SQLite workspace URL in a temporary directory.
pub fn sqlite_db() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("attest.db").display());
    TestDb {
        label: "sqlite",
        url,
        _dir: Some(dir),
    }
}

/// A fresh schema in the test PostgreSQL, reached through `search_path` in the URL, so tests
/// run in parallel without seeing each other.
pub async fn postgres_db(test: &str) -> Option<TestDb> {
    let base = postgres_url(test)?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let schema = format!(
        "t_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos
    );
    let mut conn = sqlx::PgConnection::connect(&base)
        .await
        .expect("connect to ATTEST_TEST_POSTGRES_URL");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&mut conn)
        .await
        .expect("create test schema");
    conn.close().await.ok();
    let sep = if base.contains('?') { '&' } else { '?' };
    Some(TestDb {
        label: "postgres",
        url: format!("{base}{sep}options=-c%20search_path%3D{schema}"),
        _dir: None,
    })
}

/// Every backend available to this test: SQLite always, PostgreSQL when configured.
pub async fn backends(test: &str) -> Vec<TestDb> {
    let mut dbs = vec![sqlite_db()];
    if let Some(pg) = postgres_db(test).await {
        dbs.push(pg);
    }
    dbs
}

/// A timestamp from RFC 3339.
pub fn ts(s: &str) -> Timestamp {
    s.parse().expect("test timestamp")
}

/// A Sigma-like rule.
pub fn rule(id: &str, techniques: &[&str], tactics: &[&str]) -> Rule {
    let mut r = Rule::new(
        id,
        format!("Rule {id}"),
        Origin {
            format: RuleFormat::Sigma,
            path: format!("rules/{id}.yml"),
            root: "sigma".into(),
        },
    );
    r.techniques = techniques.iter().map(|t| t.to_string()).collect();
    r.tactics = tactics.iter().map(|t| t.to_string()).collect();
    r.content_hash = format!("hash-{id}");
    r.dependencies.push(RuleDependency {
        dependency: Dependency::Component("Process Creation".into()),
        origin: DependencyOrigin::Inferred,
    });
    r
}

/// A batch upserting `n` synthetic rules, as an import of a SigmaHQ-sized corpus would.
pub fn synthetic_batch(n: usize, at: Timestamp) -> Vec<NewEntry> {
    (0..n)
        .map(|i| {
            let t = format!("T{:04}", 1000 + i % 600);
            let sub = format!("{t}.{:03}", 1 + i % 7);
            let r = rule(
                &format!("{i:08x}-0000-4000-8000-000000000000"),
                &[&t, &sub],
                &["execution", "defense-evasion"],
            );
            NewEntry::new("ci", at, Event::RuleUpserted(r))
        })
        .collect()
}

/// Opens a fresh store on `db`.
pub async fn create(db: &TestDb) -> Store {
    match Store::create(&db.url).await {
        Ok(s) => s,
        Err(e) => panic!("{}: create {}: {e:?}", db.label, db.url),
    }
}

/// The Sigma corpus directory, if configured (`ATTEST_CORPORA_DIR`). Prints SKIPPED, or fails
/// with `ATTEST_REQUIRE_CORPORA=1`.
pub fn sigma_dir(test: &str) -> Option<PathBuf> {
    match std::env::var("ATTEST_CORPORA_DIR") {
        Ok(dir) if !dir.is_empty() => Some(Path::new(&dir).join("sigma")),
        _ => {
            assert!(
                !std::env::var("ATTEST_REQUIRE_CORPORA").is_ok_and(|v| v == "1"),
                "{test}: ATTEST_REQUIRE_CORPORA=1 but ATTEST_CORPORA_DIR is not set"
            );
            eprintln!("SKIPPED: {test}: set ATTEST_CORPORA_DIR to run");
            None
        }
    }
}

/// Rules read from the SigmaHQ rule folders with a line scanner (id, title, ATT&CK tags): real
/// ids, titles and technique claims, without depending on the Sigma importer (another crate).
pub fn sigma_rules(root: &Path) -> Vec<Rule> {
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(read) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in read.flatten() {
            let path = entry.path();
            if path.is_dir() {
                let name = entry.file_name();
                if name != "regression_data" && name != "deprecated" {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "yml") {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut rules = Vec::new();
    for path in files {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let mut id = None;
        let mut title = None;
        let mut techniques = Vec::new();
        let mut tactics = Vec::new();
        for line in text.lines() {
            if let Some(v) = line.strip_prefix("id: ") {
                id.get_or_insert_with(|| v.trim().to_string());
            } else if let Some(v) = line.strip_prefix("title: ") {
                title.get_or_insert_with(|| v.trim().to_string());
            } else if let Some(tag) = line.trim().strip_prefix("- attack.") {
                let tag = tag.trim();
                if tag.starts_with('t') && tag[1..].starts_with(|c: char| c.is_ascii_digit()) {
                    techniques.push(tag.to_uppercase());
                } else if !tag.starts_with(['g', 's']) {
                    tactics.push(tag.replace('_', "-"));
                }
            }
        }
        let (Some(id), Some(title)) = (id, title) else {
            continue;
        };
        let rel = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .display()
            .to_string();
        let mut r = Rule::new(
            id,
            title,
            Origin {
                format: RuleFormat::Sigma,
                path: rel,
                root: "sigma".into(),
            },
        );
        r.techniques = techniques;
        r.tactics = tactics;
        r.content_hash = format!("{:x}", text.len());
        rules.push(r);
    }
    rules
}
