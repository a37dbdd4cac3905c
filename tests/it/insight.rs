//! Feedback that survives a crash, and the insights page after a scripted
//! series of searches.

use serde_json::json;

use crate::support::{TestKb, encode, start_server, wait_ready};

const REFUNDS: &str = "playbooks/refunds/annual-plans";

#[tokio::test(flavor = "multi_thread")]
async fn the_insights_page_shows_what_readers_search_miss_and_flag() {
    let t = TestKb::demo().await;
    for q in [
        "refund annual",
        "refund annual",
        "refund annual",
        "zzqx frobnicate",
        "chargeback",
    ] {
        let (status, _) = t.get(&format!("/api/v1/search?q={}", encode(q))).await;
        assert_eq!(status, 200);
    }
    // "refund annual" led somewhere; "chargeback" was searched, never opened.
    let (status, _) = t
        .get(&format!(
            "/api/v1/cards/{REFUNDS}?q={}",
            encode("refund annual")
        ))
        .await;
    assert_eq!(status, 200);
    let (status, _) = t.get_text(&format!("/cards/{REFUNDS}")).await;
    assert_eq!(status, 200);
    let (status, _) = t
        .post_json(
            &format!("/api/v1/cards/{REFUNDS}/feedback"),
            &json!({"verdict": "outdated", "comment": "old numbers"}),
        )
        .await;
    assert_eq!(status, 201);
    let store = t.kb.clone();
    tokio::task::spawn_blocking(move || store.store.flush())
        .await
        .unwrap();

    let (status, html) = t.get_text("/insights?days=7").await;
    assert_eq!(status, 200);
    let section = |id: &str| {
        let start = html
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("{id} missing"));
        let end = html[start..]
            .find("</section>")
            .map_or(html.len(), |e| start + e);
        html[start..end].to_string()
    };
    assert!(
        section("top-queries").contains("refund annual</a> <span class=\"meta\">×3"),
        "{html}"
    );
    assert!(section("no-results").contains("zzqx frobnicate"), "{html}");
    assert!(!section("no-results").contains("refund annual"));
    assert!(section("never-opened").contains("chargeback"), "{html}");
    assert!(!section("never-opened").contains("refund annual"));
    assert!(section("most-read").contains("Refunds on annual plans"));
    assert!(section("most-flagged").contains("Refunds on annual plans"));
    // The card shows its open flag to authors.
    let (_, card) = t.get_text(&format!("/cards/{REFUNDS}")).await;
    assert!(card.contains("Flagged as outdated 1 time") && card.contains("old numbers"));
}

