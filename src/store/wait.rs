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
