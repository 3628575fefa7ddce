//! DeTT&CT data source administration files (`file_type: data-source-administration`,
//! version 1.1), so DeTT&CT users can move their inventory over.
//!
//! DeTT&CT 1.1 names data sources by ATT&CK *data component* (`Process Creation`), and lists for
//! each one or more entries scoped by `applicable_to` (system groups declared under `systems`,
//! each with its `platform`s). Every entry becomes one [`attest_core::source::DataSource`]:
//!
//! - name: the data source name, followed by the `applicable_to` systems in parentheses unless
//!   they are `all` (`Process Creation (servers, workstations)`);
//! - components: the data source name; scope: `applicable_to`; platforms: those of the matching
//!   `systems` (none when `all` applies: not restricted);
//! - products as given; state: `queryable` when `available_for_data_analytics`, else `ingested`
//!   when `date_connected` is set, else `planned`;
//! - description: the data quality scores, the dates and the comment, so nothing is lost.
//!
//! Entries left as DeTT&CT's template writes them (no dates, no products, not available, all
//! quality scores 0) declare nothing and are skipped, with one warning counting them.

mod read;
pub mod spec;
#[cfg(test)]
mod tests;

pub use read::{DettectImporter, read_dettect};
