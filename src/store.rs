//! The written data: readers' feedback on cards and the search log, in one
//! embedded SQLite database (`<data>/quire.db`). WAL with `synchronous =
//! FULL`, so a write that was acknowledged survives a `kill -9` (and a power
//! cut). Feedback is written at once; searches and opens are queued and
//! written in batches by a thread of their own, so logging never slows a
//! search, and dropped rather than queued without bound.
//!
//! The only file that names rusqlite.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, params};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database {path}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("database error")]
    Sql(#[from] rusqlite::Error),
}

impl StoreError {
    /// Why nothing can be written now, when the cause is the disk rather
    /// than the request: the reader may retry once it is fixed.
    pub fn unavailable(&self) -> Option<&'static str> {
        let (Self::Sql(e) | Self::Open { source: e, .. }) = self;
        use rusqlite::ErrorCode::*;
        match e.sqlite_error_code()? {
            DiskFull => Some("the disk is full"),
            ReadOnly => Some("the database is read-only"),
            SystemIoFailure | CannotOpen => Some("the database cannot be written"),
            DatabaseBusy | DatabaseLocked => Some("the database is busy"),
            _ => None,
        }
    }
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

enum Event {
    Search(SearchEvent),
    Open(OpenEvent),
}

/// Events waiting to be written past this many are dropped.
const QUEUE: usize = 4096;
/// A batch is written when it holds this many events or this long passed.
const BATCH: usize = 256;
const BATCH_WAIT: Duration = Duration::from_millis(500);

