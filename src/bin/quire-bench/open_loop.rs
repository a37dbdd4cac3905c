//! An open-loop load test: requests go out on a fixed schedule whatever
//! the server is doing, and each one's latency counts from when it was
//! due, not from when it was sent. A closed loop (the 1- and 32-client
//! runs) slows down with the server and so hides its stalls; this one
//! shows them (the "coordinated omission" wrk2 corrects for).
//!
//! The mix is what the site and the inbox sidebar ask for: searches,
//! suggestions while typing, card pages, cards as JSON and as text, and
//! the sidebar page; meanwhile another thread keeps editing cards.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::corpus::{Corpus, Rng};
use crate::http;

pub struct Report {
    /// Latency of each request, from when it was due.
    pub latencies: Vec<Duration>,
    pub errors: usize,
    /// The errors by status; 0 for a broken connection.
    pub error_statuses: BTreeMap<u16, usize>,
    pub edits: usize,
    pub elapsed: Duration,
}

/// Paths for the mix, in the proportions a busy team would send them.
pub fn paths(searches: &[String], corpus: &Corpus, seed: u64) -> Vec<String> {
    let mut rng = Rng::new(seed ^ 0x10AD);
    let mut out = Vec::new();
    for i in 0..1000 {
        let id = &corpus.ids[rng.below(corpus.ids.len())];
        let search = &searches[i % searches.len()];
        out.push(match i % 20 {
            0..=8 => search.clone(),
            9..=11 => search.replacen("/search?", "/suggest?", 1),
            12..=15 => format!("/cards/{id}"),
            16..=17 => format!("/api/v1/cards/{id}"),
            18 => format!("/api/v1/cards/{id}?format=text"),
            _ => "/sidebar".to_string(),
        });
    }
    out
}

/// Sends `rate` requests per second for `duration` to `addr` (see `send`),
/// while a thread rewrites `edits_per_second` cards.
pub async fn run(
    addr: SocketAddr,
    paths: Vec<String>,
    rate: f64,
    duration: Duration,
    content: &Path,
    corpus: &Corpus,
    edits_per_second: f64,
) -> Result<Report> {
    let total = (rate * duration.as_secs_f64()) as usize;

    let stop = Arc::new(AtomicBool::new(false));
    let editor = {
        let stop = stop.clone();
        let root = content.to_path_buf();
        let ids = corpus.ids.clone();
        let every = Duration::from_secs_f64(1.0 / edits_per_second);
        std::thread::spawn(move || {
            let mut rng = Rng::new(0xED175);
            let mut edits = 0;
            let started = Instant::now();
            while !stop.load(Ordering::Relaxed) {
                let path = root.join(format!("{}.md", ids[rng.below(ids.len())]));
                if let Ok(mut text) = std::fs::read_to_string(&path) {
                    text.push_str(&format!("\nload edit {edits}\n"));
                    if std::fs::write(&path, text).is_ok() {
                        edits += 1;
                    }
                }
                // On schedule, not after a fixed pause: a slow write does
                // not lower the edit rate.
                let next = every * (edits as u32 + 1);
                if let Some(wait) = next.checked_sub(started.elapsed()) {
                    std::thread::sleep(wait);
                }
            }
            edits
        })
    };

    let sent = send(&[addr], paths, rate, duration).await;
    stop.store(true, Ordering::Relaxed);
    let edits = editor.join().unwrap_or(0);
    let sent = sent?;
    let mut latencies = Vec::with_capacity(total);
    let mut errors = 0;
    let mut error_statuses = BTreeMap::new();
    for target in sent.targets {
        latencies.extend(target.latencies);
        errors += target.errors;
        for (status, n) in target.error_statuses {
            *error_statuses.entry(status).or_default() += n;
        }
    }
    Ok(Report {
        latencies,
        errors,
        error_statuses,
        edits,
        elapsed: sent.elapsed,
    })
}

/// What one target was sent and how it answered.
pub struct Target {
    /// Latency of each request, from when it was due.
    pub latencies: Vec<Duration>,
    /// Answers other than 200 and broken connections.
    pub errors: usize,
    /// The errors by status; 0 for a broken connection.
    pub error_statuses: BTreeMap<u16, usize>,
}

pub struct Sent {
    /// One per target, in the order given.
    pub targets: Vec<Target>,
    pub elapsed: Duration,
}

/// Sends `rate` requests per second for `duration`, request `k` to
/// `targets[k % n]` (round robin), over 64 keep-alive connections (a
/// multiple of the targets, so each connection keeps to one target). Any
/// answer but 200, or a broken connection, is an error.
pub async fn send(
    targets: &[SocketAddr],
    paths: Vec<String>,
    rate: f64,
    duration: Duration,
) -> Result<Sent> {
    anyhow::ensure!(!targets.is_empty(), "no target to load");
    let connections = 64usize.div_ceil(targets.len()) * targets.len();
    let interval = Duration::from_secs_f64(1.0 / rate);
    let total = (rate * duration.as_secs_f64()) as usize;
    let paths = Arc::new(paths);
    let start = tokio::time::Instant::now() + Duration::from_millis(100);
    let mut workers = Vec::new();
    for w in 0..connections {
        let paths = paths.clone();
        let addr = targets[w % targets.len()];
        workers.push(tokio::spawn(async move {
            let mut client = http::Client::connect(addr)
                .await
                .with_context(|| format!("connecting to {addr}"))?;
            let mut target = Target {
                latencies: Vec::with_capacity(total / connections + 1),
                errors: 0,
                error_statuses: BTreeMap::new(),
            };
            // Worker `w` sends requests w, w + connections, ...
            for k in (w..total).step_by(connections) {
                let due = start + interval * k as u32;
                tokio::time::sleep_until(due).await;
                let status = match client.get(&paths[k % paths.len()]).await {
                    Ok((status, _)) => status,
                    Err(_) => {
                        // Reconnect, so one broken connection is one error.
                        if let Ok(fresh) = http::Client::connect(addr).await {
                            client = fresh;
                        }
                        0
                    }
                };
                if status != 200 {
                    target.errors += 1;
                    *target.error_statuses.entry(status).or_default() += 1;
                }
                target.latencies.push(due.elapsed());
            }
            anyhow::Ok(target)
        }));
    }
    let mut per_target: Vec<Target> = targets
        .iter()
        .map(|_| Target {
            latencies: Vec::with_capacity(total / targets.len() + 1),
            errors: 0,
            error_statuses: BTreeMap::new(),
        })
        .collect();
    for (w, worker) in workers.into_iter().enumerate() {
        let done = worker.await??;
        let into = &mut per_target[w % targets.len()];
        into.latencies.extend(done.latencies);
        into.errors += done.errors;
        for (status, n) in done.error_statuses {
            *into.error_statuses.entry(status).or_default() += n;
        }
    }
    Ok(Sent {
        targets: per_target,
        elapsed: start.elapsed(),
    })
}
