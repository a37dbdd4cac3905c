//! `quire-eval`: known-item search over any folder of markdown, Quire next
//! to a plain tantivy baseline in the same run.
//!
//!     cargo run --release --bin quire-eval -- ../shared/corpora/tldr
//!     cargo run --release --bin quire-eval -- content --tickets tests/tickets/tickets.toml
//!
//! From each card it makes the queries people type for a page they know
//! (see `queries`): the exact title, one typo, the title half-typed, a few
//! words of the description. Each is sent with the reader's language (the
//! card's own) as a browser sends it, `Accept-Language`, and counts where
//! the card lands: top-1, top-3 and MRR per mode and language. Queries that
//! more than three titles of the language fit are reported apart.

mod baseline;
mod lexicon;
mod queries;
mod tickets;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Parser;
use quire::search::{SearchRequest, reader, search};
use quire::{Config, Kb};

use queries::{Group, Item, KnownItem};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
struct Args {
    /// The folder of markdown to evaluate on.
    #[arg(default_value = "content")]
    dir: PathBuf,
    /// Cards sampled per language (0: every card).
    #[arg(long, default_value_t = 500)]
    per_lang: usize,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Print every query whose card Quire ranks below this (3: the top-3
    /// misses; 1: every query not answered first).
    #[arg(long, value_name = "RANK")]
    misses: Option<usize>,
    /// Also write the figures as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Exit with an error when Quire's overall top-3 over titles is below
    /// this percentage (for CI).
    #[arg(long, value_name = "PERCENT")]
    fail_below: Option<f64>,
    /// Match the tickets of this file instead (customers' words, same- and
    /// cross-language; see `tests/tickets/tickets.toml`). `--fail-below`
    /// then applies to the tickets' top-3.
    #[arg(long, value_name = "FILE")]
    tickets: Option<PathBuf>,
    /// Learn the word lexicon from the folder (tldr-pages: `pages/` and its
    /// translations `pages.ru/`, `pages.ro/`, `pages.zh/`) and write it
    /// here, instead of evaluating (see `quire::search::lexicon`).
    #[arg(long, value_name = "FILE")]
    learn_lexicon: Option<PathBuf>,
    /// Match each translated tldr page against the English pages, with and
    /// without a lexicon learned from the other half (`--misses` lists the
    /// pages not in the top 3).
    #[arg(long)]
    cross_lingual: bool,
}

/// Where each system put the expected card, for one query (1-based).
struct Outcome {
    query: KnownItem,
    quire: Option<usize>,
    baseline: Option<usize>,
    quire_top: Vec<String>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    if let Some(out) = &args.learn_lexicon {
        let entries = lexicon::learn(&args.dir, &|_| false)?;
        let source = "tldr-pages (CC BY 4.0, https://github.com/tldr-pages/tldr)";
        std::fs::write(out, quire::search::lexicon::to_tsv(&entries, source))
            .with_context(|| format!("write {}", out.display()))?;
        println!(
            "{} translations written to {}",
            entries.len(),
            out.display()
        );
        return Ok(());
    }
    let started = Instant::now();
    let config = Config {
        content_dir: args.dir.clone(),
        data_dir: None,
        watch: false,
        ..Config::default()
    };
    let (kb, mut reindexer) = quire::open(config).context("open the folder")?;
    reindexer.start(&|_, _| {}).context("index the folder")?;
    let items = items(&kb, &args.dir);
    println!(
        "{} cards indexed by Quire in {:.1} s",
        items.len(),
        started.elapsed().as_secs_f64()
    );
    let built = Instant::now();
    let baseline = baseline::Baseline::build(&items)?;
    println!(
        "plain tantivy baseline built in {:.1} s",
        built.elapsed().as_secs_f64()
    );

    if args.cross_lingual {
        return lexicon::evaluate(&kb, &args.dir, args.misses.is_some());
    }
    if let Some(file) = &args.tickets {
        return tickets::run(&kb, &baseline, file, args.misses.is_some(), args.fail_below);
    }
    let sample = sample(&items, args.per_lang, args.seed);
    let known = queries::known_items(&sample, &items, args.seed);
    println!("{} queries from {} cards", known.len(), sample.len());

