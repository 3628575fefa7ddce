//! `attest profiles …` and `attest actors …`: who targets us, and what that makes a priority.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use attest_core::journal::Event;
use attest_formats::Input;
use attest_store::NewEntry;
use clap::Subcommand;

use crate::cmd::analysis::{self, ScopeArgs};
use crate::cmd::workspace;
use crate::global::Context;
use crate::output::{Format, Table};

/// `attest profiles` arguments.
#[derive(Debug, clap::Args)]
pub struct ProfilesArgs {
    #[command(subcommand)]
    verb: ProfileVerb,
}

#[derive(Debug, Subcommand)]
enum ProfileVerb {
    /// Create or replace a profile from YAML (actors with weights, sectors, platforms, extra
    /// techniques, exclusions).
    Import {
        /// The profile file.
        file: PathBuf,
    },
    /// Create or replace a profile from an ATT&CK Navigator layer (scores become weights).
    FromLayer {
        /// The layer.
        layer: PathBuf,
        /// Profile name (default: the layer's name).
        #[arg(long)]
        name: Option<String>,
    },
    /// The profiles.
    List,
    /// A profile's target set, sorted by priority, with the reasons.
    Show {
        /// Profile name.
        name: String,
    },
    /// Write a profile as YAML.
    Export {
        /// Profile name.
        name: String,
    },
    /// Remove a profile.
    Remove {
        /// Profile name.
        name: String,
    },
}

/// `attest actors` arguments.
#[derive(Debug, clap::Args)]
pub struct ActorsArgs {
    #[command(subcommand)]
    verb: ActorVerb,
}

#[derive(Debug, Subcommand)]
enum ActorVerb {
    /// Import actors from the team's intel: a STIX 2.1 bundle (OpenCTI, MISP) or DeTT&CT group YAML.
    Import {
        /// stix or dettect.
        #[arg(value_name = "KIND")]
        kind: String,
        /// The file.
        file: PathBuf,
    },
    /// ATT&CK groups and intel actors.
    List,
}

