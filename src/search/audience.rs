//! The statistics a search reads, as its caller may see them. A caller
//! limited to `audience: public` cards gets document frequencies and card
//! counts over public cards only: idf picks a ticket's words and weighs
//! every query's terms, so global counts would tell such a caller which
//! words internal cards hold. Everyone else reads the index's own counts.

use tantivy::query::Bm25StatisticsProvider;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, DocSet, Searcher, SegmentReader, TERMINATED, Term};

use crate::index::schema::Fields;

pub(crate) struct Statistics<'a> {
    searcher: &'a Searcher,
    /// Title, lead and body, when a word's rarity is judged over whole
    /// cards (see `whole_card_rarity`).
    text_fields: Option<[Field; 3]>,
    /// `audience:public`, when the caller sees public cards only.
    public: Option<Term>,
    /// Live public cards (every live card when `public` is `None`).
    cards: u64,
}

impl<'a> Statistics<'a> {
    /// BM25 reads one document frequency per word over whole cards: the
    /// most cards that hold it in any of title, lead and body (as BM25F).
    /// For typed queries; a ticket's words keep their per-field weights.
    pub fn whole_card_rarity(mut self, fields: &Fields) -> Self {
        self.text_fields = Some([fields.title, fields.lead, fields.body]);
        self
    }

    pub fn new(searcher: &'a Searcher, fields: &Fields, public_only: bool) -> Self {
        let public = public_only.then(|| Term::from_field_text(fields.audience, "public"));
        let cards = match &public {
            Some(term) => searcher
                .segment_readers()
                .iter()
                .map(|segment| count_alive(segment, &[term]))
                .sum(),
            None => searcher.num_docs(),
        };
        Statistics {
            searcher,
            text_fields: None,
            public,
            cards,
        }
    }

    pub fn searcher(&self) -> &'a Searcher {
        self.searcher
    }

    /// The cards the caller may see.
    pub fn num_cards(&self) -> u64 {
        self.cards
    }

    /// How many cards the caller may see hold `term`. An unreadable
    /// segment counts as holding nothing: a statistic is never worth an
    /// error, and the search that follows reports a broken index itself.
    pub fn doc_freq(&self, term: &Term) -> u64 {
        match &self.public {
            None => self.searcher.doc_freq(term).unwrap_or(0),
            Some(public) => self
                .searcher
                .segment_readers()
                .iter()
                .map(|segment| count_alive(segment, &[term, public]))
                .sum(),
        }
    }
}

impl Bm25StatisticsProvider for Statistics<'_> {
    /// For a public caller, the lengths of public cards' fields only (as
    /// the index keeps them, rounded): the average length BM25 divides by.
    fn total_num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        let Some(public) = &self.public else {
            return self.searcher.total_num_tokens(field);
        };
        let mut total = 0;
        for segment in self.searcher.segment_readers() {
            let norms = segment.get_fieldnorms_reader(field)?;
            each_alive(segment, &[public], |doc| {
                total += u64::from(norms.fieldnorm(doc));
            });
        }
        Ok(total)
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        if self.public.is_none() {
            return self.searcher.total_num_docs();
        }
        // BM25 divides by it; an index without a public card still scores.
        Ok(self.cards.max(1))
    }

    /// A word's rarity over whole cards (the most cards that hold it in
    /// any one of title, lead and body), as BM25F has one idf per word:
    /// per field, "customer" in a title looked rare beside the bodies
    /// that all say it, and a title that merely named it won every
    /// question about customers.
    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        let count = |term: &Term| -> tantivy::Result<u64> {
            if self.public.is_none() {
                self.searcher.doc_freq(term)
            } else {
                Ok(Statistics::doc_freq(self, term))
            }
        };
        let value = term.value();
        let (text, fields) = match (value.as_str(), self.text_fields) {
            (Some(text), Some(fields)) if fields.contains(&term.field()) => (text, fields),
            _ => return count(term),
        };
        let mut most = 0;
        for field in fields {
            most = most.max(count(&Term::from_field_text(field, text))?);
        }
        Ok(most)
    }
}

/// Live documents of `segment` that hold every one of `terms`.
fn count_alive(segment: &SegmentReader, terms: &[&Term]) -> u64 {
    let mut count = 0;
    each_alive(segment, terms, |_| count += 1);
    count
}

/// Calls `each` with every live document of `segment` that holds every one
/// of `terms`.
pub(super) fn each_alive(segment: &SegmentReader, terms: &[&Term], mut each: impl FnMut(DocId)) {
    let mut postings = Vec::with_capacity(terms.len());
    for term in terms {
        let read = segment
            .inverted_index(term.field())
            .ok()
            .and_then(|index| index.read_postings(term, IndexRecordOption::Basic).ok());
        match read.flatten() {
            Some(p) => postings.push(p),
            None => return,
        }
    }
    let Some((first, rest)) = postings.split_first_mut() else {
        return;
    };
    let alive = segment.alive_bitset();
    let mut doc: DocId = first.doc();
    // Leapfrog: each list jumps to the candidate; a list that overshoots
    // makes its document the next candidate.
    'candidates: while doc != TERMINATED {
        for other in rest.iter_mut() {
            let found = if other.doc() < doc {
                other.seek(doc)
            } else {
                other.doc()
            };
            if found != doc {
                doc = first.seek(found);
                continue 'candidates;
            }
        }
        if alive.is_none_or(|bits| bits.is_alive(doc)) {
            each(doc);
        }
        doc = first.advance();
    }
}
