//! DeTT&CT group administration YAML (`file_type: group-administration`, version 1.0) → intel
//! actors.
//!
//! ```yaml
//! version: 1.0
//! file_type: group-administration
//! platform: Windows               # a string or a list; informational
//! groups:
//!   - group_name: Red team
//!     campaign: Scenario 1        # optional
//!     technique_id: [T1086, T1053]          # list form: weight 1 each
//!     software_id: [S0002]
//!     enabled: True
//!   - group_name: Threat report - overall
//!     technique_id:               # weighted form: technique → score
//!       T1086: 1774
//!       T1064: 794
//!     enabled: True
//! ```
//!
//! Each group becomes an [`Actor`](attest_core::profile::Actor) with
//! [`ActorOrigin::Intel`](attest_core::profile::ActorOrigin::Intel). Its id is the slug of
//! `group_name` (plus `--` and the campaign's slug when there is a campaign), its name the
//! `group_name` (with the campaign in parentheses). Weights are the scores as written (not
//! normalised: the priority engine compares weights within a profile). Groups with
//! `enabled: False` are skipped unless [`DettectGroupsOptions::include_disabled`] is set, as
//! DeTT&CT itself ignores them. `software_id` is kept out: ATT&CK software techniques come from
//! the knowledge base (profile `paths.via_software`).

mod read;
mod spec;
#[cfg(test)]
mod tests;

pub use read::read_dettect_groups;
pub use spec::DettectGroupsOptions;
