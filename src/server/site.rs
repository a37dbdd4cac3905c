//! The HTML site: the search page, card pages, attachments and theme assets,
//! rendered through the theme. Errors are themed pages, not JSON.

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use super::AppState;
use super::browse;
use super::files::file_response;
use super::params::Params;
use super::search_page::pages;
use super::urls::{card_url, encode_component, tag_url};
use super::views::{self, CardView, CollectionView, Reading, Visible};
use crate::app;
use crate::app::cards::Resolved;
use crate::content::CardId;
use crate::search;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/search", get(super::search_page::search_page))
        .route("/collections", get(all_collections))
        .route("/favicon.ico", get(favicon))
        .route("/collections/{*path}", get(collection))
        .route("/tags", get(all_tags))
        .route("/tags/{tag}", get(tag_page))
        .route("/events", get(super::live::events))
        .route("/sidebar", get(sidebar))
        .route("/cards/{*id}", get(card).post(card_form))
        .route("/insights", get(insights))
        .route("/problems", get(problems))
        .route("/verification", get(verification))
        .route("/files/{*path}", get(attachment))
        .route("/static/{*path}", get(theme_asset))
}

/// A themed page, or when the template itself fails, a plain page that names
/// the template, line and cause (and the log says the same).
pub(super) fn page(
    state: &AppState,
    status: StatusCode,
    template: &str,
    context: serde_json::Value,
) -> Response {
    let context = with_site(state, context);
    match state.theme.render(template, context) {
        Ok(html) => (
            status,
            // Pages change with the content: always revalidate.
            [(header::CACHE_CONTROL, "no-cache")],
            Html(html),
        )
            .into_response(),
        Err(e) => {
            tracing::error!("{e}");
            let body = format!(
                "<!doctype html><meta charset=utf-8><title>Template error</title><h1>Template error</h1><pre>{}</pre>",
                search::escape_html(&e.to_string())
            );
            (StatusCode::INTERNAL_SERVER_ERROR, Html(body)).into_response()
        }
    }
}

/// What every page may use: whether live reload is on, whether the site
/// needs signing in (for a sign-out button), and the commit of the content
/// served (the footer: authors see whether their push is in, and that
/// every replica serves the same).
fn with_site(state: &AppState, mut context: serde_json::Value) -> serde_json::Value {
    if let Some(map) = context.as_object_mut() {
        let commit = state.kb.content_commit();
        map.insert(
            "content_commit".into(),
            json!(
                commit
                    .as_deref()
                    .map(|c| json!({ "id": c, "short": crate::remote::short(c) }))
            ),
        );
        map.insert(
            "git_behind".into(),
            json!(
                state
                    .kb
                    .remote()
                    .is_some_and(|r| r.status().problem.is_some())
            ),
        );
        map.insert(
            "require_login".into(),
            json!(state.kb.config.site.require_login),
        );
        map.insert(
            "live_reload".into(),
            json!(state.kb.config.live_reload && state.kb.config.watch),
        );
    }
    context
}

fn not_found(state: &AppState, missing: &str) -> Response {
    // A new card whose file cannot be read yet: say why, not "no card".
    let unreadable: Vec<String> = state
        .kb
        .catalog()
        .problems_of(&format!("{missing}.md"))
        .iter()
        .filter(|p| p.severity == crate::content::Severity::Error)
        .map(|p| p.to_string())
        .collect();
    page(
        state,
        StatusCode::NOT_FOUND,
        "404.html",
        json!({
            "missing": missing,
            "query": missing.replace(['/', '-', '_'], " "),
            "unreadable": unreadable,
        }),
    )
}

