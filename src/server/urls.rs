//! The site's URLs, built in one place: each path segment and query value
//! percent-encoded.

use crate::content::CardId;

/// `/cards/<id>` with each segment percent-encoded.
pub fn card_url(id: &CardId) -> String {
    format!("/cards/{}", encode_path(id.as_str()))
}

pub fn file_url(rel_path: &str) -> String {
    format!("/files/{}", encode_path(rel_path))
}

/// Percent-encodes a path, keeping `/` between segments.
pub fn encode_path(path: &str) -> String {
    percent_encode(path, b"-._~/")
}

/// Percent-encodes a query-string value or a single path segment.
pub fn encode_component(value: &str) -> String {
    percent_encode(value, b"-._~")
}

fn percent_encode(text: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || keep.contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn folder_url(path: &str) -> String {
    format!("/collections/{}", encode_path(path))
}

pub fn tag_url(tag: &str) -> String {
    format!("/tags/{}", encode_component(tag))
}
