//! The JSON API under `/api/v1` and `/healthz`: what the inbox sidebar and
//! scripts call. Every error is `{"code", "message"}` with its status. Each
//! handler carries its OpenAPI description (`openapi.rs` collects them and
//! serves the document).

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use super::access::Access;
use super::error::{ApiError, ErrorBody};
use super::limits::on_a_worker;
use super::params::Params;
use super::views::{
    self, CardRef, CardView, CollectionsView, FeedbackList, FeedbackView, HighlightsView,
    MatchView, Reading, SearchView, SuggestView, TagsView, Undone, Visible,
};
use crate::app::{self, search::Door, search::Log};
use crate::content::Trust;
use crate::index::StoredCard;
use crate::metrics::{GitGauges, IndexGauges};
use crate::search::{self, SearchRequest, Ticket};

/// The largest `/api/v1/match` body read (a long thread with HTML).
pub const MAX_MATCH_BODY: usize = 1024 * 1024;
/// Suggestions are for a dropdown: a few.
const MAX_SUGGESTIONS: usize = 10;
const DEFAULT_MATCHES: usize = 5;
const MAX_MATCHES: usize = 20;

/// Routes that need a token when tokens are configured.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/search", get(search))
        .route("/api/v1/suggest", get(suggest))
        .route("/api/v1/match", axum::routing::post(match_ticket))
        .route("/api/v1/collections", get(collections))
        .route("/api/v1/tags", get(tags))
        .route("/api/v1/highlights", get(highlights))
        .route("/api/v1/cards/{*id}", get(card).post(card_post))
        .route("/api/v1", get(not_found))
        .route("/api/v1/{*rest}", get(not_found).post(not_found))
}

/// Routes open to all: health and metrics (the API's own description is
/// `openapi::router`).
pub fn open_router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
}

async fn not_found() -> ApiError {
    ApiError::NotFound
}

