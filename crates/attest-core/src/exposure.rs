//! Exposures (CTEM): findings from exposure management, the techniques that would exploit them,
//! and prioritisation both ways.
//!
//! An [`Exposure`] is one finding (a CVE or a misconfiguration id) on one asset, as a scanner
//! reported it, keyed by [`ExposureKey`]. Its techniques are given by the scanner, or derived
//! from a [`MappingSet`]: a CVE → ATT&CK mapping (CTID Mappings Explorer, KEV/NVD CSV) or a
//! misconfiguration map. Mapped technique ids are stored as written and resolved when answers
//! are computed ([`MappingIndex::new`]): the user's remap pairs of the set first, then the
//! knowledge base's revoked-by chain, so a mapping made for an older ATT&CK release keeps
//! counting for the current techniques.
//!
//! Prioritisation runs both ways:
//! - exposure → coverage need: [`exposure_needs`] lists, per technique, the open findings it
//!   would exploit; a profile with `exposures` set adds them to its target set
//!   ([`crate::priority::target_set_with_exposures`]), reason "exposure CVE-… on N assets";
//! - coverage → exposure priority: [`effective_priorities`] raises each open exposure's severity
//!   when its techniques lack validated detection, and says why.
//!
//! The raise is a share of the headroom left above the severity, so the effective priority
//! stays on the 0–10 severity scale and keeps the order of severities among equally covered
//! exposures: `effective = severity + (10 − severity) × raise`, where `raise` is the largest of
//! its techniques' raises ([`EffectiveOptions`]: a gap, degraded or failing technique raises
//! most, an unvalidated one less, a validated one not at all).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use attest_attack::{RemapTable, TechniqueId};
use jiff::Timestamp;

use crate::coverage::{Catalog, Claim, Coverage, CoverageState, Unresolved};
use crate::journal::Event;
use crate::state::ExposureRecord;

/// A severity label, as scanners write them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SeverityLabel {
    /// No risk rated (informational).
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

impl SeverityLabel {
    /// All labels, lowest first.
    pub const ALL: [SeverityLabel; 5] = [
        SeverityLabel::None,
        SeverityLabel::Low,
        SeverityLabel::Medium,
        SeverityLabel::High,
        SeverityLabel::Critical,
    ];

    /// The lower-case word.
    pub fn as_str(self) -> &'static str {
        match self {
            SeverityLabel::None => "none",
            SeverityLabel::Low => "low",
            SeverityLabel::Medium => "medium",
            SeverityLabel::High => "high",
            SeverityLabel::Critical => "critical",
        }
    }

    /// Parses a label, case-insensitively; `info`/`informational` mean none, `moderate` medium,
    /// `important` high (Microsoft's words).
    pub fn parse(s: &str) -> Option<SeverityLabel> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" | "info" | "informational" => Some(SeverityLabel::None),
            "low" => Some(SeverityLabel::Low),
            "medium" | "moderate" => Some(SeverityLabel::Medium),
            "high" | "important" => Some(SeverityLabel::High),
            "critical" => Some(SeverityLabel::Critical),
            _ => None,
        }
    }

    /// The score a label stands for: the middle of its CVSS v3 band (critical 9.0–10 → 9.5,
    /// high 7.0–8.9 → 8.0, medium 4.0–6.9 → 5.5, low 0.1–3.9 → 2.0, none → 0).
    pub fn score(self) -> f64 {
        match self {
            SeverityLabel::None => 0.0,
            SeverityLabel::Low => 2.0,
            SeverityLabel::Medium => 5.5,
            SeverityLabel::High => 8.0,
            SeverityLabel::Critical => 9.5,
        }
    }

    /// The CVSS v3 band of a score.
    pub fn of_score(score: f64) -> SeverityLabel {
        if score >= 9.0 {
            SeverityLabel::Critical
        } else if score >= 7.0 {
            SeverityLabel::High
        } else if score >= 4.0 {
            SeverityLabel::Medium
        } else if score > 0.0 {
            SeverityLabel::Low
        } else {
            SeverityLabel::None
        }
    }
}

/// A finding's severity as reported: a CVSS base score or a label.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Severity {
    /// A CVSS base score, 0.0–10.0.
    Cvss(f64),
    /// A label.
    Label(SeverityLabel),
}

impl Severity {
    /// Parses `9.8` (a CVSS score, 0–10) or a label (`critical`, `High`, …).
    pub fn parse(s: &str) -> Option<Severity> {
        let s = s.trim();
        if let Ok(n) = s.parse::<f64>() {
            return (n.is_finite() && (0.0..=10.0).contains(&n)).then_some(Severity::Cvss(n));
        }
        SeverityLabel::parse(s).map(Severity::Label)
    }

    /// The normalised score, 0–10 (a label counts as the middle of its CVSS band).
    pub fn score(self) -> f64 {
        match self {
            Severity::Cvss(n) => n,
            Severity::Label(l) => l.score(),
        }
    }

    /// The label (a CVSS score's band).
    pub fn label(self) -> SeverityLabel {
        match self {
            Severity::Cvss(n) => SeverityLabel::of_score(n),
            Severity::Label(l) => l,
        }
    }

