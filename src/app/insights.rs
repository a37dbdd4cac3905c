//! What readers searched for and read over a period, for authors: the
//! store's counts, with card ids turned into the cards they name.

use serde::Serialize;

use crate::content::CardId;
use crate::index::analyzer::Analyzer;
use crate::kb::Kb;
use crate::search::{self, SearchRequest};
use crate::store::QueryCount;

use super::AppError;

/// The periods the insights page offers, in days.
pub const PERIODS: [u32; 4] = [7, 30, 90, 365];

/// Entries in each list.
const LISTED: usize = 20;

/// The insights of the last `days` days.
#[derive(Debug, Serialize)]
pub struct Report {
    pub days: u32,
    pub searches: i64,
    pub top_queries: Vec<QueryCount>,
    pub no_results: Vec<Unanswered>,
    pub never_opened: Vec<QueryCount>,
    pub most_read: Vec<CardCount>,
    pub most_flagged: Vec<CardCount>,
    pub most_helpful: Vec<CardCount>,
}

/// A search that found nothing then, and what it finds now: the cards an
/// added card or synonym group makes it find, and the synonym groups of
/// `_synonyms.yaml` its words belong to (none: a group would help).
#[derive(Debug, Serialize)]
pub struct Unanswered {
    #[serde(flatten)]
    pub query: QueryCount,
    pub found_now: usize,
    pub synonyms: Vec<Vec<String>>,
}

/// A card and how often it came up; `card` is `None` for an id that no
/// card holds any more (the count is still shown, under the old id).
#[derive(Debug, Serialize)]
pub struct CardCount {
    pub id: String,
    pub title: String,
    pub card: Option<CardId>,
    pub count: i64,
    /// Unresolved flags, for flagged cards.
    pub open: i64,
}

/// Reads the insights of the last `days` days (clamped to 1..=3650).
/// Blocking: it reads every logged row of the period.
pub fn report(kb: &Kb, days: u32) -> Result<Report, AppError> {
    let days = days.clamp(1, 3650);
    let since = crate::store::now() - i64::from(days) * 86_400;
    let read = kb.store.insights(since, LISTED)?;
    Ok(Report {
        days,
        searches: read.searches,
        most_read: titled(kb, &read.most_read),
        most_flagged: titled(kb, &read.most_flagged),
        most_helpful: titled(kb, &read.most_helpful),
        top_queries: read.top_queries,
        no_results: read
            .no_results
            .into_iter()
            .map(|q| unanswered(kb, q))
            .collect(),
        never_opened: read.never_opened,
    })
}

/// The ids of the cards read most in the last `days` days, most first.
pub fn most_read(kb: &Kb, days: u32, limit: usize) -> Result<Vec<String>, AppError> {
    let since = crate::store::now() - i64::from(days.clamp(1, 3650)) * 86_400;
    Ok(kb.store.most_read(since, limit)?)
}

fn unanswered(kb: &Kb, query: QueryCount) -> Unanswered {
    let mut request = SearchRequest::new(query.text.clone());
    request.limit = 1;
    request.snippets = false;
    let found_now = search::search(&kb.index, &request).map_or(0, |r| r.total);
    let thesaurus = kb.index.synonyms();
    let words = Analyzer::default().words(&query.text);
    let mut groups: Vec<usize> = thesaurus
        .alternatives(&words)
        .into_iter()
        .flatten()
        .map(|a| a.group)
        .collect();
    groups.sort_unstable();
    groups.dedup();
    Unanswered {
        synonyms: groups
            .into_iter()
            .filter_map(|g| thesaurus.group(g).map(|g| g.entries.clone()))
            .collect(),
        found_now,
        query,
    }
}

fn titled(kb: &Kb, counts: &[QueryCount]) -> Vec<CardCount> {
    let catalog = kb.catalog();
    counts
        .iter()
        .map(|q| {
            let card = CardId::new(q.text.as_str())
                .ok()
                .and_then(|id| catalog.get(&id).cloned());
            CardCount {
                id: q.text.clone(),
                title: card
                    .as_ref()
                    .map_or_else(|| q.text.clone(), |c| c.title.clone()),
                card: card.map(|c| c.id.clone()),
                count: q.count,
                open: q.hits,
            }
        })
        .collect()
}
