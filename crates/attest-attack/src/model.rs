//! The owned, typed ATT&CK model: one struct per STIX object type attest uses.

use crate::TechniqueId;

/// Fields every ATT&CK object shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    /// STIX id, e.g. `attack-pattern--0042a9f5-…`.
    pub stix_id: String,
    /// ATT&CK id (`T1003`, `G0016`, `S0002`, `DC0001`, `DET0001`, `AN0001`, `TA0001`, …), when the
    /// object has one (v17 data components have none).
    pub attack_id: Option<String>,
    /// Display name.
    pub name: String,
    /// Description (Markdown with ATT&CK citations), empty when absent.
    pub description: String,
    /// The ATT&CK web page of the object, when given.
    pub url: Option<String>,
    /// `revoked: true`: replaced by another object (see `revoked-by`).
    pub revoked: bool,
    /// `x_mitre_deprecated: true`: withdrawn without a replacement.
    pub deprecated: bool,
    /// Domains the object belongs to (`enterprise-attack`, `ics-attack`, `mobile-attack`).
    pub domains: Vec<String>,
    /// The object's own `x_mitre_version` (not the ATT&CK release).
    pub version: Option<String>,
    /// STIX `modified` timestamp as written in the bundle.
    pub modified: Option<String>,
}

impl Meta {
    /// Neither revoked nor deprecated.
    pub fn is_active(&self) -> bool {
        !self.revoked && !self.deprecated
    }

    /// Whether the object belongs to the domain with this key.
    pub fn in_domain(&self, key: &str) -> bool {
        self.domains.iter().any(|d| d == key)
    }
}

/// How a domain links techniques to telemetry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataModel {
    /// ATT&CK v18+: technique ← `detects` ← detection strategy → analytics → log-source references.
    DetectionStrategies,
    /// ATT&CK v17 and earlier: data component → `detects` → technique.
    DataComponentDetects,
    /// The domain has neither (nothing detects anything).
    None,
}

/// One ATT&CK domain (matrix) as loaded from one bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    /// Domain key, e.g. `enterprise-attack`.
    pub key: String,
    /// Display name, e.g. `Enterprise ATT&CK`.
    pub name: String,
    /// The ATT&CK release (`18.1`), from the bundle's `x-mitre-collection`, or the caller's hint
    /// (e.g. the file name), `None` when neither says.
    pub release: Option<String>,
    /// The highest `x_mitre_attack_spec_version` seen in the bundle.
    pub attack_spec_version: Option<String>,
    /// The STIX spec version of the bundle (`2.0` or `2.1`) when stated.
    pub stix_version: Option<String>,
    /// The input name it was loaded from.
    pub bundle: String,
    /// How this domain relates techniques to telemetry.
    pub data_model: DataModel,
    /// Tactic STIX ids in matrix order.
    pub tactic_order: Vec<String>,
}

/// A tactic (`x-mitre-tactic`), e.g. TA0006 Credential Access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tactic {
    /// Shared fields.
    pub meta: Meta,
    /// Short name used in kill-chain phases, e.g. `credential-access`.
    pub shortname: String,
}

/// A technique or sub-technique (`attack-pattern`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Technique {
    /// Shared fields; `meta.attack_id` is the canonical string of `id`.
    pub meta: Meta,
    /// The T-number.
    pub id: TechniqueId,
    /// Tactic short names from `kill_chain_phases`, in the order of the domain's matrix.
    pub tactics: Vec<String>,
    /// Platforms (`Windows`, `Linux`, …) as written in the bundle.
    pub platforms: Vec<String>,
    /// Whether this is a sub-technique.
    pub is_subtechnique: bool,
}

impl Technique {
    /// The parent technique id of a sub-technique.
    pub fn parent_id(&self) -> Option<TechniqueId> {
        self.id.parent()
    }

    /// Whether the technique lists `platform` (case-insensitive).
    pub fn has_platform(&self, platform: &str) -> bool {
        self.platforms
            .iter()
            .any(|p| p.eq_ignore_ascii_case(platform))
    }
}

/// A threat group (`intrusion-set`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Shared fields.
    pub meta: Meta,
    /// Aliases (the first is usually the name itself).
    pub aliases: Vec<String>,
}

/// Malware or tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SoftwareKind {
    /// `malware`.
    Malware,
    /// `tool`.
    Tool,
}

