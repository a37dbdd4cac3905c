//! The written data: readers' feedback on cards and the search log, in one
//! embedded SQLite database (`<data>/quire.db`, mode 0600). WAL with
//! `synchronous = FULL`, so a write that was acknowledged survives a `kill
//! -9` (and a power cut). Feedback is written at once; searches and opens
//! are capped in size, queued and written in batches by a thread of their
//! own, so logging never slows a search, and dropped rather than queued
//! without bound. Written state, not a cache: a file deleted or damaged
//! under the server is noticed (`file`).
//!
//! The only module that names rusqlite.

mod file;
mod flag_counts;
mod insights;
mod log;
mod schema;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{SyncSender, TrySendError};
use std::time::Duration;

use rusqlite::params;
use serde::Serialize;

use file::{Db, Use};
pub use flag_counts::FlagCounts;
pub use insights::{Insights, QueryCount};
use log::Event;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database {path}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("cannot create the database {path}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the database {path} was written by a newer Quire (schema {found}; this one knows up to {known}): upgrade Quire, or move the file away to start a new one"
    )]
    Newer {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    /// The cause is on `/healthz` and in the log.
    #[error("the database is damaged")]
    Damaged,
    #[error("the database file was deleted and cannot be created again")]
    Missing,
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
}

impl StoreError {
    /// Why nothing can be written now, when the cause is the disk or the
    /// file rather than the request: the reader may retry once it is fixed.
    pub fn unavailable(&self) -> Option<&'static str> {
        use rusqlite::ErrorCode::*;
        let e = match self {
            Self::Damaged => return Some("the database is damaged"),
            Self::Missing | Self::File { .. } => return Some("the database cannot be written"),
            Self::Newer { .. } => return None,
            Self::Sql(e) | Self::Open { source: e, .. } => e,
        };
        match e.sqlite_error_code()? {
            DiskFull => Some("the disk is full"),
            ReadOnly => Some("the database is read-only"),
            SystemIoFailure | CannotOpen => Some("the database cannot be written"),
            DatabaseBusy | DatabaseLocked => Some("the database is busy"),
            _ => None,
        }
    }
}

/// Why the database cannot be trusted now, for `/healthz`: the cause in
/// words, without paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreFailure {
    pub cause: String,
    pub since: chrono::DateTime<chrono::Utc>,
}

/// A reader's verdict on a card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Helpful,
    Outdated,
}

impl Verdict {
    pub fn parse(s: &str) -> Option<Verdict> {
        match s.trim().to_ascii_lowercase().as_str() {
            "helpful" => Some(Verdict::Helpful),
            "outdated" | "wrong" | "outdated/wrong" => Some(Verdict::Outdated),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Helpful => "helpful",
            Verdict::Outdated => "outdated",
        }
    }
}

/// One piece of feedback as stored.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Feedback {
    pub id: i64,
    pub card_id: String,
    pub verdict: Verdict,
    pub comment: Option<String>,
    /// Seconds since the Unix epoch.
    pub created_at: i64,
    pub resolved_at: Option<i64>,
}

/// A search as the log keeps it.
#[derive(Debug, Clone)]
pub struct SearchEvent {
    pub at: i64,
    pub query: String,
    /// `tag=billing&lang=ru`: the filters, for reading, not for querying.
    pub filters: String,
    pub hits: u64,
    /// `site`, `api`, `sidebar`, `mcp`, `match`...
    pub source: &'static str,
}

/// A card opened, from a search (`query`) or directly.
#[derive(Debug, Clone)]
pub struct OpenEvent {
    pub at: i64,
    pub card_id: String,
    pub query: Option<String>,
    pub source: &'static str,
}

/// Events waiting to be written past this many are dropped.
const QUEUE: usize = 4096;

