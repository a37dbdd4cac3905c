//! A closed loop against one server: a number of connections, each sending
//! the next query as soon as the last is answered, for a fixed time; either
//! over keep-alive connections or a new connection per request (what a
//! client without a pool does). Any answer but 200 fails the run.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use crate::http;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connections {
    KeepAlive,
    PerRequest,
}

impl Connections {
    pub fn name(self) -> &'static str {
        match self {
            Connections::KeepAlive => "keep_alive",
            Connections::PerRequest => "per_request",
        }
    }
}

/// What one server answered in one or more closed loops.
pub struct Run {
    pub connections: Connections,
    pub elapsed: Duration,
    /// Sorted.
    pub latencies: Vec<Duration>,
}

impl Run {
    pub fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    pub fn p(&self, percent: f64) -> Duration {
        crate::percentile(&self.latencies, percent)
    }

    /// Both loops' requests over both loops' time.
    pub fn merge(mut self, other: Run) -> Run {
        self.elapsed += other.elapsed;
        self.latencies.extend(other.latencies);
        self.latencies.sort();
        self
    }
}

pub async fn closed_loop(
    addr: SocketAddr,
    paths: Arc<Vec<String>>,
    clients: usize,
    duration: Duration,
    connections: Connections,
) -> Result<Run> {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let paths = paths.clone();
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            let mut kept = None;
            // Each client starts elsewhere in the list, so the server sees
            // different queries at once.
            let mut i = c * paths.len() / clients.max(1);
            while started.elapsed() < duration {
                let path = &paths[i % paths.len()];
                let t = Instant::now();
                let mut client = match kept.take() {
                    Some(client) => client,
                    None => http::Client::connect(addr).await?,
                };
                let (status, _) = client.get(path).await?;
                samples.push(t.elapsed());
                if status != 200 {
                    bail!("{addr}{path} answered {status}");
                }
                if connections == Connections::KeepAlive {
                    kept = Some(client);
                }
                i += 1;
            }
            anyhow::Ok(samples)
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    Ok(Run {
        connections,
        elapsed,
        latencies,
    })
}

/// How many of `paths` find something, asked one at a time (which also
/// warms the server's caches before the timed loops). The hit count is
/// read from Quire's `total` or tantivy-cli's `num_hits`.
pub async fn answered(addr: SocketAddr, paths: &[String]) -> Result<usize> {
    let mut client = http::Client::connect(addr).await?;
    let mut found = 0;
    for path in paths {
        let (status, body) = client.get(path).await?;
        if status != 200 {
            bail!("{addr}{path} answered {status}");
        }
        let answer: serde_json::Value = serde_json::from_slice(&body)?;
        let hits = answer["total"]
            .as_u64()
            .or_else(|| answer["num_hits"].as_u64())
            .unwrap_or(0);
        if hits > 0 {
            found += 1;
        }
    }
    Ok(found)
}
