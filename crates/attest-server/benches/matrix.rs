//! Benchmark: server-side rendering of the dashboard's matrix page for the full Enterprise
//! ATT&CK 18.1 knowledge base and a SigmaHQ-sized workspace (every rule of the SigmaHQ corpus,
//! a pass result for each at a spread of ages, an inventory and a three-group profile).
//!
//! Budget (issue #7): ≤ 50 ms per matrix page. Reported per query: the first render (for a
//! profile or platform this includes computing that scope's coverage, then cached per
//! snapshot) and the median of 30 further renders.
//!
//! Needs `ATTEST_ATTACK_DIR` and `ATTEST_CORPORA_DIR`; prints SKIPPED otherwise. Run with
//! `ATTEST_ATTACK_DIR=/work/shared/attack ATTEST_CORPORA_DIR=/work/shared/corpora
//! cargo bench -p attest-server --bench matrix`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use attest_core::journal::Event;
use attest_core::profile::{ActorPaths, Profile, ProfileActor};
use attest_core::result::{Evidence, Outcome, ValidationResult};
use attest_core::source::DataSource;
use attest_server::web::{WebState, render_matrix};
use attest_server::{AppState, AuthMode};
use attest_store::{NewEntry, Store};
use jiff::{SignedDuration, Timestamp};

const RUNS: usize = 30;

fn env_dir(name: &str) -> Option<PathBuf> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let (Some(attack), Some(corpora)) =
        (env_dir("ATTEST_ATTACK_DIR"), env_dir("ATTEST_CORPORA_DIR"))
    else {
        eprintln!("SKIPPED: matrix bench: set ATTEST_ATTACK_DIR and ATTEST_CORPORA_DIR");
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run(attack, corpora));
}

async fn run(attack: PathBuf, corpora: PathBuf) {
    let (kb, _) = attest_attack::load::from_paths(&[attack.join("enterprise-attack-18.1.json.gz")])
        .expect("the Enterprise bundle loads");
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("attest.db").display());
    let store = Store::create(&url).await.expect("store");
    let now = Timestamp::now();

    // Rules: the whole SigmaHQ rules folder, through the Sigma importer.
    let root = corpora.join("sigma").join("rules");
    let mut files = Vec::new();
    for e in walkdir::WalkDir::new(&root)
        .into_iter()
        .filter_map(Result::ok)
    {
        if e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "yml") {
            let rel = e
                .path()
                .strip_prefix(&root)
                .unwrap_or(e.path())
                .display()
                .to_string();
            files.push((rel, std::fs::read(e.path()).expect("read rule")));
        }
    }
    let inputs: Vec<attest_formats::Input<'_>> = files
        .iter()
        .map(|(p, b)| attest_formats::Input { path: p, bytes: b })
        .collect();
    let importer =
        attest_formats::import::rule_importer(attest_core::rule::RuleFormat::Sigma, "sigmahq")
            .expect("sigma importer");
    let (rules, _) = attest_formats::import::import_rules(importer.as_ref(), &inputs, 0);
    let n_rules = rules.len();
    let t0 = now
        .checked_sub(SignedDuration::from_hours(24 * 200))
        .unwrap_or(now);
    let mut batch: Vec<NewEntry> = Vec::new();
    let mut results = Vec::new();
    for (i, r) in rules.iter().enumerate() {
        if let Some(t) = r.techniques.first() {
            let at = now
                .checked_sub(SignedDuration::from_hours(24 * (i as i64 % 150)))
                .unwrap_or(now);
            results.push(NewEntry::new(
                "bench",
                at,
                Event::ResultRecorded(ValidationResult {
                    rule: r.id.clone(),
                    technique: t.clone(),
                    test: None,
                    outcome: if i % 11 == 0 {
                        Outcome::Fail
                    } else {
                        Outcome::Pass
                    },
                    at,
                    by: "bench".into(),
                    evidence: Evidence::default(),
                }),
            ));
        }
    }
    for e in
        attest_core::registry::plan_rule_import(&BTreeMap::new(), "sigmahq", rules, true).events
    {
        batch.push(NewEntry::new("bench", t0, e));
    }
    for (name, components, platforms) in [
        (
            "Sysmon",
            vec![
                "Process Creation",
                "Process Access",
                "File Creation",
                "Network Connection Creation",
                "Windows Registry Key Modification",
                "Module Load",
            ],
            vec!["Windows"],
        ),
        (
            "Security log",
            vec![
                "Logon Session Creation",
                "User Account Authentication",
                "Script Execution",
            ],
            vec!["Windows"],
        ),
        (
            "auditd",
            vec!["Process Creation", "Command Execution", "File Access"],
            vec!["Linux"],
        ),
    ] {
        let mut s = DataSource::new(name);
        s.components = components.into_iter().map(String::from).collect();
        s.platforms = platforms.into_iter().map(String::from).collect();
        batch.push(NewEntry::new("bench", t0, Event::SourceUpserted(s)));
        batch.push(NewEntry::new(
            "bench",
            now,
            Event::SourceSeen {
                name: name.into(),
                at: now,
            },
        ));
    }
    batch.push(NewEntry::new(
        "bench",
        t0,
        Event::ProfileUpserted(Profile {
            name: "bench".into(),
            description: None,
            actors: ["APT29", "FIN7", "Wizard Spider"]
                .iter()
                .map(|a| ProfileActor {
                    actor: (*a).into(),
                    weight: 2.0,
                })
                .collect(),
            sectors: Vec::new(),
            platforms: Vec::new(),
            extra_techniques: Vec::new(),
            exclusions: Vec::new(),
            paths: ActorPaths::default(),
            exposures: None,
        }),
    ));
    batch.extend(results);
    let n_entries = batch.len();
    store.append(batch).await.expect("append");
    let app = AppState::new(store, kb, AuthMode::Disabled)
        .await
        .expect("app state");
    let web = WebState::default();
    println!(
        "matrix bench: Enterprise ATT&CK 18.1, {n_rules} SigmaHQ rules, {n_entries} journal entries"
    );
    for query in [
        "",
        "profile=bench",
        "profile=bench&actor=G0016",
        "platform=Windows",
        "state=gap&q=process",
        "tactic=execution&source=Sysmon",
    ] {
        let start = Instant::now();
        let html = render_matrix(&app, &web, query).expect("renders");
        let first = start.elapsed();
        let mut times = Vec::with_capacity(RUNS);
        for _ in 0..RUNS {
            let start = Instant::now();
            let html = render_matrix(&app, &web, query).expect("renders");
            times.push(start.elapsed());
            std::hint::black_box(html);
        }
        println!(
            "  /?{query:<32} first {:>7.2} ms  median {:>6.2} ms  ({} KiB)",
            first.as_secs_f64() * 1e3,
            median(times).as_secs_f64() * 1e3,
            html.len() / 1024
        );
    }
}
