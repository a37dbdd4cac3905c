//! Following a git remote: a local bare repository stands in for the forge.
//! The folder is cloned when empty, moved to each pushed commit (at once on
//! a signed webhook, else every `pull_seconds`), and anything that stands
//! in the way (a bad signature, a forced push, a deleted branch, a remote
//! gone, local edits) keeps the last good commit served and is reported.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use quire::config::{FollowConfig, SecretSource};
use serde_json::Value;
use tempfile::TempDir;

use crate::support::{TestKb, card, send, write_file};

const SECRET: &str = "a-webhook-secret-for-tests";

/// A bare repository (the forge) and a clone of it where an author
/// commits and pushes.
struct Forge {
    dir: TempDir,
    bare: PathBuf,
    author: PathBuf,
}

impl Forge {
    /// A forge whose `main` holds `cards` in one commit.
    fn with(cards: &[(&str, &str)]) -> Forge {
        let dir = tempfile::tempdir().expect("temp dir");
        let bare = dir.path().join("kb.git");
        let author = dir.path().join("author");
        git(
            dir.path(),
            &["init", "-q", "--bare", "-b", "main", "kb.git"],
        );
        git(dir.path(), &["init", "-q", "-b", "main", "author"]);
        git(&author, &["remote", "add", "origin", path_str(&bare)]);
        let forge = Forge { dir, bare, author };
        forge.push(cards, "first cards");
        forge
    }

    /// Commits `cards` (path, text) and pushes: the new commit's id.
    fn push(&self, cards: &[(&str, &str)], subject: &str) -> String {
        self.commit(cards, subject);
        git(&self.author, &["push", "-q", "origin", "main"]);
        self.head()
    }

    fn commit(&self, cards: &[(&str, &str)], subject: &str) {
        for (path, text) in cards {
            write_file(&self.author, path, text);
        }
        git(&self.author, &["add", "-A"]);
        git(
            &self.author,
            &[
                "-c",
                "user.name=Ann",
                "-c",
                "user.email=ann@example.com",
                "commit",
                "-q",
                "-m",
                subject,
            ],
        );
    }

    fn head(&self) -> String {
        git_out(&self.author, &["rev-parse", "HEAD"])
    }

    /// The content folder follows `main` of this forge.
    fn follow(&self, pull_seconds: u64) -> FollowConfig {
        let secret = self.dir.path().join("webhook-secret");
        std::fs::write(&secret, format!("{SECRET}\n")).expect("write the secret");
        FollowConfig {
            url: path_str(&self.bare).to_string(),
            branch: "main".into(),
            pull_seconds,
            timeout_seconds: 30,
            webhook_secret: Some(SecretSource::File(secret)),
        }
    }
}

/// git with no user or system configuration: the tests do not depend on
/// the machine's.
fn git_command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new("git");
    command
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir);
    command
}

fn git(dir: &Path, args: &[&str]) {
    let out = git_command(dir, args).output().expect("run git");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn git_out(dir: &Path, args: &[&str]) -> String {
    let out = git_command(dir, args).output().expect("run git");
    assert!(out.status.success(), "git {args:?} failed");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temp path")
}

/// A server over an empty content folder following `forge`.
async fn following(forge: &Forge, pull_seconds: u64) -> TestKb {
    let follow = forge.follow(pull_seconds);
    TestKb::configured(move |c| c.git.follow = Some(follow)).await
}

fn github_signature(body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).expect("any key");
    mac.update(body);
    format!(
        "sha256={}",
        quire::hex::encode(&mac.finalize().into_bytes())
    )
}

const PUSH_BODY: &[u8] = br#"{"ref":"refs/heads/main","after":"0123"}"#;

/// Posts a push webhook with `header: value`, returning the status.
async fn webhook(t: &TestKb, header: &str, value: &str) -> (u16, Value) {
    let request = t
        .client
        .post(t.url("/api/v1/git/push"))
        .header("content-type", "application/json")
        .header(header, value)
        .body(PUSH_BODY);
    send(request).await
}

