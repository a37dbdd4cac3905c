//! Inbox apps that call Quire server to server: Help Scout's dynamic app
//! and Intercom's Canvas Kit inbox app. Each request is signed with the
//! app's secret over the exact bytes received; the signature is checked
//! (in constant time) before the body is parsed. Bearer tokens do not
//! apply here: the signature is the credential.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Json;
use axum::routing::post;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};

use super::access::Access;
use super::api::{self, match_cards};
use super::error::ApiError;
use super::views::{HitView, MatchView};
use super::{AppState, public_url};
use crate::app::{self, search::Door, search::Log};
use crate::search::{self, SearchRequest, Ticket, escape_html};

/// Inbox payloads are small; a conversation with HTML fits easily.
const MAX_BODY: usize = 512 * 1024;
const HITS: usize = 5;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/integrations/helpscout", post(helpscout))
        .route(
            "/integrations/intercom/initialize",
            post(intercom_initialize),
        )
        .route("/integrations/intercom/submit", post(intercom_submit))
}

pub(super) async fn read(body: Body) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| ApiError::PayloadTooLarge(MAX_BODY))
}

/// Whether `signature` (as `decode` reads it) is the HMAC of `body` under
/// `secret`. `verify_slice` compares in constant time.
pub(super) fn signed<M: Mac + hmac::digest::KeyInit>(
    secret: &str,
    body: &[u8],
    signature: Option<Vec<u8>>,
) -> bool {
    let Some(signature) = signature else {
        return false;
    };
    let Ok(mut mac) = <M as hmac::digest::KeyInit>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&signature).is_ok()
}

pub(super) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

fn parse(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::InvalidBody(format!("the body is not JSON: {e}")))
}

/// Help Scout's dynamic app: the open conversation in, `{"html": ...}` out.
/// Signed with `X-HelpScout-Signature`: base64 of HMAC-SHA1 of the body.
async fn helpscout(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let secret = state
        .kb
        .config
        .helpscout_secret
        .clone()
        .ok_or(ApiError::NotConfigured("the Help Scout app"))?;
    let bytes = read(body).await?;
    let signature = header(&headers, "x-helpscout-signature")
        .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok());
    if !signed::<Hmac<sha1::Sha1>>(&secret, &bytes, signature) {
        return Err(ApiError::BadSignature);
    }
    let request = parse(&bytes)?;
    let base = public_url(&state, &headers);
    // `ticket` is `false` while the agent writes a new conversation.
    let subject = request
        .pointer("/ticket/subject")
        .and_then(Value::as_str)
        .unwrap_or("");
    if subject.trim().is_empty() {
        return Ok(Json(json!({ "html": helpscout_html(&base, None) })));
    }
    api::ready(&state)?;
    let ticket = Ticket {
        subject: subject.to_string(),
        ..Ticket::default()
    };
    let matches = match_cards(&state, Access::default(), &ticket, HITS, Vec::new())?;
    Ok(Json(
        json!({ "html": helpscout_html(&base, Some(&matches)) }),
    ))
}

/// The sidebar markup Help Scout renders, in its own list classes. Titles
/// are escaped; snippets are already escaped with `<mark>`, shown as bold.
fn helpscout_html(base: &str, matches: Option<&MatchView>) -> String {
    let mut html = String::from("<h4>Suggested cards</h4>");
    let hits = matches.map(|m| m.hits.as_slice()).unwrap_or_default();
    if hits.is_empty() {
        let why = if matches.is_some() {
            "No card matches this subject."
        } else {
            "Open a conversation with a subject to see suggested cards."
        };
        html.push_str(&format!("<p class=\"muted\">{why}</p>"));
    } else {
        html.push_str("<ul class=\"c-sb-list c-sb-list--two-line\">");
        for hit in hits {
            let hit = &hit.hit;
            html.push_str(&format!(
                "<li class=\"c-sb-list-item\"><span class=\"c-sb-list-item__label\">\
                 <a href=\"{base}{url}\" target=\"_blank\">{title}</a>{badge}\
                 <span class=\"c-sb-list-item__text\">{snippet}</span></span></li>",
                url = escape_html(&hit.url),
                title = escape_html(&hit.title),
                badge = trust_badge(hit),
                snippet = hit
                    .snippet
                    .replace("<mark>", "<b>")
                    .replace("</mark>", "</b>"),
            ));
        }
        html.push_str("</ul>");
    }
    html.push_str(&format!(
        "<p><a href=\"{base}/\" target=\"_blank\">Search the knowledge base</a></p>"
    ));
    html
}

