//! Readers' verdicts on cards, as every door handles them. Feedback is the
//! staff's: its comments are written by colleagues about cards and its
//! verdicts steer authors, so a caller limited to public cards (a
//! customer-facing widget's token) neither reads nor gives it. A card's
//! feedback includes what it got under its old ids (`aliases`).

use std::collections::HashMap;
use std::sync::Arc;

use crate::content::Card;
use crate::kb::Kb;
use crate::store::{Feedback, Verdict};

use super::AppError;

/// The longest comment kept, in characters.
pub const MAX_COMMENT_CHARS: usize = 2000;

/// Stores a verdict (`helpful` or `outdated`) on the card `requested`
/// names, with an optional comment. Durable when it returns.
pub fn add(
    kb: &Kb,
    requested: &str,
    public_only: bool,
    verdict: &str,
    comment: Option<&str>,
) -> Result<Feedback, AppError> {
    staff_only(public_only)?;
    let verdict = Verdict::parse(verdict).ok_or_else(|| {
        AppError::Invalid(format!(
            "`verdict` must be helpful or outdated, got {verdict:?}"
        ))
    })?;
    let comment = comment.map(str::trim).filter(|c| !c.is_empty());
    if comment.is_some_and(|c| c.chars().count() > MAX_COMMENT_CHARS) {
        return Err(AppError::Invalid(format!(
            "`comment` is over {MAX_COMMENT_CHARS} characters"
        )));
    }
    let (current, _) = ids(kb, requested, public_only)?;
    let feedback = kb.store.add_feedback(&current, verdict, comment)?;
    kb.flag_counts.forget();
    Ok(feedback)
}

/// A card's newest `limit` feedback, and how many of its "outdated" flags
/// are open.
pub fn list(
    kb: &Kb,
    requested: &str,
    public_only: bool,
    limit: usize,
) -> Result<(Vec<Feedback>, usize), AppError> {
    staff_only(public_only)?;
    let (_, ids) = ids(kb, requested, public_only)?;
    let feedback = kb.store.feedback_for(&ids, limit)?;
    let (_, open) = kb.store.open_flags(&ids, 0)?;
    Ok((feedback, open))
}

/// Resolves a card's open "outdated" flags (an author fixed the card);
/// how many were open.
pub fn resolve(kb: &Kb, requested: &str, public_only: bool) -> Result<usize, AppError> {
    staff_only(public_only)?;
    let (_, ids) = ids(kb, requested, public_only)?;
    let resolved = kb.store.resolve(&ids)?;
    kb.flag_counts.forget();
    Ok(resolved)
}

/// How long a vote may be taken back after it is given, in seconds.
pub const UNDO_SECONDS: i64 = 15 * 60;

/// Takes back the vote `feedback` on the card `requested` names, if it was
/// given on that card within `UNDO_SECONDS`; whether it was.
pub fn undo(kb: &Kb, requested: &str, public_only: bool, feedback: i64) -> Result<bool, AppError> {
    staff_only(public_only)?;
    let (_, ids) = ids(kb, requested, public_only)?;
    let undone = kb
        .store
        .remove_feedback(feedback, &ids, crate::store::now() - UNDO_SECONDS)?;
    kb.flag_counts.forget();
    Ok(undone)
}

/// A card's newest `limit` open "outdated" flags (by its id and its old
/// ones), and how many there are.
pub fn open_flags(
    kb: &Kb,
    id: &str,
    aliases: &[String],
    limit: usize,
) -> Result<(Vec<Feedback>, usize), AppError> {
    let mut ids = vec![id.to_string()];
    ids.extend(aliases.iter().cloned());
    Ok(kb.store.open_flags(&ids, limit)?)
}

/// The open "outdated" flags by card id, as a door shows them: none for a
/// caller limited to public cards, or when the store cannot be read
/// (logged). Read once per result list.
pub fn flag_counts(kb: &Kb, public_only: bool) -> Option<Arc<HashMap<String, usize>>> {
    if public_only {
        return None;
    }
    kb.flag_counts
        .get(&kb.store)
        .map_err(|e| tracing::warn!("outdated flags not shown: {e}"))
        .ok()
}

/// How many open "outdated" flags `card` has, under its id or an old one.
pub fn outdated(flags: Option<&HashMap<String, usize>>, card: &Card) -> usize {
    let Some(flags) = flags else { return 0 };
    std::iter::once(card.id.as_str())
        .chain(card.aliases.iter().map(String::as_str))
        .filter_map(|id| flags.get(id))
        .sum()
}

fn staff_only(public_only: bool) -> Result<(), AppError> {
    if public_only {
        return Err(AppError::Forbidden(
            "a token for public cards cannot read or give feedback",
        ));
    }
    Ok(())
}

/// The card's current id, and every id its feedback may be under.
fn ids(kb: &Kb, requested: &str, public_only: bool) -> Result<(String, Vec<String>), AppError> {
    let stored = super::cards::find(kb, requested, public_only)?
        .ok_or_else(|| AppError::CardNotFound(requested.to_string()))?;
    let card = stored.card;
    let mut ids = vec![card.id.to_string()];
    ids.extend(card.aliases.iter().cloned());
    Ok((card.id.to_string(), ids))
}
