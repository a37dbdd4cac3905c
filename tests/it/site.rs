//! The site over HTTP: pages new hires read, what authors see, and what a
//! hostile card cannot do.

use crate::support::{TestKb, card};

async fn html(t: &TestKb, path: &str) -> (u16, String) {
    t.page(path).await
}

const REFUNDS: &str = "/cards/playbooks/refunds/annual-plans";

#[tokio::test(flavor = "multi_thread")]
async fn the_home_page_shows_collections_recent_cards_and_cards_to_verify() {
    let t = TestKb::demo().await;
    let (status, page) = html(&t, "/").await;
    assert_eq!(status, 200);
    for text in [
        "Support playbooks",
        "18 cards",
        "Recently updated",
        "Needs verification",
        "stale since",
        r#"role="search""#,
    ] {
        assert!(page.contains(text), "{text} missing");
    }
    // An old `/?q=` link still searches.
    let (status, page) = html(&t, "/?q=refund").await;
    assert_eq!(status, 200);
    assert!(page.contains("Refunds on annual plans"));
}

#[tokio::test(flavor = "multi_thread")]
async fn collection_and_section_pages_list_sections_then_cards_in_reading_order() {
    let t = TestKb::start(&[
        (
            "guide/_index.md",
            "---\ntitle: The guide\ndescription: Start here.\n---\nWelcome to **the guide**.\n",
        ),
        ("guide/b.md", "---\ntitle: Beta\nweight: 1\n---\nB.\n"),
        ("guide/a.md", "---\ntitle: Alpha\nweight: 2\n---\nA.\n"),
        (
            "guide/c.md",
            &card("Aardvark", "No weight: after the weighted ones."),
        ),
        ("guide/deep/d.md", &card("Deep card", "In a section.")),
    ])
    .await;
    let (status, page) = html(&t, "/collections/guide").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("<strong>the guide</strong>"),
        "the _index text"
    );
    let order: Vec<usize> = ["/collections/guide/deep", "Beta", "Alpha", "Aardvark"]
        .iter()
        .map(|s| page.find(s).unwrap_or_else(|| panic!("{s} missing")))
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    let (status, page) = html(&t, "/collections/guide/deep").await;
    assert_eq!(status, 200);
    assert!(
        page.contains(r#"<a href="/collections/guide">The guide</a>"#),
        "breadcrumbs"
    );
    assert_eq!(html(&t, "/collections/nothing").await.0, 404);

    // The card page's reading path follows the same order.
    let (_, beta) = html(&t, "/cards/guide/b").await;
    assert!(
        beta.contains(r#"rel="next" href="/cards/guide/a""#),
        "{beta}"
    );
    assert!(!beta.contains(r#"rel="prev""#));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_card_page_has_trust_contents_tags_backlinks_related_and_its_source() {
    let t = TestKb::demo().await;
    let (status, page) = html(&t, REFUNDS).await;
    assert_eq!(status, 200);
    for text in [
        "verified by mara@lumen.example on 2026-10-06",
        "Owner: mara@lumen.example",
        r#"<nav class="toc""#,
        r##"href="#the-rule""##,
        r#"id="the-rule""#,
        r#"href="/tags/billing""#,
        r#"id="backlinks-heading""#,
        r#"id="related-heading""#,
        "Copy answer",
        r#"<template id="card-reply">Annual plans can be refunded in full within 30 days"#,
        r#"href="/cards/playbooks/refunds/annual-plans.md""#,
        r#"<a href="/collections/playbooks">Support playbooks</a>"#,
    ] {
        assert!(page.contains(text), "{text} missing");
    }
    // A card without a customer reply offers its link, never its body.
    let (_, page) = html(&t, "/cards/playbooks/difficult/angry-customers").await;
    let page = page.replace("&#x2f;", "/");
    assert!(
        !page.contains("Copy answer"),
        "internal text offered to paste"
    );
    assert!(page.contains("No customer reply on this card"));
    assert!(
        page.contains(r#"<template id="card-link">http://"#),
        "{page}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn tag_pages_and_the_tag_list_show_counts() {
    let t = TestKb::demo().await;
    let (status, page) = html(&t, "/tags").await;
    assert_eq!(status, 200);
    assert!(
        page.contains(r#"<a href="/tags/billing">#billing</a>"#),
        "{page}"
    );
    let (status, page) = html(&t, "/tags/billing").await;
    assert_eq!(status, 200);
    assert!(page.contains("Refunds on annual plans"));
    assert_eq!(html(&t, "/tags/no-such-tag").await.0, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_search_page_has_facets_that_filter_and_pages() {
    let t = TestKb::demo().await;
    let (status, page) = html(&t, "/search?q=customer").await;
    assert_eq!(status, 200);
    assert!(page.contains(r#"<details class="facets" open>"#));
    // Filters name collections and languages as readers know them.
    assert!(
        page.contains(">Support playbooks</a>"),
        "a collection's title"
    );
    assert!(
        page.contains(r#"lang="ru">Русский</a>"#),
        "a language's own name"
    );
    // The results come before the filters (first on a phone).
    assert!(page.find(r#"class="results""#) < page.find(r#"class="facets""#));
    assert!(
        page.contains("/search?q=customer&amp;collection=playbooks"),
        "a facet link"
    );
    assert!(page.contains(r#"rel="next""#), "more than one page");
    let (_, filtered) = html(&t, "/search?q=customer&collection=playbooks").await;
    assert!(filtered.contains(r#"class="active""#));
    let (_, page2) = html(&t, "/search?q=customer&page=2").await;
    assert!(page2.contains(r#"<span aria-current="page">2</span>"#));
    // Filters alone browse.
    let (_, stale) = html(&t, "/search?trust=stale").await;
    assert!(stale.contains("result"), "{stale}");
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_are_compressed_and_assets_cached() {
    let t = TestKb::demo().await;
    let response = t
        .client
        .get(t.url(REFUNDS))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-encoding"], "gzip");
    assert_eq!(response.headers()["cache-control"], "no-cache");
    let css = t
        .client
        .get(t.url("/static/style.css"))
        .send()
        .await
        .unwrap();
    // An unversioned URL is revalidated; the versioned one pages link to is
    // kept for good, and an edited theme file gets a new version.
    assert_eq!(css.headers()["cache-control"], "no-cache");
    let body = css.text().await.unwrap();
    let (_, page) = html(&t, "/").await;
    let versioned = page
        .split('"')
        .find(|s| s.starts_with("/static/style.css?v="))
        .expect("a versioned stylesheet link")
        .to_string();
    let kept = t.client.get(t.url(&versioned)).send().await.unwrap();
    assert_eq!(
        kept.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(
        !body.contains("http://") && !body.contains("https://"),
        "no asset from another host"
    );
}

/// Reads the event stream until a `reload` event, within the deadline.
async fn next_reload(events: &mut reqwest::Response) {
    let deadline = tokio::time::Instant::now() + crate::support::DEADLINE;
    let mut seen = String::new();
    while !seen.contains("event: reload") {
        let chunk = tokio::time::timeout_at(deadline, events.chunk())
            .await
            .expect("a reload event before the deadline")
            .unwrap()
            .expect("the stream stays open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_card_tells_open_pages_to_reload() {
    let t = TestKb::start(&[("a/one.md", &card("One", "First text."))]).await;
    let mut events = t.client.get(t.url("/events")).send().await.unwrap();
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    t.write("a/one.md", &card("One", "Second text."));
    next_reload(&mut events).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn when_open_pages_reload_after_a_fix_the_problem_is_gone() {
    let t = TestKb::start(&[
        ("a/one.md", &card("One", "Text.")),
        ("a/two.md", "---\ntitle: [broken\n---\nText.\n"),
    ])
    .await;
    let (_, page) = t.page("/problems").await;
    assert!(page.contains("a/two.md"), "{page}");
    let mut events = t.client.get(t.url("/events")).send().await.unwrap();
    t.write("a/two.md", &card("Two", "Fixed."));
    next_reload(&mut events).await;
    // The reload comes once the problems are recomputed, not before.
    let (_, page) = t.page("/problems").await;
    assert!(!page.contains("a/two.md"), "{page}");
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_markdown_is_sanitized_on_the_page_and_in_the_api() {
    let hostile = [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(2)>",
        "[click](javascript:alert(3))",
        "<a href=\"javascript:alert(4)\">x</a>",
        "<svg><script>alert(5)</script></svg>",
        "<svg onload=alert(6)></svg>",
        "<iframe src=\"https://evil.example\"></iframe>",
        "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCg3KTwvc2NyaXB0Pg==)",
        "<img src=\"data:image/svg+xml,<svg onload=alert(8)>\">",
        "<div style=\"background:url(javascript:alert(9))\">styled</div>",
        "<object data=\"x.swf\"></object><embed src=\"x.swf\">",
        "<form action=\"https://evil.example\"><input name=p></form>",
        "<a href=\"vbscript:msgbox(10)\">v</a>",
        "<meta http-equiv=\"refresh\" content=\"0;url=https://evil.example\">",
    ];
    let body = hostile.join("\n\n");
    let t = TestKb::start(&[("a/hostile.md", &card("Hostile <b>title</b>", &body))]).await;
    let (status, page) = html(&t, "/cards/a/hostile").await;
    assert_eq!(status, 200);
    let (_, api) = t.get("/api/v1/cards/a/hostile?format=html").await;
    let api = api.as_str().unwrap().to_string();
    // The card's body, between the page's own parts (which have forms).
    let start = page.find(r#"<div class="card-body">"#).unwrap();
    let end = page.find(r#"<section class="feedback""#).unwrap();
    let main = &page[start..end];
    for html in [main, api.as_str()] {
        for bad in [
            "<script",
            "onerror",
            "onload",
            "javascript:",
            "vbscript:",
            "<iframe",
            "data:text/html",
            "<object",
            "<embed",
            "<form",
            "<meta",
            "style=",
        ] {
            assert!(
                !html.to_lowercase().contains(bad),
                "{bad} survived in {html}"
            );
        }
    }
    // The title is text, escaped, not markup.
    assert!(page.contains("Hostile &lt;b&gt;title&lt;/b&gt;"), "{page}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_template_names_itself_and_its_line() {
    let themes = tempfile::tempdir().unwrap();
    let templates = themes.path().join("default/templates");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(
        templates.join("tags.html"),
        "{% extends \"base.html\" %}\n{% block main %}\n{{ tags | nosuchfilter }}\n{% endblock %}\n",
    )
    .unwrap();
    let themes_dir = themes.path().to_path_buf();
    let t = TestKb::demo_with(move |c| c.themes_dir = themes_dir).await;
    let (status, page) = html(&t, "/tags").await;
    assert_eq!(status, 500);
    assert!(
        page.contains("tags.html") && page.contains("line 3"),
        "{page}"
    );
    // Every template the site does not override comes from the built-in theme.
    let (status, page) = html(&t, "/").await;
    assert_eq!(status, 200, "{page}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_search_that_finds_nothing_offers_next_steps_across_the_page() {
    let t = TestKb::demo().await;
    let (status, page) = html(&t, "/search?q=zzqxw+blorptang+quuxly&lang=ro").await;
    assert_eq!(status, 200);
    assert!(page.contains(r#"<section class="no-results""#), "{page}");
    assert!(
        !page.contains("search-layout"),
        "not squeezed into a column"
    );
    assert!(page.contains("Search with fewer words"), "{page}");
    assert!(page.contains("Search every collection, tag and language"));
    assert!(page.contains(r#"href="/collections""#));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pasted_ticket_is_searched_without_being_echoed_everywhere() {
    let t = TestKb::demo().await;
    let ticket =
        "my customer wants a refund on the annual plan they bought by mistake ".repeat(200);
    let (status, page) = html(
        &t,
        &format!("/search?q={}", crate::support::encode(&ticket)),
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.len() < 120_000, "page of {} bytes", page.len());
    let title = &page[page.find("<title>").unwrap()..page.find("</title>").unwrap()];
    assert!(title.chars().count() < 120, "{title}");
    assert!(
        page.contains("characters long"),
        "says the links carry less"
    );

    // Past what a search box holds, a themed 414 that says what to do.
    let huge = "refund ".repeat(6_000);
    let (status, page) = html(&t, &format!("/search?q={}", crate::support::encode(&huge))).await;
    assert_eq!(status, 414);
    assert!(page.contains("That search is too long"), "{page}");
    let (status, body) = t
        .get(&format!(
            "/api/v1/search?q={}",
            crate::support::encode(&huge)
        ))
        .await;
    assert_eq!(status, 414);
    assert_eq!(body["code"], "uri_too_long");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_site_has_an_icon_a_collections_page_and_labelled_task_boxes() {
    let t = TestKb::start(&[(
        "team/launch.md",
        "---\ntitle: Launch list\n---\n- [x] write the card\n- [ ] review it\n",
    )])
    .await;
    let (status, _) = html(&t, "/favicon.ico").await;
    assert_eq!(status, 200);
    let (status, page) = html(&t, "/collections").await;
    assert_eq!(status, 200);
    assert!(page.contains(r#"href="/collections/team""#), "{page}");
    let (_, page) = html(&t, "/cards/team/launch").await;
    assert!(page.contains(r#"checked="" aria-label="Done""#), "{page}");
    assert!(page.contains(r#"aria-label="Not done""#), "{page}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_atom_feed_lists_changed_and_verified_cards_and_a_sitemap_every_page() {
    let t = TestKb::start(&[
        (
            "billing/refunds.md",
            "---\ntitle: Refunds & returns\nupdated: 2026-03-01\nsummary: When we refund.\n---\nText.\n",
        ),
        (
            "billing/invoices.md",
            "---\ntitle: Invoices\nupdated: 2026-01-01\nverified_by: a@example.com\nverified_at: 2026-04-02\n---\nText.\n",
        ),
        ("billing/draft.md", "---\ntitle: Draft\ndraft: true\n---\nText.\n"),
    ])
    .await;
    let response = t.client.get(t.url("/feed.atom")).send().await.unwrap();
    assert_eq!(
        response.headers()["content-type"],
        "application/atom+xml; charset=utf-8"
    );
    let feed = response.text().await.unwrap();
    let invoices = feed.find("<title>Invoices</title>").expect("invoices");
    let refunds = feed
        .find("<title>Refunds &amp; returns</title>")
        .expect("refunds");
    assert!(invoices < refunds, "newest news first: {feed}");
    assert!(
        feed.contains("<summary>Verified on 2026-04-02. </summary>"),
        "{feed}"
    );
    assert!(feed.contains("<updated>2026-04-02T00:00:00Z</updated>"));
    assert!(!feed.contains("Draft"));

    let (status, sitemap) = t.get_text("/sitemap.xml").await;
    assert_eq!(status, 200);
    assert!(
        sitemap.contains("/cards/billing/refunds</loc><lastmod>2026-03-01</lastmod>"),
        "{sitemap}"
    );
    assert!(sitemap.contains("/collections/billing</loc>"), "{sitemap}");
    assert!(!sitemap.contains("draft"));
}
