//! Version 1 of the stored journal payload: serde mirrors of the `attest_core` events.
//!
//! These types are the on-disk contract. Never change the meaning of a field here: add a
//! `v2` module and keep this one decoding instead. Optional fields and lists carry
//! `#[serde(default)]` so a payload that omits them (hand-written fixtures, older writers)
//! still decodes.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// A journal event as stored.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Event {
    /// See `attest_core::journal::Event::AttackReleasesSet`.
    AttackReleasesSet(Vec<AttackRelease>),
    /// See `attest_core::journal::Event::SourceUpserted`.
    SourceUpserted(DataSource),
    /// See `attest_core::journal::Event::SourceRemoved`.
    SourceRemoved {
        /// Source name.
        name: String,
    },
    /// See `attest_core::journal::Event::SourceSeen`.
    SourceSeen {
        /// Source name.
        name: String,
        /// When it was seen.
        at: Timestamp,
    },
    /// See `attest_core::journal::Event::RuleUpserted`.
    RuleUpserted(Rule),
    /// See `attest_core::journal::Event::RuleRetired`.
    RuleRetired {
        /// Rule id.
        id: String,
    },
    /// See `attest_core::journal::Event::RuleStatusChanged`.
    RuleStatusChanged {
        /// Rule id.
        id: String,
        /// New status.
        status: RuleStatus,
    },
    /// See `attest_core::journal::Event::RuleOwnerAssigned`.
    RuleOwnerAssigned {
        /// Rule id.
        id: String,
        /// New owner.
        owner: String,
    },
    /// See `attest_core::journal::Event::RuleTuned`.
    RuleTuned {
        /// Rule id.
        id: String,
        /// The tuning entry.
        tuning: Tuning,
    },
    /// See `attest_core::journal::Event::TestUpserted`.
    TestUpserted(Test),
    /// See `attest_core::journal::Event::ResultRecorded`.
    ResultRecorded(ValidationResult),
    /// See `attest_core::journal::Event::PolicySet`.
    PolicySet(Policy),
    /// See `attest_core::journal::Event::ActorUpserted`.
    ActorUpserted(Actor),
    /// See `attest_core::journal::Event::ProfileUpserted`.
    ProfileUpserted(Profile),
    /// See `attest_core::journal::Event::ProfileRemoved`.
    ProfileRemoved {
        /// Profile name.
        name: String,
    },
    /// See `attest_core::journal::Event::ExposureObserved`.
    ExposureObserved(Exposure),
    /// See `attest_core::journal::Event::ExposureClosed`.
    ExposureClosed {
        /// Asset.
        asset: String,
        /// Finding id.
        finding: String,
        /// Why.
        reason: CloseReason,
    },
    /// See `attest_core::journal::Event::ExposureMappingsLoaded`.
    ExposureMappingsLoaded(MappingSet),
    /// See `attest_core::journal::Event::JobRan`.
    JobRan(JobRun),
    /// See `attest_core::journal::Event::RemapTableSet`: `old → new` pairs, sorted by old id.
    RemapTableSet(Vec<RemapEntry>),
    /// See `attest_core::journal::Event::TokenIssued`.
    TokenIssued {
        /// Token name.
        name: String,
        /// Role.
        role: String,
        /// Public id.
        id: String,
    },
    /// See `attest_core::journal::Event::SettingChanged`.
    SettingChanged {
        /// Setting key.
        key: String,
        /// New value; absent: back to the default.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<String>,
    },
    /// See `attest_core::journal::Event::TokenRevoked`.
    TokenRevoked {
        /// Token name.
        name: String,
        /// Public id.
        id: String,
    },
}

/// One entry of a remap table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RemapEntry {
    /// The id as claimed.
    pub old: String,
    /// The id it counts for.
    pub new: String,
}

/// See `attest_core::journal::JobTrigger`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobTrigger {
    /// On its schedule (or a retry).
    Schedule,
    /// Asked for by someone.
    Manual,
}

