//! Quire: a knowledge-base server. Markdown cards in a git folder are read
//! (`content`), indexed (`index`), searched (`search`), kept current as files
//! change (`watch`, `reindex`) and served as a site and a JSON API (`server`).

pub mod app;
pub mod check;
pub mod config;
pub mod content;
#[doc(hidden)]
pub mod fuzzing;
pub mod hex;
pub mod history;
pub mod index;
pub mod kb;
pub mod metrics;
pub mod new_card;
pub mod priority;
pub mod reindex;
pub mod search;
pub mod store;
pub mod watch;

pub use config::Config;
pub use kb::Kb;
pub mod server;
pub mod theme;
