//! Answers to searches already made, kept until the cards change. A
//! support team asks the same few questions all day ("refund", "2fa",
//! "sso"), and a sidebar asks again for each ticket: the answer is the same
//! until a card, the synonyms or the index change, so it is worked out
//! once. Everything that changes without the cards (a reader's "outdated"
//! flags, git history) is added after the cache, by the caller.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use lru::LruCache;

use super::{SearchRequest, SearchResults};
use crate::index::synonyms::Synonyms;

/// What the answers were worked out from. Two epochs are the same when
/// nothing a search reads has changed between them.
#[derive(Clone)]
pub struct Epoch {
    /// The index's searcher generation (a new one at each commit).
    pub index: u64,
    /// The knowledge base's batches of changes applied (the catalog).
    pub changes: u64,
    /// The synonym groups searched with (reloaded when `_synonyms.yaml`
    /// is saved). Held, so a new set is never mistaken for a freed one.
    pub synonyms: Arc<Synonyms>,
}

impl Epoch {
    fn same(&self, other: &Epoch) -> bool {
        self.index == other.index
            && self.changes == other.changes
            && Arc::ptr_eq(&self.synonyms, &other.synonyms)
    }

    /// Whether `self` is later than `other`: a request that began before a
    /// change must not throw away the answers of those that began after.
    fn after(&self, other: &Epoch) -> bool {
        (self.index, self.changes) > (other.index, other.changes)
            || ((self.index, self.changes) == (other.index, other.changes)
                && !Arc::ptr_eq(&self.synonyms, &other.synonyms))
    }
}

/// A bounded, least-recently-used map from a request to its answer, for
/// one epoch at a time. `capacity` 0 keeps nothing. The key is the whole
/// request (`SearchRequest`), compared field by field: formatting it as
/// text was a tenth of a pasted ticket's search.
pub struct Cache {
    inner: Option<Mutex<Inner>>,
}

struct Inner {
    epoch: Option<Epoch>,
    answers: LruCache<SearchRequest, SearchResults>,
}

impl Cache {
    pub fn new(capacity: usize) -> Self {
        Cache {
            inner: NonZeroUsize::new(capacity).map(|capacity| {
                Mutex::new(Inner {
                    epoch: None,
                    answers: LruCache::new(capacity),
                })
            }),
        }
    }

    /// The answer kept for `key` in `epoch`, if any. Meeting a later epoch
    /// forgets every answer of the earlier one.
    pub fn get(&self, epoch: &Epoch, key: &SearchRequest) -> Option<SearchResults> {
        let mut inner = self.lock()?;
        inner.move_to(epoch);
        let same = inner.epoch.as_ref().is_some_and(|e| e.same(epoch));
        if same {
            inner.answers.get(key).cloned()
        } else {
            None
        }
    }

    /// Keeps `results` for `key`, unless the cards changed since `epoch`.
    pub fn put(&self, epoch: &Epoch, key: SearchRequest, results: &SearchResults) {
        let Some(mut inner) = self.lock() else {
            return;
        };
        inner.move_to(epoch);
        if inner.epoch.as_ref().is_some_and(|e| e.same(epoch)) {
            inner.answers.put(key, results.clone());
        }
    }

    fn lock(&self) -> Option<std::sync::MutexGuard<'_, Inner>> {
        // A panic while holding the lock leaves at worst a stale map of
        // the right epoch; clear it rather than trust it.
        self.inner.as_ref().map(|m| {
            m.lock().unwrap_or_else(|poisoned| {
                let mut inner = poisoned.into_inner();
                inner.answers.clear();
                inner.epoch = None;
                inner
            })
        })
    }
}

impl Inner {
    fn move_to(&mut self, epoch: &Epoch) {
        let later = match &self.epoch {
            None => true,
            Some(current) => epoch.after(current),
        };
        if later {
            self.answers.clear();
            self.epoch = Some(epoch.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn answer(total: usize) -> SearchResults {
        let mut results = SearchResults::empty(std::time::Instant::now());
        results.total = total;
        results.took = Duration::ZERO;
        results
    }

    fn q(text: &str) -> SearchRequest {
        SearchRequest::new(text)
    }

    fn epoch(index: u64, changes: u64, synonyms: &Arc<Synonyms>) -> Epoch {
        Epoch {
            index,
            changes,
            synonyms: synonyms.clone(),
        }
    }

    #[test]
    fn an_answer_is_kept_until_the_cards_change() {
        let synonyms = Arc::new(Synonyms::default());
        let cache = Cache::new(8);
        let first = epoch(1, 1, &synonyms);
        cache.put(&first, q("refund"), &answer(3));
        assert_eq!(cache.get(&first, &q("refund")).map(|r| r.total), Some(3));

        let edited = epoch(2, 2, &synonyms);
        assert!(cache.get(&edited, &q("refund")).is_none());
        // A request that began before the edit neither finds nor keeps an
        // answer of the old cards now.
        cache.put(&first, q("refund"), &answer(3));
        assert!(cache.get(&edited, &q("refund")).is_none());
    }

    #[test]
    fn new_synonyms_are_a_change() {
        let cache = Cache::new(8);
        let before = epoch(1, 1, &Arc::new(Synonyms::default()));
        cache.put(&before, q("money back"), &answer(0));
        let after = epoch(1, 1, &Arc::new(Synonyms::default()));
        assert!(cache.get(&after, &q("money back")).is_none());
    }

    #[test]
    fn the_least_recently_used_answer_goes_first_and_zero_keeps_nothing() {
        let synonyms = Arc::new(Synonyms::default());
        let now = epoch(1, 1, &synonyms);
        let cache = Cache::new(2);
        cache.put(&now, q("a"), &answer(1));
        cache.put(&now, q("b"), &answer(2));
        assert!(cache.get(&now, &q("a")).is_some());
        cache.put(&now, q("c"), &answer(3));
        assert!(cache.get(&now, &q("b")).is_none());
        assert!(cache.get(&now, &q("a")).is_some());

        let none = Cache::new(0);
        none.put(&now, q("a"), &answer(1));
        assert!(none.get(&now, &q("a")).is_none());
    }
}
