//! Shared helpers for tests on the real corpora.

use std::path::PathBuf;

/// The corpora folder from `ATTEST_CORPORA_DIR`, or `None` (with a loud SKIPPED line) when unset.
/// With `ATTEST_REQUIRE_CORPORA=1`, a missing variable fails the test instead.
pub fn corpora_dir(test: &str) -> Option<PathBuf> {
    match std::env::var_os("ATTEST_CORPORA_DIR") {
        Some(dir) => Some(PathBuf::from(dir)),
        None => {
            assert!(
                std::env::var("ATTEST_REQUIRE_CORPORA").as_deref() != Ok("1"),
                "{test}: ATTEST_CORPORA_DIR is not set but ATTEST_REQUIRE_CORPORA=1"
            );
            eprintln!("SKIPPED: {test}: set ATTEST_CORPORA_DIR to run");
            None
        }
    }
}

/// Every Sigma rule file under `sigma/rules*` and `sigma/deprecated`, as sources.
#[allow(dead_code)] // not every test binary that includes this module compiles rules
pub fn sigma_sources(corpora: &std::path::Path) -> Vec<attest_sigma::SourceRule> {
    let sigma = corpora.join("sigma");
    let mut roots: Vec<PathBuf> = std::fs::read_dir(&sigma)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.is_dir()
                        && p.file_name()
                            .and_then(|n| n.to_str())
                            .is_some_and(|n| n.starts_with("rules") || n == "deprecated")
                })
                .collect()
        })
        .unwrap_or_default();
    roots.sort();
    let mut out = Vec::new();
    for root in roots {
        let mut files: Vec<PathBuf> = walkdir::WalkDir::new(&root)
            .into_iter()
            .filter_map(Result::ok)
            .map(walkdir::DirEntry::into_path)
            .filter(|p| p.extension().is_some_and(|e| e == "yml"))
            .collect();
        files.sort();
        for f in files {
            if let Ok(text) = std::fs::read_to_string(&f) {
                out.push(attest_sigma::SourceRule::new(f.display().to_string(), text));
            }
        }
    }
    out
}
