//! The test catalogue's writes and validation imports — `attest tests import-atomic|add` and
//! `attest validate import atomic|vectr|jsonl|replay` over HTTP, with the same importers and
//! the same planning as the CLI (`attest-formats`, `attest_core::registry`).
//!
//! Uploads take one file as the body or several as `{"files": [{"path", "content"}]}`; any
//! error in any file is one 422 naming file and line, and nothing is written. Every write is one
//! transaction journaled under the token's name.

use std::collections::BTreeSet;
use std::path::PathBuf;

use attest_core::journal::Event;
use attest_core::result::{Outcome, ValidationResult};
use attest_core::test::{Test, TestKind};
use attest_formats::Input;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::upload::{self, NamedFile};
use super::{body, journal, parse_technique, query, unprocessable};
use crate::auth::{Principal, Role};
use crate::problem::Problem;
use crate::state::AppState;

/// Names the uploaded file(s).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub(super) struct UploadQuery {
    /// The name of a single-file body, used in problems.
    path: Option<String>,
}

/// What an Atomic catalogue import did.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct AtomicImport {
    /// Technique files that parsed.
    technique_files: usize,
    /// Tests read.
    tests: usize,
    /// Tests seen for the first time.
    new: usize,
    /// Tests whose definition changed.
    changed: usize,
    /// Tests exactly as recorded.
    unchanged: usize,
    /// Journal position of the last entry written.
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<u64>,
    /// Warnings (`path:line: message`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
}

/// Imports Atomic Red Team technique files (`Txxxx.yaml`) into the test catalogue, one test per
/// `auto_generated_guid` (`attest tests import-atomic`); re-importing writes only what changed.
#[utoipa::path(post, path = "/api/v1/tests/atomic", tag = "validation", params(UploadQuery),
    request_body(content = String, description = "A technique file's YAML, or {\"files\": [{\"path\", \"content\"}]}",
                 content_type = "application/yaml"),
    responses((status = 200, description = "Imported", body = AtomicImport),
              (status = 400, description = "Empty body", body = Problem),
              (status = 422, description = "Invalid files, naming each file and line", body = Problem)))]
