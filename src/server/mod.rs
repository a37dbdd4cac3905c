//! The HTTP server: the JSON API (`api`) and the site (`site`) on one axum
//! router over the shared `Kb`. Reads only: it never writes the index or
//! the content folder.

pub mod access;
pub mod agents;
pub mod api;
pub mod browse;
pub mod error;
pub mod feeds;
pub mod files;
pub mod front_door;
pub mod integrations;
pub mod limits;
pub mod live;
pub mod login;
pub mod mcp;
pub mod openapi;
pub mod params;
pub mod search_page;
pub mod session;
pub mod site;
pub mod slots;
pub mod urls;
pub mod views;
pub mod webhooks;
pub mod workers;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, Method, header};
use axum::middleware;
use axum::response::IntoResponse;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::broadcast;
use tower::ServiceExt;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnFailure, TraceLayer};
use tracing::Level;

use crate::kb::Kb;
use crate::theme::Theme;
use error::ApiError;

/// What every handler shares. One `Arc` around it all: axum clones the
/// state into each middleware layer and handler of every request, and a
/// struct of eight `Arc`s cost eight contended atomic increments and
/// decrements each time (an eighth of a cached search's CPU).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
    pub kb: Arc<Kb>,
    pub theme: Arc<Theme>,
    /// A message per saved theme file, for live reload.
    pub theme_changes: broadcast::Sender<()>,
    /// Keeps the theme folder watched while the router lives.
    _theme_watch: Option<Arc<crate::watch::WatchHandle>>,
    /// Where handlers run, and admission to them (`[limits] max_in_flight`).
    pub workers: Arc<workers::Workers>,
    /// Live-reload streams held open (`[limits] max_event_streams`).
    pub event_streams: Arc<slots::Slots>,
    /// Signs the site's session cookies.
    pub sessions: Arc<session::SessionKey>,
    /// Wrong credentials by address, for rate limiting.
    pub failures: Arc<access::Failures>,
}

pub fn router(kb: Arc<Kb>) -> Router {
    let theme = Arc::new(Theme::load(&kb.config.theme_dir()));
    let kb_limits = kb.config.limits.clone();
    let (theme_changes, _) = broadcast::channel(16);
    let theme_watch = if kb.config.watch && kb.config.live_reload && theme.dir().is_dir() {
        watch_theme(theme.dir(), theme_changes.clone())
    } else {
        None
    };
    let sessions = Arc::new(session::SessionKey::choose(
        kb.config.site.session_key.as_ref(),
        kb.store.shared_session_key(),
        kb.config.data_dir.as_deref(),
    ));
    let state = AppState(Arc::new(Shared {
        kb,
        theme,
        theme_changes,
        _theme_watch: theme_watch,
        workers: workers::Workers::per_core(kb_limits.max_in_flight),
        event_streams: slots::Slots::new(kb_limits.max_event_streams, live::STREAMS_PER_ADDRESS),
        sessions,
        failures: Arc::new(access::Failures::default()),
    }));
    let api = api::router()
        .merge(mcp::router())
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            access::require_token,
        ))
        .merge(api::open_router())
        .merge(openapi::router());
    // CORS outside the token check: preflights carry no token, and a 401
    // must still be readable by the allowed origin.
    let api = match cors(&state.kb.config.api.cors_origins) {
        Some(layer) => api.layer(layer),
        None => api,
    };
    let routes = Router::new()
        .merge(api)
        .merge(integrations::router())
        .merge(webhooks::router())
        .merge(agents::router())
        .merge(feeds::router())
        .merge(site::router())
        .merge(login::router())
        .fallback(site::fallback)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            front_door::enter,
        ))
        .with_state(state);
    // These layers wrap the routes once, not each route: a layer given to a
    // router is cloned, boxed and dropped again for each request.
    let stack = tower::ServiceBuilder::new()
        // Every request gets an id (or keeps the caller's), logged with
        // each line about it and echoed as `x-request-id`.
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        // A 503 while the index builds is expected, not an error worth a log
        // line; real failures are logged where they happen.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request| {
                    let id = request
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    tracing::info_span!("request", id, method = %request.method(), path = %request.uri().path())
                })
                .on_failure(DefaultOnFailure::new().level(Level::DEBUG)),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        // A bug in one handler answers that request with a JSON 500; the
        // connection and the server go on.
        .layer(CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                ApiError::internal("a request handler panicked").into_response()
            },
        ))
        .layer(CompressionLayer::new())
        .layer(DefaultBodyLimit::max(kb_limits.max_body_bytes))
        .service(routes);
    Router::new().fallback_service(stack)
}

