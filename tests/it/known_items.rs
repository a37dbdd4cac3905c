//! Known-item search: a page found by its name as people type it (misspelt,
//! half-typed, without diacritics, in the reader's language), in-process
//! over a small vault written for these tests, and over HTTP for the
//! reader's language and "did you mean".

use quire::search::{Notice, SearchRequest, SearchResults, search};
use quire::{Config, Kb};
use serde_json::Value;

use crate::support::{TestKb, in_process, send};

/// A folder as teams have them: Obsidian-style notes without front matter
/// (the file name is the note's name), command pages in four languages
/// like a tldr folder, and a few support cards.
const VAULT: &[(&str, &str)] = &[
    (
        "notes/Templates.md",
        "# Templates\n\nInsert a ready-made note skeleton with one key.\n",
    ),
    (
        "notes/Bookmarks.md",
        "# Bookmarks\n\nThe bookmarks plugin keeps notes and searches you return to.\n",
    ),
    (
        "notes/Hotkeys.md",
        "# Hotkeys\n\nAssign keyboard shortcuts to any command.\n",
    ),
    (
        "notes/Canvas.md",
        "# Canvas\n\nAn endless board for laying notes out in space.\n",
    ),
    (
        "notes/Properties.md",
        "# Properties\n\nTyped fields at the top of a note: dates, lists, links.\n",
    ),
    (
        "notes/Callouts.md",
        "# Callouts\n\nBoxes that set a tip or a warning apart from the text.\n",
    ),
    (
        "notes/Create your first note.md",
        "# Create your first note\n\nPress the new-note button and start typing.\n",
    ),
    (
        "notes/Plugin settings.md",
        "# Plugin settings\n\nEvery plugin has settings; a plugin may be turned off. Plugin, plugin, plugin.\n",
    ),
    (
        "notes/Home.md",
        "# Welcome to the vault\n\nStart here: the map of everything else.\n",
    ),
    (
        "notes/Call log.md",
        "# Phone numbers\n\nWho rang, and when.\n",
    ),
    (
        "pages/common/kubectl.md",
        "# kubectl\n\n> Run commands against Kubernetes clusters.\n",
    ),
    (
        "pages/common/kubectl-autoscale.md",
        "# kubectl autoscale\n\n> Scale a deployment with kubectl automatically.\n",
    ),
    (
        "pages/common/docker.md",
        "# docker\n\n> Manage containers and images.\n",
    ),
    (
        "pages/common/docker-commit.md",
        "# docker commit\n\n> Create an image from a container's changes with docker.\n",
    ),
    (
        "pages/common/docker-compose.md",
        "# docker compose\n\n> Run applications made of several docker containers.\n",
    ),
    (
        "pages/windows/comp.md",
        "# comp\n\n> Compare the contents of two files; docker users compose diffs with it.\n",
    ),
    (
        "pages/common/python.md",
        "# python\n\n> The Python language interpreter.\n",
    ),
    (
        "pages/common/uv-python.md",
        "# uv python\n\n> Manage Python versions with uv.\n",
    ),
    (
        "pages/common/git.md",
        "# git\n\n> Distributed version control: commit, branch, merge.\n",
    ),
    (
        "pages/common/git-commit.md",
        "# git commit\n\n> Record changes to the repository.\n",
    ),
    (
        "pages/common/git-commit-graph.md",
        "# git commit-graph\n\n> Write and verify the commit-graph file.\n",
    ),
    (
        "pages/common/tar.md",
        "# tar\n\n> Archiving utility, often combined with a compression method.\n",
    ),
    (
        "pages.ro/common/tar.md",
        "# tar\n\n> Utilitar de arhivare, adesea combinat cu o metodă de compresie.\n",
    ),
    (
        "pages.ru/common/tar.md",
        "# tar\n\n> Утилита для архивации, часто вместе со сжатием.\n",
    ),
    (
        "pages.zh/common/tar.md",
        "# tar\n\n> 归档工具，通常与压缩方法一起使用。\n",
    ),
    (
        "support/refunds.md",
        "---\ntitle: Refunds on annual plans\nlang: en\n---\nA customer who asks for their money back within thirty days gets a full refund.\n",
    ),
    (
        "support/rambursari.md",
        "---\ntitle: Rambursări\nlang: ro\n---\nCompania rambursează abonamentul anual dacă clientul plătește cu cardul.\n",
    ),
    (
        "support/chargebacks.md",
        "---\ntitle: Chargebacks and disputes\nlang: en\n---\nA chargeback reverses a payment; we answer the dispute within a week.\n",
    ),
    (
        "support/login.md",
        "---\ntitle: Cannot sign in\nlang: en\n---\nReset the password, then check the audit log for lockouts.\n",
    ),
    (
        "support/in-office.md",
        "---\ntitle: Office hours\nlang: en\n---\nWe are in from nine to five.\n",
    ),
];

