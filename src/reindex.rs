//! The reindex loop: the only code that writes the index and the catalog.
//! It compares files with what is indexed (by size and time, then hash),
//! re-reads what changed, and commits each batch once, index first, then the
//! catalog, so nothing is "indexed" before tantivy's commit returns.

use std::collections::{BTreeMap, BTreeSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use crate::content::card::{self, Limits};
use crate::content::scan::{ContentFile, FileKind, classify};
use crate::content::synonyms::{self, Group as SynonymGroup};
use crate::content::{Card, CardId, Catalog, FileStamp, ParsedCard, Problem, Severity};
use crate::index::{IndexError, IndexWriter, Merge};
use crate::kb::Kb;
use crate::watch::{self, Batch, WatchHandle};

mod queue;
use queue::{CommitPace, Queue};

/// How often the folder is compared with the index when no watcher runs.
const FALLBACK_RECONCILE: Duration = Duration::from_secs(5);

/// How long after its last commit the index is quiet enough to be merged
/// into one segment (`IndexWriter::merge_if_split`).
const MERGE_WHEN_QUIET: Duration = Duration::from_secs(1);

/// What a reconcile or a batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub added: usize,
    pub updated: usize,
    pub removed: usize,
    pub unchanged: usize,
    /// Unchanged cards whose file stamp changed (touched, checked out again).
    pub restamped: usize,
    /// Files that could not be read as cards (their problems are recorded).
    pub failed: usize,
    pub commits: usize,
}

impl Report {
    pub fn indexed(&self) -> usize {
        self.added + self.updated
    }
}

pub struct Reindexer {
    kb: Arc<Kb>,
    writer: IndexWriter,
    limits: Limits,
    /// Threads that read and parse cards, kept for the reindexer's life:
    /// started afresh for every slice of a burst, each came with a fresh
    /// allocator heap, and the kernel zeroing its pages was a sixth of a
    /// burst's CPU (perf). `None` when none could be started.
    readers: Option<rayon::ThreadPool>,
    /// The index was recreated empty: the next reconcile reads every card
    /// again, whatever its stamp says, until one succeeds.
    reread: bool,
}

/// What decides that a file is unchanged.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Unchanged {
    /// Same stamp: size, mtime, ctime and inode, taken well after the file
    /// last changed (a full reconcile: reading every file of a large folder
    /// at start-up would be slow).
    SameStamp,
    /// Same content hash. For paths the watcher reported: an edit within
    /// the file system's timestamp granularity keeps size and mtime equal
    /// (git calls this "racy clean"), so the stamp cannot be trusted there.
    SameHash,
}

/// When to try again after the index could not be written: 1 s, then
/// doubling up to a minute.
#[derive(Default)]
struct Retry {
    next: Option<Duration>,
}

/// What the reindex loop carries from one step to the next.
#[derive(Default)]
struct Loop {
    /// How often the folder is compared with the index (`None`: never).
    every: Option<Duration>,
    retry: Retry,
    queue: Queue,
    pace: CommitPace,
    /// Read but not committed: a bulk step a save joins.
    staged: Staged,
    /// The first event of what `staged` holds, for the lag metric.
    waiting_since: Option<std::time::Instant>,
    /// A followed remote's commit the folder moved to, until a comparison
    /// of the whole folder has put it in the index.
    served: Option<Option<String>>,
    /// When the index, quiet since its last commit, may be merged.
    merge_due: Option<std::time::Instant>,
    /// Since when the loop has waited with nothing to do: the reconcile
    /// and retry are due that long after it, however often a merge
    /// interrupted the wait.
    idle_since: Option<std::time::Instant>,
}

/// What the loop does next.
enum Next {
    Command(Command),
    /// Nothing came since the last commit: merge a split index.
    Merge,
}

impl Loop {
    /// The next command: from the queue, else from the channel, waiting
    /// until the next reconcile or retry is due (a timeout is a
    /// reconcile), or a merge. `None` once every sender is gone.
    fn next(&mut self, rx: &mpsc::Receiver<Command>) -> Option<Next> {
        loop {
            // After a failed write, a full reconcile soon retries it.
            let wait = match (self.every, self.retry.next) {
                (Some(every), Some(next)) => Some(every.min(next)),
                (every, next) => every.or(next),
            };
            if self.queue.is_empty() {
                self.pace.idle();
                let waited = self
                    .idle_since
                    .get_or_insert_with(std::time::Instant::now)
                    .elapsed();
                let wait = wait.map(|w| w.saturating_sub(waited));
                let until_merge = self
                    .merge_due
                    .map(|due| due.saturating_duration_since(std::time::Instant::now()));
                let merge_first = until_merge.is_some_and(|m| wait.is_none_or(|w| m <= w));
                let timeout = if merge_first { until_merge } else { wait };
                let command = match timeout {
                    Some(timeout) => match rx.recv_timeout(timeout) {
                        Ok(command) => command,
                        Err(mpsc::RecvTimeoutError::Timeout) if merge_first => {
                            self.merge_due = None;
                            return Some(Next::Merge);
                        }
                        Err(mpsc::RecvTimeoutError::Timeout) => Command::Reconcile,
                        Err(mpsc::RecvTimeoutError::Disconnected) => return None,
                    },
                    None => rx.recv().ok()?,
                };
                self.idle_since = None;
                self.queue.push(command);
            }
            // Everything sent meanwhile, so a save can go ahead of bulk work.
            while let Ok(command) = rx.try_recv() {
                self.queue.push(command);
            }
            let Some(command) = self.queue.pop() else {
                continue;
            };
            // A batch after a failure may name only some of the changes the
            // failed one held: compare everything instead.
            return Some(Next::Command(match command {
                Command::Apply(_) if self.retry.next.is_some() => Command::Reconcile,
                command => command,
            }));
        }
    }
}

