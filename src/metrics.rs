//! Counters and latency histograms for `GET /metrics`, in the Prometheus
//! text format. Written by the HTTP layer and the reindex loop, read by the
//! scrape; each `Kb` has its own, so tests in one process do not mix.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Clone, Debug, Default)]
pub struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    pub fn observe(&mut self, took: Duration) {
        let seconds = took.as_secs_f64();
        for (bound, count) in BUCKETS.iter().zip(self.counts.iter_mut()) {
            if seconds <= *bound {
                *count += 1;
            }
        }
        self.count += 1;
        self.sum += seconds;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (bound, count) in BUCKETS.iter().zip(self.counts) {
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {count}");
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{braces} {}", self.sum);
        let _ = writeln!(out, "{name}_count{braces} {}", self.count);
    }
}

#[derive(Default)]
pub struct Metrics {
    /// (route, status) -> count
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    /// route -> latency
    latency: Mutex<BTreeMap<String, Histogram>>,
    /// error code -> count
    errors: Mutex<BTreeMap<String, u64>>,
    search: Mutex<Histogram>,
    reindex: Mutex<Histogram>,
    watch_lag: Mutex<Histogram>,
    reindex_failures: AtomicU64,
    index_rebuilds: AtomicU64,
    last_reindex_unix: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic elsewhere cannot leave a counter half-written.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What the scrape adds from the index itself.
pub struct IndexGauges {
    pub cards: u64,
    pub segments: usize,
    pub problems: usize,
    pub ready: bool,
}

impl Metrics {
    pub fn request(&self, route: &str, status: u16, took: Duration) {
        *lock(&self.requests)
            .entry((route.to_string(), status))
            .or_default() += 1;
        lock(&self.latency)
            .entry(route.to_string())
            .or_default()
            .observe(took);
    }

    pub fn error(&self, code: &str) {
        *lock(&self.errors).entry(code.to_string()).or_default() += 1;
    }

    pub fn search(&self, took: Duration) {
        lock(&self.search).observe(took);
    }

