//! Inventory as code: the data source inventory as one YAML file
//! (`attest sources apply inventory.yaml`, `attest sources export`).
//!
//! ```yaml
//! version: 1
//! sources:
//!   - name: Sysmon on Windows servers         # required, unique
//!     description: Sysmon 15 with the SwiftOnSecurity config
//!     platforms: [Windows]                     # ATT&CK platforms; none = not restricted
//!     scope: [Windows servers]                 # free-form systems or segments
//!     components: [Process Creation, Module Load]   # ATT&CK data component names
//!     log_sources:                             # ATT&CK log sources, `Name` or `Name:Channel`
//!       - WinEventLog:Sysmon
//!       - WinEventLog:Security:EventCode=4688
//!     state: queryable                         # planned | ingested | normalised | queryable
//!     products: [Sysmon, Splunk]
//!     owner: SOC platform team
//!     max_silence: 24h                         # <n>s | <n>m | <n>h | <n>d | <n>w
//! ```
//!
//! Every field but `name` is optional (`state` defaults to `queryable`). Unknown fields are
//! errors (a misspelt `componets:` must not silently declare nothing), reported with their line,
//! as are bad states, bad durations and duplicate names. Health (`last_seen`) is not part of the
//! file: it is recorded by heartbeats, not declared. The file is the whole inventory; applying it
//! (adding, changing and removing sources) is the store's job. [`crate::export::inventory`]
//! writes the same format.

mod read;
pub mod spec;
#[cfg(test)]
mod tests;

pub use read::{InventoryImporter, read_inventory};
