//! The database file under a running server: created readable by its owner
//! only, its identity (device, inode) remembered, and every connection
//! reopened when the path no longer names that file, so nothing is written
//! into an unlinked file. A damaged file is noted for `/healthz` and
//! refuses writes until it is replaced.

use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode};

use super::schema::{self, MigrateError};
use super::{StoreError, StoreFailure};

/// The file's mode: it holds ticket subjects and readers' comments.
const MODE: u32 = 0o600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId {
    dev: u64,
    ino: u64,
}

fn file_id(path: &Path) -> Option<FileId> {
    std::fs::metadata(path).ok().map(|m| FileId {
        dev: m.dev(),
        ino: m.ino(),
    })
}

/// The connection that writes (feedback, the log) and the file it opened.
struct Writer {
    /// `None` once the file could not be opened again.
    conn: Option<Connection>,
    file: Option<FileId>,
}

/// Whether an operation changes the database: a damaged one refuses writes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Use {
    Read,
    Write,
}

pub(super) struct Db {
    /// `None` for a database in memory.
    path: Option<PathBuf>,
    writer: Mutex<Writer>,
    /// The insights' own connection, so the long reads never hold the
    /// writer (WAL lets readers and a writer run at once). `None` in memory.
    reader: Mutex<Option<Connection>>,
    /// What is wrong with the file, and whether it refuses writes (a
    /// damaged file does; a new file after a lost one does not).
    failure: Mutex<Option<(StoreFailure, Refuses)>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Refuses {
    Writes,
    Nothing,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a connection leaves SQLite consistent.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Db {
    pub(super) fn open(path: &Path) -> Result<Db, StoreError> {
        let (writer, reader, damage) = open_file(path)?;
        let db = Db {
            path: Some(path.to_path_buf()),
            writer: Mutex::new(Writer {
                conn: Some(writer),
                file: file_id(path),
            }),
            reader: Mutex::new(Some(reader)),
            failure: Mutex::new(None),
        };
        if let Some(cause) = damage {
            db.note_failure(cause, Refuses::Writes);
        }
        Ok(db)
    }

    pub(super) fn in_memory() -> Result<Db, StoreError> {
        let mut conn = Connection::open_in_memory()?;
        schema::migrate(&mut conn).map_err(|e| migrate_error(Path::new(":memory:"), e))?;
        Ok(Db {
            path: None,
            writer: Mutex::new(Writer {
                conn: Some(conn),
                file: None,
            }),
            reader: Mutex::new(None),
            failure: Mutex::new(None),
        })
    }

    /// Why the database cannot be trusted now, if it cannot.
    pub(super) fn failure(&self) -> Option<StoreFailure> {
        lock(&self.failure).as_ref().map(|(f, _)| f.clone())
    }

    fn refuses_writes(&self) -> bool {
        lock(&self.failure)
            .as_ref()
            .is_some_and(|(_, r)| *r == Refuses::Writes)
    }

    fn note_failure(&self, cause: String, refuses: Refuses) {
        let mut failure = lock(&self.failure);
        if failure.is_none() {
            tracing::error!("the database {}: {cause}", self.shown_path());
            let since = chrono::Utc::now();
            *failure = Some((StoreFailure { cause, since }, refuses));
        }
    }

    fn shown_path(&self) -> String {
        self.path
            .as_ref()
            .map_or("in memory".into(), |p| p.display().to_string())
    }

    /// Runs `f` on the writing connection, after making sure it still
    /// writes the file the path names.
    pub(super) fn write<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        self.with_writer(Use::Write, f)
    }

    pub(super) fn with_writer<T>(
        &self,
        purpose: Use,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let mut writer = lock(&self.writer);
        self.follow_path(&mut writer);
        if purpose == Use::Write && self.refuses_writes() {
            return Err(StoreError::Damaged);
        }
        let conn = writer.conn.as_mut().ok_or(StoreError::Missing)?;
        let result = f(conn);
        self.checked(result)
    }

    /// Runs `f` on the reading connection (the writing one in memory).
    pub(super) fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let reader = lock(&self.reader);
        match reader.as_ref() {
            Some(conn) => {
                let result = f(conn);
                drop(reader);
                self.checked(result)
            }
            None => {
                drop(reader);
                self.with_writer(Use::Read, |conn| f(conn))
            }
        }
    }