async fn github_push(t: &TestKb) {
    let (status, body) = webhook(t, "X-Hub-Signature-256", &github_signature(PUSH_BODY)).await;
    assert_eq!(status, 202, "{body}");
}

async fn health(t: &TestKb) -> Value {
    t.get("/healthz").await.1
}

/// Waits until `/healthz` reports the git problem `code`, with a cause
/// that says `cause`.
async fn reported(t: &TestKb, code: &str, cause: &str) -> Value {
    t.eventually(&format!("the git problem {code} on /healthz"), || async {
        health(t).await["git"]["error"] == code
    })
    .await;
    let health = health(t).await;
    let said = health["git"]["cause"].as_str().unwrap_or("");
    assert!(said.contains(cause), "{health}");
    health
}

/// Waits until `q` finds `id`, giving back how long it took.
async fn found(t: &TestKb, q: &str, id: &str) -> Duration {
    let started = Instant::now();
    t.eventually(&format!("{q:?} to find {id}"), || async {
        t.search_ids(q).await.iter().any(|hit| hit == id)
    })
    .await;
    started.elapsed()
}

/// The last good commit is what the index holds, and its cards are served.
async fn still_serving(t: &TestKb, commit: &str, q: &str, id: &str) {
    let health = health(t).await;
    assert_eq!(health["status"], "degraded", "{health}");
    assert_eq!(health["commit"], commit, "{health}");
    assert!(t.search_ids(q).await.iter().any(|hit| hit == id));
}

const REFUNDS: (&str, &str) = (
    "support/refunds.md",
    "---\ntitle: Refunds\n---\nRefund annual plans within 30 days.\n",
);

/// The card the tests push; "quaterly" (misspelt) is its own word.
const INVOICES: (&str, &str) = (
    "billing/invoices.md",
    "---\ntitle: Invoices\n---\nDownload a quaterly invoice.\n",
);

#[tokio::test]
async fn an_empty_folder_is_cloned_and_the_commit_served_is_told_everywhere() {
    let forge = Forge::with(&[REFUNDS]);
    let t = following(&forge, 3600).await;
    let commit = forge.head();
    let health = health(&t).await;
    assert_eq!(health["status"], "ready", "{health}");
    assert_eq!(health["commit"], commit.as_str());
    assert_eq!(health["git"]["branch"], "main");
    assert_eq!(t.search_ids("refund").await, ["support/refunds"]);
    assert!(t.path(".git").is_dir(), "the folder is a clone");

    let (_, metrics) = t.get_text("/metrics").await;
    assert!(
        metrics.contains(&format!(
            "quire_content_commit_info{{commit=\"{commit}\"}} 1"
        )),
        "{metrics}"
    );
    assert!(metrics.contains("quire_git_problem{kind=\"forced_push\"} 0"));
    let (_, page) = t.page("/").await;
    assert!(page.contains(&commit[..12]), "the footer names the commit");
}

#[tokio::test]
async fn a_pushed_commit_is_searchable_within_a_second_of_the_webhook() {
    let forge = Forge::with(&[REFUNDS]);
    let t = following(&forge, 3600).await;
    let commit = forge.push(&[INVOICES], "invoices");
    github_push(&t).await;
    let took = found(&t, "quaterly", "billing/invoices").await;
    eprintln!("searchable {took:?} after the webhook");
    assert!(
        took < Duration::from_secs(1),
        "searchable {took:?} after the webhook"
    );
    t.eventually("the new commit on /healthz", || async {
        health(&t).await["commit"] == commit.as_str()
    })
    .await;

    // Gitea/Forgejo sign the same way without the prefix; GitLab sends the
    // secret itself.
    let next = forge.push(
        &[(
            "billing/vat.md",
            &card("VAT", "Reverse charge for EU companies."),
        )],
        "vat",
    );
    let signature = github_signature(PUSH_BODY);
    let hex = signature.trim_start_matches("sha256=");
    assert_eq!(webhook(&t, "X-Gitea-Signature", hex).await.0, 202);
    found(&t, "reverse charge", "billing/vat").await;
    assert_eq!(webhook(&t, "X-Gitlab-Token", SECRET).await.0, 202);
    t.eventually("the last commit on /healthz", || async {
        health_commit(&t).await == next
    })
    .await;
}

