//! The database's tables and their migrations, numbered by `PRAGMA
//! user_version`. Each migration runs once, in one transaction with the
//! version it brings, so a crash halfway leaves the previous version whole.

use rusqlite::{Connection, Transaction, TransactionBehavior, params};

/// The schema this build writes and reads.
pub const VERSION: i64 = 3;

/// Version 1: the tables as they were before versions were numbered (so a
/// database of that time, at `user_version` 0, passes through unchanged).
const V1: &str = "
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

/// Version 2: each logged query also in its normalized form, computed in
/// Rust at insert (`normalize`), so the insights group and match on an
/// indexed column instead of `lower(trim(...))`, which no index serves.
const V2_COLUMNS: &str = "
ALTER TABLE searches ADD COLUMN normalized TEXT NOT NULL DEFAULT '';
ALTER TABLE opens ADD COLUMN normalized TEXT;
";

/// Covering indexes, one per insights aggregate: each is read in index
/// order without touching the tables.
const V2_INDEXES: &str = "
CREATE INDEX IF NOT EXISTS searches_normalized ON searches (normalized, at, hits);
CREATE INDEX IF NOT EXISTS opens_normalized ON opens (normalized, at);
CREATE INDEX IF NOT EXISTS opens_card ON opens (card_id, at);
CREATE INDEX IF NOT EXISTS feedback_flagged ON feedback (verdict, card_id, created_at, resolved_at);
";

/// Version 3: a row is one search repeated `times` times (`log::counted`),
/// and the insights' covering index holds the count.
const V3: &str = "
ALTER TABLE searches ADD COLUMN times INTEGER NOT NULL DEFAULT 1;
DROP INDEX IF EXISTS searches_normalized;
CREATE INDEX searches_normalized ON searches (normalized, at, hits, times);
";

/// Rows normalized per statement while migrating an old log.
const BACKFILL_CHUNK: i64 = 2_000;

#[derive(Debug)]
pub enum MigrateError {
    Sql(rusqlite::Error),
    /// The file's schema is newer than this build knows.
    Newer(i64),
}

impl From<rusqlite::Error> for MigrateError {
    fn from(e: rusqlite::Error) -> Self {
        MigrateError::Sql(e)
    }
}

/// The longest query a row holds, in bytes: a query is read by a person on
/// the insights page (the migration backfills no more of an old one).
pub const MAX_QUERY_BYTES: usize = 1024;

/// A query as the insights count it: lowercased, trimmed, runs of
/// whitespace made one space ("Refund  Annual " and "refund annual" are
/// one query).
pub fn normalize(query: &str) -> String {
    let mut out = String::with_capacity(query.len());
    for word in query.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    out
}

/// Brings the database to `VERSION`, one migration at a time.
pub fn migrate(conn: &mut Connection) -> Result<(), MigrateError> {
    let found = user_version(conn)?;
    if found > VERSION {
        return Err(MigrateError::Newer(found));
    }
    for target in found + 1..=VERSION {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Another process may have migrated between the read and the lock.
        if user_version(&tx)? >= target {
            continue;
        }
        match target {
            1 => tx.execute_batch(V1)?,
            2 => to_v2(&tx)?,
            _ => tx.execute_batch(V3)?,
        }
        tx.pragma_update(None, "user_version", target)?;
        tx.commit()?;
    }
    Ok(())
}

fn user_version(conn: &Connection) -> Result<i64, rusqlite::Error> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
}

fn to_v2(tx: &Transaction) -> Result<(), rusqlite::Error> {
    tx.execute_batch(V2_COLUMNS)?;
    backfill(tx, "searches")?;
    backfill(tx, "opens")?;
    tx.execute_batch(V2_INDEXES)
}

/// Fills `normalized` for the rows logged before the column existed, a
/// chunk of rows at a time (an old log may hold unbounded queries).
fn backfill(tx: &Transaction, table: &str) -> Result<(), rusqlite::Error> {
    let mut select = tx.prepare(&format!(
        "SELECT id, substr(query, 1, {}) FROM {table} WHERE id > ?1 AND query IS NOT NULL ORDER BY id LIMIT ?2",
        MAX_QUERY_BYTES
    ))?;
    let mut update = tx.prepare(&format!("UPDATE {table} SET normalized = ?2 WHERE id = ?1"))?;
    let mut after = 0;
    loop {
        let rows = select
            .query_map(params![after, BACKFILL_CHUNK], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let Some(&(last, _)) = rows.last() else {
            return Ok(());
        };
        for (id, query) in rows {
            update.execute(params![id, normalize(&query)])?;
        }
        after = last;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizing_lowercases_trims_and_collapses_whitespace() {
        for (raw, normalized) in [
            ("Refund  Annual ", "refund annual"),
            ("\t refund\nannual", "refund annual"),
            ("ВОЗВРАТ Средств", "возврат средств"),
            ("   ", ""),
            ("", ""),
        ] {
            assert_eq!(normalize(raw), normalized, "{raw:?}");
        }
    }

    #[test]
    fn a_database_of_schema_zero_is_migrated_with_its_queries_normalized_and_counted_once() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(V1).unwrap();
        conn.execute_batch(
            "INSERT INTO searches (at, query, filters, hits, source) VALUES (1, ' Refund  ANNUAL', '', 3, 'site');
             INSERT INTO opens (at, card_id, query, source) VALUES (1, 'a/b', 'refund annual ', 'site');
             INSERT INTO opens (at, card_id, query, source) VALUES (1, 'a/c', NULL, 'site');",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(user_version(&conn).unwrap(), VERSION);
        let (searched, times): (String, i64) = conn
            .query_row("SELECT normalized, times FROM searches", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(times, 1);
        let opened: Vec<Option<String>> = conn
            .prepare("SELECT normalized FROM opens ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(searched, "refund annual");
        assert_eq!(opened, [Some("refund annual".to_string()), None]);
        // A second run finds nothing to do.
        migrate(&mut conn).unwrap();
    }

    #[test]
    fn a_database_from_a_newer_quire_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", VERSION + 1)
            .unwrap();
        assert!(matches!(migrate(&mut conn), Err(MigrateError::Newer(v)) if v == VERSION + 1));
    }
}
