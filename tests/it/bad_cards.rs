use crate::support::{TestKb, card};

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_card_is_skipped_and_reported_with_file_and_line_while_others_are_served() {
    let t = TestKb::start(&[
        ("a/good.md", &card("Good card", "Refund rules.")),
        (
            "a/broken.md",
            "---\ntitle: Broken\ntags: [a, b\nowner: x\n---\nRefund body\n",
        ),
        ("a/binary.md", "---\ntitle: \u{0}\n---\n"),
    ])
    .await;
    std::fs::write(t.path("a/latin1.md"), b"---\ntitle: caf\xe9\n---\nRefund\n").unwrap();
    t.eventually("the latin-1 file to be reported", || async {
        t.kb.catalog().problems().any(|p| p.path == "a/latin1.md")
    })
    .await;
    assert_eq!(t.search_ids("refund").await, ["a/good"]);
    let catalog = t.kb.catalog();
    let problems: Vec<String> = catalog.problems().map(|p| p.to_string()).collect();
    let broken = problems
        .iter()
        .find(|p| p.starts_with("a/broken.md:"))
        .expect("broken.md reported");
    let line: usize = broken.split(':').nth(1).unwrap().parse().unwrap();
    assert!((3..=5).contains(&line), "{broken}");
    assert!(broken.contains("invalid YAML"), "{broken}");
    let latin1 = problems
        .iter()
        .find(|p| p.starts_with("a/latin1.md:2:"))
        .expect("latin1 reported at line 2");
    assert!(latin1.contains("UTF-8"), "{latin1}");
}

#[tokio::test(flavor = "multi_thread")]
async fn fixing_a_broken_card_serves_it_and_clears_the_error() {
    let t = TestKb::start(&[("a/broken.md", "---\ntitle: [oops\n---\nunicorn\n")]).await;
    assert!(t.search_ids("unicorn").await.is_empty());
    t.write("a/broken.md", &card("Fixed", "unicorn"));
    t.eventually("the fixed card to be searchable", || async {
        t.search_ids("unicorn").await == ["a/broken"]
    })
    .await;
    assert_eq!(t.kb.catalog().problems().count(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_oversized_card_is_skipped_with_a_clear_error() {
    let big = card("Big", &"word ".repeat(500_000));
    let t = TestKb::start(&[("a/big.md", &big), ("a/small.md", &card("Small", "word"))]).await;
    assert_eq!(t.search_ids("word").await, ["a/small"]);
    let problem =
        t.kb.catalog()
            .problems()
            .next()
            .map(|p| p.to_string())
            .unwrap();
    assert!(
        problem.starts_with("a/big.md") && problem.contains("limit"),
        "{problem}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn editor_temp_files_and_hidden_files_are_never_cards() {
    let t = TestKb::start(&[
        ("a/card.md", &card("Card", "zebra")),
        ("a/.card.md.swp", "zebra"),
        ("a/card.md~", &card("Backup", "zebra")),
        ("a/#card.md#", &card("Emacs", "zebra")),
        ("a/.hidden.md", &card("Hidden", "zebra")),
        ("a/4913", "zebra"),
    ])
    .await;
    assert_eq!(t.search_ids("zebra").await, ["a/card"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn breaking_a_good_card_keeps_its_last_good_version_served_beside_the_error() {
    let t = TestKb::start(&[("a/refunds.md", &card("Refunds", "Annual plans: pro rata."))]).await;
    assert_eq!(t.search_ids("rata").await, ["a/refunds"]);
    t.write(
        "a/refunds.md",
        "---\ntitle: Refunds\ntags: [billing\n---\nAnnual plans: never. kiwifruit\n",
    );
    t.eventually("the broken edit to be reported", || async {
        t.kb.catalog().problems().any(|p| p.path == "a/refunds.md")
    })
    .await;
    // The version that parsed is still the one served and found.
    assert_eq!(t.search_ids("rata").await, ["a/refunds"]);
    assert!(t.search_ids("kiwifruit").await.is_empty());
    let (status, body) = t.get("/api/v1/cards/a/refunds").await;
    assert_eq!((status, body["title"].as_str()), (200, Some("Refunds")));
    assert!(
        body["markdown"]
            .as_str()
            .unwrap_or_default()
            .contains("pro rata")
    );
    let (_, page) = t.page("/problems").await;
    assert!(
        page.contains("<code>a/refunds.md:") && page.contains("invalid YAML"),
        "{page}"
    );
}
