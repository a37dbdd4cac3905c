//! The index's own vocabulary, for typo corrections: every word of the
//! `spelling` field with its symmetric deletes (SymSpell's idea), so that
//! the words one or two edits from a typed one are found by a few hash
//! lookups instead of a Levenshtein automaton walking the term dictionary.
//!
//! Segments never change, so each segment's vocabulary is built once, the
//! first time a search needs it, and dropped when the segment is merged
//! away. Deletes are stored as 64-bit hashes in one sorted array (12 bytes
//! each); a hash collision only proposes a word that the edit-distance
//! check then refuses.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use tantivy::SegmentReader;
use tantivy::index::SegmentId;
use tantivy::schema::Field;

/// Words shorter than this get no corrections. Meilisearch's rule of thumb
/// is one typo from five letters; we correct four-letter words too, since
/// only a word that matches nothing as typed is corrected, and a dropped
/// letter turns a five-letter name into four ("bazl" for "bazel").
pub const ONE_TYPO_FROM: usize = 4;
/// Two typos from this many letters.
pub const TWO_TYPOS_FROM: usize = 9;
/// A dictionary word one typo away from a five-letter word has four letters.
const SHORTEST_WORD: usize = ONE_TYPO_FROM - 1;
/// Longer words are not corrected (identifiers, hashes).
const LONGEST_WORD: usize = 24;

/// One segment's words and their deletes.
pub struct Vocabulary {
    words: Vec<Box<str>>,
    /// (hash of the word or one of its deletes, index into `words`), sorted.
    keys: Vec<(u64, u32)>,
}

impl Vocabulary {
    pub fn build(segment: &SegmentReader, field: Field) -> tantivy::Result<Self> {
        let inverted = segment.inverted_index(field)?;
        let mut stream = inverted.terms().stream()?;
        let mut words: Vec<Box<str>> = Vec::new();
        let mut keys = Vec::new();
        let mut chars = Vec::with_capacity(LONGEST_WORD);
        while stream.advance() {
            let Ok(word) = std::str::from_utf8(stream.key()) else {
                continue;
            };
            chars.clear();
            chars.extend(word.chars());
            let n = chars.len();
            if !(SHORTEST_WORD..=LONGEST_WORD).contains(&n) || chars.iter().all(|c| c.is_numeric())
            {
                continue;
            }
            let Ok(slot) = u32::try_from(words.len()) else {
                break;
            };
            words.push(word.into());
            each_delete(&chars, n >= TWO_TYPOS_FROM, |key| keys.push((key, slot)));
        }
        keys.sort_unstable();
        keys.dedup();
        Ok(Vocabulary { words, keys })
    }

    /// Words within `max` edits of `word` (adjacent swaps count one), with
    /// their distance.
    fn near(&self, word: &[char], max: u8, out: &mut Vec<(Box<str>, u8)>) {
        let mut slots = Vec::new();
        each_delete(word, max >= 2, |key| {
            let from = self.keys.partition_point(|&(k, _)| k < key);
            slots.extend(
                self.keys[from..]
                    .iter()
                    .take_while(|&&(k, _)| k == key)
                    .map(|&(_, slot)| slot),
            );
        });
        slots.sort_unstable();
        slots.dedup();
        for slot in slots {
            let Some(candidate) = self.words.get(slot as usize) else {
                continue;
            };
            let theirs: Vec<char> = candidate.chars().collect();
            if let Some(d) = distance(word, &theirs, max)
                && d > 0
            {
                out.push((candidate.clone(), d));
            }
        }
    }
}

/// The hash of `chars` and of every string made by deleting one (and, when
/// `two`, two) of them.
fn each_delete(chars: &[char], two: bool, mut each: impl FnMut(u64)) {
    let n = chars.len();
    each(hash(chars, usize::MAX, usize::MAX));
    for i in 0..n {
        each(hash(chars, i, usize::MAX));
        if two {
            for j in i + 1..n {
                each(hash(chars, i, j));
            }
        }
    }
}

/// FNV-1a over the characters, skipping positions `a` and `b`.
fn hash(chars: &[char], a: usize, b: usize) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, &c) in chars.iter().enumerate() {
        if i != a && i != b {
            h = (h ^ u64::from(u32::from(c))).wrapping_mul(0x100_0000_01b3);
        }
    }
    h
}

