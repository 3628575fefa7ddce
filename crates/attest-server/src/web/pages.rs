//! The pages beside the matrix: a technique, profiles and actors, rules and a rule, data
//! sources, the backlog. Each builds a small view model from the snapshot (and attest-core's
//! answers) and renders one template.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use askama::Template;
use attest_attack::TechniqueId;
use attest_core::backlog::{BacklogOptions, ItemKind, Ownership, backlog};
use attest_core::coverage::{Coverage, CoverageState, DependencyState};
use attest_core::rule::RuleId;
use attest_core::words::health_text;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::filters::{Filters, provided_by};
use super::matrix::{headline, state_words};
use super::session::Csrf;
use super::{Frame, PageError, WebState, render, trends};
use crate::auth::Principal;
use crate::state::AppState;

type Web = Extension<Arc<WebState>>;

/// Percent-encodes a path segment (`/` included).
pub(crate) fn segment(s: &str) -> String {
    super::filters::encode(s).replace('/', "%2F")
}

/// A state shown as a badge: class, words, glyph.
pub(crate) struct Badge {
    pub class: &'static str,
    pub label: &'static str,
    pub glyph: &'static str,
}

impl Badge {
    pub(crate) fn of(s: CoverageState) -> Badge {
        let (class, label, glyph) = state_words(s);
        Badge {
            class,
            label,
            glyph,
        }
    }
}

// ---------------------------------------------------------------- technique

struct RuleLine {
    id: String,
    href: String,
    title: String,
    status: &'static str,
    usable: bool,
    validation: &'static str,
    last_test: String,
}

struct Visibility {
    platform: String,
    components: Vec<(String, String)>,
}

struct ActorLine {
    id: String,
    name: String,
    via: String,
    in_profile: bool,
}

#[derive(Template)]
#[template(path = "technique.html")]
struct TechniquePage {
    frame: Frame,
    id: String,
    name: String,
    description: String,
    url: Option<String>,
    tactics: Vec<String>,
    platforms: Vec<String>,
    badge: Badge,
    in_scope: bool,
    reasons: Vec<String>,
    rules: Vec<RuleLine>,
    visibility: Vec<Visibility>,
    tests: Vec<(String, String, String)>,
    actors: Vec<ActorLine>,
    priority: Option<String>,
    backlog: Vec<String>,
    history: Vec<(String, Badge)>,
    exposures: Vec<ExposureRow>,
    qs: String,
    profile: Option<String>,
}