    /// A batch applied by the reindex loop: how long it took, and how long
    /// its first change waited since the watcher saw it.
    pub fn reindexed(&self, took: Duration, lag: Option<Duration>) {
        lock(&self.reindex).observe(took);
        if let Some(lag) = lag {
            lock(&self.watch_lag).observe(lag);
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.last_reindex_unix.store(now, Ordering::Relaxed);
    }

    pub fn reindex_failed(&self) {
        self.reindex_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// The index was lost (its folder deleted, a file damaged) and is
    /// rebuilt from the content.
    pub fn index_rebuilt(&self) {
        self.index_rebuilds.fetch_add(1, Ordering::Relaxed);
    }

    pub fn render(&self, gauges: &IndexGauges) -> String {
        let mut out = String::with_capacity(4096);
        out.push_str("# HELP quire_http_requests_total HTTP requests by route and status.\n# TYPE quire_http_requests_total counter\n");
        for ((route, status), n) in lock(&self.requests).iter() {
            let _ = writeln!(
                out,
                "quire_http_requests_total{{route=\"{}\",status=\"{status}\"}} {n}",
                escape(route)
            );
        }
        out.push_str("# HELP quire_http_request_duration_seconds HTTP request latency by route.\n# TYPE quire_http_request_duration_seconds histogram\n");
        for (route, h) in lock(&self.latency).iter() {
            h.render(
                &mut out,
                "quire_http_request_duration_seconds",
                &format!("route=\"{}\"", escape(route)),
            );
        }
        out.push_str(
            "# HELP quire_errors_total Error answers by code.\n# TYPE quire_errors_total counter\n",
        );
        for (code, n) in lock(&self.errors).iter() {
            let _ = writeln!(out, "quire_errors_total{{code=\"{}\"}} {n}", escape(code));
        }
        out.push_str("# HELP quire_search_duration_seconds Time to run a search, snippets included.\n# TYPE quire_search_duration_seconds histogram\n");
        lock(&self.search).render(&mut out, "quire_search_duration_seconds", "");
        out.push_str("# HELP quire_reindex_duration_seconds Time to apply one batch of changes.\n# TYPE quire_reindex_duration_seconds histogram\n");
        lock(&self.reindex).render(&mut out, "quire_reindex_duration_seconds", "");
        out.push_str("# HELP quire_watch_lag_seconds From a file event to its commit.\n# TYPE quire_watch_lag_seconds histogram\n");
        lock(&self.watch_lag).render(&mut out, "quire_watch_lag_seconds", "");
        let _ = writeln!(
            out,
            "# HELP quire_reindex_failures_total Batches that failed to apply.\n# TYPE quire_reindex_failures_total counter\nquire_reindex_failures_total {}",
            self.reindex_failures.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP quire_index_rebuilds_total Rebuilds of a lost or damaged index from the content.\n# TYPE quire_index_rebuilds_total counter\nquire_index_rebuilds_total {}",
            self.index_rebuilds.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP quire_last_reindex_timestamp_seconds When the last batch was applied.\n# TYPE quire_last_reindex_timestamp_seconds gauge\nquire_last_reindex_timestamp_seconds {}",
            self.last_reindex_unix.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP quire_cards Cards in the index.\n# TYPE quire_cards gauge\nquire_cards {}",
            gauges.cards
        );
        let _ = writeln!(
            out,
            "# HELP quire_index_segments Segments in the index.\n# TYPE quire_index_segments gauge\nquire_index_segments {}",
            gauges.segments
        );
        let _ = writeln!(
            out,
            "# HELP quire_problems Current problems in the content folder.\n# TYPE quire_problems gauge\nquire_problems {}",
            gauges.problems
        );
        let _ = writeln!(
            out,
            "# HELP quire_ready Whether the index is ready.\n# TYPE quire_ready gauge\nquire_ready {}",
            u8::from(gauges.ready)
        );
        out
    }
}

/// What the scrape adds about git: the commit served and, when a remote is
/// followed, how following goes.
pub struct GitGauges {
    /// The commit of the content the index holds.
    pub commit: Option<String>,
    pub following: Option<crate::remote::Counts>,
    pub problem: Option<crate::remote::ProblemKind>,
    pub last_fetch_unix: Option<i64>,
}

/// Appends the git gauges: `quire_content_commit_info{commit=...} 1` (the
/// Prometheus way to give a string), and for a followed remote the
/// fetches, moves, webhooks and one 0/1 gauge per kind of problem, so an
/// alert can name what is wrong.
pub fn render_git(out: &mut String, git: &GitGauges) {
    if let Some(commit) = &git.commit {
        let _ = writeln!(
            out,
            "# HELP quire_content_commit_info The git commit of the content the index holds.\n# TYPE quire_content_commit_info gauge\nquire_content_commit_info{{commit=\"{}\"}} 1",
            escape(commit)
        );
    }
    let Some(counts) = git.following else {
        return;
    };
    for (name, help, value) in [
        (
            "quire_git_fetches_total",
            "Successful fetches (and the clone) from the followed remote.",
            counts.fetches,
        ),
        (
            "quire_git_fetch_failures_total",
            "Fetches that failed (remote down, branch missing, credentials).",
            counts.fetch_failures,
        ),
        (
            "quire_git_moves_total",
            "Moves of the content folder to a newly fetched commit.",
            counts.moves,
        ),
        (
            "quire_git_webhooks_total",
            "Signed push webhooks received.",
            counts.webhooks,
        ),
    ] {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
        );
    }
    let _ = writeln!(
        out,
        "# HELP quire_git_last_fetch_timestamp_seconds When the remote was last fetched.\n# TYPE quire_git_last_fetch_timestamp_seconds gauge\nquire_git_last_fetch_timestamp_seconds {}",
        git.last_fetch_unix.unwrap_or(0)
    );
    out.push_str("# HELP quire_git_problem Why the content folder does not follow the remote now (1: this cause).\n# TYPE quire_git_problem gauge\n");
    for kind in crate::remote::ProblemKind::ALL {
        let _ = writeln!(
            out,
            "quire_git_problem{{kind=\"{}\"}} {}",
            kind.code(),
            u8::from(git.problem == Some(kind))
        );
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative_and_rendered_in_the_text_format() {
        let m = Metrics::default();
        m.request("/api/v1/search", 200, Duration::from_micros(800));
        m.request("/api/v1/search", 200, Duration::from_millis(30));
        let text = m.render(&IndexGauges {
            cards: 3,
            segments: 1,
            problems: 0,
            ready: true,
        });
        assert!(
            text.contains("quire_http_requests_total{route=\"/api/v1/search\",status=\"200\"} 2"),
            "{text}"
        );
        assert!(text.contains("quire_http_request_duration_seconds_bucket{route=\"/api/v1/search\",le=\"0.001\"} 1"), "{text}");
        assert!(
            text.contains(
                "quire_http_request_duration_seconds_bucket{route=\"/api/v1/search\",le=\"0.05\"} 2"
            ),
            "{text}"
        );
        assert!(text.contains("quire_cards 3"));
    }
}
