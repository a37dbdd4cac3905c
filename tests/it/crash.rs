//! Crash safety. The content folder is the truth; the index and the
//! feedback database may never claim more than they committed. The server
//! is killed with SIGKILL at random moments, during a cold index build and
//! during bursts of edits; after each restart, search must answer exactly
//! as a fresh build over the same folder does, and every feedback that was
//! acknowledged must be there.
//!
//! The moments come from a seed, printed on failure; `QUIRE_CRASH_SEED=<n>`
//! replays a run.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{encode, start_server, wait_ready_within, write_file};

const CARDS: usize = 2000;
const ROUNDS: usize = 20;
/// Cards `0..STABLE` are edited but never deleted: feedback goes to them.
const STABLE: usize = 30;
const READY: Duration = Duration::from_secs(120);
const VOCAB: &[&str] = &[
    "refund",
    "invoice",
    "password",
    "billing",
    "account",
    "export",
    "webhook",
    "outage",
    "discount",
    "renewal",
    "возврат",
    "оплата",
    "пароль",
    "счёт",
    "factură",
    "rambursare",
    "parolă",
    "abonament",
    "退款",
    "发票",
    "密码",
    "账户",
];

/// xorshift64*: small, seeded, and the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One card's file under `content/`: its words depend on `version`, and a
/// marker word names the card and the version.
fn card_file(k: usize) -> String {
    format!("content/s{}/card-{k}.md", k % 7)
}

fn card_text(k: usize, version: u32, rng: &mut Rng) -> String {
    let words: Vec<&str> = (0..20 + rng.below(60))
        .map(|_| VOCAB[rng.below(VOCAB.len())])
        .collect();
    format!(
        "---\ntitle: Card {k} {}\ntags: [t{}]\n---\n# Part {version}\n\n{}\n\nm{k}v{version}\n",
        VOCAB[k % VOCAB.len()],
        k % 5,
        words.join(" ")
    )
}

/// What the test knows of the folder: each card's current version, and
/// which cards exist.
struct Folder {
    root: PathBuf,
    versions: Vec<u32>,
    live: Vec<bool>,
}

impl Folder {
    fn write(&mut self, k: usize, rng: &mut Rng) {
        if k >= self.versions.len() {
            self.versions.resize(k + 1, 0);
            self.live.resize(k + 1, false);
        }
        self.versions[k] += 1;
        self.live[k] = true;
        write_file(
            &self.root,
            &card_file(k),
            &card_text(k, self.versions[k], rng),
        );
    }

    /// An editor's atomic save: a temporary file renamed over the card.
    fn save_atomically(&mut self, k: usize, rng: &mut Rng) {
        self.versions[k] += 1;
        let target = self.root.join(card_file(k));
        let temp = target.with_extension("md.tmp~");
        std::fs::write(&temp, card_text(k, self.versions[k], rng)).expect("write temp");
        std::fs::rename(&temp, &target).expect("rename over");
    }

    fn remove(&mut self, k: usize) {
        self.live[k] = false;
        std::fs::remove_file(self.root.join(card_file(k))).expect("remove card");
    }

    fn rename(&mut self, from: usize) {
        let to = self.versions.len();
        self.versions.push(self.versions[from]);
        self.live.push(true);
        self.live[from] = false;
        let target = self.root.join(card_file(to));
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::rename(self.root.join(card_file(from)), target).expect("rename card");
    }

    /// A burst of edits of every kind, as fast as the disk takes them.
    fn burst(&mut self, ops: usize, rng: &mut Rng) {
        for _ in 0..ops {
            let k = rng.below(self.versions.len());
            let roll = rng.below(100);
            if !self.live[k] || roll < 10 {
                let new = self.versions.len();
                self.write(new, rng);
            } else if roll < 55 {
                self.write(k, rng);
            } else if roll < 75 {
                self.save_atomically(k, rng);
            } else if k < STABLE {
                self.write(k, rng);
            } else if roll < 90 {
                self.remove(k);
            } else {
                self.rename(k);
            }
        }
    }

