//! Names the commit the binary is built from, for `quire --version` and
//! `/healthz`: `QUIRE_COMMIT` when set (a container build has no `.git`),
//! else `git rev-parse HEAD`, else "unknown" (a source tarball). A build
//! never fails for want of git.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=QUIRE_COMMIT");
    let commit = std::env::var("QUIRE_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(|| git(&["rev-parse", "HEAD"]))
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=QUIRE_BUILD_COMMIT={}", commit.trim());
    // Built again when HEAD moves: HEAD itself, and the branch file or
    // packed refs it points through. Only existing files are named (a
    // missing one would make cargo run this script on every build).
    let mut watched: Vec<PathBuf> = Vec::new();
    if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
        watched.push(PathBuf::from(dir).join("HEAD"));
    }
    if let (Some(common), Some(branch)) = (
        git(&["rev-parse", "--git-common-dir"]),
        git(&["symbolic-ref", "-q", "HEAD"]),
    ) {
        watched.push(PathBuf::from(&common).join(branch));
        watched.push(PathBuf::from(common).join("packed-refs"));
    }
    for path in watched.iter().filter(|p| p.is_file()) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    println!("cargo:rerun-if-changed=build.rs");
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    (out.status.success() && !text.trim().is_empty()).then(|| text.trim().to_string())
}