pub struct Store {
    conn: Mutex<Connection>,
    log: Option<SyncSender<Event>>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY,
    card_id TEXT NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ('helpful', 'outdated')),
    comment TEXT,
    created_at INTEGER NOT NULL,
    resolved_at INTEGER
);
CREATE INDEX IF NOT EXISTS feedback_card ON feedback (card_id);
CREATE TABLE IF NOT EXISTS searches (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    query TEXT NOT NULL,
    filters TEXT NOT NULL,
    hits INTEGER NOT NULL,
    source TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS searches_at ON searches (at);
CREATE TABLE IF NOT EXISTS opens (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    card_id TEXT NOT NULL,
    query TEXT,
    source TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS opens_at ON opens (at);
";

fn connect(path: &Path) -> Result<Connection, rusqlite::Error> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.execute_batch(SCHEMA)?;
    Ok(conn)
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Store {
    /// Opens (or creates) the database at `path`; `analytics` starts the
    /// search log's writer. Queries older than `retention_days` are deleted
    /// now and once a day.
    pub fn open(path: &Path, analytics: bool, retention_days: u32) -> Result<Store, StoreError> {
        let open_error = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        if let Some(parent) = path.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        let conn = connect(path).map_err(open_error)?;
        let log = if analytics {
            let writer = connect(path).map_err(open_error)?;
            let (tx, rx) = std::sync::mpsc::sync_channel(QUEUE);
            let retention = i64::from(retention_days) * 86_400;
            std::thread::Builder::new()
                .name("quire-insight".into())
                .spawn(move || write_log(writer, rx, retention))
                .map_err(|e| {
                    tracing::warn!("search log disabled: {e}");
                })
                .ok()
                .map(|_| tx)
        } else {
            None
        };
        Ok(Store {
            conn: Mutex::new(conn),
            log,
        })
    }

    /// A database in memory, for tests and for running without a data folder.
    pub fn in_memory(analytics: bool) -> Result<Store, StoreError> {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch(SCHEMA)?;
        // A memory database lives in one connection, so the writer thread
        // cannot share it: without a data folder, searches are not logged.
        if analytics {
            tracing::debug!("no data folder: searches are not logged");
        }
        Ok(Store {
            conn: Mutex::new(conn),
            log: None,
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stores feedback; returns once it is durable.
    pub fn add_feedback(
        &self,
        card_id: &str,
        verdict: Verdict,
        comment: Option<&str>,
    ) -> Result<Feedback, StoreError> {
        let created_at = now();
        let conn = self.conn();
        conn.execute(
            "INSERT INTO feedback (card_id, verdict, comment, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![card_id, verdict.as_str(), comment, created_at],
        )?;
        Ok(Feedback {
            id: conn.last_insert_rowid(),
            card_id: card_id.to_string(),
            verdict,
            comment: comment.map(str::to_string),
            created_at,
            resolved_at: None,
        })
    }

    /// Marks a card's open "outdated" feedback resolved; returns how many.
    pub fn resolve(&self, card_ids: &[String]) -> Result<usize, StoreError> {
        let conn = self.conn();
        let mut resolved = 0;
        for id in card_ids {
            resolved += conn.execute(
                "UPDATE feedback SET resolved_at = ?1 WHERE card_id = ?2 AND verdict = 'outdated' AND resolved_at IS NULL",
                params![now(), id],
            )?;
        }
        Ok(resolved)
    }

    /// The newest `limit` pieces of feedback given on any of `card_ids` (a
    /// card's id and its old ids), newest first.
    pub fn feedback_for(
        &self,
        card_ids: &[String],
        limit: usize,
    ) -> Result<Vec<Feedback>, StoreError> {
        let conn = self.conn();
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
        let conn = self.conn();
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
        flags.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        flags.truncate(limit);
        Ok((flags, total))
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
        if let Some(log) = &self.log
            && let Err(TrySendError::Full(_)) = log.try_send(event)
        {
            tracing::debug!("search log queue full; an event was dropped");
        }
    }

    /// What readers searched for and read since `since` (seconds).
    pub fn insights(&self, since: i64, limit: usize) -> Result<Insights, StoreError> {
        let conn = self.conn();
        let counts = |sql: &str| -> Result<Vec<QueryCount>, rusqlite::Error> {
            let mut statement = conn.prepare(sql)?;
            let rows = statement.query_map(params![since, limit as i64], |row| {
                Ok(QueryCount {
                    text: row.get(0)?,
                    count: row.get(1)?,
                    hits: row.get(2)?,
                })
            })?;
            rows.collect()
        };
        let searches: i64 = conn.query_row(
            "SELECT COUNT(*) FROM searches WHERE at >= ?1",
            [since],
            |row| row.get(0),
        )?;
        Ok(Insights {
            searches,
            top_queries: counts(
                "SELECT lower(trim(query)) AS q, COUNT(*), CAST(AVG(hits) AS INTEGER) FROM searches
                 WHERE at >= ?1 AND trim(query) != '' GROUP BY q ORDER BY COUNT(*) DESC, q LIMIT ?2",
            )?,
            no_results: counts(
                "SELECT lower(trim(query)) AS q, COUNT(*), 0 FROM searches
                 WHERE at >= ?1 AND hits = 0 AND trim(query) != '' GROUP BY q ORDER BY COUNT(*) DESC, q LIMIT ?2",
            )?,
            never_opened: counts(
                "SELECT lower(trim(s.query)) AS q, COUNT(*), CAST(AVG(s.hits) AS INTEGER) FROM searches s
                 WHERE s.at >= ?1 AND s.hits > 0 AND trim(s.query) != ''
                   AND NOT EXISTS (SELECT 1 FROM opens o WHERE o.at >= ?1 AND lower(trim(o.query)) = lower(trim(s.query)))
                 GROUP BY q ORDER BY COUNT(*) DESC, q LIMIT ?2",
            )?,
            most_read: counts(
                "SELECT card_id, COUNT(*), 0 FROM opens WHERE at >= ?1
                 GROUP BY card_id ORDER BY COUNT(*) DESC, card_id LIMIT ?2",
            )?,
            most_flagged: counts(
                "SELECT card_id, COUNT(*), SUM(resolved_at IS NULL) FROM feedback WHERE created_at >= ?1 AND verdict = 'outdated'
                 GROUP BY card_id ORDER BY COUNT(*) DESC, card_id LIMIT ?2",
            )?,
        })
    }

    /// Waits until every event queued so far is written (for tests and
    /// shutdown): queues a marker and waits for it to reach the table.
    pub fn flush(&self) {
        let Some(log) = &self.log else { return };
        if log
            .send(Event::Search(SearchEvent {
                at: 0,
                query: String::new(),
                filters: String::new(),
                hits: 0,
                source: FLUSH_MARKER,
            }))
            .is_err()
        {
            return;
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            let conn = self.conn();
            let removed = conn
                .execute("DELETE FROM searches WHERE source = ?1", [FLUSH_MARKER])
                .unwrap_or(0);
            if removed > 0 {
                return;
            }
            drop(conn);
            std::thread::sleep(Duration::from_millis(5));
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

/// A query (or card id) and how often it came up.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct QueryCount {
    pub text: String,
    pub count: i64,
    /// Average hits for queries; unresolved flags for flagged cards.
    pub hits: i64,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Insights {
    pub searches: i64,
    pub top_queries: Vec<QueryCount>,
    pub no_results: Vec<QueryCount>,
    pub never_opened: Vec<QueryCount>,
    pub most_read: Vec<QueryCount>,
    pub most_flagged: Vec<QueryCount>,
}

/// The log writer: batches of events in one transaction each; old queries
/// deleted at start and daily.
fn write_log(mut conn: Connection, rx: Receiver<Event>, retention: i64) {
    let mut last_pruned = 0;
    loop {
        if now() - last_pruned > 86_400 {
            let cutoff = now() - retention;
            let pruned = conn
                .execute("DELETE FROM searches WHERE at < ?1", [cutoff])
                .and_then(|_| conn.execute("DELETE FROM opens WHERE at < ?1", [cutoff]));
            if let Err(e) = pruned {
                tracing::warn!("pruning the search log: {e}");
            }
            last_pruned = now();
        }
        let Ok(first) = rx.recv() else { return };
        let mut batch = vec![first];
        let started = std::time::Instant::now();
        while batch.len() < BATCH {
            let left = BATCH_WAIT.saturating_sub(started.elapsed());
            match rx.recv_timeout(left) {
                Ok(event) => batch.push(event),
                Err(_) => break,
            }
        }
        if let Err(e) = write_batch(&mut conn, &batch) {
            tracing::warn!("writing the search log: {e}");
        }
    }
}

fn write_batch(conn: &mut Connection, batch: &[Event]) -> Result<(), rusqlite::Error> {
    let tx = conn.transaction()?;
    for event in batch {
        match event {
            Event::Search(s) => {
                tx.execute(
                    "INSERT INTO searches (at, query, filters, hits, source) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![s.at, s.query, s.filters, s.hits as i64, s.source],
                )?;
            }
            Event::Open(o) => {
                tx.execute(
                    "INSERT INTO opens (at, card_id, query, source) VALUES (?1, ?2, ?3, ?4)",
                    params![o.at, o.card_id, o.query, o.source],
                )?;
            }
        }
    }
    tx.commit()
}
