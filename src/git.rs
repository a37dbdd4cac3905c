//! Running the `git` binary: the one place that spawns it. Credentials stay
//! git's business (SSH keys, credential helpers, a token in the
//! environment): git never prompts, every run has a time limit, and any
//! `user:password@` in what it prints is cut out before it reaches a log,
//! an error or a page.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("cannot run git: {0}")]
    Spawn(#[from] std::io::Error),
    #[error("`git {args}` failed: {stderr}")]
    Failed { args: String, stderr: String },
    #[error("`git {args}` took longer than {limit:?} and was stopped")]
    TimedOut { args: String, limit: Duration },
}

/// Runs `git -C dir args...` and gives back what it printed, or why it
/// failed (its stderr, credentials cut out). Every run has a `limit`: a
/// remote that accepts the connection and then says nothing, or a hung
/// file system, would otherwise hold the caller for ever.
pub fn run(dir: &Path, args: &[&str], limit: Duration) -> Result<String, GitError> {
    let mut command = Command::new("git");
    command
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_OPTIONAL_LOCKS", "0")
        // A server has no one to type a password: a missing credential is
        // an error, not a prompt that waits forever.
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Its own process group, so a timeout also stops what git started
    // (ssh, git-remote-https), which would otherwise hold the pipes open.
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command.spawn()?;
    let stdout = child.stdout.take().map(drain);
    let stderr = child.stderr.take().map(drain);
    let described = || redact(&args.join(" "));
    let Some(status) = wait_within(&mut child, limit)? else {
        stop_group(&mut child);
        return Err(GitError::TimedOut {
            args: described(),
            limit,
        });
    };
    let out = stdout.and_then(|t| t.join().ok()).unwrap_or_default();
    let err = stderr.and_then(|t| t.join().ok()).unwrap_or_default();
    if !status.success() {
        return Err(GitError::Failed {
            args: described(),
            stderr: redact(String::from_utf8_lossy(&err).trim()),
        });
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Reads a pipe to its end on a thread of its own, so a child that fills
/// one pipe while we wait on the other cannot stall.
fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

/// The child's exit status, or `None` if it is still running after `limit`.
/// Polled: std has no wait with a timeout, and a few milliseconds of delay
/// do not matter next to a network round trip.
fn wait_within(
    child: &mut std::process::Child,
    limit: Duration,
) -> std::io::Result<Option<std::process::ExitStatus>> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if started.elapsed() >= limit {
            return Ok(None);
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(25));
    }
}

/// Kills the child's whole process group, then reaps the child.
fn stop_group(child: &mut std::process::Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: kill only sends a signal; the group is the child's own
        // (process_group(0) above), so nothing else is hit.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// `text` with the user information of every URL in it removed:
/// `https://bot:s3cret@git.example.com/kb.git` becomes
/// `https://git.example.com/kb.git`. Applied to everything git prints and
/// to every URL we show, as git itself does not always hide them.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        // The authority ends at the first `/`, whitespace or quote.
        let end = after
            .find(|c: char| c == '/' || c.is_whitespace() || c == '\'' || c == '"')
            .unwrap_or(after.len());
        let authority = &after[..end];
        match authority.rfind('@') {
            Some(at) => out.push_str(&authority[at + 1..]),
            None => out.push_str(authority),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_urls_are_cut_out_wherever_they_appear() {
        assert_eq!(
            redact("fatal: unable to access 'https://bot:s3cret@git.example.com/kb.git/': 403"),
            "fatal: unable to access 'https://git.example.com/kb.git/': 403"
        );
        assert_eq!(
            redact("https://oauth2:glpat-xyz@gitlab.com/a/b and http://u@h:8080/x"),
            "https://gitlab.com/a/b and http://h:8080/x"
        );
        assert_eq!(
            redact("git@github.com:acme/kb.git"),
            "git@github.com:acme/kb.git"
        );
        assert_eq!(redact("/srv/git/kb.git"), "/srv/git/kb.git");
        assert_eq!(redact("https://t@k@host"), "https://host");
    }

    #[test]
    fn a_run_past_its_limit_is_stopped_and_says_so() {
        let dir = std::env::temp_dir();
        // `git -c alias...` runs a shell that outlives the limit.
        let e = run(
            &dir,
            &["-c", "alias.wait=!sleep 5", "wait"],
            Duration::from_millis(200),
        )
        .unwrap_err();
        assert!(matches!(e, GitError::TimedOut { .. }), "{e}");
    }
}