    /// An SQL error, with damage noted for `/healthz`.
    fn checked<T>(&self, result: rusqlite::Result<T>) -> Result<T, StoreError> {
        result.map_err(|e| match damage_cause(&e) {
            Some(cause) => {
                self.note_failure(cause, Refuses::Writes);
                StoreError::Damaged
            }
            None => StoreError::Sql(e),
        })
    }

    /// Compares the file with the path (for the log's thread, between
    /// batches), reopening when they differ.
    pub(super) fn watch(&self) {
        let mut writer = lock(&self.writer);
        self.follow_path(&mut writer);
    }

    /// SQLite's quick check of every page (for the log's thread, at
    /// start: it reads the whole file); a failure is noted.
    pub(super) fn check_integrity(&self) {
        match self.read(|conn| Ok(integrity(conn))) {
            Ok(Some(cause)) => self.note_failure(cause, Refuses::Writes),
            Ok(None) | Err(StoreError::Damaged) => {}
            Err(e) => tracing::warn!("cannot check the database: {e}"),
        }
    }

    fn follow_path(&self, writer: &mut Writer) {
        let Some(path) = &self.path else { return };
        let now = file_id(path);
        if writer.conn.is_some() && now.is_some() && now == writer.file {
            return;
        }
        if let Err(e) = self.reopen(path, writer, now) {
            tracing::error!("cannot open the database {} again: {e}", path.display());
        }
    }
}

impl Db {
    /// The path names another file, or none. Every connection to the old
    /// file closes before the path is opened again, because SQLite finds
    /// the WAL and shared-memory files by name. A deleted file is first
    /// copied out of the open connection, so nothing acknowledged is lost.
    fn reopen(
        &self,
        path: &Path,
        writer: &mut Writer,
        now: Option<FileId>,
    ) -> Result<(), StoreError> {
        let was_damaged = self.refuses_writes();
        let copy = match (&writer.conn, now) {
            (Some(old), None) if !was_damaged => Some(copy_out(old, path)),
            _ => None,
        };
        writer.conn = None;
        *lock(&self.reader) = None;
        let mut lost = false;
        if file_id(path).is_none() {
            // The old file's, if its last connection left them: they would
            // be read as the new file's.
            for stale in [sibling(path, "-wal"), sibling(path, "-shm")] {
                let _ = std::fs::remove_file(stale);
            }
            lost = copy.is_some_and(|copy| match put_back(copy, path) {
                Ok(()) => false,
                Err(e) => {
                    tracing::error!("cannot copy the deleted database back: {e}");
                    true
                }
            });
        }
        let (conn, reader, damage) = open_file(path)?;
        writer.file = file_id(path);
        let damage = damage.or_else(|| integrity(&conn));
        writer.conn = Some(conn);
        *lock(&self.reader) = Some(reader);
        *lock(&self.failure) = None;
        tracing::warn!(
            "the database {} was {} while serving; {}",
            path.display(),
            if now.is_some() { "replaced" } else { "deleted" },
            match (now, was_damaged, lost) {
                (Some(_), _, _) => "the file now at that path is used",
                (None, true, _) => "the damaged one is left, a new one is started",
                (None, false, false) => "it is written again with everything it held",
                (None, false, true) => "a new one is started",
            }
        );
        if let Some(cause) = damage {
            self.note_failure(cause, Refuses::Writes);
        } else if lost {
            self.note_failure(
                "the database file was deleted under the server and could not be copied back; earlier feedback is lost".into(),
                Refuses::Nothing,
            );
        }
        Ok(())
    }
}

/// Writes what `conn` reads (a deleted file, through its still-open
/// descriptors) into a new file beside `path`.
fn copy_out(conn: &Connection, path: &Path) -> Result<PathBuf, StoreError> {
    let copy = sibling(path, ".restored");
    let _ = std::fs::remove_file(&copy);
    let file_error = |source| StoreError::File {
        path: copy.clone(),
        source,
    };
    // The whole data folder may be gone.
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(file_error)?;
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(MODE)
        .open(&copy)
        .map_err(file_error)?;
    let target = copy
        .to_str()
        .ok_or_else(|| file_error(std::io::Error::other("the path is not UTF-8")))?;
    conn.execute("VACUUM INTO ?1", [target])?;
    Ok(copy)
}

