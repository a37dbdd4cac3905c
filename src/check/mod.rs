//! `quire check`: the whole content folder validated the way a compiler
//! does, for a pre-commit hook and CI. Reads files only (no index): every
//! card's own problems (front matter, dates, periods, alt text, language),
//! plus what needs all cards at once: links to nothing, duplicate ids and
//! aliases, stale and never-verified cards, translations (`translations`).

mod fragments;
mod names;
mod replies;
mod translations;

pub use translations::behind_their_source;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rayon::prelude::*;
use serde::Serialize;

use crate::content::card::{self, Limits};
use crate::content::scan::{ContentDir, ContentFile, FileKind};
use crate::content::synonyms;
use crate::content::{Card, Catalog, Problem, Resolved, Severity, Trust};

/// What `check` found.
#[derive(Debug, Clone, Serialize)]
pub struct Findings {
    pub problems: Vec<Problem>,
    pub cards: usize,
    pub errors: usize,
    pub warnings: usize,
}

impl Findings {
    /// `checked 59 cards: 1 error, 13 warnings`
    pub fn summary(&self) -> String {
        let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        format!(
            "checked {}: {}, {}",
            plural(self.cards, "card"),
            plural(self.errors, "error"),
            plural(self.warnings, "warning")
        )
    }
}

/// Every file under the content folder, and the cards that parsed.
struct Read {
    files: Vec<ContentFile>,
    card_files: usize,
    cards: Vec<Card>,
    /// The first 64 KiB of each card's text, by path, to find key lines.
    texts: BTreeMap<String, String>,
    /// What each card's links may point into, by path.
    anchors: BTreeMap<String, fragments::Anchors>,
    problems: Vec<Problem>,
}

fn read_all(content: &ContentDir, limits: Limits) -> Read {
    let (files, mut problems) = content.walk("");
    let mut texts: BTreeMap<String, String> = BTreeMap::new();
    let mut anchors: BTreeMap<String, fragments::Anchors> = BTreeMap::new();
    let cards: Vec<_> = files.iter().filter(|f| f.kind == FileKind::Card).collect();
    // Parsing is the cost of `quire check` on a large folder: spread it
    // over the cores (rayon keeps the results in order).
    let parsed: Vec<_> = cards
        .par_iter()
        .map(|file| {
            let bytes = match content.read_at_most(&file.rel_path, limits.max_card_bytes) {
                Ok(b) => b,
                Err(e) => {
                    return Err(Problem::error(
                        &file.rel_path,
                        0,
                        0,
                        format!("cannot read: {e}"),
                    ));
                }
            };
            let front: String =
                String::from_utf8_lossy(&bytes[..bytes.len().min(64 * 1024)]).into_owned();
            card::parse(&file.rel_path, &bytes, file.stamp, limits)
                .map(|p| {
                    let targets = fragments::Anchors {
                        ids: p.anchors.into_iter().collect(),
                        local_links: p.local_links,
                    };
                    (p.card, front, targets)
                })
                .map_err(|e| e.0)
        })
        .collect();
    let mut ok_cards: Vec<Card> = Vec::new();
    for result in parsed {
        match result {
            Ok((card, front, targets)) => {
                texts.insert(card.id.rel_path(), front);
                anchors.insert(card.id.rel_path(), targets);
                ok_cards.push(card);
            }
            Err(problem) => problems.push(problem),
        }
    }
    Read {
        card_files: cards.len(),
        files,
        cards: ok_cards,
        texts,
        anchors,
        problems,
    }
}

/// Stale and never-verified cards under `content`, grouped as [`overdue`].
pub fn stale(
    content: &ContentDir,
    limits: Limits,
    today: NaiveDate,
) -> BTreeMap<String, Vec<Overdue>> {
    let read = read_all(content, limits);
    let cards: Vec<&Card> = read.cards.iter().collect();
    overdue(&cards, today)
}

