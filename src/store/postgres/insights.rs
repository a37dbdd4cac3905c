//! The insights' queries on the shared database: the same lists as
//! SQLite's (`store::insights`), each served by an index of
//! `schema`, read in one snapshot so the lists agree.

use deadpool_postgres::Object;

use crate::store::{Insights, QueryCount, StoreError};

const SEARCHES: &str = "SELECT COALESCE(SUM(times), 0)::BIGINT FROM searches WHERE at >= $1";

// A row counts `times` searches. SUM over BIGINT is NUMERIC, exact;
// FLOOR of the weighed average makes it SQLite's integer division.
const TOP_QUERIES: &str = "
SELECT normalized, SUM(times)::BIGINT, FLOOR(SUM(hits * times) / SUM(times))::BIGINT FROM searches
WHERE normalized != '' AND at >= $1
GROUP BY normalized ORDER BY SUM(times) DESC, normalized LIMIT $2";

const NO_RESULTS: &str = "
SELECT normalized, SUM(times)::BIGINT, 0::BIGINT FROM searches
WHERE normalized != '' AND at >= $1 AND hits = 0
GROUP BY normalized ORDER BY SUM(times) DESC, normalized LIMIT $2";

const NEVER_OPENED: &str = "
SELECT s.normalized, SUM(s.times)::BIGINT, FLOOR(SUM(s.hits * s.times) / SUM(s.times))::BIGINT FROM searches s
WHERE s.normalized != '' AND s.at >= $1 AND s.hits > 0
GROUP BY s.normalized
HAVING NOT EXISTS (SELECT 1 FROM opens o WHERE o.normalized = s.normalized AND o.at >= $1)
ORDER BY SUM(s.times) DESC, s.normalized LIMIT $2";

const MOST_READ: &str = "
SELECT card_id, COUNT(*), 0::BIGINT FROM opens
WHERE at >= $1
GROUP BY card_id ORDER BY COUNT(*) DESC, card_id LIMIT $2";

const MOST_FLAGGED: &str = "
SELECT card_id, COUNT(*), COUNT(*) FILTER (WHERE resolved_at IS NULL) FROM feedback
WHERE verdict = 'outdated' AND created_at >= $1
GROUP BY card_id ORDER BY COUNT(*) DESC, card_id LIMIT $2";

const MOST_HELPFUL: &str = "
SELECT card_id, COUNT(*), 0::BIGINT FROM feedback
WHERE verdict = 'helpful' AND created_at >= $1
GROUP BY card_id ORDER BY COUNT(*) DESC, card_id LIMIT $2";

/// The ids of the cards opened most since `since`, most first.
pub(super) async fn most_read(
    client: &Object,
    since: i64,
    limit: i64,
) -> Result<Vec<String>, StoreError> {
    let rows = client.query(MOST_READ, &[&since, &limit]).await?;
    Ok(rows
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<Vec<String>, _>>()?)
}

/// What readers searched for and read since `since` (seconds), `limit`
/// of each list.
pub(super) async fn read(
    client: &mut Object,
    since: i64,
    limit: i64,
) -> Result<Insights, StoreError> {
    let tx = client
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;
    let mut lists = Vec::new();
    for sql in [
        TOP_QUERIES,
        NO_RESULTS,
        NEVER_OPENED,
        MOST_READ,
        MOST_FLAGGED,
        MOST_HELPFUL,
    ] {
        let rows = tx.query(sql, &[&since, &limit]).await?;
        let counts = rows
            .iter()
            .map(|row| {
                Ok(QueryCount {
                    text: row.try_get(0)?,
                    count: row.try_get(1)?,
                    hits: row.try_get(2)?,
                })
            })
            .collect::<Result<Vec<_>, tokio_postgres::Error>>()?;
        lists.push(counts);
    }
    let searches: i64 = tx.query_one(SEARCHES, &[&since]).await?.try_get(0)?;
    tx.commit().await?;
    let mut lists = lists.into_iter();
    let mut next = || lists.next().unwrap_or_default();
    Ok(Insights {
        searches,
        top_queries: next(),
        no_results: next(),
        never_opened: next(),
        most_read: next(),
        most_flagged: next(),
        most_helpful: next(),
    })
}
