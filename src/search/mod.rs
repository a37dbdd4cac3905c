//! Search: a request in, ranked hits with snippets, a total and facet counts
//! out. Reads the index only. Title and lead outrank body; the last word
//! matches as a prefix while typing; typos are forgiven but never outrank an
//! exact match; filters narrow; facets count what remains.

mod audience;
pub mod cache;
mod family;
mod function_words;
mod fuzzy_prefix;
pub mod lexicon;
mod plan;
pub mod query;
pub mod reader;
mod similar;
pub mod snippet;
pub mod ticket;

pub use plan::MAX_WORDS;
pub use similar::{Ticket, similar, similar_with};

use plan::{Plan, Scope};

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use serde::Serialize;
use tantivy::collector::{Collector, FacetCollector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::query::{
    BooleanQuery, ConstScoreQuery, EnableScoring, Occur, Query, RangeQuery, TermQuery,
};
use tantivy::schema::{Facet, Field, IndexRecordOption};
use tantivy::{
    DocAddress, DocId, DocSet, Score, SeekDangerResult, SegmentOrdinal, SegmentReader, Term,
};

use crate::content::{Card, Trust};
use crate::index::analyzer::Analyzer;
use crate::index::{IndexError, SearchIndex, days};

pub const MAX_LIMIT: usize = 100;
pub const MAX_OFFSET: usize = 10_000;
const SNIPPET_CHARS: usize = 180;
/// Snippets are looked for in the first this-many bytes of a body: the
/// best fragment is nearly always early, and a 2 MB card must not cost
/// every search that finds it.
const SNIPPET_SCAN_BYTES: usize = 16 * 1024;

/// A hit in the reader's first, second and later preferred languages
/// scores this many times its own score: among equally good hits the
/// reader's language comes first, yet a better card in another language
/// still does.
const LANG_PREFERENCE: [f32; 3] = [2.0, 1.3, 1.15];
/// Words being typed complete to at most this many terms for highlighting.
const HIGHLIGHTED_COMPLETIONS: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SearchRequest {
    pub q: String,
    pub collections: Vec<String>,
    pub tags: Vec<String>,
    pub langs: Vec<String>,
    /// The reader's languages, most wanted first (see `reader`): among
    /// equally good hits, cards in these languages come first.
    pub prefer_langs: Vec<String>,
    /// Set by the search itself when the reader named no language: the
    /// query's words (and corrections), from which the language it is typed
    /// in is told if a translated card needs it (see `typed_language`).
    pub typed_words: Vec<String>,
    pub trusts: Vec<Trust>,
    pub limit: usize,
    pub offset: usize,
    pub snippets: bool,
    /// Count the matches by collection, tag, language and trust: for a
    /// page that shows filters (the site's search page asks), not for a
    /// sidebar or a model. Off unless asked: at 10k cards the counts are a
    /// fifth of a typed search.
    pub facets: bool,
    /// Count every family that matches: the total a results page shows and
    /// pages by. Off for suggestions and ticket matches, which show a few
    /// cards and no count (their `total` is then the hits shown): counting
    /// visits every match, and a prefix or a ticket's sixteen words match
    /// most of the cards.
    pub total: bool,
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
            typed_words: Vec::new(),
            trusts: Vec::new(),
            limit: 10,
            offset: 0,
            snippets: true,
            facets: false,
            total: true,
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
    /// The card's translations the caller may see (filled by the
    /// application layer from the catalog).
    pub translations: Vec<Translation>,
    /// Open "outdated" flags readers left on the card (filled by the
    /// application layer; 0 for callers who may not read feedback).
    pub outdated: usize,
    /// Where the card's document is in the searcher that found it.
    address: DocAddress,
}

/// Another language of a hit's card.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Translation {
    pub id: crate::content::CardId,
    pub lang: String,
    pub title: String,
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
    /// The query with its misspelt words corrected from the index's own
    /// words, when a word matched nothing as typed.
    pub did_you_mean: Option<String>,
    /// Why nothing was searched, when the query had nothing to search.
    pub notice: Option<Notice>,
}

