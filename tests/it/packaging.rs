//! Packaged for servers: the binary names the commit it was built from, the
//! systemd unit passes `systemd-analyze verify`, and `quire serve` stops
//! cleanly on SIGTERM (what systemd and `docker stop` send). The container
//! image itself is checked by `.ci/container-smoke`.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::{DEADLINE, start_server, wait_ready, write_file};

#[test]
fn quire_version_names_the_commit_it_was_built_from() {
    let out = Command::new(env!("CARGO_BIN_EXE_quire"))
        .arg("--version")
        .output()
        .expect("run quire --version");
    assert!(out.status.success());
    let version = String::from_utf8_lossy(&out.stdout);
    assert_eq!(version.trim(), format!("quire {}", quire::VERSION));
    let commit = quire::BUILD_COMMIT;
    assert!(
        commit == "unknown"
            || (commit.len() == 40 && commit.chars().all(|c| c.is_ascii_hexdigit())),
        "{commit}"
    );
    // Built from this checkout: its HEAD (build.rs rebuilds when it moves).
    let head = Command::new("git")
        .args(["-C", env!("CARGO_MANIFEST_DIR"), "rev-parse", "HEAD"])
        .output();
    if let Ok(head) = head
        && head.status.success()
        && std::env::var_os("QUIRE_COMMIT").is_none()
    {
        assert_eq!(commit, String::from_utf8_lossy(&head.stdout).trim());
    }
}

/// The unit as shipped, with `ExecStart` pointed at the binary just built
/// (verify checks that the program exists). Skipped, saying so, where
/// systemd is not installed; `.ci/run` installs it.
#[test]
fn the_systemd_unit_passes_systemd_analyze_verify() {
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("SKIPPED: systemd-analyze is not installed");
        return;
    }
    let unit =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/quire.service"))
            .expect("read deploy/quire.service");
    for hardening in [
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "StateDirectory=quire",
        "CapabilityBoundingSet=\n",
    ] {
        assert!(unit.contains(hardening), "the unit lacks {hardening:?}");
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let unit = unit.replace("/usr/local/bin/quire", env!("CARGO_BIN_EXE_quire"));
    write_file(dir.path(), "quire.service", &unit);
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(dir.path().join("quire.service"))
        .output()
        .expect("run systemd-analyze");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && said.trim().is_empty(), "{said}");
}

#[tokio::test]
async fn sigterm_lets_the_server_finish_and_exit_cleanly() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_file(dir.path(), "content/a.md", "---\ntitle: A\n---\nText.\n");
    write_file(dir.path(), "quire.toml", "bind = \"127.0.0.1:0\"\n");
    let (mut child, base) = start_server(&dir.path().join("quire.toml"));
    let client = reqwest::Client::new();
    wait_ready(&client, &base).await;
    let response = client.get(format!("{base}/healthz")).send().await;
    let health: serde_json::Value = response.expect("healthz").json().await.expect("json");
    assert_eq!(health["version"], quire::VERSION);
    let pid = i32::try_from(child.id()).expect("a pid");
    // SAFETY: signals our own child.
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "quire did not stop on SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "{status}");
}
