//! MCP for AI agents: a Model Context Protocol server on `POST /mcp` over
//! the streamable HTTP transport, answering each JSON-RPC message with one
//! JSON response (no sessions, no server-sent stream). Three read-only
//! tools: `search_cards`, `get_card`, `match_ticket`. The same bearer
//! tokens as the API protect it (the router wraps it), and a scoped token
//! sees only public cards here too.

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use super::access::Access;
use super::api::{self, find_card, match_cards};
use super::error::ApiError;
use super::views::HitView;
use super::{AppState, public_url};
use crate::app::{self, search::Door, search::Log};
use crate::content::Trust;
use crate::search::{self, SearchRequest, Ticket};

/// Protocol versions this server speaks, newest first.
const VERSIONS: &[&str] = &["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];
const MAX_BODY: usize = 1024 * 1024;
const DEFAULT_HITS: usize = 5;
const MAX_HITS: usize = 20;

// JSON-RPC error codes.
const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;
const METHOD_NOT_FOUND: i64 = -32601;
const INVALID_PARAMS: i64 = -32602;

const INSTRUCTIONS: &str = "Quire holds the support team's knowledge as cards. Use \
match_ticket with a customer's message to find the cards that answer it, search_cards for \
a few words, and get_card to read one card in full before quoting it. Every card says \
whether it is verified, stale or unverified: prefer verified cards, and tell the user when \
an answer rests on a stale or unverified one.";

pub fn router() -> Router<AppState> {
    Router::new().route("/mcp", post(mcp).get(no_stream).delete(no_stream))
}

/// No server-initiated stream and no sessions to end.
async fn no_stream() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        [(header::ALLOW, "POST")],
        "this MCP server answers POST only",
    )
        .into_response()
}

async fn mcp(
    State(state): State<AppState>,
    access: Access,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if !origin_allowed(&state, &headers) {
        // DNS rebinding: a page elsewhere must not drive a local server.
        return (StatusCode::FORBIDDEN, "origin not allowed").into_response();
    }
    let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => return ApiError::PayloadTooLarge(MAX_BODY).into_response(),
    };
    let message: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => return reply(error(Value::Null, PARSE_ERROR, &format!("not JSON: {e}"))),
    };
    let Some(method) = message.get("method").and_then(Value::as_str) else {
        if message.get("id").is_some() && message.get("jsonrpc").is_some() {
            // A response to a request we never send; accepted and ignored.
            return StatusCode::ACCEPTED.into_response();
        }
        return reply(error(
            Value::Null,
            INVALID_REQUEST,
            "expected one JSON-RPC message",
        ));
    };
    let Some(id) = message.get("id").cloned() else {
        // A notification (`notifications/initialized`...): nothing to answer.
        return StatusCode::ACCEPTED.into_response();
    };
    let params = message.get("params").cloned().unwrap_or(Value::Null);
    let outcome = match method {
        "initialize" => Ok(initialize(&params)),
        "ping" => Ok(json!({})),
        "tools/list" => Ok(json!({ "tools": tools() })),
        "tools/call" => call(&state, access, &headers, &params),
        other => Err((METHOD_NOT_FOUND, format!("unknown method {other:?}"))),
    };
    reply(match outcome {
        Ok(result) => json!({ "jsonrpc": "2.0", "id": id, "result": result }),
        Err((code, message)) => error(id, code, &message),
    })
}

fn reply(body: Value) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn error(id: Value, code: i64, message: &str) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } })
}

/// No `Origin` (a server-side client), our own host, or a configured origin.
fn origin_allowed(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let same_host = host.is_some_and(|host| {
        origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(host))
    });
    same_host || state.kb.config.api.cors_origins.iter().any(|o| o == origin)
}

fn initialize(params: &Value) -> Value {
    let asked = params.get("protocolVersion").and_then(Value::as_str);
    let version = asked
        .filter(|v| VERSIONS.contains(v))
        .unwrap_or(VERSIONS[0]);
    json!({
        "protocolVersion": version,
        "capabilities": { "tools": { "listChanged": false } },
        "serverInfo": { "name": "quire", "title": "Quire knowledge base", "version": env!("CARGO_PKG_VERSION") },
        "instructions": INSTRUCTIONS,
    })
}

