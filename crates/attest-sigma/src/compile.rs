//! Compiling rule sources into a [`RuleSet`]: parse each file, resolve placeholders, compile each
//! rule on its own (so one bad rule is a diagnostic, never a failed batch), then group the rules
//! into one rsigma engine per routing bucket.

use std::collections::{BTreeMap, HashMap};
use std::thread;

use rsigma_eval::{CompiledRule, CorrelationConfig, CorrelationEngine, Engine, compile_rule};
use rsigma_parser::{
    CorrelationRule, FilterRule, FilterRuleTarget, SigmaCollection, parse_sigma_yaml,
};

use crate::diagnostic::{Diagnostic, DiagnosticKind, Severity};
use crate::expand::expand_rule;
use crate::meta::{self, CorrelationSpec, LogSource, RuleKind, SigmaRule};
use crate::route::{BucketKey, Routing, bucket_for};
use crate::ruleset::{Bucket, CorrelationSetup, RuleSet};

/// One rule file (or any YAML text holding Sigma documents) and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRule {
    /// A path or label, repeated in diagnostics and rule metadata.
    pub origin: String,
    /// The YAML text: one or several documents (`action: global` collections, correlations and
    /// filters included).
    pub text: String,
}

impl SourceRule {
    /// A source from its origin label and YAML text.
    pub fn new(origin: impl Into<String>, text: impl Into<String>) -> Self {
        SourceRule {
            origin: origin.into(),
            text: text.into(),
        }
    }
}

/// Settings of one compilation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompileOptions {
    /// Values for `expand` placeholders: `%name%` → values (several values mean OR).
    pub placeholders: BTreeMap<String, Vec<String>>,
    /// Worker threads for parsing and compiling; 0 means one per available core.
    pub threads: usize,
}

/// Counts from one compilation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CompileStats {
    /// Sources given.
    pub sources: usize,
    /// Detection rules compiled.
    pub detection_rules: usize,
    /// Correlation rules compiled.
    pub correlation_rules: usize,
    /// Filter documents applied.
    pub filters: usize,
    /// Rules or documents skipped (one per error diagnostic).
    pub skipped: usize,
    /// Routing buckets (one rsigma engine each).
    pub buckets: usize,
}

/// What one source produced.
#[derive(Default)]
struct SourceOutput {
    rules: Vec<(rsigma_parser::SigmaRule, CompiledRule, SigmaRule)>,
    correlations: Vec<(CorrelationRule, SigmaRule)>,
    filters: Vec<FilterRule>,
    diagnostics: Vec<Diagnostic>,
}

impl RuleSet {
    /// Compiles rule sources. Never fails as a whole: every rule that cannot be compiled yields
    /// an error [`Diagnostic`] naming its source and the reason, and the others are compiled.
    pub fn compile(
        rules: impl IntoIterator<Item = SourceRule>,
        options: &CompileOptions,
    ) -> (RuleSet, Vec<Diagnostic>) {
        let sources: Vec<SourceRule> = rules.into_iter().collect();
        let outputs = parse_all(&sources, options);
        assemble(sources.len(), outputs)
    }
}

fn parse_all(sources: &[SourceRule], options: &CompileOptions) -> Vec<SourceOutput> {
    let threads = if options.threads == 0 {
        thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        options.threads
    };
    let threads = threads.clamp(1, 16).min(sources.len().max(1));
    if threads == 1 {
        return sources.iter().map(|s| parse_source(s, options)).collect();
    }
    // Contiguous slices keep the output in input order, which keeps "first id wins" stable.
    let per = sources.len().div_ceil(threads);
    let chunks: Vec<&[SourceRule]> = sources.chunks(per).collect();
    thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .iter()
            .copied()
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|s| parse_source(s, options))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .zip(chunks.iter().copied())
            .flat_map(|(h, chunk)| {
                // A panic inside the parser must not take the batch down: name every source of
                // that slice instead.
                h.join().unwrap_or_else(|_| {
                    chunk
                        .iter()
                        .map(|src| SourceOutput {
                            diagnostics: vec![error(
                                src,
                                DiagnosticKind::Parse,
                                "the parser panicked on this batch".to_owned(),
                            )],
                            ..SourceOutput::default()
                        })
                        .collect()
                })
            })
            .collect()
    })
}

