//! `attest layer export`: ATT&CK Navigator layers (format 4.5) of coverage, priority or an actor.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use attest_core::coverage::CoverageState;
use attest_formats::export::navigator::{
    LayerInfo, LayerState, OverlayTechnique, PriorityTechnique, StateTechnique, actor_layer,
    layer_to_json, priority_layer, state_layer, validate_layer,
};
use clap::Subcommand;

use crate::cmd::analysis::{self, ScopeArgs, reason_text};
use crate::cmd::workspace;
use crate::global::Context;

/// `attest layer` arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    verb: Verb,
}

#[derive(Debug, Subcommand)]
enum Verb {
    /// Write a Navigator layer.
    Export {
        /// state (coverage colours), priority (uncovered priority techniques) or actor (overlay).
        #[arg(long, default_value = "state")]
        kind: String,
        #[command(flatten)]
        scope: ScopeArgs,
        /// The actor for --kind actor (ATT&CK group ID, name or alias).
        #[arg(long)]
        actor: Option<String>,
        /// As of this instant.
        #[arg(long)]
        as_of: Option<String>,
        /// Output file (default: standard output).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

fn layer_state(s: CoverageState) -> LayerState {
    LayerState::from(s)
}

/// Runs `attest layer …`.
pub async fn run(ctx: &Context, args: Args) -> Result<ExitCode> {
    let Verb::Export {
        kind,
        scope,
        actor,
        as_of,
        output,
    } = args.verb;
    let store = workspace::open(ctx).await?;
    let a = analysis::analyse(ctx, &store, &scope, analysis::as_of(as_of.as_deref())?).await?;
    store.close().await;
    let domain =
        a.kb.kb
            .domains()
            .first()
            .map(|d| d.key.clone())
            .unwrap_or_else(|| "enterprise-attack".into());
    let release =
        a.kb.kb
            .domains()
            .first()
            .and_then(|d| d.release.clone())
            .unwrap_or_default();
    let mut info = LayerInfo {
        name: String::new(),
        description: format!("attest coverage as of {}", a.at),
        attack_version: release.split('.').next().unwrap_or("").to_string(),
        domain,
        platforms: scope.platform.iter().cloned().collect(),
    };
    let layer = match kind.as_str() {
        "state" => {
            info.name = match &a.target {
                Some(t) => format!("attest coverage — {}", t.profile),
                None => "attest coverage".into(),
            };
            let techniques: Vec<StateTechnique> = a
                .coverage
                .techniques
                .iter()
                .map(|t| StateTechnique {
                    id: t.technique.to_string(),
                    tactics: t.tactics.clone(),
                    state: layer_state(t.state),
                    rules: t.rules.iter().map(|r| r.rule.0.clone()).collect(),
                    reasons: t.reasons.iter().map(reason_text).collect(),
                })
                .collect();
            state_layer(&info, &techniques)
        }
        "priority" => {
            let Some(target) = &a.target else {
                bail!("--kind priority needs --profile")
            };
            info.name = format!("attest priorities — {}", target.profile);
            let techniques: Vec<PriorityTechnique> = target
                .techniques
                .iter()
                .filter_map(|tt| {
                    let tc = a.coverage.technique(tt.technique)?;
                    Some(PriorityTechnique {
                        id: tt.technique.to_string(),
                        tactics: tc.tactics.clone(),
                        priority: tt.score,
                        state: layer_state(tc.state),
                        reasons: tc.reasons.iter().map(reason_text).collect(),
                    })
                })
                .collect();
            priority_layer(&info, &techniques)
        }
        "actor" => {
            let Some(q) = &actor else {
                bail!("--kind actor needs --actor")
            };
            let Some(g) = a.kb.kb.group(q) else {
                bail!("no ATT&CK group matches {q:?}")
            };
            info.name = format!("{} vs attest coverage", g.meta.name);
            let techniques: Vec<OverlayTechnique> =
                a.kb.kb
                    .group_techniques(g, Default::default())
                    .iter()
                    .filter_map(|gt| {
                        let tc = a.coverage.technique(gt.technique.id)?;
                        Some(OverlayTechnique {
                            id: gt.technique.id.to_string(),
                            tactics: tc.tactics.clone(),
                            weight: 1.0,
                            state: layer_state(tc.state),
                        })
                    })
                    .collect();
            actor_layer(&info, &g.meta.name, &techniques)
        }
        other => bail!("--kind {other:?}: use state, priority or actor"),
    };
    let json = layer_to_json(&layer);
    // Every layer we write must load in Navigator: check it against the 4.5 rules first.
    let known = |id: &str| {
        attest_attack::TechniqueId::parse(id).is_ok_and(|t| a.kb.kb.technique(t).is_some())
    };
    let problems = validate_layer(
        attest_formats::Input {
            path: "layer",
            bytes: json.as_bytes(),
        },
        &known,
    );
    if let Some(p) = problems
        .iter()
        .find(|d| d.severity == attest_formats::Severity::Error)
    {
        bail!("internal error: the exported layer breaks the 4.5 format: {p}");
    }
    match output {
        Some(path) => {
            std::fs::write(&path, json).with_context(|| format!("writing {}", path.display()))?;
            eprintln!("layer written to {}", path.display());
        }
        None => println!("{json}"),
    }
    Ok(ExitCode::SUCCESS)
}
