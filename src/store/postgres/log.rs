//! The search log on the shared database: events queued without blocking,
//! written in batches (one `INSERT ... SELECT FROM UNNEST` per table, one
//! round trip each) by a task on the store's runtime, and pruned daily.

use std::time::{Duration, Instant};

use deadpool_postgres::Pool;
use tokio::runtime::Handle;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::store::log::{BATCH, BATCH_WAIT, Event, counted};
use crate::store::schema::normalize;
use crate::store::{QUEUE, StoreError, now, wait};

/// What the log's task is sent: an event, or a request to write what it
/// holds and say so.
enum Logged {
    Event(Event),
    Flush(oneshot::Sender<()>),
}

/// The queue to the log's task; no task when searches are not logged.
pub(super) struct Sender {
    queue: Option<mpsc::Sender<Logged>>,
    task: Option<JoinHandle<()>>,
}

/// How long closing waits for the last batch.
const CLOSE_WAIT: Duration = Duration::from_secs(10);

pub(super) fn start(handle: &Handle, pool: Pool, retention: Option<i64>) -> Sender {
    let Some(retention) = retention else {
        return Sender {
            queue: None,
            task: None,
        };
    };
    let (tx, rx) = mpsc::channel(QUEUE);
    let task = handle.spawn(run(pool, rx, retention));
    Sender {
        queue: Some(tx),
        task: Some(task),
    }
}

impl Sender {
    /// Queues an event; never blocks, drops it when the queue is full.
    pub(super) fn send(&self, event: Event) {
        let Some(queue) = &self.queue else { return };
        if let Err(mpsc::error::TrySendError::Full(_)) =
            queue.try_send(Logged::Event(event.capped()))
        {
            tracing::debug!("search log queue full; an event was dropped");
        }
    }

    /// Waits until every event queued so far is written.
    pub(super) fn flush(&self, handle: &Handle) {
        let Some(queue) = self.queue.clone() else {
            return;
        };
        let flushed = wait::on(handle, async move {
            let (done, written) = oneshot::channel();
            let gone = || StoreError::Unreachable("the search log's task ended");
            queue.send(Logged::Flush(done)).await.map_err(|_| gone())?;
            tokio::time::timeout(CLOSE_WAIT, written)
                .await
                .map_err(|_| StoreError::Unreachable("the search log was not written within 10 s"))?
                .map_err(|_| gone())
        });
        if let Err(e) = flushed {
            tracing::warn!("flushing the search log: {e}");
        }
    }

    /// Ends the task once it has written what was queued.
    pub(super) fn close(&mut self, handle: &Handle) {
        self.queue = None;
        if let Some(task) = self.task.take() {
            let _ = wait::on(handle, async move {
                let _ = tokio::time::timeout(CLOSE_WAIT, task).await;
                Ok(())
            });
        }
    }
}

/// The task's loop, until the queue closes.
async fn run(pool: Pool, mut rx: mpsc::Receiver<Logged>, retention: i64) {
    let mut last_pruned: Option<Instant> = None;
    loop {
        if last_pruned.is_none_or(|at| at.elapsed() > Duration::from_secs(86_400)) {
            if let Err(e) = prune(&pool, now() - retention).await {
                tracing::warn!("pruning the search log: {e}");
            }
            last_pruned = Some(Instant::now());
        }
        let first = match tokio::time::timeout(Duration::from_secs(3600), rx.recv()).await {
            Ok(Some(first)) => first,
            Ok(None) => return,
            Err(_) => continue,
        };
        let mut batch = Batch::default();
        batch.take(first);
        let deadline = tokio::time::Instant::now() + BATCH_WAIT;
        // A flush is answered at once, not after the batch's wait.
        while batch.events.len() < BATCH && batch.flushes.is_empty() {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(logged)) => batch.take(logged),
                _ => break,
            }
        }
        let Batch { events, flushes } = batch;
        let batch = events;
        if let Err(e) = write(&pool, &batch).await {
            tracing::warn!("writing the search log: {e}");
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}

#[derive(Default)]
struct Batch {
    events: Vec<Event>,
    flushes: Vec<oneshot::Sender<()>>,
}

impl Batch {
    fn take(&mut self, logged: Logged) {
        match logged {
            Logged::Event(event) => self.events.push(event),
            Logged::Flush(done) => self.flushes.push(done),
        }
    }
}

async fn prune(pool: &Pool, cutoff: i64) -> Result<(), StoreError> {
    let client = pool.get().await.map_err(super::pool_error)?;
    client
        .execute("DELETE FROM searches WHERE at < $1", &[&cutoff])
        .await?;
    client
        .execute("DELETE FROM opens WHERE at < $1", &[&cutoff])
        .await?;
    Ok(())
}

/// Columns of the rows a batch adds, one array per column.
#[derive(Default)]
struct Searches {
    at: Vec<i64>,
    query: Vec<String>,
    normalized: Vec<String>,
    filters: Vec<String>,
    hits: Vec<i64>,
    source: Vec<&'static str>,
    times: Vec<i64>,
}

#[derive(Default)]
struct Opens {
    at: Vec<i64>,
    card_id: Vec<String>,
    query: Vec<Option<String>>,
    normalized: Vec<Option<String>>,
    source: Vec<&'static str>,
}

async fn write(pool: &Pool, batch: &[Event]) -> Result<(), StoreError> {
    let (mut s, mut o) = (Searches::default(), Opens::default());
    let (searches, opens) = counted(batch);
    for (e, times) in searches {
        s.at.push(e.at);
        s.normalized.push(normalize(&e.query));
        s.query.push(e.query.clone());
        s.filters.push(e.filters.clone());
        s.hits.push(i64::try_from(e.hits).unwrap_or(i64::MAX));
        s.source.push(e.source);
        s.times.push(times);
    }
    for e in opens {
        o.at.push(e.at);
        o.card_id.push(e.card_id.clone());
        o.normalized.push(e.query.as_deref().map(normalize));
        o.query.push(e.query.clone());
        o.source.push(e.source);
    }
    if batch.is_empty() {
        return Ok(());
    }
    let mut client = pool.get().await.map_err(super::pool_error)?;
    let tx = client.transaction().await?;
    if !s.at.is_empty() {
        tx.execute(
            "INSERT INTO searches (at, query, normalized, filters, hits, source, times)
             SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::bigint[])",
            &[&s.at, &s.query, &s.normalized, &s.filters, &s.hits, &s.source, &s.times],
        )
        .await?;
    }
    if !o.at.is_empty() {
        tx.execute(
            "INSERT INTO opens (at, card_id, query, normalized, source)
             SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[])",
            &[&o.at, &o.card_id, &o.query, &o.normalized, &o.source],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