    /// As written for people: `CVSS 9.8` or `high`.
    pub fn text(self) -> String {
        match self {
            Severity::Cvss(n) => format!("CVSS {n:.1}"),
            Severity::Label(l) => l.as_str().to_string(),
        }
    }
}

/// Where a finding stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExposureStatus {
    /// Exploitable now.
    Open,
    /// Remediated (or gone from a full re-import).
    Fixed,
    /// Risk accepted: still there, deliberately not remediated.
    Accepted,
}

impl ExposureStatus {
    /// The lower-case word.
    pub fn as_str(self) -> &'static str {
        match self {
            ExposureStatus::Open => "open",
            ExposureStatus::Fixed => "fixed",
            ExposureStatus::Accepted => "accepted",
        }
    }

    /// Parses a status, case-insensitively (`closed`, `remediated`, `resolved` mean fixed;
    /// `new`, `active`, `reopened` mean open; `risk_accepted`, `exception` mean accepted).
    pub fn parse(s: &str) -> Option<ExposureStatus> {
        match s
            .trim()
            .to_ascii_lowercase()
            .replace(['-', ' '], "_")
            .as_str()
        {
            "open" | "new" | "active" | "reopened" => Some(ExposureStatus::Open),
            "fixed" | "closed" | "remediated" | "resolved" => Some(ExposureStatus::Fixed),
            "accepted" | "risk_accepted" | "exception" => Some(ExposureStatus::Accepted),
            _ => None,
        }
    }
}

/// What a finding id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FindingKind {
    /// A CVE (`CVE-YYYY-NNNN…`).
    Cve,
    /// Anything else: a scanner's misconfiguration or check id.
    Misconfiguration,
}

impl FindingKind {
    /// What `id` names: a CVE when it reads `CVE-<4 digits>-<4 or more digits>`.
    pub fn of(id: &str) -> FindingKind {
        let id = id.trim();
        let is_cve = id.len() >= 13
            && id.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("CVE-"))
            && id
                .get(4..)
                .and_then(|rest| rest.split_once('-'))
                .is_some_and(|(year, num)| {
                    year.len() == 4
                        && num.len() >= 4
                        && year.bytes().all(|b| b.is_ascii_digit())
                        && num.bytes().all(|b| b.is_ascii_digit())
                });
        if is_cve {
            FindingKind::Cve
        } else {
            FindingKind::Misconfiguration
        }
    }

    /// The lower-case word.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Cve => "cve",
            FindingKind::Misconfiguration => "misconfiguration",
        }
    }
}

/// The canonical form of a finding id for matching: trimmed, upper-cased for CVEs (scanners
/// write `cve-2021-44228` too), as written otherwise.
pub fn normalise_finding(id: &str) -> String {
    let id = id.trim();
    match FindingKind::of(id) {
        FindingKind::Cve => id.to_ascii_uppercase(),
        FindingKind::Misconfiguration => id.to_string(),
    }
}

/// One finding on one asset: the key of an exposure.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExposureKey {
    /// The asset (host name, cloud resource id, …).
    pub asset: String,
    /// The finding id (normalised, see [`normalise_finding`]).
    pub finding: String,
}

impl ExposureKey {
    /// A key, normalising the finding id.
    pub fn new(asset: impl Into<String>, finding: &str) -> ExposureKey {
        ExposureKey {
            asset: asset.into(),
            finding: normalise_finding(finding),
        }
    }

    /// The exposure's id for people and URLs: `FINDING@ASSET`.
    pub fn id(&self) -> String {
        format!("{}@{}", self.finding, self.asset)
    }

    /// Parses `FINDING@ASSET` (the first `@` separates: finding ids have none, assets may).
    pub fn parse_id(id: &str) -> Option<ExposureKey> {
        let (finding, asset) = id.split_once('@')?;
        (!finding.trim().is_empty() && !asset.is_empty()).then(|| ExposureKey::new(asset, finding))
    }
}

/// A finding from exposure management on one asset.
#[derive(Debug, Clone, PartialEq)]
pub struct Exposure {
    /// The asset.
    pub asset: String,
    /// The finding id: a CVE or a misconfiguration id (normalised, see [`normalise_finding`]).
    pub finding: String,
    /// Title.
    pub title: String,
    /// Severity as reported.
    pub severity: Severity,
    /// When the scanner first saw it.
    pub first_seen: Option<Timestamp>,
    /// When the scanner last saw it.
    pub last_seen: Option<Timestamp>,
    /// Status as reported.
    pub status: ExposureStatus,
    /// Techniques the scanner gave, as written (when empty, mappings supply them).
    pub techniques: Vec<String>,
    /// The feed it came from (a scanner, an export): a full re-import of a feed closes that
    /// feed's findings it no longer lists, and no other feed's.
    pub feed: String,
}

impl Exposure {
    /// Its key.
    pub fn key(&self) -> ExposureKey {
        ExposureKey {
            asset: self.asset.clone(),
            finding: self.finding.clone(),
        }
    }

