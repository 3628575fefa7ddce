//! ATT&CK release operations — the CLI's `attest attack info|remap|remap-table|update`: what
//! release answers, where old ids lead, the workspace's remap table, and moving the workspace
//! to another release without a restart.
//!
//! An update loads and indexes the new release aside (the request waits, other requests do
//! not), compares it with the one answering for the ids the workspace uses
//! (`attest_core::release`, as the CLI), and unless it is a dry run journals the release and
//! swaps in a snapshot built on it ([`AppState::install_release`]). Other instances see the
//! journaled release on their next refresh and load it themselves ([`crate::release`]), so an
//! uploaded bundle is kept in the bundle cache under a name derived from its content, and its
//! path is what the journal records.

use std::collections::BTreeSet;

use attest_attack::{RemapTable, TechniqueId, count_warnings};
use attest_core::journal::{AttackRelease, Event};
use attest_core::release::{compare_releases, releases_of, technique_users};
use attest_store::NewEntry;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::{Extension, Json};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::Digest as _;
use utoipa::{IntoParams, ToSchema};

use super::{journal, query, unprocessable};
use crate::auth::Principal;
use crate::problem::Problem;
use crate::state::{AppState, Knowledge};

/// Largest bundle an update accepts (the uncompressed Enterprise bundle is about 50 MB).
pub(super) const UPLOAD_LIMIT: usize = 256 * 1024 * 1024;

/// A release in use or asked for.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ReleaseView {
    /// Domain, e.g. `enterprise-attack`.
    domain: String,
    /// Version, e.g. `18.1`.
    version: String,
    /// Where its bundle is.
    location: String,
}

impl ReleaseView {
    fn of(r: &AttackRelease) -> ReleaseView {
        ReleaseView {
            domain: r.domain.clone(),
            version: r.version.clone(),
            location: r.location.clone(),
        }
    }
}

/// Object counts of one domain.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct DomainView {
    domain: String,
    /// The release loaded for it (`null` when the bundle did not say).
    release: Option<String>,
    /// The bundle it came from.
    bundle: String,
    tactics: usize,
    techniques: usize,
    subtechniques: usize,
    groups: usize,
    software: usize,
    campaigns: usize,
    mitigations: usize,
    data_components: usize,
    detection_strategies: usize,
    analytics: usize,
}

/// Load warnings of one kind.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct WarningCount {
    /// E.g. `dangling reference`.
    kind: String,
    count: usize,
}

/// A release another instance (or the CLI) moved the workspace to that this server could not
/// load: it keeps answering from the old one.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct LoadErrorView {
    releases: Vec<ReleaseView>,
    error: String,
    /// When the load failed (it is retried a minute later).
    at: String,
}

/// The release answering, as `attest attack info`.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct AttackInfo {
    /// E.g. `18.1` (several when domains differ).
    release: String,
    /// The release set the journal names (what every instance answers from once loaded).
    journaled: Vec<ReleaseView>,
    /// Whether this server answers from the journaled release (false while it loads another).
    current: bool,
    /// The release set being loaded aside, if any.
    loading: Option<Vec<ReleaseView>>,
    /// The last failed load, until one succeeds.
    load_error: Option<LoadErrorView>,
    domains: Vec<DomainView>,
    /// Load warnings by kind (tolerated, not fatal).
    warnings: Vec<WarningCount>,
    /// Entries in the workspace's remap table.
    remap_entries: usize,
    /// Journal position of the snapshot answering.
    seq: u64,
}

/// The ATT&CK release answering: domains, counts, load warnings, and any release being loaded.
#[utoipa::path(get, path = "/api/v1/attack", tag = "attack",
    responses((status = 200, description = "The release", body = AttackInfo)))]
