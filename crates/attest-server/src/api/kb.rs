//! ATT&CK look-ups: a technique (with our coverage), a group with the techniques it uses, and
//! search — the CLI's `attest attack technique|group|search`.

use attest_attack::{GroupTechniqueOptions, MatchField, UsePath};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{parse_technique, query};
use crate::enrich::{EnrichRequest, enrich};
use crate::problem::Problem;
use crate::state::AppState;

/// Platform filter of a technique look-up.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(super) struct TechniqueQuery {
    /// Only analytics for this platform (e.g. `Windows`).
    platform: Option<String>,
}

/// Knowledge-base facts and our coverage of one technique: the enrichment answer for it.
#[utoipa::path(get, path = "/api/v1/techniques/{id}", tag = "attack",
    params(("id" = String, Path, description = "ATT&CK id, e.g. T1003.001 (revoked ids follow revoked-by)"), TechniqueQuery),
    responses((status = 200, description = "The technique with detection strategies, procedures, groups, software, mitigations, related techniques and coverage", body = serde_json::Value),
              (status = 400, description = "Not a technique id", body = Problem),
              (status = 404, description = "Not an active technique", body = Problem)))]
pub(super) async fn technique(
    State(app): State<AppState>,
    Path(id): Path<String>,
    q: Result<Query<TechniqueQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    let q = query(q)?;
    let tid = parse_technique(&id)?;
    let snap = app.snapshot();
    let req = EnrichRequest {
        techniques: vec![tid.to_string()],
        platform: q.platform,
        ..EnrichRequest::default()
    };
    let runbooks = app.runbooks();
    let answer = enrich(app.enrich_sources(&snap, &runbooks), &req)
        .map_err(|e| Problem::not_found("profile-not-found", e.to_string()))?;
    match answer.techniques.into_iter().next() {
        Some(t) => Ok(Json(t).into_response()),
        None => Err(Problem::not_found(
            "technique-not-found",
            format!("no active technique {tid} in the knowledge base"),
        )),
    }
}

/// Which paths from a group to a technique count.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(super) struct GroupQuery {
    /// Also techniques of software the group uses.
    via_software: bool,
    /// Also techniques of campaigns attributed to the group.
    via_campaigns: bool,
}

/// A technique a group uses, and how we know.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct GroupTechniqueView {
    /// Technique id.
    id: String,
    /// Name.
    name: String,
    /// Tactic short names.
    tactics: Vec<String>,
    /// `direct`, `software:S0002`, `campaign:C0001`.
    paths: Vec<String>,
    /// Our coverage state of it now.
    state: Option<&'static str>,
}

/// A group with its techniques.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct GroupView {
    /// ATT&CK id.
    id: Option<String>,
    /// Name.
    name: String,
    /// Aliases.
    aliases: Vec<String>,
    /// Techniques it uses, sorted by id.
    techniques: Vec<GroupTechniqueView>,
}

/// An ATT&CK group by id, name or alias, with the techniques it uses and our state of each.
#[utoipa::path(get, path = "/api/v1/groups/{query}", tag = "attack",
    params(("query" = String, Path, description = "G0016, APT29, Cozy Bear…"), GroupQuery),
    responses((status = 200, description = "The group", body = GroupView),
              (status = 404, description = "No group matches", body = Problem)))]
pub(super) async fn group(
    State(app): State<AppState>,
    Path(q): Path<String>,
    opts: Result<Query<GroupQuery>, QueryRejection>,
) -> Result<Json<GroupView>, Problem> {
    let opts = query(opts)?;
    let knowledge = app.knowledge();
    let kb = &knowledge.kb;
    let Some(g) = kb.group(&q) else {
        return Err(Problem::not_found(
            "group-not-found",
            format!("no ATT&CK group matches `{q}` (by ID, name or alias)"),
        ));
    };
    let snap = app.snapshot();
    let mut techniques = kb.group_techniques(
        g,
        GroupTechniqueOptions {
            via_software: opts.via_software,
            via_campaigns: opts.via_campaigns,
        },
    );
    techniques.sort_by_key(|gt| gt.technique.id);
    let techniques = techniques
        .iter()
        .map(|gt| {
            let mut paths: Vec<String> = gt
                .paths
                .iter()
                .map(|e| match e.path {
                    UsePath::Direct => "direct".to_string(),
                    UsePath::Software(s) => format!(
                        "software:{}",
                        s.meta.attack_id.as_deref().unwrap_or(&s.meta.name)
                    ),
                    UsePath::Campaign(c) => format!(
                        "campaign:{}",
                        c.meta.attack_id.as_deref().unwrap_or(&c.meta.name)
                    ),
                })
                .collect();
            paths.dedup();
            GroupTechniqueView {
                id: gt.technique.id.to_string(),
                name: gt.technique.meta.name.clone(),
                tactics: gt.technique.tactics.clone(),
                paths,
                state: snap
                    .coverage
                    .technique(gt.technique.id)
                    .map(|t| t.state.as_str()),
            }
        })
        .collect();
    Ok(Json(GroupView {
        id: g.meta.attack_id.clone(),
        name: g.meta.name.clone(),
        aliases: g.aliases.clone(),
        techniques,
    }))
}

/// Search terms.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct SearchQuery {
    /// Text to look for (case-insensitive) in ids, names, aliases and descriptions.
    q: String,
    /// At most this many hits (default 50).
    limit: Option<usize>,
}

/// A search hit.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct SearchHitView {
    /// `technique`, `group`, `software`, `tactic`, …
    kind: &'static str,
    /// ATT&CK id.
    id: Option<String>,
    /// Name.
    name: String,
    /// `id`, `name`, `alias` or `description`.
    matched: &'static str,
}

/// Case-insensitive search over the knowledge base, best matches first.
#[utoipa::path(get, path = "/api/v1/search", tag = "attack", params(SearchQuery),
    responses((status = 200, description = "Hits", body = Vec<SearchHitView>),
              (status = 400, description = "No `q`", body = Problem)))]
pub(super) async fn search(
    State(app): State<AppState>,
    q: Result<Query<SearchQuery>, QueryRejection>,
) -> Result<Json<Vec<SearchHitView>>, Problem> {
    let q = query(q)?;
    let knowledge = app.knowledge();
    let hits = knowledge.kb.search(&q.q);
    Ok(Json(
        hits.iter()
            .take(q.limit.unwrap_or(50))
            .map(|h| {
                let m = h.object.meta();
                SearchHitView {
                    kind: h.object.kind_label(),
                    id: m.attack_id.clone(),
                    name: m.name.clone(),
                    matched: match h.field {
                        MatchField::Id => "id",
                        MatchField::Name => "name",
                        MatchField::Alias => "alias",
                        MatchField::Description => "description",
                    },
                }
            })
            .collect(),
    ))
}
