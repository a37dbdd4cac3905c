//! `quire-bench`: generates a corpus and measures Quire on it. Every figure
//! is printed as `name: value unit`; `--json FILE` writes them too.
//!
//!     cargo run --release --bin quire-bench -- --cards 10000
//!
//! Steps: cold index build and restart (in a child process, for honest peak
//! memory), in-process query latency over a fixed mix, HTTP on loopback
//! with 1 and 32 keep-alive clients, edit-to-searchable through the real
//! watcher (alone and during a burst of 1,000 changed files), memory; with
//! `--load-rate`, an open-loop load test (a constant request rate against
//! search, card pages and the sidebar's endpoints while cards are edited);
//! with `--insights`, only the insights queries over a filled search log;
//! with `--targets`, only the open loop against running replicas while
//! edits are pushed to the git remote they follow (`replicas.rs`).

mod corpus;
mod export;
mod git_history;
mod http;
mod insights;
mod open_loop;
mod overload;
mod replicas;
mod versus;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use quire::search::{SearchRequest, Ticket, search, similar, suggest};
use quire::{Config, Kb};

use corpus::{Lang, Rng};

/// The server's allocator (see `src/main.rs`), so figures match it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
struct Args {
    /// How many cards to generate.
    #[arg(long, default_value_t = 10_000)]
    cards: usize,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Where the corpus and index go [default: target/bench/<cards>]
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Also write the figures as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Fewer iterations: a smoke run that only proves the harness works.
    #[arg(long)]
    quick: bool,
    /// Only loop the in-process query mix for this many seconds (for a
    /// profiler), reusing the corpus and index in --dir.
    #[arg(long, value_name = "SECONDS")]
    profile_search: Option<u64>,
    /// Also measure another search server on this address with the same
    /// queries (for example `tantivy serve` over the exported corpus).
    #[arg(long, value_name = "ADDR:PORT")]
    compare: Option<std::net::SocketAddr>,
    /// The peer's search path, to which the encoded query is appended.
    #[arg(long, default_value = "/api/?nhits=10&q=")]
    compare_path: String,
    /// Write the corpus (or `--folder`) as JSON lines of each card's title
    /// and text (`title`, `body`) for another engine, then exit.
    #[arg(long, value_name = "FILE")]
    export_json: Option<PathBuf>,
    /// With `--export-json`: this content folder instead of a generated
    /// corpus.
    #[arg(long, value_name = "DIR")]
    folder: Option<PathBuf>,
    /// Only load the Quire server on this address and the one on
    /// `--compare` (if given) with the same three query mixes drawn from
    /// `--cards-json`, then exit (run by `benches/vs-tantivy`).
    #[arg(long, value_name = "ADDR:PORT", requires = "cards_json")]
    versus: Option<std::net::SocketAddr>,
    /// With `--versus`: the exported cards both servers hold.
    #[arg(long, value_name = "FILE")]
    cards_json: Option<PathBuf>,
    /// With `--versus`: queries in each mix.
    #[arg(long, default_value_t = 200)]
    versus_queries: usize,
    /// With `--versus`: seconds each server is loaded with each mix, each
    /// way of connecting.
    #[arg(long, default_value_t = 10.0, value_name = "SECONDS")]
    versus_seconds: f64,
    /// With `--versus`: concurrent connections.
    #[arg(long, default_value_t = 16)]
    versus_clients: usize,
    /// Write each card as a static HTML page under this folder (for a
    /// static-site search indexer such as pagefind), then exit.
    #[arg(long, value_name = "DIR")]
    export_html: Option<PathBuf>,
    /// Also build a git repository of this many commits over the corpus'
    /// paths and time reading every card's last change from it.
    #[arg(long, value_name = "COMMITS")]
    git_commits: Option<usize>,
    /// Also run an open-loop load test at this many requests per second
    /// (search, card pages, sidebar endpoints) while cards are edited.
    #[arg(long, value_name = "REQUESTS_PER_SECOND")]
    load_rate: Option<f64>,
    /// How long the open-loop load test runs.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    load_seconds: u64,
    /// Cards edited per second during the open-loop load test.
    #[arg(long, default_value_t = 5.0)]
    load_edits: f64,
    /// Only load a Quire server already running on this address with the
    /// HTTP query mix (for a profiler attached to that server), then exit.
    #[arg(long, value_name = "ADDR:PORT")]
    http_only: Option<std::net::SocketAddr>,
    /// Overload a Quire server already running on this address (serving
    /// this corpus): `--load-rate` requests per second of search pages and
    /// API searches, each on its own connection, for `--load-seconds`;
    /// prints what was served, shed and timed out, and `/healthz`'s latency.
    #[arg(long, value_name = "ADDR:PORT")]
    overload: Option<std::net::SocketAddr>,
    /// Only time the insights page's queries over a search log of
    /// `--insights-searches` and `--insights-opens` rows in a real SQLite
    /// file under --dir, and feedback written while they run; then exit.
    #[arg(long)]
    insights: bool,
    #[arg(long, default_value_t = 50_000, value_name = "ROWS")]
    insights_searches: usize,
    #[arg(long, default_value_t = 10_000, value_name = "ROWS")]
    insights_opens: usize,
    /// Only run the open loop (`--load-rate`, `--load-seconds`) against
    /// Quire servers already running over this corpus, requests spread
    /// round robin over them (`http://127.0.0.1:8081,http://127.0.0.1:8082`),
    /// then exit. Edits are made with `--push-checkout`.
    #[arg(long, value_delimiter = ',', value_parser = parse_target, value_name = "URLS")]
    targets: Vec<std::net::SocketAddr>,
    /// With `--targets`: a clone of the remote the targets follow (its
    /// `origin`), holding the corpus; an edit is committed and pushed from
    /// it every `--push-every` seconds during the load.
    #[arg(long, value_name = "DIR")]
    push_checkout: Option<PathBuf>,
    /// With `--push-checkout`: after each push, a signed push webhook goes
    /// to every target with the secret in this file (without it, the
    /// targets' `pull_seconds` finds the push).
    #[arg(long, value_name = "FILE")]
    webhook_secret_file: Option<PathBuf>,
    #[arg(long, default_value_t = 2.0, value_name = "SECONDS")]
    push_every: f64,
    /// Internal: build or reopen the index in this process and report.
    #[arg(long, hide = true)]
    child_build: bool,
}

