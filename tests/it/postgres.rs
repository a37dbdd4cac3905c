//! Replicas on PostgreSQL (`[store] url`): real `quire serve` processes
//! over one real database. What one replica is told, the others know;
//! what it acknowledged survives a SIGKILL; replicas starting at once
//! migrate once; a login on one holds on the others; the password is
//! never in a log. Skipped, saying so, only where no PostgreSQL is
//! installed (`.ci/run` installs it, so CI never skips).

mod server;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{card, listening_address_and_log, wait_ready, write_file};
use server::{PASSWORD, PgServer};

const DEADLINE: Duration = Duration::from_secs(20);
const CARD: &str = "a/refunds";

/// One `quire serve` process, killed (SIGKILL) when dropped.
struct Replica {
    child: Child,
    base: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Replica {
    /// Starts `quire` on `config`, with `PGPASSWORD` set when given.
    fn start(config: &Path, pgpassword: Option<&str>) -> Replica {
        let mut command = Command::new(env!("CARGO_BIN_EXE_quire"));
        command
            .arg("--config")
            .arg(config)
            .arg("serve")
            .env_remove("PGPASSWORD")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(password) = pgpassword {
            command.env("PGPASSWORD", password);
        }
        let mut child = command.spawn().expect("start quire");
        let (base, log) = listening_address_and_log(&mut child);
        Replica { child, base, log }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A content folder with one card, and a config per replica: `a` reads
/// the URL (password in it) from `url_file`, `b` has it without the
/// password in `quire.toml` and takes `PGPASSWORD`.
fn site(pg: &PgServer, database: &str, extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_file(
        &dir.path().join("content"),
        &format!("{CARD}.md"),
        &card("Refunds", "Refund annual plans within 30 days."),
    );
    std::fs::write(dir.path().join("db-url"), pg.url(database, true)).unwrap();
    let common = "content = \"content\"\nbind = \"127.0.0.1:0\"\n";
    std::fs::write(
        dir.path().join("a.toml"),
        format!("{common}data = \"data-a\"\n{extra}\n[store]\nurl_file = \"db-url\"\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("b.toml"),
        format!(
            "{common}data = \"data-b\"\n{extra}\n[store]\nurl = \"{}\"\n",
            pg.url(database, false)
        ),
    )
    .unwrap();
    dir
}

async fn start_pair(dir: &Path) -> (Replica, Replica) {
    let a = Replica::start(&dir.join("a.toml"), None);
    let b = Replica::start(&dir.join("b.toml"), Some(PASSWORD));
    let client = reqwest::Client::new();
    wait_ready(&client, &a.base).await;
    wait_ready(&client, &b.base).await;
    (a, b)
}

async fn get_json(client: &reqwest::Client, url: &str) -> Value {
    let response = client.get(url).send().await.expect("GET");
    assert_eq!(response.status(), 200, "{url}");
    response.json().await.expect("json")
}

/// Polls `check` until it holds; fails with `what` at the deadline.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < DEADLINE, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn feedback_flags_and_insights_given_to_one_replica_are_seen_by_the_other() {
    let Some(pg) = PgServer::start().await else {
        return;
    };
    pg.database("shared").await;
    let dir = site(&pg, "shared", "");
    let (a, b) = start_pair(dir.path()).await;
    let client = reqwest::Client::new();

    let feedback = format!("/api/v1/cards/{CARD}/feedback");
    let posted = client
        .post(a.url(&feedback))
        .json(&json!({ "verdict": "outdated", "comment": "the 30 days are 14 now" }))
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 201);

    let listed = get_json(&client, &b.url(&feedback)).await;
    assert_eq!(listed["feedback"][0]["comment"], "the 30 days are 14 now");
    assert_eq!(listed["open_flags"], 1);
    // The flag shows on the other replica's card and hits.
    let card = get_json(&client, &b.url(&format!("/api/v1/cards/{CARD}"))).await;
    assert_eq!(card["outdated"], 1, "{card}");

    // A vote taken back on one replica is gone from both.
    let helpful = client
        .post(a.url(&feedback))
        .json(&json!({ "verdict": "helpful" }))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let undo = format!("{feedback}/{}/undo", helpful["id"]);
    let undone = client
        .post(b.url(&undo))
        .json(&json!({ "undo_token": helpful["undo_token"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(undone.json::<Value>().await.unwrap()["undone"], true);
    let listed = get_json(&client, &a.url(&feedback)).await;
    assert_eq!(
        listed["feedback"].as_array().map(Vec::len),
        Some(1),
        "{listed}"
    );
    let page = client
        .get(b.url(&format!("/cards/{CARD}")))
        .send()
        .await
        .unwrap();
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("the 30 days are 14 now")
    );

    let resolved = client
        .post(b.url(&format!("{feedback}/resolve")))
        .send()
        .await
        .unwrap();
    assert_eq!(resolved.status(), 200);
    assert_eq!(resolved.json::<Value>().await.unwrap()["resolved"], 1);
    assert_eq!(get_json(&client, &a.url(&feedback)).await["open_flags"], 0);

    // Searched on one, opened on the other: one set of insights.
    get_json(&client, &a.url("/api/v1/search?q=Refund%20annual")).await;
    get_json(&client, &b.url("/api/v1/search?q=zzqx%20plans")).await;
    get_json(
        &client,
        &b.url(&format!("/api/v1/cards/{CARD}?q=refund%20annual")),
    )
    .await;
    for replica in [&a, &b] {
        eventually("both searches on each replica's insights", || async {
            let page = client
                .get(replica.url("/insights?days=7"))
                .send()
                .await
                .unwrap();
            let html = page.text().await.unwrap();
            html.contains("refund annual") && html.contains("zzqx plans")
        })
        .await;
        let report = get_json(&client, &replica.url("/insights?days=7&format=json")).await;
        assert_eq!(report["most_read"][0]["id"], CARD, "{report}");
        let highlights = get_json(&client, &replica.url("/api/v1/highlights")).await;
        assert_eq!(highlights["popular"][0]["id"], CARD, "{highlights}");
    }
    for replica in [&a, &b] {
        assert!(
            !replica.log_text().contains(PASSWORD),
            "{}",
            replica.log_text()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replica_killed_while_feedback_is_posted_to_it_loses_no_acknowledged_write() {
    let Some(pg) = PgServer::start().await else {
        return;
    };
    let db = pg.database("killed").await;
    let dir = site(&pg, "killed", "");
    let (a, b) = start_pair(dir.path()).await;
    let client = reqwest::Client::new();

    let acknowledged = Arc::new(Mutex::new(BTreeSet::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut posters = Vec::new();
    for poster in 0..4 {
        let (client, url) = (
            client.clone(),
            a.url(&format!("/api/v1/cards/{CARD}/feedback")),
        );
        let (acknowledged, count, stop) = (acknowledged.clone(), count.clone(), stop.clone());
        posters.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let comment = format!("poster {poster} note {i}");
                i += 1;
                let sent = client
                    .post(&url)
                    .json(&json!({ "verdict": "helpful", "comment": comment }))
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status() == 201 => {
                        acknowledged.lock().unwrap().insert(comment);
                        count.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(r) => panic!("feedback refused: {}", r.status()),
                    // The replica is gone: it was killed.
                    Err(_) => return,
                }
            }
        }));
    }
    eventually("200 acknowledged writes", || {
        let n = count.load(Ordering::Relaxed);
        async move { n >= 200 }
    })
    .await;
    a.kill();
    stop.store(true, Ordering::Relaxed);
    for poster in posters {
        poster.await.expect("a poster");
    }

    let acknowledged = acknowledged.lock().unwrap().clone();
    let stored: BTreeSet<String> = db
        .query("SELECT comment FROM feedback", &[])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    let lost: Vec<_> = acknowledged.difference(&stored).collect();
    assert!(lost.is_empty(), "acknowledged, then lost: {lost:?}");
    // The other replica goes on serving them.
    let listed = get_json(&client, &b.url(&format!("/api/v1/cards/{CARD}/feedback"))).await;
    assert_eq!(
        listed["feedback"].as_array().map(Vec::len),
        Some(200.min(stored.len()))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn while_the_database_is_down_healthz_says_so_feedback_gets_503_and_both_recover() {
    let Some(mut pg) = PgServer::start().await else {
        return;
    };
    pg.database("outage").await;
    let dir = site(&pg, "outage", "");
    let a = Replica::start(&dir.path().join("a.toml"), None);
    let client = reqwest::Client::new();
    wait_ready(&client, &a.base).await;
    let feedback = a.url(&format!("/api/v1/cards/{CARD}/feedback"));
    let post = || async {
        let r = client
            .post(&feedback)
            .json(&json!({ "verdict": "helpful" }))
            .send()
            .await
            .unwrap();
        (
            r.status().as_u16(),
            r.json::<Value>().await.unwrap_or_default(),
        )
    };

    pg.stop();
    let (status, body) = post().await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], "storage_unavailable", "{body}");
    let health = get_json(&client, &a.url("/healthz")).await;
    assert_eq!(health["status"], "degraded", "{health}");
    assert!(
        health["store_error"]
            .as_str()
            .is_some_and(|e| e.contains("reached")),
        "{health}"
    );
    let hits = get_json(&client, &a.url("/api/v1/search?q=refund")).await;
    assert_eq!(hits["total"], 1, "search goes on");

    pg.restart().await;
    eventually("healthz ready again", || async {
        get_json(&client, &a.url("/healthz")).await["status"] == "ready"
    })
    .await;
    assert_eq!(post().await.0, 201);
    assert!(!a.log_text().contains(PASSWORD));
}

#[tokio::test(flavor = "multi_thread")]
async fn replicas_starting_at_once_on_a_new_database_migrate_it_once() {
    let Some(pg) = PgServer::start().await else {
        return;
    };
    let db = pg.database("fresh").await;
    let dir = site(&pg, "fresh", "");
    let (_a, _b) = start_pair(dir.path()).await;
    let versions: Vec<i64> = db
        .query("SELECT version FROM quire_schema ORDER BY version", &[])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(versions, [1, 2]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_login_on_one_replica_holds_on_the_other() {
    let Some(pg) = PgServer::start().await else {
        return;
    };
    pg.database("sessions").await;
    let extra = "[api]\ntokens = [\"a-long-random-secret-token\"]\n[site]\nrequire_login = true\n";
    let dir = site(&pg, "sessions", extra);
    let (a, b) = start_pair(dir.path()).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let signed_in = client
        .post(a.url("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("token=a-long-random-secret-token&next=/")
        .send()
        .await
        .unwrap();
    let cookie = signed_in
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no session cookie: {}", signed_in.status()));
    let anonymous = client.get(b.url("/")).send().await.unwrap();
    assert_ne!(anonymous.status(), 200, "the site is locked");
    let with_cookie = client
        .get(b.url("/"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(
        with_cookie.status(),
        200,
        "the session from the other replica"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_password_stops_start_up_and_no_password_is_ever_printed() {
    let Some(pg) = PgServer::start().await else {
        return;
    };
    pg.database("refused").await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("content")).unwrap();
    let wrong = "Wrong-Password-93b";
    let url = pg
        .url("refused", false)
        .replace("postgres@", &format!("postgres:{wrong}@"));
    let config = dir.path().join("quire.toml");
    std::fs::write(
        &config,
        format!("content = \"content\"\nbind = \"127.0.0.1:0\"\n[store]\nurl = \"{url}\"\n"),
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_quire"))
        .arg("--config")
        .arg(&config)
        .arg("serve")
        .env("PGPASSWORD", PASSWORD)
        .output()
        .expect("run quire");
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "started with a wrong password: {said}"
    );
    let target = format!("postgres://postgres@127.0.0.1:{}/refused", pg.port);
    assert!(said.contains(&target), "{said}");
    assert!(said.contains("password authentication failed"), "{said}");
    assert!(!said.contains(wrong) && !said.contains(PASSWORD), "{said}");
}
