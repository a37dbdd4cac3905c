//! Signed-in sessions for the site: a cookie that says which token signed
//! in and until when, signed with HMAC-SHA256 under a key kept in the data
//! folder (so a restart keeps everyone signed in). Nothing is stored on the
//! server; removing a token from `quire.toml` ends its sessions.

use std::io::Write;
use std::path::Path;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::TokenConfig;

pub const COOKIE: &str = "quire_session";

pub struct SessionKey([u8; 32]);

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey(..)")
    }
}

impl SessionKey {
    /// The key replicas share, when there is one: `[site]
    /// session_key_file`'s, else the shared database's; else the data
    /// folder's (`load`).
    pub fn choose(
        configured: Option<&crate::config::KeyBytes>,
        shared: Option<[u8; 32]>,
        data_dir: Option<&Path>,
    ) -> SessionKey {
        match configured.map(|k| k.0).or(shared) {
            Some(key) => SessionKey(key),
            None => SessionKey::load(data_dir),
        }
    }

    /// The key in `<data>/session.key`, created (readable by the owner
    /// only) when missing; without a data folder, a key for this process.
    pub fn load(data_dir: Option<&Path>) -> SessionKey {
        let Some(dir) = data_dir else {
            return SessionKey(random());
        };
        let path = dir.join("session.key");
        if let Ok(bytes) = std::fs::read(&path)
            && let Ok(key) = <[u8; 32]>::try_from(bytes.as_slice())
        {
            return SessionKey(key);
        }
        let key = random();
        let written = std::fs::create_dir_all(dir).and_then(|()| {
            let mut options = std::fs::File::options();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&path)?;
            file.write_all(&key)?;
            file.sync_all()
        });
        if let Err(e) = written {
            tracing::warn!(
                "cannot keep the session key in {}: {e}; sessions end at restart",
                path.display()
            );
        }
        SessionKey(key)
    }

    /// A cookie value for `token`, valid until `expires` (Unix seconds).
    pub fn issue(&self, token: &TokenConfig, expires: i64) -> String {
        let payload = format!("v1.{expires}.{}", token_id(token));
        format!("{payload}.{}", crate::hex::encode(&self.mac(&payload)))
    }

    /// The configured token a cookie value was issued for, if its signature
    /// holds (checked in constant time), it has not expired, and the token
    /// is still configured.
    pub fn verify<'a>(
        &self,
        value: &str,
        tokens: &'a [TokenConfig],
        now: i64,
    ) -> Option<&'a TokenConfig> {
        let (payload, signature) = value.rsplit_once('.')?;
        let signature = crate::hex::decode(signature)?;
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).ok()?;
        mac.update(payload.as_bytes());
        mac.verify_slice(&signature).ok()?;
        let mut parts = payload.split('.');
        if parts.next()? != "v1" {
            return None;
        }
        let expires: i64 = parts.next()?.parse().ok()?;
        let id = parts.next()?;
        if expires <= now {
            return None;
        }
        tokens.iter().find(|t| token_id(t) == id)
    }

    /// What proves a caller gave the vote `feedback` (returned with it, so
    /// only its giver can take it back: ids are sequential).
    pub fn undo_token(&self, feedback: i64) -> String {
        crate::hex::encode(&self.mac(&format!("undo.{feedback}")))
    }

    /// Whether `token` is `undo_token(feedback)`, compared in constant time.
    pub fn undo_token_holds(&self, feedback: i64, token: &str) -> bool {
        let (Some(token), Ok(mut mac)) = (
            crate::hex::decode(token),
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0),
        ) else {
            return false;
        };
        mac.update(format!("undo.{feedback}").as_bytes());
        mac.verify_slice(&token).is_ok()
    }

    fn mac(&self, payload: &str) -> Vec<u8> {
        match <Hmac<Sha256> as Mac>::new_from_slice(&self.0) {
            Ok(mut mac) => {
                mac.update(payload.as_bytes());
                mac.finalize().into_bytes().to_vec()
            }
            // HMAC takes keys of any length; this cannot happen.
            Err(_) => Vec::new(),
        }
    }
}

/// Which token signed in: the first 8 bytes of its SHA-256, not a secret.
fn token_id(token: &TokenConfig) -> String {
    crate::hex::encode(&token.sha256[..8])
}

/// The session cookie's value among a request's cookies.
pub fn from_headers(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == COOKIE).then_some(value)
        })
}

fn random() -> [u8; 32] {
    let mut key = [0u8; 32];
    if getrandom::fill(&mut key).is_err() {
        // No system randomness: derive from time and address, for this
        // process only (the key is then not written).
        let seed = format!("{:?}{:p}", std::time::SystemTime::now(), &key);
        key = crate::config::sha256_of(seed.as_bytes());
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::sha256_of;

    fn token(secret: &str) -> TokenConfig {
        TokenConfig {
            sha256: sha256_of(secret.as_bytes()),
            public_only: false,
            read_only: false,
        }
    }

    #[test]
    fn a_session_holds_until_it_expires_is_tampered_with_or_its_token_goes() {
        let key = SessionKey([7; 32]);
        let tokens = vec![token("first-token-000001"), token("second-token-00002")];
        let cookie = key.issue(&tokens[1], 2_000);
        let who = |key: &SessionKey, cookie: &str, tokens: &[TokenConfig], now| {
            key.verify(cookie, tokens, now).map(|t| t.sha256)
        };
        assert_eq!(who(&key, &cookie, &tokens, 1_000), Some(tokens[1].sha256));
        assert_eq!(who(&key, &cookie, &tokens, 2_000), None, "expired");
        let longer = cookie.replacen("v1.2000.", "v1.9000.", 1);
        assert_eq!(who(&key, &longer, &tokens, 1_000), None, "tampered");
        assert_eq!(
            who(&key, &cookie, &tokens[..1], 1_000),
            None,
            "token removed"
        );
        assert_eq!(
            who(&SessionKey([8; 32]), &cookie, &tokens, 1_000),
            None,
            "other key"
        );
        assert_eq!(who(&key, "garbage", &tokens, 1_000), None);
        assert_eq!(who(&key, "v1.x.y.zz", &tokens, 1_000), None);
    }

    #[test]
    fn the_key_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let a = SessionKey::load(Some(dir.path()));
        let b = SessionKey::load(Some(dir.path()));
        assert_eq!(a.0, b.0);
    }
}
