//! The analysed query, ready to become tantivy queries: which words must
//! match and in which fields, what each unknown word may have meant, and
//! what puts a card whose title is the typed text first.
//!
//! Typos are corrected from the index's own vocabulary (see
//! `index::vocabulary`): a word no card holds is searched as itself and as
//! the words one typo away (two from nine letters), and a corrected word
//! counts as much as a right one for deciding which cards match. Stop words
//! score but never make a hit on their own.

use std::collections::HashSet;
use std::ops::Bound;

use tantivy::Term;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, InvertedIndexRangeQuery, Occur,
    PhraseQuery, Query, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};

use super::fuzzy_prefix::FuzzyPrefix;
use super::{audience, query};
use crate::index::SearchIndex;
use crate::index::analyzer::{Analyzer, Word, romanian_spellings, title_key};
use crate::index::synonyms::Alternative;

const TITLE_BOOST: f32 = 3.0;
const LEAD_BOOST: f32 = 1.5;
const BODY_BOOST: f32 = 1.0;
/// A corrected word's terms score this share of a right word's.
const CORRECTED_WEIGHT: f32 = 0.6;
/// A synonym's terms score this share of the typed word's: the card says
/// it in other words, which is a little less sure.
const SYNONYM_WEIGHT: f32 = 0.6;
/// Prefix completions score a constant, under a whole word's BM25.
const PREFIX_WEIGHT: f32 = 0.4;
/// A card whose whole title is the query, or whose title begins with the
/// query being typed, comes before cards that only share its words: these
/// constants are above any sum of a short query's BM25 scores.
const WHOLE_TITLE: f32 = 100.0;
const TITLE_PREFIX: f32 = 50.0;
/// Two query words side by side in a card ("money back", "log in") add
/// this share of a word's score: the card says what the reader said.
const PAIR_WEIGHT: f32 = 1.0;
/// Corrections kept per word (the most frequent at the nearest distance).
const MAX_CORRECTIONS: usize = 5;
/// A word the index holds in at most this many cards may still be a typo
/// ("git sage" for "git stage", "grade" for "gradle")...
const RARE_WORD_CARDS: u64 = 3;
/// ...when a word a typo away is in this many times more cards.
const MORE_LIKELY: u64 = 4;
/// Past this many words a query is a pasted text: no typo tolerance.
const MAX_FORGIVING_WORDS: usize = 8;
/// Words beyond this many are not searched (a pasted e-mail is still a query).
pub const MAX_WORDS: usize = 32;

/// The fields a plan looks in.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Scope {
    Everything,
    /// Titles and leads (summary, headings, tags, aliases): suggestions.
    Titles,
}

pub(super) struct Plan {
    fields: Vec<(Field, f32)>,
    body: Field,
    title_key: Field,
    content: Vec<Wanted>,
    stop: Vec<Word>,
    phrases: Vec<Vec<Word>>,
    excluded: Vec<Word>,
    /// Neighbouring words of the query, for the side-by-side bonus.
    pairs: Vec<[Word; 2]>,
    /// Whole-title keys to rank first: the typed text, and the corrected.
    titles: Vec<String>,
    /// The last word is still being typed.
    typing: bool,
}

/// A content word of the query, and what the index knows of it.
struct Wanted {
    word: Word,
    /// The last word, still being typed: also matched as a prefix.
    prefix: bool,
    /// Some indexed word begins as this one does: the prefix so far is
    /// typed right, so its completions need no typo tolerance.
    begun: bool,
    /// Words of the index a typo away, when none of the word's forms is
    /// in the index, or the word is rare and they are not: searched too.
    corrections: Vec<Word>,
    /// None of the word's forms is in the index: its correction is what
    /// "did you mean" offers.
    unknown: bool,
    /// Other entries of the synonym groups the word is in (alone or as
    /// part of a phrase): a card that says any of them matches the word.
    synonyms: Vec<Alternative>,
    /// The word being typed, completed with one typo (see `Lookup::wanted`).
    completion: Option<FuzzyPrefix>,
}

impl Plan {
    /// A plan with no words yet, over `scope`'s fields.
    pub fn empty(index: &SearchIndex, scope: Scope) -> Self {
        let f = index.fields();
        let fields = match scope {
            Scope::Everything => vec![
                (f.title, TITLE_BOOST),
                (f.lead, LEAD_BOOST),
                (f.body, BODY_BOOST),
            ],
            Scope::Titles => vec![(f.title, TITLE_BOOST), (f.lead, LEAD_BOOST)],
        };
        Plan {
            fields,
            body: f.body,
            title_key: f.title_key,
            content: Vec::new(),
            stop: Vec::new(),
            phrases: Vec::new(),
            excluded: Vec::new(),
            pairs: Vec::new(),
            titles: Vec::new(),
            typing: false,
        }
    }

