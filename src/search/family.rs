//! One hit per translation family, in the reader's language. Cards that
//! translate each other share a family hash (`index` field `family`): a
//! result list keeps the best-scoring member of each family, then shows the
//! member in the reader's language when the family has one that passes
//! the same filters, at the family's rank.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use tantivy::collector::{Collector, DocSetCollector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, DocId, Score, Searcher, SegmentOrdinal, SegmentReader, Term};

use crate::index::{FamilyNumbers, Fields, schema};

/// Family keys are hashes already (FNV-1a of the key): a set of them needs
/// no second hash. (The total is counted by family numbers, not in a set:
/// see `FamilyCount`.)
#[derive(Default)]
pub(super) struct KeyIsHash(u64);

impl Hasher for KeyIsHash {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type Families = HashSet<u64, BuildHasherDefault<KeyIsHash>>;

/// Candidates fetched per hit shown: a family of four languages whose
/// members all match still leaves a full page.
pub(super) const FETCHED_PER_HIT: usize = 4;

/// A family's place in a result list: its best member's score and document.
#[derive(Debug, Clone, Copy)]
pub(super) struct Kept {
    pub score: Score,
    pub address: DocAddress,
    pub family: u64,
}

/// The ranked candidates `top` with every family after its first member
/// dropped, then `offset` families skipped and `limit` kept.
pub(super) fn collapse<T>(
    columns: &Columns,
    top: &[((Score, T), DocAddress)],
    offset: usize,
    limit: usize,
) -> Vec<Kept> {
    let mut seen = Families::default();
    top.iter()
        .map(|&((score, _), address)| Kept {
            score,
            address,
            family: columns.family(address),
        })
        .filter(|kept| seen.insert(kept.family))
        .skip(offset)
        .take(limit)
        .collect()
}

/// Every member of the `families` shown on a page that passes `filters`:
/// one search for the page, not one per family and language.
pub(super) fn members(
    searcher: &Searcher,
    columns: &Columns,
    fields: &Fields,
    families: &[u64],
    filters: &[Box<dyn Query>],
) -> tantivy::Result<HashMap<u64, Vec<DocAddress>>> {
    let any_family: Vec<(Occur, Box<dyn Query>)> = families
        .iter()
        .map(|&f| (Occur::Should, term(Term::from_field_u64(fields.family, f))))
        .collect();
    let mut clauses: Vec<(Occur, Box<dyn Query>)> =
        vec![(Occur::Must, Box::new(BooleanQuery::new(any_family)))];
    clauses.extend(filters.iter().map(|f| (Occur::Must, f.box_clone())));
    let found = searcher.search(&BooleanQuery::new(clauses), &DocSetCollector)?;
    let mut by_family: HashMap<u64, Vec<DocAddress>> = HashMap::new();
    for address in found {
        by_family
            .entry(columns.family(address))
            .or_default()
            .push(address);
    }
    Ok(by_family)
}

/// The member of `kept`'s family (among `members`, see `members`) in the
/// first of `prefer` that comes before the language of the member that
/// ranked. When the family has none in those languages (or none is known)
/// and the shown member is in none of them either, its source (the card
/// the others translate, whose id is the family's key: tldr's `pages/`
/// beside `pages.ru/`). `None` when the shown member is best.
pub(super) fn member_in_reader_language(
    columns: &Columns,
    kept: Kept,
    members: &[DocAddress],
    prefer: &[String],
) -> Option<DocAddress> {
    let shown_lang = columns.lang(kept.address);
    for lang in prefer
        .iter()
        .take_while(|l| Some(l.as_str()) != shown_lang.as_deref())
    {
        // Two members in one language is an author's slip (`quire check`
        // says so); the lowest id hash wins, the same one on every build.
        let best = members
            .iter()
            .filter(|a| columns.lang(**a).as_deref() == Some(lang.as_str()))
            .min_by_key(|a| columns.id_hash(**a));
        if let Some(best) = best {
            return Some(*best);
        }
    }
    // In a reader's language, or the source itself (nearly every card:
    // a family of one is its own source).
    if prefer
        .iter()
        .any(|l| Some(l.as_str()) == shown_lang.as_deref())
        || columns.id_hash(kept.address) == kept.family
    {
        return None;
    }
    members
        .iter()
        .find(|a| columns.id_hash(**a) == kept.family)
        .copied()
}

fn term(term: Term) -> Box<dyn Query> {
    Box::new(TermQuery::new(term, IndexRecordOption::Basic))
}

/// The family and id-hash columns of each segment of a searcher, opened
/// once per search.
pub(super) struct Columns {
    families: Vec<Option<Column<u64>>>,
    id_hashes: Vec<Option<Column<u64>>>,
    langs: Vec<Option<StrColumn>>,
}

impl Columns {
    pub(super) fn new(searcher: &Searcher) -> Self {
        let column = |reader: &SegmentReader, name: &str| reader.fast_fields().u64(name).ok();
        Columns {
            families: searcher
                .segment_readers()
                .iter()
                .map(|r| column(r, schema::FAMILY))
                .collect(),
            id_hashes: searcher
                .segment_readers()
                .iter()
                .map(|r| column(r, "id_hash"))
                .collect(),
            langs: searcher
                .segment_readers()
                .iter()
                .map(|r| r.fast_fields().str("lang").ok().flatten())
                .collect(),
        }
    }