    let mut quire_time = Vec::with_capacity(known.len());
    let mut baseline_time = Vec::with_capacity(known.len());
    let mut outcomes = Vec::with_capacity(known.len());
    for query in known {
        let mut request = SearchRequest::new(query.q.clone());
        request.limit = 10;
        request.snippets = false;
        request.prefer_langs = reader::from_accept_language(&accept_language(&query.lang));
        let t = Instant::now();
        let results = search(&kb.index, &request)?;
        quire_time.push(t.elapsed());
        let quire_top: Vec<String> = results
            .hits
            .iter()
            .map(|h| h.card.id.as_str().to_string())
            .collect();
        let t = Instant::now();
        let theirs = baseline.search(&query.q, &query.lang, 10)?;
        baseline_time.push(t.elapsed());
        outcomes.push(Outcome {
            quire: rank(&quire_top, &query.expect),
            baseline: rank(&theirs, &query.expect),
            quire_top,
            query,
        });
    }
    if let Some(rank) = args.misses {
        print_misses(&outcomes, rank);
    }
    let report = report(&outcomes);
    println!("{report}");
    println!(
        "latency per query: Quire p50 {:.2} ms, p99 {:.2} ms; baseline p50 {:.2} ms, p99 {:.2} ms",
        ms(&mut quire_time, 50.0),
        ms(&mut quire_time, 99.0),
        ms(&mut baseline_time, 50.0),
        ms(&mut baseline_time, 99.0)
    );
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_vec_pretty(&json(&outcomes))?)?;
    }
    if let Some(floor) = args.fail_below {
        let overall = tally(&outcomes, |k| is_title_query(k).then_some(()));
        let top3 = overall.values().next().map_or(0.0, |(q, _)| q.pct(q.top3));
        anyhow::ensure!(top3 >= floor, "overall top-3 {top3:.1}% is below {floor}%");
    }
    Ok(())
}

/// The queries the targets are stated for: titles, unambiguous.
fn is_title_query(k: &KnownItem) -> bool {
    !k.ambiguous && k.mode.group() != Group::Description
}

/// Every card, with the language the folder says it is in where the folder
/// says one (`pages.ru/`, `ru/`), else the card's own.
fn items(kb: &Kb, root: &Path) -> Vec<Item> {
    let catalog = kb.catalog();
    let mut items: Vec<Item> = catalog
        .cards()
        .map(|card| {
            let id = card.id.as_str().to_string();
            let body = std::fs::read_to_string(root.join(card.id.rel_path())).unwrap_or_default();
            Item {
                lang: folder_lang(&id).unwrap_or_else(|| card.lang.clone()),
                title: card.title.clone(),
                description: card
                    .summary
                    .clone()
                    .unwrap_or_else(|| card.first_paragraph.clone()),
                body,
                id,
            }
        })
        .collect();
    items.sort_by(|a, b| a.id.cmp(&b.id));
    items
}

fn folder_lang(id: &str) -> Option<String> {
    id.split('/').find_map(|part| {
        let code = part.strip_prefix("pages.").unwrap_or(part);
        matches!(code, "en" | "ru" | "ro" | "zh")
            .then(|| code.to_string())
            .or_else(|| (part == "pages").then(|| "en".to_string()))
    })
}

/// Up to `per_lang` cards of each language, chosen by the seed.
fn sample(items: &[Item], per_lang: usize, seed: u64) -> Vec<&Item> {
    let mut by_lang: BTreeMap<&str, Vec<&Item>> = BTreeMap::new();
    for item in items {
        by_lang.entry(&item.lang).or_default().push(item);
    }
    let mut out = Vec::new();
    for (_, mut list) in by_lang {
        list.sort_by_key(|i| queries::shuffle_key(seed, &i.id));
        if per_lang > 0 {
            list.truncate(per_lang);
        }
        out.extend(list);
    }
    out
}

/// What a browser in that language sends.
fn accept_language(lang: &str) -> String {
    match lang {
        "en" => "en-US,en;q=0.9".to_string(),
        other => format!("{other},{other}-XX;q=0.9,en;q=0.8"),
    }
}

fn rank(ids: &[String], expect: &str) -> Option<usize> {
    ids.iter().position(|id| id == expect).map(|r| r + 1)
}

#[derive(Default, Clone, Copy)]
struct Score {
    n: usize,
    top1: usize,
    top3: usize,
    rr: f64,
}

