//! Access: a site that needs signing in, sessions, read-only tokens, the
//! SSO proxy's trusted header, and rate limits on wrong credentials.

use quire::config::{TokenConfig, sha256_of};
use reqwest::redirect::Policy;

use crate::support::TestKb;

const WRITER: &str = "writer-token-for-tests";
const READER: &str = "reader-token-for-tests";
const CARD: &str = "---\ntitle: Refunds\n---\nRefund annual plans within 30 days.\n";

fn token(secret: &str, read_only: bool) -> TokenConfig {
    TokenConfig {
        sha256: sha256_of(secret.as_bytes()),
        public_only: false,
        read_only,
    }
}

async fn locked(configure: impl FnOnce(&mut quire::Config)) -> TestKb {
    let content = tempfile::tempdir().unwrap();
    crate::support::write_file(content.path(), "a/refunds.md", CARD);
    TestKb::serve_with(content, tempfile::tempdir().unwrap(), |c| {
        c.api.tokens = vec![token(WRITER, false), token(READER, true)];
        c.site.require_login = true;
        configure(c);
    })
    .await
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// Signs in with `secret`, returning the session cookie (`name=value`).
async fn sign_in(t: &TestKb, secret: &str) -> Option<String> {
    let response = no_redirects()
        .post(t.url("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={secret}&next=%2Fcards%2Fa%2Frefunds"))
        .send()
        .await
        .unwrap();
    if response.status() != 303 {
        return None;
    }
    assert_eq!(
        response.headers()["location"],
        "/cards/a/refunds",
        "back where the reader was going"
    );
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    cookie.split(';').next().map(str::to_string)
}

#[tokio::test]
async fn a_locked_site_sends_readers_to_sign_in_and_lets_them_in_with_a_token() {
    let t = locked(|_| {}).await;
    let client = no_redirects();
    let home = client
        .get(t.url("/cards/a/refunds?x=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(home.status(), 303);
    assert_eq!(
        home.headers()["location"],
        "/login?next=%2Fcards%2Fa%2Frefunds%3Fx%3D1"
    );
    for open in [
        "/login",
        "/static/style.css",
        "/healthz",
        "/api/v1/openapi.json",
    ] {
        assert_eq!(
            client.get(t.url(open)).send().await.unwrap().status(),
            200,
            "{open}"
        );
    }
    let (status, body) = t.get("/api/v1/search?q=refunds").await;
    assert_eq!((status, body["code"].as_str()), (401, Some("unauthorized")));

    assert_eq!(sign_in(&t, "not-a-real-token-1234").await, None);
    let cookie = sign_in(&t, WRITER).await.expect("signed in");
    let page = client
        .get(t.url("/cards/a/refunds"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Sign out"));
    // The session also opens the API, so the site's search-as-you-type works.
    let api = client
        .get(t.url("/api/v1/suggest?q=ref"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 200);
    // A tampered cookie is nobody.
    let forged = cookie.replace("v1.", "v1.9");
    let page = client
        .get(t.url("/"))
        .header("cookie", forged)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 303);
    // Signing out clears the cookie.
    let out = client
        .post(t.url("/logout"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    assert!(
        out.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
}

#[tokio::test]
async fn a_read_only_session_or_token_reads_but_cannot_write() {
    let t = locked(|_| {}).await;
    let client = no_redirects();
    let cookie = sign_in(&t, READER).await.expect("signed in");
    let page = client
        .get(t.url("/cards/a/refunds"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let form = client
        .post(t.url("/cards/a/refunds/feedback"))
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("verdict=helpful")
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 403);
    let api = client
        .post(t.url("/api/v1/cards/a/refunds/feedback"))
        .bearer_auth(READER)
        .json(&serde_json::json!({"verdict": "helpful"}))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 403);
    let api = client
        .post(t.url("/api/v1/cards/a/refunds/feedback"))
        .bearer_auth(WRITER)
        .json(&serde_json::json!({"verdict": "helpful"}))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 201);
}

#[tokio::test]
async fn wrong_tokens_are_rate_limited_per_address() {
    let t = locked(|_| {}).await;
    let from = |ip: [u8; 4]| {
        reqwest::Client::builder()
            .local_address(std::net::IpAddr::from(ip))
            .redirect(Policy::none())
            .build()
            .unwrap()
    };
    let guesser = from([127, 0, 0, 1]);
    for _ in 0..10 {
        let r = guesser
            .get(t.url("/api/v1/search?q=x"))
            .bearer_auth("guess-guess-guess-1")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
    let r = guesser
        .get(t.url("/api/v1/search?q=x"))
        .bearer_auth(WRITER)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429, "blocked, even with the right token");
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait));
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "rate_limited");
    // Signing in on the page is limited too.
    let login = guesser
        .post(t.url("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={WRITER}"))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 429);
    // Another address is not.
    let other = from([127, 0, 0, 2]);
    let r = other
        .get(t.url("/api/v1/search?q=x"))
        .bearer_auth(WRITER)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn behind_an_sso_proxy_its_header_signs_in_only_from_the_proxy() {
    let t = locked(|c| {
        c.site.trusted_header = Some("X-Forwarded-User".into());
        c.site.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let proxy = no_redirects();
    let page = proxy
        .get(t.url("/cards/a/refunds"))
        .header("x-forwarded-user", "ann@example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(
        proxy.get(t.url("/")).send().await.unwrap().status(),
        303,
        "no header"
    );
    let elsewhere = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 3]))
        .redirect(Policy::none())
        .build()
        .unwrap();
    let page = elsewhere
        .get(t.url("/"))
        .header("x-forwarded-user", "mallory@example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 303, "the header counts only from the proxy");
}

#[tokio::test]
async fn a_public_only_token_cannot_open_the_sites_internal_pages() {
    const PUBLIC: &str = "public-token-for-tests";
    let t = locked(|c| {
        c.api.tokens.push(TokenConfig {
            sha256: sha256_of(PUBLIC.as_bytes()),
            public_only: true,
            read_only: false,
        })
    })
    .await;
    assert_eq!(sign_in(&t, PUBLIC).await, None, "no session for it");
    let page = no_redirects()
        .get(t.url("/cards/a/refunds"))
        .bearer_auth(PUBLIC)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 303, "as a bearer token on a page");
    // In the API it sees public cards only: this one is internal.
    let (status, _) = crate::support::send(
        t.client
            .get(t.url("/api/v1/cards/a/refunds"))
            .bearer_auth(PUBLIC),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn after_signing_in_the_browser_stays_on_this_site() {
    let t = locked(|_| {}).await;
    for (next, to) in [
        ("%2Fcards%2Fa%2Frefunds", "/cards/a/refunds"),
        ("%2F%2Fevil.example", "/"),
        ("%2F%09%2Fevil.example", "/"),
        ("%2F%0A%2Fevil.example", "/"),
        ("%2F%5Cevil.example", "/"),
        ("https%3A%2F%2Fevil.example", "/"),
        ("%2F%20%2Fevil.example", "/"),
    ] {
        let response = no_redirects()
            .post(t.url("/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("token={WRITER}&next={next}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303, "{next}");
        assert_eq!(response.headers()["location"], to, "{next}");
    }
}

#[tokio::test]
async fn only_the_proxys_own_forwarded_address_counts_for_rate_limits() {
    // Behind a proxy that appends the client's address, a client's own
    // X-Forwarded-For claims must not move its failures elsewhere.
    let t = locked(|c| c.site.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await;
    let mut last = 0;
    for i in 0..12 {
        let response = t
            .client
            .get(t.url("/api/v1/search?q=x"))
            .bearer_auth("wrong-token-0000000")
            // The client's claim first, then what the proxy appended, which
            // is not an address the server can use.
            .header("x-forwarded-for", format!("10.0.0.{i}, garbage"))
            .send()
            .await
            .unwrap();
        last = response.status().as_u16();
    }
    assert_eq!(last, 429, "the failures counted against one address");
}
