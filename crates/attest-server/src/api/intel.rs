//! Actors (intel and ATT&CK groups), profiles (list, show with the target set, create, replace,
//! remove — admins write) and API tokens (admins create).

use attest_core::coverage::compute;
use attest_core::journal::Event;
use attest_core::priority::question_scope;
use attest_core::profile::{ActorOrigin, Profile};
use attest_formats::{Diagnostic, Input, Severity};
use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{body, journal, query, unprocessable};
use crate::auth::{Principal, Role, create_token_by as store_token};
use crate::problem::Problem;
use crate::state::AppState;

/// An actor: from the team's intel or an ATT&CK group.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ActorView {
    /// Id (intel id, or ATT&CK id).
    id: String,
    /// Name.
    name: String,
    /// `attack` or `intel:<feed>`.
    origin: String,
    /// Aliases.
    aliases: Vec<String>,
    /// Techniques it uses.
    technique_count: usize,
    /// The techniques (only when one actor is shown).
    #[serde(skip_serializing_if = "Option::is_none")]
    techniques: Option<Vec<String>>,
}

fn origin_text(o: &ActorOrigin) -> String {
    match o {
        ActorOrigin::Attack => "attack".to_string(),
        ActorOrigin::Intel(f) => format!("intel:{f}"),
    }
}

/// Intel actors, then active ATT&CK groups (`attest actors list`).
#[utoipa::path(get, path = "/api/v1/actors", tag = "intel",
    responses((status = 200, description = "Actors", body = Vec<ActorView>)))]
pub(super) async fn actors(State(app): State<AppState>) -> Json<Vec<ActorView>> {
    let snap = app.snapshot();
    let kb = snap.kb();
    let mut out: Vec<ActorView> = snap
        .state
        .actors
        .values()
        .map(|a| ActorView {
            id: a.id.clone(),
            name: a.name.clone(),
            origin: origin_text(&a.origin),
            aliases: a.aliases.clone(),
            technique_count: a.techniques.len(),
            techniques: None,
        })
        .collect();
    out.extend(
        kb.groups()
            .iter()
            .filter(|g| g.meta.is_active())
            .map(|g| ActorView {
                id: g.meta.attack_id.clone().unwrap_or_default(),
                name: g.meta.name.clone(),
                origin: "attack".into(),
                aliases: g.aliases.clone(),
                technique_count: kb.group_techniques(g, Default::default()).len(),
                techniques: None,
            }),
    );
    Json(out)
}

/// One actor by id, name or alias: an intel actor first, else an ATT&CK group.
#[utoipa::path(get, path = "/api/v1/actors/{query}", tag = "intel",
    params(("query" = String, Path, description = "Intel actor id or name, or ATT&CK group id/name/alias")),
    responses((status = 200, description = "The actor with its techniques", body = ActorView),
              (status = 404, description = "No actor matches", body = Problem)))]
pub(super) async fn actor(
    State(app): State<AppState>,
    Path(q): Path<String>,
) -> Result<Json<ActorView>, Problem> {
    let snap = app.snapshot();
    let wanted = q.trim();
    let intel = snap.state.actors.values().find(|a| {
        a.id == wanted
            || a.name.eq_ignore_ascii_case(wanted)
            || a.aliases.iter().any(|x| x.eq_ignore_ascii_case(wanted))
    });
    if let Some(a) = intel {
        return Ok(Json(ActorView {
            id: a.id.clone(),
            name: a.name.clone(),
            origin: origin_text(&a.origin),
            aliases: a.aliases.clone(),
            technique_count: a.techniques.len(),
            techniques: Some(a.techniques.iter().map(|t| t.technique.clone()).collect()),
        }));
    }
    let knowledge = app.knowledge();
    let kb = &knowledge.kb;
    let Some(g) = kb.group(wanted) else {
        return Err(Problem::not_found(
            "actor-not-found",
            format!("no intel actor or ATT&CK group matches `{wanted}`"),
        ));
    };
    let mut techniques: Vec<String> = kb
        .group_techniques(g, Default::default())
        .iter()
        .map(|gt| gt.technique.id.to_string())
        .collect();
    techniques.sort();
    Ok(Json(ActorView {
        id: g.meta.attack_id.clone().unwrap_or_default(),
        name: g.meta.name.clone(),
        origin: "attack".into(),
        aliases: g.aliases.clone(),
        technique_count: techniques.len(),
        techniques: Some(techniques),
    }))
}