/// Tells `changes` whenever a file of the theme changes (live reload while
/// a theme is edited); `None`, with a warning, when it cannot be watched.
fn watch_theme(
    dir: &std::path::Path,
    changes: broadcast::Sender<()>,
) -> Option<Arc<crate::watch::WatchHandle>> {
    let watched = crate::watch::watch(dir, move |_| {
        let _ = changes.send(());
        true
    });
    match watched {
        Ok(handle) => Some(Arc::new(handle)),
        Err(e) => {
            tracing::warn!("{e}: pages will not reload when the theme changes");
            None
        }
    }
}

/// The base of absolute links sent into another tool: `public_url`, else
/// the request's own host.
pub fn public_url(state: &AppState, headers: &axum::http::HeaderMap) -> String {
    if let Some(url) = &state.kb.config.public_url {
        return url.clone();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// CORS for the configured origins only; none configured, none sent (the
/// sidebar page is same-origin and needs none).
fn cors(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allowed: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(allowed))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

/// File descriptors kept for everything but connections: the index's
/// segments, the database, the watcher, the content being read.
const RESERVED_FDS: u64 = 256;

/// The connection cap that fits this process's file descriptor limit,
/// which is first raised to the most the system allows.
fn connection_cap(configured: usize) -> usize {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct given.
    let fds = unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return configured;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit.rlim_cur = limit.rlim_max;
            }
        }
        limit.rlim_cur
    };
    let room = fds.saturating_sub(RESERVED_FDS).max(1);
    configured.min(usize::try_from(room).unwrap_or(usize::MAX))
}

/// How long connections in flight may take to finish after shutdown.
const DRAIN: Duration = Duration::from_secs(10);

/// Serves `app` on `listener` until `shutdown` resolves, then finishes the
/// requests in flight (for at most `DRAIN`). Connections are served by
/// hyper directly rather than `axum::serve`, for a header read timeout: a
/// client that opens connections and trickles its headers (slowloris) is
/// cut off instead of holding them forever. Connections past `[limits]`'
/// caps (in all, per address) are closed as they are accepted, so file
/// descriptors are left for the index, the database and other clients.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    config: &crate::config::Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = &config.limits;
    let header_read_timeout = Duration::from_millis(limits.header_read_timeout_ms);
    // A proxy in front speaks for many clients from one address: only the
    // cap in all applies to it.
    let connections = slots::Slots::new(
        connection_cap(limits.max_connections),
        limits.max_connections_per_address,
    )
    .exempting(config.site.trusted_proxies.clone());
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout)
        .max_headers(100)
        .keep_alive(true);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before
                    // it was accepted: the listener is fine; back off a
                    // moment rather than spin.
                    tracing::warn!("accepting a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(slot) = connections.take(peer.ip()) else {
            tracing::debug!("too many connections; closing one from {}", peer.ip());
            drop(tcp);
            continue;
        };
        // Without TCP_NODELAY a keep-alive client waits ~40 ms on each small
        // response (Nagle's algorithm meeting delayed ACKs).
        let _ = tcp.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone().map_request(
            move |request: axum::http::Request<hyper::body::Incoming>| {
                let mut request = request.map(axum::body::Body::new);
                // Who is at the other end, for rate limits and proxies.
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                request
            },
        ));
        let connection = graceful.watch(http.serve_connection(TokioIo::new(tcp), service));
        tokio::spawn(async move {
            // A client that goes away mid-request is not our error.
            let _ = connection.await;
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some connections were still open after {DRAIN:?}; closing them");
    }
    Ok(())
}
