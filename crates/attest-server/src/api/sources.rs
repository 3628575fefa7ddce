//! The data source inventory: list, show, add, change, remove, heartbeat — `attest sources`.

use attest_core::journal::Event;
use attest_core::registry::derive_components;
use attest_core::source::{DataSource, LogSourceRef, PipelineState};
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{body, journal, parse_instant, query, unprocessable};
use crate::auth::Principal;
use crate::problem::Problem;
use crate::state::AppState;
use crate::views::SourceView;

/// The inventory.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct SourceList {
    /// Sources.
    count: usize,
    /// With their health now.
    sources: Vec<SourceView>,
}

/// The inventory with health now.
#[utoipa::path(get, path = "/api/v1/sources", tag = "sources",
    responses((status = 200, description = "The inventory", body = SourceList)))]
pub(super) async fn list(State(app): State<AppState>) -> Result<Json<SourceList>, Problem> {
    let found = app
        .store()
        .sources()
        .await
        .map_err(|e| Problem::store("list sources", &e))?;
    let now = Timestamp::now();
    let sources: Vec<SourceView> = found.iter().map(|s| SourceView::of(s, now)).collect();
    Ok(Json(SourceList {
        count: sources.len(),
        sources,
    }))
}

async fn existing(app: &AppState, name: &str) -> Result<DataSource, Problem> {
    app.store()
        .source(name)
        .await
        .map_err(|e| Problem::store("read a source", &e))?
        .map(|r| r.source)
        .ok_or_else(|| {
            Problem::not_found("source-not-found", format!("no inventory source `{name}`"))
        })
}

/// One source with its health now.
#[utoipa::path(get, path = "/api/v1/sources/{name}", tag = "sources",
    params(("name" = String, Path, description = "Source name")),
    responses((status = 200, description = "The source", body = SourceView),
              (status = 404, description = "No such source", body = Problem)))]
pub(super) async fn show(
    State(app): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<SourceView>, Problem> {
    let rec = app
        .store()
        .source(&name)
        .await
        .map_err(|e| Problem::store("read a source", &e))?
        .ok_or_else(|| {
            Problem::not_found("source-not-found", format!("no inventory source `{name}`"))
        })?;
    Ok(Json(SourceView::of(&rec, Timestamp::now())))
}

/// A source's fields: on creation every field not given is empty; on change only the given
/// fields replace the old ones.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub(super) struct SourceFields {
    /// Unique name (creation only).
    name: Option<String>,
    /// ATT&CK log sources, `NAME` or `NAME:CHANNEL`. Data components are derived from ATT&CK's
    /// log-source catalogue unless `components` are given.
    log_sources: Option<Vec<String>>,
    /// ATT&CK data components provided (checked against the knowledge base).
    components: Option<Vec<String>>,
    /// Platforms covered.
    platforms: Option<Vec<String>>,
    /// Systems or segments covered.
    scope: Option<Vec<String>>,
    /// `planned`, `ingested`, `normalised` or `queryable`.
    state: Option<String>,
    /// Longest expected silence in seconds; past it the source is silent.
    max_silence_secs: Option<i64>,
    /// Products behind the source.
    products: Option<Vec<String>>,
    /// Owner.
    owner: Option<String>,
    /// Description.
    description: Option<String>,
}

