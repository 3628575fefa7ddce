//! What webhooks announce: notices found by comparing coverage before and after journal
//! entries (or before and after time passed), rendered as a generic JSON body or a
//! Slack-compatible one, and signed.
//!
//! Everything here is a pure function of states, coverages and instants, so the detector, the
//! scheduled jobs and the tests share it. Each notice has a stable `key`: queueing the same
//! notice twice for a subscription queues it once, which is what makes "source X went silent
//! at T" announced once however many times the silence check runs, and on however many servers.

use std::collections::BTreeMap;

use attest_core::backlog::{BacklogOptions, Ownership, backlog};
use attest_core::coverage::{Catalog, Coverage, CoverageState, Scope, compute};
use attest_core::diff::{Cause, Change, Direction, EntryCause, diff};
use attest_core::journal::{Event, JournalEntry};
use attest_core::priority::{PriorityOptions, target_set};
use attest_core::result::Outcome;
use attest_core::state::State;
use attest_store::hooks::{NewDelivery, Webhook};
use hmac::{KeyInit, Mac};
use jiff::Timestamp;
use serde_json::{Value, json};

/// The kinds of event a webhook can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NoticeKind {
    /// A technique's coverage state got worse.
    Regression,
    /// A validation result with outcome fail was recorded.
    ResultFailed,
    /// A data source went silent past its bound (or was never seen).
    SourceSilent,
    /// Backlog items appeared in a profile.
    BacklogOpened,
    /// Backlog items left a profile's backlog (their gap closed).
    BacklogClosed,
    /// The weekly summary of coverage changes of a profile.
    WeeklyDigest,
    /// A scheduled job failed (it will be retried).
    JobFailed,
}

impl NoticeKind {
    /// Every kind.
    pub const ALL: [NoticeKind; 7] = [
        NoticeKind::Regression,
        NoticeKind::ResultFailed,
        NoticeKind::SourceSilent,
        NoticeKind::BacklogOpened,
        NoticeKind::BacklogClosed,
        NoticeKind::WeeklyDigest,
        NoticeKind::JobFailed,
    ];

    /// The word used in subscriptions, payloads and the `X-Attest-Event` header.
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Regression => "regression",
            NoticeKind::ResultFailed => "result_failed",
            NoticeKind::SourceSilent => "source_silent",
            NoticeKind::BacklogOpened => "backlog_opened",
            NoticeKind::BacklogClosed => "backlog_closed",
            NoticeKind::WeeklyDigest => "weekly_digest",
            NoticeKind::JobFailed => "job_failed",
        }
    }

    /// Parses the word (`-` and `_` alike).
    pub fn parse(s: &str) -> Option<NoticeKind> {
        let s = s.trim().to_ascii_lowercase().replace('-', "_");
        NoticeKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// How a subscription wants its bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `{"id", "kind", "at", "summary", "data"}`.
    Generic,
    /// Slack incoming-webhook form: `{"text", "blocks"}`.
    Slack,
}

impl Shape {
    /// The stored word.
    pub fn as_str(self) -> &'static str {
        match self {
            Shape::Generic => "generic",
            Shape::Slack => "slack",
        }
    }

    /// Parses the stored word.
    pub fn parse(s: &str) -> Option<Shape> {
        match s.trim().to_ascii_lowercase().as_str() {
            "generic" | "json" => Some(Shape::Generic),
            "slack" => Some(Shape::Slack),
            _ => None,
        }
    }
}

/// One thing to announce.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    /// Stable identity of the event (see the module documentation).
    pub key: String,
    /// Its kind.
    pub kind: NoticeKind,
    /// When it happened (journal time, or the check's time).
    pub at: Timestamp,
    /// One line for people.
    pub summary: String,
    /// Details, one per line, for chat shapes.
    pub lines: Vec<String>,
    /// Details for machines.
    pub data: Value,
}

/// Most detail lines a chat message lists; the generic body always has all of them in `data`.
const MAX_LINES: usize = 20;

