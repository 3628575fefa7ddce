//! Coverage over time: the journal folded once, with the coverage computed at each sampled
//! instant, and the techniques that got worse between consecutive samples (the regressions a
//! trend chart marks).
//!
//! Why fold once instead of asking "as of" for every point: a year of weekly points would fold
//! the journal 52 times; folding it in order and stopping at each instant costs one pass plus one
//! coverage computation per point.

use attest_attack::TechniqueId;
use jiff::{Span, Timestamp, ToSpan, Zoned, tz::TimeZone};

use crate::coverage::{Catalog, Coverage, CoverageState, Scope, Tally, compute};
use crate::journal::JournalEntry;
use crate::state::State;

/// How far apart trend points are: a day, a week, a calendar month, or any positive span
/// (`6h`, `2 weeks`, `PT30M`).
#[derive(Debug, Clone, Copy)]
pub struct Interval {
    span: Span,
}

impl Interval {
    /// Every day.
    pub fn day() -> Interval {
        Interval { span: 1.day() }
    }
    /// Every 7 days.
    pub fn week() -> Interval {
        Interval { span: 7.days() }
    }
    /// Every calendar month (in UTC).
    pub fn month() -> Interval {
        Interval { span: 1.month() }
    }

    /// Parses `day`, `week`, `month` (also `daily`, `weekly`, `monthly`) or a positive span in
    /// jiff's friendly or ISO 8601 form (`12h`, `2 weeks`, `P1D`).
    pub fn parse(s: &str) -> Option<Interval> {
        match s.trim().to_ascii_lowercase().as_str() {
            "day" | "daily" => Some(Interval::day()),
            "week" | "weekly" => Some(Interval::week()),
            "month" | "monthly" => Some(Interval::month()),
            other => {
                let span: Span = other.parse().ok()?;
                span.is_positive().then_some(Interval { span })
            }
        }
    }

    /// The interval as text (`P7D`, `P1M`, …).
    pub fn as_string(self) -> String {
        self.span.to_string()
    }
}

/// Why a series of instants could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrendError {
    /// `from` is after `to`.
    #[error("the trend starts ({from}) after it ends ({to})")]
    Backwards {
        /// Start.
        from: Timestamp,
        /// End.
        to: Timestamp,
    },
    /// Too many points for one chart.
    #[error(
        "{points} points from {from} to {to} every {every}: more than {max}; choose a longer interval or a shorter range"
    )]
    TooManyPoints {
        /// How many points the request would give.
        points: usize,
        /// The most allowed.
        max: usize,
        /// Start.
        from: Timestamp,
        /// End.
        to: Timestamp,
        /// The interval.
        every: String,
    },
}

/// The most points one trend may have: beyond this a chart is unreadable and the computation
/// long (each point is a full coverage computation).
pub const MAX_POINTS: usize = 2_000;

/// The instants from `from` to `to` every `every`, both ends included (the last point is always
/// `to`, so a chart ends at "now").
pub fn instants(
    from: Timestamp,
    to: Timestamp,
    every: Interval,
) -> Result<Vec<Timestamp>, TrendError> {
    if from > to {
        return Err(TrendError::Backwards { from, to });
    }
    let start: Zoned = from.to_zoned(TimeZone::UTC);
    let mut out = Vec::new();
    let mut i: i64 = 0;
    loop {
        // Stepping from the start each time (not from the previous point) keeps month ends from
        // drifting: Jan 31 + 1 month, + 2 months, … rather than Jan 31 → Feb 28 → Mar 28.
        let Ok(step) = every.span.checked_mul(i) else {
            break;
        };
        let Ok(next) = start.checked_add(step) else {
            break;
        };
        let at = next.timestamp();
        if at >= to {
            break;
        }
        out.push(at);
        if out.len() > MAX_POINTS {
            return Err(TrendError::TooManyPoints {
                points: out.len() + 1,
                max: MAX_POINTS,
                from,
                to,
                every: every.as_string(),
            });
        }
        i += 1;
    }
    out.push(to);
    Ok(out)
}

/// A technique that got worse between two consecutive points.
#[derive(Debug, Clone, PartialEq)]
pub struct Regression {
    /// The technique.
    pub technique: TechniqueId,
    /// Its name.
    pub name: String,
    /// Its state at the previous point (`None`: it was not in scope then).
    pub from: Option<CoverageState>,
    /// Its state now.
    pub to: CoverageState,
}

/// Coverage at one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendPoint {
    /// The instant.
    pub at: Timestamp,
    /// Counts and weights per state; `None` when the scope did not exist yet (e.g. the profile
    /// was created later).
    pub tally: Option<Tally>,
    /// Techniques worse than at the previous point that had a tally.
    pub regressions: Vec<Regression>,
    /// Techniques better than at the previous point.
    pub improvements: usize,
}

