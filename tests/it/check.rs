//! `quire check` run as a binary on a folder of broken cards: the exact
//! output and the exit status.

use std::process::Command;

use crate::support::write_file;

/// `quire check` over the folder `content`: its exit code and what it printed.
fn check(content: &std::path::Path) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_quire"))
        .arg("--content")
        .arg(content)
        .arg("check")
        .output()
        .expect("run quire check");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

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
    let (code, text) = check(c);
    assert_eq!(code, Some(1), "{text}");
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

#[test]
fn check_reports_translation_families_ambiguous_links_and_synonym_mistakes() {
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path();
    let card = |title: &str, extra: &str, body: &str| {
        format!(
            "---\ntitle: {title}\n{extra}verified_by: x@example.com\nverified_at: 2099-01-01\nverify_every: 1y\n---\n{body}\n"
        )
    };
    write_file(
        c,
        "en/guide.md",
        &card("Guide", "lang: en\n", "See [[Setup]]."),
    );
    write_file(
        c,
        "en/a/setup.md",
        &card("Setup A", "lang: en\n", "One way."),
    );
    write_file(
        c,
        "en/b/setup.md",
        &card("Setup B", "lang: en\n", "Another way."),
    );
    write_file(
        c,
        "ru/gid.md",
        &card("Гид", "lang: ru\ntranslation_of: en/guide\n", "Смотри."),
    );
    write_file(
        c,
        "ru/gid2.md",
        &card("Гид два", "lang: ru\ntranslation_of: en/guide\n", "Ещё."),
    );
    write_file(
        c,
        "ro/ghid.md",
        &card("Ghid", "lang: ro\ntranslation_of: ru/gid\n", "Vezi."),
    );
    write_file(
        c,
        "zh/zhinan.md",
        &card("指南", "lang: zh\ntranslation_of: en/nowhere\n", "参见。"),
    );
    write_file(
        c,
        "_synonyms.yaml",
        "- [setup, install, instalare]\n- [alone]\n",
    );
    let (code, text) = check(c);
    assert_eq!(code, Some(0), "warnings only: {text}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "_synonyms.yaml:2:1: warning: a group needs two entries or more to say anything",
            "en/guide.md:8:1: warning: ambiguous link: `[[Setup]]` could be `en/a/setup` or `en/b/setup`; it opens `en/a/setup` (write the id to choose)",
            "ro/ghid.md:4:1: warning: translation_of: `ru/gid` is itself a translation; name its source `en/guide`",
            "ru/gid2.md:1:1: warning: two translations in `ru`: this card and `ru/gid` are both in family `en/guide`",
            "zh/zhinan.md:4:1: warning: translation_of: no card `en/nowhere`",
            "checked 7 cards: 0 errors, 5 warnings",
        ],
        "{text}"
    );
}

#[test]
fn check_warns_of_answer_cards_without_a_reply_where_the_folder_requires_one() {
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path();
    let verified = "verified_by: x@example.com\nverified_at: 2099-01-01\nverify_every: 1y";
    write_file(
        c,
        "playbooks/_index.md",
        "---\ntitle: Playbooks\nreply_required: true\n---\n",
    );
    write_file(
        c,
        "playbooks/refunds.md",
        &format!(
            "---\ntitle: Refunds\n{verified}\nreply_snippet: We refund within 30 days.\n---\nBody.\n"
        ),
    );
    write_file(
        c,
        "playbooks/angry.md",
        &format!("---\ntitle: Angry customers\n{verified}\n---\nBody.\n"),
    );
    // A section that is reading for the team says so.
    write_file(
        c,
        "playbooks/notes/_index.md",
        "---\ntitle: Notes\nreply_required: false\n---\n",
    );
    write_file(
        c,
        "playbooks/notes/history.md",
        &format!("---\ntitle: History\n{verified}\n---\nBody.\n"),
    );
    write_file(
        c,
        "team/lunch.md",
        &format!("---\ntitle: Lunch\n{verified}\n---\nBody.\n"),
    );
    let (code, text) = check(c);
    assert_eq!(code, Some(0), "warnings only: {text}");
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        [
            "playbooks/angry.md:1:1: warning: no `reply_snippet`: playbooks/_index.md says its cards answer customers (`reply_required: true`), and without one agents can send only the link",
            "checked 4 cards: 0 errors, 1 warning",
        ],
        "{text}"
    );
}
