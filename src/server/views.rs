//! The JSON contract: what the API sends, built from domain types. A field
//! renamed in `Card` does not change the API unless it is changed here.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::content::markdown::{self, LinkKind, Target};
use crate::content::rendered::RenderKey;
use crate::content::{Card, CardId, Catalog, Resolved};
use crate::history::{Commit, History};
use crate::index::SearchIndex;
use crate::search::{Facets, Hit, Notice, SearchResults};

use super::browse;
use super::urls::{self, card_url, encode_component, file_url};

/// Search results: one page of hits, the total, and facet counts.
#[derive(Serialize, ToSchema)]
pub struct SearchView {
    /// The query as received.
    pub query: String,
    /// Cards matching, across all pages.
    pub total: usize,
    pub took_ms: f64,
    pub hits: Vec<HitView>,
    pub facets: FacetsView,
    /// Nothing matched every word, so cards matching fewer are shown.
    pub relaxed: bool,
    /// The query with its misspelt words corrected from the cards' own
    /// words, when a word matched nothing as typed.
    pub did_you_mean: Option<String>,
    /// Why nothing was searched (a query of symbols only).
    pub notice: Option<NoticeView>,
}

/// Why a search found nothing without searching.
#[derive(Serialize, ToSchema)]
pub struct NoticeView {
    /// `no_words`.
    pub code: &'static str,
    pub message: &'static str,
}

impl From<Notice> for NoticeView {
    fn from(n: Notice) -> Self {
        NoticeView {
            code: n.code(),
            message: n.message(),
        }
    }
}

/// Counts of the matching cards by each facet's values.
#[derive(Serialize, ToSchema)]
pub struct FacetsView {
    pub collection: BTreeMap<String, u64>,
    pub tag: BTreeMap<String, u64>,
    pub lang: BTreeMap<String, u64>,
    /// `verified`, `stale`, `unverified`.
    pub trust: BTreeMap<String, u64>,
}

impl From<Facets> for FacetsView {
    fn from(f: Facets) -> Self {
        FacetsView {
            collection: f.collection,
            tag: f.tag,
            lang: f.lang,
            trust: f.trust,
        }
    }
}

/// One card found.
#[derive(Serialize, ToSchema)]
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
    /// HTML-escaped text with `<mark>` around the matched words.
    pub snippet: String,
    pub score: f32,
    /// The card in other languages: a result list shows one card per
    /// translation family, in the reader's language when it has one.
    pub translations: Vec<TranslationView>,
    /// Open "outdated" flags readers left on the card (0 when none, and
    /// always 0 for a token limited to public cards).
    pub outdated: usize,
}

/// A hit's card in another language.
#[derive(Serialize, ToSchema, Debug, Clone)]
pub struct TranslationView {
    pub id: String,
    pub lang: String,
    pub title: String,
    pub url: String,
}

/// Cards that may answer a ticket, best first.
#[derive(Serialize, ToSchema)]
pub struct MatchView {
    /// The ticket's distinguishing words that were searched.
    pub terms: Vec<String>,
    pub took_ms: f64,
    pub hits: Vec<MatchHitView>,
}

/// A search hit plus why it matched.
#[derive(Serialize, ToSchema)]
pub struct MatchHitView {
    #[serde(flatten)]
    pub hit: HitView,
    /// The ticket's words this card contains.
    pub matched: Vec<String>,
}

impl MatchView {
    pub fn new(terms: Vec<String>, results: SearchResults, history: &History) -> Self {
        MatchView {
            terms,
            took_ms: results.took.as_secs_f64() * 1000.0,
            hits: results
                .hits
                .into_iter()
                .map(|mut hit| MatchHitView {
                    matched: std::mem::take(&mut hit.matched),
                    hit: HitView::new(hit, history),
                })
                .collect(),
        }
    }
}

/// Title completions for a search box.
#[derive(Serialize, ToSchema)]
pub struct SuggestView {
    pub query: String,
    pub took_ms: f64,
    pub suggestions: Vec<SuggestionView>,
}

#[derive(Serialize, ToSchema)]
pub struct SuggestionView {
    pub id: String,
    pub title: String,
    pub url: String,
    pub collection: String,
    pub trust: &'static str,
}

impl SuggestView {
    pub fn new(query: &str, results: SearchResults) -> Self {
        SuggestView {
            query: query.to_string(),
            took_ms: results.took.as_secs_f64() * 1000.0,
            suggestions: results
                .hits
                .into_iter()
                .map(|hit| SuggestionView {
                    url: card_url(&hit.card.id),
                    collection: hit.card.collection().to_string(),
                    id: hit.card.id.to_string(),
                    title: hit.card.title,
                    trust: hit.trust.as_str(),
                })
                .collect(),
        }
    }
}