impl Retry {
    fn backoff(&mut self) -> Duration {
        let next = self.next.map_or(Duration::from_secs(1), |d| {
            (d * 2).min(Duration::from_secs(60))
        });
        self.next = Some(next);
        next
    }
}

/// Whether an upserted card is new to the catalog (counted as added) or
/// replaces one it holds (counted as updated).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Novelty {
    New,
    Changed,
}

/// A card read from its file: all of it until the index writer has it,
/// then only what the catalog keeps. Holding every card's markdown and text
/// until the commit made a cold build's memory grow with the folder.
enum Held {
    Parsed(Box<ParsedCard>),
    Indexed(Box<Card>),
}

impl Held {
    fn card(&self) -> &Card {
        match self {
            Held::Parsed(parsed) => &parsed.card,
            Held::Indexed(card) => card,
        }
    }

    fn into_card(self) -> Card {
        match self {
            Held::Parsed(parsed) => parsed.card,
            Held::Indexed(card) => *card,
        }
    }

    /// Hands the card to the index writer, unless it has it already, and
    /// keeps only the catalog's part.
    fn index(self, writer: &mut IndexWriter) -> Result<Held, IndexError> {
        match self {
            Held::Parsed(parsed) => {
                writer.upsert(&parsed)?;
                Ok(Held::Indexed(Box::new(parsed.card)))
            }
            indexed => Ok(indexed),
        }
    }
}

/// A change decided on, not yet applied.
enum Op {
    /// A card written: new to the catalog, or a change to one it holds.
    Upsert(Held, Novelty),
    /// The same card under a new file stamp.
    Restamp(Held),
    Delete(CardId),
    Failed(String, Problem),
    Folder(String, Option<card::FolderPage>, Vec<Problem>),
    AttachmentAdded(String),
    AttachmentRemoved(String),
    /// `_synonyms.yaml` read (its groups and problems), or gone (`None`).
    Synonyms(Option<Vec<SynonymGroup>>, Vec<Problem>),
    Problems(String, Vec<Problem>),
}