pub(super) async fn info(State(app): State<AppState>) -> Json<AttackInfo> {
    let snap = app.snapshot();
    let k = &snap.knowledge;
    let status = app.release_status();
    let domains =
        k.kb.counts()
            .into_iter()
            .map(|c| {
                let d = k.kb.domains().iter().find(|d| d.key == c.domain);
                DomainView {
                    release: d.and_then(|d| d.release.clone()),
                    bundle: d.map(|d| d.bundle.clone()).unwrap_or_default(),
                    domain: c.domain,
                    tactics: c.tactics,
                    techniques: c.techniques,
                    subtechniques: c.subtechniques,
                    groups: c.groups,
                    software: c.software,
                    campaigns: c.campaigns,
                    mitigations: c.mitigations,
                    data_components: c.data_components,
                    detection_strategies: c.detection_strategies,
                    analytics: c.analytics,
                }
            })
            .collect();
    Json(AttackInfo {
        release: k.kb.release_label(),
        journaled: snap.state.releases.iter().map(ReleaseView::of).collect(),
        current: k.journaled == snap.state.releases,
        loading: status
            .loading
            .map(|l| l.iter().map(ReleaseView::of).collect()),
        load_error: status.failed.map(|f| LoadErrorView {
            releases: f.releases.iter().map(ReleaseView::of).collect(),
            error: f.error,
            at: f.at.to_string(),
        }),
        domains,
        warnings: count_warnings(&k.warnings)
            .into_iter()
            .map(|(kind, count)| WarningCount {
                kind: kind.to_string(),
                count,
            })
            .collect(),
        remap_entries: snap.state.remap.len(),
        seq: snap.state.last_seq,
    })
}

/// Ids to trace.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct RemapQuery {
    /// Technique ids, comma-separated (e.g. `T1086,T1064`).
    ids: String,
}

/// Where one id leads.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct RemapView {
    requested: String,
    /// `active`, `revoked`, `deprecated` or `unknown`.
    status: &'static str,
    /// The technique it leads to.
    current: Option<String>,
    /// Its name.
    name: Option<String>,
    /// Every hop: the workspace's remap table, then `revoked-by`.
    path: Vec<String>,
}

/// Where old technique ids lead: the workspace's remap table, then ATT&CK's revoked-by chains
/// (`attest attack remap`).
#[utoipa::path(get, path = "/api/v1/attack/remap", tag = "attack", params(RemapQuery),
    responses((status = 200, description = "Each id's path", body = Vec<RemapView>),
              (status = 400, description = "Not technique ids", body = Problem)))]
pub(super) async fn remap(
    State(app): State<AppState>,
    q: Result<Query<RemapQuery>, QueryRejection>,
) -> Result<Json<Vec<RemapView>>, Problem> {
    let q = query(q)?;
    let ids: Vec<TechniqueId> = q
        .ids
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(super::parse_technique)
        .collect::<Result<_, _>>()?;
    if ids.is_empty() {
        return Err(Problem::bad_request(
            "invalid-technique",
            "ids: give at least one technique id",
        ));
    }
    let snap = app.snapshot();
    Ok(Json(
        ids.into_iter()
            .map(|id| {
                let r = snap.kb().resolve_with_remap(id, &snap.state.remap);
                let current = r.current();
                RemapView {
                    requested: id.to_string(),
                    status: r.status(),
                    current: current.map(|t| t.id.to_string()),
                    name: current.map(|t| t.meta.name.clone()),
                    path: r.path(),
                }
            })
            .collect(),
    ))
}

/// One entry of the remap table.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct RemapEntry {
    old: String,
    new: String,
}

/// The workspace's remap table.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct RemapTableView {
    entries: Vec<RemapEntry>,
    /// Whether the request changed it (writes only).
    #[serde(skip_serializing_if = "Option::is_none")]
    changed: Option<bool>,
    /// Journal position of the change (writes that changed it).
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<u64>,
}

fn table_view(t: &RemapTable, changed: Option<bool>, seq: Option<u64>) -> RemapTableView {
    RemapTableView {
        entries: t
            .iter()
            .map(|(old, new)| RemapEntry {
                old: old.to_string(),
                new: new.to_string(),
            })
            .collect(),
        changed,
        seq,
    }
}

/// The workspace's remap table: rules' technique ids go through it before ATT&CK's revoked-by
/// (`attest attack remap-table`).
#[utoipa::path(get, path = "/api/v1/attack/remap-table", tag = "attack",
    responses((status = 200, description = "The table", body = RemapTableView)))]
pub(super) async fn remap_table(State(app): State<AppState>) -> Json<RemapTableView> {
    Json(table_view(&app.snapshot().state.remap, None, None))
}