/// The home page: collections, recent changes, cards needing verification.
/// An old-style `/?q=` link goes to the search page.
async fn home(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    if let Some(raw) = raw.filter(|r| r.contains("q=")) {
        return (
            StatusCode::MOVED_PERMANENTLY,
            [(header::LOCATION, format!("/search?{raw}"))],
        )
            .into_response();
    }
    let today = chrono::Local::now().date_naive();
    let history = state.kb.history();
    let (recent, (stale, stale_total)) = {
        let catalog = state.kb.catalog();
        (
            browse::recently_updated(&catalog, today, &history, 8),
            browse::needing_verification(&catalog, today, &history, 8),
        )
    };
    page(
        &state,
        StatusCode::OK,
        "home.html",
        json!({
            "collections": collections(&state),
            "recent": recent,
            "needs_verification": stale,
            "needs_verification_total": stale_total,
            "ready": state.kb.is_ready(),
        }),
    )
}

/// The card `id` names, or the answer instead of its page: a redirect from
/// an old id, a 404, or an error page when the index cannot be read.
fn stored_card(state: &AppState, id: &str) -> Result<crate::index::StoredCard, Box<Response>> {
    let requested = match app::cards::resolve(&state.kb, id) {
        Resolved::Current(id) => id,
        // 301, not axum's 308: an old id is gone for good, and crawlers and
        // link checkers know 301 best.
        Resolved::Moved(current) => {
            return Err(Box::new(
                (
                    StatusCode::MOVED_PERMANENTLY,
                    [(header::LOCATION, card_url(&current))],
                )
                    .into_response(),
            ));
        }
        Resolved::Missing => return Err(Box::new(not_found(state, id))),
    };
    match state.kb.index.card(&requested) {
        Ok(Some(stored)) => Ok(stored),
        Ok(None) => Err(Box::new(not_found(state, requested.as_str()))),
        Err(e) => {
            tracing::error!("reading card {requested}: {e}");
            Err(Box::new(page(
                state,
                StatusCode::INTERNAL_SERVER_ERROR,
                "error.html",
                json!({ "message": "This card could not be read." }),
            )))
        }
    }
}

/// The newest open "outdated" flags on a card (its old ids' too), and how
/// many there are; none, logged, when the store cannot be read.
fn open_flags(state: &AppState, view: &CardView) -> (Vec<views::FeedbackView>, usize) {
    match app::feedback::open_flags(&state.kb, &view.id, &view.aliases, FLAGS_SHOWN) {
        Ok((newest, total)) => (
            newest.into_iter().map(views::FeedbackView::from).collect(),
            total,
        ),
        Err(e) => {
            tracing::error!("reading feedback of {}: {e}", view.id);
            (Vec::new(), 0)
        }
    }
}

/// A collection or section: its `_index.md` text, sections, then cards.
async fn collection(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(path): Path<String>,
) -> Response {
    let path = path.trim_matches('/').to_string();
    let langs = super::api::reader_languages(&Params::parse(None), &headers);
    let today = chrono::Local::now().date_naive();
    let history = state.kb.history();
    let context = {
        let catalog = state.kb.catalog();
        let cards = browse::one_per_family(browse::cards_in(&catalog, &path), &langs);
        let sections = browse::sections_in(&catalog, &path);
        if cards.is_empty() && sections.is_empty() {
            None
        } else {
            let folder = catalog.folder(&path);
            let intro = folder
                .map(|f| f.markdown.trim())
                .filter(|m| !m.is_empty())
                .map(|m| {
                    // Links in a folder page resolve as from a card in it.
                    let from = crate::content::CardId::new(format!("{path}/_index"))
                        .unwrap_or_else(|_| cards[0].id.clone());
                    views::render_html(&catalog, &from, m, Visible { public_only: false })
                });
            let mut crumbs = browse::breadcrumbs(&catalog, &path);
            let here = crumbs.pop();
            Some(json!({
                "title": here.map(|c| c.title).unwrap_or_else(|| path.clone()),
                "description": folder.and_then(|f| f.description.clone()),
                "intro": intro,
                "breadcrumbs": crumbs,
                "sections": sections,
                "cards": cards.iter().map(|c| browse::CardItem::of(c, today, &history)).collect::<Vec<_>>(),
                "search_url": format!("/search?collection={}", encode_component(path.split('/').next().unwrap_or(""))),
            }))
        }
    };
    match context {
        Some(context) => page(&state, StatusCode::OK, "collection.html", context),
        None => not_found(&state, &path),
    }
}