/// A profile's declaration.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ProfileView {
    /// Name.
    name: String,
    /// Description.
    description: Option<String>,
    /// Actors with weights.
    actors: Vec<WeightedView>,
    /// Sectors.
    sectors: Vec<String>,
    /// Platforms in scope (empty: all).
    platforms: Vec<String>,
    /// Hand-picked techniques with weights.
    extra_techniques: Vec<WeightedView>,
    /// Excluded techniques.
    exclusions: Vec<String>,
}

/// A name with a weight.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct WeightedView {
    /// Actor or technique.
    name: String,
    /// Weight.
    weight: f64,
}

impl ProfileView {
    fn of(p: &Profile) -> ProfileView {
        ProfileView {
            name: p.name.clone(),
            description: p.description.clone(),
            actors: p
                .actors
                .iter()
                .map(|a| WeightedView {
                    name: a.actor.clone(),
                    weight: a.weight,
                })
                .collect(),
            sectors: p.sectors.clone(),
            platforms: p.platforms.clone(),
            extra_techniques: p
                .extra_techniques
                .iter()
                .map(|(t, w)| WeightedView {
                    name: t.clone(),
                    weight: *w,
                })
                .collect(),
            exclusions: p.exclusions.clone(),
        }
    }
}

/// The profiles.
#[utoipa::path(get, path = "/api/v1/profiles", tag = "intel",
    responses((status = 200, description = "Profiles", body = Vec<ProfileView>)))]
pub(super) async fn profiles(State(app): State<AppState>) -> Json<Vec<ProfileView>> {
    let snap = app.snapshot();
    Json(snap.state.profiles.values().map(ProfileView::of).collect())
}

/// A technique of a profile's target set.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct TargetView {
    /// Technique id.
    technique: String,
    /// Name.
    name: Option<String>,
    /// Priority score.
    priority: f64,
    /// Priority tier (picks the re-validation window).
    tier: String,
    /// Why: actors with weights, or picked by hand.
    why: Vec<String>,
    /// Coverage state now.
    state: Option<&'static str>,
}

/// A profile with its target set, by priority, each technique with its state now.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ProfileDetail {
    /// The declaration.
    profile: ProfileView,
    /// The target set, highest priority first.
    techniques: Vec<TargetView>,
    /// Actors or techniques the profile names that resolve to nothing.
    problems: Vec<String>,
}

/// A profile's target set (`attest profiles show`).
#[utoipa::path(get, path = "/api/v1/profiles/{name}", tag = "intel",
    params(("name" = String, Path, description = "Profile name")),
    responses((status = 200, description = "The profile and its target set", body = ProfileDetail),
              (status = 404, description = "No such profile", body = Problem)))]