/// Runs `attest profiles …`.
pub async fn run_profiles(ctx: &Context, args: ProfilesArgs) -> Result<ExitCode> {
    let store = workspace::open(ctx).await?;
    match args.verb {
        ProfileVerb::Import { file } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let label = file.display().to_string();
            let (profile, diags) = attest_formats::import::profile::read_profile(Input {
                path: &label,
                bytes: &bytes,
            });
            fail_on_errors(&diags, &file)?;
            let Some(profile) = profile else {
                bail!("{} holds no profile", file.display())
            };
            save(
                &store,
                profile,
                &format!("attest profiles import {}", file.display()),
            )
            .await?;
        }
        ProfileVerb::FromLayer { layer, name } => {
            let bytes =
                std::fs::read(&layer).with_context(|| format!("reading {}", layer.display()))?;
            let label = layer.display().to_string();
            let (profile, diags) = attest_formats::import::navigator::read_layer_profile(
                Input {
                    path: &label,
                    bytes: &bytes,
                },
                name.as_deref(),
            );
            fail_on_errors(&diags, &layer)?;
            let Some(profile) = profile else {
                bail!("{} holds no layer", layer.display())
            };
            save(
                &store,
                profile,
                &format!("attest profiles from-layer {}", layer.display()),
            )
            .await?;
        }
        ProfileVerb::List => {
            let state = store.state(None).await?;
            let mut t = Table::new(&[
                "name",
                "actors",
                "platforms",
                "extra_techniques",
                "exclusions",
                "exposures",
            ]);
            for p in state.profiles.values() {
                t.push(vec![
                    p.name.clone(),
                    p.actors
                        .iter()
                        .map(|a| format!("{}×{}", a.actor, a.weight))
                        .collect::<Vec<_>>()
                        .join(","),
                    p.platforms.join(","),
                    p.extra_techniques.len().to_string(),
                    p.exclusions.len().to_string(),
                    p.exposures
                        .map(|w| format!("weight {w}"))
                        .unwrap_or_else(|| "off".into()),
                ]);
            }
            print(ctx, &t)?;
        }
        ProfileVerb::Show { name } => {
            let scope = ScopeArgs {
                profile: Some(name.clone()),
                ..Default::default()
            };
            let a = analysis::analyse(ctx, &store, &scope, None).await?;
            let Some(target) = &a.target else {
                bail!("no profile named {name:?}")
            };
            let mut t = Table::new(&[
                "technique",
                "name",
                "priority",
                "tier",
                "actors",
                "why",
                "state",
            ]);
            for tt in &target.techniques {
                let tc = a.coverage.technique(tt.technique);
                let why: Vec<String> = tt
                    .actors
                    .iter()
                    .map(|u| format!("{} (weight {})", u.name, u.weight))
                    .chain(tt.extra.map(|w| format!("picked by hand (weight {w})")))
                    .chain(tt.exposures.iter().map(|u| u.reason()))
                    .collect();
                t.push(vec![
                    tt.technique.to_string(),
                    tc.map(|c| c.name.clone()).unwrap_or_default(),
                    format!("{:.3}", tt.score),
                    tt.tier.clone(),
                    tt.actor_count().to_string(),
                    why.join("; "),
                    tc.map(|c| c.state.as_str().to_string()).unwrap_or_default(),
                ]);
            }
            for p in &target.problems {
                eprintln!("note: {p:?}");
            }
            print(ctx, &t)?;
        }
        ProfileVerb::Export { name } => {
            let state = store.state(None).await?;
            let Some(p) = state.profiles.get(&name) else {
                bail!("no profile named {name:?}")
            };
            print!("{}", attest_formats::import::profile::write_profile(p));
        }
        ProfileVerb::Remove { name } => {
            let state = store.state(None).await?;
            if !state.profiles.contains_key(&name) {
                bail!("no profile named {name:?}");
            }
            store
                .append(vec![NewEntry::new(
                    workspace::who(),
                    workspace::now(),
                    Event::ProfileRemoved { name: name.clone() },
                )])
                .await?;
            println!("profile {name} removed");
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

fn fail_on_errors(diags: &[attest_formats::Diagnostic], file: &std::path::Path) -> Result<()> {
    for d in diags {
        eprintln!("{d}");
    }
    if diags
        .iter()
        .any(|d| d.severity == attest_formats::Severity::Error)
    {
        bail!("{} has errors; nothing was changed", file.display());
    }
    Ok(())
}

async fn save(
    store: &attest_store::Store,
    profile: attest_core::profile::Profile,
    why: &str,
) -> Result<()> {
    let name = profile.name.clone();
    let n = profile.actors.len();
    store
        .append(vec![
            NewEntry::new(
                workspace::who(),
                workspace::now(),
                Event::ProfileUpserted(profile),
            )
            .with_why(why),
        ])
        .await?;
    println!("profile {name} saved ({n} actors)");
    Ok(())
}

fn print(ctx: &Context, t: &Table) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    t.write(ctx.format, &mut out)
}

/// Runs `attest actors …`.
pub async fn run_actors(ctx: &Context, args: ActorsArgs) -> Result<ExitCode> {
    let store = workspace::open(ctx).await?;
    match args.verb {
        ActorVerb::Import { kind, file } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let label = file.display().to_string();
            let input = Input {
                path: &label,
                bytes: &bytes,
            };
            let (actors, diags) = match kind.as_str() {
                "stix" => {
                    let kb = workspace::load_kb(ctx, &store).await?;
                    let options = attest_formats::import::stix_intel::StixIntelOptions {
                        label: label.clone(),
                    };
                    attest_formats::import::stix_intel::read_stix_intel(
                        input,
                        &options,
                        &attest_formats::import::stix_intel::KbLookup(&kb.kb),
                    )
                }
                "dettect" => {
                    let options = attest_formats::import::dettect_groups::DettectGroupsOptions {
                        label: label.clone(),
                        include_disabled: false,
                    };
                    attest_formats::import::dettect_groups::read_dettect_groups(input, &options)
                }
                other => bail!("actor source {other:?}: use stix or dettect"),
            };
            fail_on_errors(&diags, &file)?;
            let (who, now) = (workspace::who(), workspace::now());
            let n = actors.len();
            let batch = actors
                .into_iter()
                .map(|a| {
                    NewEntry::new(who.clone(), now, Event::ActorUpserted(a))
                        .with_why(format!("attest actors import {kind}"))
                })
                .collect();
            store.append(batch).await?;
            println!("{n} actors imported from {}", file.display());
        }
        ActorVerb::List => {
            let state = store.state(None).await?;
            let kb = workspace::load_kb(ctx, &store).await?;
            let mut t = Table::new(&["id", "name", "origin", "techniques", "aliases"]);
            for a in state.actors.values() {
                let origin = match &a.origin {
                    attest_core::profile::ActorOrigin::Attack => "attack".to_string(),
                    attest_core::profile::ActorOrigin::Intel(f) => format!("intel:{f}"),
                };
                t.push(vec![
                    a.id.clone(),
                    a.name.clone(),
                    origin,
                    a.techniques.len().to_string(),
                    a.aliases.join(","),
                ]);
            }
            for g in kb.kb.groups().iter().filter(|g| g.meta.is_active()) {
                let n = kb.kb.group_techniques(g, Default::default()).len();
                t.push(vec![
                    g.meta.attack_id.clone().unwrap_or_default(),
                    g.meta.name.clone(),
                    "attack".into(),
                    n.to_string(),
                    g.aliases.join(","),
                ]);
            }
            if ctx.format == Format::Table && t.rows.len() > 200 {
                eprintln!(
                    "({} actors; --format csv for all columns in a spreadsheet)",
                    t.rows.len()
                );
            }
            print(ctx, &t)?;
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
