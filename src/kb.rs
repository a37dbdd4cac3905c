//! `Kb`: the knowledge base as the server and the command line see it: the
//! index (read side), the catalog, the content folder, readiness and a
//! change feed. Shared behind an `Arc`; only the reindex loop mutates it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use tokio::sync::broadcast;

use crate::config::Config;
use crate::content::{Catalog, ContentDir, Problem};
use crate::history::{History, Repo};
use crate::index::{self, IndexError, Opened, SearchIndex};
use crate::metrics::Metrics;
use crate::store::{FlagCounts, Store};

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot open the content folder {path}")]
    Content {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Remote(#[from] crate::remote::RemoteError),
    #[error("{0} panicked")]
    Panicked(&'static str),
}

/// The commit the index holds, as last committed after the content folder
/// moved (`[git] remote`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Served {
    /// `None` when a followed folder is served as it is (not a clone).
    pub commit: Option<String>,
    pub at: chrono::DateTime<chrono::Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexFailure {
    /// The whole error, for the log and the problems page.
    pub message: String,
    /// Its root cause alone ("No space left on device"), without paths:
    /// what `/healthz` tells anyone who asks.
    pub cause: String,
    pub since: chrono::DateTime<chrono::Utc>,
}

/// A rebuild of a lost index (folder deleted, file damaged): kept after it
/// ends, so whoever saw searches fail meanwhile can learn why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexRebuilt {
    /// Without paths ("the index is damaged").
    pub cause: String,
    pub at: chrono::DateTime<chrono::Utc>,
}

pub struct Kb {
    pub config: Config,
    pub index: SearchIndex,
    pub content: ContentDir,
    catalog: RwLock<Catalog>,
    /// Set while the reindexer waits for the catalog's write lock, so
    /// background readers step aside (`catalog_in_background`).
    writer_waiting: AtomicBool,
    ready: AtomicBool,
    /// Why the index cannot be written now, if it cannot.
    index_failure: RwLock<Option<IndexFailure>>,
    /// The last time the index was lost and rebuilt, and why.
    index_rebuilt: RwLock<Option<IndexRebuilt>>,
    generation: AtomicU64,
    changes: broadcast::Sender<u64>,
    /// A generation whose every view (index, catalog, findings) is ready.
    settled: broadcast::Sender<u64>,
    pub opened: Opened,
    pub metrics: Metrics,
    /// Feedback and the search log (SQLite, or PostgreSQL with `[store] url`).
    pub store: Store,
    /// Open "outdated" flags by card, for result lists.
    pub flag_counts: FlagCounts,
    /// Search answers already worked out, until the cards change.
    pub search_cache: crate::search::cache::Cache,
    /// Last changes from git; empty until read (or outside git).
    history: RwLock<Arc<History>>,
    /// The remote the content folder follows (`[git] remote`), if any.
    remote: Option<crate::remote::Follower>,
    /// What the index holds of the followed remote: set by the reindexer
    /// once a move of the folder is committed. Until then a followed folder
    /// is not ready (there may be nothing cloned yet).
    served: RwLock<Option<Served>>,
    /// `quire check`'s findings as of a generation: recomputed after each
    /// change by `follow_findings`, off the request path.
    findings: Mutex<Option<(u64, Arc<Vec<Problem>>)>>,
    following_findings: AtomicBool,
}

impl Kb {
    /// Opens the content folder and the index, and gives back the index's
    /// one writer for the reindexer (`crate::open` pairs them). The catalog
    /// is empty and the knowledge base not ready until the reindexer starts.
    pub(crate) fn open(config: Config) -> Result<(Arc<Kb>, index::IndexWriter), OpenError> {
        // A folder that follows a remote is made on first start, then
        // cloned into (a fresh volume has none).
        if config.git.follow.is_some() && !config.content_dir.exists() {
            std::fs::create_dir_all(&config.content_dir).map_err(|source| OpenError::Content {
                path: config.content_dir.clone(),
                source,
            })?;
        }
        let content =
            ContentDir::open(&config.content_dir).map_err(|source| OpenError::Content {
                path: config.content_dir.clone(),
                source,
            })?;
        // Load the Chinese dictionary, then the lexicon (analysed with it),
        // while the index opens and the folder is walked.
        let translate = config.translate_tickets;
        std::thread::spawn(move || {
            crate::index::analyzer::warm_up();
            if translate {
                crate::search::lexicon::Lexicon::shipped();
            }
        });
        // Opened on a thread of background priority, so that tantivy's
        // indexing and merge threads, started here, inherit it.
        let data_dir = config.data_dir.as_deref();
        let (index, writer, opened) = std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    crate::priority::background();
                    index::open(data_dir)
                })
                .join()
        })
        .map_err(|_| OpenError::Panicked("opening the index"))??;
        let store = match (&config.store.url, &config.data_dir) {
            // libpq's variable, so a password kept out of the URL and the
            // file is found where operators already put it.
            (Some(url), _) => Store::connect(
                url.expose(),
                std::env::var("PGPASSWORD").ok(),
                config.insights,
                config.retention_days,
            )?,
            (None, Some(dir)) => Store::open(
                &dir.join("quire.db"),
                config.insights,
                config.retention_days,
            )?,
            (None, None) => Store::in_memory(config.insights)?,
        };
        let remote = match &config.git.follow {
            Some(follow) => Some(crate::remote::Follower::new(
                follow.clone(),
                &config.content_dir,
            )?),
            None => None,
        };
        let (changes, _) = broadcast::channel(64);
        let (settled, _) = broadcast::channel(64);
        let search_cache = crate::search::cache::Cache::new(config.search_cache);
        index.set_translating(config.translate_tickets);
        let kb = Arc::new(Kb {
            search_cache,
            config,
            index,
            content,
            catalog: RwLock::new(Catalog::default()),
            writer_waiting: AtomicBool::new(false),
            ready: AtomicBool::new(false),
            index_failure: RwLock::new(None),
            index_rebuilt: RwLock::new(None),
            generation: AtomicU64::new(0),
            changes,
            settled,
            opened,
            metrics: Metrics::default(),
            store,
            flag_counts: FlagCounts::default(),
            history: RwLock::new(Arc::new(History::default())),
            remote,
            served: RwLock::new(None),
            findings: Mutex::new(None),
            following_findings: AtomicBool::new(false),
        });
        if let Opened::Rebuilt(_) = &kb.opened {
            // The reason names files; it goes to the log (`quire serve`).
            kb.metrics.index_rebuilt();
            kb.set_index_rebuilt("the index could not be opened");
        }
        Ok((kb, writer))
    }

    /// The catalog as of the last commit. Hold the guard briefly.
    pub fn catalog(&self) -> RwLockReadGuard<'_, Catalog> {
        // A panic while holding the lock leaves a catalog that is still
        // whole (every update is a single insert or remove), so read on.
        self.catalog.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn catalog_mut(&self) -> RwLockWriteGuard<'_, Catalog> {
        self.writer_waiting.store(true, Ordering::Release);
        let catalog = self.catalog.write().unwrap_or_else(|e| e.into_inner());
        self.writer_waiting.store(false, Ordering::Release);
        catalog
    }

    /// The catalog, for background work that takes it again and again
    /// (findings, a thousand cards at a time): it waits while the reindexer
    /// wants to write. The lock alone is not enough: when a reader lets go,
    /// std's `RwLock` wakes the waiting writer but lets a reader that comes
    /// straight back take the lock first, and at 100k cards the findings
    /// held every other edit back for their whole run (210-290 ms).
    pub(crate) fn catalog_in_background(&self) -> RwLockReadGuard<'_, Catalog> {
        while self.writer_waiting.load(Ordering::Acquire) {
            std::thread::yield_now();
        }
        self.catalog()
    }

    /// What `quire check` finds in the cards being served, except stale and
    /// unverified cards (the verification page lists those): each file's
    /// problems, broken links, duplicate ids and aliases. Computed once per
    /// batch of changes, when first asked for.
    pub fn findings(&self) -> Arc<Vec<Problem>> {
        let cached = self
            .findings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        match cached {
            // While `follow_findings` recomputes (tens of ms over 10k
            // cards), requests get the previous set rather than wait.
            Some((at, findings))
                if self.following_findings.load(Ordering::Acquire) || at == self.generation() =>
            {
                findings
            }
            _ => self.refresh_findings(),
        }
    }

    /// Computes the findings for the current generation and keeps them
    /// (what the background thread does after each change).
    pub fn refresh_findings(&self) -> Arc<Vec<Problem>> {
        let generation = self.generation();
        let front = |path: &str| {
            self.content
                .read_at_most(path, 64 * 1024)
                .map(|b| String::from_utf8_lossy(&b[..b.len().min(64 * 1024)]).into_owned())
                .unwrap_or_default()
        };
        let findings = Arc::new(crate::check::findings_by(
            || self.catalog_in_background(),
            None,
            &front,
        ));
        let mut cached = self.findings.lock().unwrap_or_else(|e| e.into_inner());
        if cached.as_ref().is_none_or(|(at, _)| *at <= generation) {
            *cached = Some((generation, findings.clone()));
        }
        findings
    }

    /// Recomputes the findings on a background thread after each change
    /// (several changes in a row are one recomputation), until the
    /// knowledge base is dropped.
    pub(crate) fn follow_findings(self: &Arc<Self>) {
        let mut changes = self.subscribe();
        let kb = Arc::downgrade(self);
        let spawned = std::thread::Builder::new()
            .name("quire-findings".into())
            .spawn(move || {
                crate::priority::background();
                use tokio::sync::broadcast::error::{RecvError, TryRecvError};
                loop {
                    match changes.blocking_recv() {
                        Ok(_) | Err(RecvError::Lagged(_)) => {}
                        Err(RecvError::Closed) => return,
                    }
                    while !matches!(
                        changes.try_recv(),
                        Err(TryRecvError::Empty | TryRecvError::Closed)
                    ) {}
                    let Some(kb) = kb.upgrade() else { return };
                    let generation = kb.generation();
                    kb.refresh_findings();
                    let _ = kb.settled.send(generation);
                }
            });
        match spawned {
            Ok(_) => self.following_findings.store(true, Ordering::Release),
            Err(e) => tracing::warn!("cannot start the findings thread ({e}); computing on demand"),
        }
    }

    /// The findings about one file (`support/refunds.md`).
    pub fn findings_of(&self, rel_path: &str) -> Vec<Problem> {
        self.findings()
            .iter()
            .filter(|p| p.path == rel_path)
            .cloned()
            .collect()
    }

    /// Git's last change of each card, as last read.
    pub fn history(&self) -> Arc<History> {
        self.history
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Reads git history on a background thread, then (with `poll`) reads
    /// new commits as they arrive, until the knowledge base is dropped.
    pub fn follow_history(self: &Arc<Self>, poll: bool) {
        let git = &self.config.git;
        if !git.enabled {
            return;
        }
        let Some(repo) = Repo::discover(self.content.root()) else {
            return;
        };
        let kb = Arc::downgrade(self);
        let links = crate::history::Links {
            history: git.history_url.clone(),
            edit: git.edit_url.clone(),
        };
        let every = std::time::Duration::from_secs(git.poll_seconds);
        let spawned = std::thread::Builder::new()
            .name("quire-history".into())
            .spawn(move || {
                crate::priority::background();
                let started = std::time::Instant::now();
                let mut current = match History::read(repo, links) {
                    Ok(history) => Arc::new(history),
                    Err(e) => {
                        tracing::warn!("git history not shown: {e}");
                        return;
                    }
                };
                let (files, commits) = current.size();
                tracing::info!(
                    "read git history: {files} files, {commits} commits in {:.2?}",
                    started.elapsed()
                );
                match kb.upgrade() {
                    Some(kb) => {
                        *kb.history.write().unwrap_or_else(|e| e.into_inner()) = current.clone()
                    }
                    None => return,
                }
                if !poll {
                    return;
                }
                loop {
                    std::thread::sleep(every);
                    let Some(kb) = kb.upgrade() else { return };
                    match current.refreshed() {
                        Ok(Some(next)) => {
                            current = Arc::new(next);
                            *kb.history.write().unwrap_or_else(|e| e.into_inner()) =
                                current.clone();
                        }
                        Ok(None) => {}
                        Err(e) => tracing::warn!("cannot read new commits: {e}"),
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::warn!("git history not shown: {e}");
        }
    }

    /// The index is built, and a followed remote's commit is in it.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire) && (self.remote.is_none() || self.served().is_some())
    }

    /// The remote the content folder follows, if `[git] remote` is set.
    pub fn remote(&self) -> Option<&crate::remote::Follower> {
        self.remote.as_ref()
    }

    /// The followed remote's commit the index holds (see `Served`).
    pub fn served(&self) -> Option<Served> {
        self.served
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) fn set_served(&self, commit: Option<String>) {
        *self.served.write().unwrap_or_else(|e| e.into_inner()) = Some(Served {
            commit,
            at: chrono::Utc::now(),
        });
    }

    /// The commit of the content the index holds: the followed remote's
    /// (as committed to the index), else the checkout's as git history
    /// last read it (a folder edited in place may differ from it).
    pub fn content_commit(&self) -> Option<String> {
        match &self.remote {
            Some(_) => self.served().and_then(|s| s.commit),
            None => self.history().head().map(str::to_string),
        }
    }

    pub(crate) fn set_ready(&self) {
        self.ready.store(true, Ordering::Release);
    }

    /// Why changes are not reaching the index (a full disk, a read-only
    /// folder), and since when; `None` while writes succeed. The index
    /// keeps serving what it last committed meanwhile.
    pub fn index_failure(&self) -> Option<IndexFailure> {
        self.index_failure
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) fn set_index_failure(&self, new: Option<(String, String)>) {
        let mut failure = self
            .index_failure
            .write()
            .unwrap_or_else(|e| e.into_inner());
        let since = failure.as_ref().map(|f| f.since);
        *failure = new.map(|(message, cause)| IndexFailure {
            since: since.unwrap_or_else(chrono::Utc::now),
            message,
            cause,
        });
    }

    /// The last rebuild of a lost index, if there was one since start.
    pub fn index_rebuilt(&self) -> Option<IndexRebuilt> {
        self.index_rebuilt
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) fn set_index_rebuilt(&self, cause: &str) {
        *self
            .index_rebuilt
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Some(IndexRebuilt {
            cause: cause.to_string(),
            at: chrono::Utc::now(),
        });
    }

    /// What a search reads, as of now: cached answers of another epoch are
    /// not given (`search::cache`).
    pub fn search_epoch(&self) -> crate::search::cache::Epoch {
        crate::search::cache::Epoch {
            index: self.index.searcher().generation().generation_id(),
            changes: self.generation(),
            synonyms: self.index.synonyms(),
        }
    }

    /// Counts the batches of changes applied so far.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Called after each applied batch: wakes live-reload listeners.
    pub(crate) fn changed(&self) {
        let generation = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
        let _ = self.changes.send(generation);
        if !self.following_findings.load(Ordering::Acquire) {
            let _ = self.settled.send(generation);
        }
    }

    /// A feed of generations, one per applied batch of changes.
    pub fn subscribe(&self) -> broadcast::Receiver<u64> {
        self.changes.subscribe()
    }

    /// A feed of generations once everything a page shows reflects them
    /// (findings included): what open pages reload on, so an author who
    /// fixes a card never sees the problem it no longer has.
    pub fn subscribe_settled(&self) -> broadcast::Receiver<u64> {
        self.settled.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    fn empty_kb() -> (Arc<Kb>, tempfile::TempDir, tempfile::TempDir) {
        let (content, data) = (
            tempfile::tempdir().expect("content dir"),
            tempfile::tempdir().expect("data dir"),
        );
        let config = Config {
            content_dir: content.path().to_path_buf(),
            data_dir: Some(data.path().to_path_buf()),
            ..Config::default()
        };
        let (kb, _reindexer) = Kb::open(config).expect("open kb");
        (kb, content, data)
    }

    /// The behaviour the findings thread relies on. (The starvation it
    /// guards against showed on a loaded 100k server, every other edit
    /// waiting 210-290 ms; an idle test machine does not reproduce it.)
    #[test]
    fn background_readers_taking_the_catalog_again_and_again_let_a_write_in() {
        let (kb, _content, _data) = empty_kb();
        const ROUNDS: usize = 2_000;
        let round = Arc::new(AtomicUsize::new(0));
        let reader = {
            let (kb, round) = (kb.clone(), round.clone());
            std::thread::spawn(move || {
                for n in 0..ROUNDS {
                    let catalog = kb.catalog_in_background();
                    round.store(n, Ordering::Release);
                    // Some work under the lock, as findings do per chunk.
                    let started = std::time::Instant::now();
                    while started.elapsed() < Duration::from_micros(50) {
                        std::hint::black_box(catalog.len());
                    }
                }
            })
        };
        let writer = std::thread::spawn(move || {
            while round.load(Ordering::Acquire) == 0 {
                std::thread::yield_now();
            }
            drop(kb.catalog_mut());
            round.load(Ordering::Acquire)
        });
        let wrote_at = writer.join().expect("writer thread");
        reader.join().expect("reader thread");
        assert!(
            wrote_at < ROUNDS / 2,
            "the write waited until round {wrote_at} of {ROUNDS}"
        );
    }
}