pub(super) async fn profile(
    State(app): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<ProfileDetail>, Problem> {
    let snap = app.snapshot();
    let Some(p) = snap.state.profiles.get(&name) else {
        return Err(Problem::not_found(
            "profile-not-found",
            format!("no profile `{name}`"),
        ));
    };
    let (target, scope) = question_scope(snap.catalog(), &snap.state, Some(&name), None, None)
        .map_err(|e| Problem::not_found("profile-not-found", e.to_string()))?;
    let coverage = compute(snap.catalog(), &snap.state, &scope, snap.coverage.at);
    let Some(target) = target else {
        return Err(Problem::not_found(
            "profile-not-found",
            format!("no profile `{name}`"),
        ));
    };
    let techniques = target
        .techniques
        .iter()
        .map(|tt| {
            let tc = coverage.technique(tt.technique);
            TargetView {
                technique: tt.technique.to_string(),
                name: tc.map(|c| c.name.clone()),
                priority: tt.score,
                tier: tt.tier.clone(),
                why: tt
                    .actors
                    .iter()
                    .map(|u| format!("{} (weight {})", u.name, u.weight))
                    .chain(tt.extra.map(|w| format!("picked by hand (weight {w})")))
                    .collect(),
                state: tc.map(|c| c.state.as_str()),
            }
        })
        .collect();
    Ok(Json(ProfileDetail {
        profile: ProfileView::of(p),
        techniques,
        problems: target.problems.iter().map(|p| format!("{p:?}")).collect(),
    }))
}

/// How a profile body is written.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(super) struct ProfileBodyQuery {
    /// `yaml` (default: the profile file `attest profiles import` reads) or `layer` (an ATT&CK
    /// Navigator layer whose scores become weights).
    from: Option<String>,
    /// With `from=layer` on creation: the profile's name (default the layer's).
    name: Option<String>,
}

/// Reads a profile from the body; problems name the line.
fn read_body(bytes: &Bytes, from: Option<&str>, name: Option<&str>) -> Result<Profile, Problem> {
    let input = Input {
        path: "body",
        bytes,
    };
    let (profile, diags): (Option<Profile>, Vec<Diagnostic>) = match from.unwrap_or("yaml") {
        "yaml" => attest_formats::import::profile::read_profile(input),
        "layer" => attest_formats::import::navigator::read_layer_profile(input, name),
        other => {
            return Err(Problem::bad_request(
                "invalid-profile-format",
                format!("from: `{other}` is not yaml or layer"),
            ));
        }
    };
    let errors: Vec<String> = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(ToString::to_string)
        .collect();
    if !errors.is_empty() {
        return Err(unprocessable(
            "invalid-profile",
            format!("nothing was changed: {}", errors.join("; ")),
        ));
    }
    profile.ok_or_else(|| unprocessable("invalid-profile", "the body holds no profile"))
}

/// The outcome of a profile write.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ProfileChange {
    /// The profile as stored.
    profile: ProfileView,
    /// Journal position.
    seq: u64,
}

/// Creates a profile from YAML (or a Navigator layer with `from=layer`). Admins only.
#[utoipa::path(post, path = "/api/v1/profiles", tag = "intel", params(ProfileBodyQuery),
    request_body(content = String, description = "Profile YAML, or a Navigator layer", content_type = "application/yaml"),
    responses((status = 201, description = "Created", body = ProfileChange),
              (status = 403, description = "Not an admin token", body = Problem),
              (status = 409, description = "A profile of that name exists", body = Problem),
              (status = 422, description = "Invalid profile, naming the line", body = Problem)))]
pub(super) async fn create_profile(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
    q: Result<Query<ProfileBodyQuery>, QueryRejection>,
    body_in: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<(StatusCode, Json<ProfileChange>), Problem> {
    let bytes = super::upload::bytes(body_in)?;
    let q = query(q)?;
    let profile = read_body(&bytes, q.from.as_deref(), q.name.as_deref())?;
    if app.snapshot().state.profiles.contains_key(&profile.name) {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "profile-exists",
            format!(
                "a profile named `{}` exists; replace it with PUT",
                profile.name
            ),
        ));
    }
    let view = ProfileView::of(&profile);
    let out = journal(
        &app,
        &who,
        vec![Event::ProfileUpserted(profile)],
        Some("API: profile created"),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(ProfileChange {
            profile: view,
            seq: out.last_seq,
        }),
    ))
}

/// Creates or replaces the profile `name` (the body's name must be the same). Admins only.
#[utoipa::path(put, path = "/api/v1/profiles/{name}", tag = "intel",
    params(("name" = String, Path, description = "Profile name"), ProfileBodyQuery),
    request_body(content = String, description = "Profile YAML, or a Navigator layer", content_type = "application/yaml"),
    responses((status = 200, description = "Stored", body = ProfileChange),
              (status = 403, description = "Not an admin token", body = Problem),
              (status = 422, description = "Invalid profile, or a different name", body = Problem)))]
