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

    /// The `origin` remote's URL, if there is one.
    fn origin(&self) -> Option<String> {
        git(&self.dir, &["remote", "get-url", "origin"])
            .ok()
            .map(|r| r.trim().to_string())
    }

    /// The links to a file's history and editor: `configured` ones win,
    /// else they come from the `origin` remote (`remote`) when it is on a
    /// forge whose URLs we know.
    fn links(&self, remote: Option<&str>, configured: &Links) -> Links {
        let forge = remote.and_then(|remote| {
            let branch = git(&self.dir, &["rev-parse", "--abbrev-ref", "HEAD"]).ok()?;
            forge_urls(remote, branch.trim())
        });
        let (history, edit) = forge.map_or((None, None), |(h, e)| (Some(h), Some(e)));
        Links {
            history: configured.history.clone().or(history),
            edit: configured.edit.clone().or(edit),
        }
    }
}

/// Link templates with `{path}` (the file's path in the repository).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Links {
    /// The file's history (`https://github.com/acme/handbook/commits/main/{path}`).
    pub history: Option<String>,
    /// The file in the forge's editor (`.../edit/main/{path}`).
    pub edit: Option<String>,
}

/// The last change of every file under the content folder.
#[derive(Debug, Default)]
pub struct History {
    repo: Option<Repo>,
    head: Option<String>,
    /// By path relative to the content folder.
    changes: HashMap<String, Arc<Commit>>,
    /// The links in `quire.toml`, which win over those of the remote.
    configured: Links,
    /// The `origin` remote the links were derived from: one added or
    /// changed while the server runs is picked up at the next refresh.
    remote: Option<String>,
    links: Links,
    /// Files moved (`git mv`), by old path, newest move first, as git's
    /// rename detection sees them; relative to the content folder.
    renames: HashMap<String, String>,
    commits: usize,
}

impl History {
    /// Reads the whole history of `repo`. `configured` links (from
    /// `quire.toml`) win over those derived from the `origin` remote.
    pub fn read(repo: Repo, configured: Links) -> Result<History, HistoryError> {
        let remote = repo.origin();
        let links = repo.links(remote.as_deref(), &configured);
        let head = repo.head()?;
        let mut history = History {
            repo: Some(repo),
            head: None,
            changes: HashMap::new(),
            configured,
            remote,
            links,
            renames: HashMap::new(),
            commits: 0,
        };
        if let Some(head) = head {
            history.read_log(&head, None)?;
            history.head = Some(head);
        }
        Ok(history)
    }