#[tokio::test(flavor = "multi_thread")]
async fn acknowledged_feedback_survives_a_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    crate::support::write_file(
        dir.path(),
        "content/a/card.md",
        "---\ntitle: A card\n---\nText.\n",
    );
    std::fs::write(
        dir.path().join("quire.toml"),
        "content = \"content\"\ndata = \"data\"\nbind = \"127.0.0.1:0\"\nwatch = false\n",
    )
    .unwrap();
    let client = reqwest::Client::new();
    let (mut server, base) = start_server(&dir.path().join("quire.toml"));
    wait_ready(&client, &base).await;
    for i in 0..20 {
        let response = client
            .post(format!("{base}/api/v1/cards/a/card/feedback"))
            .json(&json!({"verdict": "outdated", "comment": format!("note {i}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
    }
    // SIGKILL right after the last acknowledged write: no shutdown, no flush.
    server.kill().expect("kill -9");
    let _ = server.wait();

    let (mut server, base) = start_server(&dir.path().join("quire.toml"));
    wait_ready(&client, &base).await;
    let list: serde_json::Value = client
        .get(format!("{base}/api/v1/cards/a/card/feedback"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(
        list["feedback"].as_array().map(Vec::len),
        Some(20),
        "{list}"
    );
    assert_eq!(list["open_flags"], 20);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_synonym_group_added_in_git_answers_a_search_that_found_nothing() {
    let t = TestKb::demo().await;
    let before = t.search_ids("recoupment").await;
    assert!(before.is_empty(), "{before:?}");
    let store = t.kb.clone();
    tokio::task::spawn_blocking(move || store.store.flush())
        .await
        .unwrap();
    let (_, html) = t.get_text("/insights?days=7").await;
    assert!(html.contains("recoupment</a>"), "{html}");
    assert!(html.contains("no synonym group"), "{html}");

    // An author adds the reader's word to the refund group: searches use it
    // as soon as the file is saved, and the insights say what it fixed.
    let groups = std::fs::read_to_string(t.path("_synonyms.yaml")).unwrap();
    t.write(
        "_synonyms.yaml",
        &groups.replace("- [refund, ", "- [recoupment, refund, "),
    );
    t.eventually("the new synonym is searched", || async {
        t.search_ids("recoupment")
            .await
            .contains(&REFUNDS.to_string())
    })
    .await;
    let (_, html) = t.get_text("/insights?days=7").await;
    let line = html
        .lines()
        .skip_while(|l| !l.contains("recoupment</a>"))
        .take(3)
        .collect::<String>();
    assert!(line.contains("finds"), "{line}");
    assert!(
        line.contains("synonyms: recoupment, refund, reimburse"),
        "{line}"
    );
    // A broken file is reported with its line; the last good groups stay.
    t.write("_synonyms.yaml", "- [recoupment, refund\n");
    t.eventually("the YAML error is a problem", || async {
        let (_, problems) = t.get_text("/problems").await;
        problems.contains("_synonyms.yaml")
    })
    .await;
    assert!(
        t.search_ids("recoupment")
            .await
            .contains(&REFUNDS.to_string())
    );
}

/// The insights as JSON, after the store has written what it queued.
async fn insights_json(t: &TestKb) -> serde_json::Value {
    let store = t.kb.clone();
    tokio::task::spawn_blocking(move || store.store.flush())
        .await
        .unwrap();
    let (status, body) = t.get("/insights?days=7&format=json").await;
    assert_eq!(status, 200, "{body}");
    body
}

fn texts(list: &serde_json::Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|q| q["text"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_settled_query_of_a_typing_burst_is_counted() {
    let t = TestKb::demo().await;
    // As the sidebar and the site's box do: each pause while typing...
    for typed in ["r", "re", "ref", "refn", "refun", "refund ann"] {
        let (status, _) = t
            .get(&format!("/api/v1/search?typing=1&q={}", encode(typed)))
            .await;
        assert_eq!(status, 200);
    }
    // ...then the query it settled on.
    let (status, _) = t.get("/api/v1/search?q=refund+annual").await;
    assert_eq!(status, 200);
    let report = insights_json(&t).await;
    assert_eq!(report["searches"], 1, "{report}");
    assert_eq!(texts(&report["top_queries"]), ["refund annual"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_search_only_a_loose_match_answered_counts_as_a_gap() {
    let t = TestKb::demo().await;
    // Every word found: answered. One word in no card: only a looser search
    // finds something, which hides that the card is missing.
    for q in ["refund annual", "refund okta"] {
        let (status, body) = t.get(&format!("/api/v1/search?q={}", encode(q))).await;
        assert_eq!(status, 200);
        assert!(body["total"].as_u64().unwrap() > 0, "{q}: {body}");
    }
    let report = insights_json(&t).await;
    assert_eq!(texts(&report["no_results"]), ["refund okta"], "{report}");
}

#[tokio::test(flavor = "multi_thread")]
async fn insights_export_as_csv_with_helpful_votes_and_no_formulas() {
    let t = TestKb::demo().await;
    let (status, _) = t.get("/api/v1/search?q=%3DHYPERLINK(1)").await;
    assert_eq!(status, 200);
    let (status, _) = t
        .post_json(
            &format!("/api/v1/cards/{REFUNDS}/feedback"),
            &json!({"verdict": "helpful"}),
        )
        .await;
    assert_eq!(status, 201);
    let report = insights_json(&t).await;
    assert_eq!(report["most_helpful"][0]["id"], REFUNDS, "{report}");
    let (status, csv) = t.get_text("/insights?days=7&format=csv").await;
    assert_eq!(status, 200);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "list,text,count,detail");
    assert!(lines.contains(&"no_results,'=hyperlink(1),1,0"), "{csv}");
    assert!(
        lines.contains(&format!("most_helpful,{REFUNDS},1,0").as_str()),
        "{csv}"
    );
    let (_, html) = t.get_text("/insights?days=7").await;
    assert!(html.contains("id=\"most-helpful\""));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_sidebar_offers_the_cards_read_most_and_updated_last() {
    let t = TestKb::demo().await;
    for _ in 0..2 {
        let (status, _) = t.get_text(&format!("/cards/{REFUNDS}")).await;
        assert_eq!(status, 200);
    }
    let store = t.kb.clone();
    tokio::task::spawn_blocking(move || store.store.flush())
        .await
        .unwrap();
    let (status, body) = t.get("/api/v1/highlights").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["popular"][0]["id"], REFUNDS, "{body}");
    assert_eq!(body["recent"].as_array().unwrap().len(), 5, "{body}");
}
