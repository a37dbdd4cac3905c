//! Every request's way in, as one middleware: URLs too long are refused,
//! the request is counted and timed, limited (`limits::guard`), its caller
//! identified (`access::identify`) and, on a locked site, sent to sign in
//! (`access::require_login`); every answer leaves with the security
//! headers. One layer rather than six: axum boxes and clones the rest of
//! the stack for each layer of each request, and six layers were a tenth
//! of a cached search's CPU (perf).

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{AppState, access, error, limits, site};

pub async fn enter(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = match site::refuse_long_url(&state, &request) {
        Some(refused) => refused,
        None => counted(state, request, next).await,
    };
    security_headers(response.headers_mut());
    response
}

/// The answer to `request`, counted by route and status, timed, and its
/// error code counted, for `/metrics`.
async fn counted(state: AppState, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_string();
    let started = std::time::Instant::now();
    let inner = state.clone();
    let response = limits::guard(&state, request, move |request| {
        admitted(inner, request, next)
    })
    .await;
    let metrics = &state.kb.metrics;
    metrics.request(&route, response.status().as_u16(), started.elapsed());
    if let Some(error::ErrorCode(code)) = response.extensions().get::<error::ErrorCode>() {
        metrics.error(code);
    }
    response
}

/// A request the limits let through: its caller identified, then handled.
async fn admitted(state: AppState, mut request: Request, next: Next) -> Response {
    if let Err(refused) = access::identify(&state, &mut request) {
        return refused.into_response();
    }
    if let Some(to_login) = access::require_login(&state, &request) {
        return to_login;
    }
    next.run(request).await
}

/// Headers every answer carries. Pages that may be framed (the sidebar)
/// set their own policy; everything else refuses to be framed.
fn security_headers(headers: &mut HeaderMap) {
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        // No inline script or style anywhere: a card that smuggled markup
        // past the sanitizer still could not run it. Images may come from
        // other https hosts (they cannot run code).
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; script-src 'self'; style-src 'self'; \
                 img-src 'self' data: https:; connect-src 'self'; form-action 'self'; \
                 base-uri 'none'; frame-ancestors 'none'",
            ),
        );
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
}
