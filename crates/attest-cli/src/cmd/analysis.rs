//! Shared plumbing for the commands that compute coverage: load the KB, fold the journal (as of an
//! instant), build the profile's target set, and run the engine.

use anyhow::{Context as _, Result, bail};
use attest_core::coverage::{Catalog, Coverage, Reason, Scope, compute};
use attest_core::priority::{PriorityOptions, TargetSet, target_set};
use attest_core::state::State;
use attest_store::Store;
use jiff::Timestamp;

use crate::cmd::workspace;
use crate::global::Context;
use crate::kb_source::LoadedKb;

/// What a coverage question is about.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ScopeArgs {
    /// Only the profile's target set, weighted by priority.
    #[arg(long)]
    pub profile: Option<String>,
    /// Only techniques on this platform (e.g. Windows).
    #[arg(long)]
    pub platform: Option<String>,
    /// Only telemetry from sources covering this system or segment (e.g. 'Windows servers').
    #[arg(long)]
    pub scope: Option<String>,
}

/// Everything a coverage command needs, computed once.
pub struct Analysis {
    /// The knowledge base.
    pub kb: LoadedKb,
    /// The engine's view of it.
    pub catalog: Catalog,
    /// The state at `at`.
    pub state: State,
    /// The profile's target set, when a profile was asked for.
    pub target: Option<TargetSet>,
    /// The answer.
    pub coverage: Coverage,
    /// The instant computed for.
    pub at: Timestamp,
}

/// Loads the KB and computes coverage for `scope` as of `as_of` (default now).
pub async fn analyse(
    ctx: &Context,
    store: &Store,
    scope: &ScopeArgs,
    as_of: Option<Timestamp>,
) -> Result<Analysis> {
    let kb = workspace::load_kb(ctx, store).await?;
    let state = store.state(as_of).await?;
    analyse_state(kb, state, scope, as_of.unwrap_or_else(workspace::now))
}

/// The same, from an already folded state.
pub fn analyse_state(
    kb: LoadedKb,
    state: State,
    scope: &ScopeArgs,
    at: Timestamp,
) -> Result<Analysis> {
    let catalog = Catalog::from_kb(&kb.kb);
    let (target, coverage) = coverage_for(&catalog, &state, scope, at)?;
    Ok(Analysis {
        kb,
        catalog,
        state,
        target,
        coverage,
        at,
    })
}

/// Coverage of `state` for `scope` at `at`, with the profile's target set when one is asked for.
pub fn coverage_for(
    catalog: &Catalog,
    state: &State,
    scope: &ScopeArgs,
    at: Timestamp,
) -> Result<(Option<TargetSet>, Coverage)> {
    let (target, s) = scope_for(catalog, state, scope)?;
    let coverage = compute(catalog, state, &s, at);
    Ok((target, coverage))
}

/// The engine's scope for `scope` in `state`, with the profile's target set when one is asked
/// for; an error names the profiles that exist when the asked one does not.
pub fn scope_for(
    catalog: &Catalog,
    state: &State,
    scope: &ScopeArgs,
) -> Result<(Option<TargetSet>, Scope)> {
    let target = match &scope.profile {
        Some(name) => {
            let Some(profile) = state.profiles.get(name) else {
                let known: Vec<&str> = state.profiles.keys().map(String::as_str).collect();
                bail!(
                    "no profile named {name:?} (profiles: {})",
                    if known.is_empty() {
                        "none yet; `attest profiles import`".to_string()
                    } else {
                        known.join(", ")
                    }
                );
            };
            Some(target_set(
                catalog,
                &state.actors,
                profile,
                &PriorityOptions::default(),
            ))
        }
        None => None,
    };
    let mut s = match &target {
        Some(t) => Scope::profile(t.clone()),
        None => Scope::all(),
    };
    if let Some(p) = &scope.platform {
        s.platforms = vec![p.clone()];
    }
    if let Some(sys) = &scope.scope {
        s.systems = vec![sys.clone()];
    }
    Ok((target, s))
}

/// Parses `--as-of`.
pub fn as_of(s: Option<&str>) -> Result<Option<Timestamp>> {
    s.map(|s| workspace::parse_time(s).with_context(|| "--as-of"))
        .transpose()
}

/// What invalidated a result, in words.
pub fn invalidation_text(cause: &attest_core::validation::Invalidation) -> String {
    use attest_core::validation::Invalidation;
    match cause {
        Invalidation::ContentChanged { at } => format!("the rule changed at {at}"),
        Invalidation::Tuned { at, kind, what } => {
            format!("{} {what:?} added at {at}", kind.as_str())
        }
        Invalidation::SourceRemoved { source, at } => format!("source {source} removed at {at}"),
        Invalidation::SourceChanged { source, at } => format!("source {source} redeclared at {at}"),
        Invalidation::SourceSilent {
            source,
            since: Some(t),
        } => format!("source {source} silent since {t}"),
        Invalidation::SourceSilent {
            source,
            since: None,
        } => format!("source {source} never seen"),
    }
}

/// A reason in words a person can act on.
pub fn reason_text(r: &Reason) -> String {
    match r {
        Reason::NoRule => "no rule claims it".into(),
        Reason::RuleRetired { rule } => format!("rule {rule} retired"),
        Reason::RuleDisabled { rule } => format!("rule {rule} disabled"),
        Reason::SourceMissing { rule, dependency } => {
            format!("rule {rule} needs {dependency}, which no source provides")
        }
        Reason::SourceNotQueryable {
            rule,
            dependency,
            source,
            state,
        } => {
            format!(
                "rule {rule} needs {dependency}; source {source} is only {}",
                state.as_str()
            )
        }
        Reason::SourceSilent {
            rule,
            dependency,
            source,
            since,
        } => match since {
            Some(t) => format!("rule {rule} needs {dependency}; source {source} silent since {t}"),
            None => format!("rule {rule} needs {dependency}; source {source} never seen"),
        },
        Reason::Untested { rule } => format!("rule {rule} untested"),
        Reason::Stale {
            rule,
            passed_at,
            expired_at,
        } => format!("rule {rule} passed {passed_at}, stale since {expired_at}"),
        Reason::Invalidated {
            rule,
            result_at,
            cause,
        } => {
            format!(
                "rule {rule}: its result of {result_at} no longer counts: {}",
                invalidation_text(cause)
            )
        }
        Reason::SuppressedSinceTest {
            rule, passed_at, ..
        } => format!("rule {rule} tuned after its pass of {passed_at}"),
        Reason::Failing { rule, failed_at } => format!("rule {rule} failed at {failed_at}"),
    }
}