async fn healthz(State(state): State<AppState>) -> Response {
    let kb = &state.kb;
    let git = kb.remote().map(git_health);
    if !kb.is_ready() {
        // A followed folder that has never been cloned has nothing to
        // serve: say why it is not ready (the remote cannot be reached...).
        let mut body =
            json!({ "code": "index_not_ready", "message": ApiError::NotReady.message() });
        if let Some(git) = git {
            body["git"] = git;
        }
        return (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
    }
    let cards = kb.catalog().len();
    // Still serving, so still 200: a balancer should keep sending readers.
    let mut health = match kb.index_failure() {
        None => json!({ "status": "ready", "cards": cards }),
        Some(failure) => json!({
            "status": "degraded",
            "cards": cards,
            "index_error": failure.cause,
            "index_error_since": failure.since.to_rfc3339(),
        }),
    };
    // The commit the index holds: replicas serving the same content say
    // the same here.
    health["commit"] = json!(kb.content_commit());
    // Which build answers: during a rolling upgrade, replicas differ here.
    health["version"] = json!(crate::VERSION);
    if let Some(failure) = kb.store.health() {
        health["status"] = json!("degraded");
        health["store_error"] = json!(failure.cause);
        health["store_error_since"] = json!(failure.since.to_rfc3339());
    }
    if let Some(rebuilt) = kb.index_rebuilt() {
        health["index_rebuilt"] = json!({ "cause": rebuilt.cause, "at": rebuilt.at.to_rfc3339() });
    }
    if let Some(git) = git {
        if git.get("error").is_some() {
            health["status"] = json!("degraded");
        }
        health["git"] = git;
    }
    Json(health).into_response()
}

/// Following the remote, as `/healthz` tells it: the branch, what was
/// fetched and when, and what stands in the way (a fixed phrase: no URL,
/// path or git output, as anyone may ask).
fn git_health(remote: &crate::remote::Follower) -> serde_json::Value {
    let status = remote.status();
    let mut git = json!({
        "branch": remote.branch(),
        "checked_out": status.checked_out,
        "fetched": status.fetched,
        "last_fetch": status.last_fetch.map(|t| t.to_rfc3339()),
    });
    if let Some(problem) = status.problem {
        git["error"] = json!(problem.kind.code());
        git["cause"] = json!(problem.cause);
        git["since"] = json!(problem.since.to_rfc3339());
    }
    git
}

async fn metrics(State(state): State<AppState>) -> Response {
    let kb = &state.kb;
    let gauges = IndexGauges {
        cards: kb.index.num_cards(),
        segments: kb.index.num_segments(),
        problems: kb.catalog().problems().count(),
        ready: kb.is_ready(),
    };
    let mut text = kb.metrics.render(&gauges);
    let status = kb.remote().map(|r| r.status());
    crate::metrics::render_git(
        &mut text,
        &GitGauges {
            commit: kb.content_commit(),
            following: kb.remote().map(|r| r.counts()),
            problem: status
                .as_ref()
                .and_then(|s| s.problem.as_ref())
                .map(|p| p.kind),
            last_fetch_unix: status
                .as_ref()
                .and_then(|s| s.last_fetch)
                .map(|t| t.timestamp()),
        },
    );
    text.push_str(&format!(
        "# HELP quire_requests_admitted Requests admitted to the workers and not finished.\n\
         # TYPE quire_requests_admitted gauge\nquire_requests_admitted {}\n\
         # HELP quire_event_streams Live-reload streams open.\n\
         # TYPE quire_event_streams gauge\nquire_event_streams {}\n",
        state.workers.admitted(),
        state.event_streams.in_use(),
    ));
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// The reader's languages: those chosen with `prefer_lang`, then the one
/// remembered on the site (the `quire_lang` cookie, set by its language
/// switcher), then those the browser sends in `Accept-Language`.
pub fn reader_languages(params: &Params, headers: &HeaderMap) -> Vec<String> {
    let mut langs = search::reader::from_choice(&params.all("prefer_lang").join(","));
    let remembered = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix("quire_lang="))
        .map(search::reader::from_choice)
        .unwrap_or_default();
    for lang in remembered {
        if !langs.contains(&lang) {
            langs.push(lang);
        }
    }
    let accepted = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(search::reader::from_accept_language)
        .unwrap_or_default();
    for lang in accepted {
        if !langs.contains(&lang) {
            langs.push(lang);
        }
    }
    langs
}

/// Builds a search request from query parameters and the reader's
/// languages (shared with the site).
pub fn search_request(params: &Params, headers: &HeaderMap) -> Result<SearchRequest, ApiError> {
    let mut request = SearchRequest::new(params.get("q").unwrap_or(""));
    request.collections = params.all("collection");
    request.tags = params.all("tag");
    request.langs = params.all("lang");
    request.prefer_langs = reader_languages(params, headers);
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
    request.facets = params.switch("facets", false)?;
    request.snippets = params.switch("snippets", true)?;
    Ok(request)
}

pub fn ready(state: &AppState) -> Result<(), ApiError> {
    Ok(app::search::ready(&state.kb)?)
}

/// Full-text search over the cards.
#[utoipa::path(
    get,
    path = "/api/v1/search",
    tag = "search",
    params(
        ("q" = Option<String>, Query, example = "refund annual plan", description = "What to look for. Lenient: quotes make phrases, `-word` excludes, `tag:x`, `collection:x`, `lang:x`, `trust:x` filter; the last word matches as a prefix. Over 24 words (or 160 characters) without quotes or `-word`: a pasted message, matched as `/api/v1/match` matches a ticket."),
        ("collection" = Option<String>, Query, description = "Only this collection (repeat or comma-separate for several)."),
        ("tag" = Option<String>, Query, description = "Only cards with this tag."),
        ("lang" = Option<String>, Query, description = "Only cards in this language (`en`, `ru`, `ro`, `zh`...)."),
        ("prefer_lang" = Option<String>, Query, description = "The reader's language(s), most wanted first (`ro` or `ro,en`): among equally good hits, cards in them come first. A preference, not a filter; `Accept-Language` is read too, after it."),
        ("trust" = Option<String>, Query, description = "`verified`, `stale` or `unverified`."),
        ("limit" = Option<String>, Query, description = "Hits per page, 1 to 100 (default 10)."),
        ("offset" = Option<String>, Query, description = "Hits to skip (default 0)."),
        ("facets" = Option<String>, Query, description = "`true` to count the matching cards by collection, tag, language and trust (`facets`); without it they are empty, as most callers (a sidebar, a model) show no filters."),
        ("snippets" = Option<String>, Query, description = "`false` to leave out the snippets (empty strings): less work for a caller that shows titles only."),
        ("typing" = Option<String>, Query, description = "`1` while the reader is still typing: searched, not logged for insights (send the settled query without it)."),
    ),
    responses(
        (status = 200, description = "Hits, total and facet counts", body = SearchView),
        (status = 400, description = "A malformed parameter", body = ErrorBody),
        (status = 401, description = "A token is required", body = ErrorBody),
        (status = 503, description = "The index is still being built", body = ErrorBody),
    )
)]
pub async fn search(
    State(state): State<AppState>,
    access: Access,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let params = Params::parse(raw.as_deref());
    let mut request = match search_request(&params, &headers) {
        Ok(request) => request,
        Err(e) => return e.into_response(),
    };
    request.public_only = access.public_only;
    // Each pause in typing is a request; only the settled query is a search
    // worth counting (the insights would list "r", "refn" as gaps).
    let log = match params.get("typing") {
        Some("1" | "true") => Log::No,
        _ => Log::Yes,
    };
    let view = |state: &AppState, request: &SearchRequest, results| {
        Json(SearchView::new(&request.q, results, &state.kb.history())).into_response()
    };
    if let Some(results) = app::search::search_if_cached(&state.kb, &request, Door::Api, log) {
        return view(&state, &request, results);
    }
    let worker_state = state.clone();
    on_a_worker(&state, async move {
        match app::search::search(&worker_state.kb, &request, Door::Api, log) {
            Ok(results) => view(&worker_state, &request, results),
            Err(e) => ApiError::from(e).into_response(),
        }
    })
    .await
    .unwrap_or_else(|refused| refused)
}

