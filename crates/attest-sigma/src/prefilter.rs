//! Literal pre-filter: an event only meets the rules whose required literals it contains.
//!
//! For each compiled rule we derive, from its condition and matchers, a few *clauses*: sets of
//! `(field, literal)` pairs such that every event the rule can match contains, in that field, at
//! least one literal of the clause (compared ASCII-case-insensitively, as a substring). A rule is
//! a candidate only when all its clauses are satisfied. One Aho-Corasick automaton per field, over
//! every literal of every clause of the bucket, finds the satisfied clauses in one pass over each
//! field value.
//!
//! The analysis over-approximates: it may let through a rule that then does not match (the rule
//! is evaluated in full), never the reverse. Anything it cannot reason about (regexes, negations,
//! keywords, CIDR, field references, non-ASCII literals, dotted field paths) simply adds no
//! clause. This replaces rsigma's own candidate index, whose one-witness-per-rule choice lets
//! through every rule sharing a common literal (`\powershell.exe`), and whose DFA construction
//! dominated compile time.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use rsigma_eval::{CompiledDetection, CompiledMatcher, CompiledRule};
use rsigma_parser::{ConditionExpr, Quantifier, SelectorPattern};
use serde_json::Value;

/// Most clauses kept per rule: more prune more, but the first few do nearly all the work.
const MAX_CLAUSES_PER_RULE: usize = 4;

/// `(field, lowercase literal)` pairs: at least one literal occurs in its field.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Clause {
    atoms: Vec<(String, String)>,
}

impl Clause {
    /// Longer shortest literals are rarer, so they prune better.
    fn score(&self) -> usize {
        self.atoms.iter().map(|(_, n)| n.len()).min().unwrap_or(0)
    }
}

/// Conjunction of clauses (empty: no requirement known).
type Cnf = Vec<Clause>;

/// The pre-filter of one bucket of rules.
pub(crate) struct Prefilter {
    fields: HashMap<String, FieldIndex>,
    /// Clause id → rule position.
    clause_rule: Vec<u32>,
    /// Per rule: number of clauses that must hold (0: always a candidate).
    need: Vec<u8>,
    /// Rules without clauses.
    always: Vec<u32>,
}

struct FieldIndex {
    automaton: AhoCorasick,
    /// Pattern id → clause ids.
    pattern_clauses: Vec<Vec<u32>>,
    /// Every clause on this field (satisfied at once by values we cannot scan, e.g. arrays).
    all_clauses: Vec<u32>,
}

impl Prefilter {
    pub(crate) fn build(rules: &[CompiledRule]) -> Self {
        let mut clause_rule = Vec::new();
        let mut need = Vec::with_capacity(rules.len());
        let mut always = Vec::new();
        // field → literal → clause ids
        let mut by_field: HashMap<String, HashMap<String, Vec<u32>>> = HashMap::new();
        for (pos, rule) in rules.iter().enumerate() {
            let mut cnf = rule_cnf(rule);
            cnf.sort_by_key(|c| std::cmp::Reverse(c.score()));
            cnf.dedup();
            cnf.truncate(MAX_CLAUSES_PER_RULE);
            if cnf.is_empty() {
                always.push(pos as u32);
            }
            need.push(cnf.len() as u8);
            for clause in cnf {
                let id = clause_rule.len() as u32;
                clause_rule.push(pos as u32);
                for (field, n) in clause.atoms {
                    let ids = by_field.entry(field).or_default().entry(n).or_default();
                    if ids.last() != Some(&id) {
                        ids.push(id);
                    }
                }
            }
        }
        let mut fields = HashMap::new();
        for (field, needles) in by_field {
            let (patterns, pattern_clauses): (Vec<String>, Vec<Vec<u32>>) =
                needles.into_iter().unzip();
            let mut all_clauses: Vec<u32> = pattern_clauses.iter().flatten().copied().collect();
            all_clauses.sort_unstable();
            all_clauses.dedup();
            let kind = if patterns.len() <= 64 {
                AhoCorasickKind::DFA
            } else {
                AhoCorasickKind::ContiguousNFA
            };
            let automaton = AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .kind(Some(kind))
                .build(&patterns);
            match automaton {
                Ok(automaton) => {
                    fields.insert(
                        field,
                        FieldIndex {
                            automaton,
                            pattern_clauses,
                            all_clauses,
                        },
                    );
                }
                Err(_) => {
                    // Cannot index this field: drop its clauses from the rules' needs instead
                    // (sound: fewer requirements).
                    for c in all_clauses {
                        let r = clause_rule[c as usize] as usize;
                        need[r] = need[r].saturating_sub(1);
                        if need[r] == 0 {
                            always.push(r as u32);
                        }
                    }
                }
            }
        }
        always.sort_unstable();
        always.dedup();
        Prefilter {
            fields,
            clause_rule,
            need,
            always,
        }
    }

