//! Disk faults: a full disk under the data folder, and a read-only one.
//! The server says so clearly, keeps serving what it has, stores nothing it
//! cannot keep, and catches up by itself once the disk is fixed.
//!
//! The data folder is a small tmpfs mounted in a private mount namespace
//! (`unshare`), so the test needs no privileges and touches no real disk.
//! A shell inside the namespace fills and frees it when asked through
//! marker files.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{DEADLINE, card, encode, wait_ready, write_file};

/// Runs `quire serve` with `<dir>/data` on a tmpfs of `size`; the shell
/// fills the tmpfs when `<dir>/fill` appears (then writes `filled`),
/// empties it when `<dir>/free` appears (then writes `freed`), and makes it
/// 64 MB when `<dir>/grow` appears (then writes `grown`).
const SCRIPT: &str = r#"
set -u
mount -t tmpfs -o "size=$SIZE$MODE" tmpfs "$DIR/data" || exit 97
"$QUIRE" --config "$DIR/quire.toml" serve &
while :; do
  if [ -e "$DIR/fill" ] && [ ! -e "$DIR/filled" ]; then
    dd if=/dev/zero of="$DIR/data/filler" bs=16k 2>/dev/null
    touch "$DIR/filled"
  fi
  if [ -e "$DIR/free" ] && [ ! -e "$DIR/freed" ]; then
    rm -f "$DIR/data/filler"
    touch "$DIR/freed"
  fi
  if [ -e "$DIR/grow" ] && [ ! -e "$DIR/grown" ]; then
    mount -o remount,size=64m "$DIR/data"
    touch "$DIR/grown"
  fi
  if ! kill -0 $! 2>/dev/null; then wait $!; exit $?; fi
  sleep 0.02
done
"#;

pub(crate) struct Sandboxed {
    child: std::process::Child,
    dir: std::path::PathBuf,
}