pub(super) async fn import_atomic(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
    q: Result<Query<UploadQuery>, QueryRejection>,
    body_in: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<AtomicImport>, Problem> {
    let bytes = super::upload::bytes(body_in)?;
    let q = query(q)?;
    let files = upload::files(&bytes, q.path.as_deref(), "atomic.yaml")?;
    let catalogue = attest_formats::import::atomic::read_catalogue(
        files.iter().map(|(p, b)| Input { path: p, bytes: b }),
    );
    let warnings = upload::check("invalid-atomic", &catalogue.diagnostics)?;
    if catalogue.tests.is_empty() {
        return Err(unprocessable(
            "no-tests",
            format!(
                "no Atomic test in {}",
                files
                    .iter()
                    .map(|(p, _)| p.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let existing: Vec<Test> = app.snapshot().state.tests.values().cloned().collect();
    let plan = attest_core::registry::plan_test_import(&existing, &catalogue.tests);
    let mut seq = None;
    if !plan.events.is_empty() {
        let why = format!("API: Atomic import ({} files)", files.len());
        seq = Some(journal(&app, &who, plan.events, Some(&why)).await?.last_seq);
    }
    Ok(Json(AtomicImport {
        technique_files: catalogue.techniques,
        tests: catalogue.tests.len(),
        new: plan.new,
        changed: plan.changed,
        unchanged: plan.unchanged,
        seq,
        warnings,
    }))
}

/// A purple-team scenario, simulation action or replay dataset for the catalogue.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NewTest {
    /// Stable id.
    id: String,
    /// `purple-team`, `simulation` or `replay` (Atomic tests come from `POST /api/v1/tests/atomic`).
    kind: String,
    /// Techniques exercised (at least one).
    techniques: Vec<String>,
    /// Human name.
    name: String,
    /// Platforms.
    #[serde(default)]
    platforms: Vec<String>,
}

/// Adds (or replaces) a test of the catalogue (`attest tests add`).
#[utoipa::path(post, path = "/api/v1/tests", tag = "validation", request_body = NewTest,
    responses((status = 201, description = "Recorded", body = serde_json::Value),
              (status = 400, description = "Bad body, naming the field", body = Problem)))]
pub(super) async fn add_test(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
    b: Result<Json<NewTest>, JsonRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), Problem> {
    let t = body(b)?;
    let kind = TestKind::parse(&t.kind).ok_or_else(|| {
        Problem::bad_request(
            "invalid-test-kind",
            format!(
                "kind: `{}` is not purple-team, simulation or replay",
                t.kind
            ),
        )
    })?;
    if kind == TestKind::Atomic {
        return Err(Problem::bad_request(
            "invalid-test-kind",
            "kind: Atomic tests come from the catalogue: POST /api/v1/tests/atomic",
        ));
    }
    let id = t.id.trim().to_string();
    if id.is_empty() {
        return Err(Problem::bad_request(
            "invalid-test",
            "id: a test needs an id",
        ));
    }
    if t.techniques.is_empty() {
        return Err(Problem::bad_request(
            "invalid-test",
            "techniques: a test exercises at least one technique",
        ));
    }
    let mut techniques = Vec::new();
    for (i, raw) in t.techniques.iter().enumerate() {
        let parsed = parse_technique(raw)
            .map_err(|p| Problem::bad_request(p.code, format!("techniques[{i}]: {}", p.detail)))?;
        techniques.push(parsed.to_string());
    }
    let test = Test {
        id: id.clone(),
        kind,
        techniques,
        name: t.name,
        platforms: t.platforms,
        executor: None,
        elevation_required: false,
    };
    let out = journal(
        &app,
        &who,
        vec![Event::TestUpserted(test)],
        Some("API: test added"),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({"test": id, "seq": out.last_seq})),
    ))
}

/// A result as recorded by an import.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct RecordedResult {
    rule: String,
    technique: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    test: Option<String>,
    /// `pass`, `fail`, `error` or `skipped`.
    outcome: &'static str,
    at: Timestamp,
    by: String,
}

/// What a validation import recorded.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ResultsImport {
    /// Results recorded.
    recorded: usize,
    /// Of which pass, fail, error, skipped.
    pass: usize,
    /// Fail.
    fail: usize,
    /// Error.
    error: usize,
    /// Skipped.
    skipped: usize,
    /// The results.
    results: Vec<RecordedResult>,
    /// Techniques exercised that no registered rule claims (a gap, not a failure).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    unclaimed: Vec<String>,
    /// Rules the registry does not know (results kept; they count once imported).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    unknown_rules: Vec<String>,
    /// Warnings (`path:line: message`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
    /// Journal position of the last entry written.
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<u64>,
}

