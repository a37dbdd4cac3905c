use crate::support::{TestKb, card};

#[tokio::test(flavor = "multi_thread")]
async fn a_restart_with_an_unchanged_folder_reindexes_nothing() {
    let t = TestKb::start(&[
        ("a/one.md", &card("One", "alpaca")),
        ("a/two.md", &card("Two", "llama")),
    ])
    .await;
    let data = t.data.path().to_path_buf();
    t.settle();
    let t = t.restart().await;
    assert_eq!(t.data.path(), data);
    assert_eq!(t.search_ids("alpaca").await, ["a/one"]);
    // A second open of the same folder: nothing is read again.
    let mut t = t;
    t.stop().await;
    let (_, report) = open_stopped(&t);
    assert_eq!(
        (report.indexed(), report.removed, report.unchanged),
        (0, 0, 2),
        "{report:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn changes_made_while_the_server_was_down_are_picked_up_on_start() {
    let mut t = TestKb::start(&[
        ("a/one.md", &card("One", "alpaca")),
        ("a/two.md", &card("Two", "llama")),
    ])
    .await;
    t.stop().await;
    t.write("a/one.md", &card("One", "vicuna"));
    t.remove("a/two.md");
    t.write("a/three.md", &card("Three", "guanaco"));
    let t = t.restart().await;
    assert_eq!(t.search_ids("vicuna").await, ["a/one"]);
    assert!(t.search_ids("llama").await.is_empty());
    assert_eq!(t.search_ids("guanaco").await, ["a/three"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_or_corrupted_index_is_rebuilt() {
    let mut t = TestKb::start(&[("a/one.md", &card("One", "alpaca"))]).await;
    t.stop().await;
    std::fs::remove_dir_all(t.data.path().join("index")).unwrap();
    let mut t = t.restart().await;
    assert_eq!(t.search_ids("alpaca").await, ["a/one"]);

    t.stop().await;
    let dir = t
        .data
        .path()
        .join(format!("index/v{}", quire::index::schema::VERSION));
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        std::fs::write(entry.path(), b"garbage").unwrap();
    }
    let t = t.restart().await;
    assert_eq!(t.search_ids("alpaca").await, ["a/one"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edit_made_while_down_that_kept_size_and_mtime_is_seen_on_start() {
    let mut t = TestKb::start(&[("a/one.md", &card("One", "wombat"))]).await;
    t.stop().await;
    t.rewrite_keeping_mtime("a/one.md", &card("One", "quokka"));
    let t = t.restart().await;
    assert_eq!(t.search_ids("quokka").await, ["a/one"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_card_whose_stamp_vouches_for_nothing_is_read_again_on_start_until_it_does() {
    // Two writes in one tick of the file system's clock, the same size,
    // leave size, mtime, ctime and inode equal: a stamp taken in the
    // moments after a write (or of a file dated in the future, as here, so
    // that the test does not depend on how fast it runs) cannot tell them
    // apart, so at the next start the file is read and its content checked.
    let mut t = TestKb::start(&[("a/one.md", &card("One", "alpaca"))]).await;
    t.stop().await;
    let future = std::time::SystemTime::now() + std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(t.path("a/one.md"))
        .and_then(|f| f.set_modified(future))
        .unwrap();
    let stamp = |kb: &quire::Kb| {
        kb.catalog()
            .get(&quire::content::CardId::new("a/one").unwrap())
            .unwrap()
            .stamp
    };
    let (kb, _) = open_stopped(&t);
    assert!(stamp(&kb).racy, "{:?}", stamp(&kb));
    drop(kb);
    t.settle();
    let (kb, report) = open_stopped(&t);
    assert_eq!((report.indexed(), report.restamped), (0, 1), "{report:?}");
    assert!(!stamp(&kb).racy, "{:?}", stamp(&kb));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_touched_but_unchanged_card_is_restamped_once_and_never_reindexed() {
    let mut t = TestKb::start(&[("a/one.md", &card("One", "alpaca"))]).await;
    t.stop().await;
    t.settle();
    let (_, first) = open_stopped(&t);
    assert_eq!((first.indexed(), first.restamped), (0, 1), "{first:?}");
    let (_, second) = open_stopped(&t);
    assert_eq!((second.indexed(), second.restamped), (0, 0), "{second:?}");
}

/// Opens the stopped server's folder and data again, as a start would,
/// and brings the index level with the folder.
fn open_stopped(t: &TestKb) -> (std::sync::Arc<quire::Kb>, quire::reindex::Report) {
    let config = quire::Config {
        content_dir: t.content.path().to_path_buf(),
        data_dir: Some(t.data.path().to_path_buf()),
        ..quire::Config::default()
    };
    let (kb, mut reindexer) = quire::open(config).unwrap();
    let report = reindexer.start(&|_, _| {}).unwrap();
    (kb, report)
}
