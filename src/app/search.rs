//! Searching, suggesting and matching a ticket, as every door does it:
//! refused until the index is ready, timed into the metrics, and (but for
//! suggestions, one per key) written to the insights log.

use std::collections::HashMap;
use std::sync::Arc;

use crate::kb::Kb;
use crate::search::{self, SearchRequest, SearchResults, Ticket, Translation};
use crate::store::{SearchEvent, now};

use super::AppError;

/// Which door a search came through, as the insights log names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Door {
    Api,
    Site,
    Mcp,
    /// A ticket matched (`/api/v1/match`, MCP, the inbox integrations).
    Match,
    /// An inbox app's own search box (Intercom).
    Inbox,
    /// `quire search` in a terminal.
    Cli,
}

impl Door {
    pub fn as_str(self) -> &'static str {
        match self {
            Door::Api => "api",
            Door::Site => "site",
            Door::Mcp => "mcp",
            Door::Match => "match",
            Door::Inbox => "inbox",
            Door::Cli => "cli",
        }
    }
}

/// Whether the search goes to the insights log: a site's second page is
/// the same search read further, not another one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Log {
    Yes,
    No,
}

pub fn search(
    kb: &Kb,
    request: &SearchRequest,
    door: Door,
    log: Log,
) -> Result<SearchResults, AppError> {
    ready(kb)?;
    let results = cached(kb, request, |request| {
        let mut results = search::search(&kb.index, request)?;
        with_translations(kb, &mut results, request.public_only);
        Ok(results)
    })?;
    let flags = super::feedback::flag_counts(kb, request.public_only);
    Ok(finish(
        kb,
        request,
        results,
        flags.as_deref(),
        logged(door, log),
    ))
}

/// `search`'s answer when the search cache holds it and nothing else needs
/// reading (a staff caller's "outdated" flags are in memory), else `None`:
/// a caller that would hand the work to another thread can answer at once
/// instead, and never waits on the database.
pub fn search_if_cached(
    kb: &Kb,
    request: &SearchRequest,
    door: Door,
    log: Log,
) -> Option<SearchResults> {
    let flags = flags_in_memory(kb, request)?;
    let results = from_cache(kb, request)?;
    Some(finish(
        kb,
        request,
        results,
        flags.as_deref(),
        logged(door, log),
    ))
}

/// Completions for a box that updates on every key: not logged.
pub fn suggest(kb: &Kb, request: &SearchRequest) -> Result<SearchResults, AppError> {
    ready(kb)?;
    let results = cached(kb, request, |request| {
        let mut results = search::suggest(&kb.index, request)?;
        with_translations(kb, &mut results, request.public_only);
        Ok(results)
    })?;
    let flags = super::feedback::flag_counts(kb, request.public_only);
    Ok(finish(kb, request, results, flags.as_deref(), None))
}

/// `suggest`'s answer when the search cache holds it (see
/// `search_if_cached`).
pub fn suggest_if_cached(kb: &Kb, request: &SearchRequest) -> Option<SearchResults> {
    let flags = flags_in_memory(kb, request)?;
    let results = from_cache(kb, request)?;
    Some(finish(kb, request, results, flags.as_deref(), None))
}

/// What every answer gets after the cache: timed, flagged with `flags`,
/// and logged as coming through `logged`'s door, if any.
fn finish(
    kb: &Kb,
    request: &SearchRequest,
    mut results: SearchResults,
    flags: Option<&HashMap<String, usize>>,
    logged: Option<Door>,
) -> SearchResults {
    kb.metrics.search(results.took);
    flag(&mut results, flags);
    if let Some(door) = logged {
        log_search(kb, request, &request.q, answered(&results), door);
    }
    results
}

fn logged(door: Door, log: Log) -> Option<Door> {
    (log == Log::Yes).then_some(door)
}

/// The flags a caller sees when they need no database read: `Some(None)`
/// for a public-only caller (who sees none), the counts in memory for
/// staff; `None` when they would have to be read.
fn flags_in_memory(
    kb: &Kb,
    request: &SearchRequest,
) -> Option<Option<Arc<HashMap<String, usize>>>> {
    if request.public_only {
        Some(None)
    } else {
        kb.flag_counts.fresh().map(Some)
    }
}