/// Slack's mrkdwn treats `&`, `<` and `>` as markup: untrusted text (rule titles, source
/// names) must be escaped so it cannot ping channels or forge links.
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The body sent for `notice` in `shape`.
pub fn render(notice: &Notice, shape: Shape) -> String {
    let doc = match shape {
        Shape::Generic => json!({
            "id": notice.key,
            "kind": notice.kind.as_str(),
            "at": notice.at.to_string(),
            "summary": notice.summary,
            "data": notice.data,
        }),
        Shape::Slack => {
            let mut text = format!("*{}*", slack_escape(&notice.summary));
            for line in notice.lines.iter().take(MAX_LINES) {
                text.push_str("\n• ");
                text.push_str(&slack_escape(line));
            }
            if notice.lines.len() > MAX_LINES {
                text.push_str(&format!("\n… and {} more", notice.lines.len() - MAX_LINES));
            }
            json!({
                "text": slack_escape(&notice.summary),
                "blocks": [
                    {"type": "section", "text": {"type": "mrkdwn", "text": text}},
                    {"type": "context", "elements": [{
                        "type": "mrkdwn",
                        "text": format!("attest · {} · {}", notice.kind.as_str(), notice.at),
                    }]},
                ],
            })
        }
    };
    doc.to_string()
}

/// The `X-Attest-Signature` value: `sha256=` and the hex HMAC-SHA256 of the body.
pub fn sign(secret: &str, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match hmac::Hmac::<sha2_hmac::Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Deliveries of `notices` to every subscription that wants their kind.
pub fn fan_out(hooks: &[Webhook], notices: &[Notice]) -> Vec<NewDelivery> {
    let mut out = Vec::new();
    for hook in hooks {
        let shape = Shape::parse(&hook.shape).unwrap_or(Shape::Generic);
        for n in notices {
            // A subscription hears of what happens after it is made: the detector may reach
            // an older entry only now (it runs behind the journal), and that is not news to it.
            if n.at >= hook.created && hook.events.iter().any(|e| e == n.kind.as_str()) {
                out.push(NewDelivery {
                    webhook: hook.name.clone(),
                    event_key: n.key.clone(),
                    kind: n.kind.as_str().to_string(),
                    body: render(n, shape),
                });
            }
        }
    }
    out
}

fn cause_text(c: &Cause) -> String {
    match c {
        Cause::Entry { seq, who, what, .. } => {
            let what = match what {
                EntryCause::RuleImported { rule, .. } => format!("rule {rule} re-imported"),
                EntryCause::RuleStatusChanged { rule, status } => {
                    format!("rule {rule} set {}", status.as_str())
                }
                EntryCause::RuleRetired { rule } => format!("rule {rule} retired"),
                EntryCause::RuleTuned { rule, what, .. } => format!("rule {rule} tuned: {what}"),
                EntryCause::ResultRecorded { rule, outcome, .. } => {
                    format!("rule {rule} result {}", outcome.as_str())
                }
                EntryCause::SourceDeclared { source } => format!("source {source} redeclared"),
                EntryCause::SourceRemoved { source } => format!("source {source} removed"),
                EntryCause::PolicyChanged => "re-validation policy changed".to_string(),
                EntryCause::RemapTableChanged => "technique remap table changed".to_string(),
            };
            format!("{what} (#{seq} by {who})")
        }
        Cause::SourceSilent { source, .. } => format!("source {source} silent"),
        Cause::PassExpired { rule, .. } => format!("pass of rule {rule} went stale"),
    }
}

fn state_word(s: Option<CoverageState>) -> &'static str {
    s.map_or("out of scope", CoverageState::as_str)
}

fn change_json(c: &Change, name: &str) -> Value {
    json!({
        "technique": c.technique.to_string(),
        "name": name,
        "from": c.from.map(CoverageState::as_str),
        "to": c.to.map(CoverageState::as_str),
        "causes": c.causes.iter().map(cause_text).collect::<Vec<_>>(),
    })
}

/// The regression notice for the worse changes between two coverages, if any.
pub fn regression(
    key: String,
    at: Timestamp,
    before: &Coverage,
    after: &Coverage,
    entries: &[JournalEntry],
) -> Option<Notice> {
    let worse: Vec<Change> = diff(before, after, entries)
        .into_iter()
        .filter(|c| c.direction == Direction::Worse)
        .collect();
    if worse.is_empty() {
        return None;
    }
    let name = |c: &Change| {
        after
            .technique(c.technique)
            .or_else(|| before.technique(c.technique))
            .map(|t| t.name.clone())
            .unwrap_or_default()
    };
    let lines = worse
        .iter()
        .map(|c| {
            let causes: Vec<String> = c.causes.iter().map(cause_text).collect();
            format!(
                "{} {}: {} → {}{}",
                c.technique,
                name(c),
                state_word(c.from),
                state_word(c.to),
                if causes.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", causes.join("; "))
                }
            )
        })
        .collect();
    Some(Notice {
        key,
        kind: NoticeKind::Regression,
        at,
        summary: format!("Coverage regressed on {} technique(s)", worse.len()),
        lines,
        data: json!({
            "from_seq": before.seq,
            "to_seq": after.seq,
            "changes": worse.iter().map(|c| change_json(c, &name(c))).collect::<Vec<_>>(),
        }),
    })
}

