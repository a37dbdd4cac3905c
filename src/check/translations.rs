//! What `quire check` says about translations and the links between
//! languages: a `translation_of` that names no card or names a
//! translation, two cards of one family in one language, a translation
//! last changed before its source (by git history), and a wiki-link that
//! several cards could answer equally well.

use std::collections::BTreeMap;

use crate::content::{Card, CardId, Catalog, Problem};
use crate::history::History;

/// `card`'s own translation and link findings.
pub(super) fn of_card(
    catalog: &Catalog,
    card: &Card,
    front: &dyn Fn(&str) -> String,
    problems: &mut Vec<Problem>,
) {
    let path = card.id.rel_path();
    for link in &card.links {
        let tied = catalog.ambiguous(&card.id, link);
        if !tied.is_empty() {
            let names: Vec<String> = tied.iter().map(|id| format!("`{id}`")).collect();
            problems.push(Problem::warning(
                &path,
                link.line,
                1,
                format!(
                    "ambiguous link: `[[{}]]` could be {}; it opens `{}` (write the id to choose)",
                    link.target,
                    names.join(" or "),
                    tied[0]
                ),
            ));
        }
    }
    let Some(named) = card.translation_source() else {
        return;
    };
    let line = || super::line_of_key(&front(&path), "translation_of");
    match CardId::new(named).ok().and_then(|id| catalog.get(&id)) {
        None => problems.push(Problem::warning(
            &path,
            line(),
            1,
            format!("translation_of: no card `{named}`"),
        )),
        Some(found) if found.translation_of.is_some() => problems.push(Problem::warning(
            &path,
            line(),
            1,
            format!(
                "translation_of: `{}` is itself a translation; name its source `{}`",
                found.id, found.family
            ),
        )),
        Some(_) => {}
    }
}

/// Families with two cards in one language: a reader would see either.
/// Reported on every card after the first, by id.
pub(super) fn two_in_one_language(cards: &[&Card]) -> Vec<Problem> {
    let mut first: BTreeMap<(&str, &str), &Card> = BTreeMap::new();
    let mut sorted: Vec<&&Card> = cards.iter().collect();
    sorted.sort_by(|a, b| a.id.cmp(&b.id));
    let mut problems = Vec::new();
    for card in sorted {
        let slot = (card.family.as_str(), card.lang.as_str());
        match first.get(&slot) {
            Some(earlier) => problems.push(Problem::warning(
                &card.id.rel_path(),
                1,
                1,
                format!(
                    "two translations in `{}`: this card and `{}` are both in family `{}`",
                    card.lang, earlier.id, card.family
                ),
            )),
            None => {
                first.insert(slot, card);
            }
        }
    }
    problems
}

/// Translations whose last commit is older than their source's: the
/// source changed since, so the translation may say something outdated.
pub fn behind_their_source(catalog: &Catalog, history: &History) -> Vec<Problem> {
    let mut problems = Vec::new();
    for card in catalog.cards() {
        let Some(source) = card
            .translation_source()
            .and_then(|s| CardId::new(s).ok())
            .and_then(|id| catalog.get(&id))
        else {
            continue;
        };
        let (Some(mine), Some(theirs)) = (
            history.last_change(&card.id.rel_path()),
            history.last_change(&source.id.rel_path()),
        ) else {
            continue;
        };
        if mine.time < theirs.time {
            let day =
                |c: &crate::history::Commit| c.date().map(|d| d.to_string()).unwrap_or_default();
            problems.push(Problem::warning(
                &card.id.rel_path(),
                1,
                1,
                format!(
                    "translation behind its source: `{}` changed on {} ({}), this card last on {}",
                    source.id,
                    day(theirs),
                    theirs.subject,
                    day(mine)
                ),
            ));
        }
    }
    problems
}
