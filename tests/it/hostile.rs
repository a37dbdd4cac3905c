//! The hostile-input catalogue: cards, file names, URLs, headers and request
//! bodies, each with the specific answer it must get (a 4xx with a JSON
//! error body, a card skipped and reported with file and line, the rest
//! served). No answer in the catalogue is a 5xx; a panic would be one (the
//! server turns handler panics into 500s). Slow clients, overload and missed
//! watcher events follow, each with its own test.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{DEADLINE, TestKb, send, write_file};

const GOOD: &str =
    "---\ntitle: Refunds on annual plans\n---\nRefund annual plans within 30 days.\n";

fn alias_bomb() -> String {
    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let prev = if i == 1 {
            "a".to_string()
        } else {
            format!("a{}", i - 1)
        };
        let refs = vec![format!("*{prev}"); 9].join(", ");
        bomb.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    format!("---\ntitle: Bomb\n{bomb}---\nBody\n")
}

/// Cards that cannot be read: each is skipped and reported exactly so.
fn unreadable_cards() -> Vec<(&'static str, String, &'static str)> {
    vec![
        (
            "h/bomb.md",
            alias_bomb(),
            "h/bomb.md:2:1: error: invalid YAML front matter: repetition limit exceeded",
        ),
        (
            "h/deep-list.md",
            format!(
                "---\ntitle: Deep\nx: {}{}\n---\nBody\n",
                "[".repeat(5000),
                "]".repeat(5000)
            ),
            "h/deep-list.md:3:131: error: invalid YAML front matter: recursion limit exceeded",
        ),
        (
            "h/deep-map.md",
            format!(
                "---\ntitle: Deep\nx: {}1{}\n---\nBody\n",
                "{a: ".repeat(3000),
                "}".repeat(3000)
            ),
            "h/deep-map.md:3:512: error: invalid YAML front matter: recursion limit exceeded",
        ),
        (
            "h/big-front-matter.md",
            format!("---\ntitle: Big\nk: {}\n---\nBody\n", "x".repeat(70_000)),
            "h/big-front-matter.md:2:1: error: front matter is 70015 bytes, more than the limit of 65536",
        ),
        (
            "h/duplicate-key.md",
            "---\ntitle: A\ntitle: B\n---\nBody\n".into(),
            "h/duplicate-key.md:2:1: error: invalid YAML front matter: duplicate entry with key \"title\"",
        ),
        (
            "h/list.md",
            "---\n- a\n- b\n---\nBody\n".into(),
            "h/list.md:2:1: error: front matter must be a mapping of `key: value` lines, found a list",
        ),
        (
            "h/nul.md",
            "---\ntitle: N\0ul\n---\nBody\n".into(),
            "h/nul.md:2:1: error: invalid YAML front matter: control characters are not allowed",
        ),
        (
            "h/tabs.md",
            "---\ntitle:\tTab\n\tkey: v\n---\nBody\n".into(),
            "h/tabs.md:3:1: error: invalid YAML front matter: found a tab character",
        ),
        (
            "h/indent.md",
            "---\ntitle: A\n  bad: indent\n---\nBody\n".into(),
            "h/indent.md:3:6: error: invalid YAML front matter: mapping values are not allowed",
        ),
        (
            "h/unclosed.md",
            "---\ntitle: Never closed\nBody\n".into(),
            "h/unclosed.md:1:1: error: front matter opened with `---` on line 1 is never closed",
        ),
        (
            "h/toml.md",
            "+++\ntitle = \n+++\nBody\n".into(),
            "h/toml.md:2:9: error: invalid TOML front matter",
        ),
        (
            "h/too-big.md",
            format!("---\ntitle: Huge\n---\n{}", "word ".repeat(60_000)),
            "h/too-big.md:1:1: error: file is 300020 bytes, more than the limit of 262144",
        ),
    ]
}

