//! `Rendered`: cards' sanitized HTML, kept so that a page view does not
//! render again. Bounded in bytes; an entry holds for one catalog
//! generation, since any change to the catalog may change where a link goes.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex};

use super::card_id::CardId;

/// What a rendering depends on besides the catalog: the card (relative
/// links resolve from its folder), its markdown, and which cards the
/// reader may see (a link to a card it may not see renders as broken).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RenderKey {
    pub id: CardId,
    pub markdown: blake3::Hash,
    pub public_only: bool,
}

impl RenderKey {
    pub fn new(id: &CardId, markdown: &str, public_only: bool) -> Self {
        RenderKey {
            id: id.clone(),
            markdown: blake3::hash(markdown.as_bytes()),
            public_only,
        }
    }
}

/// The cache. Its `Clone` is empty: a cloned catalog may change apart
/// from this one under the same generation number.
#[derive(Default)]
pub struct Rendered {
    entries: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    generation: u64,
    bytes: usize,
    html: HashMap<RenderKey, Arc<str>>,
    /// Oldest first: the order entries leave in when the cache is full.
    order: VecDeque<RenderKey>,
}

impl Rendered {
    /// At most this much HTML is kept: a few hundred ordinary cards, or
    /// a dozen of the largest (2 MB of markdown renders to about 3 MB).
    pub const MAX_BYTES: usize = 32 * 1024 * 1024;

    /// The HTML for `key` as of catalog `generation`, rendered by `render`
    /// when it is not kept. Rendering runs outside the lock.
    pub fn get_or_render(
        &self,
        generation: u64,
        key: RenderKey,
        render: impl FnOnce() -> String,
    ) -> String {
        if let Some(html) = self.lock().get(generation, &key) {
            return html.to_string();
        }
        let html = render();
        self.lock()
            .insert(generation, key, Arc::from(html.as_str()));
        html
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // A panic while holding it leaves a map that is still consistent.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.lock().bytes
    }
}

impl Entries {
    fn get(&mut self, generation: u64, key: &RenderKey) -> Option<Arc<str>> {
        self.at(generation);
        self.html.get(key).cloned()
    }

    fn insert(&mut self, generation: u64, key: RenderKey, html: Arc<str>) {
        self.at(generation);
        // One entry may not push out most of the others.
        if html.len() > Rendered::MAX_BYTES / 4 || self.html.contains_key(&key) {
            return;
        }
        while self.bytes + html.len() > Rendered::MAX_BYTES {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            if let Some(gone) = self.html.remove(&oldest) {
                self.bytes -= gone.len();
            }
        }
        self.bytes += html.len();
        self.order.push_back(key.clone());
        self.html.insert(key, html);
    }

    /// Forgets everything rendered under another generation.
    fn at(&mut self, generation: u64) {
        if self.generation != generation {
            *self = Entries {
                generation,
                ..Entries::default()
            };
        }
    }
}

impl Clone for Rendered {
    fn clone(&self) -> Self {
        Rendered::default()
    }
}

impl fmt::Debug for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entries = self.lock();
        f.debug_struct("Rendered")
            .field("generation", &entries.generation)
            .field("entries", &entries.html.len())
            .field("bytes", &entries.bytes)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str, markdown: &str) -> RenderKey {
        RenderKey::new(&CardId::new(id).unwrap(), markdown, false)
    }

    #[test]
    fn a_second_view_of_the_same_card_is_not_rendered_again() {
        let cache = Rendered::default();
        let renders = std::cell::Cell::new(0);
        let render = || {
            renders.set(renders.get() + 1);
            "<p>x</p>".to_string()
        };
        assert_eq!(cache.get_or_render(1, key("a", "x"), render), "<p>x</p>");
        assert_eq!(cache.get_or_render(1, key("a", "x"), render), "<p>x</p>");
        assert_eq!(renders.get(), 1);
        cache.get_or_render(1, key("a", "y"), render);
        cache.get_or_render(2, key("a", "x"), render);
        assert_eq!(renders.get(), 3, "new markdown or generation renders again");
    }

    #[test]
    fn the_cache_keeps_within_its_byte_budget() {
        let cache = Rendered::default();
        let big = "x".repeat(Rendered::MAX_BYTES / 5);
        for i in 0..20 {
            cache.get_or_render(1, key(&format!("c{i}"), "m"), || big.clone());
            assert!(cache.bytes() <= Rendered::MAX_BYTES);
        }
        let huge = "x".repeat(Rendered::MAX_BYTES / 3);
        cache.get_or_render(1, key("huge", "m"), || huge.clone());
        assert!(cache.bytes() <= Rendered::MAX_BYTES);
    }
}
