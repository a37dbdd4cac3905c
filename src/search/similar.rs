//! Cards that answer a ticket: "more like this" over the customer's own
//! words. The ticket is cleaned (`ticket`), its words weighed by how often
//! the customer used them (the subject counts three times) and by how rare
//! they are in the knowledge base, and only the few that distinguish it are
//! searched. Each hit says which of those words it matched.

use std::collections::HashMap;
use std::time::Instant;

use tantivy::query::{BooleanQuery, ConstScoreQuery, Occur, Query, QueryClone, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocSet, Term};

use super::audience::Statistics;
use super::lexicon::{Lexicon, Translation};
use super::plan::{Plan, Scope};
use super::{Additions, SearchRequest, SearchResults, function_words, query, run, ticket};
use crate::index::analyzer::{Analyzer, Word, romanian_spellings};
use crate::index::synonyms::Alternative;
use crate::index::{IndexError, SearchIndex};

/// A ticket or conversation as an inbox sends it: HTML or text, quoted
/// history and signatures included.
#[derive(Debug, Clone, Default)]
pub struct Ticket {
    pub subject: String,
    pub body: String,
    /// The inbox's tags; cards with the same tag rank higher.
    pub tags: Vec<String>,
}

/// A subject word counts as this many body words.
const SUBJECT_WEIGHT: f32 = 3.0;
/// The most distinguishing words searched.
const MAX_TERMS: usize = 16;
/// Words in more than this share of cards say nothing about a ticket.
const MAX_DOC_SHARE: f32 = 0.5;
/// The most telling words that are also searched in translation.
const MAX_TRANSLATED: usize = 8;
/// A card holding a word's translation scores this share of what the word
/// itself would (times the lexicon's confidence): a team's synonyms
/// (0.6) are surer than a lexicon learned from other texts.
const TRANSLATION_WEIGHT: f32 = 0.5;
/// A shared tag adds about what one middling word does.
const TAG_BOOST: f32 = 0.5;

/// A word of the ticket chosen for the query, and its weight.
#[derive(Debug, Clone)]
struct Chosen {
    word: Word,
    weight: f32,
    /// Other entries of the team's synonym groups the word is in.
    synonyms: Vec<Alternative>,
    /// The word in the other languages, as the shipped lexicon knows it.
    translations: Vec<Translation>,
}

/// The cards most likely to answer `ticket`, best first, under `request`'s
/// filters and limit (its `q` is ignored). Each hit's `matched` lists the
/// ticket's words it contains.
pub fn similar(
    index: &SearchIndex,
    ticket: &Ticket,
    request: &SearchRequest,
) -> Result<SearchResults, IndexError> {
    let lexicon = if index.translating() {
        Lexicon::shipped()
    } else {
        Lexicon::none()
    };
    similar_with(index, ticket, request, lexicon)
}

/// `similar`, with words translated by `lexicon` (an evaluation compares
/// lexicons learned from part of a corpus, or none).
pub fn similar_with(
    index: &SearchIndex,
    ticket: &Ticket,
    request: &SearchRequest,
    lexicon: &Lexicon,
) -> Result<SearchResults, IndexError> {
    let started = Instant::now();
    let searcher = index.searcher();
    // A caller who sees public cards only must not learn, from which words
    // are chosen, what internal cards say.
    let stats = Statistics::new(&searcher, index.fields(), request.public_only);
    let subject = ticket::clean_subject(&ticket.subject);
    let body = ticket::clean(&ticket.body);
    let chosen = choose_words(index, &stats, lexicon, &subject, &body);
    if chosen.is_empty() {
        return Ok(SearchResults::empty(started));
    }
    let plan = Plan::empty(index, Scope::Everything);
    let tags: Vec<String> = ticket.tags.iter().map(|t| t.to_lowercase()).collect();
    let tag_field = index.fields().tag;
    // One union of every chosen word's forms and synonyms: a card scores
    // the sum of what it shares with the ticket, so the cards sharing the
    // most telling words rank first and a card sharing one comes after
    // them. (Requiring two words in common took a heap-based disjunction
    // over one union per word: twice the work of one union, and the same
    // top three on the ticket evaluation.)
    let words: Vec<(Occur, Box<dyn Query>)> = chosen
        .iter()
        .flat_map(|c| {
            // A translation is looked for in bodies only: in titles, whose
            // weight is three times a body's, a common word's translation
            // ("файл", "file") lifted every card named for it above the
            // card the ticket is about (held-out tldr pages asked in
            // Russian: 14% found their English page in the top 3 with
            // titles searched, 33% without).
            let translated = c
                .translations
                .iter()
                .flat_map(|t| plan.in_body(&t.word, c.weight * TRANSLATION_WEIGHT * t.score));
            plan.either(&c.word, &c.synonyms, c.weight)
                .into_iter()
                .chain(translated)
        })
        .collect();
    let mut all: Vec<(Occur, Box<dyn Query>)> =
        vec![(Occur::Must, Box::new(BooleanQuery::new(words)))];
    for tag in &tags {
        let term = TermQuery::new(
            Term::from_field_text(tag_field, tag),
            IndexRecordOption::Basic,
        );
        all.push((
            Occur::Should,
            Box::new(ConstScoreQuery::new(Box::new(term), TAG_BOOST)),
        ));
    }
    let query = BooleanQuery::new(all);
    let build = |_: Option<usize>| -> Box<dyn Query> { query.box_clone() };
    let request = &in_ticket_language(request, &format!("{subject}\n{body}"));
    let mut results = run(
        index,
        &stats,
        request,
        started,
        false,
        &build,
        Additions::default(),
    )?;
    for hit in &mut results.hits {
        hit.matched = matched_words(index, &searcher, hit.address, &chosen)?;
    }
    // As for a typed query: no card has two of the ticket's words, so the
    // hits are guesses (and the insights count the ticket unanswered).
    results.relaxed = chosen.len() > 1 && results.hits.iter().all(|h| h.matched.len() < 2);
    results.terms = chosen.iter().map(|c| c.word.folded.clone()).collect();
    results.took = started.elapsed();
    Ok(results)
}

