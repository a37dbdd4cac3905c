use crate::support::{TestKb, card};

#[tokio::test(flavor = "multi_thread")]
async fn a_card_created_edited_renamed_and_deleted_on_disk_follows_in_search() {
    let t = TestKb::start(&[("a/other.md", &card("Other", "nothing to see"))]).await;

    t.write("a/new.md", &card("Brand new", "platypus"));
    t.eventually("the new card to appear", || async {
        t.search_ids("platypus").await == ["a/new"]
    })
    .await;

    t.write("a/new.md", &card("Brand new", "echidna"));
    t.eventually("the edit to show", || async {
        t.search_ids("echidna").await == ["a/new"] && t.search_ids("platypus").await.is_empty()
    })
    .await;

    t.rename("a/new.md", "b/moved.md");
    t.eventually("the card to move", || async {
        t.search_ids("echidna").await == ["b/moved"]
    })
    .await;

    t.remove("b/moved.md");
    t.eventually("the card to disappear", || async {
        t.search_ids("echidna").await.is_empty()
    })
    .await;
    let (status, _) = t.get("/api/v1/cards/b/moved").await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_editors_atomic_save_never_loses_the_card() {
    let t = TestKb::start(&[("a/card.md", &card("Card", "wombat"))]).await;
    // Vim's default: write a temp file, rename the original away, rename the
    // temp file over it (tailwindcss#9689 shows the inotify sequence).
    t.write("a/.card.md.swp", &card("Card", "quokka"));
    t.rename("a/card.md", "a/card.md~");
    t.rename("a/.card.md.swp", "a/card.md");
    t.remove("a/card.md~");
    t.eventually("the saved text to show", || async {
        t.search_ids("quokka").await == ["a/card"]
    })
    .await;
    assert!(t.search_ids("wombat").await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn renaming_a_whole_folder_moves_every_card_in_it() {
    let t = TestKb::start(&[
        ("old/one.md", &card("One", "capybara")),
        ("old/deep/two.md", &card("Two", "capybara")),
    ])
    .await;
    t.rename("old", "new");
    t.eventually("both cards to move", || async {
        let mut ids = t.search_ids("capybara").await;
        ids.sort();
        ids == ["new/deep/two", "new/one"]
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_of_hundreds_of_files_is_indexed_in_few_commits() {
    let t = TestKb::start(&[("a/seed.md", &card("Seed", "seed"))]).await;
    let before = t.kb.generation();
    for i in 0..300 {
        t.write(
            &format!("burst/card-{i}.md"),
            &card(&format!("Burst {i}"), "narwhal"),
        );
    }
    t.eventually("all 300 cards to be searchable", || async {
        let (_, body) = t.get("/api/v1/search?q=narwhal&limit=1").await;
        body["total"] == 300
    })
    .await;
    let batches = t.kb.generation() - before;
    assert!(batches <= 30, "{batches} commits for 300 files");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edit_that_keeps_the_size_and_the_modification_time_is_still_seen() {
    let t = TestKb::start(&[("a/card.md", &card("Card", "wombat"))]).await;
    // Same length, and the old mtime put back: only the content differs.
    t.rewrite_keeping_mtime("a/card.md", &card("Card", "quokka"));
    t.eventually("the edit to show", || async {
        t.search_ids("quokka").await == ["a/card"]
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn changes_inside_hidden_folders_such_as_git_are_ignored() {
    let t = TestKb::start(&[("a/card.md", &card("Card", "ibis"))]).await;
    let before = t.kb.generation();
    t.write(".git/objects/ab/cdef.md", &card("Not a card", "ibis"));
    t.write("a/other.md", &card("Other", "heron"));
    t.eventually("the real card to appear", || async {
        t.search_ids("heron").await == ["a/other"]
    })
    .await;
    assert_eq!(t.search_ids("ibis").await, ["a/card"]);
    assert!(t.kb.generation() > before);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_index_split_by_a_bulk_change_is_merged_into_one_segment_once_quiet() {
    // Every search looks its words up once per segment: an index in two
    // halves (two indexing threads, or a bulk change beside the first
    // cards) is merged when nothing has been written for a moment.
    let first: Vec<(String, String)> = (0..20)
        .map(|i| {
            (
                format!("a/first-{i}.md"),
                card(&format!("First {i}"), "alpaca"),
            )
        })
        .collect();
    let first: Vec<(&str, &str)> = first
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let t = TestKb::start(&first).await;
    for i in 0..20 {
        t.write(
            &format!("b/second-{i}.md"),
            &card(&format!("Second {i}"), "llama"),
        );
    }
    t.eventually("the second half to be searchable", || async {
        t.kb.index.num_cards() == 40
    })
    .await;
    t.eventually("one segment", || async { t.kb.index.num_segments() == 1 })
        .await;
    assert_eq!(
        t.search_ids("alpaca").await.len(),
        10,
        "a page of the first half"
    );
    assert_eq!(t.kb.index.num_cards(), 40);
}
