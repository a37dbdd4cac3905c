//! Wiki-links to a heading or a block that is not there:
//! `[[card#Heading]]`, `[[card#^block-id]]`, `![[card#Heading]]` and
//! `[[#Heading]]` in the card itself. The link still opens the card, at
//! its top, so these are warnings. Needs every card's headings, which
//! the catalog does not keep: `quire check` gathers them as it reads.

use std::collections::{BTreeMap, HashSet};

use crate::content::markdown::{LinkKind, fragment_anchor};
use crate::content::{Catalog, Problem, Resolved};

/// What a card's links may point into: its headings' and blocks' ids, and
/// its links into itself.
#[derive(Debug, Default)]
pub(super) struct Anchors {
    pub ids: HashSet<String>,
    pub local_links: Vec<(String, usize)>,
}

/// Every wiki-link whose `#fragment` names nothing in its card, given each
/// card's `Anchors` by path.
pub(super) fn missing(catalog: &Catalog, anchors: &BTreeMap<String, Anchors>) -> Vec<Problem> {
    let mut problems = Vec::new();
    let none = Anchors::default();
    for card in catalog.cards() {
        let path = card.id.rel_path();
        let own = anchors.get(&path).unwrap_or(&none);
        for (fragment, line) in &own.local_links {
            if !own.ids.contains(&fragment_anchor(fragment)) {
                problems.push(missing_in(&path, *line, "this card", fragment));
            }
        }
        for link in &card.links {
            let Some(fragment) = link.fragment.as_deref().filter(|f| !f.trim().is_empty()) else {
                continue;
            };
            if !matches!(link.kind, LinkKind::Wiki | LinkKind::Embed) {
                continue;
            }
            let Resolved::Card(target) = catalog.resolve(&card.id, link) else {
                continue;
            };
            let found = anchors
                .get(&target.rel_path())
                .is_some_and(|a| a.ids.contains(&fragment_anchor(fragment)));
            if !found {
                problems.push(missing_in(
                    &path,
                    link.line,
                    &format!("`{target}`"),
                    fragment,
                ));
            }
        }
    }
    problems
}

fn missing_in(path: &str, line: usize, card: &str, fragment: &str) -> Problem {
    let what = match fragment.strip_prefix('^') {
        Some(block) => format!("no block `^{block}`"),
        None => format!("no heading `{fragment}`"),
    };
    Problem::warning(
        path,
        line,
        1,
        format!("missing link target: {card} has {what}; the link opens the card at its top"),
    )
}