#[tokio::test]
async fn a_pushed_commit_is_searchable_within_pull_seconds_without_a_webhook() {
    let forge = Forge::with(&[REFUNDS]);
    let t = following(&forge, 1).await;
    forge.push(&[INVOICES], "invoices");
    let took = found(&t, "quaterly", "billing/invoices").await;
    eprintln!("searchable {took:?} after the push, pull_seconds = 1");
    // One interval, plus the fetch and the index's commit.
    assert!(
        took < Duration::from_millis(2_000),
        "searchable {took:?} after the push"
    );
}

#[tokio::test]
async fn a_bad_signature_gets_401_and_changes_nothing() {
    let forge = Forge::with(&[REFUNDS]);
    let t = following(&forge, 3600).await;
    let served = forge.head();
    forge.push(&[INVOICES], "invoices");
    let wrong = github_signature(b"another body");
    for (header, value) in [
        ("X-Hub-Signature-256", wrong.as_str()),
        ("X-Gitea-Signature", "00ff"),
        ("X-Gitlab-Token", "not-the-secret-at-all"),
        ("X-Other", "x"),
    ] {
        let (status, body) = webhook(&t, header, value).await;
        assert_eq!(status, 401, "{header}: {body}");
        assert_eq!(body["code"], "invalid_signature");
    }
    // The webhook never woke the follower: no fetch but the clone.
    let remote = t.kb.remote().expect("a followed remote");
    assert_eq!(remote.counts().webhooks, 0);
    assert_eq!(remote.counts().fetches, 1);
    assert_eq!(health(&t).await["commit"], served.as_str());
    assert!(t.search_ids("quaterly").await.is_empty());
}

