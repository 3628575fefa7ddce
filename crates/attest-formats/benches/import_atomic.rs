//! Benchmark: parse the whole Atomic Red Team catalogue (`$ATTEST_CORPORA_DIR/atomic-red-team/atomics`,
//! 341 technique files, about 4 MB of YAML) into tests.
//!
//! Run: `ATTEST_CORPORA_DIR=/work/shared/corpora cargo bench -p attest-formats --bench import_atomic`.
//! Files are read into memory first, so only parsing is measured.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use attest_formats::Input;
use attest_formats::import::atomic;

fn load() -> Option<Vec<(String, Vec<u8>)>> {
    let Some(dir) = std::env::var_os("ATTEST_CORPORA_DIR") else {
        eprintln!("SKIPPED: set ATTEST_CORPORA_DIR to run the import_atomic benchmark");
        return None;
    };
    let atomics = std::path::Path::new(&dir).join("atomic-red-team/atomics");
    let mut files = Vec::new();
    for dir in std::fs::read_dir(&atomics).ok()?.flatten() {
        for entry in std::fs::read_dir(dir.path()).ok()?.flatten() {
            let path = entry.path();
            let rel = path
                .strip_prefix(&atomics)
                .unwrap_or(&path)
                .to_string_lossy()
                .into_owned();
            if atomic::is_technique_file(&rel) {
                files.push((rel, std::fs::read(&path).ok()?));
            }
        }
    }
    files.sort();
    Some(files)
}

fn bench(c: &mut Criterion) {
    let Some(files) = load() else { return };
    let bytes: usize = files.iter().map(|(_, b)| b.len()).sum();
    let mut group = c.benchmark_group("atomic");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.sample_size(20);
    group.bench_function("read_catalogue", |b| {
        b.iter(|| atomic::read_catalogue(files.iter().map(|(p, b)| Input { path: p, bytes: b })))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
