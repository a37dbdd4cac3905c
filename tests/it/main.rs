//! Integration tests: the real server on loopback over real files. One
//! binary, a module per feature. See `support.rs` for the `TestKb` fixture.

mod access;
mod api;
mod authors;
mod bad_cards;
mod check;
mod crash;
mod demo;
mod faults;
mod history;
mod hostile;
mod inbox;
mod index_cache;
mod insight;
mod integrations;
mod nasty_queries;
mod restart;
mod search;
mod site;
mod support;
mod watch;
