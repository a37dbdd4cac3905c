//! The demo handbook in `content/` is the product's first impression and the
//! fixture of many tests: it must load cleanly and show every feature.

use std::collections::BTreeSet;

use quire::content::{Resolved, Severity, Trust};

use crate::support::TestKb;

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_handbook_loads_without_errors_and_covers_the_card_format() {
    let t = TestKb::demo().await;
    let catalog = t.kb.catalog();
    let errors: Vec<String> = catalog
        .problems()
        .filter(|p| p.severity == Severity::Error)
        .map(|p| p.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(catalog.len() >= 40, "{} cards", catalog.len());

    let collections: BTreeSet<&str> = catalog.cards().map(|c| c.collection()).collect();
    assert_eq!(collections.len(), 4, "{collections:?}");
    let langs: BTreeSet<&str> = catalog.cards().map(|c| c.lang.as_str()).collect();
    for lang in ["en", "ru", "ro", "zh"] {
        assert!(langs.contains(lang), "no {lang} card: {langs:?}");
    }
    let today = chrono::Local::now().date_naive();
    let trusts: BTreeSet<Trust> = catalog
        .cards()
        .map(|c| c.verification.trust(today))
        .collect();
    assert_eq!(trusts.len(), 3, "{trusts:?}");
    for collection in &collections {
        assert!(
            catalog
                .folder(collection)
                .and_then(|f| f.title.as_ref())
                .is_some(),
            "{collection} has no _index.md title"
        );
    }

    let mut broken = Vec::new();
    for card in catalog.cards() {
        for link in &card.links {
            if catalog.resolve(&card.id, link) == Resolved::Broken {
                broken.push(format!("{}:{} {:?}", card.id, link.line, link.target));
            }
        }
    }
    assert!(broken.is_empty(), "broken links in the demo: {broken:#?}");
    assert!(catalog.cards().any(|c| {
        c.links
            .iter()
            .any(|l| l.kind == quire::content::markdown::LinkKind::Embed)
    }));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_image_is_served_as_an_image() {
    let t = TestKb::demo().await;
    let image =
        t.kb.catalog()
            .attachments()
            .find(|a| a.ends_with(".png"))
            .cloned()
            .expect("a png attachment");
    let response = t
        .client
        .get(t.url(&format!("/files/{image}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/png");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
}