pub(super) async fn update_profile(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    q: Result<Query<ProfileBodyQuery>, QueryRejection>,
    body_in: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<ProfileChange>, Problem> {
    let bytes = super::upload::bytes(body_in)?;
    let q = query(q)?;
    let profile = read_body(&bytes, q.from.as_deref(), Some(&name))?;
    if profile.name != name {
        return Err(unprocessable(
            "profile-name-mismatch",
            format!(
                "the body names profile `{}`, the path `{name}`",
                profile.name
            ),
        ));
    }
    let view = ProfileView::of(&profile);
    let out = journal(
        &app,
        &who,
        vec![Event::ProfileUpserted(profile)],
        Some("API: profile replaced"),
    )
    .await?;
    Ok(Json(ProfileChange {
        profile: view,
        seq: out.last_seq,
    }))
}

/// Why a profile is removed.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(super) struct RemoveQuery {
    /// Why (journaled).
    reason: Option<String>,
}

/// Removes a profile (journaled). Admins only.
#[utoipa::path(delete, path = "/api/v1/profiles/{name}", tag = "intel",
    params(("name" = String, Path, description = "Profile name"), RemoveQuery),
    responses((status = 200, description = "Removed", body = serde_json::Value),
              (status = 403, description = "Not an admin token", body = Problem),
              (status = 404, description = "No such profile", body = Problem)))]
pub(super) async fn remove_profile(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    q: Result<Query<RemoveQuery>, QueryRejection>,
) -> Result<Json<serde_json::Value>, Problem> {
    let q = query(q)?;
    if !app.snapshot().state.profiles.contains_key(&name) {
        return Err(Problem::not_found(
            "profile-not-found",
            format!("no profile `{name}`"),
        ));
    }
    let out = journal(
        &app,
        &who,
        vec![Event::ProfileRemoved { name: name.clone() }],
        q.reason.as_deref(),
    )
    .await?;
    Ok(Json(
        serde_json::json!({"profile": name, "removed": true, "seq": out.last_seq}),
    ))
}

/// A token to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NewToken {
    /// Its name: journaled as the author of its writes.
    name: String,
    /// `viewer`, `engineer` or `admin`.
    role: String,
}

/// A created token: the secret is shown once.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct CreatedToken {
    /// Name.
    name: String,
    /// Role.
    role: &'static str,
    /// The bearer secret; only its hash is stored.
    token: String,
}

/// Creates an API token (`attest tokens create`). Admins only.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "intel", request_body = NewToken,
    responses((status = 201, description = "Created; the secret is shown once", body = CreatedToken),
              (status = 400, description = "Bad name or role", body = Problem),
              (status = 403, description = "Not an admin token", body = Problem)))]
pub(super) async fn create_token(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
    b: Result<Json<NewToken>, JsonRejection>,
) -> Result<(StatusCode, Json<CreatedToken>), Problem> {
    let t = body(b)?;
    let role = Role::parse(&t.role).ok_or_else(|| {
        Problem::bad_request(
            "invalid-role",
            format!("role: `{}` is not viewer, engineer or admin", t.role),
        )
    })?;
    let token = store_token(app.store(), &t.name, role, &who.name)
        .await
        .map_err(|e| match e {
            crate::Error::InvalidTokenName { .. } => {
                Problem::bad_request("invalid-token-name", format!("name: {e}"))
            }
            other => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "store-unavailable",
                other.to_string(),
            ),
        })?;
    super::refresh_after_write(&app).await;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            name: t.name.trim().to_string(),
            role: role.as_str(),
            token,
        }),
    ))
}

/// Where imported actors come from.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(super) struct ActorImportQuery {
    /// `stix` (a STIX 2.1 bundle from OpenCTI, MISP…) or `dettect` (DeTT&CT group YAML).
    format: String,
    /// The file's name, used in problems and as the feed label (default `upload.json` /
    /// `upload.yaml`).
    path: Option<String>,
}

