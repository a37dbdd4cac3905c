//! Relevance over the demo handbook: queries written as people type them
//! (short, partial, misspelt, without diacritics) in English, Russian,
//! Romanian and Chinese, each with the card it must find in the top 3.
//! Prints recall@3 and MRR per language; fails when any query misses.
//! The queries live in `tests/relevance/queries.toml`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use quire::Config;
use quire::search::{SearchRequest, search};
use serde::Deserialize;

#[derive(Deserialize)]
struct Queries {
    query: Vec<Query>,
}

#[derive(Deserialize)]
struct Query {
    lang: String,
    q: String,
    expect: String,
    #[serde(default)]
    note: String,
}

const MIN_PER_LANGUAGE: usize = 8;

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("tests/relevance/queries.toml"))
        .expect("read queries.toml");
    let queries: Queries = toml::from_str(&text).expect("parse queries.toml");
    let config = Config {
        content_dir: root.join("content"),
        data_dir: None,
        ..Config::default()
    };
    let (kb, mut reindexer) = quire::open(config).expect("open the demo content");
    reindexer.start(&|_, _| {}).expect("index the demo content");

    // Per language: (queries, found in top 3, sum of reciprocal ranks).
    let mut by_lang: BTreeMap<String, (usize, usize, f64)> = BTreeMap::new();
    let mut failures = Vec::new();
    for query in &queries.query {
        assert!(
            kb.catalog()
                .get(&quire::content::CardId::new(query.expect.as_str()).expect("valid id"))
                .is_some(),
            "{} does not exist",
            query.expect
        );
        let mut request = SearchRequest::new(query.q.clone());
        request.limit = 10;
        request.snippets = false;
        let results = search(&kb.index, &request).expect("search");
        let rank = results
            .hits
            .iter()
            .position(|h| h.card.id.as_str() == query.expect)
            .map(|r| r + 1);
        let entry = by_lang.entry(query.lang.clone()).or_default();
        entry.0 += 1;
        if let Some(r) = rank {
            entry.2 += 1.0 / r as f64;
        }
        if rank.is_some_and(|r| r <= 3) {
            entry.1 += 1;
        } else {
            let got: Vec<&str> = results
                .hits
                .iter()
                .take(3)
                .map(|h| h.card.id.as_str())
                .collect();
            failures.push(format!(
                "  [{}] {:?} ({}) expected {} at rank <= 3, got rank {:?}; top 3: {:?}",
                query.lang, query.q, query.note, query.expect, rank, got
            ));
        }
    }

    println!(
        "\nrelevance over the demo handbook ({} queries)",
        queries.query.len()
    );
    println!(
        "{:<6} {:>8} {:>10} {:>8}",
        "lang", "queries", "recall@3", "MRR"
    );
    for (lang, (n, found, rr)) in &by_lang {
        println!(
            "{lang:<6} {n:>8} {:>10.3} {:>8.3}",
            *found as f64 / *n as f64,
            rr / *n as f64
        );
    }
    let mut ok = failures.is_empty();
    for lang in ["en", "ru", "ro", "zh"] {
        let n = by_lang.get(lang).map_or(0, |e| e.0);
        if n < MIN_PER_LANGUAGE {
            println!("too few {lang} queries: {n} < {MIN_PER_LANGUAGE}");
            ok = false;
        }
    }
    for f in &failures {
        println!("{f}");
    }
    let passed = queries.query.len() - failures.len();
    println!("relevance: {passed} passed, {} failed", failures.len());
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
