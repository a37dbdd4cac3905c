//! Answer cards without a reply: in a folder whose `_index.md` says
//! `reply_required: true`, each card answers customers, so an agent should
//! find text to send (`reply_snippet`); without it, "Copy answer" can offer
//! only the card's link.

use crate::content::{Card, Catalog, Problem};

/// A warning when `card` lies under a folder requiring replies (the
/// nearest folder that says either way decides) and has no reply.
pub fn of_card(catalog: &Catalog, card: &Card, problems: &mut Vec<Problem>) {
    if card.draft
        || card
            .reply_snippet
            .as_deref()
            .is_some_and(|r| !r.trim().is_empty())
    {
        return;
    }
    let folders: Vec<&str> = card
        .id
        .folder()
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let decided = (1..=folders.len()).rev().find_map(|depth| {
        let folder = folders[..depth].join("/");
        let required = catalog.folder(&folder)?.reply_required?;
        Some((folder, required))
    });
    if let Some((folder, true)) = decided {
        problems.push(Problem::warning(
            &card.id.rel_path(),
            1,
            1,
            format!(
                "no `reply_snippet`: {folder}/_index.md says its cards answer customers \
                 (`reply_required: true`), and without one agents can send only the link"
            ),
        ));
    }
}
