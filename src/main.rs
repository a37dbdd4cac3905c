//! The `quire` command line: parses flags into a `Config` and runs one
//! command. All the work is in the library; errors are reported here.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use quire::app::{self, search::Door, search::Log};
use quire::search::SearchRequest;
use quire::server;
use quire::{Config, Kb};

/// mimalloc rather than glibc's malloc: glibc kept freed memory in
/// per-thread arenas (1.9 GB resident after re-reading 2,000 of 100k cards),
/// and allocation was a tenth to a fifth of a search, a build or a restart.
/// Built with `no_thp`: asking for transparent huge pages made every fresh
/// region a 2 MB page the kernel zeroed (15-19% of a burst's CPU, perf) and
/// held 25-30 MB more at rest at 10k.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Quire: a knowledge base of markdown cards, searched in milliseconds.
#[derive(Parser)]
#[command(version = quire::VERSION, about)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Args)]
struct Global {
    /// The configuration file [default: ./quire.toml when it exists]
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The folder of markdown cards [default: ./content]
    #[arg(long, global = true, value_name = "DIR")]
    content: Option<PathBuf>,
    /// Where the index and other state live [default: ./.quire]
    #[arg(long, global = true, value_name = "DIR")]
    data: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the site and the API, re-indexing as files change (the default).
    Serve {
        /// The address to listen on [default: 127.0.0.1:8080]
        #[arg(long, value_name = "ADDR:PORT")]
        bind: Option<SocketAddr>,
        /// Do not watch the content folder for changes.
        #[arg(long)]
        no_watch: bool,
    },
    /// Build or update the index, then exit.
    Index,
    /// Check every card like a compiler: `path:line:col: error|warning: message`.
    /// Exits 1 on an error (with --strict, on a warning too).
    Check {
        /// `text` (default) or `json`.
        #[arg(long, default_value = "text")]
        format: String,
        /// Fail on warnings too (with --stale: on any card overdue).
        #[arg(long)]
        strict: bool,
        /// Instead, list stale and never-verified cards by owner, the
        /// longest overdue first (for CI or a weekly reminder).
        #[arg(long)]
        stale: bool,
    },
    /// Write a new card with its front matter filled in (never overwrites).
    New {
        /// The card's id: its path under the content folder without `.md`,
        /// e.g. `support/refunds/annual-plans`.
        id: String,
        /// The title [default: from the id's last part]
        #[arg(long)]
        title: Option<String>,
        /// Who owns it [default: `git config user.email`]
        #[arg(long)]
        owner: Option<String>,
        /// A tag; repeat for more.
        #[arg(long)]
        tag: Vec<String>,
    },
    /// Search the cards from the terminal.
    Search {
        /// What to look for; no query is an error.
        query: Vec<String>,
        /// Print the results as JSON.
        #[arg(long)]
        json: bool,
        #[arg(long)]
        collection: Vec<String>,
        #[arg(long)]
        tag: Vec<String>,
        #[arg(long)]
        lang: Vec<String>,
        #[arg(long, default_value_t = 10)]
        limit: usize,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "quire=info,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    let mut config = Config::load(cli.global.config.as_deref())?;
    if let Some(content) = cli.global.content {
        config.content_dir = content;
    }
    if let Some(data) = cli.global.data {
        config.data_dir = Some(data);
    }
    let command = cli.command.unwrap_or(Command::Serve {
        bind: None,
        no_watch: false,
    });
    // Only the server follows `[git] remote`; the other commands read the
    // content folder as it is (and need no webhook secret).
    if !matches!(command, Command::Serve { .. }) {
        config.git.follow = None;
    }
    match command {
        Command::Serve { bind, no_watch } => {
            if let Some(bind) = bind {
                config.bind = bind;
            }
            if no_watch {
                config.watch = false;
            }
            serve(config)
        }
        Command::Index => index(config),
        Command::Check {
            format,
            strict,
            stale,
        } => check(config, &format, strict, stale),
        Command::New {
            id,
            title,
            owner,
            tag,
        } => {
            let owner = owner.or_else(|| quire::history::user_email(&config.content_dir));
            let title = title.unwrap_or_else(|| title_from_id(&id));
            let card = quire::new_card::NewCard {
                id,
                title,
                owner,
                tags: tag,
                today: chrono::Local::now().date_naive(),
            };
            let path = quire::new_card::create(&config.content_dir, &card)?;
            println!("created {}", path.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Search {
            query,
            json,
            collection,
            tag,
            lang,
            limit,
        } => {
            let mut request = SearchRequest::new(query.join(" "));
            request.collections = collection;
            request.tags = tag;
            request.langs = lang;
            request.limit = limit;
            search(config, request, json)
        }
    }
}

fn serve(config: Config) -> Result<ExitCode> {
    let bind = config.bind;
    let watch = config.watch;
    let content = config.content_dir.clone();
    if !config.api.tokens.is_empty()
        && !config.site.require_login
        && config.site.trusted_header.is_none()
    {
        tracing::warn!(
            "[api] tokens guard the API, but the site's pages (insights included) are open: \
             set [site] require_login = true, or serve behind an SSO proxy"
        );
    }
    let (kb, reindexer) = quire::open(config).context("cannot start")?;
    log_opened(&kb);
    let reindex = reindexer.spawn(watch)?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .with_context(|| format!("cannot listen on {bind}"))?;
        let local = listener.local_addr()?;
        tracing::info!("serving {} on http://{local}", content.display());
        let shutdown = stop_signal();
        let config = kb.config.clone();
        server::serve(listener, server::router(kb), &config, shutdown).await?;
        anyhow::Ok(())
    })?;
    reindex.stop();
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C, or SIGTERM (what `docker stop` and systemd send): either lets
/// the requests in flight finish before the process exits.
async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(e) => {
            tracing::warn!("SIGTERM is not handled ({e}); stop with Ctrl-C");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
    tracing::info!("shutting down");
}

fn log_opened(kb: &Kb) {
    match &kb.opened {
        quire::index::Opened::Rebuilt(why) => tracing::warn!("the index was rebuilt: {why}"),
        quire::index::Opened::InMemory(why) => {
            tracing::warn!("the index folder is in use ({why}); indexing in memory")
        }
        _ => {}
    }
}

fn check(config: Config, format: &str, strict: bool, stale: bool) -> Result<ExitCode> {
    let content = quire::content::ContentDir::open(&config.content_dir)
        .with_context(|| format!("cannot open {}", config.content_dir.display()))?;
    let limits = quire::content::Limits {
        max_card_bytes: config.max_card_bytes,
    };
    let today = chrono::Local::now().date_naive();
    if stale {
        let groups = quire::check::stale(&content, limits, today);
        match format {
            "json" => println!("{}", serde_json::to_string_pretty(&groups)?),
            "text" => print!("{}", quire::check::overdue_text(&groups)),
            other => anyhow::bail!("--format must be text or json, not {other:?}"),
        }
        let failed = strict && groups.values().any(|g| !g.is_empty());
        return Ok(if failed {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        });
    }
    // Git history, when the folder has one, tells a translation that fell
    // behind its source; a folder outside git is checked without it.
    let history = quire::history::Repo::discover(content.root())
        .and_then(|repo| quire::history::History::read(repo, Default::default()).ok());
    let findings = quire::check::check(&content, limits, today, history.as_ref());
    match format {
        "json" => println!("{}", serde_json::to_string_pretty(&findings)?),
        "text" => {
            for problem in &findings.problems {
                println!("{problem}");
            }
            println!("{}", findings.summary());
        }
        other => anyhow::bail!("--format must be text or json, not {other:?}"),
    }
    let failed = findings.errors > 0 || (strict && findings.warnings > 0);
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn index(config: Config) -> Result<ExitCode> {
    let (kb, mut reindexer) = quire::open(config).context("cannot open the index")?;
    log_opened(&kb);
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} reading cards {bar:40} {pos}/{len} ({per_sec}, {eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let started = std::time::Instant::now();
    let report = reindexer.start(&|done, total| {
        if let Some(bar) = &bar {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        }
    })?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let catalog = kb.catalog();
    for problem in catalog.problems() {
        eprintln!("{problem}");
    }
    println!(
        "indexed {} cards in {:.2?}: {} added, {} updated, {} removed, {} unchanged, {} failed",
        catalog.len(),
        started.elapsed(),
        report.added,
        report.updated,
        report.removed,
        report.unchanged,
        report.failed
    );
    Ok(ExitCode::SUCCESS)
}

fn search(config: Config, request: SearchRequest, json: bool) -> Result<ExitCode> {
    let (kb, mut reindexer) = quire::open(config).context("cannot open the index")?;
    reindexer.start(&|_, _| {})?;
    // An author's own look from the terminal: not a reader's search, so
    // not in the insights log.
    let results = app::search::search(&kb, &request, Door::Cli, Log::No)?;
    if json {
        let view = quire::server::views::SearchView::new(&request.q, results, &kb.history());
        println!("{}", serde_json::to_string_pretty(&view)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("{} results in {:.1?}", results.total, results.took);
    for hit in &results.hits {
        println!(
            "\n{}  [{}] {}",
            hit.card.title,
            hit.trust.as_str(),
            hit.card.id
        );
        let snippet = quire::search::plain_snippet(&hit.snippet);
        if !snippet.is_empty() {
            println!("    {snippet}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `support/refunds/annual-plans` → `Annual plans`.
fn title_from_id(id: &str) -> String {
    let last = id.trim_end_matches(".md").rsplit('/').next().unwrap_or(id);
    let words = last.replace(['-', '_'], " ");
    let mut chars = words.trim().chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => id.to_string(),
    }
}
