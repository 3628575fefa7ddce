//! JSON shapes of core types. Core types carry no serde (the store owns its own stored form), so
//! the API's wire form is written out here, once, and stays stable independently of the core.

use attest_core::coverage::CoverageState;
use attest_core::coverage::{Catalog, Reason, RuleCoverage, Tally, TechniqueCoverage};
use attest_core::exposure::EffectivePriority;
use attest_core::result::ValidationResult;
use attest_core::rule::{Dependency, RuleDependency};
use attest_core::source::Health;
use attest_core::state::{ExposureRecord, RuleRecord, SourceRecord};
use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

/// A coverage reason: its kind, the rule it is about, and a human detail.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReasonView {
    /// Stable kind (`no-rule`, `source-silent`, `stale`, …).
    pub kind: &'static str,
    /// The rule concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// What exactly.
    pub detail: String,
}

impl ReasonView {
    /// The view of a reason.
    pub fn of(r: &Reason) -> ReasonView {
        let detail = match r {
            Reason::NoRule => "no rule claims this technique".to_string(),
            Reason::RuleRetired { rule } => format!("rule {rule} is retired"),
            Reason::RuleDisabled { rule } => format!("rule {rule} is disabled"),
            Reason::SourceMissing { rule, dependency } => {
                format!("rule {rule}: no source provides {dependency}")
            }
            Reason::SourceNotQueryable {
                rule,
                dependency,
                source,
                state,
            } => format!(
                "rule {rule}: {dependency} comes from {source}, which is {}",
                state.as_str()
            ),
            Reason::SourceSilent {
                rule,
                dependency,
                source,
                since,
            } => match since {
                Some(t) => {
                    format!("rule {rule}: {dependency} comes from {source}, silent since {t}")
                }
                None => format!("rule {rule}: {dependency} comes from {source}, never seen"),
            },
            Reason::Untested { rule } => format!("rule {rule} has no conclusive result"),
            Reason::Stale {
                rule,
                passed_at,
                expired_at,
            } => format!("rule {rule} passed at {passed_at}, stale since {expired_at}"),
            Reason::Invalidated {
                rule, result_at, ..
            } => {
                format!("rule {rule}: its result of {result_at} was invalidated by a later change")
            }
            Reason::SuppressedSinceTest {
                rule, passed_at, ..
            } => format!("rule {rule}: a suppression was added after its pass of {passed_at}"),
            Reason::Failing { rule, failed_at } => format!("rule {rule} failed at {failed_at}"),
        };
        ReasonView {
            kind: r.kind(),
            rule: r.rule().map(|id| id.0.clone()),
            detail,
        }
    }
}

/// A rule as it bears on one technique.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RuleCoverageView {
    /// Rule id.
    pub id: String,
    /// Rule title (from the state, when known).
    pub title: Option<String>,
    /// Lifecycle.
    pub status: &'static str,
    /// Enabled and every dependency met.
    pub usable: bool,
    /// `untested`, `passing`, `failing`, `stale`, `invalidated`.
    pub validation: &'static str,
    /// The latest conclusive test, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_test: Option<LastTest>,
    /// The revoked id through which it claims the technique.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remapped_from: Option<String>,
}

/// The latest conclusive result of a rule for a technique.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LastTest {
    /// Test id.
    pub test: Option<String>,
    /// `pass` or `fail`.
    pub outcome: &'static str,
    /// When it ran.
    pub at: Timestamp,
    /// Who ran it.
    pub by: String,
}

impl RuleCoverageView {
    /// The view of one rule's bearing, with its title looked up by the caller.
    pub fn of(r: &RuleCoverage, title: Option<&str>) -> RuleCoverageView {
        RuleCoverageView {
            id: r.rule.0.clone(),
            title: title.map(str::to_string),
            status: r.status.as_str(),
            usable: r.usable,
            validation: r.validation.status.kind().as_str(),
            last_test: r.validation.latest.as_ref().map(|l| LastTest {
                test: l.test.clone(),
                outcome: l.outcome.as_str(),
                at: l.at,
                by: l.by.clone(),
            }),
            remapped_from: r.remapped_from.map(|t| t.to_string()),
        }
    }
}

/// Our coverage of one technique.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CoverageView {
    /// `validated`, `unvalidated`, `failing`, `degraded`, `gap`.
    pub state: &'static str,
    /// Why.
    pub reasons: Vec<ReasonView>,
    /// The rules claiming it.
    pub rules: Vec<RuleCoverageView>,
    /// For a parent: validated sub-techniques / sub-techniques in scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<usize>>)]
    pub subtechniques_validated: Option<[usize; 2]>,
}

