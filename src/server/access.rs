//! Who is calling, and what they may do. `identify` runs first on every
//! request: a bearer token (`[api] tokens`, kept as SHA-256 hashes and
//! compared in constant time), else a signed-in session cookie, else an SSO
//! proxy's trusted header; wrong credentials count against the caller's
//! address and, past a limit, get 429s. Then the API and MCP need an
//! identity when tokens are configured (`require_token`), and the site
//! needs one when `[site] require_login` is on (`require_login`).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use super::error::ApiError;
use super::{AppState, session};
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

/// Who the request comes from, left in its extensions by `identify`.
#[derive(Clone, Debug, Default)]
pub struct Caller {
    /// What the caller's credentials grant; `None`: none presented, or
    /// wrong ones.
    pub identity: Option<Access>,
    /// The client's address (the SSO proxy's `X-Forwarded-For` when the
    /// peer is a trusted proxy).
    pub ip: Option<IpAddr>,
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Caller>()
            .cloned()
            .unwrap_or_default())
    }
}

/// Wrong tokens and passwords allowed per address per window.
const MAX_FAILURES: u32 = 10;
/// Wrong ones allowed from every address together per window: an attacker
/// who rotates source addresses must not multiply the guessing rate.
const MAX_FAILURES_GLOBAL: u32 = 100;
const FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// An address that presented a right credential this recently is still
/// let through while the global limit holds, so a guessing attack from
/// elsewhere does not lock out the people already working.
const KNOWN_GOOD_FOR: Duration = Duration::from_secs(24 * 3600);
/// Addresses remembered at most, each map; older entries are dropped first.
const MAX_ADDRESSES: usize = 10_000;

/// Failed sign-ins by address and in all, so guessing tokens is slow.
#[derive(Debug, Default)]
pub struct Failures(Mutex<FailureLog>);

#[derive(Debug, Default)]
struct FailureLog {
    by_address: HashMap<IpAddr, (u32, Instant)>,
    /// Every address's failures in the current window, and its start.
    global: Option<(u32, Instant)>,
    /// Addresses that signed in right, and when last.
    known_good: HashMap<IpAddr, Instant>,
}

impl Failures {
    fn log(&self) -> std::sync::MutexGuard<'_, FailureLog> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Seconds until `ip` may try again, when it is over its own limit, or
    /// when every address together is over theirs and `ip` is not one that
    /// signed in right lately.
    pub fn blocked(&self, ip: Option<IpAddr>) -> Option<u64> {
        let log = self.log();
        let left = |(count, since): &(u32, Instant), max: u32| {
            let left = FAILURE_WINDOW.saturating_sub(since.elapsed());
            (*count >= max && !left.is_zero()).then(|| left.as_secs().max(1))
        };
        if let Some(wait) = ip
            .and_then(|ip| log.by_address.get(&ip))
            .and_then(|entry| left(entry, MAX_FAILURES))
        {
            return Some(wait);
        }
        let known_good = ip
            .and_then(|ip| log.known_good.get(&ip))
            .is_some_and(|at| at.elapsed() < KNOWN_GOOD_FOR);
        if known_good {
            return None;
        }
        log.global
            .as_ref()
            .and_then(|entry| left(entry, MAX_FAILURES_GLOBAL))
    }

    pub fn record(&self, ip: Option<IpAddr>) {
        let mut log = self.log();
        let global = log.global.get_or_insert((0, Instant::now()));
        if global.1.elapsed() >= FAILURE_WINDOW {
            *global = (0, Instant::now());
        }
        global.0 = global.0.saturating_add(1);
        let Some(ip) = ip else { return };
        if log.by_address.len() > MAX_ADDRESSES {
            log.by_address
                .retain(|_, (_, since)| since.elapsed() < FAILURE_WINDOW);
        }
        let entry = log.by_address.entry(ip).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= FAILURE_WINDOW {
            *entry = (0, Instant::now());
        }
        entry.0 = entry.0.saturating_add(1);
    }

    /// `ip` presented a right credential.
    pub fn succeeded(&self, ip: Option<IpAddr>) {
        let Some(ip) = ip else { return };
        let mut log = self.log();
        if log.known_good.len() > MAX_ADDRESSES {
            log.known_good.retain(|_, at| at.elapsed() < KNOWN_GOOD_FOR);
            if log.known_good.len() > MAX_ADDRESSES {
                log.known_good.clear();
            }
        }
        log.known_good.insert(ip, Instant::now());
    }
}

