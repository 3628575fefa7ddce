//! Shared helpers of the `rules_*` integration tests: where the real corpora are, and reading a
//! folder into importer inputs (the library itself does no I/O).

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The folder named by environment variable `var`, or `None` after a loud SKIPPED line when it is
/// unset. With `ATTEST_REQUIRE_CORPORA=1` a missing variable fails the test instead.
pub fn corpus_dir(var: &str) -> Option<PathBuf> {
    match std::env::var_os(var) {
        Some(v) if !v.is_empty() => Some(PathBuf::from(v)),
        _ => {
            assert!(
                std::env::var("ATTEST_REQUIRE_CORPORA").as_deref() != Ok("1"),
                "{var} is not set but ATTEST_REQUIRE_CORPORA=1 requires the corpora"
            );
            eprintln!("SKIPPED: set {var} to run this test on the real corpora");
            None
        }
    }
}

/// Every file under `root` (recursively, sorted), as paths relative to `root` with `/`
/// separators, and their bytes.
pub fn read_tree(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .expect("under root")
                    .to_string_lossy()
                    .replace('\\', "/");
                let bytes =
                    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                out.push((rel, bytes));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The SigmaHQ rule folders of the corpus (`rules*/` and `deprecated/`), as `(path, bytes)` with
/// paths relative to the corpus's `sigma/` folder.
pub fn sigma_corpus(corpora: &Path) -> Vec<(String, Vec<u8>)> {
    let sigma = corpora.join("sigma");
    let mut out = Vec::new();
    let mut dirs: Vec<_> = std::fs::read_dir(&sigma)
        .unwrap_or_else(|e| panic!("{}: {e}", sigma.display()))
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("rules") || n == "deprecated")
        .collect();
    dirs.sort();
    for dir in dirs {
        for (rel, bytes) in read_tree(&sigma.join(&dir)) {
            out.push((format!("{dir}/{rel}"), bytes));
        }
    }
    out
}
