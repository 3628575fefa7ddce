//! Prometheus text exposition, hand-written: a handful of counters and one histogram do not
//! justify a metrics framework.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 10] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    /// Count per bucket (not cumulative; made cumulative when rendered), then +Inf.
    buckets: [u64; BUCKETS.len() + 1],
    sum: f64,
    count: u64,
}

/// Request counters and latencies, by route template (`/api/v1/rules/{id}`, not the raw path,
/// so that cardinality stays bounded).
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    results_ingested: AtomicU64,
    /// Snapshot refreshes that folded new entries into the last snapshot, and those that
    /// recomputed it whole.
    snapshots_advanced: AtomicU64,
    snapshots_recomputed: AtomicU64,
    /// Webhook attempts by result (delivered, retried, failed) and job runs by job and
    /// outcome, made by this server.
    background: Mutex<BTreeMap<(&'static str, String, &'static str), u64>>,
}

impl Metrics {
    /// Records one finished request.
    pub fn observe(&self, route: &str, status: u16, elapsed: Duration) {
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((route.to_string(), status)).or_default() += 1;
        }
        let secs = elapsed.as_secs_f64();
        if let Ok(mut m) = self.latency.lock() {
            let h = m.entry(route.to_string()).or_default();
            let i = BUCKETS
                .iter()
                .position(|&b| secs <= b)
                .unwrap_or(BUCKETS.len());
            if let Some(b) = h.buckets.get_mut(i) {
                *b += 1;
            }
            h.sum += secs;
            h.count += 1;
        }
    }

    /// Counts results written through the API.
    pub fn add_results(&self, n: usize) {
        self.results_ingested
            .fetch_add(u64::try_from(n).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// Counts a snapshot refresh that folded new journal entries in incrementally.
    pub fn snapshot_advanced(&self) {
        self.snapshots_advanced.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a snapshot refresh that recomputed coverage whole.
    pub fn snapshot_recomputed(&self) {
        self.snapshots_recomputed.fetch_add(1, Ordering::Relaxed);
    }

    /// Refreshes so far: (advanced incrementally, recomputed whole).
    pub fn snapshot_refreshes(&self) -> (u64, u64) {
        (
            self.snapshots_advanced.load(Ordering::Relaxed),
            self.snapshots_recomputed.load(Ordering::Relaxed),
        )
    }

    /// Counts one webhook attempt of this server by its result.
    pub fn add_webhook(&self, result: &'static str) {
        if let Ok(mut m) = self.background.lock() {
            *m.entry(("webhook", String::new(), result)).or_default() += 1;
        }
    }

    /// Counts one job run of this server by job and outcome.
    pub fn add_job(&self, job: &str, outcome: &'static str) {
        if let Ok(mut m) = self.background.lock() {
            *m.entry(("job", job.to_string(), outcome)).or_default() += 1;
        }
    }

    /// Renders the request metrics; `gauges` (name, help, labelled values) are appended.
    pub fn render(&self, gauges: &[Gauge]) -> String {
        let mut out = String::new();
        out.push_str("# HELP attest_http_requests_total HTTP requests by route and status.\n");
        out.push_str("# TYPE attest_http_requests_total counter\n");
        if let Ok(m) = self.requests.lock() {
            for ((route, status), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "attest_http_requests_total{{route=\"{}\",status=\"{status}\"}} {n}",
                    escape(route)
                );
            }
        }
        out.push_str(
            "# HELP attest_http_request_duration_seconds HTTP request latency by route.\n",
        );
        out.push_str("# TYPE attest_http_request_duration_seconds histogram\n");
        if let Ok(m) = self.latency.lock() {
            for (route, h) in m.iter() {
                let route = escape(route);
                let mut cumulative = 0;
                for (i, bound) in BUCKETS.iter().enumerate() {
                    cumulative += h.buckets.get(i).copied().unwrap_or(0);
                    let _ = writeln!(
                        out,
                        "attest_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {cumulative}"
                    );
                }
                let _ = writeln!(
                    out,
                    "attest_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                    h.count
                );
                let _ = writeln!(
                    out,
                    "attest_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                    h.sum
                );
                let _ = writeln!(
                    out,
                    "attest_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                    h.count
                );
            }
        }
        out.push_str(
            "# HELP attest_results_ingested_total Validation results written through the API.\n",
        );
        out.push_str("# TYPE attest_results_ingested_total counter\n");
        let _ = writeln!(
            out,
            "attest_results_ingested_total {}",
            self.results_ingested.load(Ordering::Relaxed)
        );
        out.push_str(
            "# HELP attest_snapshot_refreshes_total Coverage snapshot refreshes: new entries \
             folded in (advanced) or recomputed whole.\n",
        );
        out.push_str("# TYPE attest_snapshot_refreshes_total counter\n");
        let (advanced, recomputed) = self.snapshot_refreshes();
        let _ = writeln!(
            out,
            "attest_snapshot_refreshes_total{{kind=\"advanced\"}} {advanced}"
        );
        let _ = writeln!(
            out,
            "attest_snapshot_refreshes_total{{kind=\"recomputed\"}} {recomputed}"
        );
        out.push_str("# HELP attest_webhook_attempts_total Webhook delivery attempts by result.\n");
        out.push_str("# TYPE attest_webhook_attempts_total counter\n");
        out.push_str("# HELP attest_job_runs_total Scheduled job runs by job and outcome.\n");
        out.push_str("# TYPE attest_job_runs_total counter\n");
        if let Ok(m) = self.background.lock() {
            for ((what, job, result), n) in m.iter() {
                let _ = if *what == "webhook" {
                    writeln!(
                        out,
                        "attest_webhook_attempts_total{{result=\"{result}\"}} {n}"
                    )
                } else {
                    writeln!(
                        out,
                        "attest_job_runs_total{{job=\"{}\",outcome=\"{result}\"}} {n}",
                        escape(job)
                    )
                };
            }
        }
        for g in gauges {
            let _ = writeln!(out, "# HELP {} {}", g.name, g.help);
            let _ = writeln!(out, "# TYPE {} gauge", g.name);
            for (labels, value) in &g.values {
                if labels.is_empty() {
                    let _ = writeln!(out, "{} {value}", g.name);
                } else {
                    let _ = writeln!(out, "{}{{{labels}}} {value}", g.name);
                }
            }
        }
        out
    }
}

/// A gauge computed when metrics are scraped.
#[derive(Debug, Clone, PartialEq)]
pub struct Gauge {
    /// Metric name.
    pub name: &'static str,
    /// Help text.
    pub help: &'static str,
    /// (rendered labels such as `state="gap"`, value).
    pub values: Vec<(String, f64)>,
}

/// Escapes a label value per the exposition format.
pub fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_cumulative_buckets_render() {
        let m = Metrics::default();
        m.observe("/a", 200, Duration::from_micros(300));
        m.observe("/a", 200, Duration::from_millis(3));
        m.observe("/a", 404, Duration::from_secs(2));
        m.add_results(3);
        let text = m.render(&[Gauge {
            name: "attest_x",
            help: "x",
            values: vec![("state=\"gap\"".into(), 2.0)],
        }]);
        assert!(text.contains("attest_http_requests_total{route=\"/a\",status=\"200\"} 2\n"));
        assert!(text.contains("attest_http_requests_total{route=\"/a\",status=\"404\"} 1\n"));
        assert!(text.contains("_bucket{route=\"/a\",le=\"0.0005\"} 1\n"));
        assert!(text.contains("_bucket{route=\"/a\",le=\"0.005\"} 2\n"));
        assert!(text.contains("_bucket{route=\"/a\",le=\"1\"} 2\n"));
        assert!(text.contains("_bucket{route=\"/a\",le=\"+Inf\"} 3\n"));
        assert!(text.contains("attest_results_ingested_total 3\n"));
        assert!(text.contains("attest_x{state=\"gap\"} 2\n"));
        assert_eq!(escape("a\"b\\"), "a\\\"b\\\\");
    }
}
