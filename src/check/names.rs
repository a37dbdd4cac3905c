//! Names two cards claim at once: ids that differ only in case, an alias
//! that is another card's id or another card's alias in the same
//! language, and a title two cards share, which leaves `[[Title]]`
//! ambiguous. Each is reported on the card that made the clash, the one
//! changed last, since that is where the author is working.

use std::collections::{BTreeMap, HashSet};

use crate::content::{Card, Problem};

/// Oldest change first, then by id: who claimed a name first keeps it.
fn by_age<'c>(cards: &[&'c Card]) -> Vec<&'c Card> {
    let mut sorted = cards.to_vec();
    sorted.sort_by(|a, b| (a.stamp.mtime_ns, &a.id).cmp(&(b.stamp.mtime_ns, &b.id)));
    sorted
}

fn key(s: &str) -> String {
    crate::content::card_id::nfc(s.trim()).to_lowercase()
}

/// Two cards claiming one id: an alias naming another card, an alias on
/// two cards of one language, or ids that differ only in case (one file on
/// macOS and Windows). Translations may share an alias: a link resolves in
/// its own language first.
pub(super) fn duplicates(cards: &[&Card], front: &dyn Fn(&str) -> String) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut by_lower: BTreeMap<String, &Card> = BTreeMap::new();
    let mut by_id: Vec<&Card> = cards.to_vec();
    by_id.sort_by(|a, b| a.id.cmp(&b.id));
    for card in by_id {
        let lower = card.id.as_str().to_lowercase();
        if let Some(other) = by_lower.get(&lower) {
            problems.push(Problem::error(
                &card.id.rel_path(),
                1,
                1,
                format!(
                    "duplicate id: `{}` differs from `{}` only in case",
                    card.id, other.id
                ),
            ));
        } else {
            by_lower.insert(lower, card);
        }
    }
    let mut claimed: BTreeMap<(&str, String), &Card> = BTreeMap::new();
    for card in by_age(cards) {
        for alias in &card.aliases {
            let path = card.id.rel_path();
            let line = || super::line_of_key(&front(&path), "aliases");
            let slot = (card.lang.as_str(), key(alias));
            if let Some(owner) = by_lower
                .get(&alias.to_lowercase())
                .filter(|c| c.id != card.id)
            {
                problems.push(Problem::error(
                    &path,
                    line(),
                    1,
                    format!(
                        "duplicate id: alias `{alias}` is the id of {}",
                        owner.id.rel_path()
                    ),
                ));
            } else if let Some(other) = claimed.get(&slot).filter(|c| c.id != card.id) {
                problems.push(Problem::error(
                    &path,
                    line(),
                    1,
                    format!(
                        "duplicate alias: `{alias}` is also an alias of {}",
                        other.id.rel_path()
                    ),
                ));
            } else {
                claimed.insert(slot, card);
            }
        }
    }
    problems
}

/// Two cards of one language with one title, when `[[Title]]` cannot
/// tell them apart: not when a card's file is named so (the file name
/// decides first), nor when they are one file name in several folders
/// (the nearest folder decides, as Obsidian does for file names).
pub(super) fn duplicate_titles(cards: &[&Card], front: &dyn Fn(&str) -> String) -> Vec<Problem> {
    let stems: HashSet<(&str, String)> = cards
        .iter()
        .map(|c| (c.lang.as_str(), key(c.id.file_stem())))
        .collect();
    let mut first: BTreeMap<(&str, String), &Card> = BTreeMap::new();
    let mut problems = Vec::new();
    for card in by_age(cards) {
        let slot = (card.lang.as_str(), key(&card.title));
        if stems.contains(&slot) {
            continue;
        }
        match first.get(&slot) {
            Some(older) if key(older.id.file_stem()) != key(card.id.file_stem()) => {
                problems.push(Problem::warning(
                    &card.id.rel_path(),
                    super::line_of_key(&front(&card.id.rel_path()), "title"),
                    1,
                    format!(
                        "duplicate title: `{}` is also the title of {}, so `[[{}]]` is ambiguous; give this card another title",
                        card.title,
                        older.id.rel_path(),
                        card.title
                    ),
                ));
            }
            Some(_) => {}
            None => {
                first.insert(slot, card);
            }
        }
    }
    problems
}