/// A collection: a top folder of `content/`.
#[derive(Serialize, ToSchema)]
pub struct CollectionView {
    pub name: String,
    pub title: String,
    pub description: Option<String>,
    pub cards: usize,
    pub url: String,
}

#[derive(Serialize, ToSchema)]
pub struct CollectionsView {
    pub collections: Vec<CollectionView>,
}

#[derive(Serialize, ToSchema)]
pub struct TagView {
    pub name: String,
    pub cards: usize,
    pub url: String,
}

#[derive(Serialize, ToSchema)]
pub struct TagsView {
    pub tags: Vec<TagView>,
}

/// Which cards a caller may see (see `server::access`).
#[derive(Clone, Copy)]
pub struct Visible {
    pub public_only: bool,
}

impl Visible {
    pub fn card(self, card: &Card) -> bool {
        !self.public_only || card.is_public()
    }
}

/// The collections with visible cards, in `weight` order, then by title.
pub fn collections(catalog: &Catalog, visible: Visible) -> Vec<CollectionView> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for card in catalog.cards().filter(|c| visible.card(c)) {
        *counts.entry(card.collection().to_string()).or_default() += 1;
    }
    let out: Vec<(Option<i64>, CollectionView)> = counts
        .into_iter()
        .map(|(name, cards)| {
            let folder = catalog.folder(&name);
            let view = CollectionView {
                title: folder
                    .and_then(|f| f.title.clone())
                    .unwrap_or_else(|| name.clone()),
                description: folder.and_then(|f| f.description.clone()),
                url: urls::folder_url(&name),
                name,
                cards,
            };
            (folder.and_then(|f| f.weight), view)
        })
        .collect();
    browse::in_weight_order(out, |view| &view.title)
}

/// Every tag on a visible card, most used first.
pub fn tags(catalog: &Catalog, visible: Visible) -> Vec<TagView> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for card in catalog.cards().filter(|c| visible.card(c)) {
        for tag in &card.tags {
            *counts.entry(tag.to_lowercase()).or_default() += 1;
        }
    }
    let mut out: Vec<TagView> = counts
        .into_iter()
        .map(|(name, cards)| TagView {
            url: format!("/?q=tag:{}", encode_component(&name)),
            name,
            cards,
        })
        .collect();
    out.sort_by(|a, b| b.cards.cmp(&a.cards).then_with(|| a.name.cmp(&b.name)));
    out
}

impl SearchView {
    pub fn new(query: &str, results: SearchResults, history: &History) -> Self {
        SearchView {
            query: query.to_string(),
            total: results.total,
            took_ms: results.took.as_secs_f64() * 1000.0,
            hits: results
                .hits
                .into_iter()
                .map(|hit| HitView::new(hit, history))
                .collect(),
            facets: results.facets.into(),
            relaxed: results.relaxed,
            did_you_mean: results.did_you_mean,
            notice: results.notice.map(NoticeView::from),
        }
    }
}

impl HitView {
    pub fn new(hit: Hit, history: &History) -> Self {
        let card = hit.card;
        HitView {
            path: card.id.rel_path(),
            url: card_url(&card.id),
            collection: card.collection().to_string(),
            updated: browse::updated(&card, history),
            id: card.id.to_string(),
            title: card.title,
            summary: card.summary,
            tags: card.tags,
            lang: card.lang,
            trust: hit.trust.as_str(),
            owner: card.owner,
            snippet: hit.snippet,
            score: hit.score,
            outdated: hit.outdated,
            translations: hit
                .translations
                .into_iter()
                .map(|t| TranslationView {
                    url: card_url(&t.id),
                    id: t.id.to_string(),
                    lang: t.lang,
                    title: t.title,
                })
                .collect(),
        }
    }
}

/// A card's last commit.
#[derive(Serialize, ToSchema, Debug, Clone)]
pub struct LastChangeView {
    pub commit: String,
    pub author: String,
    pub email: String,
    /// `YYYY-MM-DD`.
    pub date: Option<String>,
    pub subject: String,
}

impl From<&Commit> for LastChangeView {
    fn from(c: &Commit) -> Self {
        LastChangeView {
            commit: c.id.clone(),
            author: c.author.clone(),
            email: c.email.clone(),
            date: c.date().map(|d| d.to_string()),
            subject: c.subject.clone(),
        }
    }
}

