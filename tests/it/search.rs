//! Search behaviour, in-process over a small folder: ranking rules that a
//! support agent relies on.

use quire::Kb;
use quire::search::{SearchRequest, search};

use crate::support::{card, in_process};

fn kb(cards: &[(&str, String)]) -> (tempfile::TempDir, std::sync::Arc<Kb>) {
    in_process(cards)
}

fn ids(kb: &Kb, q: &str) -> Vec<String> {
    search(&kb.index, &SearchRequest::new(q))
        .unwrap()
        .hits
        .into_iter()
        .map(|h| h.card.id.to_string())
        .collect()
}

fn handbook() -> (tempfile::TempDir, std::sync::Arc<Kb>) {
    kb(&[
        (
            "p/refunds.md",
            card(
                "Refunds on annual plans",
                "An annual plan is refunded within thirty days.",
            ),
        ),
        (
            "p/refind.md",
            card(
                "Refind a lost invoice",
                "Search the billing portal to refind an invoice.",
            ),
        ),
        (
            "p/escalation.md",
            card("Escalation tiers", "When to escalate a ticket to tier two."),
        ),
        (
            "p/plans.md",
            card(
                "Plans",
                "Monthly plans renew each month; the plan annual review is in May.",
            ),
        ),
    ])
}

#[test]
fn a_misspelt_word_still_finds_the_card() {
    let (_d, kb) = handbook();
    assert_eq!(
        ids(&kb, "escalaton").first().map(String::as_str),
        Some("p/escalation")
    );
    assert_eq!(
        ids(&kb, "refnuds ").first().map(String::as_str),
        Some("p/refunds")
    );
}

#[test]
fn a_typo_never_outranks_the_exact_word() {
    let (_d, kb) = handbook();
    // "refind" is one edit from "refund": the card that says "refund" wins.
    assert_eq!(
        ids(&kb, "refund ").first().map(String::as_str),
        Some("p/refunds")
    );
    assert_eq!(
        ids(&kb, "refind ").first().map(String::as_str),
        Some("p/refind")
    );
}

#[test]
fn the_last_word_matches_as_a_prefix_while_typing() {
    let (_d, kb) = handbook();
    assert_eq!(
        ids(&kb, "escal").first().map(String::as_str),
        Some("p/escalation")
    );
    assert_eq!(
        ids(&kb, "refunds ann").first().map(String::as_str),
        Some("p/refunds")
    );
}

#[test]
fn a_quoted_phrase_needs_its_words_in_order() {
    let (_d, kb) = handbook();
    assert_eq!(ids(&kb, "\"annual plan\""), ["p/refunds"]);
    let mut both = ids(&kb, "annual plan ");
    both.sort();
    assert_eq!(both, ["p/plans", "p/refunds"]);
}

#[test]
fn a_minus_word_leaves_cards_out() {
    let (_d, kb) = handbook();
    assert_eq!(ids(&kb, "plan -monthly"), ["p/refunds"]);
}

#[test]
fn title_matches_rank_above_body_matches() {
    let (_d, kb) = kb(&[
        (
            "a/body.md",
            card(
                "Something else",
                "This mentions onboarding once, in passing, among many other words here.",
            ),
        ),
        ("a/title.md", card("Onboarding", "Welcome to the team.")),
    ]);
    assert_eq!(ids(&kb, "onboarding "), ["a/title", "a/body"]);
}

#[test]
fn an_empty_query_lists_cards_and_filters_still_apply() {
    let (_d, kb) = handbook();
    let mut request = SearchRequest::new("");
    request.limit = 50;
    let results = search(&kb.index, &request).unwrap();
    assert_eq!(results.total, 4);
    let results = search(&kb.index, &SearchRequest::new("collection:p")).unwrap();
    assert_eq!(results.total, 4);
    let results = search(&kb.index, &SearchRequest::new("collection:nope refund")).unwrap();
    assert_eq!(results.total, 0);
}

/// A results page counts every matching card, to say how many and to page
/// by. Suggestions and a ticket match show a few cards and no count, so
/// they count only what they show: counting visits every match, and a
/// prefix or a ticket's words match most cards.
#[test]
fn only_a_results_page_counts_every_match() {
    let (_d, kb) = handbook();
    let mut request = SearchRequest::new("plan");
    request.limit = 1;
    let page = search(&kb.index, &request).unwrap();
    assert_eq!(page.hits.len(), 1);
    assert!(page.total >= 2, "{} cards say 'plan'", page.total);

    let suggested = quire::search::suggest(&kb.index, &request).unwrap();
    assert_eq!(suggested.hits.len(), 1);
    assert_eq!(suggested.total, 1);

    let ticket = quire::search::Ticket {
        subject: "Refund of my annual plan".into(),
        body: "Hello, can I get my money back for the annual plan? Thanks".into(),
        tags: Vec::new(),
    };
    let matched = quire::app::search::match_ticket(&kb, &ticket, &request).unwrap();
    assert_eq!(matched.total, matched.hits.len());
    assert_eq!(
        matched
            .hits
            .first()
            .map(|h| h.card.id.to_string())
            .as_deref(),
        Some("p/refunds")
    );
}

/// A suggestion's card is read from the index's column of cards, a search
/// hit's from the stored document: the same card either way.
#[test]
fn a_suggested_card_is_the_card_a_search_finds() {
    let (_d, kb) = handbook();
    let request = SearchRequest::new("escalation tiers");
    let searched = search(&kb.index, &request).unwrap();
    let suggested = quire::search::suggest(&kb.index, &request).unwrap();
    let card = |hits: &[quire::search::Hit]| hits.first().map(|h| h.card.clone());
    let found = card(&searched.hits).expect("the card is found");
    assert_eq!(found.title, "Escalation tiers");
    assert_eq!(card(&suggested.hits), Some(found));
}

/// Two typed words side by side in a card ("money back") lift it above
/// cards that have both words apart, for a reader of any language. (The
/// bonus is scored on the hundred best candidates by their words alone:
/// here thirty cards with both words apart rank above it before it.)
#[test]
fn words_side_by_side_outrank_the_same_words_apart() {
    let mut cards: Vec<(String, String)> = (0..30)
        .map(|n| {
            (
                format!("p/apart-{n:03}.md"),
                card(
                    &format!("Note {n}"),
                    "We send money to the bank. Later we move back to the office.",
                ),
            )
        })
        .collect();
    cards.push((
        "p/refunds.md".into(),
        card(
            "Refunds",
            "A customer may ask for their money back within thirty days. We send it.",
        ),
    ));
    let refs: Vec<(&str, String)> = cards
        .iter()
        .map(|(path, text)| (path.as_str(), text.clone()))
        .collect();
    let (_d, kb) = kb(&refs);
    assert_eq!(
        ids(&kb, "money back ").first().map(String::as_str),
        Some("p/refunds")
    );
    let mut request = SearchRequest::new("money back ");
    request.prefer_langs = vec!["en".into()];
    let hits = search(&kb.index, &request).unwrap().hits;
    assert_eq!(hits.first().map(|h| h.card.id.as_str()), Some("p/refunds"));
}
