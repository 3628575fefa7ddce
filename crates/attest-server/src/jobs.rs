//! Scheduled jobs: cron-like schedules in the workspace metadata, claimed once across servers,
//! journaled with their outcome, retried with backoff when they fail.
//!
//! | job | default schedule (UTC) | what it does |
//! | --- | --- | --- |
//! | `silence` | `*/5 * * * *` | announces sources silent past their bound (once per silence) |
//! | `coverage` | `0 * * * *` | recomputes coverage and announces what time alone made worse (stale passes, silent sources) and backlog items opened/closed by it |
//! | `replay` | `0 3 * * 1` | re-runs the registered replay datasets against the current Sigma rules and journals the results |
//! | `digest` | `0 8 * * 1` | sends each profile's weekly coverage digest |
//!
//! Schedules live in the workspace metadata (`jobs.<name>.schedule`, `off` to disable), as do
//! the replay datasets (`jobs.replay.datasets`, one path per line): on PostgreSQL every server
//! reads the same configuration. Each run is claimed with a lease on the job's row, and its
//! outcome, the journal entries it produced and the webhook deliveries it queued are written in
//! one transaction. A failed run is journaled, announced (`job_failed`) and retried after
//! `job_retry × 2^(failures-1)` (at most an hour), never skipped.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Duration;

use attest_core::journal::{Event, JobOutcome, JobRun, JobTrigger};
use attest_core::rule::{RuleFormat, RuleStatus};
use attest_store::hooks::{JobFinish, JobRow};
use attest_store::{JournalQuery, NewEntry, RuleFilter};
use jiff::{SignedDuration, Timestamp};

use crate::Error;
use crate::notices::{self, Notice};
use crate::state::AppState;
use crate::webhooks::{BackgroundOptions, after};

/// A job the server knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobSpec {
    /// Its name.
    pub name: &'static str,
    /// Its schedule when the workspace sets none.
    pub default_schedule: &'static str,
    /// What it does.
    pub description: &'static str,
}

/// Every job.
pub const JOBS: [JobSpec; 4] = [
    JobSpec {
        name: "silence",
        default_schedule: "*/5 * * * *",
        description: "announce data sources silent past their bound",
    },
    JobSpec {
        name: "coverage",
        default_schedule: "0 * * * *",
        description: "recompute coverage; announce regressions and backlog changes caused by time",
    },
    JobSpec {
        name: "replay",
        default_schedule: "0 3 * * 1",
        description: "re-run the registered replay datasets against the current Sigma rules",
    },
    JobSpec {
        name: "digest",
        default_schedule: "0 8 * * 1",
        description: "send each profile's weekly coverage digest",
    },
];

/// Metadata key of a job's schedule.
pub fn schedule_key(job: &str) -> String {
    format!("jobs.{job}.schedule")
}

/// Metadata key of the replay datasets (one path per line).
pub const META_REPLAY_DATASETS: &str = "jobs.replay.datasets";

/// A job by name.
pub fn spec(name: &str) -> Option<&'static JobSpec> {
    JOBS.iter().find(|j| j.name == name)
}

/// A parsed schedule: a cron expression (5 fields, or 6 with seconds) in UTC, or off.
#[derive(Debug, Clone)]
pub enum Schedule {
    /// Runs when the expression matches.
    Cron(Box<croner::Cron>),
    /// Never runs by itself (still triggerable).
    Off,
}

impl Schedule {
    /// Parses `off` or a cron expression.
    pub fn parse(expr: &str) -> Result<Schedule, String> {
        let e = expr.trim();
        if e.eq_ignore_ascii_case("off") {
            return Ok(Schedule::Off);
        }
        croner::Cron::from_str(e)
            .map(|c| Schedule::Cron(Box::new(c)))
            .map_err(|err| format!("`{e}` is not a cron expression: {err}"))
    }

    /// The first time strictly after `t` it matches.
    pub fn next_after(&self, t: Timestamp) -> Option<Timestamp> {
        let Schedule::Cron(c) = self else {
            return None;
        };
        let start = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(t.as_millisecond())?;
        let next = c.find_next_occurrence(&start, false).ok()?;
        Timestamp::from_millisecond(next.timestamp_millis()).ok()
    }
}

