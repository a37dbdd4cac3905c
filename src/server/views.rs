//! The JSON contract: what the API sends, built from domain types. A field
//! renamed in `Card` does not change the API unless it is changed here.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::content::markdown::{self, Target};
use crate::content::{Card, CardId, Catalog, Resolved};
use crate::search::{Facets, Hit, SearchResults};

#[derive(Serialize)]
pub struct SearchView {
    pub query: String,
    pub total: usize,
    pub took_ms: f64,
    pub hits: Vec<HitView>,
    pub facets: Facets,
    pub relaxed: bool,
}

#[derive(Serialize)]
pub struct HitView {
    pub id: String,
    pub path: String,
    pub title: String,
    pub summary: Option<String>,
    pub collection: String,
    pub tags: Vec<String>,
    pub lang: String,
    pub trust: &'static str,
    pub owner: Option<String>,
    pub updated: Option<String>,
    pub url: String,
    pub snippet: String,
    pub score: f32,
}

impl SearchView {
    pub fn new(query: &str, results: SearchResults) -> Self {
        SearchView {
            query: query.to_string(),
            total: results.total,
            took_ms: results.took.as_secs_f64() * 1000.0,
            hits: results.hits.into_iter().map(HitView::from).collect(),
            facets: results.facets,
            relaxed: results.relaxed,
        }
    }
}

impl From<Hit> for HitView {
    fn from(hit: Hit) -> Self {
        let card = hit.card;
        HitView {
            path: card.id.rel_path(),
            url: card_url(&card.id),
            collection: card.collection().to_string(),
            updated: updated(&card),
            id: card.id.to_string(),
            title: card.title,
            summary: card.summary,
            tags: card.tags,
            lang: card.lang,
            trust: hit.trust.as_str(),
            owner: card.owner,
            snippet: hit.snippet,
            score: hit.score,
        }
    }
}

/// The day a card last changed: `updated` in its front matter, else the
/// file's modification time.
pub fn updated(card: &Card) -> Option<String> {
    if let Some(d) = card.updated {
        return Some(d.to_string());
    }
    let secs = i64::try_from(card.stamp.mtime_ns / 1_000_000_000).ok()?;
    chrono::DateTime::from_timestamp(secs, 0).map(|t| t.date_naive().to_string())
}

/// `/cards/<id>` with each segment percent-encoded.
pub fn card_url(id: &CardId) -> String {
    format!("/cards/{}", encode_path(id.as_str()))
}

pub fn file_url(rel_path: &str) -> String {
    format!("/files/{}", encode_path(rel_path))
}

/// Percent-encodes a path, keeping `/` between segments.
pub fn encode_path(path: &str) -> String {
    percent_encode(path, b"-._~/")
}

/// Percent-encodes a query-string value or a single path segment.
pub fn encode_component(value: &str) -> String {
    percent_encode(value, b"-._~")
}

fn percent_encode(text: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || keep.contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[derive(Serialize)]
pub struct CardView {
    pub id: String,
    pub path: String,
    pub url: String,
    pub title: String,
    pub summary: Option<String>,
    pub collection: String,
    pub sections: Vec<String>,
    pub tags: Vec<String>,
    pub lang: String,
    pub trust: &'static str,
    pub owner: Option<String>,
    pub verified_by: Option<String>,
    pub verified_at: Option<String>,
    pub verified_until: Option<String>,
    pub updated: Option<String>,
    pub aliases: Vec<String>,
    pub weight: Option<i64>,
    pub draft: bool,
    pub audience: Option<String>,
    pub reply_text: String,
    pub extra: BTreeMap<String, serde_json::Value>,
    pub headings: Vec<markdown::Heading>,
    pub links: Vec<LinkView>,
    pub backlinks: Vec<CardRef>,
    pub markdown: String,
    pub html: String,
    pub text: String,
    pub problems: Vec<String>,
}

#[derive(Serialize)]
pub struct LinkView {
    pub kind: markdown::LinkKind,
    pub target: String,
    pub line: usize,
    /// Where it goes, or `null` when it is broken.
    pub url: Option<String>,
}

#[derive(Serialize, Clone)]
pub struct CardRef {
    pub id: String,
    pub title: String,
    pub url: String,
}

impl CardRef {
    pub fn of(card: &Card) -> Self {
        CardRef {
            id: card.id.to_string(),
            title: card.title.clone(),
            url: card_url(&card.id),
        }
    }
}

/// Renders a card's markdown with its links resolved against the catalog.
pub fn render_html(catalog: &Catalog, id: &CardId, markdown_text: &str) -> String {
    markdown::render(markdown_text, &|link| match catalog.resolve(id, link) {
        Resolved::Card(target) => {
            let title = catalog.get(&target).map(|c| c.title.clone());
            let fragment = link
                .fragment
                .as_deref()
                .map(|f| format!("#{}", markdown::slug(f)))
                .unwrap_or_default();
            Target::Url {
                href: format!("{}{fragment}", card_url(&target)),
                title,
            }
        }
        Resolved::Attachment(path) => Target::Url {
            href: file_url(&path),
            title: None,
        },
        Resolved::Broken => Target::Broken,
    })
}

impl CardView {
    pub fn new(
        catalog: &Catalog,
        card: &Card,
        markdown_text: String,
        text: String,
        today: chrono::NaiveDate,
    ) -> Self {
        let links = card
            .links
            .iter()
            .map(|l| LinkView {
                kind: l.kind,
                target: l.target.clone(),
                line: l.line,
                url: match catalog.resolve(&card.id, l) {
                    Resolved::Card(id) => Some(card_url(&id)),
                    Resolved::Attachment(p) => Some(file_url(&p)),
                    Resolved::Broken => None,
                },
            })
            .collect();
        let v = &card.verification;
        CardView {
            id: card.id.to_string(),
            path: card.id.rel_path(),
            url: card_url(&card.id),
            title: card.title.clone(),
            summary: card.summary.clone(),
            collection: card.collection().to_string(),
            sections: card.sections().iter().map(|s| s.to_string()).collect(),
            tags: card.tags.clone(),
            lang: card.lang.clone(),
            trust: v.trust(today).as_str(),
            owner: card.owner.clone(),
            verified_by: v.verified_by.clone(),
            verified_at: v.verified_at.map(|d| d.to_string()),
            verified_until: v
                .verified_until()
                .filter(|d| *d != chrono::NaiveDate::MAX)
                .map(|d| d.to_string()),
            updated: updated(card),
            aliases: card.aliases.clone(),
            weight: card.weight,
            draft: card.draft,
            audience: card.audience.clone(),
            reply_text: reply_text(card),
            extra: card.extra.clone(),
            headings: card.headings.clone(),
            links,
            backlinks: catalog
                .backlinks(&card.id)
                .iter()
                .map(|c| CardRef::of(c))
                .collect(),
            html: render_html(catalog, &card.id, &markdown_text),
            markdown: markdown_text,
            text,
            problems: catalog
                .problems_of(&card.id.rel_path())
                .iter()
                .map(|p| p.to_string())
                .collect(),
        }
    }
}

/// The text an agent pastes into a reply: `reply_snippet`, else the summary,
/// else the first paragraph.
pub fn reply_text(card: &Card) -> String {
    card.reply_snippet
        .clone()
        .or_else(|| card.summary.clone())
        .unwrap_or_else(|| card.first_paragraph.clone())
}