impl Score {
    fn add(&mut self, rank: Option<usize>) {
        self.n += 1;
        if let Some(r) = rank {
            self.top1 += usize::from(r == 1);
            self.top3 += usize::from(r <= 3);
            self.rr += 1.0 / r as f64;
        }
    }

    fn pct(&self, k: usize) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            100.0 * k as f64 / self.n as f64
        }
    }

    fn cells(&self) -> String {
        format!(
            "{:.1}% | {:.1}% | {:.3}",
            self.pct(self.top1),
            self.pct(self.top3),
            if self.n == 0 {
                0.0
            } else {
                self.rr / self.n as f64
            }
        )
    }
}

type Table<K> = BTreeMap<K, (Score, Score)>;

fn tally<K: Ord>(outcomes: &[Outcome], key: impl Fn(&KnownItem) -> Option<K>) -> Table<K> {
    let mut table: Table<K> = BTreeMap::new();
    for o in outcomes {
        if let Some(k) = key(&o.query) {
            let entry = table.entry(k).or_default();
            entry.0.add(o.quire);
            entry.1.add(o.baseline);
        }
    }
    table
}

fn report(outcomes: &[Outcome]) -> String {
    let mut out = String::new();
    let header = "| | queries | Quire top-1 | Quire top-3 | Quire MRR | tantivy top-1 | tantivy top-3 | tantivy MRR |\n|---|---|---|---|---|---|---|---|\n";
    let row = |out: &mut String, name: &str, (q, b): &(Score, Score)| {
        out.push_str(&format!(
            "| {name} | {} | {} | {} |\n",
            q.n,
            q.cells(),
            b.cells()
        ));
    };
    // What the targets are stated for: titles, unambiguous, per language.
    out.push_str("\nTitles (exact, misspelt, half-typed), unambiguous:\n\n");
    out.push_str(header);
    let overall = tally(outcomes, |k| is_title_query(k).then_some(()));
    for score in overall.values() {
        row(&mut out, "**overall**", score);
    }
    for (lang, score) in tally(outcomes, |k| is_title_query(k).then(|| k.lang.clone())) {
        row(&mut out, &lang, &score);
    }
    out.push_str("\nBy group and language:\n\n");
    out.push_str(header);
    let by_group = tally(outcomes, |k| {
        (!k.ambiguous).then(|| (k.mode.group(), k.lang.clone()))
    });
    for ((group, lang), score) in &by_group {
        row(&mut out, &format!("{} · {lang}", group.name()), score);
    }
    out.push_str("\nBy mode (every language):\n\n");
    out.push_str(header);
    for (mode, score) in tally(outcomes, |k| (!k.ambiguous).then_some(k.mode)) {
        row(&mut out, mode.name(), &score);
    }
    out.push_str("\nAmbiguous (more than three titles of the language fit), apart:\n\n");
    out.push_str(header);
    for (group, score) in tally(outcomes, |k| k.ambiguous.then(|| k.mode.group())) {
        row(&mut out, group.name(), &score);
    }
    out
}

fn print_misses(outcomes: &[Outcome], rank: usize) {
    for o in outcomes {
        if o.query.ambiguous || o.quire.is_some_and(|r| r <= rank) {
            continue;
        }
        println!(
            "miss [{} · {}] {:?} -> {} (rank {:?}); top 3: {:?}",
            o.query.lang,
            o.query.mode.name(),
            o.query.q,
            o.query.expect,
            o.quire,
            &o.quire_top[..o.quire_top.len().min(3)]
        );
    }
}

fn json(outcomes: &[Outcome]) -> serde_json::Value {
    let cells = |table: Table<(Group, String)>| -> serde_json::Value {
        table
            .into_iter()
            .map(|((group, lang), (q, b))| {
                serde_json::json!({
                    "group": group.name(), "lang": lang, "queries": q.n,
                    "quire_top3": q.pct(q.top3), "tantivy_top3": b.pct(b.top3),
                })
            })
            .collect()
    };
    serde_json::json!({
        "cells": cells(tally(outcomes, |k| (!k.ambiguous).then(|| (k.mode.group(), k.lang.clone())))),
    })
}

fn ms(samples: &mut [Duration], pct: f64) -> f64 {
    samples.sort();
    let Some(last) = samples.len().checked_sub(1) else {
        return 0.0;
    };
    let i = ((last as f64) * pct / 100.0).round() as usize;
    samples[i.min(last)].as_secs_f64() * 1000.0
}
