//! A compiled rule set: stateless evaluation of one event, explanations, and a stateful
//! [`Correlator`] for correlation rules over a stream of events.

use std::collections::HashMap;
use std::sync::OnceLock;

use rsigma_eval::{
    CompiledRule, CorrelationConfig, CorrelationEngine, EvaluationResult, ResultBody,
    evaluate_rule, explain_rule,
};
use rsigma_parser::CorrelationRule;

use crate::compile::CompileStats;
use crate::event::Event;
use crate::meta::SigmaRule;
use crate::prefilter::{Prefilter, RuleNeeds};
use crate::route::{BucketKey, EventRoute, WINDOWS_ROUTES, route_event};

/// Index of a rule in [`RuleSet::rules`].
pub type RuleIndex = usize;

/// A set of compiled Sigma rules, routed by log source.
///
/// Built by [`RuleSet::compile`]. Immutable and `Sync`: evaluate from as many threads as you like;
/// correlation state lives in a [`Correlator`] per stream.
pub struct RuleSet {
    rules: Vec<SigmaRule>,
    by_key: HashMap<String, RuleIndex>,
    by_name: HashMap<String, RuleIndex>,
    buckets: Vec<Bucket>,
    /// The distinct sets of buckets events reach, each with its lazily built pre-filter.
    routes: Vec<Route>,
    /// Route per channel and event id, precomputed from the routing table.
    route_cache: RouteCache,
    /// The route of events that cannot be routed (no channel): every bucket.
    unrouted: usize,
    /// Per detection rule: (bucket, position in that bucket's engine).
    location: Vec<(usize, usize)>,
    correlation: Option<CorrelationSetup>,
    /// Per rule: whether a correlation refers to it (only those detections feed correlations).
    feeds_correlation: Vec<bool>,
    stats: CompileStats,
}

