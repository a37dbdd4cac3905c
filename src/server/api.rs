//! The JSON API under `/api/v1` and `/healthz`: what the inbox sidebar and
//! scripts call. Every error is `{"code", "message"}` with its status.

use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::AppState;
use super::error::ApiError;
use super::params::Params;
use super::views::{CardView, SearchView};
use crate::content::{CardId, Trust};
use crate::metrics::IndexGauges;
use crate::search::{self, SearchRequest};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/v1/search", get(search))
        .route("/api/v1/cards/{*id}", get(card))
        .route("/api/v1", get(not_found))
        .route("/api/v1/{*rest}", get(not_found).post(not_found))
}

async fn not_found() -> ApiError {
    ApiError::NotFound
}

async fn healthz(State(state): State<AppState>) -> Response {
    if !state.kb.is_ready() {
        return ApiError::NotReady.into_response();
    }
    Json(json!({ "status": "ready", "cards": state.kb.catalog().len() })).into_response()
}

async fn metrics(State(state): State<AppState>) -> Response {
    let kb = &state.kb;
    let gauges = IndexGauges {
        cards: kb.index.num_cards(),
        segments: kb.index.num_segments(),
        problems: kb.catalog().problems().count(),
        ready: kb.is_ready(),
    };
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        kb.metrics.render(&gauges),
    )
        .into_response()
}

/// Builds a search request from query parameters (shared with the site).
pub fn search_request(params: &Params) -> Result<SearchRequest, ApiError> {
    let mut request = SearchRequest::new(params.get("q").unwrap_or(""));
    request.collections = params.all("collection");
    request.tags = params.all("tag");
    request.langs = params.all("lang");
    for t in params.all("trust") {
        let trust = Trust::parse(&t).ok_or_else(|| {
            ApiError::InvalidParameter(format!(
                "`trust` must be verified, stale or unverified, got {t:?}"
            ))
        })?;
        request.trusts.push(trust);
    }
    request.limit = params.number("limit", 10)?.clamp(1, search::MAX_LIMIT);
    request.offset = params.number("offset", 0)?.min(search::MAX_OFFSET);
    Ok(request)
}

async fn search(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<SearchView>, ApiError> {
    if !state.kb.is_ready() {
        return Err(ApiError::NotReady);
    }
    let params = Params::parse(raw.as_deref());
    let request = search_request(&params)?;
    let results = search::search(&state.kb.index, &request).map_err(ApiError::internal)?;
    state.kb.metrics.search(results.took);
    Ok(Json(SearchView::new(&request.q, results)))
}

async fn card(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let params = Params::parse(raw.as_deref());
    let missing = || ApiError::CardNotFound(id.clone());
    let requested = CardId::new(id.trim_end_matches('/')).map_err(|_| missing())?;
    let current = {
        let catalog = state.kb.catalog();
        if catalog.get(&requested).is_some() {
            Some(requested)
        } else {
            catalog.moved_to(requested.as_str()).cloned()
        }
    };
    let id = current.ok_or_else(missing)?;
    let stored = state
        .kb
        .index
        .card(&id)
        .map_err(ApiError::internal)?
        .ok_or_else(missing)?;
    let today = chrono::Local::now().date_naive();
    let view = {
        let catalog = state.kb.catalog();
        CardView::new(&catalog, &stored.card, stored.markdown, stored.text, today)
    };
    let format = params.get("format").unwrap_or("json");
    Ok(match format {
        "json" => Json(view).into_response(),
        "text" => (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            view.text,
        )
            .into_response(),
        "markdown" => (
            [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
            view.markdown,
        )
            .into_response(),
        "html" => (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            view.html,
        )
            .into_response(),
        other => {
            return Err(ApiError::InvalidParameter(format!(
                "`format` must be json, text, markdown or html, got {other:?}"
            )));
        }
    })
}