/// See `attest_core::journal::JobOutcome`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum JobOutcome {
    /// It did its work.
    Succeeded {
        /// What it did.
        summary: String,
    },
    /// It failed.
    Failed {
        /// The error.
        error: String,
    },
}

/// See `attest_core::journal::JobRun`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobRun {
    /// Job name.
    pub job: String,
    /// Why it ran.
    pub trigger: JobTrigger,
    /// Consecutive attempt number.
    pub attempt: u32,
    /// Start.
    pub started: Timestamp,
    /// End.
    pub finished: Timestamp,
    /// Outcome.
    pub outcome: JobOutcome,
}

/// See `attest_core::journal::AttackRelease`.
#[derive(Debug, Serialize, Deserialize)]
pub struct AttackRelease {
    /// Domain.
    pub domain: String,
    /// Version.
    pub version: String,
    /// Path or URL.
    pub location: String,
}

/// See `attest_core::journal::Policy`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Policy {
    /// Default freshness window.
    pub default_window: SignedDuration,
    /// Tier name → window.
    #[serde(default)]
    pub tier_windows: Vec<(String, SignedDuration)>,
    /// Technique → window.
    #[serde(default)]
    pub technique_windows: Vec<(String, SignedDuration)>,
}

/// See `attest_core::source::PipelineState`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PipelineState {
    /// Planned.
    Planned,
    /// Ingested.
    Ingested,
    /// Normalised.
    Normalised,
    /// Queryable.
    Queryable,
}

/// See `attest_core::source::LogSourceRef`.
#[derive(Debug, Serialize, Deserialize)]
pub struct LogSourceRef {
    /// Log-source name.
    pub name: String,
    /// Channel.
    #[serde(default)]
    pub channel: Option<String>,
}

/// See `attest_core::source::DataSource`.
#[derive(Debug, Serialize, Deserialize)]
pub struct DataSource {
    /// Name.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Platforms.
    #[serde(default)]
    pub platforms: Vec<String>,
    /// Scope.
    #[serde(default)]
    pub scope: Vec<String>,
    /// Data components.
    #[serde(default)]
    pub components: Vec<String>,
    /// Log sources.
    #[serde(default)]
    pub log_sources: Vec<LogSourceRef>,
    /// Pipeline state.
    pub state: PipelineState,
    /// Products.
    #[serde(default)]
    pub products: Vec<String>,
    /// Owner.
    #[serde(default)]
    pub owner: Option<String>,
    /// Last heartbeat.
    #[serde(default)]
    pub last_seen: Option<Timestamp>,
    /// Silence bound.
    #[serde(default)]
    pub max_silence: Option<SignedDuration>,
}

/// See `attest_core::rule::RuleFormat`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleFormat {
    /// Sigma.
    Sigma,
    /// Elastic.
    Elastic,
    /// Kibana.
    Kibana,
    /// Splunk ESCU.
    Splunk,
    /// Splunk savedsearches.conf.
    SplunkConf,
    /// Sentinel.
    Sentinel,
    /// CSV.
    Csv,
    /// Manual.
    Manual,
}

/// See `attest_core::rule::Origin`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Origin {
    /// Format.
    pub format: RuleFormat,
    /// Path.
    pub path: String,
    /// Root.
    pub root: String,
}

/// See `attest_core::rule::RuleStatus`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleStatus {
    /// Enabled.
    Enabled,
    /// Disabled.
    Disabled,
    /// Retired.
    Retired,
}

/// See `attest_core::rule::Dependency`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dependency {
    /// A data component.
    Component(String),
    /// A log source.
    LogSource(LogSourceRef),
    /// An inventory source.
    Source(String),
}

/// See `attest_core::rule::DependencyOrigin`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DependencyOrigin {
    /// Declared.
    Declared,
    /// Inferred.
    Inferred,
}

