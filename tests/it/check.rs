//! `quire check` run as a binary on a folder of broken cards: the exact
//! output and the exit status.

use std::process::Command;

use crate::support::write_file;

#[test]
fn check_reports_broken_cards_with_file_line_and_column_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path();
    write_file(
        c,
        "a/good.md",
        "---\ntitle: Good\nverified_by: x@example.com\nverified_at: 2099-01-01\nverify_every: 1y\n---\nSee [[a/missing]].\n",
    );
    write_file(c, "a/yaml.md", "---\ntitle: [unclosed\n---\nBody.\n");
    write_file(
        c,
        "a/dup.md",
        "---\ntitle: Dup\naliases: [a/good]\nverified_by: x@example.com\nverified_at: 2099-01-01\nverify_every: 1y\n---\nBody.\n",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_quire"))
        .arg("--content")
        .arg(c)
        .arg("check")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "a/dup.md:3:1: error: duplicate id: alias `a/good` is the id of a/good.md",
            "a/good.md:7:1: error: broken link: no card or file `a/missing`",
            "a/yaml.md:3:1: error: invalid YAML front matter: did not find expected ',' or ']'",
            "checked 3 cards: 3 errors, 0 warnings",
        ],
        "{text}"
    );
}