/// Checks every card under `content` as of `today`; with the folder's git
/// `history`, also translations last changed before their source.
pub fn check(
    content: &ContentDir,
    limits: Limits,
    today: NaiveDate,
    history: Option<&crate::history::History>,
) -> Findings {
    let Read {
        files,
        card_files,
        cards: ok_cards,
        texts,
        anchors,
        mut problems,
    } = read_all(content, limits);
    let mut catalog = Catalog::default();
    for file in &files {
        match file.kind {
            FileKind::Attachment => catalog.add_attachment(&file.rel_path),
            FileKind::Synonyms => match content.read_at_most(&file.rel_path, limits.max_card_bytes)
            {
                Ok(bytes) => {
                    let (groups, found) = synonyms::parse(&String::from_utf8_lossy(&bytes));
                    problems.extend(found);
                    catalog.set_synonyms(Some(groups));
                }
                Err(e) => problems.push(Problem::error(
                    &file.rel_path,
                    0,
                    0,
                    format!("cannot read: {e}"),
                )),
            },
            FileKind::FolderPage => {
                if let Ok(bytes) = content.read_at_most(&file.rel_path, limits.max_card_bytes) {
                    match card::parse_folder_page(&file.rel_path, &bytes, limits) {
                        Ok((page, page_problems)) => {
                            let folder = file
                                .rel_path
                                .rsplit_once('/')
                                .map_or("", |(folder, _)| folder);
                            catalog.set_folder(folder, page);
                            problems.extend(page_problems);
                        }
                        Err(e) => problems.push(e.0),
                    }
                }
            }
            _ => {}
        }
    }
    for card in ok_cards {
        catalog.upsert(card);
    }
    let front = |path: &str| texts.get(path).cloned().unwrap_or_default();
    problems.extend(findings(&catalog, Some(today), &front));
    problems.extend(fragments::missing(&catalog, &anchors));
    if let Some(history) = history {
        problems.extend(behind_their_source(&catalog, history));
    }
    problems.sort();
    problems.dedup();
    let errors = problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    Findings {
        warnings: problems.len() - errors,
        errors,
        cards: card_files,
        problems,
    }
}

/// What a catalog shows is wrong: each file's own problems, then what
/// needs every card at once (links to nothing, duplicate ids and aliases)
/// and, given `today`, stale and never-verified cards. `front` gives a
/// card's front matter text (by path) for the line of a key; it is called
/// only for cards with such a finding. Sorted by file and line.
pub fn findings(
    catalog: &Catalog,
    today: Option<NaiveDate>,
    front: &dyn Fn(&str) -> String,
) -> Vec<Problem> {
    findings_by(|| catalog, today, front)
}

/// `findings`, taking the catalog from `read` once to list the cards, then
/// again for each thousand of them: a server computing findings in the
/// background holds its catalog lock a few milliseconds at a time, never
/// the whole computation (at 100k cards, a write waiting for it stalled
/// every edit by a third of a second).
pub fn findings_by<C: std::ops::Deref<Target = Catalog>>(
    read: impl Fn() -> C,
    today: Option<NaiveDate>,
    front: &dyn Fn(&str) -> String,
) -> Vec<Problem> {
    let (mut problems, cards) = {
        let catalog = read();
        let problems: Vec<Problem> = catalog.problems().cloned().collect();
        let cards: Vec<std::sync::Arc<Card>> = catalog.cards().cloned().collect();
        (problems, cards)
    };
    let refs: Vec<&Card> = cards.iter().map(|c| c.as_ref()).collect();
    problems.extend(names::duplicates(&refs, front));
    problems.extend(names::duplicate_titles(&refs, front));
    problems.extend(translations::two_in_one_language(&refs));
    for chunk in cards.chunks(1000) {
        let catalog = read();
        for card in chunk {
            card_findings(&catalog, card, today, front, &mut problems);
        }
    }
    problems.sort();
    problems.dedup();
    problems
}

