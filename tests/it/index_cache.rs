//! The index is a cache that heals itself: deleted or damaged under a
//! running server, it is rebuilt in place from the content, `/healthz` says
//! why without naming a path, and no search fails once it is rebuilt.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{DEADLINE, TestKb, card};

/// Words found in one card each.
const WORDS: [&str; 12] = [
    "alpaca", "bison", "caracal", "dingo", "eland", "ferret", "gibbon", "hyrax", "impala",
    "jackal", "kinkajou", "lemur",
];

fn cards() -> Vec<(String, String)> {
    WORDS
        .iter()
        .map(|w| {
            (
                format!("animals/{w}.md"),
                card(w, &format!("All about the {w}.")),
            )
        })
        .collect()
}

async fn start() -> TestKb {
    let cards = cards();
    let refs: Vec<(&str, &str)> = cards
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    TestKb::start(&refs).await
}

fn index_dir(t: &TestKb) -> PathBuf {
    t.data
        .path()
        .join(format!("index/v{}", quire::index::schema::VERSION))
}

/// Whether every card is found by its word, with a 200.
async fn every_card_is_found(t: &TestKb) -> bool {
    for word in WORDS {
        let (status, body) = t.get(&format!("/api/v1/search?q={word}")).await;
        if status != 200 || crate::support::hit_ids(&body) != [format!("animals/{word}")] {
            return false;
        }
    }
    true
}

