//! Reading paths through the catalog for the site: a folder's cards and
//! sections in order, breadcrumbs, previous and next, recent changes, cards
//! needing verification, cards by tag. Pure functions over the catalog.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::NaiveDate;
use serde::Serialize;

use super::urls::{card_url, folder_url};
use crate::content::{Card, Catalog, Trust};
use crate::history::History;

/// A card in a list.
#[derive(Serialize, Clone, Debug)]
pub struct CardItem {
    pub id: String,
    pub title: String,
    pub url: String,
    pub summary: Option<String>,
    pub trust: &'static str,
    pub owner: Option<String>,
    pub updated: Option<String>,
    /// For "needs verification": since when it is stale, or never verified.
    pub verified_until: Option<String>,
}

impl CardItem {
    pub fn of(card: &Card, today: NaiveDate, history: &History) -> Self {
        CardItem {
            id: card.id.to_string(),
            title: card.title.clone(),
            url: card_url(&card.id),
            summary: card.summary.clone(),
            trust: card.verification.trust(today).as_str(),
            owner: card.owner.clone(),
            updated: updated(card, history),
            verified_until: card.verification.expiry_day(),
        }
    }
}

/// A folder under a collection, as a link.
#[derive(Serialize, Clone, Debug)]
pub struct FolderItem {
    pub path: String,
    pub title: String,
    pub description: Option<String>,
    pub url: String,
    pub cards: usize,
}

/// One step of a breadcrumb trail.
#[derive(Serialize, Clone, Debug)]
pub struct Crumb {
    pub title: String,
    pub url: String,
}

/// A folder's title: its `_index.md` title, else its name.
pub fn folder_title(catalog: &Catalog, path: &str) -> String {
    catalog
        .folder(path)
        .and_then(|f| f.title.clone())
        .unwrap_or_else(|| path.rsplit('/').next().unwrap_or(path).to_string())
}

/// The trail from the collection down to `folder` (inclusive).
pub fn breadcrumbs(catalog: &Catalog, folder: &str) -> Vec<Crumb> {
    let mut crumbs = Vec::new();
    let mut path = String::new();
    for segment in folder.split('/').filter(|s| !s.is_empty()) {
        if !path.is_empty() {
            path.push('/');
        }
        path.push_str(segment);
        crumbs.push(Crumb {
            title: folder_title(catalog, &path),
            url: folder_url(&path),
        });
    }
    crumbs
}

/// Reading order: `weight` first (cards without one last), then title.
fn reading_order(a: &Card, b: &Card) -> std::cmp::Ordering {
    a.weight
        .unwrap_or(i64::MAX)
        .cmp(&b.weight.unwrap_or(i64::MAX))
        .then_with(|| a.title.to_lowercase().cmp(&b.title.to_lowercase()))
        .then_with(|| a.id.cmp(&b.id))
}

/// The cards directly in `folder`, in reading order (drafts left out).
pub fn cards_in(catalog: &Catalog, folder: &str) -> Vec<Arc<Card>> {
    let mut cards: Vec<Arc<Card>> = catalog
        .cards()
        .filter(|c| c.id.folder() == folder && !c.draft)
        .cloned()
        .collect();
    cards.sort_by(|a, b| reading_order(a, b));
    cards
}

/// The folders directly under `folder` that hold cards, in `weight` order,
/// then by title.
pub fn sections_in(catalog: &Catalog, folder: &str) -> Vec<FolderItem> {
    let prefix = format!("{folder}/");
    let mut children: BTreeSet<String> = BTreeSet::new();
    for card in catalog.cards() {
        let card_folder = card.id.folder();
        if let Some(rest) = card_folder.strip_prefix(&prefix)
            && let Some(child) = rest.split('/').next()
        {
            children.insert(format!("{prefix}{child}"));
        }
    }
    let out: Vec<(Option<i64>, FolderItem)> = children
        .into_iter()
        .map(|path| {
            let page = catalog.folder(&path);
            let under = format!("{path}/");
            let cards = catalog
                .cards()
                .filter(|c| c.id.as_str().starts_with(&under) && !c.draft)
                .count();
            let item = FolderItem {
                title: folder_title(catalog, &path),
                description: page.and_then(|p| p.description.clone()),
                url: folder_url(&path),
                cards,
                path,
            };
            (page.and_then(|p| p.weight), item)
        })
        .collect();
    in_weight_order(out, |item| &item.title)
}

/// Items by `weight` (none last), then by title.
pub fn in_weight_order<T>(mut items: Vec<(Option<i64>, T)>, title: impl Fn(&T) -> &str) -> Vec<T> {
    items.sort_by(|a, b| {
        a.0.unwrap_or(i64::MAX)
            .cmp(&b.0.unwrap_or(i64::MAX))
            .then_with(|| title(&a.1).cmp(title(&b.1)))
    });
    items.into_iter().map(|(_, item)| item).collect()
}

