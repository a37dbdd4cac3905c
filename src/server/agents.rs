//! For AI agents, after the llms.txt convention: `/llms.txt` indexes the
//! collections and cards as markdown, and every card has a markdown twin
//! at its URL plus `.md` (served from `site`, which owns `/cards/`). Both
//! need a token when tokens are configured, and a scoped token sees only
//! public cards.

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::access;
use super::error::ApiError;
use super::params::Params;
use super::urls::card_url;
use super::views::{self, Visible};
use super::{AppState, public_url};
use crate::content::CardId;

pub fn router() -> Router<AppState> {
    Router::new().route("/llms.txt", get(llms_txt))
}

fn markdown(text: String) -> Response {
    (
        [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
        text,
    )
        .into_response()
}

/// Cards listed on one page of `/llms.txt`: one list of 10k cards was 2 MB,
/// more than an agent's context holds; later pages are linked at the end.
const LLMS_PAGE: usize = 500;

async fn llms_txt(
    State(state): State<AppState>,
    caller: access::Caller,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let page = Params::parse(raw.as_deref())
        .number("page", 1)
        .unwrap_or(1)
        .max(1);
    let skip = (page - 1).saturating_mul(LLMS_PAGE);
    let access = access::access(&state, &caller)?;
    let visible = Visible {
        public_only: access.public_only,
    };
    let today = chrono::Local::now().date_naive();
    let base = public_url(&state, &headers);
    let catalog = state.kb.catalog();
    let mut out = String::from(
        "# Quire knowledge base\n\n\
         > Support knowledge as cards. Each card says whether it is verified, stale or \
         unverified: prefer verified cards, and say so when an answer rests on a stale one.\n\n\
         Search with `GET /api/v1/search?q=...`, find cards for a ticket with \
         `POST /api/v1/match`, or connect an MCP client to `/mcp`. Each card below links \
         to its markdown.\n",
    );
    let mut listed = 0;
    for collection in views::collections(&catalog, visible) {
        let mut heading = format!("\n## {}\n\n", one_line(&collection.title));
        if let Some(description) = &collection.description {
            heading.push_str(&format!("{}\n\n", one_line(description)));
        }
        let mut cards: Vec<_> = catalog
            .cards()
            .filter(|c| c.collection() == collection.name && visible.card(c) && !c.draft)
            .collect();
        cards.sort_by(|a, b| {
            (a.id.folder(), a.weight.unwrap_or(i64::MAX), &a.title).cmp(&(
                b.id.folder(),
                b.weight.unwrap_or(i64::MAX),
                &b.title,
            ))
        });
        let listed_before = listed;
        listed += cards.len();
        let from = skip.saturating_sub(listed_before).min(cards.len());
        let room = (skip + LLMS_PAGE).saturating_sub(listed_before.max(skip));
        if from == cards.len() || room == 0 {
            continue;
        }
        out.push_str(&heading);
        for card in cards.into_iter().skip(from).take(room) {
            let trust = card.verification.trust(today).as_str();
            let summary = card.summary.as_deref().unwrap_or(&card.first_paragraph);
            out.push_str(&format!(
                "- [{}]({base}{}.md): {} ({trust})\n",
                one_line(&card.title).replace(['[', ']'], ""),
                card_url(&card.id),
                one_line(summary),
            ));
        }
    }
    if listed > skip + LLMS_PAGE {
        out.push_str(&format!(
            "\n## More cards\n\n- [Cards {} to {}]({base}/llms.txt?page={})\n",
            skip + LLMS_PAGE + 1,
            listed.min(skip + 2 * LLMS_PAGE),
            page + 1,
        ));
    }
    Ok(markdown(out))
}

/// Text on one line, at most about 200 characters.
fn one_line(text: &str) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &flat[..cut]),
        None => flat,
    }
}

/// `/cards/<id>.md`: the card's file as written (front matter included).
pub fn card_markdown(
    state: &AppState,
    caller: &access::Caller,
    id: &str,
) -> Result<Response, ApiError> {
    let access = access::access(state, caller)?;
    let missing = || ApiError::CardNotFound(id.to_string());
    let id = CardId::new(id).map_err(|_| missing())?;
    let rel_path = {
        let catalog = state.kb.catalog();
        let card = catalog.get(&id).ok_or_else(missing)?;
        if access.public_only && !card.is_public() {
            return Err(missing());
        }
        card.id.rel_path()
    };
    let bytes = state
        .kb
        .content
        .read_at_most(&rel_path, state.kb.config.max_card_bytes)
        .map_err(|_| missing())?;
    Ok(markdown(String::from_utf8_lossy(&bytes).into_owned()))
}
