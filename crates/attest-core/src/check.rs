//! The CI gate (`attest check`, `GET /api/v1/check`): does coverage hold against a baseline of
//! technique states and a minimum validated share? One definition for the CLI and the API.

use attest_attack::TechniqueId;

use crate::coverage::{Coverage, CoverageState, Reason, TechniqueCoverage};

/// One technique a hand-coloured layer claims as covered, against what the evidence says.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimCheck<'c> {
    /// The technique as the claim wrote it.
    pub claimed: String,
    /// Its coverage; `None` when it is not an active technique of the loaded release.
    pub coverage: Option<&'c TechniqueCoverage>,
}

impl ClaimCheck<'_> {
    /// Whether the evidence backs the claim.
    pub fn is_validated(&self) -> bool {
        self.coverage
            .is_some_and(|c| c.state == CoverageState::Validated)
    }
}

/// The "green map problem" (`attest coverage claimed-vs-validated`, `POST
/// /api/v1/coverage/claimed`): each claimed technique once, in the order claimed, with its
/// coverage.
pub fn check_claims<'c, 'a>(
    claimed: impl IntoIterator<Item = &'a str>,
    coverage: &'c Coverage,
) -> Vec<ClaimCheck<'c>> {
    let mut seen = std::collections::BTreeSet::new();
    claimed
        .into_iter()
        .filter(|c| seen.insert(*c))
        .map(|c| ClaimCheck {
            claimed: c.to_string(),
            coverage: TechniqueId::parse(c)
                .ok()
                .and_then(|id| coverage.technique(id)),
        })
        .collect()
}

/// Why a check failed.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckFailure {
    /// The validated share (percent) is below the bar.
    BelowMinimum {
        /// The share now, in percent.
        share: f64,
        /// The bar, in percent.
        min: f64,
    },
    /// A technique is in a worse state than in the baseline.
    Regressed {
        /// The technique.
        technique: TechniqueId,
        /// Its name.
        name: String,
        /// Its state in the baseline.
        was: CoverageState,
        /// Its state now.
        now: CoverageState,
        /// Why it is in that state now.
        reasons: Vec<Reason>,
    },
}

impl std::fmt::Display for CheckFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CheckFailure::BelowMinimum { share, min } => write!(
                f,
                "validated share {share:.1}% is below --min-validated {min}%"
            ),
            CheckFailure::Regressed {
                technique,
                name,
                was,
                now,
                reasons,
            } => {
                let why: Vec<String> = reasons.iter().map(ToString::to_string).collect();
                write!(
                    f,
                    "{technique} {name}: {} → {} ({})",
                    was.as_str(),
                    now.as_str(),
                    why.join("; ")
                )
            }
        }
    }
}

/// The verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckOutcome {
    /// Validated share now, in percent (priority-weighted with a profile scope).
    pub validated_share: f64,
    /// Techniques counted.
    pub total: usize,
    /// Everything that failed; empty means the check passed.
    pub failures: Vec<CheckFailure>,
}

impl CheckOutcome {
    /// Whether the check passed.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Checks `current` against a baseline (technique id as written → state; ids that do not parse
/// or are out of scope now are ignored) and a minimum validated share in percent.
pub fn check(
    current: &Coverage,
    baseline: &[(String, CoverageState)],
    min_validated: Option<f64>,
) -> CheckOutcome {
    let share = 100.0 * current.overall.share(CoverageState::Validated);
    let mut failures = Vec::new();
    if let Some(min) = min_validated
        && share + 1e-9 < min
    {
        failures.push(CheckFailure::BelowMinimum { share, min });
    }
    for (id, was) in baseline {
        let Ok(tid) = TechniqueId::parse(id) else {
            continue;
        };
        if let Some(now) = current.technique(tid)
            && now.state.rank() > was.rank()
        {
            failures.push(CheckFailure::Regressed {
                technique: tid,
                name: now.name.clone(),
                was: *was,
                now: now.state,
                reasons: now.reasons.clone(),
            });
        }
    }
    CheckOutcome {
        validated_share: share,
        total: current.overall.total(),
        failures,
    }
}
