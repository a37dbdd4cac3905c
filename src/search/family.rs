//! One hit per translation family, in the reader's language. Cards that
//! translate each other share a family hash (`index` field `family`): a
//! result list keeps the best-scoring member of each family, then shows the
//! member in the reader's language when the family has one that passes
//! the same filters, at the family's rank.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

use tantivy::collector::{Collector, DocSetCollector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, DocId, Score, Searcher, SegmentOrdinal, SegmentReader, Term};

use crate::index::Fields;

/// Family keys are hashes already (FNV-1a of the key): a set of them needs
/// no second hash, and SipHash over every match was most of counting.
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

/// The member of `family` in the first of `prefer` that comes before
/// `shown_lang` (the language of the member that ranked), among the cards
/// `filters` let through. When the family has none in those languages (or
/// none is known) and the shown member is in none of them either, its
/// source (the card the others translate, whose id is the family's key:
/// tldr's `pages/` beside `pages.ru/`). `None` when the shown member is
/// best.
pub(super) fn member_in_reader_language(
    searcher: &Searcher,
    columns: &Columns,
    fields: &Fields,
    kept: Kept,
    prefer: &[String],
    shown_lang: &str,
    filters: &[Box<dyn Query>],
) -> tantivy::Result<Option<DocAddress>> {
    let family = kept.family;
    for lang in prefer.iter().take_while(|l| *l != shown_lang) {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![
            (
                Occur::Must,
                term(Term::from_field_u64(fields.family, family)),
            ),
            (Occur::Must, term(Term::from_field_text(fields.lang, lang))),
        ];
        clauses.extend(filters.iter().map(|f| (Occur::Must, f.box_clone())));
        let found = searcher.search(&BooleanQuery::new(clauses), &DocSetCollector)?;
        // Two members in one language is an author's slip (`quire check`
        // says so); the lowest id hash wins, the same one on every build.
        if let Some(best) = found.into_iter().min_by_key(|a| columns.id_hash(*a)) {
            return Ok(Some(best));
        }
    }
    // In a reader's language, or the source itself (nearly every card:
    // a family of one is its own source).
    if prefer.iter().any(|l| l == shown_lang) || columns.id_hash(kept.address) == family {
        return Ok(None);
    }
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(
        Occur::Must,
        term(Term::from_field_u64(fields.family, family)),
    )];
    clauses.extend(filters.iter().map(|f| (Occur::Must, f.box_clone())));
    let members = searcher.search(&BooleanQuery::new(clauses), &DocSetCollector)?;
    Ok(members.into_iter().find(|a| columns.id_hash(*a) == family))
}

fn term(term: Term) -> Box<dyn Query> {
    Box::new(TermQuery::new(term, IndexRecordOption::Basic))
}

/// The family and id-hash columns of each segment of a searcher, opened
/// once per search.
pub(super) struct Columns {
    families: Vec<Option<Column<u64>>>,
    id_hashes: Vec<Option<Column<u64>>>,
}

impl Columns {
    pub(super) fn new(searcher: &Searcher) -> Self {
        let column = |reader: &SegmentReader, name: &str| reader.fast_fields().u64(name).ok();
        Columns {
            families: searcher
                .segment_readers()
                .iter()
                .map(|r| column(r, "family"))
                .collect(),
            id_hashes: searcher
                .segment_readers()
                .iter()
                .map(|r| column(r, "id_hash"))
                .collect(),
        }
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
/// told, since each family is one hit.
pub(super) struct FamilyCount;

pub(super) struct FamilySegment {
    column: Option<Column<u64>>,
    segment: SegmentOrdinal,
    seen: Families,
}

impl Collector for FamilyCount {
    type Fruit = usize;
    type Child = FamilySegment;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<FamilySegment> {
        Ok(FamilySegment {
            column: reader.fast_fields().u64("family").ok(),
            segment,
            seen: Families::default(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Families>) -> tantivy::Result<usize> {
        let mut all = fruits.into_iter();
        let mut union = all.next().unwrap_or_default();
        for set in all {
            union.extend(set);
        }
        Ok(union.len())
    }
}

impl SegmentCollector for FamilySegment {
    type Fruit = Families;

    fn collect(&mut self, doc: DocId, _score: Score) {
        let family = self
            .column
            .as_ref()
            .and_then(|c| c.first(doc))
            .unwrap_or(u64::from(self.segment) << 32 | u64::from(doc));
        self.seen.insert(family);
    }

    fn harvest(self) -> Families {
        self.seen
    }
}
