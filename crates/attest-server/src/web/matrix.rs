//! The matrix (home page) and the downloads of what it shows: tactics as columns in matrix
//! order, techniques as cells coloured by state (with a glyph and a pattern, so colour is never
//! the only signal), sub-techniques in a disclosure, the reasons on hover and focus, and the
//! profile's priority as a bar.

use std::collections::{BTreeSet, HashSet};

use askama::Template;
use attest_attack::TechniqueId;
use attest_core::coverage::{CatalogTechnique, Coverage, CoverageState, TechniqueCoverage};
use attest_formats::export::coverage_table::{coverage_csv, coverage_workbook, technique_row};
use attest_formats::export::navigator::{CoverageLayerError, CoverageLayerKind, coverage_layer};
use axum::extract::{Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::{Extension, extract::Extension as Ext};
use serde::Deserialize;

use super::cache::Scoped;
use super::filters::Filters;
use super::session::Csrf;
use super::{Frame, PageError, WebState, render};
use crate::auth::Principal;
use crate::state::AppState;

/// How many reasons a cell's tooltip lists before "and N more".
const TIP_REASONS: usize = 3;

/// A state's class, words and glyph.
pub(crate) fn state_words(s: CoverageState) -> (&'static str, &'static str, &'static str) {
    match s {
        CoverageState::Validated => ("validated", "validated", "✓"),
        CoverageState::Unvalidated => ("unvalidated", "rule exists (unvalidated)", "○"),
        CoverageState::Failing => ("failing", "failing", "✗"),
        CoverageState::Degraded => ("degraded", "degraded", "!"),
        CoverageState::Gap => ("gap", "gap", "–"),
    }
}

/// One technique cell.
pub(crate) struct Cell {
    pub id: String,
    pub name: String,
    pub class: &'static str,
    pub label: &'static str,
    pub glyph: &'static str,
    /// Outside the profile, the actor's set or the scope: shown muted.
    pub muted: bool,
    pub why_muted: &'static str,
    pub tip: String,
    /// Priority bar bucket 1..=4 (0: none).
    pub prio: u8,
    pub tier: String,
    pub actor_uses: bool,
    pub subs: Vec<Cell>,
    /// "validated/total" sub-techniques, for parents.
    pub sub_count: String,
    /// Open the disclosure (a filter matched a sub-technique).
    pub open: bool,
}

pub(crate) struct Column {
    pub id: String,
    pub name: String,
    pub shortname: String,
    pub cells: Vec<Cell>,
}

pub(crate) struct LegendItem {
    pub class: &'static str,
    pub label: &'static str,
    pub glyph: &'static str,
    pub count: usize,
    pub value: &'static str,
}

pub(crate) struct Options {
    pub profiles: Vec<String>,
    pub groups: Vec<(String, String)>,
    pub platforms: Vec<String>,
    pub scopes: Vec<String>,
    pub tactics: Vec<(String, String)>,
    pub sources: Vec<String>,
}

#[derive(Template)]
#[template(path = "matrix.html")]
pub(crate) struct MatrixPage {
    pub frame: Frame,
    pub f: Filters,
    pub opts: Options,
    pub columns: Vec<Column>,
    pub legend: Vec<LegendItem>,
    pub headline: String,
    pub actor_name: Option<String>,
    pub qs: String,
    pub shown: usize,
}

/// The options the filter form offers.
pub(crate) fn options(app: &AppState, scoped: &Scoped) -> Options {
    let state = &scoped.snap.state;
    let catalog = scoped.snap.catalog();
    let platforms: BTreeSet<String> = catalog
        .techniques()
        .iter()
        .flat_map(|t| t.platforms.iter().cloned())
        .collect();
    let scopes: BTreeSet<String> = state
        .sources
        .values()
        .flat_map(|s| s.source.scope.iter().cloned())
        .collect();
    let groups = super::pages::group_options(app);
    Options {
        profiles: state.profiles.keys().cloned().collect(),
        groups,
        platforms: platforms.into_iter().collect(),
        scopes: scopes.into_iter().collect(),
        tactics: catalog
            .tactics()
            .iter()
            .map(|t| (t.shortname.clone(), t.name.clone()))
            .collect(),
        sources: state.sources.keys().cloned().collect(),
    }
}

/// What the filters select: the techniques (parents and subs) that pass, in catalog order, with
/// their coverage; used by the matrix and by the downloads.
struct Selection<'a> {
    cov: &'a Coverage,
    all: &'a Coverage,
    f: &'a Filters,
    actor: Option<HashSet<TechniqueId>>,
    max_score: f64,
    scoped: &'a Scoped,
}

