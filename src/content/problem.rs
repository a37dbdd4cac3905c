//! `Problem`: something wrong with a file under `content/`, with the file,
//! line and column it concerns, as `quire check` and the server report it.

use std::borrow::Cow;
use std::fmt;
use std::fmt::Write;

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Problem {
    /// Path relative to the content folder, `/`-separated.
    pub path: String,
    /// 1-based; 0 when the problem concerns the whole file.
    pub line: usize,
    pub column: usize,
    pub severity: Severity,
    pub message: String,
}

impl Problem {
    pub fn error(path: &str, line: usize, column: usize, message: impl Into<String>) -> Self {
        Problem {
            path: path.to_string(),
            line,
            column,
            severity: Severity::Error,
            message: message.into(),
        }
    }

    pub fn warning(path: &str, line: usize, column: usize, message: impl Into<String>) -> Self {
        Problem {
            path: path.to_string(),
            line,
            column,
            severity: Severity::Warning,
            message: message.into(),
        }
    }
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// `path:line:column: error: message`, the shape compilers and editors
/// read. A path with a control character is quoted and escaped, and control
/// characters in the message escaped, so one problem is always one line: a
/// file named `a\nb.md:1:1: error: ...` cannot print a finding of its own.
impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = self.severity.as_str();
        write!(
            f,
            "{}:{}:{}: {severity}: {}",
            quoted_path(&self.path),
            self.line.max(1),
            self.column.max(1),
            escaped(&self.message, false)
        )
    }
}

/// A path as printed: as it is when plain, else in double quotes with C
/// escapes, the way git quotes file names.
pub fn quoted_path(path: &str) -> Cow<'_, str> {
    if path
        .chars()
        .any(|c| needs_escape(c) || c == '"' || c == '\\')
    {
        Cow::Owned(format!("\"{}\"", escaped(path, true)))
    } else {
        Cow::Borrowed(path)
    }
}

/// Control characters, and the bidirectional overrides that make a line
/// display in another order than it reads.
fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with control characters as C escapes (`\n`, `\t`, else each
/// UTF-8 byte in octal, as git writes them); in `quoted` text, `"` and `\`
/// too.
fn escaped(text: &str, quoted: bool) -> Cow<'_, str> {
    if !text
        .chars()
        .any(|c| needs_escape(c) || (quoted && (c == '"' || c == '\\')))
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '"' | '\\' if quoted => {
                out.push('\\');
                out.push(c);
            }
            c if needs_escape(c) => {
                let mut bytes = [0; 4];
                for b in c.encode_utf8(&mut bytes).bytes() {
                    let _ = write!(out, "\\{b:03o}");
                }
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_name_with_a_newline_prints_as_one_quoted_line() {
        let p = Problem::error("a/x.md:1:1: error: forged\nb.md", 0, 0, "bad\nline");
        let line = p.to_string();
        assert_eq!(
            line,
            "\"a/x.md:1:1: error: forged\\nb.md\":1:1: error: bad\\nline"
        );
        assert_eq!(line.lines().count(), 1);
    }

    #[test]
    fn plain_names_print_as_they_are_and_odd_ones_as_git_quotes_them() {
        assert_eq!(quoted_path("a/café.md"), "a/café.md");
        assert_eq!(quoted_path("a/\u{1b}[31m.md"), "\"a/\\033[31m.md\"");
        assert_eq!(quoted_path("a/\u{202e}dm.x"), "\"a/\\342\\200\\256dm.x\"");
        assert_eq!(quoted_path("a/\"q\".md"), "\"a/\\\"q\\\".md\"");
    }
}
