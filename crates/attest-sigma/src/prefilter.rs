//! Literal pre-filter: an event only meets the rules whose required literals it contains.
//!
//! For each compiled rule we derive, from its condition and matchers, a few *clauses*: sets of
//! *atoms* `(field, literal, anchor)` such that every event the rule can match satisfies, for each
//! clause, at least one atom: the field's value, lowercased as rsigma lowercases it, contains the
//! literal at the anchored place (anywhere, at the start, at the end, or as the whole value). A
//! rule is a candidate only when all its clauses are satisfied. Anchors make the atoms of the plain
//! string matchers (`Image|endswith: '\cmd.exe'`, exact values) as strict as the matchers
//! themselves, so an event only rarely reaches a rule that then does not match.
//!
//! One pre-filter serves one *route* (the rule buckets that one kind of event reaches): one
//! Aho-Corasick automaton per field, over every literal of every clause of the route's rules,
//! finds the satisfied clauses in one pass over each field value. Route pre-filters are built
//! the first time an event of that route is seen, so compiling a rule set pays nothing for the
//! routes a replay never meets.
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

/// Where a literal must sit in the (lowercased) field value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Anchor {
    /// Anywhere (`contains`, and whatever we only know to contain the literal).
    Anywhere,
    /// At the start (`startswith`).
    Start,
    /// At the end (`endswith`).
    End,
    /// The whole value (plain equality).
    Whole,
}

impl Anchor {
    /// Whether a literal found at `start..end` in a value of `len` bytes sits where it must.
    fn holds(self, start: usize, end: usize, len: usize) -> bool {
        match self {
            Anchor::Anywhere => true,
            Anchor::Start => start == 0,
            Anchor::End => end == len,
            Anchor::Whole => start == 0 && end == len,
        }
    }
}

/// A lowercase literal and where it must sit.
type Needle = (String, Anchor);

/// `(field, needle)` atoms: at least one holds in every event the rule matches.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Clause {
    atoms: Vec<(String, Needle)>,
}

impl Clause {
    /// Longer shortest literals are rarer, so they prune better; an anchor counts as a few
    /// more characters.
    fn score(&self) -> usize {
        self.atoms
            .iter()
            .map(|(_, (n, a))| n.len() + if *a == Anchor::Anywhere { 0 } else { 3 })
            .min()
            .unwrap_or(0)
    }
}

/// Conjunction of clauses (empty: no requirement known).
type Cnf = Vec<Clause>;

/// What one rule requires of an event, derived once when the rule is compiled.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RuleNeeds {
    clauses: Vec<Clause>,
}

impl RuleNeeds {
    /// Analyses a compiled rule; keeps its best few clauses.
    pub(crate) fn of(rule: &CompiledRule) -> Self {
        let mut cnf = rule_cnf(rule);
        cnf.sort_by_key(|c| std::cmp::Reverse(c.score()));
        cnf.dedup();
        cnf.truncate(MAX_CLAUSES_PER_RULE);
        RuleNeeds { clauses: cnf }
    }

    /// Whether the rule has at least one clause (else every event routed to it meets it).
    pub(crate) fn is_selective(&self) -> bool {
        !self.clauses.is_empty()
    }
}

/// The pre-filter of one route: its member rules' clauses, indexed per field.
pub(crate) struct Prefilter {
    fields: HashMap<String, FieldIndex>,
    /// Clause id → member position.
    clause_rule: Vec<u32>,
    /// Per member: number of clauses that must hold (0: always a candidate).
    need: Vec<u8>,
    /// Members without clauses.
    always: Vec<u32>,
}

/// Every atom with one literal: the clause it belongs to and where the literal must sit.
type LiteralAtoms = Vec<(u32, Anchor)>;

struct FieldIndex {
    automaton: AhoCorasick,
    /// Pattern id → (clause id, anchor) for every atom with that literal.
    pattern_atoms: Vec<LiteralAtoms>,
    /// Every clause on this field (satisfied at once by values we cannot scan, e.g. arrays).
    all_clauses: Vec<u32>,
}

