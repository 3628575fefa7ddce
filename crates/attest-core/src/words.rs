//! Coverage reasons and invalidations in words a person can act on: one wording shared by the
//! CLI's tables, the dashboard and exported layers, so the same fact reads the same everywhere.

use crate::backlog::NextStep;
use crate::coverage::Reason;
use crate::source::Health;
use crate::validation::Invalidation;

/// What invalidated a result, in words.
pub fn invalidation_text(cause: &Invalidation) -> String {
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

/// A backlog item's next step in words.
pub fn step_text(s: &NextStep) -> String {
    match s {
        NextStep::WriteRule => "write a rule".into(),
        NextStep::EnableRule { rule } => format!("enable rule {rule}"),
        NextStep::OnboardDataSource { dependency, rule } => match rule {
            Some(r) => format!("onboard {dependency} (for rule {r})"),
            None => format!("onboard {dependency}"),
        },
        NextStep::RepairDataSource { source, rule } => {
            format!("repair source {source} (for rule {rule})")
        }
        NextStep::RunTest { test, rule } => match rule {
            Some(r) => format!("run test {test} against rule {r}"),
            None => format!("run test {test}"),
        },
        NextStep::Retest { rule, test } => match test {
            Some(t) => format!("re-test rule {rule} with {t}"),
            None => format!("re-test rule {rule}"),
        },
        NextStep::FixRule { rule, test } => match test {
            Some(t) => format!("fix rule {rule} (failed {t})"),
            None => format!("fix rule {rule}"),
        },
    }
}

/// A source's health in words.
pub fn health_text(health: &Health) -> String {
    match health {
        Health::Healthy => "healthy".into(),
        Health::NeverSeen => "never seen".into(),
        Health::Silent { since } => format!("silent since {since}"),
    }
}
