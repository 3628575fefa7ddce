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