    /// What its finding id names.
    pub fn kind(&self) -> FindingKind {
        FindingKind::of(&self.finding)
    }
}

/// What a mapping set maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MappingKind {
    /// CVE ids (CTID Mappings Explorer, KEV/NVD CSV).
    Cve,
    /// Misconfiguration ids (a user map).
    Misconfiguration,
}

impl MappingKind {
    /// The lower-case word.
    pub fn as_str(self) -> &'static str {
        match self {
            MappingKind::Cve => "cve",
            MappingKind::Misconfiguration => "misconfiguration",
        }
    }
}

/// How a technique relates to a finding in a mapping (CTID's `mapping_type`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MappingType {
    /// The technique used to exploit the vulnerability.
    ExploitationTechnique,
    /// What exploiting it gives the attacker first.
    PrimaryImpact,
    /// What the primary impact leads to.
    SecondaryImpact,
    /// A misconfiguration map's "this setting enables that technique".
    Enables,
    /// Another type, as written.
    Other(String),
}

impl MappingType {
    /// Parses CTID's words (`exploitation_technique`, `primary_impact`, `secondary_impact`),
    /// also with spaces or hyphens.
    pub fn parse(s: &str) -> MappingType {
        match s
            .trim()
            .to_ascii_lowercase()
            .replace(['-', ' '], "_")
            .as_str()
        {
            "exploitation_technique" => MappingType::ExploitationTechnique,
            "primary_impact" => MappingType::PrimaryImpact,
            "secondary_impact" => MappingType::SecondaryImpact,
            "enables" => MappingType::Enables,
            _ => MappingType::Other(s.trim().to_string()),
        }
    }

    /// The words, as CTID writes them.
    pub fn as_str(&self) -> &str {
        match self {
            MappingType::ExploitationTechnique => "exploitation_technique",
            MappingType::PrimaryImpact => "primary_impact",
            MappingType::SecondaryImpact => "secondary_impact",
            MappingType::Enables => "enables",
            MappingType::Other(s) => s,
        }
    }

    /// For people: `exploitation technique`.
    pub fn text(&self) -> String {
        self.as_str().replace('_', " ")
    }
}

/// One row of a mapping: this finding relates to this technique.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingMapping {
    /// The finding id (normalised).
    pub finding: String,
    /// The technique id as written in the mapping.
    pub technique: String,
    /// How it relates.
    pub mapping_type: MappingType,
}

/// A loaded mapping file: findings → techniques, for one ATT&CK version.
#[derive(Debug, Clone, PartialEq)]
pub struct MappingSet {
    /// Its name (the key: loading a set of the same name replaces it).
    pub name: String,
    /// CVEs or misconfigurations.
    pub kind: MappingKind,
    /// The ATT&CK version it was made for (`metadata.attack_version`), when known.
    pub attack_version: Option<String>,
    /// The user's remap pairs (old → new technique id), applied before the knowledge base's
    /// revoked-by chain.
    pub remap: Vec<(String, String)>,
    /// The rows.
    pub mappings: Vec<FindingMapping>,
}

/// Where a technique of an exposure comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TechniqueProvenance {
    /// The scanner gave it with the finding.
    Given,
    /// A CVE → ATT&CK mapping set.
    CveMapping {
        /// The set's name.
        set: String,
        /// How the technique relates to the CVE.
        mapping_type: MappingType,
    },
    /// A misconfiguration map.
    MisconfigMap {
        /// The set's name.
        set: String,
    },
}

impl TechniqueProvenance {
    /// For people: `given by the scanner`, `CVE mapping ctid (exploitation technique)`.
    pub fn text(&self) -> String {
        match self {
            TechniqueProvenance::Given => "given by the scanner".into(),
            TechniqueProvenance::CveMapping { set, mapping_type } => {
                format!("CVE mapping {set} ({})", mapping_type.text())
            }
            TechniqueProvenance::MisconfigMap { set } => format!("misconfiguration map {set}"),
        }
    }
}

/// A technique of an exposure, resolved against the knowledge base.
#[derive(Debug, Clone, PartialEq)]
pub struct ExposureTechnique {
    /// As written (by the scanner or the mapping).
    pub written: String,
    /// The current technique it counts for, `None` when it resolves to nothing.
    pub technique: Option<TechniqueId>,
    /// Where it comes from.
    pub provenance: TechniqueProvenance,
}

/// A mapped technique id that could not be used as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MappingProblem {
    /// Resolved to a current technique through the user's remap or the revoked-by chain.
    Remapped {
        /// The set.
        set: String,
        /// As written.
        written: String,
        /// What it counts for.
        current: TechniqueId,
    },
    /// Resolves to nothing in the loaded release.
    Unresolved {
        /// The set.
        set: String,
        /// As written.
        written: String,
        /// Why.
        why: Unresolved,
    },
}

