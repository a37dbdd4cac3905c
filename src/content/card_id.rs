//! `CardId`: the validated, stable id of a card (its path under `content/`
//! without `.md`). Every id that reaches the index or a URL went through here.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// A card id such as `playbooks/refunds/annual-plans`.
///
/// Invariants: relative, `/`-separated, no empty, `.` or `..` segment, no
/// backslash or control character, at most [`CardId::MAX_LEN`] bytes. So an id
/// can never name a path outside the content folder. In Unicode NFC, so
/// `café` is one id whether the file name, the URL or a link spells the
/// `é` as one code point or as `e` and a combining accent (macOS writes NFD).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
// Shared, not owned: the catalog files every id under several keys (file
// name, title, links), and a clone is then a reference count, not a copy.
pub struct CardId(Arc<str>);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid card id {id:?}: {reason}")]
pub struct InvalidCardId {
    pub id: String,
    pub reason: &'static str,
}

impl CardId {
    pub const MAX_LEN: usize = 512;

    pub fn new(id: impl Into<String>) -> Result<Self, InvalidCardId> {
        let id = id.into();
        let id = match nfc(&id) {
            Cow::Borrowed(_) => id,
            Cow::Owned(composed) => composed,
        };
        let fail = |reason| {
            Err(InvalidCardId {
                id: id.clone(),
                reason,
            })
        };
        if id.is_empty() {
            return fail("it is empty");
        }
        if id.len() > Self::MAX_LEN {
            return fail("it is longer than 512 bytes");
        }
        if id.chars().any(|c| c == '\\' || c.is_control()) {
            return fail("it holds a backslash or a control character");
        }
        if id.split('/').any(|s| s.is_empty() || s == "." || s == "..") {
            return fail("it has an empty, `.` or `..` segment");
        }
        Ok(CardId(id.into()))
    }

    /// The id of the markdown file at `rel_path` (relative to the content
    /// folder, `/`-separated), or `None` when it is not a `.md` file.
    pub fn from_rel_path(rel_path: &str) -> Option<Self> {
        let stem = rel_path.strip_suffix(".md")?;
        CardId::new(stem).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The top folder, or `""` for a card at the root of the content folder.
    pub fn collection(&self) -> &str {
        match self.0.split_once('/') {
            Some((top, _)) => top,
            None => "",
        }
    }

    /// The folder holding the card (`playbooks/refunds`), `""` at the root.
    pub fn folder(&self) -> &str {
        match self.0.rsplit_once('/') {
            Some((folder, _)) => folder,
            None => "",
        }
    }

    /// The last segment: the file name without `.md`.
    pub fn file_stem(&self) -> &str {
        match self.0.rsplit_once('/') {
            Some((_, stem)) => stem,
            None => &self.0,
        }
    }

    /// The path of the card's file relative to the content folder, in NFC:
    /// a file saved in another form is found by `ContentDir`'s reads.
    pub fn rel_path(&self) -> String {
        format!("{}.md", self.0)
    }
}

/// `text` in Unicode NFC (borrowed when it already is, as ASCII always is).
pub fn nfc(text: &str) -> Cow<'_, str> {
    icu_normalizer::ComposingNormalizerBorrowed::new_nfc().normalize(text)
}

/// `text` in Unicode NFD, as macOS names files.
pub fn nfd(text: &str) -> Cow<'_, str> {
    icu_normalizer::DecomposingNormalizerBorrowed::new_nfd().normalize(text)
}

impl fmt::Display for CardId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for CardId {
    type Error = InvalidCardId;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        CardId::new(s)
    }
}

impl From<CardId> for String {
    fn from(id: CardId) -> String {
        id.0.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_names_its_collection_folder_and_stem() {
        let id = CardId::new("playbooks/refunds/annual-plans").unwrap();
        assert_eq!(id.collection(), "playbooks");
        assert_eq!(id.folder(), "playbooks/refunds");
        assert_eq!(id.file_stem(), "annual-plans");
        assert_eq!(id.rel_path(), "playbooks/refunds/annual-plans.md");
    }

    #[test]
    fn ids_that_could_leave_the_content_folder_are_refused() {
        for bad in [
            "",
            "../etc/passwd",
            "a/../b",
            "/abs",
            "a//b",
            "a\\b",
            "a/./b",
            "a\0b",
        ] {
            assert!(CardId::new(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn an_id_is_the_same_whether_its_accents_are_composed_or_not() {
        let composed = CardId::new("notes/caf\u{e9}").unwrap();
        let decomposed = CardId::new("notes/cafe\u{301}").unwrap();
        assert_eq!(composed, decomposed);
        assert_eq!(decomposed.as_str(), "notes/caf\u{e9}");
        assert_eq!(
            CardId::from_rel_path("notes/cafe\u{301}.md").unwrap(),
            composed
        );
    }

    #[test]
    fn only_markdown_files_have_ids() {
        assert_eq!(CardId::from_rel_path("a/b.md").unwrap().as_str(), "a/b");
        assert!(CardId::from_rel_path("a/b.png").is_none());
    }
}