/// Card titles completing what is typed, for a box that updates on every key.
#[utoipa::path(
    get,
    path = "/api/v1/suggest",
    tag = "search",
    params(
        ("q" = Option<String>, Query, example = "refunds on ann", description = "The text typed so far; the last word is a prefix, typos are forgiven."),
        ("collection" = Option<String>, Query, description = "Only this collection."),
        ("lang" = Option<String>, Query, description = "Only this language."),
        ("prefer_lang" = Option<String>, Query, description = "The reader's language(s), preferred among equally good titles (see /api/v1/search)."),
    ),
    responses(
        (status = 200, description = "At most 10 suggestions, best first", body = SuggestView),
        (status = 401, description = "A token is required", body = ErrorBody),
        (status = 503, description = "The index is still being built", body = ErrorBody),
    )
)]
pub async fn suggest(
    State(state): State<AppState>,
    access: Access,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let params = Params::parse(raw.as_deref());
    let mut request = SearchRequest::new(params.get("q").unwrap_or(""));
    request.collections = params.all("collection");
    request.langs = params.all("lang");
    request.prefer_langs = reader_languages(&params, &headers);
    request.limit = MAX_SUGGESTIONS;
    request.public_only = access.public_only;
    let view = |request: &SearchRequest, results| {
        Json(SuggestView::new(&request.q, results)).into_response()
    };
    if let Some(results) = app::search::suggest_if_cached(&state.kb, &request) {
        return view(&request, results);
    }
    let kb = state.kb.clone();
    on_a_worker(&state, async move {
        match app::search::suggest(&kb, &request) {
            Ok(results) => view(&request, results),
            Err(e) => ApiError::from(e).into_response(),
        }
    })
    .await
    .unwrap_or_else(|refused| refused)
}

