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
    /// The address people reach the site at (`https://kb.example.com`), for
    /// links sent into other tools; unset, the request's `Host` is used.
    pub public_url: Option<String>,
    /// Where the index and other state live; `None` keeps them in memory.
    pub data_dir: Option<PathBuf>,
    pub max_card_bytes: usize,
    /// Watch the content folder and re-index on change.
    pub watch: bool,
    /// Compare the whole folder with the index this often, whatever the
    /// watcher says (missed events, a network mount without any); 0: never.
    /// Without a working watcher, at least every 5 seconds.
    pub reconcile_seconds: u64,
    /// Pages reload themselves when what they show is saved.
    pub live_reload: bool,
    /// Search answers kept until the cards change (`search::cache`); 0:
    /// every search is worked out afresh.
    pub search_cache: usize,
    /// Ticket matching also searches a ticket's most telling words in the
    /// other languages of the cards (`search::lexicon`).
    pub translate_tickets: bool,
    /// `[insights] enabled`: log searches and card openings for the insights page.
    pub insights: bool,
    /// Logged searches older than this many days are deleted.
    pub retention_days: u32,
    pub api: ApiConfig,
    /// Help Scout dynamic app: the app's secret key.
    pub helpscout_secret: Option<String>,
    /// Intercom Canvas Kit inbox app: the app's client secret.
    pub intercom_secret: Option<String>,
    /// Origins allowed to frame `/sidebar` (CSP `frame-ancestors`).
    pub sidebar_frame_origins: Vec<String>,
    pub git: GitConfig,
    pub limits: HttpLimits,
    pub site: SiteAccess,
    pub store: StoreConfig,
}

/// `[store]`: where written state (feedback, flags, the search log) goes.
#[derive(Debug, Clone, Default)]
pub struct StoreConfig {
    /// A PostgreSQL connection string (`url`, or the contents of
    /// `url_file`), so replicas share it; `None`: SQLite in the data folder.
    pub url: Option<Secret>,
}

/// A value that may hold a credential: `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// `[site]`: who may read the site when it is not open to all.
#[derive(Debug, Clone, Default)]
pub struct SiteAccess {
    /// Every page needs a signed-in session (a token from `[api] tokens`
    /// entered on `/login`) or the SSO proxy's header.
    pub require_login: bool,
    /// A header an SSO proxy sets to the signed-in user
    /// (`X-Forwarded-User`); trusted only from `trusted_proxies`.
    pub trusted_header: Option<String>,
    /// Peers whose `trusted_header` and `X-Forwarded-For` are believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// How long a session lasts.
    pub session_hours: u64,
    /// `session_key_file`: a file every replica reads, so they accept
    /// each other's sessions; unset, the key is the shared database's
    /// (`[store] url`) or `<data>/session.key`.
    pub session_key: Option<KeyBytes>,
}

/// A signing key (the SHA-256 of `session_key_file`'s contents, so any
/// secret text of 32 bytes or more will do); `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyBytes(pub [u8; 32]);

impl std::fmt::Debug for KeyBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyBytes(..)")
    }
}

/// The least a session key file holds: a shorter secret is guessable.
const MIN_SESSION_KEY_BYTES: usize = 32;

/// `[limits]`: what the HTTP server refuses rather than queues.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    /// Larger request bodies get a 413.
    pub max_body_bytes: usize,
    /// A handler that has not answered by then gets a 503.
    pub request_timeout_ms: u64,
    /// Requests in flight above this get a 503 with `Retry-After`.
    pub max_in_flight: usize,
    /// A client that has not sent its headers by then is disconnected.
    pub header_read_timeout_ms: u64,
    /// A request whose body has not arrived whole by then gets a 408. Bodies
    /// are read before a request takes a worker, so a slow sender holds a
    /// connection, never a slot other requests need.
    pub body_read_timeout_ms: u64,
    /// Open connections past this many are closed as they are accepted.
    pub max_connections: usize,
    /// Open connections from one address past this many are closed.
    pub max_connections_per_address: usize,
    /// Live-reload streams (`/events`) held open at once, in all.
    pub max_event_streams: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            max_body_bytes: 1024 * 1024,
            request_timeout_ms: 10_000,
            max_in_flight: 256,
            header_read_timeout_ms: 10_000,
            body_read_timeout_ms: 10_000,
            max_connections: 4096,
            max_connections_per_address: 128,
            max_event_streams: 256,
        }
    }
}

