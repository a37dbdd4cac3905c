//! Integration tests: the real server on loopback over real files. One
//! binary, a module per feature. See `support.rs` for the `TestKb` fixture.

mod access;
mod api;
mod audience;
mod authors;
mod bad_cards;
mod check;
mod crash;
mod demo;
mod faults;
mod history;
mod hostile;
mod hostile_content;
mod inbox;
mod index_cache;
mod insight;
mod integrations;
mod known_items;
mod nasty_queries;
mod outdated;
mod packaging;
mod postgres;
mod remote;
mod restart;
mod search;
mod search_cache;
mod shedding;
mod site;
mod support;
mod translations;
mod vault;
mod votes;
mod watch;
mod written_state;