/// `cards` (in reading order) with one card per translation family: the
/// one in the first of the reader's languages `prefer` the family has
/// here, else its source (the card the others translate), else the first.
/// Each family keeps the place of its first card.
pub fn one_per_family(cards: Vec<Arc<Card>>, prefer: &[String]) -> Vec<Arc<Card>> {
    let rank = |card: &Card| {
        let preferred = prefer
            .iter()
            .position(|l| *l == card.lang)
            .unwrap_or(usize::MAX);
        (preferred, card.id.as_str() != card.family)
    };
    let mut chosen: Vec<Arc<Card>> = Vec::with_capacity(cards.len());
    for card in cards {
        match chosen.iter_mut().find(|c| c.family == card.family) {
            Some(kept) if rank(&card) < rank(kept) => *kept = card,
            Some(_) => {}
            None => chosen.push(card),
        }
    }
    chosen
}

/// The cards before and after `card` in its folder's reading order, among
/// the cards in its language: a reading path stays in one language.
pub fn neighbours(
    catalog: &Catalog,
    card: &Card,
    today: NaiveDate,
    history: &History,
) -> (Option<CardItem>, Option<CardItem>) {
    let mut siblings = cards_in(catalog, card.id.folder());
    siblings.retain(|c| c.lang == card.lang);
    let Some(at) = siblings.iter().position(|c| c.id == card.id) else {
        return (None, None);
    };
    let previous = at.checked_sub(1).and_then(|i| siblings.get(i));
    let next = siblings.get(at + 1);
    (
        previous.map(|c| CardItem::of(c, today, history)),
        next.map(|c| CardItem::of(c, today, history)),
    )
}

/// The most recently updated cards, newest first.
pub fn recently_updated(
    catalog: &Catalog,
    today: NaiveDate,
    history: &History,
    limit: usize,
) -> Vec<CardItem> {
    // `updated` in front matter wins; else the last commit; else the file's
    // modification time. Keys are computed once per card, not per comparison.
    let mut cards: Vec<_> = catalog
        .cards()
        .filter(|c| !c.draft)
        .map(|c| {
            let key = (updated(c, history).unwrap_or_default(), c.stamp.mtime_ns);
            (std::cmp::Reverse(key), c)
        })
        .collect();
    first_in_order(&mut cards, limit, |(a_key, a), (b_key, b)| {
        a_key.cmp(b_key).then_with(|| a.id.cmp(&b.id))
    })
    .iter()
    .map(|(_, c)| CardItem::of(c, today, history))
    .collect()
}

/// Stale cards (longest overdue first), then never-verified ones: the
/// first `limit` of them as items, and how many there are in all. Only the
/// cards shown become items (with 10k unverified cards, making them all
/// took most of the home page's time).
pub fn needing_verification(
    catalog: &Catalog,
    today: NaiveDate,
    history: &History,
    limit: usize,
) -> (Vec<CardItem>, usize) {
    let mut cards: Vec<_> = catalog
        .cards()
        .filter(|c| !c.draft && c.verification.trust(today) != Trust::Verified)
        .map(|c| {
            let key = match c.verification.verified_until() {
                Some(until) if c.verification.trust(today) == Trust::Stale => (0, until),
                _ => (1, NaiveDate::MIN),
            };
            (key, c)
        })
        .collect();
    let total = cards.len();
    let shown = first_in_order(&mut cards, limit, |(a_key, a), (b_key, b)| {
        a_key.cmp(b_key).then_with(|| a.id.cmp(&b.id))
    })
    .iter()
    .map(|(_, c)| CardItem::of(c, today, history))
    .collect();
    (shown, total)
}

/// The first `n` of `items` in `order`, sorted, without sorting the rest.
fn first_in_order<T>(
    items: &mut [T],
    n: usize,
    order: impl Fn(&T, &T) -> std::cmp::Ordering,
) -> &[T] {
    if n == 0 {
        return &[];
    }
    if items.len() > n {
        items.select_nth_unstable_by(n - 1, &order);
    }
    let shown = n.min(items.len());
    let first = &mut items[..shown];
    first.sort_by(&order);
    first
}

/// Cards carrying `tag` (any case), by title.
pub fn tagged(catalog: &Catalog, tag: &str, today: NaiveDate, history: &History) -> Vec<CardItem> {
    let mut cards: Vec<&Arc<Card>> = catalog
        .cards()
        .filter(|c| !c.draft && c.tags.iter().any(|t| t.eq_ignore_ascii_case(tag)))
        .collect();
    cards.sort_by_key(|c| c.title.to_lowercase());
    cards
        .into_iter()
        .map(|c| CardItem::of(c, today, history))
        .collect()
}

/// The day a card last changed: `updated` in its front matter, else its
/// last commit, else the file's modification time.
pub fn updated(card: &Card, history: &History) -> Option<String> {
    if let Some(d) = card.updated {
        return Some(d.to_string());
    }
    if let Some(day) = history
        .last_change(&card.id.rel_path())
        .and_then(|c| c.date())
    {
        return Some(day.to_string());
    }
    card.stamp.modified().map(|t| t.date_naive().to_string())
}
