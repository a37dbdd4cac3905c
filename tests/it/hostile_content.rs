//! Hostile content on disk: raw HTML that would take the sanitizer minutes,
//! FIFOs named like cards and attachments, file names that forge output
//! lines or spell accents another way (issue 14, items 3, 6 and 12).

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::{DEADLINE, TestKb, card, write_file};

/// 100,000 nested `<div>`s: 81 s per view before raw HTML had a budget.
fn nested_divs() -> String {
    card("Divs", &format!("{}\n", "<div>".repeat(100_000)))
}

/// Tag soup the HTML parser keeps reopening: 13-50 s per view before.
fn tag_soup() -> String {
    card("Soup", &"x <p><b><i><u><s>x</p>".repeat(20_000))
}

/// The status and how long a GET took.
async fn timed(t: &TestKb, path: &str) -> (u16, String, Duration) {
    let started = Instant::now();
    let (status, body) = t.get_text(path).await;
    (status, body, started.elapsed())
}

#[tokio::test(flavor = "multi_thread")]
async fn raw_html_bombs_render_in_well_under_a_second_and_are_reported() {
    let t = TestKb::start(&[
        ("b/divs.md", &nested_divs()),
        ("b/soup.md", &tag_soup()),
        (
            "b/fine.md",
            &card(
                "Fine",
                "<details><summary>More</summary>\n\nok\n\n</details>",
            ),
        ),
        ("b/_index.md", &nested_divs()),
    ])
    .await;
    let (status, _, took) = timed(&t, "/collections/b").await;
    assert_eq!(status, 200);
    assert!(took < Duration::from_secs(2), "a folder page took {took:?}");
    for id in ["b/divs", "b/soup"] {
        for path in [
            format!("/cards/{id}"),
            format!("/cards/{id}"),
            format!("/api/v1/cards/{id}?format=html"),
        ] {
            let (status, body, took) = timed(&t, &path).await;
            assert_eq!(status, 200, "{path}");
            assert!(took < Duration::from_secs(2), "{path} took {took:?}");
            assert!(
                body.contains("&lt;"),
                "{path}: the raw HTML is shown as text"
            );
        }
        let (_, card) = t.get(&format!("/api/v1/cards/{id}")).await;
        let problems = card["problems"].to_string();
        assert!(
            problems.contains("raw HTML too deeply nested"),
            "{id}: {problems}"
        );
    }
    let (_, fine) = t.get_text("/cards/b/fine").await;
    assert!(fine.contains("<details>"), "ordinary raw HTML stays HTML");
    let findings: Vec<String> = t.kb.findings().iter().map(|p| p.to_string()).collect();
    for line in [
        "b/divs.md:4:1: error: raw HTML",
        "b/soup.md:4:1: error: raw HTML",
        "b/_index.md:4:1: error: raw HTML",
    ] {
        assert!(
            findings.iter().any(|f| f.starts_with(line)),
            "{line} in {findings:#?}"
        );
    }
    let (_, page) = t.page("/problems").await;
    assert!(page.contains("raw HTML too deeply nested"), "{page}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_kept_rendering_follows_edits_and_links_to_cards_that_appear() {
    let t = TestKb::start(&[("a/from.md", &card("From", "See [[later]]."))]).await;
    let (_, first) = t.get_text("/cards/a/from").await;
    assert!(first.contains("broken-link"), "{first}");
    t.write("a/later.md", &card("Later card", "here"));
    t.eventually("the link to find its new card", || async {
        let (_, page) = t.get_text("/cards/a/from").await;
        page.contains(">Later card</a>") && !page.contains("broken-link")
    })
    .await;
    t.write("a/from.md", &card("From", "Now edited."));
    t.eventually("the edit to show", || async {
        t.get_text("/cards/a/from").await.1.contains("Now edited.")
    })
    .await;
}

fn mkfifo(path: &Path) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create dirs");
    }
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(status.success(), "mkfifo {}", path.display());
}

