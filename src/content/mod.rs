//! Content: files under `content/` read into cards. Pure parsing and the
//! in-memory catalog; no index, no HTTP.

pub mod card;
pub mod card_id;
pub mod catalog;
pub mod front_matter;
pub mod lang;
pub mod markdown;
pub mod problem;
pub mod rendered;
pub mod scan;
pub mod synonyms;
pub mod trust;

pub use card::{Card, FileStamp, FolderPage, Limits, ParsedCard, TitleSource};
pub use card_id::CardId;
pub use catalog::{Catalog, Resolved};
pub use problem::{Problem, Severity};
pub use scan::{ContentDir, FileKind};
pub use trust::{Period, Trust, Verification};
