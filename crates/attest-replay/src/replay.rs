//! Running datasets through a rule set and tallying, per dataset, which rules fired.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, sync_channel};

use attest_sigma::{RuleIndex, RuleSet};

use crate::dataset::Dataset;
use crate::error::{Error, ReplayWarning};
use crate::read::{FileSummary, ReadEvent, read_events};

/// Settings of one replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayOptions {
    /// Matched events kept per rule and dataset (the count is always exact).
    pub max_event_refs: usize,
    /// Datasets replayed at once; 0 means one per available core.
    pub threads: usize,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions {
            max_event_refs: 100,
            threads: 0,
        }
    }
}

/// Where a matched event was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventRef {
    /// Index into the dataset's [`Dataset::files`].
    pub file: usize,
    /// The event's record id (`EventRecordID`), when it has one.
    pub record_id: Option<u64>,
    /// 1-based position of the event in its file.
    pub ordinal: u64,
}

/// How often one rule fired on a dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleFired {
    /// The rule, as an index into [`RuleSet::rules`].
    pub rule: RuleIndex,
    /// The rule's id (or title when it has none).
    pub rule_key: String,
    /// Matching events (or correlation firings).
    pub match_count: u64,
    /// The first matching events, up to [`ReplayOptions::max_event_refs`].
    pub events: Vec<EventRef>,
}

/// The verdict for one expected rule.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedOutcome {
    /// The expected rule as the dataset names it.
    pub rule_ref: String,
    /// The rule in the set, when found (`None`: the rule is not in the rule set).
    pub rule: Option<RuleIndex>,
    /// Fewest matches for a pass.
    pub min_matches: u64,
    /// Matches seen.
    pub match_count: u64,
    /// The first matching events.
    pub events: Vec<EventRef>,
    /// Whether the rule fired at least `min_matches` times.
    pub passed: bool,
}

impl ExpectedOutcome {
    /// Whether the rule fired at all.
    pub fn fired(&self) -> bool {
        self.match_count > 0
    }
}

/// Everything one dataset's replay produced.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetResult {
    /// The dataset's name.
    pub name: String,
    /// Where the dataset was found.
    pub source: PathBuf,
    /// The files replayed (what [`EventRef::file`] indexes).
    pub files: Vec<PathBuf>,
    /// Events read.
    pub events: u64,
    /// One entry per expected rule, in the dataset's order.
    pub expected: Vec<ExpectedOutcome>,
    /// Every other rule that fired, most matches first.
    pub other_fired: Vec<RuleFired>,
    /// Techniques the dataset says it exercises.
    pub expected_techniques: Vec<String>,
    /// Skipped chunks, records or lines.
    pub warnings: Vec<ReplayWarning>,
    /// Files that could not be read at all.
    pub errors: Vec<String>,
}

impl DatasetResult {
    /// Whether every expected rule passed and every file was read.
    pub fn passed(&self) -> bool {
        self.errors.is_empty() && self.expected.iter().all(|e| e.passed)
    }
}

/// Receives results as datasets finish (in dataset order).
pub trait ReplaySink {
    /// One dataset is done.
    fn dataset(&mut self, result: DatasetResult);
}

impl<F: FnMut(DatasetResult)> ReplaySink for F {
    fn dataset(&mut self, result: DatasetResult) {
        self(result)
    }
}

impl ReplaySink for Vec<DatasetResult> {
    fn dataset(&mut self, result: DatasetResult) {
        self.push(result)
    }
}

/// Totals over a whole replay.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplaySummary {
    /// Datasets replayed.
    pub datasets: usize,
    /// Events read.
    pub events: u64,
    /// Expected rules that passed.
    pub expected_passed: usize,
    /// Expected rules in all.
    pub expected_total: usize,
}

