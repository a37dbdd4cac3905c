//! `quire new`: a card file with its front matter filled in, so an author
//! starts from something `quire check` accepts. Never overwrites.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::content::CardId;
use crate::content::card_id::InvalidCardId;

#[derive(Debug, thiserror::Error)]
pub enum NewCardError {
    #[error(transparent)]
    Id(#[from] InvalidCardId),
    #[error("{0} already exists; edit it, or choose another id")]
    Exists(PathBuf),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What goes into the new card.
#[derive(Debug, Clone)]
pub struct NewCard {
    pub id: String,
    pub title: String,
    pub owner: Option<String>,
    pub tags: Vec<String>,
    pub today: NaiveDate,
}

impl NewCard {
    /// The file's text. The author writing it is its first verifier; no
    /// `updated` line, so later commits date the card.
    pub fn text(&self) -> String {
        let quoted = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
        let mut out = String::from("---\n");
        out.push_str(&format!("title: {}\n", quoted(&self.title)));
        out.push_str("# summary: one sentence, shown in search results\n");
        let tags: Vec<String> = self.tags.iter().map(|t| quoted(t)).collect();
        out.push_str(&format!("tags: [{}]\n", tags.join(", ")));
        if let Some(owner) = &self.owner {
            out.push_str(&format!("owner: {}\n", quoted(owner)));
            out.push_str(&format!("verified_by: {}\n", quoted(owner)));
            out.push_str(&format!("verified_at: {}\n", self.today));
        }
        out.push_str("verify_every: 90d\n---\n\n");
        out.push_str(
            "Write the answer first, in a sentence or two: it is what agents paste into a reply.\n\n\
             ## Steps\n\n1. \n",
        );
        out
    }
}

/// Writes `card` as `<content>/<id>.md`, creating folders as needed.
pub fn create(content: &Path, card: &NewCard) -> Result<PathBuf, NewCardError> {
    let id = card.id.trim().trim_start_matches('/');
    let id = CardId::new(id.strip_suffix(".md").unwrap_or(id))?;
    let path = content.join(id.rel_path());
    let write_error = |source| NewCardError::Write {
        path: path.clone(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(write_error)?;
    }
    // `create_new` refuses an existing file (or a symlink) atomically.
    let mut file = match std::fs::File::options()
        .write(true)
        .create_new(true)
        .open(&path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(NewCardError::Exists(path));
        }
        Err(e) => return Err(write_error(e)),
    };
    file.write_all(card.text().as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(write_error)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::FileStamp;
    use crate::content::card::{Limits, parse};

    fn card(title: &str) -> NewCard {
        NewCard {
            id: "support/refunds/annual-plans".into(),
            title: title.into(),
            owner: Some("ann@example.com".into()),
            tags: vec!["billing".into()],
            today: NaiveDate::from_ymd_opt(2026, 11, 23).expect("date"),
        }
    }

    #[test]
    fn a_new_card_parses_with_its_title_owner_and_verification() {
        let new = card("Refunds: \"annual\" plans # not a comment");
        let parsed = parse(
            "support/refunds/annual-plans.md",
            new.text().as_bytes(),
            FileStamp::default(),
            Limits {
                max_card_bytes: 1 << 20,
            },
        )
        .expect("parses");
        assert_eq!(
            parsed.card.title,
            "Refunds: \"annual\" plans # not a comment"
        );
        assert_eq!(parsed.card.owner.as_deref(), Some("ann@example.com"));
        assert_eq!(parsed.card.tags, vec!["billing"]);
        assert_eq!(
            parsed.card.verification.verified_at,
            NaiveDate::from_ymd_opt(2026, 11, 23)
        );
        assert!(
            parsed.card.problems.is_empty(),
            "{:?}",
            parsed.card.problems
        );
    }

    #[test]
    fn it_refuses_to_overwrite_and_to_leave_the_folder() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = create(dir.path(), &card("One")).expect("created");
        assert!(path.ends_with("support/refunds/annual-plans.md"));
        let before = std::fs::read_to_string(&path).expect("read");
        assert!(matches!(
            create(dir.path(), &card("Two")),
            Err(NewCardError::Exists(_))
        ));
        assert_eq!(std::fs::read_to_string(&path).expect("read"), before);
        let mut outside = card("Out");
        outside.id = "../escape".into();
        assert!(matches!(
            create(dir.path(), &outside),
            Err(NewCardError::Id(_))
        ));
    }
}
