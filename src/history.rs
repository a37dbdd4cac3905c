//! Git history: who last changed each card, when, and why. git itself is
//! run by `crate::git`. The whole log is read in one pass (`git log
//! --name-only`), never one process per card, on a background thread so
//! start-up does not wait for it; afterwards only the commits that arrive
//! are read.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;

use crate::git::GitError;

/// One commit, shared by every file it touched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    pub id: String,
    pub author: String,
    pub email: String,
    /// Seconds since the Unix epoch (author date).
    pub time: i64,
    pub subject: String,
}

impl Commit {
    pub fn date(&self) -> Option<NaiveDate> {
        chrono::DateTime::from_timestamp(self.time, 0).map(|t| t.date_naive())
    }
}

#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct HistoryError(#[from] GitError);

/// The git work tree holding the content folder.
#[derive(Debug, Clone)]
pub struct Repo {
    /// The content folder, where every command runs.
    dir: PathBuf,
    /// The content folder's path inside the repository (`docs/`), or `""`.
    prefix: String,
}

impl Repo {
    /// The repository holding `content`, or `None` outside git (or with no
    /// git installed).
    pub fn discover(content: &Path) -> Option<Repo> {
        let out = git(
            content,
            &["rev-parse", "--is-inside-work-tree", "--show-prefix"],
        )
        .ok()?;
        let mut lines = out.lines();
        if lines.next()? != "true" {
            return None;
        }
        Some(Repo {
            dir: content.to_path_buf(),
            prefix: lines.next().unwrap_or("").to_string(),
        })
    }

