//! A card readers flagged as outdated says so wherever it is shown: search
//! hits, the card's JSON, the site's results, MCP and Help Scout answers.
//! The flag is feedback, the staff's: a token for public cards never sees it.

use serde_json::json;

use crate::support::{TestKb, encode, send, staff_and_public_tokens, write_file};

const STAFF: &str = "staff-token-for-outdated-tests";
const PUBLIC: &str = "public-token-for-outdated-tests";

async fn flagged_once() -> TestKb {
    let content = tempfile::tempdir().unwrap();
    write_file(
        content.path(),
        "billing/refunds.md",
        "---\ntitle: Refunds\naudience: public\n---\nRefunds take five days.\n",
    );
    write_file(
        content.path(),
        "billing/invoices.md",
        "---\ntitle: Invoices\naudience: public\n---\nInvoices and refunds are in the billing page.\n",
    );
    let t = TestKb::serve_with(content, tempfile::tempdir().unwrap(), |c| {
        c.api.tokens = staff_and_public_tokens(STAFF, PUBLIC);
    })
    .await;
    let (status, body) = send(
        t.client
            .post(t.url("/api/v1/cards/billing/refunds/feedback"))
            .bearer_auth(STAFF)
            .json(&json!({"verdict": "outdated", "comment": "it is ten days now"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    t
}

async fn get(t: &TestKb, path: &str, token: &str) -> serde_json::Value {
    let (status, body) = send(t.client.get(t.url(path)).bearer_auth(token)).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flagged_card_says_so_in_hits_and_in_its_json() {
    let t = flagged_once().await;
    let found = get(&t, "/api/v1/search?q=refunds", STAFF).await;
    let outdated = |id: &str| {
        found["hits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["id"] == id)
            .map(|h| h["outdated"].clone())
    };
    assert_eq!(outdated("billing/refunds"), Some(json!(1)), "{found}");
    assert_eq!(outdated("billing/invoices"), Some(json!(0)), "{found}");
    let card = get(&t, "/api/v1/cards/billing/refunds", STAFF).await;
    assert_eq!(card["outdated"], 1);

    // Resolving the flag clears it everywhere at once.
    let (status, _) = send(
        t.client
            .post(t.url("/api/v1/cards/billing/refunds/feedback/resolve"))
            .bearer_auth(STAFF),
    )
    .await;
    assert!(status < 300, "resolve: {status}");
    let card = get(&t, "/api/v1/cards/billing/refunds", STAFF).await;
    assert_eq!(card["outdated"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_public_token_never_learns_of_flags() {
    let t = flagged_once().await;
    let found = get(&t, "/api/v1/search?q=refunds", PUBLIC).await;
    assert!(
        found["hits"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["outdated"] == 0),
        "{found}"
    );
    let card = get(&t, "/api/v1/cards/billing/refunds", PUBLIC).await;
    assert_eq!(card["outdated"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn mcp_and_the_site_warn_before_a_flagged_card_is_quoted() {
    let t = flagged_once().await;
    let (_, found) = send(
        t.client
            .post(t.url("/mcp"))
            .bearer_auth(STAFF)
            .header("accept", "application/json, text/event-stream")
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                "params": {"name": "search_cards", "arguments": {"query": "refunds"}}})),
    )
    .await;
    let text = found["result"]["content"][0]["text"].as_str().unwrap();
    assert!(
        text.contains("Refunds [unverified, flagged outdated by 1 reader(s)"),
        "{text}"
    );
    let (_, read) = send(
        t.client
            .post(t.url("/mcp"))
            .bearer_auth(STAFF)
            .header("accept", "application/json, text/event-stream")
            .json(&json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                "params": {"name": "get_card", "arguments": {"id": "billing/refunds"}}})),
    )
    .await;
    assert_eq!(read["result"]["structuredContent"]["outdated"], 1, "{read}");

    let (status, html) = send_text(&t, &format!("/search?q={}", encode("refunds"))).await;
    assert_eq!(status, 200);
    assert_eq!(html.matches("flagged outdated</span>").count(), 1, "{html}");
}

async fn send_text(t: &TestKb, path: &str) -> (u16, String) {
    let response = t
        .client
        .get(t.url(path))
        .bearer_auth(STAFF)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}