/// Replays every dataset against `rules`, pushing each result into `sink` in dataset order.
/// Datasets run in parallel ([`ReplayOptions::threads`]); each one's events run in order
/// through its own [`attest_sigma::Correlator`], so correlation rules see the stream.
pub fn replay(
    datasets: &[Dataset],
    rules: &RuleSet,
    options: &ReplayOptions,
    sink: &mut dyn ReplaySink,
) -> ReplaySummary {
    let threads = if options.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        options.threads
    };
    let mut summary = ReplaySummary::default();
    let mut deliver = |r: DatasetResult, summary: &mut ReplaySummary| {
        summary.datasets += 1;
        summary.events += r.events;
        summary.expected_total += r.expected.len();
        summary.expected_passed += r.expected.iter().filter(|e| e.passed).count();
        sink.dataset(r);
    };
    if threads <= 1 || datasets.len() <= 1 {
        for d in datasets {
            deliver(replay_dataset(d, rules, options), &mut summary);
        }
        return summary;
    }
    // Work in batches of `threads` datasets so results are delivered in order while memory stays
    // bounded by the batch.
    for batch in datasets.chunks(threads) {
        let results: Vec<DatasetResult> = std::thread::scope(|scope| {
            let handles: Vec<_> = batch
                .iter()
                .map(|d| scope.spawn(move || replay_dataset(d, rules, options)))
                .collect();
            handles
                .into_iter()
                .zip(batch)
                .map(|(h, d)| {
                    h.join().unwrap_or_else(|_| DatasetResult {
                        errors: vec!["replay of this dataset panicked".to_owned()],
                        ..empty_result(d)
                    })
                })
                .collect()
        });
        for r in results {
            deliver(r, &mut summary);
        }
    }
    summary
}

fn empty_result(d: &Dataset) -> DatasetResult {
    DatasetResult {
        name: d.name.clone(),
        source: d.source.clone(),
        files: d.files.clone(),
        events: 0,
        expected: Vec::new(),
        other_fired: Vec::new(),
        expected_techniques: d.expected_techniques.clone(),
        warnings: Vec::new(),
        errors: Vec::new(),
    }
}

#[derive(Default)]
struct Tally {
    count: u64,
    events: Vec<EventRef>,
}

/// Replays one dataset.
///
/// All files of the dataset form one stream: when there are several, their events are merged
/// in time order (each file is taken to be in time order already, as recorded logs are), so a
/// correlation rule sees events of every file in one timeline. Events without a timestamp are
/// passed on as soon as they reach the head of their file.
pub fn replay_dataset(
    dataset: &Dataset,
    rules: &RuleSet,
    options: &ReplayOptions,
) -> DatasetResult {
    let mut result = empty_result(dataset);
    let mut tallies: HashMap<RuleIndex, Tally> = HashMap::new();
    let mut correlator = rules.correlator();
    let mut on_event = |file_index: usize, e: ReadEvent| {
        for m in correlator.process(&e.normalized.event) {
            let t = tallies.entry(m.rule).or_default();
            t.count += 1;
            if t.events.len() < options.max_event_refs {
                t.events.push(EventRef {
                    file: file_index,
                    record_id: e.normalized.record_id,
                    ordinal: e.ordinal,
                });
            }
        }
    };
    let outcomes: Vec<Result<FileSummary, Error>> = if dataset.files.len() <= 1 {
        dataset
            .files
            .iter()
            .enumerate()
            .map(|(i, path)| read_events(path, &mut |e| on_event(i, e)))
            .collect()
    } else {
        merge_in_time_order(&dataset.files, &mut on_event)
    };
    for outcome in outcomes {
        match outcome {
            Ok(summary) => {
                result.events += summary.events;
                result.warnings.extend(summary.warnings);
            }
            Err(e) => result.errors.push(e.to_string()),
        }
    }
    let mut expected_rules = Vec::new();
    for exp in &dataset.expected_rules {
        let rule = rules.find(&exp.rule);
        let tally = rule.and_then(|r| tallies.get(&r));
        let match_count = tally.map_or(0, |t| t.count);
        if let Some(r) = rule {
            expected_rules.push(r);
        }
        result.expected.push(ExpectedOutcome {
            rule_ref: exp.rule.clone(),
            rule,
            min_matches: exp.min_matches,
            match_count,
            events: tally.map(|t| t.events.clone()).unwrap_or_default(),
            passed: rule.is_some() && match_count >= exp.min_matches,
        });
    }
    let mut others: Vec<RuleFired> = tallies
        .into_iter()
        .filter(|(rule, _)| !expected_rules.contains(rule))
        .map(|(rule, t)| RuleFired {
            rule,
            rule_key: rules
                .rule(rule)
                .map(|r| r.key().to_owned())
                .unwrap_or_default(),
            match_count: t.count,
            events: t.events,
        })
        .collect();
    others.sort_by(|a, b| {
        b.match_count
            .cmp(&a.match_count)
            .then(a.rule_key.cmp(&b.rule_key))
    });
    result.other_fired = others;
    result
}