    /// A history that has also read the commits made since, or `None` when
    /// neither `HEAD` nor the `origin` remote has changed. A `HEAD` that
    /// moved sideways (a checkout, a reset) is read again from scratch.
    pub fn refreshed(&self) -> Result<Option<History>, HistoryError> {
        let Some(repo) = &self.repo else {
            return Ok(None);
        };
        let head = repo.head()?;
        let remote = repo.origin();
        if head == self.head {
            if remote == self.remote {
                return Ok(None);
            }
            return Ok(Some(History {
                repo: Some(repo.clone()),
                head: self.head.clone(),
                changes: self.changes.clone(),
                configured: self.configured.clone(),
                links: repo.links(remote.as_deref(), &self.configured),
                remote,
                renames: self.renames.clone(),
                commits: self.commits,
            }));
        }
        let Some(new) = head else {
            return History::read(repo.clone(), self.configured.clone()).map(Some);
        };
        let mut next = History {
            repo: Some(repo.clone()),
            head: Some(new.clone()),
            changes: HashMap::new(),
            configured: self.configured.clone(),
            links: repo.links(remote.as_deref(), &self.configured),
            remote,
            renames: HashMap::new(),
            commits: 0,
        };
        match &self.head {
            Some(old) if repo.is_ancestor(old, &new) => {
                next.changes = self.changes.clone();
                next.renames = self.renames.clone();
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
        self.read_renames(&range)
    }

    /// Reads the moves (`git mv`) in `range`, newest first.
    fn read_renames(&mut self, range: &str) -> Result<(), HistoryError> {
        let Some(repo) = &self.repo else {
            return Ok(());
        };
        let out = git(
            &repo.dir,
            &[
                "-c",
                "core.quotepath=off",
                "log",
                "-M",
                "--diff-filter=R",
                "--name-status",
                "--format=%x1e",
                "-z",
                "--relative",
                range,
                "--",
                ".",
            ],
        )?;
        let mut newer = HashMap::new();
        for (old, new) in parse_renames(&out) {
            newer.entry(old).or_insert(new);
        }
        // Moves read now are newer than those known.
        for (old, new) in newer {
            self.renames.insert(old, new);
        }
        Ok(())
    }

    /// Where the file once at `rel_path` is now, following moves (at most
    /// 16, so a cycle of moves ends): the last path git saw it moved to.
    pub fn moved_to(&self, rel_path: &str) -> Option<&str> {
        let mut at = self.renames.get(rel_path)?;
        for _ in 0..16 {
            match self.renames.get(at) {
                Some(next) if next != rel_path => at = next,
                _ => break,
            }
        }
        Some(at.as_str())
    }

    /// The last commit that touched `rel_path` (relative to the content
    /// folder).
    pub fn last_change(&self, rel_path: &str) -> Option<&Commit> {
        self.changes.get(rel_path).map(|c| c.as_ref())
    }

    /// Where to read `rel_path`'s history, when a forge is known.
    pub fn history_url(&self, rel_path: &str) -> Option<String> {
        self.link(self.links.history.as_ref()?, rel_path)
    }

    /// Where to edit `rel_path` on the forge, when one is known.
    pub fn edit_url(&self, rel_path: &str) -> Option<String> {
        self.link(self.links.edit.as_ref()?, rel_path)
    }

    fn link(&self, template: &str, rel_path: &str) -> Option<String> {
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

/// `(old, new)` path pairs from `git log --name-status -z` limited to
/// renames: `R<score>`, old path, new path, NUL-separated.
fn parse_renames(out: &str) -> Vec<(String, String)> {
    let mut tokens = out
        .split('\0')
        .map(|t| t.trim_start_matches(['\x1e', '\n']));
    let mut pairs = Vec::new();
    while let Some(token) = tokens.next() {
        if token.starts_with('R')
            && token[1..].chars().all(|c| c.is_ascii_digit())
            && let (Some(old), Some(new)) = (tokens.next(), tokens.next())
        {
            pairs.push((old.to_string(), new.to_string()));
        }
    }
    pairs
}

/// A file's history page and editor on GitHub, GitLab, Codeberg (Forgejo)
/// or Bitbucket, as templates with `{path}`.
fn forge_urls(remote: &str, branch: &str) -> Option<(String, String)> {
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
    let (history, edit) = match host {
        "github.com" => ("commits", "edit"),
        "codeberg.org" => ("commits", "_edit"),
        "gitlab.com" => ("-/commits", "-/edit"),
        "bitbucket.org" => {
            return Some((
                format!("{base}/history-node/{branch}/{{path}}"),
                format!("{base}/src/{branch}/{{path}}?mode=edit"),
            ));
        }
        _ => return None,
    };
    Some((
        format!("{base}/{history}/{branch}/{{path}}"),
        format!("{base}/{edit}/{branch}/{{path}}"),
    ))
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
    fn renames_are_read_from_name_status_records() {
        let out = "\x1e\0\nR100\0a/y.md\0b/z.md\0\x1e\0\nR087\0a/x.md\0a/y.md\0";
        assert_eq!(
            parse_renames(out),
            [
                ("a/y.md".to_string(), "b/z.md".to_string()),
                ("a/x.md".to_string(), "a/y.md".to_string())
            ]
        );
        assert!(parse_renames("").is_empty());
        assert!(parse_renames("\x1e\0\nR100\0only-one").is_empty());
    }

    #[test]
    fn forge_urls_come_from_common_remotes() {
        let urls = |remote, branch| forge_urls(remote, branch).map(|(h, e)| [h, e]);
        assert_eq!(
            urls("git@github.com:acme/handbook.git", "main"),
            Some([
                "https://github.com/acme/handbook/commits/main/{path}".to_string(),
                "https://github.com/acme/handbook/edit/main/{path}".to_string(),
            ])
        );
        assert_eq!(
            urls("https://user:tok@gitlab.com/acme/kb", "HEAD"),
            Some([
                "https://gitlab.com/acme/kb/-/commits/HEAD/{path}".to_string(),
                "https://gitlab.com/acme/kb/-/edit/HEAD/{path}".to_string(),
            ])
        );
        assert_eq!(urls("/srv/git/kb.git", "main"), None);
        assert_eq!(urls("https://git.internal/kb.git", "main"), None);
    }
}
