//! Serving files from disk (attachments under `content/`, theme assets):
//! content types from an allow-list, `nosniff`, and active formats (SVG,
//! HTML) as downloads under a sandboxing CSP.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The type a file is served as, and whether it must be a download.
/// Scripts and stylesheets run only from the theme (`trusted`): an
/// author's `.js` or `.css` attachment is served as text, so that even
/// `script-src 'self'` can never run it.
fn content_type(path: &str, trusted: bool) -> (&'static str, bool) {
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "png" => ("image/png", false),
        "jpg" | "jpeg" => ("image/jpeg", false),
        "gif" => ("image/gif", false),
        "webp" => ("image/webp", false),
        "avif" => ("image/avif", false),
        "ico" => ("image/x-icon", false),
        "pdf" => ("application/pdf", false),
        "txt" => ("text/plain; charset=utf-8", false),
        "csv" => ("text/csv; charset=utf-8", false),
        "json" => ("application/json", false),
        "woff2" => ("font/woff2", false),
        "woff" => ("font/woff", false),
        "css" if trusted => ("text/css; charset=utf-8", false),
        "js" | "mjs" if trusted => ("text/javascript; charset=utf-8", false),
        "svg" if trusted => ("image/svg+xml", false),
        "svg" => ("image/svg+xml", true),
        "css" | "js" | "mjs" | "html" | "htm" | "xml" => ("text/plain; charset=utf-8", true),
        _ => ("application/octet-stream", true),
    }
}

/// A response for a file's bytes. `trusted` files are the theme's own
/// assets; attachments are not.
pub fn file_response(name: &str, bytes: Vec<u8>, trusted: bool) -> Response {
    let (mime, download) = content_type(name, trusted);
    let mut response = (StatusCode::OK, bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    if download {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("sandbox; default-src 'none'"),
        );
        headers.insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("attachment"),
        );
    }
    response
}