/// Cards that are odd but readable: served, with problems at their lines.
fn served_with_problems() -> Vec<(&'static str, String, &'static str)> {
    vec![
        (
            "h/bad-dates.md",
            "---\ntitle: Dates\nverified_at: 2026-13-45\nverify_every: 3 fortnights\n---\nBody\n"
                .into(),
            "h/bad-dates.md:3:1: error: `verified_at: 2026-13-45` is not a date",
        ),
        (
            "h/title-list.md",
            "---\ntitle: [a, b]\n---\nBody\n".into(),
            "h/title-list.md:2:1: error: `title` must be text",
        ),
        (
            "h/yaml-tags.md",
            "---\ntitle: !custom Tagged\nother: !!binary aGVsbG8=\n---\nBody\n".into(),
            "",
        ),
        (
            "h/merge-keys.md",
            format!(
                "---\ntitle: Merge\nbase: &b {{x: 1}}\n{}---\nBody\n",
                (0..2000)
                    .map(|i| format!("k{i}: {{<<: *b, y: {i}}}\n"))
                    .collect::<String>()
            ),
            "",
        ),
        (
            "h/bom.md",
            "\u{feff}---\ntitle: Bom\n---\nBody\n".into(),
            "",
        ),
        (
            "h/crlf.md",
            "---\r\ntitle: Crlf\r\n---\r\nBody\r\n".into(),
            "",
        ),
        (
            "h/nul-body.md",
            "---\ntitle: Nul body\n---\nBo\0dy\n".into(),
            "",
        ),
    ]
}