impl TrendPoint {
    /// Share (0..=1) of the scope's weight that is validated; `None` when there was no scope.
    pub fn validated_share(&self) -> Option<f64> {
        self.tally.map(|t| t.share(CoverageState::Validated))
    }
}

/// Computes coverage at each of `instants` (ascending) from the journal `entries` (in journal
/// order). `scope_at` builds the scope from the state at each instant — a profile's target set
/// changes as actors and profiles change — and returns `None` when there is no scope yet.
pub fn series<'a>(
    catalog: &Catalog,
    entries: impl IntoIterator<Item = &'a JournalEntry>,
    instants: &[Timestamp],
    mut scope_at: impl FnMut(&State) -> Option<Scope>,
) -> Vec<TrendPoint> {
    let mut entries = entries.into_iter().peekable();
    let mut state = State::default();
    let mut previous: Option<Coverage> = None;
    let mut points = Vec::with_capacity(instants.len());
    for &at in instants {
        while let Some(e) = entries.next_if(|e| e.at <= at) {
            state.apply(e);
        }
        let Some(scope) = scope_at(&state) else {
            points.push(TrendPoint {
                at,
                tally: None,
                regressions: Vec::new(),
                improvements: 0,
            });
            continue;
        };
        let coverage = compute(catalog, &state, &scope, at);
        let (regressions, improvements) = match &previous {
            Some(before) => compare(before, &coverage),
            None => (Vec::new(), 0),
        };
        points.push(TrendPoint {
            at,
            tally: Some(coverage.overall),
            regressions,
            improvements,
        });
        previous = Some(coverage);
    }
    points
}

/// Techniques worse in `after` than in `before`, and how many are better. A technique entering
/// or leaving the scope (a profile gained an actor) is not a change in detection, so it counts
/// neither way.
fn compare(before: &Coverage, after: &Coverage) -> (Vec<Regression>, usize) {
    let mut worse = Vec::new();
    let mut better = 0;
    for t in &after.techniques {
        let Some(was) = before.technique(t.technique) else {
            continue;
        };
        match t.state.rank().cmp(&was.state.rank()) {
            std::cmp::Ordering::Greater => worse.push(Regression {
                technique: t.technique,
                name: t.name.clone(),
                from: Some(was.state),
                to: t.state,
            }),
            std::cmp::Ordering::Less => better += 1,
            std::cmp::Ordering::Equal => {}
        }
    }
    (worse, better)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn weekly_instants_end_at_to() {
        let got = instants(
            ts("2026-01-01T00:00:00Z"),
            ts("2026-01-20T12:00:00Z"),
            Interval::week(),
        )
        .unwrap();
        assert_eq!(
            got,
            vec![
                ts("2026-01-01T00:00:00Z"),
                ts("2026-01-08T00:00:00Z"),
                ts("2026-01-15T00:00:00Z"),
                ts("2026-01-20T12:00:00Z"),
            ]
        );
    }

    #[test]
    fn monthly_instants_do_not_drift_from_month_ends() {
        let got = instants(
            ts("2026-01-31T00:00:00Z"),
            ts("2026-04-30T00:00:00Z"),
            Interval::month(),
        )
        .unwrap();
        assert_eq!(
            got,
            vec![
                ts("2026-01-31T00:00:00Z"),
                ts("2026-02-28T00:00:00Z"),
                ts("2026-03-31T00:00:00Z"),
                ts("2026-04-30T00:00:00Z"),
            ]
        );
    }

    #[test]
    fn a_single_instant_when_from_equals_to() {
        let t = ts("2026-01-31T00:00:00Z");
        assert_eq!(instants(t, t, Interval::day()).unwrap(), vec![t]);
    }

    #[test]
    fn backwards_and_oversized_ranges_are_refused() {
        assert!(matches!(
            instants(
                ts("2026-02-01T00:00:00Z"),
                ts("2026-01-01T00:00:00Z"),
                Interval::day()
            ),
            Err(TrendError::Backwards { .. })
        ));
        let err = instants(
            ts("2000-01-01T00:00:00Z"),
            ts("2026-01-01T00:00:00Z"),
            Interval::day(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("longer interval"), "{err}");
    }

    #[test]
    fn intervals_parse() {
        assert_eq!(Interval::parse("weekly").unwrap().as_string(), "P7D");
        assert_eq!(Interval::parse("Month").unwrap().as_string(), "P1M");
        assert_eq!(Interval::parse("12h").unwrap().as_string(), "PT12H");
        assert!(Interval::parse("fortnight").is_none());
        assert!(
            Interval::parse("-1d").is_none(),
            "a negative span would never end"
        );
        assert!(Interval::parse("0s").is_none());
    }
}
