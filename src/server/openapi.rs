//! The OpenAPI 3.1 description of `/api/v1`, generated from the handlers'
//! own annotations and the view types, so it cannot drift from the code.

use std::sync::OnceLock;

use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::{AppState, api};

/// `/api/v1/openapi.json`, open to all.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/openapi.json", get(serve))
}

async fn serve() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], document()).into_response()
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Quire API",
        description = "Search and read knowledge cards: for inbox sidebars, scripts and AI agents. Errors are `{\"code\", \"message\"}`. When `[api] tokens` are configured, every route but this document needs `Authorization: Bearer <token>`.",
    ),
    paths(
        api::search,
        api::suggest,
        api::match_ticket,
        api::collections,
        api::tags,
        api::card,
        api::list_feedback,
        api::card_post,
        api::resolve_feedback,
        api::undo_feedback,
        api::highlights,
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "search", description = "Finding cards: by words, while typing, from a ticket."),
        (name = "cards", description = "Reading cards, collections and tags."),
        (name = "feedback", description = "Readers' verdicts on cards, and resolving \"outdated\" flags."),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        openapi.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new(
            "token",
            Vec::<String>::new(),
        )]);
    }
}

/// The document as JSON, built once.
pub fn document() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        let mut doc = ApiDoc::openapi();
        doc.info.version = env!("CARGO_PKG_VERSION").to_string();
        doc.to_pretty_json().unwrap_or_else(|e| {
            tracing::error!("cannot serialise the OpenAPI document: {e}");
            "{}".to_string()
        })
    })
}