/// A ticket as an inbox sees it.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct MatchRequest {
    /// The ticket's subject; its words weigh more.
    #[serde(default)]
    pub subject: Option<String>,
    /// The message or conversation, HTML or text; quoted history and
    /// signatures are ignored.
    #[serde(default)]
    pub body: Option<String>,
    /// The inbox's tags on the ticket; cards with the same tag rank higher.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Hits to return, 1 to 20 (default 5).
    #[serde(default)]
    pub limit: Option<usize>,
    /// The agent's language(s), `ro` or `ro,en`, after the ticket's own:
    /// a family of translated cards is shown in the first it has.
    /// `Accept-Language` is read too, after it.
    #[serde(default)]
    pub prefer_lang: Option<String>,
}

/// Reads a JSON body of at most `max` bytes, with JSON errors.
pub async fn json_body<T: serde::de::DeserializeOwned>(
    body: Body,
    max: usize,
) -> Result<T, ApiError> {
    let bytes = axum::body::to_bytes(body, max)
        .await
        .map_err(|_| ApiError::PayloadTooLarge(max))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::InvalidBody(format!("the body is not the expected JSON: {e}")))
}

/// Runs a ticket match for `access`: shared by the API, MCP and the inbox
/// integrations.
pub fn match_cards(
    state: &AppState,
    access: Access,
    ticket: &Ticket,
    limit: usize,
    prefer_langs: Vec<String>,
) -> Result<MatchView, ApiError> {
    let mut request = SearchRequest::new("");
    request.limit = limit.clamp(1, MAX_MATCHES);
    request.public_only = access.public_only;
    request.prefer_langs = prefer_langs;
    let results = app::search::match_ticket(&state.kb, ticket, &request)?;
    let terms = results.terms.clone();
    Ok(MatchView::new(terms, results, &state.kb.history()))
}

/// The cards most likely to answer a ticket, best first.
#[utoipa::path(
    post,
    path = "/api/v1/match",
    tag = "search",
    request_body = MatchRequest,
    responses(
        (status = 200, description = "Hits in the search shape plus the ticket words each matched", body = MatchView),
        (status = 400, description = "The body is not the expected JSON", body = ErrorBody),
        (status = 401, description = "A token is required", body = ErrorBody),
        (status = 413, description = "The body is over 1 MiB", body = ErrorBody),
        (status = 503, description = "The index is still being built", body = ErrorBody),
    )
)]
pub async fn match_ticket(
    State(state): State<AppState>,
    access: Access,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<MatchView>, ApiError> {
    let request: MatchRequest = json_body(body, MAX_MATCH_BODY).await?;
    let choice = format!(
        "prefer_lang={}",
        super::urls::encode_component(request.prefer_lang.as_deref().unwrap_or(""))
    );
    let prefer = reader_languages(&Params::parse(Some(&choice)), &headers);
    ready(&state)?;
    let ticket = Ticket {
        subject: request.subject.unwrap_or_default(),
        body: request.body.unwrap_or_default(),
        tags: request.tags,
    };
    let view = match_cards(
        &state,
        access,
        &ticket,
        request.limit.unwrap_or(DEFAULT_MATCHES),
        prefer,
    )?;
    Ok(Json(view))
}

/// The collections, in their `weight` order, with card counts.
#[utoipa::path(
    get,
    path = "/api/v1/collections",
    tag = "cards",
    responses(
        (status = 200, description = "Every collection with visible cards", body = CollectionsView),
        (status = 401, description = "A token is required", body = ErrorBody),
    )
)]
pub async fn collections(State(state): State<AppState>, access: Access) -> Json<CollectionsView> {
    let visible = Visible {
        public_only: access.public_only,
    };
    Json(CollectionsView {
        collections: views::collections(&state.kb.catalog(), visible),
    })
}