impl Reindexer {
    pub(crate) fn new(kb: Arc<Kb>, writer: IndexWriter, limits: Limits) -> Self {
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8);
        let readers = (threads > 1)
            .then(|| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .thread_name(|i| format!("quire-read-{i}"))
                    .start_handler(|_| crate::priority::background())
                    .build()
            })
            .and_then(|built| {
                built
                    .map_err(|e| tracing::warn!("cards are read on one thread: {e}"))
                    .ok()
            });
        Reindexer {
            kb,
            writer,
            limits,
            readers,
            reread: false,
        }
    }

    /// Loads the catalog from the index and brings both level with the
    /// folder; marks the knowledge base ready. `progress(done, total)` is
    /// called while cards are read.
    pub fn start(&mut self, progress: &dyn Fn(usize, usize)) -> Result<Report, IndexError> {
        // tantivy panics on some damaged files rather than failing.
        let loaded = catch_unwind(AssertUnwindSafe(|| {
            let mut catalog = self.kb.catalog_mut();
            self.writer
                .reader()
                .stored_cards(|card| catalog.upsert(card))
        }))
        .unwrap_or(Err(IndexError::Panicked));
        if let Err(e) = loaded {
            // The index is a cache: unreadable stored data means rebuild.
            tracing::warn!("stored cards are unreadable ({e}); rebuilding the index");
            self.kb.metrics.index_rebuilt();
            self.kb.set_index_rebuilt("the index could not be read");
            *self.kb.catalog_mut() = Catalog::default();
            self.writer.recreate()?;
        }
        let report = self.reconcile_with(progress)?;
        self.kb.set_ready();
        Ok(report)
    }

    /// Compares the whole folder with the index and applies the difference.
    pub fn reconcile(&mut self) -> Result<Report, IndexError> {
        self.reconcile_with(&|_, _| {})
    }

    fn reconcile_with(&mut self, progress: &dyn Fn(usize, usize)) -> Result<Report, IndexError> {
        let (files, walk_problems) = self.kb.content.walk("");
        let mut staged = Staged::default();
        // Each card goes to the index writer as soon as it is read, so the
        // writer's threads index while the readers parse, and no card's
        // text waits for the others'.
        self.diff_staged(&files, Unchanged::SameStamp, progress, &mut staged);
        let on_disk: BTreeSet<&str> = files.iter().map(|f| f.rel_path.as_str()).collect();
        let mut rest = self.vanished("", &on_disk);
        rest.extend(group_problems(walk_problems));
        staged.stage_all(&mut self.writer, rest);
        let settled = self.settled_problems(&staged.ops, &on_disk);
        staged.stage_all(&mut self.writer, settled);
        let report = self.flush(&mut staged)?;
        self.reread = false;
        Ok(report)
    }

    /// Why the index must be rebuilt from the content, if it must: its
    /// folder was deleted, or a check found a file of it damaged.
    fn lost(&self) -> Option<&'static str> {
        if self.writer.is_gone() {
            Some("the index folder was deleted")
        } else if self.writer.reader().is_damaged() {
            Some("the index is damaged")
        } else {
            None
        }
    }

    /// Recreates the index in place and reads every card into it (a full
    /// reconcile), saying so meanwhile: in the log, and on `/healthz` and
    /// the problems page through `index_failure`. Searches read the old
    /// index until the new one is committed.
    fn rebuild(&mut self, why: &str) -> Result<Report, IndexError> {
        tracing::warn!("{why}; recreating it and reading every card again");
        self.kb.metrics.index_rebuilt();
        self.kb.set_index_rebuilt(why);
        let first = self.kb.index_failure().is_none();
        self.kb.set_index_failure(Some((
            format!("{why}; it is being rebuilt from the content"),
            format!("{why}; rebuilding it from the content"),
        )));
        if first {
            self.kb.changed();
        }
        self.writer.recreate()?;
        self.reread = true;
        self.reconcile()
    }

    /// Applies a batch from the watcher: each path is a file or a folder that
    /// may have been created, changed, removed or renamed.
    pub fn apply(&mut self, batch: &Batch) -> Result<Report, IndexError> {
        let mut staged = Staged::default();
        match self.stage_batch(batch, &mut staged, &mut || false) {
            Read::NeedsReconcile => self.reconcile(),
            Read::All | Read::Partly(_) => self.flush(&mut staged),
        }
    }

    /// Reads the batch's files in slices and hands them to the index
    /// writer, adding to `staged`, uncommitted. When `commit_now` says so
    /// (someone's save waits behind a bulk change, or the step's time is
    /// up), it stops and gives back the rest as a batch to apply later.
    fn stage_batch(
        &mut self,
        batch: &Batch,
        staged: &mut Staged,
        commit_now: &mut dyn FnMut() -> bool,
    ) -> Read {
        if batch.rescan {
            return Read::NeedsReconcile;
        }
        let mut ops = Vec::new();
        let mut seen = BTreeSet::new();
        let mut files = Vec::new();
        for path in &batch.paths {
            // Present but not content (a name that is not UTF-8, a symlink
            // out): reported at once, as a full walk would.
            if let Some(problem) = self.kb.content.skipped(path) {
                if let Some(rel) = self.kb.content.rel_path(path) {
                    ops.extend(self.vanished(&rel, &BTreeSet::new()));
                }
                ops.push(Op::Problems(problem.path.clone(), vec![problem]));
                continue;
            }
            let Some(rel) = self.kb.content.rel_path(path) else {
                continue;
            };
            if rel.is_empty() {
                return Read::NeedsReconcile;
            }
            // `.git/` churns during every commit and checkout; hidden paths
            // and editor files are never content.
            if classify(&rel) == FileKind::Ignored || !seen.insert(rel.clone()) {
                continue;
            }
            if self.kb.content.is_dir(&rel) {
                let (files, problems) = self.kb.content.walk(&rel);
                ops.extend(self.diff(&files, Unchanged::SameHash, &|_, _| {}));
                let on_disk: BTreeSet<&str> = files.iter().map(|f| f.rel_path.as_str()).collect();
                ops.extend(self.vanished(&rel, &on_disk));
                ops.extend(group_problems(problems));
                continue;
            }
            match self.kb.content.stat(&rel) {
                Some(stamp) => files.push(ContentFile {
                    kind: classify(&rel),
                    rel_path: rel,
                    stamp,
                }),
                // Gone: the path was a file, or a folder that was removed or
                // renamed away; forget everything at or under it, and any
                // problem it had.
                None => {
                    ops.extend(self.vanished(&rel, &BTreeSet::new()));
                    if !self.kb.catalog().problems_of(&rel).is_empty() {
                        ops.push(Op::Problems(rel, Vec::new()));
                    }
                }
            }
        }
        // Slices of many files, so a burst is parsed on all cores; each
        // goes to the index writer at once, so the writer's threads index it
        // while the next is read.
        let mut slices = files.chunks(SLICE_FILES).peekable();
        staged.stage_all(&mut self.writer, ops);
        while let Some(slice) = slices.next() {
            let read = self.diff(slice, Unchanged::SameHash, &|_, _| {});
            staged.stage_all(&mut self.writer, read);
            if staged.touched.is_err() {
                break;
            }
            if slices.peek().is_some() && commit_now() {
                let root = self.kb.content.root();
                return Read::Partly(Batch {
                    paths: slices.flatten().map(|f| root.join(&f.rel_path)).collect(),
                    rescan: false,
                    first_event: batch.first_event,
                });
            }
        }
        Read::All
    }

    /// Commits what is staged (if anything), then updates the catalog.
    fn flush(&mut self, staged: &mut Staged) -> Result<Report, IndexError> {
        let Staged { ops, touched, .. } = std::mem::take(staged);
        self.commit_staged(ops, touched)
    }

    /// Starts the loop on a thread of its own: `start`, then apply every
    /// batch the watcher sends (when `watch` is on) and every command.
    pub fn spawn(self, watch: bool) -> std::io::Result<ReindexHandle> {
        // A followed folder may be empty until cloned: its history is read
        // once the first commit is in (`settle_served`).
        if self.kb.remote().is_none() {
            self.kb.follow_history(watch);
        }
        self.kb.follow_findings();
        let (tx, rx) = mpsc::channel();
        if let Some(remote) = self.kb.remote() {
            let moved = tx.clone();
            remote.start(move |commit| moved.send(Command::Synced(commit)).is_ok())?;
        }
        let watch_tx = watch.then(|| tx.clone());
        let wake = tx.clone();
        let thread = std::thread::Builder::new()
            .name("quire-reindex".into())
            .spawn(move || self.run(watch_tx, wake, rx))?;
        Ok(ReindexHandle {
            tx,
            thread: Some(thread),
        })
    }

    fn run(
        mut self,
        watch_tx: Option<mpsc::Sender<Command>>,
        wake: mpsc::Sender<Command>,
        rx: mpsc::Receiver<Command>,
    ) {
        crate::priority::background();
        // Watch before the first reconcile: a file saved while it runs is
        // queued and applied after it, not lost in the gap between the two.
        let watching = watch_tx.and_then(|tx| self.watch_folder(tx));
        let mut state = Loop {
            every: self.reconcile_every(watching.is_some()),
            ..Loop::default()
        };
        self.start_serving(&mut state.retry);
        // Checksums are checked after start, never before it: at 100k cards
        // a pass reads the whole index. A damaged file wakes this loop,
        // which then rebuilds.
        let check = self.writer.reader().check_in_background(move || {
            let _ = wake.send(Command::Reconcile);
        });
        if let Err(e) = check {
            tracing::warn!("the index's checksums are not checked: {e}");
        }
        state.merge_due = Some(std::time::Instant::now() + MERGE_WHEN_QUIET);
        while let Some(next) = state.next(&rx) {
            let command = match next {
                Next::Command(command) => command,
                Next::Merge => {
                    match self.writer.merge_if_split() {
                        Merge::Started => tracing::debug!("merging the index into one segment"),
                        Merge::NotYet => {
                            state.merge_due = Some(std::time::Instant::now() + MERGE_WHEN_QUIET);
                        }
                        Merge::NotNeeded => {}
                    }
                    continue;
                }
            };
            let started = std::time::Instant::now();
            let lost = self.lost().filter(|_| !matches!(command, Command::Stop));
            if let Command::Synced(commit) = &command {
                state.served = Some(commit.clone());
            }
            let whole =
                lost.is_some() || matches!(command, Command::Reconcile | Command::Synced(_));
            let result = match (lost, command) {
                // Whatever was asked, every card is read into a new index.
                (Some(why), _) => {
                    state.staged = Staged::default();
                    self.rebuild(why)
                }
                (None, Command::Apply(batch)) => {
                    match self.apply_watched(batch, &mut state, &rx, started) {
                        Some(result) => result,
                        // A save waits: it is read into this commit.
                        None => continue,
                    }
                }
                (None, Command::Reconcile | Command::Synced(_)) => {
                    self.flush(&mut state.staged).and_then(|_| self.reconcile())
                }
                (None, Command::Stop) => {
                    if let Err(e) = self.flush(&mut state.staged) {
                        tracing::error!("the last changes could not be indexed: {e}");
                    }
                    return;
                }
            };
            if whole && result.is_ok() {
                self.settle_served(&mut state.served);
            }
            let first_event = state.waiting_since.take();
            if result.as_ref().is_ok_and(|report| report.commits > 0) {
                state.merge_due = Some(std::time::Instant::now() + MERGE_WHEN_QUIET);
            }
            self.settle(result, started, first_event, &mut state.retry);
        }
        drop(watching);
    }

    /// Watches the content folder, sending each batch of changes to `tx`;
    /// without a watcher, the folder is compared with the index instead.
    fn watch_folder(&self, tx: mpsc::Sender<Command>) -> Option<WatchHandle> {
        let watched = watch::watch(self.kb.content.root(), move |batch| {
            tx.send(Command::Apply(batch)).is_ok()
        });
        match watched {
            Ok(handle) => Some(handle),
            Err(e) => {
                tracing::error!(
                    "{e}: {}; the folder is compared with the index every {}s instead",
                    error_chain(&e),
                    FALLBACK_RECONCILE.as_secs()
                );
                None
            }
        }
    }

    /// The safety net: a full comparison now and then, and often when there
    /// is no watcher to tell us anything.
    fn reconcile_every(&self, watching: bool) -> Option<Duration> {
        match (self.kb.config.reconcile_seconds, watching) {
            (0, true) => None,
            (0, false) => Some(FALLBACK_RECONCILE),
            (s, true) => Some(Duration::from_secs(s)),
            (s, false) => Some(Duration::from_secs(s).min(FALLBACK_RECONCILE)),
        }
    }

    /// The first reconcile, then serving. On failure the index's cards are
    /// served (the catalog was loaded from it) while retries bring it level
    /// with the folder.
    fn start_serving(&mut self, retry: &mut Retry) {
        match self.start(&|_, _| {}) {
            Ok(report) => tracing::info!(
                "index ready: {} cards ({} read, {} unchanged, {} removed, {} failed)",
                self.kb.catalog().len(),
                report.indexed(),
                report.unchanged,
                report.removed,
                report.failed
            ),
            Err(e) => {
                self.kb.set_ready();
                self.failed(&e, retry);
            }
        }
        for problem in self.kb.catalog().problems() {
            tracing::warn!("{problem}");
        }
        self.kb.changed();
    }

    /// Reads a watcher's batch into the staged changes and commits them
    /// when due; `None` when a save is waiting to join this commit.
    fn apply_watched(
        &mut self,
        batch: Batch,
        state: &mut Loop,
        rx: &mpsc::Receiver<Command>,
        started: std::time::Instant,
    ) -> Option<Result<Report, IndexError>> {
        state.waiting_since = match (state.waiting_since, batch.first_event) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let deadline = state.pace.deadline(started);
        let queue = &mut state.queue;
        let mut commit_now = || {
            while let Ok(command) = rx.try_recv() {
                queue.push(command);
            }
            queue.has_urgent() || std::time::Instant::now() >= deadline
        };
        let result = match self.stage_batch(&batch, &mut state.staged, &mut commit_now) {
            Read::All => self.flush(&mut state.staged),
            Read::Partly(rest) => {
                state.queue.push_front(Command::Apply(rest));
                // A save waits: read it into this commit rather than pay
                // for two.
                if state.queue.has_urgent() {
                    return None;
                }
                state.pace.stepped();
                self.flush(&mut state.staged)
            }
            Read::NeedsReconcile => self.flush(&mut state.staged).and_then(|_| self.reconcile()),
        };
        Some(result)
    }

    /// The followed remote's commit the folder was moved to is in the index
    /// now (a whole-folder comparison after the move was committed): say
    /// so. A comparison that failed leaves it pending for the next one.
    fn settle_served(&self, served: &mut Option<Option<String>>) {
        let Some(commit) = served.take() else {
            return;
        };
        let first = self.kb.served().is_none();
        self.kb.set_served(commit);
        if first {
            self.kb.follow_history(true);
        }
        // Pages showing the commit (the footer) reload.
        self.kb.changed();
    }

    /// After a step: a success clears a past failure (and says so), a
    /// failure is reported and retried.
    fn settle(
        &mut self,
        result: Result<Report, IndexError>,
        started: std::time::Instant,
        first_event: Option<std::time::Instant>,
        retry: &mut Retry,
    ) {
        match result {
            Ok(report) => {
                if report.commits > 0 {
                    tracing::debug!(?report, "re-indexed");
                }
                if retry.next.take().is_some() || self.kb.index_failure().is_some() {
                    tracing::info!("the index is written again; it matches the folder");
                    self.kb.set_index_failure(None);
                    self.kb.changed();
                }
                *retry = Retry::default();
                self.kb
                    .metrics
                    .reindexed(started.elapsed(), first_event.map(|t| t.elapsed()));
            }
            Err(e) => self.failed(&e, retry),
        }
    }

    /// A write that did not reach the index: say so (log, metrics,
    /// `/healthz`, the problems page) and retry later, backing off.
    fn failed(&self, e: &IndexError, retry: &mut Retry) {
        self.kb.metrics.reindex_failed();
        let wait = retry.backoff();
        tracing::error!(
            "re-indexing failed: {e}: {}; still serving the index as last written; retrying in {}s",
            error_chain(e),
            wait.as_secs_f32()
        );
        if e.is_missing_file() {
            self.writer.reader().suspect();
        }
        let first = self.kb.index_failure().is_none();
        self.kb
            .set_index_failure(Some((format!("{e}: {}", error_chain(e)), e.cause())));
        if first {
            self.kb.changed();
        }
    }

    /// Decides what to do about each file (unchanged ones cost a `stat`)
    /// and reads the others.
    fn diff(
        &self,
        files: &[ContentFile],
        unchanged: Unchanged,
        progress: &dyn Fn(usize, usize),
    ) -> Vec<Op> {
        let (mut ops, to_read) = self.to_read(files, unchanged);
        self.reading()
            .read(&to_read, progress, &mut |op| ops.push(op));
        ops
    }

    /// `diff`, each change handed to the index writer as soon as it is
    /// read: the writer's threads index while the readers parse, and a card
    /// read keeps only its catalog part meanwhile.
    fn diff_staged(
        &mut self,
        files: &[ContentFile],
        unchanged: Unchanged,
        progress: &dyn Fn(usize, usize),
        staged: &mut Staged,
    ) {
        let (ops, to_read) = self.to_read(files, unchanged);
        staged.stage_all(&mut self.writer, ops);
        // The cores the writer's indexing threads leave, at least one:
        // with more, cards read faster than they are indexed wait in the
        // writer's queue (up to 10,000 documents), and a cold build's peak
        // memory grew with the folder (10k cards on 2 cores: 234-242 MiB
        // with two readers, 172-208 MiB with one; no slower that this
        // shared machine could tell).
        let cores = self.readers.as_ref().map_or(1, |r| r.current_num_threads());
        let reading = Reading {
            kb: &self.kb,
            limits: self.limits,
            reread: self.reread,
            readers: self.readers.as_ref(),
            tasks: cores.saturating_sub(crate::index::WRITER_THREADS).max(1),
        };
        let writer = &mut self.writer;
        reading.read(&to_read, progress, &mut |op| staged.stage(writer, op));
    }

    fn reading(&self) -> Reading<'_> {
        Reading {
            kb: &self.kb,
            limits: self.limits,
            reread: self.reread,
            readers: self.readers.as_ref(),
            tasks: usize::MAX,
        }
    }

    /// What `files` call for without reading them (attachments), and the
    /// files to read: cards whose stamp changed (or, for `SameHash`, every
    /// card), folder pages and the synonyms file.
    fn to_read<'f>(
        &self,
        files: &'f [ContentFile],
        unchanged: Unchanged,
    ) -> (Vec<Op>, Vec<&'f ContentFile>) {
        let mut ops = Vec::new();
        let mut to_read = Vec::new();
        let catalog = self.kb.catalog();
        for file in files {
            match file.kind {
                FileKind::Card => {
                    let same = CardId::from_rel_path(&file.rel_path)
                        .and_then(|id| catalog.get(&id))
                        .is_some_and(|card| {
                            !self.reread
                                && unchanged == Unchanged::SameStamp
                                && card.stamp.vouches_for(&file.stamp)
                                && catalog.problems_of(&file.rel_path) == card.problems.as_slice()
                        });
                    if !same {
                        to_read.push(file);
                    }
                }
                // A few lines, read whenever it may have changed.
                FileKind::FolderPage | FileKind::Synonyms => to_read.push(file),
                FileKind::Attachment => {
                    if !catalog.has_attachment(&file.rel_path) {
                        ops.push(Op::AttachmentAdded(file.rel_path.clone()));
                    }
                }
                FileKind::Ignored => {}
            }
        }
        (ops, to_read)
    }
}