struct Figures(Vec<(String, f64, String)>);

impl Figures {
    fn add(&mut self, name: &str, value: f64, unit: &str) {
        println!("{name}: {} {unit}", round(value));
        self.0.push((name.to_string(), value, unit.to_string()));
    }

    fn latencies(&mut self, name: &str, samples: &mut [Duration]) {
        samples.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        self.add(&format!("{name}_p50"), ms(percentile(samples, 50.0)), "ms");
        self.add(&format!("{name}_p99"), ms(percentile(samples, 99.0)), "ms");
        self.add(
            &format!("{name}_max"),
            ms(*samples.last().unwrap_or(&Duration::ZERO)),
            "ms",
        );
    }
}

fn round(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Kilobytes from a `/proc/self/status` line such as `VmHWM`.
fn proc_status_kb(key: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0.0)
}

fn main() -> Result<()> {
    let args = Args::parse();
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("target/bench/{}", args.cards)));
    let content = dir.join("content");
    let data = dir.join("data");
    if args.child_build {
        return child_build(&content, &data);
    }
    if args.insights {
        let sizes = insights::Sizes {
            searches: args.insights_searches,
            opens: args.insights_opens,
            runs: if args.quick { 3 } else { 30 },
            feedback: if args.quick { 20 } else { 1_000 },
        };
        let mut figures = Figures(Vec::new());
        insights::measure(&dir.join("insights"), &sizes, args.seed, &mut figures)?;
        return write_json(&args, &figures);
    }
    if let (Some(path), Some(folder)) = (&args.export_json, &args.folder) {
        export::json_lines(folder, path)?;
        return Ok(());
    }
    if let (Some(quire), Some(cards_json)) = (args.versus, &args.cards_json) {
        let setup = versus::Setup {
            quire,
            peer: args.compare.map(|peer| (peer, args.compare_path.clone())),
            cards_json: cards_json.clone(),
            per_mix: args.versus_queries,
            clients: args.versus_clients,
            duration: Duration::from_secs_f64(args.versus_seconds),
            seed: args.seed,
        };
        let mut figures = Figures(Vec::new());
        tokio::runtime::Runtime::new()?.block_on(versus::run(&setup, &mut figures))?;
        return write_json(&args, &figures);
    }
    if let Some(addr) = args.http_only {
        let paths = quire_paths(&query_mix(&generated_ids(args.cards), args.seed));
        let mut figures = Figures(Vec::new());
        return tokio::runtime::Runtime::new()?.block_on(http_load(
            addr,
            paths,
            "http",
            &args,
            &mut figures,
        ));
    }
    if !args.targets.is_empty() {
        return tokio::runtime::Runtime::new()?.block_on(load_replicas(&args));
    }
    if let Some(addr) = args.overload {
        return tokio::runtime::Runtime::new()?.block_on(overload(addr, &args));
    }
    if let Some(seconds) = args.profile_search {
        return profile_search(&content, &data, args.cards, args.seed, seconds);
    }
    let mut figures = Figures(Vec::new());
    let corpus = prepare_corpus(&content, args.cards, args.seed)?;
    if let Some(path) = &args.export_json {
        export::json_lines(&content, path)?;
        return Ok(());
    }
    if let Some(dir) = &args.export_html {
        return export::html_site(&content, dir);
    }
    figures.add("corpus_cards", corpus.ids.len() as f64, "cards");
    figures.add("corpus_bytes", corpus.bytes as f64, "bytes");
    figures.add(
        "corpus_median_card_bytes",
        median_card_bytes(&content, &corpus),
        "bytes",
    );

    if let Some(commits) = args.git_commits {
        let started = Instant::now();
        let (ms, files, read) =
            git_history::measure(&dir.join("git"), &corpus, commits, args.seed)?;
        eprintln!(
            "built a repository of {read} commits in {:.1?}",
            started.elapsed()
        );
        figures.add("git_history_commits", read as f64, "commits");
        figures.add("git_history_files", files as f64, "files");
        figures.add("git_history_read", ms, "ms");
    }

    // Cold build and restart, each in a child process.
    let _ = std::fs::remove_dir_all(&data);
    let cold = run_child(&dir)?;
    figures.add("cold_build_wall", cold["ready_ms"], "ms");
    figures.add(
        "cold_build_rate",
        corpus.ids.len() as f64 / (cold["ready_ms"] / 1000.0),
        "cards/s",
    );
    figures.add("cold_build_peak_rss", cold["peak_rss_kb"] / 1024.0, "MiB");
    let warm = run_child(&dir)?;
    figures.add("restart_ready", warm["ready_ms"], "ms");
    figures.add("restart_peak_rss", warm["peak_rss_kb"] / 1024.0, "MiB");

    let config = Config {
        content_dir: content.clone(),
        data_dir: Some(data.clone()),
        ..Config::default()
    };
    let (kb, reindexer) = quire::open(config)?;
    let reindex = reindexer.spawn(true)?;
    let started = Instant::now();
    while !kb.is_ready() {
        if started.elapsed() > Duration::from_secs(600) {
            bail!("the index did not become ready");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let mix = query_mix(&corpus, args.seed);
    in_process_queries(&kb, &mix, if args.quick { 3 } else { 60 }, &mut figures)?;
    // What `quire check` finds, over the whole catalog: recomputed after
    // each change on a background thread, for the problems page and banners.
    let started = Instant::now();
    let found = kb.refresh_findings().len();
    figures.add(
        "findings_recompute",
        started.elapsed().as_secs_f64() * 1000.0,
        "ms",
    );
    figures.add("findings", found as f64, "findings");
    figures.add(
        "segments_at_rest",
        kb.index.num_segments() as f64,
        "segments",
    );

    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let app = quire::server::router(kb.clone());
        let config = kb.config.clone();
        tokio::spawn(async move {
            let _ = quire::server::serve(listener, app, &config, std::future::pending()).await;
        });
        figures.add(
            "rss_serving_at_rest",
            proc_status_kb("VmRSS:") / 1024.0,
            "MiB",
        );
        http_load(addr, quire_paths(&mix), "http", &args, &mut figures).await?;
        if let Some(peer) = args.compare {
            // Another server over the same corpus (e.g. `tantivy serve`),
            // measured with the same client and queries.
            http_load(
                peer,
                peer_paths(&mix, &args.compare_path),
                "peer_http",
                &args,
                &mut figures,
            )
            .await?;
        }
        // A smoke run checks the open loop too, briefly and gently.
        let load = match (args.load_rate, args.quick) {
            (Some(rate), _) => Some((rate, Duration::from_secs(args.load_seconds))),
            (None, true) => Some((100.0, Duration::from_secs(2))),
            (None, false) => None,
        };
        if let Some((rate, duration)) = load {
            let searches = quire_paths(&mix);
            let paths = open_loop::paths(&searches, &corpus, args.seed);
            let report = open_loop::run(
                addr,
                paths,
                rate,
                duration,
                &content,
                &corpus,
                args.load_edits,
            )
            .await?;
            let sent = report.latencies.len();
            figures.add("open_loop_target_rate", rate, "requests/s");
            figures.add(
                "open_loop_rate",
                sent as f64 / report.elapsed.as_secs_f64(),
                "requests/s",
            );
            figures.add("open_loop_requests", sent as f64, "requests");
            figures.add("open_loop_errors", report.errors as f64, "requests");
            for (status, n) in &report.error_statuses {
                figures.add(
                    &format!("open_loop_errors_status_{status}"),
                    *n as f64,
                    "requests",
                );
            }
            figures.add("open_loop_edits", report.edits as f64, "edits");
            let mut latencies = report.latencies;
            figures.latencies("open_loop", &mut latencies);
            figures.add(
                "rss_serving_under_open_loop",
                proc_status_kb("VmRSS:") / 1024.0,
                "MiB",
            );
            if report.errors > 0 {
                bail!(
                    "{} of {sent} requests failed under open-loop load",
                    report.errors
                );
            }
        }
        figures.add(
            "rss_serving_after_load",
            proc_status_kb("VmRSS:") / 1024.0,
            "MiB",
        );
        edit_to_searchable(addr, &content, &corpus, &kb, &args, &mut figures).await?;
        anyhow::Ok(())
    })?;
    figures.add(
        "segments_after_edits",
        kb.index.num_segments() as f64,
        "segments",
    );
    reindex.stop();
    write_json(&args, &figures)
}

