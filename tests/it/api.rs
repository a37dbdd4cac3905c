use crate::support::{TestKb, card};

fn handbook() -> Vec<(&'static str, String)> {
    vec![
        (
            "playbooks/refunds/annual-plans.md",
            "---\ntitle: Refunds on annual plans\nsummary: When and how we refund an annual plan.\ntags: [billing, refunds]\nowner: billing@example.com\nverified_by: billing@example.com\nverified_at: 2026-11-01\nverify_every: 1y\n---\nAnnual plans are refunded in full within thirty days of renewal. Escalate disputes to [[tier-2]].\n\n## Partial refunds {#pro-rata}\n\nAfter thirty days we refund the unused months.\n".into(),
        ),
        ("escalation/tier-2.md", card("Tier 2 escalation", "The tier 2 team takes billing disputes and bugs.")),
        ("escalation/old.md", "---\ntitle: Old escalation rules\nverified_at: 2020-01-01\nverify_every: 30d\ntags: [billing]\n---\nObsolete.\n".into()),
    ]
}

async fn start() -> TestKb {
    let cards = handbook();
    let refs: Vec<(&str, &str)> = cards.iter().map(|(p, t)| (*p, t.as_str())).collect();
    TestKb::start(&refs).await
}

#[tokio::test(flavor = "multi_thread")]
async fn search_returns_hits_with_metadata_snippets_facets_and_timing() {
    let t = start().await;
    let (status, body) = t.get("/api/v1/search?q=refunds&facets=true").await;
    assert_eq!(status, 200);
    let hit = &body["hits"][0];
    assert_eq!(hit["id"], "playbooks/refunds/annual-plans");
    assert_eq!(hit["path"], "playbooks/refunds/annual-plans.md");
    assert_eq!(hit["collection"], "playbooks");
    assert_eq!(hit["trust"], "verified");
    assert_eq!(hit["url"], "/cards/playbooks/refunds/annual-plans");
    assert!(
        hit["snippet"]
            .as_str()
            .unwrap()
            .contains("<mark>refunded</mark>"),
        "{hit}"
    );
    assert!(hit["score"].as_f64().unwrap() > 0.0);
    assert_eq!(body["total"], 1);
    assert_eq!(body["facets"]["collection"]["playbooks"], 1);
    assert!(body["took_ms"].as_f64().is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn filters_narrow_and_facets_count_trust_states() {
    let t = start().await;
    let (_, body) = t.get("/api/v1/search?q=billing&facets=true").await;
    assert_eq!(body["facets"]["trust"]["stale"], 1, "{body}");
    assert_eq!(body["facets"]["trust"]["verified"], 1, "{body}");
    let (_, body) = t.get("/api/v1/search?q=billing&trust=stale").await;
    assert_eq!(body["total"], 1);
    assert_eq!(body["hits"][0]["id"], "escalation/old");
    let (_, body) = t.get("/api/v1/search?q=billing&collection=playbooks").await;
    assert_eq!(body["hits"][0]["id"], "playbooks/refunds/annual-plans");
    assert_eq!(body["total"], 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn pagination_pages_through_a_stable_order() {
    let t = start().await;
    let (_, all) = t.get("/api/v1/search?q=billing&limit=10").await;
    let (_, first) = t.get("/api/v1/search?q=billing&limit=1").await;
    let (_, second) = t.get("/api/v1/search?q=billing&limit=1&offset=1").await;
    assert_eq!(first["hits"][0]["id"], all["hits"][0]["id"]);
    assert_eq!(second["hits"][0]["id"], all["hits"][1]["id"]);
    assert_eq!(second["total"], all["total"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_card_is_served_with_metadata_markdown_html_and_text() {
    let t = start().await;
    let (status, body) = t.get("/api/v1/cards/playbooks/refunds/annual-plans").await;
    assert_eq!(status, 200);
    assert_eq!(body["title"], "Refunds on annual plans");
    assert_eq!(body["owner"], "billing@example.com");
    assert!(body["markdown"].as_str().unwrap().contains("[[tier-2]]"));
    assert!(
        body["html"]
            .as_str()
            .unwrap()
            .contains("href=\"/cards/escalation/tier-2\""),
        "{}",
        body["html"]
    );
    assert!(body["text"].as_str().unwrap().contains("refunded in full"));
    assert_eq!(
        body["headings"],
        serde_json::json!([{"level": 2, "text": "Partial refunds", "anchor": "pro-rata"}])
    );
    let (_, tier2) = t.get("/api/v1/cards/escalation/tier-2").await;
    assert_eq!(
        tier2["backlinks"][0]["id"],
        "playbooks/refunds/annual-plans"
    );
    let (status, text) = t
        .get_text("/api/v1/cards/playbooks/refunds/annual-plans?format=text")
        .await;
    assert_eq!(status, 200);
    assert!(text.starts_with("Annual plans are refunded"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_card_is_a_404_with_a_json_error() {
    let t = start().await;
    let (status, body) = t.get("/api/v1/cards/nope").await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "card_not_found", "{body}");
    assert_eq!(body["message"], "no card with id \"nope\"");
    // The client normalises `..` away; whatever reaches the server is a JSON 404.
    for path in [
        "/api/v1/cards/../etc/passwd",
        "/api/v1/cards/%2e%2e/x",
        "/api/v1/cards/a%2f..%2f..%2fx",
    ] {
        let (status, body) = t.get(path).await;
        assert_eq!(status, 404, "{path}");
        assert!(
            body["code"]
                .as_str()
                .is_some_and(|c| c.ends_with("not_found")),
            "{path}: {body}"
        );
    }
    let (status, body) = t.get("/api/v1/nothing").await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_parameter_is_a_400_with_the_same_json_shape() {
    let t = start().await;
    for path in [
        "/api/v1/search?q=x&limit=many",
        "/api/v1/search?q=x&trust=maybe",
        "/api/v1/cards/escalation/tier-2?format=pdf",
    ] {
        let (status, body) = t.get(path).await;
        assert_eq!(status, 400, "{path}");
        assert_eq!(body["code"], "invalid_parameter", "{path}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_site_serves_a_search_page_and_card_pages() {
    let t = start().await;
    let (status, html) = t.get_text("/?q=refunds").await;
    assert_eq!(status, 200);
    assert!(html.contains("Refunds on annual plans"));
    assert!(html.contains("<mark>"));
    let (status, html) = t.get_text("/cards/playbooks/refunds/annual-plans").await;
    assert_eq!(status, 200);
    assert!(html.contains("<h1>Refunds on annual plans</h1>"), "{html}");
    let (status, html) = t.get_text("/cards/does/not/exist").await;
    assert_eq!(status, 404);
    assert!(html.contains("does not exist"), "{html}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_old_id_from_aliases_redirects_permanently_to_the_card() {
    let t = TestKb::start(&[(
        "a/new.md",
        "---\ntitle: New home\naliases: [a/old]\n---\nMoved here.\n",
    )])
    .await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client.get(t.url("/cards/a/old")).send().await.unwrap();
    assert_eq!(response.status(), 301);
    assert_eq!(response.headers()["location"], "/cards/a/new");
    let (status, body) = t.get("/api/v1/cards/a/old").await;
    assert_eq!((status, body["id"].as_str()), (200, Some("a/new")));
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_requests_errors_and_searches_in_the_prometheus_format() {
    let t = start().await;
    t.get("/api/v1/search?q=refund").await;
    t.get("/api/v1/cards/nope").await;
    let (status, text) = t.get_text("/metrics").await;
    assert_eq!(status, 200);
    for want in [
        "quire_http_requests_total{route=\"/api/v1/search\",status=\"200\"} 1",
        "quire_errors_total{code=\"card_not_found\"} 1",
        "quire_search_duration_seconds_count 1",
        "quire_cards 3",
        "quire_ready 1",
    ] {
        assert!(text.contains(want), "{want} missing from:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn snippets_are_whole_sentences_with_link_titles_and_no_code() {
    let t = TestKb::start(&[
        (
            "a/refunds.md",
            "---\ntitle: Money\n---\nSome words first. Payments are sent back to the card that paid, by the bank. Other words after.\n\n```json\n{\"payments\": \"sent back\"}\n```\n",
        ),
        (
            "a/limits.md",
            "---\ntitle: Limits\n---\nLarge payments go through [[a/tiers]] first.\n",
        ),
        ("a/tiers.md", "---\ntitle: Escalation tiers\n---\nWho does what.\n"),
    ])
    .await;
    let (_, found) = t.get("/api/v1/search?q=payments+sent+to").await;
    let snippet = |id: &str| {
        found["hits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["id"] == id)
            .map(|h| h["snippet"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("{id} not found: {found}"))
    };
    assert_eq!(
        snippet("a/refunds"),
        "Some words first. <mark>Payments</mark> are <mark>sent</mark> back to the card that paid, by the bank."
    );
    let (_, found) = t.get("/api/v1/search?q=large+payments").await;
    let limits = found["hits"][0]["snippet"].as_str().unwrap();
    assert_eq!(
        limits,
        "<mark>Large</mark> <mark>payments</mark> go through Escalation tiers first."
    );
}
