//! Coverage for a scope (profile, platform, system), computed with attest-core from the
//! snapshot's state and kept until the snapshot changes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use attest_core::coverage::{self, Coverage};
use attest_core::priority::{TargetSet, question_scope};

use super::PageError;
use super::filters::Filters;
use crate::state::{AppState, Snapshot};

/// How many scopes are kept per snapshot (each holds a full coverage answer).
const KEEP: usize = 32;

/// A scope's coverage: the snapshot's own for the unscoped view, computed otherwise.
#[derive(Debug)]
pub(crate) struct Scoped {
    /// The snapshot it was computed from.
    pub snap: Arc<Snapshot>,
    computed: Option<Arc<Computed>>,
}

#[derive(Debug)]
struct Computed {
    target: Option<TargetSet>,
    coverage: Coverage,
}

impl Scoped {
    /// Coverage in the scope.
    pub fn coverage(&self) -> &Coverage {
        match &self.computed {
            Some(c) => &c.coverage,
            None => &self.snap.coverage,
        }
    }

    /// The profile's target set, when a profile is in the scope.
    pub fn target(&self) -> Option<&TargetSet> {
        self.computed.as_ref().and_then(|c| c.target.as_ref())
    }
}

type Key = (Option<String>, Option<String>, Option<String>);

/// The cache: entries for one snapshot (identified by its address), dropped when it changes.
#[derive(Debug, Default)]
pub struct ScopeCache {
    inner: Mutex<(usize, HashMap<Key, Arc<Computed>>)>,
}

impl ScopeCache {
    /// Coverage for the profile, platform and system of `f`.
    pub(crate) fn scoped(&self, app: &AppState, f: &Filters) -> Result<Scoped, PageError> {
        let snap = app.snapshot();
        if f.profile().is_none() && f.platform().is_none() && f.scope().is_none() {
            return Ok(Scoped {
                snap,
                computed: None,
            });
        }
        let key: Key = (
            f.profile().map(str::to_string),
            f.platform().map(str::to_string),
            f.scope().map(str::to_string),
        );
        let id = Arc::as_ptr(&snap) as usize;
        if let Ok(guard) = self.inner.lock()
            && guard.0 == id
            && let Some(c) = guard.1.get(&key)
        {
            return Ok(Scoped {
                snap: Arc::clone(&snap),
                computed: Some(Arc::clone(c)),
            });
        }
        let computed = Arc::new(compute(&snap, f)?);
        if let Ok(mut guard) = self.inner.lock() {
            if guard.0 != id {
                *guard = (id, HashMap::new());
            }
            if guard.1.len() >= KEEP {
                guard.1.clear();
            }
            guard.1.insert(key, Arc::clone(&computed));
        }
        Ok(Scoped {
            snap,
            computed: Some(computed),
        })
    }
}

fn compute(snap: &Snapshot, f: &Filters) -> Result<Computed, PageError> {
    // The same question the CLI's --profile/--platform/--scope and the API ask.
    let (target, scope) = question_scope(
        snap.catalog(),
        &snap.state,
        f.profile(),
        f.platform(),
        f.scope(),
    )
    .map_err(|e| PageError::not_found(e.to_string()))?;
    let coverage = coverage::compute(snap.catalog(), &snap.state, &scope, snap.coverage.at);
    Ok(Computed { target, coverage })
}
