//! The rule registry: list with every filter of `attest rules list`, show, enable/disable,
//! assign an owner, tune (suppress/exclude), and import uploads — one transaction each.

use std::collections::{BTreeMap, BTreeSet};

use attest_core::coverage::standing::{RuleStateFilter, claims_unknown_technique, rule_standings};
use attest_core::journal::Event;
use attest_core::registry::{classify_claims, plan_rule_import};
use attest_core::rule::{RuleFormat, RuleId, RuleStatus, Tuning, TuningKind};
use attest_core::state::RuleRecord;
use attest_core::validation::ValidationKind;
use attest_formats::{Input, Severity};
use attest_store::RuleFilter;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{body, journal, parse_technique, query, unprocessable};
use crate::auth::Principal;
use crate::problem::Problem;
use crate::state::AppState;
use crate::views::{ResultView, RuleView};

/// Filters of `GET /api/v1/rules`; every filter given must match.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(super) struct RulesQuery {
    /// Claims this technique.
    technique: Option<String>,
    /// With `technique`: also rules on its sub-techniques (default: yes for a parent).
    subtechniques: Option<bool>,
    /// Claims this tactic (short name or ATT&CK name).
    tactic: Option<String>,
    /// Depends on this inventory source, data component or log source.
    data_source: Option<String>,
    /// A format (`sigma`, `elastic`, …) or an import root.
    origin: Option<String>,
    /// `enabled`, `disabled` or `retired`.
    status: Option<String>,
    /// Owned by.
    owner: Option<String>,
    /// Only rules claiming ids the loaded ATT&CK release does not know.
    unknown_techniques: bool,
    /// Through a claimed technique: `validated`, `rule-exists`, `failing`, `disabled`, `degraded`.
    state: Option<String>,
    /// A claimed technique's validation: `untested`, `passing`, `failing`, `stale`, `invalidated`.
    validation: Option<String>,
}

/// A rule listing.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct RuleList {
    /// Rules found.
    count: usize,
    /// The rules.
    rules: Vec<RuleListItem>,
}

/// A rule with its validations.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct RuleListItem {
    /// The rule.
    #[serde(flatten)]
    rule: RuleView,
    /// Validation of its claimed techniques (`untested`, `passing`, …), when asked for by a
    /// `state` or `validation` filter.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    validation: Vec<&'static str>,
}

/// Rules, with the CLI's filters.
#[utoipa::path(get, path = "/api/v1/rules", tag = "rules", params(RulesQuery),
    responses((status = 200, description = "The rules", body = RuleList),
              (status = 400, description = "A filter value is not valid", body = Problem)))]