impl CoverageView {
    /// The view of a technique's coverage; `title` finds rule titles.
    pub fn of<'a>(t: &TechniqueCoverage, title: impl Fn(&str) -> Option<&'a str>) -> CoverageView {
        CoverageView {
            state: t.state.as_str(),
            reasons: t.reasons.iter().map(ReasonView::of).collect(),
            rules: t
                .rules
                .iter()
                .map(|r| RuleCoverageView::of(r, title(&r.rule.0)))
                .collect(),
            subtechniques_validated: t.subtechniques.map(|s| [s.validated, s.total]),
        }
    }

    /// A technique outside the computed scope: nothing claims it as far as coverage knows.
    pub fn gap() -> CoverageView {
        CoverageView {
            state: CoverageState::Gap.as_str(),
            reasons: vec![ReasonView::of(&Reason::NoRule)],
            rules: Vec::new(),
            subtechniques_validated: None,
        }
    }
}

/// Counts per state.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TallyView {
    /// Validated techniques.
    pub validated: usize,
    /// Unvalidated ("rule exists").
    pub unvalidated: usize,
    /// Failing.
    pub failing: usize,
    /// Degraded.
    pub degraded: usize,
    /// Gaps.
    pub gap: usize,
    /// All techniques counted.
    pub total: usize,
    /// Weighted share validated (0..=1).
    pub validated_share: f64,
}

impl TallyView {
    /// The view of a tally.
    pub fn of(t: &Tally) -> TallyView {
        TallyView {
            validated: t.count(CoverageState::Validated),
            unvalidated: t.count(CoverageState::Unvalidated),
            failing: t.count(CoverageState::Failing),
            degraded: t.count(CoverageState::Degraded),
            gap: t.count(CoverageState::Gap),
            total: t.total(),
            validated_share: t.share(CoverageState::Validated),
        }
    }
}

fn dependency(d: &RuleDependency) -> String {
    match &d.dependency {
        Dependency::Component(c) => format!("component:{c}"),
        other => other.to_string(),
    }
}

/// A rule.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RuleView {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Format it was imported from.
    pub format: &'static str,
    /// Path within its root.
    pub path: String,
    /// Import root or SIEM.
    pub root: String,
    /// Techniques claimed, as written.
    pub techniques: Vec<String>,
    /// Tactics claimed.
    pub tactics: Vec<String>,
    /// Data it depends on (`component:…`, `log-source:…`, `source:…`).
    pub dependencies: Vec<String>,
    /// Lifecycle.
    pub status: &'static str,
    /// Severity.
    pub severity: Option<String>,
    /// Owner.
    pub owner: Option<String>,
    /// Tests linked to it.
    pub tests: Vec<String>,
    /// Number of tunings (suppressions, exclusions).
    pub tunings: usize,
    /// When its content last changed.
    pub content_changed_at: Timestamp,
}

impl RuleView {
    /// The view of a rule record.
    pub fn of(r: &RuleRecord) -> RuleView {
        let rule = &r.rule;
        RuleView {
            id: rule.id.0.clone(),
            title: rule.title.clone(),
            format: rule.origin.format.as_str(),
            path: rule.origin.path.clone(),
            root: rule.origin.root.clone(),
            techniques: rule.techniques.clone(),
            tactics: rule.tactics.clone(),
            dependencies: rule.dependencies.iter().map(dependency).collect(),
            status: rule.status.as_str(),
            severity: rule.severity.clone(),
            owner: rule.owner.clone(),
            tests: rule.tests.clone(),
            tunings: rule.tuning.len(),
            content_changed_at: r.content_changed_at,
        }
    }
}

/// An inventory source with its health now.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SourceView {
    /// Name.
    pub name: String,
    /// Platforms it covers.
    pub platforms: Vec<String>,
    /// Systems or segments.
    pub scope: Vec<String>,
    /// ATT&CK data components it provides.
    pub components: Vec<String>,
    /// Log sources it provides.
    pub log_sources: Vec<String>,
    /// Pipeline state.
    pub state: &'static str,
    /// Owner.
    pub owner: Option<String>,
    /// Last heartbeat.
    pub last_seen: Option<Timestamp>,
    /// Allowed silence, in seconds.
    pub max_silence_secs: Option<i64>,
    /// `healthy`, `never-seen` or `silent`.
    pub health: &'static str,
    /// Since when it is silent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub silent_since: Option<Timestamp>,
}

