//! Finding out that the index is damaged: tantivy's checksums (a CRC in each
//! file's footer) checked on a background thread once after start and after
//! any failed read, never on a request or on the start-up path.

use std::collections::HashSet;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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
    /// Passes asked for, and the last of them that found the files intact:
    /// when the two are equal a merge may read the files. A merge copies a
    /// segment's blocks without checking them and writes new checksums
    /// over what it copied, so a merge before the check would hide the
    /// damage in a sound-looking file.
    asked: AtomicU64,
    intact: AtomicU64,
    /// Asks the checking thread for a pass. Room for one: a request made
    /// while one waits is the same request.
    ask: Mutex<Option<SyncSender<()>>>,
}

impl Damage {
    pub(super) fn is_found(&self) -> bool {
        self.found.load(Ordering::Acquire)
    }

    /// The index was rebuilt from the content: nothing found is left.
    pub(super) fn clear(&self) {
        self.intact
            .fetch_max(self.asked.load(Ordering::Acquire), Ordering::AcqRel);
        self.found.store(false, Ordering::Release);
    }

    /// Whether the files were found intact by a pass asked for after every
    /// reason to doubt them.
    pub(super) fn is_checked_intact(&self) -> bool {
        !self.is_found()
            && self.intact.load(Ordering::Acquire) == self.asked.load(Ordering::Acquire)
    }

    /// A read failed: check the files (if a checking thread runs).
    pub(super) fn suspect(&self) {
        self.asked.fetch_add(1, Ordering::AcqRel);
        if let Some(ask) = self.ask.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            let _ = ask.try_send(());
        }
    }
}

/// Starts the checking thread over `shared`, with a first pass at once.
pub(super) fn follow(
    shared: Weak<Shared>,
    dir: Option<PathBuf>,
    found: Box<dyn Fn() + Send>,
) -> std::io::Result<()> {
    let (ask, asked) = mpsc::sync_channel(1);
    let _ = ask.try_send(());
    if let Some(shared) = shared.upgrade() {
        shared.damage.asked.fetch_add(1, Ordering::AcqRel);
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
                // The pass answers every ask made before it starts.
                let answers = shared.damage.asked.load(Ordering::Acquire);
                let damage = damaged(&index, dir.as_deref());
                if damage.is_none() {
                    shared.damage.intact.fetch_max(answers, Ordering::AcqRel);
                }
                if let Some(what) = damage {
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
fn damaged(index: &tantivy::Index, dir: Option<&Path>) -> Option<String> {
    let mut missing: Vec<PathBuf> = Vec::new();
    for _ in 0..PASSES_FOR_A_MISSING_FILE {
        let pass = match dir {
            Some(dir) => check_files(index, dir),
            None => check_in_memory(index),
        };
        match pass {
            Pass::Intact => return None,
            Pass::Damaged(what) => return Some(what),
            Pass::Missing(path) => missing.push(path),
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

enum Pass {
    Intact,
    Damaged(String),
    /// A file of a live segment was not there (a merge may have removed it).
    Missing(PathBuf),
}

/// Checks each file of the live segments with plain reads, not through
/// tantivy's memory maps: reading every page through them would make the
/// whole index resident in this process (`read_once` gives the `meta`
/// column's pages back after start for that reason).
fn check_files(index: &tantivy::Index, dir: &Path) -> Pass {
    let live: HashSet<String> = match index.searchable_segment_ids() {
        Ok(ids) => ids.iter().map(|id| id.uuid_string()).collect(),
        Err(e) => return Pass::Damaged(e.to_string()),
    };
    let mut files: Vec<PathBuf> = index
        .directory()
        .list_managed_files()
        .into_iter()
        .filter(|f| {
            f.file_stem()
                .and_then(|s| s.to_str())
                .is_some_and(|s| live.contains(s))
        })
        .collect();
    files.sort();
    for file in files {
        match intact(&dir.join(&file)) {
            Ok(true) => {}
            Ok(false) => return Pass::Damaged(format!("checksum mismatch in {}", file.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Pass::Missing(file),
            Err(e) => return Pass::Damaged(format!("{}: {e}", file.display())),
        }
    }
    Pass::Intact
}

fn check_in_memory(index: &tantivy::Index) -> Pass {
    match index.validate_checksum() {
        Ok(files) if files.is_empty() => Pass::Intact,
        Ok(files) => Pass::Damaged(format!("checksum mismatch in {} files", files.len())),
        Err(TantivyError::OpenReadError(OpenReadError::FileDoesNotExist(path))) => {
            Pass::Missing(path)
        }
        Err(e) => Pass::Damaged(e.to_string()),
    }
}

/// The largest footer tantivy writes is a short JSON object.
const MAX_FOOTER: u64 = 64 * 1024;

/// Whether a tantivy file's body matches the CRC32 in its footer: the body,
/// then the footer as JSON, then its length and a magic number (u32 each,
/// little-endian), as `tantivy::directory::footer` writes them.
fn intact(path: &Path) -> std::io::Result<bool> {
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    if len < 8 {
        return Ok(false);
    }
    let mut tail = [0u8; 8];
    file.seek(SeekFrom::Start(len - 8))?;
    file.read_exact(&mut tail)?;
    let footer_len = u64::from(u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]));
    if footer_len > MAX_FOOTER || footer_len + 8 > len {
        return Ok(false);
    }
    let body_len = len - 8 - footer_len;
    let mut footer = vec![0u8; footer_len as usize];
    file.seek(SeekFrom::Start(body_len))?;
    file.read_exact(&mut footer)?;
    let Ok(footer) = serde_json::from_slice::<tantivy::directory::footer::Footer>(&footer) else {
        return Ok(false);
    };
    file.seek(SeekFrom::Start(0))?;
    let mut body = file.take(body_len);
    let mut hasher = crc32fast::Hasher::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let read = body.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hasher.finalize() == footer.crc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::schema::{STORED, Schema, TEXT};

    #[test]
    fn a_sound_index_is_intact_and_a_flipped_byte_is_damage() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut schema = Schema::builder();
        let body = schema.add_text_field("body", TEXT | STORED);
        let index = tantivy::Index::create_in_dir(dir.path(), schema.build()).expect("index");
        let mut writer: tantivy::IndexWriter = index.writer(15_000_000).expect("writer");
        for n in 0..100 {
            let mut doc = tantivy::TantivyDocument::new();
            doc.add_text(body, format!("card {n} about refunds and plans"));
            writer.add_document(doc).expect("add");
        }
        writer.commit().expect("commit");
        assert!(matches!(check_files(&index, dir.path()), Pass::Intact));

        let store = std::fs::read_dir(dir.path())
            .expect("list")
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == "store"))
            .expect("a .store file");
        let mut bytes = std::fs::read(&store).expect("read");
        bytes[10] ^= 0xff;
        std::fs::write(&store, bytes).expect("write");
        assert!(matches!(check_files(&index, dir.path()), Pass::Damaged(_)));
    }
}
