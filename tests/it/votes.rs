//! A vote given by mistake can be taken back at once ("Undo" beside the
//! buttons): only that vote, only by whoever gave it (the undo token its
//! POST answered with), and only for a while.

use serde_json::json;

use crate::support::TestKb;

const REFUNDS: &str = "playbooks/refunds/annual-plans";
const TIERS: &str = "escalation/tiers/tier-2";

#[tokio::test(flavor = "multi_thread")]
async fn a_vote_is_taken_back_by_its_giver_on_its_card_only() {
    let t = TestKb::demo().await;
    let (status, vote) = t
        .post_json(
            &format!("/api/v1/cards/{REFUNDS}/feedback"),
            &json!({"verdict": "outdated", "comment": "wrong window"}),
        )
        .await;
    assert_eq!(status, 201);
    let id = vote["id"].as_i64().unwrap();
    let token = json!({ "undo_token": vote["undo_token"] });
    let (_, card) = t.get(&format!("/api/v1/cards/{REFUNDS}")).await;
    assert_eq!(card["outdated"], 1);
    let (_, listed) = t.get(&format!("/api/v1/cards/{REFUNDS}/feedback")).await;
    assert!(
        listed["feedback"][0].get("undo_token").is_none(),
        "only the giver gets the token: {listed}"
    );

    // Ids are sequential: another vote's token does not take this one back.
    let (status, other) = t
        .post_json(
            &format!("/api/v1/cards/{TIERS}/feedback"),
            &json!({"verdict": "helpful"}),
        )
        .await;
    assert_eq!(status, 201);
    let undo = format!("/api/v1/cards/{REFUNDS}/feedback/{id}/undo");
    let (status, _) = t
        .post_json(&undo, &json!({ "undo_token": other["undo_token"] }))
        .await;
    assert_eq!(status, 403);
    let (status, _) = t.post_json(&undo, &json!({})).await;
    assert_eq!(status, 400, "no token");
    // Another card's undo does not reach it; a bad id is a 400.
    let (status, body) = t
        .post_json(&format!("/api/v1/cards/{TIERS}/feedback/{id}/undo"), &token)
        .await;
    assert_eq!((status, body["undone"].clone()), (200, json!(false)));
    let (status, _) = t
        .post_json(&format!("/api/v1/cards/{REFUNDS}/feedback/x1/undo"), &token)
        .await;
    assert_eq!(status, 400);

    let (status, body) = t.post_json(&undo, &token).await;
    assert_eq!((status, body["undone"].clone()), (200, json!(true)));
    let (_, card) = t.get(&format!("/api/v1/cards/{REFUNDS}")).await;
    assert_eq!(card["outdated"], 0, "the flag is gone everywhere");
    let (_, listed) = t.get(&format!("/api/v1/cards/{REFUNDS}/feedback")).await;
    assert_eq!(
        listed["feedback"].as_array().map(Vec::len),
        Some(0),
        "{listed}"
    );
}
