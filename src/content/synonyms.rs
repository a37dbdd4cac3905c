//! `_synonyms.yaml` at the top of the content folder: groups of words and
//! phrases that mean the same to the team's readers, in any languages
//! (`[refund, money back, reimburse, возврат, rambursare, 退款]`). Kept in
//! git beside the cards; search and ticket matching read any entry of a
//! group as any other (see `index::synonyms`).

use serde_json::Value;

use super::front_matter;
use super::problem::Problem;

/// The file's path under the content folder.
pub const FILE: &str = "_synonyms.yaml";

/// Entries in one group at most: a group is a handful of ways of saying one
/// thing, and each entry is searched whenever another is typed.
pub const MAX_ENTRIES: usize = 32;
/// Groups read at most.
pub const MAX_GROUPS: usize = 5_000;

/// One group, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The line the group starts on, for problems.
    pub line: usize,
    pub entries: Vec<String>,
}

/// Reads the file's text: its groups, and what is wrong with it (a group
/// that cannot be read is skipped; the others are kept).
pub fn parse(text: &str) -> (Vec<Group>, Vec<Problem>) {
    let mut problems = Vec::new();
    let value = match front_matter::parse_yaml(text, 1) {
        Ok(value) => value,
        Err(e) => {
            let message = e
                .message
                .replace("invalid YAML front matter", "invalid YAML");
            problems.push(Problem::error(FILE, e.line, e.column, message));
            return (Vec::new(), problems);
        }
    };
    let listed = match value {
        Value::Array(groups) => groups,
        Value::Null => Vec::new(),
        _ => {
            problems.push(Problem::error(
                FILE,
                1,
                1,
                "expected a list of groups, each a list of words: `- [refund, money back]`",
            ));
            return (Vec::new(), problems);
        }
    };
    let lines = GroupLines::new(text);
    let mut groups = Vec::new();
    for (n, group) in listed.into_iter().take(MAX_GROUPS).enumerate() {
        let line = lines.of(n);
        let Value::Array(items) = group else {
            problems.push(Problem::error(
                FILE,
                line,
                1,
                "a group must be a list of words",
            ));
            continue;
        };
        if let Some(entries) = entries(items, line, &mut problems) {
            groups.push(Group { line, entries });
        }
    }
    problems.extend(shared_entries(&groups));
    (groups, problems)
}

/// A group's entries (each once, whatever its case), or `None` when fewer
/// than two are left to say anything.
fn entries(items: Vec<Value>, line: usize, problems: &mut Vec<Problem>) -> Option<Vec<String>> {
    let mut entries: Vec<String> = Vec::new();
    for item in items {
        match item {
            Value::String(s) if !s.trim().is_empty() => {
                let entry = s.split_whitespace().collect::<Vec<_>>().join(" ");
                if !entries
                    .iter()
                    .any(|e| e.to_lowercase() == entry.to_lowercase())
                {
                    entries.push(entry);
                }
            }
            Value::Number(n) => entries.push(n.to_string()),
            _ => problems.push(Problem::warning(
                FILE,
                line,
                1,
                "an entry that is not a word or phrase is left out",
            )),
        }
    }
    if entries.len() < 2 {
        problems.push(Problem::warning(
            FILE,
            line,
            1,
            "a group needs two entries or more to say anything",
        ));
        return None;
    }
    if entries.len() > MAX_ENTRIES {
        problems.push(Problem::warning(
            FILE,
            line,
            1,
            format!("a group of more than {MAX_ENTRIES} entries: the rest are left out"),
        ));
        entries.truncate(MAX_ENTRIES);
    }
    Some(entries)
}

/// An entry in two groups joins them for every reader: usually a slip.
fn shared_entries(groups: &[Group]) -> Vec<Problem> {
    let mut first: std::collections::HashMap<String, usize> = Default::default();
    let mut problems = Vec::new();
    for group in groups {
        for entry in &group.entries {
            let key = entry.to_lowercase();
            match first.get(&key) {
                Some(line) if *line != group.line => problems.push(Problem::warning(
                    FILE,
                    group.line,
                    1,
                    format!("`{entry}` is also in the group on line {line}"),
                )),
                Some(_) => {}
                None => {
                    first.insert(key, group.line);
                }
            }
        }
    }
    problems
}

/// The line each top-level list item starts on (`- ` at the start of a
/// line), for problems: the YAML reader gives values, not places.
struct GroupLines(Vec<usize>);

impl GroupLines {
    fn new(text: &str) -> Self {
        GroupLines(
            text.lines()
                .enumerate()
                .filter(|(_, l)| l.starts_with("- ") || *l == "-")
                .map(|(i, _)| i + 1)
                .collect(),
        )
    }

    fn of(&self, n: usize) -> usize {
        self.0.get(n).copied().unwrap_or(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_read_with_their_lines() {
        let text = "# money\n- [refund, money back, возврат, 退款]\n- - log in\n  - sign in\n";
        let (groups, problems) = parse(text);
        assert_eq!(problems, vec![]);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].line, 2);
        assert_eq!(
            groups[0].entries,
            ["refund", "money back", "возврат", "退款"]
        );
        assert_eq!(groups[1].line, 3);
        assert_eq!(groups[1].entries, ["log in", "sign in"]);
    }

    #[test]
    fn mistakes_are_reported_with_their_line_and_the_rest_is_kept() {
        let text = "- [refund, reimburse]\n- [alone]\n- {a: b}\n- [refund, credit]\n";
        let (groups, problems) = parse(text);
        assert_eq!(groups.len(), 2);
        let said: Vec<(usize, &str)> = problems
            .iter()
            .map(|p| (p.line, p.message.as_str()))
            .collect();
        assert_eq!(
            said,
            [
                (2, "a group needs two entries or more to say anything"),
                (3, "a group must be a list of words"),
                (4, "`refund` is also in the group on line 1"),
            ]
        );
        let (none, problems) = parse("- [a, b\n");
        assert!(none.is_empty());
        assert_eq!(problems[0].path, FILE);
        assert!(
            problems[0].message.starts_with("invalid YAML"),
            "{problems:?}"
        );
    }
}
