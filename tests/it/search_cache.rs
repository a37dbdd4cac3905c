//! Search answers are kept until the cards change (`search::cache`): a
//! repeated search is answered from memory, yet an edit, a new synonym or a
//! reader's flag shows in the very next search, and callers who may see
//! different cards never share an answer. Facet counts are worked out only
//! for a caller that asks (`facets=true`), snippets unless refused
//! (`snippets=false`).

use serde_json::json;

use crate::support::{TestKb, card, send, staff_and_public_tokens};

const STAFF: &str = "staff-token-for-cache-tests";
const PUBLIC: &str = "public-token-for-cache-tests";

#[tokio::test(flavor = "multi_thread")]
async fn an_edit_shows_in_the_next_search_of_the_same_words() {
    let t = TestKb::start(&[(
        "billing/refunds.md",
        &card("Refunds", "Refunds take five days."),
    )])
    .await;
    assert_eq!(t.search_ids("refunds").await, ["billing/refunds"]);
    assert_eq!(t.search_ids("refunds").await, ["billing/refunds"]);

    t.write(
        "billing/credits.md",
        &card("Credits", "Credits instead of refunds, for annual plans."),
    );
    t.eventually("the new card in the same search", || async {
        t.search_ids("refunds").await.len() == 2
    })
    .await;
    t.remove("billing/credits.md");
    t.eventually("the removed card gone from the same search", || async {
        t.search_ids("refunds").await == ["billing/refunds"]
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_synonym_saved_shows_in_the_next_search_of_the_same_words() {
    let t = TestKb::start(&[(
        "billing/refunds.md",
        &card("Refunds", "Refunds take five days."),
    )])
    .await;
    assert!(t.search_ids("recoupment").await.is_empty());
    t.write("_synonyms.yaml", "- [refund, recoupment]\n");
    t.eventually("the synonym used by the same search", || async {
        t.search_ids("recoupment").await == ["billing/refunds"]
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flag_shows_in_the_next_search_and_audiences_never_share_an_answer() {
    let content = tempfile::tempdir().unwrap();
    crate::support::write_file(
        content.path(),
        "billing/refunds.md",
        "---\ntitle: Refunds\naudience: public\n---\nRefunds take five days.\n",
    );
    crate::support::write_file(
        content.path(),
        "billing/refund-abuse.md",
        "---\ntitle: Refund abuse\n---\nInternal: refunds asked for twice.\n",
    );
    let t = TestKb::serve_with(content, tempfile::tempdir().unwrap(), |c| {
        c.api.tokens = staff_and_public_tokens(STAFF, PUBLIC);
    })
    .await;
    let search = |token: &'static str| {
        let request = t
            .client
            .get(t.url("/api/v1/search?q=refunds"))
            .bearer_auth(token);
        async move {
            let (status, body) = send(request).await;
            assert_eq!(status, 200, "{body}");
            body
        }
    };
    let staff = search(STAFF).await;
    assert_eq!(staff["total"], 2, "{staff}");
    // The same words from a caller who may see public cards only.
    let public = search(PUBLIC).await;
    assert_eq!(public["total"], 1, "{public}");
    assert_eq!(public["hits"][0]["id"], "billing/refunds");

    let (status, body) = send(
        t.client
            .post(t.url("/api/v1/cards/billing/refunds/feedback"))
            .bearer_auth(STAFF)
            .json(&json!({"verdict": "outdated", "comment": "ten days now"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let staff = search(STAFF).await;
    let refunds = staff["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] == "billing/refunds")
        .unwrap();
    assert_eq!(refunds["outdated"], 1, "{staff}");
}

#[tokio::test(flavor = "multi_thread")]
async fn facets_only_when_asked_and_snippets_unless_refused() {
    let t = TestKb::start(&[(
        "billing/refunds.md",
        &card("Refunds", "Refunds take five days."),
    )])
    .await;
    let (_, full) = t.get("/api/v1/search?q=refunds&facets=true").await;
    assert_eq!(full["facets"]["collection"]["billing"], 1, "{full}");
    assert!(
        full["hits"][0]["snippet"]
            .as_str()
            .unwrap()
            .contains("<mark>")
    );

    let (status, lean) = t.get("/api/v1/search?q=refunds&snippets=false").await;
    assert_eq!(status, 200, "{lean}");
    assert_eq!(lean["total"], 1);
    assert_eq!(lean["hits"][0]["id"], "billing/refunds");
    assert_eq!(lean["facets"]["collection"], json!({}));
    assert_eq!(lean["hits"][0]["snippet"], "");

    let (status, error) = t.get("/api/v1/search?q=refunds&facets=perhaps").await;
    assert_eq!(status, 400, "{error}");
    assert!(error.to_string().contains("facets"), "{error}");
}
