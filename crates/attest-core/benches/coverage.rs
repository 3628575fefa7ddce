//! Benchmark: coverage of a generated workspace over the real Enterprise ATT&CK 18.1 bundle.
//!
//! The workspace has 50,000 rules, 500 data sources and 500,000 results, generated
//! deterministically. Measured: a full computation for one profile (claims indexed and every
//! technique evaluated) — budget 200 ms — and an incremental update after one new result
//! (the result folded into the state, then `update_rule`) — budget 5 ms.
//!
//! Needs `ATTEST_ATTACK_DIR` (e.g. `/work/shared/attack`); prints SKIPPED otherwise. Run with
//! `ATTEST_ATTACK_DIR=/work/shared/attack cargo bench -p attest-core --bench coverage`.

use std::hint::black_box;
use std::path::PathBuf;

use attest_attack::TechniqueId;
use attest_core::coverage::{self, Catalog, Scope};
use attest_core::journal::{Event, JournalEntry};
use attest_core::priority::{self, PriorityOptions};
use attest_core::profile::{ActorPaths, Profile, ProfileActor};
use attest_core::result::{Evidence, Outcome, ValidationResult};
use attest_core::rule::{
    Dependency, DependencyOrigin, Origin, Rule, RuleDependency, RuleFormat, RuleId, RuleStatus,
};
use attest_core::source::DataSource;
use attest_core::state::State;
use criterion::{Criterion, criterion_group};
use jiff::{SignedDuration, Timestamp};

const RULES: usize = 50_000;
const SOURCES: usize = 500;
const RESULTS_PER_RULE: usize = 10;

/// A small deterministic generator (SplitMix64): the same workspace every run.
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

fn load_kb() -> Option<attest_attack::KnowledgeBase> {
    let Some(dir) = std::env::var_os("ATTEST_ATTACK_DIR").map(PathBuf::from) else {
        eprintln!("SKIPPED coverage benchmark: set ATTEST_ATTACK_DIR (e.g. /work/shared/attack)");
        return None;
    };
    let path = dir.join("enterprise-attack-18.1.json.gz");
    match attest_attack::load::from_path(&path) {
        Ok((kb, _)) => Some(kb),
        Err(e) => {
            eprintln!("SKIPPED coverage benchmark: {}: {e}", path.display());
            None
        }
    }
}

fn result(rule: &RuleId, technique: &str, outcome: Outcome, at: Timestamp) -> ValidationResult {
    ValidationResult {
        rule: rule.clone(),
        technique: technique.to_string(),
        test: Some("bench-test".into()),
        outcome,
        at,
        by: "bench".into(),
        evidence: Evidence::default(),
    }
}

/// The generated workspace as a folded state, with the instant it is evaluated at.
fn workspace(cat: &Catalog) -> (State, Timestamp) {
    let mut rng = Rng(42);
    let t0: Timestamp = "2026-01-01T00:00:00Z"
        .parse()
        .unwrap_or(Timestamp::UNIX_EPOCH);
    let now = t0 + SignedDuration::from_hours(24 * 150);
    let mut components: Vec<&str> = cat
        .techniques()
        .iter()
        .flat_map(|t| t.telemetry.iter().map(|n| n.component.as_str()))
        .collect();
    components.sort();
    components.dedup();
    let platforms = ["Windows", "Linux", "macOS"];
    let mut state = State::default();
    let mut seq = 0u64;
    let mut apply = |state: &mut State, at: Timestamp, event: Event| {
        seq += 1;
        state.apply(&JournalEntry::new(seq, at, "bench", event));
    };
    for i in 0..SOURCES {
        let mut s = DataSource::new(format!("source-{i:03}"));
        for _ in 0..6 {
            s.components
                .push(components[rng.below(components.len())].to_string());
        }
        if rng.below(3) > 0 {
            s.platforms
                .push(platforms[rng.below(platforms.len())].to_string());
        }
        s.max_silence = Some(SignedDuration::from_hours(24));
        // One source in twenty is silent now.
        s.last_seen = Some(if rng.below(20) == 0 {
            now - SignedDuration::from_hours(72)
        } else {
            now
        });
        apply(&mut state, t0, Event::SourceUpserted(s));
    }
    let techniques = cat.techniques();
    let mut claims: Vec<Vec<String>> = Vec::with_capacity(RULES);
    for i in 0..RULES {
        let mut r = Rule::new(
            format!("rule-{i:05}"),
            format!("Generated rule {i}"),
            Origin {
                format: RuleFormat::Sigma,
                path: format!("rules/{i}.yml"),
                root: "bench".into(),
            },
        );
        for _ in 0..=rng.below(3) {
            let t = &techniques[rng.below(techniques.len())];
            r.techniques.push(t.id.to_string());
        }
        for _ in 0..=rng.below(2) {
            r.dependencies.push(RuleDependency {
                dependency: Dependency::Component(
                    components[rng.below(components.len())].to_string(),
                ),
                origin: DependencyOrigin::Inferred,
            });
        }
        if rng.below(20) == 0 {
            r.status = RuleStatus::Disabled;
        }
        r.content_hash = format!("h{i}");
        claims.push(r.techniques.clone());
        apply(&mut state, t0, Event::RuleUpserted(r));
    }
    for (i, c) in claims.iter().enumerate() {
        let id = RuleId(format!("rule-{i:05}"));
        for _ in 0..RESULTS_PER_RULE {
            let t = &c[rng.below(c.len())];
            let outcome = match rng.below(10) {
                0 => Outcome::Fail,
                1 => Outcome::Error,
                _ => Outcome::Pass,
            };
            let at = t0 + SignedDuration::from_hours(rng.below(24 * 145) as i64 + 1);
            apply(
                &mut state,
                at,
                Event::ResultRecorded(result(&id, t, outcome, at)),
            );
        }
    }
    (state, now)
}

