//! The open loop against replicas already running (`--targets`): requests
//! spread round robin over them while edits arrive as a team's do, as git
//! commits pushed to the remote the replicas follow, each followed by a
//! signed push webhook to every replica (what a forge with one hook per
//! replica, or a balancer mirroring one, delivers). Each pushed word is
//! then searched for on every replica until found: push-to-searchable
//! under load.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use hmac::{Hmac, Mac};

use crate::corpus::Rng;
use crate::http;
use crate::open_loop::{self, Sent};

/// How edits reach the replicas.
pub struct Pushes {
    /// A clone of the followed remote, its `origin` that remote, holding
    /// the corpus' cards as `<id>.md`.
    pub checkout: PathBuf,
    /// The push webhook's secret; without it the replicas find each push
    /// at their next `pull_seconds`.
    pub secret: Option<String>,
    pub every: Duration,
}

#[derive(Default)]
pub struct PushReport {
    pub pushes: usize,
    /// `git commit` and `git push` of one edit.
    pub push_took: Vec<Duration>,
    /// Webhook deliveries answered other than 202, or not delivered.
    pub webhook_failures: usize,
    /// Per target: from the webhooks sent (or the push, without them) to
    /// the pushed word found by the search API.
    pub to_searchable: Vec<Vec<Duration>>,
    /// Pushes some target had not made searchable within `FIND_WITHIN`.
    pub not_found: usize,
}

/// How long a pushed word may take to become searchable on a replica.
const FIND_WITHIN: Duration = Duration::from_secs(30);

/// How often a replica is asked whether the pushed word is searchable.
const POLL_EVERY: Duration = Duration::from_millis(10);

/// Sends the open loop to `targets` (see `open_loop::send`) while, with
/// `pushes`, another task edits the card `ids` through the remote.
pub async fn run(
    targets: &[SocketAddr],
    paths: Vec<String>,
    rate: f64,
    duration: Duration,
    ids: Vec<String>,
    pushes: Option<Pushes>,
) -> Result<(Sent, Option<PushReport>)> {
    let stop = Arc::new(AtomicBool::new(false));
    let pusher = pushes.map(|pushes| {
        tokio::spawn(push_loop(
            targets.to_vec(),
            pushes,
            ids,
            duration,
            stop.clone(),
        ))
    });
    let sent = open_loop::send(targets, paths, rate, duration).await;
    stop.store(true, Ordering::Relaxed);
    let pushed = match pusher {
        Some(task) => Some(task.await??),
        None => None,
    };
    Ok((sent?, pushed))
}

/// One edit every `pushes.every`, on schedule, for `duration` (or until
/// `stop`): commit, push, webhooks, then wait until every target finds it.
async fn push_loop(
    targets: Vec<SocketAddr>,
    pushes: Pushes,
    ids: Vec<String>,
    duration: Duration,
    stop: Arc<AtomicBool>,
) -> Result<PushReport> {
    let mut hooks = Vec::new();
    let mut searchers = Vec::new();
    for &addr in &targets {
        hooks.push(connect(addr).await?);
        searchers.push(connect(addr).await?);
    }
    let mut report = PushReport {
        to_searchable: vec![Vec::new(); targets.len()],
        ..PushReport::default()
    };
    let mut rng = Rng::new(0x9054);
    let started = tokio::time::Instant::now();
    loop {
        let due = started + pushes.every * (report.pushes as u32 + 1);
        tokio::time::sleep_until(due).await;
        if stop.load(Ordering::Relaxed) || started.elapsed() >= duration {
            break;
        }
        let n = report.pushes;
        let token = crate::unique_token(&mut rng, n);
        let card = ids[rng.below(ids.len())].clone();
        let pushing = Instant::now();
        {
            let (checkout, token) = (pushes.checkout.clone(), token.clone());
            tokio::task::spawn_blocking(move || commit_and_push(&checkout, &card, &token, n))
                .await??;
        }
        report.push_took.push(pushing.elapsed());
        report.pushes += 1;

        let pushed = Instant::now();
        if let Some(secret) = &pushes.secret {
            for (hook, &addr) in hooks.iter_mut().zip(&targets) {
                if !deliver(hook, addr, secret).await {
                    report.webhook_failures += 1;
                }
            }
        }
        let found = find_everywhere(&mut searchers, &targets, &token, pushed).await;
        let mut missing = false;
        for (samples, took) in report.to_searchable.iter_mut().zip(found) {
            match took {
                Some(took) => samples.push(took),
                None => missing = true,
            }
        }
        if missing {
            report.not_found += 1;
        }
    }
    Ok(report)
}

async fn connect(addr: SocketAddr) -> Result<http::Client> {
    http::Client::connect(addr)
        .await
        .with_context(|| format!("connecting to {addr}"))
}

/// Appends `token` to the card `id` and pushes it as one commit.
fn commit_and_push(checkout: &Path, id: &str, token: &str, n: usize) -> Result<()> {
    let path = checkout.join(format!("{id}.md"));
    let mut text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    text.push_str(&format!("\n{token}\n"));
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    git(
        checkout,
        &["commit", "-q", "-a", "-m", &format!("load edit {n}")],
    )?;
    git(checkout, &["push", "-q", "origin", "HEAD"])
}

fn git(checkout: &Path, args: &[&str]) -> Result<()> {
    let out = Command::new("git")
        .arg("-C")
        .arg(checkout)
        .args([
            "-c",
            "user.name=quire-bench",
            "-c",
            "user.email=bench@localhost",
        ])
        .args(args)
        .output()
        .context("running git")?;
    if !out.status.success() {
        bail!(
            "git {} in {}: {}",
            args.join(" "),
            checkout.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// A GitHub-style push event, signed with `X-Hub-Signature-256`; whether
/// it was accepted (202). A broken connection is reopened for the next.
async fn deliver(hook: &mut http::Client, addr: SocketAddr, secret: &str) -> bool {
    let body = br#"{"ref":"refs/heads/main","pusher":{"name":"quire-bench"}}"#;
    let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    let signature = format!(
        "sha256={}",
        quire::hex::encode(&mac.finalize().into_bytes())
    );
    let headers = [("X-Hub-Signature-256", signature.as_str())];
    match hook.post("/api/v1/git/push", &headers, body).await {
        Ok((status, _)) => status == 202,
        Err(_) => {
            if let Ok(fresh) = http::Client::connect(addr).await {
                *hook = fresh;
            }
            false
        }
    }
}

/// For each target, how long after `since` its search API found `token`
/// (`None`: not within `FIND_WITHIN`, or the target stopped answering).
async fn find_everywhere(
    searchers: &mut [http::Client],
    targets: &[SocketAddr],
    token: &str,
    since: Instant,
) -> Vec<Option<Duration>> {
    let query = format!("/api/v1/search?q={token}&limit=1");
    let mut found: Vec<Option<Duration>> = vec![None; searchers.len()];
    while since.elapsed() < FIND_WITHIN && found.iter().any(Option::is_none) {
        for (i, searcher) in searchers.iter_mut().enumerate() {
            if found[i].is_some() {
                continue;
            }
            match searcher.get(&query).await {
                Ok((200, body)) => {
                    let total = serde_json::from_slice::<serde_json::Value>(&body)
                        .ok()
                        .and_then(|v| v["total"].as_u64())
                        .unwrap_or(0);
                    if total > 0 {
                        found[i] = Some(since.elapsed());
                    }
                }
                Ok(_) => {}
                Err(_) => {
                    if let Ok(fresh) = http::Client::connect(targets[i]).await {
                        *searcher = fresh;
                    }
                }
            }
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
    found
}