impl Drop for Sandboxed {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn sandboxed(dir: &Path, size: &str, read_only: bool) -> Sandboxed {
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(
        dir.join("quire.toml"),
        "content = \"content\"\ndata = \"data\"\nbind = \"127.0.0.1:0\"\n",
    )
    .unwrap();
    let child = Command::new("unshare")
        // A user and mount namespace of our own; the pid namespace ends
        // every process in it when `unshare` is killed.
        .args([
            "--map-root-user",
            "--mount",
            "--pid",
            "--fork",
            "--kill-child",
            "sh",
            "-c",
            SCRIPT,
        ])
        .env("DIR", dir)
        .env("SIZE", size)
        .env("MODE", if read_only { ",ro" } else { "" })
        .env("QUIRE", env!("CARGO_BIN_EXE_quire"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("unshare (util-linux) runs the server in its own mount namespace");
    Sandboxed {
        child,
        dir: dir.to_path_buf(),
    }
}

impl Sandboxed {
    /// The server's address, once it listens.
    pub(crate) fn address(&mut self) -> String {
        crate::support::listening_address(&mut self.child)
    }

    /// Waits (with a deadline) for the server to end by itself; its exit
    /// status and log.
    fn exit(mut self) -> (Option<i32>, String) {
        let mut stderr = self.child.stderr.take().expect("stderr");
        let reader = std::thread::spawn(move || {
            let mut log = String::new();
            let _ = std::io::Read::read_to_string(&mut stderr, &mut log);
            log
        });
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            assert!(started.elapsed() < DEADLINE, "the server did not exit");
            std::thread::sleep(Duration::from_millis(10));
        };
        (status.code(), reader.join().expect("log"))
    }

    /// Asks the shell in the namespace to do `what` and waits until done.
    pub(crate) fn ask(&self, what: &str, done: &str) {
        std::fs::write(self.dir.join(what), "").unwrap();
        let started = Instant::now();
        while !self.dir.join(done).exists() {
            assert!(started.elapsed() < DEADLINE, "{what} never finished");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

pub(crate) async fn get(client: &reqwest::Client, url: String) -> (u16, Value) {
    crate::support::send(client.get(url)).await
}

pub(crate) async fn search_ids(client: &reqwest::Client, base: &str, q: &str) -> Vec<String> {
    let (_, body) = get(client, format!("{base}/api/v1/search?q={}", encode(q))).await;
    crate::support::hit_ids(&body)
        .into_iter()
        .map(String::from)
        .collect()
}

pub(crate) async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < DEADLINE * 3, "never: {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Waits for `/healthz` to say degraded, checks that the cause is a full
/// disk, and returns the answer.
pub(crate) async fn degraded_by_a_full_disk(client: &reqwest::Client, base: &str) -> Value {
    eventually("/healthz reports the index failure", || async {
        let (status, body) = get(client, format!("{base}/healthz")).await;
        status == 200 && body["status"] == "degraded"
    })
    .await;
    let (_, health) = get(client, format!("{base}/healthz")).await;
    let error = health["index_error"].as_str().unwrap_or_default();
    assert!(error.contains("No space left on device"), "{health}");
    health
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_stops_indexing_and_feedback_loudly_and_serving_goes_on_then_it_catches_up() {
    let dir = tempfile::tempdir().unwrap();
    write_file(
        dir.path(),
        "content/a/refunds.md",
        &card("Refunds", "Annual plans are refunded pro rata."),
    );
    write_file(
        dir.path(),
        "content/a/vpn.md",
        &card("VPN", "Install the client first."),
    );
    let mut server = sandboxed(dir.path(), "8m", false);
    let base = server.address();
    let client = reqwest::Client::new();
    wait_ready(&client, &base).await;
    assert_eq!(search_ids(&client, &base, "refunded").await, ["a/refunds"]);

    server.ask("fill", "filled");
    // A saved edit cannot reach the index: said on /healthz (still 200:
    // the site serves), on the problems page, and in the log.
    write_file(
        dir.path(),
        "content/a/refunds.md",
        &card(
            "Refunds",
            "Annual plans are credited, never refunded in cash. zebrafinch",
        ),
    );
    degraded_by_a_full_disk(&client, &base).await;
    let (status, problems) = crate::support::send(client.get(format!("{base}/problems"))).await;
    assert_eq!(status, 200);
    assert!(
        problems
            .as_str()
            .unwrap_or_default()
            .contains("Saved changes are not reaching search"),
        "{problems}"
    );
    // What was indexed is served as it was.
    assert_eq!(search_ids(&client, &base, "refunded").await, ["a/refunds"]);
    assert!(search_ids(&client, &base, "zebrafinch").await.is_empty());
    let (status, card) = get(&client, format!("{base}/api/v1/cards/a/vpn")).await;
    assert_eq!((status, card["title"].as_str()), (200, Some("VPN")));
    // Feedback the disk cannot take is refused, never acknowledged.
    let mut refused = 0;
    for i in 0..200 {
        let (status, body) = crate::support::send(
            client
                .post(format!("{base}/api/v1/cards/a/vpn/feedback"))
                .json(
                    &json!({"verdict": "outdated", "comment": format!("{i} {}", "x".repeat(1900))}),
                ),
        )
        .await;
        match status {
            201 => {}
            503 => {
                assert_eq!(body["code"], "storage_unavailable", "{body}");
                refused += 1;
                break;
            }
            other => panic!("feedback on a full disk answered {other}: {body}"),
        }
    }
    assert_eq!(refused, 1, "a full disk never refused feedback");

    // Space again: no further edit is needed to catch up.
    server.ask("free", "freed");
    eventually(
        "the edit made while the disk was full is searchable",
        || async { search_ids(&client, &base, "zebrafinch").await == ["a/refunds"] },
    )
    .await;
    // The edit is visible at the commit; the failure is cleared once the
    // whole step (a reconcile) is done.
    eventually("/healthz is ready again", || async {
        get(&client, format!("{base}/healthz")).await.1["status"] == "ready"
    })
    .await;
    let (status, _) = crate::support::send(
        client
            .post(format!("{base}/api/v1/cards/a/vpn/feedback"))
            .json(&json!({"verdict": "helpful"})),
    )
    .await;
    assert_eq!(status, 201);
}

#[test]
fn a_read_only_data_folder_is_refused_at_start_with_the_folder_and_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    write_file(
        dir.path(),
        "content/a/refunds.md",
        &card("Refunds", "Text."),
    );
    let (status, log) = sandboxed(dir.path(), "1m", true).exit();
    assert_eq!(status, Some(1), "{log}");
    assert!(log.contains("Read-only file system"), "{log}");
    assert!(
        log.contains(&format!("{}", dir.path().join("data").display())),
        "{log}"
    );
}
