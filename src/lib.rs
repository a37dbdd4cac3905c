//! Quire: a knowledge-base server. Markdown cards in a git folder are read
//! (`content`), indexed (`index`), searched (`search`), kept current as files
//! change (`watch`, `reindex`) and served as a site and a JSON API (`server`).

pub mod app;
pub mod check;
pub mod config;
pub mod content;
#[doc(hidden)]
pub mod fuzzing;
pub mod git;
pub mod hex;
pub mod history;
pub mod index;
pub mod kb;
pub mod metrics;
pub mod new_card;
pub mod priority;
pub mod reindex;
pub mod remote;
pub mod search;
pub mod store;
pub mod watch;

/// The commit this binary was built from (`build.rs`; "unknown" when built
/// outside git without `QUIRE_COMMIT`).
pub const BUILD_COMMIT: &str = env!("QUIRE_BUILD_COMMIT");

/// `0.1.0 (commit 1a2b3c...)`: what `quire --version` and `/healthz` say.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("QUIRE_BUILD_COMMIT"),
    ")"
);

pub use config::Config;
pub use kb::{Kb, OpenError};
pub use reindex::Reindexer;

/// Opens the content folder and the index: the knowledge base, and the
/// reindexer that fills it and keeps it current. The catalog is empty and
/// the knowledge base not ready until the reindexer's `start` runs.
pub fn open(config: Config) -> Result<(std::sync::Arc<Kb>, Reindexer), OpenError> {
    let (kb, writer) = Kb::open(config)?;
    let limits = content::Limits {
        max_card_bytes: kb.config.max_card_bytes,
    };
    Ok((kb.clone(), Reindexer::new(kb, writer, limits)))
}
pub mod server;
pub mod theme;
