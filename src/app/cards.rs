//! Finding a card by the id a caller names: an old id from `aliases` leads
//! to the card that took it over, and a caller who sees public cards only
//! never learns that an internal one exists.

use crate::content::CardId;
use crate::index::StoredCard;
use crate::kb::Kb;

use super::AppError;

/// Where an id leads.
#[derive(Debug, PartialEq, Eq)]
pub enum Resolved {
    /// A card has this id.
    Current(CardId),
    /// The id is an old one (`aliases`) of this card.
    Moved(CardId),
    Missing,
}

/// Where `requested` leads in the catalog (a trailing `/` is ignored).
pub fn resolve(kb: &Kb, requested: &str) -> Resolved {
    let Ok(requested) = CardId::new(requested.trim_end_matches('/')) else {
        return Resolved::Missing;
    };
    let catalog = kb.catalog();
    if catalog.get(&requested).is_some() {
        return Resolved::Current(requested);
    }
    if let Some(current) = catalog.moved_to(requested.as_str()) {
        return Resolved::Moved(current.clone());
    }
    // A file moved with `git mv` keeps its old URL working: git's rename
    // detection says where it went.
    let history = kb.history();
    history
        .moved_to(&requested.rel_path())
        .and_then(|path| CardId::new(path.strip_suffix(".md")?).ok())
        .filter(|id| catalog.get(id).is_some())
        .map_or(Resolved::Missing, Resolved::Moved)
}

/// The card `requested` names, or names by an old id, if the caller may
/// see it; `None` for a card that does not exist or is not theirs to see
/// (the same answer: a scoped caller must not learn the card exists).
pub fn find(kb: &Kb, requested: &str, public_only: bool) -> Result<Option<StoredCard>, AppError> {
    let id = match resolve(kb, requested) {
        Resolved::Current(id) | Resolved::Moved(id) => id,
        Resolved::Missing => return Ok(None),
    };
    let Some(stored) = kb.index.card(&id)? else {
        return Ok(None);
    };
    if public_only && !stored.card.is_public() {
        return Ok(None);
    }
    Ok(Some(stored))
}
