//! The journal: every change is an append-only event with who, when and why.
//!
//! Current state is a projection of the journal ([`crate::state::State`]). Events carry whole
//! values (a rule as imported, a source as declared) rather than field diffs, so replaying a
//! prefix of the journal needs no earlier snapshot and old events stay readable.

use jiff::{SignedDuration, Timestamp};

use crate::exposure::{CloseReason, Exposure, ExposureKey, MappingSet};
use crate::profile::{Actor, Profile};
use crate::result::ValidationResult;
use crate::rule::{Rule, RuleId, RuleStatus, Tuning};
use crate::source::DataSource;
use crate::test::Test;

/// An ATT&CK release a workspace is built on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttackRelease {
    /// Domain, e.g. `enterprise-attack`.
    pub domain: String,
    /// Version, e.g. `18.1`.
    pub version: String,
    /// Where it was loaded from (path or URL).
    pub location: String,
}

/// The re-validation policy: how long a pass stays fresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Default freshness window of a pass.
    pub default_window: SignedDuration,
    /// Per priority tier (tier name → window), e.g. `critical` → 30 days.
    pub tier_windows: Vec<(String, SignedDuration)>,
    /// Per technique (ATT&CK ID → window); wins over tiers.
    pub technique_windows: Vec<(String, SignedDuration)>,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            default_window: SignedDuration::from_hours(24 * 90),
            tier_windows: Vec::new(),
            technique_windows: Vec::new(),
        }
    }
}

/// A change to the workspace.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The workspace now uses these ATT&CK releases (replaces the previous set).
    AttackReleasesSet(Vec<AttackRelease>),
    /// A data source was added or changed (the whole new value).
    SourceUpserted(DataSource),
    /// A data source was removed from the inventory.
    SourceRemoved {
        /// Its name.
        name: String,
    },
    /// A heartbeat: the source produced events at `at`.
    SourceSeen {
        /// Its name.
        name: String,
        /// When it was seen.
        at: Timestamp,
    },
    /// A rule was imported or its imported content changed (the whole new value; registry-owned
    /// fields such as status set by hand, owner and tuning are kept by the projection).
    RuleUpserted(Rule),
    /// A rule is gone from its source.
    RuleRetired {
        /// Its id.
        id: RuleId,
    },
    /// A rule was enabled or disabled by hand.
    RuleStatusChanged {
        /// Its id.
        id: RuleId,
        /// New status.
        status: RuleStatus,
    },
    /// A rule was assigned an owner.
    RuleOwnerAssigned {
        /// Its id.
        id: RuleId,
        /// New owner.
        owner: String,
    },
    /// A suppression or exclusion was added to a rule.
    RuleTuned {
        /// Its id.
        id: RuleId,
        /// The tuning entry.
        tuning: Tuning,
    },
    /// A test was added to the catalogue or changed.
    TestUpserted(Test),
    /// A validation result was recorded.
    ResultRecorded(ValidationResult),
    /// The re-validation policy changed.
    PolicySet(Policy),
    /// An intel actor was added or changed.
    ActorUpserted(Actor),
    /// A profile was created or changed.
    ProfileUpserted(Profile),
    /// A profile was removed.
    ProfileRemoved {
        /// Its name.
        name: String,
    },
    /// A finding was reported on an asset, new or with changed values (the whole new value).
    ExposureObserved(Exposure),
    /// An exposure closed: reported fixed, or absent from a full re-import of its feed.
    ExposureClosed {
        /// Which one.
        key: ExposureKey,
        /// Why.
        reason: CloseReason,
    },
    /// A finding → technique mapping set was loaded (replaces the set of the same name).
    ExposureMappingsLoaded(MappingSet),
    /// A scheduled job ran (on its schedule or when triggered), with its outcome. It changes no
    /// state: it is the record that the work happened, or failed and will be retried.
    JobRan(JobRun),
    /// The workspace's remap table (old technique id → new) was set; an empty table clears it.
    /// Rules' claims go through it before the knowledge base's own `revoked-by` resolution.
    RemapTableSet(attest_attack::RemapTable),
    /// An API token was issued. Its secret is never journaled; the record says who may now use
    /// the API and who issued it (the entry's author). It changes no state.
    TokenIssued {
        /// The token's name (the author of its writes).
        name: String,
        /// Its role: `viewer`, `engineer` or `admin`.
        role: String,
        /// Its public id (as `attest tokens list` shows it).
        id: String,
    },
    /// A workspace setting changed: a scheduled job's cron expression, the registered replay
    /// datasets. Kept in the workspace metadata; journaled so every write names who made it. It
    /// changes no state.
    SettingChanged {
        /// The setting's key (`jobs.<name>.schedule`, `jobs.replay.datasets`).
        key: String,
        /// Its new value (`None`: back to the default).
        value: Option<String>,
    },
    /// An API token was revoked. It changes no state.
    TokenRevoked {
        /// The token's name.
        name: String,
        /// Its public id.
        id: String,
    },
}