fn parse_source(src: &SourceRule, options: &CompileOptions) -> SourceOutput {
    let mut out = SourceOutput::default();
    let collection: SigmaCollection = match parse_sigma_yaml(&src.text) {
        Ok(c) => c,
        Err(e) => {
            out.diagnostics
                .push(error(src, DiagnosticKind::Yaml, e.to_string()));
            return out;
        }
    };
    for message in &collection.errors {
        let kind = if message.starts_with("YAML") {
            DiagnosticKind::Yaml
        } else {
            DiagnosticKind::Parse
        };
        out.diagnostics.push(error(src, kind, message.clone()));
    }
    for mut rule in collection.rules {
        let unresolved = expand_rule(&mut rule, &options.placeholders);
        if !unresolved.is_empty() {
            out.diagnostics.push(Diagnostic {
                origin: src.origin.clone(),
                rule_id: rule.id.clone(),
                title: Some(rule.title.clone()),
                severity: Severity::Warning,
                kind: DiagnosticKind::UnresolvedPlaceholder,
                message: format!("no value for placeholder(s) {}", unresolved.join(", ")),
            });
        }
        match compile_rule(&rule) {
            Ok(compiled) => {
                let meta = detection_meta(&rule, &src.origin);
                out.rules.push((rule, compiled, meta));
            }
            Err(e) => out.diagnostics.push(Diagnostic {
                origin: src.origin.clone(),
                rule_id: rule.id.clone(),
                title: Some(rule.title.clone()),
                severity: Severity::Error,
                kind: DiagnosticKind::Compile,
                message: e.to_string(),
            }),
        }
    }
    for corr in collection.correlations {
        let meta = correlation_meta(&corr, &src.origin);
        out.correlations.push((corr, meta));
    }
    out.filters = collection.filters;
    out
}

fn error(src: &SourceRule, kind: DiagnosticKind, message: String) -> Diagnostic {
    let (rule_id, title) = sniff_identity(&src.text);
    Diagnostic {
        origin: src.origin.clone(),
        rule_id,
        title,
        severity: Severity::Error,
        kind,
        message,
    }
}

/// Reads `id:` and `title:` from the top level of the text, so a rule that fails to parse is
/// still named in its diagnostic (only the first document's are found).
fn sniff_identity(text: &str) -> (Option<String>, Option<String>) {
    let mut id = None;
    let mut title = None;
    for line in text.lines() {
        if line.starts_with("---") && (id.is_some() || title.is_some()) {
            break;
        }
        let clean = |v: &str| v.trim().trim_matches(|c| c == '\'' || c == '"').to_owned();
        if let Some(v) = line.strip_prefix("id:") {
            id.get_or_insert_with(|| clean(v));
        } else if let Some(v) = line.strip_prefix("title:") {
            title.get_or_insert_with(|| clean(v));
        }
    }
    (id, title)
}

fn detection_meta(rule: &rsigma_parser::SigmaRule, origin: &str) -> SigmaRule {
    let ls = &rule.logsource;
    let (_, routing) = bucket_for(
        ls.product.as_deref(),
        ls.category.as_deref(),
        ls.service.as_deref(),
    );
    SigmaRule {
        id: rule.id.clone(),
        name: rule.name.clone(),
        title: rule.title.clone(),
        origin: origin.to_owned(),
        kind: RuleKind::Detection,
        status: rule.status.map(meta::status),
        level: rule.level.map(meta::level),
        description: rule.description.clone(),
        author: rule.author.clone(),
        logsource: LogSource {
            product: ls.product.clone(),
            category: ls.category.clone(),
            service: ls.service.clone(),
        },
        tags: rule.tags.clone(),
        related: meta::related(&rule.related),
        references: rule.references.clone(),
        falsepositives: rule.falsepositives.clone(),
        date: rule.date.clone(),
        modified: rule.modified.clone(),
        simulation: meta::simulation(&rule.custom_attributes),
        routing,
    }
}

fn correlation_meta(corr: &CorrelationRule, origin: &str) -> SigmaRule {
    SigmaRule {
        id: corr.id.clone(),
        name: corr.name.clone(),
        title: corr.title.clone(),
        origin: origin.to_owned(),
        kind: RuleKind::Correlation(CorrelationSpec {
            correlation_type: format!("{:?}", corr.correlation_type),
            rules: corr.rules.clone(),
            group_by: corr.group_by.clone(),
            timespan: std::time::Duration::from_secs(corr.timespan.seconds),
        }),
        status: corr.status.map(meta::status),
        level: corr.level.map(meta::level),
        description: corr.description.clone(),
        author: corr.author.clone(),
        logsource: LogSource::default(),
        tags: corr.tags.clone(),
        related: meta::related(&corr.related),
        references: corr.references.clone(),
        falsepositives: corr.falsepositives.clone(),
        date: corr.date.clone(),
        modified: corr.modified.clone(),
        simulation: Vec::new(),
        routing: Routing::Routed,
    }
}

