//! Every validation reader returns diagnostics, never panics, on arbitrary input — random bytes
//! and mutations of the real fixtures — and every diagnostic names the input's path.

use proptest::prelude::*;

use attest_formats::import::results_jsonl::ResultsJsonlOptions;
use attest_formats::import::{alerts, atomic, attire, invoke_atomic, results_jsonl, vectr};
use attest_formats::{Diagnostic, Input};

const FIXTURES: &[&[u8]] = &[
    include_bytes!("fixtures/validation/invoke-atomic-v1.csv"),
    include_bytes!("fixtures/validation/invoke-atomic-v2-utf8bom.csv"),
    include_bytes!("fixtures/validation/invoke-atomic-v3.csv"),
    include_bytes!("fixtures/validation/invoke-atomic-v3-utf16le.csv"),
    include_bytes!("fixtures/validation/attire.json"),
    include_bytes!("fixtures/validation/alerts-splunk-notable.csv"),
    include_bytes!("fixtures/validation/alerts-kibana.ndjson"),
    include_bytes!("fixtures/validation/vectr-export.csv"),
];

/// Runs every reader on `bytes` and checks the diagnostics name the path.
fn all_readers(bytes: &[u8]) {
    let input = Input {
        path: "fuzz/input",
        bytes,
    };
    let mut diags: Vec<Diagnostic> = Vec::new();
    diags.extend(atomic::read_technique(input).1);
    diags.extend(invoke_atomic::read_execution_log(input).1);
    diags.extend(attire::read_attire(input).1);
    diags.extend(alerts::read_alerts(input).1);
    diags.extend(vectr::read_vectr(input, &vectr::VectrOptions::default()).1);
    diags.extend(results_jsonl::read_results_jsonl(input, &ResultsJsonlOptions::default()).1);
    for d in diags {
        assert_eq!(d.path, "fuzz/input");
        assert!(!d.message.is_empty());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        all_readers(&bytes);
    }

    #[test]
    fn mutated_fixtures(which in 0..FIXTURES.len(), cut in 0usize..2000, flips in proptest::collection::vec((0usize..2000, any::<u8>()), 0..8)) {
        let mut bytes = FIXTURES[which].to_vec();
        for (at, b) in flips {
            if !bytes.is_empty() {
                let i = at % bytes.len();
                bytes[i] = b;
            }
        }
        bytes.truncate(cut.min(bytes.len()));
        all_readers(&bytes);
    }
}

#[test]
fn fixtures_as_the_wrong_format_are_diagnosed_not_panicked() {
    for bytes in FIXTURES {
        all_readers(bytes);
    }
}
