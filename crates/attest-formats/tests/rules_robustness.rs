//! Every rule and inventory importer on hostile input: YAML bombs, deep nesting, binary garbage,
//! invalid UTF-8 and a 100 MB file. Each must answer with an error naming the file, quickly,
//! and never panic or produce a record.

use std::time::{Duration, Instant};

use attest_core::rule::RuleFormat;
use attest_formats::import::dettect::DettectImporter;
use attest_formats::import::inventory::InventoryImporter;
use attest_formats::import::{MAX_INPUT_BYTES, SourceImporter, rule_importer};
use attest_formats::{Diagnostic, Input, Severity};

fn billion_laughs() -> Vec<u8> {
    let mut text = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for (name, prev) in ('b'..='i').zip('a'..='h') {
        let refs = vec![format!("*{prev}"); 9].join(",");
        text.push_str(&format!("{name}: &{name} [{refs}]\n"));
    }
    text.push_str("id: bomb\nname: bomb\nsources: *i\ndata_sources: *i\nrule_id: *i\n");
    text.into_bytes()
}

fn hostile_inputs() -> Vec<(&'static str, Vec<u8>)> {
    let depth = 100_000;
    let deep = format!("id: deep\nx: {}{}\n", "[".repeat(depth), "]".repeat(depth)).into_bytes();
    let garbage: Vec<u8> = (0..65_536u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    let mut latin1 = b"id: x\ntitle: caf".to_vec();
    latin1.extend([0xe9, b'\n']);
    let huge = vec![b'a'; 100 * 1024 * 1024];
    vec![
        ("bomb", billion_laughs()),
        ("deep", deep),
        ("garbage", garbage),
        ("latin1", latin1),
        ("huge", huge),
    ]
}

fn check(label: &str, kind: &str, records: usize, diags: &[Diagnostic], took: Duration) {
    assert_eq!(records, 0, "{label} on {kind}: no record");
    assert!(
        diags
            .iter()
            .any(|d| d.severity == Severity::Error && d.path == kind),
        "{label} on {kind}: an error naming the file, got {diags:?}"
    );
    assert!(
        took < Duration::from_secs(2),
        "{label} on {kind}: took {took:?}"
    );
}

#[test]
fn every_importer_refuses_hostile_input_with_an_error() {
    let inputs = hostile_inputs();
    assert!(inputs[4].1.len() > MAX_INPUT_BYTES);
    for format in RuleFormat::ALL {
        let Some(importer) = rule_importer(format, "root") else {
            assert_eq!(format, RuleFormat::Manual);
            continue;
        };
        for (kind, bytes) in &inputs {
            let started = Instant::now();
            let (rules, diags) = importer.import(Input { path: kind, bytes });
            check(
                format.as_str(),
                kind,
                rules.len(),
                &diags,
                started.elapsed(),
            );
        }
    }
    let sources: [(&str, &dyn SourceImporter); 2] = [
        ("inventory", &InventoryImporter),
        ("dettect", &DettectImporter),
    ];
    for (label, importer) in sources {
        for (kind, bytes) in &inputs {
            let started = Instant::now();
            let (found, diags) = importer.import(Input { path: kind, bytes });
            check(label, kind, found.len(), &diags, started.elapsed());
        }
    }
}