    pub fn new(
        index: &SearchIndex,
        stats: &audience::Statistics,
        parsed: &query::ParsedQuery,
        scope: Scope,
    ) -> Self {
        let mut plan = Plan::empty(index, scope);
        let mut analyzer = Analyzer::default();
        let words = analyzer.words(&parsed.text);
        let mut synonyms = index.synonyms().alternatives(&words).into_iter();
        let last_position = words.last().map(|w| w.position);
        let lookup = Lookup {
            index,
            stats,
            fields: plan.fields.iter().map(|(f, _)| *f).collect(),
            forgiving: words.len() <= MAX_FORGIVING_WORDS,
        };
        if lookup.forgiving {
            plan.pairs = pairs(&words, parsed.prefix_last);
        }
        let mut seen = HashSet::new();
        let mut content: Vec<Wanted> = Vec::new();
        let mut stop = Vec::new();
        for word in words {
            let alternatives = synonyms.next().unwrap_or_default();
            if !seen.insert(word.forms.clone()) {
                continue;
            }
            if content.len() + stop.len() >= MAX_WORDS {
                break;
            }
            let prefix = parsed.prefix_last && Some(word.position) == last_position;
            if query::is_stop_word(&word.folded) && !prefix {
                stop.push(word);
                continue;
            }
            // One letter being typed after other words ("npm t") would
            // need every word beginning with it; the title-prefix match
            // reads it instead.
            let first = content.is_empty() && stop.is_empty();
            if prefix && !word.han && word.folded.chars().count() < 2 && !first {
                continue;
            }
            content.push(lookup.wanted(&mut analyzer, word, prefix, alternatives));
        }
        // Only stop words typed ("how to"): they are the query.
        if content.is_empty() {
            content = stop.drain(..).map(Wanted::plain).collect();
        }
        plan.phrases = parsed
            .phrases
            .iter()
            .map(|p| analyzer.words(p))
            .filter(|w| !w.is_empty())
            .take(8)
            .collect();
        plan.excluded = parsed
            .excluded
            .iter()
            .flat_map(|e| analyzer.words(e))
            .take(MAX_WORDS)
            .collect();
        plan.typing = parsed.prefix_last;
        if scope == Scope::Everything && plan.phrases.is_empty() && !content.is_empty() {
            plan.titles = title_keys(&parsed.text, &content);
        }
        plan.content = content;
        plan.stop = stop;
        plan
    }

    pub fn content_words(&self) -> usize {
        self.content.len() + self.phrases.len()
    }

    /// The content words as typed (folded, unstemmed), and the likeliest
    /// correction of each: what tells the language a query is written in.
    pub fn typed_words(&self) -> impl Iterator<Item = &str> {
        self.content.iter().flat_map(|w| {
            std::iter::once(w.word.folded.as_str())
                .chain(w.corrections.first().map(|c| c.folded.as_str()))
        })
    }

    /// The typed words that match nothing, with their correction: (as
    /// typed, corrected).
    pub fn corrections(&self) -> impl Iterator<Item = (&Word, &Word)> {
        self.content
            .iter()
            .filter(|w| w.unknown)
            .filter_map(|w| w.corrections.first().map(|c| (&w.word, c)))
    }

    /// The query; `required` overrides how many content words must match.
    pub fn query(&self, required: Option<usize>) -> Box<dyn Query> {
        let mut outer: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let words: Vec<(Occur, Box<dyn Query>)> = self
            .content
            .iter()
            .map(|w| (Occur::Should, self.word(w)))
            .collect();
        if !words.is_empty() {
            let n = words.len();
            // Short queries need every word; longer ones (a sentence, a
            // ticket) two in three, since people type words a card lacks.
            let needed = required
                .unwrap_or(if n <= 2 { n } else { (n * 2).div_ceil(3) })
                .min(n);
            outer.push((
                Occur::Must,
                Box::new(BooleanQuery::with_minimum_required_clauses(words, needed)),
            ));
        }
        for word in &self.stop {
            outer.push((Occur::Should, self.exact(word)));
        }
        for phrase in &self.phrases {
            outer.push((Occur::Must, self.phrase(phrase)));
        }
        outer.extend(self.title_matches());
        for word in &self.excluded {
            outer.push((Occur::MustNot, self.exact(word)));
        }
        // Nothing to match (an empty box, or only `-word`s): every card,
        // less the excluded, so filters alone can browse.
        if outer.iter().all(|(occur, _)| *occur == Occur::MustNot) {
            outer.push((Occur::Must, Box::new(AllQuery)));
        }
        Box::new(BooleanQuery::new(outer))
    }