/// With `--json FILE`, writes the figures there.
fn write_json(args: &Args, figures: &Figures) -> Result<()> {
    let Some(path) = &args.json else {
        return Ok(());
    };
    let map: BTreeMap<&str, serde_json::Value> = figures
        .0
        .iter()
        .map(|(n, v, u)| (n.as_str(), serde_json::json!({ "value": v, "unit": u })))
        .collect();
    std::fs::write(path, serde_json::to_string_pretty(&map)?)?;
    Ok(())
}

fn prepare_corpus(content: &Path, cards: usize, seed: u64) -> Result<corpus::Corpus> {
    // Always anew: the edit measurements change cards in place.
    let _ = std::fs::remove_dir_all(content);
    std::fs::create_dir_all(content)?;
    let started = Instant::now();
    let corpus = corpus::generate(content, cards, seed)?;
    eprintln!("generated {cards} cards in {:.1?}", started.elapsed());
    Ok(corpus)
}

fn median_card_bytes(content: &Path, corpus: &corpus::Corpus) -> f64 {
    let mut sizes: Vec<u64> = corpus
        .ids
        .iter()
        .step_by((corpus.ids.len() / 2000).max(1))
        .filter_map(|id| {
            std::fs::metadata(content.join(format!("{id}.md")))
                .ok()
                .map(|m| m.len())
        })
        .collect();
    sizes.sort();
    sizes.get(sizes.len() / 2).copied().unwrap_or(0) as f64
}