/// Sets the remap table from CSV (`old,new`) or YAML (`T1086: T1059.001`), told apart by
/// `Content-Type` (`text/csv`, `application/yaml`), else by whether the first entry has a comma.
/// A bad table is a 422 naming its line; nothing is written then.
#[utoipa::path(put, path = "/api/v1/attack/remap-table", tag = "attack",
    request_body(content = String, description = "CSV `old,new` or a YAML map", content_type = "text/csv"),
    responses((status = 200, description = "The table now", body = RemapTableView),
              (status = 422, description = "Bad table, naming the line", body = Problem)))]
pub(super) async fn set_remap_table(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<RemapTableView>, Problem> {
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let yaml = if content_type.contains("csv") {
        false
    } else if content_type.contains("yaml") || content_type.contains("yml") {
        true
    } else {
        looks_like_yaml(&bytes)
    };
    let parsed = if yaml {
        RemapTable::from_yaml(&bytes)
    } else {
        RemapTable::from_csv(&bytes)
    };
    let table = parsed.map_err(|e| unprocessable("invalid-remap-table", e.to_string()))?;
    write_table(&app, &who, table, "remap table set through the API").await
}

/// Removes the remap table (journaled as an empty table).
#[utoipa::path(delete, path = "/api/v1/attack/remap-table", tag = "attack",
    responses((status = 200, description = "The table now (empty)", body = RemapTableView)))]
pub(super) async fn clear_remap_table(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
) -> Result<Json<RemapTableView>, Problem> {
    write_table(
        &app,
        &who,
        RemapTable::new(),
        "remap table cleared through the API",
    )
    .await
}

/// A YAML map's first entry has `:` before any `,`; a CSV row has a comma.
fn looks_like_yaml(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#') && l != &"---")
        .is_some_and(|l| match (l.find(':'), l.find(',')) {
            (Some(colon), Some(comma)) => colon < comma,
            (Some(_), None) => true,
            _ => false,
        })
}

async fn write_table(
    app: &AppState,
    who: &Principal,
    table: RemapTable,
    why: &str,
) -> Result<Json<RemapTableView>, Problem> {
    if app.snapshot().state.remap == table {
        return Ok(Json(table_view(&table, Some(false), None)));
    }
    let outcome = journal(
        app,
        who,
        vec![Event::RemapTableSet(table.clone())],
        Some(why),
    )
    .await?;
    Ok(Json(table_view(&table, Some(true), Some(outcome.last_seq))))
}

/// The update route, with a body limit fit for a whole uncompressed bundle (the server's
/// default limit is for API documents).
pub(super) fn update_route() -> utoipa_axum::router::UtoipaMethodRouter<AppState> {
    let (schemas, paths, method) = utoipa_axum::routes!(update);
    (
        schemas,
        paths,
        method.layer(axum::extract::DefaultBodyLimit::max(UPLOAD_LIMIT)),
    )
}

/// How to update.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(super) struct UpdateQuery {
    /// Report only; change nothing.
    dry_run: bool,
    /// A release to fetch (e.g. `18.1`): from the bundle cache, else downloaded from MITRE.
    version: Option<String>,
    /// The domain of `version` (default `enterprise-attack`).
    domain: Option<String>,
    /// The uploaded bundle's file name, e.g. `enterprise-attack-18.1.json.gz` (its release is
    /// read from it when the bundle does not state one).
    name: Option<String>,
}

/// One technique id the workspace uses that the new release changes.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ChangeView {
    technique: String,
    /// `revoked`, `deprecated`, `renamed`, `now-resolves`, `no-longer-known` or `telemetry`.
    change: &'static str,
    /// The change in words.
    detail: String,
    /// The replacement of a revoked id.
    #[serde(skip_serializing_if = "Option::is_none")]
    replacement: Option<String>,
    /// What uses it: `rule <id>`, `profile <name>`, `actor <name>`.
    used_by: Vec<String>,
}