/// A piece of software (`malware` or `tool`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Software {
    /// Shared fields.
    pub meta: Meta,
    /// Malware or tool.
    pub kind: SoftwareKind,
    /// Aliases (`x_mitre_aliases`).
    pub aliases: Vec<String>,
    /// Platforms.
    pub platforms: Vec<String>,
}

/// A campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    /// Shared fields.
    pub meta: Meta,
    /// Aliases.
    pub aliases: Vec<String>,
}

/// A mitigation (`course-of-action`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mitigation {
    /// Shared fields. Deprecated mitigations from before 2020 carry T-numbers as their ATT&CK id.
    pub meta: Meta,
}

/// A data source (`x-mitre-data-source`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataSource {
    /// Shared fields.
    pub meta: Meta,
    /// Platforms.
    pub platforms: Vec<String>,
}

/// A log source: a log name and a channel within it (`WinEventLog:Security` / `EventCode=4688`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LogSource {
    /// Log-source name, e.g. `WinEventLog:Security`, `auditd:SYSCALL`.
    pub name: String,
    /// Channel or event within it, e.g. `EventCode=4688`; free text in places.
    pub channel: Option<String>,
}

/// A data component (`x-mitre-data-component`), e.g. Process Creation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataComponent {
    /// Shared fields. v17 data components have no ATT&CK id.
    pub meta: Meta,
    /// STIX id of the parent data source, when set (v18 mostly leaves it empty).
    pub data_source: Option<String>,
    /// The log sources the component is observed in (`x_mitre_log_sources`, v18+).
    pub log_sources: Vec<LogSource>,
}

/// A detection strategy (`x-mitre-detection-strategy`, v18+).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetectionStrategy {
    /// Shared fields (`DET0001`, …).
    pub meta: Meta,
    /// STIX ids of its analytics, in bundle order.
    pub analytic_refs: Vec<String>,
}

/// One log-source reference of an analytic: which data component, seen in which log and channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSourceReference {
    /// STIX id of the data component.
    pub data_component: String,
    /// Log-source name.
    pub name: String,
    /// Channel, when given.
    pub channel: Option<String>,
}

/// An analytic (`x-mitre-analytic`, v18+): how to detect a technique on specific platforms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analytic {
    /// Shared fields (`AN0001`, …).
    pub meta: Meta,
    /// The analytic's own platforms: its telemetry applies to these only.
    pub platforms: Vec<String>,
    /// Log-source references.
    pub log_source_references: Vec<LogSourceReference>,
}

impl Analytic {
    /// Whether the analytic applies to `platform` (case-insensitive).
    pub fn has_platform(&self, platform: &str) -> bool {
        self.platforms
            .iter()
            .any(|p| p.eq_ignore_ascii_case(platform))
    }
}

/// The relationship types attest models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RelationshipKind {
    /// Group, software or campaign → technique or software.
    Uses,
    /// Mitigation → technique.
    Mitigates,
    /// Detection strategy (v18) or data component (v17) → technique.
    Detects,
    /// Sub-technique → technique.
    SubtechniqueOf,
    /// Old object → its replacement.
    RevokedBy,
    /// Campaign → group.
    AttributedTo,
}

impl RelationshipKind {
    /// Parses the STIX `relationship_type`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "uses" => Self::Uses,
            "mitigates" => Self::Mitigates,
            "detects" => Self::Detects,
            "subtechnique-of" => Self::SubtechniqueOf,
            "revoked-by" => Self::RevokedBy,
            "attributed-to" => Self::AttributedTo,
            _ => return None,
        })
    }

    /// The STIX `relationship_type`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Uses => "uses",
            Self::Mitigates => "mitigates",
            Self::Detects => "detects",
            Self::SubtechniqueOf => "subtechnique-of",
            Self::RevokedBy => "revoked-by",
            Self::AttributedTo => "attributed-to",
        }
    }
}

/// A relationship between two loaded objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relationship {
    /// STIX id of the relationship.
    pub stix_id: String,
    /// Its type.
    pub kind: RelationshipKind,
    /// STIX id of the source.
    pub source: String,
    /// STIX id of the target.
    pub target: String,
    /// Description: for `uses`, the procedure example text.
    pub description: Option<String>,
}
