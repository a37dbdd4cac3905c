//! `TestKb`: a temporary content folder served over loopback, as a real
//! server, with the watcher on. Tests write and remove files and poll the API
//! with a deadline; nothing sleeps for a fixed time.

use std::future::Future;
use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use quire::reindex::ReindexHandle;
use quire::{Config, Kb};
use serde_json::Value;
use tempfile::TempDir;
use tokio::sync::oneshot;

/// How long a change may take to show before a test fails (the target is
/// far below: 200 ms at p99).
pub const DEADLINE: Duration = Duration::from_secs(10);

pub struct TestKb {
    pub content: TempDir,
    pub data: TempDir,
    pub kb: Arc<Kb>,
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    reindex: Option<ReindexHandle>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl TestKb {
    /// A server over a content folder holding `cards` (path, text).
    pub async fn start(cards: &[(&str, &str)]) -> TestKb {
        let content = tempfile::tempdir().expect("temp content dir");
        let data = tempfile::tempdir().expect("temp data dir");
        for (path, text) in cards {
            write_file(content.path(), path, text);
        }
        TestKb::serve(content, data).await
    }

    /// A server over a copy of the demo handbook in `content/`.
    pub async fn demo() -> TestKb {
        TestKb::demo_with(|_| {}).await
    }

    /// The demo handbook, with `configure` applied to the configuration
    /// (tokens, origins, secrets) as `quire.toml` would.
    pub async fn demo_with(configure: impl FnOnce(&mut Config)) -> TestKb {
        let content = tempfile::tempdir().expect("temp content dir");
        copy_dir(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("content"),
            content.path(),
        );
        TestKb::serve_with(
            content,
            tempfile::tempdir().expect("temp data dir"),
            configure,
        )
        .await
    }

    async fn serve(content: TempDir, data: TempDir) -> TestKb {
        TestKb::serve_with(content, data, |_| {}).await
    }

    /// An empty content folder, served with `configure` applied.
    pub async fn configured(configure: impl FnOnce(&mut Config)) -> TestKb {
        Self::serve_with(
            tempfile::tempdir().expect("content dir"),
            tempfile::tempdir().expect("data dir"),
            configure,
        )
        .await
    }

    pub async fn serve_with(
        content: TempDir,
        data: TempDir,
        configure: impl FnOnce(&mut Config),
    ) -> TestKb {
        let mut config = Config {
            content_dir: content.path().to_path_buf(),
            data_dir: Some(data.path().to_path_buf()),
            themes_dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("themes"),
            ..Config::default()
        };
        configure(&mut config);
        let (kb, reindexer) = quire::open(config).expect("open kb");
        let reindex = reindexer
            .spawn(kb.config.watch)
            .expect("spawn reindex loop");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let (tx, rx) = oneshot::channel();
        let app = quire::server::router(kb.clone());
        let config = kb.config.clone();
        let server = tokio::spawn(async move {
            let _ = quire::server::serve(listener, app, &config, async {
                let _ = rx.await;
            })
            .await;
        });
        let t = TestKb {
            content,
            data,
            kb,
            addr,
            client: reqwest::Client::new(),
            reindex: Some(reindex),
            shutdown: Some(tx),
            server: Some(server),
        };
        t.eventually("the server to be ready", || async {
            t.get("/healthz").await.0 == 200
        })
        .await;
        t
    }

    /// Stops the server and the reindex loop, then starts again over the same
    /// content and data folders.
    pub async fn restart(mut self) -> TestKb {
        self.stop().await;
        let content = std::mem::replace(&mut self.content, tempfile::tempdir().expect("tmp"));
        let data = std::mem::replace(&mut self.data, tempfile::tempdir().expect("tmp"));
        TestKb::serve(content, data).await
    }

    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        if let Some(reindex) = self.reindex.take() {
            tokio::task::spawn_blocking(move || reindex.stop())
                .await
                .expect("stop reindex");
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.content.path().join(rel)
    }

    pub fn write(&self, rel: &str, text: &str) {
        write_file(self.content.path(), rel, text);
    }

    /// Moves every content file's modification time an hour back, as if
    /// written well before the index was taken: a stamp taken in the
    /// seconds after a write is not trusted at the next start.
    pub fn settle(&self) {
        let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        let mut folders = vec![self.content.path().to_path_buf()];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(&folder).expect("read dir").flatten() {
                let path = entry.path();
                if path.is_dir() {
                    folders.push(path);
                } else {
                    std::fs::File::options()
                        .write(true)
                        .open(&path)
                        .and_then(|f| f.set_modified(hour_ago))
                        .expect("set mtime");
                }
            }
        }
    }