/// Mapping sets resolved once against a catalog, for fast lookups by finding id.
#[derive(Debug, Clone, Default)]
pub struct MappingIndex {
    by_finding: HashMap<String, Vec<(String, Option<TechniqueId>, TechniqueProvenance)>>,
    /// The workspace's remap table, for techniques scanners give.
    workspace_remap: RemapTable,
    /// Ids that were remapped or did not resolve, once per (set, id).
    pub problems: Vec<MappingProblem>,
}

/// A written id resolved: what it counts for, and what to report (a remap or a failure).
type Resolved = (Option<TechniqueId>, Option<Result<TechniqueId, Unresolved>>);

fn resolve_written(
    catalog: &Catalog,
    remap: &HashMap<String, String>,
    workspace: &RemapTable,
    written: &str,
) -> Resolved {
    let key = written.trim().to_ascii_uppercase();
    let (target, remapped) = match remap.get(&key) {
        Some(new) => (new.as_str(), true),
        None => (key.as_str(), false),
    };
    match catalog.resolve_with(target, workspace) {
        Claim::Active(t) if remapped => (Some(t), Some(Ok(t))),
        Claim::Active(t) => (Some(t), None),
        Claim::Remapped { current, .. } => (Some(current), Some(Ok(current))),
        Claim::Unresolved(why) => (None, Some(Err(why))),
    }
}

/// How one mapping set resolves (`attest exposures mappings list`,
/// `GET /api/v1/exposure-mappings`): (ids remapped to a current technique, ids that resolve to
/// nothing).
pub fn mapping_resolution(
    set: &MappingSet,
    catalog: &Catalog,
    workspace_remap: &RemapTable,
) -> (usize, usize) {
    let index = MappingIndex::new([set], catalog, workspace_remap);
    let remapped = index
        .problems
        .iter()
        .filter(|p| matches!(p, MappingProblem::Remapped { .. }))
        .count();
    (remapped, index.problems.len() - remapped)
}

impl MappingIndex {
    /// Resolves every set's technique ids: the set's remap pairs first, then the workspace's
    /// remap table (`State::remap`), then the catalog's revoked-by chain. Rows resolving to
    /// nothing are kept (the exposure shows them as unresolved) and reported once in
    /// `problems`.
    pub fn new<'a>(
        sets: impl IntoIterator<Item = &'a MappingSet>,
        catalog: &Catalog,
        workspace_remap: &RemapTable,
    ) -> MappingIndex {
        let mut index = MappingIndex {
            workspace_remap: workspace_remap.clone(),
            ..MappingIndex::default()
        };
        let mut reported: BTreeSet<(String, String)> = BTreeSet::new();
        for set in sets {
            let remap: HashMap<String, String> = set
                .remap
                .iter()
                .map(|(a, b)| (a.trim().to_ascii_uppercase(), b.trim().to_ascii_uppercase()))
                .collect();
            let mut cache: HashMap<&str, Resolved> = HashMap::new();
            for m in &set.mappings {
                let (technique, note) = cache
                    .entry(m.technique.as_str())
                    .or_insert_with(|| {
                        resolve_written(catalog, &remap, workspace_remap, &m.technique)
                    })
                    .clone();
                if let Some(note) = note
                    && reported.insert((set.name.clone(), m.technique.clone()))
                {
                    index.problems.push(match note {
                        Ok(current) => MappingProblem::Remapped {
                            set: set.name.clone(),
                            written: m.technique.clone(),
                            current,
                        },
                        Err(why) => MappingProblem::Unresolved {
                            set: set.name.clone(),
                            written: m.technique.clone(),
                            why,
                        },
                    });
                }
                let provenance = match set.kind {
                    MappingKind::Cve => TechniqueProvenance::CveMapping {
                        set: set.name.clone(),
                        mapping_type: m.mapping_type.clone(),
                    },
                    MappingKind::Misconfiguration => TechniqueProvenance::MisconfigMap {
                        set: set.name.clone(),
                    },
                };
                let rows = index
                    .by_finding
                    .entry(normalise_finding(&m.finding))
                    .or_default();
                let row = (m.technique.clone(), technique, provenance);
                if !rows.contains(&row) {
                    rows.push(row);
                }
            }
        }
        index
    }

    /// Whether any set maps this finding.
    pub fn maps(&self, finding: &str) -> bool {
        self.by_finding.contains_key(finding)
    }

    /// The techniques of an exposure: the scanner's when it gave any, else those the mapping
    /// sets give its finding (CVE sets for CVEs, misconfiguration maps for the rest).
    pub fn techniques_of(&self, exposure: &Exposure, catalog: &Catalog) -> Vec<ExposureTechnique> {
        if !exposure.techniques.is_empty() {
            return exposure
                .techniques
                .iter()
                .map(|w| ExposureTechnique {
                    written: w.clone(),
                    technique: catalog
                        .resolve_with(&w.trim().to_ascii_uppercase(), &self.workspace_remap)
                        .current(),
                    provenance: TechniqueProvenance::Given,
                })
                .collect();
        }
        let kind = exposure.kind();
        self.by_finding
            .get(&exposure.finding)
            .into_iter()
            .flatten()
            .filter(|(_, _, p)| match p {
                TechniqueProvenance::CveMapping { .. } => kind == FindingKind::Cve,
                TechniqueProvenance::MisconfigMap { .. } => kind == FindingKind::Misconfiguration,
                TechniqueProvenance::Given => false,
            })
            .map(|(written, technique, provenance)| ExposureTechnique {
                written: written.clone(),
                technique: *technique,
                provenance: provenance.clone(),
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Import planning.

/// Why an exposure was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseReason {
    /// The feed reported it fixed.
    Fixed,
    /// A full re-import of its feed no longer lists it.
    Absent,
}

impl CloseReason {
    /// The lower-case word.
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::Fixed => "fixed",
            CloseReason::Absent => "absent",
        }
    }
}