/// Every tag with its card count, most used first.
#[utoipa::path(
    get,
    path = "/api/v1/tags",
    tag = "cards",
    responses(
        (status = 200, description = "Every tag on a visible card", body = TagsView),
        (status = 401, description = "A token is required", body = ErrorBody),
    )
)]
pub async fn tags(State(state): State<AppState>, access: Access) -> Json<TagsView> {
    let visible = Visible {
        public_only: access.public_only,
    };
    Json(TagsView {
        tags: views::tags(&state.kb.catalog(), visible),
    })
}

/// The card `requested` names (or names by an old alias), if the caller may
/// see it.
pub fn find_card(
    state: &AppState,
    access: Access,
    requested: &str,
) -> Result<Option<(CardView, StoredCard)>, ApiError> {
    let Some(stored) = app::cards::find(&state.kb, requested, access.public_only)? else {
        return Ok(None);
    };
    let mut view = {
        let catalog = state.kb.catalog();
        let reading = Reading {
            catalog: &catalog,
            history: &state.kb.history(),
            today: chrono::Local::now().date_naive(),
            visible: Visible {
                public_only: access.public_only,
            },
            index: Some(&state.kb.index),
        };
        CardView::new(
            &reading,
            &stored.card,
            stored.markdown.clone(),
            stored.text.clone(),
        )
    };
    let flags = app::feedback::flag_counts(&state.kb, access.public_only);
    view.outdated = app::feedback::outdated(flags.as_deref(), &stored.card);
    Ok(Some((view, stored)))
}

/// One card: metadata, the body as markdown, sanitized HTML and plain text,
/// headings, links and backlinks.
#[utoipa::path(
    get,
    path = "/api/v1/cards/{id}",
    tag = "cards",
    params(
        ("id" = String, Path, description = "The card's id: its path under `content/` without `.md` (an old id from `aliases` works too).", example = "playbooks/refunds/annual-plans"),
        ("format" = Option<String>, Query, description = "`json` (default), or `text`, `markdown` or `html` for that body alone.", example = "text"),
    ),
    responses(
        (status = 200, description = "The card", body = CardView,
         content(
            (CardView = "application/json"),
            (String = "text/plain"),
            (String = "text/markdown"),
            (String = "text/html"),
         )),
        (status = 400, description = "An unknown format", body = ErrorBody),
        (status = 401, description = "A token is required", body = ErrorBody),
        (status = 404, description = "No such card", body = ErrorBody),
    )
)]
pub async fn card(
    State(state): State<AppState>,
    access: Access,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    if let Some(card) = id.strip_suffix("/feedback") {
        return list_feedback(&state, access, card);
    }
    let params = Params::parse(raw.as_deref());
    let format = params.get("format").unwrap_or("json");
    if !matches!(format, "json" | "text" | "markdown" | "html") {
        return Err(ApiError::InvalidParameter(format!(
            "`format` must be json, text, markdown or html, got {format:?}"
        )));
    }
    let (view, _) = find_card(&state, access, &id)?.ok_or(ApiError::CardNotFound(id))?;
    if let Some(query) = params.get("q") {
        // Opened from a search (the sidebar says which): for the insights.
        state.kb.store.log_open(crate::store::OpenEvent {
            at: crate::store::now(),
            card_id: view.id.clone(),
            query: Some(query.to_string()),
            source: "api",
        });
    }
    let body = |content_type: &'static str, text: String| {
        ([(header::CONTENT_TYPE, content_type)], text).into_response()
    };
    Ok(match format {
        "text" => body("text/plain; charset=utf-8", view.text),
        "markdown" => body("text/markdown; charset=utf-8", view.markdown),
        "html" => body("text/html; charset=utf-8", view.html),
        _ => Json(view).into_response(),
    })
}

/// Feedback on a card: "helpful" or "outdated", with an optional comment.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct FeedbackRequest {
    /// `helpful` or `outdated`.
    pub verdict: String,
    /// Up to 2,000 characters.
    #[serde(default)]
    pub comment: Option<String>,
}

