//! The shared backend: PostgreSQL (`[store] url`), so replicas behind a
//! load balancer read and write one set of feedback, flags and insights.
//! Connections live on a small runtime of the store's own, whatever
//! runtime (or none) the caller runs on; a caller waits for the answer
//! through `wait`, which never holds a worker of the async runtime.
//! Feedback is committed before it is acknowledged; the search log is
//! queued and written in batches (`log`), as with SQLite.

mod insights;
mod log;
mod schema;
mod target;

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use tokio::runtime::Handle;

use super::{Feedback, Insights, StoreError, StoreFailure, Verdict, now, wait};
use target::Target;

/// Connections kept at most: a replica's workers and its log writer.
const POOL_SIZE: usize = 16;
/// How long a request waits for a connection, or for one to be made,
/// before it is answered 503 rather than held.
const CONNECT_WAIT: Duration = Duration::from_secs(5);
/// How long a call may take in all: a database that accepted the
/// connection but stopped answering must not hold a request forever (a
/// write cut off here may still commit; it was not acknowledged).
const CALL_LIMIT: Duration = Duration::from_secs(10);

pub(super) struct Postgres {
    /// The store's runtime; `None` only while dropping.
    runtime: Option<tokio::runtime::Runtime>,
    handle: Handle,
    pool: Pool,
    log: log::Sender,
    health: Arc<Health>,
    /// The database, named without its password, for messages.
    target: Arc<Target>,
    session_key: [u8; 32],
}

/// Whether the database answered the last time it was asked.
#[derive(Default)]
struct Health {
    failure: Mutex<Option<StoreFailure>>,
    /// A probe is on its way (`Postgres::health`).
    probing: AtomicBool,
}

impl Health {
    fn current(&self) -> Option<StoreFailure> {
        self.failure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn observe<T>(&self, target: &str, result: &Result<T, StoreError>) {
        let mut failure = self.failure.lock().unwrap_or_else(|e| e.into_inner());
        match result {
            Err(e) if e.unavailable().is_some() => {
                if failure.is_none() {
                    tracing::error!("the shared database {target}: {e}");
                    *failure = Some(StoreFailure {
                        cause: e.unavailable().unwrap_or_default().to_string(),
                        since: chrono::Utc::now(),
                    });
                }
            }
            Err(_) => {}
            Ok(_) => {
                if failure.take().is_some() {
                    tracing::info!("the shared database {target} answers again");
                }
            }
        }
    }
}

impl Postgres {
    /// Connects to `url` (the password, when not in it, from `password`),
    /// migrates the schema and reads the shared session key; fails when
    /// the database cannot be reached now, so a misconfigured replica
    /// does not start.
    pub(super) fn connect(
        url: &str,
        password: Option<String>,
        analytics: bool,
        retention_days: u32,
    ) -> Result<Postgres, StoreError> {
        let target = Arc::new(Target::parse(url, password)?);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("quire-store")
            .enable_all()
            .build()
            .map_err(StoreError::Runtime)?;
        let handle = runtime.handle().clone();
        let (pool, session_key) = match Postgres::ready(&handle, &target) {
            Ok(ready) => ready,
            Err(e) => {
                // Dropped, a runtime would panic inside another's context.
                runtime.shutdown_background();
                return Err(e);
            }
        };
        let health = Arc::new(Health::default());
        let retention = analytics.then_some(i64::from(retention_days) * 86_400);
        let log = log::start(&handle, pool.clone(), retention);
        tracing::info!("written state is kept in the shared database {target}");
        Ok(Postgres {
            runtime: Some(runtime),
            handle,
            pool,
            log,
            health,
            target,
            session_key,
        })
    }