/// What an exposure import will do.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExposurePlan {
    /// Events to append, in one transaction.
    pub events: Vec<Event>,
    /// Findings seen for the first time.
    pub new: usize,
    /// Findings whose reported values changed (a closed one reopening included).
    pub updated: usize,
    /// Findings with no change (no event).
    pub unchanged: usize,
    /// Findings closed (reported fixed, or absent from a full import of their feed).
    pub closed: usize,
    /// Keys listed more than once; the last occurrence wins (scanners list newest last).
    pub duplicates: Vec<ExposureKey>,
}

/// Plans importing `found` (one feed's findings) over the exposures the state has.
///
/// Unchanged findings yield no event, so a re-import of the same file writes nothing. A finding
/// reported fixed closes its open exposure (a fixed finding never seen open is not recorded).
/// With `full`, `found` is the whole of `feed`: that feed's open or accepted exposures it no
/// longer lists close as absent.
pub fn plan_exposure_import(
    existing: &BTreeMap<ExposureKey, ExposureRecord>,
    feed: &str,
    found: Vec<Exposure>,
    full: bool,
) -> ExposurePlan {
    let mut plan = ExposurePlan::default();
    let mut latest: BTreeMap<ExposureKey, Exposure> = BTreeMap::new();
    for e in found {
        let key = e.key();
        if latest.insert(key.clone(), e).is_some() {
            plan.duplicates.push(key);
        }
    }
    plan.duplicates.sort();
    plan.duplicates.dedup();
    if full {
        for (key, rec) in existing {
            if rec.exposure.feed == feed && rec.is_active() && !latest.contains_key(key) {
                plan.closed += 1;
                plan.events.push(Event::ExposureClosed {
                    key: key.clone(),
                    reason: CloseReason::Absent,
                });
            }
        }
    }
    for (key, e) in latest {
        let old = existing.get(&key);
        if e.status == ExposureStatus::Fixed {
            match old {
                Some(rec) if rec.is_active() => {
                    plan.closed += 1;
                    plan.events.push(Event::ExposureClosed {
                        key,
                        reason: CloseReason::Fixed,
                    });
                }
                _ => plan.unchanged += 1,
            }
            continue;
        }
        match old {
            None => {
                plan.new += 1;
                plan.events.push(Event::ExposureObserved(e));
            }
            Some(rec) if rec.exposure == e => plan.unchanged += 1,
            Some(_) => {
                plan.updated += 1;
                plan.events.push(Event::ExposureObserved(e));
            }
        }
    }
    plan
}

// ---------------------------------------------------------------------------------------------
// Exposure → coverage need.

/// One finding that makes a technique worth detecting.
#[derive(Debug, Clone, PartialEq)]
pub struct ExposureUse {
    /// The finding id.
    pub finding: String,
    /// On how many assets it is open.
    pub assets: usize,
    /// The highest normalised severity among them.
    pub severity: f64,
    /// How the technique relates to it.
    pub provenance: TechniqueProvenance,
}

impl ExposureUse {
    /// The reason in words: `exposure CVE-2021-44228 on 3 assets`.
    pub fn reason(&self) -> String {
        format!(
            "exposure {} on {} asset{}",
            self.finding,
            self.assets,
            if self.assets == 1 { "" } else { "s" }
        )
    }
}

/// Per technique, the open findings that it would exploit, highest severity first.
pub type ExposureNeeds = BTreeMap<TechniqueId, Vec<ExposureUse>>;