/// Pieces of feedback one answer lists at most, newest first.
const FEEDBACK_LISTED: usize = 200;

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Resolved {
    /// How many "outdated" flags were resolved.
    pub resolved: usize,
}

/// Stores a reader's verdict; shared with the site's form.
pub fn add_feedback(
    state: &AppState,
    access: Access,
    id: &str,
    request: &FeedbackRequest,
) -> Result<FeedbackView, ApiError> {
    let comment = request.comment.as_deref();
    let stored = app::feedback::add(&state.kb, id, access.public_only, &request.verdict, comment)?;
    let undo_token = state.sessions.undo_token(stored.id);
    Ok(FeedbackView {
        undo_token: Some(undo_token),
        ..stored.into()
    })
}

/// Feedback on a card, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/cards/{id}/feedback",
    tag = "feedback",
    params(("id" = String, Path, description = "The card's id.", example = "playbooks/refunds/annual-plans")),
    responses(
        (status = 200, description = "The card's feedback, including what it got under its old ids", body = FeedbackList),
        (status = 401, description = "A token is required", body = ErrorBody),
        (status = 403, description = "A token for public cards only: feedback is the staff's", body = ErrorBody),
        (status = 404, description = "No such card", body = ErrorBody),
        (status = 503, description = "The database cannot be used now (a full or read-only disk); retry later", body = ErrorBody),
    )
)]
pub fn list_feedback(state: &AppState, access: Access, id: &str) -> Result<Response, ApiError> {
    let (feedback, open_flags) =
        app::feedback::list(&state.kb, id, access.public_only, FEEDBACK_LISTED)?;
    Ok(Json(FeedbackList {
        feedback: feedback.into_iter().map(FeedbackView::from).collect(),
        open_flags,
    })
    .into_response())
}

/// Marks a card helpful or outdated, with an optional comment. Durable when
/// answered.
#[utoipa::path(
    post,
    path = "/api/v1/cards/{id}/feedback",
    tag = "feedback",
    params(("id" = String, Path, description = "The card's id.", example = "playbooks/refunds/annual-plans")),
    request_body = FeedbackRequest,
    responses(
        (status = 201, description = "Stored", body = FeedbackView),
        (status = 400, description = "A bad verdict or body", body = ErrorBody),
        (status = 401, description = "A token is required", body = ErrorBody),
        (status = 403, description = "A read-only token, a token for public cards only, or a page of another site", body = ErrorBody),
        (status = 404, description = "No such card", body = ErrorBody),
        (status = 503, description = "The database cannot be used now (a full or read-only disk); retry later", body = ErrorBody),
    )
)]
pub async fn card_post(
    State(state): State<AppState>,
    access: Access,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    super::access::may_write(&state, access, &headers)?;
    if let Some(id) = path.strip_suffix("/feedback/resolve") {
        return resolve_feedback(&state, access, id);
    }
    if let Some((id, feedback)) = path
        .strip_suffix("/undo")
        .and_then(|p| p.rsplit_once("/feedback/"))
    {
        let request: UndoRequest = json_body(body, 4 * 1024).await?;
        return undo_feedback(&state, access, id, feedback, &request);
    }
    let Some(id) = path.strip_suffix("/feedback") else {
        return Err(ApiError::NotFound);
    };
    let request: FeedbackRequest = json_body(body, 64 * 1024).await?;
    let stored = add_feedback(&state, access, id, &request)?;
    Ok((axum::http::StatusCode::CREATED, Json(stored)).into_response())
}

/// What takes a vote back: the `undo_token` its POST answered with.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct UndoRequest {
    pub undo_token: String,
}