/// One card's broken links and, when `today` is given, its trust.
fn card_findings(
    catalog: &Catalog,
    card: &Card,
    today: Option<NaiveDate>,
    front: &dyn Fn(&str) -> String,
    problems: &mut Vec<Problem>,
) {
    let path = card.id.rel_path();
    for link in &card.links {
        if catalog.resolve(&card.id, link) == Resolved::Broken {
            problems.push(Problem::error(
                &path,
                link.line,
                1,
                format!("broken link: no card or file `{}`", link.target),
            ));
        }
    }
    translations::of_card(catalog, card, front, problems);
    replies::of_card(catalog, card, problems);
    // A plain page never opted into trust: the site marks it unverified,
    // `--stale` lists it, but the check does not warn of each one.
    let Some(today) = today.filter(|_| card.front_matter) else {
        return;
    };
    match card.verification.trust(today) {
        Trust::Verified => {}
        Trust::Stale => problems.push(Problem::warning(
            &path,
            line_of_key(&front(&path), "verified_at"),
            1,
            format!(
                "stale: verification lapsed on {}{}",
                card.verification.expiry_day().unwrap_or_default(),
                card.owner
                    .as_deref()
                    .map(|o| format!("; owner {o}"))
                    .unwrap_or_default()
            ),
        )),
        Trust::Unverified => problems.push(Problem::warning(
            &path,
            1,
            1,
            "never verified: add `verified_by` and `verified_at` once someone checks it",
        )),
    }
}

/// The 1-based line where front matter sets `key`, or 1.
pub(super) fn line_of_key(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| {
            l.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with([':', '=']))
        })
        .map_or(1, |i| i + 1)
}

/// A stale or never-verified card, for the verification list.
#[derive(Debug, Clone, Serialize)]
pub struct Overdue {
    pub id: String,
    pub path: String,
    pub title: String,
    pub owner: Option<String>,
    pub verified_by: Option<String>,
    /// When verification lapsed; `None` if never verified.
    pub since: Option<NaiveDate>,
    pub days_overdue: Option<i64>,
}

/// Stale and never-verified cards, grouped by owner (then verifier), the
/// longest overdue first within a group.
pub fn overdue(cards: &[&Card], today: NaiveDate) -> BTreeMap<String, Vec<Overdue>> {
    let mut groups: BTreeMap<String, Vec<Overdue>> = BTreeMap::new();
    for card in cards {
        let trust = card.verification.trust(today);
        if trust == Trust::Verified || card.draft {
            continue;
        }
        let since = match trust {
            Trust::Stale => card.verification.verified_until(),
            _ => None,
        };
        let who = card
            .owner
            .clone()
            .or_else(|| card.verification.verified_by.clone())
            .unwrap_or_else(|| "(no owner)".to_string());
        groups.entry(who).or_default().push(Overdue {
            id: card.id.to_string(),
            path: card.id.rel_path(),
            title: card.title.clone(),
            owner: card.owner.clone(),
            verified_by: card.verification.verified_by.clone(),
            days_overdue: since.map(|s| (today - s).num_days()),
            since,
        });
    }
    for list in groups.values_mut() {
        // Never verified first (the longest overdue of all), then by age.
        list.sort_by_key(|o| (o.since.unwrap_or(NaiveDate::MIN), o.id.clone()));
    }
    groups
}

impl Overdue {
    /// `stale for 45 days (since 2026-10-09; verified by bob@example.com)`
    /// or `never verified`.
    pub fn describe(&self) -> String {
        match (self.since, self.days_overdue) {
            (Some(since), Some(days)) => format!(
                "stale for {days} day{} (since {since}{})",
                if days == 1 { "" } else { "s" },
                self.verified_by
                    .as_deref()
                    .map(|v| format!("; verified by {v}"))
                    .unwrap_or_default()
            ),
            _ => "never verified".to_string(),
        }
    }
}

/// The verification list as text: a block per owner, then a total.
pub fn overdue_text(groups: &BTreeMap<String, Vec<Overdue>>) -> String {
    let mut out = String::new();
    let mut total = 0;
    for (who, cards) in groups {
        total += cards.len();
        let n = cards.len();
        out.push_str(&format!(
            "{who}: {n} card{}\n",
            if n == 1 { "" } else { "s" }
        ));
        for card in cards {
            out.push_str(&format!("  {}: {}\n", card.path, card.describe()));
        }
    }
    out.push_str(&match total {
        0 => "every card is verified\n".to_string(),
        1 => "1 card needs verification\n".to_string(),
        n => format!("{n} cards need verification\n"),
    });
    out
}