/// Journals `results` in one transaction (as `attest validate` does) and says what was recorded.
async fn record(
    app: &AppState,
    who: &Principal,
    results: Vec<ValidationResult>,
    why: &str,
    (unclaimed, warnings): (Vec<String>, Vec<String>),
) -> Result<(StatusCode, Json<ResultsImport>), Problem> {
    let snap = app.snapshot();
    let unknown_rules: Vec<String> = results
        .iter()
        .filter(|r| !snap.state.rules.contains_key(&r.rule))
        .map(|r| r.rule.0.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    drop(snap);
    let count = |o: Outcome| results.iter().filter(|r| r.outcome == o).count();
    let (pass, fail, error, skipped) = (
        count(Outcome::Pass),
        count(Outcome::Fail),
        count(Outcome::Error),
        count(Outcome::Skipped),
    );
    let views: Vec<RecordedResult> = results
        .iter()
        .map(|r| RecordedResult {
            rule: r.rule.0.clone(),
            technique: r.technique.clone(),
            test: r.test.clone(),
            outcome: r.outcome.as_str(),
            at: r.at,
            by: r.by.clone(),
        })
        .collect();
    let n = results.len();
    let mut seq = None;
    if n > 0 {
        let events = results.into_iter().map(Event::ResultRecorded).collect();
        seq = Some(journal(app, who, events, Some(why)).await?.last_seq);
        app.inner.metrics.add_results(n);
    }
    Ok((
        if n > 0 {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(ResultsImport {
            recorded: n,
            pass,
            fail,
            error,
            skipped,
            results: views,
            unclaimed,
            unknown_rules,
            warnings,
            seq,
        }),
    ))
}

/// Execution logs and the alerts to join them with.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct AtomicResultsUpload {
    /// Invoke-AtomicRedTeam execution logs (CSV logger output, any header version, or Attire
    /// JSON), at least one.
    logs: Vec<NamedFile>,
    /// The SIEM's alert export (CSV or JSON lines with rule id or name and time).
    alerts: NamedFile,
    /// How long after an execution an alert still counts, in seconds (default 900).
    #[serde(default)]
    window_secs: Option<i64>,
    /// Only alerts from the host the test ran on count.
    #[serde(default)]
    match_host: bool,
}

/// Joins Invoke-AtomicRedTeam execution logs with the alerts the SIEM raised and records pass,
/// fail or error per claiming rule (`attest validate import atomic`).
#[utoipa::path(post, path = "/api/v1/results/atomic", tag = "validation",
    request_body = AtomicResultsUpload,
    responses((status = 201, description = "Recorded", body = ResultsImport),
              (status = 200, description = "Nothing to record", body = ResultsImport),
              (status = 400, description = "Bad body, naming the field", body = Problem),
              (status = 422, description = "Invalid files, naming file and line", body = Problem)))]
pub(super) async fn import_atomic_results(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
    b: Result<Json<AtomicResultsUpload>, JsonRejection>,
) -> Result<(StatusCode, Json<ResultsImport>), Problem> {
    let up = body(b)?;
    if up.logs.is_empty() {
        return Err(Problem::bad_request(
            "invalid-upload",
            "logs: at least one execution log is needed",
        ));
    }
    let window = match up.window_secs {
        None => SignedDuration::from_mins(15),
        Some(s) if s > 0 => SignedDuration::from_secs(s),
        Some(s) => {
            return Err(Problem::bad_request(
                "invalid-upload",
                format!("window_secs: {s} must be positive"),
            ));
        }
    };
    let mut executions = Vec::new();
    let mut diags = Vec::new();
    for log in &up.logs {
        let (e, d) = attest_formats::import::read_executions(Input {
            path: log.path(),
            bytes: log.content().as_bytes(),
        });
        executions.extend(e);
        diags.extend(d);
    }
    let (alerts, d) = attest_formats::import::alerts::read_alerts(Input {
        path: up.alerts.path(),
        bytes: up.alerts.content().as_bytes(),
    });
    diags.extend(d);
    let warnings = upload::check("invalid-results", &diags)?;
    let snap = app.snapshot();
    let tests: Vec<Test> = snap.state.tests.values().cloned().collect();
    attest_formats::correlate::resolve_test_guids(&mut executions, &tests);
    let (by_technique, by_name) =
        attest_core::registry::claims_index(snap.state.rules.values().map(|r| &r.rule));
    drop(snap);
    let options = attest_formats::correlate::CorrelateOptions {
        window,
        match_host: up.match_host,
        rule_names: by_name,
        by: who.name.clone(),
        ..Default::default()
    };
    let c = attest_formats::correlate::correlate(&executions, &alerts, &by_technique, &options);
    let unclaimed = c
        .unclaimed
        .iter()
        .filter_map(|i| executions.get(*i))
        .map(|e| e.technique.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    record(
        &app,
        &who,
        c.results,
        "API: validate import atomic",
        (unclaimed, warnings),
    )
    .await
}

/// Records the results of a VECTR CSV export; each is assigned to every registered rule that
/// claims its technique (`attest validate import vectr`).
#[utoipa::path(post, path = "/api/v1/results/vectr", tag = "validation", params(UploadQuery),
    request_body(content = String, description = "The VECTR CSV export, or {\"files\": [...]}",
                 content_type = "text/csv"),
    responses((status = 201, description = "Recorded", body = ResultsImport),
              (status = 200, description = "Nothing to record", body = ResultsImport),
              (status = 422, description = "Invalid file, naming the line", body = Problem)))]