/// Runs the `quire` binary, failing the test (not hanging it) if it has
/// not finished by the deadline.
fn quire_finishes(args: &[&str], content: &Path, data: &Path) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_quire"))
        .arg("--content")
        .arg(content)
        .arg("--data")
        .arg(data)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start quire");
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > DEADLINE * 3 {
            let _ = child.kill();
            panic!("quire {args:?} hung on a FIFO");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

/// `GET path` answers 404 within a few seconds (a FIFO read would hang).
async fn not_found_at_once(t: &TestKb, path: &str) {
    let response = t
        .client
        .get(t.url(path))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(response.status().as_u16(), 404, "{path}");
}

#[tokio::test(flavor = "multi_thread")]
async fn fifos_named_like_cards_or_attachments_are_skipped_and_reported() {
    let content = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    write_file(content.path(), "a/good.md", &card("Good card", "quokka"));
    mkfifo(&content.path().join("a/x.md"));
    mkfifo(&content.path().join("a/pic.png"));
    let t = TestKb::serve_with(content, data, |_| {}).await;
    assert_eq!(t.search_ids("quokka").await, ["a/good"]);
    not_found_at_once(&t, "/files/a/pic.png").await;
    not_found_at_once(&t, "/api/v1/cards/a/x").await;
    let reported = |path: &'static str| {
        let t = &t;
        async move {
            t.kb.findings()
                .iter()
                .any(|p| p.path == path && p.message.contains("not a regular file"))
        }
    };
    assert!(reported("a/x.md").await && reported("a/pic.png").await);

    mkfifo(&t.path("b/y.md"));
    mkfifo(&t.path("b/z.png"));
    t.eventually("the new FIFOs to be reported", || async {
        reported("b/y.md").await && reported("b/z.png").await
    })
    .await;
    t.write("b/after.md", &card("After", "wombat"));
    t.eventually("a card written after the FIFOs to be indexed", || async {
        t.search_ids("wombat").await == ["b/after"]
    })
    .await;
    not_found_at_once(&t, "/files/b/z.png").await;
}

#[test]
fn quire_check_and_quire_index_finish_over_a_fifo_and_report_it() {
    let content = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    write_file(content.path(), "a/good.md", &card("Good", "x"));
    mkfifo(&content.path().join("a/x.md"));
    let check = quire_finishes(&["check"], content.path(), data.path());
    let text = String::from_utf8_lossy(&check.stdout);
    assert!(
        text.contains("a/x.md:1:1: warning: not a regular file"),
        "{text}"
    );
    let index = quire_finishes(&["index"], content.path(), data.path());
    assert_eq!(
        index.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&index.stderr)
    );
}

#[test]
fn a_file_name_with_a_newline_cannot_forge_a_line_of_quire_check() {
    let content = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    write_file(content.path(), "a/good.md", &card("Good", "x"));
    write_file(
        content.path(),
        "a/x\nforged.md:9:9: error: all is lost.md",
        "x",
    );
    let check = quire_finishes(&["check"], content.path(), data.path());
    let text = String::from_utf8_lossy(&check.stdout);
    assert!(
        text.lines().all(|l| !l.starts_with("forged.md")),
        "a forged line: {text}"
    );
    assert!(
        text.contains("\"a/x\\nforged.md:9:9: error: all is lost.md\":1:1: error:"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_card_saved_in_nfd_is_one_card_with_its_nfc_spelling() {
    // `café` saved as macOS names files (NFD), linked in NFC; `crème`
    // saved in NFC, linked and fetched in NFD.
    let t = TestKb::start(&[
        ("notes/cafe\u{301}.md", &card("Cafe card", "espresso")),
        ("notes/cr\u{e8}me.md", &card("Creme card", "custard")),
        (
            "notes/links.md",
            &card("Links", "[[caf\u{e9}]] and [[notes/cre\u{300}me]]"),
        ),
    ])
    .await;
    for url in [
        "/api/v1/cards/notes/caf%C3%A9",
        "/api/v1/cards/notes/cafe%CC%81",
        "/api/v1/cards/notes/cr%C3%A8me",
        "/api/v1/cards/notes/cre%CC%80me",
    ] {
        let (status, body) = t.get(url).await;
        assert_eq!(status, 200, "{url}: {body}");
    }
    let (_, links) = t.get_text("/cards/notes/links").await;
    assert!(
        links.contains(">Cafe card</a>") && links.contains(">Creme card</a>"),
        "{links}"
    );
    assert!(!links.contains("broken-link"), "{links}");

    t.write("notes/cafe\u{301}.md", &card("Cafe renamed", "espresso"));
    t.eventually("an edit of the NFD file to show", || async {
        t.get("/api/v1/cards/notes/caf%C3%A9").await.1["title"] == "Cafe renamed"
    })
    .await;
    t.remove("notes/cafe\u{301}.md");
    t.eventually("the NFD file's removal to show", || async {
        t.get("/api/v1/cards/notes/caf%C3%A9").await.0 == 404
    })
    .await;
}
