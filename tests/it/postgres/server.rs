//! A real PostgreSQL for the tests: `initdb` into a temporary folder and
//! `postgres` on a free loopback port, password authentication over TCP,
//! stopped when dropped. Run as root (a CI container), PostgreSQL refuses
//! to start, so it then runs as `nobody`.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// The password of the `postgres` user the tests connect as.
pub const PASSWORD: &str = "pg-test-Secret-7c1e";
const NOBODY: u32 = 65534;
const READY: Duration = Duration::from_secs(30);

pub struct PgServer {
    child: Child,
    /// The cluster's folder, deleted once the server is dropped.
    dir: TempDir,
    bin: PathBuf,
    pub port: u16,
}

/// The folder holding `initdb` and `postgres`: `QUIRE_PG_BIN`, else
/// Debian's `/usr/lib/postgresql/<newest>/bin`, else the `PATH`.
fn binaries() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = std::env::var_os("QUIRE_PG_BIN")
        .map(PathBuf::from)
        .into_iter()
        .collect();
    if let Ok(versions) = std::fs::read_dir("/usr/lib/postgresql") {
        let mut found: Vec<(u32, PathBuf)> = versions
            .filter_map(Result::ok)
            .filter_map(|v| {
                let n = v.file_name().to_str()?.parse().ok()?;
                Some((n, v.path().join("bin")))
            })
            .collect();
        found.sort();
        candidates.extend(found.into_iter().rev().map(|(_, dir)| dir));
    }
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path));
    }
    candidates
        .into_iter()
        .find(|dir| dir.join("initdb").is_file() && dir.join("postgres").is_file())
}

/// A command that runs as `nobody` when the tests run as root.
fn command(program: &Path) -> Command {
    let mut command = Command::new(program);
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        command.uid(NOBODY).gid(NOBODY);
    }
    command
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl PgServer {
    /// A fresh cluster, started; `None` (said on stderr) only when no
    /// PostgreSQL is installed at all.
    pub async fn start() -> Option<PgServer> {
        let Some(bin) = binaries() else {
            assert!(
                std::env::var_os("QUIRE_PG_REQUIRED").is_none(),
                "QUIRE_PG_REQUIRED is set and no PostgreSQL binaries were found"
            );
            eprintln!(
                "SKIPPED: no PostgreSQL binaries (initdb, postgres) in QUIRE_PG_BIN, \
                 /usr/lib/postgresql/*/bin or PATH; `.ci/run` installs Debian's postgresql"
            );
            return None;
        };
        let dir = tempfile::tempdir().expect("a temporary folder");
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } == 0 {
            std::os::unix::fs::chown(dir.path(), Some(NOBODY), Some(NOBODY)).expect("chown");
        }
        let password_file = dir.path().join("password");
        std::fs::write(&password_file, PASSWORD).expect("the password file");
        if unsafe { libc::geteuid() } == 0 {
            std::os::unix::fs::chown(&password_file, Some(NOBODY), Some(NOBODY)).expect("chown");
        }
        let data = dir.path().join("data");
        let init = command(&bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
                "--no-instructions",
            ])
            .args(["--auth-local=trust", "--auth-host=scram-sha-256"])
            .arg(format!("--pwfile={}", password_file.display()))
            .output()
            .expect("run initdb");
        assert!(
            init.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&init.stderr)
        );
        // A port taken between the check and the start: another try.
        for _ in 0..3 {
            let port = free_port();
            let mut child = postgres(&bin, dir.path(), port);
            if wait_ready(&mut child, port, dir.path()).await {
                return Some(PgServer {
                    child,
                    dir,
                    bin,
                    port,
                });
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("postgres did not start on three ports");
    }

    /// Stops the server (an immediate shutdown), keeping its data.
    pub fn stop(&mut self) {
        // SAFETY: kill on our own child's pid.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGQUIT) };
        let _ = self.child.wait();
    }

    /// Starts the stopped server again on its port.
    pub async fn restart(&mut self) {
        self.child = postgres(&self.bin, self.dir.path(), self.port);
        assert!(
            wait_ready(&mut self.child, self.port, self.dir.path()).await,
            "postgres did not start again on port {}",
            self.port
        );
    }

    /// A URL for `database`, with the password in it or not.
    pub fn url(&self, database: &str, with_password: bool) -> String {
        url(self.port, database, with_password)
    }

    pub async fn connect(
        &self,
        database: &str,
    ) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
        connect(self.port, database).await
    }

    /// A new, empty database; a client connected to it.
    pub async fn database(&self, name: &str) -> tokio_postgres::Client {
        let admin = self.connect("postgres").await.expect("connect as postgres");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create the database");
        self.connect(name)
            .await
            .expect("connect to the new database")
    }
}

/// `postgres` over the cluster in `dir`, on `port`, logging to a file.
fn postgres(bin: &Path, dir: &Path, port: u16) -> Child {
    let log = std::fs::File::options()
        .create(true)
        .append(true)
        .open(dir.join("postgres.log"))
        .expect("the log");
    command(&bin.join("postgres"))
        .arg("-D")
        .arg(dir.join("data"))
        .arg("-k")
        .arg(dir)
        .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1"])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start postgres")
}

fn url(port: u16, database: &str, with_password: bool) -> String {
    let password = if with_password {
        format!(":{PASSWORD}")
    } else {
        String::new()
    };
    format!("postgres://postgres{password}@127.0.0.1:{port}/{database}")
}

async fn connect(
    port: u16,
    database: &str,
) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, connection) =
        tokio_postgres::connect(&url(port, database, true), tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

/// Polls a connection until the server accepts one; `false` when it
/// exited first (its port was taken).
async fn wait_ready(child: &mut Child, port: u16, dir: &Path) -> bool {
    let started = Instant::now();
    loop {
        if connect(port, "postgres").await.is_ok() {
            return true;
        }
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        assert!(
            started.elapsed() < READY,
            "postgres never accepted a connection; its log:\n{}",
            std::fs::read_to_string(dir.join("postgres.log")).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        self.stop();
    }
}