/// Applies the given fields as `attest sources add/edit` does; problems name the field.
fn apply(app: &AppState, source: &mut DataSource, f: SourceFields) -> Result<Vec<String>, Problem> {
    let knowledge = app.knowledge();
    let kb = &knowledge.kb;
    let mut warnings = Vec::new();
    if let Some(ls) = &f.log_sources {
        source.log_sources = ls.iter().map(|s| LogSourceRef::parse(s)).collect();
    }
    match &f.components {
        Some(cs) => {
            let mut names = Vec::new();
            for c in cs {
                match kb.data_component(c) {
                    Some(dc) => names.push(dc.meta.name.clone()),
                    None => {
                        return Err(unprocessable(
                            "unknown-component",
                            format!(
                                "components: `{c}` is not an ATT&CK data component in {}",
                                kb.release_label()
                            ),
                        ));
                    }
                }
            }
            source.components = names;
        }
        None if f.log_sources.is_some() => {
            source.components = derive_components(kb, &source.log_sources);
            if source.components.is_empty() {
                warnings.push(format!(
                    "ATT&CK {} lists no data component for these log sources; give components",
                    kb.release_label()
                ));
            }
        }
        None => {}
    }
    if let Some(p) = f.platforms {
        source.platforms = p;
    }
    if let Some(s) = f.scope {
        source.scope = s;
    }
    if let Some(s) = f.state {
        source.state = PipelineState::parse(&s).ok_or_else(|| {
            Problem::bad_request(
                "invalid-pipeline-state",
                format!("state: `{s}` is not planned, ingested, normalised or queryable"),
            )
        })?;
    }
    if let Some(secs) = f.max_silence_secs {
        if secs <= 0 {
            return Err(Problem::bad_request(
                "invalid-max-silence",
                format!("max_silence_secs: {secs} must be positive"),
            ));
        }
        source.max_silence = Some(SignedDuration::from_secs(secs));
    }
    if let Some(p) = f.products {
        source.products = p;
    }
    if f.owner.is_some() {
        source.owner = f.owner;
    }
    if f.description.is_some() {
        source.description = f.description;
    }
    Ok(warnings)
}

/// The outcome of a change to the inventory.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct SourceChange {
    /// The source as it is now (absent after a removal).
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<SourceView>,
    /// Whether anything was journaled.
    changed: bool,
    /// Journal position.
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<u64>,
    /// Warnings.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
}

/// Adds a source to the inventory.
#[utoipa::path(post, path = "/api/v1/sources", tag = "sources", request_body = SourceFields,
    responses((status = 201, description = "Added", body = SourceChange),
              (status = 400, description = "Bad body (names the field)", body = Problem),
              (status = 409, description = "A source of that name exists", body = Problem),
              (status = 422, description = "Unknown data component", body = Problem)))]
pub(super) async fn create(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
    b: Result<Json<SourceFields>, JsonRejection>,
) -> Result<(StatusCode, Json<SourceChange>), Problem> {
    let mut fields = body(b)?;
    let name = fields
        .name
        .take()
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| Problem::bad_request("name-required", "name: a source needs a name"))?;
    let known = app
        .store()
        .source(&name)
        .await
        .map_err(|e| Problem::store("read a source", &e))?;
    if known.is_some() {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "source-exists",
            format!("a source named `{name}` exists already; change it with PATCH"),
        ));
    }
    let mut source = DataSource::new(name.clone());
    let warnings = apply(&app, &mut source, fields)?;
    let out = journal(
        &app,
        &who,
        vec![Event::SourceUpserted(source)],
        Some("API: source added"),
    )
    .await?;
    let view = app
        .store()
        .source(&name)
        .await
        .map_err(|e| Problem::store("read a source", &e))?
        .map(|r| SourceView::of(&r, Timestamp::now()));
    Ok((
        StatusCode::CREATED,
        Json(SourceChange {
            source: view,
            changed: true,
            seq: Some(out.last_seq),
            warnings,
        }),
    ))
}

/// Changes a source: the given fields replace the old ones.
#[utoipa::path(patch, path = "/api/v1/sources/{name}", tag = "sources",
    params(("name" = String, Path, description = "Source name")), request_body = SourceFields,
    responses((status = 200, description = "Changed (or nothing to change)", body = SourceChange),
              (status = 400, description = "Bad body (names the field)", body = Problem),
              (status = 404, description = "No such source", body = Problem)))]
pub(super) async fn update(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    b: Result<Json<SourceFields>, JsonRejection>,
) -> Result<Json<SourceChange>, Problem> {
    let fields = body(b)?;
    if fields.name.as_ref().is_some_and(|n| n != &name) {
        return Err(Problem::bad_request(
            "rename-unsupported",
            "name: a source cannot be renamed; remove it and add it anew",
        ));
    }
    let old = existing(&app, &name).await?;
    let mut source = old.clone();
    let warnings = apply(&app, &mut source, fields)?;
    let mut seq = None;
    let changed = source != old;
    if changed {
        seq = Some(
            journal(
                &app,
                &who,
                vec![Event::SourceUpserted(source)],
                Some("API: source changed"),
            )
            .await?
            .last_seq,
        );
    }
    let view = app
        .store()
        .source(&name)
        .await
        .map_err(|e| Problem::store("read a source", &e))?
        .map(|r| SourceView::of(&r, Timestamp::now()));
    Ok(Json(SourceChange {
        source: view,
        changed,
        seq,
        warnings,
    }))
}