/// What an update changes (`attest attack update`).
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct UpdateReport {
    /// The release answering before.
    from: String,
    /// The new release.
    to: String,
    /// The new release set (what the journal records).
    releases: Vec<ReleaseView>,
    /// How many technique ids the workspace uses.
    used: usize,
    changes: Vec<ChangeView>,
    /// Load warnings of the new release by kind.
    warnings: Vec<WarningCount>,
    dry_run: bool,
    /// Journal position of the release change (not on a dry run).
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<u64>,
}

/// Moves the workspace to another ATT&CK release: an uploaded bundle (the body: STIX JSON or
/// gzip) and/or a release fetched by `version`. Answers what changes for the ids the
/// workspace's rules, profiles and actors use; unless `dry_run`, journals the release and
/// answers from it at once — this instance by swapping, the others when they refresh.
#[utoipa::path(post, path = "/api/v1/attack/update", tag = "attack", params(UpdateQuery),
    request_body(content = String, description = "A STIX bundle (JSON, optionally gzip); empty with `version`",
                 content_type = "application/octet-stream"),
    responses((status = 201, description = "Updated", body = UpdateReport),
              (status = 200, description = "Dry run: nothing changed", body = UpdateReport),
              (status = 400, description = "Neither a bundle nor a version", body = Problem),
              (status = 422, description = "The bundle cannot be loaded; the old release still answers", body = Problem),
              (status = 502, description = "The release could not be downloaded", body = Problem)))]
