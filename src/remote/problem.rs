//! Why the content folder is not following its remote: the kinds of
//! problem, a fixed phrase for each (what anyone may read on `/healthz`),
//! and the messages for the log and the problems page, built from git's
//! own words.

use chrono::{DateTime, Utc};

use super::short;
use crate::git::GitError;

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

pub(super) fn local_edits_message(edited: &[String], tip: &str, head: &str) -> String {
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
pub(super) fn network_problem(e: &GitError, branch: &str) -> (ProblemKind, String) {
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
pub(super) fn cause(kind: ProblemKind, branch: &str) -> String {
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
}