impl std::fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleSet")
            .field("rules", &self.rules.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// Rules sharing one routing key, with what each requires of an event.
pub(crate) struct Bucket {
    pub key: BucketKey,
    pub rules: Vec<CompiledRule>,
    needs: Vec<RuleNeeds>,
}

impl Bucket {
    pub(crate) fn new(key: BucketKey, rules: Vec<CompiledRule>) -> Self {
        let needs = rules.iter().map(RuleNeeds::of).collect();
        Bucket { key, rules, needs }
    }
}

/// One distinct set of buckets that a kind of event reaches, and the pre-filter over their
/// rules, built the first time such an event is evaluated (most replays meet few routes).
struct Route {
    /// `(bucket, position in bucket)` of every member rule, in bucket order.
    members: Vec<(u32, u32)>,
    prefilter: OnceLock<Prefilter>,
}

impl Route {
    fn new(bucket_ids: &[usize], buckets: &[Bucket]) -> Self {
        let members = bucket_ids
            .iter()
            .filter_map(|&b| buckets.get(b).map(|bucket| (b, bucket)))
            .flat_map(|(b, bucket)| (0..bucket.rules.len()).map(move |pos| (b as u32, pos as u32)))
            .collect();
        Route {
            members,
            prefilter: OnceLock::new(),
        }
    }

    fn prefilter(&self, buckets: &[Bucket]) -> &Prefilter {
        self.prefilter.get_or_init(|| {
            Prefilter::build(
                self.members
                    .iter()
                    .filter_map(|&(b, pos)| buckets.get(b as usize)?.needs.get(pos as usize)),
            )
        })
    }
}

/// What a [`Correlator`] needs to build its own correlation engine.
pub(crate) struct CorrelationSetup {
    pub correlations: Vec<CorrelationRule>,
    /// The detection rules the correlations refer to (so names resolve), with internal ids.
    pub referenced_rules: Vec<rsigma_parser::SigmaRule>,
    pub referenced: Vec<RuleIndex>,
}

/// The route each (channel, event id) of the routing table reaches, so routing an event costs
/// two hash lookups instead of a walk over the table.
struct RouteCache {
    /// Channel as written in the table → its routes.
    channels: HashMap<&'static str, ChannelRoutes>,
    /// Route for a channel the table does not know.
    unknown_channel: usize,
}

struct ChannelRoutes {
    by_event_id: HashMap<u32, usize>,
    other: usize,
}

/// Distinct bucket sets → route ids, while the cache is built.
#[derive(Default)]
struct RouteTable {
    ids: HashMap<Vec<usize>, usize>,
    sets: Vec<Vec<usize>>,
}

impl RouteTable {
    fn intern(&mut self, buckets: Vec<usize>) -> usize {
        if let Some(&id) = self.ids.get(&buckets) {
            return id;
        }
        let id = self.sets.len();
        self.sets.push(buckets.clone());
        self.ids.insert(buckets, id);
        id
    }
}

impl RouteCache {
    /// Builds the cache and the distinct bucket sets it refers to (by route id).
    fn build(buckets: &[Bucket], table: &mut RouteTable) -> Self {
        let mut accepting = |route: &EventRoute| -> usize {
            let set = buckets
                .iter()
                .enumerate()
                .filter(|(_, b)| route.accepts(&b.key))
                .map(|(i, _)| i)
                .collect();
            table.intern(set)
        };
        let route_of = |channel: &str, event_id: Option<u32>| {
            let mut fields = serde_json::Map::new();
            fields.insert(crate::FIELD_CHANNEL.to_owned(), channel.into());
            if let Some(id) = event_id {
                fields.insert(crate::FIELD_EVENT_ID.to_owned(), id.into());
            }
            route_event(&Event::new(fields)).unwrap_or_default()
        };
        let mut channels: HashMap<&'static str, ChannelRoutes> = HashMap::new();
        for entry in WINDOWS_ROUTES {
            for &channel in entry.channels {
                if channels.contains_key(channel) {
                    continue;
                }
                let mut by_event_id = HashMap::new();
                for e in WINDOWS_ROUTES
                    .iter()
                    .filter(|e| e.channels.contains(&channel))
                {
                    for &id in e.event_ids {
                        by_event_id
                            .entry(id)
                            .or_insert_with(|| accepting(&route_of(channel, Some(id))));
                    }
                }
                let other = accepting(&route_of(channel, None));
                channels.insert(channel, ChannelRoutes { by_event_id, other });
            }
        }
        RouteCache {
            channels,
            unknown_channel: accepting(&EventRoute::default()),
        }
    }

    fn lookup(&self, channel: &str, event_id: Option<u32>) -> usize {
        let routes = self.channels.get(channel).or_else(|| {
            self.channels
                .iter()
                .find(|(c, _)| c.eq_ignore_ascii_case(channel))
                .map(|(_, r)| r)
        });
        match routes {
            None => self.unknown_channel,
            Some(r) => event_id
                .and_then(|id| r.by_event_id.get(&id))
                .copied()
                .unwrap_or(r.other),
        }
    }
}

/// One rule that matched.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleMatch {
    /// The rule, as an index into [`RuleSet::rules`].
    pub rule: RuleIndex,
    /// Detection matches: the selections that matched.
    pub selections: Vec<String>,
    /// Detection matches: the fields and values that matched.
    pub fields: Vec<MatchedField>,
    /// Correlation matches: the group and the aggregated value.
    pub correlation: Option<CorrelationMatch>,
}

/// A field that took part in a match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedField {
    /// The field name (`keyword` for keyword matches).
    pub field: String,
    /// The event's value, as text.
    pub value: String,
}

/// Details of a correlation firing.
#[derive(Debug, Clone, PartialEq)]
pub struct CorrelationMatch {
    /// The `group-by` fields and their values.
    pub group: Vec<(String, String)>,
    /// The aggregated value that met the condition (count, distinct count, …).
    pub value: f64,
}