pub(super) async fn import_vectr(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
    q: Result<Query<UploadQuery>, QueryRejection>,
    body_in: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<(StatusCode, Json<ResultsImport>), Problem> {
    let bytes = super::upload::bytes(body_in)?;
    let q = query(q)?;
    let files = upload::files(&bytes, q.path.as_deref(), "vectr.csv")?;
    let mut results = Vec::new();
    let mut diags = Vec::new();
    for (path, content) in &files {
        let (r, d) = attest_formats::import::vectr::read_vectr(
            Input {
                path,
                bytes: content,
            },
            &Default::default(),
        );
        results.extend(r);
        diags.extend(d);
    }
    let warnings = upload::check("invalid-results", &diags)?;
    let (by_technique, _) =
        attest_core::registry::claims_index(app.snapshot().state.rules.values().map(|r| &r.rule));
    let (assigned, unclaimed) = attest_formats::import::vectr::assign_rules(results, &by_technique);
    let unclaimed = unclaimed
        .into_iter()
        .map(|r| r.technique)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    record(
        &app,
        &who,
        assigned,
        "API: validate import vectr",
        (unclaimed, warnings),
    )
    .await
}

/// Records results from JSON lines, one result per line with the fields of
/// `POST /api/v1/results` (`attest validate import jsonl`); `by` defaults to the token's name.
#[utoipa::path(post, path = "/api/v1/results/jsonl", tag = "validation", params(UploadQuery),
    request_body(content = String, description = "JSON lines, or {\"files\": [...]}",
                 content_type = "application/x-ndjson"),
    responses((status = 201, description = "Recorded", body = ResultsImport),
              (status = 422, description = "Invalid lines, naming each", body = Problem)))]
pub(super) async fn import_jsonl(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
    q: Result<Query<UploadQuery>, QueryRejection>,
    body_in: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<(StatusCode, Json<ResultsImport>), Problem> {
    let bytes = super::upload::bytes(body_in)?;
    let q = query(q)?;
    let files = upload::files(&bytes, q.path.as_deref(), "results.jsonl")?;
    let options = attest_formats::import::results_jsonl::ResultsJsonlOptions {
        default_by: Some(who.name.clone()),
        now: Some(Timestamp::now()),
    };
    let mut results = Vec::new();
    let mut diags = Vec::new();
    for (path, content) in &files {
        let (r, d) = attest_formats::import::results_jsonl::read_results_jsonl(
            Input {
                path,
                bytes: content,
            },
            &options,
        );
        results.extend(r);
        diags.extend(d);
    }
    let warnings = upload::check("invalid-results", &diags)?;
    record(
        &app,
        &who,
        results,
        "API: validate import jsonl",
        (Vec::new(), warnings),
    )
    .await
}

/// A replay to run.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub(super) struct ReplayRequest {
    /// Dataset folders, manifests or `info.yml` files on the server (admins only); default:
    /// the registered datasets (`attest jobs datasets`).
    datasets: Option<Vec<String>>,
    /// Sigma rules (a file or folder on the server; admins only) to replay instead of the
    /// workspace's enabled Sigma rules.
    rules: Option<String>,
    /// Record the results (default yes); `false` only reports.
    record: Option<bool>,
}

/// One expected rule of a replayed dataset.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ReplayRowView {
    dataset: String,
    rule: String,
    techniques: Vec<String>,
    expected_min: u64,
    matches: u64,
    /// `pass`, `fail`, `error` or `skipped`.
    outcome: &'static str,
}

/// What a replay found.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ReplayAnswer {
    summary: String,
    rules_compiled: usize,
    rules_missing: usize,
    datasets: usize,
    events: u64,
    expected_total: usize,
    expected_passed: usize,
    /// Results journaled (0 when `record` is false).
    results_recorded: usize,
    /// Journal position of the last entry written.
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<u64>,
    rows: Vec<ReplayRowView>,
}

