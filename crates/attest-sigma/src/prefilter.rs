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

/// The pseudo-field of keyword atoms: they may hold in any string value. Kept out of the
/// per-field map, so no real field name can reach it.
const KEYWORDS: &str = "\u{0}keywords";

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
    /// Anywhere, but only known to hold for ASCII values: literals read out of a regular
    /// expression, whose case folding is not Unicode lowercasing. A non-ASCII value satisfies
    /// such an atom outright.
    AnywhereInAscii,
}

impl Anchor {
    /// Whether a literal found at `start..end` in a value of `len` bytes sits where it must.
    fn holds(self, start: usize, end: usize, len: usize) -> bool {
        match self {
            Anchor::Anywhere | Anchor::AnywhereInAscii => true,
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
    /// The index of keyword literals, scanned over every string value.
    keywords: Option<FieldIndex>,
}

/// Every atom with one literal: the clause it belongs to and where the literal must sit.
type LiteralAtoms = Vec<(u32, Anchor)>;

struct FieldIndex {
    automaton: AhoCorasick,
    /// Pattern id → (clause id, anchor) for every atom with that literal.
    pattern_atoms: Vec<LiteralAtoms>,
    /// Every clause on this field (satisfied at once by values we cannot scan, e.g. arrays).
    all_clauses: Vec<u32>,
    /// Clauses with an [`Anchor::AnywhereInAscii`] atom on this field (satisfied at once by
    /// non-ASCII values).
    loose_clauses: Vec<u32>,
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
            let mut loose_clauses: Vec<u32> = pattern_atoms
                .iter()
                .flatten()
                .filter(|(_, a)| *a == Anchor::AnywhereInAscii)
                .map(|&(c, _)| c)
                .collect();
            loose_clauses.sort_unstable();
            loose_clauses.dedup();
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
                            loose_clauses,
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
        let keywords = fields.remove(KEYWORDS);
        Prefilter {
            fields,
            clause_rule,
            need,
            always,
            keywords,
        }
    }

    /// Positions (in the member order given to [`Prefilter::build`]) of the rules `event` may
    /// match, ascending.
    pub(crate) fn candidates(&self, event: &serde_json::Map<String, Value>) -> Vec<u32> {
        let mut out = self.always.clone();
        if self.clause_rule.is_empty() {
            return out;
        }
        let mut marks = Marks {
            hit: vec![false; self.clause_rule.len()],
            got: vec![0u8; self.need.len()],
            filter: self,
            out: &mut out,
        };
        // One buffer for the lowercased values of this event.
        let mut lowered = String::new();
        for (name, value) in event {
            let Some(index) = self.fields.get(name) else {
                continue;
            };
            match value {
                Value::String(s) => index.scan_str(s, &mut lowered, &mut marks),
                Value::Number(n) => {
                    // As rsigma turns numbers into text: integers plainly, others as f64.
                    lowered.clear();
                    match n.as_i64() {
                        Some(i) => lowered.push_str(&i.to_string()),
                        None => lowered.push_str(&n.as_f64().unwrap_or(f64::NAN).to_string()),
                    }
                    index.scan_lowered(&lowered, &mut marks);
                }
                Value::Bool(b) => index.scan_lowered(if *b { "true" } else { "false" }, &mut marks),
                Value::Null => {}
                Value::Array(_) | Value::Object(_) => marks.all(&index.all_clauses),
            }
        }
        // Keywords look at every string value of the event (nested ones too).
        if let Some(index) = &self.keywords {
            for value in event.values() {
                match value {
                    Value::String(s) => index.scan_str(s, &mut lowered, &mut marks),
                    Value::Array(_) | Value::Object(_) => marks.all(&index.all_clauses),
                    _ => {}
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// Which clauses one event satisfied so far, and which members became candidates.
struct Marks<'a> {
    hit: Vec<bool>,
    got: Vec<u8>,
    filter: &'a Prefilter,
    out: &'a mut Vec<u32>,
}

impl Marks<'_> {
    fn mark(&mut self, clause: u32) {
        let Some(slot) = self.hit.get_mut(clause as usize) else {
            return;
        };
        if *slot {
            return;
        }
        *slot = true;
        let r = self.filter.clause_rule[clause as usize];
        let g = &mut self.got[r as usize];
        *g += 1;
        if *g == self.filter.need[r as usize] {
            self.out.push(r);
        }
    }

    fn all(&mut self, clauses: &[u32]) {
        for &c in clauses {
            self.mark(c);
        }
    }
}

impl FieldIndex {
    /// Scans one string value: lowercased as rsigma lowercases it, with the atoms read out of
    /// regexes satisfied outright when the value is not ASCII.
    fn scan_str(&self, s: &str, lowered: &mut String, marks: &mut Marks<'_>) {
        if !s.is_ascii() {
            marks.all(&self.loose_clauses);
        }
        lower_into(s, lowered);
        self.scan_lowered(lowered, marks);
    }

    fn scan_lowered(&self, text: &str, marks: &mut Marks<'_>) {
        let len = text.len();
        for m in self.automaton.find_overlapping_iter(text) {
            for &(c, anchor) in &self.pattern_atoms[m.pattern().as_usize()] {
                if anchor.holds(m.start(), m.end(), len) {
                    marks.mark(c);
                }
            }
        }
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
        CompiledDetection::Keywords(matcher) => matcher_needles(matcher)
            .map(|needles| Clause {
                atoms: needles
                    .into_iter()
                    .map(|n| (KEYWORDS.to_owned(), n))
                    .collect(),
            })
            .into_iter()
            .collect(),
        CompiledDetection::ArrayMatch { .. } | CompiledDetection::Conditional { .. } => Vec::new(),
    }
}

/// Needles of which at least one must hold in a value the matcher accepts (`None`: unknown).
///
/// Plain string matchers keep their anchor. Numbers are compared as text anywhere in the value
/// (a numeric value written with an exponent, `4.688e3`, is the one form this misses).
fn matcher_needles(m: &CompiledMatcher) -> Option<Vec<Needle>> {
    // rsigma keeps case-insensitive values lowercased (Unicode) and compares them with the
    // lowercased value: those are taken verbatim, non-ASCII too. Case-sensitive values compare
    // with the value as written; lowercasing both sides keeps a match only for ASCII literals.
    let literal = |v: &str, case_insensitive: bool, anchor: Anchor| -> Option<Vec<Needle>> {
        if v.is_empty() {
            None
        } else if case_insensitive {
            Some(vec![(v.to_owned(), anchor)])
        } else if v.is_ascii() {
            Some(vec![(v.to_ascii_lowercase(), anchor)])
        } else {
            None
        }
    };
    match m {
        CompiledMatcher::Exact {
            value,
            case_insensitive,
        } => literal(value, *case_insensitive, Anchor::Whole),
        CompiledMatcher::Contains {
            value,
            case_insensitive,
        } => literal(value, *case_insensitive, Anchor::Anywhere),
        CompiledMatcher::StartsWith {
            value,
            case_insensitive,
        } => literal(value, *case_insensitive, Anchor::Start),
        CompiledMatcher::EndsWith {
            value,
            case_insensitive,
        } => literal(value, *case_insensitive, Anchor::End),
        CompiledMatcher::AhoCorasickSet {
            needles,
            case_insensitive,
            ..
        } => {
            let mut out = Vec::with_capacity(needles.len());
            for n in needles {
                out.extend(literal(n, *case_insensitive, Anchor::Anywhere)?);
            }
            Some(out)
        }
        CompiledMatcher::NumericEq(f) if f.fract() == 0.0 && f.abs() < 1e15 => {
            Some(vec![(format!("{}", *f as i64), Anchor::Anywhere)])
        }
        CompiledMatcher::Regex(re) => regex_needles(re.as_str()),
        CompiledMatcher::RegexSetMatch { set, mode } => {
            let each = set.patterns().iter().map(|p| regex_needles(p));
            match mode {
                rsigma_eval::matcher::GroupMode::Any => {
                    let mut out = Vec::new();
                    for n in each {
                        out.extend(n?);
                    }
                    (!out.is_empty()).then_some(out)
                }
                rsigma_eval::matcher::GroupMode::All => {
                    each.flatten().max_by_key(|n| needle_score(n))
                }
            }
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
            .max_by_key(|n| needle_score(n)),
        _ => None,
    }
}

/// The length of the shortest literal: what makes a set of needles rare.
fn needle_score(needles: &[Needle]) -> usize {
    needles.iter().map(|(l, _)| l.len()).min().unwrap_or(0)
}

/// Literals of which one must occur in any text the regular expression matches (lowercased,
/// valid for ASCII text only, see [`Anchor::AnywhereInAscii`]); `None` when none is known.
fn regex_needles(pattern: &str) -> Option<Vec<Needle>> {
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    let needles = required_literals(&hir)?
        .into_iter()
        .map(|l| (l, Anchor::AnywhereInAscii))
        .collect::<Vec<_>>();
    (needle_score(&needles) >= 2).then_some(needles)
}

/// Lowercase ASCII literals of which one occurs in every ASCII text `hir` matches.
fn required_literals(hir: &regex_syntax::hir::Hir) -> Option<Vec<String>> {
    use regex_syntax::hir::HirKind;
    match hir.kind() {
        HirKind::Capture(c) => required_literals(&c.sub),
        HirKind::Repetition(r) if r.min >= 1 => required_literals(&r.sub),
        HirKind::Alternation(branches) => {
            let mut out = Vec::new();
            for b in branches {
                out.extend(required_literals(b)?);
            }
            out.sort();
            out.dedup();
            Some(out)
        }
        HirKind::Concat(parts) => {
            // Runs of fixed pieces make one literal; the rarest requirement wins.
            let mut best: Option<Vec<String>> = None;
            let mut consider = |cand: Vec<String>| {
                let score = |v: &Vec<String>| v.iter().map(String::len).min().unwrap_or(0);
                if !cand.is_empty() && best.as_ref().is_none_or(|b| score(&cand) > score(b)) {
                    best = Some(cand);
                }
            };
            let mut run = String::new();
            for part in parts {
                match fixed_text(part) {
                    Some(text) => run.push_str(&text),
                    None => {
                        if !run.is_empty() {
                            consider(vec![std::mem::take(&mut run)]);
                        }
                        if let Some(inner) = required_literals(part) {
                            consider(inner);
                        }
                    }
                }
            }
            if !run.is_empty() {
                consider(vec![run]);
            }
            best
        }
        _ => fixed_text(hir).map(|t| vec![t]),
    }
}

/// The one lowercase ASCII text `hir` matches in ASCII text, if it is that simple: a literal,
/// or a class whose ASCII members are one letter in either case (`(?i)k` is `[Kk\u{212A}]`).
fn fixed_text(hir: &regex_syntax::hir::Hir) -> Option<String> {
    use regex_syntax::hir::{Class, HirKind};
    match hir.kind() {
        HirKind::Literal(lit) => {
            let text = std::str::from_utf8(&lit.0).ok()?;
            (!text.is_empty() && text.is_ascii()).then(|| text.to_ascii_lowercase())
        }
        HirKind::Class(Class::Unicode(class)) => {
            let mut letter: Option<char> = None;
            for range in class.iter() {
                let (start, end) = (range.start(), range.end());
                if !start.is_ascii() {
                    continue;
                }
                // Only small ranges can be one letter in two cases.
                if (end as u32).saturating_sub(start as u32) > 1 && end.is_ascii() {
                    return None;
                }
                for c in start..=end.min('\u{7f}') {
                    let c = c.to_ascii_lowercase();
                    match letter {
                        None => letter = Some(c),
                        Some(l) if l == c => {}
                        Some(_) => return None,
                    }
                }
            }
            letter.map(String::from)
        }
        HirKind::Capture(c) => fixed_text(&c.sub),
        HirKind::Concat(parts) => parts.iter().map(fixed_text).collect(),
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