/// Why a query found nothing without being searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// Only symbols (`((((`, `***`, `-`): no word to look for.
    NoWords,
}

impl Notice {
    pub fn code(self) -> &'static str {
        match self {
            Notice::NoWords => "no_words",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Notice::NoWords => {
                "The query has no words to search for: type a word, a title or a question."
            }
        }
    }
}

/// Past this many words, or characters (Chinese is written without
/// spaces), text in the search box is a pasted message (a ticket, an
/// e-mail), not a query: see `search`.
const PASTED_WORDS: usize = 24;
const PASTED_CHARS: usize = 160;

/// Runs a search. Errors only when the index itself cannot be read.
///
/// A pasted message is matched as a ticket is (`similar`): its most telling
/// words, not all of them needed at once. Searched word by word, 32 words
/// needing two thirds of them found nothing, and the retry needing one
/// was 13 ms at 10k cards (75 ms at 100k); a match is a quarter of that.
pub fn search(index: &SearchIndex, request: &SearchRequest) -> Result<SearchResults, IndexError> {
    let parsed = query::parse(&request.q);
    if is_pasted(&parsed) {
        let ticket = Ticket {
            body: parsed.text.clone(),
            ..Ticket::default()
        };
        return similar(index, &ticket, &with_typed_filters(request, &parsed));
    }
    planned(index, request, &parsed, Scope::Everything)
}

/// Whether the box holds a pasted message: many words, and none of the
/// query syntax (phrases, `-word`) that only a query has.
fn is_pasted(parsed: &query::ParsedQuery) -> bool {
    parsed.phrases.is_empty()
        && parsed.excluded.is_empty()
        && (parsed.text.split_whitespace().nth(PASTED_WORDS).is_some()
            || parsed.text.chars().nth(PASTED_CHARS).is_some())
}

/// Completions of card titles for a search box that updates on every key:
/// the last word is a prefix, typos are forgiven, and only titles, summaries
/// and headings are looked at. No snippets.
pub fn suggest(index: &SearchIndex, request: &SearchRequest) -> Result<SearchResults, IndexError> {
    let mut parsed = query::parse(&request.q);
    parsed.prefix_last = !parsed.text.trim().is_empty();
    let mut request = request.clone();
    request.snippets = false;
    request.facets = false;
    request.total = false;
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
    if is_junk(&request.q, parsed) {
        let mut results = SearchResults::empty(started);
        results.notice = Some(Notice::NoWords);
        return Ok(results);
    }
    let mut request = with_typed_filters(request, parsed);
    let searcher = index.searcher();
    let stats = audience::Statistics::new(&searcher, index.fields(), request.public_only)
        .whole_card_rarity(index.fields());
    let plan = Plan::new(index, &stats, parsed, scope);
    // A reader who says nothing of their language reads the one they type
    // in: Chinese or Russian by their script, at once; else told from the
    // cards (`typed_language`), only when a translated card is shown.
    if request.prefer_langs.is_empty() {
        match crate::content::lang::detect(&parsed.text) {
            Some(lang) if matches!(lang.as_str(), "zh" | "ru" | "uk" | "bg") => {
                request.prefer_langs.push(lang)
            }
            _ => request.typed_words = plan.typed_words().take(8).map(str::to_string).collect(),
        }
    }
    if scope == Scope::Titles && plan.content_words() == 0 {
        // An empty box suggests nothing rather than every card.
        return Ok(SearchResults::empty(started));
    }
    let relaxable = plan.content_words() > 1;
    let highlighted = if request.snippets {
        plan.completed_terms(&searcher, HIGHLIGHTED_COMPLETIONS)
    } else {
        Vec::new()
    };
    let query = |required| plan.query(required);
    let additions = Additions {
        highlighted,
        bonuses: plan.pair_bonuses(),
    };
    let mut results = run(
        index, &stats, &request, started, relaxable, &query, additions,
    )?;
    results.did_you_mean = did_you_mean(&request.q, &plan);
    Ok(results)
}

