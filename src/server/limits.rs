//! Limits that reject rather than queue: request bodies over the cap (413),
//! more requests in flight than the server can serve (503 with
//! `Retry-After`: shed early, so the requests it keeps stay fast), and a
//! handler that takes too long (503). The header read timeout against slow
//! clients is set where connections are served (`server::serve`).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use super::AppState;
use super::error::ApiError;

/// The permits for requests in flight, one set per router.
pub fn in_flight(max: usize) -> Arc<Semaphore> {
    Arc::new(Semaphore::new(max.clamp(1, Semaphore::MAX_PERMITS)))
}

pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let limits = &state.kb.config.limits;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(len) = declared.filter(|len| *len > limits.max_body_bytes as u64) {
        // Read what the client is still sending, up to a bound, and throw
        // it away: closing on unread bytes resets the connection, and the
        // client would see a reset instead of our 413.
        if len <= DRAIN_BYTES {
            let body = request.into_body();
            tokio::spawn(tokio::time::timeout(DRAIN_TIME, drain(body)));
        }
        return ApiError::PayloadTooLarge(limits.max_body_bytes).into_response();
    }
    // Metrics stay reachable under overload: they are how it is seen.
    if request.uri().path() == "/metrics" {
        return next.run(request).await;
    }
    let Ok(_permit) = state.in_flight.clone().try_acquire_owned() else {
        return ApiError::Overloaded.into_response();
    };
    let limit = Duration::from_millis(limits.request_timeout_ms);
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout.into_response(),
    }
}

/// How much of a refused body is read (and discarded) so the client gets
/// the 413 rather than a reset; larger ones are cut off at once.
const DRAIN_BYTES: u64 = 16 * 1024 * 1024;
const DRAIN_TIME: Duration = Duration::from_secs(5);

async fn drain(body: axum::body::Body) {
    use futures_util::StreamExt;
    let mut chunks = body.into_data_stream();
    while let Some(Ok(_)) = chunks.next().await {}
}