impl Event {
    /// A short stable name of the event kind, used in storage and listings.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::AttackReleasesSet(_) => "attack_releases_set",
            Event::SourceUpserted(_) => "source_upserted",
            Event::SourceRemoved { .. } => "source_removed",
            Event::SourceSeen { .. } => "source_seen",
            Event::RuleUpserted(_) => "rule_upserted",
            Event::RuleRetired { .. } => "rule_retired",
            Event::RuleStatusChanged { .. } => "rule_status_changed",
            Event::RuleOwnerAssigned { .. } => "rule_owner_assigned",
            Event::RuleTuned { .. } => "rule_tuned",
            Event::TestUpserted(_) => "test_upserted",
            Event::ResultRecorded(_) => "result_recorded",
            Event::PolicySet(_) => "policy_set",
            Event::ActorUpserted(_) => "actor_upserted",
            Event::ProfileUpserted(_) => "profile_upserted",
            Event::ProfileRemoved { .. } => "profile_removed",
            Event::ExposureObserved(_) => "exposure_observed",
            Event::ExposureClosed { .. } => "exposure_closed",
            Event::ExposureMappingsLoaded(_) => "exposure_mappings_loaded",
            Event::JobRan(_) => "job_ran",
            Event::RemapTableSet(_) => "remap_table_set",
            Event::TokenIssued { .. } => "token_issued",
            Event::SettingChanged { .. } => "setting_changed",
            Event::TokenRevoked { .. } => "token_revoked",
        }
    }
}

/// Why a job ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobTrigger {
    /// Its schedule came due (or a failed run was retried).
    Schedule,
    /// Someone asked for it (the journal entry's `who` says who).
    Manual,
}

impl JobTrigger {
    /// The lower-case word.
    pub fn as_str(self) -> &'static str {
        match self {
            JobTrigger::Schedule => "schedule",
            JobTrigger::Manual => "manual",
        }
    }
}

/// How a job run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    /// It did its work; `summary` says what (e.g. "3 sources silent, 2 events queued").
    Succeeded {
        /// What it did.
        summary: String,
    },
    /// It failed; it will be retried.
    Failed {
        /// The error.
        error: String,
    },
}

/// One run of a scheduled job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRun {
    /// The job's name (`replay`, `silence`, `coverage`, `digest`).
    pub job: String,
    /// Why it ran.
    pub trigger: JobTrigger,
    /// Consecutive attempt number: 1 for a first try, more for retries after failures.
    pub attempt: u32,
    /// When it started.
    pub started: Timestamp,
    /// When it finished.
    pub finished: Timestamp,
    /// How it ended.
    pub outcome: JobOutcome,
}

/// One journal entry: an event with who, when and why, and its position.
#[derive(Debug, Clone, PartialEq)]
pub struct JournalEntry {
    /// Position in the journal, strictly increasing; assigned by the store.
    pub seq: u64,
    /// When the change was made (journal time, not the time an event describes).
    pub at: Timestamp,
    /// Who made it (a user, a token name, a pipeline).
    pub who: String,
    /// Why, when given.
    pub why: Option<String>,
    /// What changed.
    pub event: Event,
}

impl JournalEntry {
    /// An entry without a reason.
    pub fn new(seq: u64, at: Timestamp, who: impl Into<String>, event: Event) -> JournalEntry {
        JournalEntry {
            seq,
            at,
            who: who.into(),
            why: None,
            event,
        }
    }
}