    /// The pool, once a first connection migrated the schema and read the
    /// session key.
    fn ready(handle: &Handle, target: &Arc<Target>) -> Result<(Pool, [u8; 32]), StoreError> {
        let manager = Manager::from_config(
            target.config.clone(),
            tokio_postgres::NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(CONNECT_WAIT))
            .create_timeout(Some(CONNECT_WAIT))
            .recycle_timeout(Some(CONNECT_WAIT))
            .build()
            .map_err(|_| StoreError::Unreachable("the connection pool cannot be built"))?;
        let fresh_key = super::random_key()?;
        let session_key = {
            let (pool, target) = (pool.clone(), target.clone());
            wait::on(handle, async move {
                let mut client = connection(&pool, &target).await?;
                schema::migrate(&mut client, &target.to_string()).await?;
                schema::session_key(&client, fresh_key).await
            })?
        };
        Ok((pool, session_key))
    }

    /// Runs `job` with a connection on the store's runtime and waits for
    /// it; the outcome tells `/healthz` whether the database answers.
    fn run<T, F, Fut>(&self, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(Object) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, StoreError>> + Send,
    {
        let pool = self.pool.clone();
        let result = wait::on(&self.handle, async move {
            let call = async move {
                let client = pool.get().await.map_err(pool_error)?;
                job(client).await
            };
            tokio::time::timeout(CALL_LIMIT, call)
                .await
                .unwrap_or(Err(StoreError::Unreachable("no answer within 10 s")))
        });
        self.health.observe(&self.target.to_string(), &result);
        result
    }

    /// The last failure, if the database has not answered since; each
    /// look while failed sends a probe, so `/healthz` recovers even when
    /// no request writes.
    pub(super) fn health(&self) -> Option<StoreFailure> {
        let failure = self.health.current();
        if failure.is_some() && !self.health.probing.swap(true, Ordering::AcqRel) {
            let (pool, health) = (self.pool.clone(), self.health.clone());
            let target = self.target.to_string();
            self.handle.spawn(async move {
                let answered = async {
                    let client = pool.get().await.map_err(pool_error)?;
                    client.simple_query("SELECT 1").await?;
                    Ok(())
                }
                .await;
                health.observe(&target, &answered);
                health.probing.store(false, Ordering::Release);
            });
        }
        failure
    }

    pub(super) fn session_key(&self) -> [u8; 32] {
        self.session_key
    }

    /// Inserts a piece of feedback; its id once committed (autocommit:
    /// `synchronous_commit`, the server's default, makes that durable).
    pub(super) fn insert_feedback(
        &self,
        card_id: &str,
        verdict: Verdict,
        comment: Option<&str>,
        created_at: i64,
    ) -> Result<i64, StoreError> {
        let (card, text) = (card_id.to_string(), comment.map(str::to_string));
        self.run(move |client| async move {
            let row = client
                .query_one(
                    "INSERT INTO feedback (card_id, verdict, comment, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
                    &[&card, &verdict.as_str(), &text, &created_at],
                )
                .await?;
            Ok(row.try_get(0)?)
        })
    }

    pub(super) fn resolve(&self, card_ids: &[String]) -> Result<usize, StoreError> {
        let ids = card_ids.to_vec();
        let resolved = self.run(move |client| async move {
            Ok(client
                .execute(
                    "UPDATE feedback SET resolved_at = $1 WHERE card_id = ANY($2) AND verdict = 'outdated' AND resolved_at IS NULL",
                    &[&now(), &ids],
                )
                .await?)
        })?;
        Ok(usize::try_from(resolved).unwrap_or(usize::MAX))
    }

    pub(super) fn feedback_for(
        &self,
        card_ids: &[String],
        limit: usize,
    ) -> Result<Vec<Feedback>, StoreError> {
        let ids = card_ids.to_vec();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.run(move |client| async move {
            let rows = client
                .query(
                    "SELECT id, card_id, verdict, comment, created_at, resolved_at FROM feedback
                     WHERE card_id = ANY($1) ORDER BY created_at DESC, id DESC LIMIT $2",
                    &[&ids, &limit],
                )
                .await?;
            rows.iter().map(feedback_row).collect()
        })
    }

    pub(super) fn open_flags(
        &self,
        card_ids: &[String],
        limit: usize,
    ) -> Result<(Vec<Feedback>, usize), StoreError> {
        let ids = card_ids.to_vec();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.run(move |client| async move {
            let open = "card_id = ANY($1) AND verdict = 'outdated' AND resolved_at IS NULL";
            let rows = client
                .query(
                    &format!(
                        "SELECT id, card_id, verdict, comment, created_at, resolved_at FROM feedback
                         WHERE {open} ORDER BY created_at DESC, id DESC LIMIT $2"
                    ),
                    &[&ids, &limit],
                )
                .await?;
            let total: i64 = client
                .query_one(
                    &format!("SELECT COUNT(*) FROM feedback WHERE {open}"),
                    &[&ids],
                )
                .await?
                .try_get(0)?;
            let flags = rows.iter().map(feedback_row).collect::<Result<_, _>>()?;
            Ok((flags, usize::try_from(total).unwrap_or(0)))
        })
    }

    pub(super) fn remove_feedback(
        &self,
        id: i64,
        card_ids: &[String],
        since: i64,
    ) -> Result<bool, StoreError> {
        let ids = card_ids.to_vec();
        let removed = self.run(move |client| async move {
            Ok(client
                .execute(
                    "DELETE FROM feedback WHERE id = $1 AND card_id = ANY($2) AND created_at >= $3",
                    &[&id, &ids, &since],
                )
                .await?)
        })?;
        Ok(removed > 0)
    }

    pub(super) fn open_flag_counts(&self) -> Result<HashMap<String, usize>, StoreError> {
        self.run(move |client| async move {
            let rows = client
                .query(
                    "SELECT card_id, COUNT(*) FROM feedback
                     WHERE verdict = 'outdated' AND resolved_at IS NULL GROUP BY card_id",
                    &[],
                )
                .await?;
            let mut counts = HashMap::new();
            for row in &rows {
                let n: i64 = row.try_get(1)?;
                counts.insert(row.try_get(0)?, usize::try_from(n).unwrap_or(0));
            }
            Ok(counts)
        })
    }

    pub(super) fn most_read(&self, since: i64, limit: usize) -> Result<Vec<String>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.run(move |client| async move { insights::most_read(&client, since, limit).await })
    }

