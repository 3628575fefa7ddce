//! The SigmaHQ corpus as a journal: real rule ids, titles and ATT&CK tags (read with a line
//! scanner, not the Sigma importer) appended as one import batch, queried, re-folded.
//! Needs `ATTEST_CORPORA_DIR`; prints SKIPPED without it.

mod common;

use std::time::Instant;

use attest_core::journal::Event;
use attest_store::{NewEntry, RuleFilter};
use common::{backends, create, sigma_dir, sigma_rules, ts};

#[tokio::test]
async fn sigma_corpus_as_one_import_batch() {
    let Some(dir) = sigma_dir("sigma_corpus_as_one_import_batch") else {
        return;
    };
    let rules = sigma_rules(&dir);
    // SigmaHQ's rule folders hold about 3,800 rules with an id and a title.
    assert!(rules.len() > 3_500, "only {} rules read", rules.len());
    let with_techniques = rules.iter().filter(|r| !r.techniques.is_empty()).count();
    let credential_access = rules
        .iter()
        .filter(|r| r.tactics.iter().any(|t| t == "credential-access"))
        .count();
    let lsass = rules
        .iter()
        .filter(|r| r.techniques.iter().any(|t| t == "T1003.001"))
        .count();
    assert!(with_techniques > 3_000, "{with_techniques}");
    assert!(lsass > 20, "{lsass}");
    for db in backends("sigma_corpus_as_one_import_batch").await {
        let l = db.label;
        let store = create(&db).await;
        let at = ts("2026-03-01T00:00:00Z");
        let batch: Vec<NewEntry> = rules
            .iter()
            .map(|r| NewEntry::new("import", at, Event::RuleUpserted(r.clone())))
            .collect();
        let t = Instant::now();
        let o = store.append(batch).await.expect("append");
        let append = t.elapsed();
        // SigmaHQ ids are unique; a duplicate would be one rule, updated.
        let distinct: std::collections::BTreeSet<&str> =
            rules.iter().map(|r| r.id.0.as_str()).collect();
        assert_eq!(o.count, rules.len(), "{l}");
        let t = Instant::now();
        let state = store.state(None).await.expect("state");
        let fold = t.elapsed();
        assert_eq!(state.rules.len(), distinct.len(), "{l}");
        let listed = store.rules(&RuleFilter::default()).await.expect("rules");
        assert_eq!(listed.len(), distinct.len(), "{l}");
        let ca = RuleFilter {
            tactic: Some("credential-access".into()),
            ..RuleFilter::default()
        };
        assert_eq!(
            store.rules(&ca).await.expect("rules").len(),
            credential_access,
            "{l}"
        );
        let t1003 = RuleFilter {
            technique: Some("T1003.001".into()),
            ..RuleFilter::default()
        };
        assert_eq!(
            store.rules(&t1003).await.expect("rules").len(),
            lsass,
            "{l}"
        );
        eprintln!(
            "{l}: {} rules appended in {append:?}, state folded in {fold:?} (debug build)",
            rules.len()
        );
    }
}
