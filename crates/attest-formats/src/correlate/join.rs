//! The join itself: executions × claiming rules × alerts in the window.

use std::collections::{BTreeMap, HashMap};

use attest_core::result::{Evidence, Outcome, ValidationResult};
use attest_core::rule::RuleId;

use super::spec::{Alert, CorrelateOptions, Execution};

/// What [`correlate`] found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Correlation {
    /// One result per (execution, claiming rule), in execution order then claim order.
    pub results: Vec<ValidationResult>,
    /// Indices of executions whose technique no rule claims: they produced no result, and are
    /// worth showing (a technique was exercised and nothing is expected to detect it).
    pub unclaimed: Vec<usize>,
    /// Indices of alerts that served as evidence for no pass (other rules, outside every window,
    /// or a rule name that [`CorrelateOptions::rule_names`] does not resolve).
    pub unused_alerts: Vec<usize>,
}

/// Joins `executions` with `alerts`. `claims` maps a technique ID (any case) to the rules that
/// claim it, in the order results should list them. See the module documentation for the rule.
pub fn correlate(
    executions: &[Execution],
    alerts: &[Alert],
    claims: &BTreeMap<String, Vec<RuleId>>,
    options: &CorrelateOptions,
) -> Correlation {
    let claims: HashMap<String, Vec<&RuleId>> = {
        let mut m: HashMap<String, Vec<&RuleId>> = HashMap::new();
        for (technique, rules) in claims {
            let entry = m.entry(technique.trim().to_ascii_uppercase()).or_default();
            for r in rules {
                if !entry.contains(&r) {
                    entry.push(r);
                }
            }
        }
        m
    };
    let names: HashMap<String, &RuleId> = options
        .rule_names
        .iter()
        .map(|(name, id)| (name.trim().to_lowercase(), id))
        .collect();

    // Alerts by the lower-cased id of the rule they belong to, sorted by time so a window is a
    // contiguous run (ties keep input order, so evidence lists are deterministic).
    let mut by_rule: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, alert) in alerts.iter().enumerate() {
        let mut keys: Vec<String> = Vec::with_capacity(2);
        if let Some(id) = alert
            .rule_id
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            keys.push(id.to_lowercase());
        }
        if let Some(id) = alert
            .rule_name
            .as_deref()
            .and_then(|n| names.get(&n.trim().to_lowercase()))
        {
            let key = id.0.to_lowercase();
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        for key in keys {
            by_rule.entry(key).or_default().push(i);
        }
    }
    for list in by_rule.values_mut() {
        list.sort_by_key(|&i| alerts[i].at);
    }

    let mut out = Correlation::default();
    let mut used = vec![false; alerts.len()];
    for (ei, execution) in executions.iter().enumerate() {
        let technique = execution.technique.trim().to_ascii_uppercase();
        let Some(rules) = claims.get(&technique).filter(|r| !r.is_empty()) else {
            out.unclaimed.push(ei);
            continue;
        };
        // Checked arithmetic: a far-future time in a log must not panic the join.
        let from = execution
            .started
            .checked_sub(options.skew)
            .unwrap_or(jiff::Timestamp::MIN);
        let to = execution
            .started
            .checked_add(options.window)
            .unwrap_or(jiff::Timestamp::MAX);
        for rule in rules {
            let (outcome, evidence) = match execution.exit_code {
                Some(code) if code != 0 => (
                    Outcome::Error,
                    Evidence {
                        text: Some(format!(
                            "{} exited with code {code} ({}); says nothing about rule {rule}",
                            describe(execution),
                            execution.source
                        )),
                        ..Evidence::default()
                    },
                ),
                _ => {
                    let matched: Vec<usize> = by_rule
                        .get(&rule.0.to_lowercase())
                        .map(|list| {
                            // The list is sorted by time: skip to the window's start.
                            let start = list.partition_point(|&i| alerts[i].at < from);
                            list[start..]
                                .iter()
                                .copied()
                                .take_while(|&i| alerts[i].at <= to)
                                .filter(|&i| {
                                    !options.match_host
                                        || same_host(
                                            execution.host.as_deref(),
                                            alerts[i].host.as_deref(),
                                        )
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    let host_note = if options.match_host {
                        format!(" on host {}", execution.host.as_deref().unwrap_or("(none)"))
                    } else {
                        String::new()
                    };
                    if matched.is_empty() {
                        (
                            Outcome::Fail,
                            Evidence {
                                text: Some(format!(
                                    "{} ({}); no alert from rule {rule}{host_note} within {} of its start",
                                    describe(execution),
                                    execution.source,
                                    options.window
                                )),
                                ..Evidence::default()
                            },
                        )
                    } else {
                        for &i in &matched {
                            used[i] = true;
                        }
                        let event_ids = matched
                            .iter()
                            .map(|&i| {
                                let a = &alerts[i];
                                a.id.clone().unwrap_or_else(|| format!("{}@{}", rule, a.at))
                            })
                            .collect();
                        let times: Vec<String> =
                            matched.iter().map(|&i| alerts[i].at.to_string()).collect();
                        (
                            Outcome::Pass,
                            Evidence {
                                text: Some(format!(
                                    "{} ({}); {} alert(s) from rule {rule}{host_note} at {}",
                                    describe(execution),
                                    execution.source,
                                    matched.len(),
                                    times.join(", ")
                                )),
                                url: None,
                                event_ids,
                            },
                        )
                    }
                }
            };
            out.results.push(ValidationResult {
                rule: (*rule).clone(),
                technique: technique.clone(),
                test: execution.test_guid.clone(),
                outcome,
                at: execution.started,
                by: options.by.clone(),
                evidence,
            });
        }
    }
    out.unused_alerts = used
        .iter()
        .enumerate()
        .filter(|(_, u)| !**u)
        .map(|(i, _)| i)
        .collect();
    out
}

fn describe(e: &Execution) -> String {
    let test = match (&e.test_name, &e.test_guid) {
        (Some(n), Some(g)) => format!(" test \"{n}\" ({g})"),
        (Some(n), None) => format!(" test \"{n}\""),
        (None, Some(g)) => format!(" test {g}"),
        (None, None) => String::new(),
    };
    let host = e
        .host
        .as_deref()
        .map(|h| format!(" on {h}"))
        .unwrap_or_default();
    format!("{}{test} executed{host} at {}", e.technique, e.started)
}

/// Hosts match on their first DNS label, case-insensitively: SIEMs and loggers disagree on
/// whether to write the FQDN.
fn same_host(a: Option<&str>, b: Option<&str>) -> bool {
    fn label(h: &str) -> String {
        h.trim().split('.').next().unwrap_or("").to_lowercase()
    }
    match (a, b) {
        (Some(a), Some(b)) => {
            let (a, b) = (label(a), label(b));
            !a.is_empty() && a == b
        }
        _ => false,
    }
}
