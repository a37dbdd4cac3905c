//! Staying up under abuse (CPU-bound overload and slow bodies are in
//! `tests/overload.rs`, a binary of its own so no other test shares its
//! cores while it times answers): held connections and live-reload streams
//! are capped and never take a worker; the home page costs the same however
//! many cards need verification.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::support::{DEADLINE, TestKb, card, read_answer, send};

#[tokio::test(flavor = "multi_thread")]
async fn connections_past_the_per_address_cap_are_closed_at_once() {
    let t = TestKb::configured(|c| {
        c.limits.max_connections_per_address = 4;
    })
    .await;
    let held: Vec<TcpStream> = (0..4)
        .map(|_| TcpStream::connect(t.addr).unwrap())
        .collect();
    // The server accepts in its own time: the cap shows once it has.
    let deadline = Instant::now() + DEADLINE;
    loop {
        let mut extra = TcpStream::connect(t.addr).unwrap();
        extra
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let _ = extra.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        let mut buf = [0u8; 64];
        if matches!(extra.read(&mut buf), Ok(0) | Err(_)) {
            break;
        }
        assert!(Instant::now() < deadline, "a fifth connection was served");
    }
    drop(held);
    t.eventually("connections to be served again", || async {
        reqwest::Client::new()
            .get(t.url("/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
    })
    .await;
}

/// Opens `/events` and reads its status line.
fn open_stream(t: &TestKb) -> (TcpStream, String) {
    let mut tcp = TcpStream::connect(t.addr).unwrap();
    tcp.write_all(b"GET /events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
        .unwrap();
    let answer = read_answer(&mut tcp);
    (tcp, answer)
}

#[tokio::test(flavor = "multi_thread")]
async fn live_reload_streams_are_capped_and_a_closed_one_frees_its_place() {
    let t = TestKb::configured(|c| {
        c.limits.max_event_streams = 3;
    })
    .await;
    let mut open = Vec::new();
    for _ in 0..3 {
        let (tcp, answer) = open_stream(&t);
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        open.push(tcp);
    }
    let (_, metrics) = t.get_text("/metrics").await;
    assert!(metrics.contains("quire_event_streams 3"), "{metrics}");
    let (_, refused) = open_stream(&t);
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    assert!(refused.contains("\"code\":\"overloaded\""), "{refused}");
    // Searches are not held back by the streams.
    assert_eq!(t.get("/api/v1/search?q=x").await.0, 200);
    drop(open.pop());
    let deadline = Instant::now() + DEADLINE;
    loop {
        let (_, answer) = open_stream(&t);
        if answer.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(Instant::now() < deadline, "the place was never freed");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_public_token_guesser_rotating_addresses_is_limited_in_all() {
    // Unit-tested in `server::access`; here over HTTP through a trusted
    // proxy, whose `X-Forwarded-For` rotates.
    let t = TestKb::configured(|c| {
        c.api.tokens = vec![quire::config::TokenConfig {
            sha256: quire::config::sha256_of(b"the-one-right-token-here"),
            public_only: false,
            read_only: false,
        }];
        c.site.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let mut limited = None;
    for n in 0..150u32 {
        let [a, b, c, d] = (0x0a00_0000 + n).to_be_bytes();
        let (status, _) = send(
            t.client
                .get(t.url("/api/v1/tags"))
                .bearer_auth(format!("guess-number-{n}-of-many"))
                .header("x-forwarded-for", format!("{a}.{b}.{c}.{d}")),
        )
        .await;
        if status == 429 {
            limited = Some(n);
            break;
        }
        assert_eq!(status, 401);
    }
    assert!(
        limited.is_some_and(|n| n <= 100),
        "first 429 at {limited:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn long_lists_come_in_pages_of_bounded_size() {
    let content = tempfile::tempdir().unwrap();
    for n in 0..520 {
        crate::support::write_file(
            content.path(),
            &format!("a/card-{n:03}.md"),
            &card(&format!("Card {n}"), "Never verified."),
        );
    }
    let t = TestKb::serve_with(content, tempfile::tempdir().unwrap(), |_| {}).await;
    t.eventually("every card", || async {
        t.get("/api/v1/search?q=&limit=1").await.1["total"] == 520
    })
    .await;

    let (status, first) = t.page("/verification").await;
    assert_eq!(status, 200);
    assert_eq!(
        first.matches("never verified</span>").count(),
        200,
        "page 1"
    );
    assert!(
        first.contains("href=\"/verification?page=3\""),
        "links to later pages"
    );
    let (_, last) = t.page("/verification?page=3").await;
    assert_eq!(last.matches("never verified</span>").count(), 120, "page 3");
    let (_, beyond) = t.page("/verification?page=99").await;
    assert_eq!(
        beyond.matches("never verified</span>").count(),
        120,
        "the last page"
    );

    let (_, llms) = t.get_text("/llms.txt").await;
    assert_eq!(llms.matches("(unverified)").count(), 500, "{}", llms.len());
    assert!(llms.contains("/llms.txt?page=2"), "links to the rest");
    let (_, rest) = t.get_text("/llms.txt?page=2").await;
    assert_eq!(rest.matches("(unverified)").count(), 20);
    assert!(!rest.contains("?page=3"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_card_flagged_many_times_shows_the_newest_flags_and_the_count() {
    let t = TestKb::start(&[("a/card.md", &card("Refunds", "Refund annual plans."))]).await;
    let store = &t.kb.store;
    for n in 0..210 {
        let comment = format!("flag number {n}");
        store
            .add_feedback("a/card", quire::store::Verdict::Outdated, Some(&comment))
            .unwrap();
    }
    let (status, page) = t.page("/cards/a/card").await;
    assert_eq!(status, 200);
    assert!(page.contains("Flagged as outdated 210 times"), "the count");
    assert_eq!(page.matches("flag number").count(), 20, "the newest 20");
    assert!(page.contains("flag number 209"));

    let (_, list) = t.get("/api/v1/cards/a/card/feedback").await;
    assert_eq!(list["open_flags"], 210);
    assert_eq!(list["feedback"].as_array().map(Vec::len), Some(200));
}