pub(super) async fn list(
    State(app): State<AppState>,
    q: Result<Query<RulesQuery>, QueryRejection>,
) -> Result<Json<RuleList>, Problem> {
    let q = query(q)?;
    let mut filter = RuleFilter::default();
    if let Some(t) = &q.technique {
        let id = parse_technique(t)?;
        filter.technique = Some(id.to_string());
        filter.with_subtechniques = q.subtechniques.unwrap_or(!id.is_subtechnique());
    }
    filter.tactic = q
        .tactic
        .as_deref()
        .map(attest_formats::import::normalize_tactic);
    filter.data_source = q.data_source.clone();
    if let Some(o) = &q.origin {
        match RuleFormat::parse(o) {
            Some(f) => filter.format = Some(f),
            None => filter.root = Some(o.clone()),
        }
    }
    if let Some(s) = &q.status {
        filter.status = Some(RuleStatus::parse(s).ok_or_else(|| {
            Problem::bad_request(
                "invalid-status",
                format!("status: `{s}` is not a rule status (enabled, disabled, retired)"),
            )
        })?);
    }
    filter.owner = q.owner.clone();
    let state_filter = match &q.state {
        Some(s) => Some(RuleStateFilter::parse(s).ok_or_else(|| {
            Problem::bad_request(
                "invalid-state",
                format!(
                    "state: `{s}` is not one of validated, rule-exists, failing, disabled, degraded"
                ),
            )
        })?),
        None => None,
    };
    let validation_filter = match &q.validation {
        Some(v) => Some(ValidationKind::parse(v).ok_or_else(|| {
            Problem::bad_request(
                "invalid-validation",
                format!(
                    "validation: `{v}` is not one of untested, passing, failing, stale, invalidated"
                ),
            )
        })?),
        None => None,
    };
    let mut rules = app
        .store()
        .rules(&filter)
        .await
        .map_err(|e| Problem::store("list rules", &e))?;
    if q.unknown_techniques {
        let knowledge = app.knowledge();
        rules.retain(|r| claims_unknown_technique(&knowledge.kb, &r.rule));
    }
    let mut standings = BTreeMap::new();
    if state_filter.is_some() || validation_filter.is_some() {
        // The snapshot's coverage is scope-independent and current: the same question the CLI
        // asks of a freshly folded journal.
        let snap = app.snapshot();
        standings = rule_standings(
            snap.catalog(),
            &snap.state,
            &snap.coverage,
            snap.coverage.at,
        );
    }
    if let Some(want) = validation_filter {
        rules.retain(|r| {
            standings
                .get(&r.rule.id)
                .is_some_and(|s| s.validations.contains(&want))
        });
    }
    if let Some(f) = state_filter {
        rules.retain(|r| f.matches(&r.rule, standings.get(&r.rule.id)));
    }
    let rules: Vec<RuleListItem> = rules
        .iter()
        .map(|r| RuleListItem {
            rule: RuleView::of(r),
            validation: standings
                .get(&r.rule.id)
                .map(|s| s.validations.iter().map(|k| k.as_str()).collect())
                .unwrap_or_default(),
        })
        .collect();
    Ok(Json(RuleList {
        count: rules.len(),
        rules,
    }))
}

async fn existing(app: &AppState, id: &str) -> Result<RuleRecord, Problem> {
    app.store()
        .rule(&RuleId(id.to_string()))
        .await
        .map_err(|e| Problem::store("read a rule", &e))?
        .ok_or_else(|| Problem::not_found("rule-not-found", format!("no rule `{id}`")))
}

/// Everything about one rule: its record, tuning, assessment (usable, dependencies met) and
/// results.
#[utoipa::path(get, path = "/api/v1/rules/{id}", tag = "rules",
    params(("id" = String, Path, description = "Rule id")),
    responses((status = 200, description = "The rule", body = serde_json::Value),
              (status = 404, description = "No such rule", body = Problem)))]
pub(super) async fn show(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, Problem> {
    let record = existing(&app, &id).await?;
    let rid = record.rule.id.clone();
    let results = app
        .store()
        .results(&rid, None)
        .await
        .map_err(|e| Problem::store("read a rule's results", &e))?;
    let snap = app.snapshot();
    let assessment = snap.coverage.rule(&rid).map(|a| {
        serde_json::json!({
            "usable": a.usable,
            "dependencies": snap.coverage.dependencies_of(a).map(|(d, s)| {
                serde_json::json!({"dependency": d.to_string(), "met": s.is_satisfied()})
            }).collect::<Vec<_>>(),
        })
    });
    let r = &record.rule;
    Ok(Json(serde_json::json!({
        "rule": RuleView::of(&record),
        "maturity": r.maturity,
        "created": r.created,
        "modified": r.modified,
        "content_hash": r.content_hash,
        "tuning": r.tuning.iter().map(|t| serde_json::json!({
            "kind": t.kind.as_str(), "what": t.what, "reason": t.reason,
            "author": t.author, "at": t.at,
        })).collect::<Vec<_>>(),
        "assessment": assessment,
        "results": results.iter().map(ResultView::of).collect::<Vec<_>>(),
    })))
}

/// Why a lifecycle change is made (journaled).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct StatusChange {
    /// Why (required, journaled).
    reason: String,
}

/// The outcome of a change to one rule.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct RuleChange {
    /// The rule.
    rule: String,
    /// Whether anything was journaled (`false`: it already was so).
    changed: bool,
    /// Journal position of the change.
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<u64>,
}