/// What an actor import did.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ActorImport {
    /// Actors imported (added or replaced).
    imported: usize,
    /// Their ids.
    actors: Vec<String>,
    /// Journal position.
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<u64>,
    /// Warnings (`path:line: message`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
}

/// Imports actors from the team's intel (`attest actors import stix|dettect`), in one
/// transaction. Admins only, as profiles.
#[utoipa::path(post, path = "/api/v1/actors", tag = "intel", params(ActorImportQuery),
    request_body(content = String, description = "A STIX 2.1 bundle (JSON) or DeTT&CT group YAML",
                 content_type = "application/json"),
    responses((status = 201, description = "Imported", body = ActorImport),
              (status = 400, description = "Unknown format, empty body", body = Problem),
              (status = 403, description = "Not an admin token", body = Problem),
              (status = 422, description = "Invalid file, naming the line or object", body = Problem)))]
pub(super) async fn import_actors(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
    q: Result<Query<ActorImportQuery>, QueryRejection>,
    body_in: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<(StatusCode, Json<ActorImport>), Problem> {
    let bytes = super::upload::bytes(body_in)?;
    let q = query(q)?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Problem::bad_request("empty-body", "the upload is empty"));
    }
    let (actors, diags) = match q.format.as_str() {
        "stix" => {
            let label = q.path.clone().unwrap_or_else(|| "upload.json".to_string());
            let options = attest_formats::import::stix_intel::StixIntelOptions {
                label: label.clone(),
            };
            attest_formats::import::stix_intel::read_stix_intel(
                Input {
                    path: &label,
                    bytes: &bytes,
                },
                &options,
                &attest_formats::import::stix_intel::KbLookup(&app.knowledge().kb),
            )
        }
        "dettect" => {
            let label = q.path.clone().unwrap_or_else(|| "upload.yaml".to_string());
            let options = attest_formats::import::dettect_groups::DettectGroupsOptions {
                label: label.clone(),
                include_disabled: false,
            };
            attest_formats::import::dettect_groups::read_dettect_groups(
                Input {
                    path: &label,
                    bytes: &bytes,
                },
                &options,
            )
        }
        other => {
            return Err(Problem::bad_request(
                "invalid-format",
                format!("format: `{other}` is not stix or dettect"),
            ));
        }
    };
    let warnings = super::upload::check("invalid-actors", &diags)?;
    let ids: Vec<String> = actors.iter().map(|a| a.id.clone()).collect();
    let mut seq = None;
    if !actors.is_empty() {
        let why = format!("API: actors import {}", q.format);
        let events = actors.into_iter().map(Event::ActorUpserted).collect();
        seq = Some(journal(&app, &who, events, Some(&why)).await?.last_seq);
    }
    Ok((
        StatusCode::CREATED,
        Json(ActorImport {
            imported: ids.len(),
            actors: ids,
            seq,
            warnings,
        }),
    ))
}

/// A profile as YAML: the file `POST /api/v1/profiles` reads (`attest profiles export`).
#[utoipa::path(get, path = "/api/v1/profiles/{name}/export", tag = "intel",
    params(("name" = String, Path, description = "Profile name")),
    responses((status = 200, description = "The profile file", body = String,
               content_type = "application/yaml"),
              (status = 404, description = "No such profile", body = Problem)))]
pub(super) async fn export_profile(
    State(app): State<AppState>,
    Path(name): Path<String>,
) -> Result<axum::response::Response, Problem> {
    use axum::response::IntoResponse;
    let snap = app.snapshot();
    let Some(p) = snap.state.profiles.get(&name) else {
        return Err(Problem::not_found(
            "profile-not-found",
            format!("no profile `{name}`"),
        ));
    };
    let yaml = attest_formats::import::profile::write_profile(p);
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "application/yaml; charset=utf-8",
        )],
        yaml,
    )
        .into_response())
}
