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
            });
        }
    }
    found
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

    #[test]
    fn a_bearer_token_grants_its_scope_and_nothing_else_does() {
        let tokens = vec![
            TokenConfig {
                sha256: sha256_of(b"internal-token-0001"),
                public_only: false,
            },
            TokenConfig {
                sha256: sha256_of(b"public-token-00001"),
                public_only: true,
            },
        ];
        assert_eq!(
            check(&tokens, "internal-token-0001"),
            Some(Access { public_only: false })
        );
        assert_eq!(
            check(&tokens, "public-token-00001"),
            Some(Access { public_only: true })
        );
        assert_eq!(check(&tokens, "internal-token-0002"), None);
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
    }
}