/// Optimal-string-alignment distance (insert, delete, replace, swap of two
/// neighbours), or `None` past `max`.
pub fn distance(a: &[char], b: &[char], max: u8) -> Option<u8> {
    let max = usize::from(max);
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let width = b.len() + 1;
    let mut rows = vec![0usize; width * (a.len() + 1)];
    for (j, cell) in rows.iter_mut().take(width).enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        rows[i * width] = i;
        let mut best = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (rows[(i - 1) * width + j] + 1)
                .min(rows[i * width + j - 1] + 1)
                .min(rows[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows[(i - 2) * width + j - 2] + 1);
            }
            rows[i * width + j] = d;
            best = best.min(d);
        }
        if best > max {
            return None;
        }
    }
    let d = rows[a.len() * width + b.len()];
    u8::try_from(d).ok().filter(|_| d <= max)
}

/// How many typos a word of `letters` letters may have.
pub fn allowed_typos(letters: usize) -> u8 {
    if letters >= TWO_TYPOS_FROM {
        2
    } else if letters >= ONE_TYPO_FROM {
        1
    } else {
        0
    }
}

type Cell = Arc<OnceLock<Option<Arc<Vocabulary>>>>;

/// Each live segment's vocabulary, built on first use.
pub struct Vocabularies {
    field: Field,
    built: Mutex<HashMap<SegmentId, Cell>>,
}

impl Vocabularies {
    pub fn new(field: Field) -> Self {
        Vocabularies {
            field,
            built: Mutex::default(),
        }
    }

    /// Words of the searcher's segments within the allowed typos of
    /// `word` (already folded), nearest first; each word once.
    pub fn near(&self, searcher: &tantivy::Searcher, word: &str) -> Vec<(Box<str>, u8)> {
        let chars: Vec<char> = word.chars().collect();
        let max = allowed_typos(chars.len());
        if max == 0 || chars.len() > LONGEST_WORD {
            return Vec::new();
        }
        let mut out = Vec::new();
        let live: Vec<SegmentId> = searcher
            .segment_readers()
            .iter()
            .map(SegmentReader::segment_id)
            .collect();
        for segment in searcher.segment_readers() {
            if let Some(vocabulary) = self.of(segment, &live) {
                vocabulary.near(&chars, max, &mut out);
            }
        }
        out.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
        out.dedup_by(|a, b| a.0 == b.0);
        out
    }

    fn of(&self, segment: &SegmentReader, live: &[SegmentId]) -> Option<Arc<Vocabulary>> {
        let id = segment.segment_id();
        let cell = {
            let mut built = self.built.lock().unwrap_or_else(PoisonError::into_inner);
            if !built.contains_key(&id) {
                // A new segment: those merged away are dropped now. (A
                // searcher still holding one rebuilds it, rarely.)
                built.retain(|old, _| live.contains(old));
            }
            built.entry(id).or_default().clone()
        };
        // Built outside the lock: searches over other segments go on.
        cell.get_or_init(|| Vocabulary::build(segment, self.field).ok().map(Arc::new))
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(a: &str, b: &str) -> Option<u8> {
        let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
        distance(&a, &b, 2)
    }

    #[test]
    fn a_swap_of_neighbours_is_one_edit() {
        assert_eq!(d("pyhton", "python"), Some(1));
        assert_eq!(d("kubctl", "kubectl"), Some(1));
        assert_eq!(d("templaes", "templates"), Some(1));
        assert_eq!(d("rambursare", "rambursari"), Some(1));
        assert_eq!(d("abc", "xyz"), None);
    }

    #[test]
    fn deletes_meet_for_every_kind_of_single_typo() {
        let key_set = |w: &str, two: bool| {
            let chars: Vec<char> = w.chars().collect();
            let mut keys = Vec::new();
            each_delete(&chars, two, |k| keys.push(k));
            keys
        };
        let dictionary = key_set("docker", false);
        for typo in ["dockr", "dokcer", "dockker", "docket", "клиент"] {
            let shared = key_set(typo, false).iter().any(|k| dictionary.contains(k));
            assert_eq!(shared, typo != "клиент", "{typo}");
        }
    }

    #[test]
    fn typos_are_allowed_by_length() {
        assert_eq!(allowed_typos(3), 0);
        assert_eq!(allowed_typos(4), 1);
        assert_eq!(allowed_typos(9), 2);
    }
}
