//! SIEM lookup table (CSV): rule id → techniques, tactics, data sources, validation status,
//! last tested.
//!
//! Loaded into the SIEM (a Splunk lookup, a Sentinel watchlist, an Elastic enrich index), it lets
//! an analyst see next to each alert what the rule covers and whether that coverage is proven.
//! Columns, in this order:
//!
//! | column | content |
//! | --- | --- |
//! | `rule_id` | the rule's stable id |
//! | `rule_name` | its title |
//! | `techniques` | ATT&CK technique ids, `;`-separated |
//! | `tactics` | tactic short names, `;`-separated |
//! | `data_sources` | data sources / log sources the rule needs, `;`-separated |
//! | `validation_status` | `passing`, `failing`, `stale`, `invalidated` or `untested` |
//! | `last_tested` | RFC 3339 UTC time of the last conclusive result, empty if never |
//!
//! One row per rule in the order given; the header is always written. Fields are quoted only
//! when needed (RFC 4180). A `;` inside a list item is replaced by `,` so the list stays
//! splittable.

mod spec;
#[cfg(test)]
mod tests;
mod write;

pub use spec::{LOOKUP_COLUMNS, LookupRow, LookupStatus};
pub use write::lookup_csv;

/// The rows of the lookup table at `now`: every rule that is not retired, with the worst
/// validation among its claimed techniques (failing, invalidated, stale, untested, passing)
/// and its last conclusive test. `attest coverage lookup` and `GET /api/v1/coverage/lookup`
/// both write these rows.
pub fn lookup_rows(
    catalog: &attest_core::coverage::Catalog,
    state: &attest_core::state::State,
    now: jiff::Timestamp,
) -> Vec<LookupRow> {
    use attest_core::validation::ValidationKind;
    let validations = attest_core::coverage::rule_validations(catalog, state, now);
    let mut rows = Vec::new();
    for rec in state.rules.values() {
        let r = &rec.rule;
        if r.status == attest_core::rule::RuleStatus::Retired {
            continue;
        }
        let mine: Vec<_> = validations
            .iter()
            .filter(|(id, _, _)| id == &r.id)
            .collect();
        let worst = mine
            .iter()
            .map(|(_, _, v)| v.status.kind())
            .max_by_key(|k| match k {
                ValidationKind::Failing => 4,
                ValidationKind::Invalidated => 3,
                ValidationKind::Stale => 2,
                ValidationKind::Untested => 1,
                ValidationKind::Passing => 0,
            });
        let status = match worst {
            Some(ValidationKind::Passing) => LookupStatus::Passing,
            Some(ValidationKind::Failing) => LookupStatus::Failing,
            Some(ValidationKind::Stale) => LookupStatus::Stale,
            Some(ValidationKind::Invalidated) => LookupStatus::Invalidated,
            _ => LookupStatus::Untested,
        };
        let last_tested = mine
            .iter()
            .filter_map(|(_, _, v)| v.latest.as_ref().map(|l| l.at))
            .max();
        rows.push(LookupRow {
            rule_id: r.id.0.clone(),
            rule_name: r.title.clone(),
            techniques: r.techniques.clone(),
            tactics: r.tactics.clone(),
            data_sources: r
                .dependencies
                .iter()
                .map(|d| d.dependency.to_string())
                .collect(),
            status,
            last_tested,
        });
    }
    rows
}
