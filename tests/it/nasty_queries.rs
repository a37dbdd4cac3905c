use crate::support::{TestKb, card, encode};

/// Inputs that have broken query parsers, tantivy's among them.
const NASTY: &[&str] = &[
    "",
    " ",
    "\"",
    "\"\"",
    "\"unclosed phrase",
    "AND OR",
    "AND",
    "OR NOT",
    "title:",
    ":",
    "-",
    "- *",
    "*",
    "?",
    "~",
    "a:(^",
    "((((((((",
    "))))",
    "[1 TO",
    "{}",
    "\\",
    "\\\"",
    "+-+-",
    "--x",
    "refund~2",
    "refund^100",
    "title:(a OR",
    "\u{0}",
    "\u{200b}",
    "ё",
    "知",
    "🦀",
    "%",
    "%%%",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "${jndi:x}",
    "a b c d e f g h i j k l m n o p q r s t u v w x y z a1 b1 c1 d1 e1 f1 g1 h1 i1 j1",
];

#[tokio::test(flavor = "multi_thread")]
async fn no_query_string_makes_the_server_fail() {
    let t = TestKb::start(&[("a/refunds.md", &card("Refunds", "We refund annual plans."))]).await;
    let long = "refund policy question ".repeat(500);
    let mut inputs: Vec<String> = NASTY.iter().map(|s| s.to_string()).collect();
    inputs.push(long);
    inputs.push("x".repeat(10_000));
    for q in &inputs {
        for path in [
            format!("/api/v1/search?q={}", encode(q)),
            format!("/search?q={}", encode(q)),
        ] {
            let (status, body) = t.get_text(&path).await;
            assert!(
                status < 500,
                "{q:?} on {} answered {status}: {body}",
                &path[..path.len().min(40)]
            );
        }
    }
    // Raw bytes that are not UTF-8 once decoded.
    let (status, _) = t.get_text("/api/v1/search?q=%ff%fe").await;
    assert!(status < 500);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pasted_email_still_finds_the_card() {
    let t = TestKb::start(&[
        (
            "a/refunds.md",
            &card(
                "Refunds on annual plans",
                "We refund annual plans within thirty days.",
            ),
        ),
        (
            "a/other.md",
            &card("Password reset", "How to reset a password."),
        ),
    ])
    .await;
    let email = "Hi team,\n\nI bought the annual plan last week by mistake and would like a refund please. \
                 Could you tell me how long it takes?\n\nThanks,\nJane\n\n> On Monday you wrote: welcome aboard";
    let ids = t.search_ids(email).await;
    assert_eq!(
        ids.first().map(String::as_str),
        Some("a/refunds"),
        "{ids:?}"
    );
}