/// What reading cards needs, apart from the index writer: cards can then
/// be handed to the writer while others are read.
struct Reading<'a> {
    kb: &'a Kb,
    limits: Limits,
    reread: bool,
    readers: Option<&'a rayon::ThreadPool>,
    /// How many of the readers read at once.
    tasks: usize,
}

/// How many cards read may wait for the loop to take them: enough that a
/// reader never waits on a card that was quick to index, few enough that
/// cards do not pile up in memory.
const READ_AHEAD: usize = 64;
/// Cards a reader hands over at once: one at a time, the loop was woken
/// for each (tldr's 10,000 short pages: a few percent of a cold build).
const READ_BATCH: usize = 8;

impl Reading<'_> {
    /// Reads `files`, handing each change to `each` on this thread as soon
    /// as it is read, in no particular order; `progress(done, total)` is
    /// called meanwhile.
    fn read(
        &self,
        files: &[&ContentFile],
        progress: &dyn Fn(usize, usize),
        each: &mut dyn FnMut(Op),
    ) {
        let total = files.len();
        progress(0, total);
        // Parsing (markdown, language detection, hashing) is the cost of a
        // cold start: spread it over the cores.
        match self.readers {
            Some(readers) if total >= 16 => self.read_on(readers, files, progress, each),
            _ => files
                .iter()
                .filter_map(|file| read_file(self.kb, self.limits, self.reread, file))
                .for_each(each),
        }
        progress(total, total);
    }

    fn read_on(
        &self,
        readers: &rayon::ThreadPool,
        files: &[&ContentFile],
        progress: &dyn Fn(usize, usize),
        each: &mut dyn FnMut(Op),
    ) {
        let next = AtomicUsize::new(0);
        let (sent, received) = mpsc::sync_channel::<Vec<Op>>(READ_AHEAD / READ_BATCH);
        let next = &next;
        readers.in_place_scope(|scope| {
            for _ in 0..self
                .tasks
                .min(readers.current_num_threads())
                .min(files.len())
            {
                let sent = sent.clone();
                // Each reader takes the next file when done with one: a
                // fixed share each left one thread reading alone at the end
                // of a folder whose long cards were all in one share.
                scope.spawn(move |_| {
                    let mut batch = Vec::with_capacity(READ_BATCH);
                    while let Some(file) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let read = catch_unwind(AssertUnwindSafe(|| {
                            read_file(self.kb, self.limits, self.reread, file)
                        }));
                        match read {
                            Ok(Some(op)) => batch.push(op),
                            Ok(None) => {}
                            Err(_) => tracing::error!(
                                "a card reader panicked on {}; it was not read",
                                file.rel_path
                            ),
                        }
                        // Closed: the loop gave up (it panicked).
                        if batch.len() >= READ_BATCH
                            && sent.send(std::mem::take(&mut batch)).is_err()
                        {
                            return;
                        }
                    }
                    if !batch.is_empty() {
                        let _ = sent.send(batch);
                    }
                });
            }
            // Only the readers hold a sender now: when all are done, the
            // channel closes.
            drop(sent);
            let mut shown = std::time::Instant::now();
            for op in received.into_iter().flatten() {
                each(op);
                if shown.elapsed() >= Duration::from_millis(50) {
                    progress(next.load(Ordering::Relaxed).min(files.len()), files.len());
                    shown = std::time::Instant::now();
                }
            }
        });
    }
}