async fn set_status(
    app: AppState,
    who: Principal,
    id: String,
    status: RuleStatus,
    b: Result<Json<StatusChange>, JsonRejection>,
) -> Result<Json<RuleChange>, Problem> {
    let change = body(b)?;
    if change.reason.trim().is_empty() {
        return Err(Problem::bad_request(
            "reason-required",
            "reason: say why (it is journaled)",
        ));
    }
    let rec = existing(&app, &id).await?;
    if rec.rule.status == status {
        return Ok(Json(RuleChange {
            rule: id,
            changed: false,
            seq: None,
        }));
    }
    let out = journal(
        &app,
        &who,
        vec![Event::RuleStatusChanged {
            id: rec.rule.id.clone(),
            status,
        }],
        Some(&change.reason),
    )
    .await?;
    Ok(Json(RuleChange {
        rule: id,
        changed: true,
        seq: Some(out.last_seq),
    }))
}

/// Enables a rule.
#[utoipa::path(post, path = "/api/v1/rules/{id}/enable", tag = "rules",
    params(("id" = String, Path, description = "Rule id")), request_body = StatusChange,
    responses((status = 200, description = "Enabled (or already was)", body = RuleChange),
              (status = 400, description = "Bad body", body = Problem),
              (status = 403, description = "A viewer token", body = Problem),
              (status = 404, description = "No such rule", body = Problem)))]
pub(super) async fn enable(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    b: Result<Json<StatusChange>, JsonRejection>,
) -> Result<Json<RuleChange>, Problem> {
    set_status(app, who, id, RuleStatus::Enabled, b).await
}

/// Disables a rule: techniques it alone covered become degraded.
#[utoipa::path(post, path = "/api/v1/rules/{id}/disable", tag = "rules",
    params(("id" = String, Path, description = "Rule id")), request_body = StatusChange,
    responses((status = 200, description = "Disabled (or already was)", body = RuleChange),
              (status = 400, description = "Bad body", body = Problem),
              (status = 403, description = "A viewer token", body = Problem),
              (status = 404, description = "No such rule", body = Problem)))]
pub(super) async fn disable(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    b: Result<Json<StatusChange>, JsonRejection>,
) -> Result<Json<RuleChange>, Problem> {
    set_status(app, who, id, RuleStatus::Disabled, b).await
}

/// A new owner.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct OwnerChange {
    /// The owner (person or team).
    owner: String,
    /// Why (journaled).
    #[serde(default)]
    reason: Option<String>,
}

/// Assigns an owner to a rule.
#[utoipa::path(put, path = "/api/v1/rules/{id}/owner", tag = "rules",
    params(("id" = String, Path, description = "Rule id")), request_body = OwnerChange,
    responses((status = 200, description = "Assigned", body = RuleChange),
              (status = 400, description = "Bad body", body = Problem),
              (status = 404, description = "No such rule", body = Problem)))]
pub(super) async fn assign(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    b: Result<Json<OwnerChange>, JsonRejection>,
) -> Result<Json<RuleChange>, Problem> {
    let change = body(b)?;
    if change.owner.trim().is_empty() {
        return Err(Problem::bad_request(
            "owner-required",
            "owner: must not be empty",
        ));
    }
    let rec = existing(&app, &id).await?;
    let out = journal(
        &app,
        &who,
        vec![Event::RuleOwnerAssigned {
            id: rec.rule.id.clone(),
            owner: change.owner.trim().to_string(),
        }],
        change.reason.as_deref(),
    )
    .await?;
    Ok(Json(RuleChange {
        rule: id,
        changed: true,
        seq: Some(out.last_seq),
    }))
}

/// A suppression or exclusion.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct TuningInput {
    /// What is suppressed or excluded (a condition, host, user…).
    what: String,
    /// Why (required, journaled).
    reason: String,
    /// `suppression` (default) or `exclusion`.
    #[serde(default)]
    kind: Option<String>,
}

/// Records a suppression or exclusion on a rule; earlier passes no longer count as validated.
#[utoipa::path(post, path = "/api/v1/rules/{id}/tuning", tag = "rules",
    params(("id" = String, Path, description = "Rule id")), request_body = TuningInput,
    responses((status = 201, description = "Recorded", body = RuleChange),
              (status = 400, description = "Bad body", body = Problem),
              (status = 404, description = "No such rule", body = Problem)))]