/// Why a source is removed.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(super) struct RemoveQuery {
    /// Why (journaled).
    reason: Option<String>,
}

/// Removes a source (journaled); rules that need it become degraded.
#[utoipa::path(delete, path = "/api/v1/sources/{name}", tag = "sources",
    params(("name" = String, Path, description = "Source name"), RemoveQuery),
    responses((status = 200, description = "Removed", body = SourceChange),
              (status = 404, description = "No such source", body = Problem)))]
pub(super) async fn remove(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    q: Result<Query<RemoveQuery>, QueryRejection>,
) -> Result<Json<SourceChange>, Problem> {
    let q = query(q)?;
    existing(&app, &name).await?;
    let out = journal(
        &app,
        &who,
        vec![Event::SourceRemoved { name }],
        q.reason.as_deref(),
    )
    .await?;
    Ok(Json(SourceChange {
        source: None,
        changed: true,
        seq: Some(out.last_seq),
        warnings: Vec::new(),
    }))
}

/// A heartbeat.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub(super) struct Heartbeat {
    /// When the source was seen producing events (RFC 3339 or a date; default now).
    at: Option<String>,
}

/// A heartbeat's answer.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct HeartbeatAnswer {
    /// The source.
    source: String,
    /// When it was seen.
    last_seen: Timestamp,
    /// Journal position.
    seq: u64,
}

/// Records that a source produced events (now, or `at`). An empty body means now.
#[utoipa::path(post, path = "/api/v1/sources/{name}/heartbeat", tag = "sources",
    params(("name" = String, Path, description = "Source name")),
    request_body(content = Option<Heartbeat>, description = "Optional; `{}` or no body means now"),
    responses((status = 200, description = "Recorded", body = HeartbeatAnswer),
              (status = 404, description = "No such source", body = Problem)))]
pub(super) async fn heartbeat(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    body_in: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<HeartbeatAnswer>, Problem> {
    let bytes = super::upload::bytes(body_in)?;
    let beat: Heartbeat = if bytes.iter().all(u8::is_ascii_whitespace) {
        Heartbeat::default()
    } else {
        serde_json::from_slice(&bytes)
            .map_err(|e| Problem::bad_request("invalid-json", format!("heartbeat body: {e}")))?
    };
    existing(&app, &name).await?;
    let at = match &beat.at {
        Some(raw) => parse_instant("at", raw)?,
        None => Timestamp::now(),
    };
    let out = journal(
        &app,
        &who,
        vec![Event::SourceSeen {
            name: name.clone(),
            at,
        }],
        None,
    )
    .await?;
    Ok(Json(HeartbeatAnswer {
        source: name,
        last_seen: at,
        seq: out.last_seq,
    }))
}

/// Options of an inventory apply.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(super) struct ApplyQuery {
    /// Keep sources the file does not list (default: remove them, journaled — as
    /// `attest sources apply` without `--no-prune`).
    no_prune: bool,
    /// Report what would change, write nothing.
    dry_run: bool,
    /// The file's name, used in problems (default `inventory.yaml`).
    path: Option<String>,
}

/// What applying an inventory did (or would do).
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct InventoryChange {
    /// Sources added.
    added: Vec<String>,
    /// Sources whose declaration changed.
    changed: Vec<String>,
    /// Sources removed.
    removed: Vec<String>,
    /// Sources declared exactly as they are.
    unchanged: usize,
    /// Nothing was written.
    dry_run: bool,
    /// Journal position of the last entry written.
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<u64>,
    /// Warnings (`path:line: message`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
}

/// How a source file is applied.
struct ApplyOptions {
    /// Remove sources the file does not list.
    prune: bool,
    /// Write nothing.
    dry_run: bool,
    /// Journaled as the why, with the file's name.
    why: &'static str,
}

