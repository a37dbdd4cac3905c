//! Feeds for following the site: `/feed.atom` (cards changed or verified
//! lately, newest first) and `/sitemap.xml` (every page a search engine may
//! list, only on a site that needs no sign-in).

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::NaiveDate;

use super::urls::card_url;
use super::views::{self, Visible};
use super::{AppState, browse, public_url};
use crate::content::Card;
use crate::search::escape_html;

/// Entries in the feed.
const FEED_ENTRIES: usize = 30;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/feed.atom", get(feed))
        .route("/sitemap.xml", get(sitemap))
}

/// The day a card last changed or was last verified, whichever is later,
/// and which of the two it was.
fn last_news(card: &Card, history: &crate::history::History) -> Option<(NaiveDate, &'static str)> {
    let changed = browse::updated(card, history)
        .and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok())
        .map(|d| (d, "Changed"));
    let verified = card.verification.verified_at.map(|d| (d, "Verified"));
    changed.into_iter().chain(verified).max_by_key(|(d, _)| *d)
}

fn xml(content_type: &'static str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

async fn feed(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let base = public_url(&state, &headers);
    let history = state.kb.history();
    let catalog = state.kb.catalog();
    let mut news: Vec<_> = catalog
        .cards()
        .filter(|c| !c.draft)
        .filter_map(|c| last_news(c, &history).map(|(day, what)| (day, what, c)))
        .collect();
    news.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.2.id.cmp(&b.2.id)));
    news.truncate(FEED_ENTRIES);
    let updated = news
        .first()
        .map_or_else(|| "1970-01-01".to_string(), |(d, _, _)| d.to_string());
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <feed xmlns=\"http://www.w3.org/2005/Atom\">\n\
         <title>Quire: changed and verified cards</title>\n\
         <id>{base}/feed.atom</id>\n\
         <link rel=\"self\" href=\"{base}/feed.atom\"/>\n\
         <link href=\"{base}/\"/>\n\
         <updated>{updated}T00:00:00Z</updated>\n\
         <author><name>Quire</name></author>\n"
    );
    for (day, what, card) in news {
        let url = format!("{base}{}", card_url(&card.id));
        let summary = card.summary.as_deref().unwrap_or("");
        out.push_str(&format!(
            "<entry>\n<title>{title}</title>\n<id>{url}#{day}</id>\n<link href=\"{url}\"/>\n\
             <updated>{day}T00:00:00Z</updated>\n<summary>{what} on {day}. {summary}</summary>\n</entry>\n",
            title = escape_html(&card.title),
            url = escape_html(&url),
            summary = escape_html(summary),
        ));
    }
    out.push_str("</feed>\n");
    xml("application/atom+xml; charset=utf-8", out)
}

async fn sitemap(State(state): State<AppState>, headers: HeaderMap) -> Response {
    // A site behind a sign-in has nothing for a search engine.
    if state.kb.config.site.require_login {
        return (
            StatusCode::NOT_FOUND,
            "no sitemap: the site needs signing in",
        )
            .into_response();
    }
    let base = public_url(&state, &headers);
    let history = state.kb.history();
    let catalog = state.kb.catalog();
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    let mut url = |path: &str, lastmod: Option<String>| {
        out.push_str(&format!(
            "<url><loc>{}</loc>{}</url>\n",
            escape_html(&format!("{base}{path}")),
            lastmod
                .map(|d| format!("<lastmod>{d}</lastmod>"))
                .unwrap_or_default()
        ));
    };
    url("/", None);
    url("/collections", None);
    for collection in views::collections(&catalog, Visible { public_only: false }) {
        url(&collection.url, None);
    }
    let mut cards: Vec<_> = catalog.cards().filter(|c| !c.draft).collect();
    cards.sort_by(|a, b| a.id.cmp(&b.id));
    for card in cards {
        url(&card_url(&card.id), browse::updated(card, &history));
    }
    out.push_str("</urlset>\n");
    xml("application/xml; charset=utf-8", out)
}
