//! Atomic Red Team test catalogue: `atomics/Txxxx/Txxxx.yaml` → [`attest_core::test::Test`]s.
//!
//! One test per `auto_generated_guid`, lower-cased: the GUID is the stable key (test numbers and
//! technique folders change between releases). Each test keeps its technique
//! (`attack_technique`, upper-cased), name, `supported_platforms`, `executor.name` and
//! `executor.elevation_required` (absent means false). A test without a GUID cannot be
//! referenced by results, so it is left out with a warning naming its line; a GUID seen twice
//! keeps its first occurrence, with a warning.
//!
//! Only the fields above are deserialized (into the small structs of `spec.rs`). Before
//! parsing, the nested lines of keys that are not read (descriptions, commands, input
//! arguments, prerequisites — most of the bytes) are blanked, keeping line numbers; if that text
//! does not parse, the original is parsed instead, and a corpus test checks both paths give the
//! same tests on every published file. [`read_catalogue`] parses files on all cores. The whole
//! 341-file corpus costs about 70 ms of CPU (see `benches/import_atomic.rs`).
//!
//! ```
//! use attest_formats::{Input, import::atomic};
//! let yaml = r"attack_technique: t1059.001
//! atomic_tests:
//! - name: Mimikatz
//!   auto_generated_guid: F3132740-55BC-48C4-BCC0-758A459CD027
//!   supported_platforms: [windows]
//!   executor:
//!     name: command_prompt
//!     elevation_required: true
//! ";
//! let (tests, diags) = atomic::read_technique(Input { path: "T1059.001.yaml", bytes: yaml.as_bytes() });
//! assert!(diags.is_empty());
//! assert_eq!(tests[0].id, "f3132740-55bc-48c4-bcc0-758a459cd027");
//! assert_eq!(tests[0].techniques, ["T1059.001"]);
//! ```

mod read;
mod spec;
#[cfg(test)]
mod tests;

pub use read::{Catalogue, is_technique_file, read_catalogue, read_technique};
