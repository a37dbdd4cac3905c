//! Signing in to the site (`[site] require_login`): `/login` takes a token
//! from `[api] tokens` and sets a signed session cookie; `/logout` clears
//! it. Wrong tokens count against the caller's address (see `access`).

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use super::AppState;
use super::access::{self, Caller};
use super::error::ApiError;
use super::params::Params;
use super::session::COOKIE;
use super::site::page;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
}

/// Where to go after signing in: a path on this site, never another host.
fn next_path(next: Option<&str>) -> String {
    match next {
        // Browsers drop tabs and newlines from URLs, so `/\t/evil.example`
        // would become `//evil.example`: no control or space characters.
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.chars().any(|c| c.is_control() || c.is_whitespace()) =>
        {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

async fn login_page(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let params = Params::parse(raw.as_deref());
    let next = next_path(params.get("next"));
    page(
        &state,
        StatusCode::OK,
        "login.html",
        json!({ "next": next, "failed": false }),
    )
}

async fn login(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if !access::same_origin(&headers) {
        return ApiError::Forbidden("sign in from this site's own page").into_response();
    }
    if let Some(wait) = state.failures.blocked(caller.ip) {
        return ApiError::RateLimited(wait).into_response();
    }
    let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let next = next_path(field("next"));
    let tokens = &state.kb.config.api.tokens;
    let presented = field("token").unwrap_or("").trim();
    // A token scoped to public cards cannot open the site: its pages show
    // internal cards.
    let Some(token) = access::find(tokens, presented).filter(|t| !t.public_only) else {
        state.failures.record(caller.ip);
        return page(
            &state,
            StatusCode::UNAUTHORIZED,
            "login.html",
            json!({ "next": next, "failed": true }),
        );
    };
    state.failures.succeeded(caller.ip);
    let hours = state.kb.config.site.session_hours;
    let expires = crate::store::now() + (hours * 3600) as i64;
    let secure = state
        .kb
        .config
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"));
    let cookie = format!(
        "{COOKIE}={}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax{}",
        state.sessions.issue(token, expires),
        hours * 3600,
        if secure { "; Secure" } else { "" }
    );
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, next), (header::SET_COOKIE, cookie)],
    )
        .into_response()
}

async fn logout(headers: HeaderMap) -> Response {
    if !access::same_origin(&headers) {
        return ApiError::Forbidden("sign out from this site's own page").into_response();
    }
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, "/login".to_string()),
            (
                header::SET_COOKIE,
                format!("{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"),
            ),
        ],
    )
        .into_response()
}