fn open(cards: &[(&str, &str)]) -> (tempfile::TempDir, std::sync::Arc<Kb>) {
    in_process(cards)
}

fn results(kb: &Kb, q: &str, prefer: &[&str]) -> SearchResults {
    let mut request = SearchRequest::new(q);
    request.prefer_langs = prefer.iter().map(|l| l.to_string()).collect();
    search(&kb.index, &request).unwrap()
}

fn ids(kb: &Kb, q: &str) -> Vec<String> {
    ranked(kb, q, &["en"])
}

fn ranked(kb: &Kb, q: &str, prefer: &[&str]) -> Vec<String> {
    results(kb, q, prefer)
        .hits
        .into_iter()
        .map(|h| h.card.id.to_string())
        .collect()
}

#[track_caller]
fn first(kb: &Kb, q: &str, expect: &str) {
    let got = ids(kb, q);
    assert_eq!(
        got.first().map(String::as_str),
        Some(expect),
        "{q:?} gave {got:?}"
    );
}

#[track_caller]
fn in_top_3(kb: &Kb, q: &str, expect: &str) {
    let got = ids(kb, q);
    assert!(
        got.iter().take(3).any(|id| id == expect),
        "{q:?} gave {got:?}"
    );
}

#[test]
fn a_title_word_with_one_letter_dropped_still_finds_its_note() {
    let (_dir, kb) = open(VAULT);
    first(&kb, "Templaes", "notes/Templates");
    first(&kb, "Templats", "notes/Templates");
    first(&kb, "Bookmars", "notes/Bookmarks");
    first(&kb, "Hotkes", "notes/Hotkeys");
    first(&kb, "Canas", "notes/Canvas");
}

#[test]
fn a_misspelt_command_finds_the_command_itself_first() {
    let (_dir, kb) = open(VAULT);
    first(&kb, "kubctl", "pages/common/kubectl");
    first(&kb, "dockr", "pages/common/docker");
    first(&kb, "pyhton", "pages/common/python");
}

#[test]
fn while_typing_the_title_that_begins_with_the_text_comes_first() {
    let (_dir, kb) = open(VAULT);
    first(&kb, "git commi", "pages/common/git-commit");
    first(&kb, "docker compse", "pages/common/docker-compose");
    in_top_3(&kb, "Proper", "notes/Properties");
    first(&kb, "Create your f", "notes/Create your first note");
    in_top_3(&kb, "Call", "notes/Callouts");
}

#[test]
fn a_misspelt_word_beside_a_right_one_counts_as_much() {
    let (_dir, kb) = open(VAULT);
    first(&kb, "Bookmars plugin", "notes/Bookmarks");
}

#[test]
fn a_note_is_found_by_its_file_name_whatever_its_first_heading_says() {
    let (_dir, kb) = open(VAULT);
    first(&kb, "Home", "notes/Home");
    first(&kb, "Call log", "notes/Call log");
}

#[test]
fn romanian_typed_without_diacritics_finds_what_the_accented_word_finds() {
    let (_dir, kb) = open(VAULT);
    for (plain, accented) in [("ramburseaza", "rambursează"), ("plateste", "plătește")] {
        let with = ids(&kb, accented);
        assert!(
            with.contains(&"support/rambursari".to_string()),
            "{accented}: {with:?}"
        );
        assert_eq!(ids(&kb, plain), with, "{plain} and {accented}");
    }
    let got = ranked(&kb, "arhivă tar", &["ro", "en"]);
    assert_eq!(
        got.first().map(String::as_str),
        Some("pages.ro/common/tar"),
        "{got:?}"
    );
}

#[test]
fn on_the_demo_handbook_romanian_without_diacritics_finds_as_many_cards() {
    let config = Config {
        content_dir: std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("content"),
        data_dir: None,
        watch: false,
        ..Config::default()
    };
    let (kb, mut reindexer) = quire::open(config).unwrap();
    reindexer.start(&|_, _| {}).unwrap();
    // As typed, finished (a space after the word): no completion helps.
    for (plain, accented) in [("ramburseaza ", "rambursează "), ("plateste ", "plătește ")] {
        let mut with = ids(&kb, accented);
        let mut without = ids(&kb, plain);
        with.sort();
        without.sort();
        assert!(!with.is_empty());
        assert_eq!(without, with, "{plain:?} and {accented:?}");
    }
}

#[test]
fn the_readers_language_comes_first_among_equal_titles() {
    let (_dir, kb) = open(VAULT);
    for lang in ["en", "ro", "ru", "zh"] {
        let got = ranked(&kb, "tar", &[lang, "en"]);
        let expect = match lang {
            "en" => "pages/common/tar".to_string(),
            other => format!("pages.{other}/common/tar"),
        };
        assert_eq!(got.first(), Some(&expect), "reader {lang}: {got:?}");
    }
}

