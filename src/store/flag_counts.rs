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
    pub fn get(&self, store: &Store) -> Result<Counts, StoreError> {
        let mut read = self.read.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, counts)) = read.as_ref()
            && at.elapsed() < MAX_AGE
        {
            return Ok(counts.clone());
        }
        let counts = Arc::new(store.open_flag_counts()?);
        *read = Some((Instant::now(), counts.clone()));
        Ok(counts)
    }

    /// Forgets what was read: feedback was just written.
    pub fn forget(&self) {
        *self.read.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}