/// Reads one file into the change it calls for, or `None` when it is
/// unchanged (same hash, unless `reread`: the index lost it) or already gone.
fn read_file(kb: &Kb, limits: Limits, reread: bool, file: &ContentFile) -> Option<Op> {
    let bytes = match kb
        .content
        .read_at_most(&file.rel_path, limits.max_card_bytes)
    {
        Ok(b) => b,
        // Gone between the walk and the read: the next event removes it.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            return Some(Op::Failed(
                file.rel_path.clone(),
                Problem::error(&file.rel_path, 0, 0, format!("cannot read: {e}")),
            ));
        }
    };
    if file.kind == FileKind::Synonyms {
        let (groups, problems) = synonyms::parse(&String::from_utf8_lossy(&bytes));
        // A file that cannot be read at all keeps the last good groups
        // searched, beside the error, as a broken card keeps its last version.
        let unreadable =
            groups.is_empty() && problems.iter().any(|p| p.severity == Severity::Error);
        return Some(if unreadable {
            Op::Problems(file.rel_path.clone(), problems)
        } else {
            Op::Synonyms(Some(groups), problems)
        });
    }
    if file.kind == FileKind::FolderPage {
        let folder = file
            .rel_path
            .rsplit_once('/')
            .map_or("", |(f, _)| f)
            .to_string();
        return Some(
            match card::parse_folder_page(&file.rel_path, &bytes, limits) {
                Ok((page, problems)) => Op::Folder(folder, Some(page), problems),
                Err(e) => Op::Folder(folder, None, vec![e.0]),
            },
        );
    }
    let known = CardId::from_rel_path(&file.rel_path).and_then(|id| kb.catalog().get(&id).cloned());
    let hash = card::content_hash(&bytes);
    let same_content = known.as_ref().is_some_and(|card| card.hash == hash);
    if !reread && same_content && known.as_ref().is_some_and(|card| card.stamp == file.stamp) {
        return None;
    }
    Some(
        match parse_guarded(&file.rel_path, &bytes, hash, file.stamp, limits) {
            // Same content, new stamp (touched, checked out again): store the
            // new stamp, or every later start would hash the file again.
            Ok(parsed) if same_content => Op::Restamp(Held::Parsed(Box::new(parsed))),
            Ok(parsed) => {
                let novelty = if known.is_none() {
                    Novelty::New
                } else {
                    Novelty::Changed
                };
                Op::Upsert(Held::Parsed(Box::new(parsed)), novelty)
            }
            Err(problem) => Op::Failed(file.rel_path.clone(), problem),
        },
    )
}