/// Why a rule did or did not match an event, for debugging.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// Whether the rule matches the event.
    pub matched: bool,
    /// Every leaf test of the rule, with its verdict.
    pub items: Vec<ExplainedItem>,
    /// The full condition trace as pretty JSON.
    pub trace: String,
}

/// One leaf test in an [`Explanation`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExplainedItem {
    /// The selection it belongs to.
    pub selection: String,
    /// The field tested (`None` for keywords).
    pub field: Option<String>,
    /// What it was compared with.
    pub pattern: Option<String>,
    /// The event's value, when present.
    pub actual: Option<String>,
    /// Whether the test passed.
    pub matched: bool,
    /// Why (`matched`, `field_absent`, `value_mismatch`, …).
    pub reason: String,
}

impl RuleSet {
    pub(crate) fn from_parts(
        rules: Vec<SigmaRule>,
        by_key: HashMap<String, RuleIndex>,
        by_name: HashMap<String, RuleIndex>,
        buckets: Vec<Bucket>,
        location: Vec<(usize, usize)>,
        correlation: Option<CorrelationSetup>,
        stats: CompileStats,
    ) -> Self {
        let mut feeds_correlation = vec![false; rules.len()];
        if let Some(c) = &correlation {
            for &i in &c.referenced {
                if let Some(slot) = feeds_correlation.get_mut(i) {
                    *slot = true;
                }
            }
        }
        let mut table = RouteTable::default();
        let route_cache = RouteCache::build(&buckets, &mut table);
        let unrouted = table.intern((0..buckets.len()).collect());
        let routes = table
            .sets
            .iter()
            .map(|set| Route::new(set, &buckets))
            .collect();
        RuleSet {
            routes,
            route_cache,
            unrouted,
            rules,
            by_key,
            by_name,
            buckets,
            location,
            correlation,
            feeds_correlation,
            stats,
        }
    }

    /// Metadata of every compiled rule (detections first, then correlations).
    pub fn rules(&self) -> &[SigmaRule] {
        &self.rules
    }

    /// One rule's metadata.
    pub fn rule(&self, index: RuleIndex) -> Option<&SigmaRule> {
        self.rules.get(index)
    }

    /// Finds a rule by id, then by name, then by title.
    pub fn find(&self, id_or_name: &str) -> Option<RuleIndex> {
        self.by_key
            .get(id_or_name)
            .or_else(|| self.by_name.get(id_or_name))
            .copied()
    }

    /// Counts from the compilation.
    pub fn stats(&self) -> CompileStats {
        self.stats
    }

    /// Number of compiled rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether no rule compiled.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Whether the set holds correlation rules (then use a [`Correlator`] to see them fire).
    pub fn has_correlations(&self) -> bool {
        self.correlation.is_some()
    }

    /// The detection rules that match `event` (stateless; correlations need a [`Correlator`]).
    ///
    /// The event only meets the rules its log source is routed to (see [`crate::route`]), and
    /// within those only the rules whose required literals it contains, where they must sit
    /// (our per-route, per-field Aho-Corasick pre-filter, built at the route's first event).
    pub fn evaluate(&self, event: &Event) -> Vec<RuleMatch> {
        self.evaluate_raw(event)
            .into_iter()
            .filter_map(|r| self.to_match(r))
            .collect()
    }

    /// How many detection rules the literal pre-filter can skip (they have at least one required
    /// literal), out of all detection rules. The others are evaluated on every event routed to them.
    pub fn prefilter_coverage(&self) -> (usize, usize) {
        self.buckets
            .iter()
            .flat_map(|b| &b.needs)
            .fold((0, 0), |(selective, all), n| {
                (selective + usize::from(n.is_selective()), all + 1)
            })
    }

    /// Builds the pre-filter of every route now instead of at the first event of each route
    /// (what a long-running service would do at start), and returns how many routes there are.
    /// Replays need not call it: a route's pre-filter is built when first needed.
    pub fn build_all_prefilters(&self) -> usize {
        for route in &self.routes {
            route.prefilter(&self.buckets);
        }
        self.routes.len()
    }