/// Parses a source file with `importer` (synchronously: importers are not `Send`); a 422 naming
/// file and line when it has errors.
fn parse_sources(
    importer: &dyn attest_formats::import::SourceImporter,
    label: &str,
    bytes: &[u8],
) -> Result<(Vec<DataSource>, Vec<String>), Problem> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Problem::bad_request("empty-body", "the upload is empty"));
    }
    let (desired, diags) = importer.import(attest_formats::Input { path: label, bytes });
    let warnings = super::upload::check("invalid-inventory", &diags)?;
    Ok((desired, warnings))
}

/// Fills data components from log sources, plans the change against the inventory and
/// journals it in one transaction (unless `dry_run`).
async fn apply_sources(
    app: &AppState,
    who: &Principal,
    (mut desired, warnings): (Vec<DataSource>, Vec<String>),
    label: &str,
    options: ApplyOptions,
) -> Result<InventoryChange, Problem> {
    let ApplyOptions {
        prune,
        dry_run,
        why,
    } = options;
    attest_core::registry::fill_components(&app.knowledge().kb, &mut desired);
    let existing: Vec<DataSource> = app
        .store()
        .sources()
        .await
        .map_err(|e| Problem::store("list sources", &e))?
        .into_iter()
        .map(|r| r.source)
        .collect();
    let plan = attest_core::registry::plan_inventory_apply(&existing, desired, prune);
    let mut seq = None;
    if !dry_run && !plan.events.is_empty() {
        let why = format!("{why} {label}");
        seq = Some(journal(app, who, plan.events, Some(&why)).await?.last_seq);
    }
    Ok(InventoryChange {
        added: plan.added,
        changed: plan.changed,
        removed: plan.removed,
        unchanged: plan.unchanged,
        dry_run,
        seq,
        warnings,
    })
}

/// Makes the inventory equal to a YAML file (inventory as code, the format of
/// `GET /api/v1/inventory`): adds, changes and — unless `no_prune` — removes sources, in one
/// transaction. Idempotent: applying the same file again writes nothing.
#[utoipa::path(put, path = "/api/v1/inventory", tag = "sources", params(ApplyQuery),
    request_body(content = String, description = "The inventory file (YAML)",
                 content_type = "application/yaml"),
    responses((status = 200, description = "Applied (or, with dry_run, planned)", body = InventoryChange),
              (status = 400, description = "Empty body", body = Problem),
              (status = 422, description = "Invalid file, naming the line", body = Problem)))]
pub(super) async fn apply_inventory(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
    q: Result<Query<ApplyQuery>, QueryRejection>,
    body_in: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<InventoryChange>, Problem> {
    let bytes = super::upload::bytes(body_in)?;
    let q = query(q)?;
    let label = q.path.as_deref().unwrap_or("inventory.yaml");
    let parsed = parse_sources(
        &attest_formats::import::inventory::InventoryImporter,
        label,
        &bytes,
    )?;
    let change = apply_sources(
        &app,
        &who,
        parsed,
        label,
        ApplyOptions {
            prune: !q.no_prune,
            dry_run: q.dry_run,
            why: "API: inventory apply",
        },
    )
    .await?;
    Ok(Json(change))
}

/// The inventory as YAML: the file `PUT /api/v1/inventory` reads (`attest sources export`).
#[utoipa::path(get, path = "/api/v1/inventory", tag = "sources",
    responses((status = 200, description = "The inventory file", body = String,
               content_type = "application/yaml")))]
pub(super) async fn export_inventory(
    State(app): State<AppState>,
) -> Result<axum::response::Response, Problem> {
    use axum::response::IntoResponse;
    let sources: Vec<DataSource> = app
        .store()
        .sources()
        .await
        .map_err(|e| Problem::store("list sources", &e))?
        .into_iter()
        .map(|r| r.source)
        .collect();
    let yaml = attest_formats::export::inventory::write_inventory(&sources).map_err(|e| {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "export-failed",
            e.to_string(),
        )
    })?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "application/yaml; charset=utf-8",
        )],
        yaml,
    )
        .into_response())
}

