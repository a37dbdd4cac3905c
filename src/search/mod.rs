//! Search: a request in, ranked hits with snippets, a total and facet counts
//! out. Reads the index only. Title and lead outrank body; the last word
//! matches as a prefix while typing; typos are forgiven but never outrank an
//! exact match; filters narrow; facets count what remains.

mod audience;
pub mod query;
pub mod reader;
mod similar;
pub mod ticket;

pub use similar::{Ticket, similar};

use std::collections::{BTreeMap, HashSet};
use std::ops::Bound;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use serde::Serialize;
use tantivy::collector::{Collector, Count, FacetCollector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, FuzzyTermQuery, InvertedIndexRangeQuery,
    Occur, PhraseQuery, Query, RangeQuery, TermQuery,
};
use tantivy::schema::{Facet, Field, IndexRecordOption};
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader, Term};

use crate::content::{Card, Trust};
use crate::index::analyzer::{Analyzer, Word};
use crate::index::{IndexError, SearchIndex, days};

pub const MAX_LIMIT: usize = 100;
pub const MAX_OFFSET: usize = 10_000;
/// Words beyond this many are not searched (a pasted e-mail is still a query).
pub const MAX_WORDS: usize = 32;
const SNIPPET_CHARS: usize = 180;
/// Snippets are looked for in the first this-many bytes of a body: the
/// best fragment is nearly always early, and a 2 MB card must not cost
/// every search that finds it.
const SNIPPET_SCAN_BYTES: usize = 16 * 1024;

const TITLE_BOOST: f32 = 3.0;
const LEAD_BOOST: f32 = 1.5;
const BODY_BOOST: f32 = 1.0;
/// Fuzzy and prefix matches score a constant; kept well under an exact
/// match's BM25 so a typo never outranks the word itself.
const FUZZY_WEIGHT: f32 = 0.2;
const PREFIX_WEIGHT: f32 = 0.4;

#[derive(Debug, Clone)]
pub struct SearchRequest {
    pub q: String,
    pub collections: Vec<String>,
    pub tags: Vec<String>,
    pub langs: Vec<String>,
    /// The reader's languages, most wanted first (see `reader`): among
    /// equally good hits, cards in these languages come first.
    pub prefer_langs: Vec<String>,
    pub trusts: Vec<Trust>,
    pub limit: usize,
    pub offset: usize,
    pub snippets: bool,
    /// Only cards with `audience: public` (for scoped tokens).
    pub public_only: bool,
    /// The day trust is judged against.
    pub today: NaiveDate,
}

