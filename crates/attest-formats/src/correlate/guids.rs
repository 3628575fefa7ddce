//! Filling in test GUIDs that old execution logs lack.

use std::collections::HashMap;

use attest_core::test::Test;

use super::spec::Execution;

/// Fills [`Execution::test_guid`] where it is missing (the first Invoke-AtomicRedTeam CSV
/// header version has no GUID column) from the catalogue: the test of the same technique with
/// the same name (trimmed, case-insensitive). Names that match several tests of a technique are
/// left alone rather than guessed. Test numbers are not used: they shift between Atomic Red Team
/// releases. Returns how many executions were filled.
pub fn resolve_test_guids(executions: &mut [Execution], tests: &[Test]) -> usize {
    // (technique, lower-cased name) → GUID, or None when ambiguous.
    let mut by_name: HashMap<(String, String), Option<&str>> = HashMap::new();
    for test in tests {
        let name = test.name.trim().to_lowercase();
        for technique in &test.techniques {
            by_name
                .entry((technique.to_ascii_uppercase(), name.clone()))
                .and_modify(|slot| {
                    if *slot != Some(test.id.as_str()) {
                        *slot = None;
                    }
                })
                .or_insert(Some(test.id.as_str()));
        }
    }
    let mut filled = 0;
    for e in executions.iter_mut().filter(|e| e.test_guid.is_none()) {
        let Some(name) = e.test_name.as_deref() else {
            continue;
        };
        let key = (
            e.technique.trim().to_ascii_uppercase(),
            name.trim().to_lowercase(),
        );
        if let Some(Some(guid)) = by_name.get(&key) {
            e.test_guid = Some((*guid).to_string());
            filled += 1;
        }
    }
    filled
}