    /// Optional clauses that lift a card whose title is the query (as typed
    /// or corrected), or begins with it while the last word is typed.
    fn title_matches(&self) -> Vec<(Occur, Box<dyn Query>)> {
        let mut out: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for key in self.titles.iter().filter(|k| !k.is_empty()) {
            let whole = TermQuery::new(
                Term::from_field_text(self.title_key, key),
                IndexRecordOption::Basic,
            );
            out.push((
                Occur::Should,
                Box::new(ConstScoreQuery::new(Box::new(whole), WHOLE_TITLE)),
            ));
            if self.typing {
                out.push((
                    Occur::Should,
                    Box::new(ConstScoreQuery::new(
                        completions(self.title_key, key),
                        TITLE_PREFIX,
                    )),
                ));
            }
        }
        out
    }

    /// Clauses for a union: every form of `word` in every field, and each
    /// of its `synonyms` (a phrase as one clause), weighed by `weight`.
    /// Flat rather than one nested union per word: a union of term queries
    /// is one scorer, where nesting builds one per word and segment.
    pub fn either(
        &self,
        word: &Word,
        synonyms: &[Alternative],
        weight: f32,
    ) -> Vec<(Occur, Box<dyn Query>)> {
        let mut clauses = self.forms(word, weight);
        for synonym in synonyms {
            match synonym.words.as_slice() {
                [one] => clauses.extend(self.forms(one, weight * SYNONYM_WEIGHT)),
                words => clauses.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(self.phrase(words), weight * SYNONYM_WEIGHT)),
                )),
            }
        }
        clauses
    }

    /// Every form of the word in every field.
    pub fn exact(&self, word: &Word) -> Box<dyn Query> {
        Box::new(BooleanQuery::new(self.forms(word, 1.0)))
    }

    /// Every form of the word in the body only.
    pub fn in_body(&self, word: &Word, weight: f32) -> Vec<(Occur, Box<dyn Query>)> {
        self.forms_in(word, weight, |field| field == self.body)
    }

    fn forms(&self, word: &Word, weight: f32) -> Vec<(Occur, Box<dyn Query>)> {
        self.forms_in(word, weight, |_| true)
    }

    fn forms_in(
        &self,
        word: &Word,
        weight: f32,
        searched: impl Fn(Field) -> bool,
    ) -> Vec<(Occur, Box<dyn Query>)> {
        let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for &(field, boost) in self.fields.iter().filter(|(f, _)| searched(*f)) {
            for form in &word.forms {
                let term = TermQuery::new(
                    Term::from_field_text(field, form),
                    IndexRecordOption::WithFreqs,
                );
                should.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(term), boost * weight)),
                ));
            }
        }
        should
    }

    /// Every form of the word in every field, its corrections, and its
    /// completions while it is typed.
    fn word(&self, wanted: &Wanted) -> Box<dyn Query> {
        let word = &wanted.word;
        let mut should = self.either(word, &wanted.synonyms, 1.0);
        for correction in &wanted.corrections {
            should.extend(self.forms(correction, CORRECTED_WEIGHT));
        }
        let chars = word.folded.chars().count();
        if wanted.prefix && (chars >= 2 || word.han) {
            // Typo-tolerant completion in titles and leads when the word
            // has one (see `Lookup::wanted`), exact on bodies.
            for &(field, boost) in &self.fields {
                let start: Box<dyn Query> = match &wanted.completion {
                    Some(fuzzy) if field != self.body => Box::new(fuzzy.in_field(field)),
                    _ => completions(field, &word.folded),
                };
                should.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(start, boost * PREFIX_WEIGHT)),
                ));
            }
        }
        Box::new(BooleanQuery::new(should))
    }

    /// Body terms that the words being typed complete to, for highlighting
    /// (a range query names no terms of its own).
    pub fn completed_terms(&self, searcher: &tantivy::Searcher, max: usize) -> Vec<Term> {
        let mut out = Vec::new();
        for wanted in self.content.iter().filter(|w| w.prefix && w.begun) {
            let prefix = wanted.word.folded.as_str();
            let end = prefix_end(prefix);
            for segment in searcher.segment_readers() {
                let Ok(inverted) = segment.inverted_index(self.body) else {
                    continue;
                };
                let Ok(mut terms) = inverted
                    .terms()
                    .range()
                    .ge(prefix.as_bytes())
                    .lt(&end)
                    .into_stream()
                else {
                    continue;
                };
                while out.len() < max && terms.advance() {
                    if let Ok(text) = std::str::from_utf8(terms.key()) {
                        out.push(Term::from_field_text(self.body, text));
                    }
                }
            }
        }
        out
    }

    /// A quoted phrase: the words in order in the title, lead or body.
    fn phrase(&self, words: &[Word]) -> Box<dyn Query> {
        if words.len() == 1 || words.iter().any(|w| w.han) {
            let all = words.iter().map(|w| (Occur::Must, self.exact(w))).collect();
            return Box::new(BooleanQuery::new(all));
        }
        Box::new(BooleanQuery::new(self.phrase_in_fields(words, 1.0)))
    }

    /// The bonus for two typed words side by side, one query per pair and
    /// field, each to be scored on the best candidates only (`search::run`):
    /// as optional clauses of the query, every card holding both words had
    /// their positions compared, a fifth of a typed search. Never decides
    /// what matches.
    pub fn pair_bonuses(&self) -> Vec<Box<dyn Query>> {
        self.pairs
            .iter()
            .flat_map(|pair| self.phrase_in_fields(pair, PAIR_WEIGHT))
            .map(|(_, query)| query)
            .collect()
    }

    /// The words in order in each field (no Chinese word among them: its
    /// pieces have no positions of their own).
    fn phrase_in_fields(&self, words: &[Word], weight: f32) -> Vec<(Occur, Box<dyn Query>)> {
        let first = words.first().map_or(0, |w| w.position);
        let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for &(field, boost) in &self.fields {
            let terms = words
                .iter()
                .map(|w| {
                    (
                        w.position.saturating_sub(first),
                        Term::from_field_text(field, w.primary()),
                    )
                })
                .collect();
            let phrase = PhraseQuery::new_with_offset(terms);
            should.push((
                Occur::Should,
                Box::new(BoostQuery::new(Box::new(phrase), boost * weight)),
            ));
        }
        should
    }
}