/// One notice per failed result recorded in `entries`.
pub fn failed_results(entries: &[JournalEntry], state: &State) -> Vec<Notice> {
    entries
        .iter()
        .filter_map(|e| match &e.event {
            Event::ResultRecorded(r) if r.outcome == Outcome::Fail => {
                let title = state
                    .rules
                    .get(&r.rule)
                    .map(|x| x.rule.title.clone())
                    .unwrap_or_default();
                Some(Notice {
                    key: format!("result_failed:{}", e.seq),
                    kind: NoticeKind::ResultFailed,
                    at: e.at,
                    summary: format!("Rule {} failed its test for {}", r.rule, r.technique),
                    lines: vec![
                        format!("rule: {} {title}", r.rule),
                        format!("test: {}", r.test.as_deref().unwrap_or("-")),
                        format!("by: {} at {}", r.by, r.at),
                    ],
                    data: json!({
                        "seq": e.seq,
                        "rule": r.rule.0,
                        "title": title,
                        "technique": r.technique,
                        "test": r.test,
                        "ran_at": r.at.to_string(),
                        "by": r.by,
                        "evidence": r.evidence.text,
                    }),
                })
            }
            _ => None,
        })
        .collect()
}

/// The backlog item ids of every profile of `state` at `at`, with their technique and name.
pub fn backlogs(
    catalog: &Catalog,
    state: &State,
    at: Timestamp,
) -> BTreeMap<String, BTreeMap<String, (String, String)>> {
    let mut out = BTreeMap::new();
    for (name, profile) in &state.profiles {
        let target = target_set(catalog, &state.actors, profile, &PriorityOptions::default());
        let coverage = compute(catalog, state, &Scope::profile(target.clone()), at);
        let items = backlog(
            catalog,
            state,
            &target,
            &coverage,
            &Ownership::default(),
            &BacklogOptions::default(),
            at,
        );
        out.insert(
            name.clone(),
            items
                .into_iter()
                .map(|i| (i.id, (i.technique.to_string(), i.name)))
                .collect(),
        );
    }
    out
}

/// Backlog opened/closed notices between two backlogs (per profile), keyed by `suffix`.
pub fn backlog_changes(
    before: &BTreeMap<String, BTreeMap<String, (String, String)>>,
    after: &BTreeMap<String, BTreeMap<String, (String, String)>>,
    suffix: &str,
    at: Timestamp,
) -> Vec<Notice> {
    let mut out = Vec::new();
    for (profile, items) in after {
        // A profile created in between opens its whole backlog only if it existed before;
        // otherwise every item would be "opened" by the mere creation of the profile.
        let Some(old) = before.get(profile) else {
            continue;
        };
        for (kind, from, to) in [
            (NoticeKind::BacklogOpened, old, items),
            (NoticeKind::BacklogClosed, items, old),
        ] {
            let changed: Vec<(&String, &(String, String))> = to
                .iter()
                .filter(|(id, _)| !from.contains_key(*id))
                .collect();
            if changed.is_empty() {
                continue;
            }
            let verb = if kind == NoticeKind::BacklogOpened {
                "opened"
            } else {
                "closed"
            };
            out.push(Notice {
                key: format!("{}:{profile}:{suffix}", kind.as_str()),
                kind,
                at,
                summary: format!(
                    "{} backlog item(s) {verb} in profile {profile}",
                    changed.len()
                ),
                lines: changed
                    .iter()
                    .map(|(id, (t, n))| format!("{id} {t} {n}"))
                    .collect(),
                data: json!({
                    "profile": profile,
                    "items": changed.iter().map(|(id, (t, n))| json!({
                        "id": id, "technique": t, "name": n,
                    })).collect::<Vec<_>>(),
                }),
            });
        }
    }
    out
}

/// Everything a stretch of the journal announces: regressions (same instant, so only the
/// entries' effect counts), failed results, and backlog items opened or closed.
pub fn from_entries(
    catalog: &Catalog,
    before: &State,
    after: &State,
    entries: &[JournalEntry],
    now: Timestamp,
) -> Vec<Notice> {
    let range = format!("{}-{}", before.last_seq, after.last_seq);
    let at = entries.last().map_or(now, |e| e.at);
    let cov_before = compute(catalog, before, &Scope::all(), now);
    let cov_after = compute(catalog, after, &Scope::all(), now);
    let mut out = Vec::new();
    out.extend(regression(
        format!("regression:{range}"),
        at,
        &cov_before,
        &cov_after,
        entries,
    ));
    out.extend(failed_results(entries, after));
    if !after.profiles.is_empty() {
        out.extend(backlog_changes(
            &backlogs(catalog, before, now),
            &backlogs(catalog, after, now),
            &range,
            at,
        ));
    }
    out
}