/// The language Latin-script `words` are typed in: the one a larger share
/// of whose cards hold them as written (the `spelling` field) than any
/// other's ("rambursari" is Romanian because Romanian cards say it). Each
/// word's cards are walked once, their language read from its column.
fn typed_language(
    index: &SearchIndex,
    searcher: &tantivy::Searcher,
    words: &[String],
) -> Option<String> {
    let f = index.fields();
    if words.is_empty() {
        return None;
    }
    // Cards of each language that hold a word (once per word).
    let mut held: BTreeMap<String, usize> = BTreeMap::new();
    for segment in searcher.segment_readers() {
        let Some(column) = segment.fast_fields().str("lang").ok().flatten() else {
            continue;
        };
        let mut per_ord = vec![0usize; column.num_terms()];
        for word in words {
            let term = Term::from_field_text(f.spelling, word);
            audience::each_alive(segment, &[&term], |doc| {
                if let Some(count) = column
                    .term_ords(doc)
                    .next()
                    .and_then(|ord| per_ord.get_mut(ord as usize))
                {
                    *count += 1;
                }
            });
        }
        for (ord, count) in per_ord.into_iter().enumerate() {
            let mut lang = String::new();
            if column.ord_to_str(ord as u64, &mut lang).unwrap_or(false) {
                *held.entry(lang).or_default() += count;
            }
        }
    }
    if held.len() < 2 {
        return None;
    }
    // The share of the language's cards that say each word: a handbook
    // mostly in English still has Romanian words in its English cards
    // (links by id), but in fewer of them.
    let mut shares: Vec<(f64, &String)> = held
        .iter()
        .map(|(lang, held)| {
            let cards = searcher
                .doc_freq(&Term::from_field_text(f.lang, lang))
                .unwrap_or(0);
            (*held as f64 / cards.max(1) as f64, lang)
        })
        .collect();
    shares.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    match shares.as_slice() {
        [(best, lang), (second, _), ..] if *best > 0.0 && best > second => Some((*lang).clone()),
        _ => None,
    }
}

/// Text typed, yet not one word, phrase, exclusion or filter in it.
fn is_junk(q: &str, parsed: &query::ParsedQuery) -> bool {
    !q.trim().is_empty()
        && parsed.phrases.is_empty()
        && parsed.excluded.is_empty()
        && parsed.filters.is_empty()
        && Analyzer::default().words(&parsed.text).is_empty()
}

/// The query as typed, each word that matched nothing replaced by its
/// correction; `None` when no word needed one.
fn did_you_mean(q: &str, plan: &Plan) -> Option<String> {
    let mut out = q.to_string();
    let mut corrected = false;
    for (typed, fixed) in plan.corrections() {
        // Replace the word as the reader wrote it (any case), once.
        if let Some(at) = find_word(&out, &typed.folded) {
            out.replace_range(at, &fixed.folded);
            corrected = true;
        }
    }
    corrected.then_some(out)
}

/// Where a word whose folded spelling is `folded` is in `text`.
fn find_word(text: &str, folded: &str) -> Option<std::ops::Range<usize>> {
    Analyzer::default()
        .words(text)
        .into_iter()
        .find(|w| w.folded == folded)
        .map(|w| w.offset_from..w.offset_to)
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
            did_you_mean: None,
            notice: None,
        }
    }
}

/// What a typed query adds to its query: body terms its completions
/// highlight, and bonuses scored on the best candidates only.
#[derive(Default)]
struct Additions {
    highlighted: Vec<Term>,
    bonuses: Vec<Box<dyn Query>>,
}

/// Candidates ranked when bonuses are scored on them (a rescoring window):
/// a card below this many by the rest of its score gets no bonus.
const BONUS_CANDIDATES: usize = 100;