fn tools() -> Value {
    let filters = json!({
        "collection": { "type": "string", "description": "Only cards in this collection (a top folder such as \"playbooks\")." },
        "tag": { "type": "string", "description": "Only cards with this tag." },
        "lang": { "type": "string", "description": "Only cards in this language: en, ru, ro, zh..." },
        "prefer_lang": { "type": "string", "description": "The language the answer is wanted in (en, ru, ro, zh...): among equally good cards, those in it come first. Not a filter." },
        "trust": { "type": "string", "enum": ["verified", "stale", "unverified"], "description": "Only cards in this trust state." },
        "limit": { "type": "integer", "minimum": 1, "maximum": MAX_HITS, "description": "How many cards (default 5)." },
    });
    let mut search_props = json!({
        "query": { "type": "string", "description": "A few words, as a person would type them, in any language. \"quotes\" make a phrase, -word excludes." },
    });
    merge(&mut search_props, &filters);
    json!([
        {
            "name": "search_cards",
            "title": "Search knowledge cards",
            "description": "Full-text search over the support knowledge base. Use it for a few words or a question; returns the best cards with id, title, trust state (verified/stale/unverified), URL and a snippet. Read a card with get_card before quoting it.",
            "inputSchema": { "type": "object", "properties": search_props, "required": ["query"] },
            "annotations": { "readOnlyHint": true, "openWorldHint": false },
        },
        {
            "name": "get_card",
            "title": "Read a card",
            "description": "Reads one card in full by its id (from search_cards or match_ticket): its trust state, owner, URL, the reply text to paste to a customer, and the body as markdown or plain text.",
            "inputSchema": {
                "type": "object",
                "properties": {
                    "id": { "type": "string", "description": "The card's id, such as \"playbooks/refunds/annual-plans\"." },
                    "format": { "type": "string", "enum": ["markdown", "text"], "description": "The body as markdown (default) or plain text." },
                },
                "required": ["id"],
            },
            "annotations": { "readOnlyHint": true, "openWorldHint": false },
        },
        {
            "name": "match_ticket",
            "title": "Find cards for a ticket",
            "description": "Finds the cards most likely to answer a customer's ticket or conversation. Pass the message as received (HTML or text; quoted history and signatures are ignored) and its subject. Returns cards best first, with the ticket words each matched.",
            "inputSchema": {
                "type": "object",
                "properties": {
                    "subject": { "type": "string", "description": "The ticket's subject line." },
                    "body": { "type": "string", "description": "The customer's message or the whole conversation." },
                    "limit": { "type": "integer", "minimum": 1, "maximum": MAX_HITS, "description": "How many cards (default 5)." },
                    "prefer_lang": { "type": "string", "description": "The language the answer is wanted in, after the ticket's own (en, ru, ro, zh...): each translated card is shown once, in the first of these it exists in." },
                },
                "required": ["body"],
            },
            "annotations": { "readOnlyHint": true, "openWorldHint": false },
        },
    ])
}

fn merge(into: &mut Value, from: &Value) {
    if let (Some(into), Some(from)) = (into.as_object_mut(), from.as_object()) {
        for (k, v) in from {
            into.insert(k.clone(), v.clone());
        }
    }
}

type Outcome = Result<Value, (i64, String)>;

fn call(state: &AppState, access: Access, headers: &HeaderMap, params: &Value) -> Outcome {
    let name = params.get("name").and_then(Value::as_str).unwrap_or("");
    let args = params.get("arguments").cloned().unwrap_or(json!({}));
    let base = public_url(state, headers);
    let result = match name {
        "search_cards" => search_cards(state, access, &base, &args),
        "get_card" => get_card(state, access, &base, &args),
        "match_ticket" => match_ticket(state, access, &base, &args),
        other => return Err((INVALID_PARAMS, format!("unknown tool {other:?}"))),
    };
    // A tool that fails says so to the model, which can correct itself.
    Ok(result.unwrap_or_else(
        |message| json!({ "content": [{ "type": "text", "text": message }], "isError": true }),
    ))
}

fn string_arg<'a>(args: &'a Value, key: &str) -> Option<&'a str> {
    args.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

fn limit_arg(args: &Value) -> usize {
    args.get("limit")
        .and_then(Value::as_u64)
        .map_or(DEFAULT_HITS, |n| n as usize)
        .clamp(1, MAX_HITS)
}

fn api_error(e: ApiError) -> String {
    e.message()
}

fn search_cards(
    state: &AppState,
    access: Access,
    base: &str,
    args: &Value,
) -> Result<Value, String> {
    let query = string_arg(args, "query").ok_or("`query` is required: a few words to look for")?;
    let mut request = SearchRequest::new(query);
    request.limit = limit_arg(args);
    request.public_only = access.public_only;
    let one = |key: &str| {
        string_arg(args, key)
            .map(|v| vec![v.to_string()])
            .unwrap_or_default()
    };
    request.collections = one("collection");
    request.tags = one("tag");
    request.langs = one("lang");
    request.prefer_langs =
        search::reader::from_choice(string_arg(args, "prefer_lang").unwrap_or(""));
    if let Some(t) = string_arg(args, "trust") {
        request.trusts =
            vec![Trust::parse(t).ok_or("`trust` must be verified, stale or unverified")?];
    }
    let results = app::search::search(&state.kb, &request, Door::Mcp, Log::Yes)
        .map_err(|e| api_error(e.into()))?;
    let total = results.total;
    let hits: Vec<HitView> = results
        .hits
        .into_iter()
        .map(|hit| HitView::new(hit, &state.kb.history()))
        .collect();
    let mut text = format!("{total} cards match {query:?}.");
    if let Some(notice) = results.notice {
        text = notice.message().to_string();
    } else if let Some(fixed) = &results.did_you_mean {
        text.push_str(&format!(" Did you mean {fixed:?}?"));
    } else if hits.is_empty() {
        text.push_str(" Try other or fewer words.");
    }
    Ok(hits_result(text, base, &hits, &[]))
}