    pub(super) fn insights(&self, since: i64, limit: usize) -> Result<Insights, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.run(move |mut client| async move { insights::read(&mut client, since, limit).await })
    }

    pub(super) fn log(&self, event: super::log::Event) {
        self.log.send(event);
    }

    pub(super) fn flush(&self) {
        self.log.flush(&self.handle);
    }
}

impl Drop for Postgres {
    /// Writes what the log queued, then stops the runtime (without
    /// waiting on it: a store may be dropped inside another runtime).
    fn drop(&mut self) {
        self.log.close(&self.handle);
        self.pool.close();
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// A connection from the pool, its failure said with the target.
async fn connection(pool: &Pool, target: &Target) -> Result<Object, StoreError> {
    pool.get().await.map_err(|e| match pool_error(e) {
        StoreError::Postgres(source) => StoreError::Connect {
            target: target.to_string(),
            source,
        },
        other => other,
    })
}

fn pool_error(e: deadpool_postgres::PoolError) -> StoreError {
    use deadpool_postgres::PoolError;
    match e {
        PoolError::Backend(e) => StoreError::Postgres(e),
        PoolError::Timeout(_) => StoreError::Unreachable("no connection within 5 s"),
        _ => StoreError::Unreachable("the connection pool is closed"),
    }
}

/// A `feedback` row selected as `id, card_id, verdict, comment,
/// created_at, resolved_at`.
fn feedback_row(row: &tokio_postgres::Row) -> Result<Feedback, StoreError> {
    let columns = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
    Ok(Feedback::from_columns(
        columns,
        row.try_get(3)?,
        row.try_get(4)?,
        row.try_get(5)?,
    ))
}
