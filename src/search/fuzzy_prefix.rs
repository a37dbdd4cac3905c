//! A word still being typed, completed with one typo allowed after its
//! first letter: the terms of a field that begin with something one edit
//! from the typed prefix ("pakcag" completes to "package").
//!
//! tantivy's `FuzzyTermQuery::new_prefix` walks the term dictionary with a
//! Levenshtein automaton from the first byte, so every branch of the
//! dictionary is entered; for a prefix no card's word begins with (a
//! query that finds nothing), that walk was two thirds of the search.
//! Holding the first letter as typed, as Lucene's and Elasticsearch's
//! fuzzy `prefix_length` does, walks only the words under that letter: a
//! first letter is rarely the one mistyped, and a whole word mistyped
//! anywhere is still corrected from the vocabulary (`index::vocabulary`).

use std::sync::{Arc, Mutex, PoisonError};

use tantivy::index::SegmentId;
use tantivy::query::{
    BitSetDocSet, ConstScorer, DfaWrapper, EnableScoring, Explanation, FuzzyTermQuery, Query,
    Scorer, Weight,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{BitSet, DocId, Score, SegmentReader, TantivyError, Term};
use tantivy_fst::Automaton;

/// A typed prefix's completions with one typo: its automaton, built once
/// for every field it is searched in, and each walk's cards, kept for the
/// query's life. A query that finds nothing is asked again needing fewer
/// words (`search::run`), and walking the dictionary twice was a tenth of
/// such a query.
#[derive(Clone)]
pub(super) struct FuzzyPrefix {
    automaton: Arc<FirstLetterHeld>,
    walked: Arc<Mutex<Vec<Walked>>>,
}

/// The cards whose words in `field` of one segment complete the prefix.
struct Walked {
    field: Field,
    segment: SegmentId,
    cards: Arc<BitSet>,
}

impl std::fmt::Debug for FuzzyPrefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FuzzyPrefix")
            .field("first", &self.automaton.first)
            .finish()
    }
}

impl FuzzyPrefix {
    /// `None` for an empty prefix or one tantivy cannot build an automaton
    /// for (the caller completes it exactly instead).
    pub(super) fn new(prefix: &str) -> Option<Self> {
        let first = prefix.chars().next()?;
        // The automaton depends on the text alone; the field is a placeholder.
        let term = Term::from_field_text(Field::from_field_id(0), prefix);
        let dfa = FuzzyTermQuery::new_prefix(term, 1, true).automaton().ok()?;
        let mut bytes = [0u8; 4];
        Some(FuzzyPrefix {
            automaton: Arc::new(FirstLetterHeld {
                first: first.encode_utf8(&mut bytes).as_bytes().to_vec(),
                dfa,
            }),
            walked: Arc::default(),
        })
    }

    /// The completions in `field`, as a query.
    pub(super) fn in_field(&self, field: Field) -> InField {
        InField {
            field,
            prefix: self.clone(),
        }
    }

    /// The cards of `reader`'s segment whose words in `field` complete the
    /// prefix, walked the first time they are asked for.
    fn cards(&self, field: Field, reader: &SegmentReader) -> tantivy::Result<Arc<BitSet>> {
        let segment = reader.segment_id();
        let mut walked = self.walked.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(done) = walked
            .iter()
            .find(|w| w.field == field && w.segment == segment)
        {
            return Ok(Arc::clone(&done.cards));
        }
        let mut cards = BitSet::with_max_value(reader.max_doc());
        let inverted = reader.inverted_index(field)?;
        let mut terms = inverted
            .terms()
            .search(&*self.automaton)
            .without_keys()
            .into_stream()?;
        while terms.advance() {
            let mut postings = inverted
                .read_block_postings_from_terminfo(terms.value(), IndexRecordOption::Basic)?;
            while !postings.docs().is_empty() {
                for &doc in postings.docs() {
                    cards.insert(doc);
                }
                postings.advance();
            }
        }
        let cards = Arc::new(cards);
        walked.push(Walked {
            field,
            segment,
            cards: Arc::clone(&cards),
        });
        Ok(cards)
    }
}

/// The completions of a prefix in one field: every card holding one scores
/// the same (the boost it is given), as tantivy's automaton queries do.
#[derive(Clone, Debug)]
pub(super) struct InField {
    field: Field,
    prefix: FuzzyPrefix,
}

impl Query for InField {
    fn weight(&self, _scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(self.clone()))
    }
}