/// Options of a DeTT&CT import.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(super) struct DettectQuery {
    /// The file's name, used in problems (default `data-sources.yaml`).
    path: Option<String>,
    /// Report what would change, write nothing.
    dry_run: bool,
}

/// Imports a DeTT&CT data-source administration file (YAML, version 1.1): sources are added or
/// changed, none removed (`attest sources import-dettect`).
#[utoipa::path(post, path = "/api/v1/inventory/dettect", tag = "sources", params(DettectQuery),
    request_body(content = String, description = "The DeTT&CT data-source YAML file",
                 content_type = "application/yaml"),
    responses((status = 200, description = "Imported", body = InventoryChange),
              (status = 400, description = "Empty body", body = Problem),
              (status = 422, description = "Invalid file, naming the line", body = Problem)))]
pub(super) async fn import_dettect(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
    q: Result<Query<DettectQuery>, QueryRejection>,
    body_in: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<InventoryChange>, Problem> {
    let bytes = super::upload::bytes(body_in)?;
    let q = query(q)?;
    let label = q.path.as_deref().unwrap_or("data-sources.yaml");
    let parsed = parse_sources(
        &attest_formats::import::dettect::DettectImporter,
        label,
        &bytes,
    )?;
    let change = apply_sources(
        &app,
        &who,
        parsed,
        label,
        ApplyOptions {
            prune: false,
            dry_run: q.dry_run,
            why: "API: DeTT&CT import",
        },
    )
    .await?;
    Ok(Json(change))
}

/// Platform of a visibility question.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(super) struct VisibilityQuery {
    /// Only requirements on this platform.
    platform: Option<String>,
}

/// One telemetry requirement and the usable sources providing it.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct VisibilityRowView {
    /// Platforms it applies to (empty: any).
    platforms: Vec<String>,
    /// ATT&CK data component.
    data_component: String,
    /// ATT&CK log source name.
    #[serde(skip_serializing_if = "Option::is_none")]
    log_source: Option<String>,
    /// Its channel.
    #[serde(skip_serializing_if = "Option::is_none")]
    channel: Option<String>,
    /// Usable sources providing it.
    provided_by: Vec<String>,
    /// Whether any does.
    visible: bool,
}

/// A technique's telemetry visibility.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct Visibility {
    /// The technique.
    technique: String,
    /// Requirements provided by a usable source.
    visible: usize,
    /// Requirements ATT&CK lists.
    total: usize,
    /// Each requirement.
    requirements: Vec<VisibilityRowView>,
}

/// Which telemetry ATT&CK lists for detecting a technique the inventory provides
/// (`attest sources visibility`).
#[utoipa::path(get, path = "/api/v1/visibility/{technique}", tag = "sources",
    params(("technique" = String, Path, description = "Technique id"), VisibilityQuery),
    responses((status = 200, description = "The requirements and their providers", body = Visibility),
              (status = 400, description = "Not a technique id", body = Problem)))]
pub(super) async fn visibility(
    State(app): State<AppState>,
    Path(technique): Path<String>,
    q: Result<Query<VisibilityQuery>, QueryRejection>,
) -> Result<Json<Visibility>, Problem> {
    let q = query(q)?;
    let id = super::parse_technique(&technique)?;
    let sources = app
        .store()
        .sources()
        .await
        .map_err(|e| Problem::store("list sources", &e))?;
    let knowledge = app.knowledge();
    let rows = attest_core::visibility::telemetry_visibility(
        &knowledge.kb,
        sources.iter().map(|r| &r.source),
        id,
        q.platform.as_deref(),
        Timestamp::now(),
    );
    let requirements: Vec<VisibilityRowView> = rows
        .into_iter()
        .map(|r| VisibilityRowView {
            visible: r.visible(),
            platforms: r.platforms,
            data_component: r.data_component,
            log_source: r.log_source,
            channel: r.channel,
            provided_by: r.provided_by,
        })
        .collect();
    Ok(Json(Visibility {
        technique: id.to_string(),
        visible: requirements.iter().filter(|r| r.visible).count(),
        total: requirements.len(),
        requirements,
    }))
}
