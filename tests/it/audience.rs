//! What a token scoped to `audience: public` cards can learn and do: no
//! word of an internal card reaches it through any statistic (a ticket's
//! chosen words, ranking), and feedback, the staff's, is closed to it.

use quire::config::{TokenConfig, sha256_of};
use serde_json::{Value, json};

use crate::support::{TestKb, send, write_file};

const STAFF: &str = "staff-token-for-audience-tests";
const PUBLIC: &str = "public-token-for-audience-tests";

fn token(secret: &str, public_only: bool) -> TokenConfig {
    TokenConfig {
        sha256: sha256_of(secret.as_bytes()),
        public_only,
        read_only: false,
    }
}

async fn with_an_internal_secret() -> TestKb {
    let content = tempfile::tempdir().unwrap();
    write_file(
        content.path(),
        "internal/codename.md",
        "---\ntitle: Project names\n---\nThe secret codename is quokkaflux.\n",
    );
    write_file(
        content.path(),
        "public/initech.md",
        "---\ntitle: Initech accounts\naudience: public\n---\nInitech accounts renew every year.\n",
    );
    write_file(
        content.path(),
        "public/renewals.md",
        "---\ntitle: Renewals\naudience: public\n---\nRenewals happen yearly for every account.\n",
    );
    TestKb::serve_with(content, tempfile::tempdir().unwrap(), |c| {
        c.api.tokens = vec![token(STAFF, false), token(PUBLIC, true)];
    })
    .await
}

async fn matched(t: &TestKb, as_token: &str) -> Value {
    let (status, body) = send(
        t.client
            .post(t.url("/api/v1/match"))
            .bearer_auth(as_token)
            .json(&json!({
                "subject": "quokkaflux question",
                "body": "Hello, what is quokkaflux? We are Initech and zzqqxxw renewals."
            })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test(flavor = "multi_thread")]
async fn a_public_token_learns_no_word_that_only_internal_cards_hold() {
    let t = with_an_internal_secret().await;
    let staff = matched(&t, STAFF).await;
    assert!(
        staff["terms"].to_string().contains("quokkaflux"),
        "staff see every card's words: {staff}"
    );

    let public = matched(&t, PUBLIC).await;
    let terms = public["terms"].to_string();
    assert!(terms.contains("initech"), "{public}");
    assert!(
        !terms.contains("quokkaflux"),
        "a word of an internal card leaked: {public}"
    );

    let mcp = send(
        t.client
            .post(t.url("/mcp"))
            .bearer_auth(PUBLIC)
            .header("accept", "application/json, text/event-stream")
            .json(
                &json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
                    "name": "match_ticket",
                    "arguments": {"subject": "quokkaflux", "body": "Initech asks about quokkaflux."}
                }}),
            ),
    )
    .await
    .1;
    let text = mcp["result"]["content"][0]["text"].as_str().unwrap_or("");
    assert!(text.contains("initech"), "{mcp}");
    assert!(!text.contains("quokkaflux"), "{mcp}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_public_tokens_scores_are_the_same_whatever_internal_cards_say() {
    // Ranking reads document frequencies; over public cards only, an
    // internal card that repeats a word changes nothing a public caller sees.
    let t = with_an_internal_secret().await;
    let (_, before) = public_search(&t).await;
    for n in 0..20 {
        t.write(
            &format!("internal/renewal-{n}.md"),
            "---\ntitle: Renewal notes\n---\nRenewals renewals renewals.\n",
        );
    }
    t.eventually("the internal cards to be indexed", || async {
        let (_, all) = send(
            t.client
                .get(t.url("/api/v1/search?q=renewal%20notes"))
                .bearer_auth(STAFF),
        )
        .await;
        all["total"] == 20
    })
    .await;
    let (_, after) = public_search(&t).await;
    assert_eq!(before["hits"], after["hits"], "{before}\n{after}");
}

async fn public_search(t: &TestKb) -> (u16, Value) {
    send(
        t.client
            .get(t.url("/api/v1/search?q=initech%20renewals"))
            .bearer_auth(PUBLIC),
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn feedback_is_closed_to_a_public_token_and_open_to_staff() {
    let t = with_an_internal_secret().await;
    let url = t.url("/api/v1/cards/public/initech/feedback");
    let (status, body) = send(
        t.client
            .post(&url)
            .bearer_auth(STAFF)
            .json(&json!({"verdict": "outdated", "comment": "Staff only: ask Bob"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");

    let (status, body) = send(t.client.get(&url).bearer_auth(PUBLIC)).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")));
    assert!(!body.to_string().contains("ask Bob"));
    let (status, _) = send(
        t.client
            .post(&url)
            .bearer_auth(PUBLIC)
            .json(&json!({"verdict": "helpful"})),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = send(t.client.post(format!("{url}/resolve")).bearer_auth(PUBLIC)).await;
    assert_eq!(status, 403);

    let (status, list) = send(t.client.get(&url).bearer_auth(STAFF)).await;
    assert_eq!(status, 200);
    assert_eq!(list["feedback"].as_array().map(Vec::len), Some(1));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_public_token_is_never_offered_a_word_that_only_internal_cards_hold() {
    let t = with_an_internal_secret().await;
    let search = |as_token: &'static str| {
        let request = t
            .client
            .get(t.url("/api/v1/search?q=quokkaflix"))
            .bearer_auth(as_token);
        send(request)
    };
    // The staff are offered the internal card's word, and find the card.
    let (status, staff) = search(STAFF).await;
    assert_eq!(status, 200, "{staff}");
    assert_eq!(staff["did_you_mean"], "quokkaflux", "{staff}");
    assert_eq!(staff["hits"][0]["id"], "internal/codename", "{staff}");
    // A public token: no correction, no hit, no trace of the word.
    let (status, public) = search(PUBLIC).await;
    assert_eq!(status, 200, "{public}");
    assert!(public["did_you_mean"].is_null(), "{public}");
    assert_eq!(public["total"], 0, "{public}");
    assert!(!public.to_string().contains("quokkaflux"), "{public}");
}