/// The cards most likely to answer `ticket`; `request` carries the limit
/// and the caller's audience.
pub fn match_ticket(
    kb: &Kb,
    ticket: &Ticket,
    request: &SearchRequest,
) -> Result<SearchResults, AppError> {
    ready(kb)?;
    // A match shows a few cards, never how many others share a word.
    let request = &SearchRequest {
        total: false,
        ..request.clone()
    };
    let mut results = search::similar(&kb.index, ticket, request)?;
    kb.metrics.search(results.took);
    with_translations(kb, &mut results, request.public_only);
    with_flags(kb, &mut results, request.public_only);
    log_search(kb, request, &ticket.subject, results.total, Door::Match);
    Ok(results)
}

/// The answer to `request` as kept in the search cache, else `work`'s
/// (then kept). Only what the cards decide is kept: see `with_flags`. The
/// whole request is the key, so two callers who may see different cards
/// never share an answer.
fn cached(
    kb: &Kb,
    request: &SearchRequest,
    work: impl FnOnce(&SearchRequest) -> Result<SearchResults, crate::index::IndexError>,
) -> Result<SearchResults, AppError> {
    if let Some(results) = from_cache(kb, request) {
        return Ok(results);
    }
    // The epoch is read before the work: an answer worked out while the
    // cards changed is kept under the old epoch, never served after it.
    let epoch = kb.search_epoch();
    let results = work(request)?;
    kb.search_cache.put(&epoch, request.clone(), &results);
    Ok(results)
}

/// The kept answer to `request`, if any (none until the index is ready).
fn from_cache(kb: &Kb, request: &SearchRequest) -> Option<SearchResults> {
    let started = std::time::Instant::now();
    if !kb.is_ready() {
        return None;
    }
    let mut results = kb.search_cache.get(&kb.search_epoch(), request)?;
    results.took = started.elapsed();
    Some(results)
}

/// For staff, the open "outdated" flags on each hit (feedback is the
/// staff's, see `feedback`): they change without the cards changing.
fn with_flags(kb: &Kb, results: &mut SearchResults, public_only: bool) {
    let flags = super::feedback::flag_counts(kb, public_only);
    flag(results, flags.as_deref());
}

fn flag(results: &mut SearchResults, flags: Option<&HashMap<String, usize>>) {
    for hit in &mut results.hits {
        hit.outdated = super::feedback::outdated(flags, &hit.card);
    }
}

/// Lists each hit's other languages (one hit stands for its family): the
/// translations the caller may see, drafts left out; and names the cards
/// whose ids a snippet shows.
fn with_translations(kb: &Kb, results: &mut SearchResults, public_only: bool) {
    let catalog = kb.catalog();
    for hit in &mut results.hits {
        hit.snippet = titled_links(&catalog, &hit.snippet);
        hit.translations = catalog
            .translations(&hit.card)
            .into_iter()
            .filter(|c| !c.draft && (c.is_public() || !public_only))
            .map(|c| Translation {
                id: c.id.clone(),
                lang: c.lang.clone(),
                title: c.title.clone(),
            })
            .collect();
    }
}

/// A snippet with each card id a wiki-link left in the text (`under
/// playbooks/refunds`, `see escalation/tiers/tier-2#When`) replaced by that
/// card's title (`see Tier 2 › When`), as the page shows the link. An id
/// may hold `<mark>` tags (a searched word in it); they go with it.
fn titled_links(catalog: &crate::content::Catalog, snippet: &str) -> String {
    let mut out = String::with_capacity(snippet.len());
    // Only the runs around a slash can be ids: the text between them is
    // copied whole (reading every character was a twentieth of a typed
    // search).
    let bytes = snippet.as_bytes();
    let (mut copied, mut from) = (0, 0);
    while let Some(slash) = snippet[from..].find('/').map(|at| from + at) {
        // A closing mark's slash starts no id, but may stand inside one
        // (`<mark>playbooks</mark>/refunds`): the run is found from the
        // id's own slash.
        if bytes[..slash].ends_with(b"<") && bytes[slash..].starts_with(b"/mark>") {
            from = slash + 1;
            continue;
        }
        let start = run_start(snippet, copied, slash);
        let end = run_end(snippet, slash);
        out.push_str(&snippet[copied..start]);
        push_titled(&mut out, catalog, &snippet[start..end]);
        copied = end;
        from = end;
    }
    out.push_str(&snippet[copied..]);
    out
}

const MARKS: [&str; 2] = ["<mark>", "</mark>"];