/// A job's configured schedule (the default when unset). An unparsable one is an error naming
/// the metadata key.
pub async fn schedule_of(app: &AppState, job: &JobSpec) -> Result<(String, Schedule), Error> {
    let key = schedule_key(job.name);
    let expr = app
        .store()
        .meta(&key)
        .await
        .map_err(|source| Error::Store {
            operation: "read a job schedule",
            source,
        })?
        .unwrap_or_else(|| job.default_schedule.to_string());
    let schedule = Schedule::parse(&expr).map_err(|e| Error::Background(format!("{key}: {e}")))?;
    Ok((expr, schedule))
}

/// A job as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobStatus {
    /// Its spec.
    pub spec: JobSpec,
    /// Its schedule expression (or `off`).
    pub schedule: String,
    /// Its row, once any server scheduled it.
    pub row: Option<JobRow>,
}

/// Every job with its schedule and its last run.
pub async fn list(app: &AppState) -> Result<Vec<JobStatus>, Error> {
    let rows = app.store().jobs().await.map_err(|source| Error::Store {
        operation: "read jobs",
        source,
    })?;
    let mut out = Vec::new();
    for spec in JOBS {
        let schedule = match schedule_of(app, &spec).await {
            Ok((expr, _)) => expr,
            Err(e) => format!("invalid: {e}"),
        };
        out.push(JobStatus {
            spec,
            schedule,
            row: rows.iter().find(|r| r.name == spec.name).cloned(),
        });
    }
    Ok(out)
}

/// What a finished run reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunReport {
    /// The job.
    pub job: String,
    /// Whether it succeeded.
    pub ok: bool,
    /// What it did, or the error.
    pub summary: String,
    /// The journal entry recording the run.
    pub seq: u64,
    /// When it runs next.
    pub next_at: Timestamp,
}

/// What a job found: journal entries to append and notices to announce.
struct Work {
    summary: String,
    entries: Vec<NewEntry>,
    notices: Vec<Notice>,
}

const WHO: &str = "attest scheduler";

/// Runs a job now on behalf of `who`, unless another run holds it (`Ok(None)`).
pub async fn run_now(
    app: &AppState,
    name: &str,
    who: &str,
    options: &BackgroundOptions,
) -> Result<Option<RunReport>, Error> {
    let Some(spec) = spec(name) else {
        return Err(Error::Background(format!("no job `{name}`")));
    };
    let now = Timestamp::now();
    let (_, schedule) = schedule_of(app, spec).await?;
    ensure(app, spec.name, &schedule, now).await?;
    let claimed = app
        .store()
        .claim_job(
            spec.name,
            app.instance(),
            now,
            after(now, options.job_lease),
            true,
        )
        .await
        .map_err(|source| Error::Store {
            operation: "claim a job",
            source,
        })?;
    match claimed {
        Some(row) => execute(app, spec, &schedule, row, JobTrigger::Manual, who, options)
            .await
            .map(Some),
        None => Ok(None),
    }
}

async fn ensure(
    app: &AppState,
    name: &str,
    schedule: &Schedule,
    now: Timestamp,
) -> Result<(), Error> {
    // A job switched off is parked far away; it stays triggerable.
    let next = schedule
        .next_after(now)
        .unwrap_or_else(|| after(now, Duration::from_secs(100 * 365 * 86_400)));
    app.store()
        .ensure_job(name, next, false)
        .await
        .map_err(|source| Error::Store {
            operation: "schedule a job",
            source,
        })
}

/// One scheduler pass: creates missing job rows, moves jobs whose schedule changed, and runs
/// what is due and not held by another server.
pub(crate) async fn tick(
    app: &AppState,
    seen: &mut BTreeMap<&'static str, String>,
    options: &BackgroundOptions,
) -> Result<(), Error> {
    let now = Timestamp::now();
    // One read decides what to do; an idle tick writes nothing (on SQLite every write waits for
    // the one writer, and idle ticks are most ticks).
    let rows = app.store().jobs().await.map_err(|source| Error::Store {
        operation: "read jobs",
        source,
    })?;
    for spec in &JOBS {
        let (expr, schedule) = match schedule_of(app, spec).await {
            Ok(s) => s,
            Err(error) => {
                tracing::warn!(job = spec.name, %error, "job not scheduled");
                continue;
            }
        };
        let changed = seen.get(spec.name).is_some_and(|old| *old != expr);
        let row = rows.iter().find(|r| r.name == spec.name);
        if !changed && let Some(row) = row {
            seen.insert(spec.name, expr.clone());
            let free = row.lease_until.is_none_or(|u| u < now);
            if row.next_at > now || !free {
                continue;
            }
        } else if changed {
            let next = schedule
                .next_after(now)
                .unwrap_or_else(|| after(now, Duration::from_secs(100 * 365 * 86_400)));
            app.store()
                .ensure_job(spec.name, next, true)
                .await
                .map_err(|source| Error::Store {
                    operation: "reschedule a job",
                    source,
                })?;
        } else {
            ensure(app, spec.name, &schedule, now).await?;
        }
        seen.insert(spec.name, expr);
        let claimed = app
            .store()
            .claim_job(
                spec.name,
                app.instance(),
                now,
                after(now, options.job_lease),
                false,
            )
            .await
            .map_err(|source| Error::Store {
                operation: "claim a job",
                source,
            })?;
        if let Some(row) = claimed {
            execute(
                app,
                spec,
                &schedule,
                row,
                JobTrigger::Schedule,
                WHO,
                options,
            )
            .await?;
        }
    }
    Ok(())
}

