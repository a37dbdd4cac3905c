//! `POST /api/v1/git/push`: a forge's push webhook, which makes the
//! followed remote be fetched at once instead of at the next interval. The
//! signature is the credential (bearer tokens do not apply), checked over
//! the exact bytes received, in constant time, with the inbox
//! integrations' code. A request that fails it changes nothing.

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::post;
use hmac::Hmac;
use serde_json::json;
use subtle::ConstantTimeEq;

use super::AppState;
use super::error::ApiError;
use super::integrations::{header, read, signed};
use crate::config::sha256_of;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/git/push", post(push))
}

/// Any signed event wakes the fetch (a push to another branch costs one
/// fetch that finds nothing new), so forges' "ping" and "test" deliveries
/// show as delivered. Answers 202 at once: the fetch runs on the
/// follower's thread, never on this request.
async fn push(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let remote = state
        .kb
        .remote()
        .ok_or(ApiError::NotConfigured("following a git remote"))?;
    let secret = remote
        .secret()
        .ok_or(ApiError::NotConfigured("the git push webhook"))?;
    let bytes = read(body).await?;
    if !signed_by_forge(secret, &headers, &bytes) {
        return Err(ApiError::BadSignature);
    }
    remote.pull_now();
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "status": "fetching", "branch": remote.branch() })),
    )
        .into_response())
}

/// Whether the request carries one forge's proof of `secret`:
/// - GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`;
/// - Gitea and Forgejo: `X-Gitea-Signature` (Forgejo also sends
///   `X-Forgejo-Signature`): the same HMAC, bare hex;
/// - GitLab: `X-Gitlab-Token`: the secret itself (GitLab signs nothing),
///   compared as SHA-256 hashes in constant time, as API tokens are.
fn signed_by_forge(secret: &str, headers: &HeaderMap, body: &[u8]) -> bool {
    let hex_hmac =
        |value: &str| signed::<Hmac<sha2::Sha256>>(secret, body, crate::hex::decode(value));
    if let Some(value) = header(headers, "x-hub-signature-256") {
        return value.strip_prefix("sha256=").is_some_and(hex_hmac);
    }
    if let Some(value) =
        header(headers, "x-gitea-signature").or_else(|| header(headers, "x-forgejo-signature"))
    {
        return hex_hmac(value);
    }
    if let Some(token) = header(headers, "x-gitlab-token") {
        return bool::from(sha256_of(token.as_bytes()).ct_eq(&sha256_of(secret.as_bytes())));
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::Mac;

    const SECRET: &str = "a-webhook-secret-of-some-length";

    fn hmac_hex(secret: &str, body: &[u8]) -> String {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key");
        mac.update(body);
        crate::hex::encode(&mac.finalize().into_bytes())
    }

    fn headers(name: &'static str, value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(name, value.parse().expect("header value"));
        headers
    }

    #[test]
    fn each_forge_proves_the_secret_its_own_way() {
        let body = br#"{"ref":"refs/heads/main"}"#;
        let good = hmac_hex(SECRET, body);
        let github = headers("x-hub-signature-256", &format!("sha256={good}"));
        assert!(signed_by_forge(SECRET, &github, body));
        assert!(signed_by_forge(
            SECRET,
            &headers("x-gitea-signature", &good),
            body
        ));
        assert!(signed_by_forge(
            SECRET,
            &headers("x-forgejo-signature", &good),
            body
        ));
        assert!(signed_by_forge(
            SECRET,
            &headers("x-gitlab-token", SECRET),
            body
        ));
    }

    #[test]
    fn a_wrong_missing_or_misplaced_proof_is_refused() {
        let body = br#"{"ref":"refs/heads/main"}"#;
        let good = hmac_hex(SECRET, body);
        let other = hmac_hex("another-secret-entirely", body);
        for refused in [
            HeaderMap::new(),
            headers("x-hub-signature-256", &good),
            headers("x-hub-signature-256", &format!("sha256={other}")),
            headers("x-hub-signature-256", "sha256=zz"),
            headers("x-gitea-signature", &other),
            headers("x-gitlab-token", "a-webhook-secret-of-some-lengtH"),
            headers("x-gitlab-token", ""),
        ] {
            assert!(!signed_by_forge(SECRET, &refused, body), "{refused:?}");
        }
        let tampered = br#"{"ref":"refs/heads/evil"}"#;
        let github = headers("x-hub-signature-256", &format!("sha256={good}"));
        assert!(!signed_by_forge(SECRET, &github, tampered));
    }
}