    /// Like [`RuleSet::evaluate`] but without the literal pre-filter: every rule the event is
    /// routed to is evaluated. The reference that tests hold the pre-filter to; much slower.
    pub fn evaluate_exhaustive(&self, event: &Event) -> Vec<RuleMatch> {
        let view = event.as_rsigma();
        let Some(route) = self.route_of(event) else {
            return Vec::new();
        };
        route
            .members
            .iter()
            .filter_map(|&m| self.member_rule(m))
            .filter_map(|rule| evaluate_rule(rule, &view))
            .filter_map(|r| self.to_match(r))
            .collect()
    }

    fn route_of(&self, event: &Event) -> Option<&Route> {
        let id = match event.channel() {
            None => self.unrouted,
            Some(channel) => self.route_cache.lookup(channel, event.event_id()),
        };
        self.routes.get(id)
    }

    fn member_rule(&self, (bucket, pos): (u32, u32)) -> Option<&CompiledRule> {
        self.buckets.get(bucket as usize)?.rules.get(pos as usize)
    }

    fn evaluate_raw(&self, event: &Event) -> Vec<EvaluationResult> {
        let Some(route) = self.route_of(event) else {
            return Vec::new();
        };
        let candidates = route.prefilter(&self.buckets).candidates(event.fields());
        if candidates.is_empty() {
            return Vec::new();
        }
        let view = event.as_rsigma();
        candidates
            .into_iter()
            .filter_map(|c| route.members.get(c as usize))
            .filter_map(|&m| self.member_rule(m))
            .filter_map(|rule| evaluate_rule(rule, &view))
            .collect()
    }

    fn to_match(&self, r: EvaluationResult) -> Option<RuleMatch> {
        let rule = *self.by_key.get(r.header.rule_id.as_deref()?)?;
        Some(match r.body {
            ResultBody::Detection(d) => RuleMatch {
                rule,
                selections: d.matched_selections,
                fields: d
                    .matched_fields
                    .into_iter()
                    .map(|f| MatchedField {
                        field: f.field,
                        value: match f.value {
                            serde_json::Value::String(s) => s,
                            other => other.to_string(),
                        },
                    })
                    .collect(),
                correlation: None,
            },
            ResultBody::Correlation(c) => RuleMatch {
                rule,
                selections: Vec::new(),
                fields: Vec::new(),
                correlation: Some(CorrelationMatch {
                    group: c.group_key,
                    value: c.aggregated_value,
                }),
            },
        })
    }

    /// Explains why a detection rule does or does not match `event`. `None` for correlation
    /// rules and unknown indexes.
    pub fn explain(&self, rule: RuleIndex, event: &Event) -> Option<Explanation> {
        let &(b, pos) = self.location.get(rule)?;
        let compiled = self.buckets.get(b)?.rules.get(pos)?;
        let trace = explain_rule(compiled, &event.as_rsigma());
        let mut items = Vec::new();
        for c in &trace.conditions {
            collect_condition(c, &mut items);
        }
        Some(Explanation {
            matched: trace.matched,
            items,
            trace: serde_json::to_string_pretty(&trace).unwrap_or_default(),
        })
    }

    /// Starts a stream: detections plus correlation state over events given in time order.
    pub fn correlator(&self) -> Correlator<'_> {
        let engine = self.correlation.as_ref().map(|setup| {
            let mut engine = CorrelationEngine::new(CorrelationConfig::default());
            for rule in &setup.referenced_rules {
                // These compiled once already; a failure here cannot happen and would only
                // mean a correlation never fires, which the caller sees in the results.
                let _ = engine.add_rule(rule);
            }
            for corr in &setup.correlations {
                let _ = engine.add_correlation(corr);
            }
            engine
        });
        Correlator {
            set: self,
            engine,
            untimed: 0,
        }
    }
}