    /// Rules with at least one clause, and all rules.
    pub(crate) fn coverage(&self) -> (usize, usize) {
        (
            self.need.iter().filter(|n| **n > 0).count(),
            self.need.len(),
        )
    }

    /// Positions of the rules `event` may match, ascending.
    pub(crate) fn candidates(&self, event: &serde_json::Map<String, Value>) -> Vec<u32> {
        let mut out = self.always.clone();
        if self.clause_rule.is_empty() {
            return out;
        }
        let mut hit = vec![false; self.clause_rule.len()];
        let mut got = vec![0u8; self.need.len()];
        let mut mark = |c: u32, out: &mut Vec<u32>| {
            let slot = &mut hit[c as usize];
            if !*slot {
                *slot = true;
                let r = self.clause_rule[c as usize];
                let g = &mut got[r as usize];
                *g += 1;
                if *g == self.need[r as usize] {
                    out.push(r);
                }
            }
        };
        for (name, value) in event {
            let Some(index) = self.fields.get(name) else {
                continue;
            };
            let mut scan = |text: &str, out: &mut Vec<u32>| {
                for m in index.automaton.find_overlapping_iter(text) {
                    for &c in &index.pattern_clauses[m.pattern().as_usize()] {
                        mark(c, out);
                    }
                }
            };
            match value {
                Value::String(s) => scan(s, &mut out),
                Value::Number(n) => scan(&n.to_string(), &mut out),
                Value::Bool(b) => scan(if *b { "true" } else { "false" }, &mut out),
                Value::Null => {}
                Value::Array(_) | Value::Object(_) => {
                    for &c in &index.all_clauses {
                        mark(c, &mut out);
                    }
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

fn rule_cnf(rule: &CompiledRule) -> Cnf {
    // A rule matches when any of its conditions does.
    let branches: Vec<Cnf> = rule
        .conditions
        .iter()
        .map(|c| condition_cnf(c, &rule.detections))
        .collect();
    or_cnf(branches)
}

fn condition_cnf(expr: &ConditionExpr, detections: &HashMap<String, CompiledDetection>) -> Cnf {
    match expr {
        ConditionExpr::Identifier(name) => {
            detections.get(name).map(detection_cnf).unwrap_or_default()
        }
        ConditionExpr::And(children) => children
            .iter()
            .flat_map(|c| condition_cnf(c, detections))
            .collect(),
        ConditionExpr::Or(children) => or_cnf(
            children
                .iter()
                .map(|c| condition_cnf(c, detections))
                .collect(),
        ),
        ConditionExpr::Not(_) => Vec::new(),
        ConditionExpr::Selector {
            quantifier,
            pattern,
        } => {
            let mut names: Vec<&String> = detections
                .keys()
                .filter(|n| match pattern {
                    SelectorPattern::Them => !n.starts_with('_'),
                    SelectorPattern::Pattern(p) => glob(p, n),
                })
                .collect();
            names.sort();
            let parts: Vec<Cnf> = names
                .iter()
                .filter_map(|n| detections.get(*n))
                .map(detection_cnf)
                .collect();
            match quantifier {
                Quantifier::All => parts.into_iter().flatten().collect(),
                Quantifier::Any | Quantifier::Count(_) => {
                    if matches!(quantifier, Quantifier::Count(0)) || parts.is_empty() {
                        Vec::new()
                    } else {
                        or_cnf(parts)
                    }
                }
            }
        }
    }
}

/// `a or b or …`: one clause, the union of one clause from each branch (each branch's best);
/// nothing when a branch has no requirement.
fn or_cnf(branches: Vec<Cnf>) -> Cnf {
    if branches.len() == 1 {
        return branches.into_iter().next().unwrap_or_default();
    }
    let mut atoms = Vec::new();
    for b in branches {
        match b.into_iter().max_by_key(Clause::score) {
            Some(c) => atoms.extend(c.atoms),
            None => return Vec::new(),
        }
    }
    atoms.sort();
    atoms.dedup();
    vec![Clause { atoms }]
}

fn detection_cnf(d: &CompiledDetection) -> Cnf {
    match d {
        CompiledDetection::AllOf(items) => items
            .iter()
            .filter_map(|item| {
                let field = item.field.as_deref()?;
                if field.contains(['.', '[', '\\']) {
                    return None;
                }
                let needles = matcher_needles(&item.matcher)?;
                Some(Clause {
                    atoms: needles.into_iter().map(|n| (field.to_owned(), n)).collect(),
                })
            })
            .collect(),
        CompiledDetection::AnyOf(subs) => or_cnf(subs.iter().map(detection_cnf).collect()),
        CompiledDetection::And(subs) => subs.iter().flat_map(detection_cnf).collect(),
        CompiledDetection::Keywords(_)
        | CompiledDetection::ArrayMatch { .. }
        | CompiledDetection::Conditional { .. } => Vec::new(),
    }
}

/// Literals of which at least one must occur in a value the matcher accepts (`None`: unknown).
fn matcher_needles(m: &CompiledMatcher) -> Option<Vec<String>> {
    let literal = |v: &str| -> Option<Vec<String>> {
        (!v.is_empty() && v.is_ascii()).then(|| vec![v.to_ascii_lowercase()])
    };
    match m {
        CompiledMatcher::Exact { value, .. }
        | CompiledMatcher::Contains { value, .. }
        | CompiledMatcher::StartsWith { value, .. }
        | CompiledMatcher::EndsWith { value, .. } => literal(value),
        CompiledMatcher::AhoCorasickSet { needles, .. } => {
            let mut out = Vec::with_capacity(needles.len());
            for n in needles {
                out.extend(literal(n)?);
            }
            Some(out)
        }
        CompiledMatcher::NumericEq(f) if f.fract() == 0.0 && f.abs() < 1e15 => {
            Some(vec![format!("{}", *f as i64)])
        }
        CompiledMatcher::AnyOf(children)
        | CompiledMatcher::CaseInsensitiveGroup {
            children,
            mode: rsigma_eval::matcher::GroupMode::Any,
        } => {
            let mut out = Vec::new();
            for c in children {
                out.extend(matcher_needles(c)?);
            }
            (!out.is_empty()).then_some(out)
        }
        CompiledMatcher::AllOf(children)
        | CompiledMatcher::CaseInsensitiveGroup {
            children,
            mode: rsigma_eval::matcher::GroupMode::All,
        } => children
            .iter()
            .filter_map(matcher_needles)
            .max_by_key(|n| n.iter().map(String::len).min().unwrap_or(0)),
        _ => None,
    }
}

/// Sigma selector patterns: `*` matches any run of characters; everything else is literal.
fn glob(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let mut rest = name;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("selection_*", "selection_img"));
        assert!(!glob("selection_*", "filter_img"));
        assert!(glob("*_main_*", "filter_main_x"));
        assert!(glob("sel", "sel"));
        assert!(!glob("sel", "sel2"));
    }

    #[test]
    fn or_unions_clauses_across_fields() {
        let atom = |f: &str, n: &str| Clause {
            atoms: vec![(f.to_owned(), n.to_owned())],
        };
        let merged = or_cnf(vec![vec![atom("A", "x")], vec![atom("B", "y")]]);
        assert_eq!(
            merged,
            vec![Clause {
                atoms: vec![("A".into(), "x".into()), ("B".into(), "y".into())]
            }]
        );
        // A branch without requirement makes the disjunction unconstrained.
        assert!(or_cnf(vec![vec![atom("A", "x")], vec![]]).is_empty());
    }
}
