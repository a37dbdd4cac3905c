//! Who is calling: bearer tokens for the API and MCP (`[api] tokens`), and
//! what a token may see. Tokens are kept as SHA-256 hashes and compared in
//! constant time; without configured tokens the API is open.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use super::AppState;
use super::error::ApiError;
use crate::config::{TokenConfig, sha256_of};

/// What the caller may see, left in the request's extensions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Access {
    /// Only `audience: public` cards, everywhere: hits, counts, facets,
    /// snippets, cards, MCP.
    pub public_only: bool,
    /// May search and read, not write (no feedback).
    pub read_only: bool,
}

/// Requires a configured token on every request it wraps (when any are
/// configured) and records the caller's `Access`.
pub async fn require_token(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    match access(&state, request.headers()) {
        Ok(access) => {
            request.extensions_mut().insert(access);
            next.run(request).await
        }
        Err(e) => e.into_response(),
    }
}

/// The access the request's bearer token grants (everything when no tokens
/// are configured).
pub fn access(state: &AppState, headers: &HeaderMap) -> Result<Access, ApiError> {
    let tokens = &state.kb.config.api.tokens;
    if tokens.is_empty() {
        return Ok(Access::default());
    }
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer)
        .and_then(|t| check(tokens, t))
        .ok_or(ApiError::Unauthorized)
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The access `presented` grants, if it is one of `tokens`. Every token is
/// compared, in constant time, so timing tells nothing about which failed.
pub fn check(tokens: &[TokenConfig], presented: &str) -> Option<Access> {
    let hash = sha256_of(presented.as_bytes());
    let mut found = None;
    for token in tokens {
        if bool::from(token.sha256.ct_eq(&hash)) {
            found = Some(Access {
                public_only: token.public_only,
                read_only: token.read_only,
            });
        }
    }
    found
}

/// Whether this caller may change something (feedback, resolving flags):
/// not with a read-only token, and not from a page of a site that is not
/// ours nor a configured CORS origin.
pub fn may_write(state: &AppState, access: Access, headers: &HeaderMap) -> Result<(), ApiError> {
    if access.read_only {
        return Err(ApiError::Forbidden("this token is read-only"));
    }
    let allowed_origin = headers
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .is_some_and(|o| state.kb.config.api.cors_origins.iter().any(|c| c == o));
    if same_origin(headers) || allowed_origin {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "a page of another site may not change anything here",
        ))
    }
}

/// Whether a state-changing request comes from our own pages, the check
/// against cross-site request forgery. Browsers send `Sec-Fetch-Site` (all
/// current ones) or at least `Origin` on a form post; a request with
/// neither is not from a browser, so no other site can have forged it.
pub fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        // `none`: typed or bookmarked by the user, not another page.
        return site == "same-origin" || site == "none";
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .is_some_and(|(_, rest)| host.is_some_and(|h| rest.eq_ignore_ascii_case(h)))
}

impl<S: Send + Sync> FromRequestParts<S> for Access {
    type Rejection = std::convert::Infallible;

    /// Routes outside `require_token` (signed integrations) see everything.
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Access>()
            .copied()
            .unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, axum::http::HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn only_our_own_pages_may_post_forms() {
        let host = ("host", "kb.example.com");
        assert!(same_origin(&headers(&[
            host,
            ("sec-fetch-site", "same-origin")
        ])));
        assert!(!same_origin(&headers(&[
            host,
            ("sec-fetch-site", "cross-site")
        ])));
        assert!(!same_origin(&headers(&[
            host,
            ("sec-fetch-site", "same-site")
        ])));
        assert!(same_origin(&headers(&[
            host,
            ("origin", "https://kb.example.com")
        ])));
        assert!(!same_origin(&headers(&[
            host,
            ("origin", "https://evil.example")
        ])));
        assert!(!same_origin(&headers(&[host, ("origin", "null")])));
        assert!(same_origin(&headers(&[host])), "not a browser");
    }

    #[test]
    fn a_bearer_token_grants_its_scope_and_nothing_else_does() {
        let tokens = vec![
            TokenConfig {
                sha256: sha256_of(b"internal-token-0001"),
                public_only: false,
                read_only: false,
            },
            TokenConfig {
                sha256: sha256_of(b"public-token-00001"),
                public_only: true,
                read_only: true,
            },
        ];
        assert_eq!(
            check(&tokens, "internal-token-0001"),
            Some(Access {
                public_only: false,
                read_only: false
            })
        );
        assert_eq!(
            check(&tokens, "public-token-00001"),
            Some(Access {
                public_only: true,
                read_only: true
            })
        );
        assert_eq!(check(&tokens, "internal-token-0002"), None);
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
    }
}
