//! Staying up under load: CPU-bound overload is shed at admission with 503
//! and `Retry-After` while `/healthz` keeps answering quickly; slow bodies
//! time out with 408 and never hold a worker. A test binary
//! of its own, because it times answers: `cargo test` runs test binaries
//! one after another, so no other test competes for the two cores (beside
//! the integration tests in `tests/it`, `/healthz` took 770 ms).

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::json;

#[allow(dead_code)]
#[path = "it/support.rs"]
mod support;

use support::{TestKb, card, read_answer};

/// The tests here time answers: one at a time.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The request time limit of the overload test: half of it may be spent
/// waiting for a worker, so with 96 clients on two workers (47 rounds
/// ahead) a match is shed once it takes 2 ms, a third of what the
/// longest ticket takes here (it was 600 ms, and matching got fast enough
/// that 48 clients were no longer an overload).
const TIME_LIMIT_MS: u64 = 200;

/// A ticket long enough that matching it keeps a worker busy a while.
fn long_ticket() -> String {
    (0..6_000)
        .map(|n| format!("word{} refund invoice", n % 997))
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cpu_bound_overload_is_shed_at_once_and_health_keeps_answering() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let t = TestKb::configured(|c| {
        c.limits.request_timeout_ms = TIME_LIMIT_MS;
    })
    .await;
    for n in 0..60 {
        t.write(
            &format!("a/card-{n}.md"),
            &card(
                &format!("Refund case {n}"),
                "Refund an invoice for word1 word2.",
            ),
        );
    }
    t.eventually("the cards", || async {
        t.get("/api/v1/search?q=refund%20case%2059").await.1["total"] != 0
    })
    .await;

    let ticket = json!({ "subject": "refund", "body": long_ticket() });
    let stop_at = Instant::now() + Duration::from_secs(3);
    let mut clients = Vec::new();
    for _ in 0..96 {
        let (client, url, ticket) = (t.client.clone(), t.url("/api/v1/match"), ticket.clone());
        clients.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            while Instant::now() < stop_at {
                let started = Instant::now();
                let Ok(response) = client.post(&url).json(&ticket).send().await else {
                    continue;
                };
                let status = response.status().as_u16();
                let retry_after = response.headers().contains_key("retry-after");
                let _ = response.bytes().await;
                answers.push((status, retry_after, started.elapsed()));
            }
            answers
        }));
    }
    let mut slowest_health = Duration::ZERO;
    while Instant::now() < stop_at {
        let started = Instant::now();
        let (status, _) = t.get("/healthz").await;
        assert_eq!(status, 200);
        slowest_health = slowest_health.max(started.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut answers = Vec::new();
    for client in clients {
        answers.extend(client.await.unwrap());
    }
    let served = answers.iter().filter(|a| a.0 == 200).count();
    let shed = answers.iter().filter(|a| a.0 == 503).count();
    assert!(served > 0, "nothing served: {answers:?}");
    assert!(shed > 0, "nothing shed, {served} served");
    for (status, retry_after, took) in &answers {
        assert!(
            *status == 200 || (*status == 503 && *retry_after),
            "{status} (retry-after: {retry_after})"
        );
        // The time limit, plus what a loaded test machine adds to a reply.
        assert!(
            *took < Duration::from_millis(TIME_LIMIT_MS + 1_500),
            "{status} took {took:?}"
        );
    }
    assert!(
        slowest_health < Duration::from_millis(500),
        "/healthz took {slowest_health:?} under load"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_bodies_hold_no_worker_and_time_out_with_a_408() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let t = TestKb::configured(|c| {
        c.limits.max_in_flight = 2;
        c.limits.body_read_timeout_ms = 700;
    })
    .await;
    t.write("a/card.md", &card("Refunds", "Refund annual plans."));
    t.eventually("the card", || async {
        t.get("/api/v1/cards/a/card").await.0 == 200
    })
    .await;
    let mut stalled: Vec<TcpStream> = (0..6).map(|_| stalled_body(&t)).collect();
    // Six stalled senders, two places: searches are still served.
    for _ in 0..5 {
        let (status, body) = t.get("/api/v1/search?q=refunds").await;
        assert_eq!(status, 200, "{body}");
    }
    for tcp in &mut stalled {
        let answer = read_answer(tcp);
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("\"code\":\"body_timeout\""), "{answer}");
    }
}

/// A request whose body never finishes arriving.
fn stalled_body(t: &TestKb) -> TcpStream {
    let mut tcp = TcpStream::connect(t.addr).unwrap();
    tcp.write_all(
        b"POST /api/v1/match HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
    )
    .unwrap();
    tcp
}
