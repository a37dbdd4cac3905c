//! Limits that reject rather than queue: request bodies over the cap (413)
//! or too slow to arrive (408), requests the workers cannot start in time
//! (503 with `Retry-After`: shed at once, so the requests kept stay fast),
//! and a handler that takes too long (503). A request's body is read whole
//! before it is admitted, so a slow sender holds a connection, not a
//! worker. The header read timeout and the connection caps are set where
//! connections are served (`server::serve`).

use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::ApiError;
use super::workers::Refusal;

/// Paths answered on the accepting runtime, never shed: how overload is
/// seen (`/metrics`), whether to keep sending readers (`/healthz`), and the
/// live-reload streams, which wait rather than work and have caps of their
/// own (`server::live`).
fn runs_beside_the_workers(path: &str) -> bool {
    matches!(path, "/healthz" | "/metrics" | "/events")
}

/// Paths whose handlers hand their work to the workers themselves, and
/// only when the search cache cannot answer: a kept answer costs less than
/// the hop to a worker and back (`on_a_worker`).
fn hands_over_its_work(request: &Request) -> bool {
    request.method() == axum::http::Method::GET
        && matches!(request.uri().path(), "/api/v1/search" | "/api/v1/suggest")
}

/// `request` answered by `next` (the rest of its way in, and its handler)
/// within the limits: on a worker when one is free in time, else the
/// refusal the module comment lists.
pub async fn guard<F, Fut>(state: &AppState, request: Request, next: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Response> + Send + 'static,
{
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
    if runs_beside_the_workers(request.uri().path()) {
        return next(request).await;
    }
    let request = match read_body(request, limits.max_body_bytes, limits.body_read_timeout_ms).await
    {
        Ok(request) => request,
        Err(refused) => return refused.into_response(),
    };
    if hands_over_its_work(&request) {
        return next(request).await;
    }
    match on_a_worker(state, next(request)).await {
        Ok(response) | Err(response) => response,
    }
}

/// Runs `job` on a worker if one can start it in time, within the request
/// time limit; else the response that says why not (503, or 500 when the
/// job panicked).
pub async fn on_a_worker<F>(state: &AppState, job: F) -> Result<F::Output, Response>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let timeout = Duration::from_millis(state.kb.config.limits.request_timeout_ms);
    // Half the time limit may be spent waiting for a worker: a request
    // admitted that could only start at the limit would be refused anyway,
    // after costing its caller the whole wait.
    let admitted = match state.workers.admit(timeout / 2) {
        Ok(admitted) => admitted,
        Err(refusal) => return Err(overloaded(refusal)),
    };
    let mut job = state.workers.run(admitted, job);
    match tokio::time::timeout(timeout, &mut job).await {
        Ok(Ok(output)) => Ok(output),
        Ok(Err(e)) if e.is_panic() => {
            Err(ApiError::internal("a request handler panicked").into_response())
        }
        Ok(Err(_)) => Err(ApiError::Overloaded.into_response()),
        Err(_) => {
            // A job that has not started yet never will; one that is
            // running ends at its next await, or runs to its end unseen.
            job.abort();
            Err(ApiError::Timeout.into_response())
        }
    }
}

/// A 503 saying when to come back: about when the queue ahead is through.
fn overloaded(refusal: Refusal) -> Response {
    let mut response = ApiError::Overloaded.into_response();
    if let Refusal::WaitTooLong(wait) = refusal {
        let seconds = wait.as_secs().clamp(1, 60);
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// The request with its whole body read, or the error to answer: 413 over
/// `max` bytes, 408 when it has not all arrived within the time limit.
async fn read_body(request: Request, max: usize, timeout_ms: u64) -> Result<Request, ApiError> {
    let has_body = request.headers().contains_key(header::TRANSFER_ENCODING)
        || request
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0");
    if !has_body {
        return Ok(request);
    }
    let (parts, body) = request.into_parts();
    let limit = Duration::from_millis(timeout_ms);
    let bytes = tokio::time::timeout(limit, collect(body, max))
        .await
        .map_err(|_| ApiError::BodyTimeout)??;
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// The whole body, refused past `max` bytes.
async fn collect(body: Body, max: usize) -> Result<Vec<u8>, ApiError> {
    use futures_util::StreamExt;
    let mut chunks = body.into_data_stream();
    let mut all = Vec::new();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|_| {
            ApiError::InvalidBody("the request body could not be read whole".into())
        })?;
        if all.len() + chunk.len() > max {
            return Err(ApiError::PayloadTooLarge(max));
        }
        all.extend_from_slice(&chunk);
    }
    Ok(all)
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