/// `request` with the ticket's own language first among the preferred
/// ones: the answer is pasted to the customer who wrote it.
fn in_ticket_language(request: &SearchRequest, text: &str) -> SearchRequest {
    let mut request = request.clone();
    // A match answers with cards, never with counts of them.
    request.facets = false;
    if let Some(lang) = crate::content::lang::detect(text) {
        request.prefer_langs.retain(|l| *l != lang);
        request.prefer_langs.insert(0, lang);
    }
    request
}

/// The ticket's distinguishing words, most telling first.
fn choose_words(
    index: &SearchIndex,
    stats: &Statistics,
    lexicon: &Lexicon,
    subject: &str,
    body: &str,
) -> Vec<Chosen> {
    let mut analyzer = Analyzer::default();
    let thesaurus = index.synonyms();
    // Counted by primary form, so "refunds" and "refund" are one word.
    let mut counts: HashMap<String, (Word, f32, Vec<Alternative>)> = HashMap::new();
    for (text, weight) in [(subject, SUBJECT_WEIGHT), (body, 1.0)] {
        let words = analyzer.words(text);
        let alternatives = thesaurus.alternatives(&words);
        for (word, alternatives) in words.into_iter().zip(alternatives) {
            if !worth_counting(&word, !alternatives.is_empty()) {
                continue;
            }
            let counted = counts
                .entry(word.primary().to_string())
                .or_insert_with(|| (word, 0.0, Vec::new()));
            counted.1 += weight;
            if counted.2.is_empty() {
                counted.2 = alternatives;
            }
        }
    }
    let f = index.fields();
    // How many cards hold a form, read from the bodies: a card's body
    // holds nearly every word of its title and lead, and a ticket has a
    // few hundred distinct words, each a term-dictionary lookup per form,
    // field and segment (a seventh of a match when all three were read).
    // Title and lead are read only for a form no body holds.
    let form_cards = |form: &str| -> u64 {
        let cards = |field| stats.doc_freq(&Term::from_field_text(field, form));
        match cards(f.body) {
            0 => cards(f.title).max(cards(f.lead)),
            body => body,
        }
    };
    let word_cards = |word: &Word| -> u64 {
        word.forms
            .iter()
            .map(|form| form_cards(form))
            .max()
            .unwrap_or(0)
    };
    let cards = stats.num_cards().max(1) as f32;
    // A translation into a language no card is written in finds nothing.
    let present = if lexicon.is_empty() {
        Vec::new()
    } else {
        languages(stats.searcher(), f.lang)
    };
    let translate = |word: &Word| -> Vec<Translation> {
        let mut translations = lexicon.translations(word, 1);
        translations.retain(|t| present.contains(&t.lang));
        translations
    };
    let mut chosen: Vec<Chosen> = counts
        .into_values()
        .filter_map(|(mut word, count, synonyms)| {
            let mut own = word_cards(&word);
            // Romanian typed without diacritics ("stergeti" for "ștergeți"):
            // the stems of what it may stand for, where cards hold them.
            // Only for words no card holds as typed, as they are few.
            if own == 0 {
                for stem in romanian_spellings(&word.folded) {
                    let held = form_cards(&stem);
                    if held > 0 {
                        own = own.max(held);
                        word.forms.push(stem);
                    }
                }
            }
            // A word no card says weighs as the most common way of saying
            // it (a phrase as its rarest word, a translation): the reader's
            // word for what the cards call otherwise, or in another language.
            // (Other words are translated once chosen, below.)
            let translations = if own > 0 {
                Vec::new()
            } else {
                translate(&word)
            };
            let doc_freq = if own > 0 {
                own
            } else {
                let named = synonyms
                    .iter()
                    .map(|s| s.words.iter().map(word_cards).min().unwrap_or(0));
                let translated = translations.iter().map(|t| word_cards(&t.word));
                named.chain(translated).max().unwrap_or(0)
            } as f32;
            // Unknown to the index: no card can match it. Everywhere: no
            // card is singled out by it (only judged on a real corpus).
            if doc_freq == 0.0 || (cards >= 20.0 && doc_freq > cards * MAX_DOC_SHARE) {
                return None;
            }
            let idf = (1.0 + (cards - doc_freq + 0.5) / (doc_freq + 0.5)).ln();
            Some(Chosen {
                word,
                weight: (1.0 + count.ln()) * idf,
                synonyms,
                translations,
            })
        })
        .collect();
    chosen.sort_by(|a, b| {
        b.weight
            .total_cmp(&a.weight)
            .then_with(|| a.word.folded.cmp(&b.word.folded))
    });
    chosen.truncate(MAX_TERMS);
    // Translations only for the most telling words: each adds a clause
    // per form and field, and translating all sixteen made a pasted text
    // half as costly again (callgrind, 10k cards in four languages).
    for (n, c) in chosen.iter_mut().enumerate() {
        if n >= MAX_TRANSLATED {
            c.translations.clear();
        } else if c.translations.is_empty() {
            c.translations = translate(&c.word);
        }
    }
    // Relative weights keep the strongest word at 1, like a typed word.
    if let Some(top) = chosen.first().map(|c| c.weight).filter(|w| *w > 0.0) {
        for c in &mut chosen {
            c.weight /= top;
        }
    }
    chosen
}

