//! `--insights`: fills a real SQLite file with a few months of logged
//! searches and opens, then times the insights page's queries and the
//! latency of feedback written while they run on another thread.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Result;
use quire::store::{OpenEvent, SearchEvent, Store, Verdict, now};

use crate::Figures;
use crate::corpus::Rng;

/// The period the insights page shows by default, in days.
const PERIOD_DAYS: i64 = 30;
/// Common queries (drawn with a skew); the rest of the log is unique
/// queries, the long tail (or a client filling the log).
const COMMON: usize = 2_000;
const UNIQUE_PERCENT: usize = 40;

pub struct Sizes {
    pub searches: usize,
    pub opens: usize,
    pub runs: usize,
    pub feedback: usize,
}

pub fn measure(dir: &Path, sizes: &Sizes, seed: u64, figures: &mut Figures) -> Result<()> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir)?;
    let store = Arc::new(Store::open(&dir.join("quire.db"), true, 365)?);
    let started = Instant::now();
    fill(&store, sizes, seed);
    figures.add(
        "insights_fill",
        started.elapsed().as_secs_f64() * 1000.0,
        "ms",
    );
    let since = now() - PERIOD_DAYS * 86_400;
    let first = store.insights(since, 20)?;
    figures.add("insights_searches", first.searches as f64, "searches");
    figures.add(
        "insights_never_opened",
        first.never_opened.len() as f64,
        "queries",
    );
    let mut runs = Vec::new();
    for _ in 0..sizes.runs {
        let started = Instant::now();
        std::hint::black_box(store.insights(since, 20)?);
        runs.push(started.elapsed());
    }
    figures.latencies("insights", &mut runs);

    let mut alone = feedback_latencies(&store, sizes.feedback)?;
    figures.latencies("feedback_alone", &mut alone);
    // Insights back to back on another thread while feedback is written.
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let (store, stop) = (store.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut done = 0usize;
            while !stop.load(Ordering::Acquire) {
                if store.insights(since, 20).is_ok() {
                    done += 1;
                }
            }
            done
        })
    };
    let mut during = feedback_latencies(&store, sizes.feedback)?;
    stop.store(true, Ordering::Release);
    let overlapped = reader.join().unwrap_or(0);
    figures.latencies("feedback_during_insights", &mut during);
    figures.add("insights_while_writing", overlapped as f64, "runs");
    Ok(())
}

/// Feedback written one every `FEEDBACK_EVERY`, as readers send it, so
/// that the writes overlap many runs of the insights.
const FEEDBACK_EVERY: Duration = Duration::from_millis(2);

fn feedback_latencies(store: &Store, count: usize) -> Result<Vec<Duration>> {
    let mut samples = Vec::with_capacity(count);
    for i in 0..count {
        let started = Instant::now();
        store.add_feedback(
            &format!("bench/card-{}", i % 50),
            Verdict::Outdated,
            Some("bench"),
        )?;
        samples.push(started.elapsed());
        std::thread::sleep(FEEDBACK_EVERY);
    }
    Ok(samples)
}

/// Logs `sizes.searches` searches and `sizes.opens` opens spread over the
/// period, through the store's own queue (flushed as it goes, so nothing
/// is dropped).
fn fill(store: &Store, sizes: &Sizes, seed: u64) {
    let mut rng = Rng::new(seed);
    let common: Vec<String> = (0..COMMON)
        .map(|i| format!("how to {} the {} {i}", verb(i), noun(i)))
        .collect();
    let common: Vec<&str> = common.iter().map(String::as_str).collect();
    let span = (PERIOD_DAYS * 86_400) as usize;
    let start = now() - PERIOD_DAYS * 86_400 + 60;
    let query = |rng: &mut Rng, i: usize| -> String {
        if rng.chance(UNIQUE_PERCENT) {
            format!("unique question {i} {}", rng.next_u64())
        } else {
            rng.zipf(&common).to_string()
        }
    };
    for i in 0..sizes.searches {
        let hits = if rng.chance(10) {
            0
        } else {
            rng.range(1, 20) as u64
        };
        store.log_search(SearchEvent {
            at: start + rng.below(span) as i64,
            query: query(&mut rng, i),
            filters: String::new(),
            hits,
            source: "site",
        });
        if i % 2_000 == 1_999 {
            store.flush();
        }
    }
    for i in 0..sizes.opens {
        store.log_open(OpenEvent {
            at: start + rng.below(span) as i64,
            card_id: format!("bench/card-{}", rng.below(500)),
            query: (!rng.chance(30)).then(|| query(&mut rng, i)),
            source: "site",
        });
        if i % 2_000 == 1_999 {
            store.flush();
        }
    }
    store.flush();
}

fn verb(i: usize) -> &'static str {
    [
        "refund", "reset", "export", "cancel", "upgrade", "invite", "merge",
    ][i % 7]
}

fn noun(i: usize) -> &'static str {
    [
        "annual plan",
        "password",
        "invoice",
        "workspace",
        "seat",
        "token",
    ][i % 6]
}