/// The techniques that exploit open exposures, each with its findings (one entry per finding,
/// counting its assets). Accepted and fixed exposures do not count: only what is exploitable
/// and not decided on raises a coverage need.
pub fn exposure_needs<'a>(
    exposures: impl IntoIterator<Item = &'a ExposureRecord>,
    index: &MappingIndex,
    catalog: &Catalog,
) -> ExposureNeeds {
    // Open exposures grouped by what decides their techniques (the finding, and the scanner's
    // techniques when given), so each group's techniques are looked up once. Keys are unique
    // per (asset, finding), so a group's size is its number of assets.
    let mut groups: HashMap<(&str, &[String]), (usize, f64, &Exposure)> = HashMap::new();
    for rec in exposures {
        let e = &rec.exposure;
        if e.status != ExposureStatus::Open {
            continue;
        }
        let g = groups
            .entry((e.finding.as_str(), e.techniques.as_slice()))
            .or_insert((0, 0.0, e));
        g.0 += 1;
        g.1 = g.1.max(e.severity.score());
    }
    // (technique, finding) → (assets, max severity, provenance)
    let mut acc: BTreeMap<(TechniqueId, &str), (usize, f64, TechniqueProvenance)> = BTreeMap::new();
    for ((finding, _), (assets, severity, sample)) in groups {
        let mut seen: BTreeSet<TechniqueId> = BTreeSet::new();
        for t in index.techniques_of(sample, catalog) {
            let Some(id) = t.technique else { continue };
            let first = seen.insert(id);
            let slot = acc
                .entry((id, finding))
                .or_insert_with(|| (0, 0.0, t.provenance.clone()));
            if first {
                slot.0 += assets;
            }
            slot.1 = slot.1.max(severity);
            // Prefer the exploitation relation when a CVE maps the technique several ways.
            if t.provenance < slot.2 {
                slot.2 = t.provenance;
            }
        }
    }
    let mut needs: ExposureNeeds = BTreeMap::new();
    for ((t, finding), (assets, severity, provenance)) in acc {
        needs.entry(t).or_default().push(ExposureUse {
            finding: finding.to_string(),
            assets,
            severity,
            provenance,
        });
    }
    for uses in needs.values_mut() {
        uses.sort_by(|a, b| {
            b.severity
                .total_cmp(&a.severity)
                .then(b.assets.cmp(&a.assets))
                .then(a.finding.cmp(&b.finding))
        });
    }
    needs
}

// ---------------------------------------------------------------------------------------------
// Coverage → exposure priority.

/// How much a technique's coverage raises an exposure's priority, as a share of the headroom
/// above its severity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EffectiveOptions {
    /// Raise for a gap, degraded or failing technique (nothing would see the exploitation).
    pub unseen: f64,
    /// Raise for an unvalidated technique (a rule exists, nobody proved it fires).
    pub unvalidated: f64,
}

impl Default for EffectiveOptions {
    fn default() -> EffectiveOptions {
        EffectiveOptions {
            unseen: 0.5,
            unvalidated: 0.25,
        }
    }
}

impl EffectiveOptions {
    /// The raise of one coverage state.
    pub fn raise(&self, state: CoverageState) -> f64 {
        match state {
            CoverageState::Validated => 0.0,
            CoverageState::Unvalidated => self.unvalidated,
            CoverageState::Failing | CoverageState::Degraded | CoverageState::Gap => self.unseen,
        }
    }
}

/// One technique of an exposure with its detection state.
#[derive(Debug, Clone, PartialEq)]
pub struct TechniqueDetection {
    /// The technique.
    pub technique: ExposureTechnique,
    /// Its coverage state, `None` when it resolves to nothing or is outside the answer.
    pub state: Option<CoverageState>,
    /// The raise it asks for.
    pub raise: f64,
}

/// An exposure's effective priority. The reasoning is written out on demand
/// ([`EffectivePriority::reasons`]): a recompute over 100,000 findings only does arithmetic per
/// finding, and the sentences are made for the few that are shown.
#[derive(Debug, Clone, PartialEq)]
pub struct EffectivePriority {
    /// The exposure.
    pub key: ExposureKey,
    /// Its normalised severity, 0–10.
    pub severity: f64,
    /// The effective priority, 0–10.
    pub effective: f64,
    /// The raise applied (share of the headroom), 0 when unchanged.
    pub raise: f64,
    /// Its techniques with their detection states (shared by every asset with the same
    /// mapped finding).
    pub techniques: Arc<[TechniqueDetection]>,
    reported: Severity,
    status: ExposureStatus,
    reasoning: Arc<Reasoning>,
}

/// What an exposure's techniques say, whatever its asset and severity.
#[derive(Debug, PartialEq)]
struct Reasoning {
    /// One sentence per technique.
    lines: Vec<String>,
    /// The largest raise.
    raise: f64,
    /// Distinct techniques with a known state.
    counted: usize,
    /// The techniques asking for the largest raise, with their states.
    worst: String,
}

impl EffectivePriority {
    /// The reasoning, one sentence each, in order: the severity, each technique's detection
    /// state and what it asks for, and the arithmetic (or why there is none).
    pub fn reasons(&self) -> Vec<String> {
        let r = &self.reasoning;
        let severity = self.severity;
        let mut out = Vec::with_capacity(r.lines.len() + 2);
        out.push(format!("severity {} → {severity:.1}", self.reported.text()));
        if self.status != ExposureStatus::Open {
            out.push(format!(
                "status {}: not raised (only open exposures are prioritised)",
                self.status.as_str()
            ));
            return out;
        }
        if self.techniques.is_empty() {
            out.push("no technique mapped: priority is the severity alone".into());
            return out;
        }
        out.extend(r.lines.iter().cloned());
        if r.counted == 0 {
            out.push("no mapped technique is known: priority is the severity alone".into());
        } else if r.raise == 0.0 {
            out.push(format!(
                "all {} technique{} validated: priority stays at the severity {severity:.1}",
                r.counted,
                if r.counted == 1 { "" } else { "s" }
            ));
        } else {
            out.push(format!(
                "effective {:.1} = {severity:.1} + (10 − {severity:.1}) × {} because {}",
                self.effective, r.raise, r.worst
            ));
        }
        out
    }
}