/// Moves the copy into place, durably (the folder is synced too).
fn put_back(copy: Result<PathBuf, StoreError>, path: &Path) -> Result<(), StoreError> {
    let copy = copy?;
    let file_error = |source| StoreError::File {
        path: path.to_path_buf(),
        source,
    };
    std::fs::rename(&copy, path).map_err(file_error)?;
    if let Some(parent) = path.parent() {
        std::fs::File::open(parent)
            .and_then(|dir| dir.sync_all())
            .map_err(file_error)?;
    }
    Ok(())
}

/// Which kind of damage an SQL error shows, in words without paths.
fn damage_cause(e: &rusqlite::Error) -> Option<String> {
    match e.sqlite_error_code()? {
        ErrorCode::DatabaseCorrupt => {
            Some("the database is damaged (SQLite found a malformed page)".into())
        }
        ErrorCode::NotADatabase => Some("the database file is not an SQLite database".into()),
        _ => None,
    }
}

/// What SQLite's quick check finds wrong, if anything, in words without
/// paths.
fn integrity(conn: &Connection) -> Option<String> {
    match conn.query_row("PRAGMA quick_check(1)", [], |row| row.get::<_, String>(0)) {
        Ok(ok) if ok == "ok" => None,
        Ok(problem) => {
            let said = problem.split_whitespace().collect::<Vec<_>>().join(" ");
            Some(format!(
                "the database is damaged: {}",
                said.chars().take(200).collect::<String>()
            ))
        }
        Err(e) => damage_cause(&e),
    }
}

fn migrate_error(path: &Path, e: MigrateError) -> StoreError {
    match e {
        MigrateError::Sql(source) => StoreError::Open {
            path: path.to_path_buf(),
            source,
        },
        MigrateError::Newer(found) => StoreError::Newer {
            path: path.to_path_buf(),
            found,
            known: schema::VERSION,
        },
    }
}

/// Creates the file with `MODE`, or puts an existing one (and its WAL and
/// shared-memory files) back to it.
fn prepare_file(path: &Path) -> Result<(), StoreError> {
    let file_error = |source| StoreError::File {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(file_error)?;
    }
    // An empty file is a new database to SQLite.
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(MODE)
        .open(path)
        .map_err(file_error)?;
    for file in [
        path.to_path_buf(),
        sibling(path, "-wal"),
        sibling(path, "-shm"),
    ] {
        let Ok(meta) = std::fs::metadata(&file) else {
            continue;
        };
        if meta.permissions().mode() & 0o777 != MODE
            && let Err(e) = std::fs::set_permissions(&file, std::fs::Permissions::from_mode(MODE))
        {
            tracing::warn!(
                "cannot make {} readable by its owner only: {e}",
                file.display()
            );
        }
    }
    Ok(())
}

/// `quire.db-wal` from `quire.db`.
pub(super) fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(suffix);
    PathBuf::from(name)
}

/// Opens the file for writing and for reading; a damaged file still opens,
/// with the damage's cause.
fn open_file(path: &Path) -> Result<(Connection, Connection, Option<String>), StoreError> {
    prepare_file(path)?;
    let open_error = |source| StoreError::Open {
        path: path.to_path_buf(),
        source,
    };
    let mut writer = Connection::open(path).map_err(open_error)?;
    let damage = match set_up_writer(&mut writer) {
        Ok(()) => None,
        Err(MigrateError::Sql(e)) if damage_cause(&e).is_some() => damage_cause(&e),
        Err(e) => return Err(migrate_error(path, e)),
    };
    let reader = Connection::open(path).map_err(open_error)?;
    reader
        .busy_timeout(BUSY)
        .and_then(|()| reader.pragma_update(None, "query_only", true))
        .map_err(open_error)?;
    Ok((writer, reader, damage))
}

/// How long a connection waits for another's lock before failing.
const BUSY: Duration = Duration::from_secs(5);

fn set_up_writer(conn: &mut Connection) -> Result<(), MigrateError> {
    conn.busy_timeout(BUSY)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    schema::migrate(conn)
}