impl<'a> Selection<'a> {
    fn new(scoped: &'a Scoped, f: &'a Filters) -> Result<Selection<'a>, PageError> {
        let actor = match f.actor() {
            Some(q) => {
                let Some(g) = scoped.snap.catalog().group(q) else {
                    return Err(PageError::bad_request(format!(
                        "no ATT&CK group matches {q:?}"
                    )));
                };
                Some(g.uses.iter().map(|(t, _)| *t).collect())
            }
            None => None,
        };
        let max_score = scoped
            .target()
            .map(|t| t.techniques.iter().map(|t| t.score).fold(0.0, f64::max))
            .unwrap_or(0.0);
        Ok(Selection {
            cov: scoped.coverage(),
            all: &scoped.snap.coverage,
            f,
            actor,
            max_score,
            scoped,
        })
    }

    /// The technique's coverage in scope, else its unscoped coverage (muted).
    fn coverage_of(&self, id: TechniqueId) -> (Option<&'a TechniqueCoverage>, bool) {
        match self.cov.technique(id) {
            Some(t) => (Some(t), false),
            None => (self.all.technique(id), true),
        }
    }

    fn visible_on_platform(&self, t: &CatalogTechnique) -> bool {
        self.f.platform().is_none_or(|p| t.on_platform(p))
    }

    fn cell(&self, t: &CatalogTechnique) -> Option<Cell> {
        if !self.visible_on_platform(t) {
            return None;
        }
        let (tc, out_of_scope) = self.coverage_of(t.id);
        let state = tc.map_or(CoverageState::Gap, |c| c.state);
        let passes = tc.is_some_and(|c| self.f.matches(c)) || (!self.f.narrows() && tc.is_none());
        let mut subs: Vec<Cell> = t
            .subtechniques
            .iter()
            .filter_map(|s| self.scoped.snap.catalog().technique(*s))
            .filter_map(|s| self.cell(s))
            .collect();
        let any_sub = !subs.is_empty();
        if !passes && !any_sub {
            return None;
        }
        subs.sort_by(|a, b| a.id.cmp(&b.id));
        let actor_uses = self.actor.as_ref().is_some_and(|a| a.contains(&t.id));
        let (muted, why_muted) = if self.actor.is_some() && !actor_uses {
            (true, "not used by the actor")
        } else if out_of_scope && self.f.profile().is_some() {
            (true, "not in profile")
        } else if out_of_scope {
            (true, "out of scope")
        } else {
            (false, "")
        };
        let (class, label, glyph) = state_words(state);
        let target = self.scoped.target().and_then(|ts| ts.get(t.id));
        let prio = match target {
            Some(tt) if self.max_score > 0.0 => {
                ((tt.score / self.max_score * 4.0).ceil() as u8).clamp(1, 4)
            }
            _ => 0,
        };
        let mut tip = format!("{} {} — {label}", t.id, t.name);
        if let Some(tt) = target {
            tip.push_str(&format!(" · priority {:.2} ({})", tt.score, tt.tier));
        }
        if muted {
            tip.push_str(&format!(" · {why_muted}"));
        }
        if let Some(c) = tc {
            for r in c.reasons.iter().take(TIP_REASONS) {
                tip.push_str("\n• ");
                tip.push_str(&r.to_string());
            }
            if c.reasons.len() > TIP_REASONS {
                tip.push_str(&format!("\n… and {} more", c.reasons.len() - TIP_REASONS));
            }
        }
        let sub_count = tc
            .and_then(|c| c.subtechniques)
            .map(|s| format!("{}/{}", s.validated, s.total))
            .unwrap_or_default();
        Some(Cell {
            id: t.id.to_string(),
            name: t.name.clone(),
            class,
            label,
            glyph,
            muted,
            why_muted,
            tip,
            prio,
            tier: target.map(|tt| tt.tier.clone()).unwrap_or_default(),
            actor_uses,
            open: self.f.narrows() && !passes && any_sub,
            subs,
            sub_count,
        })
    }

    fn columns(&self) -> Vec<Column> {
        let catalog = self.scoped.snap.catalog();
        let mut columns: Vec<Column> = catalog
            .tactics()
            .iter()
            .filter(|tac| self.f.tactic().is_none_or(|x| x == tac.shortname))
            .map(|tac| Column {
                id: tac.id.clone(),
                name: tac.name.clone(),
                shortname: tac.shortname.clone(),
                cells: Vec::new(),
            })
            .collect();
        for t in catalog.techniques().iter().filter(|t| t.parent.is_none()) {
            let mut cell: Option<Cell> = None;
            for col in columns.iter_mut() {
                if !t.tactics.contains(&col.shortname) {
                    continue;
                }
                if cell.is_none() {
                    cell = self.cell(t);
                }
                if let Some(c) = &cell {
                    col.cells.push(c.clone_shallow());
                }
            }
        }
        for col in &mut columns {
            col.cells.sort_by_key(|c| c.name.to_lowercase());
        }
        columns
    }

    /// Every technique (parents and subs) the filters select, with its coverage, once each.
    fn techniques(&self) -> Vec<&'a TechniqueCoverage> {
        let catalog = self.scoped.snap.catalog();
        catalog
            .techniques()
            .iter()
            .filter(|t| self.visible_on_platform(t))
            .filter(|t| {
                self.f
                    .tactic()
                    .is_none_or(|x| t.tactics.iter().any(|y| y == x))
            })
            .filter(|t| self.actor.as_ref().is_none_or(|a| a.contains(&t.id)))
            .filter_map(|t| self.cov.technique(t.id))
            .filter(|c| self.f.matches(c))
            .collect()
    }
}