/// Markdown built to exhaust a renderer: each card page must still answer.
fn markdown_bombs() -> Vec<(&'static str, String)> {
    vec![
        ("m/quotes.md", format!("# Quotes\n\n{} deep\n", ">".repeat(10_000))),
        ("m/lists.md", format!("{}item\n", "> - ".repeat(5000))),
        ("m/brackets.md", "[".repeat(100_000)),
        ("m/emphasis.md", "*a ".repeat(50_000)),
        ("m/wide-table.md", format!("{}|\n{}|\n", "| c ".repeat(2000), "|---".repeat(2000))),
        ("m/long-heading.md", format!("# {}\n", "long ".repeat(40_000))),
        ("m/footnotes.md", (0..20_000).map(|i| format!("[^{i}] ")).collect()),
        ("m/wiki-links.md", (0..10_000).map(|i| format!("[[nowhere-{i}]] ")).collect()),
        ("m/headings.md", (0..5000).map(|i| format!("## Same\n\ntext {i}\n\n")).collect()),
        ("m/html.md", "<script>alert(1)</script><iframe src=x></iframe><img src=x onerror=alert(1)><a href=\"javascript:alert(1)\">x</a>\n".into()),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_cards_are_skipped_or_served_and_reported_with_file_and_line() {
    let mut files: Vec<(&str, String)> = vec![("good/refunds.md", GOOD.to_string())];
    files.extend(unreadable_cards().into_iter().map(|(p, t, _)| (p, t)));
    files.extend(served_with_problems().into_iter().map(|(p, t, _)| (p, t)));
    files.extend(markdown_bombs());
    let data = tempfile::tempdir().unwrap();
    let content = tempfile::tempdir().unwrap();
    for (path, text) in &files {
        write_file(content.path(), path, text);
    }
    let t = TestKb::serve_with(content, data, |c| c.max_card_bytes = 256 * 1024).await;
    assert_eq!(t.search_ids("refunds annual").await[0], "good/refunds");

    let problems: Vec<String> = t.kb.findings().iter().map(|p| p.to_string()).collect();
    for (path, _, expected) in unreadable_cards() {
        assert!(
            problems.iter().any(|p| p.starts_with(expected)),
            "{path}: expected `{expected}` in {problems:#?}"
        );
        let id = path.trim_end_matches(".md");
        let (status, body) = t.get(&format!("/api/v1/cards/{id}")).await;
        assert_eq!(status, 404, "{path} is skipped");
        assert_eq!(body["code"], "card_not_found");
    }
    for (path, _, expected) in served_with_problems() {
        if !expected.is_empty() {
            assert!(
                problems.iter().any(|p| p.starts_with(expected)),
                "{path}: expected `{expected}` in {problems:#?}"
            );
        }
        let (status, _) = t
            .get(&format!("/api/v1/cards/{}", path.trim_end_matches(".md")))
            .await;
        assert_eq!(status, 200, "{path} is served");
    }
    for (path, _) in markdown_bombs() {
        let id = path.trim_end_matches(".md");
        let started = Instant::now();
        let (status, page) = t.get_text(&format!("/cards/{id}")).await;
        assert_eq!(status, 200, "{path}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{path} took {:?}",
            started.elapsed()
        );
        assert!(
            !page.contains("<script>alert")
                && !page.contains("onerror=")
                && !page.contains("javascript:"),
            "{path}"
        );
        let (status, _) = t.get(&format!("/api/v1/cards/{id}?format=html")).await;
        assert_eq!(status, 200, "{path} through the API");
    }
    let (_, problems_page) = t.page("/problems").await;
    assert!(problems_page.contains("h/bomb.md:2:1"));
}

#[tokio::test]
async fn odd_file_names_are_served_at_their_own_urls_or_skipped_with_a_reason() {
    let long_name = format!("n/{}.md", "l".repeat(240));
    let too_long = format!(
        "n/{}/{}/{}.md",
        "d".repeat(200),
        "e".repeat(200),
        "f".repeat(200)
    );
    let t = TestKb::start(&[
        ("n/with space.md", "---\ntitle: Space\n---\nx\n"),
        ("n/hash#tag.md", "---\ntitle: Hash\n---\nx\n"),
        ("n/question?.md", "---\ntitle: Question\n---\nx\n"),
        ("n/per%cent.md", "---\ntitle: Percent\n---\nx\n"),
        ("n/caf\u{e9}.md", "---\ntitle: Composed\n---\nx\n"),
        ("n/cafe\u{301}.md", "---\ntitle: Decomposed\n---\nx\n"),
        ("n/Case.md", "---\ntitle: Case\n---\nx\n"),
        (&long_name, "---\ntitle: Long\n---\nx\n"),
        (&too_long, "---\ntitle: Too long\n---\nx\n"),
    ])
    .await;
    // A name that is not UTF-8 is skipped with a reason.
    {
        use std::os::unix::ffi::OsStrExt;
        let name = std::ffi::OsStr::from_bytes(b"n/latin1-\xe9t\xe9.md");
        std::fs::write(t.content.path().join(name), "---\ntitle: Latin1\n---\nx\n").unwrap();
    }
    let encoded =
        |id: &str| quire::server::urls::card_url(&quire::content::CardId::new(id).unwrap());
    for (id, title) in [
        ("n/with space", "Space"),
        ("n/hash#tag", "Hash"),
        ("n/question?", "Question"),
        ("n/per%cent", "Percent"),
        ("n/caf\u{e9}", "Composed"),
        // Ids are NFC: the decomposed spelling names the same card, and
        // the second file is reported (below).
        ("n/cafe\u{301}", "Composed"),
    ] {
        let url = encoded(id);
        let (status, page) = t.get_text(&url).await;
        assert_eq!(status, 200, "{id} at {url}");
        assert!(page.contains(&format!("<h1>{title}</h1>")), "{id}");
        let (status, card) = t.get(&format!("/api/v1{url}")).await;
        assert_eq!(
            (status, card["title"].as_str()),
            (200, Some(title)),
            "{id} in the API"
        );
    }
    let (status, _) = t.get(&encoded(long_name.trim_end_matches(".md"))).await;
    assert_eq!(status, 200, "a 240-byte name");
    t.eventually("the non-UTF-8 name to be reported", || async {
        t.kb.findings().iter().any(|p| {
            p.to_string()
                .ends_with("error: file name is not valid UTF-8; rename it")
        })
    })
    .await;
    assert!(
        t.kb.findings().iter().any(|p| {
            p.path == "n/caf\u{e9}.md" && p.message.contains("different Unicode forms")
        })
    );
    assert!(t.kb.findings().iter().any(|p| {
        p.path == too_long
            && p.message
                .contains("path is too long or not a valid card id")
    }));

    // A case-only rename: the old id is gone, the new one served.
    t.rename("n/Case.md", "n/case.md");
    t.eventually("the case-only rename", || async {
        t.get("/api/v1/cards/n/case").await.0 == 200 && t.get("/api/v1/cards/n/Case").await.0 == 404
    })
    .await;
}

#[tokio::test]
async fn no_url_reads_outside_the_content_folder() {
    let t = TestKb::start(&[("a/card.md", GOOD), ("a/file.txt", "an attachment")]).await;
    // A secret beside the content folder, and a link to it inside.
    let outside = t.data.path().join("secret.txt");
    std::fs::write(&outside, "TOP-SECRET-MARKER").unwrap();
    std::os::unix::fs::symlink(&outside, t.path("a/link-out.txt")).unwrap();
    std::os::unix::fs::symlink(&outside, t.path("a/link-out.md")).unwrap();
    let data_dir = t
        .data
        .path()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .to_string();
    t.eventually("the symlinks to be reported", || async {
        t.kb.findings()
            .iter()
            .filter(|p| p.message.contains("symlink points outside"))
            .count()
            == 2
    })
    .await;
    let urls = [
        format!("/files/..%2f{data_dir}%2fsecret.txt"),
        format!("/files/%2e%2e/{data_dir}/secret.txt"),
        format!("/files/%2e%2e%2f{data_dir}%2fsecret.txt"),
        format!("/files/..%5c{data_dir}%5csecret.txt"),
        format!("/files/%252e%252e%252f{data_dir}%252fsecret.txt"),
        format!("/files/a/../../{data_dir}/secret.txt"),
        "/files//etc/passwd".into(),
        "/files/%2fetc%2fpasswd".into(),
        "/files/a/link-out.txt".into(),
        "/files/a/file.txt%00.md".into(),
        "/static/..%2f..%2fCargo.toml".into(),
        "/static/%2e%2e%2f%2e%2e%2fCargo.toml".into(),
        format!("/cards/..%2f{data_dir}%2fsecret"),
        "/cards/a/link-out".into(),
        format!("/cards/..%2f{data_dir}%2fsecret.md"),
    ];
    for url in &urls {
        let (status, body) = t.get_text(url).await;
        assert!(status == 404 || status == 400, "{url} answered {status}");
        assert!(
            !body.contains("TOP-SECRET-MARKER") && !body.contains("[package]"),
            "{url} leaked"
        );
    }
    for url in [
        format!("/api/v1/cards/..%2f{data_dir}%2fsecret"),
        "/api/v1/cards/a/link-out".into(),
        format!("/api/v1/cards/{}", "x/".repeat(5000)),
        "/api/v1/cards/%00".into(),
        "/api/v1/cards/a%5c..%5c..%5cetc".into(),
        "/api/v1/no-such-endpoint".into(),
    ] {
        let (status, body) = t.get(&url).await;
        assert!(status == 404 || status == 400, "{url} answered {status}");
        assert!(
            body["code"].is_string(),
            "{url}: a JSON error body, got {body}"
        );
    }
    // The attachment itself is served, with its type and nosniff.
    let response = t
        .client
        .get(t.url("/files/a/file.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn attachments_that_could_run_are_served_as_inert_downloads() {
    let t = TestKb::start(&[("a/card.md", GOOD)]).await;
    let files = [
        // name, content type, download
        ("a/pic.png", "image/png", false),
        ("a/notes.txt", "text/plain; charset=utf-8", false),
        ("a/data.json", "application/json", false),
        ("a/logo.svg", "image/svg+xml", true),
        ("a/page.html", "text/plain; charset=utf-8", true),
        ("a/evil.js", "text/plain; charset=utf-8", true),
        ("a/evil.mjs", "text/plain; charset=utf-8", true),
        ("a/evil.css", "text/plain; charset=utf-8", true),
        ("a/tool.exe", "application/octet-stream", true),
        ("a/no-extension", "application/octet-stream", true),
    ];
    for (name, _, _) in files {
        t.write(name, "<script>alert(1)</script>");
    }
    for (name, mime, download) in files {
        let url = format!("/files/{name}");
        let mut response = t.client.get(t.url(&url)).send().await.unwrap();
        let started = Instant::now();
        while response.status() == 404 && started.elapsed() < DEADLINE {
            tokio::time::sleep(Duration::from_millis(20)).await;
            response = t.client.get(t.url(&url)).send().await.unwrap();
        }
        let headers = response.headers();
        assert_eq!(response.status(), 200, "{name}");
        assert_eq!(headers["content-type"], mime, "{name}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{name}");
        let disposition = headers
            .get("content-disposition")
            .map(|v| v.to_str().unwrap());
        let csp = headers
            .get("content-security-policy")
            .map(|v| v.to_str().unwrap());
        if download {
            assert_eq!(disposition, Some("attachment"), "{name}");
            assert!(
                csp.is_some_and(|c| c.starts_with("sandbox")),
                "{name}: {csp:?}"
            );
        } else {
            assert_eq!(disposition, None, "{name}");
        }
    }
    // The theme's own script is a script.
    let response = t.client.get(t.url("/static/site.js")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
}

// Multi-threaded: the raw-socket helpers block their thread while the
// server answers on another.
#[tokio::test(flavor = "multi_thread")]
async fn hostile_headers_and_bodies_get_a_4xx_with_a_reason() {
    let t = TestKb::configured(|c| {
        c.api.tokens = vec![
            quire::config::TokenConfig {
                sha256: quire::config::sha256_of(b"write-token-for-tests"),
                public_only: false,
                read_only: false,
            },
            quire::config::TokenConfig {
                sha256: quire::config::sha256_of(b"read-only-token-for-tests"),
                public_only: false,
                read_only: true,
            },
        ]
    })
    .await;
    t.write("a/card.md", GOOD);
    t.eventually("the card", || async {
        t.client
            .get(t.url("/api/v1/cards/a/card"))
            .bearer_auth("write-token-for-tests")
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
    })
    .await;
    let post = |path: &str, token: &str| t.client.post(t.url(path)).bearer_auth(token.to_string());
    let w = "write-token-for-tests";
    let cases: Vec<(&str, reqwest::RequestBuilder, u16, &str)> = vec![
        (
            "no token",
            t.client.get(t.url("/api/v1/search?q=x")),
            401,
            "unauthorized",
        ),
        (
            "a wrong token",
            t.client
                .get(t.url("/api/v1/search?q=x"))
                .bearer_auth("wrong-token-000000"),
            401,
            "unauthorized",
        ),
        (
            "a 10 KB token",
            t.client
                .get(t.url("/api/v1/search?q=x"))
                .bearer_auth("t".repeat(10_000)),
            401,
            "unauthorized",
        ),
        (
            "a token that is not UTF-8",
            t.client.get(t.url("/api/v1/search?q=x")).header(
                "authorization",
                reqwest::header::HeaderValue::from_bytes(b"Bearer \xff\xfe").unwrap(),
            ),
            401,
            "unauthorized",
        ),
        (
            "Basic instead of Bearer",
            t.client
                .get(t.url("/api/v1/search?q=x"))
                .header("authorization", "Basic d3JpdGU6dG9rZW4="),
            401,
            "unauthorized",
        ),
        (
            "invalid JSON",
            post("/api/v1/match", w)
                .header("content-type", "application/json")
                .body("{not json"),
            400,
            "invalid_body",
        ),
        (
            "JSON nested 100k deep",
            post("/api/v1/match", w)
                .header("content-type", "application/json")
                .body(format!("{}{}", "[".repeat(100_000), "]".repeat(100_000))),
            400,
            "invalid_body",
        ),
        (
            "JSON of the wrong shape",
            post("/api/v1/match", w).json(&json!({"subject": 42})),
            400,
            "invalid_body",
        ),
        (
            "an empty body",
            post("/api/v1/match", w).header("content-type", "application/json"),
            400,
            "invalid_body",
        ),
        (
            "a body that is not UTF-8",
            post("/api/v1/match", w)
                .header("content-type", "application/json")
                .body(vec![0xffu8, 0xfe, 0x00]),
            400,
            "invalid_body",
        ),
        (
            "a 2 MiB body",
            post("/api/v1/match", w).json(&json!({"body": "x".repeat(2 * 1024 * 1024)})),
            413,
            "payload_too_large",
        ),
        (
            "a feedback verdict nobody knows",
            post("/api/v1/cards/a/card/feedback", w).json(&json!({"verdict": "meh"})),
            400,
            "invalid_parameter",
        ),
        (
            "feedback on a card that is not there",
            post("/api/v1/cards/a/none/feedback", w).json(&json!({"verdict": "helpful"})),
            404,
            "card_not_found",
        ),
        (
            "feedback with a read-only token",
            post("/api/v1/cards/a/card/feedback", "read-only-token-for-tests")
                .json(&json!({"verdict": "helpful"})),
            403,
            "forbidden",
        ),
        (
            "resolving with a read-only token",
            post(
                "/api/v1/cards/a/card/feedback/resolve",
                "read-only-token-for-tests",
            ),
            403,
            "forbidden",
        ),
        (
            "feedback from another site's page",
            post("/api/v1/cards/a/card/feedback", w)
                .header("origin", "https://evil.example")
                .header("sec-fetch-site", "cross-site")
                .json(&json!({"verdict": "outdated"})),
            403,
            "forbidden",
        ),
        (
            "a limit that is not a number",
            t.client
                .get(t.url("/api/v1/search?q=x&limit=lots"))
                .bearer_auth(w),
            400,
            "invalid_parameter",
        ),
        (
            "an unknown trust filter",
            t.client
                .get(t.url("/api/v1/search?q=x&trust=maybe"))
                .bearer_auth(w),
            400,
            "invalid_parameter",
        ),
    ];
    for (what, request, status, code) in cases {
        let (got, body) = send(request).await;
        assert_eq!(
            (got, body["code"].as_str()),
            (status, Some(code)),
            "{what}: {body}"
        );
        assert!(body["message"].is_string(), "{what}: a message for people");
    }

    // A form posted from another site is refused; from our own page it works.
    let form = "verdict=outdated&comment=forged";
    let forged = t
        .client
        .post(t.url("/cards/a/card/feedback"))
        .header("sec-fetch-site", "cross-site")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form);
    assert_eq!(send(forged).await.0, 403);
    let own = t
        .client
        .post(t.url("/cards/a/card/feedback"))
        .header("sec-fetch-site", "same-origin")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form);
    let answer = own.send().await.unwrap();
    assert!(
        answer.status().is_redirection() || answer.status() == 200,
        "{}",
        answer.status()
    );

    // A chunked body (no length announced) over the route's limit.
    let chunk = format!("2000\r\n{}\r\n", " ".repeat(0x2000));
    let chunked = raw_while_reading(
        &t,
        &format!(
            "POST /api/v1/cards/a/card/feedback HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {w}\r\n\
             Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{}0\r\n\r\n",
            chunk.repeat(40)
        ),
    );
    assert!(
        chunked.starts_with("HTTP/1.1 413"),
        "{}",
        &chunked[..chunked.len().min(200)]
    );
    assert!(chunked.contains("payload_too_large"));

    // Headers hyper refuses before any handler runs.
    let huge = raw(
        &t,
        &format!(
            "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
            "a".repeat(600 * 1024)
        ),
    );
    assert!(
        huge.starts_with("HTTP/1.1 431") || huge.is_empty(),
        "{}",
        &huge[..huge.len().min(80)]
    );
    let many: String = (0..200).map(|i| format!("X-H{i}: v\r\n")).collect();
    let many = raw(
        &t,
        &format!("GET /healthz HTTP/1.1\r\nHost: x\r\n{many}\r\n"),
    );
    assert!(
        many.starts_with("HTTP/1.1 431"),
        "{}",
        &many[..many.len().min(80)]
    );
    let garbage = raw(&t, "\x16\x03\x01\x02\x00 not http\r\n\r\n");
    assert!(
        garbage.starts_with("HTTP/1.1 400") || garbage.is_empty(),
        "{garbage}"
    );

    // A hostile Host does not end up in links.
    let page = raw(
        &t,
        "GET /sidebar HTTP/1.1\r\nHost: evil.example\"><script>x</script>\r\nConnection: close\r\n\r\n",
    );
    assert!(
        page.starts_with("HTTP/1.1 200") && !page.contains("<script>x"),
        "{page}"
    );

    // Every answer carries a request id; a caller's own is kept.
    let response = t
        .client
        .get(t.url("/healthz"))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-me-42");
    let response = t.client.get(t.url("/healthz")).send().await.unwrap();
    assert!(response.headers()["x-request-id"].len() >= 16);
}

/// Writes `request` on a fresh connection and reads until the server
/// answers and closes, or the deadline passes.
fn raw(t: &TestKb, request: &str) -> String {
    let mut tcp = TcpStream::connect(t.addr).unwrap();
    tcp.set_read_timeout(Some(DEADLINE)).unwrap();
    let _ = tcp.write_all(request.as_bytes());
    let mut out = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match tcp.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                out.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&out);
                if text.contains("\r\n\r\n")
                    && (text.contains("connection: close") || !request.contains("keep-alive"))
                {
                    // Enough to judge; a keep-alive answer would never end.
                    if let Some(len) = content_length(&text)
                        && let Some(head) = text.find("\r\n\r\n")
                        && out.len() >= head + 4 + len
                    {
                        break;
                    }
                }
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Like `raw`, but writes from another thread while reading, so an answer
/// sent before the whole request is read (a 413) is seen before the server
/// hangs up on the rest.
fn raw_while_reading(t: &TestKb, request: &str) -> String {
    let tcp = TcpStream::connect(t.addr).unwrap();
    tcp.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut writer = tcp.try_clone().unwrap();
    let request = request.as_bytes().to_vec();
    let sending = std::thread::spawn(move || {
        for piece in request.chunks(4096) {
            if writer.write_all(piece).is_err() {
                break;
            }
        }
    });
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let mut reader = tcp;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                eprintln!("read: {e}");
                break;
            }
        };
        out.extend_from_slice(&buf[..n]);
        if String::from_utf8_lossy(&out).contains("}") {
            break;
        }
    }
    let _ = sending.join();
    String::from_utf8_lossy(&out).into_owned()
}