async fn rebuilds(t: &TestKb) -> u64 {
    let (_, metrics) = t.get_text("/metrics").await;
    metrics
        .lines()
        .find_map(|l| l.strip_prefix("quire_index_rebuilds_total "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

/// Polls `/healthz` until `done`, asserting on every answer that it names
/// no path of the data or content folder; the answers seen.
async fn watch_healthz(t: &TestKb, what: &str, done: impl AsyncFn(&TestKb) -> bool) -> Vec<Value> {
    let folders = [
        t.data.path().display().to_string(),
        t.content.path().display().to_string(),
    ];
    let mut seen = Vec::new();
    let started = Instant::now();
    loop {
        let (status, text) = t.get_text("/healthz").await;
        assert_eq!(status, 200, "{text}");
        for folder in &folders {
            assert!(
                !text.contains(folder.as_str()),
                "/healthz names a path: {text}"
            );
        }
        seen.push(serde_json::from_str(&text).unwrap_or(Value::String(text)));
        if done(t).await {
            return seen;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "timed out waiting for {what}; last /healthz: {:?}; rebuilds: {}",
            seen.last(),
            rebuilds(t).await
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_index_folder_is_recreated_with_every_card_and_healthz_never_names_a_path() {
    let t = start().await;
    assert!(every_card_is_found(&t).await);
    std::fs::remove_dir_all(t.data.path().join("index")).unwrap();
    t.write(
        "animals/alpaca.md",
        &card("alpaca", "All about the alpaca, a cousin of the vicuna."),
    );
    let seen = watch_healthz(&t, "the edit to be searchable", async |t| {
        t.search_ids("vicuna").await == ["animals/alpaca"]
    })
    .await;
    assert!(every_card_is_found(&t).await);
    for health in &seen {
        if health["status"] == "degraded" {
            assert_eq!(
                health["index_error"],
                "the index folder was deleted; rebuilding it from the content",
                "{health}"
            );
        }
    }
    assert!(index_dir(&t).join("meta.json").exists());
    assert_eq!(rebuilds(&t).await, 1);
    t.eventually("healthz to say ready again", || async {
        t.get("/healthz").await.1["status"] == "ready"
    })
    .await;
    let (_, health) = t.get("/healthz").await;
    assert_eq!(
        health["index_rebuilt"]["cause"],
        "the index folder was deleted"
    );
    let (_, problems) = t.page("/problems").await;
    assert!(
        problems.contains("because the index folder was deleted"),
        "{problems}"
    );

    // What was rebuilt is what a restart opens: nothing read again.
    let t = t.restart().await;
    assert!(every_card_is_found(&t).await);
    assert_eq!(t.search_ids("vicuna").await, ["animals/alpaca"]);
    assert_eq!(rebuilds(&t).await, 0);
}

/// Inverts 50 bytes in the middle of each of the index's files ending in
/// `.ext`; how many files it changed.
fn corrupt(dir: &Path, ext: &str) -> usize {
    let mut changed = 0;
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some(ext) {
            continue;
        }
        let mut bytes = std::fs::read(&path).unwrap();
        let middle = bytes.len() / 2;
        let end = (middle + 50).min(bytes.len());
        for byte in &mut bytes[middle.saturating_sub(25)..end.saturating_sub(25)] {
            *byte ^= 0xff;
        }
        std::fs::write(&path, bytes).unwrap();
        changed += 1;
    }
    changed
}

#[tokio::test(flavor = "multi_thread")]
async fn a_damaged_index_file_is_found_by_its_checksum_after_a_restart_and_rebuilt() {
    let mut t = start().await;
    for ext in ["store", "idx", "term", "pos"] {
        t.stop().await;
        assert!(corrupt(&index_dir(&t), ext) > 0, "no .{ext} file");
        t = t.restart().await;
        // Damage that stops the index from opening is rebuilt before
        // serving; the rest is found by the checksums once serving.
        let seen = watch_healthz(&t, "the damaged index to be rebuilt", async |t| {
            rebuilds(t).await == 1 && t.get("/healthz").await.1["status"] == "ready"
        })
        .await;
        for health in &seen {
            if health["status"] == "degraded" {
                assert_eq!(
                    health["index_error"], "the index is damaged; rebuilding it from the content",
                    "{health}"
                );
            }
        }
        let (_, health) = t.get("/healthz").await;
        let cause = health["index_rebuilt"]["cause"]
            .as_str()
            .unwrap_or_default();
        assert!(
            [
                "the index is damaged",
                "the index could not be opened",
                "the index could not be read",
            ]
            .contains(&cause),
            ".{ext}: {health}"
        );
        let (_, problems) = t.page("/problems").await;
        assert!(
            problems.contains(&format!("because {cause}")),
            ".{ext}: {problems}"
        );
        // Rebuilt: every query answers, and with the right card.
        for _ in 0..3 {
            assert!(every_card_is_found(&t).await, "after damage in .{ext}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_data_folder_too_small_for_the_index_is_degraded_until_there_is_room() {
    use crate::faults::{degraded_by_a_full_disk, eventually, get, sandboxed, search_ids};
    let dir = tempfile::tempdir().unwrap();
    // About 3 MB of text, for a data folder of 1 MB.
    for n in 0..300 {
        let words: Vec<String> = (0..1500).map(|i| format!("w{n}x{i}")).collect();
        crate::support::write_file(
            dir.path(),
            &format!("content/bulk/c{n}.md"),
            &card(&format!("Card {n}"), &words.join(" ")),
        );
    }
    crate::support::write_file(
        dir.path(),
        "content/a/refunds.md",
        &card("Refunds", "Annual plans are refunded pro rata."),
    );
    let mut server = sandboxed(dir.path(), "1m", false);
    let base = server.address();
    let client = reqwest::Client::new();
    let health = degraded_by_a_full_disk(&client, &base).await;
    assert!(
        !health["index_error"]
            .as_str()
            .unwrap_or_default()
            .contains(&dir.path().display().to_string()),
        "{health}"
    );

    // Room again: the build is retried and completes by itself.
    server.ask("grow", "grown");
    // The failure is cleared just after the commit that makes the cards
    // searchable.
    eventually(
        "every card to be searchable, and /healthz ready",
        || async {
            search_ids(&client, &base, "refunded").await == ["a/refunds"]
                && search_ids(&client, &base, "w299x0").await == ["bulk/c299"]
                && get(&client, format!("{base}/healthz")).await.1["status"] == "ready"
        },
    )
    .await;
    let (_, health) = get(&client, format!("{base}/healthz")).await;
    assert_eq!(health["cards"], 301, "{health}");
}