impl Cell {
    /// A copy for a second tactic column (a technique may sit under several tactics).
    fn clone_shallow(&self) -> Cell {
        Cell {
            id: self.id.clone(),
            name: self.name.clone(),
            class: self.class,
            label: self.label,
            glyph: self.glyph,
            muted: self.muted,
            why_muted: self.why_muted,
            tip: self.tip.clone(),
            prio: self.prio,
            tier: self.tier.clone(),
            actor_uses: self.actor_uses,
            subs: self.subs.iter().map(Cell::clone_shallow).collect(),
            sub_count: self.sub_count.clone(),
            open: self.open,
        }
    }
}

pub(crate) fn legend(cov: &Coverage) -> Vec<LegendItem> {
    CoverageState::ALL
        .iter()
        .map(|s| {
            let (class, label, glyph) = state_words(*s);
            LegendItem {
                class,
                label,
                glyph,
                count: cov.overall.count(*s),
                value: s.as_str(),
            }
        })
        .collect()
}

/// The headline: validated share (of priority weight with a profile) and counts.
pub(crate) fn headline(cov: &Coverage, profile: Option<&str>) -> String {
    let o = &cov.overall;
    let share = o.share(CoverageState::Validated) * 100.0;
    match profile {
        Some(p) => format!(
            "{share:.1}% of {p}'s priority weight validated ({} of {} techniques)",
            o.count(CoverageState::Validated),
            o.total()
        ),
        None => format!(
            "{share:.1}% of techniques validated ({} of {})",
            o.count(CoverageState::Validated),
            o.total()
        ),
    }
}

/// Renders the matrix for the filters (the function the render benchmark times).
pub fn render_matrix(app: &AppState, web: &WebState, query: &str) -> Result<String, String> {
    let uri: axum::http::Uri = format!("/?{query}")
        .parse()
        .map_err(|e| format!("bad query: {e}"))?;
    let f = Query::<Filters>::try_from_uri(&uri)
        .map_err(|e| e.to_string())?
        .0;
    let page = matrix_model(app, web, f, None, &Csrf(String::new())).map_err(|e| e.message)?;
    page.render().map_err(|e| e.to_string())
}

