//! The correctness bar on real data: each SigmaHQ rule with a recorded regression sample fires on
//! its own `.evtx` with at least its `match_count`, for at least 95 % of them.

mod common;

use std::path::Path;
use std::sync::OnceLock;

use attest_replay::{ReplayOptions, load_datasets, read_events, replay};
use attest_sigma::{CompileOptions, RuleSet, Severity};

/// The whole SigmaHQ corpus, compiled once for all tests of this file.
fn corpus_rules(corpora: &Path) -> &'static RuleSet {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    RULES.get_or_init(|| {
        let sources = common::sigma_sources(corpora);
        assert!(
            sources.len() > 3000,
            "only {} rule files found",
            sources.len()
        );
        let (rules, diags) = RuleSet::compile(sources, &CompileOptions::default());
        for d in diags.iter().filter(|d| d.severity == Severity::Error) {
            eprintln!("rule not compiled: {d}");
        }
        // One deprecated rule uses the retired `| count() by` aggregation syntax.
        assert!(
            rules.stats().skipped <= 5,
            "{} rules skipped",
            rules.stats().skipped
        );
        assert!(rules.len() > 3000, "only {} rules compiled", rules.len());
        rules
    })
}

/// The sorted rule indexes matched by the pre-filtered and by the exhaustive evaluation.
fn both_ways(rules: &RuleSet, event: &attest_sigma::Event) -> (Vec<usize>, Vec<usize>) {
    let mut fast: Vec<_> = rules.evaluate(event).into_iter().map(|m| m.rule).collect();
    let mut slow: Vec<_> = rules
        .evaluate_exhaustive(event)
        .into_iter()
        .map(|m| m.rule)
        .collect();
    fast.sort_unstable();
    slow.sort_unstable();
    (fast, slow)
}

/// Variations of a recorded event that move literals around: every text value uppercased, and
/// every text value with a suffix (so `endswith` and exact matches must fail where they did).
fn variations(event: &attest_sigma::Event) -> Vec<attest_sigma::Event> {
    let remap = |f: &dyn Fn(&str) -> String| {
        let fields = event
            .fields()
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    serde_json::Value::String(s) if k != "Channel" => {
                        serde_json::Value::String(f(s))
                    }
                    other => other.clone(),
                };
                (k.clone(), v)
            })
            .collect();
        attest_sigma::Event::new(fields).with_timestamp(event.timestamp())
    };
    vec![remap(&|s| s.to_uppercase()), remap(&|s| format!("{s} --x"))]
}

#[test]
fn literal_prefilter_never_drops_a_match() {
    let Some(corpora) = common::corpora_dir("literal_prefilter_never_drops_a_match") else {
        return;
    };
    let rules = corpus_rules(&corpora);
    let mut events = 0;
    let mut matches = 0;
    for entry in walkdir::WalkDir::new(corpora.join("sigma/regression_data"))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "evtx"))
    {
        let result = read_events(entry.path(), &mut |e| {
            let (fast, slow) = both_ways(rules, &e.normalized.event);
            assert_eq!(
                fast,
                slow,
                "{} record {:?}",
                entry.path().display(),
                e.normalized.record_id
            );
            events += 1;
            matches += fast.len();
            for (i, varied) in variations(&e.normalized.event).iter().enumerate() {
                let (fast, slow) = both_ways(rules, varied);
                assert_eq!(
                    fast,
                    slow,
                    "{} record {:?}, variation {i}",
                    entry.path().display(),
                    e.normalized.record_id
                );
            }
        });
        assert!(result.is_ok(), "{result:?}");
    }
    assert!(events >= 100, "{events} events");
    assert!(matches >= events, "{matches} matches over {events} events");
}

#[test]
fn sigmahq_regression_samples_fire_their_rules() {
    let Some(corpora) = common::corpora_dir("sigmahq_regression_samples_fire_their_rules") else {
        return;
    };
    let rules = corpus_rules(&corpora);

    let datasets =
        load_datasets(&corpora.join("sigma/regression_data")).unwrap_or_else(|e| panic!("{e}"));
    assert!(datasets.len() >= 100, "only {} datasets", datasets.len());
    let mut results = Vec::new();
    let summary = replay(&datasets, rules, &ReplayOptions::default(), &mut results);

    let mut misses = Vec::new();
    for r in &results {
        assert!(r.errors.is_empty(), "{}: {:?}", r.name, r.errors);
        for e in &r.expected {
            if !e.passed {
                let why = match e.rule {
                    None => "rule not in the compiled set".to_owned(),
                    Some(_) => format!(
                        "fired {} of {} required times over {} events",
                        e.match_count, e.min_matches, r.events
                    ),
                };
                misses.push(format!("{} ({}): {why}", e.rule_ref, r.name));
            }
        }
    }
    for m in &misses {
        eprintln!("MISS {m}");
    }
    eprintln!(
        "regression: {}/{} expected rules passed over {} datasets, {} events",
        summary.expected_passed, summary.expected_total, summary.datasets, summary.events
    );
    assert!(summary.expected_total >= 100);
    assert!(
        summary.expected_passed * 100 >= summary.expected_total * 95,
        "{}/{} passed",
        summary.expected_passed,
        summary.expected_total
    );
}