/// `[git]`: last changes read from the repository holding the content.
#[derive(Debug, Clone)]
pub struct GitConfig {
    /// Read git history at all (off: the file's modification time).
    pub enabled: bool,
    /// A link to a file's history with `{path}`; unset, derived from the
    /// `origin` remote on GitHub, GitLab, Codeberg or Bitbucket.
    pub history_url: Option<String>,
    /// A link to edit a file on the forge with `{path}` (like MkDocs'
    /// `edit_uri`); unset, derived from the `origin` remote as above.
    pub edit_url: Option<String>,
    /// How often to look for new commits.
    pub poll_seconds: u64,
    /// `remote`, `branch`, `pull_seconds`, the webhook's secret: a remote
    /// the content folder follows; `None` serves the folder as it is.
    pub follow: Option<FollowConfig>,
}

impl Default for GitConfig {
    fn default() -> Self {
        GitConfig {
            enabled: true,
            history_url: None,
            edit_url: None,
            poll_seconds: 2,
            follow: None,
        }
    }
}

/// `[git] remote = "..."`: the content folder is a clone of this remote's
/// branch, kept at its tip (`remote` module).
#[derive(Debug, Clone)]
pub struct FollowConfig {
    /// The URL as git takes it (`https://`, `ssh://`, `git@host:path`, a
    /// path). Never holds a password: credentials come from git's own means.
    pub url: String,
    pub branch: String,
    /// How often to fetch when no webhook says there is something new.
    pub pull_seconds: u64,
    /// The longest a clone or a fetch may take before it is stopped.
    pub timeout_seconds: u64,
    /// Where the push webhook's secret is read from at start-up; `None`:
    /// no webhook, only fetching on the interval.
    pub webhook_secret: Option<SecretSource>,
}

/// A secret kept out of `quire.toml`: read at start-up from the environment
/// or a file (a Docker or systemd secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    Env(String),
    File(PathBuf),
}

/// `[api]`: who may call the JSON API and MCP, and from which origins.
#[derive(Debug, Clone, Default)]
pub struct ApiConfig {
    /// Empty: the API is open (bind to loopback or put it behind a proxy).
    pub tokens: Vec<TokenConfig>,
    /// Browser origins allowed by CORS; empty: same origin only.
    pub cors_origins: Vec<String>,
}

/// One API token, kept only as its SHA-256 so the file need not hold it.
#[derive(Clone)]
pub struct TokenConfig {
    pub sha256: [u8; 32],
    /// Only `audience: public` cards are visible with it.
    pub public_only: bool,
    /// Searches and reads only: no feedback.
    pub read_only: bool,
}