/// What the passage of time alone did to `state` between `from` and `to`: passes went stale,
/// sources went silent.
pub fn from_time(catalog: &Catalog, state: &State, from: Timestamp, to: Timestamp) -> Vec<Notice> {
    let suffix = format!("time:{}-{}", from.as_millisecond(), to.as_millisecond());
    let before = compute(catalog, state, &Scope::all(), from);
    let after = compute(catalog, state, &Scope::all(), to);
    let mut out = Vec::new();
    out.extend(regression(
        format!("regression:{suffix}"),
        to,
        &before,
        &after,
        &[],
    ));
    if !state.profiles.is_empty() {
        out.extend(backlog_changes(
            &backlogs(catalog, state, from),
            &backlogs(catalog, state, to),
            &suffix,
            to,
        ));
    }
    out
}

/// One notice per source silent (or never seen) at `now`, keyed by the silence episode so each
/// is announced once.
pub fn silent_sources(state: &State, now: Timestamp) -> Vec<Notice> {
    use attest_core::source::Health;
    state
        .sources
        .values()
        .filter_map(|rec| {
            let s = &rec.source;
            let (episode, since) = match s.health(now) {
                Health::Healthy => return None,
                Health::NeverSeen => ("never".to_string(), None),
                Health::Silent { since } => (since.as_millisecond().to_string(), Some(since)),
            };
            let summary = match since {
                Some(t) => format!("Data source {} silent since {t}", s.name),
                None => format!("Data source {} has never been seen", s.name),
            };
            Some(Notice {
                key: format!("source_silent:{}:{episode}", s.name),
                kind: NoticeKind::SourceSilent,
                at: now,
                summary,
                lines: vec![
                    format!(
                        "last seen: {}",
                        s.last_seen.map_or("never".to_string(), |t| t.to_string())
                    ),
                    format!("owner: {}", s.owner.as_deref().unwrap_or("-")),
                ],
                data: json!({
                    "source": s.name,
                    "last_seen": s.last_seen.map(|t| t.to_string()),
                    "silent_since": since.map(|t| t.to_string()),
                    "max_silence": s.max_silence.map(|d| d.to_string()),
                    "owner": s.owner,
                }),
            })
        })
        .collect()
}

fn tally(c: &Coverage) -> BTreeMap<&'static str, usize> {
    let mut t = BTreeMap::new();
    for s in [
        CoverageState::Validated,
        CoverageState::Unvalidated,
        CoverageState::Failing,
        CoverageState::Degraded,
        CoverageState::Gap,
    ] {
        t.insert(s.as_str(), 0);
    }
    for tc in &c.techniques {
        *t.entry(tc.state.as_str()).or_insert(0) += 1;
    }
    t
}

/// The weekly digest of every profile (or of all techniques when there is none): states now
/// and a week ago, and what got better or worse, with causes from `entries`.
pub fn digests(
    catalog: &Catalog,
    then_state: &State,
    now_state: &State,
    entries: &[JournalEntry],
    then: Timestamp,
    now: Timestamp,
) -> Vec<Notice> {
    let mut scopes: Vec<(String, Scope, Scope)> = Vec::new();
    for (name, profile) in &now_state.profiles {
        let target = target_set(
            catalog,
            &now_state.actors,
            profile,
            &PriorityOptions::default(),
        );
        scopes.push((
            name.clone(),
            Scope::profile(target.clone()),
            Scope::profile(target),
        ));
    }
    if scopes.is_empty() {
        scopes.push(("all techniques".to_string(), Scope::all(), Scope::all()));
    }
    let week = now.strftime("%G-W%V").to_string();
    scopes
        .into_iter()
        .map(|(name, s_then, s_now)| {
            let before = compute(catalog, then_state, &s_then, then);
            let after = compute(catalog, now_state, &s_now, now);
            let changes = diff(&before, &after, entries);
            let better = changes
                .iter()
                .filter(|c| c.direction == Direction::Better)
                .count();
            let worse: Vec<&Change> = changes
                .iter()
                .filter(|c| c.direction == Direction::Worse)
                .collect();
            let (t0, t1) = (tally(&before), tally(&after));
            let mut lines: Vec<String> = t1
                .iter()
                .map(|(k, v)| format!("{k}: {v} (was {})", t0.get(k).copied().unwrap_or(0)))
                .collect();
            lines.extend(worse.iter().map(|c| {
                format!(
                    "regressed: {} {} → {}",
                    c.technique,
                    state_word(c.from),
                    state_word(c.to)
                )
            }));
            Notice {
                key: format!("weekly_digest:{name}:{week}"),
                kind: NoticeKind::WeeklyDigest,
                at: now,
                summary: format!(
                    "Weekly coverage digest for {name}: {} validated of {}, {better} better, {} worse",
                    t1.get("validated").copied().unwrap_or(0),
                    after.techniques.len(),
                    worse.len()
                ),
                lines,
                data: json!({
                    "profile": name,
                    "from": then.to_string(),
                    "to": now.to_string(),
                    "states": t1,
                    "states_before": t0,
                    "better": better,
                    "worse": worse.iter().map(|c| change_json(c, "")).collect::<Vec<_>>(),
                }),
            }
        })
        .collect()
}

