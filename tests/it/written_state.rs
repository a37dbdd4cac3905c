//! The written state (`quire.db`) over the real server: insights' numbers
//! over thousands of logged rows, bounded log rows for huge requests, the
//! file's mode, and a database deleted or damaged under the server.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use quire::store::{OpenEvent, SearchEvent, Store, now};
use serde_json::json;

use crate::support::{TestKb, card, encode};

const CARD: &str = "a/refunds";

/// The `<li>` texts of one section of the insights page, markup removed.
fn section_items(html: &str, id: &str) -> Vec<String> {
    let start = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("{id} missing"));
    let end = html[start..]
        .find("</section>")
        .map_or(html.len(), |e| start + e);
    html[start..end]
        .split("<li>")
        .skip(1)
        .map(|li| {
            let li = li.split("</li>").next().unwrap_or_default();
            let mut text = String::new();
            let mut in_tag = false;
            for c in li.chars() {
                match c {
                    '<' => in_tag = true,
                    '>' => in_tag = false,
                    c if !in_tag => text.push(c),
                    _ => {}
                }
            }
            text
        })
        .collect()
}

/// Logs `topic n` searched `10 + n` times for n in 0..100 (5,950 rows),
/// with no hit when n is a multiple of 10, opened (spelt differently)
/// when n is even.
fn log_topics(store: &Store) {
    for n in 0..100u64 {
        for i in 0..10 + n {
            store.log_search(SearchEvent {
                at: now(),
                query: if i % 2 == 0 {
                    format!("topic {n}")
                } else {
                    format!("  Topic\t{n} ")
                },
                filters: String::new(),
                hits: if n % 10 == 0 { 0 } else { n },
                source: "api",
            });
        }
        if n % 2 == 0 {
            store.log_open(OpenEvent {
                at: now(),
                card_id: CARD.into(),
                query: Some(format!("TOPIC  {n}")),
                source: "site",
            });
        }
        // The queue holds 4,096 events: written as it goes, none dropped.
        if n % 20 == 19 {
            store.flush();
        }
    }
    store.flush();
}

#[tokio::test(flavor = "multi_thread")]
async fn insights_over_thousands_of_logged_searches_count_what_was_never_opened() {
    let t = TestKb::start(&[("a/refunds.md", &card("Refunds", "Annual plans."))]).await;
    let kb = t.kb.clone();
    tokio::task::spawn_blocking(move || log_topics(&kb.store))
        .await
        .unwrap();
    let (status, html) = t.page("/insights?days=30").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("5950 searches in the last 30 days"), "{html}");
    let expected = |ns: &mut dyn Iterator<Item = u64>, hits: bool| -> Vec<String> {
        ns.map(|n| match hits {
            true => format!("topic {n} ×{}, {n} hits", 10 + n),
            false => format!("topic {n} ×{}", 10 + n),
        })
        .collect()
    };
    // Odd topics were never opened; the most searched first.
    assert_eq!(
        section_items(&html, "never-opened"),
        expected(&mut (61..100).rev().step_by(2), true)
    );
    let unanswered: Vec<String> = expected(&mut (0..10).rev().map(|k| k * 10), false)
        .into_iter()
        .map(|item| format!("{item} · no synonym group"))
        .collect();
    assert_eq!(section_items(&html, "no-results"), unanswered);
    let top: Vec<String> = (80..100)
        .rev()
        .map(|n| {
            let hits = if n % 10 == 0 { 0 } else { n };
            format!("topic {n} ×{}, {hits} hits", 10 + n)
        })
        .collect();
    assert_eq!(section_items(&html, "top-queries"), top);
    assert_eq!(section_items(&html, "most-read"), ["Refunds ×50"]);
}