async fn all_tags(State(state): State<AppState>) -> Response {
    let tags = views::tags(&state.kb.catalog(), Visible { public_only: false });
    let tags: Vec<_> = tags
        .into_iter()
        .map(|t| json!({ "name": t.name, "cards": t.cards, "url": tag_url(&t.name) }))
        .collect();
    page(&state, StatusCode::OK, "tags.html", json!({ "tags": tags }))
}

async fn tag_page(State(state): State<AppState>, Path(tag): Path<String>) -> Response {
    let today = chrono::Local::now().date_naive();
    let cards = browse::tagged(&state.kb.catalog(), &tag, today, &state.kb.history());
    if cards.is_empty() {
        return not_found(&state, &format!("tags/{tag}"));
    }
    page(
        &state,
        StatusCode::OK,
        "tag.html",
        json!({ "tag": tag, "cards": cards, "search_url": format!("/search?tag={}", encode_component(&tag)) }),
    )
}

fn collections(state: &AppState) -> Vec<CollectionView> {
    views::collections(&state.kb.catalog(), Visible { public_only: false })
}

async fn card(
    State(state): State<AppState>,
    caller: super::access::Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    if let Some(id) = id.strip_suffix(".md") {
        return super::agents::card_markdown(&state, &caller, id)
            .unwrap_or_else(IntoResponse::into_response);
    }
    let stored = match stored_card(&state, &id) {
        Ok(stored) => stored,
        Err(answer) => return *answer,
    };
    let today = chrono::Local::now().date_naive();
    let history = state.kb.history();
    let (view, breadcrumbs, previous, next, languages) = {
        let catalog = state.kb.catalog();
        let (previous, next) = browse::neighbours(&catalog, &stored.card, today, &history);
        let languages = languages(&catalog, &stored.card);
        (
            CardView::new(
                &Reading {
                    catalog: &catalog,
                    history: &history,
                    today,
                    visible: Visible { public_only: false },
                    index: Some(&state.kb.index),
                },
                &stored.card,
                stored.markdown,
                stored.text,
            ),
            browse::breadcrumbs(&catalog, stored.card.id.folder()),
            previous,
            next,
            languages,
        )
    };
    let mut view = view;
    view.problems = state
        .kb
        .findings_of(&stored.card.id.rel_path())
        .iter()
        .map(|p| p.to_string())
        .collect();
    let related = related(&state, &stored.card, &view.headings);
    let params = Params::parse(raw.as_deref());
    state.kb.store.log_open(crate::store::OpenEvent {
        at: crate::store::now(),
        card_id: view.id.clone(),
        query: params.get("q").map(str::to_string),
        source: "site",
    });
    let (flags, flags_total) = open_flags(&state, &view);
    let tags: Vec<_> = view
        .tags
        .iter()
        .map(|t| json!({ "name": t, "url": tag_url(t) }))
        .collect();
    page(
        &state,
        StatusCode::OK,
        "card.html",
        json!({
            "card": view,
            "breadcrumbs": breadcrumbs,
            "previous": previous,
            "next": next,
            "languages": languages,
            "related": related,
            "tags": tags,
            "source_url": format!("{}.md", card_url(&stored.card.id)),
            "card_link": format!("{}{}", super::public_url(&state, &headers), card_url(&stored.card.id)),
            "flags": flags,
            "flags_total": flags_total,
            "thanks": params.get("feedback"),
        }),
    )
}