impl Wanted {
    /// A word searched as it is: no completion, no correction.
    fn plain(word: Word) -> Self {
        Wanted {
            word,
            prefix: false,
            begun: false,
            corrections: Vec::new(),
            unknown: false,
            synonyms: Vec::new(),
            completion: None,
        }
    }
}

/// What the index knows of a query's words, as the caller may see it.
struct Lookup<'a> {
    index: &'a SearchIndex,
    stats: &'a audience::Statistics<'a>,
    fields: Vec<Field>,
    /// Typo tolerance, for queries a person types (not pasted texts, whose
    /// many words make corrections slow and add nothing).
    forgiving: bool,
}

impl Lookup<'_> {
    /// Whether any field holds `form`.
    fn holds(&self, form: &str) -> bool {
        self.fields
            .iter()
            .any(|&field| self.stats.doc_freq(&Term::from_field_text(field, form)) > 0)
    }

    fn wanted(
        &self,
        analyzer: &mut Analyzer,
        mut word: Word,
        prefix: bool,
        synonyms: Vec<Alternative>,
    ) -> Wanted {
        let spelling = self.index.fields().spelling;
        let searcher = self.stats.searcher();
        // Romanian typed without diacritics: the stems of the written word
        // it may stand for, where the index holds them.
        for stem in romanian_spellings(&word.folded) {
            if !word.forms.contains(&stem) && self.holds(&stem) {
                word.forms.push(stem);
            }
        }
        // Known: the index holds one of the word's forms as it is.
        let known = word.forms.iter().any(|form| self.holds(form));
        // Begun: some word of the index, as written, starts with it. (Not
        // its stems: "servie" stems to "servi", which begins "service"'s
        // stem, yet no word begins with "servie".)
        let begun = prefix
            && if word.han {
                begins_a_word(searcher, &self.fields, &word.folded)
            } else {
                begins_a_word(searcher, &[spelling], &word.folded)
            };
        // A word the team named a synonym of is a word they expect, even
        // where no card says it ("возврат" over English cards).
        let expected = !synonyms.is_empty();
        let corrections = if begun || !self.forgiving || word.han || (expected && !known) {
            Vec::new()
        } else if !known {
            corrections(self.index, self.stats, analyzer, &word.folded, 1)
        } else {
            // Its stems match, but as written no card holds it ("compse"
            // stems to "comp"): any near word may be meant. A rare word may
            // be a typo of a more common one.
            let cards = self
                .stats
                .doc_freq(&Term::from_field_text(spelling, &word.folded));
            let least = match cards {
                0 => Some(1),
                rare if rare <= RARE_WORD_CARDS => Some(rare * MORE_LIKELY),
                _ => None,
            };
            least.map_or_else(Vec::new, |least| {
                corrections(self.index, self.stats, analyzer, &word.folded, least)
            })
        };
        // Typo-tolerant completion for the word being typed, long enough
        // to tell; none when the prefix so far begins a word the index
        // holds, or when the vocabulary corrects it as a whole word (typed
        // to its end, with a typo: the corrections are its completions). A
        // distance-1 automaton walks much of the dictionary: with every
        // misspelt last word walked, that was a sixth of a server's CPU.
        let chars = word.folded.chars().count();
        let completion = (prefix && chars >= 5 && !word.han && !begun && corrections.is_empty())
            .then(|| FuzzyPrefix::new(&word.folded))
            .flatten();
        Wanted {
            word,
            prefix,
            begun,
            corrections,
            unknown: !known && !expected,
            synonyms,
            completion,
        }
    }
}

