//! Benchmark: load `enterprise-attack-18.1.json.gz` and build every index.
//!
//! The bundle is found in `ATTEST_ATTACK_DIR`, defaulting to `../shared/attack` relative to the
//! workspace root. Run with `cargo bench -p attest-attack --bench load`.

use std::path::PathBuf;

use attest_attack::{BundleInput, KnowledgeBase};
use criterion::{Criterion, criterion_group, criterion_main};

fn bundle_path() -> PathBuf {
    let dir = std::env::var_os("ATTEST_ATTACK_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/attack"),
        PathBuf::from,
    );
    dir.join("enterprise-attack-18.1.json.gz")
}

fn load(c: &mut Criterion) {
    let path = bundle_path();
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!(
                "SKIPPED: cannot read {}: {e}; set ATTEST_ATTACK_DIR",
                path.display()
            );
            return;
        }
    };
    let mut group = c.benchmark_group("attack");
    group.sample_size(20);
    group.bench_function("load enterprise-attack-18.1.json.gz", |b| {
        b.iter(|| {
            let input = BundleInput {
                name: "enterprise-attack-18.1.json.gz",
                bytes: &bytes,
                release: Some("18.1"),
            };
            match KnowledgeBase::from_bundles(&[input]) {
                Ok((kb, w)) => (kb.techniques().len(), w.len()),
                Err(e) => panic!("load failed: {e}"),
            }
        });
    });
    group.bench_function("gunzip only", |b| {
        b.iter(|| attest_attack::decode_bundle(&bytes).map(|s| s.len()).ok());
    });
    group.finish();
}

criterion_group!(benches, load);
criterion_main!(benches);