/// Events each file's reader may run ahead of the merge: memory stays bounded by
/// `files × MERGE_LOOKAHEAD` events whatever the files' sizes.
const MERGE_LOOKAHEAD: usize = 64;

enum FromReader {
    Event(ReadEvent),
    Done(Result<FileSummary, Error>),
}

/// Reads every file on its own thread and hands their events to `on_event` merged by
/// timestamp (ties: file order, then position in the file). Returns each file's outcome, in
/// file order.
fn merge_in_time_order(
    files: &[PathBuf],
    on_event: &mut dyn FnMut(usize, ReadEvent),
) -> Vec<Result<FileSummary, Error>> {
    std::thread::scope(|scope| {
        let receivers: Vec<Receiver<FromReader>> = files
            .iter()
            .map(|path| {
                let (tx, rx) = sync_channel(MERGE_LOOKAHEAD);
                scope.spawn(move || {
                    let done = read_events(path, &mut |e| {
                        // The merge only stops listening once it has what it needs.
                        let _ = tx.send(FromReader::Event(e));
                    });
                    let _ = tx.send(FromReader::Done(done));
                });
                rx
            })
            .collect();
        let mut outcomes: Vec<Option<Result<FileSummary, Error>>> =
            files.iter().map(|_| None).collect();
        // The head event of each file still open, ordered by (time, file, position).
        let mut heads: BinaryHeap<Reverse<Head>> = BinaryHeap::new();
        let mut pull = |file: usize, heads: &mut BinaryHeap<Reverse<Head>>| {
            let Some(rx) = receivers.get(file) else {
                return;
            };
            match rx.recv() {
                Ok(FromReader::Event(event)) => heads.push(Reverse(Head::new(file, event))),
                Ok(FromReader::Done(done)) => outcomes[file] = Some(done),
                // The reader thread died without a word (a panic): name the file.
                Err(_) => {
                    outcomes[file] = Some(Err(Error::Io {
                        path: files[file].clone(),
                        source: std::io::Error::other("the reader of this file stopped"),
                    }))
                }
            }
        };
        for file in 0..files.len() {
            pull(file, &mut heads);
        }
        while let Some(Reverse(head)) = heads.pop() {
            let file = head.file;
            on_event(file, head.event);
            pull(file, &mut heads);
        }
        outcomes
            .into_iter()
            .zip(files)
            .map(|(o, path)| {
                o.unwrap_or_else(|| {
                    Err(Error::Io {
                        path: path.clone(),
                        source: std::io::Error::other("the reader of this file stopped"),
                    })
                })
            })
            .collect()
    })
}

/// One file's next event in the merge.
struct Head {
    /// Untimed events sort first, so they pass at once.
    at: Option<jiff::Timestamp>,
    file: usize,
    ordinal: u64,
    event: ReadEvent,
}

impl Head {
    fn new(file: usize, event: ReadEvent) -> Self {
        Head {
            at: event.normalized.event.timestamp(),
            file,
            ordinal: event.ordinal,
            event,
        }
    }

    fn key(&self) -> (Option<jiff::Timestamp>, usize, u64) {
        (self.at, self.file, self.ordinal)
    }
}

impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Head {}

impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Head {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}
