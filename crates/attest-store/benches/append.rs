//! Micro-benchmarks of the store's hot paths: appending a SigmaHQ-sized import batch (one
//! transaction) and folding the whole journal into a state, on SQLite and (with
//! `ATTEST_TEST_POSTGRES_URL`) PostgreSQL.
//!
//! The batch is the real SigmaHQ rules when `ATTEST_CORPORA_DIR` is set, else 4,100 synthetic
//! rules of the same shape.
//!
//! ```sh
//! eval "$(.ci/postgres.sh start)"
//! ATTEST_CORPORA_DIR=/work/shared/corpora cargo bench -p attest-store --bench append
//! ```

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use attest_core::journal::Event;
use attest_store::{NewEntry, Store};
use criterion::{Criterion, criterion_group, criterion_main};
use tokio::runtime::Runtime;

fn batch() -> Vec<NewEntry> {
    let at = common::ts("2026-03-01T00:00:00Z");
    let from_corpus = std::env::var("ATTEST_CORPORA_DIR")
        .ok()
        .map(|d| common::sigma_rules(&std::path::Path::new(&d).join("sigma")))
        .filter(|rules| !rules.is_empty());
    match from_corpus {
        Some(rules) => rules
            .into_iter()
            .map(|r| NewEntry::new("import", at, Event::RuleUpserted(r)))
            .collect(),
        None => common::synthetic_batch(4_100, at),
    }
}

async fn fresh(label: &str) -> Option<(common::TestDb, Store)> {
    let db = if label == "sqlite" {
        common::sqlite_db()
    } else {
        common::postgres_db("bench").await?
    };
    let store = common::create(&db).await;
    Some((db, store))
}

fn bench(c: &mut Criterion) {
    let rt = Runtime::new().expect("runtime");
    let batch = batch();
    let n = batch.len();
    let labels: Vec<&str> = if std::env::var("ATTEST_TEST_POSTGRES_URL").is_ok() {
        vec!["sqlite", "postgres"]
    } else {
        eprintln!("SKIPPED: PostgreSQL benchmarks: set ATTEST_TEST_POSTGRES_URL to run");
        vec!["sqlite"]
    };
    let mut group = c.benchmark_group("store");
    group.sample_size(10);
    for label in labels {
        group.bench_function(format!("append_{n}_rules/{label}"), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    rt.block_on(async {
                        let Some((_db, store)) = fresh(label).await else {
                            return;
                        };
                        let input = batch.clone();
                        let t = Instant::now();
                        store.append(input).await.expect("append");
                        total += t.elapsed();
                        store.close().await;
                    });
                }
                total
            })
        });
        let loaded = rt.block_on(async {
            let (db, store) = fresh(label).await?;
            store.append(batch.clone()).await.expect("append");
            Some((db, store))
        });
        if let Some((_db, store)) = loaded {
            group.bench_function(format!("state_fold_{n}_rules/{label}"), |b| {
                b.iter(|| rt.block_on(store.state(None)).expect("state"))
            });
            group.bench_function(format!("projected_state_{n}_rules/{label}"), |b| {
                b.iter(|| rt.block_on(store.projected_state()).expect("state"))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