/// Joins the per-source outputs: ids, buckets, filters and correlations.
fn assemble(source_count: usize, outputs: Vec<SourceOutput>) -> (RuleSet, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let mut metas: Vec<SigmaRule> = Vec::new();
    // Internal key (id, or a synthetic one for rules without id) → index into `metas`.
    let mut by_key: HashMap<String, usize> = HashMap::new();
    // Names and titles also resolve, for correlations and `RuleSet::find`.
    let mut by_name: HashMap<String, usize> = HashMap::new();
    let mut bucket_rules: BTreeMap<BucketKey, Vec<(CompiledRule, usize)>> = BTreeMap::new();
    let mut ast_by_index: HashMap<usize, rsigma_parser::SigmaRule> = HashMap::new();
    let mut correlations = Vec::new();
    let mut filters = Vec::new();

    for out in outputs {
        diagnostics.extend(out.diagnostics);
        for (mut ast, mut compiled, meta) in out.rules {
            if let Some(id) = &meta.id
                && let Some(&first) = by_key.get(id)
            {
                diagnostics.push(duplicate(&meta, &metas[first]));
                continue;
            }
            let index = metas.len();
            let key = meta.id.clone().unwrap_or_else(|| synthetic_key(index));
            // rsigma names results by id; a synthetic id keeps rules without one distinct.
            compiled.id = Some(key.clone());
            ast.id = Some(key.clone());
            by_key.insert(key, index);
            if let Some(name) = &meta.name {
                by_name.entry(name.clone()).or_insert(index);
            }
            by_name.entry(meta.title.clone()).or_insert(index);
            let ls = &meta.logsource;
            let (bucket, _) = bucket_for(
                ls.product.as_deref(),
                ls.category.as_deref(),
                ls.service.as_deref(),
            );
            bucket_rules
                .entry(bucket)
                .or_default()
                .push((compiled, index));
            ast_by_index.insert(index, ast);
            metas.push(meta);
        }
        correlations.extend(out.correlations);
        filters.extend(out.filters);
    }
    let detection_rules = metas.len();

    let mut buckets = Vec::with_capacity(bucket_rules.len());
    let mut location = vec![(0usize, 0usize); metas.len()];
    for (key, rules) in bucket_rules {
        let b = buckets.len();
        let mut compiled = Vec::with_capacity(rules.len());
        for (pos, (rule, index)) in rules.into_iter().enumerate() {
            location[index] = (b, pos);
            compiled.push(rule);
        }
        buckets.push(Bucket::new(key, compiled));
    }

    let mut filter_count = 0;
    for filter in &filters {
        if apply_filter(
            filter,
            &mut buckets,
            &by_key,
            &by_name,
            &location,
            &mut diagnostics,
        ) {
            filter_count += 1;
        }
    }

    let correlation = build_correlations(
        correlations,
        &mut metas,
        &mut by_key,
        &by_name,
        &ast_by_index,
        &mut diagnostics,
    );
    let correlation_rules = metas.len() - detection_rules;

    let skipped = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let stats = crate::CompileStats {
        sources: source_count,
        detection_rules,
        correlation_rules,
        filters: filter_count,
        skipped,
        buckets: buckets.len(),
    };
    let set = RuleSet::from_parts(
        metas,
        by_key,
        by_name,
        buckets,
        location,
        correlation,
        stats,
    );
    (set, diagnostics)
}

fn synthetic_key(index: usize) -> String {
    format!("attest-sigma:no-id:{index}")
}

fn duplicate(meta: &SigmaRule, first: &SigmaRule) -> Diagnostic {
    Diagnostic {
        origin: meta.origin.clone(),
        rule_id: meta.id.clone(),
        title: Some(meta.title.clone()),
        severity: Severity::Error,
        kind: DiagnosticKind::DuplicateId,
        message: format!(
            "id already used by \"{}\" in {}; this copy is skipped",
            first.title, first.origin
        ),
    }
}

