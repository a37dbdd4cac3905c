//! Waiting for the shared database's answer from synchronous code. The
//! work runs on the store's own runtime; the caller's thread waits. On a
//! worker of a multi-threaded tokio runtime (the request workers) the wait
//! is wrapped in `block_in_place`, which first hands that worker's other
//! tasks to another thread, so a slow database never holds a runtime.

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;

use tokio::runtime::{Handle, RuntimeFlavor};

use super::StoreError;

/// Runs `job` on `store` (the store's runtime) and waits for its answer.
pub(super) fn on<T, F>(store: &Handle, job: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: Future<Output = Result<T, StoreError>> + Send + 'static,
{
    let task = store.spawn(job);
    let waited = || park_until(task);
    let joined = match Handle::try_current() {
        Ok(caller) if caller.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(waited)
        }
        _ => waited(),
    };
    joined.unwrap_or(Err(StoreError::Unreachable("the store's task failed")))
}

/// Wakes the waiting thread.
struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Polls `future` on this thread, parking it between wake-ups.
fn park_until<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut context = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        std::thread::park();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn a_wait_outside_any_runtime_parks_until_the_answer() {
        let store = store_runtime();
        let answer = on(store.handle(), async { Ok(42) });
        assert_eq!(answer.unwrap(), 42);
    }

    #[test]
    fn a_wait_on_a_request_worker_leaves_that_worker_to_other_tasks() {
        let store = store_runtime();
        // One worker: had the wait held it, the task that answers could
        // never run.
        let requests = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<i32>();
        let (started, waiting_started) = std::sync::mpsc::channel();
        let store = store.handle().clone();
        let answered = requests.block_on(async move {
            let waiting = tokio::spawn(async move {
                on(&store, async move {
                    let _ = started.send(());
                    rx.await.map_err(|_| StoreError::Unreachable("gone"))
                })
            });
            // The answering task is spawned only once the worker waits.
            waiting_started.recv().unwrap();
            tokio::spawn(async move { tx.send(7) });
            waiting.await.unwrap()
        });
        assert_eq!(answered.unwrap(), 7);
    }
}
