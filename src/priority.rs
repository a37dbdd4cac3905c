//! Background work (indexing, merges, findings, git history) runs at a
//! lower CPU priority than answering requests: on two cores, a reader's
//! search should not queue behind a segment merge.

/// Lowers the calling thread's priority (nice 10). Threads it starts
/// afterwards inherit it, which is how tantivy's indexing and merge threads
/// get it. On Linux, `setpriority(PRIO_PROCESS, 0, ..)` applies to the
/// calling thread only (man 2 setpriority, "BUGS").
pub fn background() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: setpriority only reads its integer arguments; a failure
        // (no permission) leaves the priority as it was, which is harmless.
        let done = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 10) };
        if done != 0 {
            tracing::debug!("cannot lower the priority of background work");
        }
    }
}
