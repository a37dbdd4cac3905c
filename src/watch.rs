//! Watching the content folder. notify's raw events are turned by a pure
//! function into `Change`s, gathered until the folder is quiet (or a cap on
//! waiting is reached, so a long `git checkout` cannot starve it), and handed
//! on as one `Batch`. The only module that names notify.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use notify::{Event, EventKind, RecursiveMode, Watcher};

use crate::content::scan::is_ignored_name;

/// How long the folder must be quiet before a batch is applied. Editors'
/// atomic saves (write temp, rename over) finish well within it.
pub const QUIET: Duration = Duration::from_millis(30);
/// The longest a change waits while events keep coming.
pub const MAX_WAIT: Duration = Duration::from_millis(300);
/// A batch of at most this many paths is someone's save, not a bulk change:
/// the reindexer lets it go ahead of bulk work (`reindex::queue`).
pub const SAVE_PATHS: usize = 8;
/// After a bulk change's events, a pause this long before the next event
/// ends the batch: a save made just after a `git checkout` would otherwise
/// ride in the checkout's last batch and wait behind all of it. Batches of
/// a few paths are never split this way, so an editor's save, however
/// slow its steps, stays whole.
pub const BULK_GAP: Duration = Duration::from_millis(10);
/// The most paths in one batch. The first slice of a `git checkout` of
/// thousands of files goes to the reindexer at once; the rest follows in
/// slices, which it merges while busy (see `reindex::queue`).
pub const MAX_BATCH_PATHS: usize = 128;

/// What one notify event means for the content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// These paths (files or folders) may differ from the index: re-read them.
    Paths(Vec<PathBuf>),
    /// Events were lost: compare the whole folder with the index.
    Rescan,
    /// Reads, metadata-only noise and editor temp files.
    Ignore,
}

/// The changes to apply at once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    /// Each path once, in the order its first change was seen: the
    /// reindexer applies a large change in that order, so what changed
    /// first shows first.
    pub paths: Vec<PathBuf>,
    pub rescan: bool,
    /// When the watcher saw the batch's first change (for lag metrics).
    pub first_event: Option<Instant>,
}

/// Classifies one event. Pure, so every kind is tested without a disk.
pub fn classify(event: &Event) -> Change {
    if event.need_rescan() {
        return Change::Rescan;
    }
    match event.kind {
        EventKind::Access(_) => Change::Ignore,
        EventKind::Modify(notify::event::ModifyKind::Metadata(_)) => Change::Ignore,
        _ => {
            let paths: Vec<PathBuf> = event
                .paths
                .iter()
                .filter(|p| !is_noise(p))
                .cloned()
                .collect();
            if paths.is_empty() {
                Change::Ignore
            } else {
                Change::Paths(paths)
            }
        }
    }
}

fn is_noise(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(is_ignored_name)
}

