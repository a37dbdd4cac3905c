//! `quire.toml`: where the content, theme, index and server live. Every
//! setting has a default, so an empty (or missing) file serves `./content`
//! on `http://127.0.0.1:8080`. Relative paths are relative to the file.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, Clone)]
pub struct Config {
    pub content_dir: PathBuf,
    pub themes_dir: PathBuf,
    pub theme: String,
    pub bind: SocketAddr,
    /// Where the index and other state live; `None` keeps them in memory.
    pub data_dir: Option<PathBuf>,
    pub max_card_bytes: usize,
    /// Watch the content folder and re-index on change.
    pub watch: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
}

/// The file's shape; every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    content: Option<PathBuf>,
    themes: Option<PathBuf>,
    theme: Option<String>,
    bind: Option<String>,
    data: Option<PathBuf>,
    max_card_bytes: Option<usize>,
    watch: Option<bool>,
}

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

impl Default for Config {
    fn default() -> Self {
        Config {
            content_dir: PathBuf::from("content"),
            themes_dir: PathBuf::from("themes"),
            theme: "default".into(),
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: Some(PathBuf::from(".quire")),
            max_card_bytes: 2 * 1024 * 1024,
            watch: true,
        }
    }
}

impl Config {
    /// Reads `path`, or `./quire.toml` when it exists, or the defaults.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let path = match path {
            Some(p) => p.to_path_buf(),
            None if Path::new("quire.toml").exists() => PathBuf::from("quire.toml"),
            None => return Ok(Config::default()),
        };
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        Config::parse(&text, path.parent().unwrap_or(Path::new("")), &path)
    }

    fn parse(text: &str, base: &Path, path: &Path) -> Result<Config, ConfigError> {
        let file: File = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let mut config = Config::default();
        let rel = |p: PathBuf| if p.is_absolute() { p } else { base.join(p) };
        config.content_dir = rel(file.content.unwrap_or(config.content_dir));
        config.themes_dir = rel(file.themes.unwrap_or(config.themes_dir));
        config.data_dir = Some(rel(file.data.unwrap_or_else(|| PathBuf::from(".quire"))));
        if let Some(theme) = file.theme {
            config.theme = theme;
        }
        if let Some(bind) = file.bind {
            config.bind = bind.parse().map_err(|_| ConfigError::Parse {
                path: path.to_path_buf(),
                message: format!("bind = {bind:?} is not an address such as \"{DEFAULT_BIND}\""),
            })?;
        }
        if let Some(max) = file.max_card_bytes {
            config.max_card_bytes = max;
        }
        if let Some(watch) = file.watch {
            config.watch = watch;
        }
        Ok(config)
    }

    /// The folder of the theme in use.
    pub fn theme_dir(&self) -> PathBuf {
        self.themes_dir.join(&self.theme)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_file_gives_the_defaults() {
        let c = Config::parse("", Path::new(""), Path::new("quire.toml")).unwrap();
        assert_eq!(c.content_dir, PathBuf::from("content"));
        assert_eq!(c.bind.to_string(), DEFAULT_BIND);
    }

    #[test]
    fn paths_are_relative_to_the_file_and_typos_are_reported() {
        let c = Config::parse(
            "content = \"docs\"\nbind = \"0.0.0.0:9000\"",
            Path::new("/site"),
            Path::new("/site/quire.toml"),
        )
        .unwrap();
        assert_eq!(c.content_dir, PathBuf::from("/site/docs"));
        assert_eq!(c.bind.port(), 9000);
        let e =
            Config::parse("contnet = \"x\"", Path::new(""), Path::new("quire.toml")).unwrap_err();
        assert!(e.to_string().contains("contnet"), "{e}");
        assert!(Config::parse("bind = \"nowhere\"", Path::new(""), Path::new("q.toml")).is_err());
    }
}
