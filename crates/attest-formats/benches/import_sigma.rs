//! Parsing the whole SigmaHQ corpus (`$ATTEST_CORPORA_DIR/sigma/rules*` and `deprecated/`) into
//! registry rules, on one thread and on two. Files are read once before timing: the figure is
//! the importer's, not the disk's.

use std::hint::black_box;
use std::path::Path;

use attest_formats::Input;
use attest_formats::import::import_rules;
use attest_formats::import::sigma::SigmaImporter;
use criterion::{Criterion, criterion_group, criterion_main};

fn read_tree(root: &Path, prefix: &str, out: &mut Vec<(String, Vec<u8>)>) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = format!("{prefix}/{}", entry.file_name().to_string_lossy());
        if path.is_dir() {
            read_tree(&path, &name, out);
        } else if (name.ends_with(".yml") || name.ends_with(".yaml"))
            && let Ok(bytes) = std::fs::read(&path)
        {
            out.push((name, bytes));
        }
    }
}

/// User plus system CPU time of this process so far, from `/proc/self/stat` (Linux; 0 elsewhere).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which may contain spaces) start after the last ')'.
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

fn bench(c: &mut Criterion) {
    let Some(corpora) = std::env::var_os("ATTEST_CORPORA_DIR") else {
        eprintln!("SKIPPED: set ATTEST_CORPORA_DIR to benchmark the Sigma importer");
        return;
    };
    let sigma = Path::new(&corpora).join("sigma");
    let mut files = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&sigma) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("rules") || name == "deprecated" {
                read_tree(&entry.path(), &name, &mut files);
            }
        }
    }
    let inputs: Vec<Input<'_>> = files
        .iter()
        .map(|(p, b)| Input { path: p, bytes: b })
        .collect();
    let importer = SigmaImporter::new("sigmahq");
    eprintln!("{} Sigma files", inputs.len());
    // CPU time as well as wall time: on a shared machine the wall time of one run says more
    // about the neighbours than about the importer.
    for threads in [1, 2] {
        let (cpu0, wall0) = (cpu_seconds(), std::time::Instant::now());
        let runs = 5;
        for _ in 0..runs {
            black_box(import_rules(&importer, black_box(&inputs), threads));
        }
        eprintln!(
            "{threads} thread(s): {:.3} s CPU, {:.3} s wall per corpus (mean of {runs})",
            (cpu_seconds() - cpu0) / f64::from(runs),
            wall0.elapsed().as_secs_f64() / f64::from(runs)
        );
    }
    let mut group = c.benchmark_group("import_sigma");
    group.sample_size(10);
    for threads in [1, 2] {
        group.bench_function(format!("corpus_{threads}_threads"), |b| {
            b.iter(|| black_box(import_rules(&importer, black_box(&inputs), threads)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
