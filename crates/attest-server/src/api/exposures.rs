//! Exposures (CTEM): findings by effective priority, with the techniques behind them and the
//! reasoning — `attest exposures list|show`. Prioritised once per snapshot
//! ([`crate::state::Snapshot::exposures`]); requests only filter. Also the uploads of findings
//! and of finding → technique mapping sets (`attest exposures import`, `… mappings import`).

use attest_core::exposure::{ExposureKey, ExposureStatus, normalise_finding};
use attest_formats::{Input, Severity};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{journal, parse_technique, query};
use crate::auth::Principal;
use crate::problem::Problem;
use crate::state::AppState;
use crate::views::ExposureView;

/// Filters of the exposure list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(super) struct ExposuresQuery {
    /// `open` (default), `accepted`, `fixed` or `all`.
    status: Option<String>,
    /// Only this finding id (a CVE or a misconfiguration id).
    finding: Option<String>,
    /// Only exposures exploited through this technique.
    technique: Option<String>,
    /// Only exposures whose priority was raised: techniques without validated detection
    /// ("exposures we cannot see being exploited").
    unseen: bool,
    /// At most this many (default 1000); `count` is the total.
    limit: Option<usize>,
}

/// Exposures, highest effective priority first.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ExposureList {
    /// How many match (before `limit`).
    count: usize,
    /// The exposures.
    exposures: Vec<ExposureView>,
}

/// Every asset with one finding.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct FindingExposures {
    /// The finding id.
    finding: String,
    /// On how many assets.
    count: usize,
    /// One exposure per asset, highest effective priority first.
    exposures: Vec<ExposureView>,
}

/// Exposures by effective priority, with their techniques' detection states and the reasoning.
#[utoipa::path(get, path = "/api/v1/exposures", tag = "exposures", params(ExposuresQuery),
    responses((status = 200, description = "Exposures, highest effective priority first", body = ExposureList),
              (status = 400, description = "A filter value is not valid", body = Problem)))]
pub(super) async fn list(
    State(app): State<AppState>,
    q: Result<Query<ExposuresQuery>, QueryRejection>,
) -> Result<Json<ExposureList>, Problem> {
    let q = query(q)?;
    let status = match q.status.as_deref().map(str::trim) {
        None | Some("") => Some(ExposureStatus::Open),
        Some(s) if s.eq_ignore_ascii_case("all") => None,
        Some(s) => Some(ExposureStatus::parse(s).ok_or_else(|| {
            Problem::bad_request(
                "invalid-status",
                format!("status: `{s}` is not an exposure status (open, accepted, fixed, all)"),
            )
        })?),
    };
    let technique = q.technique.as_deref().map(parse_technique).transpose()?;
    let finding = q.finding.as_deref().map(normalise_finding);
    let snap = app.snapshot();
    let catalog = snap.catalog();
    let matching: Vec<ExposureView> = snap
        .exposures
        .iter()
        .filter_map(|p| snap.state.exposures.get(&p.key).map(|rec| (rec, p)))
        .filter(|(rec, p)| {
            status.is_none_or(|s| rec.exposure.status == s)
                && finding.as_ref().is_none_or(|f| p.key.finding == *f)
                && technique.is_none_or(|t| {
                    p.techniques
                        .iter()
                        .any(|d| d.technique.technique == Some(t))
                })
                && (!q.unseen || p.raise > 0.0)
        })
        .map(|(rec, p)| ExposureView::of(rec, p, catalog))
        .collect();
    let count = matching.len();
    let exposures = matching.into_iter().take(q.limit.unwrap_or(1000)).collect();
    Ok(Json(ExposureList { count, exposures }))
}

/// One exposure (`CVE-2021-44228@web-01`), or every asset of a finding (`CVE-2021-44228`).
#[utoipa::path(get, path = "/api/v1/exposures/{id}", tag = "exposures",
    params(("id" = String, Path, description = "FINDING@ASSET, or a finding id for all its assets")),
    responses((status = 200, description = "The exposure (FINDING@ASSET: an ExposureView; a finding id: a FindingExposures)", body = serde_json::Value),
              (status = 404, description = "No such exposure", body = Problem)))]
pub(super) async fn show(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, Problem> {
    let snap = app.snapshot();
    let catalog = snap.catalog();
    let key = ExposureKey::parse_id(&id);
    let finding = normalise_finding(&id);
    let found: Vec<ExposureView> = snap
        .exposures
        .iter()
        .filter(|p| match &key {
            Some(k) => p.key == *k,
            None => p.key.finding == finding,
        })
        .filter_map(|p| {
            snap.state
                .exposures
                .get(&p.key)
                .map(|rec| ExposureView::of(rec, p, catalog))
        })
        .collect();
    let not_found = || {
        Problem::not_found(
            "exposure-not-found",
            format!("no exposure `{id}` (FINDING@ASSET or a finding id)"),
        )
    };
    let doc = match key {
        Some(_) => serde_json::to_value(found.into_iter().next().ok_or_else(not_found)?),
        None if found.is_empty() => return Err(not_found()),
        None => serde_json::to_value(FindingExposures {
            finding,
            count: found.len(),
            exposures: found,
        }),
    };
    doc.map(Json).map_err(|e| {
        Problem::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            e.to_string(),
        )
    })
}

