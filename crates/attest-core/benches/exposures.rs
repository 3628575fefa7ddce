//! Benchmark: effective priorities of 100,000 findings over the real Enterprise ATT&CK 18.1
//! bundle — budget 200 ms for a recompute.
//!
//! Generated deterministically: 100,000 open findings (5,000 CVEs on 20,000 assets) and a CVE
//! mapping of 1–3 techniques per CVE. Measured: a recompute after coverage changed (mapping
//! index built, every finding's techniques looked up and its effective priority derived with
//! reasons, then sorted) and the exposure → coverage need of profiles. The coverage answer
//! itself is the coverage benchmark's.
//!
//! Needs `ATTEST_ATTACK_DIR` (e.g. `/work/shared/attack`); prints SKIPPED otherwise. Run with
//! `ATTEST_ATTACK_DIR=/work/shared/attack cargo bench -p attest-core --bench exposures`.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use attest_core::coverage::{self, Catalog, Scope};
use attest_core::exposure::{
    self, EffectiveOptions, Exposure, ExposureStatus, FindingMapping, MappingIndex, MappingKind,
    MappingSet, MappingType, Severity,
};
use attest_core::state::{ExposureRecord, State};
use criterion::{Criterion, criterion_group};
use jiff::Timestamp;

const FINDINGS: usize = 100_000;
const CVES: usize = 5_000;
const ASSETS: usize = 20_000;

/// SplitMix64: the same data every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % (n.max(1) as u64)) as usize
    }
}

fn load_catalog() -> Option<Catalog> {
    let Some(dir) = std::env::var_os("ATTEST_ATTACK_DIR").map(PathBuf::from) else {
        eprintln!("SKIPPED exposures benchmark: set ATTEST_ATTACK_DIR (e.g. /work/shared/attack)");
        return None;
    };
    let path = dir.join("enterprise-attack-18.1.json.gz");
    match attest_attack::load::from_path(&path) {
        Ok((kb, _)) => Some(Catalog::from_kb(&kb)),
        Err(e) => {
            eprintln!("SKIPPED exposures benchmark: {}: {e}", path.display());
            None
        }
    }
}

fn generate(
    cat: &Catalog,
) -> (
    BTreeMap<attest_core::exposure::ExposureKey, ExposureRecord>,
    MappingSet,
) {
    let mut rng = Rng(7);
    let at: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap_or_default();
    let ids: Vec<String> = cat.techniques().iter().map(|t| t.id.to_string()).collect();
    let mut mappings = Vec::new();
    for c in 0..CVES {
        for k in 0..=rng.below(3) {
            mappings.push(FindingMapping {
                finding: format!("CVE-2024-{c:05}"),
                technique: ids[rng.below(ids.len())].clone(),
                mapping_type: if k == 0 {
                    MappingType::ExploitationTechnique
                } else {
                    MappingType::PrimaryImpact
                },
            });
        }
    }
    let set = MappingSet {
        name: "bench".into(),
        kind: MappingKind::Cve,
        attack_version: Some("16.1".into()),
        remap: Vec::new(),
        mappings,
    };
    let mut exposures = BTreeMap::new();
    while exposures.len() < FINDINGS {
        let e = Exposure {
            asset: format!("host-{:05}", rng.below(ASSETS)),
            finding: format!("CVE-2024-{:05}", rng.below(CVES)),
            title: "generated".into(),
            severity: Severity::Cvss((rng.below(100) as f64) / 10.0),
            first_seen: Some(at),
            last_seen: Some(at),
            status: ExposureStatus::Open,
            techniques: Vec::new(),
            feed: "bench".into(),
        };
        exposures.insert(
            e.key(),
            ExposureRecord {
                exposure: e,
                observed_at: at,
                changed_at: at,
                closed_at: None,
            },
        );
    }
    (exposures, set)
}

fn bench(c: &mut Criterion) {
    let Some(cat) = load_catalog() else { return };
    let (exposures, set) = generate(&cat);
    let at: Timestamp = "2026-02-01T00:00:00Z".parse().unwrap_or_default();
    let cov = coverage::compute(&cat, &State::default(), &Scope::all(), at);
    let states = exposure::states_of(&cov);
    let recompute = || {
        let index = MappingIndex::new([&set], &cat, &Default::default());
        exposure::effective_priorities(
            exposures.values(),
            &index,
            &cat,
            &states,
            &EffectiveOptions::default(),
        )
    };
    // One timed run outside criterion, for the budget line in the report.
    let t = Instant::now();
    let n = recompute().len();
    eprintln!(
        "{n} findings, {} mappings: one recompute {:.1} ms (budget 200 ms)",
        set.mappings.len(),
        t.elapsed().as_secs_f64() * 1e3
    );
    let mut group = c.benchmark_group("exposures");
    group.sample_size(10);
    group.bench_function("effective priorities, 100k findings", |b| {
        b.iter(|| black_box(recompute()))
    });
    let index = MappingIndex::new([&set], &cat, &Default::default());
    group.bench_function("exposure needs, 100k findings", |b| {
        b.iter(|| black_box(exposure::exposure_needs(exposures.values(), &index, &cat)))
    });
    group.finish();
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