impl std::fmt::Debug for TokenConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenConfig")
            .field("public_only", &self.public_only)
            .field("read_only", &self.read_only)
            .finish_non_exhaustive()
    }
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
    public_url: Option<String>,
    data: Option<PathBuf>,
    max_card_bytes: Option<usize>,
    watch: Option<bool>,
    reconcile_seconds: Option<u64>,
    live_reload: Option<bool>,
    search_cache: Option<usize>,
    translate_tickets: Option<bool>,
    insights: Option<InsightsFile>,
    api: Option<ApiFile>,
    helpscout: Option<SecretFile>,
    intercom: Option<SecretFile>,
    sidebar: Option<SidebarFile>,
    git: Option<GitFile>,
    limits: Option<LimitsFile>,
    site: Option<SiteFile>,
    store: Option<StoreFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoreFile {
    url: Option<String>,
    url_file: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SiteFile {
    require_login: Option<bool>,
    trusted_header: Option<String>,
    #[serde(default)]
    trusted_proxies: Vec<String>,
    session_hours: Option<u64>,
    session_key_file: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsFile {
    max_body_bytes: Option<usize>,
    request_timeout_ms: Option<u64>,
    max_in_flight: Option<usize>,
    header_read_timeout_ms: Option<u64>,
    body_read_timeout_ms: Option<u64>,
    max_connections: Option<usize>,
    max_connections_per_address: Option<usize>,
    max_event_streams: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GitFile {
    enabled: Option<bool>,
    history_url: Option<String>,
    edit_url: Option<String>,
    poll_seconds: Option<u64>,
    remote: Option<String>,
    branch: Option<String>,
    pull_seconds: Option<u64>,
    timeout_seconds: Option<u64>,
    webhook_secret_env: Option<String>,
    webhook_secret_file: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApiFile {
    #[serde(default)]
    tokens: Vec<toml::Value>,
    #[serde(default)]
    cors_origins: Vec<String>,
}

/// A misspelt key must not silently widen what a token grants.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScopedToken {
    token: Option<String>,
    sha256: Option<String>,
    audience: Option<String>,
    /// `read` (search and read only) or `write` (the default).
    scope: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InsightsFile {
    enabled: Option<bool>,
    retention_days: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretFile {
    secret: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SidebarFile {
    #[serde(default)]
    frame_origins: Vec<String>,
}

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

/// Search answers kept: a page of ten hits is some 10-30 KB, so at most a
/// few megabytes.
pub const DEFAULT_SEARCH_CACHE: usize = 256;

impl Default for Config {
    fn default() -> Self {
        Config {
            content_dir: PathBuf::from("content"),
            themes_dir: PathBuf::from("themes"),
            theme: "default".into(),
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            data_dir: Some(PathBuf::from(".quire")),
            max_card_bytes: 2 * 1024 * 1024,
            watch: true,
            reconcile_seconds: 600,
            live_reload: true,
            search_cache: DEFAULT_SEARCH_CACHE,
            translate_tickets: true,
            insights: true,
            retention_days: 90,
            api: ApiConfig::default(),
            helpscout_secret: None,
            intercom_secret: None,
            sidebar_frame_origins: vec![
                "https://*.frontapp.com".into(),
                "https://*.frontapplication.com".into(),
            ],
            git: GitConfig::default(),
            limits: HttpLimits::default(),
            site: SiteAccess {
                session_hours: 12,
                ..SiteAccess::default()
            },
            store: StoreConfig::default(),
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
            message: without_passwords(&e.to_string()),
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
        if let Some(url) = file.public_url {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(ConfigError::Parse {
                    path: path.to_path_buf(),
                    message: format!("public_url = {url:?} must start with https:// or http://"),
                });
            }
            config.public_url = Some(url.trim_end_matches('/').to_string());
        }
        if let Some(max) = file.max_card_bytes {
            config.max_card_bytes = max;
        }
        if let Some(watch) = file.watch {
            config.watch = watch;
        }
        if let Some(seconds) = file.reconcile_seconds {
            config.reconcile_seconds = seconds;
        }
        if let Some(live_reload) = file.live_reload {
            config.live_reload = live_reload;
        }
        if let Some(entries) = file.search_cache {
            config.search_cache = entries;
        }
        if let Some(on) = file.translate_tickets {
            config.translate_tickets = on;
        }
        if let Some(insights) = file.insights {
            config.insights = insights.enabled.unwrap_or(true);
            config.retention_days = insights.retention_days.unwrap_or(90).max(1);
        }
        let invalid = |section: &str, why: String| ConfigError::Parse {
            path: path.to_path_buf(),
            message: format!("[{section}] {why}"),
        };
        if let Some(api) = file.api {
            config.api = api_section(api).map_err(|why| invalid("api", why))?;
        }
        config.helpscout_secret = file.helpscout.map(|s| s.secret);
        config.intercom_secret = file.intercom.map(|s| s.secret);
        if let Some(sidebar) = file.sidebar {
            config.sidebar_frame_origins = sidebar.frame_origins;
        }
        if let Some(git) = file.git {
            config.git = git_section(git, &rel).map_err(|why| invalid("git", why))?;
        }
        if let Some(site) = file.site {
            let session_key_file = site.session_key_file.clone();
            config.site = site_section(site, &config.api).map_err(|why| invalid("site", why))?;
            if let Some(file) = session_key_file {
                config.site.session_key = Some(session_key(rel(file), path)?);
            }
        }
        if let Some(store) = file.store {
            config.store = store_section(store, &rel, path)?;
        }
        if let Some(limits) = file.limits {
            config.limits = limits_section(limits);
        }
        Ok(config)
    }

    /// The folder of the theme in use.
    pub fn theme_dir(&self) -> PathBuf {
        self.themes_dir.join(&self.theme)
    }
}

/// Reads one `[api] tokens` entry into the hash the server compares.
/// An entry is `"secret"`, `"sha256:<hex>"`, or a table that adds a scope.
fn token(entry: toml::Value) -> Result<TokenConfig, String> {
    let (plain, hashed, audience, scope) = match entry {
        toml::Value::String(s) => match s.strip_prefix("sha256:") {
            Some(hex) => (None, Some(hex.to_string()), None, None),
            None => (Some(s), None, None, None),
        },
        table @ toml::Value::Table(_) => {
            let ScopedToken {
                token,
                sha256,
                audience,
                scope,
            } = table
                .try_into()
                .map_err(|e: toml::de::Error| e.message().to_string())?;
            (token, sha256, audience, scope)
        }
        _ => return Err("a token is a string or a table".into()),
    };
    let read_only = match scope.as_deref() {
        None | Some("write") => false,
        Some("read") => true,
        Some(other) => {
            return Err(format!(
                "scope must be \"read\" or \"write\", got {other:?}"
            ));
        }
    };
    let sha256 = match (plain, hashed) {
        (Some(t), None) if t.len() >= 16 => sha256_of(t.as_bytes()),
        (Some(_), None) => return Err("a token must be at least 16 characters".into()),
        (None, Some(hex)) => parse_hex32(&hex).ok_or("sha256 must be 64 hexadecimal digits")?,
        _ => return Err("give either `token` or `sha256`".into()),
    };
    let public_only = match audience.as_deref() {
        None | Some("all") => false,
        Some("public") => true,
        Some(other) => {
            return Err(format!(
                "audience must be \"public\" or \"all\", got {other:?}"
            ));
        }
    };
    Ok(TokenConfig {
        sha256,
        public_only,
        read_only,
    })
}

pub fn sha256_of(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}

/// `[api]`: tokens (plain, hashed or scoped) and CORS origins.
fn api_section(api: ApiFile) -> Result<ApiConfig, String> {
    let tokens = api
        .tokens
        .into_iter()
        .enumerate()
        .map(|(i, t)| token(t).map_err(|why| format!("tokens[{i}]: {why}")))
        .collect::<Result<_, _>>()?;
    for origin in &api.cors_origins {
        if !(origin.starts_with("https://") || origin.starts_with("http://"))
            || origin.ends_with('/')
        {
            return Err(format!(
                "cors_origins: {origin:?} is not an origin such as \"https://app.example.com\""
            ));
        }
    }
    Ok(ApiConfig {
        tokens,
        cors_origins: api.cors_origins,
    })
}

/// `[git]`: reading history, the links to a file's history and editor,
/// and the remote the folder follows.
fn git_section(git: GitFile, rel: &dyn Fn(PathBuf) -> PathBuf) -> Result<GitConfig, String> {
    for (key, url) in [
        ("history_url", &git.history_url),
        ("edit_url", &git.edit_url),
    ] {
        if let Some(url) = url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err(format!(
                "{key} = {url:?} must start with https:// or http://"
            ));
        }
    }
    let follow = match git.remote {
        Some(url) => Some(follow_section(
            url,
            git.branch,
            git.pull_seconds,
            git.timeout_seconds,
            secret_source(git.webhook_secret_env, git.webhook_secret_file.map(rel))?,
        )?),
        None if git.branch.is_some()
            || git.pull_seconds.is_some()
            || git.webhook_secret_env.is_some()
            || git.webhook_secret_file.is_some() =>
        {
            return Err("branch, pull_seconds and webhook_secret_* need remote".into());
        }
        None => None,
    };
    Ok(GitConfig {
        enabled: git.enabled.unwrap_or(true),
        history_url: git.history_url,
        edit_url: git.edit_url,
        poll_seconds: git.poll_seconds.unwrap_or(2).max(1),
        follow,
    })
}

/// The remote to follow, checked so that git reads every value as what it
/// is (never as an option) and no password sits in the file.
fn follow_section(
    url: String,
    branch: Option<String>,
    pull_seconds: Option<u64>,
    timeout_seconds: Option<u64>,
    webhook_secret: Option<SecretSource>,
) -> Result<FollowConfig, String> {
    if url.trim().is_empty() || url.starts_with('-') {
        return Err(format!("remote = {url:?} is not a git URL"));
    }
    if url_has_password(&url) {
        return Err(format!(
            "remote = {:?} holds a password or token: give git the credential instead \
             (an SSH key, a credential helper, or GIT_ASKPASS with a token in the environment)",
            crate::git::redact(&url)
        ));
    }
    let branch = branch.unwrap_or_else(|| "main".into());
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./".contains(c);
    if branch.is_empty()
        || branch.starts_with(['-', '/', '.'])
        || branch.ends_with(['/', '.'])
        || branch.contains("..")
        || !branch.chars().all(plain)
    {
        return Err(format!("branch = {branch:?} is not a branch name"));
    }
    Ok(FollowConfig {
        url,
        branch,
        pull_seconds: pull_seconds.unwrap_or(60).max(1),
        timeout_seconds: timeout_seconds.unwrap_or(120).max(1),
        webhook_secret,
    })
}

/// `scheme://user:password@host`: the one form that puts a credential in
/// the URL (`https://oauth2@host` and `git@host:path` name a user only).
/// A password in the URL, or over http(s) any user name at all: forges
/// take a token as the user name (`https://ghp_…@github.com/…`). An SSH
/// user (`ssh://git@host`, `git@host:path`) is no secret.
fn url_has_password(url: &str) -> bool {
    let Some((scheme, rest)) = url.split_once("://") else {
        return false;
    };
    let authority = rest.split('/').next().unwrap_or("");
    authority.rsplit_once('@').is_some_and(|(user, _)| {
        user.contains(':') || matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https")
    })
}

fn secret_source(
    env: Option<String>,
    file: Option<PathBuf>,
) -> Result<Option<SecretSource>, String> {
    match (env, file) {
        (Some(_), Some(_)) => {
            Err("give webhook_secret_env or webhook_secret_file, not both".into())
        }
        (Some(name), None) if name.trim().is_empty() => {
            Err("webhook_secret_env names no variable".into())
        }
        (Some(name), None) => Ok(Some(SecretSource::Env(name))),
        (None, Some(path)) => Ok(Some(SecretSource::File(path))),
        (None, None) => Ok(None),
    }
}

/// `[site]`: who may read the site, and how they sign in (`api`'s tokens
/// are one way).
fn site_section(site: SiteFile, api: &ApiConfig) -> Result<SiteAccess, String> {
    let trusted_proxies = site
        .trusted_proxies
        .iter()
        .map(|p| {
            p.parse()
                .map_err(|_| format!("trusted_proxies: {p:?} is not an IP address"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if site.trusted_header.is_some() && trusted_proxies.is_empty() {
        return Err("trusted_header needs trusted_proxies: the addresses of the SSO proxy".into());
    }
    let access = SiteAccess {
        require_login: site.require_login.unwrap_or(false),
        trusted_header: site.trusted_header,
        trusted_proxies,
        session_hours: site.session_hours.unwrap_or(12).clamp(1, 24 * 90),
        session_key: None,
    };
    if access.require_login && api.tokens.is_empty() && access.trusted_header.is_none() {
        return Err("require_login needs [api] tokens to sign in with, or trusted_header".into());
    }
    Ok(access)
}

/// The key in `file`: the SHA-256 of its contents, trimmed (a hex or
/// base64 secret written with a newline is the same key without it).
fn session_key(file: PathBuf, config_path: &Path) -> Result<KeyBytes, ConfigError> {
    let bytes = std::fs::read(&file).map_err(|source| ConfigError::Read {
        path: file.clone(),
        source,
    })?;
    let secret = bytes.trim_ascii();
    if secret.len() < MIN_SESSION_KEY_BYTES {
        return Err(ConfigError::Parse {
            path: config_path.to_path_buf(),
            message: format!(
                "[site] session_key_file {} holds {} bytes; it needs {MIN_SESSION_KEY_BYTES} or more (`openssl rand -hex 32 > {}`)",
                file.display(),
                secret.len(),
                file.display()
            ),
        });
    }
    Ok(KeyBytes(sha256_of(secret)))
}

/// `text` with the password of every `scheme://user:password@` cut out:
/// TOML's messages quote the line they are about, which may be `[store]
/// url`'s.
fn without_passwords(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        let authority_end = after
            .find(|c: char| c == '/' || c == '"' || c.is_whitespace())
            .unwrap_or(after.len());
        let authority = &after[..authority_end];
        match (authority.rfind('@'), authority.find(':')) {
            (Some(at), Some(colon)) if colon < at => {
                out.push_str(&authority[..colon]);
                out.push_str(":***");
                out.push_str(&authority[at..]);
            }
            _ => out.push_str(authority),
        }
        rest = &after[authority_end..];
    }
    out.push_str(rest);
    out
}

/// `[store]`: `url`, or `url_file` (a file holding it, such as a
/// container's secret), so the password need not be in `quire.toml`.
/// Messages never quote the value: it may hold the password.
fn store_section(
    store: StoreFile,
    rel: &dyn Fn(PathBuf) -> PathBuf,
    config_path: &Path,
) -> Result<StoreConfig, ConfigError> {
    let invalid = |why: &str| ConfigError::Parse {
        path: config_path.to_path_buf(),
        message: format!("[store] {why}"),
    };
    let url = match (store.url, store.url_file) {
        (Some(_), Some(_)) => return Err(invalid("give either url or url_file, not both")),
        (Some(url), None) => url,
        (None, Some(file)) => {
            let path = rel(file);
            let text = std::fs::read_to_string(&path)
                .map_err(|source| ConfigError::Read { path, source })?;
            text.trim().to_string()
        }
        (None, None) => return Ok(StoreConfig::default()),
    };
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(invalid(
            "url must be a PostgreSQL URL such as postgres://quire@db.example.com/quire (the value is not shown: it may hold a password)",
        ));
    }
    Ok(StoreConfig {
        url: Some(Secret(url)),
    })
}

/// `[limits]`: each value floored where a smaller one would stop serving.
fn limits_section(limits: LimitsFile) -> HttpLimits {
    let d = HttpLimits::default();
    HttpLimits {
        max_body_bytes: limits.max_body_bytes.unwrap_or(d.max_body_bytes).max(1024),
        request_timeout_ms: limits
            .request_timeout_ms
            .unwrap_or(d.request_timeout_ms)
            .max(100),
        max_in_flight: limits.max_in_flight.unwrap_or(d.max_in_flight).max(1),
        header_read_timeout_ms: limits
            .header_read_timeout_ms
            .unwrap_or(d.header_read_timeout_ms)
            .max(100),
        body_read_timeout_ms: limits
            .body_read_timeout_ms
            .unwrap_or(d.body_read_timeout_ms)
            .max(100),
        max_connections: limits.max_connections.unwrap_or(d.max_connections).max(1),
        max_connections_per_address: limits
            .max_connections_per_address
            .unwrap_or(d.max_connections_per_address)
            .max(1),
        max_event_streams: limits.max_event_streams.unwrap_or(d.max_event_streams),
    }
}

fn parse_hex32(hex: &str) -> Option<[u8; 32]> {
    crate::hex::decode(hex.trim())?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_file_gives_the_defaults() {
        let c = Config::parse("", Path::new(""), Path::new("quire.toml")).unwrap();
        assert_eq!(c.content_dir, PathBuf::from("content"));
        assert_eq!(c.bind.to_string(), DEFAULT_BIND);
        assert!(c.translate_tickets);
        let off = Config::parse(
            "translate_tickets = false",
            Path::new(""),
            Path::new("q.toml"),
        );
        assert!(!off.unwrap().translate_tickets);
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

    #[test]
    fn tokens_may_be_plain_hashed_or_scoped_to_public_cards() {
        let hashed = "a".repeat(64);
        let text = format!(
            "[api]\ntokens = [\"0123456789abcdef\", \"sha256:{hashed}\", \
             {{ token = \"fedcba9876543210\", audience = \"public\" }}]\n\
             cors_origins = [\"https://app.frontapp.com\"]\n\
             [helpscout]\nsecret = \"hs\"\n[sidebar]\nframe_origins = []\n"
        );
        let c = Config::parse(&text, Path::new(""), Path::new("quire.toml")).unwrap();
        let tokens = &c.api.tokens;
        assert_eq!(tokens.len(), 3);
        assert_eq!(tokens[0].sha256, sha256_of(b"0123456789abcdef"));
        assert_eq!(tokens[1].sha256, [0xaa; 32]);
        assert!(!tokens[1].public_only && tokens[2].public_only);
        assert_eq!(c.helpscout_secret.as_deref(), Some("hs"));
        assert!(c.sidebar_frame_origins.is_empty());
        for bad in [
            "[api]\ntokens = [\"short\"]",
            "[api]\ntokens = [\"sha256:abc\"]",
            "[api]\ntokens = [{ token = \"0123456789abcdef\", audience = \"friends\" }]",
            "[api]\ntokens = [{ token = \"0123456789abcdef\", audiance = \"public\" }]",
            "[api]\ntokens = [{ token = \"0123456789abcdef\", scop = \"read\" }]",
            "[api]\ncors_origins = [\"app.frontapp.com\"]",
        ] {
            let e = Config::parse(bad, Path::new(""), Path::new("quire.toml")).unwrap_err();
            assert!(e.to_string().contains("[api]"), "{e}");
        }
    }

    #[test]
    fn a_remote_is_followed_with_its_secret_kept_out_of_the_file() {
        let text = "[git]\nremote = \"https://git.example.com/kb.git\"\nbranch = \"handbook\"\n\
                    pull_seconds = 30\nwebhook_secret_file = \"secrets/hook\"\n";
        let c = Config::parse(text, Path::new("/site"), Path::new("/site/quire.toml")).unwrap();
        let follow = c.git.follow.expect("a remote");
        assert_eq!(follow.branch, "handbook");
        assert_eq!(follow.pull_seconds, 30);
        assert_eq!(
            follow.webhook_secret,
            Some(SecretSource::File(PathBuf::from("/site/secrets/hook")))
        );
        let c = Config::parse(
            "[git]\nremote = \"git@github.com:acme/kb.git\"\nwebhook_secret_env = \"HOOK\"",
            Path::new(""),
            Path::new("q.toml"),
        )
        .unwrap();
        let follow = c.git.follow.expect("a remote");
        assert_eq!(follow.branch, "main");
        assert_eq!(
            follow.webhook_secret,
            Some(SecretSource::Env("HOOK".into()))
        );
    }

    #[test]
    fn a_password_in_the_remote_or_a_branch_git_would_read_as_an_option_is_refused() {
        for (bad, says) in [
            (
                "remote = \"https://bot:s3cret@git.example.com/kb.git\"",
                "password",
            ),
            (
                "remote = \"https://ghp_s3cret@github.com/acme/kb.git\"",
                "password or token",
            ),
            ("remote = \"--upload-pack=evil\"", "not a git URL"),
            ("remote = \"/srv/kb.git\"\nbranch = \"--force\"", "branch"),
            ("remote = \"/srv/kb.git\"\nbranch = \"a..b\"", "branch"),
            ("branch = \"main\"", "need remote"),
            (
                "remote = \"/srv/kb.git\"\nwebhook_secret_env = \"A\"\nwebhook_secret_file = \"f\"",
                "not both",
            ),
        ] {
            let e = Config::parse(&format!("[git]\n{bad}"), Path::new(""), Path::new("q.toml"))
                .unwrap_err()
                .to_string();
            assert!(e.contains(says), "{bad}: {e}");
            assert!(!e.contains("s3cret"), "{e}");
        }
    }

    #[test]
    fn the_store_url_comes_from_the_file_or_url_file_and_is_never_shown() {
        let c = Config::parse(
            "[store]\nurl = \"postgres://quire:pw@db/kb\"",
            Path::new(""),
            Path::new("quire.toml"),
        )
        .unwrap();
        let url = c.store.url.as_ref().expect("a url");
        assert_eq!(url.expose(), "postgres://quire:pw@db/kb");
        assert!(!format!("{c:?}").contains("pw@"));
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("db-url"), "postgresql://quire:pw2@db/kb\n").unwrap();
        let c = Config::parse(
            "[store]\nurl_file = \"db-url\"",
            dir.path(),
            &dir.path().join("quire.toml"),
        )
        .unwrap();
        assert_eq!(
            c.store.url.unwrap().expose(),
            "postgresql://quire:pw2@db/kb"
        );
        for bad in [
            "[store]\nurl = \"mysql://quire:hunter2@db/kb\"",
            "[store]\nurl = \"postgres://quire:hunter2@db/kb\"\nurl_file = \"x\"",
            "[store]\nurll = \"postgres://quire:hunter2@db/kb\"",
        ] {
            let e = Config::parse(bad, Path::new(""), Path::new("quire.toml")).unwrap_err();
            assert!(!e.to_string().contains("hunter2"), "{e}");
            assert!(
                e.to_string().contains("store") || e.to_string().contains("url"),
                "{e}"
            );
        }
    }

    #[test]
    fn a_session_key_file_gives_every_replica_one_key_and_a_short_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let config = |file: &str| {
            Config::parse(
                &format!("[site]\nsession_key_file = \"{file}\""),
                dir.path(),
                &dir.path().join("quire.toml"),
            )
        };
        std::fs::write(dir.path().join("key"), format!("{}\n", "ab".repeat(32))).unwrap();
        std::fs::write(dir.path().join("same"), "ab".repeat(32)).unwrap();
        std::fs::write(dir.path().join("short"), "tooshort").unwrap();
        let key = config("key").unwrap().site.session_key.expect("a key");
        assert_eq!(Some(key.clone()), config("same").unwrap().site.session_key);
        assert!(!format!("{key:?}").contains(&format!("{:?}", key.0)));
        let e = config("short").unwrap_err().to_string();
        assert!(e.contains("32 or more"), "{e}");
        assert!(matches!(config("missing"), Err(ConfigError::Read { .. })));
    }

    #[test]
    fn passwords_in_urls_are_cut_out_of_messages() {
        assert_eq!(
            without_passwords("url = \"postgres://quire:s3cret@db:5432/kb\" here"),
            "url = \"postgres://quire:***@db:5432/kb\" here"
        );
        assert_eq!(
            without_passwords("https://example.com:8080/x and ftp://u@h"),
            "https://example.com:8080/x and ftp://u@h"
        );
    }
}