pub(super) async fn suppress(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    b: Result<Json<TuningInput>, JsonRejection>,
) -> Result<(StatusCode, Json<RuleChange>), Problem> {
    let t = body(b)?;
    let kind = match t.kind.as_deref().map(str::trim) {
        None | Some("suppression") => TuningKind::Suppression,
        Some("exclusion") => TuningKind::Exclusion,
        Some(other) => {
            return Err(Problem::bad_request(
                "invalid-tuning-kind",
                format!("kind: `{other}` is not suppression or exclusion"),
            ));
        }
    };
    if t.what.trim().is_empty() || t.reason.trim().is_empty() {
        return Err(Problem::bad_request(
            "tuning-incomplete",
            "what and reason must not be empty",
        ));
    }
    let rec = existing(&app, &id).await?;
    let tuning = Tuning {
        kind,
        what: t.what,
        reason: t.reason.clone(),
        author: who.name.clone(),
        at: Timestamp::now(),
    };
    let out = journal(
        &app,
        &who,
        vec![Event::RuleTuned {
            id: rec.rule.id.clone(),
            tuning,
        }],
        Some(&t.reason),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(RuleChange {
            rule: id,
            changed: true,
            seq: Some(out.last_seq),
        }),
    ))
}

/// How to import an upload.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ImportQuery {
    /// `sigma`, `elastic`, `kibana`, `splunk`, `splunk-conf`, `sentinel` or `csv`.
    format: String,
    /// Import root recorded on every rule (default `api`).
    root: Option<String>,
    /// The file name of a single-file body (default `upload.<extension>`), used in problems.
    path: Option<String>,
    /// Retire rules of this root that the upload does not hold (the upload is the whole root).
    #[serde(default)]
    retire_missing: bool,
    /// Report what would change, write nothing.
    #[serde(default)]
    dry_run: bool,
}

/// Several files in one upload.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct FileBundle {
    /// The files.
    files: Vec<UploadedFile>,
}

/// One file of an upload.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct UploadedFile {
    /// Its path within the root (names it in problems).
    path: String,
    /// Its text.
    content: String,
}

/// What an import did.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ImportSummary {
    format: &'static str,
    root: String,
    files: usize,
    rules: usize,
    rules_with_techniques: usize,
    distinct_techniques: usize,
    unknown_techniques: Vec<String>,
    revoked_techniques: Vec<String>,
    new: usize,
    updated: usize,
    revived: usize,
    unchanged: usize,
    retired: usize,
    /// Warnings (`path:line: message`).
    warnings: Vec<String>,
    dry_run: bool,
    /// Journal position of the last entry written.
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<u64>,
}

/// Imports rules from the body — one file (its raw text, named by `path`), or JSON
/// `{"files": [{"path", "content"}]}` — in one transaction. Any invalid file fails the whole
/// upload with a 422 naming each file and line; nothing is written then.
#[utoipa::path(post, path = "/api/v1/rules", tag = "rules", params(ImportQuery),
    request_body(content = String, description = "A rule file's text, or a FileBundle as JSON",
                 content_type = "application/yaml"),
    responses((status = 201, description = "Imported", body = ImportSummary),
              (status = 200, description = "Dry run: nothing written", body = ImportSummary),
              (status = 400, description = "Unknown format, empty body", body = Problem),
              (status = 422, description = "Invalid files, each named with its line", body = Problem)))]
