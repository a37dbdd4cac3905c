//! Each card's translation family as a small number: its family's place
//! among the families of one set of segments. A results page counts the
//! families its matches belong to, and a pasted text or a common word
//! matches most cards; with these numbers counting sets a bit per match
//! where it hashed a family into a set (a tenth of such a search).
//!
//! Segments never change, so each is numbered once, the first time a
//! search meets it (after the commit or merge that made it), from one map
//! of families to numbers, and its numbers are dropped with it. Deletes do
//! not matter: a deleted card never matches, and a family's number only
//! has to be the same for its members.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tantivy::index::SegmentId;
use tantivy::{DocId, Searcher, SegmentOrdinal, SegmentReader};

use super::schema::FAMILY;

/// The families of one list of segments, numbered from 0.
pub struct FamilyNumbers {
    segments: Vec<SegmentId>,
    /// Per segment (in the searcher's order), each document's family number.
    numbers: Vec<Arc<[u32]>>,
    /// Numbers handed out: every number is below it.
    families: usize,
}

impl FamilyNumbers {
    /// How many numbers there may be: each is below this.
    pub fn len(&self) -> usize {
        self.families
    }

    pub fn is_empty(&self) -> bool {
        self.families == 0
    }

    /// The family number of `doc` in the segment `ord`, if the numbers know it.
    pub fn of(&self, ord: SegmentOrdinal, doc: DocId) -> Option<u32> {
        self.numbers.get(ord as usize)?.get(doc as usize).copied()
    }

    fn covers(&self, searcher: &Searcher) -> bool {
        self.segments.len() == searcher.segment_readers().len()
            && self
                .segments
                .iter()
                .zip(searcher.segment_readers())
                .all(|(id, reader)| *id == reader.segment_id())
    }
}

/// The numbers of the last list of segments a search met.
#[derive(Default)]
pub struct FamilyNumbering {
    state: Mutex<State>,
}

/// Numbers are kept per segment and handed out from one map, so a commit
/// that adds a small segment numbers only its cards: the first search
/// after a save does not renumber the whole index.
#[derive(Default)]
struct State {
    last: Option<Arc<FamilyNumbers>>,
    by_family: HashMap<u64, u32>,
    next: u32,
    segments: HashMap<SegmentId, Arc<[u32]>>,
}

impl State {
    fn number(&mut self, family: Option<u64>) -> u32 {
        let fresh = self.next;
        let number = match family {
            Some(family) => *self.by_family.entry(family).or_insert(fresh),
            // A card without a family is a family of one, as
            // `search::family` treats it: a number no other card gets.
            None => fresh,
        };
        if number == fresh {
            self.next = self.next.saturating_add(1);
        }
        number
    }

    fn segment(&mut self, reader: &SegmentReader) -> Arc<[u32]> {
        if let Some(numbers) = self.segments.get(&reader.segment_id()) {
            return Arc::clone(numbers);
        }
        let column = reader.fast_fields().u64(FAMILY).ok();
        let numbers: Arc<[u32]> = (0..reader.max_doc())
            .map(|doc| self.number(column.as_ref().and_then(|c| c.first(doc))))
            .collect();
        self.segments
            .insert(reader.segment_id(), Arc::clone(&numbers));
        numbers
    }
}

impl FamilyNumbering {
    /// The family numbers for `searcher`'s segments, numbering the
    /// segments it has not met before.
    pub fn numbers(&self, searcher: &Searcher) -> Arc<FamilyNumbers> {
        // Held while numbering: searches that meet the same new segments
        // wait for one numbering rather than each doing it.
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(last) = state.last.as_ref().filter(|last| last.covers(searcher)) {
            return Arc::clone(last);
        }
        let readers = searcher.segment_readers();
        let live: Vec<SegmentId> = readers.iter().map(SegmentReader::segment_id).collect();
        state.segments.retain(|id, _| live.contains(id));
        // Merged-away segments leave their numbers unused; start afresh
        // before the bit sets counting uses grow to twice the cards.
        let cards: usize = readers.iter().map(|r| r.max_doc() as usize).sum();
        if state.next as usize > 2 * cards + 1024 {
            *state = State::default();
        }
        let numbers = readers.iter().map(|r| state.segment(r)).collect();
        let built = Arc::new(FamilyNumbers {
            segments: live,
            numbers,
            families: state.next as usize,
        });
        state.last = Some(Arc::clone(&built));
        built
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::schema::{FAST, Schema};
    use tantivy::{Index, IndexWriter, TantivyDocument};

    fn add(writer: &mut IndexWriter, index: &Index, families: &[u64]) {
        let field = index.schema().get_field(FAMILY).unwrap();
        for &family in families {
            let mut doc = TantivyDocument::new();
            doc.add_u64(field, family);
            writer.add_document(doc).unwrap();
        }
        writer.commit().unwrap();
    }

    #[test]
    fn a_family_has_one_number_across_segments_and_a_commit_numbers_only_its_own() {
        let mut schema = Schema::builder();
        schema.add_u64_field(FAMILY, FAST);
        let index = Index::create_in_ram(schema.build());
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
        writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
        let reader = index.reader().unwrap();
        let families = FamilyNumbering::default();

        add(&mut writer, &index, &[7, 8, 7]);
        reader.reload().unwrap();
        let first = families.numbers(&reader.searcher());
        assert_eq!(first.of(0, 0), first.of(0, 2));
        assert_ne!(first.of(0, 0), first.of(0, 1));

        add(&mut writer, &index, &[8, 9]);
        reader.reload().unwrap();
        let searcher = reader.searcher();
        let second = families.numbers(&searcher);
        let ord = |id| {
            searcher
                .segment_readers()
                .iter()
                .position(|r| r.segment_id() == id)
                .unwrap() as SegmentOrdinal
        };
        let (old, new) = (ord(first.segments[0]), 1 - ord(first.segments[0]));
        assert!(Arc::ptr_eq(
            &first.numbers[0],
            &second.numbers[old as usize]
        ));
        assert_eq!(second.of(new, 0), second.of(old, 1), "family 8 in both");
        assert_eq!(second.len(), 3);
    }
}
