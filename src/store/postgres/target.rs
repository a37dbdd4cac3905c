//! Which PostgreSQL database `[store] url` names, and how it is shown: the
//! password (from the URL, or `PGPASSWORD` as libpq reads it) is used to
//! connect and never appears in a message, a log line or a `Debug`.

use std::fmt;

use tokio_postgres::config::Host;

use crate::store::StoreError;

/// A parsed connection string, with a password-free name for messages.
pub(super) struct Target {
    pub(super) config: tokio_postgres::Config,
    shown: String,
}

impl Target {
    /// Reads `url` (`postgres://user[:password]@host[:port]/database`, or
    /// libpq's `key=value` form); without a password in it, `password`
    /// (the caller passes `PGPASSWORD`) is used.
    pub(super) fn parse(url: &str, password: Option<String>) -> Result<Target, StoreError> {
        // The parser's message may quote the text, which may hold the
        // password: only its kind of mistake is said.
        let mut config: tokio_postgres::Config = url.parse().map_err(|_| {
            StoreError::Url(
                "it is not a PostgreSQL connection string such as postgres://quire@db.example.com:5432/quire"
                    .into(),
            )
        })?;
        if config.get_hosts().is_empty() {
            return Err(StoreError::Url("it names no host".into()));
        }
        if config.get_password().is_none()
            && let Some(password) = password.filter(|p| !p.is_empty())
        {
            config.password(password);
        }
        if config.get_application_name().is_none() {
            config.application_name("quire");
        }
        let shown = shown(&config);
        Ok(Target { config, shown })
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Target").field(&self.shown).finish()
    }
}

/// `postgres://user@host:port/database`, built from the parsed parts so
/// nothing of the password can be in it.
fn shown(config: &tokio_postgres::Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| {
            let name = match host {
                Host::Tcp(name) => name.clone(),
                Host::Unix(path) => path.display().to_string(),
            };
            match config.get_ports().get(i).or(config.get_ports().first()) {
                Some(port) => format!("{name}:{port}"),
                None => name,
            }
        })
        .collect();
    let user = config
        .get_user()
        .map(|u| format!("{u}@"))
        .unwrap_or_default();
    let database = config.get_dbname().unwrap_or("");
    format!("postgres://{user}{}/{database}", hosts.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shown_target_never_holds_the_password() {
        let target = Target::parse("postgres://quire:s3cret-pw@db.example.com:6432/kb", None)
            .expect("a valid url");
        assert_eq!(
            target.to_string(),
            "postgres://quire@db.example.com:6432/kb"
        );
        assert!(!format!("{target:?}").contains("s3cret"));
        assert_eq!(target.config.get_password(), Some(&b"s3cret-pw"[..]));
    }

    #[test]
    fn a_password_from_the_environment_is_used_only_when_the_url_has_none() {
        let from_env = Target::parse("postgres://quire@db/kb", Some("env-pw".into())).unwrap();
        assert_eq!(from_env.config.get_password(), Some(&b"env-pw"[..]));
        let in_url = Target::parse("postgres://quire:url-pw@db/kb", Some("env-pw".into())).unwrap();
        assert_eq!(in_url.config.get_password(), Some(&b"url-pw"[..]));
    }

    #[test]
    fn a_malformed_url_is_refused_without_quoting_it() {
        let Err(e) = Target::parse("postgres://quire:pa ss@db:notaport/kb", None) else {
            panic!("a bad port was accepted");
        };
        let said = e.to_string();
        assert!(said.contains("postgres://quire@db.example.com"), "{said}");
        assert!(!said.contains("pa ss"), "{said}");
    }
}