impl Reindexer {
    /// Clears the problems of files that no longer have any: every problem
    /// is either reported again by this pass or belongs to an unchanged card.
    fn settled_problems(&self, ops: &[Op], on_disk: &BTreeSet<&str>) -> Vec<Op> {
        let mut current: BTreeSet<String> = BTreeSet::new();
        for op in ops {
            match op {
                Op::Failed(path, _) => current.insert(path.clone()),
                Op::Problems(path, list) if !list.is_empty() => current.insert(path.clone()),
                Op::Folder(folder, _, list) if !list.is_empty() => {
                    current.insert(folder_page_path(folder))
                }
                Op::Synonyms(_, list) if !list.is_empty() => current.insert(synonyms::FILE.into()),
                Op::Upsert(held, _) | Op::Restamp(held) => {
                    current.insert(held.card().id.rel_path())
                }
                _ => false,
            };
        }
        let catalog = self.kb.catalog();
        let own_problems = |path: &str| {
            on_disk.contains(path)
                && CardId::from_rel_path(path).is_some_and(|id| catalog.get(&id).is_some())
        };
        let mut stale: Vec<String> = catalog
            .problems()
            .map(|p| p.path.clone())
            .filter(|p| !current.contains(p) && !own_problems(p))
            .collect();
        stale.dedup();
        stale
            .into_iter()
            .map(|p| Op::Problems(p, Vec::new()))
            .collect()
    }