fn content_length(head: &str) -> Option<usize> {
    head.lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().to_string())
        })
        .and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_header_senders_are_cut_off() {
    // Slow bodies, overload and connection caps: `shedding.rs`.
    let t = TestKb::configured(|c| {
        c.limits.header_read_timeout_ms = 300;
    })
    .await;
    // Slowloris: headers that never end. The server hangs up.
    let started = Instant::now();
    let mut slow = TcpStream::connect(t.addr).unwrap();
    slow.set_read_timeout(Some(DEADLINE)).unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = slow.read(&mut buf).unwrap_or(0);
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(n == 0 || answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "cut off after {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn without_events_the_periodic_reconcile_keeps_the_index_equal_to_the_disk() {
    // No watcher at all (as on a network mount that sends no events): the
    // safety-net reconcile still finds every change.
    let t = TestKb::configured(|c| {
        c.watch = false;
        c.reconcile_seconds = 1;
    })
    .await;
    t.write("a/card.md", GOOD);
    t.eventually("a new card without any event", || async {
        t.get("/api/v1/cards/a/card").await.0 == 200
    })
    .await;
    t.remove("a/card.md");
    t.eventually("a removed card without any event", || async {
        t.get("/api/v1/cards/a/card").await.0 == 404
    })
    .await;
}
