//! Cards that translate each other are one answer: every result list shows
//! one card per family, in the reader's language where the family has it,
//! with the others listed; pages keep a reader in one language.

use serde_json::{Value, json};

use crate::support::{TestKb, card, hit_ids, send};

/// The refund family of the demo handbook, English source first.
const REFUNDS: [&str; 4] = [
    "playbooks/refunds/annual-plans",
    "playbooks/refunds/vozvrat-sredstv",
    "playbooks/refunds/rambursari-abonament-anual",
    "playbooks/refunds/nianfei-tuikuan",
];

/// No card appears twice, as a hit or as one of a hit's translations.
fn assert_one_per_family(body: &Value, list: &str) {
    let mut seen: Vec<String> = Vec::new();
    for hit in body[list].as_array().unwrap() {
        let mut family = vec![hit["id"].as_str().unwrap().to_string()];
        if let Some(translations) = hit["translations"].as_array() {
            family.extend(
                translations
                    .iter()
                    .map(|t| t["id"].as_str().unwrap().to_string()),
            );
        }
        for id in family {
            assert!(!seen.contains(&id), "{id} shown twice in {body}");
            seen.push(id);
        }
    }
}

async fn search_as(t: &TestKb, path: &str, accept_language: &str) -> Value {
    let (status, body) = send(
        t.client
            .get(t.url(path))
            .header("accept-language", accept_language),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test(flavor = "multi_thread")]
async fn a_search_shows_each_family_once_in_the_readers_language() {
    let t = TestKb::demo().await;
    for (accept, expected) in [
        ("en-US,en;q=0.9", REFUNDS[0]),
        ("ru-RU,ru;q=0.9,en;q=0.8", REFUNDS[1]),
        ("ro", REFUNDS[2]),
        ("zh-CN,zh;q=0.9", REFUNDS[3]),
    ] {
        let body = search_as(&t, "/api/v1/search?q=refund&limit=20", accept).await;
        assert_one_per_family(&body, "hits");
        let ids = hit_ids(&body);
        let shown: Vec<&&str> = ids.iter().filter(|id| REFUNDS.contains(id)).collect();
        assert_eq!(shown, [&expected], "{accept}: {body}");
        let hit = &body["hits"][ids.iter().position(|id| *id == expected).unwrap()];
        let mut others: Vec<&str> = hit["translations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap())
            .collect();
        others.sort();
        let mut expected_others: Vec<&str> = REFUNDS
            .iter()
            .copied()
            .filter(|id| *id != expected)
            .collect();
        expected_others.sort();
        assert_eq!(others, expected_others);
        assert!(
            hit["translations"][0]["url"]
                .as_str()
                .unwrap()
                .starts_with("/cards/")
        );
    }
    // A language filter still filters: Romanian cards for an English reader.
    let body = search_as(&t, "/api/v1/search?q=refund&lang=ro", "en").await;
    assert!(hit_ids(&body).contains(&REFUNDS[2]), "{body}");
    assert!(
        body["hits"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["lang"] == "ro")
    );
    // The query's own language, when the reader says none.
    let body = search_as(&t, "/api/v1/search?q=возврат", "").await;
    assert_eq!(hit_ids(&body).first(), Some(&REFUNDS[1]), "{body}");
    // A remembered choice (the site's language switcher) comes before the
    // browser's languages.
    let (_, body) = send(
        t.client
            .get(t.url("/api/v1/search?q=refund"))
            .header("accept-language", "en")
            .header("cookie", "theme=dark; quire_lang=ro"),
    )
    .await;
    assert!(hit_ids(&body).contains(&REFUNDS[2]), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn suggest_and_match_show_each_family_once() {
    let t = TestKb::demo().await;
    let body = search_as(&t, "/api/v1/suggest?q=refun", "ru").await;
    assert_one_per_family(&body, "suggestions");
    let (status, body) = t
        .post_json(
            "/api/v1/match",
            &json!({ "subject": "Возврат денег", "body": "Здравствуйте! Мы оплатили годовой тариф, но хотим вернуть деньги за оставшиеся месяцы." }),
        )
        .await;
    assert_eq!(status, 200);
    assert_one_per_family(&body, "hits");
    // The ticket's own language comes first.
    assert_eq!(hit_ids(&body).first(), Some(&REFUNDS[1]), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn mcp_search_shows_one_card_of_a_family() {
    let t = TestKb::demo().await;
    let (_, found) = send(
        t.client
            .post(t.url("/mcp"))
            .header("accept", "application/json, text/event-stream")
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                "params": {"name": "search_cards", "arguments": {"query": "refund", "prefer_lang": "zh"}}})),
    )
    .await;
    let text = found["result"]["content"][0]["text"].as_str().unwrap();
    let shown: Vec<&str> = REFUNDS
        .iter()
        .copied()
        .filter(|id| text.contains(&format!("/cards/{id}")) || text.contains(&format!("id: {id}")))
        .collect();
    assert_eq!(shown, [REFUNDS[3]], "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_card_page_offers_its_languages_and_its_reading_path_stays_in_one() {
    let t = TestKb::demo().await;
    let (status, html) = t.page(&format!("/cards/{}", REFUNDS[1])).await;
    assert_eq!(status, 200);
    let html = html.replace("&#x2f;", "/");
    for id in REFUNDS {
        assert!(
            html.contains(&format!("href=\"/cards/{id}\"")),
            "{id} not offered"
        );
    }
    assert!(html.contains(
        r#"<link rel="alternate" hreflang="en" href="/cards/playbooks/refunds/annual-plans">"#
    ));
    assert!(
        html.contains(r#"<span aria-current="page" lang="ru">Русский</span>"#),
        "{html}"
    );
    // Previous and next from an English card are English cards.
    let (_, html) = t.page("/cards/onboarding/team/tone-of-voice").await;
    let html = html.replace("&#x2f;", "/");
    for rel in ["prev", "next"] {
        let Some(at) = html.find(&format!("rel=\"{rel}\" href=\"/cards/")) else {
            continue;
        };
        let id: String = html[at + format!("rel=\"{rel}\" href=\"/cards/").len()..]
            .chars()
            .take_while(|c| *c != '"')
            .collect();
        let (_, card) = t.get(&format!("/api/v1/cards/{id}")).await;
        assert_eq!(card["lang"], "en", "{rel} of tone-of-voice is {id}");
    }
    // A folder lists each family once, in the reader's language.
    let (status, html) = send_page(&t, "/collections/playbooks/refunds", "ru").await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("/cards/{}", REFUNDS[1])), "{html}");
    for id in [REFUNDS[0], REFUNDS[2], REFUNDS[3]] {
        assert!(
            !html.contains(&format!("\"/cards/{id}\"")),
            "{id} listed beside its translation"
        );
    }
}

async fn send_page(t: &TestKb, path: &str, accept_language: &str) -> (u16, String) {
    let response = t
        .client
        .get(t.url(path))
        .header("accept-language", accept_language)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (
        status,
        response.text().await.unwrap().replace("&#x2f;", "/"),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn hugo_file_names_and_translation_keys_make_families() {
    let t = TestKb::start(&[
        ("docs/install.md", &card("Install", "Run the installer and sign in.")),
        ("docs/install.ru.md", &card("Установка", "Запустите установщик и войдите.")),
        ("docs/install.ro.md", &card("Instalare", "Rulați programul de instalare.")),
        (
            "guides/a.md",
            "---\ntitle: Billing guide\ntranslationKey: billing\n---\nInvoices and installer licences.",
        ),
        (
            "guides/b.md",
            "---\ntitle: Facturare\nlang: ro\ntranslationKey: billing\n---\nFacturi și licențe de instalare.",
        ),
    ])
    .await;
    let body = search_as(&t, "/api/v1/search?q=install", "ro").await;
    assert_one_per_family(&body, "hits");
    assert_eq!(hit_ids(&body).first(), Some(&"docs/install.ro"), "{body}");
    let (_, card) = t.get("/api/v1/cards/docs/install.ru").await;
    assert_eq!(card["lang"], "ru");
    let body = search_as(&t, "/api/v1/search?q=billing%20guide", "ro").await;
    assert_eq!(hit_ids(&body), ["guides/b"], "{body}");
}

/// A results page says how many families match, not how many cards: a
/// translation saved later (in a segment of its own) adds no hit, and a
/// new card does.
#[tokio::test(flavor = "multi_thread")]
async fn the_total_counts_families_as_cards_come_and_go() {
    let t = TestKb::start(&[
        (
            "docs/invoices.md",
            &card("Invoices", "Download an invoice as PDF."),
        ),
        (
            "docs/vat.md",
            &card("VAT", "Each invoice shows the VAT number."),
        ),
    ])
    .await;
    let total = async |t: &TestKb| t.get("/api/v1/search?q=invoice").await.1["total"].clone();
    assert_eq!(total(&t).await, 2);

    t.write(
        "docs/invoices.ro.md",
        &card("Facturi", "Descărcați o invoice ca PDF."),
    );
    t.eventually("the translation to be searchable", || async {
        let (_, body) = t.get("/api/v1/search?q=facturi").await;
        !hit_ids(&body).is_empty()
    })
    .await;
    assert_eq!(total(&t).await, 2, "a translation is not another answer");

    t.write(
        "docs/credit.md",
        &card("Credit notes", "A credit note cancels an invoice."),
    );
    t.eventually("the new card to be counted", || async {
        total(&t).await == 3
    })
    .await;
    t.remove("docs/vat.md");
    t.eventually("the removed card to be uncounted", || async {
        total(&t).await == 2
    })
    .await;
}

/// A vault kept one folder per language, with translated file names and
/// English aliases on the translations, as Obsidian users keep them.
const VAULT: &[(&str, &str)] = &[
    (
        "en/Properties.md",
        "---\nlang: en\n---\n# Properties\nKeys at the top of a note.\n",
    ),
    (
        "en/Setup.md",
        "---\nlang: en\n---\n# Setup\nInstall, then open the vault.\n",
    ),
    (
        "en/Guide.md",
        "---\nlang: en\n---\n# Guide\nSee [[Properties]] and [[Setup]] and [[Install]].\n",
    ),
    (
        "en/Install.md",
        "---\nlang: en\n---\n# Install\nDownload the app and run it.\n",
    ),
    (
        "zh/属性.md",
        "---\nlang: zh\naliases: [Properties]\n---\n# 属性\n笔记顶部的键值。\n",
    ),
    (
        "zh/Setup.md",
        "---\nlang: zh\n---\n# 设置\n先安装，然后打开仓库。\n",
    ),
    (
        "zh/安装.md",
        "---\nlang: zh\naliases: [Install]\n---\n# 安装\n下载应用并运行。\n",
    ),
    (
        "zh/指南.md",
        "---\nlang: zh\n---\n# 指南\n参见 [[Properties]]、[[Setup]] 和 [[Install]]。\n",
    ),
];

fn link_urls(card: &Value) -> Vec<(String, String)> {
    card["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["target"].as_str().unwrap().to_string(),
                l["url"].as_str().unwrap_or("broken").to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wiki_link_resolves_in_the_linking_cards_language_first() {
    let t = TestKb::start(VAULT).await;
    let (_, en) = t.get("/api/v1/cards/en/Guide").await;
    assert_eq!(
        link_urls(&en),
        [
            ("Properties".into(), "/cards/en/Properties".into()),
            ("Setup".into(), "/cards/en/Setup".into()),
            ("Install".into(), "/cards/en/Install".into()),
        ]
    );
    let (_, zh) = t
        .get(&format!(
            "/api/v1/cards/zh/{}",
            crate::support::encode("指南")
        ))
        .await;
    // The Chinese note's own language first: its alias over the English
    // file name, and of two files named alike, the Chinese one.
    let chinese = |id: &str| format!("/cards/zh/{}", crate::support::encode(id));
    assert_eq!(
        link_urls(&zh),
        [
            ("Properties".into(), chinese("属性")),
            ("Setup".into(), "/cards/zh/Setup".into()),
            ("Install".into(), chinese("安装")),
        ]
    );
}
