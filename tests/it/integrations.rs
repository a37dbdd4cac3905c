//! Inbox apps and AI agents: Help Scout and Intercom (signed requests),
//! MCP over streamable HTTP, llms.txt and the cards' markdown twins, and
//! the OpenAPI document.

use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};

use crate::support::{TestKb, send};

const REFUNDS: &str = "playbooks/refunds/annual-plans";
const HELPSCOUT_SECRET: &str = "helpscout-app-secret";
const INTERCOM_SECRET: &str = "intercom-client-secret";

fn hmac_sha1_base64(key: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<sha1::Sha1> as Mac>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn hmac_sha256_hex(key: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// How many cards of the refund translation family a text names.
fn refund_family_shown(text: &str) -> usize {
    [
        "refunds/annual-plans",
        "refunds/vozvrat-sredstv",
        "refunds/rambursari-abonament-anual",
        "refunds/nianfei-tuikuan",
    ]
    .iter()
    .filter(|id| text.contains(*id))
    .count()
}

async fn with_apps() -> TestKb {
    TestKb::demo_with(|c| {
        c.helpscout_secret = Some(HELPSCOUT_SECRET.into());
        c.intercom_secret = Some(INTERCOM_SECRET.into());
        c.public_url = Some("https://kb.example.com".into());
    })
    .await
}

/// A dynamic-app request as Help Scout sends it: fields without values
/// are left out.
const HELPSCOUT_BODY: &str = r#"{"ticket":{"id":123456,"number":4242,"subject":"Refund for our annual plan"},"customer":{"id":998,"fname":"Ada","email":"ada@example.com","emails":["ada@example.com"]},"user":{"fname":"Sam","lname":"Agent","id":17,"role":"user","convRedirect":0},"mailbox":{"id":55,"email":"support@example.com"}}"#;

#[tokio::test(flavor = "multi_thread")]
async fn help_scout_signed_requests_get_matching_cards_as_html() {
    let t = with_apps().await;
    let post = |body: &'static str, signature: String| {
        send(
            t.client
                .post(t.url("/integrations/helpscout"))
                .header("content-type", "application/json")
                .header("X-HelpScout-Signature", signature)
                .body(body),
        )
    };
    let (status, body) = post(
        HELPSCOUT_BODY,
        hmac_sha1_base64(HELPSCOUT_SECRET, HELPSCOUT_BODY.as_bytes()),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let html = body["html"].as_str().unwrap();
    assert!(
        html.contains(&format!("https://kb.example.com/cards/{REFUNDS}")),
        "{html}"
    );
    assert!(html.contains("Refunds on annual plans"), "{html}");
    assert_eq!(
        refund_family_shown(html),
        1,
        "one card per translation family: {html}"
    );

    let (status, body) = post(
        HELPSCOUT_BODY,
        hmac_sha1_base64("wrong-secret", HELPSCOUT_BODY.as_bytes()),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], "invalid_signature");
    let (status, _) = post(HELPSCOUT_BODY, "not base64 at all!".into()).await;
    assert_eq!(status, 401);

    // A draft (`"ticket": false`) has nothing to match yet.
    let draft = r#"{"ticket":false,"user":{"id":17},"mailbox":{"id":55}}"#;
    let (status, body) = post(draft, hmac_sha1_base64(HELPSCOUT_SECRET, draft.as_bytes())).await;
    assert_eq!(status, 200);
    assert!(
        body["html"]
            .as_str()
            .unwrap()
            .contains("Open a conversation")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unconfigured_app_is_a_json_404() {
    let t = TestKb::demo().await;
    let (status, body) = t.post_json("/integrations/helpscout", &json!({})).await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "not_configured");
}

#[tokio::test(flavor = "multi_thread")]
async fn intercom_canvas_kit_initialize_and_submit_are_signed_canvases() {
    let t = with_apps().await;
    let post = |path: &'static str, body: String, key: &'static str| {
        let signature = hmac_sha256_hex(key, body.as_bytes());
        send(
            t.client
                .post(t.url(path))
                .header("content-type", "application/json")
                .header("X-Body-Signature", signature)
                .body(body),
        )
    };
    let initialize = json!({
        "workspace_id": "abc123",
        "admin": { "id": "1" },
        "context": { "location": "inbox" },
        "conversation": { "source": { "subject": "Refund", "body": "<p>Can I get a refund on my annual plan?</p>" } },
        "contact": { "id": "c1" },
    })
    .to_string();
    let (status, body) = post(
        "/integrations/intercom/initialize",
        initialize.clone(),
        INTERCOM_SECRET,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let components = body["canvas"]["content"]["components"].as_array().unwrap();
    assert_eq!(components[0]["type"], "input");
    assert!(body.to_string().contains(REFUNDS), "{body}");
    assert_eq!(refund_family_shown(&body.to_string()), 1, "{body}");

    let (status, _) = post(
        "/integrations/intercom/initialize",
        initialize,
        "wrong-secret",
    )
    .await;
    assert_eq!(status, 401);

    let submit = json!({
        "workspace_id": "abc123",
        "component_id": "q",
        "input_values": { "q": "chargeback dispute" },
        "current_canvas": {},
    })
    .to_string();
    let (status, body) = post("/integrations/intercom/submit", submit, INTERCOM_SECRET).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.to_string().contains("playbooks/refunds/chargebacks"),
        "{body}"
    );
    assert_eq!(
        body["canvas"]["content"]["components"][0]["value"],
        "chargeback dispute"
    );
}

async fn rpc(t: &TestKb, message: Value) -> (u16, Value) {
    send(
        t.client
            .post(t.url("/mcp"))
            .header("accept", "application/json, text/event-stream")
            .json(&message),
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn mcp_initializes_lists_tools_and_calls_them() {
    let t = TestKb::demo().await;
    let (status, init) = rpc(
        &t,
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "test", "version": "1"}}}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(init["result"]["protocolVersion"], "2025-11-25");
    assert!(init["result"]["capabilities"]["tools"].is_object());
    let (status, _) = rpc(
        &t,
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    )
    .await;
    assert_eq!(status, 202);

    let (_, list) = rpc(
        &t,
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
    )
    .await;
    let names: Vec<&str> = list["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, ["search_cards", "get_card", "match_ticket"]);

    let call = |id: u64, name: &str, arguments: Value| {
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
               "params": {"name": name, "arguments": arguments}})
    };
    let (_, found) = rpc(
        &t,
        call(3, "search_cards", json!({"query": "refund annual plan"})),
    )
    .await;
    let text = found["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains(REFUNDS), "{text}");
    assert_eq!(found["result"]["isError"], false);

    let (_, card) = rpc(&t, call(4, "get_card", json!({"id": REFUNDS}))).await;
    let text = card["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("# Refunds on annual plans"), "{text}");
    assert!(text.contains("trust: verified"), "{text}");

    let (_, matched) = rpc(
        &t,
        call(
            5,
            "match_ticket",
            json!({"subject": "refund", "body": "We want our money back for the annual plan."}),
        ),
    )
    .await;
    assert!(matched.to_string().contains(REFUNDS), "{matched}");

    // A missing card is the tool's error, for the model to read; an unknown
    // tool or method is a protocol error.
    let (_, missing) = rpc(&t, call(6, "get_card", json!({"id": "no/such/card"}))).await;
    assert_eq!(missing["result"]["isError"], true);
    let (_, unknown) = rpc(&t, call(7, "delete_everything", json!({}))).await;
    assert_eq!(unknown["error"]["code"], -32602);
    let (_, method) = rpc(
        &t,
        json!({"jsonrpc": "2.0", "id": 8, "method": "resources/list"}),
    )
    .await;
    assert_eq!(method["error"]["code"], -32601);
    let (status, bad) = send(t.client.post(t.url("/mcp")).body("{oops")).await;
    assert_eq!((status, bad["error"]["code"].as_i64()), (200, Some(-32700)));

    // No stream, no sessions; pages on other origins may not drive it.
    assert_eq!(
        t.client.get(t.url("/mcp")).send().await.unwrap().status(),
        405
    );
    let (status, _) = send(
        t.client
            .post(t.url("/mcp"))
            .header("origin", "https://evil.example")
            .json(&json!({"jsonrpc": "2.0", "id": 9, "method": "ping"})),
    )
    .await;
    assert_eq!(status, 403);
}

#[tokio::test(flavor = "multi_thread")]
async fn llms_txt_indexes_the_cards_and_each_card_has_a_markdown_twin() {
    let t = TestKb::demo().await;
    let (status, text) = t.get_text("/llms.txt").await;
    assert_eq!(status, 200);
    assert!(text.starts_with("# "), "{text}");
    assert!(text.contains("\n> "), "a summary line");
    assert!(text.contains("## Support playbooks"), "{text}");
    let twin = format!("/cards/{REFUNDS}.md)");
    assert!(text.contains(&twin), "{text}");
    let (status, raw) = t.get_text(&format!("/cards/{REFUNDS}.md")).await;
    assert_eq!(status, 200);
    assert!(
        raw.starts_with("---\ntitle: Refunds on annual plans"),
        "{raw}"
    );
    assert_eq!(t.get_text("/cards/no/such.md").await.0, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_openapi_document_describes_every_api_route() {
    let t = TestKb::demo().await;
    let (status, doc) = t.get("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/api/v1/search",
        "/api/v1/suggest",
        "/api/v1/match",
        "/api/v1/collections",
        "/api/v1/tags",
        "/api/v1/cards/{id}",
        "/api/v1/cards/{id}/feedback",
    ] {
        assert!(paths.contains_key(path), "{path} undocumented");
    }
    // Every documented GET route answers (not the unknown-endpoint 404).
    for path in paths.keys().filter(|p| !p.contains('{')) {
        if paths[path].get("get").is_some() {
            let (_, body) = t.get(path).await;
            assert_ne!(body["code"], "not_found", "{path}");
        }
    }
}