async fn execute(
    app: &AppState,
    spec: &JobSpec,
    schedule: &Schedule,
    row: JobRow,
    trigger: JobTrigger,
    who: &str,
    options: &BackgroundOptions,
) -> Result<RunReport, Error> {
    let attempt = row.failures + 1;
    let started = Timestamp::now();
    let result = work(app, spec.name, &row, started).await;
    let finished = Timestamp::now();
    let (finish, mut entries, notices, ok, summary) = match result {
        Ok(w) => {
            let next = schedule
                .next_after(finished)
                .unwrap_or_else(|| after(finished, Duration::from_secs(100 * 365 * 86_400)));
            let finish = JobFinish {
                next_at: next,
                failures: 0,
                ran_at: finished,
                ok: true,
                outcome: format!("succeeded: {}", w.summary),
            };
            (finish, w.entries, w.notices, true, w.summary)
        }
        Err(error) => {
            let factor = 1u32.checked_shl(row.failures).unwrap_or(u32::MAX);
            let wait = options
                .job_retry
                .checked_mul(factor)
                .unwrap_or(Duration::from_secs(3600))
                .min(Duration::from_secs(3600));
            let retry_at = after(finished, wait);
            tracing::warn!(job = spec.name, attempt, %error, %retry_at, "scheduled job failed; will retry");
            let finish = JobFinish {
                next_at: retry_at,
                failures: attempt,
                ran_at: finished,
                ok: false,
                outcome: format!("failed: {error}"),
            };
            let notice = notices::job_failed(spec.name, attempt, &error, retry_at, finished);
            (finish, Vec::new(), vec![notice], false, error)
        }
    };
    entries.push(NewEntry::new(
        who,
        finished,
        Event::JobRan(JobRun {
            job: spec.name.to_string(),
            trigger,
            attempt,
            started,
            finished,
            outcome: if ok {
                JobOutcome::Succeeded {
                    summary: summary.clone(),
                }
            } else {
                JobOutcome::Failed {
                    error: summary.clone(),
                }
            },
        }),
    ));
    let hooks = app
        .store()
        .webhooks()
        .await
        .map_err(|source| Error::Store {
            operation: "read webhooks",
            source,
        })?;
    let deliveries = notices::fan_out(&hooks, &notices);
    let written = app
        .store()
        .finish_job(spec.name, app.instance(), &finish, entries, &deliveries)
        .await
        .map_err(|source| Error::Store {
            operation: "record a job run",
            source,
        })?;
    let Some(outcome) = written else {
        return Err(Error::Background(format!(
            "job {}: the lease ran out before the run finished; another server will run it",
            spec.name
        )));
    };
    app.inner
        .metrics
        .add_job(spec.name, if ok { "succeeded" } else { "failed" });
    if !deliveries.is_empty() {
        app.inner.deliveries_queued.notify_one();
    }
    if let Err(error) = app.refresh(false).await {
        tracing::warn!(%error, "snapshot refresh after a job failed");
    }
    Ok(RunReport {
        job: spec.name.to_string(),
        ok,
        summary,
        seq: outcome.last_seq,
        next_at: finish.next_at,
    })
}