impl SourceView {
    /// The view of a source record, its health judged at `now`.
    pub fn of(r: &SourceRecord, now: Timestamp) -> SourceView {
        let s = &r.source;
        let (health, silent_since) = match s.health(now) {
            Health::Healthy => ("healthy", None),
            Health::NeverSeen => ("never-seen", None),
            Health::Silent { since } => ("silent", Some(since)),
        };
        SourceView {
            name: s.name.clone(),
            platforms: s.platforms.clone(),
            scope: s.scope.clone(),
            components: s.components.clone(),
            log_sources: s.log_sources.iter().map(ToString::to_string).collect(),
            state: s.state.as_str(),
            owner: s.owner.clone(),
            last_seen: s.last_seen,
            max_silence_secs: s.max_silence.map(|d| d.as_secs()),
            health,
            silent_since,
        }
    }
}

/// A recorded validation result.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResultView {
    /// Rule id.
    pub rule: String,
    /// Technique.
    pub technique: String,
    /// Test id.
    pub test: Option<String>,
    /// Outcome.
    pub outcome: &'static str,
    /// When it ran.
    pub at: Timestamp,
    /// Who ran it.
    pub by: String,
}

impl ResultView {
    /// The view of a result.
    pub fn of(r: &ValidationResult) -> ResultView {
        ResultView {
            rule: r.rule.0.clone(),
            technique: r.technique.clone(),
            test: r.test.clone(),
            outcome: r.outcome.as_str(),
            at: r.at,
            by: r.by.clone(),
        }
    }
}

/// A technique of an exposure with its detection state.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExposureTechniqueView {
    /// As written by the scanner or the mapping.
    pub written: String,
    /// The current technique it counts for (`null`: unknown to the loaded release).
    pub technique: Option<String>,
    /// Its name.
    pub name: Option<String>,
    /// Where it comes from (`given by the scanner`, `CVE mapping kev (exploitation technique)`).
    pub provenance: String,
    /// Its coverage state (`null` when not known).
    pub state: Option<&'static str>,
    /// The raise it asks for (share of the headroom above the severity).
    pub raise: f64,
}

/// An exposure with its effective priority and the reasoning.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExposureView {
    /// `FINDING@ASSET`.
    pub id: String,
    /// Asset.
    pub asset: String,
    /// Finding id (CVE or misconfiguration id).
    pub finding: String,
    /// `cve` or `misconfiguration`.
    pub kind: &'static str,
    /// Title.
    pub title: String,
    /// Severity as reported (`CVSS 9.8`, `high`).
    pub severity: String,
    /// Normalised severity, 0–10.
    pub severity_score: f64,
    /// Effective priority, 0–10.
    pub effective: f64,
    /// `open`, `fixed` or `accepted`.
    pub status: &'static str,
    /// The feed it came from.
    pub feed: String,
    /// First seen by the scanner.
    pub first_seen: Option<Timestamp>,
    /// Last seen by the scanner.
    pub last_seen: Option<Timestamp>,
    /// When it was closed, while closed.
    pub closed_at: Option<Timestamp>,
    /// Its techniques.
    pub techniques: Vec<ExposureTechniqueView>,
    /// The reasoning, in order.
    pub reasons: Vec<String>,
}

impl ExposureView {
    /// The view of an exposure and its priority.
    pub fn of(rec: &ExposureRecord, p: &EffectivePriority, catalog: &Catalog) -> ExposureView {
        let e = &rec.exposure;
        ExposureView {
            id: p.key.id(),
            asset: e.asset.clone(),
            finding: e.finding.clone(),
            kind: e.kind().as_str(),
            title: e.title.clone(),
            severity: e.severity.text(),
            severity_score: p.severity,
            effective: p.effective,
            status: e.status.as_str(),
            feed: e.feed.clone(),
            first_seen: e.first_seen,
            last_seen: e.last_seen,
            closed_at: rec.closed_at,
            techniques: p
                .techniques
                .iter()
                .map(|d| ExposureTechniqueView {
                    written: d.technique.written.clone(),
                    technique: d.technique.technique.map(|t| t.to_string()),
                    name: d
                        .technique
                        .technique
                        .and_then(|t| catalog.technique(t))
                        .map(|c| c.name.clone()),
                    provenance: d.technique.provenance.text(),
                    state: d.state.map(CoverageState::as_str),
                    raise: d.raise,
                })
                .collect(),
            reasons: p.reasons.clone(),
        }
    }
}