/// See `attest_core::rule::RuleDependency`.
#[derive(Debug, Serialize, Deserialize)]
pub struct RuleDependency {
    /// What is needed.
    pub dependency: Dependency,
    /// Declared or inferred.
    pub origin: DependencyOrigin,
}

/// See `attest_core::rule::TuningKind`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TuningKind {
    /// Suppression.
    Suppression,
    /// Exclusion.
    Exclusion,
}

/// See `attest_core::rule::Tuning`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Tuning {
    /// Kind.
    pub kind: TuningKind,
    /// What.
    pub what: String,
    /// Why.
    pub reason: String,
    /// Who.
    pub author: String,
    /// When.
    pub at: Timestamp,
}

/// See `attest_core::rule::Rule`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Rule {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Origin.
    pub origin: Origin,
    /// Claimed techniques.
    #[serde(default)]
    pub techniques: Vec<String>,
    /// Claimed tactics.
    #[serde(default)]
    pub tactics: Vec<String>,
    /// Dependencies.
    #[serde(default)]
    pub dependencies: Vec<RuleDependency>,
    /// Status.
    pub status: RuleStatus,
    /// Severity.
    #[serde(default)]
    pub severity: Option<String>,
    /// Owner.
    #[serde(default)]
    pub owner: Option<String>,
    /// Maturity.
    #[serde(default)]
    pub maturity: Option<String>,
    /// Test ids.
    #[serde(default)]
    pub tests: Vec<String>,
    /// Created date as written.
    #[serde(default)]
    pub created: Option<String>,
    /// Modified date as written.
    #[serde(default)]
    pub modified: Option<String>,
    /// Content hash.
    #[serde(default)]
    pub content_hash: String,
    /// Tuning log.
    #[serde(default)]
    pub tuning: Vec<Tuning>,
}

/// See `attest_core::test::TestKind`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestKind {
    /// Atomic Red Team.
    Atomic,
    /// Purple team.
    PurpleTeam,
    /// Breach and attack simulation.
    Simulation,
    /// Replay dataset.
    Replay,
}

/// See `attest_core::test::Test`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Test {
    /// Id.
    pub id: String,
    /// Kind.
    pub kind: TestKind,
    /// Techniques.
    #[serde(default)]
    pub techniques: Vec<String>,
    /// Name.
    pub name: String,
    /// Platforms.
    #[serde(default)]
    pub platforms: Vec<String>,
    /// Executor.
    #[serde(default)]
    pub executor: Option<String>,
    /// Elevation.
    #[serde(default)]
    pub elevation_required: bool,
}

/// See `attest_core::result::Outcome`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Pass.
    Pass,
    /// Fail.
    Fail,
    /// Error.
    Error,
    /// Skipped.
    Skipped,
}

/// See `attest_core::result::Evidence`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Evidence {
    /// Text.
    #[serde(default)]
    pub text: Option<String>,
    /// URL.
    #[serde(default)]
    pub url: Option<String>,
    /// Event ids.
    #[serde(default)]
    pub event_ids: Vec<String>,
}

/// See `attest_core::result::ValidationResult`.
#[derive(Debug, Serialize, Deserialize)]
pub struct ValidationResult {
    /// Rule id.
    pub rule: String,
    /// Technique.
    pub technique: String,
    /// Test id.
    #[serde(default)]
    pub test: Option<String>,
    /// Outcome.
    pub outcome: Outcome,
    /// When the test ran.
    pub at: Timestamp,
    /// Who ran it.
    pub by: String,
    /// Evidence.
    #[serde(default)]
    pub evidence: Evidence,
}

/// See `attest_core::profile::ActorOrigin`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorOrigin {
    /// An ATT&CK group.
    Attack,
    /// The team's own intel.
    Intel(String),
}

/// See `attest_core::profile::ActorTechnique`.
#[derive(Debug, Serialize, Deserialize)]
pub struct ActorTechnique {
    /// Technique.
    pub technique: String,
    /// Weight.
    pub weight: f64,
    /// Low confidence.
    #[serde(default)]
    pub low_confidence: bool,
}