/// Reads one number from `quire.db` beside the running server (read-only).
fn query_db(data: &Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open_with_flags(
        data.join("quire.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open quire.db");
    conn.query_row(sql, [], |row| row.get::<_, Option<i64>>(0))
        .expect("query quire.db")
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_search_with_ten_thousand_tags_and_an_open_with_a_huge_query_log_bounded_rows() {
    let t = TestKb::start(&[("a/refunds.md", &card("Refunds", "Annual plans."))]).await;
    // 42 KB of filters (a URL over 48 KB is refused with a 414), 35 times
    // the cap.
    let tags = "&tag=a".repeat(7_000);
    let (status, body) = t.get(&format!("/api/v1/search?q=annual{tags}")).await;
    assert_eq!(status, 200, "{body}");
    let huge_q = encode(&"refund ".repeat(4_500));
    let (status, _) = t.get_text(&format!("/cards/{CARD}?q={huge_q}")).await;
    assert_eq!(status, 200);
    let (status, _) = t.get(&format!("/api/v1/cards/{CARD}?q={huge_q}")).await;
    assert_eq!(status, 200);
    let kb = t.kb.clone();
    tokio::task::spawn_blocking(move || kb.store.flush())
        .await
        .unwrap();
    let data = t.data.path();
    assert_eq!(query_db(data, "SELECT COUNT(*) FROM searches"), 1);
    assert_eq!(query_db(data, "SELECT COUNT(*) FROM opens"), 2);
    let longest_search = query_db(
        data,
        "SELECT max(length(CAST(query AS BLOB)) + length(CAST(filters AS BLOB)) + length(CAST(normalized AS BLOB))) FROM searches",
    );
    let longest_open = query_db(
        data,
        "SELECT max(length(CAST(query AS BLOB)) + length(CAST(card_id AS BLOB)) + length(CAST(normalized AS BLOB))) FROM opens",
    );
    assert!(
        longest_search <= 3 * 1024,
        "a search row of {longest_search} bytes"
    );
    assert!(
        longest_open <= 3 * 1024,
        "an open row of {longest_open} bytes"
    );
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test(flavor = "multi_thread")]
async fn the_database_and_its_wal_are_readable_by_their_owner_only() {
    let content = tempfile::tempdir().unwrap();
    crate::support::write_file(content.path(), "a/refunds.md", &card("Refunds", "Text."));
    let data = tempfile::tempdir().unwrap();
    // A database left by an older Quire, readable by all.
    std::fs::write(data.path().join("quire.db"), "").unwrap();
    std::fs::set_permissions(
        data.path().join("quire.db"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let t = TestKb::serve_with(content, data, |_| {}).await;
    let (status, _) = t
        .post_json(
            &format!("/api/v1/cards/{CARD}/feedback"),
            &json!({"verdict": "outdated", "comment": "a ticket subject"}),
        )
        .await;
    assert_eq!(status, 201);
    for name in ["quire.db", "quire.db-wal", "quire.db-shm"] {
        assert_eq!(mode(&t.data.path().join(name)), 0o600, "{name}");
    }
}

async fn post_feedback(t: &TestKb, comment: &str) {
    let (status, body) = t
        .post_json(
            &format!("/api/v1/cards/{CARD}/feedback"),
            &json!({"verdict": "outdated", "comment": comment}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn feedback_posted_after_the_database_was_deleted_while_serving_is_there_after_a_restart() {
    let t = TestKb::start(&[("a/refunds.md", &card("Refunds", "Text."))]).await;
    let db = t.data.path().join("quire.db");
    post_feedback(&t, "before").await;
    std::fs::remove_file(&db).unwrap();
    post_feedback(&t, "after the database").await;
    // `rm quire.db*`: the WAL and shared memory too.
    for name in ["quire.db", "quire.db-wal", "quire.db-shm"] {
        let _ = std::fs::remove_file(t.data.path().join(name));
    }
    post_feedback(&t, "after all its files").await;
    let (_, health) = t.get("/healthz").await;
    assert_eq!(health["status"], "ready", "{health}");

    let t = t.restart().await;
    let (status, list) = t.get(&format!("/api/v1/cards/{CARD}/feedback")).await;
    assert_eq!(status, 200);
    let comments: Vec<&str> = list["feedback"]
        .as_array()
        .map(|all| all.iter().filter_map(|f| f["comment"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        comments,
        ["after all its files", "after the database", "before"],
        "{list}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_damaged_database_is_reported_on_healthz_with_its_cause_and_no_path() {
    let content = tempfile::tempdir().unwrap();
    crate::support::write_file(content.path(), "a/refunds.md", &card("Refunds", "Text."));
    let data = tempfile::tempdir().unwrap();
    std::fs::write(
        data.path().join("quire.db"),
        "not a database ".repeat(1_000),
    )
    .unwrap();
    let t = TestKb::serve_with(content, data, |_| {}).await;
    let (status, health) = t.get("/healthz").await;
    assert_eq!(status, 200, "{health}");
    assert_eq!(health["status"], "degraded", "{health}");
    let cause = health["store_error"].as_str().unwrap_or_default();
    assert!(cause.contains("not an SQLite database"), "{health}");
    assert!(health["store_error_since"].is_string(), "{health}");
    let text = health.to_string();
    assert!(
        !text.contains(&t.data.path().display().to_string()) && !text.contains("quire.db"),
        "{health}"
    );
    // Search still serves; feedback is refused with its cause, never 201.
    assert_eq!(t.search_ids("text").await, [CARD]);
    let (status, body) = t
        .post_json(
            &format!("/api/v1/cards/{CARD}/feedback"),
            &json!({"verdict": "helpful"}),
        )
        .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], "storage_unavailable", "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("damaged"),
        "{body}"
    );
}
