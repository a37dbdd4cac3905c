//! An Obsidian vault served as its authors wrote it (`tests/vault/`: one
//! folder per language, every construct Obsidian adds to markdown): each
//! renders as Obsidian shows it, and `quire check` reports exactly the
//! vault's real problems.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::support::{TestKb, copy_dir};

/// A copy of the test vault, with the files of each clash dated so that
/// one card is plainly the newer: the one whose id sorts first, so the
/// check must go by date, not by id.
fn vault() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp vault");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vault"),
        dir.path(),
    );
    let day = Duration::from_secs(86_400);
    let base = SystemTime::UNIX_EPOCH + Duration::from_secs(1_780_000_000);
    for (path, age_in_days) in [
        ("en/Refunds FAQ.md", 30),
        ("en/Refund policy.md", 1),
        ("en/ops/Restore runbook.md", 30),
        ("en/ops/Deploy runbook.md", 1),
    ] {
        let file = std::fs::File::options()
            .write(true)
            .open(dir.path().join(path))
            .expect("a vault file");
        file.set_modified(base - day * age_in_days)
            .expect("set mtime");
    }
    dir
}

#[test]
fn check_reports_exactly_the_real_problems_of_a_vault() {
    let dir = vault();
    let out = Command::new(env!("CARGO_BIN_EXE_quire"))
        .arg("--content")
        .arg(dir.path())
        .arg("check")
        .output()
        .expect("run quire check");
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "en/Known problems.md:9:1: warning: missing link target: `en/House rules` has no heading `Dress code`; the link opens the card at its top",
            "en/Known problems.md:10:1: warning: missing link target: `en/Plans` has no block `^no-such-block`; the link opens the card at its top",
            "en/Known problems.md:11:1: warning: missing link target: this card has no heading `Nowhere`; the link opens the card at its top",
            "en/Known problems.md:12:1: warning: ambiguous link: `[[Runbook]]` could be `en/ops/Deploy runbook` or `en/ops/Restore runbook`; it opens `en/ops/Deploy runbook` (write the id to choose)",
            "en/Known problems.md:13:1: error: broken link: no card or file `Onboarding checklist`",
            "en/Qapla.md:3:1: warning: `lang: klingon` is not a language code; write an ISO 639-1 code such as `en` or `ru`",
            "en/Refund policy.md:3:1: error: duplicate alias: `refunds` is also an alias of en/Refunds FAQ.md",
            "en/ops/Deploy runbook.md:2:1: warning: duplicate title: `Runbook` is also the title of en/ops/Restore runbook.md, so `[[Runbook]]` is ambiguous; give this card another title",
            "checked 18 cards: 2 errors, 6 warnings",
        ],
        "{text}"
    );
    assert_eq!(out.status.code(), Some(1), "errors fail the check: {text}");
}

/// The card's API view: its sanitized HTML and its tags.
async fn card(t: &TestKb, id: &str) -> (String, Value) {
    let (status, body) = t
        .get(&format!("/api/v1/cards/{}", id.replace(' ', "%20")))
        .await;
    assert_eq!(status, 200, "{id}: {body}");
    (body["html"].as_str().unwrap_or_default().to_string(), body)
}

fn assert_has(html: &str, wanted: &[&str]) {
    for want in wanted {
        assert!(html.contains(want), "missing {want:?} in\n{html}");
    }
}

fn assert_lacks(html: &str, unwanted: &[&str]) {
    for bad in unwanted {
        assert!(!html.contains(bad), "unexpected {bad:?} in\n{html}");
    }
}

async fn served_vault() -> TestKb {
    let content = vault();
    TestKb::serve_with(content, tempfile::tempdir().expect("data dir"), |_| {}).await
}

