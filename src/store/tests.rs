//! The store over real files in a temporary folder: insights' numbers,
//! capped rows, the file's mode, deletion and damage under an open store.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use super::*;

fn store_in(dir: &Path) -> Store {
    Store::open(&dir.join("quire.db"), true, 90).expect("open the store")
}

fn search(query: &str, hits: u64) -> SearchEvent {
    SearchEvent {
        at: now(),
        query: query.into(),
        filters: String::new(),
        hits,
        source: "site",
    }
}

fn open(card: &str, query: Option<&str>) -> OpenEvent {
    OpenEvent {
        at: now(),
        card_id: card.into(),
        query: query.map(str::to_string),
        source: "site",
    }
}

fn texts(list: &[QueryCount]) -> Vec<(&str, i64)> {
    list.iter().map(|q| (q.text.as_str(), q.count)).collect()
}

#[test]
fn insights_group_queries_by_their_normalized_form() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(dir.path());
    for (q, hits) in [
        ("Refund annual", 3),
        ("refund  ANNUAL ", 3),
        ("chargeback", 2),
        ("zzqx", 0),
        ("  ", 0),
    ] {
        store.log_search(search(q, hits));
    }
    store.log_open(open("a/refunds", Some(" REFUND annual")));
    store.log_open(open("a/refunds", None));
    store.flush();
    store
        .add_feedback("a/vpn", Verdict::Outdated, None)
        .unwrap();
    let insights = store.insights(now() - 60, 20).unwrap();
    assert_eq!(insights.searches, 5);
    assert_eq!(
        texts(&insights.top_queries),
        [("refund annual", 2), ("chargeback", 1), ("zzqx", 1)]
    );
    assert_eq!(texts(&insights.no_results), [("zzqx", 1)]);
    assert_eq!(texts(&insights.never_opened), [("chargeback", 1)]);
    assert_eq!(texts(&insights.most_read), [("a/refunds", 2)]);
    assert_eq!(texts(&insights.most_flagged), [("a/vpn", 1)]);
}

#[test]
fn a_search_repeated_many_times_is_counted_as_often_with_its_hits_averaged() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(dir.path());
    let at = now();
    for _ in 0..500 {
        store.log_search(SearchEvent {
            at,
            ..search("Refund annual", 3)
        });
    }
    store.log_search(SearchEvent {
        at,
        ..search("refund annual", 1)
    });
    store.flush();
    let insights = store.insights(at - 60, 20).unwrap();
    assert_eq!(insights.searches, 501);
    assert_eq!(texts(&insights.top_queries), [("refund annual", 501)]);
    // (500 * 3 + 1) / 501, truncated as an average of hits always was.
    assert_eq!(insights.top_queries[0].hits, 2);
    let rows: i64 = rusqlite::Connection::open(dir.path().join("quire.db"))
        .unwrap()
        .query_row("SELECT COUNT(*) FROM searches", [], |row| row.get(0))
        .unwrap();
    assert!(rows < 501, "{rows} rows for two distinct searches");
}

#[test]
fn a_huge_search_and_open_are_logged_as_bounded_rows() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(dir.path());
    let mut huge = search(&"é".repeat(100_000), 1);
    huge.filters = (0..30_000).map(|i| format!("tag=t{i}&")).collect();
    store.log_search(huge);
    store.log_open(open(&"c".repeat(5_000), Some(&"q".repeat(200_000))));
    store.flush();
    let longest: (i64, i64, i64, i64) = store
        .sqlite()
        .db
        .read(|conn| {
            conn.query_row(
                "SELECT (SELECT max(length(CAST(query AS BLOB)) + length(CAST(filters AS BLOB))) FROM searches),
                        (SELECT max(length(CAST(normalized AS BLOB))) FROM searches),
                        (SELECT max(length(CAST(card_id AS BLOB))) FROM opens),
                        (SELECT max(length(CAST(query AS BLOB))) FROM opens)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
        })
        .unwrap();
    let bound = (log::MAX_QUERY_BYTES + log::MAX_FILTERS_BYTES) as i64;
    assert!(longest.0 <= bound, "{longest:?}");
    assert!(longest.1 <= log::MAX_QUERY_BYTES as i64, "{longest:?}");
    assert!(longest.2 <= log::MAX_CARD_ID_BYTES as i64, "{longest:?}");
    assert!(longest.3 <= log::MAX_QUERY_BYTES as i64, "{longest:?}");
}

