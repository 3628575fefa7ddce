//! A workspace written by an older attest (schema version 1: the journal only, no projection
//! tables) upgrades itself on open: migrations run and the projections are built from the
//! journal, whose hand-written v1 payloads still decode.

mod common;

use std::path::Path;

use attest_core::rule::{RuleId, RuleStatus};
use attest_store::{RuleFilter, Store};
use common::backends;
use sqlx::Connection;
use sqlx::migrate::Migrator;

const OLD_JOURNAL: [(i64, &str, &str); 3] = [
    (
        1,
        "2025-06-01T00:00:00Z",
        r#"{"version":1,"event":{"rule_upserted":{"id":"old-1","title":"Old rule","origin":{"format":"sigma","path":"rules/a.yml","root":"sigma"},"techniques":["T1059.001"],"tactics":["execution"],"status":"enabled","content_hash":"h"}}}"#,
    ),
    (
        2,
        "2025-06-02T00:00:00Z",
        r#"{"version":1,"event":{"source_upserted":{"name":"Sysmon","components":["Process Creation"],"state":"queryable"}}}"#,
    ),
    (
        3,
        "2025-06-03T00:00:00Z",
        r#"{"version":1,"event":{"rule_status_changed":{"id":"old-1","status":"disabled"}}}"#,
    ),
];

const INSERT: &str = "INSERT INTO journal (seq, at_ms, at, who, why, kind, payload) VALUES ($1, $2, $3, 'old', NULL, 'x', $4)";

fn at_ms(at: &str) -> i64 {
    at.parse::<jiff::Timestamp>().expect("ts").as_millisecond()
}

#[tokio::test]
async fn an_old_workspace_upgrades_itself_on_open() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    for db in backends("an_old_workspace_upgrades_itself_on_open").await {
        let l = db.label;
        if l == "sqlite" {
            let url = format!("{}?mode=rwc", db.url);
            let mut c = sqlx::SqliteConnection::connect(&url)
                .await
                .expect("connect");
            let m = Migrator::new(root.join("sqlite"))
                .await
                .expect("migrations");
            m.run_to(1, &mut c).await.expect("schema v1");
            for (seq, at, payload) in OLD_JOURNAL {
                sqlx::query(INSERT)
                    .bind(seq)
                    .bind(at_ms(at))
                    .bind(at)
                    .bind(payload)
                    .execute(&mut c)
                    .await
                    .expect("old row");
            }
            c.close().await.expect("close");
        } else {
            let mut c = sqlx::PgConnection::connect(&db.url).await.expect("connect");
            let m = Migrator::new(root.join("postgres"))
                .await
                .expect("migrations");
            m.run_to(1, &mut c).await.expect("schema v1");
            for (seq, at, payload) in OLD_JOURNAL {
                sqlx::query(INSERT)
                    .bind(seq)
                    .bind(at_ms(at))
                    .bind(at)
                    .bind(payload)
                    .execute(&mut c)
                    .await
                    .expect("old row");
            }
            c.close().await.expect("close");
        }

        let store = Store::open(&db.url).await.expect("open upgrades");
        assert_eq!(store.head().await.expect("head"), 3, "{l}");
        let rules = store.rules(&RuleFilter::default()).await.expect("rules");
        assert_eq!(rules.len(), 1, "{l}: projection built from the old journal");
        assert_eq!(rules[0].rule.status, RuleStatus::Disabled, "{l}");
        let by_source = RuleFilter {
            data_source: Some("Sysmon".into()),
            ..RuleFilter::default()
        };
        // The old rule declared no dependencies: the data-source filter finds nothing, and
        // the source itself is listed.
        assert!(
            store.rules(&by_source).await.expect("rules").is_empty(),
            "{l}"
        );
        assert_eq!(store.sources().await.expect("sources").len(), 1, "{l}");
        let state = store.state(None).await.expect("state");
        assert_eq!(
            state.rules[&RuleId("old-1".into())].rule.techniques,
            ["T1059.001"]
        );
        // Opening again is a no-op (already migrated, projections current).
        store.close().await;
        let store = Store::open(&db.url).await.expect("reopen");
        assert_eq!(
            store
                .rules(&RuleFilter::default())
                .await
                .expect("rules")
                .len(),
            1
        );
    }
}
