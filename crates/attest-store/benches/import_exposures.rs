//! Benchmark: importing a 100,000-finding exposure CSV, whole — the file read, parsed
//! (attest-formats), planned against the workspace (attest-core) and journaled with its
//! projection in one transaction (here) — budget 3 s; and the unchanged re-import, which reads,
//! plans and writes nothing.
//!
//! The CSV is generated (5,000 CVEs on 20,000 assets, CVSS scores, two dates, a status) into a
//! temporary file. SQLite always; PostgreSQL with `ATTEST_TEST_POSTGRES_URL`.
//!
//! ```sh
//! cargo bench -p attest-store --bench import_exposures
//! ```

#[path = "../tests/common/mod.rs"]
mod common;

use std::fmt::Write as _;
use std::time::Instant;

use attest_core::exposure::plan_exposure_import;
use attest_formats::Input;
use attest_formats::import::exposures::{ExposureFormat, read_exposures};
use attest_store::{NewEntry, Store};
use criterion::{Criterion, criterion_group};
use tokio::runtime::Runtime;

const FINDINGS: usize = 100_000;

/// A scanner export with 100,000 distinct (asset, CVE) rows.
fn csv() -> String {
    let mut out = String::from(
        "Asset Name,CVE ID,Plugin Name,CVSS3 Base Score,First Found,Last Found,State\n",
    );
    let mut state = 7u64;
    let mut next = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        state >> 33
    };
    for i in 0..FINDINGS {
        // Row i is (asset i / 5, CVE i % 5000 shifted per asset): distinct keys by construction.
        let asset = i / 5;
        let cve = (i % 5 + asset * 5) % 5_000;
        let _ = writeln!(
            out,
            "host-{asset:05}.corp.example,CVE-2024-{cve:05},Generated finding {cve},{}.{},2026-01-0{}T00:00:00Z,2026-02-01T00:00:00Z,Active",
            next() % 10,
            next() % 10,
            1 + next() % 9
        );
    }
    out
}

/// User plus system CPU time of this process so far, from `/proc/self/stat` (Linux; 0 elsewhere).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: f64 = [11, 12]
        .iter()
        .filter_map(|i| fields.get(*i).and_then(|v| v.parse::<f64>().ok()))
        .sum();
    ticks / 100.0
}

/// Read the file, parse, plan against the projected state, append: one import, whole.
async fn import(store: &Store, path: &std::path::Path) -> (usize, usize) {
    let bytes = std::fs::read(path).expect("read the export");
    let (found, diags) = read_exposures(
        Input {
            path: "bench.csv",
            bytes: &bytes,
        },
        "bench",
        ExposureFormat::Auto,
    );
    assert!(diags.is_empty(), "{:?}", diags.first());
    let state = store.projected_state().await.expect("state");
    let n = found.len();
    let plan = plan_exposure_import(&state.exposures, "bench", found, true);
    let at = common::ts("2026-03-01T00:00:00Z");
    let batch: Vec<NewEntry> = plan
        .events
        .into_iter()
        .map(|e| NewEntry::new("bench", at, e))
        .collect();
    let written = batch.len();
    store.append(batch).await.expect("append");
    (n, written)
}

fn bench(c: &mut Criterion) {
    let rt = Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("findings.csv");
    std::fs::write(&path, csv()).expect("write the export");
    let mut labels = vec!["sqlite"];
    if std::env::var("ATTEST_TEST_POSTGRES_URL").is_ok() {
        labels.push("postgres");
    } else {
        eprintln!("SKIPPED: PostgreSQL exposure import: set ATTEST_TEST_POSTGRES_URL to run");
    }
    let mut group = c.benchmark_group("import_exposures");
    group.sample_size(10);
    for label in labels {
        let fresh = || async {
            let db = if label == "sqlite" {
                common::sqlite_db()
            } else {
                common::postgres_db("bench_exposures")
                    .await
                    .expect("postgres")
            };
            let store = common::create(&db).await;
            (db, store)
        };
        // The budget line: one fresh import and one unchanged re-import, timed once.
        rt.block_on(async {
            let (_db, store) = fresh().await;
            let (c, t) = (cpu_seconds(), Instant::now());
            let (n, written) = import(&store, &path).await;
            let (first, first_cpu) = (t.elapsed(), cpu_seconds() - c);
            let (c, t) = (cpu_seconds(), Instant::now());
            let (_, again) = import(&store, &path).await;
            // CPU time beside wall time: on a shared machine the wall time alone says little.
            // The SQLite writes also wait on fsync, which neither counts as this process's CPU.
            eprintln!(
                "{label}: {n} findings imported ({written} entries) in {:.0} ms wall, {:.0} ms CPU (budget 3000 ms); unchanged re-import {:.0} ms wall, {:.0} ms CPU ({again} entries)",
                first.as_secs_f64() * 1e3,
                first_cpu * 1e3,
                t.elapsed().as_secs_f64() * 1e3,
                (cpu_seconds() - c) * 1e3
            );
            store.close().await;
        });
        if quick() {
            continue;
        }
        group.bench_function(
            format!("{label}: 100k findings into a fresh workspace"),
            |b| {
                b.iter_custom(|iters| {
                    let mut total = std::time::Duration::ZERO;
                    for _ in 0..iters {
                        rt.block_on(async {
                            let (_db, store) = fresh().await;
                            let t = Instant::now();
                            import(&store, &path).await;
                            total += t.elapsed();
                            store.close().await;
                        });
                    }
                    total
                })
            },
        );
    }
    group.finish();
}

/// `ATTEST_BENCH_QUICK=1`: only the timed import and re-import, no criterion samples.
fn quick() -> bool {
    std::env::var_os("ATTEST_BENCH_QUICK").is_some()
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
