//! The Atomic Red Team catalogue importer on the real corpus (`$ATTEST_CORPORA_DIR/atomic-red-team`).
//!
//! The expected counts were computed independently with PyYAML over the same files (every
//! `atomics/*/*.yaml`): techniques, tests, GUIDs, tests per platform and per executor.

use std::path::{Path, PathBuf};
use std::time::Instant;

use attest_formats::import::atomic;
use attest_formats::{Input, Severity};

/// The corpus folder, or `None` (with a loud SKIPPED line) when `ATTEST_CORPORA_DIR` is unset.
/// With `ATTEST_REQUIRE_CORPORA=1` a missing variable fails the test instead.
fn corpora_dir() -> Option<PathBuf> {
    match std::env::var_os("ATTEST_CORPORA_DIR") {
        Some(dir) => Some(PathBuf::from(dir)),
        None => {
            assert!(
                std::env::var("ATTEST_REQUIRE_CORPORA").as_deref() != Ok("1"),
                "ATTEST_REQUIRE_CORPORA=1 but ATTEST_CORPORA_DIR is not set"
            );
            eprintln!("SKIPPED: set ATTEST_CORPORA_DIR to run the Atomic Red Team corpus test");
            None
        }
    }
}

/// Every technique file under `atomics/`, sorted, with its bytes.
fn technique_files(atomics: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let dirs = std::fs::read_dir(atomics).unwrap_or_else(|e| panic!("{}: {e}", atomics.display()));
    for dir in dirs.flatten() {
        let Ok(entries) = std::fs::read_dir(dir.path()) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let rel = path
                .strip_prefix(atomics)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            if atomic::is_technique_file(&rel) {
                let bytes =
                    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                files.push((rel, bytes));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn whole_corpus_matches_independent_counts() {
    let Some(dir) = corpora_dir() else { return };
    let atomics = dir.join("atomic-red-team/atomics");
    let files = technique_files(&atomics);
    assert_eq!(files.len(), 341, "technique files");

    let started = Instant::now();
    let catalogue = atomic::read_catalogue(files.iter().map(|(p, b)| Input { path: p, bytes: b }));
    let elapsed = started.elapsed();
    let bytes: usize = files.iter().map(|(_, b)| b.len()).sum();
    eprintln!(
        "parsed {} technique files ({:.1} MB) into {} tests in {:.0} ms (debug build unless --release)",
        catalogue.techniques,
        bytes as f64 / 1e6,
        catalogue.tests.len(),
        elapsed.as_secs_f64() * 1e3
    );

    let errors: Vec<String> = catalogue
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(catalogue.techniques, 341);
    assert_eq!(
        catalogue.tests.len(),
        1819,
        "tests with a GUID (every test has one)"
    );
    assert_eq!(
        catalogue.diagnostics.len(),
        0,
        "{:#?}",
        catalogue.diagnostics
    );

    let techniques: std::collections::BTreeSet<&str> = catalogue
        .tests
        .iter()
        .flat_map(|t| t.techniques.iter().map(String::as_str))
        .collect();
    assert_eq!(techniques.len(), 341, "techniques with at least one test");

    let count_platform = |p: &str| {
        catalogue
            .tests
            .iter()
            .filter(|t| t.platforms.iter().any(|x| x == p))
            .count()
    };
    for (platform, n) in [
        ("windows", 1225),
        ("linux", 410),
        ("macos", 252),
        ("iaas:aws", 25),
        ("containers", 19),
        ("azure-ad", 18),
        ("iaas:azure", 15),
        ("office-365", 7),
        ("iaas:gcp", 6),
        ("google-workspace", 1),
    ] {
        assert_eq!(count_platform(platform), n, "tests on {platform}");
    }
    let count_executor = |e: &str| {
        catalogue
            .tests
            .iter()
            .filter(|t| t.executor.as_deref() == Some(e))
            .count()
    };
    for (executor, n) in [
        ("powershell", 703),
        ("command_prompt", 559),
        ("sh", 413),
        ("bash", 128),
        ("manual", 16),
    ] {
        assert_eq!(count_executor(executor), n, "tests run by {executor}");
    }
    assert_eq!(
        catalogue
            .tests
            .iter()
            .filter(|t| t.elevation_required)
            .count(),
        682
    );
    assert!(
        catalogue
            .tests
            .iter()
            .all(|t| t.id == t.id.to_ascii_lowercase() && t.id.len() == 36)
    );

    let procdump = catalogue
        .tests
        .iter()
        .find(|t| t.id == "0be2230c-9ab3-4ac2-8826-3199b9a0ebf8")
        .unwrap_or_else(|| panic!("ProcDump test missing"));
    assert_eq!(procdump.techniques, ["T1003.001"]);
    assert_eq!(procdump.name, "Dump LSASS.exe Memory using ProcDump");
    assert_eq!(procdump.platforms, ["windows"]);
    assert_eq!(procdump.executor.as_deref(), Some("command_prompt"));
    assert!(procdump.elevation_required);
}
