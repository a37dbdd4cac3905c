//! Following a git remote (`[git] remote`): the content folder is cloned
//! when empty, then fetched every `pull_seconds` and at once when a push
//! webhook wakes it, and moved to the fetched commit in one step. It never
//! merges, never commits and never throws a local edit away: anything it
//! cannot do is reported (`Status::problem`) while the last good commit
//! stays checked out and served. It knows neither the index nor HTTP: it
//! tells its caller which commit the folder now holds (`on_moved`).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::{FollowConfig, SecretSource};
use crate::git;

mod checkout;
mod problem;
pub use problem::{Problem, ProblemKind};

/// Local commands (rev-parse, status, reset) read and write one folder;
/// more than this means a stuck file system, not a slow network.
const LOCAL_LIMIT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error("[git] webhook secret: the environment variable {0} is not set")]
    SecretEnvMissing(String),
    #[error("[git] webhook secret: cannot read {path}")]
    SecretFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("[git] webhook secret: it must be at least 16 characters")]
    SecretTooShort,
}

/// Where following stands.
#[derive(Clone, Debug, Default)]
pub struct Status {
    /// The commit checked out by the last move (or found at start).
    pub checked_out: Option<String>,
    /// The remote branch's tip at the last successful fetch.
    pub fetched: Option<String>,
    pub last_fetch: Option<DateTime<Utc>>,
    pub problem: Option<Problem>,
}

/// Counters for `/metrics`.
#[derive(Default)]
struct Counters {
    fetches: AtomicU64,
    fetch_failures: AtomicU64,
    moves: AtomicU64,
    webhooks: AtomicU64,
}

/// A snapshot of the counters.
#[derive(Clone, Copy, Debug, Default)]
pub struct Counts {
    pub fetches: u64,
    pub fetch_failures: u64,
    pub moves: u64,
    pub webhooks: u64,
}

/// What the following thread and its owner share.
struct Shared {
    config: FollowConfig,
    dir: PathBuf,
    status: RwLock<Status>,
    counters: Counters,
    /// Set by a webhook (or `stop`); the thread waits on `wake`.
    pending: Mutex<bool>,
    wake: Condvar,
    stopped: AtomicBool,
}

/// The remote the content folder follows. Dropping it stops the thread.
pub struct Follower {
    shared: Arc<Shared>,
    /// The push webhook's secret, read at start-up; `None`: no webhook.
    secret: Option<String>,
}

impl Follower {
    /// Reads the webhook's secret (from the environment or its file); the
    /// folder is touched only once `start` runs.
    pub fn new(config: FollowConfig, dir: &Path) -> Result<Follower, RemoteError> {
        let secret = config
            .webhook_secret
            .as_ref()
            .map(read_secret)
            .transpose()?;
        Ok(Follower {
            shared: Arc::new(Shared {
                config,
                dir: dir.to_path_buf(),
                status: RwLock::new(Status::default()),
                counters: Counters::default(),
                pending: Mutex::new(false),
                wake: Condvar::new(),
                stopped: AtomicBool::new(false),
            }),
            secret,
        })
    }

    /// Starts following on a thread of its own. `on_moved` is called with
    /// the commit the folder holds once it is known (at start, and after
    /// each move; `None` when the folder is served without following); it
    /// returns `false` once nobody listens, which ends the thread.
    pub fn start(
        &self,
        on_moved: impl FnMut(Option<String>) -> bool + Send + 'static,
    ) -> std::io::Result<()> {
        let shared = self.shared.clone();
        std::thread::Builder::new()
            .name("quire-remote".into())
            .spawn(move || {
                crate::priority::background();
                shared.run(on_moved);
            })
            .map(|_| ())
    }

    /// A push webhook arrived: fetch now rather than at the next interval.
    /// Never waits.
    pub fn pull_now(&self) {
        self.shared
            .counters
            .webhooks
            .fetch_add(1, Ordering::Relaxed);
        self.shared.poke();
    }

    pub fn secret(&self) -> Option<&str> {
        self.secret.as_deref()
    }

    pub fn status(&self) -> Status {
        self.shared
            .status
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn counts(&self) -> Counts {
        let c = &self.shared.counters;
        Counts {
            fetches: c.fetches.load(Ordering::Relaxed),
            fetch_failures: c.fetch_failures.load(Ordering::Relaxed),
            moves: c.moves.load(Ordering::Relaxed),
            webhooks: c.webhooks.load(Ordering::Relaxed),
        }
    }

    /// The remote's URL as it may be shown: without credentials.
    pub fn url(&self) -> String {
        git::redact(&self.shared.config.url)
    }

    pub fn branch(&self) -> &str {
        &self.shared.config.branch
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.shared.stopped.store(true, Ordering::Release);
        self.shared.poke();
    }
}

fn read_secret(source: &SecretSource) -> Result<String, RemoteError> {
    let text = match source {
        SecretSource::Env(name) => {
            std::env::var(name).map_err(|_| RemoteError::SecretEnvMissing(name.clone()))?
        }
        SecretSource::File(path) => {
            std::fs::read_to_string(path).map_err(|source| RemoteError::SecretFile {
                path: path.clone(),
                source,
            })?
        }
    };
    // A file written with `echo` ends in a newline that is not the secret.
    let secret = text.trim();
    if secret.len() < 16 {
        return Err(RemoteError::SecretTooShort);
    }
    Ok(secret.to_string())
}

/// The outcome of one step that could not be taken.
type Step<T> = Result<T, (ProblemKind, String)>;

impl Shared {
    fn poke(&self) {
        *self.pending.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.wake.notify_one();
    }