/// The card's translation family, for the language switcher and the
/// `hreflang` links: each language once (its card by id order), drafts
/// left out but for the card shown.
fn languages(
    catalog: &crate::content::Catalog,
    card: &crate::content::Card,
) -> Vec<serde_json::Value> {
    let mut seen = std::collections::BTreeSet::new();
    let mut members = catalog.family(card);
    members.sort_by(|a, b| {
        (a.id != card.id)
            .cmp(&(b.id != card.id))
            .then(a.id.cmp(&b.id))
    });
    let mut out: Vec<(String, serde_json::Value)> = members
        .into_iter()
        .filter(|c| c.id == card.id || !c.draft)
        .filter(|c| seen.insert(c.lang.clone()))
        .map(|c| {
            let value = json!({
                "lang": c.lang,
                "name": crate::content::lang::native_name(&c.lang),
                "title": c.title,
                "url": card_url(&c.id),
                "current": c.id == card.id,
            });
            (c.lang.clone(), value)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out.into_iter().map(|(_, v)| v).collect()
}

/// Open flags a card page shows, newest first; the count says how many
/// there are (20,000 flags made one page 46 MB).
const FLAGS_SHOWN: usize = 20;

/// The card page's forms: feedback (`.../feedback`) and resolving the
/// outdated flags (`.../feedback/resolve`); both go back to the card.
async fn card_form(
    State(state): State<AppState>,
    caller: super::access::Caller,
    Path(path): Path<String>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if caller.identity.is_some_and(|a| a.read_only) {
        return page(
            &state,
            StatusCode::FORBIDDEN,
            "error.html",
            json!({ "message": "You are signed in read-only: you can read, not send feedback." }),
        );
    }
    if !super::access::same_origin(&headers) {
        return page(
            &state,
            StatusCode::FORBIDDEN,
            "error.html",
            json!({ "message": "This form can only be sent from this site's own pages." }),
        );
    }
    let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let access = super::access::Access::default();
    let (id, outcome) = if let Some(id) = path.strip_suffix("/feedback/resolve") {
        (
            id,
            super::api::resolve_feedback(&state, access, id).map(|_| "resolved"),
        )
    } else if let Some(id) = path.strip_suffix("/feedback") {
        let request = super::api::FeedbackRequest {
            verdict: field("verdict").unwrap_or_default(),
            comment: field("comment"),
        };
        (
            id,
            super::api::add_feedback(&state, access, id, &request).map(|_| "thanks"),
        )
    } else {
        return not_found(&state, &path);
    };
    match outcome {
        // Post, redirect, get: a reload does not post twice.
        Ok(what) => match CardId::new(id) {
            Ok(card) => (
                StatusCode::SEE_OTHER,
                [(
                    header::LOCATION,
                    format!("{}?feedback={what}#feedback", card_url(&card)),
                )],
            )
                .into_response(),
            Err(_) => not_found(&state, id),
        },
        Err(super::error::ApiError::CardNotFound(_)) => not_found(&state, id),
        Err(e) => page(
            &state,
            e.status(),
            "error.html",
            json!({ "message": e.message() }),
        ),
    }
}

/// What readers search for and read: top queries, queries with no result,
/// queries whose results nobody opens, most-read and most-flagged cards.
async fn insights(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let params = Params::parse(raw.as_deref());
    let days = params.number("days", 30).unwrap_or(30);
    let days = u32::try_from(days).unwrap_or(u32::MAX);
    // Off the async workers: it reads every logged row of the period.
    let kb = state.kb.clone();
    let read = tokio::task::spawn_blocking(move || app::insights::report(&kb, days)).await;
    let report = match read
        .map_err(|e| e.to_string())
        .and_then(|r| r.map_err(|e| e.to_string()))
    {
        Ok(report) => report,
        Err(e) => {
            tracing::error!("reading insights: {e}");
            return page(
                &state,
                StatusCode::INTERNAL_SERVER_ERROR,
                "error.html",
                json!({ "message": "The insights could not be read." }),
            );
        }
    };
    match params.get("format") {
        Some("json") => return axum::Json(&report).into_response(),
        Some("csv") => return insights_csv(&report),
        _ => {}
    }
    let linked = |list: &[app::insights::CardCount]| -> Vec<serde_json::Value> {
        list.iter()
            .map(|c| {
                json!({
                    "id": c.id,
                    "title": c.title,
                    "url": c.card.as_ref().map(card_url),
                    "count": c.count,
                    "open": c.open,
                })
            })
            .collect()
    };
    page(
        &state,
        StatusCode::OK,
        "insights.html",
        json!({
            "days": report.days,
            "periods": app::insights::PERIODS,
            "enabled": state.kb.config.insights,
            "searches": report.searches,
            "top_queries": report.top_queries,
            "no_results": report.no_results,
            "never_opened": report.never_opened,
            "most_read": linked(&report.most_read),
            "most_flagged": linked(&report.most_flagged),
            "most_helpful": linked(&report.most_helpful),
        }),
    )
}

/// The insights as one CSV table: `list,text,count,detail`, where `text` is
/// a query or a card id and `detail` the average hits (queries) or the open
/// flags (flagged cards).
fn insights_csv(report: &app::insights::Report) -> Response {
    let mut out = String::from("list,text,count,detail\n");
    let mut row = |list: &str, text: &str, count: i64, detail: i64| {
        out.push_str(&format!("{list},{},{count},{detail}\n", csv_field(text)));
    };
    for (list, queries) in [
        ("top_queries", &report.top_queries),
        ("never_opened", &report.never_opened),
    ] {
        for q in queries {
            row(list, &q.text, q.count, q.hits);
        }
    }
    for q in &report.no_results {
        row("no_results", &q.query.text, q.query.count, 0);
    }
    for (list, cards) in [
        ("most_read", &report.most_read),
        ("most_flagged", &report.most_flagged),
        ("most_helpful", &report.most_helpful),
    ] {
        for c in cards {
            row(list, &c.id, c.count, c.open);
        }
    }
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"quire-insights.csv\"",
            ),
        ],
        out,
    )
        .into_response()
}