fn match_ticket(
    state: &AppState,
    access: Access,
    base: &str,
    args: &Value,
) -> Result<Value, String> {
    let body = string_arg(args, "body").ok_or("`body` is required: the customer's message")?;
    api::ready(state).map_err(api_error)?;
    let ticket = Ticket {
        subject: string_arg(args, "subject").unwrap_or("").to_string(),
        body: body.to_string(),
        tags: Vec::new(),
    };
    let prefer = search::reader::from_choice(string_arg(args, "prefer_lang").unwrap_or(""));
    let view = match_cards(state, access, &ticket, limit_arg(args), prefer).map_err(api_error)?;
    let text = if view.hits.is_empty() {
        "No card matches this ticket.".to_string()
    } else {
        format!(
            "Cards for this ticket, best first (searched for: {}).",
            view.terms.join(", ")
        )
    };
    let matched: Vec<Vec<String>> = view.hits.iter().map(|h| h.matched.clone()).collect();
    let hits: Vec<HitView> = view.hits.into_iter().map(|h| h.hit).collect();
    Ok(hits_result(text, base, &hits, &matched))
}

/// Hits as numbered text for the model, plus the same as structured content.
fn hits_result(intro: String, base: &str, hits: &[HitView], matched: &[Vec<String>]) -> Value {
    let mut text = intro;
    let mut results = Vec::new();
    for (i, hit) in hits.iter().enumerate() {
        let snippet = search::plain_snippet(&hit.snippet);
        let flagged = match hit.outdated {
            0 => String::new(),
            n => format!(", flagged outdated by {n} reader(s): check before quoting"),
        };
        text.push_str(&format!(
            "\n\n{}. {} [{}{flagged}]\n   id: {}\n   url: {base}{}\n   {}",
            i + 1,
            hit.title,
            hit.trust,
            hit.id,
            hit.url,
            snippet,
        ));
        let words = matched.get(i).cloned().unwrap_or_default();
        if !words.is_empty() {
            text.push_str(&format!("\n   matched: {}", words.join(", ")));
        }
        results.push(json!({
            "id": hit.id,
            "title": hit.title,
            "url": format!("{base}{}", hit.url),
            "trust": hit.trust,
            "outdated": hit.outdated,
            "collection": hit.collection,
            "tags": hit.tags,
            "snippet": snippet,
            "matched": words,
        }));
    }
    json!({
        "content": [{ "type": "text", "text": text }],
        "structuredContent": { "results": results },
        "isError": false,
    })
}

fn get_card(state: &AppState, access: Access, base: &str, args: &Value) -> Result<Value, String> {
    let id = string_arg(args, "id").ok_or("`id` is required: a card id from search_cards")?;
    let format = string_arg(args, "format").unwrap_or("markdown");
    if !matches!(format, "markdown" | "text") {
        return Err("`format` must be markdown or text".into());
    }
    let (view, _) = find_card(state, access, id)
        .map_err(api_error)?
        .ok_or_else(|| format!("No card has the id {id:?}. Use search_cards to find ids."))?;
    let trust = match view.trust {
        "verified" => format!(
            "verified{}{}",
            view.verified_by
                .as_ref()
                .map(|b| format!(" by {b}"))
                .unwrap_or_default(),
            view.verified_until
                .as_ref()
                .map(|u| format!(", until {u}"))
                .unwrap_or_default(),
        ),
        "stale" => format!(
            "STALE: verification lapsed{}; check before relying on it",
            view.verified_until
                .as_ref()
                .map(|u| format!(" on {u}"))
                .unwrap_or_default()
        ),
        _ => "UNVERIFIED: nobody has verified this card".to_string(),
    };
    let trust = match view.outdated {
        0 => trust,
        n => format!("{trust}; FLAGGED OUTDATED by {n} reader(s): check before quoting"),
    };
    let body = if format == "text" {
        &view.text
    } else {
        &view.markdown
    };
    let text = format!(
        "# {}\n\nid: {}\nurl: {base}{}\ntrust: {trust}\nowner: {}\nupdated: {}\n\n{}\n\n---\n\n{}",
        view.title,
        view.id,
        view.url,
        view.owner.as_deref().unwrap_or("nobody"),
        view.updated.as_deref().unwrap_or("unknown"),
        match &view.reply_text {
            Some(reply) => format!("Reply text (to paste to a customer):\n{reply}"),
            None => "This card has no customer-facing reply text: its body is written for \
                     the team. Do not paste it to a customer; send the card's link or write \
                     your own reply."
                .to_string(),
        },
        body,
    );
    Ok(json!({
        "content": [{ "type": "text", "text": text }],
        "structuredContent": {
            "id": view.id,
            "title": view.title,
            "url": format!("{base}{}", view.url),
            "trust": view.trust,
            "outdated": view.outdated,
            "owner": view.owner,
            "reply_text": view.reply_text,
        },
        "isError": false,
    }))
}