    fn head(&self) -> Result<Option<String>, HistoryError> {
        match git(&self.dir, &["rev-parse", "--verify", "--quiet", "HEAD"]) {
            Ok(out) => Ok(Some(out.trim().to_string())),
            // No commit yet.
            Err(GitError::Failed { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn is_ancestor(&self, old: &str, new: &str) -> bool {
        git(&self.dir, &["merge-base", "--is-ancestor", old, new]).is_ok()
    }

    /// `https://github.com/acme/handbook/commits/main/{path}` from the
    /// `origin` remote, when it is on a forge whose URLs we know.
    fn forge_history_url(&self) -> Option<String> {
        let remote = git(&self.dir, &["remote", "get-url", "origin"]).ok()?;
        let branch = git(&self.dir, &["rev-parse", "--abbrev-ref", "HEAD"]).ok()?;
        forge_url(remote.trim(), branch.trim())
    }
}

/// The last change of every file under the content folder.
#[derive(Debug, Default)]
pub struct History {
    repo: Option<Repo>,
    head: Option<String>,
    /// By path relative to the content folder.
    changes: HashMap<String, Arc<Commit>>,
    /// A link template with `{path}` (the file's path in the repository).
    history_url: Option<String>,
    commits: usize,
}

impl History {
    /// Reads the whole history of `repo`. `history_url` (from `quire.toml`)
    /// wins over one derived from the `origin` remote.
    pub fn read(repo: Repo, history_url: Option<String>) -> Result<History, HistoryError> {
        let history_url = history_url.or_else(|| repo.forge_history_url());
        let head = repo.head()?;
        let mut history = History {
            repo: Some(repo),
            head: None,
            changes: HashMap::new(),
            history_url,
            commits: 0,
        };
        if let Some(head) = head {
            history.read_log(&head, None)?;
            history.head = Some(head);
        }
        Ok(history)
    }

    /// A history that has also read the commits made since, or `None` when
    /// `HEAD` has not moved. A `HEAD` that moved sideways (a checkout, a
    /// reset) is read again from scratch.
    pub fn refreshed(&self) -> Result<Option<History>, HistoryError> {
        let Some(repo) = &self.repo else {
            return Ok(None);
        };
        let head = repo.head()?;
        if head == self.head {
            return Ok(None);
        }
        let Some(new) = head else {
            return History::read(repo.clone(), self.history_url.clone()).map(Some);
        };
        let mut next = History {
            repo: Some(repo.clone()),
            head: Some(new.clone()),
            changes: HashMap::new(),
            history_url: self.history_url.clone(),
            commits: 0,
        };
        match &self.head {
            Some(old) if repo.is_ancestor(old, &new) => {
                next.changes = self.changes.clone();
                next.commits = self.commits;
                next.read_log(&new, Some(old))?;
            }
            _ => next.read_log(&new, None)?,
        }
        Ok(Some(next))
    }

    /// Reads `git log` from `head` (back to `since`, exclusive): newest
    /// first, so the first commit naming a file is its last change.
    fn read_log(&mut self, head: &str, since: Option<&str>) -> Result<(), HistoryError> {
        let Some(repo) = &self.repo else {
            return Ok(());
        };
        let range = match since {
            Some(old) => format!("{old}..{head}"),
            None => head.to_string(),
        };
        let out = git(
            &repo.dir,
            &[
                "-c",
                "core.quotepath=off",
                "log",
                "--no-renames",
                "--format=%x1e%H%x1f%an%x1f%ae%x1f%at%x1f%s",
                "--name-only",
                "-z",
                "--relative",
                &range,
                "--",
                ".",
            ],
        )?;
        let mut newer: HashMap<String, Arc<Commit>> = HashMap::new();
        for (commit, paths) in parse_log(&out) {
            self.commits += 1;
            let commit = Arc::new(commit);
            for path in paths {
                newer.entry(path).or_insert_with(|| commit.clone());
            }
        }
        self.changes.extend(newer);
        Ok(())
    }

    /// The last commit that touched `rel_path` (relative to the content
    /// folder).
    pub fn last_change(&self, rel_path: &str) -> Option<&Commit> {
        self.changes.get(rel_path).map(|c| c.as_ref())
    }

    /// Where to read `rel_path`'s history, when a forge is known.
    pub fn history_url(&self, rel_path: &str) -> Option<String> {
        let template = self.history_url.as_ref()?;
        let prefix = self.repo.as_ref().map_or("", |r| r.prefix.as_str());
        let path: String = format!("{prefix}{rel_path}")
            .split('/')
            .map(|s| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>())
            .collect::<Vec<_>>()
            .join("/");
        Some(template.replace("{path}", &path.replace('+', "%20")))
    }

    /// The commit checked out when the history was last read.
    pub fn head(&self) -> Option<&str> {
        self.head.as_deref()
    }

    pub fn is_git(&self) -> bool {
        self.repo.is_some()
    }

    /// Files with a known last change, and commits read.
    pub fn size(&self) -> (usize, usize) {
        (self.changes.len(), self.commits)
    }
}

/// Splits `git log -z --name-only` output in the format above: records
/// start with 0x1E; the header ends at a NUL; then NUL-separated paths.
fn parse_log(out: &str) -> Vec<(Commit, Vec<String>)> {
    out.split('\u{1e}')
        .filter_map(|record| {
            let (header, files) = record.split_once('\0').unwrap_or((record, ""));
            let mut fields = header.split('\u{1f}');
            let commit = Commit {
                id: fields.next()?.to_string(),
                author: fields.next()?.to_string(),
                email: fields.next()?.to_string(),
                time: fields.next()?.trim().parse().ok()?,
                subject: fields.next().unwrap_or("").to_string(),
            };
            let paths = files
                .split('\0')
                .map(|p| p.trim_start_matches('\n'))
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect();
            Some((commit, paths))
        })
        .collect()
}

/// The history page of a file on GitHub, GitLab, Codeberg or Bitbucket.
fn forge_url(remote: &str, branch: &str) -> Option<String> {
    let rest = remote
        .strip_prefix("https://")
        .or_else(|| remote.strip_prefix("ssh://git@"))
        .or_else(|| remote.strip_prefix("git@"))?;
    // Drop credentials (`user:token@host`) and turn `host:owner` into a path.
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let rest = rest.replacen(':', "/", 1);
    let rest = rest.trim_end_matches('/').trim_end_matches(".git");
    let (host, repo) = rest.split_once('/')?;
    let branch = if branch.is_empty() || branch == "HEAD" {
        "HEAD"
    } else {
        branch
    };
    let base = format!("https://{host}/{repo}");
    match host {
        "github.com" | "codeberg.org" => Some(format!("{base}/commits/{branch}/{{path}}")),
        "gitlab.com" => Some(format!("{base}/-/commits/{branch}/{{path}}")),
        "bitbucket.org" => Some(format!("{base}/history-node/{branch}/{{path}}")),
        _ => None,
    }
}

/// `git config user.email` as seen from `dir`: who is writing.
pub fn user_email(dir: &Path) -> Option<String> {
    // The folder may not exist yet: ask from the nearest one that does.
    let dir = dir
        .ancestors()
        .find(|d| d.is_dir())
        .unwrap_or(Path::new("."));
    git(dir, &["config", "user.email"])
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// History is read from the local repository only; the limit is far above
/// a long log (50,000 commits: 2.5 s), there so that a git stuck on a hung
/// file system cannot hold the history thread for ever.
const LIMIT: std::time::Duration = std::time::Duration::from_secs(600);

fn git(dir: &Path, args: &[&str]) -> Result<String, GitError> {
    crate::git::run(dir, args, LIMIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_records_split_into_commits_and_paths() {
        let out = "\u{1e}abc\u{1f}Bob\u{1f}bob@x.com\u{1f}1700000000\u{1f}second\0\na/one.md\0\
                   \u{1e}def\u{1f}Ann A\u{1f}ann@x.com\u{1f}1690000000\u{1f}first: add\0\na/one.md\0a/t w\"o.md\0";
        let log = parse_log(out);
        assert_eq!(log.len(), 2);
        assert_eq!(log[0].0.author, "Bob");
        assert_eq!(log[0].1, vec!["a/one.md"]);
        assert_eq!(log[1].0.subject, "first: add");
        assert_eq!(log[1].1, vec!["a/one.md", "a/t w\"o.md"]);
    }

    #[test]
    fn forge_urls_come_from_common_remotes() {
        assert_eq!(
            forge_url("git@github.com:acme/handbook.git", "main").as_deref(),
            Some("https://github.com/acme/handbook/commits/main/{path}")
        );
        assert_eq!(
            forge_url("https://user:tok@gitlab.com/acme/kb", "HEAD").as_deref(),
            Some("https://gitlab.com/acme/kb/-/commits/HEAD/{path}")
        );
        assert_eq!(forge_url("/srv/git/kb.git", "main"), None);
        assert_eq!(forge_url("https://git.internal/kb.git", "main"), None);
    }
}