pub(super) async fn update(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
    q: Result<Query<UpdateQuery>, QueryRejection>,
    bytes: Bytes,
) -> Result<(StatusCode, Json<UpdateReport>), Problem> {
    let q = query(q)?;
    if bytes.is_empty() && q.version.is_none() {
        return Err(Problem::bad_request(
            "no-release",
            "send a bundle as the body, or name a release with `version`",
        ));
    }
    let cache = app.bundle_cache();
    // Each bundle: where it is (or will be) kept — the name the knowledge base records for it,
    // so the journal's location — its release hint and its bytes; `upload` says which one must
    // be written there.
    let mut bundles: Vec<(String, Option<String>, Vec<u8>)> = Vec::new();
    let mut upload = None;
    if !bytes.is_empty() {
        let Some(cache) = cache.as_deref() else {
            return Err(Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "no-bundle-cache",
                "this server has no bundle cache to keep the upload in (set ATTEST_CACHE_DIR)",
            ));
        };
        let gzip = bytes.starts_with(&[0x1f, 0x8b]);
        let digest = hex::encode(sha2::Sha256::digest(&bytes));
        let stem = q
            .name
            .as_deref()
            .map(attest_attack::cache::file_name_of)
            .map(|n| n.trim_end_matches(".gz").trim_end_matches(".json"))
            .filter(|n| {
                !n.is_empty()
                    && n.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
            })
            .unwrap_or("bundle");
        // Content-addressed, and ending like MITRE's name so the release reads from it.
        let file = format!(
            "{}-{stem}.json{}",
            &digest[..16],
            if gzip { ".gz" } else { "" }
        );
        let path = cache.join("uploads").join(file);
        let hint = q
            .name
            .as_deref()
            .and_then(|n| attest_attack::load::release_from_file_name(std::path::Path::new(n)));
        upload = Some(path.clone());
        bundles.push((path.display().to_string(), hint, bytes.to_vec()));
    }
    if let Some(version) = q.version.as_deref() {
        let domain = q.domain.as_deref().unwrap_or("enterprise-attack");
        let path = fetch_release(cache.as_deref(), domain, version).await?;
        let p = path.clone();
        let bytes = tokio::task::spawn_blocking(move || attest_attack::load::read_file(&p))
            .await
            .map_err(|e| internal(format!("reading panicked: {e}")))?
            .map_err(|e| unprocessable("invalid-bundle", e.to_string()))?;
        bundles.push((path.display().to_string(), Some(version.to_string()), bytes));
    }

    // Load and index the new release aside; requests keep reading the current snapshot.
    let (mut bundles, loaded) = tokio::task::spawn_blocking(move || {
        let loaded = crate::release::load_bytes(&bundles);
        (bundles, loaded)
    })
    .await
    .map_err(|e| internal(format!("loading panicked: {e}")))?;
    let (kb, warnings) = loaded.map_err(|e| {
        unprocessable(
            "invalid-bundle",
            format!("the new release cannot be loaded; nothing changed: {e}"),
        )
    })?;
    let releases = releases_of(&kb);
    let snap = app.snapshot();
    let users = technique_users(&snap.state);
    let used: BTreeSet<String> = users.keys().cloned().collect();
    let changes = compare_releases(snap.kb(), &kb, &used);
    let mut report = UpdateReport {
        from: snap.kb().release_label(),
        to: kb.release_label(),
        releases: releases.iter().map(ReleaseView::of).collect(),
        used: used.len(),
        changes: changes
            .iter()
            .map(|c| ChangeView {
                technique: c.technique.clone(),
                change: c.change.kind(),
                detail: c.change.detail(),
                replacement: match &c.change {
                    attest_core::release::ReleaseChange::Revoked { replacement } => {
                        replacement.map(|r| r.to_string())
                    }
                    _ => None,
                },
                used_by: users.get(&c.technique).cloned().unwrap_or_default(),
            })
            .collect(),
        warnings: count_warnings(&warnings)
            .into_iter()
            .map(|(kind, count)| WarningCount {
                kind: kind.to_string(),
                count,
            })
            .collect(),
        dry_run: q.dry_run,
        seq: None,
    };
    drop(snap);
    if q.dry_run {
        return Ok((StatusCode::OK, Json(report)));
    }

    // Keep uploads where every instance (and a restart) finds them, then index.
    // The upload is the first bundle when there is one.
    let to_write: Option<(std::path::PathBuf, Vec<u8>)> =
        upload.map(|p| (p, bundles.swap_remove(0).2));
    let paths: Vec<String> = releases.iter().map(|r| r.location.clone()).collect();
    let why = format!(
        "ATT&CK update through the API {} → {} ({} changes)",
        report.from,
        report.to,
        report.changes.len()
    );
    let journaled = releases.clone();
    let knowledge = tokio::task::spawn_blocking(move || {
        if let Some((path, bytes)) = &to_write {
            attest_attack::cache::write_atomically(path, bytes)?;
        }
        Ok::<_, attest_attack::Error>(Knowledge::new(kb, warnings, journaled))
    })
    .await
    .map_err(|e| internal(format!("indexing panicked: {e}")))?
    .map_err(|e| internal(format!("keeping the uploaded bundle: {e}")))?;
    let entry = NewEntry::new(
        who.name.clone(),
        Timestamp::now(),
        Event::AttackReleasesSet(releases),
    )
    .with_why(why);
    let joined = paths.join("\n");
    let store = app.store().clone();
    let write = async move {
        store
            .append_with_meta(
                vec![entry],
                &[(attest_store::META_ATTACK_BUNDLES, joined.as_str())],
            )
            .await
    };
    let outcome = app
        .install_release(knowledge, write)
        .await
        .map_err(|e| internal(e.to_string()))?
        .map_err(|e| Problem::store("journal the release", &e))?;
    report.seq = Some(outcome.last_seq);
    Ok((StatusCode::CREATED, Json(report)))
}

/// A release's bundle from the cache, downloading it there when absent.
async fn fetch_release(
    cache: Option<&std::path::Path>,
    domain: &str,
    version: &str,
) -> Result<std::path::PathBuf, Problem> {
    if let Some(p) = attest_attack::cache::find_local(cache, domain, version, "") {
        return Ok(p);
    }
    let Some(cache) = cache else {
        return Err(Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no-bundle-cache",
            "this server has no bundle cache to download into (set ATTEST_CACHE_DIR)",
        ));
    };
    let url = attest_attack::cache::release_url(domain, version);
    let bytes = attest_attack::cache::fetch(&url, &mut |_, _| {})
        .await
        .map_err(|e| Problem::new(StatusCode::BAD_GATEWAY, "download-failed", e.to_string()))?;
    let dest = cache.join(attest_attack::cache::release_file_name(domain, version));
    let d = dest.clone();
    tokio::task::spawn_blocking(move || attest_attack::cache::write_atomically(&d, &bytes))
        .await
        .map_err(|e| internal(format!("saving panicked: {e}")))?
        .map_err(|e| internal(e.to_string()))?;
    Ok(dest)
}

fn internal(detail: String) -> Problem {
    Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", detail)
}