fn state_words(state: CoverageState) -> &'static str {
    match state {
        CoverageState::Validated => "validated detection",
        CoverageState::Unvalidated => "a rule exists but is not validated",
        CoverageState::Failing => "its rules fail their tests",
        CoverageState::Degraded => "its rules are degraded (telemetry missing)",
        CoverageState::Gap => "no rule (gap)",
    }
}

/// Coverage states by technique, for [`effective_priority`] (build once per coverage answer).
pub fn states_of(coverage: &Coverage) -> HashMap<TechniqueId, CoverageState> {
    coverage
        .techniques
        .iter()
        .chain(&coverage.context)
        .map(|t| (t.technique, t.state))
        .collect()
}

/// What an exposure's techniques say, whatever its asset and severity: computed once per
/// mapped finding, so 100,000 findings on 5,000 CVEs cost 5,000 evaluations.
struct Evaluation {
    techniques: Arc<[TechniqueDetection]>,
    reasoning: Arc<Reasoning>,
}

fn evaluate(
    techniques: Vec<ExposureTechnique>,
    states: &HashMap<TechniqueId, CoverageState>,
    opts: &EffectiveOptions,
) -> Evaluation {
    let detections: Vec<TechniqueDetection> = techniques
        .into_iter()
        .map(|t| {
            let state = t.technique.and_then(|id| states.get(&id).copied());
            let raise = state.map_or(0.0, |s| opts.raise(s));
            TechniqueDetection {
                technique: t,
                state,
                raise,
            }
        })
        .collect();
    let lines = detections
        .iter()
        .map(|d| {
            let t = &d.technique;
            match (t.technique, d.state) {
                (Some(id), Some(state)) => {
                    let shown = if id.to_string() == t.written.trim().to_ascii_uppercase() {
                        id.to_string()
                    } else {
                        format!("{id} (written {})", t.written)
                    };
                    let effect = if d.raise >= opts.unseen && d.raise > 0.0 {
                        "raises most"
                    } else if d.raise > 0.0 {
                        "raises less"
                    } else {
                        "no raise"
                    };
                    format!(
                        "{shown} from {}: {} → {effect}",
                        t.provenance.text(),
                        state_words(state)
                    )
                }
                (Some(id), None) => format!(
                    "{id} from {}: outside the coverage answer, not counted",
                    t.provenance.text()
                ),
                (None, _) => format!(
                    "{} from {}: unknown to the loaded ATT&CK release, not counted",
                    t.written,
                    t.provenance.text()
                ),
            }
        })
        .collect();
    let raise = detections.iter().map(|d| d.raise).fold(0.0_f64, f64::max);
    let counted = detections
        .iter()
        .filter(|d| d.state.is_some())
        .filter_map(|d| d.technique.technique)
        .collect::<BTreeSet<_>>()
        .len();
    let worst: BTreeSet<String> = detections
        .iter()
        .filter(|d| raise > 0.0 && d.raise == raise)
        .filter_map(|d| {
            d.technique
                .technique
                .zip(d.state)
                .map(|(t, s)| format!("{t} {}", s.as_str()))
        })
        .collect();
    Evaluation {
        techniques: detections.into(),
        reasoning: Arc::new(Reasoning {
            lines,
            raise,
            counted,
            worst: worst.into_iter().collect::<Vec<_>>().join(", "),
        }),
    }
}

/// An exposure's priority from the evaluation of its techniques: arithmetic only.
fn finish(exposure: &Exposure, eval: &Evaluation) -> EffectivePriority {
    let severity = exposure.severity.score().clamp(0.0, 10.0);
    let r = &eval.reasoning;
    let raise = if exposure.status == ExposureStatus::Open && r.counted > 0 {
        r.raise
    } else {
        0.0
    };
    EffectivePriority {
        key: exposure.key(),
        severity,
        effective: severity + (10.0 - severity) * raise,
        raise,
        techniques: Arc::clone(&eval.techniques),
        reported: exposure.severity,
        status: exposure.status,
        reasoning: Arc::clone(&eval.reasoning),
    }
}

/// The effective priority of one exposure given its techniques and the coverage states.
pub fn effective_priority(
    exposure: &Exposure,
    techniques: Vec<ExposureTechnique>,
    states: &HashMap<TechniqueId, CoverageState>,
    opts: &EffectiveOptions,
) -> EffectivePriority {
    finish(exposure, &evaluate(techniques, states, opts))
}