    /// Cards, folder pages and attachments the catalog has at or under
    /// `prefix` that are not in `on_disk`.
    fn vanished(&self, prefix: &str, on_disk: &BTreeSet<&str>) -> Vec<Op> {
        let catalog = self.kb.catalog();
        let under = |path: &str| {
            prefix.is_empty() || path == prefix || path.starts_with(&format!("{prefix}/"))
        };
        let mut ops = Vec::new();
        for card in catalog.cards() {
            let path = card.id.rel_path();
            if under(&path) && !on_disk.contains(path.as_str()) {
                ops.push(Op::Delete(card.id.clone()));
            }
        }
        for (folder, _) in catalog.folders() {
            let path = folder_page_path(folder);
            if under(&path) && !on_disk.contains(path.as_str()) {
                ops.push(Op::Folder(folder.clone(), None, Vec::new()));
            }
        }
        for path in catalog.attachments() {
            if under(path) && !on_disk.contains(path.as_str()) {
                ops.push(Op::AttachmentRemoved(path.clone()));
            }
        }
        if catalog.synonyms().is_some()
            && under(synonyms::FILE)
            && !on_disk.contains(synonyms::FILE)
        {
            ops.push(Op::Synonyms(None, Vec::new()));
        }
        for problem in catalog.problems() {
            if under(&problem.path) && !on_disk.contains(problem.path.as_str()) {
                ops.push(Op::Problems(problem.path.clone(), Vec::new()));
            }
        }
        ops
    }

    /// Commits what `stage` handed over for `ops` (if it handed any), then
    /// updates the catalog. When the index cannot be written, nothing of
    /// the batch is kept: the catalog stays as the index last committed
    /// it, and a later reconcile retries.
    fn commit_staged(
        &mut self,
        ops: Vec<Op>,
        staged: Result<bool, IndexError>,
    ) -> Result<Report, IndexError> {
        let committed = staged.and_then(|staged| {
            // A rebuilt index is committed even empty: searches move to it then.
            let staged = staged || self.writer.is_rebuilding();
            if staged {
                self.writer.commit()?;
            }
            Ok(staged)
        });
        let mut report = Report::default();
        match committed {
            Ok(staged) => report.commits = usize::from(staged),
            Err(e) => {
                self.writer.rollback();
                return Err(e);
            }
        }
        let changed = !ops.is_empty();
        let mut catalog = self.kb.catalog_mut();
        let problems = self.apply_to_catalog(&mut catalog, ops, &mut report);
        for (path, list) in problems {
            catalog.set_problems(&path, list);
        }
        report.unchanged = catalog.len().saturating_sub(report.added + report.updated);
        drop(catalog);
        if changed {
            self.kb.changed();
        }
        Ok(report)
    }

    /// Applies `ops` to the catalog, counting them into `report`; the
    /// problems they carry, by file.
    fn apply_to_catalog(
        &self,
        catalog: &mut Catalog,
        ops: Vec<Op>,
        report: &mut Report,
    ) -> BTreeMap<String, Vec<Problem>> {
        let mut problems: BTreeMap<String, Vec<Problem>> = BTreeMap::new();
        for op in ops {
            match op {
                Op::Upsert(held, novelty) => {
                    match novelty {
                        Novelty::New => report.added += 1,
                        Novelty::Changed => report.updated += 1,
                    }
                    catalog.upsert(held.into_card());
                }
                Op::Restamp(held) => {
                    report.restamped += 1;
                    catalog.upsert(held.into_card());
                }
                Op::Delete(id) => {
                    if catalog.remove(&id).is_some() {
                        report.removed += 1;
                    }
                }
                // The last good version, if any, stays served beside the error.
                Op::Failed(path, problem) => {
                    report.failed += 1;
                    problems.entry(path).or_default().push(problem);
                }
                Op::Folder(folder, page, folder_problems) => {
                    match page {
                        Some(page) => catalog.set_folder(&folder, page),
                        None => catalog.remove_folder(&folder),
                    }
                    problems
                        .entry(folder_page_path(&folder))
                        .or_default()
                        .extend(folder_problems);
                }
                Op::AttachmentAdded(path) => catalog.add_attachment(&path),
                Op::AttachmentRemoved(path) => catalog.remove_attachment(&path),
                Op::Synonyms(groups, list) => {
                    self.kb
                        .index
                        .set_synonyms(groups.as_deref().unwrap_or_default());
                    catalog.set_synonyms(groups);
                    problems
                        .entry(synonyms::FILE.to_string())
                        .or_default()
                        .extend(list);
                }
                Op::Problems(path, list) => problems.entry(path).or_default().extend(list),
            }
        }
        problems
    }
}