/// Neighbouring words, for the side-by-side bonus; not the word being
/// typed, which is not a whole word yet.
fn pairs(words: &[Word], typing: bool) -> Vec<[Word; 2]> {
    let whole = words.len().saturating_sub(usize::from(typing));
    words[..whole]
        .windows(2)
        .filter(|w| !w[0].han && !w[1].han && w[1].position == w[0].position + 1)
        .map(|w| [w[0].clone(), w[1].clone()])
        .collect()
}

/// The whole titles the reader may mean: the text as typed, with each
/// word's best correction, and with each other correction in its place
/// ("gufactor": "gfactor" and "gnufactor").
fn title_keys(text: &str, content: &[Wanted]) -> Vec<String> {
    let mut keys = vec![title_key(text)];
    let mut corrected = text.to_string();
    for wanted in content {
        if let Some(best) = wanted.corrections.first()
            && let Some(typed) = text.get(wanted.word.offset_from..wanted.word.offset_to)
        {
            corrected = corrected.replacen(typed, &best.folded, 1);
        }
    }
    if corrected == text {
        return keys;
    }
    keys.push(title_key(&corrected));
    for wanted in content {
        let Some(best) = wanted.corrections.first() else {
            continue;
        };
        for other in wanted.corrections.iter().skip(1) {
            let key = title_key(&corrected.replacen(best.folded.as_str(), &other.folded, 1));
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
    keys
}

/// The index's words a typo away from `folded` that the caller may see,
/// nearest first and, among equals, the most frequent; analysed.
fn corrections(
    index: &SearchIndex,
    stats: &audience::Statistics,
    analyzer: &mut Analyzer,
    folded: &str,
    least_cards: u64,
) -> Vec<Word> {
    let spelling = index.fields().spelling;
    let mut near: Vec<(u8, std::cmp::Reverse<u64>, Box<str>)> = index
        .near_words(stats.searcher(), folded)
        .into_iter()
        .filter_map(|(word, distance)| {
            let df = stats.doc_freq(&Term::from_field_text(spelling, &word));
            (df >= least_cards).then_some((distance, std::cmp::Reverse(df), word))
        })
        .collect();
    let Some(nearest) = near.iter().map(|n| n.0).min() else {
        return Vec::new();
    };
    near.retain(|n| n.0 == nearest);
    near.sort();
    near.into_iter()
        .take(MAX_CORRECTIONS)
        .filter_map(|(_, _, word)| analyzer.words(&word).into_iter().next())
        .collect()
}

/// Every word of `field` beginning with `prefix`, as one range of its term
/// dictionary (a third of the cost of the equivalent distance-0 automaton).
fn completions(field: Field, prefix: &str) -> Box<dyn Query> {
    Box::new(InvertedIndexRangeQuery::new(
        Bound::Included(Term::from_field_text(field, prefix)),
        Bound::Excluded(Term::from_field_bytes(field, &prefix_end(prefix))),
    ))
}

/// The least key above every key that begins with `prefix`: no key holds
/// the byte 0xFF (it is not in UTF-8).
fn prefix_end(prefix: &str) -> Vec<u8> {
    let mut end = prefix.as_bytes().to_vec();
    end.push(0xFF);
    end
}

/// Whether any of `fields` holds a word beginning with `prefix`: one
/// bounded look into each segment's term dictionary.
fn begins_a_word(searcher: &tantivy::Searcher, fields: &[Field], prefix: &str) -> bool {
    let end = prefix_end(prefix);
    searcher.segment_readers().iter().any(|segment| {
        fields.iter().any(|&field| {
            segment.inverted_index(field).is_ok_and(|inverted| {
                inverted
                    .terms()
                    .range()
                    .ge(prefix.as_bytes())
                    .lt(&end)
                    .into_stream()
                    .is_ok_and(|mut terms| terms.advance())
            })
        })
    })
}
