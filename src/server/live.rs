//! Live reload for authors: `/events` is a server-sent event stream that
//! says `reload` after each batch of content changes is indexed and after a
//! file of the theme is saved. `site.js` reloads the page on it. Off when
//! `live_reload = false` or the folder is not watched.

use std::convert::Infallible;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use tokio::sync::broadcast::error::RecvError;

use super::AppState;
use super::error::ApiError;

pub async fn events(State(state): State<AppState>) -> Response {
    if !(state.kb.config.live_reload && state.kb.config.watch) {
        return ApiError::NotConfigured("live reload").into_response();
    }
    let content = state.kb.subscribe_settled();
    let theme = state.theme_changes.subscribe();
    let stream =
        futures_util::stream::unfold((content, theme), |(mut content, mut theme)| async move {
            // A lagging listener has missed changes: reloading covers them all.
            let what = tokio::select! {
                r = content.recv() => match r {
                    Ok(_) | Err(RecvError::Lagged(_)) => "content",
                    Err(RecvError::Closed) => return None,
                },
                r = theme.recv() => match r {
                    Ok(_) | Err(RecvError::Lagged(_)) => "theme",
                    Err(RecvError::Closed) => return None,
                },
            };
            let event = Event::default().event("reload").data(what);
            Some((Ok::<_, Infallible>(event), (content, theme)))
        });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}