fn matrix_model(
    app: &AppState,
    web: &WebState,
    f: Filters,
    who: Option<&Principal>,
    csrf: &Csrf,
) -> Result<MatrixPage, PageError> {
    let scoped = web.scopes.scoped(app, &f)?;
    let sel = Selection::new(&scoped, &f)?;
    let columns = sel.columns();
    let shown = columns.iter().map(|c| c.cells.len()).sum();
    let actor_name = f
        .actor()
        .and_then(|q| scoped.snap.catalog().group(q))
        .map(|g| format!("{} ({})", g.name, g.id));
    let cov = scoped.coverage();
    Ok(MatrixPage {
        frame: Frame::new(app, "matrix", "Coverage matrix", who, csrf),
        opts: options(app, &scoped),
        legend: legend(cov),
        headline: headline(cov, f.profile()),
        actor_name,
        qs: f.query(),
        columns,
        shown,
        f,
    })
}

pub(crate) async fn matrix_page(
    State(app): State<AppState>,
    Extension(web): Extension<std::sync::Arc<WebState>>,
    Ext(who): Ext<Principal>,
    Ext(csrf): Ext<Csrf>,
    Query(f): Query<Filters>,
) -> Result<Response, PageError> {
    let page = matrix_model(&app, &web, f, Some(&who), &csrf)?;
    render(&page)
}

#[derive(Debug, Deserialize)]
pub(crate) struct LayerQuery {
    #[serde(flatten)]
    f: Filters,
    kind: Option<String>,
}

pub(crate) fn attachment(
    content_type: &'static str,
    name: &str,
    body: impl IntoResponse,
) -> Response {
    let disposition = format!("attachment; filename=\"{name}\"");
    (
        [
            (CONTENT_TYPE, content_type.to_string()),
            (CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}

pub(crate) async fn download_layer(
    State(app): State<AppState>,
    Extension(web): Extension<std::sync::Arc<WebState>>,
    Query(q): Query<LayerQuery>,
) -> Result<Response, PageError> {
    let f = &q.f;
    let scoped = web.scopes.scoped(&app, f)?;
    let sel = Selection::new(&scoped, f)?;
    // The layer of what the page shows: the scope's coverage cut down to the selection, then
    // the conversion the CLI and the API share.
    let mut techniques: Vec<TechniqueCoverage> = sel.techniques().into_iter().cloned().collect();
    techniques.sort_by_key(|t| t.technique);
    let shown = Coverage {
        techniques,
        ..scoped.coverage().clone()
    };
    let kind = CoverageLayerKind::parse(q.kind.as_deref().unwrap_or("state"), f.actor())
        .map_err(|e| PageError::bad_request(e.to_string()))?;
    let json = coverage_layer(
        scoped.snap.kb(),
        &shown,
        scoped.target(),
        kind,
        f.platform(),
    )
    .map_err(|e| match e {
        CoverageLayerError::Invalid(_) => PageError::internal(e.to_string()),
        other => PageError::bad_request(other.to_string()),
    })?;
    Ok(attachment("application/json", "attest-layer.json", json))
}

fn rows(
    app: &AppState,
    web: &WebState,
    f: &Filters,
) -> Result<(Vec<Vec<String>>, Scoped), PageError> {
    let scoped = web.scopes.scoped(app, f)?;
    let rows = {
        let sel = Selection::new(&scoped, f)?;
        sel.techniques().into_iter().map(technique_row).collect()
    };
    Ok((rows, scoped))
}

pub(crate) async fn download_csv(
    State(app): State<AppState>,
    Extension(web): Extension<std::sync::Arc<WebState>>,
    Query(f): Query<Filters>,
) -> Result<Response, PageError> {
    let (rows, _) = rows(&app, &web, &f)?;
    Ok(attachment(
        "text/csv; charset=utf-8",
        "attest-coverage.csv",
        coverage_csv(&rows),
    ))
}

pub(crate) async fn download_xlsx(
    State(app): State<AppState>,
    Extension(web): Extension<std::sync::Arc<WebState>>,
    Query(f): Query<Filters>,
) -> Result<Response, PageError> {
    let (rows, scoped) = rows(&app, &web, &f)?;
    let bytes = coverage_workbook(scoped.coverage(), &rows)
        .map_err(|e| PageError::internal(format!("writing the workbook: {e}")))?;
    Ok(attachment(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "attest-coverage.xlsx",
        bytes,
    ))
}