/// Runs `query` (with the request's filters), retrying with one required
/// word when `relaxable` and nothing matched, and builds the hits.
fn run(
    index: &SearchIndex,
    stats: &audience::Statistics,
    request: &SearchRequest,
    started: Instant,
    relaxable: bool,
    query: &dyn Fn(Option<usize>) -> Box<dyn Query>,
    additions: Additions,
) -> Result<SearchResults, IndexError> {
    let searcher = stats.searcher();
    let limit = request.limit.clamp(1, MAX_LIMIT);
    let offset = request.offset.min(MAX_OFFSET);
    let filters = filter_clauses(index, request);
    let today = days(request.today);

    let mut relaxed = false;
    // Each family is one hit: enough candidates are ranked that a page of
    // families is left once the other members are dropped.
    let mut fetched = (limit + offset) * family::FETCHED_PER_HIT;
    if !additions.bonuses.is_empty() {
        fetched = fetched.max(BONUS_CANDIDATES);
    }
    let fetched = fetched.min(MAX_OFFSET + MAX_LIMIT);
    let numbers = request.total.then(|| index.family_numbers(searcher));
    let attempt = |required: Option<usize>| -> Result<_, IndexError> {
        let query = with_filters(query(required), &filters);
        let collectors = (
            tantivy::collector::TopDocs::with_limit(fetched)
                .tweak_score(ranking(&request.prefer_langs)),
            numbers.clone().map(family::FamilyCount),
            request.facets.then(facet_collector),
            request.facets.then_some(TrustCounts { today }),
        );
        let fruit = searcher.search_with_statistics_provider(&*query, &collectors, stats)?;
        Ok((query, fruit))
    };
    let (mut query, mut fruit) = attempt(None)?;
    if fruit.0.is_empty() && relaxable {
        (query, fruit) = attempt(Some(1))?;
        relaxed = true;
    }
    let (mut top, total, facet_counts, trust_counts) = fruit;
    if !additions.bonuses.is_empty() {
        add_bonuses(stats, &additions.bonuses, &request.prefer_langs, &mut top)?;
    }

    let snippets = request
        .snippets
        .then(|| highlighter(stats, &*query, index.fields().body, additions.highlighted));
    let page = Page {
        index,
        searcher,
        columns: family::Columns::new(searcher),
        request,
        filters: &filters,
        snippets: snippets.as_ref(),
    };
    let mut hits = page.hits(family::collapse(&page.columns, &top, offset, limit))?;
    // Equal scores are ordered by id, so a page never reshuffles.
    hits.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.card.id.cmp(&b.card.id))
    });

    Ok(SearchResults {
        total: total.unwrap_or(hits.len()),
        hits,
        facets: match (facet_counts, trust_counts) {
            (Some(counts), Some(trust)) => facets(&counts, trust),
            _ => Facets::default(),
        },
        took: started.elapsed(),
        relaxed,
        terms: Vec::new(),
        did_you_mean: None,
        notice: None,
    })
}

/// Adds each bonus query's score (times the reader's language preference,
/// as `ranking` weighs the rest) to the ranked candidates `top` and ranks
/// them again. A bonus is looked for at each candidate alone, never walked
/// through the cards between them.
fn add_bonuses(
    stats: &audience::Statistics,
    bonuses: &[Box<dyn Query>],
    prefer: &[String],
    top: &mut [((Score, u64), DocAddress)],
) -> Result<(), IndexError> {
    let searcher = stats.searcher();
    let scoring = EnableScoring::enabled_from_statistics_provider(stats, searcher);
    let weights = bonuses
        .iter()
        .map(|bonus| bonus.weight(scoring))
        .collect::<tantivy::Result<Vec<_>>>()?;
    let key = ranking(prefer);
    // The candidates of each segment, in document order.
    let mut order: Vec<usize> = (0..top.len()).collect();
    order.sort_by_key(|&i| top[i].1);
    for (ord, segment) in searcher.segment_readers().iter().enumerate() {
        let here: Vec<usize> = order
            .iter()
            .copied()
            .filter(|&i| top[i].1.segment_ord as usize == ord)
            .collect();
        if here.is_empty() {
            continue;
        }
        let weigh = key(segment);
        for weight in &weights {
            let mut scorer = weight.scorer(segment, 1.0)?;
            // No document below this can match: the scorer's first, then
            // what each look rules out (a scorer looked into is only ever
            // asked about later documents).
            let mut lowest = scorer.doc();
            for &i in &here {
                let doc = top[i].1.doc_id;
                if doc < lowest {
                    continue;
                }
                match scorer.seek_danger(doc) {
                    SeekDangerResult::Found => {
                        top[i].0.0 += weigh(doc, scorer.score()).0;
                        lowest = doc + 1;
                    }
                    SeekDangerResult::SeekLowerBound(next) => lowest = next,
                }
            }
        }
    }
    top.sort_by(|a, b| {
        b.0.0
            .total_cmp(&a.0.0)
            .then(b.0.1.cmp(&a.0.1))
            .then(a.1.cmp(&b.1))
    });
    Ok(())
}