/// See `attest_core::profile::Actor`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Actor {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Aliases.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Origin.
    pub origin: ActorOrigin,
    /// Techniques.
    #[serde(default)]
    pub techniques: Vec<ActorTechnique>,
}

/// See `attest_core::profile::ProfileActor`.
#[derive(Debug, Serialize, Deserialize)]
pub struct ProfileActor {
    /// Actor.
    pub actor: String,
    /// Weight.
    pub weight: f64,
}

/// See `attest_core::profile::ActorPaths`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ActorPaths {
    /// Via software.
    #[serde(default)]
    pub via_software: bool,
    /// Via campaigns.
    #[serde(default)]
    pub via_campaigns: bool,
}

/// See `attest_core::profile::Profile`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Profile {
    /// Name.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Actors.
    #[serde(default)]
    pub actors: Vec<ProfileActor>,
    /// Sectors.
    #[serde(default)]
    pub sectors: Vec<String>,
    /// Platforms.
    #[serde(default)]
    pub platforms: Vec<String>,
    /// Hand-picked techniques.
    #[serde(default)]
    pub extra_techniques: Vec<(String, f64)>,
    /// Exclusions.
    #[serde(default)]
    pub exclusions: Vec<String>,
    /// Paths.
    #[serde(default)]
    pub paths: ActorPaths,
    /// Exposure weight (absent: exposures not included). Added after the first release of
    /// v1: left out when unset so older profiles encode byte for byte as before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposures: Option<f64>,
}

/// See `attest_core::exposure::Severity`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// CVSS base score.
    Cvss(f64),
    /// Label.
    Label(SeverityLabel),
}

/// See `attest_core::exposure::SeverityLabel`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeverityLabel {
    /// None.
    None,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

/// See `attest_core::exposure::ExposureStatus`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExposureStatus {
    /// Open.
    Open,
    /// Fixed.
    Fixed,
    /// Accepted.
    Accepted,
}

/// See `attest_core::exposure::CloseReason`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    /// Reported fixed.
    Fixed,
    /// Absent from a full re-import.
    Absent,
}

/// See `attest_core::exposure::Exposure`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Exposure {
    /// Asset.
    pub asset: String,
    /// Finding id.
    pub finding: String,
    /// Title.
    #[serde(default)]
    pub title: String,
    /// Severity.
    pub severity: Severity,
    /// First seen by the scanner.
    #[serde(default)]
    pub first_seen: Option<Timestamp>,
    /// Last seen by the scanner.
    #[serde(default)]
    pub last_seen: Option<Timestamp>,
    /// Status.
    pub status: ExposureStatus,
    /// Techniques given by the scanner.
    #[serde(default)]
    pub techniques: Vec<String>,
    /// Feed.
    #[serde(default)]
    pub feed: String,
}

/// See `attest_core::exposure::MappingKind`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MappingKind {
    /// CVE ids.
    Cve,
    /// Misconfiguration ids.
    Misconfiguration,
}

/// See `attest_core::exposure::FindingMapping`.
#[derive(Debug, Serialize, Deserialize)]
pub struct FindingMapping {
    /// Finding id.
    pub finding: String,
    /// Technique as written.
    pub technique: String,
    /// Mapping type as CTID writes it (`exploitation_technique`, …).
    pub mapping_type: String,
}

/// See `attest_core::exposure::MappingSet`.
#[derive(Debug, Serialize, Deserialize)]
pub struct MappingSet {
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: MappingKind,
    /// ATT&CK version.
    #[serde(default)]
    pub attack_version: Option<String>,
    /// Remap pairs.
    #[serde(default)]
    pub remap: Vec<(String, String)>,
    /// Rows.
    #[serde(default)]
    pub mappings: Vec<FindingMapping>,
}
