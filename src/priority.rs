//! Three CPU priorities, so that on two cores what must answer at once
//! does: connections, admission and `/healthz` at the normal priority;
//! request handlers a little lower (a busy CPU must not delay a health
//! check or a 503); background work (indexing, merges, findings, git
//! history) lower still, so a reader's search does not queue behind a
//! segment merge.

/// Lowers the calling thread's priority to nice 10. Threads it starts
/// afterwards inherit it, which is how tantivy's indexing and merge threads
/// get it. On Linux, `setpriority(PRIO_PROCESS, 0, ..)` applies to the
/// calling thread only (man 2 setpriority, "BUGS").
pub fn background() {
    lower_to(10, "background work");
}

/// Lowers the calling thread's priority to nice 4: a request worker's.
pub fn handlers() {
    lower_to(4, "request handlers");
}

fn lower_to(nice: i32, what: &str) {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: setpriority only reads its integer arguments; a failure
        // (no permission) leaves the priority as it was, which is harmless.
        let done = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, nice) };
        if done != 0 {
            tracing::debug!("cannot lower the priority of {what}");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (nice, what);
}