impl Weight for InField {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let cards = self.prefix.cards(self.field, reader)?;
        Ok(Box::new(ConstScorer::new(
            BitSetDocSet::from(BitSet::clone(&cards)),
            boost,
        )))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        if self.prefix.cards(self.field, reader)?.contains(doc) {
            Ok(Explanation::new("completed with one typo", 1.0))
        } else {
            Err(TantivyError::InvalidArgument(format!(
                "document {doc} completes no word"
            )))
        }
    }
}

/// The Levenshtein automaton, walked only where a term begins with the
/// typed first letter.
pub(super) struct FirstLetterHeld {
    first: Vec<u8>,
    dfa: DfaWrapper,
}

/// Bytes read so far (up to the first letter's length), and the
/// automaton's state; `None` once a byte of the first letter differs.
type State = Option<(usize, u32)>;

impl Automaton for FirstLetterHeld {
    type State = State;

    fn start(&self) -> State {
        Some((0, self.dfa.start()))
    }

    fn is_match(&self, state: &State) -> bool {
        matches!(state, Some((read, dfa)) if *read >= self.first.len() && self.dfa.is_match(dfa))
    }

    fn can_match(&self, state: &State) -> bool {
        matches!(state, Some((_, dfa)) if self.dfa.can_match(dfa))
    }

    fn accept(&self, state: &State, byte: u8) -> State {
        let (read, dfa) = (*state)?;
        match self.first.get(read) {
            Some(&expected) if expected != byte => None,
            _ => Some((read + 1, self.dfa.accept(&dfa, byte))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::collector::DocSetCollector;
    use tantivy::schema::{STRING, Schema};
    use tantivy::{Index, IndexWriter, TantivyDocument};

    fn one_word_per_card(words: &[&str]) -> (tantivy::Searcher, Field) {
        let mut schema = Schema::builder();
        let field = schema.add_text_field("word", STRING | tantivy::schema::STORED);
        let index = Index::create_in_ram(schema.build());
        let mut writer: IndexWriter = index.writer(15_000_000).unwrap();
        for word in words {
            let mut doc = TantivyDocument::new();
            doc.add_text(field, word);
            writer.add_document(doc).unwrap();
        }
        writer.commit().unwrap();
        (index.reader().unwrap().searcher(), field)
    }

    fn matches(words: &[&str], prefix: &str) -> Vec<String> {
        let (searcher, field) = one_word_per_card(words);
        let query = FuzzyPrefix::new(prefix).unwrap().in_field(field);
        let mut found: Vec<String> = searcher
            .search(&query, &DocSetCollector)
            .unwrap()
            .into_iter()
            .map(|address| {
                let doc: TantivyDocument = searcher.doc(address).unwrap();
                tantivy::schema::Value::as_str(&doc.get_first(field).unwrap())
                    .unwrap()
                    .to_string()
            })
            .collect();
        found.sort();
        found
    }

    #[test]
    fn a_prefix_completes_with_one_typo_after_its_first_letter() {
        let words = ["package", "packages", "pacman", "backage", "parcel", "zip"];
        // A swap, a dropped and a doubled letter, each after the first.
        assert_eq!(matches(&words, "pakcag"), ["package", "packages"]);
        assert_eq!(matches(&words, "pckag"), ["package", "packages"]);
        assert_eq!(matches(&words, "paackag"), ["package", "packages"]);
        // The first letter is held: "backage" is one edit from "package"
        // but begins otherwise, and "zackag" completes to nothing.
        assert_eq!(
            matches(&words, "packag"),
            ["backage", "package", "packages"][1..]
        );
        assert!(matches(&words, "zackag").is_empty());
    }

    #[test]
    fn a_first_letter_of_several_bytes_is_held_whole() {
        let words = [
            "ștergeți",
            "ștergere",
            "stergeti",
            "шаблон",
            "шаблоны",
            "щаблон",
        ];
        // "stergeti" is as near, but begins with another letter.
        assert_eq!(matches(&words, "ștregeț"), ["ștergeți"]);
        assert_eq!(matches(&words, "ștegre"), ["ștergere", "ștergeți"]);
        assert_eq!(matches(&words, "шаблнн"), ["шаблон", "шаблоны"]);
    }

    #[test]
    fn a_query_asked_again_walks_the_dictionary_once() {
        let (searcher, field) = one_word_per_card(&["package", "parcel"]);
        let prefix = FuzzyPrefix::new("pakcag").unwrap();
        let first = searcher
            .search(&prefix.in_field(field), &DocSetCollector)
            .unwrap();
        let again = searcher
            .search(&prefix.in_field(field), &DocSetCollector)
            .unwrap();
        assert_eq!(first.len(), 1);
        assert_eq!(first, again);
        let walked = prefix.walked.lock().unwrap();
        assert_eq!(walked.len(), 1, "one walk per field and segment");
    }
}
