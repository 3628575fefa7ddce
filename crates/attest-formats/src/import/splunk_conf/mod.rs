//! Splunk `savedsearches.conf` correlation searches (Enterprise Security, ESCU app packages).
//!
//! A `.conf` file is a list of `[stanza]` sections of `key = value` lines; a value continues on
//! the next line when a line ends with `\`, and stanza names may themselves contain brackets
//! (`[ESCU - Detect [x] - Rule]`: the name runs to the *last* `]`). A stanza is a correlation
//! search when it has an `action.correlationsearch.*` setting; other saved searches (reports,
//! dashboards' searches) are skipped. ATT&CK claims come from the JSON in
//! `action.correlationsearch.annotations` (`mitre_attack`). The rule is disabled when
//! `disabled` is `1`/`true` or `action.correlationsearch.enabled` is `0`/`false`. The rule id is
//! the stanza name, the content hash the SHA-256 of the stanza's text.

mod read;
pub mod spec;
#[cfg(test)]
mod tests;

pub use read::{SplunkConfImporter, Stanza, parse_conf, read_saved_searches};
