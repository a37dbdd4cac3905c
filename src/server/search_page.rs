//! The site's search page: results with snippets, filters that add or
//! remove themselves, pages, and a zero-result answer with next steps.
//! Works as a plain GET form; `site.js` adds results while typing.

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Serialize;
use serde_json::json;

use super::AppState;
use super::api::search_request;
use super::params::Params;
use super::site::page;
use super::urls::encode_component;
use super::views::{self, SearchView};
use crate::app;
use crate::app::search::{Door, Log};
use crate::content::{Catalog, lang};
use crate::search;

const PAGE_SIZE: usize = 10;

/// How much of a query the page repeats in its title and text.
const SHOWN_CHARS: usize = 80;

/// How much of a query the page's links carry. A pasted ticket is searched
/// whole, but repeating 14 KB in each of 40 links made a 681 KB page.
const LINKED_CHARS: usize = 300;

pub(super) async fn search_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let params = Params::parse(raw.as_deref());
    let query = params.get("q").unwrap_or("").to_string();
    let page_number = params.number("page", 1).unwrap_or(1).clamp(1, 1000);
    // A bad filter value on the site is not worth an error page.
    let mut request = search_request(&params, &headers)
        .unwrap_or_else(|_| search::SearchRequest::new(query.clone()));
    request.limit = PAGE_SIZE;
    request.offset = (page_number - 1) * PAGE_SIZE;
    // The page shows them as filters.
    request.facets = true;
    let filtered = FILTERS.iter().any(|k| params.get(k).is_some());
    let results = if (query.trim().is_empty() && !filtered) || !state.kb.is_ready() {
        None
    } else {
        let log = if page_number == 1 { Log::Yes } else { Log::No };
        match app::search::search(&state.kb, &request, Door::Site, log) {
            Ok(r) => Some(SearchView::new(&query, r, &state.kb.history())),
            Err(e) => {
                tracing::error!("search failed: {e}");
                None
            }
        }
    };
    // Links carry a shortened query; the page says so when it is shortened.
    let linked = cut(&query, LINKED_CHARS).to_string();
    let params = params.with("q", &linked);
    let facets = results
        .as_ref()
        .map(|r| facet_links(&params, &r.facets, &state.kb.catalog()))
        .unwrap_or_default();
    let pages = results
        .as_ref()
        .map(|r| pagination(&params, r.total, page_number))
        .unwrap_or_default();
    let next_steps = results
        .as_ref()
        .filter(|r| r.total == 0)
        .map(|r| next_steps(&params, &query, r.did_you_mean.as_deref()))
        .unwrap_or_default();
    page(
        &state,
        StatusCode::OK,
        "search.html",
        json!({
            "query": query,
            "query_shown": shortened(&query, SHOWN_CHARS),
            "query_linked": linked,
            "query_chars": query.chars().count(),
            "long_query": linked.len() < query.trim().len(),
            "results": results,
            "facets": facets,
            "filtered": filtered,
            "next_steps": next_steps,
            "pages": pages,
            "page": page_number,
            "ready": state.kb.is_ready(),
        }),
    )
}

/// The filters a search page can carry.
const FILTERS: [&str; 4] = ["collection", "tag", "lang", "trust"];

/// `text` cut to at most `max` characters, at a word boundary when there is
/// one in its second half.
fn cut(text: &str, max: usize) -> &str {
    let text = text.trim();
    let Some((end, _)) = text.char_indices().nth(max) else {
        return text;
    };
    let head = &text[..end];
    let at_word = head
        .rfind(char::is_whitespace)
        .filter(|&at| at >= head.len() / 2)
        .unwrap_or(head.len());
    head[..at_word].trim_end()
}

/// `text` as a page shows it: cut (see `cut`), with "…" when cut.
pub(super) fn shortened(text: &str, max: usize) -> String {
    let short = cut(text, max);
    if short.len() < text.trim().len() {
        format!("{short}…")
    } else {
        short.to_string()
    }
}

/// A link the zero-result answer offers.
#[derive(Serialize)]
struct NextStep {
    text: String,
    url: String,
}

/// What to try when nothing matched: the corrected query, fewer words, no
/// filters. (Browsing the collections is in the template.)
fn next_steps(params: &Params, query: &str, corrected: Option<&str>) -> Vec<NextStep> {
    let mut steps = Vec::new();
    if let Some(corrected) = corrected {
        steps.push(NextStep {
            text: format!("Search for “{}”", shortened(corrected, SHOWN_CHARS)),
            url: search_url(&[("q".into(), corrected.into())]),
        });
    }
    let words: Vec<&str> = query.split_whitespace().collect();
    if words.len() > 1 {
        // The longest words carry the meaning: the longest one or two alone.
        let mut longest = words.clone();
        longest.sort_by_key(|w| std::cmp::Reverse(w.chars().count()));
        let keep = (words.len() - 1).min(2);
        let fewer = shortened(&longest[..keep].join(" "), SHOWN_CHARS);
        steps.push(NextStep {
            text: format!("Search with fewer words: “{fewer}”"),
            url: search_url(&[("q".into(), fewer)]),
        });
    }
    if FILTERS.iter().any(|k| params.get(k).is_some()) {
        steps.push(NextStep {
            text: "Search every collection, tag and language".into(),
            url: search_url(&[("q".into(), params.get("q").unwrap_or("").into())]),
        });
    }
    steps
}