/// The languages the index's cards are written in (their `lang` terms).
fn languages(searcher: &tantivy::Searcher, lang: tantivy::schema::Field) -> Vec<String> {
    let mut langs: Vec<String> = Vec::new();
    for segment in searcher.segment_readers() {
        let Ok(inverted) = segment.inverted_index(lang) else {
            continue;
        };
        let Ok(mut terms) = inverted.terms().stream() else {
            continue;
        };
        while terms.advance() {
            if let Ok(code) = std::str::from_utf8(terms.key())
                && !langs.iter().any(|l| l == code)
            {
                langs.push(code.to_string());
            }
        }
    }
    langs
}

/// One letter says nothing (and jieba's search mode also yields the single
/// characters of longer Chinese words); nor do the grammar and courtesies
/// of a support e-mail, or numbers (dates, amounts, order numbers) unless
/// the team named the number in a synonym group ("429").
pub(super) fn worth_counting(word: &Word, has_synonyms: bool) -> bool {
    word.folded.chars().count() >= 2
        && (has_synonyms || !word.folded.chars().all(|c| c.is_ascii_digit()))
        && !query::is_stop_word(&word.folded)
        && !function_words::is_function_word(&word.folded)
}

/// Which chosen words the card at `address` contains, in any field.
fn matched_words(
    index: &SearchIndex,
    searcher: &tantivy::Searcher,
    address: tantivy::DocAddress,
    chosen: &[Chosen],
) -> Result<Vec<String>, IndexError> {
    let f = index.fields();
    let segment = searcher.segment_reader(address.segment_ord);
    let mut matched = Vec::new();
    'words: for c in chosen {
        for field in [f.title, f.lead, f.body] {
            let inverted = segment.inverted_index(field)?;
            for form in &c.word.forms {
                let term = Term::from_field_text(field, form);
                let Some(mut postings) = inverted.read_postings(&term, IndexRecordOption::Basic)?
                else {
                    continue;
                };
                // `seek` may only move forward: a list starting past the
                // card does not hold it.
                if postings.doc() <= address.doc_id
                    && postings.seek(address.doc_id) == address.doc_id
                {
                    matched.push(c.word.folded.clone());
                    continue 'words;
                }
            }
        }
    }
    Ok(matched)
}
