//! The HTTP server: the JSON API (`api`) and the site (`site`) on one axum
//! router over the shared `Kb`. Reads only: it never writes the index or
//! the content folder.

pub mod api;
pub mod error;
pub mod files;
pub mod params;
pub mod site;
pub mod views;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use tower_http::trace::{DefaultOnFailure, TraceLayer};
use tracing::Level;

use crate::kb::Kb;
use crate::theme::Theme;

#[derive(Clone)]
pub struct AppState {
    pub kb: Arc<Kb>,
    pub theme: Arc<Theme>,
}

pub fn router(kb: Arc<Kb>) -> Router {
    let theme = Arc::new(Theme::load(&kb.config.theme_dir()));
    let state = AppState { kb, theme };
    Router::new()
        .merge(api::router())
        .merge(site::router())
        .fallback(site::fallback)
        .layer(middleware::from_fn_with_state(state.clone(), record))
        .with_state(state)
        .layer(CompressionLayer::new())
        // A 503 while the index builds is expected, not an error worth a log
        // line; real failures are logged where they happen.
        .layer(TraceLayer::new_for_http().on_failure(DefaultOnFailure::new().level(Level::DEBUG)))
}

/// Counts every request by route and status, times it, and counts error
/// answers by code, for `/metrics`.
async fn record(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_string();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let metrics = &state.kb.metrics;
    metrics.request(&route, response.status().as_u16(), started.elapsed());
    if let Some(error::ErrorCode(code)) = response.extensions().get::<error::ErrorCode>() {
        metrics.error(code);
    }
    response
}

/// Serves `app` on `listener` until `shutdown` resolves, then finishes the
/// requests in flight.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Without TCP_NODELAY a keep-alive client waits ~40 ms on each small
    // response (Nagle's algorithm meeting delayed ACKs).
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
