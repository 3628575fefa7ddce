//! `attest demo`: builds a realistic demo workspace from the demo set the project ships in
//! `demo/` (compiled into the binary), optionally adds real corpora, and serves the dashboard.
//!
//! The demo set goes through the same importers and registry planning as `attest rules import`,
//! `attest sources apply` and `attest profiles import`; what is demo-specific is only the
//! timeline (`demo/timeline.yaml`): every entry is journaled at an instant relative to now, so
//! the workspace has a past (trends, history, stale and invalidated passes) from the first run.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use attest_core::journal::Event;
use attest_core::registry::{plan_inventory_apply, plan_rule_import};
use attest_core::result::{Evidence, Outcome, ValidationResult};
use attest_core::rule::{RuleFormat, RuleId, Tuning, TuningKind};
use attest_formats::{Input, Severity};
use attest_store::NewEntry;
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;

use crate::cmd::workspace;
use crate::global::Context;

/// `attest demo` arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to build the demo workspace (default: a new folder under the temp directory). It
    /// must not hold a workspace already.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Also import a real Sigma rule repository (e.g. SigmaHQ's `rules/`).
    #[arg(long, value_name = "DIR")]
    pub sigma: Option<PathBuf>,
    /// Also replay recorded events (e.g. SigmaHQ's `regression_data/`) through the Sigma rules.
    #[arg(long, value_name = "DIR")]
    pub events: Option<PathBuf>,
    /// Address to serve on (loopback only: the demo serves without authentication).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Build the workspace and exit without serving.
    #[arg(long)]
    pub no_serve: bool,
}

/// The demo set, compiled in: (format, path within the set, content).
const RULES: &[(RuleFormat, &str, &str)] = &[
    (
        RuleFormat::Sigma,
        "sigma/archive.yml",
        include_str!("../../../../demo/rules/sigma/archive.yml"),
    ),
    (
        RuleFormat::Sigma,
        "sigma/certutil.yml",
        include_str!("../../../../demo/rules/sigma/certutil.yml"),
    ),
    (
        RuleFormat::Sigma,
        "sigma/cmd_shell.yml",
        include_str!("../../../../demo/rules/sigma/cmd_shell.yml"),
    ),
    (
        RuleFormat::Sigma,
        "sigma/linux_cron.yml",
        include_str!("../../../../demo/rules/sigma/linux_cron.yml"),
    ),
    (
        RuleFormat::Sigma,
        "sigma/linux_shadow.yml",
        include_str!("../../../../demo/rules/sigma/linux_shadow.yml"),
    ),
    (
        RuleFormat::Sigma,
        "sigma/lsass_access.yml",
        include_str!("../../../../demo/rules/sigma/lsass_access.yml"),
    ),
    (
        RuleFormat::Sigma,
        "sigma/masquerade.yml",
        include_str!("../../../../demo/rules/sigma/masquerade.yml"),
    ),
    (
        RuleFormat::Sigma,
        "sigma/net_group.yml",
        include_str!("../../../../demo/rules/sigma/net_group.yml"),
    ),
    (
        RuleFormat::Sigma,
        "sigma/powershell_encoded.yml",
        include_str!("../../../../demo/rules/sigma/powershell_encoded.yml"),
    ),
    (
        RuleFormat::Sigma,
        "sigma/run_key.yml",
        include_str!("../../../../demo/rules/sigma/run_key.yml"),
    ),
    (
        RuleFormat::Sigma,
        "sigma/rundll32.yml",
        include_str!("../../../../demo/rules/sigma/rundll32.yml"),
    ),
    (
        RuleFormat::Sigma,
        "sigma/schtasks.yml",
        include_str!("../../../../demo/rules/sigma/schtasks.yml"),
    ),
    (
        RuleFormat::Sigma,
        "sigma/svc_create.yml",
        include_str!("../../../../demo/rules/sigma/svc_create.yml"),
    ),
    (
        RuleFormat::Sigma,
        "sigma/vssadmin.yml",
        include_str!("../../../../demo/rules/sigma/vssadmin.yml"),
    ),
    (
        RuleFormat::Sigma,
        "sigma/wevtutil.yml",
        include_str!("../../../../demo/rules/sigma/wevtutil.yml"),
    ),
    (
        RuleFormat::Sigma,
        "sigma/wmi_exec.yml",
        include_str!("../../../../demo/rules/sigma/wmi_exec.yml"),
    ),
    (
        RuleFormat::Splunk,
        "splunk/admin_shares.yml",
        include_str!("../../../../demo/rules/splunk/admin_shares.yml"),
    ),
    (
        RuleFormat::Splunk,
        "splunk/disable_defender.yml",
        include_str!("../../../../demo/rules/splunk/disable_defender.yml"),
    ),
    (
        RuleFormat::Splunk,
        "splunk/kerberoast.yml",
        include_str!("../../../../demo/rules/splunk/kerberoast.yml"),
    ),
    (
        RuleFormat::Splunk,
        "splunk/okta_mfa.yml",
        include_str!("../../../../demo/rules/splunk/okta_mfa.yml"),
    ),
    (
        RuleFormat::Splunk,
        "splunk/password_spray.yml",
        include_str!("../../../../demo/rules/splunk/password_spray.yml"),
    ),
    (
        RuleFormat::Splunk,
        "splunk/rdp_lateral.yml",
        include_str!("../../../../demo/rules/splunk/rdp_lateral.yml"),
    ),
    (
        RuleFormat::Splunk,
        "splunk/sudoers.yml",
        include_str!("../../../../demo/rules/splunk/sudoers.yml"),
    ),
    (
        RuleFormat::Sentinel,
        "sentinel/account_manipulation.yaml",
        include_str!("../../../../demo/rules/sentinel/account_manipulation.yaml"),
    ),
    (
        RuleFormat::Sentinel,
        "sentinel/new_local_admin.yaml",
        include_str!("../../../../demo/rules/sentinel/new_local_admin.yaml"),
    ),
    (
        RuleFormat::Sentinel,
        "sentinel/ransom_note.yaml",
        include_str!("../../../../demo/rules/sentinel/ransom_note.yaml"),
    ),
    (
        RuleFormat::Sentinel,
        "sentinel/valid_accounts.yaml",
        include_str!("../../../../demo/rules/sentinel/valid_accounts.yaml"),
    ),
    (
        RuleFormat::Csv,
        "csv/siem_rules.csv",
        include_str!("../../../../demo/rules/csv/siem_rules.csv"),
    ),
];
const INVENTORY: &str = include_str!("../../../../demo/inventory.yaml");
const PROFILES: &[(&str, &str)] = &[
    (
        "profile.yaml",
        include_str!("../../../../demo/profile.yaml"),
    ),
    (
        "profile-windows.yaml",
        include_str!("../../../../demo/profile-windows.yaml"),
    ),
];
const TIMELINE: &str = include_str!("../../../../demo/timeline.yaml");
/// Runbooks offered in enrichment: written to the workspace's `runbooks/` folder, which the
/// server watches, so editing them there shows in the next answer.
const RUNBOOKS: &[(&str, &str)] = &[
    (
        "credential-dumping.md",
        include_str!("../../../../demo/runbooks/credential-dumping.md"),
    ),
    (
        "powershell.md",
        include_str!("../../../../demo/runbooks/powershell.md"),
    ),
    (
        "command-interpreters.md",
        include_str!("../../../../demo/runbooks/command-interpreters.md"),
    ),
    (
        "ransomware.md",
        include_str!("../../../../demo/runbooks/ransomware.md"),
    ),
];

