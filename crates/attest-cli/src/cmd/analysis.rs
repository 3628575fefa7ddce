//! Shared plumbing for the commands that compute coverage: load the KB, fold the journal (as of an
//! instant), build the profile's target set, and run the engine.

use anyhow::{Context as _, Result};
use attest_core::coverage::{Catalog, Coverage, Reason, Scope, compute};
use attest_core::priority::TargetSet;
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
/// for (`attest_core::priority::question_scope`, shared with the API); an error names the
/// profiles that exist when the asked one does not.
pub fn scope_for(
    catalog: &Catalog,
    state: &State,
    scope: &ScopeArgs,
) -> Result<(Option<TargetSet>, Scope)> {
    attest_core::priority::question_scope(
        catalog,
        state,
        scope.profile.as_deref(),
        scope.platform.as_deref(),
        scope.scope.as_deref(),
    )
    .map_err(|e| {
        if e.known.is_empty() {
            anyhow::anyhow!(
                "no profile named {:?} (profiles: none yet; `attest profiles import`)",
                e.name
            )
        } else {
            anyhow::anyhow!(e)
        }
    })
}

/// Parses `--as-of`.
pub fn as_of(s: Option<&str>) -> Result<Option<Timestamp>> {
    s.map(|s| workspace::parse_time(s).with_context(|| "--as-of"))
        .transpose()
}

/// A reason in words a person can act on (the wording lives in `attest-core`).
pub fn reason_text(r: &Reason) -> String {
    r.to_string()
}