/// Options of a findings import (`attest exposures import`).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(super) struct ImportQuery {
    /// The feed (scanner) these findings come from; a full import closes only this feed's
    /// missing findings. Default: the file name without extension.
    feed: Option<String>,
    /// The file's name, used in problems (default `findings.csv`).
    path: Option<String>,
    /// `auto` (default), `csv` or `jsonl`.
    input_format: Option<String>,
    /// The file lists only some findings: close none for being absent.
    partial: bool,
    /// Skip rows with errors instead of refusing the whole upload (the CLI's default; the API
    /// refuses unless told this).
    skip_bad_rows: bool,
}

/// What a findings import did.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ExposureImport {
    feed: String,
    /// Findings read.
    findings: usize,
    new: usize,
    updated: usize,
    closed: usize,
    unchanged: usize,
    /// Journal entries written.
    entries: usize,
    /// Journal position of the last one.
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<u64>,
    /// Problems (`path:line: message`); with `skip_bad_rows`, the rows skipped.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
}

fn file_stem(path: &str) -> String {
    std::path::Path::new(path)
        .file_stem()
        .map_or_else(|| path.to_string(), |s| s.to_string_lossy().into_owned())
}

/// Imports findings (CSV or JSON lines) from a scanner or CTEM platform, in one transaction:
/// unchanged findings write nothing; findings reported fixed, or absent from a full import of
/// the same feed, close.
#[utoipa::path(post, path = "/api/v1/exposures", tag = "exposures", params(ImportQuery),
    request_body(content = String, description = "The findings export (CSV or JSON lines)",
                 content_type = "text/csv"),
    responses((status = 200, description = "Imported", body = ExposureImport),
              (status = 400, description = "Empty body, unknown input format", body = Problem),
              (status = 422, description = "Invalid rows, naming each line", body = Problem)))]
pub(super) async fn import(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
    q: Result<Query<ImportQuery>, QueryRejection>,
    body_in: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<ExposureImport>, Problem> {
    let bytes = super::upload::bytes(body_in)?;
    use attest_formats::import::exposures::{ExposureFormat, read_exposures};
    let q = query(q)?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Problem::bad_request("empty-body", "the upload is empty"));
    }
    let label = q.path.clone().unwrap_or_else(|| "findings.csv".to_string());
    let feed = q.feed.clone().unwrap_or_else(|| file_stem(&label));
    let format = match q.input_format.as_deref().unwrap_or("auto") {
        "auto" => ExposureFormat::Auto,
        "csv" => ExposureFormat::Csv,
        "jsonl" => ExposureFormat::JsonLines,
        other => {
            return Err(Problem::bad_request(
                "invalid-format",
                format!("input_format: `{other}` is not auto, csv or jsonl"),
            ));
        }
    };
    let (found, diags) = read_exposures(
        Input {
            path: &label,
            bytes: &bytes,
        },
        &feed,
        format,
    );
    let errors = diags.iter().any(|d| d.severity == Severity::Error);
    let warnings = if q.skip_bad_rows {
        diags.iter().map(ToString::to_string).collect()
    } else {
        super::upload::check("invalid-exposures", &diags)?
    };
    // A file with skipped rows is not the whole feed: closing what it does not list would close
    // findings whose rows were merely unreadable.
    let full = !q.partial && !errors;
    let n = found.len();
    let plan = {
        let snap = app.snapshot();
        attest_core::exposure::plan_exposure_import(&snap.state.exposures, &feed, found, full)
    };
    let entries = plan.events.len();
    let mut seq = None;
    if entries > 0 {
        let why = format!("API: exposures import {label}");
        seq = Some(journal(&app, &who, plan.events, Some(&why)).await?.last_seq);
    }
    Ok(Json(ExposureImport {
        feed,
        findings: n,
        new: plan.new,
        updated: plan.updated,
        closed: plan.closed,
        unchanged: plan.unchanged,
        entries,
        seq,
        warnings,
    }))
}

/// Options of a mapping set import (`attest exposures mappings import`).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(super) struct MappingsQuery {
    /// Set name (default: the file name without extension); replaces the set of that name.
    name: Option<String>,
    /// The file's name, used in problems (default `mappings.json`).
    path: Option<String>,
    /// `auto` (default: YAML file names are misconfiguration maps), `cve` or `misconfig`.
    kind: Option<String>,
    /// Technique ids to remap before resolution, as `OLD=NEW` pairs separated by commas (for a
    /// set made for an older ATT&CK release; the CLI's `--remap FILE`).
    remap: Option<String>,
}

