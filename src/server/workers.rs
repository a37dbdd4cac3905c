//! The request workers: handlers run on a tokio runtime of their own, one
//! thread per core, while connections, bodies, `/healthz` and admission stay
//! on the runtime that accepts. Handlers search, render and query SQLite
//! synchronously; on the accepting runtime they held its two threads, so
//! nothing could see the queue grow, shed load or answer `/healthz`.
//!
//! Admission never waits: a request is refused at once when the ones
//! already admitted would keep it waiting longer than it may (an estimate
//! from the average time a request takes on a worker), or when too many are
//! admitted.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::runtime::{Handle, Runtime};
use tokio::task::JoinHandle;

pub struct Workers {
    /// `None` only while dropping (see `Drop`).
    runtime: Option<Runtime>,
    handle: Handle,
    threads: usize,
    max_admitted: usize,
    /// Requests admitted and not finished (running or waiting for a thread).
    admitted: AtomicUsize,
    /// The recent average time a request takes on a worker, in µs.
    service_micros: AtomicU64,
}

/// Why a request was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `max_in_flight` requests are admitted already.
    Full,
    /// The requests ahead would take about this long.
    WaitTooLong(Duration),
}

/// A request admitted; its place is given back when this is dropped (the
/// request finished, or was abandoned before it started).
pub struct Admitted {
    workers: Arc<Workers>,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.workers.admitted.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Where the estimate starts, before any request was timed.
const FIRST_GUESS: Duration = Duration::from_millis(2);

impl Workers {
    /// Starts `threads` worker threads (at least one); at most
    /// `max_admitted` requests are admitted at once.
    pub fn start(threads: usize, max_admitted: usize) -> std::io::Result<Arc<Workers>> {
        let threads = threads.max(1);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("quire-worker")
            .on_thread_start(crate::priority::handlers)
            .enable_all()
            .build()?;
        Ok(Arc::new(Workers {
            handle: runtime.handle().clone(),
            runtime: Some(runtime),
            threads,
            max_admitted: max_admitted.max(1),
            admitted: AtomicUsize::new(0),
            service_micros: AtomicU64::new(FIRST_GUESS.as_micros() as u64),
        }))
    }

    /// One worker per core; when no thread can be started for them, the
    /// handlers run on the calling runtime, as they would without workers.
    /// Call it inside a tokio runtime.
    pub fn per_core(max_admitted: usize) -> Arc<Workers> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Workers::start(cores, max_admitted).unwrap_or_else(|e| {
            tracing::warn!(
                "cannot start the request workers ({e}); requests run beside connections"
            );
            Arc::new(Workers {
                runtime: None,
                handle: Handle::current(),
                threads: cores,
                max_admitted: max_admitted.max(1),
                admitted: AtomicUsize::new(0),
                service_micros: AtomicU64::new(FIRST_GUESS.as_micros() as u64),
            })
        })
    }

    /// Admits a request that may wait at most `patience` for a worker, or
    /// says why not, at once.
    pub fn admit(self: &Arc<Self>, patience: Duration) -> Result<Admitted, Refusal> {
        let ahead = self.admitted.fetch_add(1, Ordering::AcqRel);
        // Taken first and given back on refusal, so two requests racing for
        // the last place cannot both get it.
        let admitted = Admitted {
            workers: self.clone(),
        };
        if ahead >= self.max_admitted {
            return Err(Refusal::Full);
        }
        let wait = self.expected_wait(ahead);
        if wait > patience {
            return Err(Refusal::WaitTooLong(wait));
        }
        Ok(admitted)
    }

    /// How long a request that finds `ahead` requests admitted waits for a
    /// worker: the threads busy with the first of them, then the rest in
    /// turns of `threads` at a time.
    fn expected_wait(&self, ahead: usize) -> Duration {
        let service = Duration::from_micros(self.service_micros.load(Ordering::Acquire));
        let rounds = (ahead / self.threads) as u32;
        service.saturating_mul(rounds)
    }

    /// Runs `job` on a worker; the time it takes there feeds the estimate.
    pub fn run<F>(&self, admitted: Admitted, job: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(async move {
            let started = Instant::now();
            let output = job.await;
            admitted.workers.record(started.elapsed());
            drop(admitted);
            output
        })
    }

    /// Folds one request's time into the average (weight 1/8: a few slow
    /// pages move it, one does not).
    fn record(&self, took: Duration) {
        let took = took.as_micros().min(u128::from(u32::MAX)) as u64;
        let _ = self
            .service_micros
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |average| {
                Some((average * 7 + took) / 8)
            });
    }

    /// Requests admitted and not finished, for `/metrics`.
    pub fn admitted(&self) -> usize {
        self.admitted.load(Ordering::Acquire)
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        // The last router may be dropped on an async thread, where a
        // blocking runtime shutdown panics; the workers need not be waited for.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_refused_at_once_when_those_ahead_would_outlast_its_patience() {
        let workers = Workers::start(2, 100).expect("workers");
        workers.service_micros.store(100_000, Ordering::Release);
        let patience = Duration::from_millis(450);
        let mut held = Vec::new();
        while let Ok(admitted) = workers.admit(patience) {
            held.push(admitted);
            assert!(held.len() < 100, "never refused");
        }
        // Two threads at 100 ms each: ten ahead is five rounds, 500 ms.
        assert_eq!(held.len(), 10);
        assert!(matches!(
            workers.admit(patience),
            Err(Refusal::WaitTooLong(_))
        ));
        held.clear();
        assert_eq!(workers.admitted(), 0, "places are given back");
        assert!(workers.admit(patience).is_ok());
    }

    #[test]
    fn no_more_than_the_cap_is_admitted_however_fast_requests_are() {
        let workers = Workers::start(1, 3).expect("workers");
        workers.service_micros.store(0, Ordering::Release);
        let held: Vec<_> = (0..3).map(|_| workers.admit(Duration::ZERO)).collect();
        assert!(held.iter().all(Result::is_ok));
        assert_eq!(workers.admit(Duration::ZERO).err(), Some(Refusal::Full));
    }
}
