//! The steps on the content folder, each one git command or a few: clone,
//! check a clone found at start, fetch the branch, and move to its tip
//! only when that is a fast-forward that overwrites no local edit.

use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::Utc;

use super::problem::{ProblemKind, local_edits_message, network_problem};
use super::{LOCAL_LIMIT, Shared, Step, short};
use crate::git::{self, GitError};

impl Shared {
    fn git(&self, args: &[&str]) -> Result<String, GitError> {
        git::run(&self.dir, args, LOCAL_LIMIT)
    }

    fn network_limit(&self) -> Duration {
        Duration::from_secs(self.config.timeout_seconds)
    }

    /// The folder as a clone of the remote's branch: cloned when empty,
    /// else checked. Gives back the commit checked out, and whether it was
    /// cloned just now.
    pub(super) fn prepare(&self) -> Step<(String, bool)> {
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
            // The folder was empty: what a clone stopped half-way (a time
            // limit kills it) left is all git's, and kept it would make the
            // next round check a broken clone instead of cloning again.
            self.empty_the_folder();
            network_problem(&e, &c.branch)
        })?;
        self.counters.fetches.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Removes what a failed clone left in the (before, empty) folder.
    fn empty_the_folder(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let removed = match entry.file_type() {
                Ok(t) if t.is_dir() => std::fs::remove_dir_all(&path),
                _ => std::fs::remove_file(&path),
            };
            if let Err(e) = removed {
                tracing::warn!(
                    "after a failed clone, cannot remove {}: {e}",
                    path.display()
                );
            }
        }
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
    pub(super) fn pull(&self) -> Step<Option<String>> {
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
                // A rename's record holds two paths, the second without
                // its status: read each change as one path.
                "--no-renames",
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
}