impl Prefilter {
    /// Builds the pre-filter over `members`, in order (candidates are positions in it).
    pub(crate) fn build<'a>(members: impl IntoIterator<Item = &'a RuleNeeds>) -> Self {
        let mut clause_rule = Vec::new();
        let mut need = Vec::new();
        let mut always = Vec::new();
        // field → literal → (clause id, anchor)
        let mut by_field: HashMap<&str, HashMap<&str, LiteralAtoms>> = HashMap::new();
        for (pos, needs) in members.into_iter().enumerate() {
            if needs.clauses.is_empty() {
                always.push(pos as u32);
            }
            need.push(needs.clauses.len() as u8);
            for clause in &needs.clauses {
                let id = clause_rule.len() as u32;
                clause_rule.push(pos as u32);
                for (field, (literal, anchor)) in &clause.atoms {
                    let atoms = by_field
                        .entry(field.as_str())
                        .or_default()
                        .entry(literal.as_str())
                        .or_default();
                    if !atoms.contains(&(id, *anchor)) {
                        atoms.push((id, *anchor));
                    }
                }
            }
        }
        let mut fields = HashMap::new();
        for (field, literals) in by_field {
            let (patterns, pattern_atoms): (Vec<&str>, Vec<LiteralAtoms>) =
                literals.into_iter().unzip();
            let mut all_clauses: Vec<u32> =
                pattern_atoms.iter().flatten().map(|&(c, _)| c).collect();
            all_clauses.sort_unstable();
            all_clauses.dedup();
            // Literals are lowercase and values are lowercased before the scan, so the
            // automaton is case-sensitive (cheaper to build and to run than ASCII-insensitive).
            let kind = if patterns.len() <= 64 {
                AhoCorasickKind::DFA
            } else {
                AhoCorasickKind::ContiguousNFA
            };
            let automaton = AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .kind(Some(kind))
                .build(&patterns);
            match automaton {
                Ok(automaton) => {
                    fields.insert(
                        field.to_owned(),
                        FieldIndex {
                            automaton,
                            pattern_atoms,
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

    /// Positions (in the member order given to [`Prefilter::build`]) of the rules `event` may
    /// match, ascending.
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
        // One buffer for the lowercased values of this event.
        let mut lowered = String::new();
        for (name, value) in event {
            let Some(index) = self.fields.get(name) else {
                continue;
            };
            let text: &str = match value {
                Value::String(s) => {
                    lower_into(s, &mut lowered);
                    &lowered
                }
                Value::Number(n) => {
                    // As rsigma turns numbers into text: integers plainly, others as f64.
                    lowered.clear();
                    match n.as_i64() {
                        Some(i) => lowered.push_str(&i.to_string()),
                        None => lowered.push_str(&n.as_f64().unwrap_or(f64::NAN).to_string()),
                    }
                    &lowered
                }
                Value::Bool(b) => {
                    if *b {
                        "true"
                    } else {
                        "false"
                    }
                }
                Value::Null => continue,
                Value::Array(_) | Value::Object(_) => {
                    for &c in &index.all_clauses {
                        mark(c, &mut out);
                    }
                    continue;
                }
            };
            let len = text.len();
            for m in index.automaton.find_overlapping_iter(text) {
                for &(c, anchor) in &index.pattern_atoms[m.pattern().as_usize()] {
                    if anchor.holds(m.start(), m.end(), len) {
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

/// Lowercases `s` into `buf` the way rsigma compares case-insensitively: full Unicode
/// lowercasing (ASCII fast path), so positions match what its matchers see.
fn lower_into(s: &str, buf: &mut String) {
    buf.clear();
    if s.is_ascii() {
        buf.push_str(s);
        buf.make_ascii_lowercase();
    } else {
        buf.push_str(&s.to_lowercase());
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

/// Needles of which at least one must hold in a value the matcher accepts (`None`: unknown).
///
/// Plain string matchers keep their anchor. Numbers are compared as text anywhere in the value
/// (a numeric value written with an exponent, `4.688e3`, is the one form this misses).
fn matcher_needles(m: &CompiledMatcher) -> Option<Vec<Needle>> {
    let literal = |v: &str, anchor: Anchor| -> Option<Vec<Needle>> {
        (!v.is_empty() && v.is_ascii()).then(|| vec![(v.to_ascii_lowercase(), anchor)])
    };
    match m {
        CompiledMatcher::Exact { value, .. } => literal(value, Anchor::Whole),
        CompiledMatcher::Contains { value, .. } => literal(value, Anchor::Anywhere),
        CompiledMatcher::StartsWith { value, .. } => literal(value, Anchor::Start),
        CompiledMatcher::EndsWith { value, .. } => literal(value, Anchor::End),
        CompiledMatcher::AhoCorasickSet { needles, .. } => {
            let mut out = Vec::with_capacity(needles.len());
            for n in needles {
                out.extend(literal(n, Anchor::Anywhere)?);
            }
            Some(out)
        }
        CompiledMatcher::NumericEq(f) if f.fract() == 0.0 && f.abs() < 1e15 => {
            Some(vec![(format!("{}", *f as i64), Anchor::Anywhere)])
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
            .max_by_key(|n| n.iter().map(|(l, _)| l.len()).min().unwrap_or(0)),
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
            atoms: vec![(f.to_owned(), (n.to_owned(), Anchor::Anywhere))],
        };
        let merged = or_cnf(vec![vec![atom("A", "x")], vec![atom("B", "y")]]);
        assert_eq!(
            merged,
            vec![Clause {
                atoms: vec![
                    ("A".into(), ("x".into(), Anchor::Anywhere)),
                    ("B".into(), ("y".into(), Anchor::Anywhere))
                ]
            }]
        );
        // A branch without requirement makes the disjunction unconstrained.
        assert!(or_cnf(vec![vec![atom("A", "x")], vec![]]).is_empty());
    }
}
