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
use crate::git::{self, GitError};

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

/// What stopped the folder from following the remote. The last good commit
/// stays served meanwhile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProblemKind {
    /// The remote cannot be reached, or refuses us (network, credentials).
    Unreachable,
    /// The branch is not on the remote (a typo, or it was deleted).
    BranchMissing,
    /// The remote's branch no longer contains the commit served: history
    /// was rewritten (a forced push). Followed only by an operator's hand.
    ForcedPush,
    /// Files changed in the folder that the new commit also changes.
    LocalEdits,
    /// The folder is not empty and not a clone, or is on another branch.
    NotFollowable,
    /// git failed in another way (see the message).
    Failed,
}

impl ProblemKind {
    /// A stable code, for `/healthz` and `/metrics`.
    pub fn code(self) -> &'static str {
        match self {
            ProblemKind::Unreachable => "remote_unreachable",
            ProblemKind::BranchMissing => "branch_missing",
            ProblemKind::ForcedPush => "forced_push",
            ProblemKind::LocalEdits => "local_edits",
            ProblemKind::NotFollowable => "not_followable",
            ProblemKind::Failed => "git_failed",
        }
    }

    pub const ALL: [ProblemKind; 6] = [
        ProblemKind::Unreachable,
        ProblemKind::BranchMissing,
        ProblemKind::ForcedPush,
        ProblemKind::LocalEdits,
        ProblemKind::NotFollowable,
        ProblemKind::Failed,
    ];
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub kind: ProblemKind,
    /// For anyone who asks (`/healthz`): no path, no URL, no git output.
    pub cause: String,
    /// For the log and the authors' problems page: git's own words, with
    /// any credential cut out.
    pub message: String,
    pub since: DateTime<Utc>,
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

    fn git(&self, args: &[&str]) -> Result<String, GitError> {
        git::run(&self.dir, args, LOCAL_LIMIT)
    }

    fn network_limit(&self) -> Duration {
        Duration::from_secs(self.config.timeout_seconds)
    }

    /// The folder as a clone of the remote's branch: cloned when empty,
    /// else checked. Gives back the commit checked out, and whether it was
    /// cloned just now.
    fn prepare(&self) -> Step<(String, bool)> {
        let empty = std::fs::read_dir(&self.dir)
            .map_err(|e| {
                (
                    ProblemKind::NotFollowable,
                    format!("the content folder: {e}"),
                )
            })?
            .next()
            .is_none();
        if empty {
            self.clone_remote()?;
        } else {
            self.check_clone()?;
        }
        Ok((self.head()?, empty))
    }

    fn clone_remote(&self) -> Step<()> {
        let c = &self.config;
        tracing::info!(
            "cloning {} ({}) into the content folder",
            git::redact(&c.url),
            c.branch
        );
        git::run(
            &self.dir,
            &[
                "clone",
                "--quiet",
                "--no-tags",
                "--single-branch",
                "--branch",
                &c.branch,
                "--",
                &c.url,
                ".",
            ],
            self.network_limit(),
        )
        .map(|_| ())
        .map_err(|e| {
            self.counters.fetch_failures.fetch_add(1, Ordering::Relaxed);
            network_problem(&e, &c.branch)
        })?;
        self.counters.fetches.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// A folder that is already there must be the top of a clone on the
    /// branch followed; its `origin` is pointed at the configured URL (it
    /// may have moved, or its credential means changed).
    fn check_clone(&self) -> Step<()> {
        let not = |why: String| (ProblemKind::NotFollowable, why);
        let top = self
            .git(&["rev-parse", "--show-toplevel"])
            .map_err(|_| not("the content folder is not empty and not a git clone: it is served as it is, never fetched".into()))?;
        let same = std::fs::canonicalize(top.trim()).ok() == std::fs::canonicalize(&self.dir).ok();
        if !same {
            return Err(not(
                "the content folder is inside a repository, not the top of a clone: it is served as it is, never fetched".into(),
            ));
        }
        self.on_branch()?;
        let url = &self.config.url;
        let current = self.git(&["remote", "get-url", "origin"]).ok();
        if current.as_deref().map(str::trim) != Some(url.as_str()) {
            let set = if current.is_some() { "set-url" } else { "add" };
            self.git(&["remote", set, "origin", url])
                .map_err(|e| (ProblemKind::Failed, e.to_string()))?;
        }
        Ok(())
    }

    /// The folder must be on the branch followed: moving another branch
    /// would rewrite someone's work.
    fn on_branch(&self) -> Step<()> {
        let branch = &self.config.branch;
        let head = self
            .git(&["symbolic-ref", "--quiet", "HEAD"])
            .unwrap_or_default();
        if head.trim() != format!("refs/heads/{branch}") {
            return Err((
                ProblemKind::NotFollowable,
                format!(
                    "the content folder is on {:?}, not on the branch followed ({branch}): not moved",
                    head.trim().trim_start_matches("refs/heads/")
                ),
            ));
        }
        Ok(())
    }

    fn head(&self) -> Step<String> {
        self.git(&["rev-parse", "--verify", "HEAD^{commit}"])
            .map(|s| s.trim().to_string())
            .map_err(|e| (ProblemKind::Failed, e.to_string()))
    }

    /// Fetches the branch and moves the folder to its tip when that is a
    /// fast-forward that loses nothing. `Ok(None)`: nothing new.
    fn pull(&self) -> Step<Option<String>> {
        let tip = self.fetch()?;
        let head = self.head()?;
        if tip == head {
            return Ok(None);
        }
        self.on_branch()?;
        // A tip that does not contain what we serve is history rewritten
        // (a forced push, a branch deleted and pushed again). Following it
        // would drop commits readers were just shown, perhaps by mistake:
        // the last good commit stays until someone decides (docs/production.md).
        let descends = self.git(&["merge-base", "--is-ancestor", &head, &tip]);
        if descends.is_err() {
            return Err((
                ProblemKind::ForcedPush,
                format!(
                    "the remote's {} ({}) does not contain the commit served ({}): \
                     its history was rewritten (a forced push?); staying at {}",
                    self.config.branch,
                    short(&tip),
                    short(&head),
                    short(&head)
                ),
            ));
        }
        self.move_to(&head, &tip)?;
        Ok(Some(tip))
    }

    /// `git fetch` of the one branch followed into its remote-tracking ref
    /// (`+`: a forced push is fetched too, so it can be told and reported).
    fn fetch(&self) -> Step<String> {
        let branch = &self.config.branch;
        let tracking = format!("refs/remotes/origin/{branch}");
        let refspec = format!("+refs/heads/{branch}:{tracking}");
        let fetched = git::run(
            &self.dir,
            &["fetch", "--quiet", "--no-tags", "origin", &refspec],
            self.network_limit(),
        );
        if let Err(e) = fetched {
            self.counters.fetch_failures.fetch_add(1, Ordering::Relaxed);
            return Err(network_problem(&e, branch));
        }
        self.counters.fetches.fetch_add(1, Ordering::Relaxed);
        let tip = self
            .git(&["rev-parse", "--verify", &format!("{tracking}^{{commit}}")])
            .map(|s| s.trim().to_string())
            .map_err(|e| (ProblemKind::Failed, e.to_string()))?;
        self.set(|s| {
            s.fetched = Some(tip.clone());
            s.last_fetch = Some(Utc::now());
        });
        Ok(tip)
    }

    /// Moves branch, index and files from `head` to `tip` in one command.
    /// `git reset --keep` rather than the alternatives: it updates exactly
    /// the files that differ between the two commits, and refuses (changing
    /// nothing) when one of them has a local edit or an untracked file in
    /// the way, while edits to other files are kept. `reset --hard` would
    /// throw edits away, `checkout` would detach from the branch, `merge
    /// --ff-only` and `pull` could be configured into merging or rebasing.
    /// The files written are one bulk change for the watcher, and the
    /// caller has the reindexer compare the whole folder once it is done.
    fn move_to(&self, head: &str, tip: &str) -> Step<()> {
        let edited = self.edits_in_the_way(head, tip);
        if !edited.is_empty() {
            return Err((
                ProblemKind::LocalEdits,
                local_edits_message(&edited, tip, head),
            ));
        }
        self.git(&["reset", "--quiet", "--keep", tip])
            .map_err(|e| {
                // Something changed between the look and the move: git refused,
                // and nothing was lost.
                let kind = match &e {
                    GitError::Failed { stderr, .. }
                        if stderr.contains("not uptodate")
                            || stderr.contains("would be overwritten") =>
                    {
                        ProblemKind::LocalEdits
                    }
                    _ => ProblemKind::Failed,
                };
                (
                    kind,
                    format!("cannot move the content folder to {}: {e}", short(tip)),
                )
            })?;
        Ok(())
    }

    /// Files the move would write that were edited in the folder, or are
    /// untracked there: what `reset --keep` would refuse over, named.
    fn edits_in_the_way(&self, head: &str, tip: &str) -> Vec<String> {
        let changing = self
            .git(&[
                "-c",
                "core.quotepath=off",
                "diff",
                "--name-only",
                "-z",
                head,
                tip,
            ])
            .unwrap_or_default();
        let changing: std::collections::HashSet<&str> =
            changing.split('\0').filter(|p| !p.is_empty()).collect();
        let status = self
            .git(&[
                "-c",
                "core.quotepath=off",
                "status",
                "--porcelain",
                "-z",
                "--untracked-files=all",
            ])
            .unwrap_or_default();
        status
            .split('\0')
            .filter_map(|entry| entry.get(3..))
            .filter(|path| changing.contains(path))
            .map(str::to_string)
            .collect()
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
            cause: cause(kind, &self.config.branch),
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

fn local_edits_message(edited: &[String], tip: &str, head: &str) -> String {
    let mut named: Vec<&str> = edited.iter().take(5).map(String::as_str).collect();
    if edited.len() > 5 {
        named.push("...");
    }
    format!(
        "local edits in the content folder ({}) would be overwritten by {}: \
         not moved, staying at {} (commit them elsewhere, or undo them)",
        named.join(", "),
        short(tip),
        short(head)
    )
}

/// A failed clone or fetch: a branch the remote does not have, or a remote
/// that cannot be reached (or refuses us).
fn network_problem(e: &GitError, branch: &str) -> (ProblemKind, String) {
    let missing = matches!(e, GitError::Failed { stderr, .. }
        if stderr.contains("couldn't find remote ref")
            || stderr.contains("Remote branch") && stderr.contains("not found"));
    if missing {
        (
            ProblemKind::BranchMissing,
            format!("the remote has no branch {branch:?}: {e}"),
        )
    } else {
        (
            ProblemKind::Unreachable,
            format!("cannot fetch from the remote: {e}"),
        )
    }
}

/// What `/healthz` says: a fixed phrase per kind.
fn cause(kind: ProblemKind, branch: &str) -> String {
    match kind {
        ProblemKind::Unreachable => "the git remote cannot be reached".into(),
        ProblemKind::BranchMissing => format!("the branch {branch:?} is not on the git remote"),
        ProblemKind::ForcedPush => {
            "the remote branch's history was rewritten (forced push); the last good commit is served".into()
        }
        ProblemKind::LocalEdits => {
            "local edits in the content folder would be overwritten; the last good commit is served".into()
        }
        ProblemKind::NotFollowable => "the content folder cannot follow the git remote".into(),
        ProblemKind::Failed => "git failed; the last good commit is served".into(),
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
    fn a_missing_branch_is_told_from_an_unreachable_remote() {
        let failed = |stderr: &str| GitError::Failed {
            args: "fetch".into(),
            stderr: stderr.into(),
        };
        let (kind, _) = network_problem(
            &failed("fatal: couldn't find remote ref refs/heads/gone"),
            "gone",
        );
        assert_eq!(kind, ProblemKind::BranchMissing);
        let (kind, _) = network_problem(
            &failed(
                "warning: Could not find remote branch gone to clone.\nfatal: Remote branch gone not found in upstream origin",
            ),
            "gone",
        );
        assert_eq!(kind, ProblemKind::BranchMissing);
        let (kind, message) = network_problem(
            &failed(
                "fatal: unable to access 'https://git.example.com/kb.git/': Could not resolve host",
            ),
            "main",
        );
        assert_eq!(kind, ProblemKind::Unreachable);
        assert!(message.contains("cannot fetch"), "{message}");
    }

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