    /// Writes new text and puts the old modification time back, as tools
    /// that preserve mtimes do.
    pub fn rewrite_keeping_mtime(&self, rel: &str, text: &str) {
        let path = self.path(rel);
        let mtime = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .expect("mtime");
        std::fs::write(&path, text).expect("write file");
        std::fs::File::options()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_modified(mtime))
            .expect("restore mtime");
    }

    pub fn remove(&self, rel: &str) {
        std::fs::remove_file(self.path(rel)).expect("remove file");
    }

    pub fn rename(&self, from: &str, to: &str) {
        if let Some(parent) = self.path(to).parent() {
            std::fs::create_dir_all(parent).expect("create dirs");
        }
        std::fs::rename(self.path(from), self.path(to)).expect("rename");
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// GET, returning the status and the body as JSON (or a JSON string).
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let (status, text) = self.get_text(path).await;
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, body)
    }

    pub async fn get_text(&self, path: &str) -> (u16, String) {
        let response = self
            .client
            .get(self.url(path))
            .send()
            .await
            .expect("request");
        (
            response.status().as_u16(),
            response.text().await.expect("body"),
        )
    }

    /// A page's status and HTML, with the `/` and `'` that templates escape
    /// (`&#x2f;`, `&#x27;`, as browsers read them) put back, so tests can
    /// look for hrefs and messages.
    pub async fn page(&self, path: &str) -> (u16, String) {
        let (status, text) = self.get_text(path).await;
        (status, text.replace("&#x2f;", "/").replace("&#x27;", "'"))
    }

    /// POSTs `body` as JSON, returning the status and the JSON answer.
    pub async fn post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        let request = self.client.post(self.url(path)).json(body);
        send(request).await
    }

    /// The ids of the hits for `q`, best first.
    pub async fn search_ids(&self, q: &str) -> Vec<String> {
        let (status, body) = self.get(&format!("/api/v1/search?q={}", encode(q))).await;
        assert_eq!(status, 200, "search {q:?} answered {status}: {body}");
        body["hits"]
            .as_array()
            .map(|hits| {
                hits.iter()
                    .map(|h| h["id"].as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Polls `check` until it holds, failing the test after `DEADLINE`.
    pub async fn eventually<F, Fut>(&self, what: &str, check: F)
    where
        F: Fn() -> Fut,
        Fut: Future<Output = bool>,
    {
        let started = Instant::now();
        while !check().await {
            assert!(started.elapsed() < DEADLINE, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for TestKb {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub use quire::server::urls::encode_component as encode;

/// Sends a request, returning the status and the body as JSON (or a JSON
/// string when it is not JSON).
pub async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

/// The ids of a JSON answer's `hits`, best first.
pub fn hit_ids(body: &Value) -> Vec<&str> {
    body["hits"]
        .as_array()
        .map(|hits| hits.iter().filter_map(|h| h["id"].as_str()).collect())
        .unwrap_or_default()
}

/// A knowledge base over `cards` written to a new folder, indexed in
/// memory in this process (no server): for ranking tests.
pub fn in_process<S: AsRef<str>>(cards: &[(&str, S)]) -> (TempDir, Arc<Kb>) {
    let dir = tempfile::tempdir().expect("temp content dir");
    for (path, text) in cards {
        write_file(dir.path(), path, text.as_ref());
    }
    let config = Config {
        content_dir: dir.path().to_path_buf(),
        data_dir: None,
        ..Config::default()
    };
    let (kb, mut reindexer) = quire::open(config).expect("open the folder");
    reindexer.start(&|_, _| {}).expect("index the folder");
    (dir, kb)
}

pub fn write_file(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create dirs");
    }
    std::fs::write(path, text).expect("write file");
}

pub fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read content dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            std::fs::create_dir_all(&target).expect("create dir");
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy file");
        }
    }
}

/// A card with a title and a body.
pub fn card(title: &str, body: &str) -> String {
    format!("---\ntitle: {title}\n---\n{body}\n")
}

/// Starts `quire --config <config> serve` as its own process and returns
/// it with its address (read from its log) once it listens.
pub fn start_server(config: &Path) -> (std::process::Child, String) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_quire"))
        .args(["--config"])
        .arg(config)
        .arg("serve")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start quire");
    let base = listening_address(&mut child);
    (child, base)
}

/// Polls `/healthz` until the server at `base` has indexed the folder.
pub async fn wait_ready(client: &reqwest::Client, base: &str) {
    wait_ready_within(client, base, DEADLINE).await;
}

pub async fn wait_ready_within(client: &reqwest::Client, base: &str, deadline: Duration) {
    let started = Instant::now();
    loop {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await
            && r.status() == 200
        {
            return;
        }
        assert!(
            started.elapsed() < deadline,
            "the server never became ready"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Where a `quire serve` child listens, read from its log (stderr) once it
/// says so; the log is read to its end on a thread of its own.
pub fn listening_address(child: &mut std::process::Child) -> String {
    listening_address_and_log(child).0
}

/// The child's address, and its log (stderr) as it is written.
pub fn listening_address_and_log(
    child: &mut std::process::Child,
) -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    let log = Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = log.clone();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            kept.lock().unwrap().push(line.clone());
            if let Some(at) = line.find("on http://") {
                let addr: String = line[at + 3..]
                    .chars()
                    .take_while(|c| !c.is_whitespace())
                    .collect();
                let _ = tx.send(addr);
            }
        }
    });
    let address = rx.recv_timeout(DEADLINE).unwrap_or_else(|_| {
        panic!(
            "the server never said where it listens; its log:\n{}",
            log.lock().unwrap().join("\n")
        )
    });
    (address, log)
}

pub fn read_answer(tcp: &mut TcpStream) -> String {
    tcp.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut out = vec![0u8; 4096];
    let n = tcp.read(&mut out).unwrap_or(0);
    String::from_utf8_lossy(&out[..n]).into_owned()
}

/// API tokens for a staff member (every card) and for a public client
/// (`audience: public` cards only), both allowed to send feedback.
pub fn staff_and_public_tokens(staff: &str, public: &str) -> Vec<quire::config::TokenConfig> {
    let token = |secret: &str, public_only| quire::config::TokenConfig {
        sha256: quire::config::sha256_of(secret.as_bytes()),
        public_only,
        read_only: false,
    };
    vec![token(staff, false), token(public, true)]
}