/// A running watch; dropping it stops watching.
pub struct WatchHandle {
    _watcher: notify::RecommendedWatcher,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot watch {path}")]
pub struct WatchError {
    pub path: PathBuf,
    source: notify::Error,
}

/// Watches `root` recursively and calls `sink` with each batch, from a
/// thread of its own, until the handle is dropped or `sink` returns false.
pub fn watch(
    root: &Path,
    mut sink: impl FnMut(Batch) -> bool + Send + 'static,
) -> Result<WatchHandle, WatchError> {
    let (tx, rx) = mpsc::channel::<notify::Result<Event>>();
    let mut watcher = notify::recommended_watcher(move |event| {
        let _ = tx.send(event);
    })
    .map_err(|source| WatchError {
        path: root.to_path_buf(),
        source,
    })?;
    watcher
        .watch(root, RecursiveMode::Recursive)
        .map_err(|source| WatchError {
            path: root.to_path_buf(),
            source,
        })?;
    std::thread::Builder::new()
        .name("quire-watch".into())
        .spawn(move || {
            let mut carried = None;
            while let Some(batch) = next_batch(&rx, &mut carried) {
                if !sink(batch) {
                    return;
                }
            }
        })
        .map_err(|e| WatchError {
            path: root.to_path_buf(),
            source: notify::Error::io(e),
        })?;
    Ok(WatchHandle { _watcher: watcher })
}

/// Blocks for the first change, then gathers until no change for `QUIET`,
/// `MAX_WAIT` or `MAX_BATCH_PATHS`, or until a change after a pause ends a
/// bulk batch (it is handed back in `carried`, to start the next one).
/// `None` when the watcher is gone.
fn next_batch(
    rx: &mpsc::Receiver<notify::Result<Event>>,
    carried: &mut Option<notify::Result<Event>>,
) -> Option<Batch> {
    let mut batch = Batch::default();
    let mut seen = BTreeSet::new();
    let mut first: Option<Instant> = None;
    let mut last = Instant::now();
    loop {
        let event = match (carried.take(), first) {
            (Some(event), _) => event,
            (None, None) => rx.recv().ok()?,
            (None, Some(started)) => {
                // Quiet means no change, not no event: the folder's files
                // are opened all the time (the reindexer reads them), and
                // counting those kept a save's batch open for `MAX_WAIT`.
                let left = MAX_WAIT
                    .saturating_sub(started.elapsed())
                    .min(QUIET.saturating_sub(last.elapsed()));
                match rx.recv_timeout(left) {
                    Ok(event) => event,
                    Err(mpsc::RecvTimeoutError::Timeout) => return Some(batch),
                    Err(mpsc::RecvTimeoutError::Disconnected) => return Some(batch),
                }
            }
        };
        // A watcher error (a full inotify queue, too many watches) means
        // events may be lost: only a full comparison can be trusted.
        let change = match &event {
            Ok(event) => classify(event),
            Err(_) => Change::Rescan,
        };
        if change == Change::Ignore {
            // Reads (the reindexer's own among them) say nothing about
            // where a change ends.
            continue;
        }
        if first.is_some() && ends_bulk_batch(batch.paths.len(), last.elapsed()) {
            *carried = Some(event);
            return Some(batch);
        }
        last = Instant::now();
        match change {
            Change::Ignore => continue,
            Change::Rescan => batch.rescan = true,
            Change::Paths(paths) => {
                for path in paths {
                    if seen.insert(path.clone()) {
                        batch.paths.push(path);
                    }
                }
            }
        }
        first.get_or_insert_with(Instant::now);
        batch.first_event = first;
        if batch.paths.len() >= MAX_BATCH_PATHS {
            return Some(batch);
        }
    }
}

/// Whether an event that comes after `pause` starts a new batch rather
/// than join the `paths` gathered so far.
fn ends_bulk_batch(paths: usize, pause: Duration) -> bool {
    paths > SAVE_PATHS && pause >= BULK_GAP
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{
        AccessKind, CreateKind, DataChange, Flag, MetadataKind, ModifyKind, RemoveKind, RenameMode,
    };

    fn event(kind: EventKind, paths: &[&str]) -> Event {
        let mut e = Event::new(kind);
        for p in paths {
            e = e.add_path(PathBuf::from(p));
        }
        e
    }

    #[test]
    fn every_event_kind_is_classified() {
        let card = "/c/a/card.md";
        let table = [
            (
                event(EventKind::Create(CreateKind::File), &[card]),
                Change::Paths(vec![card.into()]),
            ),
            (
                event(
                    EventKind::Modify(ModifyKind::Data(DataChange::Content)),
                    &[card],
                ),
                Change::Paths(vec![card.into()]),
            ),
            (
                event(EventKind::Remove(RemoveKind::File), &[card]),
                Change::Paths(vec![card.into()]),
            ),
            (
                event(EventKind::Remove(RemoveKind::Folder), &["/c/a"]),
                Change::Paths(vec!["/c/a".into()]),
            ),
            (
                event(
                    EventKind::Modify(ModifyKind::Name(RenameMode::Both)),
                    &["/c/a/.card.md.swp", card],
                ),
                Change::Paths(vec![card.into()]),
            ),
            (
                event(
                    EventKind::Modify(ModifyKind::Name(RenameMode::From)),
                    &["/c/a"],
                ),
                Change::Paths(vec!["/c/a".into()]),
            ),
            (
                event(EventKind::Access(AccessKind::Read), &[card]),
                Change::Ignore,
            ),
            (
                event(
                    EventKind::Modify(ModifyKind::Metadata(MetadataKind::Any)),
                    &[card],
                ),
                Change::Ignore,
            ),
            (
                event(EventKind::Create(CreateKind::File), &["/c/a/4913"]),
                Change::Ignore,
            ),
            (
                event(EventKind::Create(CreateKind::File), &["/c/a/card.md~"]),
                Change::Ignore,
            ),
            (
                event(EventKind::Other, &[]).set_flag(Flag::Rescan),
                Change::Rescan,
            ),
        ];
        for (e, want) in table {
            assert_eq!(classify(&e), want, "{e:?}");
        }
    }

    #[test]
    fn a_change_after_a_pause_ends_a_bulk_batch_but_never_a_save() {
        let pause = BULK_GAP;
        assert!(ends_bulk_batch(SAVE_PATHS + 1, pause));
        assert!(
            !ends_bulk_batch(SAVE_PATHS + 1, pause / 2),
            "still the same burst"
        );
        assert!(
            !ends_bulk_batch(SAVE_PATHS, pause * 3),
            "an editor's save stays whole"
        );
        assert!(!ends_bulk_batch(1, QUIET), "an editor's save stays whole");
    }
}