/// Applies a Sigma filter document to the buckets holding the rules it names. Returns whether
/// it applied to anything.
fn apply_filter(
    filter: &FilterRule,
    buckets: &mut [Bucket],
    by_key: &HashMap<String, usize>,
    by_name: &HashMap<String, usize>,
    location: &[(usize, usize)],
    diagnostics: &mut Vec<Diagnostic>,
) -> bool {
    // rsigma matches filter references against rule ids and titles itself; we only need to know
    // which buckets hold the named rules.
    let targets: Vec<usize> = match &filter.rules {
        FilterRuleTarget::Any => (0..buckets.len()).collect(),
        FilterRuleTarget::Specific(refs) => {
            let mut b: Vec<usize> = refs
                .iter()
                .filter_map(|r| by_key.get(r).or_else(|| by_name.get(r)))
                .map(|&i| location[i].0)
                .collect();
            b.sort_unstable();
            b.dedup();
            b
        }
    };
    if targets.is_empty() {
        diagnostics.push(Diagnostic {
            origin: String::new(),
            rule_id: None,
            title: Some(filter.title.clone()),
            severity: Severity::Warning,
            kind: DiagnosticKind::UnusedFilter,
            message: "the filter names no rule of this set".to_owned(),
        });
        return false;
    }
    for b in targets {
        let Some(bucket) = buckets.get_mut(b) else {
            continue;
        };
        // rsigma applies filters to the rules held by an engine; borrow one for the rewrite.
        let mut engine = Engine::new();
        engine.extend_compiled_rules(bucket.rules.clone());
        if let Err(e) = engine.apply_filter(filter) {
            diagnostics.push(Diagnostic {
                origin: String::new(),
                rule_id: None,
                title: Some(filter.title.clone()),
                severity: Severity::Error,
                kind: DiagnosticKind::Compile,
                message: format!("filter could not be compiled: {e}"),
            });
            return false;
        }
        *bucket = Bucket::new(bucket.key.clone(), engine.rules().to_vec());
    }
    true
}

/// Compiles the correlation rules into a template engine, checking every reference.
fn build_correlations(
    correlations: Vec<(CorrelationRule, SigmaRule)>,
    metas: &mut Vec<SigmaRule>,
    by_key: &mut HashMap<String, usize>,
    by_name: &HashMap<String, usize>,
    ast_by_index: &HashMap<usize, rsigma_parser::SigmaRule>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<CorrelationSetup> {
    if correlations.is_empty() {
        return None;
    }
    // Correlations may refer to each other, so their own ids and names count as known.
    let corr_names: HashMap<String, ()> = correlations
        .iter()
        .flat_map(|(c, _)| [c.id.clone(), c.name.clone()])
        .flatten()
        .map(|n| (n, ()))
        .collect();
    let mut accepted = Vec::new();
    let mut referenced: Vec<usize> = Vec::new();
    for (mut corr, meta) in correlations {
        let mut missing = Vec::new();
        for r in &corr.rules {
            match by_key.get(r).or_else(|| by_name.get(r)) {
                Some(&i) => referenced.push(i),
                None if corr_names.contains_key(r) => {}
                None => missing.push(r.clone()),
            }
        }
        if !missing.is_empty() {
            diagnostics.push(Diagnostic {
                origin: meta.origin.clone(),
                rule_id: meta.id.clone(),
                title: Some(meta.title.clone()),
                severity: Severity::Error,
                kind: DiagnosticKind::UnknownRuleRef,
                message: format!("refers to rule(s) not in the set: {}", missing.join(", ")),
            });
            continue;
        }
        if let Some(id) = &meta.id
            && let Some(&first) = by_key.get(id)
        {
            diagnostics.push(duplicate(&meta, &metas[first]));
            continue;
        }
        // Check it compiles on its own, so one bad correlation never sinks the others.
        let mut probe = CorrelationEngine::new(CorrelationConfig::default());
        if let Err(e) = probe.add_correlation(&corr) {
            diagnostics.push(Diagnostic {
                origin: meta.origin.clone(),
                rule_id: meta.id.clone(),
                title: Some(meta.title.clone()),
                severity: Severity::Error,
                kind: DiagnosticKind::Correlation,
                message: e.to_string(),
            });
            continue;
        }
        let index = metas.len();
        let key = meta.id.clone().unwrap_or_else(|| synthetic_key(index));
        corr.id = Some(key.clone());
        by_key.insert(key, index);
        metas.push(meta);
        accepted.push(corr);
    }
    if accepted.is_empty() {
        return None;
    }
    referenced.sort_unstable();
    referenced.dedup();
    let referenced_rules = referenced
        .iter()
        .filter_map(|i| ast_by_index.get(i).cloned())
        .collect();
    Some(CorrelationSetup {
        correlations: accepted,
        referenced_rules,
        referenced,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_identity_of_broken_rules() {
        let (id, title) = sniff_identity("title: 'Broken'\nid: abc\ndetection: [\n");
        assert_eq!(id.as_deref(), Some("abc"));
        assert_eq!(title.as_deref(), Some("Broken"));
    }
}