/// A filter value as readers know it: a collection's title (from its
/// `_index.md`), a language's own name.
fn label(catalog: &Catalog, facet: &str, value: &str) -> String {
    match facet {
        "collection" => catalog.folder(value).and_then(|f| f.title.clone()),
        "lang" => Some(lang::native_name(value).to_string()),
        "trust" => Some(
            match value {
                "verified" => "Verified",
                "stale" => "Stale",
                "unverified" => "Never verified",
                other => other,
            }
            .to_string(),
        ),
        _ => None,
    }
    .unwrap_or_else(|| value.to_string())
}

/// One value of a facet as a link that adds or removes it as a filter.
#[derive(Serialize)]
struct FacetLink {
    value: String,
    label: String,
    count: u64,
    active: bool,
    url: String,
}

#[derive(Serialize)]
struct FacetGroup {
    name: &'static str,
    title: &'static str,
    values: Vec<FacetLink>,
}

/// The search page's URL with `key=value` toggled (and the page reset).
fn toggled(params: &Params, key: &str, value: &str) -> String {
    let mut pairs = without_page(params);
    let before = pairs.len();
    pairs.retain(|(k, v)| !(k == key && v == value));
    if pairs.len() == before {
        pairs.push((key.to_string(), value.to_string()));
    }
    search_url(&pairs)
}

/// The search's parameters but the page number.
fn without_page(params: &Params) -> Vec<(String, String)> {
    params
        .pairs()
        .iter()
        .filter(|(k, _)| k != "page")
        .cloned()
        .collect()
}

fn search_url(pairs: &[(String, String)]) -> String {
    let query: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect();
    format!("/search?{}", query.join("&"))
}

fn facet_links(params: &Params, facets: &views::FacetsView, catalog: &Catalog) -> Vec<FacetGroup> {
    let group = |name: &'static str,
                 title: &'static str,
                 counts: &std::collections::BTreeMap<String, u64>| {
        let active = params.all(name);
        // The 12 shown first, then their links: a folder with thousands of
        // tags must not cost a URL for each.
        let mut shown: Vec<(&String, u64)> = counts.iter().map(|(v, &c)| (v, c)).collect();
        shown.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        shown.truncate(12);
        let values: Vec<FacetLink> = shown
            .into_iter()
            .map(|(value, count)| FacetLink {
                active: active.contains(value),
                url: toggled(params, name, value),
                label: label(catalog, name, value),
                value: value.clone(),
                count,
            })
            .collect();
        FacetGroup {
            name,
            title,
            values,
        }
    };
    vec![
        group("collection", "Collection", &facets.collection),
        group("trust", "Trust", &facets.trust),
        group("lang", "Language", &facets.lang),
        group("tag", "Tag", &facets.tag),
    ]
    .into_iter()
    .filter(|g| !g.values.is_empty())
    .collect()
}

#[derive(Serialize, Default)]
pub(super) struct Pages {
    previous: Option<String>,
    next: Option<String>,
    numbers: Vec<PageLink>,
}

#[derive(Serialize)]
struct PageLink {
    number: usize,
    url: String,
    current: bool,
}

fn pagination(params: &Params, total: usize, current: usize) -> Pages {
    let count = total
        .div_ceil(PAGE_SIZE)
        .min(search::MAX_OFFSET / PAGE_SIZE);
    pages(count, current, |n| {
        let mut pairs = without_page(params);
        if n > 1 {
            pairs.push(("page".into(), n.to_string()));
        }
        search_url(&pairs)
    })
}

/// Links to `count` pages around `current`, each at `url(n)`.
pub(super) fn pages(count: usize, current: usize, url: impl Fn(usize) -> String) -> Pages {
    if count <= 1 {
        return Pages::default();
    }
    let first = current.saturating_sub(3).max(1);
    let last = (first + 6).min(count);
    Pages {
        previous: (current > 1).then(|| url(current - 1)),
        next: (current < count).then(|| url(current + 1)),
        numbers: (first..=last)
            .map(|n| PageLink {
                number: n,
                url: url(n),
                current: n == current,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_query_is_cut_at_a_word_and_marked() {
        assert_eq!(shortened("refund annual plan", 80), "refund annual plan");
        assert_eq!(shortened("refund annual plan", 12), "refund…");
        let russian = "возврат ".repeat(40);
        let cut = shortened(&russian, 30);
        assert!(cut.chars().count() <= 31 && cut.ends_with('…'), "{cut}");
        // No space in reach (Chinese): cut at the character limit.
        assert_eq!(shortened(&"退款".repeat(50), 5), "退款退款退…");
    }
}
