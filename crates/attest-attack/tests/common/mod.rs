//! Shared helpers of the integration tests: where the real ATT&CK bundles are.

use std::path::PathBuf;

/// The folder with the ATT&CK bundles from `ATTEST_ATTACK_DIR`. When unset, prints a loud
/// SKIPPED line and returns `None`, unless `ATTEST_REQUIRE_CORPORA=1`, in which case it panics
/// so that CI cannot pass without the data.
pub fn attack_dir(test: &str) -> Option<PathBuf> {
    match std::env::var_os("ATTEST_ATTACK_DIR") {
        Some(d) if !d.is_empty() => Some(PathBuf::from(d)),
        _ => {
            let required = std::env::var("ATTEST_REQUIRE_CORPORA").is_ok_and(|v| v == "1");
            assert!(
                !required,
                "{test}: ATTEST_ATTACK_DIR is not set but ATTEST_REQUIRE_CORPORA=1"
            );
            // Written to the stderr handle directly: the test harness captures `eprintln!` of
            // passing tests, and a skip must be visible.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: {test}: set ATTEST_ATTACK_DIR to run"
            );
            None
        }
    }
}
