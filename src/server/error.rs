//! The one error type of the HTTP layer: a stable snake_case `code`, a
//! status, and a message safe to show. Internals are logged, never sent.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    CardNotFound(String),
    NotFound,
    InvalidParameter(String),
    NotReady,
    Internal,
}

/// The `code` of an error response, left in its extensions.
#[derive(Clone, Copy, Debug)]
pub struct ErrorCode(pub &'static str);

#[derive(Serialize)]
struct Body<'a> {
    code: &'a str,
    message: String,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::CardNotFound(_) | ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::InvalidParameter(_) => StatusCode::BAD_REQUEST,
            ApiError::NotReady => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::CardNotFound(_) => "card_not_found",
            ApiError::NotFound => "not_found",
            ApiError::InvalidParameter(_) => "invalid_parameter",
            ApiError::NotReady => "index_not_ready",
            ApiError::Internal => "internal_error",
        }
    }

    pub fn message(&self) -> String {
        match self {
            ApiError::CardNotFound(id) => format!("no card with id {id:?}"),
            ApiError::NotFound => "no such endpoint".into(),
            ApiError::InvalidParameter(why) => why.clone(),
            ApiError::NotReady => "the index is still being built; retry in a moment".into(),
            ApiError::Internal => "something went wrong on our side; it has been logged".into(),
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
            Json(Body {
                code: self.code(),
                message: self.message(),
            }),
        )
            .into_response();
        // For the metrics middleware, which counts errors by code.
        response.extensions_mut().insert(ErrorCode(self.code()));
        if self == ApiError::NotReady {
            response
                .headers_mut()
                .insert("retry-after", axum::http::HeaderValue::from_static("1"));
        }
        response
    }
}
