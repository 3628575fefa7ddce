//! `attest rules …`: the detection rule registry — import, list, show, lifecycle and tuning.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use attest_attack::TechniqueId;
use attest_core::coverage::standing::{
    RuleStanding, RuleStateFilter, claims_unknown_technique, rule_standings,
};
use attest_core::journal::Event;
use attest_core::registry::plan_rule_import;
use attest_core::rule::{RuleFormat, RuleId, RuleStatus, Tuning, TuningKind};
use attest_core::state::RuleRecord;
use attest_core::validation::ValidationKind;
use attest_formats::{Diagnostic, Input, Severity};
use attest_store::{NewEntry, RuleFilter, Store};
use clap::Subcommand;
use serde_json::json;

use crate::cmd::workspace;
use crate::global::Context;
use crate::output::{Table, write_document};

/// `attest rules` arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    verb: Verb,
}

#[derive(Debug, Subcommand)]
enum Verb {
    /// Import rules from a file or a folder (recursive). Re-importing is idempotent; rules gone
    /// from the source are retired, not deleted.
    Import {
        /// sigma, elastic, kibana, splunk, splunk-conf, sentinel or csv.
        #[arg(value_name = "FORMAT")]
        rule_format: String,
        /// A file or a folder.
        path: PathBuf,
        /// Name of the import root (default: the canonical path). Rules of this root missing
        /// from the import are retired.
        #[arg(long)]
        root: Option<String>,
        /// Abort the whole import if any file is invalid (default: report and skip it).
        #[arg(long)]
        strict: bool,
        /// Show what would change, write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// List rules with filters (every filter given must match).
    List(ListArgs),
    /// Everything about one rule.
    Show {
        /// Rule id.
        id: String,
    },
    /// Enable a rule.
    Enable {
        /// Rule id.
        id: String,
        /// Why (journaled).
        #[arg(long)]
        reason: String,
    },
    /// Disable a rule.
    Disable {
        /// Rule id.
        id: String,
        /// Why (journaled).
        #[arg(long)]
        reason: String,
    },
    /// Assign an owner to a rule.
    Assign {
        /// Rule id.
        id: String,
        /// The owner (person or team).
        #[arg(long)]
        owner: String,
        /// Why (journaled).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Record a suppression (or, with --exclusion, an exclusion) on a rule.
    Suppress {
        /// Rule id.
        id: String,
        /// What is suppressed or excluded (a condition, host, user…).
        #[arg(long)]
        what: String,
        /// Why (journaled, required).
        #[arg(long)]
        reason: String,
        /// Record an exclusion rather than a suppression.
        #[arg(long)]
        exclusion: bool,
    },
}

#[derive(Debug, clap::Args)]
struct ListArgs {
    /// Claims this technique (a parent also lists rules on its sub-techniques).
    #[arg(long)]
    technique: Option<String>,
    /// Claims this tactic (short name, e.g. credential-access).
    #[arg(long)]
    tactic: Option<String>,
    /// Depends on this inventory source, data component or log source.
    #[arg(long)]
    data_source: Option<String>,
    /// Comes from this format.
    #[arg(long)]
    origin: Option<String>,
    /// enabled, disabled or retired.
    #[arg(long)]
    status: Option<String>,
    /// Owned by.
    #[arg(long)]
    owner: Option<String>,
    /// Only rules claiming IDs the loaded ATT&CK release does not know.
    #[arg(long)]
    unknown_techniques: bool,
    /// Only rules through which a claimed technique is in this coverage state: validated (the rule
    /// passed, fresh), rule-exists (usable but untested, stale or invalidated), failing, or
    /// disabled/degraded (not usable).
    #[arg(long)]
    state: Option<String>,
    /// Only rules with a claimed technique whose validation is untested, passing, failing, stale
    /// or invalidated.
    #[arg(long)]
    validation: Option<String>,
}

/// Runs `attest rules …`.
pub async fn run(ctx: &Context, args: Args) -> Result<ExitCode> {
    let store = workspace::open(ctx).await?;
    let code = match args.verb {
        Verb::Import {
            rule_format,
            path,
            root,
            strict,
            dry_run,
        } => import(ctx, &store, &rule_format, &path, root, strict, dry_run).await?,
        Verb::List(list_args) => list(ctx, &store, list_args).await?,
        Verb::Show { id } => show(ctx, &store, &id).await?,
        Verb::Enable { id, reason } => {
            set_status(&store, &id, RuleStatus::Enabled, &reason).await?
        }
        Verb::Disable { id, reason } => {
            set_status(&store, &id, RuleStatus::Disabled, &reason).await?
        }
        Verb::Assign { id, owner, reason } => {
            let rec = existing(&store, &id).await?;
            let mut entry = NewEntry::new(
                workspace::who(),
                workspace::now(),
                Event::RuleOwnerAssigned {
                    id: rec.rule.id.clone(),
                    owner: owner.clone(),
                },
            );
            if let Some(r) = reason {
                entry = entry.with_why(r);
            }
            store.append(vec![entry]).await?;
            println!("{id}: owner is now {owner}");
            ExitCode::SUCCESS
        }
        Verb::Suppress {
            id,
            what,
            reason,
            exclusion,
        } => {
            let rec = existing(&store, &id).await?;
            let now = workspace::now();
            let kind = if exclusion {
                TuningKind::Exclusion
            } else {
                TuningKind::Suppression
            };
            let tuning = Tuning {
                kind,
                what,
                reason: reason.clone(),
                author: workspace::who(),
                at: now,
            };
            let entry = NewEntry::new(
                workspace::who(),
                now,
                Event::RuleTuned {
                    id: rec.rule.id.clone(),
                    tuning,
                },
            )
            .with_why(reason);
            store.append(vec![entry]).await?;
            println!(
                "{id}: {} recorded; earlier passes of this rule no longer count as validated",
                kind.as_str()
            );
            ExitCode::SUCCESS
        }
    };
    store.close().await;
    Ok(code)
}

async fn existing(store: &Store, id: &str) -> Result<RuleRecord> {
    match store.rule(&RuleId(id.to_string())).await? {
        Some(rec) => Ok(rec),
        None => bail!("no rule with id {id:?} in the workspace (see `attest rules list`)"),
    }
}

async fn set_status(store: &Store, id: &str, status: RuleStatus, reason: &str) -> Result<ExitCode> {
    let rec = existing(store, id).await?;
    if rec.rule.status == status {
        println!("{id} is already {}", status.as_str());
        return Ok(ExitCode::SUCCESS);
    }
    let entry = NewEntry::new(
        workspace::who(),
        workspace::now(),
        Event::RuleStatusChanged {
            id: rec.rule.id.clone(),
            status,
        },
    )
    .with_why(reason);
    store.append(vec![entry]).await?;
    println!("{id}: {}", status.as_str());
    Ok(ExitCode::SUCCESS)
}

/// Lists files under `path` (or the file itself) as paths relative to the import root.
fn collect_files(path: &Path) -> Result<(PathBuf, Vec<(String, PathBuf)>)> {
    let meta = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    if meta.is_file() {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let root = path.parent().map(Path::to_path_buf).unwrap_or_default();
        return Ok((root, vec![(name, path.to_path_buf())]));
    }
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(path)
        .follow_links(false)
        .sort_by_file_name()
    {
        let entry = entry.with_context(|| format!("listing {}", path.display()))?;
        if entry.file_type().is_file() {
            let rel = entry.path().strip_prefix(path).unwrap_or(entry.path());
            files.push((
                rel.to_string_lossy().replace('\\', "/"),
                entry.path().to_path_buf(),
            ));
        }
    }
    Ok((path.to_path_buf(), files))
}

pub(crate) async fn import(
    ctx: &Context,
    store: &Store,
    format: &str,
    path: &Path,
    root: Option<String>,
    strict: bool,
    dry_run: bool,
) -> Result<ExitCode> {
    let started = Instant::now();
    let Some(format) = RuleFormat::parse(format).filter(|f| *f != RuleFormat::Manual) else {
        bail!(
            "unknown rule format {format:?}: use sigma, elastic, kibana, splunk, splunk-conf, sentinel or csv"
        )
    };
    let root_name = match root {
        Some(r) => r,
        None => std::fs::canonicalize(path)
            .with_context(|| format!("reading {}", path.display()))?
            .display()
            .to_string(),
    };
    let Some(importer) = attest_formats::import::rule_importer(format, &root_name) else {
        bail!("importing {} rules is not supported yet", format.as_str())
    };

    // The knowledge base loads on another thread while files are read and parsed.
    let kb_task = {
        let ctx = ctx.clone();
        let recorded = workspace::recorded_bundles(store).await?;
        tokio::task::spawn_blocking(move || crate::kb_source::load(&ctx, &recorded))
    };

    let (_, files) = collect_files(path)?;
    let labels: Vec<&str> = files.iter().map(|(rel, _)| rel.as_str()).collect();
    let selected: BTreeSet<&str> = attest_formats::import::select_files(importer.as_ref(), &labels)
        .into_iter()
        .collect();
    let mut contents = Vec::with_capacity(selected.len());
    for (rel, full) in &files {
        if selected.contains(rel.as_str()) {
            let bytes =
                std::fs::read(full).with_context(|| format!("reading {}", full.display()))?;
            contents.push((rel.as_str(), bytes));
        }
    }
    let inputs: Vec<Input<'_>> = contents
        .iter()
        .map(|(p, b)| Input { path: p, bytes: b })
        .collect();
    let (rules, diags) = attest_formats::import::import_rules(importer.as_ref(), &inputs, 0);
    let errors: Vec<&Diagnostic> = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    for d in &diags {
        eprintln!("{d}");
    }
    if strict && !errors.is_empty() {
        bail!(
            "--strict: {} invalid file(s) in {}; nothing was imported",
            errors.len(),
            path.display()
        );
    }

    let filter = RuleFilter {
        root: Some(root_name.clone()),
        ..Default::default()
    };
    let existing = store.rules(&filter).await?;
    let existing = existing
        .into_iter()
        .map(|r| (r.rule.id.clone(), r))
        .collect();
    // Files that failed to parse may still hold rules the registry knows: retire nothing then,
    // or a typo in one file would retire its rule.
    let complete = errors.is_empty();
    let n_rules = rules.len();
    let claimed: BTreeSet<String> = rules
        .iter()
        .flat_map(|r| r.techniques.iter().cloned())
        .collect();
    let with_techniques = rules.iter().filter(|r| !r.techniques.is_empty()).count();
    let plan = plan_rule_import(&existing, &root_name, rules, complete);

    let loaded = kb_task.await??;
    let (unknown, revoked) = attest_core::registry::classify_claims(&loaded.kb, &claimed);

    if !dry_run && !plan.events.is_empty() {
        let who = workspace::who();
        let now = workspace::now();
        let why = format!("attest rules import {} {}", format.as_str(), path.display());
        let batch = plan
            .events
            .iter()
            .cloned()
            .map(|e| NewEntry::new(who.clone(), now, e).with_why(why.clone()))
            .collect();
        store.append(batch).await?;
    }
    let summary = json!({
        "format": format.as_str(),
        "root": root_name,
        "files": inputs.len(),
        "invalid_files": errors.iter().map(|d| d.path.clone()).collect::<BTreeSet<_>>().len(),
        "rules": n_rules,
        "rules_with_techniques": with_techniques,
        "distinct_techniques": claimed.len(),
        "unknown_techniques": unknown,
        "revoked_techniques": revoked,
        "new": plan.new,
        "updated": plan.updated,
        "revived": plan.revived,
        "unchanged": plan.unchanged,
        "retired": plan.retired,
        "dry_run": dry_run,
        "seconds": started.elapsed().as_secs_f64(),
    });
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    write_document(
        ctx.format,
        &summary,
        |out| {
            writeln!(
                out,
                "{}imported {} {} rules from {} files ({} invalid) in {:.2}s",
                if dry_run { "dry run: would have " } else { "" },
                n_rules,
                format.as_str(),
                inputs.len(),
                summary["invalid_files"],
                started.elapsed().as_secs_f64()
            )?;
            writeln!(
                out,
                "  new {}, updated {}, revived {}, unchanged {}, retired {}",
                plan.new, plan.updated, plan.revived, plan.unchanged, plan.retired
            )?;
            writeln!(
                out,
                "  {} rules claim {} distinct techniques; {} unknown to ATT&CK {}, {} revoked (mapped to their replacement)",
                with_techniques,
                claimed.len(),
                unknown.len(),
                loaded.kb.release_label(),
                revoked.len()
            )?;
            if !unknown.is_empty() {
                writeln!(out, "  unknown: {}", unknown.join(", "))?;
            }
            Ok(())
        },
        &mut out,
    )?;
    Ok(ExitCode::SUCCESS)
}

async fn list(ctx: &Context, store: &Store, args: ListArgs) -> Result<ExitCode> {
    let mut filter = RuleFilter::default();
    if let Some(t) = &args.technique {
        let id = TechniqueId::parse(t)
            .with_context(|| format!("--technique {t:?} is not an ATT&CK technique ID"))?;
        filter.technique = Some(id.to_string());
        filter.with_subtechniques = !id.is_subtechnique();
    }
    filter.tactic = args
        .tactic
        .as_ref()
        .map(|t| attest_formats::import::normalize_tactic(t));
    filter.data_source = args.data_source.clone();
    if let Some(o) = &args.origin {
        filter.format = Some(
            RuleFormat::parse(o).with_context(|| format!("--origin {o:?} is not a rule format"))?,
        );
    }
    if let Some(s) = &args.status {
        filter.status = Some(
            RuleStatus::parse(s)
                .with_context(|| format!("--status {s:?}: use enabled, disabled or retired"))?,
        );
    }
    filter.owner = args.owner.clone();
    let mut rules = store.rules(&filter).await?;
    if args.unknown_techniques {
        let loaded = workspace::load_kb(ctx, store).await?;
        rules.retain(|r| claims_unknown_technique(&loaded.kb, &r.rule));
    }
    let state_filter = match &args.state {
        Some(s) => Some(RuleStateFilter::parse(s).with_context(|| {
            format!("--state {s:?}: use validated, rule-exists, failing, disabled or degraded")
        })?),
        None => None,
    };
    let validation_filter = match &args.validation {
        Some(v) => Some(ValidationKind::parse(v).with_context(|| {
            format!("--validation {v:?}: use untested, passing, failing, stale or invalidated")
        })?),
        None => None,
    };
    // Validation and usability come from the coverage engine, computed once for all rules.
    let mut standings: BTreeMap<RuleId, RuleStanding> = BTreeMap::new();
    if state_filter.is_some() || validation_filter.is_some() {
        let a = crate::cmd::analysis::analyse(ctx, store, &Default::default(), None).await?;
        standings = rule_standings(&a.catalog, &a.state, &a.coverage, a.at);
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
    let mut table = Table::new(&[
        "id",
        "title",
        "status",
        "origin",
        "techniques",
        "tactics",
        "owner",
        "validation",
        "depends_on",
    ]);
    for r in &rules {
        let rule = &r.rule;
        let kinds: Vec<&str> = standings
            .get(&rule.id)
            .map(|s| s.validations.iter().map(|k| k.as_str()).collect())
            .unwrap_or_default();
        table.push(vec![
            rule.id.0.clone(),
            rule.title.clone(),
            rule.status.as_str().to_string(),
            rule.origin.format.as_str().to_string(),
            rule.techniques.join(","),
            rule.tactics.join(","),
            rule.owner.clone().unwrap_or_default(),
            kinds.join(","),
            rule.dependencies
                .iter()
                .map(|d| d.dependency.to_string())
                .collect::<Vec<_>>()
                .join(";"),
        ]);
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    table.write(ctx.format, &mut out)?;
    Ok(ExitCode::SUCCESS)
}

async fn show(ctx: &Context, store: &Store, id: &str) -> Result<ExitCode> {
    let rec = existing(store, id).await?;
    let rule = &rec.rule;
    let results = store.results(&rule.id, None).await?;
    let doc = json!({
        "id": rule.id.0,
        "title": rule.title,
        "status": rule.status.as_str(),
        "origin": {"format": rule.origin.format.as_str(), "root": rule.origin.root, "path": rule.origin.path},
        "techniques": rule.techniques,
        "tactics": rule.tactics,
        "dependencies": rule.dependencies.iter().map(|d| json!({
            "dependency": d.dependency.to_string(),
            "origin": format!("{:?}", d.origin).to_lowercase(),
        })).collect::<Vec<_>>(),
        "severity": rule.severity,
        "owner": rule.owner,
        "maturity": rule.maturity,
        "tests": rule.tests,
        "created": rule.created,
        "modified": rule.modified,
        "content_hash": rule.content_hash,
        "content_changed_at": rec.content_changed_at.to_string(),
        "tuning": rule.tuning.iter().map(|t| json!({
            "kind": t.kind.as_str(), "what": t.what, "reason": t.reason, "author": t.author, "at": t.at.to_string(),
        })).collect::<Vec<_>>(),
        "results": results.iter().map(|r| json!({
            "technique": r.technique, "test": r.test, "outcome": r.outcome.as_str(), "at": r.at.to_string(), "by": r.by,
        })).collect::<Vec<_>>(),
    });
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    write_document(
        ctx.format,
        &doc,
        |out| {
            writeln!(out, "{}  {}", rule.id, rule.title)?;
            writeln!(out, "  status:      {}", rule.status.as_str())?;
            writeln!(
                out,
                "  origin:      {} {} ({})",
                rule.origin.format.as_str(),
                rule.origin.path,
                rule.origin.root
            )?;
            writeln!(out, "  techniques:  {}", rule.techniques.join(", "))?;
            writeln!(out, "  tactics:     {}", rule.tactics.join(", "))?;
            for d in &rule.dependencies {
                writeln!(out, "  needs:       {} ({:?})", d.dependency, d.origin)?;
            }
            if let Some(o) = &rule.owner {
                writeln!(out, "  owner:       {o}")?;
            }
            if let Some(s) = &rule.severity {
                writeln!(out, "  severity:    {s}")?;
            }
            if !rule.tests.is_empty() {
                writeln!(out, "  tests:       {}", rule.tests.join(", "))?;
            }
            writeln!(out, "  changed:     {}", rec.content_changed_at)?;
            for t in &rule.tuning {
                writeln!(
                    out,
                    "  {}: {} — {} ({} at {})",
                    t.kind.as_str(),
                    t.what,
                    t.reason,
                    t.author,
                    t.at
                )?;
            }
            for r in &results {
                writeln!(
                    out,
                    "  result:      {} {} {} at {} by {}",
                    r.technique,
                    r.outcome.as_str(),
                    r.test.as_deref().unwrap_or("-"),
                    r.at,
                    r.by
                )?;
            }
            Ok(())
        },
        &mut out,
    )?;
    Ok(ExitCode::SUCCESS)
}