#[test]
fn a_preference_is_not_a_filter() {
    let (_dir, kb) = open(VAULT);
    // Only English cards hold "kubectl": a Romanian reader still gets them.
    let got = ranked(&kb, "kubectl", &["ro"]);
    assert_eq!(
        got.first().map(String::as_str),
        Some("pages/common/kubectl"),
        "{got:?}"
    );
}

#[test]
fn stop_words_score_but_never_make_a_hit_alone() {
    let (_dir, kb) = open(VAULT);
    let got = ids(&kb, "cant log in ");
    assert!(!got.is_empty());
    assert!(!got.contains(&"support/in-office".to_string()), "{got:?}");
    in_top_3(&kb, "customer wants money back ", "support/refunds");
}

#[test]
fn junk_finds_nothing_and_says_why() {
    let (_dir, kb) = open(VAULT);
    for junk in ["((((", "***", "-", "\0", " - * ( ) "] {
        let r = results(&kb, junk, &[]);
        assert_eq!((r.total, r.hits.len()), (0, 0), "{junk:?}");
        assert_eq!(r.notice, Some(Notice::NoWords), "{junk:?}");
    }
    // An empty box is not junk: it browses, with the filters alone.
    assert!(results(&kb, "", &[]).total > 0);
}

#[test]
fn typo_and_prefix_matches_are_highlighted() {
    let (_dir, kb) = open(VAULT);
    for q in ["refnud", "chargeb"] {
        let r = results(&kb, q, &["en"]);
        let hit = r
            .hits
            .first()
            .unwrap_or_else(|| panic!("{q:?} found nothing"));
        assert!(hit.snippet.contains("<mark>"), "{q:?}: {}", hit.snippet);
    }
}

#[test]
fn a_word_that_matches_nothing_offers_its_correction() {
    let (_dir, kb) = open(VAULT);
    assert_eq!(
        results(&kb, "kubctl", &[]).did_you_mean.as_deref(),
        Some("kubectl")
    );
    assert_eq!(
        results(&kb, "Bookmars plugin", &[]).did_you_mean.as_deref(),
        Some("bookmarks plugin")
    );
    assert_eq!(results(&kb, "kubectl", &[]).did_you_mean, None);
    assert_eq!(results(&kb, "zzzzqqqq", &[]).did_you_mean, None);
}

#[test]
fn equal_scores_order_the_same_way_however_the_folder_was_indexed() {
    let cards: Vec<(String, String)> = (0..40)
        .map(|i| {
            (
                format!("same/card-{i:02}.md"),
                "# Same\n\nIdentical words here.\n".to_string(),
            )
        })
        .collect();
    let forward: Vec<(&str, &str)> = cards
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let backward: Vec<(&str, &str)> = forward.iter().rev().copied().collect();
    let (_a, one) = open(&forward);
    let (_b, other) = open(&backward);
    let (first_list, second_list) = (ids(&one, "identical words"), ids(&other, "identical words"));
    assert_eq!(first_list.len(), 10);
    assert_eq!(first_list, second_list);
}

async fn served() -> TestKb {
    TestKb::start(VAULT).await
}

async fn get_with(t: &TestKb, path: &str, accept_language: &str) -> Value {
    let request = reqwest::Client::new()
        .get(t.url(path))
        .header("Accept-Language", accept_language);
    let (status, body) = send(request).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_reads_the_readers_language_from_the_browser_and_the_choice() {
    let t = served().await;
    let body = get_with(&t, "/api/v1/search?q=tar", "ro-RO,ro;q=0.9,en;q=0.8").await;
    assert_eq!(body["hits"][0]["id"], "pages.ro/common/tar", "{body}");
    // A chosen language comes before the browser's.
    let body = get_with(&t, "/api/v1/search?q=tar&prefer_lang=zh", "ro,en;q=0.8").await;
    assert_eq!(body["hits"][0]["id"], "pages.zh/common/tar", "{body}");
    let body = get_with(&t, "/api/v1/suggest?q=ta", "ru").await;
    assert_eq!(
        body["suggestions"][0]["id"], "pages.ru/common/tar",
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_and_the_site_offer_did_you_mean_and_explain_junk() {
    let t = served().await;
    let (_, body) = t.get("/api/v1/search?q=kubctl").await;
    assert_eq!(body["did_you_mean"], "kubectl", "{body}");
    assert_eq!(body["hits"][0]["id"], "pages/common/kubectl", "{body}");
    let (_, body) = t.get("/api/v1/search?q=((((").await;
    assert_eq!(body["total"], 0, "{body}");
    assert_eq!(body["notice"]["code"], "no_words", "{body}");
    let (status, html) = t.page("/search?q=kubctl").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Did you mean <a href=\"/search?q=kubectl\">kubectl</a>"),
        "{html}"
    );
    let (_, html) = t.page("/search?q=%2A%2A%2A").await;
    assert!(html.contains("no words to search for"), "{html}");
}