/// Takes back a vote just given (the sidebar's "Undo"): only by whoever
/// holds the `undo_token` it was given with, within
/// `app::feedback::UNDO_SECONDS` of giving it.
#[utoipa::path(
    post,
    path = "/api/v1/cards/{id}/feedback/{feedback_id}/undo",
    tag = "feedback",
    params(
        ("id" = String, Path, description = "The card's id.", example = "playbooks/refunds/annual-plans"),
        ("feedback_id" = i64, Path, description = "The `id` the feedback was stored under."),
    ),
    request_body = UndoRequest,
    responses(
        (status = 200, description = "Whether the vote was taken back", body = Undone),
        (status = 400, description = "Not a feedback id, or no undo token", body = ErrorBody),
        (status = 401, description = "A token is required", body = ErrorBody),
        (status = 403, description = "A read-only token, a token for public cards only, or a page of another site", body = ErrorBody),
        (status = 404, description = "No such card", body = ErrorBody),
        (status = 503, description = "The database cannot be used now (a full or read-only disk); retry later", body = ErrorBody),
    )
)]
pub fn undo_feedback(
    state: &AppState,
    access: Access,
    id: &str,
    feedback: &str,
    request: &UndoRequest,
) -> Result<Response, ApiError> {
    let feedback: i64 = feedback
        .parse()
        .map_err(|_| ApiError::InvalidParameter(format!("{feedback:?} is not a feedback id")))?;
    if !state
        .sessions
        .undo_token_holds(feedback, &request.undo_token)
    {
        return Err(ApiError::Forbidden(
            "this undo token is not the one that vote was given with",
        ));
    }
    let undone = app::feedback::undo(&state.kb, id, access.public_only, feedback)?;
    Ok(Json(Undone { undone }).into_response())
}

/// What the sidebar shows before anything is typed: the cards read most
/// in the last 30 days and the ones updated last, those the caller may see.
#[utoipa::path(
    get,
    path = "/api/v1/highlights",
    tag = "cards",
    responses(
        (status = 200, description = "Popular and recently updated cards", body = HighlightsView),
        (status = 401, description = "A token is required", body = ErrorBody),
    )
)]
pub async fn highlights(
    State(state): State<AppState>,
    access: Access,
) -> Result<Json<HighlightsView>, ApiError> {
    const SHOWN: usize = 5;
    let visible = Visible {
        public_only: access.public_only,
    };
    let kb = state.kb.clone();
    let popular = tokio::task::spawn_blocking(move || app::insights::most_read(&kb, 30, 4 * SHOWN))
        .await
        .map_err(ApiError::internal)?
        .unwrap_or_else(|e| {
            tracing::warn!("popular cards not shown: {e}");
            Vec::new()
        });
    let catalog = state.kb.catalog();
    let shown = |id: &str| {
        let id = crate::content::CardId::new(id).ok()?;
        catalog
            .get(&id)
            .filter(|c| visible.card(c))
            .map(|c| CardRef::of(c))
    };
    let popular = popular
        .iter()
        .filter_map(|id| shown(id))
        .take(SHOWN)
        .collect();
    let today = chrono::Local::now().date_naive();
    let recent = super::browse::recently_updated(&catalog, today, &state.kb.history(), 4 * SHOWN)
        .iter()
        .filter_map(|item| shown(&item.id))
        .take(SHOWN)
        .collect();
    Ok(Json(HighlightsView { popular, recent }))
}

/// Resolves a card's open "outdated" flags (an author fixed the card).
#[utoipa::path(
    post,
    path = "/api/v1/cards/{id}/feedback/resolve",
    tag = "feedback",
    params(("id" = String, Path, description = "The card's id.", example = "playbooks/refunds/annual-plans")),
    responses(
        (status = 200, description = "How many flags were resolved", body = Resolved),
        (status = 401, description = "A token is required", body = ErrorBody),
        (status = 403, description = "A read-only token, a token for public cards only, or a page of another site", body = ErrorBody),
        (status = 404, description = "No such card", body = ErrorBody),
        (status = 503, description = "The database cannot be used now (a full or read-only disk); retry later", body = ErrorBody),
    )
)]
pub fn resolve_feedback(state: &AppState, access: Access, id: &str) -> Result<Response, ApiError> {
    let resolved = app::feedback::resolve(&state.kb, id, access.public_only)?;
    Ok(Json(Resolved { resolved }).into_response())
}