/// Writes the demo runbooks into `dir/runbooks/` and returns that folder.
fn write_runbooks(dir: &std::path::Path) -> Result<PathBuf> {
    let folder = dir.join("runbooks");
    std::fs::create_dir_all(&folder).with_context(|| format!("creating {}", folder.display()))?;
    for (name, text) in RUNBOOKS {
        let path = folder.join(name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(folder)
}

/// How often a demo source reports: well inside the shortest allowed silence (12 h), so a
/// source is silent only where the timeline says so.
const HEARTBEAT_EVERY: SignedDuration = SignedDuration::from_hours(6);

/// `demo/timeline.yaml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Timeline {
    imported_days_ago: i64,
    #[serde(default)]
    heartbeats: Vec<Heartbeat>,
    #[serde(default)]
    owners: Vec<Owner>,
    #[serde(default)]
    tuning: Vec<TuningEntry>,
    #[serde(default)]
    results: Vec<ResultEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Heartbeat {
    source: String,
    hours_ago: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Owner {
    rule: String,
    owner: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TuningEntry {
    rule: String,
    kind: String,
    what: String,
    reason: String,
    days_ago: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResultEntry {
    rule: String,
    technique: String,
    outcome: String,
    days_ago: i64,
    test: Option<String>,
}

fn ago(now: Timestamp, d: SignedDuration) -> Timestamp {
    now.checked_sub(d).unwrap_or(now)
}

fn days(n: i64) -> SignedDuration {
    SignedDuration::from_hours(24 * n)
}

/// Files of one rule format: (path within the set, content).
type Files<'a> = Vec<(&'a str, &'a str)>;

/// Every journal entry of the demo set, oldest first.
fn demo_entries(kb: &attest_attack::KnowledgeBase, now: Timestamp) -> Result<Vec<NewEntry>> {
    let timeline: Timeline =
        yaml_serde::from_str(TIMELINE).context("demo/timeline.yaml is not valid")?;
    let t0 = ago(now, days(timeline.imported_days_ago));
    let who = "attest demo";
    let mut entries: Vec<NewEntry> = Vec::new();
    let mut push = |at: Timestamp, event: Event, why: &str| {
        entries.push(NewEntry::new(who, at, event).with_why(why));
    };

    // The inventory, as `attest sources apply` plans it.
    let (mut desired, diags) = attest_formats::import::inventory::read_inventory(Input {
        path: "demo/inventory.yaml",
        bytes: INVENTORY.as_bytes(),
    });
    fail_on_errors("demo/inventory.yaml", &diags)?;
    for s in desired.iter_mut().filter(|s| s.components.is_empty()) {
        s.components = crate::cmd::sources::derive_components(kb, &s.log_sources);
    }
    for e in plan_inventory_apply(&[], desired, true).events {
        push(t0, e, "demo inventory");
    }

    // Rules, per format, as `attest rules import` plans them.
    let mut formats: BTreeMap<&str, (RuleFormat, Files<'_>)> = BTreeMap::new();
    for (format, path, text) in RULES {
        formats
            .entry(format.as_str())
            .or_insert_with(|| (*format, Vec::new()))
            .1
            .push((path, text));
    }
    for (name, (format, files)) in &formats {
        let root = format!("attest-demo/{name}");
        let Some(importer) = attest_formats::import::rule_importer(*format, &root) else {
            bail!("no importer for {name}");
        };
        let inputs: Vec<Input<'_>> = files
            .iter()
            .map(|(p, t)| Input {
                path: p,
                bytes: t.as_bytes(),
            })
            .collect();
        let (rules, diags) = attest_formats::import::import_rules(importer.as_ref(), &inputs, 1);
        fail_on_errors(&root, &diags)?;
        for e in plan_rule_import(&BTreeMap::new(), &root, rules, true).events {
            push(t0, e, &format!("demo rules ({name})"));
        }
    }

    // Profiles, as `attest profiles import` reads them.
    for (path, text) in PROFILES {
        let label = format!("demo/{path}");
        let (profile, diags) = attest_formats::import::profile::read_profile(Input {
            path: &label,
            bytes: text.as_bytes(),
        });
        fail_on_errors(&label, &diags)?;
        let Some(profile) = profile else {
            bail!("{label} holds no profile")
        };
        push(t0, Event::ProfileUpserted(profile), "demo profile");
    }

    for o in &timeline.owners {
        push(
            ago(now, days(timeline.imported_days_ago - 1)),
            Event::RuleOwnerAssigned {
                id: RuleId(o.rule.clone()),
                owner: o.owner.clone(),
            },
            "demo owners",
        );
    }
    for t in &timeline.tuning {
        let at = ago(now, days(t.days_ago));
        let kind = match t.kind.as_str() {
            "suppression" => TuningKind::Suppression,
            "exclusion" => TuningKind::Exclusion,
            other => bail!("demo/timeline.yaml: tuning kind {other:?}"),
        };
        push(
            at,
            Event::RuleTuned {
                id: RuleId(t.rule.clone()),
                tuning: Tuning {
                    kind,
                    what: t.what.clone(),
                    reason: t.reason.clone(),
                    author: who.into(),
                    at,
                },
            },
            "demo tuning",
        );
    }
    for r in &timeline.results {
        let at = ago(now, days(r.days_ago));
        let outcome = match r.outcome.as_str() {
            "pass" => Outcome::Pass,
            "fail" => Outcome::Fail,
            other => bail!("demo/timeline.yaml: outcome {other:?}"),
        };
        push(
            at,
            Event::ResultRecorded(ValidationResult {
                rule: RuleId(r.rule.clone()),
                technique: r.technique.to_uppercase(),
                test: r.test.clone(),
                outcome,
                at,
                by: "purple team".into(),
                evidence: Evidence {
                    text: Some("demo exercise".into()),
                    ..Default::default()
                },
            }),
            "demo result",
        );
    }
    // Sources report every few hours from the import on, until their last heartbeat.
    for h in &timeline.heartbeats {
        let last = ago(now, SignedDuration::from_hours(h.hours_ago));
        let mut at = t0;
        while at < last {
            push(
                at,
                Event::SourceSeen {
                    name: h.source.clone(),
                    at,
                },
                "demo heartbeat",
            );
            at = at.checked_add(HEARTBEAT_EVERY).unwrap_or(last);
        }
        push(
            last,
            Event::SourceSeen {
                name: h.source.clone(),
                at: last,
            },
            "demo heartbeat",
        );
    }
    entries.sort_by_key(|e| e.at);
    Ok(entries)
}

fn fail_on_errors(what: &str, diags: &[attest_formats::Diagnostic]) -> Result<()> {
    if let Some(d) = diags.iter().find(|d| d.severity == Severity::Error) {
        bail!("the demo set is broken ({what}): {d}");
    }
    Ok(())
}

/// Runs `attest demo`.
pub async fn run(ctx: &Context, args: Args) -> Result<ExitCode> {
    if !args.no_serve && !args.listen.ip().is_loopback() {
        bail!(
            "attest demo serves without authentication, so only on loopback (127.0.0.1); \
             for a shared server use `attest serve` with tokens"
        );
    }
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("attest-demo-{}", Timestamp::now().as_second())),
    };
    if dir.join("attest.db").exists() {
        bail!(
            "{} already holds a workspace; give another --dir",
            dir.display()
        );
    }
    let mut ctx = ctx.clone();
    ctx.workspace = dir.clone();
    ctx.database = None;
    let now = workspace::now();
    let timeline: Timeline =
        yaml_serde::from_str(TIMELINE).context("demo/timeline.yaml is not valid")?;
    // The journal starts when the demo's history does, so its times never go backwards.
    crate::cmd::init::run_at(&ctx, ago(now, days(timeline.imported_days_ago))).await?;
    let store = workspace::open(&ctx).await?;
    let kb = workspace::load_kb(&ctx, &store).await?;
    let entries = demo_entries(&kb.kb, now)?;
    let n = entries.len();
    store.append(entries).await?;
    eprintln!(
        "demo set journaled: {n} entries over {} days",
        timeline.imported_days_ago
    );
    if let Some(sigma) = &args.sigma {
        crate::cmd::rules::import(&ctx, &store, "sigma", sigma, None, false, false).await?;
    }
    if let Some(events) = &args.events {
        crate::cmd::validate::replay(&ctx, &store, std::slice::from_ref(events), None, false)
            .await?;
    }
    store.close().await;
    let runbooks = write_runbooks(&dir)?;
    if args.no_serve {
        println!("demo workspace ready in {}", dir.display());
        println!(
            "serve it with: attest --workspace {} serve --insecure-no-auth --runbooks {}",
            dir.display(),
            runbooks.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let attack = {
        let ctx = ctx.clone();
        let recorded = {
            let store = workspace::open(&ctx).await?;
            let r = workspace::recorded_bundles(&store).await?;
            store.close().await;
            r
        };
        tokio::task::spawn_blocking(move || crate::kb_source::bundle_paths(&ctx, &recorded))
            .await??
    };
    let config = attest_server::ServerConfig {
        listen: args.listen,
        database: workspace::database_url(&ctx),
        attack,
        insecure_no_auth: true,
        limits: attest_server::Limits::default(),
        runbooks: Some(runbooks.clone()),
    };
    println!(
        "attest demo: open http://{} (workspace {}; ctrl-c to stop)",
        args.listen,
        dir.display()
    );
    println!(
        "SOAR enrichment with runbooks (edit them in {}; changes show within seconds):\n  \
         curl -s 'http://{}/api/v1/enrich?technique=T1003.001&platform=Windows&profile=finance'",
        runbooks.display(),
        args.listen
    );
    attest_server::serve(config)
        .await
        .context("serving the demo")?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_runbooks_parse_without_warnings() {
        for (name, text) in RUNBOOKS {
            let (r, warnings) = attest_formats::import::runbook::read_runbook(Input {
                path: name,
                bytes: text.as_bytes(),
            })
            .unwrap_or_else(|e| panic!("{e}"));
            assert!(warnings.is_empty(), "{name}: {warnings:?}");
            assert!(!r.steps.is_empty() && !r.techniques.is_empty(), "{name}");
        }
    }

    #[test]
    fn the_timeline_parses_and_names_only_demo_rules() {
        let t: Timeline = yaml_serde::from_str(TIMELINE).unwrap();
        assert!(t.imported_days_ago > 0);
        assert!(t.results.iter().any(|r| r.outcome == "fail"));
        let ids: String = RULES.iter().map(|(_, _, text)| *text).collect();
        for r in &t.results {
            assert!(ids.contains(&r.rule), "{} is not a demo rule", r.rule);
        }
    }
}
