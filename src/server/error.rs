//! The one error type of the HTTP layer: a stable snake_case `code`, a
//! status, and a message safe to show. Internals are logged, never sent.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::app::AppError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    CardNotFound(String),
    NotFound,
    InvalidParameter(String),
    NotReady,
    Internal,
    /// No valid bearer token where tokens are configured.
    Unauthorized,
    /// An integration's request signature is missing or wrong.
    BadSignature,
    /// An integration that `quire.toml` does not configure.
    NotConfigured(&'static str),
    InvalidBody(String),
    PayloadTooLarge(usize),
    /// The URL (usually its query) is over this many bytes.
    UriTooLong(usize),
    /// Too many requests in flight: shed rather than queue.
    Overloaded,
    /// The handler did not answer within the request time limit.
    Timeout,
    /// The request's body did not arrive whole within its time limit.
    BodyTimeout,
    /// Refused whatever the credentials (a cross-site form post, a
    /// read-only token writing).
    Forbidden(&'static str),
    /// Too many failed logins or tokens from one address.
    RateLimited(u64),
    /// The database refused: the disk is full, read-only, ...
    StorageUnavailable(&'static str),
}

/// The `code` of an error response, left in its extensions.
#[derive(Clone, Copy, Debug)]
pub struct ErrorCode(pub &'static str);

/// Every error the API sends: `{"code": "...", "message": "..."}`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody<'a> {
    /// Stable and snake_case: `card_not_found`, `invalid_parameter`,
    /// `unauthorized`, `index_not_ready`...
    code: &'a str,
    /// For people; may change.
    message: String,
}

impl ApiError {
    /// The one table from error to status and stable code.
    fn kind(&self) -> (StatusCode, &'static str) {
        use StatusCode as S;
        match self {
            ApiError::CardNotFound(_) => (S::NOT_FOUND, "card_not_found"),
            ApiError::NotFound => (S::NOT_FOUND, "not_found"),
            ApiError::InvalidParameter(_) => (S::BAD_REQUEST, "invalid_parameter"),
            ApiError::NotReady => (S::SERVICE_UNAVAILABLE, "index_not_ready"),
            ApiError::Internal => (S::INTERNAL_SERVER_ERROR, "internal_error"),
            ApiError::Unauthorized => (S::UNAUTHORIZED, "unauthorized"),
            ApiError::BadSignature => (S::UNAUTHORIZED, "invalid_signature"),
            ApiError::NotConfigured(_) => (S::NOT_FOUND, "not_configured"),
            ApiError::InvalidBody(_) => (S::BAD_REQUEST, "invalid_body"),
            ApiError::PayloadTooLarge(_) => (S::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::UriTooLong(_) => (S::URI_TOO_LONG, "uri_too_long"),
            ApiError::Overloaded => (S::SERVICE_UNAVAILABLE, "overloaded"),
            ApiError::Timeout => (S::SERVICE_UNAVAILABLE, "timeout"),
            ApiError::BodyTimeout => (S::REQUEST_TIMEOUT, "body_timeout"),
            ApiError::Forbidden(_) => (S::FORBIDDEN, "forbidden"),
            ApiError::RateLimited(_) => (S::TOO_MANY_REQUESTS, "rate_limited"),
            ApiError::StorageUnavailable(_) => (S::SERVICE_UNAVAILABLE, "storage_unavailable"),
        }
    }

    pub fn status(&self) -> StatusCode {
        self.kind().0
    }

    pub fn code(&self) -> &'static str {
        self.kind().1
    }

    pub fn message(&self) -> String {
        match self {
            ApiError::CardNotFound(id) => format!("no card with id {id:?}"),
            ApiError::NotFound => "no such endpoint".into(),
            ApiError::InvalidParameter(why) => why.clone(),
            ApiError::NotReady => "the index is still being built; retry in a moment".into(),
            ApiError::Internal => "something went wrong on our side; it has been logged".into(),
            ApiError::Unauthorized => {
                "a valid token is required: send `Authorization: Bearer <token>`".into()
            }
            ApiError::BadSignature => "the request signature is missing or does not match".into(),
            ApiError::NotConfigured(what) => format!("{what} is not configured on this server"),
            ApiError::InvalidBody(why) => why.clone(),
            ApiError::PayloadTooLarge(max) => format!("the request body is over {max} bytes"),
            ApiError::UriTooLong(max) => format!(
                "the URL is over {max} bytes; send a long text in a POST body (e.g. /api/v1/match)"
            ),
            ApiError::Overloaded => "the server is busy; retry in a moment".into(),
            ApiError::Timeout => "the request took too long and was stopped".into(),
            ApiError::BodyTimeout => "the request body did not arrive in time".into(),
            ApiError::Forbidden(why) => (*why).into(),
            ApiError::RateLimited(secs) => {
                format!("too many failed attempts; retry in {secs} seconds")
            }
            ApiError::StorageUnavailable(why) => {
                format!("the database cannot be used now ({why}); nothing was changed; retry later")
            }
        }
    }

    /// Logs the real cause and answers with a generic internal error.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        tracing::error!("internal error: {cause}");
        ApiError::Internal
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status(),
            Json(ErrorBody {
                code: self.code(),
                message: self.message(),
            }),
        )
            .into_response();
        // For the metrics middleware, which counts errors by code.
        response.extensions_mut().insert(ErrorCode(self.code()));
        let headers = response.headers_mut();
        match self {
            ApiError::NotReady | ApiError::Overloaded | ApiError::Timeout => {
                headers.insert("retry-after", axum::http::HeaderValue::from_static("1"));
            }
            ApiError::RateLimited(secs) => {
                headers.insert("retry-after", axum::http::HeaderValue::from(secs));
            }
            ApiError::Unauthorized => {
                headers.insert(
                    axum::http::header::WWW_AUTHENTICATE,
                    axum::http::HeaderValue::from_static("Bearer"),
                );
            }
            _ => {}
        }
        response
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotReady => ApiError::NotReady,
            AppError::CardNotFound(id) => ApiError::CardNotFound(id),
            AppError::Forbidden(why) => ApiError::Forbidden(why),
            AppError::Invalid(what) => ApiError::InvalidParameter(what),
            AppError::Index(cause) => ApiError::internal(cause),
            // What the database refused: a 503 the caller can retry when the
            // disk is the cause (full, read-only), else an internal error.
            AppError::Store(e) => match e.unavailable() {
                Some(why) => {
                    tracing::error!("database: {e}: {why}");
                    ApiError::StorageUnavailable(why)
                }
                None => ApiError::internal(e),
            },
        }
    }
}