    /// Waits for a webhook or the interval; `false` once stopped.
    fn wait(&self) -> bool {
        let every = Duration::from_secs(self.config.pull_seconds);
        let pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let (mut pending, _) = self
            .wake
            .wait_timeout_while(pending, every, |p| !*p)
            .unwrap_or_else(|e| e.into_inner());
        *pending = false;
        !self.stopped.load(Ordering::Acquire)
    }

    fn run(&self, mut on_moved: impl FnMut(Option<String>) -> bool) {
        // Until the folder holds a commit (a clone that has not succeeded
        // yet), each round tries again.
        loop {
            if self.stopped.load(Ordering::Acquire) {
                return;
            }
            match self.prepare() {
                Ok((head, cloned)) => {
                    self.clear_problem();
                    self.set(|s| s.checked_out = Some(head.clone()));
                    if !on_moved(Some(head)) {
                        return;
                    }
                    // A clone left by an earlier run may be far behind:
                    // fetch at once rather than after an interval.
                    if !cloned {
                        self.poke();
                    }
                    break;
                }
                Err((ProblemKind::NotFollowable, message)) => {
                    // Served as it is: never touched.
                    self.report(ProblemKind::NotFollowable, message);
                    let _ = on_moved(None);
                    return;
                }
                Err((kind, message)) => self.report(kind, message),
            }
            if !self.wait() {
                return;
            }
        }
        while self.wait() {
            match self.pull() {
                Ok(Some(commit)) => {
                    self.clear_problem();
                    self.counters.moves.fetch_add(1, Ordering::Relaxed);
                    self.set(|s| s.checked_out = Some(commit.clone()));
                    tracing::info!("content moved to {}", short(&commit));
                    if !on_moved(Some(commit)) {
                        return;
                    }
                }
                Ok(None) => self.clear_problem(),
                Err((kind, message)) => self.report(kind, message),
            }
        }
    }

    fn set(&self, change: impl FnOnce(&mut Status)) {
        change(&mut self.status.write().unwrap_or_else(|e| e.into_inner()));
    }

    fn report(&self, kind: ProblemKind, message: String) {
        let message = git::redact(&message);
        let mut status = self.status.write().unwrap_or_else(|e| e.into_inner());
        let same = status
            .problem
            .as_ref()
            .is_some_and(|p| p.kind == kind && p.message == message);
        if !same {
            tracing::warn!("following the remote: {message}");
        }
        let since = status
            .problem
            .as_ref()
            .filter(|p| p.kind == kind)
            .map_or_else(Utc::now, |p| p.since);
        status.problem = Some(Problem {
            kind,
            cause: problem::cause(kind, &self.config.branch),
            message,
            since,
        });
    }

    fn clear_problem(&self) {
        let mut status = self.status.write().unwrap_or_else(|e| e.into_inner());
        if status.problem.take().is_some() {
            tracing::info!("following the remote again");
        }
    }
}

/// The first 12 hex digits: what people compare by eye.
pub fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_credential_in_the_url_never_reaches_the_report() {
        let dir = tempfile::tempdir().expect("temp dir");
        // Nothing listens on port 1: the clone fails at once, and git's
        // message names the URL.
        let follower = Follower::new(
            FollowConfig {
                url: "http://bot:s3cret@127.0.0.1:1/kb.git".into(),
                branch: "main".into(),
                pull_seconds: 60,
                timeout_seconds: 30,
                webhook_secret: None,
            },
            dir.path(),
        )
        .expect("a follower");
        let shared = &follower.shared;
        let (kind, message) = shared.prepare().expect_err("nothing to clone");
        assert_eq!(kind, ProblemKind::Unreachable);
        shared.report(kind, message);
        let problem = follower.status().problem.expect("reported");
        assert!(
            problem.message.contains("127.0.0.1:1"),
            "{}",
            problem.message
        );
        for said in [&problem.message, &problem.cause, &follower.url()] {
            assert!(!said.contains("s3cret") && !said.contains("bot"), "{said}");
        }
    }

    #[test]
    fn a_secret_shorter_than_sixteen_characters_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("hook");
        std::fs::write(&path, "short\n").expect("write secret");
        assert!(matches!(
            read_secret(&SecretSource::File(path.clone())),
            Err(RemoteError::SecretTooShort)
        ));
        std::fs::write(&path, "0123456789abcdef\n").expect("write secret");
        assert_eq!(
            read_secret(&SecretSource::File(path)).expect("a secret"),
            "0123456789abcdef"
        );
        assert!(matches!(
            read_secret(&SecretSource::Env("QUIRE_TEST_NO_SUCH_VARIABLE".into())),
            Err(RemoteError::SecretEnvMissing(_))
        ));
    }
}
