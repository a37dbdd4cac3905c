//! Overload, open loop: requests are sent at a fixed rate above what the
//! server can answer, each on a connection of its own (so no client-side
//! queue hides the server's), while `/healthz` is probed every 50 ms on a
//! connection of its own. What it checks: the excess is refused at once
//! with 503 and `Retry-After`, no answer takes longer than the server's
//! time limit, and `/healthz` stays quick throughout.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::http;

#[derive(Default)]
pub struct Report {
    pub sent: usize,
    pub served: usize,
    /// 503 `overloaded` with `Retry-After`.
    pub shed: usize,
    /// 503 `timeout`: admitted, then over the time limit.
    pub timed_out: usize,
    /// Any other answer, a 503 without `Retry-After`, or no answer.
    pub failed: usize,
    /// Time from sending to the whole answer, for every answer.
    pub answers: Vec<Duration>,
    /// The same, for 200s only.
    pub served_in: Vec<Duration>,
    pub health: Vec<Duration>,
    pub health_failures: usize,
    pub elapsed: Duration,
}

enum Outcome {
    Served(Duration),
    Shed(Duration),
    TimedOut(Duration),
    Failed,
}

async fn one(addr: SocketAddr, path: String) -> Outcome {
    let started = Instant::now();
    let Ok(mut client) = http::Client::connect(addr).await else {
        return Outcome::Failed;
    };
    match client.get_with_head(&path).await {
        Ok((200, _, _)) => Outcome::Served(started.elapsed()),
        Ok((503, head, body)) if String::from_utf8_lossy(&body).contains("\"timeout\"") => {
            let _ = head;
            Outcome::TimedOut(started.elapsed())
        }
        Ok((503, head, _)) if head.to_ascii_lowercase().contains("retry-after:") => {
            Outcome::Shed(started.elapsed())
        }
        _ => Outcome::Failed,
    }
}

pub async fn run(
    addr: SocketAddr,
    paths: Vec<String>,
    rate: f64,
    duration: Duration,
) -> Result<Report> {
    let interval = Duration::from_secs_f64(1.0 / rate);
    let total = (rate * duration.as_secs_f64()) as usize;
    let stop = Arc::new(AtomicBool::new(false));
    let prober = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut health = Vec::new();
            let mut failures = 0;
            let mut client = http::Client::connect(addr).await.ok();
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                let answered = match client.as_mut() {
                    Some(c) => matches!(c.get("/healthz").await, Ok((200, _))),
                    None => false,
                };
                if answered {
                    health.push(started.elapsed());
                } else {
                    failures += 1;
                    client = http::Client::connect(addr).await.ok();
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            (health, failures)
        })
    };
    let start = tokio::time::Instant::now() + Duration::from_millis(100);
    let mut requests = Vec::with_capacity(total);
    for k in 0..total {
        tokio::time::sleep_until(start + interval * k as u32).await;
        let path = paths[k % paths.len()].clone();
        requests.push(tokio::spawn(one(addr, path)));
    }
    let mut report = Report {
        sent: total,
        ..Report::default()
    };
    for request in requests {
        match request.await? {
            Outcome::Served(took) => {
                report.served += 1;
                report.served_in.push(took);
                report.answers.push(took);
            }
            Outcome::Shed(took) => {
                report.shed += 1;
                report.answers.push(took);
            }
            Outcome::TimedOut(took) => {
                report.timed_out += 1;
                report.answers.push(took);
            }
            Outcome::Failed => report.failed += 1,
        }
    }
    report.elapsed = start.elapsed();
    stop.store(true, Ordering::Relaxed);
    (report.health, report.health_failures) = prober.await?;
    Ok(report)
}