/// In a child process: open the index, bring it up to date, report.
fn child_build(content: &Path, data: &Path) -> Result<()> {
    let started = Instant::now();
    let config = Config {
        content_dir: content.to_path_buf(),
        data_dir: Some(data.to_path_buf()),
        ..Config::default()
    };
    let (kb, mut reindexer) = quire::open(config)?;
    let report = reindexer.start(&|_, _| {})?;
    let ready_ms = started.elapsed().as_secs_f64() * 1000.0;
    println!(
        "{}",
        serde_json::json!({
            "ready_ms": ready_ms,
            "peak_rss_kb": proc_status_kb("VmHWM:"),
            "indexed": report.indexed(),
            "cards": kb.catalog().len(),
        })
    );
    Ok(())
}

fn run_child(dir: &Path) -> Result<BTreeMap<String, f64>> {
    let exe = std::env::current_exe()?;
    let output = Command::new(exe)
        .arg("--child-build")
        .arg("--dir")
        .arg(dir)
        .output()?;
    if !output.status.success() {
        bail!(
            "child build failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().last().context("child printed nothing")?;
    let value: BTreeMap<String, f64> = serde_json::from_str(line)?;
    Ok(value)
}

/// The fixed mix of queries, built from words the corpus really contains.
struct Query {
    class: &'static str,
    q: String,
    tag: Option<String>,
}

fn query_mix(corpus: &corpus::Corpus, seed: u64) -> Vec<Query> {
    let mut rng = Rng::new(seed ^ 0xBEEF);
    let mut mix = Vec::new();
    let content_word = |rng: &mut Rng, lang: Lang| loop {
        let w = rng.zipf(lang.words());
        if w.chars().count() >= 5 || lang == Lang::Zh {
            return w.to_string();
        }
    };
    for round in 0..10 {
        let lang = [Lang::En, Lang::Ru, Lang::Ro, Lang::Zh][round % 4];
        let a = content_word(&mut rng, lang);
        let b = content_word(&mut rng, lang);
        mix.push(Query {
            class: "one_word",
            q: a.clone(),
            tag: None,
        });
        mix.push(Query {
            class: "two_words",
            q: format!("{a} {b}"),
            tag: None,
        });
        mix.push(Query {
            class: "phrase",
            q: format!("\"{a} {b}\""),
            tag: None,
        });
        let cut: String = b
            .chars()
            .take(b.chars().count().div_ceil(2).max(2))
            .collect();
        mix.push(Query {
            class: "prefix",
            q: format!("{a} {cut}"),
            tag: None,
        });
        if lang != Lang::Zh {
            let mut chars: Vec<char> = a.chars().collect();
            let i = chars.len() / 2;
            chars.swap(i - 1, i);
            mix.push(Query {
                class: "misspelt",
                q: chars.into_iter().collect(),
                tag: None,
            });
        }
        mix.push(Query {
            class: "filtered",
            q: a,
            tag: Some("billing".into()),
        });
        mix.push(Query {
            class: "zero_result",
            q: format!("{} {}", made_up(&mut rng, lang), made_up(&mut rng, lang)),
            tag: None,
        });
    }
    for round in 0..4 {
        let lang = [Lang::En, Lang::Ru, Lang::Ro, Lang::Zh][round];
        let mut ticket = String::from("Hello,\n\n");
        while ticket.len() < 5 * 1024 {
            ticket.push_str(&corpus::sentence(&mut rng, lang, 14));
            ticket.push(' ');
        }
        ticket.push_str("\n\nThanks,\nA customer\n> On Monday you wrote: ...");
        mix.push(Query {
            class: "ticket_5kb",
            q: ticket,
            tag: None,
        });
    }
    let _ = corpus.ids.len();
    mix
}

/// A word of `lang`'s script that the generated corpus never holds, nor
/// a word a typo away (rare letters, seven of them): a zero-result query.
fn made_up(rng: &mut Rng, lang: Lang) -> String {
    let letters: &[char] = match lang {
        Lang::Ru => &['щ', 'ъ', 'ж', 'ф', 'ы', 'э', 'ю'],
        Lang::Zh => &['龘', '齉', '靐', '麤', '灥', '爩', '龖'],
        _ => &['q', 'x', 'z', 'j', 'v', 'k', 'w'],
    };
    let len = if lang == Lang::Zh { 2 } else { 7 };
    (0..len)
        .map(|_| letters[rng.below(letters.len())])
        .collect()
}

/// The ids and languages of a generated corpus of `cards`, without
/// reading it (for the modes that reuse one already on disk).
fn generated_ids(cards: usize) -> corpus::Corpus {
    corpus::Corpus {
        ids: (0..cards).map(|i| corpus::id_of(i, cards)).collect(),
        langs: (0..cards).map(corpus::lang_of).collect(),
        bytes: 0,
    }
}

fn profile_search(
    content: &Path,
    data: &Path,
    cards: usize,
    seed: u64,
    seconds: u64,
) -> Result<()> {
    let config = Config {
        content_dir: content.to_path_buf(),
        data_dir: Some(data.to_path_buf()),
        ..Config::default()
    };
    let (kb, mut reindexer) = quire::open(config)?;
    reindexer.start(&|_, _| {})?;
    let mix = query_mix(&generated_ids(cards), seed);
    // One class of the mix only, to profile it alone.
    let only = std::env::var("QUIRE_BENCH_CLASS").ok();
    let started = Instant::now();
    let mut took = Vec::new();
    while started.elapsed() < Duration::from_secs(seconds) {
        for query in mix.iter().filter(|q| match &only {
            Some(class) => q.class == class,
            None => q.class != "ticket_5kb",
        }) {
            let one = Instant::now();
            std::hint::black_box(search(&kb.index, &request_for(query))?);
            took.push(one.elapsed());
        }
    }
    took.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{} searches, p50 {:.3} ms, p99 {:.3} ms",
        took.len(),
        ms(percentile(&took, 50.0)),
        ms(percentile(&took, 99.0))
    );
    Ok(())
}

fn request_for(query: &Query) -> SearchRequest {
    let mut request = SearchRequest::new(query.q.clone());
    request.tags = query.tag.iter().cloned().collect();
    request
}

fn in_process_queries(
    kb: &Arc<Kb>,
    mix: &[Query],
    rounds: usize,
    figures: &mut Figures,
) -> Result<()> {
    for query in mix {
        search(&kb.index, &request_for(query))?;
    }
    let mut by_class: BTreeMap<&str, Vec<Duration>> = BTreeMap::new();
    let mut all = Vec::new();
    for _ in 0..rounds {
        for query in mix {
            let started = Instant::now();
            let results = search(&kb.index, &request_for(query))?;
            let took = started.elapsed();
            std::hint::black_box(results);
            by_class.entry(query.class).or_default().push(took);
            if query.class != "ticket_5kb" {
                all.push(took);
            }
        }
    }
    figures.latencies("search_in_process", &mut all);
    for (class, samples) in &mut by_class {
        figures.latencies(&format!("search_in_process_{class}"), samples);
    }

    // What the sidebar calls: suggestions on every key, and a ticket match
    // (the 5 KB tickets as the body, their first words as the subject).
    let mut suggest_samples = Vec::new();
    let mut match_samples = Vec::new();
    for _ in 0..rounds {
        for query in mix {
            if query.class == "ticket_5kb" {
                let ticket = Ticket {
                    subject: query.q.chars().skip(8).take(60).collect(),
                    body: query.q.clone(),
                    tags: Vec::new(),
                };
                let mut request = SearchRequest::new("");
                request.limit = 5;
                let started = Instant::now();
                std::hint::black_box(similar(&kb.index, &ticket, &request)?);
                match_samples.push(started.elapsed());
            } else if query.class == "prefix" || query.class == "misspelt" {
                let started = Instant::now();
                std::hint::black_box(suggest(&kb.index, &request_for(query))?);
                suggest_samples.push(started.elapsed());
            }
        }
    }
    figures.latencies("suggest_in_process", &mut suggest_samples);
    figures.latencies("match_in_process_5kb", &mut match_samples);
    Ok(())
}

/// The mix as request paths of Quire's search API.
/// `--overload`: see `overload.rs`.
async fn overload(addr: std::net::SocketAddr, args: &Args) -> Result<()> {
    let searches = quire_paths(&query_mix(&generated_ids(args.cards), args.seed));
    // Site search pages (facets, snippets, the theme) and API searches.
    let paths: Vec<String> = searches
        .iter()
        .flat_map(|p| [p.clone(), p.replacen("/api/v1/search?", "/search?", 1)])
        .collect();
    let rate = args.load_rate.unwrap_or(2000.0);
    let report = overload::run(addr, paths, rate, Duration::from_secs(args.load_seconds)).await?;
    let mut figures = Figures(Vec::new());
    figures.add("overload_target_rate", rate, "requests/s");
    figures.add("overload_sent", report.sent as f64, "requests");
    figures.add("overload_served", report.served as f64, "requests");
    figures.add(
        "overload_served_rate",
        report.served as f64 / report.elapsed.as_secs_f64(),
        "requests/s",
    );
    figures.add(
        "overload_shed_503_retry_after",
        report.shed as f64,
        "requests",
    );
    figures.add(
        "overload_timed_out_503",
        report.timed_out as f64,
        "requests",
    );
    figures.add("overload_failed", report.failed as f64, "requests");
    figures.latencies("overload_answer", &mut report.answers.clone());
    figures.latencies("overload_served", &mut report.served_in.clone());
    figures.latencies("overload_healthz", &mut report.health.clone());
    figures.add(
        "overload_healthz_failures",
        report.health_failures as f64,
        "probes",
    );
    write_json(args, &figures)
}

/// `--targets` as socket addresses: `http://127.0.0.1:8081` or
/// `127.0.0.1:8081` (no TLS, no names: the harness measures loopback).
fn parse_target(text: &str) -> Result<std::net::SocketAddr, String> {
    let bare = text.strip_prefix("http://").unwrap_or(text);
    let bare = bare.strip_suffix('/').unwrap_or(bare);
    bare.parse()
        .map_err(|_| format!("{text:?} is not http://IP:PORT"))
}

/// `--targets`: see `replicas.rs`.
async fn load_replicas(args: &Args) -> Result<()> {
    let corpus = generated_ids(args.cards);
    let searches = quire_paths(&query_mix(&corpus, args.seed));
    let paths = open_loop::paths(&searches, &corpus, args.seed);
    let rate = args.load_rate.unwrap_or(500.0);
    if !(rate > 0.0 && args.push_every > 0.0) || args.cards == 0 {
        bail!("--load-rate, --push-every and --cards must be above 0");
    }
    let secret = match &args.webhook_secret_file {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?
                .trim()
                .to_string(),
        ),
        None => None,
    };
    let pushes = args.push_checkout.clone().map(|checkout| replicas::Pushes {
        checkout,
        secret,
        every: Duration::from_secs_f64(args.push_every),
    });
    for (i, target) in args.targets.iter().enumerate() {
        eprintln!("replica_{i}: {target}");
    }
    let (sent, pushed) = replicas::run(
        &args.targets,
        paths,
        rate,
        Duration::from_secs(args.load_seconds),
        corpus.ids,
        pushes,
    )
    .await?;

    let mut figures = Figures(Vec::new());
    let mut all = Vec::new();
    let mut errors = 0;
    for (i, target) in sent.targets.into_iter().enumerate() {
        let mut latencies = target.latencies;
        figures.add(
            &format!("replica_{i}_requests"),
            latencies.len() as f64,
            "requests",
        );
        figures.add(
            &format!("replica_{i}_errors"),
            target.errors as f64,
            "requests",
        );
        for (status, n) in &target.error_statuses {
            figures.add(
                &format!("replica_{i}_errors_status_{status}"),
                *n as f64,
                "requests",
            );
        }
        figures.latencies(&format!("replica_{i}"), &mut latencies);
        all.extend(latencies);
        errors += target.errors;
    }
    figures.add("replicas_target_rate", rate, "requests/s");
    figures.add(
        "replicas_rate",
        all.len() as f64 / sent.elapsed.as_secs_f64(),
        "requests/s",
    );
    figures.add("replicas_requests", all.len() as f64, "requests");
    figures.add("replicas_errors", errors as f64, "requests");
    figures.latencies("replicas", &mut all);
    let mut push_failures = 0;
    if let Some(mut pushed) = pushed {
        figures.add("replicas_pushes", pushed.pushes as f64, "pushes");
        figures.latencies("replicas_commit_and_push", &mut pushed.push_took);
        figures.add(
            "replicas_webhook_failures",
            pushed.webhook_failures as f64,
            "deliveries",
        );
        for (i, samples) in pushed.to_searchable.iter_mut().enumerate() {
            figures.latencies(&format!("replica_{i}_push_to_searchable"), samples);
        }
        figures.add(
            "replicas_pushes_not_found",
            pushed.not_found as f64,
            "pushes",
        );
        push_failures = pushed.webhook_failures + pushed.not_found;
    }
    write_json(args, &figures)?;
    if errors > 0 || push_failures > 0 {
        bail!(
            "{errors} of {} requests failed; {push_failures} webhook deliveries or pushes failed",
            all.len()
        );
    }
    Ok(())
}