impl SearchRequest {
    pub fn new(q: impl Into<String>) -> Self {
        SearchRequest {
            q: q.into(),
            collections: Vec::new(),
            tags: Vec::new(),
            langs: Vec::new(),
            prefer_langs: Vec::new(),
            trusts: Vec::new(),
            limit: 10,
            offset: 0,
            snippets: true,
            public_only: false,
            today: chrono::Local::now().date_naive(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Hit {
    pub card: Card,
    pub trust: Trust,
    pub score: f32,
    /// HTML-escaped text with `<mark>` around matched words.
    pub snippet: String,
    /// For a ticket match: the ticket's words this card contains.
    pub matched: Vec<String>,
    /// Where the card's document is in the searcher that found it.
    address: DocAddress,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Facets {
    pub collection: BTreeMap<String, u64>,
    pub tag: BTreeMap<String, u64>,
    pub lang: BTreeMap<String, u64>,
    pub trust: BTreeMap<String, u64>,
}

#[derive(Debug, Clone)]
pub struct SearchResults {
    pub hits: Vec<Hit>,
    pub total: usize,
    pub facets: Facets,
    pub took: Duration,
    /// The query matched nothing with every word, so fewer were required.
    pub relaxed: bool,
    /// For a ticket match: the ticket's words that were searched.
    pub terms: Vec<String>,
}

/// Runs a search. Errors only when the index itself cannot be read.
pub fn search(index: &SearchIndex, request: &SearchRequest) -> Result<SearchResults, IndexError> {
    let parsed = query::parse(&request.q);
    planned(index, request, &parsed, Scope::Everything)
}

/// Completions of card titles for a search box that updates on every key:
/// the last word is a prefix, typos are forgiven, and only titles, summaries
/// and headings are looked at. No snippets.
pub fn suggest(index: &SearchIndex, request: &SearchRequest) -> Result<SearchResults, IndexError> {
    let mut parsed = query::parse(&request.q);
    parsed.prefix_last = !parsed.text.trim().is_empty();
    let mut request = request.clone();
    request.snippets = false;
    planned(index, &request, &parsed, Scope::Titles)
}

/// Plans `parsed` over `scope`'s fields and runs it.
fn planned(
    index: &SearchIndex,
    request: &SearchRequest,
    parsed: &query::ParsedQuery,
    scope: Scope,
) -> Result<SearchResults, IndexError> {
    let started = Instant::now();
    let request = with_typed_filters(request, parsed);
    let searcher = index.searcher();
    let stats = audience::Statistics::new(&searcher, index.fields().audience, request.public_only);
    let plan = Plan::new(index, &stats, parsed, scope);
    if scope == Scope::Titles && plan.content_words() == 0 {
        // An empty box suggests nothing rather than every card.
        return Ok(SearchResults::empty(started));
    }
    let relaxable = plan.content_words() > 1;
    run(index, &stats, &request, started, relaxable, &|required| {
        plan.query(required)
    })
}

/// Filters typed into the box (`tag:billing`) join the request's own.
fn with_typed_filters(request: &SearchRequest, parsed: &query::ParsedQuery) -> SearchRequest {
    let mut request = request.clone();
    for (key, value) in &parsed.filters {
        match key.as_str() {
            "tag" => request.tags.push(value.to_lowercase()),
            "collection" => request.collections.push(value.clone()),
            "lang" => request.langs.push(value.to_lowercase()),
            "trust" => request.trusts.extend(Trust::parse(value)),
            _ => {}
        }
    }
    request
}

impl SearchResults {
    fn empty(started: Instant) -> Self {
        SearchResults {
            hits: Vec::new(),
            total: 0,
            facets: Facets::default(),
            took: started.elapsed(),
            relaxed: false,
            terms: Vec::new(),
        }
    }
}

/// Runs `query` (with the request's filters), retrying with one required
/// word when `relaxable` and nothing matched, and builds the hits.
fn run(
    index: &SearchIndex,
    stats: &audience::Statistics,
    request: &SearchRequest,
    started: Instant,
    relaxable: bool,
    query: &dyn Fn(Option<usize>) -> Box<dyn Query>,
) -> Result<SearchResults, IndexError> {
    let searcher = stats.searcher();
    let limit = request.limit.clamp(1, MAX_LIMIT);
    let offset = request.offset.min(MAX_OFFSET);
    let filters = filter_clauses(index, request);
    let today = days(request.today);

    let mut relaxed = false;
    let attempt = |required: Option<usize>| -> Result<_, IndexError> {
        let query = with_filters(query(required), &filters);
        let collectors = (
            tantivy::collector::TopDocs::with_limit(limit + offset).order_by_score(),
            Count,
            facet_collector(),
            TrustCounts { today },
        );
        let fruit = searcher.search_with_statistics_provider(&*query, &collectors, stats)?;
        Ok((query, fruit))
    };
    let (mut query, mut fruit) = attempt(None)?;
    if fruit.1 == 0 && relaxable {
        (query, fruit) = attempt(Some(1))?;
        relaxed = true;
    }
    let (top, total, facet_counts, trust_counts) = fruit;

    let snippets = if request.snippets {
        Some(snippet_generator(stats, &*query, index.fields().body))
    } else {
        None
    };
    let mut hits = Vec::with_capacity(limit);
    for &(score, address) in top.iter().skip(offset) {
        let (card, text) = index.hit(searcher, address)?;
        let snippet = match &snippets {
            Some(generator) => {
                let mut s = generator.snippet(head(&text, SNIPPET_SCAN_BYTES));
                s.set_snippet_prefix_postfix("<mark>", "</mark>");
                let html = s.to_html();
                if html.trim().is_empty() {
                    fallback_snippet(&card)
                } else {
                    html
                }
            }
            None => String::new(),
        };
        let trust = card.verification.trust(request.today);
        hits.push(Hit {
            card,
            trust,
            score,
            snippet,
            matched: Vec::new(),
            address,
        });
    }
    // Equal scores are ordered by id, so a page never reshuffles.
    hits.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.card.id.cmp(&b.card.id))
    });

    Ok(SearchResults {
        hits,
        total,
        facets: facets(&facet_counts, trust_counts),
        took: started.elapsed(),
        relaxed,
        terms: Vec::new(),
    })
}

/// tantivy's snippet generator, with an analyzer that only looks at words
/// that can match the query's terms (see `Analyzer::only_like`).
fn snippet_generator(
    stats: &audience::Statistics,
    query: &dyn Query,
    field: Field,
) -> SnippetGenerator {
    let mut terms = BTreeMap::new();
    let mut all = Vec::new();
    query.query_terms(&mut |term, _| {
        if term.field() == field {
            all.push(term.clone());
        }
    });
    for term in all {
        let Some(text) = term.value().as_str().map(str::to_string) else {
            continue;
        };
        let doc_freq = stats.doc_freq(&term);
        if doc_freq > 0 {
            terms.insert(text, 1.0 / (1.0 + doc_freq as f32));
        }
    }
    let analyzer = Analyzer::only_like(terms.keys().cloned());
    let tokenizer = tantivy::tokenizer::TextAnalyzer::from(analyzer);
    SnippetGenerator::new(terms, tokenizer, field, SNIPPET_CHARS)
}

/// The first `max` bytes of `text`, cut at a character boundary.
fn head(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn fallback_snippet(card: &Card) -> String {
    let text = card.summary.as_deref().unwrap_or(&card.first_paragraph);
    let cut: String = text.chars().take(SNIPPET_CHARS).collect();
    escape_html(&cut)
}

pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The analysed query, ready to become tantivy queries.
struct Plan {
    fields: Vec<(Field, f32)>,
    body: Field,
    lead: Field,
    content: Vec<Wanted>,
    stop: Vec<Word>,
    phrases: Vec<Vec<Word>>,
    excluded: Vec<Word>,
    /// Typo tolerance, for queries a person types (not pasted texts, whose
    /// many words make fuzzy matching slow and add nothing).
    forgiving: bool,
}

/// A content word of the query, and what the index knows of it.
struct Wanted {
    word: Word,
    /// The last word, still being typed: also matched as a prefix.
    prefix: bool,
    /// The index holds one of the word's forms as it is: not a typo.
    known: bool,
    /// Some indexed word begins as this one does: the prefix so far is
    /// typed right, so its completions need no typo tolerance.
    begun: bool,
}

/// Past this many words a query is a pasted text: no typo tolerance.
const MAX_FORGIVING_WORDS: usize = 8;

/// The fields a plan looks in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    Everything,
    /// Titles and leads (summary, headings, tags, aliases): suggestions.
    Titles,
}

impl Plan {
    /// A plan with no words yet, over `scope`'s fields.
    fn empty(index: &SearchIndex, scope: Scope) -> Self {
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
            forgiving: false,
            fields,
            body: f.body,
            lead: f.lead,
            content: Vec::new(),
            stop: Vec::new(),
            phrases: Vec::new(),
            excluded: Vec::new(),
        }
    }

    fn new(
        index: &SearchIndex,
        stats: &audience::Statistics,
        parsed: &query::ParsedQuery,
        scope: Scope,
    ) -> Self {
        let searcher = stats.searcher();
        let mut plan = Plan::empty(index, scope);
        let fields: Vec<Field> = plan.fields.iter().map(|(f, _)| *f).collect();
        // A word the index holds as typed is not a typo: no fuzzy automaton
        // for it (building one was a third of a short query's time).
        let known = |word: &Word| {
            word.forms.iter().any(|form| {
                fields
                    .iter()
                    .any(|&field| stats.doc_freq(&Term::from_field_text(field, form)) > 0)
            })
        };
        let mut analyzer = Analyzer::default();
        let words = analyzer.words(&parsed.text);
        let last_position = words.last().map(|w| w.position);
        let mut seen = HashSet::new();
        let mut content = Vec::new();
        let mut stop = Vec::new();
        for word in words {
            if !seen.insert(word.forms.clone()) {
                continue;
            }
            if content.len() + stop.len() >= MAX_WORDS {
                break;
            }
            let prefix = parsed.prefix_last && Some(word.position) == last_position;
            if query::is_stop_word(&word.folded) && !prefix {
                stop.push(word);
            } else {
                let known = known(&word);
                // A stem is no longer than its word, so the stems of a word
                // typed so far begin the stems of the whole word.
                let begun = prefix
                    && (known
                        || std::iter::once(&word.folded)
                            .chain(&word.forms)
                            .any(|start| begins_a_word(searcher, &fields, start)));
                content.push(Wanted {
                    word,
                    prefix,
                    known,
                    begun,
                });
            }
        }
        let phrases = parsed
            .phrases
            .iter()
            .map(|p| analyzer.words(p))
            .filter(|w| !w.is_empty())
            .take(8)
            .collect();
        let excluded = parsed
            .excluded
            .iter()
            .flat_map(|e| analyzer.words(e))
            .take(MAX_WORDS)
            .collect();
        plan.forgiving = content.len() <= MAX_FORGIVING_WORDS;
        plan.content = content;
        plan.stop = stop;
        plan.phrases = phrases;
        plan.excluded = excluded;
        plan
    }

    fn content_words(&self) -> usize {
        self.content.len() + self.phrases.len()
    }

    /// The query; `required` overrides how many content words must match.
    fn query(&self, required: Option<usize>) -> Box<dyn Query> {
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
        // Only stop words typed: those optional clauses are what matches.
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

    /// Every form of the word in every field.
    fn exact(&self, word: &Word) -> Box<dyn Query> {
        Box::new(BooleanQuery::new(self.forms(word)))
    }

    fn forms(&self, word: &Word) -> Vec<(Occur, Box<dyn Query>)> {
        let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for &(field, boost) in &self.fields {
            for form in &word.forms {
                let term = TermQuery::new(
                    Term::from_field_text(field, form),
                    IndexRecordOption::WithFreqs,
                );
                should.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(term), boost)),
                ));
            }
        }
        should
    }

    /// Every form of the word in every field, plus typo and prefix matches.
    fn word(&self, wanted: &Wanted) -> Box<dyn Query> {
        let word = &wanted.word;
        let mut should = self.forms(word);
        let chars = word.folded.chars().count();
        // A word being typed whose start the index holds is no typo either:
        // its completions are what is wanted.
        if !wanted.known && !wanted.begun && self.forgiving && !word.han && chars >= 4 {
            // Two edits only in titles and leads: on bodies, a distance-2
            // automaton walks much of the term dictionary for little gain.
            let distance = if chars >= 8 { 2 } else { 1 };
            // Not in leads: each field costs an automaton of its own, and
            // summaries and headings repeat the title and body's words.
            for &(field, boost) in self.fields.iter().filter(|(f, _)| *f != self.lead) {
                let d = if field == self.body { 1 } else { distance };
                let fuzzy =
                    FuzzyTermQuery::new(Term::from_field_text(field, word.primary()), d, true);
                should.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(fuzzy), boost * FUZZY_WEIGHT)),
                ));
            }
        }
        if wanted.prefix && (chars >= 2 || word.han) {
            // Typo-tolerant completion in titles and leads, exact on bodies;
            // none when the prefix so far begins a word the index holds (a
            // distance-1 automaton walks much of the dictionary: it was a
            // quarter of a typical search's time).
            let distance = if chars >= 5 && !word.han && !wanted.begun {
                1
            } else {
                0
            };
            for &(field, boost) in &self.fields {
                let d = if field == self.body { 0 } else { distance };
                let start: Box<dyn Query> = if d == 0 {
                    completions(field, &word.folded)
                } else {
                    Box::new(FuzzyTermQuery::new_prefix(
                        Term::from_field_text(field, &word.folded),
                        d,
                        true,
                    ))
                };
                should.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(start, boost * PREFIX_WEIGHT)),
                ));
            }
        }
        Box::new(BooleanQuery::new(should))
    }

    /// A quoted phrase: the words in order in the title, lead or body.
    fn phrase(&self, words: &[Word]) -> Box<dyn Query> {
        if words.len() == 1 || words.iter().any(|w| w.han) {
            let all = words.iter().map(|w| (Occur::Must, self.exact(w))).collect();
            return Box::new(BooleanQuery::new(all));
        }
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
                Box::new(BoostQuery::new(Box::new(phrase), boost)),
            ));
        }
        Box::new(BooleanQuery::new(should))
    }
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