fn bench(c: &mut Criterion) {
    let Some(kb) = load_kb() else {
        return;
    };
    let cat = Catalog::from_kb(&kb);
    let (mut state, now) = workspace(&cat);
    let results: usize = state.results.values().map(Vec::len).sum();
    // The profile: the three groups using the most techniques, all paths, Windows.
    let mut groups: Vec<_> = cat.groups().iter().collect();
    groups.sort_by_key(|g| std::cmp::Reverse(g.uses.len()));
    let profile = Profile {
        name: "bench".into(),
        actors: groups
            .iter()
            .take(3)
            .enumerate()
            .map(|(i, g)| ProfileActor {
                actor: g.id.clone(),
                weight: 1.0 + i as f64,
            })
            .collect(),
        platforms: vec!["Windows".into()],
        paths: ActorPaths {
            via_software: true,
            via_campaigns: true,
        },
        ..Profile::default()
    };
    let target = priority::target_set(&cat, &state.actors, &profile, &PriorityOptions::default());
    let scope = Scope::profile(target);
    let cov = coverage::compute(&cat, &state, &scope, now);
    eprintln!(
        "workspace: {} rules, {} sources, {results} results; profile: {} techniques, {} rules \
         claim them; validated {}",
        state.rules.len(),
        state.sources.len(),
        cov.overall.total(),
        cov.rules.len(),
        cov.overall.count(coverage::CoverageState::Validated),
    );

    // Criterion measures wall time, which on a shared machine includes waiting for a core; the
    // thread's own CPU time tells what the computation costs.
    let cpu = cpu_time_per(5, || {
        black_box(coverage::compute(&cat, &state, &scope, now));
    });
    if let Some(ms) = cpu {
        eprintln!("CPU time per full computation, one profile: {ms:.1} ms");
    }
    let cpu = cpu_time_per(3, || {
        black_box(coverage::compute(&cat, &state, &Scope::all(), now));
    });
    if let Some(ms) = cpu {
        eprintln!("CPU time per full computation, every technique: {ms:.1} ms");
    }

    let mut group = c.benchmark_group("coverage");
    group.sample_size(20);
    group.bench_function("full computation, one profile", |b| {
        b.iter(|| black_box(coverage::compute(&cat, &state, &scope, now)))
    });
    group.bench_function("full computation, every technique", |b| {
        b.iter(|| black_box(coverage::compute(&cat, &state, &Scope::all(), now)))
    });
    group.bench_function("catalog from the knowledge base (once per load)", |b| {
        b.iter(|| black_box(Catalog::from_kb(&kb)))
    });

    // Incremental: fold one new result into the state, then re-evaluate that rule's techniques.
    let ix = coverage::index(&cat, &state, &scope);
    let mut cov = coverage::compute_indexed(&ix, &cat, &state, &scope, now);
    let claimed: Vec<(RuleId, TechniqueId)> = cov
        .rules
        .iter()
        .take(1000)
        .filter_map(|r| ix.claims_of(&r.rule).first().map(|t| (r.rule.clone(), *t)))
        .collect();
    let mut n = 0usize;
    let mut seq = state.last_seq;
    group.sample_size(100);
    group.bench_function("incremental update after one new result", |b| {
        b.iter(|| {
            let (rule, t) = &claimed[n % claimed.len()];
            n += 1;
            seq += 1;
            let r = result(rule, &t.to_string(), Outcome::Pass, now);
            state.apply(&JournalEntry::new(
                seq,
                now,
                "bench",
                Event::ResultRecorded(r),
            ));
            coverage::update_rule(&mut cov, &ix, &cat, &state, &scope, now, rule);
            black_box(cov.overall.total())
        })
    });
    let cpu = cpu_time_per(200, || {
        let (rule, t) = &claimed[n % claimed.len()];
        n += 1;
        seq += 1;
        let r = result(rule, &t.to_string(), Outcome::Pass, now);
        state.apply(&JournalEntry::new(
            seq,
            now,
            "bench",
            Event::ResultRecorded(r),
        ));
        coverage::update_rule(&mut cov, &ix, &cat, &state, &scope, now, rule);
        black_box(cov.overall.total());
    });
    if let Some(ms) = cpu {
        eprintln!("CPU time per incremental update: {ms:.2} ms");
    }
    group.finish();
}

/// This thread's CPU time in nanoseconds (Linux `/proc/thread-self/schedstat`), if readable.
fn thread_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Mean CPU milliseconds of `f` over `n` runs.
fn cpu_time_per(n: u32, mut f: impl FnMut()) -> Option<f64> {
    let start = thread_cpu_ns()?;
    for _ in 0..n {
        f();
    }
    let end = thread_cpu_ns()?;
    Some(end.saturating_sub(start) as f64 / 1e6 / f64::from(n))
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