/// A CSV field, quoted when it must be; a leading `=`, `+`, `-` or `@` is
/// prefixed with `'` so a spreadsheet does not run a reader's query as a
/// formula.
fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// Cards like this one, by shared tags and words (the ticket matcher over
/// its title, summary, headings and first paragraph).
fn related(
    state: &AppState,
    card: &crate::content::Card,
    headings: &[views::HeadingView],
) -> Vec<views::HitView> {
    let headings: Vec<&str> = headings.iter().map(|h| h.text.as_str()).collect();
    let ticket = search::Ticket {
        subject: card.title.clone(),
        body: format!(
            "{}\n{}\n{}",
            card.summary.as_deref().unwrap_or(""),
            headings.join("\n"),
            card.first_paragraph
        ),
        tags: card.tags.clone(),
    };
    let mut request = search::SearchRequest::new("");
    request.limit = 6;
    request.snippets = false;
    let history = state.kb.history();
    match search::similar(&state.kb.index, &ticket, &request) {
        Ok(results) => results
            .hits
            .into_iter()
            .filter(|h| h.card.id != card.id && !h.card.draft)
            .take(4)
            .map(|hit| views::HitView::new(hit, &history))
            .collect(),
        Err(e) => {
            tracing::error!("related cards of {}: {e}", card.id);
            Vec::new()
        }
    }
}

/// The inbox sidebar: a compact page for an inbox's plugin iframe. Only
/// the configured inbox origins may frame it; its script and styles are
/// the theme's own files (no inline code).
async fn sidebar(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    let base = super::public_url(&state, &headers);
    // The languages cards are written in, for the agent's choice of theirs.
    let langs: std::collections::BTreeSet<String> =
        state.kb.catalog().cards().map(|c| c.lang.clone()).collect();
    let languages: Vec<_> = langs
        .iter()
        .map(|l| json!({ "lang": l, "name": crate::content::lang::native_name(l) }))
        .collect();
    let mut response = page(
        &state,
        StatusCode::OK,
        "sidebar.html",
        json!({ "base": base, "languages": languages }),
    );
    let ancestors = frame_ancestors(&state.kb.config.sidebar_frame_origins);
    let csp = format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors {ancestors}"
    );
    if let Ok(value) = axum::http::HeaderValue::from_str(&csp) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// `frame-ancestors` sources from configured origins; anything that is not