fn quire_paths(mix: &[Query]) -> Vec<String> {
    mix.iter()
        .filter(|q| q.class != "ticket_5kb")
        .map(|q| {
            let tag = q
                .tag
                .as_ref()
                .map(|t| format!("&tag={t}"))
                .unwrap_or_default();
            format!(
                "/api/v1/search?q={}{tag}",
                quire::server::urls::encode_component(&q.q)
            )
        })
        .collect()
}

/// The mix as request paths of another server: `prefix` followed by the
/// encoded query (filters dropped: a raw engine has no tags).
fn peer_paths(mix: &[Query], prefix: &str) -> Vec<String> {
    mix.iter()
        .filter(|q| q.class != "ticket_5kb")
        .map(|q| format!("{prefix}{}", quire::server::urls::encode_component(&q.q)))
        .collect()
}

/// One keep-alive client, then 32, against `addr`; figures are named
/// `<name>_1_client_*` and `<name>_32_clients_*`.
async fn http_load(
    addr: std::net::SocketAddr,
    paths: Vec<String>,
    name: &str,
    args: &Args,
    figures: &mut Figures,
) -> Result<()> {
    let paths = Arc::new(paths);
    // One keep-alive client, one request at a time.
    let mut client = http::Client::connect(addr).await?;
    let requests = if args.quick { 50 } else { 2000 };
    let mut samples = Vec::with_capacity(requests);
    for i in 0..requests {
        let started = Instant::now();
        let (status, _) = client.get(&paths[i % paths.len()]).await?;
        samples.push(started.elapsed());
        if status != 200 {
            bail!("search answered {status}");
        }
    }
    figures.latencies(&format!("{name}_1_client"), &mut samples);

    // 32 clients, as fast as they can, for a fixed time.
    let duration = if args.quick {
        Duration::from_millis(500)
    } else {
        Duration::from_secs(10)
    };
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..32 {
        let paths = paths.clone();
        tasks.push(tokio::spawn(async move {
            let mut client = http::Client::connect(addr).await?;
            let mut samples = Vec::new();
            let mut i = c * 7;
            while started.elapsed() < duration {
                let t = Instant::now();
                let (status, _) = client.get(&paths[i % paths.len()]).await?;
                samples.push(t.elapsed());
                if status != 200 {
                    anyhow::bail!("search answered {status}");
                }
                i += 1;
            }
            anyhow::Ok(samples)
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    figures.add(
        &format!("{name}_32_clients_rate"),
        all.len() as f64 / elapsed,
        "requests/s",
    );
    figures.latencies(&format!("{name}_32_clients"), &mut all);
    Ok(())
}

async fn edit_to_searchable(
    addr: std::net::SocketAddr,
    content: &Path,
    corpus: &corpus::Corpus,
    kb: &Arc<Kb>,
    args: &Args,
    figures: &mut Figures,
) -> Result<()> {
    let edits = if args.quick { 5 } else { 60 };
    let mut client = http::Client::connect(addr).await?;
    let mut rng = Rng::new(args.seed ^ 0xED17);
    let mut samples = Vec::new();
    for n in 0..edits {
        samples.push(
            edit_once(
                &mut client,
                content,
                corpus,
                &mut rng,
                &unique_token(&mut Rng::new(n as u64 + 1), n),
            )
            .await?,
        );
    }
    figures.latencies("edit_to_searchable", &mut samples);

    // The same while another thread rewrites 1,000 other cards.
    let burst_ids: Vec<String> = (0..1000.min(corpus.ids.len()))
        .map(|i| corpus.ids[(i * 7919) % corpus.ids.len()].clone())
        .collect();
    let burst_root = content.to_path_buf();
    let burst = std::thread::spawn(move || {
        for (i, id) in burst_ids.iter().enumerate() {
            let path = burst_root.join(format!("{id}.md"));
            if let Ok(mut text) = std::fs::read_to_string(&path) {
                text.push_str(&format!("\nburst line {i}\n"));
                let _ = std::fs::write(&path, text);
            }
        }
    });
    let mut during = Vec::new();
    for n in 0..edits.max(3) {
        during.push(
            edit_once(
                &mut client,
                content,
                corpus,
                &mut rng,
                &unique_token(&mut Rng::new(n as u64 + 5000), n + 1000),
            )
            .await?,
        );
    }
    let _ = burst.join();
    figures.latencies("edit_to_searchable_during_burst", &mut during);

    // A `git checkout` touching 2,000 cards (fewer in a quick run): rewrite
    // them all at once, then wait until every one is searchable.
    let count = if args.quick { 100 } else { 2000 }.min(corpus.ids.len());
    let token = unique_token(&mut Rng::new(args.seed ^ 0xC4EC), 9999);
    let before = kb.generation();
    let started = Instant::now();
    for i in 0..count {
        let id = &corpus.ids[(i * 7907) % corpus.ids.len()];
        let path = content.join(format!("{id}.md"));
        let mut text = std::fs::read_to_string(&path)?;
        text.push_str(&format!("\n{token}\n"));
        std::fs::write(&path, text)?;
    }
    wait_until_found(
        &mut client,
        &token,
        count,
        started,
        Duration::from_secs(120),
    )
    .await?;
    figures.add("checkout_cards", count as f64, "cards");
    figures.add(
        "checkout_to_searchable",
        started.elapsed().as_secs_f64() * 1000.0,
        "ms",
    );
    figures.add(
        "checkout_commits",
        (kb.generation() - before) as f64,
        "commits",
    );
    Ok(())
}

/// A word no card contains and no other token is within two edits or a
/// prefix of: random letters.
fn unique_token(rng: &mut Rng, n: usize) -> String {
    let letters: String = (0..12)
        .map(|_| (b'a' + rng.below(26) as u8) as char)
        .collect();
    format!("{letters}{n}")
}

async fn edit_once(
    client: &mut http::Client,
    content: &Path,
    corpus: &corpus::Corpus,
    rng: &mut Rng,
    token: &str,
) -> Result<Duration> {
    let id = &corpus.ids[rng.below(corpus.ids.len())];
    let path = content.join(format!("{id}.md"));
    let mut text = std::fs::read_to_string(&path)?;
    text.push_str(&format!("\n{token}\n"));
    let started = Instant::now();
    std::fs::write(&path, text)?;
    wait_until_found(client, token, 1, started, Duration::from_secs(30)).await?;
    Ok(started.elapsed())
}

/// Polls the search API until `token` is found in at least `count` cards,
/// failing after `deadline` from `started`.
async fn wait_until_found(
    client: &mut http::Client,
    token: &str,
    count: usize,
    started: Instant,
    deadline: Duration,
) -> Result<()> {
    let query = format!("/api/v1/search?q={token}&limit=1");
    loop {
        let (_, body) = client.get(&query).await?;
        let total = serde_json::from_slice::<serde_json::Value>(&body)?["total"]
            .as_u64()
            .unwrap_or(0);
        if total as usize >= count {
            return Ok(());
        }
        if started.elapsed() > deadline {
            bail!("{token} found in {total} of {count} cards after {deadline:?}");
        }
        // Every 5 ms: polling every millisecond took half a core from the
        // (lower-priority) indexer being timed.
        tokio::time::sleep(POLL_EVERY).await;
    }
}

/// How often `wait_until_found` asks: the resolution of edit-to-searchable.
const POLL_EVERY: Duration = Duration::from_millis(5);