/// A card: metadata, and the body as markdown, sanitized HTML and text.
#[derive(Serialize, ToSchema)]
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
    /// The last commit that touched the file, when the content is in git.
    pub last_change: Option<LastChangeView>,
    /// The file's history on the forge, when known.
    pub history_url: Option<String>,
    /// Where to edit the card's file on the forge (`[git] edit_url`, or
    /// derived from the `origin` remote).
    pub edit_url: Option<String>,
    pub aliases: Vec<String>,
    pub weight: Option<i64>,
    pub draft: bool,
    pub audience: Option<String>,
    /// What an agent may paste to a customer: the card's `reply_snippet`.
    /// `null` when it has none: the summary and body are written for the
    /// team, so the link is offered instead.
    pub reply_text: Option<String>,
    /// Front matter fields Quire does not know, as given.
    #[schema(value_type = Object)]
    pub extra: BTreeMap<String, serde_json::Value>,
    pub headings: Vec<HeadingView>,
    pub links: Vec<LinkView>,
    pub backlinks: Vec<CardRef>,
    pub markdown: String,
    pub html: String,
    pub text: String,
    pub problems: Vec<String>,
    /// Open "outdated" flags readers left on the card (always 0 for a token
    /// limited to public cards).
    pub outdated: usize,
    /// The file's latest save could not be read: this is its last good
    /// version (`problems` says why).
    pub save_failed: bool,
    /// When the version shown was saved (`YYYY-MM-DD HH:MM`, server time).
    pub version_saved: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct HeadingView {
    pub level: u8,
    pub text: String,
    /// The `id` of the heading in the HTML.
    pub anchor: String,
}

#[derive(Serialize, ToSchema)]
pub struct LinkView {
    /// `wiki`, `embed`, `markdown` or `image`.
    pub kind: &'static str,
    pub target: String,
    pub line: usize,
    /// Where it goes, or `null` when it is broken.
    pub url: Option<String>,
}

#[derive(Serialize, Clone, ToSchema)]
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

/// Where a link goes for this caller: a card it may not see is no target.
fn resolve(catalog: &Catalog, from: &CardId, link: &markdown::Link, visible: Visible) -> Resolved {
    match catalog.resolve(from, link) {
        Resolved::Card(target) if !catalog.get(&target).is_some_and(|c| visible.card(c)) => {
            Resolved::Broken
        }
        resolved => resolved,
    }
}

/// Renders a card's markdown with its links resolved against the catalog,
/// or gives the HTML kept from an earlier view (see `content::rendered`).
/// Notes named by `![[note]]` are linked, not embedded: see
/// [`render_html_embedding`].
pub fn render_html(
    catalog: &Catalog,
    id: &CardId,
    markdown_text: &str,
    visible: Visible,
) -> String {
    render_html_embedding(catalog, id, markdown_text, visible, None)
}

/// `render_html`, embedding the notes `![[note]]` names with their bodies
/// from `index`. The kept HTML stays right: any change to a card moves the
/// catalog's generation.
pub fn render_html_embedding(
    catalog: &Catalog,
    id: &CardId,
    markdown_text: &str,
    visible: Visible,
    index: Option<&SearchIndex>,
) -> String {
    let key = RenderKey::new(id, markdown_text, visible.public_only);
    catalog.rendered(key, || {
        render_uncached(catalog, id, markdown_text, visible, index)
    })
}

fn render_uncached(
    catalog: &Catalog,
    id: &CardId,
    markdown_text: &str,
    visible: Visible,
    index: Option<&SearchIndex>,
) -> String {
    markdown::render_in(markdown_text, id.as_str(), &|from, link| {
        // Links in an embedded note resolve from where it is.
        let from = CardId::new(from).unwrap_or_else(|_| id.clone());
        match resolve(catalog, &from, link, visible) {
            Resolved::Card(target) if link.kind == LinkKind::Embed => {
                let title = catalog
                    .get(&target)
                    .map_or_else(|| target.to_string(), |c| c.title.clone());
                let markdown = index
                    .and_then(|index| index.card(&target).ok().flatten())
                    .map(|stored| stored.markdown);
                Target::Note {
                    id: target.to_string(),
                    href: card_url(&target),
                    title,
                    markdown,
                }
            }
            Resolved::Card(target) => {
                let title = catalog.get(&target).map(|c| c.title.clone());
                let fragment = link
                    .fragment
                    .as_deref()
                    .map(|f| format!("#{}", markdown::fragment_anchor(f)))
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
        }
    })
}

/// What a card's view is read against: the catalog and history of the
/// moment, the day trust is judged on, and what the reader may see.
pub struct Reading<'a> {
    pub catalog: &'a Catalog,
    pub history: &'a History,
    pub today: chrono::NaiveDate,
    pub visible: Visible,
    /// Where the bodies of embedded notes are read; `None` links them.
    pub index: Option<&'a SearchIndex>,
}