fn is_id_char(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_' | '.' | '#')
    } else {
        c.is_alphanumeric()
    }
}

/// Where the run of id characters and marks holding `at` begins, not
/// before `from`: a run begins with an id character other than `#`.
fn run_start(snippet: &str, from: usize, at: usize) -> usize {
    let mut start = at;
    loop {
        let before = &snippet[from..start];
        if let Some(mark) = MARKS.iter().find(|m| before.ends_with(**m)) {
            start -= mark.len();
        } else if let Some(c) = before.chars().next_back().filter(|&c| is_id_char(c)) {
            start -= c.len_utf8();
        } else {
            break;
        }
    }
    // Marks and `#` before the first id character are the text's.
    loop {
        let rest = &snippet[start..at];
        if let Some(mark) = MARKS.iter().find(|m| rest.starts_with(**m)) {
            start += mark.len();
        } else if rest.starts_with('#') {
            start += 1;
        } else {
            return start;
        }
    }
}

/// Where the run of id characters and marks holding `at` ends.
fn run_end(snippet: &str, at: usize) -> usize {
    let mut end = at;
    loop {
        let rest = &snippet[end..];
        if let Some(mark) = MARKS.iter().find(|m| rest.starts_with(**m)) {
            end += mark.len();
        } else if let Some(c) = rest.chars().next().filter(|&c| is_id_char(c)) {
            end += c.len_utf8();
        } else {
            return end;
        }
    }
}

/// Appends `run` to `out`, as its card's title when it names one.
fn push_titled(out: &mut String, catalog: &crate::content::Catalog, run: &str) {
    match run.contains('/').then(|| titled(catalog, run)).flatten() {
        Some(title) => out.push_str(&title),
        None => out.push_str(run),
    }
}

/// The full stops ending `run`'s text (its tags aside).
fn plain_len_dots(run: &str) -> usize {
    let plain = run.replace("<mark>", "").replace("</mark>", "");
    plain.len() - plain.trim_end_matches('.').len()
}

/// One run of id characters: the card's title (and the heading it points
/// at) when it names a card.
fn titled(catalog: &crate::content::Catalog, run: &str) -> Option<String> {
    let plain = run.replace("<mark>", "").replace("</mark>", "");
    let plain = plain.trim_end_matches('.');
    let (id, heading) = plain.split_once('#').unwrap_or((plain, ""));
    let title = id
        .contains('/')
        .then(|| crate::content::CardId::new(id).ok())
        .flatten()
        .and_then(|id| catalog.get(&id).map(|c| c.title.clone()));
    title.map(|title| {
        let mut text = crate::search::escape_html(&title);
        if !heading.is_empty() {
            text.push_str(" › ");
            text.push_str(heading);
        }
        // A mark the run closed or left open is closed or opened after
        // the title, so the HTML stays balanced.
        let opened = run.matches("<mark>").count();
        let closed = run.matches("</mark>").count();
        text.push_str(&"</mark>".repeat(closed.saturating_sub(opened)));
        text.push_str(&"<mark>".repeat(opened.saturating_sub(closed)));
        // A sentence's full stop after the id stays.
        text.push_str(&".".repeat(plain_len_dots(run)));
        text
    })
}

pub fn ready(kb: &Kb) -> Result<(), AppError> {
    if kb.is_ready() {
        Ok(())
    } else {
        Err(AppError::NotReady)
    }
}

/// Queues a search for the insights log (never blocks).
/// The hits a search counts as in the insights: none when only a loose
/// match answered it (not every word matched, or a word matched only as a
/// correction), since that is how a missing card hides ("okta scim" finding
/// an unrelated card).
fn answered(results: &SearchResults) -> usize {
    if results.relaxed || results.did_you_mean.is_some() {
        0
    } else {
        results.total
    }
}

fn log_search(kb: &Kb, request: &SearchRequest, query: &str, hits: usize, door: Door) {
    let mut filters = Vec::new();
    for (key, values) in [
        ("collection", &request.collections),
        ("tag", &request.tags),
        ("lang", &request.langs),
    ] {
        filters.extend(values.iter().map(|v| format!("{key}={v}")));
    }
    filters.extend(
        request
            .trusts
            .iter()
            .map(|t| format!("trust={}", t.as_str())),
    );
    kb.store.log_search(SearchEvent {
        at: now(),
        // Control characters (a NUL in a query string) would make an
        // invisible entry on the insights page.
        query: query
            .chars()
            .filter(|c| !c.is_control())
            .take(500)
            .collect(),
        filters: filters.join("&"),
        hits: hits as u64,
        source: door.as_str(),
    });
}