pub struct Store {
    db: Arc<Db>,
    /// To the log's thread; also what ends it when the store is dropped.
    log: Option<SyncSender<Event>>,
    analytics: bool,
    thread: Option<std::thread::JoinHandle<()>>,
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Store {
    /// Opens (or creates) the database at `path`, and starts its thread:
    /// it writes the search log when `analytics` is on (deleting queries
    /// older than `retention_days` now and once a day), checks the file
    /// once and watches it for deletion.
    pub fn open(path: &Path, analytics: bool, retention_days: u32) -> Result<Store, StoreError> {
        let db = Arc::new(Db::open(path)?);
        let (tx, rx) = std::sync::mpsc::sync_channel(QUEUE);
        let retention = analytics.then_some(i64::from(retention_days) * 86_400);
        let thread = {
            let db = db.clone();
            std::thread::Builder::new()
                .name("quire-store".into())
                .spawn(move || log::run(db, rx, retention))
        };
        let thread = thread
            .map_err(|e| tracing::warn!("search log disabled, database not watched: {e}"))
            .ok();
        Ok(Store {
            db,
            log: thread.as_ref().map(|_| tx),
            analytics: analytics && thread.is_some(),
            thread,
        })
    }

    /// A database in memory, for tests and for running without a data folder.
    pub fn in_memory(analytics: bool) -> Result<Store, StoreError> {
        // Without a thread to batch them, searches are not logged.
        if analytics {
            tracing::debug!("no data folder: searches are not logged");
        }
        Ok(Store {
            db: Arc::new(Db::in_memory()?),
            log: None,
            analytics: false,
            thread: None,
        })
    }

    /// Why the database cannot be trusted (damaged, or lost under the
    /// server), since when; `None` while it is sound.
    pub fn health(&self) -> Option<StoreFailure> {
        self.db.failure()
    }

    /// Stores feedback; returns once it is durable.
    pub fn add_feedback(
        &self,
        card_id: &str,
        verdict: Verdict,
        comment: Option<&str>,
    ) -> Result<Feedback, StoreError> {
        let created_at = now();
        let id = self.db.write(|conn| {
            conn.prepare_cached(
                "INSERT INTO feedback (card_id, verdict, comment, created_at) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![card_id, verdict.as_str(), comment, created_at])?;
            Ok(conn.last_insert_rowid())
        })?;
        Ok(Feedback {
            id,
            card_id: card_id.to_string(),
            verdict,
            comment: comment.map(str::to_string),
            created_at,
            resolved_at: None,
        })
    }

    /// Marks a card's open "outdated" feedback resolved; returns how many.
    pub fn resolve(&self, card_ids: &[String]) -> Result<usize, StoreError> {
        self.db.write(|conn| {
            let mut resolved = 0;
            for id in card_ids {
                resolved += conn.execute(
                    "UPDATE feedback SET resolved_at = ?1 WHERE card_id = ?2 AND verdict = 'outdated' AND resolved_at IS NULL",
                    params![now(), id],
                )?;
            }
            Ok(resolved)
        })
    }

    /// The newest `limit` pieces of feedback given on any of `card_ids` (a
    /// card's id and its old ids), newest first.
    pub fn feedback_for(
        &self,
        card_ids: &[String],
        limit: usize,
    ) -> Result<Vec<Feedback>, StoreError> {
        let mut all = self.db.with_writer(Use::Read, |conn| {
            let mut statement = conn.prepare_cached(
                "SELECT id, card_id, verdict, comment, created_at, resolved_at FROM feedback
                 WHERE card_id = ?1 ORDER BY created_at DESC, id DESC LIMIT ?2",
            )?;
            let mut all = Vec::new();
            for id in card_ids {
                let rows = statement.query_map(params![id, limit as i64], feedback_row)?;
                for row in rows {
                    all.push(row?);
                }
            }
            Ok(all)
        })?;
        all.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        all.truncate(limit);
        Ok(all)
    }

    /// The newest `limit` of a card's open "outdated" flags (under any of
    /// `card_ids`), and how many it has in all: a card page shows a few,
    /// however many readers flagged it.
    pub fn open_flags(
        &self,
        card_ids: &[String],
        limit: usize,
    ) -> Result<(Vec<Feedback>, usize), StoreError> {
        let (mut flags, total) = self.db.with_writer(Use::Read, |conn| {
            let mut newest = conn.prepare_cached(
                "SELECT id, card_id, verdict, comment, created_at, resolved_at FROM feedback
                 WHERE card_id = ?1 AND verdict = 'outdated' AND resolved_at IS NULL
                 ORDER BY created_at DESC, id DESC LIMIT ?2",
            )?;
            let mut count = conn.prepare_cached(
                "SELECT COUNT(*) FROM feedback
                 WHERE card_id = ?1 AND verdict = 'outdated' AND resolved_at IS NULL",
            )?;
            let mut flags = Vec::new();
            let mut total = 0usize;
            for id in card_ids {
                let rows = newest.query_map(params![id, limit as i64], feedback_row)?;
                for row in rows {
                    flags.push(row?);
                }
                let n: i64 = count.query_row([id], |row| row.get(0))?;
                total += usize::try_from(n).unwrap_or(0);
            }
            Ok((flags, total))
        })?;
        flags.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        flags.truncate(limit);
        Ok((flags, total))
    }

    /// Deletes the feedback `id` if it was given on one of `card_ids` at
    /// or after `since`; whether it did.
    pub fn remove_feedback(
        &self,
        id: i64,
        card_ids: &[String],
        since: i64,
    ) -> Result<bool, StoreError> {
        self.db.write(|conn| {
            let mut removed = 0;
            for card in card_ids {
                removed += conn.execute(
                    "DELETE FROM feedback WHERE id = ?1 AND card_id = ?2 AND created_at >= ?3",
                    params![id, card, since],
                )?;
            }
            Ok(removed > 0)
        })
    }

    /// The ids of the cards opened most since `since` (seconds), most first.
    pub fn most_read(&self, since: i64, limit: usize) -> Result<Vec<String>, StoreError> {
        self.db
            .with_writer(Use::Read, |conn| insights::most_read(conn, since, limit))
    }

    /// Every card with open "outdated" flags, and how many it has.
    pub fn open_flag_counts(&self) -> Result<HashMap<String, usize>, StoreError> {
        self.db.with_writer(Use::Read, |conn| {
            let mut statement = conn.prepare_cached(
                "SELECT card_id, COUNT(*) FROM feedback
                 WHERE verdict = 'outdated' AND resolved_at IS NULL GROUP BY card_id",
            )?;
            let rows = statement.query_map([], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
            })?;
            let mut counts = HashMap::new();
            for row in rows {
                let (id, n) = row?;
                counts.insert(id, usize::try_from(n).unwrap_or(0));
            }
            Ok(counts)
        })
    }

    /// Queues a search for the log; never blocks.
    pub fn log_search(&self, event: SearchEvent) {
        self.send(Event::Search(event));
    }

    /// Queues a card opening for the log; never blocks.
    pub fn log_open(&self, event: OpenEvent) {
        self.send(Event::Open(event));
    }

    fn send(&self, event: Event) {
        if !self.analytics {
            return;
        }
        if let Some(log) = &self.log
            && let Err(TrySendError::Full(_)) = log.try_send(event.capped())
        {
            tracing::debug!("search log queue full; an event was dropped");
        }
    }

    /// What readers searched for and read since `since` (seconds), on a
    /// connection of its own: feedback is written meanwhile.
    pub fn insights(&self, since: i64, limit: usize) -> Result<Insights, StoreError> {
        self.db.read(|conn| insights::read(conn, since, limit))
    }

    /// Waits until every event queued so far is written (for tests and
    /// shutdown): queues a marker and waits for it to reach the table.
    pub fn flush(&self) {
        let Some(log) = self.log.as_ref().filter(|_| self.analytics) else {
            return;
        };
        let marker = SearchEvent {
            at: 0,
            query: String::new(),
            filters: String::new(),
            hits: 0,
            source: FLUSH_MARKER,
        };
        if log.send(Event::Search(marker)).is_err() {
            return;
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            let removed = self.db.write(|conn| {
                conn.execute(
                    "DELETE FROM searches WHERE at = 0 AND source = ?1",
                    [FLUSH_MARKER],
                )
            });
            // A damaged file takes no batch: the marker never comes.
            if !matches!(removed, Ok(0)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Store {
    /// Ends the log's thread once it has written what was queued, so the
    /// file is closed when the store is gone.
    fn drop(&mut self) {
        self.log = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

const FLUSH_MARKER: &str = "flush-marker";

/// A `feedback` row selected as `id, card_id, verdict, comment,
/// created_at, resolved_at`.
fn feedback_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Feedback> {
    let verdict: String = row.get(2)?;
    Ok(Feedback {
        id: row.get(0)?,
        card_id: row.get(1)?,
        verdict: Verdict::parse(&verdict).unwrap_or(Verdict::Helpful),
        comment: row.get(3)?,
        created_at: row.get(4)?,
        resolved_at: row.get(5)?,
    })
}
