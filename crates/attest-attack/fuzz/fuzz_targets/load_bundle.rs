//! Fuzz target: any bytes given to the bundle loader must yield a knowledge base or an error,
//! never a panic; and every query on a loaded base must not panic either.
//!
//! Run with `cargo +nightly fuzz run load_bundle` from `crates/attest-attack`.

#![no_main]

use attest_attack::{BundleInput, GroupTechniqueOptions, KnowledgeBase};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let input = BundleInput::new("fuzz", data);
    if let Ok((kb, _warnings)) = KnowledgeBase::from_bundles(&[input]) {
        let _ = kb.counts();
        let _ = kb.search("a");
        for t in kb.techniques() {
            let _ = kb.resolve_technique(t.id);
            let _ = kb.telemetry(t.id, Some("Windows"));
            let _ = kb.subtechniques(t);
        }
        for g in kb.groups() {
            let opts = GroupTechniqueOptions { via_software: true, via_campaigns: true };
            let _ = kb.group_techniques(g, opts);
        }
    }
});