/// What turns a page of ranked families into hits.
struct Page<'a> {
    index: &'a SearchIndex,
    searcher: &'a tantivy::Searcher,
    columns: family::Columns,
    request: &'a SearchRequest,
    filters: &'a [Box<dyn Query>],
    snippets: Option<&'a Highlighter>,
}

impl Page<'_> {
    /// Each family as its member in the reader's language (see `family`):
    /// the member is chosen from the fast fields first, so only the card
    /// shown is read and given a snippet.
    fn hits(&self, kept: Vec<family::Kept>) -> Result<Vec<Hit>, IndexError> {
        let families: Vec<u64> = kept.iter().map(|k| k.family).collect();
        let members = family::members(
            self.searcher,
            &self.columns,
            self.index.fields(),
            &families,
            self.filters,
        )?;
        let guessed = std::cell::OnceCell::new();
        // Cards shown without a snippet are read from their column.
        let metas = match self.snippets {
            Some(_) => Vec::new(),
            None => self.index.meta_columns(self.searcher),
        };
        let mut hits = Vec::with_capacity(kept.len());
        for kept in kept {
            let of_family = members.get(&kept.family).map_or(&[][..], Vec::as_slice);
            // A family of one has nothing to choose from: no language to tell.
            let address = if of_family.len() > 1 {
                let prefer: &[String] = if !self.request.prefer_langs.is_empty() {
                    &self.request.prefer_langs
                } else {
                    guessed.get_or_init(|| {
                        typed_language(self.index, self.searcher, &self.request.typed_words)
                            .into_iter()
                            .collect::<Vec<String>>()
                    })
                };
                family::member_in_reader_language(&self.columns, kept, of_family, prefer)
                    .unwrap_or(kept.address)
            } else {
                kept.address
            };
            hits.push(hit(
                self.index,
                self.searcher,
                address,
                kept.score,
                self.snippets,
                &metas,
                self.request.today,
            )?);
        }
        Ok(hits)
    }
}

/// One hit: its card, trust and snippet (the card's own words when no
/// fragment matched).
fn hit(
    index: &SearchIndex,
    searcher: &tantivy::Searcher,
    address: DocAddress,
    score: Score,
    snippets: Option<&Highlighter>,
    metas: &[Option<StrColumn>],
    today: NaiveDate,
) -> Result<Hit, IndexError> {
    let (card, snippet) = match snippets {
        Some(highlighter) => {
            let (card, text) = index.hit(searcher, address)?;
            let prose = snippet::without_code(head(&text, SNIPPET_SCAN_BYTES));
            let found = snippet::best_fragment(
                &mut highlighter.analyzer.clone(),
                &prose,
                &highlighter.terms,
                SNIPPET_CHARS,
            );
            let snippet = match found {
                Some(fragment) if !prose[fragment.range.clone()].trim().is_empty() => {
                    snippet::sentences(&prose, &fragment)
                }
                _ => fallback_snippet(&card),
            };
            (card, snippet)
        }
        None => (index.hit_card(searcher, metas, address)?, String::new()),
    };
    Ok(Hit {
        trust: card.verification.trust(today),
        card,
        score,
        snippet,
        matched: Vec::new(),
        translations: Vec::new(),
        outdated: 0,
        address,
    })
}