fn trust_badge(hit: &HitView) -> String {
    let trust = match hit.trust {
        "stale" => " <span class=\"badge orange\">stale</span>",
        "unverified" => " <span class=\"badge grey\">unverified</span>",
        _ => "",
    };
    format!(
        "{trust}{}",
        outdated_note(hit, " <span class=\"badge red\">", "</span>")
    )
}

/// "flagged outdated ×N" between `before` and `after`, when readers
/// flagged the card; else nothing.
fn outdated_note(hit: &HitView, before: &str, after: &str) -> String {
    match hit.outdated {
        0 => String::new(),
        1 => format!("{before}flagged outdated{after}"),
        n => format!("{before}flagged outdated ×{n}{after}"),
    }
}

/// Intercom's request check: `X-Body-Signature`, hex HMAC-SHA256 of the body.
async fn intercom_request(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<Value, ApiError> {
    let secret = state
        .kb
        .config
        .intercom_secret
        .clone()
        .ok_or(ApiError::NotConfigured("the Intercom app"))?;
    let bytes = read(body).await?;
    let signature = header(headers, "x-body-signature").and_then(crate::hex::decode);
    if !signed::<Hmac<sha2::Sha256>>(&secret, &bytes, signature) {
        return Err(ApiError::BadSignature);
    }
    parse(&bytes)
}

/// The inbox app opens on a conversation: cards matching it, and a search box.
async fn intercom_initialize(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let request = intercom_request(&state, &headers, body).await?;
    api::ready(&state)?;
    let text = |pointer: &str| {
        request
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let ticket = Ticket {
        subject: text("/conversation/source/subject"),
        body: text("/conversation/source/body"),
        tags: Vec::new(),
    };
    let base = public_url(&state, &headers);
    let hits = match_cards(&state, Access::default(), &ticket, HITS, Vec::new())?
        .hits
        .into_iter()
        .map(|h| h.hit)
        .collect::<Vec<_>>();
    Ok(Json(canvas(
        &base,
        "",
        &hits,
        "Suggested for this conversation",
    )))
}

/// The teammate searched from the app's box.
async fn intercom_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let request = intercom_request(&state, &headers, body).await?;
    let query = request
        .pointer("/input_values/q")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let mut search_request = SearchRequest::new(query.clone());
    search_request.limit = HITS;
    let results = app::search::search(&state.kb, &search_request, Door::Inbox, Log::Yes)?;
    let hits: Vec<HitView> = results
        .hits
        .into_iter()
        .map(|hit| HitView::new(hit, &state.kb.history()))
        .collect();
    let base = public_url(&state, &headers);
    Ok(Json(canvas(&base, &query, &hits, "Results")))
}

/// A Canvas Kit canvas: a search input, then each card as a linked title
/// with its trust and a plain-text snippet.
fn canvas(base: &str, query: &str, hits: &[HitView], heading: &str) -> Value {
    let mut components = vec![json!({
        "type": "input",
        "id": "q",
        "label": "Search cards",
        "placeholder": "refund annual plan",
        "value": query,
        "action": { "type": "submit" },
    })];
    if hits.is_empty() {
        components.push(json!({ "type": "text", "text": "No matching card.", "style": "muted" }));
    } else {
        components.push(json!({ "type": "text", "text": heading, "style": "header" }));
    }
    for hit in hits {
        components.push(json!({
            "type": "text",
            "text": format!("*[{}]({base}{})*", markdown_label(&hit.title), hit.url),
            "style": "paragraph",
        }));
        components.push(json!({
            "type": "text",
            "text": format!(
                "{}{} · {}",
                hit.trust,
                outdated_note(hit, " · ", ""),
                search::plain_snippet(&hit.snippet)
            ),
            "style": "muted",
        }));
    }
    json!({ "canvas": { "content": { "components": components }, "stored_data": { "q": query } } })
}

/// A title that cannot break out of a markdown link.
fn markdown_label(title: &str) -> String {
    title.replace(['[', ']', '*', '_'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_checked_over_the_exact_bytes() {
        let body = br#"{"ticket":{"subject":"refund"}}"#;
        let mut mac = <Hmac<sha1::Sha1> as hmac::digest::KeyInit>::new_from_slice(b"key").unwrap();
        mac.update(body);
        let good = mac.finalize().into_bytes().to_vec();
        assert!(signed::<Hmac<sha1::Sha1>>("key", body, Some(good.clone())));
        assert!(!signed::<Hmac<sha1::Sha1>>(
            "other",
            body,
            Some(good.clone())
        ));
        assert!(!signed::<Hmac<sha1::Sha1>>("key", b"{}", Some(good)));
        assert!(!signed::<Hmac<sha1::Sha1>>("key", body, None));
    }
}