    /// A card's language, read from its column rather than its stored
    /// document.
    fn lang(&self, at: DocAddress) -> Option<String> {
        let column = self.langs.get(at.segment_ord as usize)?.as_ref()?;
        let ord = column.term_ords(at.doc_id).next()?;
        let mut lang = String::new();
        column.ord_to_str(ord, &mut lang).ok()?.then_some(lang)
    }

    /// A card's family hash; a document without one is a family of one
    /// (its address stands in, so it is never merged with another).
    fn family(&self, at: DocAddress) -> u64 {
        let of = |c: &Column<u64>| c.first(at.doc_id);
        self.families
            .get(at.segment_ord as usize)
            .and_then(|c| c.as_ref().and_then(of))
            .unwrap_or(u64::from(at.segment_ord) << 32 | u64::from(at.doc_id))
    }

    fn id_hash(&self, at: DocAddress) -> u64 {
        self.id_hashes
            .get(at.segment_ord as usize)
            .and_then(|c| c.as_ref().and_then(|c| c.first(at.doc_id)))
            .unwrap_or(0)
    }
}

/// How many families the matching cards belong to: the total a reader is
/// told, since each family is one hit. Each match sets its family's bit.
pub(super) struct FamilyCount(pub Arc<FamilyNumbers>);

pub(super) struct FamilySegment {
    numbers: Arc<FamilyNumbers>,
    segment: SegmentOrdinal,
    seen: Bits,
}

/// The families seen, one bit per family number, and the matches whose
/// family the numbers did not know (each counted as a family of its own).
#[derive(Default)]
pub(super) struct Bits {
    words: Vec<u64>,
    unnumbered: usize,
}

impl Collector for FamilyCount {
    type Fruit = usize;
    type Child = FamilySegment;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        _reader: &SegmentReader,
    ) -> tantivy::Result<FamilySegment> {
        Ok(FamilySegment {
            numbers: Arc::clone(&self.0),
            segment,
            seen: Bits {
                words: vec![0; self.0.len().div_ceil(64)],
                unnumbered: 0,
            },
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Bits>) -> tantivy::Result<usize> {
        let mut all = fruits.into_iter();
        let mut union = all.next().unwrap_or_default();
        for bits in all {
            union.unnumbered += bits.unnumbered;
            if union.words.len() < bits.words.len() {
                union.words.resize(bits.words.len(), 0);
            }
            for (into, word) in union.words.iter_mut().zip(bits.words) {
                *into |= word;
            }
        }
        let numbered: u32 = union.words.iter().map(|w| w.count_ones()).sum();
        Ok(numbered as usize + union.unnumbered)
    }
}

impl SegmentCollector for FamilySegment {
    type Fruit = Bits;

    fn collect(&mut self, doc: DocId, _score: Score) {
        let number = self.numbers.of(self.segment, doc).map(|n| n as usize);
        match number.and_then(|n| self.seen.words.get_mut(n / 64).map(|w| (w, n % 64))) {
            Some((word, bit)) => *word |= 1 << bit,
            None => self.seen.unnumbered += 1,
        }
    }

    fn harvest(self) -> Bits {
        self.seen
    }
}