/// Parses a card, turning a panic in the markdown parser (it has had
/// fuzzer-found ones) into a problem for that card alone.
fn parse_guarded(
    rel_path: &str,
    bytes: &[u8],
    hash: String,
    stamp: FileStamp,
    limits: Limits,
) -> Result<ParsedCard, Problem> {
    guarded(rel_path, || {
        card::parse_hashed(rel_path, bytes, hash, stamp, limits)
    })
}

fn guarded(
    rel_path: &str,
    parse: impl FnOnce() -> Result<ParsedCard, card::CardError>,
) -> Result<ParsedCard, Problem> {
    match catch_unwind(AssertUnwindSafe(parse)) {
        Ok(Ok(parsed)) => Ok(parsed),
        Ok(Err(e)) => Err(e.0),
        Err(_) => Err(Problem::error(
            rel_path,
            0,
            0,
            "reading this card crashed the markdown parser; the last good version stays served",
        )),
    }
}

fn folder_page_path(folder: &str) -> String {
    if folder.is_empty() {
        "_index.md".to_string()
    } else {
        format!("{folder}/_index.md")
    }
}

fn group_problems(problems: Vec<Problem>) -> Vec<Op> {
    let mut by_path: BTreeMap<String, Vec<Problem>> = BTreeMap::new();
    for p in problems {
        by_path.entry(p.path.clone()).or_default().push(p);
    }
    by_path
        .into_iter()
        .map(|(path, list)| Op::Problems(path, list))
        .collect()
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = String::new();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(&s.to_string());
        source = s.source();
        if source.is_some() {
            out.push_str(": ");
        }
    }
    out
}

/// Files read and handed to the index writer, not committed yet: a step of
/// a bulk change, and the save that joins it before the commit.
struct Staged {
    ops: Vec<Op>,
    /// Whether the index writer was given anything, or why it failed.
    touched: Result<bool, IndexError>,
}

impl Default for Staged {
    fn default() -> Self {
        Staged {
            ops: Vec::new(),
            touched: Ok(false),
        }
    }
}

impl Staged {
    /// Hands the index's part of `op` to the writer, uncommitted, and keeps
    /// what the catalog needs of it for after the commit. Once a write has
    /// failed nothing more is written: the whole step is rolled back.
    fn stage(&mut self, writer: &mut IndexWriter, op: Op) {
        if self.touched.is_err() {
            return;
        }
        let staged = match op {
            Op::Upsert(held, novelty) => held.index(writer).map(|h| (Op::Upsert(h, novelty), true)),
            Op::Restamp(held) => held.index(writer).map(|h| (Op::Restamp(h), true)),
            Op::Delete(id) => {
                writer.delete(&id);
                Ok((Op::Delete(id), true))
            }
            other => Ok((other, false)),
        };
        match staged {
            Ok((op, wrote)) => {
                self.ops.push(op);
                if wrote {
                    self.touched = Ok(true);
                }
            }
            Err(e) => self.touched = Err(e),
        }
    }

    fn stage_all(&mut self, writer: &mut IndexWriter, ops: Vec<Op>) {
        for op in ops {
            self.stage(writer, op);
        }
    }
}

/// How far `stage_batch` got.
enum Read {
    All,
    /// Stopped between two slices; the rest is to apply later.
    Partly(Batch),
    /// The batch asks for a comparison of the whole folder.
    NeedsReconcile,
}

/// How many files of a batch are read before the loop looks for a save
/// that should go ahead of the rest, or for the end of a commit step: a
/// save waits for at most one slice to be read.
const SLICE_FILES: usize = 32;

/// What the reindex loop can be asked to do.
pub enum Command {
    Apply(Batch),
    /// Compare the whole folder with the index (a safety net for missed events).
    Reconcile,
    /// The folder was moved to this commit of the followed remote (`None`:
    /// it is served as it is): compare the whole folder, one commit, then
    /// record that the index holds it. The watcher sees the move's files
    /// too; they are found unchanged by then and only restamped.
    Synced(Option<String>),
    Stop,
}

/// The running loop. Dropping it (or `stop`) ends the loop and releases the
/// index writer, so another process or a restart can open it.
pub struct ReindexHandle {
    tx: mpsc::Sender<Command>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ReindexHandle {
    pub fn send(&self, command: Command) {
        let _ = self.tx.send(command);
    }

    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let _ = self.tx.send(Command::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for ReindexHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parser_panic_is_a_problem_for_that_card_not_a_crash() {
        let problem = guarded("a/boom.md", || panic!("a parser bug")).unwrap_err();
        assert_eq!(
            problem.to_string(),
            "a/boom.md:1:1: error: reading this card crashed the markdown parser; \
             the last good version stays served"
        );
    }
}