/// a plain scheme-host(-port) source is dropped rather than trusted.
fn frame_ancestors(origins: &[String]) -> String {
    let valid: Vec<&str> = origins
        .iter()
        .map(String::as_str)
        .filter(|o| {
            (o.starts_with("https://") || o.starts_with("http://"))
                && o.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:/*".contains(c))
        })
        .collect();
    if valid.is_empty() {
        "'none'".into()
    } else {
        valid.join(" ")
    }
}

async fn attachment(State(state): State<AppState>, Path(path): Path<String>) -> Response {
    let known = state.kb.catalog().has_attachment(&path);
    match known.then(|| state.kb.content.read(&path).ok()).flatten() {
        Some(bytes) => file_response(&path, bytes, false),
        None => not_found(&state, &path),
    }
}

/// A theme asset. Pages link it with its version (`?v=`, see
/// `Theme::asset_version`): that URL never changes meaning, so browsers keep
/// it for a year; any other URL of it is revalidated each time.
async fn theme_asset(
    State(state): State<AppState>,
    Path(path): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let Some(bytes) = state.theme.static_file(&path) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let asked = Params::parse(raw.as_deref()).get("v").map(str::to_string);
    let current = asked.is_some() && asked == state.theme.asset_version(&path);
    let mut response = file_response(&path, bytes, true);
    let cache = if current {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static(cache),
    );
    response
}

/// Browsers ask for `/favicon.ico` whatever the page says: the theme's icon.
async fn favicon(State(state): State<AppState>) -> Response {
    match state.theme.static_file("favicon.svg") {
        Some(bytes) => file_response("favicon.svg", bytes, true),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

/// Every collection with its description and card count.
async fn all_collections(State(state): State<AppState>) -> Response {
    page(
        &state,
        StatusCode::OK,
        "collections.html",
        json!({ "collections": collections(&state) }),
    )
}

/// The longest URL a request may have: a search box holds 4,096 characters,
/// which percent-encode to at most 36 KB.
const MAX_URI_BYTES: usize = 48 * 1024;

/// A request whose URL is too long gets a 414 that says what to do: a page
/// on the site, the JSON error on the API. (Beyond 64 KB the HTTP library
/// refuses the request before it reaches Quire, with an empty 414.)
pub fn refuse_long_url(state: &AppState, request: &axum::extract::Request) -> Option<Response> {
    let length = request
        .uri()
        .path_and_query()
        .map_or(0, |p| p.as_str().len());
    if length <= MAX_URI_BYTES {
        return None;
    }
    if request.uri().path().starts_with("/api/") {
        return Some(super::error::ApiError::UriTooLong(MAX_URI_BYTES).into_response());
    }
    Some(page(
        state,
        StatusCode::URI_TOO_LONG,
        "too-long.html",
        json!({ "bytes": length, "max_kb": MAX_URI_BYTES / 1024 }),
    ))
}

pub async fn fallback(State(state): State<AppState>, uri: axum::http::Uri) -> Response {
    not_found(&state, uri.path().trim_start_matches('/'))
}

/// Everything `quire check` reports except trust, by file: what authors
/// must fix. Live reload refreshes it as files are fixed.
async fn problems(State(state): State<AppState>) -> Response {
    let findings = state.kb.findings();
    let mut files: Vec<serde_json::Value> = Vec::new();
    let mut current: Option<(String, Vec<serde_json::Value>)> = None;
    for p in findings.iter() {
        if current.as_ref().is_none_or(|(path, _)| *path != p.path) {
            if let Some((path, list)) = current.take() {
                files.push(problem_file(&state, path, list));
            }
            current = Some((p.path.clone(), Vec::new()));
        }
        if let Some((_, list)) = current.as_mut() {
            list.push(json!({
                "line": p.line,
                "column": p.column,
                "severity": p.severity.as_str(),
                "message": p.message,
            }));
        }
    }
    if let Some((path, list)) = current.take() {
        files.push(problem_file(&state, path, list));
    }
    // What breaks the site first: files with errors, each error before its
    // warnings (the sorts are stable: paths and lines keep their order).
    let is_error = |p: &serde_json::Value| p["severity"] == "error";
    for file in &mut files {
        if let Some(list) = file["problems"].as_array_mut() {
            list.sort_by_key(|p| !is_error(p));
        }
    }
    files.sort_by_key(|f| {
        !f["problems"]
            .as_array()
            .is_some_and(|list| list.iter().any(is_error))
    });
    let errors = findings
        .iter()
        .filter(|p| p.severity == crate::content::Severity::Error)
        .count();
    page(
        &state,
        StatusCode::OK,
        "problems.html",
        json!({
            "files": files,
            "errors": errors,
            "warnings": findings.len() - errors,
            "index_failure": state.kb.index_failure().map(|f| json!({
                "message": f.message,
                "since": f.since.format("%Y-%m-%d %H:%M UTC").to_string(),
            })),
            "git_problem": state.kb.remote().and_then(|r| r.status().problem).map(|p| json!({
                "message": p.message,
                "since": p.since.format("%Y-%m-%d %H:%M UTC").to_string(),
            })),
            "index_rebuilt": state.kb.index_rebuilt().map(|r| json!({
                "cause": r.cause,
                "at": r.at.format("%Y-%m-%d %H:%M UTC").to_string(),
            })),
        }),
    )
}

/// One file on the problems page, linked to its card when it is served.
fn problem_file(
    state: &AppState,
    path: String,
    problems: Vec<serde_json::Value>,
) -> serde_json::Value {
    let url = CardId::from_rel_path(&path)
        .filter(|id| state.kb.catalog().get(id).is_some())
        .map(|id| card_url(&id));
    json!({ "path": path, "url": url, "problems": problems })
}

/// Stale and never-verified cards grouped by owner, the longest overdue
/// first: the same list as `quire check --stale`.
/// Cards on one page of `/verification`: at 10k unverified cards, one
/// page of them all was 3 MB.
const VERIFICATION_PAGE: usize = 200;

async fn verification(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let params = Params::parse(raw.as_deref());
    let today = chrono::Local::now().date_naive();
    let groups = {
        let catalog = state.kb.catalog();
        let cards: Vec<&crate::content::Card> = catalog.cards().map(|c| c.as_ref()).collect();
        crate::check::overdue(&cards, today)
    };
    let total: usize = groups.values().map(Vec::len).sum();
    let count = total.div_ceil(VERIFICATION_PAGE).max(1);
    let current = params.number("page", 1).unwrap_or(1).clamp(1, count);
    let skip = (current - 1) * VERIFICATION_PAGE;
    // The owner with the most overdue card first.
    let mut owners: Vec<(&String, &Vec<crate::check::Overdue>)> = groups.iter().collect();
    owners.sort_by_key(|(who, cards)| {
        let worst = cards.iter().filter_map(|c| c.days_overdue).max();
        (std::cmp::Reverse(worst), *who)
    });
    let mut seen = 0;
    let mut shown = Vec::new();
    for (who, cards) in owners {
        let from = skip.saturating_sub(seen).min(cards.len());
        let room = (skip + VERIFICATION_PAGE).saturating_sub(seen.max(skip));
        seen += cards.len();
        let cards: Vec<serde_json::Value> = cards[from..]
            .iter()
            .take(room)
            .map(|c| {
                json!({
                    "title": c.title,
                    "url": CardId::new(c.id.as_str()).ok().map(|id| card_url(&id)),
                    "path": c.path,
                    "verified_by": c.verified_by,
                    "since": c.since.map(|d| d.to_string()),
                    "days_overdue": c.days_overdue,
                })
            })
            .collect();
        if !cards.is_empty() {
            shown.push(json!({ "owner": who, "cards": cards, "total": groups[who].len() }));
        }
    }
    let pages = pages(count, current, |n| format!("/verification?page={n}"));
    page(
        &state,
        StatusCode::OK,
        "verification.html",
        json!({ "groups": shown, "total": total, "today": today.to_string(), "pages": pages }),
    )
}
