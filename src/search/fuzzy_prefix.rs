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

use std::sync::Arc;

use tantivy::Term;
use tantivy::query::{AutomatonWeight, DfaWrapper, EnableScoring, FuzzyTermQuery, Query, Weight};
use tantivy::schema::Field;
use tantivy_fst::Automaton;

/// The terms of `field` that begin within one edit of `prefix`, its first
/// letter as typed.
#[derive(Clone)]
pub(super) struct FuzzyPrefix {
    field: Field,
    automaton: Arc<FirstLetterHeld>,
}

impl std::fmt::Debug for FuzzyPrefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FuzzyPrefix")
            .field("field", &self.field)
            .field("first", &self.automaton.first)
            .finish()
    }
}

impl FuzzyPrefix {
    /// `None` for an empty prefix or one tantivy cannot build an automaton
    /// for (the caller completes it exactly instead).
    pub(super) fn new(field: Field, prefix: &str) -> Option<Self> {
        let first = prefix.chars().next()?;
        let term = Term::from_field_text(field, prefix);
        let dfa = FuzzyTermQuery::new_prefix(term, 1, true).automaton().ok()?;
        let mut bytes = [0u8; 4];
        Some(FuzzyPrefix {
            field,
            automaton: Arc::new(FirstLetterHeld {
                first: first.encode_utf8(&mut bytes).as_bytes().to_vec(),
                dfa,
            }),
        })
    }
}

impl Query for FuzzyPrefix {
    fn weight(&self, _scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(AutomatonWeight::<FirstLetterHeld>::new(
            self.field,
            Arc::clone(&self.automaton),
        )))
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

    fn matches(words: &[&str], prefix: &str) -> Vec<String> {
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
        let searcher = index.reader().unwrap().searcher();
        let query = FuzzyPrefix::new(field, prefix).unwrap();
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
}
