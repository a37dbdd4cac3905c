//! Integration tests: the real server on loopback over real files. One
//! binary, a module per feature. See `support.rs` for the `TestKb` fixture.

mod api;
mod bad_cards;
mod check;
mod demo;
mod inbox;
mod insight;
mod integrations;
mod nasty_queries;
mod restart;
mod search;
mod site;
mod support;
mod watch;