/// Works out who is calling (see the module comment) and records it on the
/// request. Wrong credentials from an address over the limit get a 429
/// before anything else.
pub fn identify(state: &AppState, request: &mut Request) -> Result<(), ApiError> {
    let site = &state.kb.config.site;
    // Set by `server::serve`; a router served some other way has no peer.
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
    let headers = request.headers();
    let from_proxy = site.trusted_proxies.contains(&peer);
    let ip = if from_proxy {
        forwarded_for(headers).unwrap_or(peer)
    } else {
        peer
    };
    let tokens = &state.kb.config.api.tokens;
    let presented = headers
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().ok().and_then(bearer).unwrap_or(""));
    let identity = match presented {
        // An open server ignores credentials rather than counting them.
        Some(_) if tokens.is_empty() => None,
        Some(token) => {
            if let Some(wait) = state.failures.blocked(Some(ip)) {
                return Err(ApiError::RateLimited(wait));
            }
            let granted = check(tokens, token);
            match granted {
                Some(_) => state.failures.succeeded(Some(ip)),
                None => state.failures.record(Some(ip)),
            }
            granted
        }
        None => session::from_headers(headers)
            .and_then(|cookie| state.sessions.verify(cookie, tokens, crate::store::now()))
            .map(|token| Access {
                public_only: token.public_only,
                read_only: token.read_only,
            })
            .or_else(|| {
                let name = site.trusted_header.as_deref()?;
                let user = headers.get(name)?.to_str().ok()?;
                (from_proxy && !user.trim().is_empty()).then(Access::default)
            }),
    };
    request.extensions_mut().insert(Caller {
        identity,
        ip: Some(ip),
    });
    Ok(())
}

/// The client an SSO proxy saw: the last `X-Forwarded-For` address (the
/// one the proxy added; earlier ones are the client's own claims).
fn forwarded_for(headers: &HeaderMap) -> Option<IpAddr> {
    // Only the very last entry: if it is not an address, an earlier one
    // (the client's claim) must not stand in for it.
    let last = headers.get_all("x-forwarded-for").iter().next_back()?;
    last.to_str().ok()?.rsplit(',').next()?.trim().parse().ok()
}

/// Requires an identity on every request it wraps when tokens are
/// configured (or the site needs a login), and records the caller's
/// `Access`.
pub async fn require_token(
    State(state): State<AppState>,
    caller: Caller,
    mut request: Request,
    next: Next,
) -> Response {
    match access(&state, &caller) {
        Ok(access) => {
            request.extensions_mut().insert(access);
            next.run(request).await
        }
        Err(e) => e.into_response(),
    }
}

/// What the caller may see: everything when the server is open, else what
/// their credentials grant.
pub fn access(state: &AppState, caller: &Caller) -> Result<Access, ApiError> {
    let config = &state.kb.config;
    if config.api.tokens.is_empty() && !config.site.require_login {
        return Ok(Access::default());
    }
    caller.identity.ok_or(ApiError::Unauthorized)
}

/// Paths anyone may reach even when the site needs a login: signing in,
/// the theme's assets, health and metrics, the API's description, and the
/// inbox integrations (which check their own signatures). The API, MCP,
/// `llms.txt` and `/cards/<id>.md` answer 401 through `require_token`.
fn open_when_locked(path: &str) -> bool {
    matches!(
        path,
        "/login" | "/logout" | "/healthz" | "/metrics" | "/api/v1/openapi.json"
    ) || path.starts_with("/static/")
        || path.starts_with("/integrations/")
        || path.starts_with("/api/")
        || path == "/mcp"
        || path == "/llms.txt"
        || (path.starts_with("/cards/") && path.ends_with(".md"))
}

/// With `[site] require_login`, a page without a signed-in caller sends the
/// browser to `/login` (and back afterwards).
pub fn require_login(state: &AppState, request: &Request) -> Option<Response> {
    let path = request.uri().path();
    // A public-only token sees public cards in the API; the site's pages
    // are not scoped, so it does not open them.
    let signed_in = request
        .extensions()
        .get::<Caller>()
        .and_then(|caller| caller.identity)
        .is_some_and(|a| !a.public_only);
    if !state.kb.config.site.require_login || signed_in || open_when_locked(path) {
        return None;
    }
    let back = request
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let to = format!("/login?next={}", super::urls::encode_component(&back));
    Some((axum::http::StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response())
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
    find(tokens, presented).map(|token| Access {
        public_only: token.public_only,
        read_only: token.read_only,
    })
}

/// The configured token `presented` is, compared as `check` does.
pub fn find<'a>(tokens: &'a [TokenConfig], presented: &str) -> Option<&'a TokenConfig> {
    let hash = sha256_of(presented.as_bytes());
    let mut found = None;
    for token in tokens {
        if bool::from(token.sha256.ct_eq(&hash)) {
            found = Some(token);
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

    #[test]
    fn guessing_from_many_addresses_is_limited_in_all_but_known_good_addresses_go_on() {
        let failures = Failures::default();
        let address = |n: u32| Some(IpAddr::from(n.to_be_bytes()));
        let colleague = address(7);
        failures.succeeded(colleague);
        for n in 1000..1000 + MAX_FAILURES_GLOBAL {
            assert_eq!(failures.blocked(address(n)), None, "attempt from {n}");
            failures.record(address(n));
        }
        assert!(
            failures.blocked(address(5000)).is_some(),
            "a new address is refused once every address together is over the limit"
        );
        assert_eq!(
            failures.blocked(colleague),
            None,
            "an address that signed in right lately is still let through"
        );
    }
}