#[cfg(test)]
mod tests {
    use super::titled_links;
    use crate::content::Catalog;
    use crate::content::card::{FileStamp, Limits, parse};

    fn catalog() -> Catalog {
        let mut catalog = Catalog::default();
        let text = "---\ntitle: Escalation <tiers>\n---\nWho does what.\n";
        let parsed = parse(
            "a/tiers.md",
            text.as_bytes(),
            FileStamp::default(),
            Limits::default(),
        );
        catalog.upsert(parsed.expect("a valid card").card);
        catalog
    }

    #[test]
    fn a_card_id_in_a_snippet_reads_as_the_cards_title() {
        let catalog = catalog();
        let titled = |snippet: &str| titled_links(&catalog, snippet);
        assert_eq!(
            titled("<mark>Large</mark> payments go through a/tiers first."),
            "<mark>Large</mark> payments go through Escalation &lt;tiers&gt; first."
        );
        assert_eq!(
            titled("Read a/tiers#When."),
            "Read Escalation &lt;tiers&gt; › When."
        );
        assert_eq!(
            titled("<mark>a/tiers</mark> now"),
            "<mark>Escalation &lt;tiers&gt;</mark> now"
        );
        assert_eq!(
            titled(
                "See <mark>a</mark>/tiers, <mark>x</mark> and <mark>a</mark>/<mark>tiers</mark>."
            ),
            "See <mark>Escalation &lt;tiers&gt;</mark>, <mark>x</mark> and <mark>Escalation &lt;tiers&gt;</mark>."
        );
        assert_eq!(
            titled("(#a/tiers), x <mark>a/tiers</mark>#Who."),
            "(#Escalation &lt;tiers&gt;), x <mark>Escalation &lt;tiers&gt; › Who</mark>."
        );
        assert_eq!(
            titled("see a/<mark>tiers</mark> and a/<mark>tie"),
            "see Escalation &lt;tiers&gt; and a/<mark>tie"
        );
    }

    #[test]
    fn text_that_names_no_card_is_left_as_it_is() {
        let catalog = catalog();
        for snippet in [
            "",
            "no slash at all",
            "1/2 cup, a/missing, #tag and a/tiers-old",
            "ответ/вопрос — 退款/退回 <mark>x</mark>/y",
        ] {
            assert_eq!(titled_links(&catalog, snippet), snippet);
        }
    }

    /// The rule read one character at a time: a run of id characters
    /// (marks inside it included) starts at an id character other than
    /// `#`, and is titled when it names a card.
    fn titled_one_char_at_a_time(catalog: &Catalog, snippet: &str) -> String {
        let (mut out, mut run) = (String::new(), String::new());
        let mut rest = snippet;
        while let Some(c) = rest.chars().next() {
            let mark = ["<mark>", "</mark>"]
                .into_iter()
                .find(|m| rest.starts_with(m));
            let piece = mark.unwrap_or(&rest[..c.len_utf8()]);
            let in_run = match mark {
                Some(_) => !run.is_empty(),
                None => super::is_id_char(c) && (c != '#' || !run.is_empty()),
            };
            if in_run {
                run.push_str(piece);
            } else {
                super::push_titled(&mut out, catalog, &std::mem::take(&mut run));
                out.push_str(piece);
            }
            rest = &rest[piece.len()..];
        }
        super::push_titled(&mut out, catalog, &run);
        out
    }

    #[test]
    fn titling_looks_only_around_slashes_yet_reads_as_the_rule_says() {
        let catalog = catalog();
        let pieces = [
            "a", "/", "tiers", "<mark>", "</mark>", "#", ".", " ", "x", "Who", "ж", "退", "-",
            "b/c", "a/tiers", "<",
        ];
        let mut state: u64 = 42;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let parts = next() % 10 + 1;
            let snippet: String = (0..parts)
                .map(|_| pieces[(next() % pieces.len() as u64) as usize])
                .collect();
            assert_eq!(
                titled_links(&catalog, &snippet),
                titled_one_char_at_a_time(&catalog, &snippet),
                "{snippet}"
            );
        }
    }
}