    /// Queries whose answers must match a fresh build: every vocabulary
    /// word, each card's title word, and current and earlier markers (in
    /// quotes: typo tolerance looks at the words the index holds, deleted
    /// documents' words included until a merge, so a loose query may
    /// rightly differ).
    fn queries(&self, rng: &mut Rng) -> Vec<String> {
        let mut queries: Vec<String> = VOCAB.iter().map(|w| w.to_string()).collect();
        queries.extend(["card", "part", "t3", "tag:t2 refund"].map(String::from));
        for _ in 0..40 {
            let k = rng.below(self.versions.len());
            let v = self.versions[k];
            queries.push(format!("\"m{k}v{v}\""));
            queries.push(format!("\"m{k}v{}\"", v.saturating_sub(1)));
        }
        queries
    }
}

/// A `quire serve` process, killed with SIGKILL when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(config: &Path) -> Server {
        let (child, base) = start_server(config);
        Server { child, base }
    }

    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Each query's total and, when they fit on one page, the ids found (as a
/// set: scores may differ while deleted documents await a merge).
async fn answers(client: &reqwest::Client, base: &str, queries: &[String]) -> Vec<Value> {
    let mut out = Vec::new();
    for q in queries {
        let url = format!("{base}/api/v1/search?limit=100&q={}", encode(q));
        let body: Value = client
            .get(url)
            .send()
            .await
            .expect("search")
            .json()
            .await
            .expect("json");
        let total = body["total"].as_u64().expect("total");
        let ids: BTreeSet<&str> = body["hits"]
            .as_array()
            .expect("hits")
            .iter()
            .filter_map(|h| h["id"].as_str())
            .collect();
        let ids = if total <= 100 { ids } else { BTreeSet::new() };
        out.push(json!({ "q": q, "total": total, "ids": ids }));
    }
    let health: Value = client
        .get(format!("{base}/healthz"))
        .send()
        .await
        .expect("healthz")
        .json()
        .await
        .expect("json");
    out.push(json!({ "cards": health["cards"] }));
    out
}

/// Notes posted to each card in a round at most (see `post_feedback`).
const NOTES_PER_CARD_AND_ROUND: usize = 12;

/// Posts feedback on stable cards until told to stop; returns what was
/// acknowledged (201), which must all survive.
async fn post_feedback(
    client: reqwest::Client,
    base: String,
    round: usize,
    stop: Arc<AtomicBool>,
) -> Vec<(usize, String)> {
    let mut acknowledged = Vec::new();
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) {
        // A card lists its newest 200 notes: over all rounds, no card may
        // get more, or a fast machine "loses" the oldest from the list.
        if i == STABLE * NOTES_PER_CARD_AND_ROUND {
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        }
        let k = i % STABLE;
        let comment = format!("round {round} note {i}");
        i += 1;
        let sent = client
            .post(format!("{base}/api/v1/cards/s{}/card-{k}/feedback", k % 7))
            .json(&json!({ "verdict": "outdated", "comment": comment }))
            .send()
            .await;
        match sent {
            Ok(r) if r.status() == 201 => acknowledged.push((k, comment)),
            Ok(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            // The server is gone: it was killed.
            Err(_) => break,
        }
    }
    acknowledged
}

async fn stored_comments(client: &reqwest::Client, base: &str) -> BTreeSet<(usize, String)> {
    let mut stored = BTreeSet::new();
    for k in 0..STABLE {
        let body: Value = client
            .get(format!("{base}/api/v1/cards/s{}/card-{k}/feedback", k % 7))
            .send()
            .await
            .expect("feedback list")
            .json()
            .await
            .expect("json");
        for f in body["feedback"].as_array().expect("feedback") {
            if let Some(c) = f["comment"].as_str() {
                stored.insert((k, c.to_string()));
            }
        }
    }
    stored
}

