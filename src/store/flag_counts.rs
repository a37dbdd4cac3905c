//! How many open "outdated" flags each card has, kept in memory so every
//! result list can show them without a database read per hit. Refreshed
//! after this server writes feedback, and at least every `MAX_AGE` (another
//! replica may have written some).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{Store, StoreError};

const MAX_AGE: Duration = Duration::from_secs(15);

/// Open flags by card id.
type Counts = Arc<HashMap<String, usize>>;

#[derive(Default)]
pub struct FlagCounts {
    /// The counts and when they were read.
    read: Mutex<Option<(Instant, Counts)>>,
}

impl FlagCounts {
    /// The open flags by card id, read again when older than `MAX_AGE`.
    /// The database is read outside the lock (a slow one must not hold up
    /// every search behind it), and a failed read is kept as "no flags"
    /// for `MAX_AGE` too, so an unreachable database is asked once, not on
    /// every search (the error is returned once, for the log).
    pub fn get(&self, store: &Store) -> Result<Counts, StoreError> {
        if let Some((at, counts)) = self.lock().as_ref()
            && at.elapsed() < MAX_AGE
        {
            return Ok(counts.clone());
        }
        let read = store.open_flag_counts();
        let counts = Arc::new(read.as_ref().map_or_else(|_| HashMap::new(), Clone::clone));
        *self.lock() = Some((Instant::now(), counts.clone()));
        read.map(|_| counts)
    }

    /// The counts if read within `MAX_AGE`, without reading the database:
    /// for a caller that must not wait on it (an answer given on the
    /// thread that accepts connections).
    pub fn fresh(&self) -> Option<Counts> {
        self.lock()
            .as_ref()
            .filter(|(at, _)| at.elapsed() < MAX_AGE)
            .map(|(_, counts)| counts.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(Instant, Counts)>> {
        self.read.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Forgets what was read: feedback was just written.
    pub fn forget(&self) {
        *self.lock() = None;
    }
}