/// Effective priorities of every exposure, highest first (then by severity, then by id).
/// Findings whose techniques come from mappings are evaluated once per finding id.
pub fn effective_priorities<'a>(
    exposures: impl IntoIterator<Item = &'a ExposureRecord>,
    index: &MappingIndex,
    catalog: &Catalog,
    states: &HashMap<TechniqueId, CoverageState>,
    opts: &EffectiveOptions,
) -> Vec<EffectivePriority> {
    let mut by_finding: HashMap<&str, Evaluation> = HashMap::new();
    let mut out: Vec<EffectivePriority> = exposures
        .into_iter()
        .map(|rec| {
            let e = &rec.exposure;
            if !e.techniques.is_empty() {
                return effective_priority(e, index.techniques_of(e, catalog), states, opts);
            }
            let eval = by_finding
                .entry(e.finding.as_str())
                .or_insert_with(|| evaluate(index.techniques_of(e, catalog), states, opts));
            finish(e, eval)
        })
        .collect();
    out.sort_by(|a, b| {
        b.effective
            .total_cmp(&a.effective)
            .then(b.severity.total_cmp(&a.severity))
            .then_with(|| a.key.cmp(&b.key))
    });
    out
}

// ---------------------------------------------------------------------------------------------
// History.

/// How an exposure changed between two states.
#[derive(Debug, Clone, PartialEq)]
pub enum ExposureChangeKind {
    /// First seen (open or accepted).
    Opened,
    /// Closed.
    Closed,
    /// Was closed, is open or accepted again.
    Reopened,
    /// Severity changed.
    SeverityChanged {
        /// Before.
        from: Severity,
        /// After.
        to: Severity,
    },
    /// Status changed between open and accepted.
    StatusChanged {
        /// Before.
        from: ExposureStatus,
        /// After.
        to: ExposureStatus,
    },
}

/// One exposure change between two states.
#[derive(Debug, Clone, PartialEq)]
pub struct ExposureChange {
    /// The exposure.
    pub key: ExposureKey,
    /// What changed.
    pub kind: ExposureChangeKind,
}

/// Exposure changes between two states' exposures, sorted by key.
pub fn exposure_changes(
    before: &BTreeMap<ExposureKey, ExposureRecord>,
    after: &BTreeMap<ExposureKey, ExposureRecord>,
) -> Vec<ExposureChange> {
    let mut out = Vec::new();
    for (key, a) in after {
        let kind = match before.get(key) {
            None if a.is_active() => Some(ExposureChangeKind::Opened),
            None => None,
            Some(b) if b.is_active() && !a.is_active() => Some(ExposureChangeKind::Closed),
            Some(b) if !b.is_active() && a.is_active() => Some(ExposureChangeKind::Reopened),
            Some(b) if b.is_active() && b.exposure.status != a.exposure.status => {
                Some(ExposureChangeKind::StatusChanged {
                    from: b.exposure.status,
                    to: a.exposure.status,
                })
            }
            Some(b) if a.is_active() && b.exposure.severity != a.exposure.severity => {
                Some(ExposureChangeKind::SeverityChanged {
                    from: b.exposure.severity,
                    to: a.exposure.severity,
                })
            }
            Some(_) => None,
        };
        if let Some(kind) = kind {
            out.push(ExposureChange {
                key: key.clone(),
                kind,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_parse_as_scores_or_labels() {
        assert_eq!(Severity::parse("9.8"), Some(Severity::Cvss(9.8)));
        assert_eq!(
            Severity::parse(" High "),
            Some(Severity::Label(SeverityLabel::High))
        );
        assert_eq!(
            Severity::parse("informational").map(Severity::score),
            Some(0.0)
        );
        assert_eq!(Severity::parse("11"), None);
        assert_eq!(Severity::parse("NaN"), None);
        assert_eq!(Severity::parse("severe"), None);
        assert_eq!(Severity::Cvss(7.5).label(), SeverityLabel::High);
        assert_eq!(Severity::Label(SeverityLabel::Critical).score(), 9.5);
    }

    #[test]
    fn finding_kinds_and_keys() {
        assert_eq!(FindingKind::of("CVE-2021-44228"), FindingKind::Cve);
        assert_eq!(FindingKind::of("cve-2021-44228"), FindingKind::Cve);
        assert_eq!(FindingKind::of("CVE-21-1"), FindingKind::Misconfiguration);
        assert_eq!(
            FindingKind::of("AWS-S3-PUBLIC"),
            FindingKind::Misconfiguration
        );
        let key = ExposureKey::new("web-01", "cve-2021-44228");
        assert_eq!(key.id(), "CVE-2021-44228@web-01");
        assert_eq!(ExposureKey::parse_id("CVE-2021-44228@web-01"), Some(key));
        assert_eq!(ExposureKey::parse_id("no-at-sign"), None);
    }

    #[test]
    fn statuses_and_mapping_types_parse() {
        assert_eq!(
            ExposureStatus::parse("Remediated"),
            Some(ExposureStatus::Fixed)
        );
        assert_eq!(
            ExposureStatus::parse("risk accepted"),
            Some(ExposureStatus::Accepted)
        );
        assert_eq!(ExposureStatus::parse("maybe"), None);
        assert_eq!(
            MappingType::parse("Exploitation Technique"),
            MappingType::ExploitationTechnique
        );
        assert_eq!(
            MappingType::parse("uncategorized").as_str(),
            "uncategorized"
        );
    }
}
