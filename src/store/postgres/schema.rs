//! The shared database's tables and their migrations, numbered in
//! `quire_schema`. All of them run in one transaction under an advisory
//! lock, so replicas starting at once migrate once: the others wait for
//! the lock, then find the work done.

use deadpool_postgres::Object;

use crate::store::StoreError;

/// The schema this build writes and reads.
pub(super) const VERSION: i64 = 2;

/// The advisory lock's key: any number no other program on the database
/// uses; these are "quire" in ASCII.
const LOCK: i64 = 0x71_75_69_72_65;

/// Version 1: the tables SQLite has at its version 2 (`store::schema`),
/// and the key that signs the site's sessions on every replica.
const V1: &str = "
CREATE TABLE feedback (
    id BIGSERIAL PRIMARY KEY,
    card_id TEXT NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ('helpful', 'outdated')),
    comment TEXT,
    created_at BIGINT NOT NULL,
    resolved_at BIGINT
);
CREATE INDEX feedback_card ON feedback (card_id, created_at, id);
CREATE INDEX feedback_flagged ON feedback (verdict, card_id, created_at, resolved_at);
CREATE TABLE searches (
    id BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    query TEXT NOT NULL,
    normalized TEXT NOT NULL,
    filters TEXT NOT NULL,
    hits BIGINT NOT NULL,
    source TEXT NOT NULL
);
CREATE INDEX searches_at ON searches (at);
CREATE INDEX searches_normalized ON searches (normalized, at, hits);
CREATE TABLE opens (
    id BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    card_id TEXT NOT NULL,
    query TEXT,
    normalized TEXT,
    source TEXT NOT NULL
);
CREATE INDEX opens_at ON opens (at);
CREATE INDEX opens_normalized ON opens (normalized, at);
CREATE INDEX opens_card ON opens (card_id, at);
CREATE TABLE session_key (
    one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
    key BYTEA NOT NULL
);
";

/// Version 2: a row is one search repeated `times` times, as SQLite's
/// version 3 (`store::log::counted`).
const V2: &str = "
ALTER TABLE searches ADD COLUMN times BIGINT NOT NULL DEFAULT 1;
DROP INDEX IF EXISTS searches_normalized;
CREATE INDEX searches_normalized ON searches (normalized, at, hits, times);
";

/// Each migration, the first bringing version 1.
const MIGRATIONS: &[&str] = &[V1, V2];

/// Brings the database to `VERSION`; refuses one a newer Quire wrote.
pub(super) async fn migrate(client: &mut Object, shown: &str) -> Result<(), StoreError> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK])
        .await?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS quire_schema (version BIGINT PRIMARY KEY)")
        .await?;
    let found: i64 = tx
        .query_one("SELECT COALESCE(MAX(version), 0) FROM quire_schema", &[])
        .await?
        .try_get(0)?;
    if found > VERSION {
        return Err(StoreError::NewerShared {
            target: shown.to_string(),
            found,
            known: VERSION,
        });
    }
    for (version, sql) in (1_i64..)
        .zip(MIGRATIONS)
        .skip(usize::try_from(found).unwrap_or(0))
    {
        tx.batch_execute(sql).await?;
        tx.execute(
            "INSERT INTO quire_schema (version) VALUES ($1)",
            &[&version],
        )
        .await?;
        tracing::info!("the shared database {shown} is now at schema {version}");
    }
    tx.commit().await?;
    Ok(())
}

/// The site's session key, made by whichever replica asks first.
pub(super) async fn session_key(client: &Object, fresh: [u8; 32]) -> Result<[u8; 32], StoreError> {
    client
        .execute(
            "INSERT INTO session_key (key) VALUES ($1) ON CONFLICT DO NOTHING",
            &[&&fresh[..]],
        )
        .await?;
    let key: Vec<u8> = client
        .query_one("SELECT key FROM session_key", &[])
        .await?
        .try_get(0)?;
    <[u8; 32]>::try_from(key.as_slice()).map_err(|_| StoreError::SessionKey)
}
