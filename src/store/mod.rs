//! The written data: readers' feedback on cards and the search log, in one
//! of two backends behind one synchronous API. By default an embedded
//! SQLite file (`sqlite`: `<data>/quire.db`); with `[store] url`, a
//! PostgreSQL database that replicas share (`postgres`). Either way an
//! acknowledged write is durable (it survives a `kill -9`), and searches
//! and opens are capped in size, queued and written in batches off the
//! request, dropped rather than queued without bound.
//!
//! The only module that names rusqlite and tokio-postgres: all SQL is here.

mod file;
mod flag_counts;
mod insights;
mod log;
mod postgres;
mod schema;
mod sqlite;
#[cfg(test)]
mod tests;
mod wait;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use flag_counts::FlagCounts;
pub use insights::{Insights, QueryCount};
use log::Event;
use postgres::Postgres;
use sqlite::Sqlite;

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
    #[error("[store] url: {0}")]
    Url(String),
    #[error("cannot connect to PostgreSQL at {target}")]
    Connect {
        /// The database without its password.
        target: String,
        source: tokio_postgres::Error,
    },
    #[error(
        "the shared database {target} was written by a newer Quire (schema {found}; this one knows up to {known}): upgrade every replica"
    )]
    NewerShared {
        target: String,
        found: i64,
        known: i64,
    },
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    #[error("PostgreSQL cannot be reached: {0}")]
    Unreachable(&'static str),
    #[error("the session key in the shared database is not 32 bytes")]
    SessionKey,
    #[error("cannot start the store's runtime")]
    Runtime(#[source] std::io::Error),
    #[error("the OS gave no random bytes for the session key")]
    NoRandomness,
}

impl StoreError {
    /// Why nothing can be written now, when the cause is the disk or the
    /// file rather than the request: the reader may retry once it is fixed.
    pub fn unavailable(&self) -> Option<&'static str> {
        use rusqlite::ErrorCode::*;
        let e = match self {
            Self::Damaged => return Some("the database is damaged"),
            Self::Missing | Self::File { .. } => return Some("the database cannot be written"),
            Self::Newer { .. }
            | Self::NewerShared { .. }
            | Self::Url(_)
            | Self::SessionKey
            | Self::NoRandomness => {
                return None;
            }
            Self::Sql(e) | Self::Open { source: e, .. } => e,
            Self::Postgres(e) | Self::Connect { source: e, .. } => return postgres_unavailable(e),
            Self::Unreachable(_) | Self::Runtime(_) => {
                return Some("the shared database cannot be reached");
            }
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

impl Feedback {
    /// A stored row: `(id, card_id, verdict)`, then the rest; a verdict
    /// this build does not know reads as helpful rather than failing the list.
    fn from_columns(
        (id, card_id, verdict): (i64, String, String),
        comment: Option<String>,
        created_at: i64,
        resolved_at: Option<i64>,
    ) -> Feedback {
        Feedback {
            id,
            card_id,
            verdict: Verdict::parse(&verdict).unwrap_or(Verdict::Helpful),
            comment,
            created_at,
            resolved_at,
        }
    }
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

/// Why PostgreSQL cannot take a write now, when the cause is the server or
/// the network rather than the request (SQLSTATE classes 08, 53, 57, and
/// a read-only standby).
fn postgres_unavailable(e: &tokio_postgres::Error) -> Option<&'static str> {
    let Some(db) = e.as_db_error() else {
        // No answer from the server at all: a connection or I/O failure.
        return Some("the shared database cannot be reached");
    };
    let code = db.code().code();
    match &code[..2] {
        "08" | "57" => Some("the shared database cannot be reached"),
        "53" => Some("the shared database is out of resources (disk, memory or connections)"),
        _ if code == "25006" => Some("the shared database is read-only"),
        _ => None,
    }
}

/// Events waiting to be written past this many are dropped.
const QUEUE: usize = 4096;

/// Where written state goes, opened once at start-up.
pub struct Store {
    backend: Backend,
}

enum Backend {
    Sqlite(Sqlite),
    Postgres(Postgres),
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// 32 bytes from the OS's random source, for a new shared session key.
fn random_key() -> Result<[u8; 32], StoreError> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|_| StoreError::NoRandomness)?;
    Ok(key)
}

impl Store {
    /// Opens (or creates) the SQLite database at `path`, and starts its
    /// thread: it writes the search log when `analytics` is on (deleting
    /// queries older than `retention_days` now and once a day), checks the
    /// file once and watches it for deletion.
    pub fn open(path: &Path, analytics: bool, retention_days: u32) -> Result<Store, StoreError> {
        Ok(Store {
            backend: Backend::Sqlite(Sqlite::open(path, analytics, retention_days)?),
        })
    }

    /// A database in memory, for tests and for running without a data folder.
    pub fn in_memory(analytics: bool) -> Result<Store, StoreError> {
        Ok(Store {
            backend: Backend::Sqlite(Sqlite::in_memory(analytics)?),
        })
    }

    /// Connects to the PostgreSQL database `url` names (with `password`
    /// when the URL has none: `PGPASSWORD`), brings its schema up to date
    /// and starts the search log's task. Fails when it cannot be reached.
    pub fn connect(
        url: &str,
        password: Option<String>,
        analytics: bool,
        retention_days: u32,
    ) -> Result<Store, StoreError> {
        Ok(Store {
            backend: Backend::Postgres(Postgres::connect(
                url,
                password,
                analytics,
                retention_days,
            )?),
        })
    }

    /// The key every replica signs the site's sessions with, when the
    /// database is shared; `None` for SQLite (the key is then a file).
    pub fn shared_session_key(&self) -> Option<[u8; 32]> {
        match &self.backend {
            Backend::Sqlite(_) => None,
            Backend::Postgres(pg) => Some(pg.session_key()),
        }
    }

    /// The SQLite backend, for its tests.
    #[cfg(test)]
    fn sqlite(&self) -> &Sqlite {
        match &self.backend {
            Backend::Sqlite(db) => db,
            Backend::Postgres(_) => panic!("the store is not SQLite"),
        }
    }

    /// Why the database cannot be trusted (damaged, lost under the server,
    /// unreachable), since when; `None` while it is sound.
    pub fn health(&self) -> Option<StoreFailure> {
        match &self.backend {
            Backend::Sqlite(db) => db.health(),
            Backend::Postgres(pg) => pg.health(),
        }
    }

    /// Stores feedback; returns once it is durable.
    pub fn add_feedback(
        &self,
        card_id: &str,
        verdict: Verdict,
        comment: Option<&str>,
    ) -> Result<Feedback, StoreError> {
        let created_at = now();
        let id = match &self.backend {
            Backend::Sqlite(db) => db.insert_feedback(card_id, verdict, comment, created_at)?,
            Backend::Postgres(pg) => pg.insert_feedback(card_id, verdict, comment, created_at)?,
        };
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
        match &self.backend {
            Backend::Sqlite(db) => db.resolve(card_ids),
            Backend::Postgres(pg) => pg.resolve(card_ids),
        }
    }

    /// The newest `limit` pieces of feedback given on any of `card_ids` (a
    /// card's id and its old ids), newest first.
    pub fn feedback_for(
        &self,
        card_ids: &[String],
        limit: usize,
    ) -> Result<Vec<Feedback>, StoreError> {
        match &self.backend {
            Backend::Sqlite(db) => db.feedback_for(card_ids, limit),
            Backend::Postgres(pg) => pg.feedback_for(card_ids, limit),
        }
    }

    /// The newest `limit` of a card's open "outdated" flags (under any of
    /// `card_ids`), and how many it has in all: a card page shows a few,
    /// however many readers flagged it.
    pub fn open_flags(
        &self,
        card_ids: &[String],
        limit: usize,
    ) -> Result<(Vec<Feedback>, usize), StoreError> {
        match &self.backend {
            Backend::Sqlite(db) => db.open_flags(card_ids, limit),
            Backend::Postgres(pg) => pg.open_flags(card_ids, limit),
        }
    }

    /// Deletes the feedback `id` if it was given on one of `card_ids` at
    /// or after `since`; whether it did.
    pub fn remove_feedback(
        &self,
        id: i64,
        card_ids: &[String],
        since: i64,
    ) -> Result<bool, StoreError> {
        match &self.backend {
            Backend::Sqlite(db) => db.remove_feedback(id, card_ids, since),
            Backend::Postgres(pg) => pg.remove_feedback(id, card_ids, since),
        }
    }

    /// The ids of the cards opened most since `since` (seconds), most first.
    pub fn most_read(&self, since: i64, limit: usize) -> Result<Vec<String>, StoreError> {
        match &self.backend {
            Backend::Sqlite(db) => db.most_read(since, limit),
            Backend::Postgres(pg) => pg.most_read(since, limit),
        }
    }

    /// Every card with open "outdated" flags, and how many it has.
    pub fn open_flag_counts(&self) -> Result<HashMap<String, usize>, StoreError> {
        match &self.backend {
            Backend::Sqlite(db) => db.open_flag_counts(),
            Backend::Postgres(pg) => pg.open_flag_counts(),
        }
    }

    /// Queues a search for the log; never blocks.
    pub fn log_search(&self, event: SearchEvent) {
        self.log(Event::Search(event));
    }

    /// Queues a card opening for the log; never blocks.
    pub fn log_open(&self, event: OpenEvent) {
        self.log(Event::Open(event));
    }

    fn log(&self, event: Event) {
        match &self.backend {
            Backend::Sqlite(db) => db.send(event),
            Backend::Postgres(pg) => pg.log(event),
        }
    }

    /// What readers searched for and read since `since` (seconds). Blocking:
    /// it reads every logged row of the period.
    pub fn insights(&self, since: i64, limit: usize) -> Result<Insights, StoreError> {
        match &self.backend {
            Backend::Sqlite(db) => db.insights(since, limit),
            Backend::Postgres(pg) => pg.insights(since, limit),
        }
    }

    /// Waits until every event queued so far is written (for tests and
    /// shutdown).
    pub fn flush(&self) {
        match &self.backend {
            Backend::Sqlite(db) => db.flush(),
            Backend::Postgres(pg) => pg.flush(),
        }
    }
}