#[tokio::test]
async fn a_forced_push_keeps_the_last_good_commit_served_and_is_reported() {
    let forge = Forge::with(&[REFUNDS]);
    let first = forge.head();
    let t = following(&forge, 3600).await;
    let good = forge.push(&[INVOICES], "invoices");
    github_push(&t).await;
    found(&t, "quaterly", "billing/invoices").await;

    // History rewritten: the invoices commit is gone from the branch.
    git(&forge.author, &["reset", "-q", "--hard", &first]);
    forge.commit(
        &[("billing/vat.md", &card("VAT", "Reverse charge rules."))],
        "vat",
    );
    git(&forge.author, &["push", "-q", "--force", "origin", "main"]);
    github_push(&t).await;

    reported(&t, "forced_push", "forced push").await;
    still_serving(&t, &good, "quaterly", "billing/invoices").await;
    assert!(t.search_ids("reverse charge").await.is_empty());
    assert_eq!(git_out(t.content.path(), &["rev-parse", "HEAD"]), good);
    let (_, problems) = t.page("/problems").await;
    assert!(
        problems.contains("does not contain the commit served"),
        "{problems}"
    );
    let (_, metrics) = t.get_text("/metrics").await;
    assert!(
        metrics.contains("quire_git_problem{kind=\"forced_push\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_deleted_branch_keeps_the_last_good_commit_served_and_is_reported() {
    let forge = Forge::with(&[REFUNDS]);
    let t = following(&forge, 3600).await;
    let served = forge.head();
    git(&forge.bare, &["update-ref", "-d", "refs/heads/main"]);
    github_push(&t).await;
    reported(&t, "branch_missing", "\"main\"").await;
    still_serving(&t, &served, "refund", "support/refunds").await;
}

#[tokio::test]
async fn an_unreachable_remote_keeps_the_last_good_commit_served_and_is_reported() {
    let forge = Forge::with(&[REFUNDS]);
    let t = following(&forge, 3600).await;
    let served = forge.head();
    let away = forge.dir.path().join("moved-away.git");
    std::fs::rename(&forge.bare, &away).expect("take the remote away");
    github_push(&t).await;
    reported(&t, "remote_unreachable", "cannot be reached").await;
    still_serving(&t, &served, "refund", "support/refunds").await;
    let (_, metrics) = t.get_text("/metrics").await;
    assert!(
        metrics.contains("quire_git_fetch_failures_total 1"),
        "{metrics}"
    );

    // Back again: the next push is followed and the report goes.
    std::fs::rename(&away, &forge.bare).expect("bring the remote back");
    forge.push(&[INVOICES], "invoices");
    github_push(&t).await;
    found(&t, "quaterly", "billing/invoices").await;
    t.eventually("the report to clear", || async {
        health(&t).await["status"] == "ready"
    })
    .await;
}

#[tokio::test]
async fn local_edits_are_never_lost_and_block_only_a_move_that_would_overwrite_them() {
    let forge = Forge::with(&[
        REFUNDS,
        (
            "support/shipping.md",
            "---\ntitle: Shipping\n---\nWe ship worldwide.\n",
        ),
    ]);
    let t = following(&forge, 3600).await;
    let served = forge.head();
    let local = "---\ntitle: Refunds\n---\nLocal draft about chargebacks.\n";
    t.write("support/refunds.md", local);
    t.write(
        "support/notes.md",
        "---\ntitle: Notes\n---\nUntracked notes.\n",
    );

    // The remote changes the edited file: not moved, reported.
    forge.push(
        &[(
            "support/refunds.md",
            "---\ntitle: Refunds\n---\nRefunds within 14 days.\n",
        )],
        "refunds: 14 days",
    );
    github_push(&t).await;
    let health = reported(&t, "local_edits", "local edits").await;
    assert_eq!(health["commit"], served.as_str());
    let on_disk = std::fs::read_to_string(t.path("support/refunds.md")).expect("read the card");
    assert_eq!(on_disk, local, "the local edit is kept");
    let (_, problems) = t.page("/problems").await;
    assert!(
        problems.contains("support/refunds.md"),
        "the edited file is named"
    );

    // The edit undone, the next push goes through; the untracked file,
    // which the remote does not touch, stays.
    git(t.content.path(), &["checkout", "--", "support/refunds.md"]);
    let next = forge.push(
        &[(
            "support/shipping.md",
            "---\ntitle: Shipping\n---\nWe ship to the moon.\n",
        )],
        "shipping",
    );
    github_push(&t).await;
    found(&t, "moon", "support/shipping").await;
    t.eventually("the new commit served", || async {
        health_commit(&t).await == next
    })
    .await;
    assert!(
        t.path("support/notes.md").is_file(),
        "the untracked file is kept"
    );
}

async fn health_commit(t: &TestKb) -> String {
    health(t).await["commit"].as_str().unwrap_or("").to_string()
}

#[tokio::test]
async fn without_a_remote_the_webhook_is_not_configured_and_the_folder_is_served_as_it_is() {
    let t = TestKb::start(&[REFUNDS]).await;
    let (status, body) = webhook(&t, "X-Gitlab-Token", SECRET).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["code"], "not_configured");
    assert!(health(&t).await.get("git").is_none());
}

#[tokio::test]
async fn a_restart_over_an_existing_clone_fetches_at_once() {
    let forge = Forge::with(&[REFUNDS]);
    let mut t = following(&forge, 3600).await;
    t.stop().await;
    let content = std::mem::replace(&mut t.content, tempfile::tempdir().expect("tmp"));
    let data = std::mem::replace(&mut t.data, tempfile::tempdir().expect("tmp"));
    let commit = forge.push(&[INVOICES], "invoices");
    // An hour between fetches, and no webhook: only the fetch at start-up
    // can bring the new commit.
    let follow = forge.follow(3600);
    let t = TestKb::serve_with(content, data, move |c| c.git.follow = Some(follow)).await;
    found(&t, "quaterly", "billing/invoices").await;
    t.eventually("the new commit served", || async {
        health_commit(&t).await == commit
    })
    .await;
}