pub(crate) async fn technique_page(
    State(app): State<AppState>,
    Extension(web): Web,
    Extension(who): Extension<Principal>,
    Extension(csrf): Extension<Csrf>,
    Path(id): Path<String>,
    Query(f): Query<Filters>,
) -> Result<Response, PageError> {
    let tid = TechniqueId::parse(id.trim())
        .map_err(|_| PageError::not_found(format!("{id:?} is not an ATT&CK technique id")))?;
    let scoped = web.scopes.scoped(&app, &f)?;
    let snap = &scoped.snap;
    let Some(kt) = snap.kb().technique(tid) else {
        return Err(PageError::not_found(format!(
            "{tid} is not in ATT&CK {}",
            snap.catalog().release()
        )));
    };
    let (tc, in_scope) = match scoped.coverage().technique(tid) {
        Some(t) => (Some(t), true),
        None => (snap.coverage.technique(tid), false),
    };
    let tactic_names: BTreeMap<&str, &str> = snap
        .catalog()
        .tactics()
        .iter()
        .map(|t| (t.shortname.as_str(), t.name.as_str()))
        .collect();
    let rules = tc
        .map(|c| {
            c.rules
                .iter()
                .map(|r| RuleLine {
                    id: r.rule.0.clone(),
                    href: format!("/rules/{}", segment(&r.rule.0)),
                    title: snap.rule_title(&r.rule.0).unwrap_or("").to_string(),
                    status: r.status.as_str(),
                    usable: r.usable,
                    validation: r.validation.status.kind().as_str(),
                    last_test: r
                        .validation
                        .latest
                        .as_ref()
                        .map(|l| {
                            format!(
                                "{} at {} by {}{}",
                                l.outcome.as_str(),
                                l.at.strftime("%Y-%m-%d"),
                                l.by,
                                l.test
                                    .as_ref()
                                    .map(|t| format!(" (test {t})"))
                                    .unwrap_or_default()
                            )
                        })
                        .unwrap_or_else(|| "never".into()),
                })
                .collect()
        })
        .unwrap_or_default();
    let visibility = tc
        .map(|c| {
            c.visibility
                .iter()
                .map(|p| Visibility {
                    platform: p.platform.clone(),
                    components: p
                        .components
                        .iter()
                        .map(|comp| {
                            let by = if comp.provided_by.is_empty() {
                                "— nothing in the inventory".to_string()
                            } else {
                                comp.provided_by.join(", ")
                            };
                            (comp.component.clone(), by)
                        })
                        .collect(),
                })
                .collect()
        })
        .unwrap_or_default();
    let ids = tid.to_string();
    let tests = snap
        .state
        .tests
        .values()
        .filter(|t| t.techniques.contains(&ids))
        .map(|t| (t.id.clone(), t.name.clone(), t.platforms.join(", ")))
        .collect();
    let target = scoped.target();
    let profile_actors: BTreeSet<String> = target
        .and_then(|ts| ts.get(tid))
        .map(|tt| tt.actors.iter().map(|a| a.name.clone()).collect())
        .unwrap_or_default();
    let mut actors: Vec<ActorLine> = snap
        .catalog()
        .groups()
        .iter()
        .filter_map(|g| {
            let vias: Vec<String> = g
                .uses
                .iter()
                .filter(|(t, _)| *t == tid)
                .map(|(_, v)| match v {
                    attest_core::coverage::UseVia::Direct => "direct".to_string(),
                    attest_core::coverage::UseVia::Software(s) => format!("via {s}"),
                    attest_core::coverage::UseVia::Campaign(c) => format!("via campaign {c}"),
                })
                .collect();
            (!vias.is_empty()).then(|| ActorLine {
                id: g.id.clone(),
                name: g.name.clone(),
                via: vias.join(", "),
                in_profile: profile_actors.contains(&g.name),
            })
        })
        .collect();
    actors.sort_by(|a, b| b.in_profile.cmp(&a.in_profile).then(a.name.cmp(&b.name)));
    let priority = target.and_then(|ts| ts.get(tid)).map(|tt| {
        format!(
            "priority {:.2} ({}) in profile {}: {}",
            tt.score,
            tt.tier,
            ts_name(target),
            tt.actors
                .iter()
                .map(|a| format!("{} (weight {})", a.name, a.weight))
                .chain(tt.extra.map(|w| format!("picked by hand (weight {w})")))
                .collect::<Vec<_>>()
                .join("; ")
        )
    });
    let backlog_steps = match target {
        Some(ts) => backlog(
            snap.catalog(),
            &snap.state,
            ts,
            scoped.coverage(),
            &Ownership::default(),
            &BacklogOptions::default(),
            scoped.coverage().at,
        )
        .into_iter()
        .filter(|i| i.technique == tid)
        .flat_map(|i| {
            let head = match i.kind {
                ItemKind::NotValidated => format!("{}: not validated", i.id),
                ItemKind::Due { expires } => format!("{}: re-validate before {expires}", i.id),
            };
            std::iter::once(head).chain(i.next.iter().map(ToString::to_string).collect::<Vec<_>>())
        })
        .collect(),
        None => Vec::new(),
    };
    let history = trends::technique_history(&app, &web, tid)
        .await?
        .into_iter()
        .map(|(at, s)| (at.strftime("%Y-%m-%d %H:%M UTC").to_string(), Badge::of(s)))
        .collect();
    let page = TechniquePage {
        frame: Frame::new(
            &app,
            "matrix",
            format!("{tid} {}", kt.meta.name),
            Some(&who),
            &csrf,
        ),
        id: ids,
        name: kt.meta.name.clone(),
        description: kt.meta.description.clone(),
        url: kt.meta.url.clone(),
        tactics: kt
            .tactics
            .iter()
            .map(|t| {
                tactic_names
                    .get(t.as_str())
                    .unwrap_or(&t.as_str())
                    .to_string()
            })
            .collect(),
        platforms: kt.platforms.clone(),
        badge: Badge::of(tc.map_or(CoverageState::Gap, |c| c.state)),
        in_scope,
        reasons: tc
            .map(|c| c.reasons.iter().map(ToString::to_string).collect())
            .unwrap_or_default(),
        rules,
        visibility,
        tests,
        actors,
        priority,
        backlog: backlog_steps,
        history,
        exposures: exposures_of(snap, tid, 20),
        qs: f.query(),
        profile: f.profile().map(str::to_string),
    };
    render(&page)
}

fn ts_name(t: Option<&attest_core::priority::TargetSet>) -> &str {
    t.map_or("", |t| t.profile.as_str())
}

// ---------------------------------------------------------------- profiles and actors

struct ProfileLine {
    name: String,
    href: String,
    headline: String,
    selected: bool,
}

struct GapLine {
    id: String,
    name: String,
    score: String,
    tier: String,
    badge: Badge,
}

struct ProfileActorLine {
    id: String,
    name: String,
    weight: String,
    techniques: usize,
    validated: usize,
    overlay: String,
}

#[derive(Template)]
#[template(path = "profiles.html")]
struct ProfilesPage {
    frame: Frame,
    profiles: Vec<ProfileLine>,
    selected: Option<String>,
    headline: String,
    gaps: Vec<GapLine>,
    actors: Vec<ProfileActorLine>,
    groups: Vec<(String, String)>,
}

/// The profile a page is about: the one asked for, else the first by name.
fn chosen_profile(snap: &crate::state::Snapshot, asked: Option<String>) -> Option<String> {
    asked
        .filter(|p| !p.trim().is_empty())
        .or_else(|| snap.state.profiles.keys().next().cloned())
}