impl CardView {
    /// The view of `card`, whose stored body is `markdown_text` (and, as
    /// plain text, `text`).
    pub fn new(reading: &Reading, card: &Card, markdown_text: String, text: String) -> Self {
        let Reading {
            catalog,
            history,
            today,
            visible,
            index,
        } = *reading;
        let v = &card.verification;
        let problems = catalog.problems_of(&card.id.rel_path());
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
            verified_until: card.verification.expiry_day(),
            updated: browse::updated(card, history),
            last_change: history
                .last_change(&card.id.rel_path())
                .map(LastChangeView::from),
            history_url: history.history_url(&card.id.rel_path()),
            edit_url: history.edit_url(&card.id.rel_path()),
            aliases: card.aliases.clone(),
            weight: card.weight,
            draft: card.draft,
            audience: card.audience.clone(),
            reply_text: reply_text(card),
            extra: card.extra.clone(),
            headings: headings(&markdown_text),
            links: links(catalog, card, visible),
            backlinks: catalog
                .backlinks(&card.id)
                .iter()
                .filter(|c| visible.card(c))
                .map(|c| CardRef::of(c))
                .collect(),
            html: render_html_embedding(catalog, &card.id, &markdown_text, visible, index),
            markdown: markdown_text,
            text,
            problems: problems.iter().map(|p| p.to_string()).collect(),
            outdated: 0,
            save_failed: problems
                .iter()
                .any(|p| p.severity == crate::content::Severity::Error),
            version_saved: card.stamp.modified().map(|t| {
                t.with_timezone(&chrono::Local)
                    .format("%Y-%m-%d %H:%M")
                    .to_string()
            }),
        }
    }
}

/// A card's headings, read again from its markdown: the catalog does not
/// keep them.
fn headings(markdown_text: &str) -> Vec<HeadingView> {
    markdown::outline(markdown_text, 1)
        .headings
        .into_iter()
        .map(|h| HeadingView {
            level: h.level,
            text: h.text,
            anchor: h.anchor,
        })
        .collect()
}

/// A card's links, each with where it leads for this reader (`None`: broken,
/// or to a card they may not see).
fn links(catalog: &Catalog, card: &Card, visible: Visible) -> Vec<LinkView> {
    card.links
        .iter()
        .map(|l| LinkView {
            kind: match l.kind {
                LinkKind::Wiki => "wiki",
                LinkKind::Embed => "embed",
                LinkKind::Markdown => "markdown",
                LinkKind::Image => "image",
            },
            target: l.target.clone(),
            line: l.line,
            url: match resolve(catalog, &card.id, l, visible) {
                Resolved::Card(id) => Some(card_url(&id)),
                Resolved::Attachment(p) => Some(file_url(&p)),
                Resolved::Broken => None,
            },
        })
        .collect()
}

/// The text an agent may paste to a customer: the card's `reply_snippet`,
/// and nothing else (a summary or a body is internal text).
pub fn reply_text(card: &Card) -> Option<String> {
    card.reply_snippet.clone()
}

/// Feedback as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct FeedbackView {
    pub id: i64,
    pub card_id: String,
    /// `helpful` or `outdated`.
    pub verdict: &'static str,
    pub comment: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    pub resolved_at: Option<String>,
    /// Only in the answer to the POST that stored it: what takes this vote
    /// back (`POST .../feedback/{id}/undo`, within 15 minutes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub undo_token: Option<String>,
}

impl From<crate::store::Feedback> for FeedbackView {
    fn from(f: crate::store::Feedback) -> Self {
        let time = |secs: i64| {
            chrono::DateTime::from_timestamp(secs, 0)
                .map(|t| t.to_rfc3339())
                .unwrap_or_default()
        };
        FeedbackView {
            id: f.id,
            card_id: f.card_id,
            verdict: f.verdict.as_str(),
            comment: f.comment,
            created_at: time(f.created_at),
            resolved_at: f.resolved_at.map(time),
            undo_token: None,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct FeedbackList {
    /// The newest 200 at most.
    pub feedback: Vec<FeedbackView>,
    /// "Outdated" flags not yet resolved.
    pub open_flags: usize,
}

/// Whether an undo took a vote back (false: unknown, or too old).
#[derive(Serialize, ToSchema)]
pub struct Undone {
    pub undone: bool,
}

/// What the sidebar shows before anything is typed.
#[derive(Serialize, ToSchema)]
pub struct HighlightsView {
    pub popular: Vec<CardRef>,
    pub recent: Vec<CardRef>,
}