#[tokio::test(flavor = "multi_thread")]
async fn callouts_highlights_and_comments_render_as_obsidian_shows_them() {
    let t = served_vault().await;
    let (html, _) = card(&t, "en/Home").await;
    assert_has(
        &html,
        &[
            "<div class=\"callout callout-tip\"><div class=\"callout-title\">Where to start</div><div class=\"callout-content\">",
            "<details class=\"callout callout-note\"><summary class=\"callout-title\">Why is this folded?</summary>",
            "<details class=\"callout callout-warning\" open=\"\"><summary class=\"callout-title\">Open by default</summary><div class=\"callout-content\"><div class=\"callout callout-info\"><div class=\"callout-title\">A callout inside a callout</div>",
            "<mark>Never promise a refund in the first reply.</mark>",
            "<p>Ask first.  Then act.</p>",
        ],
    );
    assert_lacks(
        &html,
        &["[!tip]", "[!note]", "==", "Editors:", "block comment", "%%"],
    );
    let (ru, _) = card(&t, "ru/Home").await;
    assert_has(
        &ru,
        &[
            "<div class=\"callout callout-tip\"><div class=\"callout-title\">С чего начать</div>",
            "<mark>Никогда не обещайте возврат в первом ответе.</mark>",
        ],
    );
    assert_lacks(&ru, &["Редакторам"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn links_of_every_obsidian_kind_go_where_obsidian_sends_them() {
    let t = served_vault().await;
    let (html, _) = card(&t, "en/Home").await;
    assert_has(
        &html,
        &[
            // One slug rule for heading ids and same-note links.
            "<h2 id=\"contacts\">Contacts</h2>",
            "<a href=\"#contacts\" rel=\"noopener noreferrer\">Contacts</a>",
            "<a href=\"#escalation-paths\" rel=\"noopener noreferrer\">escalation</a>",
            // An e-mail autolink is a mail link.
            "<a href=\"mailto:support-leads@example.com\" rel=\"noopener noreferrer\">support-leads@example.com</a>",
            // A pipe escaped in a table separates the label.
            "<td><a href=\"/cards/en/Plans\" rel=\"noopener noreferrer\">Plan table</a></td>",
            "<td><a href=\"/cards/en/Plans#annual-plans\" rel=\"noopener noreferrer\">Annual</a></td>",
        ],
    );
    assert_lacks(&html, &["broken-link", "Plans\\"]);
    let (plans, _) = card(&t, "en/Plans").await;
    assert_has(
        &plans,
        &[
            // A block reference, and the marker hidden as an anchor.
            "<a href=\"/cards/en/House%20rules#^tone-rule\" rel=\"noopener noreferrer\">House rules</a>",
            "Annual plans are refunded within thirty days of renewal.<span class=\"block-anchor\" id=\"^refund-window\"></span></p>",
            "<li>Monthly plans are never refunded.<span class=\"block-anchor\" id=\"^monthly\"></span></li>",
            // `|300` is a width and `|300x200` a size, not alt text.
            "<img src=\"/files/en/attachments/plan-comparison.png\" alt=\"plan-comparison.png\" width=\"300\">",
            "<img src=\"/files/en/attachments/plan-comparison.png\" alt=\"plan-comparison.png\" width=\"300\" height=\"200\">",
        ],
    );
    assert_lacks(&plans, &["^refund-window<", "alt=\"300\""]);
}

#[tokio::test(flavor = "multi_thread")]
async fn embedded_notes_are_transcluded_within_bounds_and_never_in_a_cycle() {
    let t = served_vault().await;
    let (html, _) = card(&t, "en/Home").await;
    // A heading's section, and a block, each in a box that links to its note.
    assert_has(
        &html,
        &[
            "<div class=\"embed\"><div class=\"embed-title\"><a href=\"/cards/en/House%20rules\" rel=\"noopener noreferrer\">House rules</a></div><h2 id=\"tone\">Tone</h2>\n<p>Be brief and kind.<span class=\"block-anchor\" id=\"^tone-rule\"></span></p>\n</div>",
            "<div class=\"embed\"><div class=\"embed-title\"><a href=\"/cards/en/Plans\" rel=\"noopener noreferrer\">Plans</a></div><p>Annual plans are refunded within thirty days of renewal.",
        ],
    );
    assert_lacks(
        &html,
        &["We answer within one working day", "<img src=\"/cards"],
    );
    let (ru, _) = card(&t, "ru/Home").await;
    assert_has(&ru, &["Правила дома</a></div><h2 id=\"тон\">Тон</h2>"]);
    // A cycle: each note shows the other once, then a link back.
    let (a, _) = card(&t, "en/Loop A").await;
    assert_has(
        &a,
        &[
            "<p>Loop B embeds Loop A:</p>",
            "<a class=\"embed-link\" href=\"/cards/en/Loop%20A\" title=\"not embedded: it embeds this note again\" rel=\"noopener noreferrer\">Loop A</a>",
        ],
    );
    assert_eq!(a.matches("Loop A embeds Loop B").count(), 1, "{a}");
    // Depth: three levels embedded, the fourth a link.
    let (deep, _) = card(&t, "en/Depth 1").await;
    for level in ["Level 1.", "Level 2.", "Level 3.", "Level 4."] {
        assert_has(&deep, &[level]);
    }
    assert_lacks(&deep, &["Level 5"]);
    assert_has(
        &deep,
        &[
            "<a class=\"embed-link\" href=\"/cards/en/Depth%205\" title=\"not embedded: embeds nest too deep\"",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn inline_and_front_matter_tags_count_and_cssclasses_is_quiet() {
    let t = served_vault().await;
    let (_, home) = card(&t, "en/Home").await;
    assert_eq!(
        home["tags"],
        serde_json::json!(["support", "index", "onboarding", "team/tier-1"]),
        "no tag from code, a URL's fragment or an issue number"
    );
    assert!(
        home["problems"].as_array().is_none_or(|p| p.is_empty()),
        "{}",
        home["problems"]
    );
    let (_, rules) = card(&t, "en/House rules").await;
    assert_eq!(rules["tags"], serde_json::json!(["rules", "tone"]));
    assert_eq!(rules["aliases"], serde_json::json!(["house-rules"]));
    let (_, ru) = card(&t, "ru/Home").await;
    assert_eq!(
        ru["tags"],
        serde_json::json!(["поддержка", "новичкам", "команда/первая-линия"])
    );
}