fn random_pause(rng: &mut Rng, up_to: Duration) -> Duration {
    Duration::from_micros(rng.below(up_to.as_micros() as usize) as u64)
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_at_random_moments_the_server_comes_back_equal_to_a_fresh_build_and_keeps_acknowledged_feedback()
 {
    let seed = std::env::var("QUIRE_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64 | 1)
        });
    eprintln!("crash test seed: QUIRE_CRASH_SEED={seed}");
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let mut folder = Folder {
        root: dir.path().to_path_buf(),
        versions: Vec::new(),
        live: Vec::new(),
    };
    for k in 0..CARDS {
        folder.write(k, &mut rng);
    }
    let config = dir.path().join("quire.toml");
    let fresh_config = dir.path().join("fresh.toml");
    std::fs::write(
        &config,
        "content = \"content\"\ndata = \"data\"\nbind = \"127.0.0.1:0\"\n",
    )
    .unwrap();
    std::fs::write(
        &fresh_config,
        "content = \"content\"\ndata = \"fresh\"\nbind = \"127.0.0.1:0\"\nwatch = false\n\
         [insights]\nenabled = false\n",
    )
    .unwrap();
    let client = reqwest::Client::new();

    // An undisturbed cold build, to know how long one takes.
    let started = Instant::now();
    let server = Server::start(&config);
    wait_ready_within(&client, &server.base, READY).await;
    let build_time = started.elapsed();
    server.kill();
    eprintln!("cold build of {CARDS} cards: {build_time:?}");

    let mut acknowledged: BTreeSet<(usize, String)> = BTreeSet::new();
    for round in 1..=ROUNDS {
        let during_build = round % 3 == 1;
        let what = if during_build {
            "a cold build"
        } else {
            "a burst of edits"
        };
        if during_build {
            let _ = std::fs::remove_dir_all(dir.path().join("data/index"));
            let server = Server::start(&config);
            let pause = random_pause(&mut rng, build_time);
            tokio::time::sleep(pause).await;
            server.kill();
            eprintln!("round {round}: killed {pause:?} into a cold build");
        } else {
            let server = Server::start(&config);
            wait_ready_within(&client, &server.base, READY).await;
            let stop = Arc::new(AtomicBool::new(false));
            let feedback = tokio::spawn(post_feedback(
                client.clone(),
                server.base.clone(),
                round,
                stop.clone(),
            ));
            let ops = 50 + rng.below(400);
            let mut burst_rng = Rng(rng.next() | 1);
            let writer = std::thread::spawn(move || {
                folder.burst(ops, &mut burst_rng);
                folder
            });
            let pause = random_pause(&mut rng, Duration::from_millis(800));
            tokio::time::sleep(pause).await;
            server.kill();
            stop.store(true, Ordering::Relaxed);
            let acked = feedback.await.expect("feedback task");
            eprintln!(
                "round {round}: killed {pause:?} into a burst of {ops} edits, after {} acknowledged feedback",
                acked.len()
            );
            acknowledged.extend(acked);
            folder = writer.join().expect("the writer");
        }

        // Restarted over the same data: what it finds must be what a
        // fresh build over the same folder finds.
        let server = Server::start(&config);
        wait_ready_within(&client, &server.base, READY).await;
        let _ = std::fs::remove_dir_all(dir.path().join("fresh"));
        let fresh = Server::start(&fresh_config);
        wait_ready_within(&client, &fresh.base, READY).await;
        let queries = folder.queries(&mut rng);
        let after_crash = answers(&client, &server.base, &queries).await;
        let expected = answers(&client, &fresh.base, &queries).await;
        for (got, want) in after_crash.iter().zip(&expected) {
            assert_eq!(
                got, want,
                "round {round} (killed during {what}; seed {seed}): \
                 the restarted index differs from a fresh build"
            );
        }
        let stored = stored_comments(&client, &server.base).await;
        let lost: Vec<_> = acknowledged.difference(&stored).collect();
        assert!(
            lost.is_empty(),
            "round {round} (seed {seed}): acknowledged feedback lost: {lost:?}"
        );
        fresh.kill();
        server.kill();
    }
    assert!(
        !acknowledged.is_empty(),
        "no feedback was acknowledged in {ROUNDS} rounds: the test proved nothing"
    );
}