fn store_text(e: attest_store::Error) -> String {
    let mut s = e.to_string();
    let mut cur = std::error::Error::source(&e);
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

async fn work(app: &AppState, job: &str, row: &JobRow, now: Timestamp) -> Result<Work, String> {
    let store = app.store();
    match job {
        "silence" => {
            let state = store.projected_state().await.map_err(store_text)?;
            let notices = notices::silent_sources(&state, now);
            Ok(Work {
                summary: format!(
                    "{} of {} sources silent",
                    notices.len(),
                    state.sources.len()
                ),
                entries: Vec::new(),
                notices,
            })
        }
        "coverage" => {
            let state = store.projected_state().await.map_err(store_text)?;
            let Some(from) = row.last_ok else {
                return Ok(Work {
                    summary: "first run: baseline taken".to_string(),
                    entries: Vec::new(),
                    notices: Vec::new(),
                });
            };
            let knowledge = app.knowledge();
            let notices = tokio::task::spawn_blocking(move || {
                notices::from_time(&knowledge.catalog, &state, from, now)
            })
            .await
            .map_err(|e| format!("coverage computation panicked: {e}"))?;
            Ok(Work {
                summary: format!("{} change notice(s) since {from}", notices.len()),
                entries: Vec::new(),
                notices,
            })
        }
        "digest" => {
            let then = now
                .checked_sub(SignedDuration::from_hours(24 * 7))
                .map_err(|e| e.to_string())?;
            let then_state = store.state(Some(then)).await.map_err(store_text)?;
            let now_state = store.projected_state().await.map_err(store_text)?;
            let q = JournalQuery {
                after_seq: then_state.last_seq,
                ..JournalQuery::default()
            };
            let entries = store.journal(&q).await.map_err(store_text)?;
            let knowledge = app.knowledge();
            let notices = tokio::task::spawn_blocking(move || {
                notices::digests(
                    &knowledge.catalog,
                    &then_state,
                    &now_state,
                    &entries,
                    then,
                    now,
                )
            })
            .await
            .map_err(|e| format!("digest computation panicked: {e}"))?;
            Ok(Work {
                summary: format!("{} digest(s)", notices.len()),
                entries: Vec::new(),
                notices,
            })
        }
        "replay" => replay(app, now).await,
        other => Err(format!("no job `{other}`")),
    }
}

/// The replay datasets registered in the workspace metadata (`jobs.replay.datasets`).
pub(crate) async fn registered_datasets(app: &AppState) -> Result<Vec<std::path::PathBuf>, String> {
    Ok(app
        .store()
        .meta(META_REPLAY_DATASETS)
        .await
        .map_err(store_text)?
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(std::path::PathBuf::from)
        .collect())
}

/// What one replay of datasets through the registered Sigma rules found.
#[derive(Debug)]
pub(crate) struct ReplayRun {
    /// One line saying what it did.
    pub summary: String,
    /// The counts.
    pub counts: attest_replay::ReplaySummary,
    /// Rules compiled, and registered rule files no longer where they were imported from.
    pub rules_compiled: usize,
    /// Registered rule files missing.
    pub rules_missing: usize,
    /// What to journal: the datasets as tests, and the results.
    pub recorded: attest_replay::record::Recorded,
}

/// Replays `datasets` through the workspace's enabled Sigma rules, as `attest validate replay`
/// does (same functions), and returns what to journal; `by` is written into the results.
/// Used by the scheduled `replay` job and by `POST /api/v1/replay`.
pub(crate) async fn replay_datasets(
    app: &AppState,
    datasets: Vec<std::path::PathBuf>,
    rules: Option<std::path::PathBuf>,
    now: Timestamp,
    by: String,
) -> Result<ReplayRun, String> {
    let store = app.store();
    let filter = RuleFilter {
        format: Some(RuleFormat::Sigma),
        ..RuleFilter::default()
    };
    let records = store.rules(&filter).await.map_err(store_text)?;
    let registry: BTreeMap<String, Vec<String>> = store
        .rules(&RuleFilter::default())
        .await
        .map_err(store_text)?
        .into_iter()
        .map(|r| (r.rule.id.0, r.rule.techniques))
        .collect();
    tokio::task::spawn_blocking(move || {
        let (sources, missing) = match &rules {
            Some(path) => (
                attest_replay::record::sources_at(path)
                    .map_err(|e| format!("reading Sigma rules at {}: {e}", path.display()))?,
                0,
            ),
            None => attest_replay::record::registered_sources(
                records
                    .iter()
                    .filter(|r| r.rule.status == RuleStatus::Enabled)
                    .map(|r| (r.rule.origin.root.as_str(), r.rule.origin.path.as_str())),
            ),
        };
        if sources.is_empty() {
            return Err(format!(
                "no Sigma rule files to replay ({missing} registered files missing)"
            ));
        }
        let (ruleset, _diags) =
            attest_sigma::RuleSet::compile(sources, &attest_sigma::CompileOptions::default());
        let mut loaded = Vec::new();
        for d in &datasets {
            loaded.extend(
                attest_replay::load_datasets(d)
                    .map_err(|e| format!("loading dataset {}: {e}", d.display()))?,
            );
        }
        let mut results = Vec::new();
        let counts = attest_replay::replay(
            &loaded,
            &ruleset,
            &attest_replay::ReplayOptions::default(),
            &mut results,
        );
        let recorded = attest_replay::record::record(&results, &ruleset, &registry, now, &by);
        Ok(ReplayRun {
            summary: format!(
                "{} of {} expected rules fired on {} datasets ({} events); {} results, {missing} rule files missing",
                counts.expected_passed,
                counts.expected_total,
                counts.datasets,
                counts.events,
                recorded.results.len()
            ),
            counts,
            rules_compiled: ruleset.len(),
            rules_missing: missing,
            recorded,
        })
    })
    .await
    .map_err(|e| format!("replay panicked: {e}"))?
}

/// The journal entries of a replay: the datasets as tests, then the results, under `who`.
pub(crate) fn replay_entries(
    recorded: attest_replay::record::Recorded,
    who: &str,
    now: Timestamp,
    why: &str,
) -> Vec<NewEntry> {
    let mut entries: Vec<NewEntry> = recorded
        .tests
        .into_iter()
        .map(|t| NewEntry::new(who, now, Event::TestUpserted(t)).with_why(why))
        .collect();
    entries.extend(
        recorded
            .results
            .into_iter()
            .map(|r| NewEntry::new(who, now, Event::ResultRecorded(r)).with_why(why)),
    );
    entries
}

/// Re-runs the registered datasets against the workspace's enabled Sigma rules and returns the
/// tests and results to journal.
async fn replay(app: &AppState, now: Timestamp) -> Result<Work, String> {
    let datasets = registered_datasets(app).await?;
    if datasets.is_empty() {
        return Ok(Work {
            summary: "no replay datasets registered (`attest jobs datasets PATH…`)".to_string(),
            entries: Vec::new(),
            notices: Vec::new(),
        });
    }
    let run = replay_datasets(app, datasets, None, now, "attest replay job".to_string()).await?;
    Ok(Work {
        summary: run.summary,
        entries: replay_entries(run.recorded, WHO, now, "scheduled replay"),
        notices: Vec::new(),
    })
}

/// Starts the scheduler; it runs until the handle is aborted.
pub(crate) fn spawn(app: &AppState, options: BackgroundOptions) -> tokio::task::JoinHandle<()> {
    let app = app.clone();
    tokio::spawn(async move {
        let mut seen = BTreeMap::new();
        let mut tick_every = tokio::time::interval(options.tick);
        loop {
            tick_every.tick().await;
            if let Err(error) = tick(&app, &mut seen, &options).await {
                tracing::warn!(%error, "scheduler pass failed");
            }
        }
    })
}

/// Sets a workspace setting (a job's schedule, the replay datasets) and journals who changed it,
/// in one transaction.
pub async fn set_setting(
    store: &attest_store::Store,
    who: &str,
    key: &str,
    value: &str,
) -> Result<attest_store::AppendOutcome, attest_store::Error> {
    let entry = attest_store::NewEntry::new(
        who,
        jiff::Timestamp::now(),
        attest_core::journal::Event::SettingChanged {
            key: key.to_string(),
            value: Some(value.to_string()),
        },
    );
    store.append_with_meta(vec![entry], &[(key, value)]).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_parse_and_find_the_next_time() {
        let weekly = Schedule::parse("0 3 * * 1").expect("cron");
        // 2026-03-04 is a Wednesday; the next Monday 03:00 UTC is the 9th.
        let t: Timestamp = "2026-03-04T10:00:00Z".parse().expect("time");
        assert_eq!(
            weekly.next_after(t),
            Some("2026-03-09T03:00:00Z".parse().expect("time"))
        );
        let every5 = Schedule::parse("*/5 * * * *").expect("cron");
        let at: Timestamp = "2026-03-04T10:05:00Z".parse().expect("time");
        // Strictly after: a run at 10:05 is next due at 10:10.
        assert_eq!(
            every5.next_after(at),
            Some("2026-03-04T10:10:00Z".parse().expect("time"))
        );
        assert!(matches!(Schedule::parse("OFF"), Ok(Schedule::Off)));
        assert_eq!(Schedule::Off.next_after(t), None);
        assert!(Schedule::parse("every tuesday").is_err());
        for j in JOBS {
            assert!(Schedule::parse(j.default_schedule).is_ok(), "{}", j.name);
        }
    }
}