fn filter_clauses(index: &SearchIndex, request: &SearchRequest) -> Vec<Box<dyn Query>> {
    let f = index.fields();
    let mut clauses: Vec<Box<dyn Query>> = Vec::new();
    let any_of = |field: Field, values: &[String]| -> Option<Box<dyn Query>> {
        if values.is_empty() {
            return None;
        }
        let terms: Vec<(Occur, Box<dyn Query>)> = values
            .iter()
            .map(|v| {
                let q: Box<dyn Query> = Box::new(TermQuery::new(
                    Term::from_field_text(field, v),
                    IndexRecordOption::Basic,
                ));
                (Occur::Should, q)
            })
            .collect();
        Some(Box::new(BooleanQuery::new(terms)))
    };
    let tags: Vec<String> = request.tags.iter().map(|t| t.to_lowercase()).collect();
    clauses.extend(any_of(f.collection, &request.collections));
    clauses.extend(any_of(f.tag, &tags));
    clauses.extend(any_of(f.lang, &request.langs));
    if request.public_only {
        clauses.extend(any_of(f.audience, &["public".to_string()]));
    }
    if !request.trusts.is_empty() {
        let today = days(request.today);
        let field = f.verified_until;
        let range = |lo: Bound<i64>, hi: Bound<i64>| -> (Occur, Box<dyn Query>) {
            let term = |v| Term::from_field_i64(field, v);
            (
                Occur::Should,
                Box::new(RangeQuery::new(lo.map(term), hi.map(term))),
            )
        };
        let trusts: Vec<_> = request
            .trusts
            .iter()
            .map(|t| match t {
                Trust::Verified => range(Bound::Included(today), Bound::Unbounded),
                Trust::Stale => range(Bound::Excluded(i64::MIN), Bound::Excluded(today)),
                Trust::Unverified => range(Bound::Included(i64::MIN), Bound::Included(i64::MIN)),
            })
            .collect();
        clauses.push(Box::new(BooleanQuery::new(trusts)));
    }
    clauses
}