/// The order of hits: score, times the reader's language preference, then
/// a hash of the id, so equal scores order the same way on every build.
fn ranking(
    prefer: &[String],
) -> impl Fn(&SegmentReader) -> Box<dyn Fn(DocId, Score) -> (Score, u64)> + Send + Sync + 'static {
    let prefer: Vec<String> = prefer.iter().take(LANG_PREFERENCE.len()).cloned().collect();
    move |segment: &SegmentReader| {
        let fast = segment.fast_fields();
        let hashes = fast.u64("id_hash").ok().map(|c| c.first_or_default_col(0));
        let langs = fast.str("lang").ok().flatten();
        // The preferred languages as this segment's term ordinals.
        let ords: Vec<(u64, f32)> = match &langs {
            Some(column) => prefer
                .iter()
                .zip(LANG_PREFERENCE)
                .filter_map(|(lang, factor)| {
                    column
                        .dictionary()
                        .term_ord(lang.as_bytes())
                        .ok()
                        .flatten()
                        .map(|ord| (ord, factor))
                })
                .collect(),
            None => Vec::new(),
        };
        let lang_ords = langs.map(|c| c.ords().clone());
        Box::new(move |doc: DocId, score: Score| {
            let factor = match (&lang_ords, ords.is_empty()) {
                (Some(column), false) => column
                    .first(doc)
                    .and_then(|ord| ords.iter().find(|(o, _)| *o == ord))
                    .map_or(1.0, |(_, f)| *f),
                _ => 1.0,
            };
            let hash = hashes.as_ref().map_or(0, |h| h.get_val(doc));
            (score * factor, hash)
        })
    }
}

/// What a page's snippets are cut with: the query's terms in the snippet
/// field, each weighing the more the rarer it is, and an analyzer that
/// only looks at words that can be one of them (`Analyzer::only_like`).
struct Highlighter {
    terms: HashMap<String, f32>,
    analyzer: Analyzer,
}

fn highlighter(
    stats: &audience::Statistics,
    query: &dyn Query,
    field: Field,
    extra: Vec<Term>,
) -> Highlighter {
    let mut terms = HashMap::new();
    let mut all = extra;
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
    Highlighter { terms, analyzer }
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

/// A snippet as plain text on one line, for a terminal, a model or an inbox
/// that shows no HTML: marks dropped, entities decoded.
pub fn plain_snippet(snippet: &str) -> String {
    let text = ticket::clean(&format!("<p>{snippet}</p>"));
    text.split_whitespace().collect::<Vec<_>>().join(" ")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pasted_message_is_told_from_a_query() {
        let pasted = |q: &str| is_pasted(&query::parse(q));
        assert!(!pasted("refund annual plan"));
        assert!(!pasted(
            "how do I get my money back for the annual plan I bought by mistake"
        ));
        let email = "Hi team, I bought the annual plan last week by mistake and would like \
                     a refund please. Could you tell me how long it takes? Thanks, Jane";
        assert!(pasted(email));
        // Query syntax says someone typed it as a query.
        assert!(!pasted(&format!("{email} \"annual plan\"")));
        assert!(!pasted(&format!("{email} -monthly")));
        // Chinese has no spaces between words: its length tells.
        assert!(!pasted("年费退款"));
        assert!(pasted(&"我上周误购了年度套餐，想申请退款。".repeat(10)));
    }

    #[test]
    fn a_plain_snippet_drops_marks_and_decodes_entities_on_one_line() {
        let html = "Refunds &amp; <mark>credits</mark>\nwithin &lt;30&gt; days";
        assert_eq!(plain_snippet(html), "Refunds & credits within <30> days");
    }
}
