//! The use-cases every door shares: the site, the JSON API, MCP, the inbox
//! integrations and the CLI call these functions over `&Kb`, which take
//! and return domain values (requests, results, cards), and only translate
//! their own requests in and their answers out. What happens around a
//! search (readiness, metrics, the insights log) happens here, once.

pub mod cards;
pub mod search;

use crate::index::IndexError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("the index is still being built")]
    NotReady,
    #[error(transparent)]
    Index(#[from] IndexError),
}
