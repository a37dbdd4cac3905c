//! Finding out that the index is damaged: tantivy's checksums (a CRC in each
//! file's footer) checked on a background thread once after start and after
//! any failed read, never on a request or on the start-up path.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, SyncSender};
use std::sync::{Mutex, Weak};

use tantivy::TantivyError;
use tantivy::directory::error::OpenReadError;

use super::Shared;

/// How many times a pass is repeated when a file it was reading vanished:
/// a merge deletes the segments it replaces, so one missing file is no
/// proof of damage; the same file missing pass after pass is.
const PASSES_FOR_A_MISSING_FILE: usize = 3;

#[derive(Default)]
pub(super) struct Damage {
    found: AtomicBool,
    /// Asks the checking thread for a pass. Room for one: a request made
    /// while one waits is the same request.
    ask: Mutex<Option<SyncSender<()>>>,
}

impl Damage {
    pub(super) fn is_found(&self) -> bool {
        self.found.load(Ordering::Acquire)
    }

    pub(super) fn clear(&self) {
        self.found.store(false, Ordering::Release);
    }

    /// A read failed: check the files (if a checking thread runs).
    pub(super) fn suspect(&self) {
        if let Some(ask) = self.ask.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            let _ = ask.try_send(());
        }
    }
}

/// Starts the checking thread over `shared`, with a first pass at once.
pub(super) fn follow(shared: Weak<Shared>, found: Box<dyn Fn() + Send>) -> std::io::Result<()> {
    let (ask, asked) = mpsc::sync_channel(1);
    let _ = ask.try_send(());
    if let Some(shared) = shared.upgrade() {
        *shared.damage.ask.lock().unwrap_or_else(|e| e.into_inner()) = Some(ask);
    }
    std::thread::Builder::new()
        .name("quire-index-check".into())
        .spawn(move || {
            crate::priority::background();
            // Ends when the index is dropped: its sender goes with it.
            while asked.recv().is_ok() {
                let Some(shared) = shared.upgrade() else {
                    return;
                };
                if shared.damage.is_found() {
                    continue;
                }
                let index = shared
                    .reader
                    .read()
                    .unwrap_or_else(|e| e.into_inner())
                    .searcher()
                    .index()
                    .clone();
                if let Some(what) = damaged(&index) {
                    tracing::error!(
                        "the index is damaged ({what}); rebuilding it from the content"
                    );
                    shared.damage.found.store(true, Ordering::Release);
                    found();
                }
            }
        })?;
    Ok(())
}

/// What is wrong with `index`'s files, if anything: a checksum that does
/// not match, a file that cannot be read, or one that stays missing.
fn damaged(index: &tantivy::Index) -> Option<String> {
    let mut missing: Vec<PathBuf> = Vec::new();
    for _ in 0..PASSES_FOR_A_MISSING_FILE {
        match index.validate_checksum() {
            Ok(files) if files.is_empty() => return None,
            Ok(files) => {
                let mut names: Vec<String> =
                    files.iter().map(|f| f.display().to_string()).collect();
                names.sort();
                return Some(format!("checksum mismatch in {}", names.join(", ")));
            }
            Err(TantivyError::OpenReadError(OpenReadError::FileDoesNotExist(path))) => {
                missing.push(path)
            }
            Err(e) => return Some(e.to_string()),
        }
    }
    // Another file each time is merges at work, not damage.
    match missing.first() {
        Some(first) if missing.iter().all(|m| m == first) => {
            Some(format!("{} is missing", first.display()))
        }
        _ => None,
    }
}
