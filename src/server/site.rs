//! The HTML site: the search page, card pages, attachments and theme assets,
//! rendered through the theme. Errors are themed pages, not JSON.

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use super::AppState;
use super::api::search_request;
use super::files::{file_response, read_under};
use super::params::Params;
use super::views::{self, CardView, CollectionView, SearchView, Visible, card_url};
use crate::content::CardId;
use crate::search;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/sidebar", get(sidebar))
        .route("/cards/{*id}", get(card))
        .route("/files/{*path}", get(attachment))
        .route("/static/{*path}", get(theme_asset))
}

/// A themed page, or when the template itself fails, a plain page that names
/// the template, line and cause (and the log says the same).
fn page(
    state: &AppState,
    status: StatusCode,
    template: &str,
    context: serde_json::Value,
) -> Response {
    match state.theme.render(template, context) {
        Ok(html) => (status, Html(html)).into_response(),
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

fn not_found(state: &AppState, missing: &str) -> Response {
    page(
        state,
        StatusCode::NOT_FOUND,
        "404.html",
        json!({ "missing": missing, "query": missing.replace(['/', '-', '_'], " ") }),
    )
}

async fn home(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let params = Params::parse(raw.as_deref());
    let query = params.get("q").unwrap_or("").to_string();
    let results = if query.trim().is_empty() || !state.kb.is_ready() {
        None
    } else {
        // A bad `limit` on the site is not worth an error page: use defaults.
        let mut request =
            search_request(&params).unwrap_or_else(|_| search::SearchRequest::new(query.clone()));
        request.limit = request.limit.min(20);
        match search::search(&state.kb.index, &request) {
            Ok(r) => {
                state.kb.metrics.search(r.took);
                Some(SearchView::new(&query, r))
            }
            Err(e) => {
                tracing::error!("search failed: {e}");
                None
            }
        }
    };
    page(
        &state,
        StatusCode::OK,
        "search.html",
        json!({
            "query": query,
            "collections": if results.is_none() { collections(&state) } else { Vec::new() },
            "results": results,
            "ready": state.kb.is_ready(),
        }),
    )
}

fn collections(state: &AppState) -> Vec<CollectionView> {
    views::collections(&state.kb.catalog(), Visible { public_only: false })
}

async fn card(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Some(id) = id.strip_suffix(".md") {
        return super::agents::card_markdown(&state, &headers, id)
            .unwrap_or_else(IntoResponse::into_response);
    }
    let Ok(requested) = CardId::new(id.trim_end_matches('/')) else {
        return not_found(&state, &id);
    };
    let moved = {
        let catalog = state.kb.catalog();
        if catalog.get(&requested).is_some() {
            None
        } else {
            Some(catalog.moved_to(requested.as_str()).cloned())
        }
    };
    match moved {
        None => {}
        // 301, not axum's 308: an old id is gone for good, and crawlers and
        // link checkers know 301 best.
        Some(Some(current)) => {
            return (
                StatusCode::MOVED_PERMANENTLY,
                [(header::LOCATION, card_url(&current))],
            )
                .into_response();
        }
        Some(None) => return not_found(&state, requested.as_str()),
    }
    let stored = match state.kb.index.card(&requested) {
        Ok(Some(stored)) => stored,
        Ok(None) => return not_found(&state, requested.as_str()),
        Err(e) => {
            tracing::error!("reading card {requested}: {e}");
            return page(
                &state,
                StatusCode::INTERNAL_SERVER_ERROR,
                "error.html",
                json!({ "message": "This card could not be read." }),
            );
        }
    };
    let today = chrono::Local::now().date_naive();
    let view = {
        let catalog = state.kb.catalog();
        CardView::new(
            &catalog,
            &stored.card,
            stored.markdown,
            stored.text,
            today,
            Visible { public_only: false },
        )
    };
    page(&state, StatusCode::OK, "card.html", json!({ "card": view }))
}

/// The inbox sidebar: a compact page for an inbox's plugin iframe. Only
/// the configured inbox origins may frame it; its script and styles are
/// the theme's own files (no inline code).
async fn sidebar(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    let base = super::public_url(&state, &headers);
    let mut response = page(
        &state,
        StatusCode::OK,
        "sidebar.html",
        json!({ "base": base }),
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

async fn theme_asset(State(state): State<AppState>, Path(path): Path<String>) -> Response {
    match read_under(&state.theme.static_dir(), &path) {
        Some(bytes) => file_response(&path, bytes, true),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

pub async fn fallback(State(state): State<AppState>, uri: axum::http::Uri) -> Response {
    not_found(&state, uri.path().trim_start_matches('/'))
}
