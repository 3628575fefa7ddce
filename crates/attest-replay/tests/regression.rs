//! The correctness bar on real data: each SigmaHQ rule with a recorded regression sample fires on
//! its own `.evtx` with at least its `match_count`, for at least 95 % of them.

mod common;

use attest_replay::{ReplayOptions, load_datasets, replay};
use attest_sigma::{CompileOptions, RuleSet, Severity};

#[test]
fn sigmahq_regression_samples_fire_their_rules() {
    let Some(corpora) = common::corpora_dir("sigmahq_regression_samples_fire_their_rules") else {
        return;
    };
    let sources = common::sigma_sources(&corpora);
    assert!(sources.len() > 3000, "only {} rule files found", sources.len());
    let (rules, diags) = RuleSet::compile(sources, &CompileOptions::default());
    let errors: Vec<_> = diags.iter().filter(|d| d.severity == Severity::Error).collect();
    for d in &errors {
        eprintln!("rule not compiled: {d}");
    }
    assert!(rules.len() > 3000, "only {} rules compiled", rules.len());

    let datasets = load_datasets(&corpora.join("sigma/regression_data")).unwrap_or_else(|e| panic!("{e}"));
    assert!(datasets.len() >= 100, "only {} datasets", datasets.len());
    let mut results = Vec::new();
    let summary = replay(&datasets, &rules, &ReplayOptions::default(), &mut results);

    let mut misses = Vec::new();
    for r in &results {
        assert!(r.errors.is_empty(), "{}: {:?}", r.name, r.errors);
        for e in &r.expected {
            if !e.passed {
                let why = match e.rule {
                    None => "rule not in the compiled set".to_owned(),
                    Some(_) => format!("fired {} of {} required times over {} events", e.match_count, e.min_matches, r.events),
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
