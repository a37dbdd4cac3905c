//! The API an inbox sidebar calls: match a ticket, suggest while typing,
//! list collections and tags, feedback; tokens, scopes and CORS.

use quire::config::{TokenConfig, sha256_of};
use serde_json::{Value, json};

use crate::support::{TestKb, hit_ids, send};

const REFUNDS: &str = "playbooks/refunds/annual-plans";

/// A ticket as Front or Help Scout hands it over: HTML, a signature, a
/// quoted earlier reply about something else.
const TICKET_HTML: &str = r#"<div dir="ltr"><p>Hello,</p>
<p>We paid for the yearly plan in March, but our team moved to another tool last week.
Can we get our money back for the months we will not use?</p>
<div class="gmail_signature">--<br>Maria Ionescu<br>Head of Operations, Example SRL</div>
<div class="gmail_quote">On Mon, Nov 2, 2026 at 10:00 AM Support &lt;help@example.com&gt; wrote:
<blockquote type="cite">Thanks for writing about the password reset and the API rate limits.
Your two-factor code and the webhook retries are explained here.</blockquote></div></div>"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_realistic_ticket_matches_the_card_that_answers_it_first() {
    let t = TestKb::demo().await;
    let (status, body) = t
        .post_json(
            "/api/v1/match",
            &json!({ "subject": "Re: refund for our subscription?", "body": TICKET_HTML, "tags": ["billing"] }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(hit_ids(&body).first(), Some(&REFUNDS), "{body}");
    let first = &body["hits"][0];
    // The search hit shape, plus why it matched.
    for field in ["title", "url", "trust", "snippet", "score", "collection"] {
        assert!(!first[field].is_null(), "{field} missing in {first}");
    }
    let matched: Vec<&str> = first["matched"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(matched.contains(&"refund"), "{matched:?}");
    // The quoted history and the signature are not the ticket.
    let terms = body["terms"].to_string();
    for noise in ["password", "webhook", "maria", "operations", "wrote"] {
        assert!(!terms.contains(noise), "{noise} searched: {terms}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn tickets_in_other_languages_match_their_cards() {
    let t = TestKb::demo().await;
    let (_, ro) = t
        .post_json(
            "/api/v1/match",
            &json!({ "subject": "Re: Nu pot să mă conectez", "body": "Bună ziua, am resetat parola dar linkul de resetare a expirat.\n\nCu stimă,\nIon" }),
        )
        .await;
    assert_eq!(
        hit_ids(&ro).first(),
        Some(&"playbooks/account/resetarea-parolei"),
        "{ro}"
    );
    let (_, zh) = t
        .post_json(
            "/api/v1/match",
            &json!({ "subject": "两步验证手机丢了", "body": "您好，我换了手机，无法登录账户，两步验证码收不到。谢谢！" }),
        )
        .await;
    assert_eq!(
        hit_ids(&zh).first(),
        Some(&"playbooks/account/chongzhi-mima"),
        "{zh}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_ticket_is_matched_on_what_it_is_about_not_on_its_grammar() {
    let t = TestKb::demo().await;
    // Romanian typed without diacritics, as customers do, about an error
    // code the team named in a synonym group; no Romanian card covers it.
    let (status, body) = t
        .post_json(
            "/api/v1/match",
            &json!({
                "subject": "Primim 429 de la API",
                "body": "Buna ziua, daca trimitem mai multe cereri pe minut primim 429 si scriptul se opreste. \
                         Suntem pe planul Business. Ce putem face ca sa nu mai fim blocati?"
            }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let terms: Vec<&str> = body["terms"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(terms.contains(&"429"), "{terms:?}");
    for grammar in ["daca", "suntem", "ce", "mai", "putem", "sa", "nu"] {
        assert!(!terms.contains(&grammar), "{grammar} searched: {terms:?}");
    }
    let ids = hit_ids(&body);
    assert!(
        ids.iter().take(3).any(|id| id.starts_with("product/api/")),
        "{ids:?}"
    );
}

/// A handbook whose only card on removing people is in English, and a
/// Russian customer who asks about it in Russian words only.
async fn english_answer_for_a_russian_ticket(translate: bool) -> Vec<String> {
    let content = tempfile::tempdir().unwrap();
    for (path, text) in [
        (
            "people/removing-teammates.md",
            "---\ntitle: Removing a teammate\nlang: en\n---\nTo delete a user, open Settings, then People, \
             and choose Delete user. Their conversations stay in the workspace.\n",
        ),
        (
            "ru/tarify.md",
            "---\ntitle: Тарифы\nlang: ru\n---\nТариф можно сменить в любой момент, разница в цене \
             пересчитывается до конца месяца.\n",
        ),
    ] {
        crate::support::write_file(content.path(), path, text);
    }
    let t = TestKb::serve_with(content, tempfile::tempdir().unwrap(), |c| {
        c.translate_tickets = translate
    })
    .await;
    russian_ticket_matches(&t).await
}

/// The cards a Russian customer's ticket about removing a user matches.
async fn russian_ticket_matches(t: &TestKb) -> Vec<String> {
    let (status, body) = t
        .post_json(
            "/api/v1/match",
            &json!({ "subject": "Удалить пользователя", "body": "Здравствуйте! Как удалить пользователя из команды? Он уволился." }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    hit_ids(&body).into_iter().map(str::to_string).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_ticket_finds_the_answer_written_in_another_language_through_the_lexicon() {
    let translated = english_answer_for_a_russian_ticket(true).await;
    assert_eq!(
        translated.first().map(String::as_str),
        Some("people/removing-teammates"),
        "{translated:?}"
    );
    // `translate_tickets = false`: no word of the ticket is in that card.
    let literal = english_answer_for_a_russian_ticket(false).await;
    assert!(
        !literal.iter().any(|id| id == "people/removing-teammates"),
        "{literal:?}"
    );
}

/// A ticket's words are looked for in translation in card bodies, not
/// titles: cards named for the translation of one of its words ("user")
/// do not come before the card whose text answers it.
#[tokio::test(flavor = "multi_thread")]
async fn a_translated_word_in_a_title_does_not_outrank_the_answer() {
    let t = TestKb::start(&[
        (
            "cmd/userdel.md",
            "---\ntitle: userdel\nlang: en\n---\nRemove a user account from the system. The \
             account's files, mail spool and cron jobs go with it when the option for them is \
             given; processes that still run under the account are not stopped, so check for \
             them first and end them by hand, then run the command again as root.\n",
        ),
        (
            "cmd/users.md",
            "---\ntitle: users\nlang: en\n---\nShow who is signed in to this machine now.\n",
        ),
        (
            "cmd/user-list.md",
            "---\ntitle: User list\nlang: en\n---\nPrint every account known to the system, one per line.\n",
        ),
        (
            "cmd/chage.md",
            "---\ntitle: chage\nlang: en\n---\nChange how long a password stays valid.\n",
        ),
    ])
    .await;
    let ids = russian_ticket_matches(&t).await;
    assert_eq!(
        ids.first().map(String::as_str),
        Some("cmd/userdel"),
        "{ids:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_match_body_is_a_json_400_and_an_empty_ticket_matches_nothing() {
    let t = TestKb::demo().await;
    let (status, body) = send(
        t.client
            .post(t.url("/api/v1/match"))
            .header("content-type", "application/json")
            .body("{not json"),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "invalid_body");
    let (status, body) = t.post_json("/api/v1/match", &json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(body["hits"], json!([]));
    let huge = "refund ".repeat(200_000);
    let (status, body) = t.post_json("/api/v1/match", &json!({ "body": huge })).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["code"], "payload_too_large");
}

#[tokio::test(flavor = "multi_thread")]
async fn suggest_completes_titles_while_typing_with_typos() {
    let t = TestKb::demo().await;
    for typed in ["Refunds on ann", "refnds on annual", "refunds annual pl"] {
        let (status, body) = t
            .get(&format!(
                "/api/v1/suggest?q={}",
                crate::support::encode(typed)
            ))
            .await;
        assert_eq!(status, 200);
        let ids: Vec<&str> = body["suggestions"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["id"].as_str())
            .collect();
        assert!(ids.len() <= 10);
        assert_eq!(ids.first(), Some(&REFUNDS), "{typed:?}: {body}");
    }
    let (_, empty) = t.get("/api/v1/suggest?q=").await;
    assert_eq!(empty["suggestions"], json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn collections_and_tags_are_listed_with_counts() {
    let t = TestKb::demo().await;
    let (status, body) = t.get("/api/v1/collections").await;
    assert_eq!(status, 200);
    let names: Vec<&str> = body["collections"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(
        names,
        ["playbooks", "escalation", "onboarding", "product"],
        "{body}"
    );
    let total: u64 = body["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["cards"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 59);
    let (status, body) = t.get("/api/v1/tags").await;
    assert_eq!(status, 200);
    let billing = body["tags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "billing")
        .expect("billing tag");
    assert!(billing["cards"].as_u64().unwrap() >= 3, "{billing}");
}

#[tokio::test(flavor = "multi_thread")]
async fn feedback_is_stored_listed_and_resolved_and_follows_a_renamed_card() {
    let t = TestKb::demo().await;
    let url = format!("/api/v1/cards/{REFUNDS}/feedback");
    let (status, body) = t.post_json(&url, &json!({ "verdict": "helpful" })).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["verdict"], "helpful");
    let (status, body) = t
        .post_json(
            &url,
            &json!({ "verdict": "outdated", "comment": "The 30 days are 14 now." }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = t.post_json(&url, &json!({ "verdict": "meh" })).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_parameter"))
    );
    let (status, body) = t
        .post_json(
            "/api/v1/cards/no/such/feedback",
            &json!({ "verdict": "helpful" }),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("card_not_found"))
    );

    let (_, list) = t.get(&url).await;
    assert_eq!(list["feedback"].as_array().unwrap().len(), 2);
    assert_eq!(list["open_flags"], 1);
    assert_eq!(list["feedback"][0]["comment"], "The 30 days are 14 now.");

    // Renamed with an alias to the old id: the feedback comes along.
    let old = t.path("playbooks/refunds/annual-plans.md");
    let text = std::fs::read_to_string(&old).unwrap().replacen(
        "aliases: [playbooks/refund-annual]",
        "aliases: [playbooks/refund-annual, playbooks/refunds/annual-plans]",
        1,
    );
    std::fs::remove_file(&old).unwrap();
    t.write("playbooks/refunds/annual.md", &text);
    t.eventually("the renamed card", || async {
        t.get("/api/v1/cards/playbooks/refunds/annual/feedback")
            .await
            .1["open_flags"]
            == 1
    })
    .await;

    let (status, resolved) = t
        .post_json(
            "/api/v1/cards/playbooks/refunds/annual/feedback/resolve",
            &json!({}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(resolved["resolved"], 1);
    let (_, list) = t
        .get("/api/v1/cards/playbooks/refunds/annual/feedback")
        .await;
    assert_eq!(list["open_flags"], 0);
}

fn token(secret: &str, public_only: bool) -> TokenConfig {
    TokenConfig {
        sha256: sha256_of(secret.as_bytes()),
        public_only,
        read_only: false,
    }
}

const INTERNAL_TOKEN: &str = "internal-token-for-tests";
const PUBLIC_TOKEN: &str = "public-token-for-tests-1";

async fn with_tokens() -> TestKb {
    TestKb::demo_with(|c| {
        c.api.tokens = vec![token(INTERNAL_TOKEN, false), token(PUBLIC_TOKEN, true)];
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_are_required_on_every_api_route_when_configured() {
    let t = with_tokens().await;
    let get = |path: &str, token: Option<&str>| {
        let mut request = t.client.get(t.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        send(request)
    };
    for path in [
        "/api/v1/search?q=refund",
        "/api/v1/suggest?q=ref",
        "/api/v1/collections",
        "/api/v1/tags",
        &format!("/api/v1/cards/{REFUNDS}"),
        "/llms.txt",
        &format!("/cards/{REFUNDS}.md"),
    ] {
        let (status, body) = get(path, None).await;
        assert_eq!(status, 401, "{path}: {body}");
        assert_eq!(body["code"], "unauthorized", "{path}");
        let (status, _) = get(path, Some("wrong-token-wrong-token")).await;
        assert_eq!(status, 401, "{path}");
        let (status, body) = get(path, Some(INTERNAL_TOKEN)).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
    let (status, _) = send(
        t.client
            .post(t.url("/api/v1/match"))
            .json(&json!({"body": "refund"})),
    )
    .await;
    assert_eq!(status, 401);
    let (status, _) = send(
        t.client
            .post(t.url("/mcp"))
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "ping"})),
    )
    .await;
    assert_eq!(status, 401);
    // Health and the API's description stay open.
    assert_eq!(t.get("/healthz").await.0, 200);
    assert_eq!(t.get("/api/v1/openapi.json").await.0, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_public_token_sees_public_cards_only_in_hits_counts_facets_and_cards() {
    let t = with_tokens().await;
    let as_public = |path: &str| send(t.client.get(t.url(path)).bearer_auth(PUBLIC_TOKEN));
    let as_internal = |path: &str| send(t.client.get(t.url(path)).bearer_auth(INTERNAL_TOKEN));

    let (_, all) = as_internal("/api/v1/search?q=&limit=100&facets=true").await;
    let (_, public) = as_public("/api/v1/search?q=&limit=100&facets=true").await;
    let cards_counted = |found: &Value| -> u64 {
        found["facets"]["collection"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum()
    };
    // Facets count cards; the total counts hits, one per translation family.
    assert_eq!(cards_counted(&all), 59);
    let public_cards = cards_counted(&public);
    assert!((1..59).contains(&public_cards), "{public_cards}");
    let public_total = public["total"].as_u64().unwrap();
    assert_eq!(hit_ids(&public).len() as u64, public_total);
    assert!(public_total <= public_cards);
    for hit in public["hits"].as_array().unwrap() {
        for translation in hit["translations"].as_array().unwrap() {
            let id = translation["id"].as_str().unwrap();
            let (status, _) = as_public(&format!("/api/v1/cards/{id}")).await;
            assert_eq!(
                status, 200,
                "a public hit lists an internal translation {id}"
            );
        }
    }

    // An internal card does not exist for a public token, anywhere.
    let internal = "escalation/tiers/tier-2";
    assert_eq!(
        as_internal(&format!("/api/v1/cards/{internal}")).await.0,
        200
    );
    let (status, body) = as_public(&format!("/api/v1/cards/{internal}")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("card_not_found"))
    );
    assert_eq!(as_public(&format!("/cards/{internal}.md")).await.0, 404);
    let (_, found) = as_public("/api/v1/search?q=tier%202%20escalation").await;
    assert!(!hit_ids(&found).contains(&internal), "{found}");
    let (_, suggested) = as_public("/api/v1/suggest?q=tier").await;
    assert!(!suggested.to_string().contains(internal), "{suggested}");
    let (_, llms) = as_public("/llms.txt").await;
    assert!(!llms.as_str().unwrap().contains(internal));

    // A public card reads fine, but links and backlinks to internal cards
    // are not given away.
    let (status, card) = as_public(&format!("/api/v1/cards/{REFUNDS}")).await;
    assert_eq!(status, 200);
    for link in card["links"].as_array().unwrap() {
        if let Some(url) = link["url"].as_str() {
            let id = url.trim_start_matches("/cards/");
            let (_, target) = as_public(&format!("/api/v1/cards/{id}")).await;
            assert_eq!(target["audience"], "public", "{url} leaked");
        }
    }
    for backlink in card["backlinks"].as_array().unwrap() {
        let (_, source) = as_public(&format!(
            "/api/v1/cards/{}",
            backlink["id"].as_str().unwrap()
        ))
        .await;
        assert_eq!(source["audience"], "public", "{backlink} leaked");
    }

    let (_, matched) = send(
        t.client
            .post(t.url("/api/v1/match"))
            .bearer_auth(PUBLIC_TOKEN)
            .json(&json!({ "body": "escalate to tier 2 engineering on call" })),
    )
    .await;
    for hit in matched["hits"].as_array().unwrap() {
        let (_, card) = as_public(&format!("/api/v1/cards/{}", hit["id"].as_str().unwrap())).await;
        assert_eq!(card["audience"], "public", "{hit}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn cors_allows_configured_origins_only_with_preflight() {
    let t = TestKb::demo_with(|c| {
        c.api.cors_origins = vec!["https://app.frontapp.com".into()];
        c.api.tokens = vec![token(INTERNAL_TOKEN, false)];
    })
    .await;
    let preflight = |origin: &'static str| {
        t.client
            .request(reqwest::Method::OPTIONS, t.url("/api/v1/search?q=refund"))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let allowed = preflight("https://app.frontapp.com").await.unwrap();
    assert!(allowed.status().is_success(), "{}", allowed.status());
    let h = allowed.headers();
    assert_eq!(h["access-control-allow-origin"], "https://app.frontapp.com");
    assert!(
        h["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("authorization")
    );
    let refused = preflight("https://evil.example").await.unwrap();
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    // The real request: allowed origin gets the header, even on a 401.
    let response = t
        .client
        .get(t.url("/api/v1/search?q=refund"))
        .header("origin", "https://app.frontapp.com")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://app.frontapp.com"
    );
    let response = t
        .client
        .get(t.url("/api/v1/search?q=refund"))
        .header("origin", "https://evil.example")
        .bearer_auth(INTERNAL_TOKEN)
        .send()
        .await
        .unwrap();
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sidebar_is_light_and_framed_only_by_the_inbox_origins() {
    let t = TestKb::demo_with(|c| {
        c.sidebar_frame_origins = vec!["https://*.frontapp.com".into()];
    })
    .await;
    let response = t.client.get(t.url("/sidebar")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("frame-ancestors https://*.frontapp.com"),
        "{csp}"
    );
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(response.headers().get("x-frame-options").is_none());
    let html = response.text().await.unwrap();
    // The page and everything it loads up front, without the Front SDK
    // (loaded only inside Front).
    let mut bytes = html.len();
    for asset in ["/static/sidebar.js", "/static/sidebar.css"] {
        assert!(html.contains(asset), "{asset} not linked");
        let (status, text) = t.get_text(asset).await;
        assert_eq!(status, 200, "{asset}");
        bytes += text.len();
    }
    assert!(bytes < 50 * 1024, "the sidebar weighs {bytes} bytes");
    assert!(!html.contains("<script>"), "no inline script");

    // Every other page refuses to be framed.
    let home = t.client.get(t.url("/")).send().await.unwrap();
    let csp = home.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.ends_with("frame-ancestors 'none'"), "{csp}");
    assert!(
        csp.contains("script-src 'self';"),
        "no inline script: {csp}"
    );
    assert_eq!(home.headers()["x-frame-options"], "DENY");
}
