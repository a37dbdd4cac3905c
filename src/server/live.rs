//! Live reload for authors: `/events` is a server-sent event stream that
//! says `reload` after each batch of content changes is indexed and after a
//! file of the theme is saved. `site.js` reloads the page on it. Off when
//! `live_reload = false` or the folder is not watched. Streams are capped
//! in all (`[limits] max_event_streams`) and per address, and each ends
//! after a while (the browser's `EventSource` reconnects by itself), so
//! forgotten tabs and hostile clients cannot hold connections for good.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use tokio::sync::broadcast::error::RecvError;

use super::AppState;
use super::access::Caller;
use super::error::ApiError;

/// Streams one address may hold: a few tabs of an author's browser.
pub const STREAMS_PER_ADDRESS: usize = 16;
/// A stream ends after this long; the page's `EventSource` opens a new one.
const STREAM_LIFETIME: Duration = Duration::from_secs(10 * 60);

pub async fn events(State(state): State<AppState>, caller: Caller) -> Response {
    if !(state.kb.config.live_reload && state.kb.config.watch) {
        return ApiError::NotConfigured("live reload").into_response();
    }
    let address = caller.ip.unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]));
    let Some(slot) = state.event_streams.take(address) else {
        return ApiError::Overloaded.into_response();
    };
    let content = state.kb.subscribe_settled();
    // The page was read at this generation or a later one: settling what it
    // already shows (the first check after start-up) is no reason to reload.
    let shown = state.kb.generation();
    let theme = state.theme_changes.subscribe();
    let ends = tokio::time::Instant::now() + STREAM_LIFETIME;
    let stream = futures_util::stream::unfold(
        (content, theme, slot),
        move |(mut content, mut theme, slot)| async move {
            // A lagging listener has missed changes: reloading covers them all.
            let what = loop {
                tokio::select! {
                    r = content.recv() => match r {
                        Ok(generation) if generation <= shown => continue,
                        Ok(_) | Err(RecvError::Lagged(_)) => break "content",
                        Err(RecvError::Closed) => return None,
                    },
                    r = theme.recv() => match r {
                        Ok(_) | Err(RecvError::Lagged(_)) => break "theme",
                        Err(RecvError::Closed) => return None,
                    },
                    () = tokio::time::sleep_until(ends) => return None,
                }
            };
            let event = Event::default().event("reload").data(what);
            Some((Ok::<_, Infallible>(event), (content, theme, slot)))
        },
    );
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}
