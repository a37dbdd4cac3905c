//! The insights' queries: each aggregate reads one covering index in its
//! order (`schema`'s versions 2 and 3), so the cost grows with the rows
//! kept, never with their square. A search row counts `times` searches
//! (`log::counted`); averages of hits are weighed by it and truncated, as
//! `CAST(AVG(..) AS INTEGER)` was.

use rusqlite::{Connection, params};
use serde::Serialize;

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
    pub most_helpful: Vec<QueryCount>,
}

const TOP_QUERIES: &str = "
SELECT normalized, SUM(times), SUM(hits * times) / SUM(times) FROM searches INDEXED BY searches_normalized
WHERE normalized != '' AND at >= ?1
GROUP BY normalized ORDER BY SUM(times) DESC, normalized LIMIT ?2";

const NO_RESULTS: &str = "
SELECT normalized, SUM(times), 0 FROM searches INDEXED BY searches_normalized
WHERE normalized != '' AND at >= ?1 AND hits = 0
GROUP BY normalized ORDER BY SUM(times) DESC, normalized LIMIT ?2";

/// Whether a query was opened is asked once per distinct query (`HAVING`),
/// one lookup in `opens_normalized` each.
const NEVER_OPENED: &str = "
SELECT s.normalized, SUM(s.times), SUM(s.hits * s.times) / SUM(s.times) FROM searches s INDEXED BY searches_normalized
WHERE s.normalized != '' AND s.at >= ?1 AND s.hits > 0
GROUP BY s.normalized
HAVING NOT EXISTS (SELECT 1 FROM opens o WHERE o.normalized = s.normalized AND o.at >= ?1)
ORDER BY SUM(s.times) DESC, s.normalized LIMIT ?2";

const MOST_READ: &str = "
SELECT card_id, COUNT(*), 0 FROM opens INDEXED BY opens_card
WHERE at >= ?1
GROUP BY card_id ORDER BY COUNT(*) DESC, card_id LIMIT ?2";

const MOST_FLAGGED: &str = "
SELECT card_id, COUNT(*), SUM(resolved_at IS NULL) FROM feedback INDEXED BY feedback_flagged
WHERE verdict = 'outdated' AND created_at >= ?1
GROUP BY card_id ORDER BY COUNT(*) DESC, card_id LIMIT ?2";

const MOST_HELPFUL: &str = "
SELECT card_id, COUNT(*), 0 FROM feedback INDEXED BY feedback_flagged
WHERE verdict = 'helpful' AND created_at >= ?1
GROUP BY card_id ORDER BY COUNT(*) DESC, card_id LIMIT ?2";

/// The ids of the cards opened most since `since`, most first.
pub(super) fn most_read(
    conn: &Connection,
    since: i64,
    limit: usize,
) -> rusqlite::Result<Vec<String>> {
    let mut statement = conn.prepare_cached(MOST_READ)?;
    let rows = statement.query_map(params![since, limit as i64], |row| row.get(0))?;
    rows.collect()
}

/// What readers searched for and read since `since` (seconds), `limit`
/// of each list, in one read transaction so the lists agree.
pub(super) fn read(conn: &Connection, since: i64, limit: usize) -> rusqlite::Result<Insights> {
    let tx = conn.unchecked_transaction()?;
    let counts = |sql: &str| -> rusqlite::Result<Vec<QueryCount>> {
        let mut statement = tx.prepare_cached(sql)?;
        let rows = statement.query_map(params![since, limit as i64], |row| {
            Ok(QueryCount {
                text: row.get(0)?,
                count: row.get(1)?,
                hits: row.get(2)?,
            })
        })?;
        rows.collect()
    };
    let insights = Insights {
        searches: tx.query_row(
            "SELECT COALESCE(SUM(times), 0) FROM searches WHERE at >= ?1",
            [since],
            |row| row.get(0),
        )?,
        top_queries: counts(TOP_QUERIES)?,
        no_results: counts(NO_RESULTS)?,
        never_opened: counts(NEVER_OPENED)?,
        most_read: counts(MOST_READ)?,
        most_flagged: counts(MOST_FLAGGED)?,
        most_helpful: counts(MOST_HELPFUL)?,
    };
    tx.finish()?;
    Ok(insights)
}