#[test]
fn the_database_is_created_and_kept_readable_by_its_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("quire.db");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let store = store_in(dir.path());
    store.add_feedback("a/b", Verdict::Helpful, None).unwrap();
    for file in [
        path.clone(),
        file::sibling(&path, "-wal"),
        file::sibling(&path, "-shm"),
    ] {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    drop(store);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let _store = store_in(dir.path());
    assert_eq!(mode(&path), 0o600);
}

#[test]
fn feedback_written_after_the_file_was_deleted_joins_what_it_held() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("quire.db");
    let store = store_in(dir.path());
    store
        .add_feedback("a/b", Verdict::Outdated, Some("before"))
        .unwrap();
    std::fs::remove_file(&path).unwrap();
    store
        .add_feedback("a/b", Verdict::Outdated, Some("after"))
        .unwrap();
    // All three files gone, as `rm quire.db*` does.
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(file::sibling(&path, suffix));
    }
    store
        .add_feedback("a/b", Verdict::Helpful, Some("last"))
        .unwrap();
    assert_eq!(store.health(), None);
    drop(store);
    let store = store_in(dir.path());
    let comments: Vec<_> = store
        .feedback_for(&["a/b".into()], 100)
        .unwrap()
        .into_iter()
        .filter_map(|f| f.comment)
        .collect();
    assert_eq!(comments.len(), 3, "{comments:?}");
    for said in ["before", "after", "last"] {
        assert!(
            comments.iter().any(|c| c == said),
            "{said} lost: {comments:?}"
        );
    }
}

#[test]
fn feedback_survives_the_whole_data_folder_deleted_under_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let store = store_in(&data);
    store
        .add_feedback("a/b", Verdict::Outdated, Some("before"))
        .unwrap();
    std::fs::remove_dir_all(&data).unwrap();
    store
        .add_feedback("a/b", Verdict::Outdated, Some("after"))
        .unwrap();
    drop(store);
    let store = store_in(&data);
    assert_eq!(store.feedback_for(&["a/b".into()], 100).unwrap().len(), 2);
}

#[test]
fn a_damaged_page_is_reported_and_refuses_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("quire.db");
    let store = store_in(dir.path());
    for i in 0..2_000 {
        store.log_search(search(&format!("query {i}"), 1));
    }
    store.flush();
    drop(store);
    // Past the first page (the header and the schema), in the tables.
    let mut bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 16 * 4096, "{} bytes", bytes.len());
    for b in &mut bytes[8 * 4096..12 * 4096] {
        *b = 0x5a;
    }
    std::fs::write(&path, bytes).unwrap();
    let store = store_in(dir.path());
    let started = std::time::Instant::now();
    while store.health().is_none() && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(10));
    }
    let failure = store.health().expect("the damage is reported");
    assert!(failure.cause.contains("damaged"), "{failure:?}");
    assert!(!failure.cause.contains('/'), "{failure:?}");
    let refused = store.add_feedback("a/b", Verdict::Helpful, None);
    assert!(
        matches!(&refused, Err(e) if e.unavailable() == Some("the database is damaged")),
        "{refused:?}"
    );
}

#[test]
fn a_file_that_is_not_a_database_opens_damaged_with_its_cause() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("quire.db"), "not a database ".repeat(1_000)).unwrap();
    let store = store_in(dir.path());
    let failure = store.health().expect("the damage is reported");
    assert!(
        failure.cause.contains("not an SQLite database"),
        "{failure:?}"
    );
    assert!(matches!(
        store.add_feedback("a/b", Verdict::Helpful, None),
        Err(StoreError::Damaged)
    ));
}