fn with_filters(query: Box<dyn Query>, filters: &[Box<dyn Query>]) -> Box<dyn Query> {
    if filters.is_empty() {
        return query;
    }
    let mut all: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, query)];
    for filter in filters {
        all.push((
            Occur::Must,
            Box::new(ConstScoreQuery::new(filter.box_clone(), 0.0)),
        ));
    }
    Box::new(BooleanQuery::new(all))
}

fn facet_collector() -> FacetCollector {
    let mut c = FacetCollector::for_field("facets");
    for dim in ["collection", "tag", "lang"] {
        c.add_facet(Facet::from_path([dim]));
    }
    c
}

fn facets(counts: &tantivy::collector::FacetCounts, trust: [u64; 3]) -> Facets {
    let dim = |name: &str| -> BTreeMap<String, u64> {
        counts
            .get(Facet::from_path([name]))
            .filter_map(|(facet, n)| facet.to_path().last().map(|v| (v.to_string(), n)))
            .collect()
    };
    Facets {
        collection: dim("collection"),
        tag: dim("tag"),
        lang: dim("lang"),
        trust: Trust::ALL
            .iter()
            .zip(trust)
            .filter(|(_, n)| *n > 0)
            .map(|(t, n)| (t.as_str().to_string(), n))
            .collect(),
    }
}

/// Counts matching cards per trust state, judged against today.
struct TrustCounts {
    today: i64,
}

struct TrustSegment {
    column: Column<i64>,
    today: i64,
    counts: [u64; 3],
}

impl Collector for TrustCounts {
    type Fruit = [u64; 3];
    type Child = TrustSegment;

    fn for_segment(
        &self,
        _ord: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<TrustSegment> {
        Ok(TrustSegment {
            column: reader.fast_fields().i64("verified_until")?,
            today: self.today,
            counts: [0; 3],
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<[u64; 3]>) -> tantivy::Result<[u64; 3]> {
        Ok(fruits
            .into_iter()
            .fold([0; 3], |a, b| [a[0] + b[0], a[1] + b[1], a[2] + b[2]]))
    }
}

impl SegmentCollector for TrustSegment {
    type Fruit = [u64; 3];

    fn collect(&mut self, doc: DocId, _score: Score) {
        let until = self.column.first(doc).unwrap_or(i64::MIN);
        let slot = if until == i64::MIN {
            2
        } else if until < self.today {
            1
        } else {
            0
        };
        self.counts[slot] += 1;
    }

    fn harvest(self) -> [u64; 3] {
        self.counts
    }
}
