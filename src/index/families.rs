//! Each card's translation family as a small number: its family's place
//! among the families of one set of segments. A results page counts the
//! families its matches belong to, and a pasted text or a common word
//! matches most cards; with these numbers counting sets a bit per match
//! where it hashed a family into a set (a tenth of such a search).
//!
//! The numbers hold for one list of segments, so they are built the first
//! time a search meets a new list (after a commit or a merge), once, and
//! kept until the next. Deletes do not matter: a deleted card never
//! matches, and a family's number only has to be the same for its members.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tantivy::index::SegmentId;
use tantivy::{DocId, Searcher, SegmentOrdinal, SegmentReader};

use super::schema::FAMILY;

/// The families of one list of segments, numbered from 0.
pub struct FamilyNumbers {
    segments: Vec<SegmentId>,
    /// Per segment (in the searcher's order), each document's family number.
    numbers: Vec<Box<[u32]>>,
    families: usize,
}

impl FamilyNumbers {
    fn build(searcher: &Searcher) -> Self {
        let mut numbered: HashMap<u64, u32> = HashMap::new();
        let mut numbers = Vec::with_capacity(searcher.segment_readers().len());
        for (ord, reader) in searcher.segment_readers().iter().enumerate() {
            let column = reader.fast_fields().u64(FAMILY).ok();
            let of_segment: Box<[u32]> = (0..reader.max_doc())
                .map(|doc| {
                    // A card without a family is a family of one, as
                    // `search::family` treats it: its address stands in.
                    let family = column
                        .as_ref()
                        .and_then(|c| c.first(doc))
                        .unwrap_or((ord as u64) << 32 | u64::from(doc));
                    let next = u32::try_from(numbered.len()).unwrap_or(u32::MAX);
                    *numbered.entry(family).or_insert(next)
                })
                .collect();
            numbers.push(of_segment);
        }
        FamilyNumbers {
            segments: searcher
                .segment_readers()
                .iter()
                .map(SegmentReader::segment_id)
                .collect(),
            numbers,
            families: numbered.len(),
        }
    }

    /// How many families there are: the numbers run from 0 to this.
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
}

/// The numbers of the last list of segments a search met.
#[derive(Default)]
pub struct Families {
    last: Mutex<Option<Arc<FamilyNumbers>>>,
}

impl Families {
    /// The family numbers for `searcher`'s segments, built if they are new.
    pub fn numbers(&self, searcher: &Searcher) -> Arc<FamilyNumbers> {
        // Held while building: searches that meet the same new segments
        // wait for one build rather than each doing it.
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        let same = last.as_ref().is_some_and(|numbers| {
            numbers.segments.len() == searcher.segment_readers().len()
                && numbers
                    .segments
                    .iter()
                    .zip(searcher.segment_readers())
                    .all(|(id, reader)| *id == reader.segment_id())
        });
        match last.as_ref() {
            Some(numbers) if same => Arc::clone(numbers),
            _ => {
                let numbers = Arc::new(FamilyNumbers::build(searcher));
                *last = Some(Arc::clone(&numbers));
                numbers
            }
        }
    }
}
