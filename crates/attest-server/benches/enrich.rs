//! Benchmark: in-process SOAR enrichment on the full Enterprise ATT&CK 18.1 knowledge base,
//! answer serialized to JSON as the handler does, 10,000 calls per case:
//!
//! - `plain`: an alert with two techniques (T1003.001, T1059.001) and a platform, no runbooks;
//! - `runbooks`: the same with the demo runbook library loaded (runbooks in the answer);
//! - `profile`: the same with a three-group profile (APT29, FIN7, Wizard Spider): procedures,
//!   groups and software reordered and marked, JSON cached per (profile, technique) and snapshot.
//!
//! Reports, per case, the median over three alternating rounds of the per-call median and p99,
//! and the ratio to `plain`. Needs
//! `ATTEST_ATTACK_DIR`; prints SKIPPED otherwise. Run with
//! `ATTEST_ATTACK_DIR=/work/shared/attack cargo bench -p attest-server --bench enrich`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use attest_core::journal::Event;
use attest_core::profile::{ActorPaths, Profile, ProfileActor};
use attest_server::enrich::{EnrichRequest, enrich};
use attest_server::runbooks::RunbookLibrary;
use attest_server::{AppState, AuthMode};
use attest_store::{NewEntry, Store};
use jiff::Timestamp;

const CALLS: usize = 10_000;
const ROUNDS: usize = 3;

const RUNBOOKS: &[(&str, &str)] = &[
    (
        "credential-dumping.md",
        include_str!("../../../demo/runbooks/credential-dumping.md"),
    ),
    (
        "powershell.md",
        include_str!("../../../demo/runbooks/powershell.md"),
    ),
    (
        "command-interpreters.md",
        include_str!("../../../demo/runbooks/command-interpreters.md"),
    ),
    (
        "ransomware.md",
        include_str!("../../../demo/runbooks/ransomware.md"),
    ),
];

fn main() {
    let Some(attack) = std::env::var("ATTEST_ATTACK_DIR")
        .ok()
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
    else {
        eprintln!("SKIPPED: enrich bench: set ATTEST_ATTACK_DIR");
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run(attack));
}

/// Median and p99 of `CALLS` enrichments of `req`.
fn measure(
    app: &AppState,
    runbooks: &RunbookLibrary,
    req: &EnrichRequest,
) -> (Duration, Duration, usize) {
    let mut times = Vec::with_capacity(CALLS);
    let mut bytes = 0;
    for _ in 0..CALLS {
        let start = Instant::now();
        let snap = app.snapshot();
        let answer = enrich(app.enrich_sources(&snap, runbooks), req).expect("enrichment");
        let parts = answer.segments().expect("json");
        times.push(start.elapsed());
        bytes = parts.iter().map(|p| p.len()).sum();
    }
    times.sort();
    (times[CALLS / 2], times[CALLS * 99 / 100], bytes)
}

async fn run(attack: PathBuf) {
    let (kb, _) = attest_attack::load::from_paths(&[attack.join("enterprise-attack-18.1.json.gz")])
        .expect("the Enterprise bundle loads");
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("attest.db").display());
    let store = Store::create(&url).await.expect("store");
    let profile = Profile {
        name: "bench".into(),
        actors: ["APT29", "FIN7", "Wizard Spider"]
            .iter()
            .map(|a| ProfileActor {
                actor: (*a).into(),
                weight: 1.0,
            })
            .collect(),
        paths: ActorPaths {
            via_software: true,
            via_campaigns: false,
        },
        ..Profile::default()
    };
    store
        .append(vec![NewEntry::new(
            "bench",
            Timestamp::now(),
            Event::ProfileUpserted(profile),
        )])
        .await
        .expect("profile journaled");
    let app = AppState::new(store, kb, AuthMode::Disabled)
        .await
        .expect("server state");
    let folder = tempfile::tempdir().expect("temp dir");
    for (name, text) in RUNBOOKS {
        std::fs::write(folder.path().join(name), text).expect("runbook written");
    }
    app.load_runbooks(folder.path().to_path_buf())
        .await
        .expect("runbooks load");
    let library = app.runbooks();
    let empty = RunbookLibrary::default();

    let plain = EnrichRequest {
        techniques: vec!["T1003.001".into(), "T1059.001".into()],
        platform: Some("Windows".into()),
        ..EnrichRequest::default()
    };
    let with_profile = EnrichRequest {
        profile: Some("bench".into()),
        ..plain.clone()
    };
    // Warm every cache once, as the first alert of a snapshot would.
    let first = Instant::now();
    let snap = app.snapshot();
    let _ = enrich(app.enrich_sources(&snap, &library), &with_profile).expect("enrichment");
    let first = first.elapsed();

    println!(
        "enrichment, Enterprise 18.1, 2 techniques + platform, JSON included, {CALLS} calls per case and round, {ROUNDS} rounds:"
    );
    let cases = [
        ("plain", &empty, &plain),
        ("runbooks", &*library, &plain),
        ("profile", &empty, &with_profile),
        ("profile+runbooks", &*library, &with_profile),
    ];
    // Rounds alternate the cases, so a noisy stretch of a shared machine hits them alike.
    let mut medians: Vec<Vec<Duration>> = vec![Vec::new(); cases.len()];
    let mut p99s: Vec<Vec<Duration>> = vec![Vec::new(); cases.len()];
    let mut sizes = vec![0; cases.len()];
    for _ in 0..ROUNDS {
        for (i, (_, runbooks, req)) in cases.iter().enumerate() {
            let (median, p99, bytes) = measure(&app, runbooks, req);
            medians[i].push(median);
            p99s[i].push(p99);
            sizes[i] = bytes;
        }
    }
    let mid = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let base = mid(&mut medians[0]);
    for (i, (name, _, _)) in cases.iter().enumerate() {
        let median = mid(&mut medians[i]);
        let p99 = mid(&mut p99s[i]);
        println!(
            "  {name:<17} median {median:>10.2?}  p99 {p99:>10.2?}  {:>6} bytes  {:.2}x plain",
            sizes[i],
            median.as_secs_f64() / base.as_secs_f64()
        );
    }
    println!("  first profile answer of a snapshot (target set + reordering): {first:.2?}");
}