pub(super) async fn import(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
    q: Result<Query<ImportQuery>, QueryRejection>,
    body_in: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<(StatusCode, Json<ImportSummary>), Problem> {
    let bytes = super::upload::bytes(body_in)?;
    let q = query(q)?;
    let Some(format) = RuleFormat::parse(&q.format).filter(|f| *f != RuleFormat::Manual) else {
        return Err(Problem::bad_request(
            "invalid-format",
            format!(
                "format: `{}` is not sigma, elastic, kibana, splunk, splunk-conf, sentinel or csv",
                q.format
            ),
        ));
    };
    let root = q.root.clone().unwrap_or_else(|| "api".to_string());
    if bytes.is_empty() {
        return Err(Problem::bad_request("empty-body", "the upload is empty"));
    }
    // Parsing is synchronous and the importer is not `Send`: it is done and dropped before the
    // first await.
    let (paths, rules, diags) = parse_upload(format, &root, q.path.as_deref(), &bytes)?;
    let errors: Vec<String> = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(ToString::to_string)
        .collect();
    if !errors.is_empty() {
        return Err(unprocessable(
            "invalid-rules",
            format!(
                "{} problem(s); nothing was imported: {}",
                errors.len(),
                errors.join("; ")
            ),
        ));
    }
    if rules.is_empty() {
        return Err(unprocessable(
            "no-rules",
            format!("no {} rule in {}", format.as_str(), paths.join(", ")),
        ));
    }
    let existing = app
        .store()
        .rules(&RuleFilter {
            root: Some(root.clone()),
            ..RuleFilter::default()
        })
        .await
        .map_err(|e| Problem::store("read the root's rules", &e))?
        .into_iter()
        .map(|r| (r.rule.id.clone(), r))
        .collect();
    let n_rules = rules.len();
    let claimed: BTreeSet<String> = rules
        .iter()
        .flat_map(|r| r.techniques.iter().cloned())
        .collect();
    let with_techniques = rules.iter().filter(|r| !r.techniques.is_empty()).count();
    let plan = plan_rule_import(&existing, &root, rules, q.retire_missing);
    let (unknown, revoked) = classify_claims(&app.knowledge().kb, &claimed);
    let mut seq = None;
    if !q.dry_run && !plan.events.is_empty() {
        let why = format!(
            "API rule import {} ({} files)",
            format.as_str(),
            paths.len()
        );
        seq = Some(
            journal(&app, &who, plan.events.clone(), Some(&why))
                .await?
                .last_seq,
        );
    }
    let status = if q.dry_run {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        Json(ImportSummary {
            format: format.as_str(),
            root,
            files: paths.len(),
            rules: n_rules,
            rules_with_techniques: with_techniques,
            distinct_techniques: claimed.len(),
            unknown_techniques: unknown,
            revoked_techniques: revoked,
            new: plan.new,
            updated: plan.updated,
            revived: plan.revived,
            unchanged: plan.unchanged,
            retired: plan.retired,
            warnings: diags.iter().map(ToString::to_string).collect(),
            dry_run: q.dry_run,
            seq,
        }),
    ))
}

/// The files of an upload and what the importer makes of them.
type Parsed = (
    Vec<String>,
    Vec<attest_core::rule::Rule>,
    Vec<attest_formats::Diagnostic>,
);

/// Splits an upload into files (a JSON [`FileBundle`], or one file named `path`) and imports
/// them.
fn parse_upload(
    format: RuleFormat,
    root: &str,
    path: Option<&str>,
    bytes: &[u8],
) -> Result<Parsed, Problem> {
    let Some(importer) = attest_formats::import::rule_importer(format, root) else {
        return Err(Problem::bad_request(
            "invalid-format",
            format!("importing {} rules is not supported", format.as_str()),
        ));
    };
    let files: Vec<(String, Vec<u8>)> = match serde_json::from_slice::<FileBundle>(bytes) {
        Ok(bundle) if path.is_none() => bundle
            .files
            .into_iter()
            .map(|f| (f.path, f.content.into_bytes()))
            .collect(),
        _ => {
            let ext = importer.extensions().first().copied().unwrap_or("txt");
            let name = path.map_or_else(|| format!("upload.{ext}"), str::to_string);
            vec![(name, bytes.to_vec())]
        }
    };
    let inputs: Vec<Input<'_>> = files
        .iter()
        .map(|(p, b)| Input { path: p, bytes: b })
        .collect();
    let (rules, diags) = attest_formats::import::import_rules(importer.as_ref(), &inputs, 1);
    Ok((files.into_iter().map(|(p, _)| p).collect(), rules, diags))
}
