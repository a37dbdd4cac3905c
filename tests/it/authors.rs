//! What authors see: the problems page and a card's banner (changing as
//! files are fixed), the verification page, `quire check --stale` and
//! `quire new`.

use std::process::Command;

use crate::support::{TestKb, write_file};

const VERIFIED: &str = "verified_by: v@example.com\nverified_at: 2099-01-01\nverify_every: 1y";

#[tokio::test]
async fn the_problems_page_lists_what_check_finds_and_follows_fixes() {
    let t = TestKb::start(&[
        (
            "a/good.md",
            &format!("---\ntitle: Good\n{VERIFIED}\n---\nSee [[a/missing]].\n"),
        ),
        ("a/yaml.md", "---\ntitle: [unclosed\n---\nBody.\n"),
    ])
    .await;
    let (status, page) = t.page("/problems").await;
    assert_eq!(status, 200);
    assert!(page.contains("a/good.md:7:1"), "{page}");
    assert!(page.contains("broken link: no card or file `a/missing`"));
    assert!(page.contains("a/yaml.md:3:1"));
    assert!(page.contains("invalid YAML front matter"));
    // The card itself carries the problem, folded away from readers.
    let (_, card) = t.page("/cards/a/good").await;
    assert!(card.contains("1 problem for the authors"), "{card}");
    assert!(card.contains("broken link"));
    // A new card whose front matter is broken: its URL names the error.
    let (status, missing) = t.page("/cards/a/yaml").await;
    assert_eq!(status, 404);
    assert!(
        missing.contains("This card cannot be shown yet"),
        "{missing}"
    );
    assert!(missing.contains("invalid YAML front matter"), "{missing}");

    // Fixing the files clears them.
    t.write(
        "a/missing.md",
        &format!("---\ntitle: Missing\n{VERIFIED}\n---\nHere.\n"),
    );
    t.write(
        "a/yaml.md",
        &format!("---\ntitle: Fixed\n{VERIFIED}\n---\nBody.\n"),
    );
    t.eventually("the problems to be fixed", || async {
        t.page("/problems").await.1.contains("No problems")
    })
    .await;
    let (_, card) = t.page("/cards/a/good").await;
    assert!(!card.contains("for the authors"));
}

#[tokio::test]
async fn the_problems_page_lists_errors_before_warnings() {
    let t = TestKb::start(&[
        (
            "a/0-untitled.md",
            "---\ntags: [x]\n---\nFront matter, but no title.\n",
        ),
        ("a/yaml.md", "---\ntitle: [unclosed\n---\nBody.\n"),
    ])
    .await;
    let (_, page) = t.page("/problems").await;
    let at = |s: &str| {
        page.find(s)
            .unwrap_or_else(|| panic!("{s} missing: {page}"))
    };
    assert!(at("a/yaml.md:3:1") < at("a/0-untitled.md:1:1"));
}

#[tokio::test]
async fn a_broken_save_shows_the_last_good_version_and_says_so() {
    let t = TestKb::start(&[(
        "a/card.md",
        &format!("---\ntitle: Card\n{VERIFIED}\n---\nThe first good text.\n"),
    )])
    .await;
    t.write("a/card.md", "---\ntitle: [oops\n---\nA broken save.\n");
    // Until the save is whole, the watcher may read half of it (another
    // error): wait for this one.
    t.eventually("the broken save to be reported", || async {
        let page = t.page("/cards/a/card").await.1;
        page.contains("latest save of this card has an error")
            && page.contains("invalid YAML front matter")
    })
    .await;
    let (status, card) = t.page("/cards/a/card").await;
    assert_eq!(status, 200);
    assert!(
        card.contains("The first good text."),
        "the last good version"
    );
    assert!(card.contains("is shown."), "{card}");
    assert!(card.contains("<summary>For authors: what to fix</summary>"));
    assert!(card.contains("invalid YAML front matter"));
}

#[tokio::test]
async fn the_verification_page_groups_overdue_cards_by_owner_oldest_first() {
    let t = TestKb::start(&[
        ("a/old.md", "---\ntitle: Old\nowner: ann@example.com\nverified_by: bob@example.com\nverified_at: 2020-01-01\nverify_every: 30d\n---\nx\n"),
        ("a/older.md", "---\ntitle: Older\nowner: ann@example.com\nverified_by: bob@example.com\nverified_at: 2019-01-01\nverify_every: 30d\n---\nx\n"),
        ("a/never.md", "---\ntitle: Never\nowner: cara@example.com\n---\nx\n"),
        ("a/fine.md", &format!("---\ntitle: Fine\nowner: ann@example.com\n{VERIFIED}\n---\nx\n")),
    ])
    .await;
    let (status, page) = t.page("/verification").await;
    assert_eq!(status, 200);
    assert!(page.contains("3 cards need verification"), "{page}");
    let at = |s: &str| page.find(s).unwrap_or_else(|| panic!("{s} missing"));
    assert!(at("ann@example.com") < at("Older"));
    assert!(at("Older") < at(">Old<"), "the longest overdue first");
    assert!(
        at(">Old<") < at("cara@example.com"),
        "the most overdue owner first"
    );
    assert!(at("cara@example.com") < at("Never"));
    assert!(page.contains("stale since 2019-01-31"));
    assert!(page.contains("never verified"));
    assert!(!page.contains(">Fine<"));
}