fn collect_condition(c: &rsigma_eval::ConditionTrace, out: &mut Vec<ExplainedItem>) {
    use rsigma_eval::ConditionTrace as C;
    match c {
        C::Selection {
            name, detection, ..
        } => collect_detection(name, detection, out),
        C::And { children, .. } | C::Or { children, .. } => {
            children.iter().for_each(|c| collect_condition(c, out))
        }
        C::Not { child, .. } => collect_condition(child, out),
        C::Quantified { branches, .. } => branches
            .iter()
            .for_each(|b| collect_detection(&b.name, &b.detection, out)),
    }
}

fn collect_detection(
    selection: &str,
    d: &rsigma_eval::DetectionTrace,
    out: &mut Vec<ExplainedItem>,
) {
    use rsigma_eval::DetectionTrace as D;
    match d {
        D::AllOf { items, .. } => items.iter().for_each(|i| out.push(item(selection, i))),
        D::Keywords { item: i, .. } => out.push(item(selection, i)),
        D::AnyOf { branches, .. } | D::And { branches, .. } => branches
            .iter()
            .for_each(|b| collect_detection(selection, b, out)),
        D::ArrayMatch { members, .. } => members
            .iter()
            .for_each(|m| collect_detection(selection, &m.detection, out)),
        D::Conditional { condition, .. } => collect_condition(condition, out),
        D::Other { .. } => {}
    }
}

fn item(selection: &str, i: &rsigma_eval::ItemTrace) -> ExplainedItem {
    ExplainedItem {
        selection: selection.to_owned(),
        field: i.field.clone(),
        pattern: i.pattern.clone(),
        actual: i.actual.as_ref().map(|v| match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        }),
        matched: i.matched,
        reason: serde_json::to_value(i.reason)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
    }
}

/// Evaluates a stream of events: detections of each event, plus correlation rules firing over
/// the stream. Give events in time order; correlation windows use each event's timestamp.
pub struct Correlator<'a> {
    set: &'a RuleSet,
    engine: Option<CorrelationEngine>,
    untimed: u64,
}

impl std::fmt::Debug for Correlator<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Correlator")
            .field("correlations", &self.engine.is_some())
            .field("untimed", &self.untimed)
            .finish_non_exhaustive()
    }
}

impl Correlator<'_> {
    /// Detections of `event`, followed by any correlation rule that fires with it.
    ///
    /// An event without a timestamp still yields its detections but does not enter correlation
    /// windows (counted by [`Correlator::untimed_events`]).
    pub fn process(&mut self, event: &Event) -> Vec<RuleMatch> {
        let raw = self.set.evaluate_raw(event);
        let Some(engine) = self.engine.as_mut() else {
            return raw
                .into_iter()
                .filter_map(|r| self.set.to_match(r))
                .collect();
        };
        let feeding: Vec<EvaluationResult> = raw
            .iter()
            .filter(|r| {
                r.header
                    .rule_id
                    .as_deref()
                    .and_then(|id| self.set.by_key.get(id))
                    .is_some_and(|&i| self.set.feeds_correlation.get(i).copied().unwrap_or(false))
            })
            .cloned()
            .collect();
        let mut out: Vec<RuleMatch> = raw
            .into_iter()
            .filter_map(|r| self.set.to_match(r))
            .collect();
        if feeding.is_empty() {
            return out;
        }
        let Some(ts) = event.timestamp() else {
            self.untimed += 1;
            return out;
        };
        let results = engine.process_with_detections(&event.as_rsigma(), feeding, ts.as_second());
        out.extend(
            results
                .into_iter()
                .filter(EvaluationResult::is_correlation)
                .filter_map(|r| self.set.to_match(r)),
        );
        out
    }

    /// Events that fed a correlation but had no timestamp, so were left out of its windows.
    pub fn untimed_events(&self) -> u64 {
        self.untimed
    }
}
