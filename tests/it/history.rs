//! Git history: each card shows its last commit (author, date, subject) and
//! a link to its history, read in one pass and followed as commits arrive.

use std::path::Path;
use std::process::Command;

use crate::support::{TestKb, write_file};

fn git(repo: &Path, args: &[&str]) {
    let status = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .status()
        .expect("run git");
    assert!(status.success(), "git {args:?} failed");
}

fn commit(repo: &Path, who: &str, date: &str, subject: &str) {
    git(repo, &["add", "-A"]);
    let author = format!("{who} <{}@example.com>", who.to_lowercase());
    git(
        repo,
        &[
            "-c",
            &format!("user.name={who}"),
            "-c",
            &format!("user.email={}@example.com", who.to_lowercase()),
            "commit",
            "-q",
            "--author",
            &author,
            "--date",
            date,
            "-m",
            subject,
        ],
    );
}

const REFUNDS: &str = "---\ntitle: Refunds\n---\nRefund annual plans within 30 days.\n";

#[tokio::test]
async fn a_card_shows_its_last_commit_and_follows_new_ones() {
    let repo = tempfile::tempdir().expect("temp repo");
    git(repo.path(), &["init", "-q"]);
    let docs = repo.path().join("docs");
    write_file(&docs, "support/refunds.md", REFUNDS);
    write_file(
        &docs,
        "support/dated.md",
        "---\ntitle: Dated\nupdated: 2024-01-02\n---\nText.\n",
    );
    commit(repo.path(), "Ann", "2026-01-05T10:00:00Z", "Add refunds");
    write_file(
        &docs,
        "support/refunds.md",
        &format!("{REFUNDS}\nAlso monthly plans.\n"),
    );
    commit(
        repo.path(),
        "Bob",
        "2026-02-07T10:00:00Z",
        "Refunds: monthly plans too",
    );

    let t = TestKb::serve_with(repo, tempfile::tempdir().expect("data"), |c| {
        c.content_dir = docs.clone();
        c.git.history_url = Some("https://git.example.com/kb/history/{path}".into());
        c.git.poll_seconds = 1;
    })
    .await;
    t.eventually("git history to be read", || async {
        t.get("/api/v1/cards/support/refunds").await.1["last_change"].is_object()
    })
    .await;
    let (_, card) = t.get("/api/v1/cards/support/refunds").await;
    assert_eq!(card["last_change"]["author"], "Bob");
    assert_eq!(card["last_change"]["email"], "bob@example.com");
    assert_eq!(card["last_change"]["date"], "2026-02-07");
    assert_eq!(card["last_change"]["subject"], "Refunds: monthly plans too");
    assert_eq!(
        card["updated"], "2026-02-07",
        "no `updated`: the commit's date"
    );
    assert_eq!(
        card["history_url"],
        "https://git.example.com/kb/history/docs/support/refunds.md"
    );
    let (_, dated) = t.get("/api/v1/cards/support/dated").await;
    assert_eq!(
        dated["updated"], "2024-01-02",
        "`updated` in front matter wins"
    );
    assert_eq!(dated["last_change"]["author"], "Ann");

    let (_, page) = t.page("/cards/support/refunds").await;
    assert!(page.contains("Last change by"), "{page}");
    assert!(page.contains("Refunds: monthly plans too"));
    assert!(page.contains("href=\"https://git.example.com/kb/history/docs/support/refunds.md\""));

    // A commit made while serving shows without a restart.
    let root = docs.parent().expect("repo root").to_path_buf();
    write_file(
        &docs,
        "support/refunds.md",
        &format!("{REFUNDS}\nAnd weekly.\n"),
    );
    commit(&root, "Cara", "2026-03-09T10:00:00Z", "Weekly plans");
    t.eventually("the new commit to show", || async {
        t.get("/api/v1/cards/support/refunds").await.1["last_change"]["author"] == "Cara"
    })
    .await;
    let (_, search) = t.get("/api/v1/search?q=refunds").await;
    assert_eq!(search["hits"][0]["updated"], "2026-03-09");
}

