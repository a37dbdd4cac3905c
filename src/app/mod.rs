//! The use-cases every door shares: the site, the JSON API, MCP, the inbox
//! integrations and the CLI call these functions over `&Kb`, which take
//! and return domain values (requests, results, cards), and only translate
//! their own requests in and their answers out. What happens around a
//! search (readiness, metrics, the insights log) happens here, once.

pub mod cards;
pub mod feedback;
pub mod insights;
pub mod search;

use crate::index::IndexError;
use crate::store::StoreError;

/// Why a use-case could not be carried out; each door says it its own way
/// (the API as a status and a code).
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("the index is still being built")]
    NotReady,
    #[error("no card {0:?}")]
    CardNotFound(String),
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(transparent)]
    Store(#[from] StoreError),
}
