//! Loads ATT&CK bundles once and prints per-domain counts; used to measure peak RSS with
//! `/usr/bin/time -v`.
//!
//! Usage: `cargo run --release -p attest-attack --example load -- FILE...` (default: the
//! Enterprise 18.1 bundle in `ATTEST_ATTACK_DIR` or `../shared/attack`).

use std::path::PathBuf;
use std::time::Instant;

use attest_attack::{BundleInput, KnowledgeBase};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut paths: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if paths.is_empty() {
        let dir = std::env::var_os("ATTEST_ATTACK_DIR").map_or_else(
            || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/attack"),
            PathBuf::from,
        );
        paths.push(dir.join("enterprise-attack-18.1.json.gz"));
    }
    let start = Instant::now();
    let (kb, warnings) = attest_attack::load::from_paths(&paths)?;
    let elapsed = start.elapsed();
    for (d, c) in kb.domains().iter().zip(kb.counts()) {
        println!(
            "{} {} (release {}, {:?}): {} tactics, {} techniques, {} sub-techniques, {} groups, \
             {} software, {} campaigns, {} mitigations, {} data sources, {} data components, \
             {} detection strategies, {} analytics",
            d.key,
            d.name,
            d.release.as_deref().unwrap_or("?"),
            d.data_model,
            c.tactics,
            c.techniques,
            c.subtechniques,
            c.groups,
            c.software,
            c.campaigns,
            c.mitigations,
            c.data_sources,
            c.data_components,
            c.detection_strategies,
            c.analytics
        );
    }
    println!("{} relationships", kb.relationships().len());
    for (kind, n) in attest_attack::count_warnings(&warnings) {
        println!("warnings: {n} {kind}");
    }
    println!("loaded in {:.1} ms", elapsed.as_secs_f64() * 1000.0);
    if std::env::var_os("ATTEST_LOAD_PHASES").is_some() {
        phases(&paths[0])?;
    }
    Ok(())
}

/// On-CPU time of this thread in nanoseconds (Linux `schedstat`), falling back to wall time.
/// CPU time keeps the split meaningful on a machine shared with other builds.
fn cpu_now(wall: Instant) -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or_else(|| wall.elapsed().as_secs_f64(), |ns| ns / 1e9)
}

/// Splits the load time between decompression and parse + index: best of 10, CPU time.
fn phases(path: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    let origin = Instant::now();
    let bytes = attest_attack::load::read_file(path)?;
    let text = attest_attack::decode_bundle(&bytes)?.into_owned();
    let (mut gunzip, mut build, mut whole) = (f64::MAX, f64::MAX, f64::MAX);
    for _ in 0..10 {
        let t = cpu_now(origin);
        let s = attest_attack::decode_bundle(&bytes)?;
        gunzip = gunzip.min(cpu_now(origin) - t);
        drop(s);
        let t = cpu_now(origin);
        let r = KnowledgeBase::from_bundles(&[BundleInput::new("plain", text.as_bytes())])?;
        build = build.min(cpu_now(origin) - t);
        drop(r);
        let t = cpu_now(origin);
        let r = KnowledgeBase::from_bundles(&[BundleInput::new("whole", &bytes)])?;
        whole = whole.min(cpu_now(origin) - t);
        drop(r);
    }
    println!(
        "best of 10 (CPU time): decode {:.1} ms, parse + index {:.1} ms, whole {:.1} ms",
        gunzip * 1e3,
        build * 1e3,
        whole * 1e3
    );
    Ok(())
}