/// The notice of a failed job run.
pub fn job_failed(
    job: &str,
    attempt: u32,
    error: &str,
    retry_at: Timestamp,
    at: Timestamp,
) -> Notice {
    Notice {
        key: format!("job_failed:{job}:{}", at.as_millisecond()),
        kind: NoticeKind::JobFailed,
        at,
        summary: format!("Scheduled job {job} failed (attempt {attempt}); retrying at {retry_at}"),
        lines: vec![error.to_string()],
        data: json!({
            "job": job,
            "attempt": attempt,
            "error": error,
            "retry_at": retry_at.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice() -> Notice {
        Notice {
            key: "result_failed:7".into(),
            kind: NoticeKind::ResultFailed,
            at: "2026-03-01T00:00:00Z".parse().expect("time"),
            summary: "Rule <!channel> & co failed".into(),
            lines: vec!["rule: r1 <http://evil|click>".into()],
            data: json!({"seq": 7}),
        }
    }

    #[test]
    fn generic_body_carries_kind_key_and_data() {
        let v: Value = serde_json::from_str(&render(&notice(), Shape::Generic)).expect("json");
        assert_eq!(v["kind"], "result_failed");
        assert_eq!(v["id"], "result_failed:7");
        assert_eq!(v["data"]["seq"], 7);
        assert_eq!(v["at"], "2026-03-01T00:00:00Z");
    }

    #[test]
    fn slack_body_has_text_and_blocks_with_markup_escaped() {
        let v: Value = serde_json::from_str(&render(&notice(), Shape::Slack)).expect("json");
        assert_eq!(v["text"], "Rule &lt;!channel&gt; &amp; co failed");
        let section = v["blocks"][0]["text"]["text"].as_str().expect("mrkdwn");
        assert!(section.starts_with("*Rule &lt;!channel&gt;"), "{section}");
        assert!(section.contains("&lt;http://evil|click&gt;"), "{section}");
        assert!(!section.contains('<'));
        assert_eq!(v["blocks"][1]["type"], "context");
    }

    #[test]
    fn signature_is_the_rfc_4231_hmac_sha256() {
        // RFC 4231 test case 2.
        assert_eq!(
            sign("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn kinds_parse_and_fan_out_follows_subscriptions() {
        assert_eq!(
            NoticeKind::parse("source-silent"),
            Some(NoticeKind::SourceSilent)
        );
        assert_eq!(NoticeKind::parse("nope"), None);
        let hook = |name: &str, events: &[&str], shape: &str| Webhook {
            name: name.into(),
            url: "http://127.0.0.1:1/".into(),
            events: events.iter().map(|e| e.to_string()).collect(),
            shape: shape.into(),
            secret: None,
            created: "2026-01-01T00:00:00Z".parse().expect("time"),
        };
        let hooks = [
            hook("a", &["result_failed"], "slack"),
            hook("b", &["regression"], "generic"),
        ];
        let out = fan_out(&hooks, &[notice()]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].webhook, "a");
        assert!(out[0].body.contains("\"blocks\""));
        // Subscribed after the event happened: not told of it.
        let late = Webhook {
            created: "2026-03-02T00:00:00Z".parse().expect("time"),
            ..hook("late", &["result_failed"], "generic")
        };
        assert!(fan_out(&[late], &[notice()]).is_empty());
    }
}
