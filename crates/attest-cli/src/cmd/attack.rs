//! `attest attack …`: look things up in the ATT&CK knowledge base.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use attest_attack::{
    GroupTechniqueOptions, KnowledgeBase, RemapTable, Resolution, TechniqueId, TelemetryOrigin,
    UsePath, count_warnings,
};
use clap::Subcommand;
use serde_json::json;

use crate::global::Context;
use crate::kb_source;
use crate::output::{Table, write_document};

/// `attest attack` arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    verb: Verb,
}

#[derive(Debug, Subcommand)]
enum Verb {
    /// Domains, versions, object counts and load warnings.
    Info,
    /// Everything about one technique: tactics, platforms, sub-techniques, telemetry per
    /// platform, groups, mitigations, detection strategies.
    Technique {
        /// ATT&CK ID, e.g. T1003.001 (revoked IDs are followed to their replacement).
        id: String,
        /// Only telemetry for this platform (e.g. Windows).
        #[arg(long)]
        platform: Option<String>,
    },
    /// A group by ID, name or alias, with the techniques it uses and how we know.
    Group {
        /// G0016, APT29, Cozy Bear…
        query: String,
        /// Also techniques of software the group uses.
        #[arg(long)]
        via_software: bool,
        /// Also techniques of campaigns attributed to the group.
        #[arg(long)]
        via_campaigns: bool,
    },
    /// Case-insensitive search over IDs, names, aliases and descriptions.
    Search {
        /// Text to look for.
        text: String,
        /// At most this many hits.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Move the workspace to the release given by --attack, reporting what that changes for its
    /// rules, profiles and actors (revoked, renamed, newly known IDs, telemetry changes).
    Update {
        /// Report only; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Where an old technique ID leads: revoked-by chains, deprecation, remap tables.
    Remap {
        /// Technique IDs.
        #[arg(required = true)]
        ids: Vec<String>,
        /// A remap table (CSV `old,new` or YAML map) applied before the knowledge base.
        #[arg(long, value_name = "FILE")]
        table: Option<PathBuf>,
    },
    /// The workspace's remap table: rules' technique ids go through it before ATT&CK's own
    /// revoked-by resolution. With FILE (CSV `old,new` or YAML map) it is set (journaled);
    /// with --clear removed; with neither, shown.
    RemapTable {
        /// The table to set.
        file: Option<PathBuf>,
        /// Remove the table.
        #[arg(long, conflicts_with = "file")]
        clear: bool,
    },
}

/// Runs `attest attack …`.
pub fn run(ctx: &Context, args: Args) -> Result<ExitCode> {
    if let Verb::Update { dry_run } = args.verb {
        return super::block_on(update(ctx, dry_run));
    }
    if let Verb::RemapTable { file, clear } = args.verb {
        return super::block_on(remap_table(ctx, file, clear));
    }
    let loaded = kb_source::load(ctx, &[])?;
    let kb = &loaded.kb;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.verb {
        Verb::Info => info(ctx, &loaded, &mut out)?,
        Verb::Technique { id, platform } => technique(ctx, kb, &id, platform.as_deref(), &mut out)?,
        Verb::Group {
            query,
            via_software,
            via_campaigns,
        } => group(
            ctx,
            kb,
            &query,
            GroupTechniqueOptions {
                via_software,
                via_campaigns,
            },
            &mut out,
        )?,
        Verb::Search { text, limit } => search(ctx, kb, &text, limit, &mut out)?,
        Verb::Remap { ids, table } => remap(ctx, kb, &ids, table, &mut out)?,
        Verb::Update { .. } | Verb::RemapTable { .. } => unreachable!("handled above"),
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn info(ctx: &Context, loaded: &kb_source::LoadedKb, out: &mut dyn Write) -> Result<()> {
    let kb = &loaded.kb;
    let mut table = Table::new(&[
        "domain",
        "release",
        "tactics",
        "techniques",
        "subtechniques",
        "groups",
        "software",
        "campaigns",
        "mitigations",
        "data_components",
        "detection_strategies",
        "analytics",
    ]);
    let domains = kb.domains();
    for c in kb.counts() {
        let release = domains
            .iter()
            .find(|d| d.key == c.domain)
            .and_then(|d| d.release.clone())
            .unwrap_or_else(|| "?".into());
        table.push(vec![
            c.domain.clone(),
            release,
            c.tactics.to_string(),
            c.techniques.to_string(),
            c.subtechniques.to_string(),
            c.groups.to_string(),
            c.software.to_string(),
            c.campaigns.to_string(),
            c.mitigations.to_string(),
            c.data_components.to_string(),
            c.detection_strategies.to_string(),
            c.analytics.to_string(),
        ]);
    }
    let warnings = count_warnings(&loaded.warnings);
    let doc = json!({
        "bundles": loaded.paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        "domains": table.to_json(),
        "warnings": warnings.iter().map(|(k, n)| json!({"kind": k.to_string(), "count": n})).collect::<Vec<_>>(),
    });
    match ctx.format {
        crate::output::Format::Json => write_document(ctx.format, &doc, |_| Ok(()), out),
        crate::output::Format::Table => {
            table.write(ctx.format, out)?;
            writeln!(out)?;
            if warnings.is_empty() {
                writeln!(out, "no load warnings")?;
            } else {
                writeln!(out, "load warnings (tolerated, not fatal):")?;
                for (kind, n) in &warnings {
                    writeln!(out, "  {n:>6}  {kind}")?;
                }
            }
            Ok(())
        }
        _ => table.write(ctx.format, out),
    }
}

fn parse_id(s: &str) -> Result<TechniqueId> {
    TechniqueId::parse(s)
        .with_context(|| format!("{s:?} is not an ATT&CK technique ID (T1234 or T1234.001)"))
}

fn technique(
    ctx: &Context,
    kb: &KnowledgeBase,
    id: &str,
    platform: Option<&str>,
    out: &mut dyn Write,
) -> Result<()> {
    let requested = parse_id(id)?;
    let resolution = kb.resolve_technique(requested);
    let mut notes = Vec::new();
    let t = match &resolution {
        Resolution::Active(t) => *t,
        Resolution::Revoked {
            replacement: Some(r),
            chain,
            ..
        } => {
            notes.push(format!(
                "{requested} is revoked; followed revoked-by: {}",
                chain
                    .iter()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join(" → ")
            ));
            *r
        }
        Resolution::Revoked {
            replacement: None, ..
        } => {
            bail!("{requested} is revoked and its replacement is not in the loaded knowledge base")
        }
        Resolution::Deprecated(t) => {
            notes.push(format!(
                "{requested} is deprecated in ATT&CK {}",
                kb.release_label()
            ));
            *t
        }
        Resolution::Unknown { id, release } => {
            bail!(
                "{id} is unknown to ATT&CK {release}; `attest attack search` finds techniques by name"
            )
        }
    };
    let parent = kb.parent(t);
    let subs = kb.subtechniques(t);
    let telemetry = kb.telemetry(t.id, platform);
    let users = kb.technique_users(t);
    let mitigations = kb.mitigations_of(t);
    let strategies = kb.detection_strategies_of(t);

    let telemetry_json: Vec<_> = telemetry
        .iter()
        .map(|r| {
            let (origin, analytic) = match r.origin {
                TelemetryOrigin::Analytic { strategy, analytic } => (
                    strategy.meta.attack_id.clone().unwrap_or_default(),
                    analytic.meta.attack_id.clone().unwrap_or_default(),
                ),
                TelemetryOrigin::DataComponentDetects { .. } => {
                    ("detects".to_string(), String::new())
                }
            };
            json!({
                "platforms": r.platforms,
                "data_component": r.data_component.meta.name,
                "log_source": r.log_source.map(|(n, _)| n),
                "channel": r.log_source.and_then(|(_, c)| c),
                "detection_strategy": origin,
                "analytic": analytic,
            })
        })
        .collect();
    let doc = json!({
        "id": t.id.to_string(),
        "requested": requested.to_string(),
        "notes": notes,
        "name": t.meta.name,
        "stix_id": t.meta.stix_id,
        "url": t.meta.url,
        "tactics": t.tactics,
        "platforms": t.platforms,
        "parent": parent.map(|p| p.id.to_string()),
        "subtechniques": subs.iter().map(|s| json!({"id": s.id.to_string(), "name": s.meta.name})).collect::<Vec<_>>(),
        "description": t.meta.description,
        "telemetry": telemetry_json,
        "detection_strategies": strategies.iter().map(|s| json!({"id": s.meta.attack_id, "name": s.meta.name})).collect::<Vec<_>>(),
        "mitigations": mitigations.iter().map(|(m, _)| json!({"id": m.meta.attack_id, "name": m.meta.name})).collect::<Vec<_>>(),
        "used_by": users.iter().map(|p| json!({"kind": p.user.kind_label(), "id": p.user.meta().attack_id, "name": p.user.meta().name})).collect::<Vec<_>>(),
    });
    write_document(
        ctx.format,
        &doc,
        |out| {
            for n in &notes {
                writeln!(out, "note: {n}")?;
            }
            writeln!(out, "{} {}", t.id, t.meta.name)?;
            writeln!(out, "  tactics:    {}", t.tactics.join(", "))?;
            writeln!(out, "  platforms:  {}", t.platforms.join(", "))?;
            if let Some(p) = parent {
                writeln!(out, "  parent:     {} {}", p.id, p.meta.name)?;
            }
            if !subs.is_empty() {
                writeln!(out, "  sub-techniques ({}):", subs.len())?;
                for s in &subs {
                    writeln!(out, "    {} {}", s.id, s.meta.name)?;
                }
            }
            writeln!(
                out,
                "  telemetry{} ({}):",
                platform.map(|p| format!(" on {p}")).unwrap_or_default(),
                telemetry.len()
            )?;
            let mut lines: Vec<String> = telemetry
                .iter()
                .map(|r| {
                    let ls = match r.log_source {
                        Some((n, Some(c))) => format!(" via {n} {c}"),
                        Some((n, None)) => format!(" via {n}"),
                        None => String::new(),
                    };
                    format!(
                        "    [{}] {}{}",
                        r.platforms.join(", "),
                        r.data_component.meta.name,
                        ls
                    )
                })
                .collect();
            lines.sort();
            lines.dedup();
            for l in lines {
                writeln!(out, "{l}")?;
            }
            if !strategies.is_empty() {
                writeln!(out, "  detection strategies ({}):", strategies.len())?;
                for s in &strategies {
                    writeln!(
                        out,
                        "    {} {}",
                        s.meta.attack_id.as_deref().unwrap_or("-"),
                        s.meta.name
                    )?;
                }
            }
            writeln!(out, "  mitigations ({}):", mitigations.len())?;
            for (m, _) in &mitigations {
                writeln!(
                    out,
                    "    {} {}",
                    m.meta.attack_id.as_deref().unwrap_or("-"),
                    m.meta.name
                )?;
            }
            writeln!(out, "  used by ({}):", users.len())?;
            for p in users.iter().take(40) {
                let m = p.user.meta();
                writeln!(
                    out,
                    "    {:<9} {:<6} {}",
                    p.user.kind_label(),
                    m.attack_id.as_deref().unwrap_or("-"),
                    m.name
                )?;
            }
            if users.len() > 40 {
                writeln!(
                    out,
                    "    … and {} more (--format json lists all)",
                    users.len() - 40
                )?;
            }
            Ok(())
        },
        out,
    )
}

fn group(
    ctx: &Context,
    kb: &KnowledgeBase,
    query: &str,
    opts: GroupTechniqueOptions,
    out: &mut dyn Write,
) -> Result<()> {
    let Some(g) = kb.group(query) else {
        bail!(
            "no ATT&CK group matches {query:?} (by ID, name or alias); try `attest attack search {query:?}`"
        )
    };
    let mut techniques = kb.group_techniques(g, opts);
    techniques.sort_by_key(|gt| gt.technique.id);
    let mut table = Table::new(&["technique", "name", "tactics", "paths"]);
    for gt in &techniques {
        let paths: Vec<String> = gt
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
        table.push(vec![
            gt.technique.id.to_string(),
            gt.technique.meta.name.clone(),
            gt.technique.tactics.join(","),
            dedup(paths).join(";"),
        ]);
    }
    if ctx.format == crate::output::Format::Table {
        writeln!(
            out,
            "{} {} (aliases: {}) — {} techniques",
            g.meta.attack_id.as_deref().unwrap_or("-"),
            g.meta.name,
            g.aliases.join(", "),
            techniques.len()
        )?;
    }
    table.write(ctx.format, out)
}

fn dedup(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

fn search(
    ctx: &Context,
    kb: &KnowledgeBase,
    text: &str,
    limit: usize,
    out: &mut dyn Write,
) -> Result<()> {
    let hits = kb.search(text);
    let mut table = Table::new(&["kind", "id", "name", "matched"]);
    for hit in hits.iter().take(limit) {
        let m = hit.object.meta();
        table.push(vec![
            hit.object.kind_label().to_string(),
            m.attack_id.clone().unwrap_or_default(),
            m.name.clone(),
            format!("{:?}", hit.field).to_lowercase(),
        ]);
    }
    table.write(ctx.format, out)
}

fn read_remap_table(path: &std::path::Path) -> Result<RemapTable> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let is_yaml = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
    let parsed = if is_yaml {
        RemapTable::from_yaml(&bytes)
    } else {
        RemapTable::from_csv(&bytes)
    };
    parsed.with_context(|| format!("reading remap table {}", path.display()))
}

async fn remap_table(ctx: &Context, file: Option<PathBuf>, clear: bool) -> Result<ExitCode> {
    use attest_core::journal::Event;
    let store = super::workspace::open(ctx).await?;
    let current = store.state(None).await?.remap;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let new = match (&file, clear) {
        (Some(path), _) => Some(read_remap_table(path)?),
        (None, true) => Some(RemapTable::new()),
        (None, false) => None,
    };
    let Some(new) = new else {
        let mut table = Table::new(&["old", "new"]);
        for (old, new) in current.iter() {
            table.push(vec![old.to_string(), new.to_string()]);
        }
        table.write(ctx.format, &mut out)?;
        store.close().await;
        return Ok(ExitCode::SUCCESS);
    };
    if new == current {
        writeln!(out, "remap table unchanged ({} entries)", new.len())?;
        store.close().await;
        return Ok(ExitCode::SUCCESS);
    }
    let why = match &file {
        Some(p) => format!("remap table from {}", p.display()),
        None => "remap table cleared".to_string(),
    };
    let entry = attest_store::NewEntry::new(
        super::workspace::who(),
        super::workspace::now(),
        Event::RemapTableSet(new.clone()),
    )
    .with_why(why);
    store.append(vec![entry]).await?;
    store.close().await;
    if new.is_empty() {
        writeln!(out, "remap table cleared (had {} entries)", current.len())?;
    } else {
        writeln!(
            out,
            "remap table set: {} entries (was {}); rules' claims now go through it",
            new.len(),
            current.len()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn remap(
    ctx: &Context,
    kb: &KnowledgeBase,
    ids: &[String],
    table_path: Option<PathBuf>,
    out: &mut dyn Write,
) -> Result<()> {
    let remap = match &table_path {
        Some(path) => read_remap_table(path)?,
        None => RemapTable::new(),
    };
    let mut table = Table::new(&["requested", "status", "current", "name", "path"]);
    for raw in ids {
        let id = parse_id(raw)?;
        let r = kb.resolve_with_remap(id, &remap);
        let current = r.current();
        table.push(vec![
            id.to_string(),
            r.status().to_string(),
            current.map(|t| t.id.to_string()).unwrap_or_default(),
            current.map(|t| t.meta.name.clone()).unwrap_or_default(),
            r.path().join(" → "),
        ]);
    }
    table.write(ctx.format, out)
}

async fn update(ctx: &Context, dry_run: bool) -> Result<ExitCode> {
    use attest_core::journal::Event;
    use attest_core::release::{compare_releases, technique_users};

    if ctx.attack.is_empty() {
        bail!("give the new release with --attack PATH (one per domain)");
    }
    let store = super::workspace::open(ctx).await?;
    let recorded = super::workspace::recorded_bundles(&store).await?;
    if recorded.is_empty() {
        bail!("the workspace records no ATT&CK release; run `attest init` first");
    }
    let mut old_ctx = ctx.clone();
    old_ctx.attack.clear();
    let old = kb_source::load(&old_ctx, &recorded)?;
    let mut new_ctx = ctx.clone();
    new_ctx.attack = ctx
        .attack
        .iter()
        .map(|p| std::fs::canonicalize(p).with_context(|| format!("resolving {}", p.display())))
        .collect::<Result<_>>()?;
    let new = kb_source::load(&new_ctx, &[])?;
    let state = store.state(None).await?;
    let users = technique_users(&state);
    let used: std::collections::BTreeSet<String> = users.keys().cloned().collect();
    let changes = compare_releases(&old.kb, &new.kb, &used);
    let mut table = Table::new(&["technique", "change", "detail", "used_by"]);
    for c in &changes {
        let u = users.get(&c.technique).map(Vec::len).unwrap_or(0);
        table.push(vec![
            c.technique.clone(),
            c.change.kind().into(),
            c.change.detail(),
            u.to_string(),
        ]);
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if ctx.format == crate::output::Format::Table {
        writeln!(
            out,
            "ATT&CK {} → {}: {} of the {} technique IDs this workspace uses change",
            old.kb.release_label(),
            new.kb.release_label(),
            changes.len(),
            used.len()
        )?;
    }
    table.write(ctx.format, &mut out)?;
    if dry_run {
        writeln!(
            out,
            "dry run: the workspace still uses ATT&CK {}",
            old.kb.release_label()
        )?;
    } else {
        let paths: Vec<PathBuf> = new
            .paths
            .iter()
            .map(|p| std::fs::canonicalize(p).with_context(|| format!("resolving {}", p.display())))
            .collect::<Result<_>>()?;
        let releases = attest_core::release::releases_of(&new.kb);
        let why = format!(
            "attest attack update {} → {} ({} changes)",
            old.kb.release_label(),
            new.kb.release_label(),
            changes.len()
        );
        let entry = attest_store::NewEntry::new(
            super::workspace::who(),
            super::workspace::now(),
            Event::AttackReleasesSet(releases),
        )
        .with_why(why);
        let joined = paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join("\n");
        store
            .append_with_meta(
                vec![entry],
                &[(super::workspace::META_ATTACK_BUNDLES, joined.as_str())],
            )
            .await?;
        writeln!(
            out,
            "the workspace now uses ATT&CK {}",
            new.kb.release_label()
        )?;
    }
    out.flush()?;
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
