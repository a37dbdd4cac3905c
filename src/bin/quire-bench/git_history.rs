//! A git repository with a long history over the corpus' paths, written
//! with `git fast-import` (seconds, not one process per commit), and the
//! time Quire takes to read every card's last change from it.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Result, bail};
use quire::history::{History, Repo};

use crate::corpus::{Corpus, Rng};

/// Builds `dir` as a repository of `commits` commits, each changing one to
/// three cards, and returns how long reading its history took (ms), with
/// the files and commits read.
pub fn measure(
    dir: &Path,
    corpus: &Corpus,
    commits: usize,
    seed: u64,
) -> Result<(f64, usize, usize)> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir)?;
    let init = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["init", "-q"])
        .status()?;
    if !init.success() {
        bail!("git init failed");
    }
    let mut import = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["fast-import", "--quiet"])
        .stdin(Stdio::piped())
        .spawn()?;
    {
        let Some(stdin) = import.stdin.as_mut() else {
            bail!("no stdin for git fast-import");
        };
        let mut out = std::io::BufWriter::new(stdin);
        let mut rng = Rng::new(seed);
        let start = 1_600_000_000u64;
        for n in 0..commits {
            let time = start + n as u64 * 600;
            let who = rng.next_u64() % 40;
            let subject = format!("Edit {n}: clarify the steps");
            writeln!(out, "commit refs/heads/main")?;
            writeln!(
                out,
                "author Author {who} <author{who}@example.com> {time} +0000"
            )?;
            writeln!(
                out,
                "committer Author {who} <author{who}@example.com> {time} +0000"
            )?;
            writeln!(out, "data {}\n{subject}", subject.len())?;
            // Every card is created in the first commits, then edited at random.
            let touched = if n < corpus.ids.len().div_ceil(1000) {
                (n * 1000..((n + 1) * 1000).min(corpus.ids.len())).collect::<Vec<_>>()
            } else {
                (0..1 + rng.next_u64() % 3)
                    .map(|_| (rng.next_u64() % corpus.ids.len() as u64) as usize)
                    .collect()
            };
            for i in touched {
                let body = format!("revision {n}\n");
                writeln!(out, "M 100644 inline content/{}.md", corpus.ids[i])?;
                writeln!(out, "data {}\n{body}", body.len())?;
            }
            writeln!(out)?;
        }
        out.flush()?;
    }
    if !import.wait()?.success() {
        bail!("git fast-import failed");
    }
    let checkout = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["reset", "-q", "--hard", "main"])
        .status()?;
    if !checkout.success() {
        bail!("git reset failed");
    }
    let Some(repo) = Repo::discover(&dir.join("content")) else {
        bail!("{} is not a git work tree", dir.display());
    };
    let started = Instant::now();
    let history = History::read(repo, Default::default())?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let (files, read) = history.size();
    Ok((ms, files, read))
}