/// The backlog's order: by owner when asked, else by priority.
fn backlog_sort(asked: Option<&str>) -> &'static str {
    match asked {
        Some("owner") => "owner",
        _ => "priority",
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct ProfileQuery {
    profile: Option<String>,
}

pub(crate) async fn profiles_page(
    State(app): State<AppState>,
    Extension(web): Web,
    Extension(who): Extension<Principal>,
    Extension(csrf): Extension<Csrf>,
    Query(q): Query<ProfileQuery>,
) -> Result<Response, PageError> {
    let snap = app.snapshot();
    let selected = chosen_profile(&snap, q.profile);
    let mut profiles = Vec::new();
    for name in snap.state.profiles.keys() {
        let f = Filters {
            profile: Some(name.clone()),
            ..Default::default()
        };
        let s = web.scopes.scoped(&app, &f)?;
        profiles.push(ProfileLine {
            name: name.clone(),
            href: format!("/?profile={}", super::filters::encode(name)),
            headline: headline(s.coverage(), Some(name)),
            selected: Some(name) == selected.as_ref(),
        });
    }
    let mut page = ProfilesPage {
        frame: Frame::new(&app, "profiles", "Profiles and actors", Some(&who), &csrf),
        profiles,
        selected: selected.clone(),
        headline: String::new(),
        gaps: Vec::new(),
        actors: Vec::new(),
        groups: group_options(&app),
    };
    if let Some(name) = &selected {
        let f = Filters {
            profile: Some(name.clone()),
            ..Default::default()
        };
        let s = web.scopes.scoped(&app, &f)?;
        let cov = s.coverage();
        page.headline = headline(cov, Some(name));
        if let Some(target) = s.target() {
            let mut gaps: Vec<GapLine> = target
                .techniques
                .iter()
                .filter_map(|tt| {
                    let tc = cov.technique(tt.technique)?;
                    (tc.state != CoverageState::Validated).then(|| GapLine {
                        id: tt.technique.to_string(),
                        name: tc.name.clone(),
                        score: format!("{:.2}", tt.score),
                        tier: tt.tier.clone(),
                        badge: Badge::of(tc.state),
                    })
                })
                .collect();
            gaps.truncate(15);
            page.gaps = gaps;
        }
        if let Some(profile) = s.snap.state.profiles.get(name) {
            for pa in &profile.actors {
                let (id, gname, uses): (String, String, Vec<TechniqueId>) =
                    match s.snap.catalog().group(&pa.actor) {
                        Some(g) => (
                            g.id.clone(),
                            g.name.clone(),
                            g.uses.iter().map(|(t, _)| *t).collect(),
                        ),
                        None => match s.snap.state.actors.get(&pa.actor) {
                            Some(a) => (
                                a.id.clone(),
                                a.name.clone(),
                                a.techniques
                                    .iter()
                                    .filter_map(|t| TechniqueId::parse(&t.technique).ok())
                                    .collect(),
                            ),
                            None => (pa.actor.clone(), pa.actor.clone(), Vec::new()),
                        },
                    };
                let distinct: BTreeSet<TechniqueId> = uses.into_iter().collect();
                let validated = distinct
                    .iter()
                    .filter(|t| {
                        s.snap
                            .coverage
                            .technique(**t)
                            .is_some_and(|c| c.state == CoverageState::Validated)
                    })
                    .count();
                page.actors.push(ProfileActorLine {
                    overlay: format!(
                        "/?profile={}&actor={}",
                        super::filters::encode(name),
                        super::filters::encode(&id)
                    ),
                    id,
                    name: gname,
                    weight: format!("{}", pa.weight),
                    techniques: distinct.len(),
                    validated,
                });
            }
        }
    }
    render(&page)
}

pub(crate) fn group_options(app: &AppState) -> Vec<(String, String)> {
    let mut groups: Vec<(String, String)> = app
        .knowledge()
        .catalog
        .groups()
        .iter()
        .map(|g| (g.id.clone(), g.name.clone()))
        .collect();
    groups.sort_by_key(|g| g.1.to_lowercase());
    groups
}

struct CompareLine {
    id: String,
    name: String,
    a: bool,
    b: bool,
    badge: Badge,
}

#[derive(Template)]
#[template(path = "actors.html")]
struct ActorsPage {
    frame: Frame,
    groups: Vec<(String, String)>,
    a: String,
    b: String,
    a_name: String,
    b_name: String,
    summary: Vec<String>,
    rows: Vec<CompareLine>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct CompareQuery {
    a: Option<String>,
    b: Option<String>,
}

pub(crate) async fn actors_page(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
    Extension(csrf): Extension<Csrf>,
    Query(q): Query<CompareQuery>,
) -> Result<Response, PageError> {
    let snap = app.snapshot();
    let catalog = snap.catalog();
    let pick = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                catalog
                    .group(s)
                    .ok_or_else(|| PageError::bad_request(format!("no ATT&CK group matches {s:?}")))
            })
            .transpose()
    };
    let ga = pick(&q.a)?;
    let gb = pick(&q.b)?;
    let set = |g: Option<&attest_core::coverage::CatalogGroup>| -> BTreeSet<TechniqueId> {
        g.map(|g| g.uses.iter().map(|(t, _)| *t).collect())
            .unwrap_or_default()
    };
    let (sa, sb) = (set(ga), set(gb));
    let cov: &Coverage = &snap.coverage;
    let validated = |s: &BTreeSet<TechniqueId>| {
        s.iter()
            .filter(|t| {
                cov.technique(**t)
                    .is_some_and(|c| c.state == CoverageState::Validated)
            })
            .count()
    };
    let mut summary = Vec::new();
    for (g, s) in [(ga, &sa), (gb, &sb)] {
        if let Some(g) = g {
            summary.push(format!(
                "{} ({}) uses {} techniques; {} validated",
                g.name,
                g.id,
                s.len(),
                validated(s)
            ));
        }
    }
    if ga.is_some() && gb.is_some() {
        let both: BTreeSet<TechniqueId> = sa.intersection(&sb).copied().collect();
        summary.push(format!(
            "both use {} techniques; {} of those validated",
            both.len(),
            validated(&both)
        ));
    }
    let rows = sa
        .union(&sb)
        .map(|t| {
            let tc = cov.technique(*t);
            CompareLine {
                id: t.to_string(),
                name: tc
                    .map(|c| c.name.clone())
                    .or_else(|| catalog.technique(*t).map(|c| c.name.clone()))
                    .unwrap_or_default(),
                a: sa.contains(t),
                b: sb.contains(t),
                badge: Badge::of(tc.map_or(CoverageState::Gap, |c| c.state)),
            }
        })
        .collect();
    let page = ActorsPage {
        frame: Frame::new(&app, "profiles", "Compare actors", Some(&who), &csrf),
        groups: group_options(&app),
        a: ga.map(|g| g.id.clone()).unwrap_or_default(),
        b: gb.map(|g| g.id.clone()).unwrap_or_default(),
        a_name: ga.map(|g| g.name.clone()).unwrap_or_default(),
        b_name: gb.map(|g| g.name.clone()).unwrap_or_default(),
        summary,
        rows,
    };
    render(&page)
}