/// The `remap` pairs of a mapping import, checked as a remap table is (pair N is line N).
fn remap_pairs(raw: &str) -> Result<Vec<(String, String)>, Problem> {
    let csv: String = raw
        .split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| format!("{}\n", p.replacen('=', ",", 1)))
        .collect();
    let table = attest_attack::RemapTable::from_csv(csv.as_bytes()).map_err(|e| {
        Problem::bad_request(
            "invalid-remap",
            format!("remap (pair numbers as lines): {e}"),
        )
    })?;
    Ok(table
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect())
}

/// What a mapping import did.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct MappingsImport {
    name: String,
    /// Mappings loaded.
    mappings: usize,
    /// Distinct findings mapped.
    findings: usize,
    /// The ATT&CK release the set was made for.
    #[serde(skip_serializing_if = "Option::is_none")]
    attack_version: Option<String>,
    seq: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
}

/// Loads a finding → technique mapping set: CTID Mappings Explorer JSON or KEV/NVD CSV (CVEs),
/// or YAML (misconfigurations). Replaces the set of the same name. Any error refuses the whole
/// file (the CLI's `--strict`).
#[utoipa::path(post, path = "/api/v1/exposure-mappings", tag = "exposures", params(MappingsQuery),
    request_body(content = String, description = "The mapping file", content_type = "application/json"),
    responses((status = 201, description = "Loaded", body = MappingsImport),
              (status = 400, description = "Empty body, unknown kind", body = Problem),
              (status = 422, description = "Invalid mappings, naming each line", body = Problem)))]
pub(super) async fn import_mappings(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
    q: Result<Query<MappingsQuery>, QueryRejection>,
    body_in: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<(axum::http::StatusCode, Json<MappingsImport>), Problem> {
    let bytes = super::upload::bytes(body_in)?;
    use attest_formats::import::exposure_mappings::{read_cve_mappings, read_misconfig_map};
    let q = query(q)?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Problem::bad_request("empty-body", "the upload is empty"));
    }
    let label = q
        .path
        .clone()
        .unwrap_or_else(|| "mappings.json".to_string());
    let name = q.name.clone().unwrap_or_else(|| file_stem(&label));
    let lower = label.to_ascii_lowercase();
    let misconfig = match q.kind.as_deref().unwrap_or("auto") {
        "auto" => lower.ends_with(".yaml") || lower.ends_with(".yml"),
        "cve" => false,
        "misconfig" => true,
        other => {
            return Err(Problem::bad_request(
                "invalid-kind",
                format!("kind: `{other}` is not auto, cve or misconfig"),
            ));
        }
    };
    let input = Input {
        path: &label,
        bytes: &bytes,
    };
    let (set, diags) = if misconfig {
        read_misconfig_map(input, &name)
    } else {
        read_cve_mappings(input, &name)
    };
    let warnings = super::upload::check("invalid-mappings", &diags)?;
    let Some(mut set) = set else {
        return Err(super::unprocessable(
            "no-mappings",
            format!("{label} holds no usable mapping; nothing was changed"),
        ));
    };
    if let Some(raw) = q.remap.as_deref() {
        set.remap = remap_pairs(raw)?;
    }
    let mappings = set.mappings.len();
    let findings = set
        .mappings
        .iter()
        .map(|m| m.finding.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let attack_version = set.attack_version.clone();
    let why = format!("API: exposure mappings import {label}");
    let out = journal(
        &app,
        &who,
        vec![attest_core::journal::Event::ExposureMappingsLoaded(set)],
        Some(&why),
    )
    .await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(MappingsImport {
            name,
            mappings,
            findings,
            attack_version,
            seq: out.last_seq,
            warnings,
        }),
    ))
}

/// A loaded mapping set.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct MappingSetView {
    name: String,
    /// `cve` or `misconfig`.
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    attack_version: Option<String>,
    /// Mappings in the set.
    mappings: usize,
    /// Distinct findings mapped.
    findings: usize,
    /// Ids resolved through a remap or the revoked-by chain.
    remapped: usize,
    /// Ids that resolve to no current technique.
    unresolved: usize,
}

/// The loaded mapping sets, with the ids that were remapped or did not resolve
/// (`attest exposures mappings list`).
#[utoipa::path(get, path = "/api/v1/exposure-mappings", tag = "exposures",
    responses((status = 200, description = "The mapping sets", body = Vec<MappingSetView>)))]
pub(super) async fn mappings(State(app): State<AppState>) -> Json<Vec<MappingSetView>> {
    let snap = app.snapshot();
    Json(
        snap.state
            .exposure_mappings
            .values()
            .map(|set| {
                let (remapped, unresolved) = attest_core::exposure::mapping_resolution(
                    set,
                    snap.catalog(),
                    &snap.state.remap,
                );
                MappingSetView {
                    name: set.name.clone(),
                    kind: set.kind.as_str(),
                    attack_version: set.attack_version.clone(),
                    mappings: set.mappings.len(),
                    findings: set
                        .mappings
                        .iter()
                        .map(|m| m.finding.as_str())
                        .collect::<std::collections::BTreeSet<_>>()
                        .len(),
                    remapped,
                    unresolved,
                }
            })
            .collect(),
    )
}