#[test]
fn check_stale_prints_overdue_cards_by_owner() {
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path();
    write_file(
        c,
        "a/old.md",
        "---\ntitle: Old\nowner: ann@example.com\nverified_by: bob@example.com\nverified_at: 2020-01-01\nverify_every: 30d\n---\nx\n",
    );
    write_file(c, "a/never.md", "---\ntitle: Never\n---\nx\n");
    write_file(
        c,
        "a/fine.md",
        &format!("---\ntitle: Fine\n{VERIFIED}\n---\nx\n"),
    );
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_quire"))
            .arg("--content")
            .arg(c)
            .args(["check", "--stale"])
            .args(extra)
            .output()
            .unwrap()
    };
    let out = run(&[]);
    let text = String::from_utf8_lossy(&out.stdout);
    let days = (chrono::Local::now().date_naive()
        - chrono::NaiveDate::from_ymd_opt(2020, 1, 31).unwrap())
    .num_days();
    assert_eq!(
        text,
        format!(
            "(no owner): 1 card\n  a/never.md: never verified\n\
             ann@example.com: 1 card\n  a/old.md: stale for {days} days (since 2020-01-31; verified by bob@example.com)\n\
             2 cards need verification\n"
        )
    );
    assert_eq!(out.status.code(), Some(0), "a list, not a failure");
    assert_eq!(
        run(&["--strict"]).status.code(),
        Some(1),
        "--strict fails CI"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&run(&["--format", "json"]).stdout).unwrap();
    assert_eq!(json["ann@example.com"][0]["days_overdue"], days);
}

#[test]
fn quire_new_writes_a_card_check_accepts_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let content = dir.path().join("content");
    let new = |title: &str| {
        Command::new(env!("CARGO_BIN_EXE_quire"))
            .arg("--content")
            .arg(&content)
            .args(["new", "support/refunds/annual-plans", "--title", title])
            .args(["--owner", "ann@example.com"])
            .output()
            .unwrap()
    };
    let out = new("Annual plans: refunds");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = content.join("support/refunds/annual-plans.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let today = chrono::Local::now().date_naive().to_string();
    assert!(
        text.starts_with("---\ntitle: \"Annual plans: refunds\"\n"),
        "{text}"
    );
    assert!(text.contains("owner: \"ann@example.com\"\n"));
    assert!(text.contains(&format!("verified_at: {today}\n")));

    let again = new("Something else");
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "untouched");

    let check = Command::new(env!("CARGO_BIN_EXE_quire"))
        .arg("--content")
        .arg(&content)
        .args(["check", "--strict"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&check.stdout),
        "checked 1 card: 0 errors, 0 warnings\n"
    );
    assert_eq!(check.status.code(), Some(0));
}

#[test]
fn the_pre_commit_hook_checks_the_staged_cards() {
    let repo = tempfile::tempdir().unwrap();
    let r = repo.path();
    let git = |args: &[&str]| {
        let ok = Command::new("git")
            .current_dir(r)
            .args(args)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .status()
            .unwrap()
            .success();
        assert!(ok, "git {args:?}");
    };
    let hook = || {
        Command::new("sh")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/hooks/pre-commit"))
            .current_dir(r)
            .env("QUIRE", env!("CARGO_BIN_EXE_quire"))
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .unwrap()
    };
    git(&["init", "-q"]);
    write_file(
        r,
        "content/a/card.md",
        "---\ntitle: [unclosed\n---\nBody.\n",
    );
    git(&["add", "-A"]);
    let out = hook();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("a/card.md:3:1: error: invalid YAML front matter"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // Fixed in the index, broken again in the working tree: the commit is
    // what counts.
    write_file(r, "content/a/card.md", "---\ntitle: Card\n---\nBody.\n");
    git(&["add", "-A"]);
    write_file(
        r,
        "content/a/card.md",
        "---\ntitle: [unclosed\n---\nBody.\n",
    );
    assert_eq!(hook().status.code(), Some(0));
}
