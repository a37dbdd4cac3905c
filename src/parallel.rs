//! Spreading independent work over the cores: parsing thousands of cards
//! is the cost of a cold start and of `quire check`.

/// `f` applied to every item, on up to 8 threads; results in input order.
/// Small inputs stay on the calling thread.
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    if items.len() < 64 || threads == 1 {
        return items.iter().map(&f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let workers: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(f).collect::<Vec<R>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|w| match w.join() {
                Ok(out) => out,
                // A panic in `f` is the caller's bug; surface it.
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}
