//! The embedded backend: one SQLite file (`<data>/quire.db`, mode 0600)
//! in WAL with `synchronous = FULL`, so an acknowledged write survives a
//! `kill -9` and a power cut. Feedback is written at once; the search log
//! goes through a bounded queue to the log's thread (`log`), which also
//! watches the file (`file`).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{SyncSender, TrySendError};
use std::time::Duration;

use rusqlite::params;

use super::file::{Db, Use};
use super::log::{self, Event};
use super::{
    Feedback, Insights, QUEUE, SearchEvent, StoreError, StoreFailure, Verdict, insights, now,
};

pub(super) struct Sqlite {
    pub(super) db: Arc<Db>,
    /// To the log's thread; also what ends it when the store is dropped.
    log: Option<SyncSender<Event>>,
    analytics: bool,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sqlite {
    /// Opens (or creates) the database at `path`, and starts its thread:
    /// it writes the search log when `analytics` is on (deleting queries
    /// older than `retention_days` now and once a day), checks the file
    /// once and watches it for deletion.
    pub(super) fn open(
        path: &Path,
        analytics: bool,
        retention_days: u32,
    ) -> Result<Sqlite, StoreError> {
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
        Ok(Sqlite {
            db,
            log: thread.as_ref().map(|_| tx),
            analytics: analytics && thread.is_some(),
            thread,
        })
    }

    /// A database in memory, for tests and for running without a data folder.
    pub(super) fn in_memory(analytics: bool) -> Result<Sqlite, StoreError> {
        // Without a thread to batch them, searches are not logged.
        if analytics {
            tracing::debug!("no data folder: searches are not logged");
        }
        Ok(Sqlite {
            db: Arc::new(Db::in_memory()?),
            log: None,
            analytics: false,
            thread: None,
        })
    }

    /// Why the database cannot be trusted (damaged, or lost under the
    /// server), since when; `None` while it is sound.
    pub(super) fn health(&self) -> Option<StoreFailure> {
        self.db.failure()
    }

    /// Inserts a piece of feedback; its id once durable.
    pub(super) fn insert_feedback(
        &self,
        card_id: &str,
        verdict: Verdict,
        comment: Option<&str>,
        created_at: i64,
    ) -> Result<i64, StoreError> {
        self.db.write(|conn| {
            conn.prepare_cached(
                "INSERT INTO feedback (card_id, verdict, comment, created_at) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![card_id, verdict.as_str(), comment, created_at])?;
            Ok(conn.last_insert_rowid())
        })
    }

    /// Marks a card's open "outdated" feedback resolved; returns how many.
    pub(super) fn resolve(&self, card_ids: &[String]) -> Result<usize, StoreError> {
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
    pub(super) fn feedback_for(
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
    pub(super) fn open_flags(
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

    pub(super) fn remove_feedback(
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

    pub(super) fn most_read(&self, since: i64, limit: usize) -> Result<Vec<String>, StoreError> {
        self.db
            .with_writer(Use::Read, |conn| insights::most_read(conn, since, limit))
    }

    pub(super) fn open_flag_counts(&self) -> Result<HashMap<String, usize>, StoreError> {
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

    pub(super) fn send(&self, event: Event) {
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
    pub(super) fn insights(&self, since: i64, limit: usize) -> Result<Insights, StoreError> {
        self.db.read(|conn| insights::read(conn, since, limit))
    }

    /// Waits until every event queued so far is written (for tests and
    /// shutdown): queues a marker and waits for it to reach the table.
    pub(super) fn flush(&self) {
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

impl Drop for Sqlite {
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
    let columns = (row.get(0)?, row.get(1)?, row.get(2)?);
    Ok(Feedback::from_columns(
        columns,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
    ))
}