/// Replays recorded telemetry through the workspace's enabled Sigma rules and journals pass or
/// fail per expected rule (`attest validate replay`). Runs while the request waits, bounded by
/// the request timeout (30 s by default): a replay that outlives it is answered 408 but runs to
/// its end and is journaled (see `GET /api/v1/results`). For long, regular replays use the
/// scheduled `replay` job (`POST /api/v1/jobs/replay/run`).
#[utoipa::path(post, path = "/api/v1/replay", tag = "validation", request_body = ReplayRequest,
    responses((status = 200, description = "Replayed", body = ReplayAnswer),
              (status = 403, description = "Datasets named by a non-admin token", body = Problem),
              (status = 422, description = "No dataset or no rule to replay, or a dataset does not load", body = Problem)))]
pub(super) async fn replay(
    State(app): State<AppState>,
    Extension(who): Extension<Principal>,
    body_in: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<ReplayAnswer>, Problem> {
    let bytes = super::upload::bytes(body_in)?;
    let req: ReplayRequest = if bytes.iter().all(u8::is_ascii_whitespace) {
        ReplayRequest::default()
    } else {
        serde_json::from_slice(&bytes)
            .map_err(|e| Problem::bad_request("invalid-json", format!("replay body: {e}")))?
    };
    let names_paths = req.datasets.is_some() || req.rules.is_some();
    if names_paths && who.role < Role::Admin {
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "token `{}` has role {}; naming paths on the server needs admin",
                who.name,
                who.role.as_str()
            ),
        ));
    }
    let rules = req.rules.map(PathBuf::from);
    let datasets: Vec<PathBuf> = match req.datasets {
        Some(paths) => paths.into_iter().map(PathBuf::from).collect(),
        None => crate::jobs::registered_datasets(&app)
            .await
            .map_err(|e| Problem::new(StatusCode::SERVICE_UNAVAILABLE, "store-unavailable", e))?,
    };
    if datasets.is_empty() {
        return Err(unprocessable(
            "no-datasets",
            "no replay dataset given and none registered (`attest jobs datasets PATH…`)",
        ));
    }
    let record = req.record.unwrap_or(true);
    // The run is a task of its own so that the request deadline cannot stop it halfway: it
    // finishes and journals even when nobody reads the answer.
    let runner = app.clone();
    let who_name = who.name.clone();
    let task = tokio::spawn(async move {
        let now = Timestamp::now();
        let run =
            crate::jobs::replay_datasets(&runner, datasets, rules, now, who_name.clone()).await?;
        let rows: Vec<ReplayRowView> = run
            .recorded
            .rows
            .iter()
            .map(|r| ReplayRowView {
                dataset: r.dataset.clone(),
                rule: r.rule.clone(),
                techniques: r.techniques.clone(),
                expected_min: r.expected_min,
                matches: r.matches,
                outcome: r.outcome.as_str(),
            })
            .collect();
        let n = run.recorded.results.len();
        let mut seq = None;
        if record && n > 0 {
            let entries =
                crate::jobs::replay_entries(run.recorded, &who_name, now, "API: validate replay");
            let out = runner
                .store()
                .append(entries)
                .await
                .map_err(|e| format!("journal the replay: {e}"))?;
            runner.inner.metrics.add_results(n);
            super::refresh_after_append(&runner, &out).await;
            seq = Some(out.last_seq);
        }
        Ok::<ReplayAnswer, String>(ReplayAnswer {
            summary: run.summary,
            rules_compiled: run.rules_compiled,
            rules_missing: run.rules_missing,
            datasets: run.counts.datasets,
            events: run.counts.events,
            expected_total: run.counts.expected_total,
            expected_passed: run.counts.expected_passed,
            results_recorded: if record { n } else { 0 },
            seq,
            rows,
        })
    });
    let answer = task
        .await
        .map_err(|e| {
            Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "replay-panicked",
                e.to_string(),
            )
        })?
        .map_err(|e| unprocessable("replay-failed", e))?;
    Ok(Json(answer))
}