// ---------------------------------------------------------------- rules

/// Filters of the rules table.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct RuleQuery {
    tactic: Option<String>,
    technique: Option<String>,
    source: Option<String>,
    origin: Option<String>,
    status: Option<String>,
    validation: Option<String>,
    owner: Option<String>,
    q: Option<String>,
    page: Option<usize>,
}

fn val(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl RuleQuery {
    fn query_without_page(&self) -> String {
        [
            ("tactic", val(&self.tactic)),
            ("technique", val(&self.technique)),
            ("source", val(&self.source)),
            ("origin", val(&self.origin)),
            ("status", val(&self.status)),
            ("validation", val(&self.validation)),
            ("owner", val(&self.owner)),
            ("q", val(&self.q)),
        ]
        .iter()
        .filter_map(|(k, v)| v.map(|v| format!("{k}={}", super::filters::encode(v))))
        .collect::<Vec<_>>()
        .join("&")
    }
}

struct RuleRow {
    id: String,
    href: String,
    title: String,
    format: &'static str,
    techniques: Vec<(String, &'static str)>,
    status: &'static str,
    validation: String,
    owner: String,
}

#[derive(Template)]
#[template(path = "rules.html")]
struct RulesPage {
    frame: Frame,
    q: RuleQueryView,
    rows: Vec<RuleRow>,
    total: usize,
    page: usize,
    pages: usize,
    base_qs: String,
    formats: Vec<&'static str>,
    tactics: Vec<(String, String)>,
}

struct RuleQueryView {
    tactic: String,
    technique: String,
    source: String,
    origin: String,
    status: String,
    validation: String,
    owner: String,
    q: String,
}

const PER_PAGE: usize = 100;

/// Per rule: the resolved techniques it claims with their state, their tactics, and its
/// validation kinds, all read from the snapshot's coverage (no recomputation).
struct RuleFacts {
    techniques: Vec<(TechniqueId, CoverageState)>,
    tactics: BTreeSet<String>,
    validations: BTreeSet<&'static str>,
}

fn rule_facts(cov: &Coverage) -> BTreeMap<&RuleId, RuleFacts> {
    let mut m: BTreeMap<&RuleId, RuleFacts> = BTreeMap::new();
    for t in &cov.techniques {
        for r in &t.rules {
            let e = m.entry(&r.rule).or_insert_with(|| RuleFacts {
                techniques: Vec::new(),
                tactics: BTreeSet::new(),
                validations: BTreeSet::new(),
            });
            e.techniques.push((t.technique, t.state));
            e.tactics.extend(t.tactics.iter().cloned());
            e.validations.insert(r.validation.status.kind().as_str());
        }
    }
    m
}

/// Every rule matching the table's filters, in id order (the page shows a slice, the download
/// all of them).
fn rule_rows(snap: &crate::state::Snapshot, q: &RuleQuery) -> Vec<RuleRow> {
    let facts = rule_facts(&snap.coverage);
    let lower = |v: &Option<String>| val(v).map(str::to_lowercase);
    let (tactic, technique, source, origin, status, validation, owner, text) = (
        lower(&q.tactic),
        lower(&q.technique),
        lower(&q.source),
        lower(&q.origin),
        lower(&q.status),
        lower(&q.validation),
        lower(&q.owner),
        lower(&q.q),
    );
    let empty = RuleFacts {
        techniques: Vec::new(),
        tactics: BTreeSet::new(),
        validations: BTreeSet::new(),
    };
    let matching: Vec<(&RuleId, &attest_core::state::RuleRecord, &RuleFacts)> = snap
        .state
        .rules
        .iter()
        .map(|(id, r)| (id, r, facts.get(id).unwrap_or(&empty)))
        .filter(|(_, r, fa)| {
            let rule = &r.rule;
            tactic.as_ref().is_none_or(|x| {
                fa.tactics.contains(x) || rule.tactics.iter().any(|t| t.to_lowercase() == *x)
            }) && technique.as_ref().is_none_or(|x| {
                rule.techniques
                    .iter()
                    .any(|t| t.to_lowercase().starts_with(x.as_str()))
            }) && source.as_ref().is_none_or(|x| {
                rule.dependencies
                    .iter()
                    .any(|d| d.dependency.to_string().to_lowercase().contains(x.as_str()))
            }) && origin
                .as_ref()
                .is_none_or(|x| rule.origin.format.as_str() == x)
                && status.as_ref().is_none_or(|x| rule.status.as_str() == x)
                && validation
                    .as_ref()
                    .is_none_or(|x| fa.validations.contains(x.as_str()))
                && owner.as_ref().is_none_or(|x| {
                    rule.owner
                        .as_deref()
                        .is_some_and(|o| o.to_lowercase().contains(x.as_str()))
                })
                && text.as_ref().is_none_or(|x| {
                    rule.title.to_lowercase().contains(x.as_str())
                        || rule.id.0.to_lowercase().contains(x.as_str())
                })
        })
        .collect();
    matching
        .into_iter()
        .map(|(id, r, fa)| RuleRow {
            id: id.0.clone(),
            href: format!("/rules/{}", segment(&id.0)),
            title: r.rule.title.clone(),
            format: r.rule.origin.format.as_str(),
            techniques: if fa.techniques.is_empty() {
                r.rule
                    .techniques
                    .iter()
                    .map(|t| (t.clone(), "unresolved"))
                    .collect()
            } else {
                fa.techniques
                    .iter()
                    .map(|(t, s)| (t.to_string(), state_words(*s).0))
                    .collect()
            },
            status: r.rule.status.as_str(),
            validation: if fa.validations.is_empty() {
                "—".into()
            } else {
                fa.validations
                    .iter()
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            owner: r.rule.owner.clone().unwrap_or_default(),
        })
        .collect()
}

pub(crate) async fn rules_page(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
    Extension(csrf): Extension<Csrf>,
    Query(q): Query<RuleQuery>,
) -> Result<Response, PageError> {
    let snap = app.snapshot();
    let matching = rule_rows(&snap, &q);
    let total = matching.len();
    let pages = total.div_ceil(PER_PAGE).max(1);
    let page = q.page.unwrap_or(1).clamp(1, pages);
    let rows = matching
        .into_iter()
        .skip((page - 1) * PER_PAGE)
        .take(PER_PAGE)
        .collect();
    let formats: BTreeSet<&'static str> = snap
        .state
        .rules
        .values()
        .map(|r| r.rule.origin.format.as_str())
        .collect();
    let s = |v: &Option<String>| val(v).unwrap_or("").to_string();
    let page = RulesPage {
        frame: Frame::new(&app, "rules", "Rules", Some(&who), &csrf),
        base_qs: q.query_without_page(),
        q: RuleQueryView {
            tactic: s(&q.tactic),
            technique: s(&q.technique),
            source: s(&q.source),
            origin: s(&q.origin),
            status: s(&q.status),
            validation: s(&q.validation),
            owner: s(&q.owner),
            q: s(&q.q),
        },
        rows,
        total,
        page,
        pages,
        formats: formats.into_iter().collect(),
        tactics: app
            .knowledge()
            .catalog
            .tactics()
            .iter()
            .map(|t| (t.shortname.clone(), t.name.clone()))
            .collect(),
    };
    render(&page)
}

struct DepLine {
    dependency: String,
    met: bool,
    detail: String,
}

struct ResultLine {
    at: String,
    technique: String,
    outcome: &'static str,
    test: String,
    by: String,
}

struct TuningLine {
    at: String,
    kind: &'static str,
    what: String,
    reason: String,
    author: String,
}

#[derive(Template)]
#[template(path = "rule.html")]
struct RulePage {
    frame: Frame,
    id: String,
    title: String,
    format: &'static str,
    root: String,
    path: String,
    status: &'static str,
    severity: String,
    owner: String,
    maturity: String,
    content_changed: String,
    techniques: Vec<(String, Badge, String)>,
    dependencies: Vec<DepLine>,
    tuning: Vec<TuningLine>,
    results: Vec<ResultLine>,
}

pub(crate) async fn rule_page(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
    Extension(csrf): Extension<Csrf>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let snap = app.snapshot();
    let rid = RuleId(id.clone());
    let Some(rec) = snap.state.rules.get(&rid) else {
        return Err(PageError::not_found(format!("no rule with id {id:?}")));
    };
    let rule = &rec.rule;
    let cov = &snap.coverage;
    let techniques = cov
        .techniques
        .iter()
        .filter_map(|t| {
            let r = t.rules.iter().find(|r| r.rule == rid)?;
            Some((
                t.technique.to_string(),
                Badge::of(t.state),
                format!("{} — {}", t.name, r.validation.status.kind().as_str()),
            ))
        })
        .collect();
    let dependencies = match cov.rule(&rid) {
        Some(a) => cov
            .dependencies_of(a)
            .map(|(d, s)| DepLine {
                dependency: d.to_string(),
                met: s.is_satisfied(),
                detail: match s {
                    DependencyState::Satisfied { by } => format!("provided by {}", by.join(", ")),
                    DependencyState::Silent { source, since } => match since {
                        Some(t) => format!("{source} silent since {t}"),
                        None => format!("{source} never seen"),
                    },
                    DependencyState::NotQueryable { source, state } => {
                        format!("{source} is only {}", state.as_str())
                    }
                    DependencyState::Missing => "no source provides it".into(),
                },
            })
            .collect(),
        None => rule
            .dependencies
            .iter()
            .map(|d| DepLine {
                dependency: d.dependency.to_string(),
                met: false,
                detail: "not assessed".into(),
            })
            .collect(),
    };
    let mut results: Vec<ResultLine> = snap
        .state
        .results
        .range((rid.clone(), String::new())..)
        .take_while(|((r, _), _)| *r == rid)
        .flat_map(|(_, v)| v.iter())
        .map(|r| ResultLine {
            at: r.at.strftime("%Y-%m-%d %H:%M").to_string(),
            technique: r.technique.clone(),
            outcome: r.outcome.as_str(),
            test: r.test.clone().unwrap_or_default(),
            by: r.by.clone(),
        })
        .collect();
    results.sort_by(|a, b| b.at.cmp(&a.at));
    let page = RulePage {
        frame: Frame::new(&app, "rules", rule.title.clone(), Some(&who), &csrf),
        id: rule.id.0.clone(),
        title: rule.title.clone(),
        format: rule.origin.format.as_str(),
        root: rule.origin.root.clone(),
        path: rule.origin.path.clone(),
        status: rule.status.as_str(),
        severity: rule.severity.clone().unwrap_or_default(),
        owner: rule.owner.clone().unwrap_or_default(),
        maturity: rule.maturity.clone().unwrap_or_default(),
        content_changed: rec
            .content_changed_at
            .strftime("%Y-%m-%d %H:%M")
            .to_string(),
        techniques,
        dependencies,
        tuning: rule
            .tuning
            .iter()
            .rev()
            .map(|t| TuningLine {
                at: t.at.strftime("%Y-%m-%d %H:%M").to_string(),
                kind: t.kind.as_str(),
                what: t.what.clone(),
                reason: t.reason.clone(),
                author: t.author.clone(),
            })
            .collect(),
        results,
    };
    render(&page)
}

// ---------------------------------------------------------------- data sources

struct SourceRow {
    name: String,
    platforms: String,
    scope: String,
    state: &'static str,
    healthy: bool,
    health: String,
    owner: String,
    unlocks: usize,
    sample: Vec<String>,
    unlocked: Vec<String>,
    matrix: String,
}

#[derive(Template)]
#[template(path = "sources.html")]
struct SourcesPage {
    frame: Frame,
    rows: Vec<SourceRow>,
}

/// The inventory with each source's health and the techniques it unlocks.
fn source_rows(snap: &crate::state::Snapshot) -> Vec<SourceRow> {
    let now = snap.coverage.at;
    snap.state
        .sources
        .values()
        .map(|r| {
            let s = &r.source;
            let unlocked: Vec<String> = snap
                .coverage
                .techniques
                .iter()
                .filter(|t| provided_by(t, &s.name))
                .map(|t| t.technique.to_string())
                .collect();
            let health = s.health(now);
            SourceRow {
                name: s.name.clone(),
                platforms: s.platforms.join(", "),
                scope: s.scope.join(", "),
                state: s.state.as_str(),
                healthy: matches!(health, attest_core::source::Health::Healthy),
                health: health_text(&health),
                owner: s.owner.clone().unwrap_or_default(),
                unlocks: unlocked.len(),
                sample: unlocked.iter().take(6).cloned().collect(),
                unlocked,
                matrix: format!("/?source={}", super::filters::encode(&s.name)),
            }
        })
        .collect()
}

/// The inventory as CSV: health and every technique each source unlocks.
pub(crate) async fn download_sources_csv(
    State(app): State<AppState>,
) -> Result<Response, PageError> {
    let snap = app.snapshot();
    let rows = source_rows(&snap).into_iter().map(|r| {
        vec![
            r.name,
            r.platforms,
            r.scope,
            r.state.to_string(),
            r.health,
            r.owner,
            r.unlocks.to_string(),
            r.unlocked.join(";"),
        ]
    });
    let body = csv_bytes(
        &[
            "name",
            "platforms",
            "scope",
            "state",
            "health",
            "owner",
            "unlocks",
            "techniques",
        ],
        rows,
    )?;
    Ok(super::matrix::attachment(
        "text/csv; charset=utf-8",
        "attest-sources.csv",
        body,
    ))
}

pub(crate) async fn sources_page(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
    Extension(csrf): Extension<Csrf>,
) -> Result<Response, PageError> {
    let snap = app.snapshot();
    let rows = source_rows(&snap);
    let page = SourcesPage {
        frame: Frame::new(&app, "sources", "Data sources", Some(&who), &csrf),
        rows,
    };
    render(&page)
}

// ---------------------------------------------------------------- backlog

struct BacklogRow {
    id: String,
    technique: String,
    name: String,
    priority: f64,
    priority_text: String,
    tier: String,
    owner: String,
    badge: Badge,
    due: String,
    reasons: Vec<String>,
    next: Vec<String>,
}

#[derive(Template)]
#[template(path = "backlog.html")]
struct BacklogPage {
    frame: Frame,
    profiles: Vec<String>,
    profile: Option<String>,
    sort: String,
    gaps: Vec<BacklogRow>,
    due: Vec<BacklogRow>,
    download_qs: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct BacklogQuery {
    profile: Option<String>,
    sort: Option<String>,
}

pub(crate) async fn backlog_page(
    State(app): State<AppState>,
    Extension(web): Web,
    Extension(who): Extension<Principal>,
    Extension(csrf): Extension<Csrf>,
    Query(q): Query<BacklogQuery>,
) -> Result<Response, PageError> {
    let snap = app.snapshot();
    let profile = chosen_profile(&snap, q.profile);
    let sort = backlog_sort(q.sort.as_deref());
    let (gaps, due) = backlog_rows(&app, &web, profile.as_deref(), sort)?;
    let page = BacklogPage {
        frame: Frame::new(&app, "backlog", "Backlog", Some(&who), &csrf),
        profiles: snap.state.profiles.keys().cloned().collect(),
        profile: profile.clone(),
        sort: sort.to_string(),
        gaps,
        due,
        download_qs: format!(
            "profile={}&sort={sort}",
            super::filters::encode(profile.as_deref().unwrap_or(""))
        ),
    };
    render(&page)
}

/// The profile's backlog: (items not validated, due re-validations), sorted by priority or owner.
fn backlog_rows(
    app: &AppState,
    web: &WebState,
    profile: Option<&str>,
    sort: &str,
) -> Result<(Vec<BacklogRow>, Vec<BacklogRow>), PageError> {
    let (mut gaps, mut due) = (Vec::new(), Vec::new());
    if let Some(name) = profile {
        let f = Filters {
            profile: Some(name.to_string()),
            ..Default::default()
        };
        let s = web.scopes.scoped(app, &f)?;
        if let Some(target) = s.target() {
            let items = backlog(
                s.snap.catalog(),
                &s.snap.state,
                target,
                s.coverage(),
                &Ownership::default(),
                &BacklogOptions::default(),
                s.coverage().at,
            );
            for i in items {
                // Without an ownership file, the owners of the rules claiming the technique.
                let owner = i.owner.clone().unwrap_or_else(|| {
                    let owners: BTreeSet<&str> = s
                        .coverage()
                        .technique(i.technique)
                        .map(|t| {
                            t.rules
                                .iter()
                                .filter_map(|r| s.snap.state.rules.get(&r.rule))
                                .filter_map(|r| r.rule.owner.as_deref())
                                .collect()
                        })
                        .unwrap_or_default();
                    owners.into_iter().collect::<Vec<_>>().join(", ")
                });
                let row = BacklogRow {
                    id: i.id.clone(),
                    technique: i.technique.to_string(),
                    name: i.name.clone(),
                    priority: i.priority,
                    priority_text: format!("{:.2}", i.priority),
                    tier: i.tier.clone(),
                    owner,
                    badge: Badge::of(i.state),
                    due: match i.kind {
                        ItemKind::Due { expires } => expires.strftime("%Y-%m-%d").to_string(),
                        ItemKind::NotValidated => String::new(),
                    },
                    reasons: i.reasons.iter().take(3).map(ToString::to_string).collect(),
                    next: i.next.iter().map(ToString::to_string).collect(),
                };
                if row.due.is_empty() {
                    gaps.push(row);
                } else {
                    due.push(row);
                }
            }
        }
    }
    if sort == "owner" {
        let key = |r: &BacklogRow| (r.owner.is_empty(), r.owner.to_lowercase());
        gaps.sort_by(|a, b| key(a).cmp(&key(b)).then(b.priority.total_cmp(&a.priority)));
    }
    Ok((gaps, due))
}

fn csv_bytes(
    header: &[&str],
    rows: impl IntoIterator<Item = Vec<String>>,
) -> Result<Vec<u8>, PageError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| PageError::internal(format!("writing CSV: {e}"));
    w.write_record(header).map_err(fail)?;
    for row in rows {
        w.write_record(&row).map_err(fail)?;
    }
    w.into_inner()
        .map_err(|e| PageError::internal(format!("writing CSV: {e}")))
}

/// The rules table with its filters applied, every page, as CSV.
pub(crate) async fn download_rules_csv(
    State(app): State<AppState>,
    Query(q): Query<RuleQuery>,
) -> Result<Response, PageError> {
    let snap = app.snapshot();
    let rows = rule_rows(&snap, &q).into_iter().map(|r| {
        vec![
            r.id,
            r.title,
            r.format.to_string(),
            r.techniques
                .iter()
                .map(|(t, s)| format!("{t}:{s}"))
                .collect::<Vec<_>>()
                .join(";"),
            r.status.to_string(),
            r.validation,
            r.owner,
        ]
    });
    let body = csv_bytes(
        &[
            "id",
            "title",
            "format",
            "techniques",
            "status",
            "validation",
            "owner",
        ],
        rows,
    )?;
    Ok(super::matrix::attachment(
        "text/csv; charset=utf-8",
        "attest-rules.csv",
        body,
    ))
}

/// The profile's backlog as on the page (sort applied), items and due re-validations, as CSV
/// for a ticketing system.
pub(crate) async fn download_backlog_csv(
    State(app): State<AppState>,
    Extension(web): Web,
    Query(q): Query<BacklogQuery>,
) -> Result<Response, PageError> {
    let snap = app.snapshot();
    let profile = chosen_profile(&snap, q.profile);
    let sort = backlog_sort(q.sort.as_deref());
    let (gaps, due) = backlog_rows(&app, &web, profile.as_deref(), sort)?;
    let rows = gaps.into_iter().chain(due).map(|r| {
        vec![
            r.id,
            r.technique,
            r.name,
            r.priority_text,
            r.tier,
            r.owner,
            r.badge.label.to_string(),
            r.due,
            r.reasons.join("; "),
            r.next.join("; "),
        ]
    });
    let body = csv_bytes(
        &[
            "id",
            "technique",
            "name",
            "priority",
            "tier",
            "owner",
            "state",
            "due",
            "reasons",
            "next_steps",
        ],
        rows,
    )?;
    Ok(super::matrix::attachment(
        "text/csv; charset=utf-8",
        "attest-backlog.csv",
        body,
    ))
}

// ---------------------------------------------------------------- exposures (CTEM, issue #8)

pub(crate) struct ExposureRow {
    asset: String,
    finding: String,
    title: String,
    status: &'static str,
    severity: String,
    effective: String,
    raised: bool,
    techniques: Vec<(String, &'static str, &'static str)>,
    reasons: Vec<String>,
}

/// The view of one exposure's effective priority (computed in the snapshot by attest-core).
pub(crate) fn exposure_row(
    snap: &crate::state::Snapshot,
    e: &attest_core::exposure::EffectivePriority,
) -> ExposureRow {
    let rec = snap.state.exposures.get(&e.key);
    ExposureRow {
        asset: e.key.asset.clone(),
        finding: e.key.finding.clone(),
        title: rec.map(|r| r.exposure.title.clone()).unwrap_or_default(),
        status: rec.map_or("", |r| r.exposure.status.as_str()),
        severity: format!("{:.1}", e.severity),
        effective: format!("{:.1}", e.effective),
        raised: e.raise > 0.0,
        techniques: e
            .techniques
            .iter()
            .map(|t| {
                let (class, label, _) = t
                    .state
                    .map_or(("unresolved", "unresolved", ""), state_words);
                (
                    t.technique
                        .technique
                        .map_or_else(|| t.technique.written.clone(), |id| id.to_string()),
                    class,
                    label,
                )
            })
            .collect(),
        reasons: e.reasons(),
    }
}

/// Exposures whose techniques include `id`, highest effective priority first.
pub(crate) fn exposures_of(
    snap: &crate::state::Snapshot,
    id: TechniqueId,
    limit: usize,
) -> Vec<ExposureRow> {
    snap.exposures
        .iter()
        .filter(|e| {
            e.techniques
                .iter()
                .any(|t| t.technique.technique == Some(id))
        })
        .take(limit)
        .map(|e| exposure_row(snap, e))
        .collect()
}

#[derive(Template)]
#[template(path = "exposures.html")]
struct ExposuresPage {
    frame: Frame,
    q: String,
    technique: String,
    total: usize,
    shown: usize,
    rows: Vec<ExposureRow>,
    download_qs: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ExposureQuery {
    q: Option<String>,
    technique: Option<String>,
}

/// How many exposures the page lists (highest effective priority first).
const EXPOSURES_SHOWN: usize = 200;

/// The exposures matching the page's filters, highest effective priority first.
fn matching_exposures<'s>(
    snap: &'s crate::state::Snapshot,
    q: &ExposureQuery,
) -> Result<Vec<&'s attest_core::exposure::EffectivePriority>, PageError> {
    let text = val(&q.q).map(str::to_lowercase);
    let technique = match val(&q.technique) {
        Some(t) => Some(
            TechniqueId::parse(t)
                .map_err(|_| PageError::bad_request(format!("{t:?} is not a technique id")))?,
        ),
        None => None,
    };
    let matching: Vec<&attest_core::exposure::EffectivePriority> = snap
        .exposures
        .iter()
        .filter(|e| {
            technique.is_none_or(|id| {
                e.techniques
                    .iter()
                    .any(|t| t.technique.technique == Some(id))
            })
        })
        .filter(|e| {
            text.as_ref().is_none_or(|x| {
                e.key.asset.to_lowercase().contains(x.as_str())
                    || e.key.finding.to_lowercase().contains(x.as_str())
                    || snap
                        .state
                        .exposures
                        .get(&e.key)
                        .is_some_and(|r| r.exposure.title.to_lowercase().contains(x.as_str()))
            })
        })
        .collect();
    Ok(matching)
}

/// Every exposure matching the page's filters (not only those shown) as CSV, with the
/// reasoning behind each effective priority.
pub(crate) async fn download_exposures_csv(
    State(app): State<AppState>,
    Query(q): Query<ExposureQuery>,
) -> Result<Response, PageError> {
    let snap = app.snapshot();
    let rows = matching_exposures(&snap, &q)?
        .into_iter()
        .map(|e| {
            let r = exposure_row(&snap, e);
            vec![
                r.asset,
                r.finding,
                r.title,
                r.status.to_string(),
                r.severity,
                r.effective,
                r.techniques
                    .iter()
                    .map(|(t, class, _)| format!("{t}:{class}"))
                    .collect::<Vec<_>>()
                    .join(";"),
                r.reasons.join("; "),
            ]
        })
        .collect::<Vec<_>>();
    let body = csv_bytes(
        &[
            "asset",
            "finding",
            "title",
            "status",
            "severity",
            "effective_priority",
            "techniques",
            "reasons",
        ],
        rows,
    )?;
    Ok(super::matrix::attachment(
        "text/csv; charset=utf-8",
        "attest-exposures.csv",
        body,
    ))
}

pub(crate) async fn exposures_page(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
    Extension(csrf): Extension<Csrf>,
    Query(q): Query<ExposureQuery>,
) -> Result<Response, PageError> {
    let snap = app.snapshot();
    let matching = matching_exposures(&snap, &q)?;
    let rows: Vec<ExposureRow> = matching
        .iter()
        .take(EXPOSURES_SHOWN)
        .map(|e| exposure_row(&snap, e))
        .collect();
    let page = ExposuresPage {
        frame: Frame::new(&app, "exposures", "Exposures", Some(&who), &csrf),
        q: val(&q.q).unwrap_or("").to_string(),
        technique: val(&q.technique).unwrap_or("").to_string(),
        total: matching.len(),
        shown: rows.len(),
        rows,
        download_qs: format!(
            "q={}&technique={}",
            super::filters::encode(val(&q.q).unwrap_or("")),
            super::filters::encode(val(&q.technique).unwrap_or(""))
        ),
    };
    render(&page)
}