/// A repository on branch `main` holding `support/refunds.md` in one
/// commit, served as the content folder with git polled every second.
async fn serving_one_commit() -> (TestKb, std::path::PathBuf) {
    let repo = tempfile::tempdir().expect("temp repo");
    git(repo.path(), &["init", "-q", "-b", "main"]);
    write_file(repo.path(), "support/refunds.md", REFUNDS);
    commit(repo.path(), "Ann", "2026-01-05T10:00:00Z", "Add refunds");
    let root = repo.path().to_path_buf();
    let t = TestKb::serve_with(repo, tempfile::tempdir().expect("data"), |c| {
        c.content_dir = root.clone();
        c.git.poll_seconds = 1;
    })
    .await;
    (t, root)
}

#[tokio::test]
async fn an_origin_added_while_serving_gives_each_card_its_edit_and_history_links() {
    let (t, root) = serving_one_commit().await;
    t.eventually("git history to be read", || async {
        t.get("/api/v1/cards/support/refunds").await.1["last_change"].is_object()
    })
    .await;
    let (_, card) = t.get("/api/v1/cards/support/refunds").await;
    assert!(card["edit_url"].is_null(), "no remote, no forge: {card}");

    git(
        &root,
        &[
            "remote",
            "add",
            "origin",
            "git@github.com:acme/handbook.git",
        ],
    );
    t.eventually("the new remote's links", || async {
        t.get("/api/v1/cards/support/refunds").await.1["edit_url"]
            == "https://github.com/acme/handbook/edit/main/support/refunds.md"
    })
    .await;
    let (_, page) = t.page("/cards/support/refunds").await;
    assert!(page.contains(
        r#"href="https://github.com/acme/handbook/edit/main/support/refunds.md" rel="noopener">Edit this card</a>"#
    ));
    assert!(page.contains("https://github.com/acme/handbook/commits/main/support/refunds.md"));
}

#[tokio::test]
async fn a_card_moved_with_git_mv_keeps_its_old_url() {
    let (t, root) = serving_one_commit().await;
    std::fs::create_dir_all(root.join("billing")).expect("mkdir");
    git(&root, &["mv", "support/refunds.md", "billing/refunds.md"]);
    commit(
        &root,
        "Bob",
        "2026-02-05T10:00:00Z",
        "Move refunds to billing",
    );
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    t.eventually("the old URL to redirect", || async {
        let response = no_redirects
            .get(t.url("/cards/support/refunds"))
            .send()
            .await
            .expect("request");
        response.status() == 301 && response.headers()["location"] == "/cards/billing/refunds"
    })
    .await;
    let (status, card) = t.get("/api/v1/cards/support/refunds").await;
    assert_eq!(
        (status, card["id"].clone()),
        (200, "billing/refunds".into())
    );
}

#[tokio::test]
async fn outside_git_the_modification_time_is_the_last_change() {
    let t = TestKb::start(&[("support/refunds.md", REFUNDS)]).await;
    let (_, card) = t.get("/api/v1/cards/support/refunds").await;
    assert!(card["last_change"].is_null(), "{card}");
    assert!(card["history_url"].is_null());
    let today = chrono::Utc::now().date_naive().to_string();
    assert_eq!(card["updated"], today.as_str());
}

#[test]
fn check_warns_of_a_translation_last_changed_before_its_source() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    git(repo, &["init", "-q"]);
    let verified = "verified_by: x@example.com\nverified_at: 2099-01-01\nverify_every: 1y\n";
    write_file(
        repo,
        "en/refunds.md",
        &format!("---\ntitle: Refunds\n{verified}---\nWithin 30 days.\n"),
    );
    write_file(
        repo,
        "ro/rambursari.md",
        &format!(
            "---\ntitle: Rambursări\ntranslation_of: en/refunds\n{verified}---\nÎn 30 de zile.\n"
        ),
    );
    commit(
        repo,
        "Ana",
        "2026-01-05T10:00:00Z",
        "Refunds in two languages",
    );
    write_file(
        repo,
        "en/refunds.md",
        &format!("---\ntitle: Refunds\n{verified}---\nWithin 14 days.\n"),
    );
    commit(repo, "Ben", "2026-03-01T10:00:00Z", "Refunds: 14 days now");
    let out = Command::new(env!("CARGO_BIN_EXE_quire"))
        .arg("--content")
        .arg(repo)
        .arg("check")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        [
            "ro/rambursari.md:1:1: warning: translation behind its source: `en/refunds` changed on 2026-03-01 (Refunds: 14 days now), this card last on 2026-01-05",
            "checked 2 cards: 0 errors, 1 warning",
        ],
        "{text}"
    );
}
