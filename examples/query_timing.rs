//! Times searches in process on any folder, through the application layer
//! as the API calls it but with the search cache off, for a profiler or
//! for callgrind's instruction counts:
//!
//!     cargo run --release --example query_timing -- <folder> <data-dir> <queries-file> [rounds]
//!     valgrind --tool=callgrind --toggle-collect='*query_timing::timed*' target/release/examples/query_timing ...
//!
//! One query per line, or `class<TAB>query`; prints p50/p99 per query and
//! per class. A class named `suggest` is asked as the search box's
//! suggestions are (`app::search::suggest`), one named `match` as a ticket
//! from the sidebar (`app::search::match_ticket`: the text as the body, a
//! few of its first words as the subject, five cards). `QT_LANG=en` searches as a reader of that language.
use quire::Config;
use quire::app::search::{Door, Log, match_ticket, search, suggest};
use quire::search::SearchRequest;
use quire::search::Ticket;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, folder, data, file, ..] = args.as_slice() else {
        return Err("usage: query_timing <folder> <data-dir> <queries-file> [rounds]".into());
    };
    let config = Config {
        content_dir: folder.into(),
        data_dir: Some(data.into()),
        search_cache: 0,
        ..Config::default()
    };
    let (kb, mut reindexer) = quire::open(config)?;
    reindexer.start(&|_, _| {})?;
    let text = std::fs::read_to_string(file)?;
    let rounds: usize = args
        .get(4)
        .and_then(|r| r.parse().ok())
        .unwrap_or(50)
        .max(1);
    let queries: Vec<(String, String)> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| match l.split_once('\t') {
            Some((c, q)) => (c.to_string(), q.to_string()),
            None => ("all".to_string(), l.to_string()),
        })
        .collect();
    for (c, q) in &queries {
        ask(&kb, c, q)?;
    }
    let mut by_query: Vec<Vec<Duration>> = vec![Vec::new(); queries.len()];
    for _ in 0..rounds {
        for (i, (c, q)) in queries.iter().enumerate() {
            by_query[i].push(timed(&kb, c, q)?);
        }
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let pct = |v: &mut Vec<Duration>, p: f64| {
        v.sort();
        v[((v.len() as f64 - 1.0) * p / 100.0).round() as usize]
    };
    let mut by_class: BTreeMap<String, Vec<Duration>> = BTreeMap::new();
    for (i, (c, q)) in queries.iter().enumerate() {
        let hits = ask(&kb, c, q)?;
        let v = &mut by_query[i];
        by_class
            .entry(c.clone())
            .or_default()
            .extend(v.iter().copied());
        println!(
            "{:>7.3} {:>7.3}  {:<10} {:>5} {}",
            ms(pct(v, 50.0)),
            ms(pct(v, 99.0)),
            c,
            hits.total,
            q.chars().take(60).collect::<String>()
        );
    }
    for (c, v) in &mut by_class {
        println!(
            "class {c}: p50 {:.3} ms p99 {:.3} ms",
            ms(pct(v, 50.0)),
            ms(pct(v, 99.0))
        );
    }
    Ok(())
}

fn request(q: &str) -> SearchRequest {
    let mut request = SearchRequest::new(q);
    if let Ok(lang) = std::env::var("QT_LANG") {
        request.prefer_langs = vec![lang];
    }
    request
}

/// One search, timed (a function of its own so that callgrind can count
/// only these: `--toggle-collect=*query_timing::timed*`).
#[inline(never)]
fn timed(kb: &quire::Kb, class: &str, q: &str) -> Result<Duration, Box<dyn std::error::Error>> {
    let t = Instant::now();
    std::hint::black_box(ask(kb, class, q)?);
    Ok(t.elapsed())
}

fn ask(
    kb: &quire::Kb,
    class: &str,
    q: &str,
) -> Result<quire::search::SearchResults, Box<dyn std::error::Error>> {
    Ok(match class {
        "suggest" => suggest(kb, &request(q))?,
        "match" => {
            let ticket = Ticket {
                subject: q.chars().skip(8).take(60).collect(),
                body: q.to_string(),
                tags: Vec::new(),
            };
            let mut request = request("");
            request.limit = 5;
            match_ticket(kb, &ticket, &request)?
        }
        _ => search(kb, &request(q), Door::Cli, Log::No)?,
    })
}
