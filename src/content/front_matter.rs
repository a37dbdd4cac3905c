//! Splits a card's text into front matter and body, and parses the front
//! matter into plain JSON values. The only module that names the YAML crate
//! (serde_yaml is deprecated upstream: swapping it is a change to this file).
//! It knows nothing about what the fields mean; `card` does.

use serde_json::{Map, Value};

/// The largest front matter parsed; larger is refused before the YAML parser
/// sees it, as a guard against alias bombs and runaway documents.
pub const MAX_FRONT_MATTER_BYTES: usize = 64 * 1024;

/// Front matter fields, as JSON values (dates stay strings).
pub type Fields = Map<String, Value>;

/// A card's text cut in two, with where each part starts in the file.
#[derive(Debug, PartialEq, Eq)]
pub struct Split<'a> {
    /// The front matter between the fences, or `None` when the file has none.
    pub front_matter: Option<&'a str>,
    pub format: Format,
    /// 1-based line of the first front matter line.
    pub front_matter_line: usize,
    pub body: &'a str,
    /// 1-based line of the first body line.
    pub body_line: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `---` fences (Jekyll, Hugo, Obsidian).
    Yaml,
    /// `+++` fences (Zola, Hugo).
    Toml,
}

/// What is wrong with front matter, with the 1-based line and column in the
/// file (not in the front matter).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FrontMatterError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Cuts `text` at its front matter fences.
pub fn split(text: &str) -> Result<Split<'_>, FrontMatterError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (fence, format) = match text.lines().next().map(str::trim_end) {
        Some("---") => ("---", Format::Yaml),
        Some("+++") => ("+++", Format::Toml),
        _ => {
            return Ok(Split {
                front_matter: None,
                format: Format::Yaml,
                front_matter_line: 1,
                body: text,
                body_line: 1,
            });
        }
    };
    let after_open = text.find('\n').map_or(text.len(), |i| i + 1);
    let mut offset = after_open;
    for (line, raw) in (2..).zip(text[after_open..].split_inclusive('\n')) {
        let trimmed = raw.trim_end();
        if trimmed == fence || (format == Format::Yaml && trimmed == "...") {
            return Ok(Split {
                front_matter: Some(&text[after_open..offset]),
                format,
                front_matter_line: 2,
                body: &text[offset + raw.len()..],
                body_line: line + 1,
            });
        }
        offset += raw.len();
    }
    Err(FrontMatterError {
        line: 1,
        column: 1,
        message: format!(
            "front matter opened with `{fence}` on line 1 is never closed; \
             did you forget the closing `{fence}` line?"
        ),
    })
}

/// Parses front matter into fields. `first_line` is the file line where the
/// front matter starts, so errors point into the file.
pub fn parse(source: &str, format: Format, first_line: usize) -> Result<Fields, FrontMatterError> {
    if source.len() > MAX_FRONT_MATTER_BYTES {
        return Err(FrontMatterError {
            line: first_line,
            column: 1,
            message: format!(
                "front matter is {} bytes, more than the limit of {MAX_FRONT_MATTER_BYTES}; \
                 move long text into the body",
                source.len()
            ),
        });
    }
    if source.trim().is_empty() {
        return Ok(Fields::new());
    }
    let value = match format {
        Format::Yaml => parse_yaml(source, first_line)?,
        Format::Toml => parse_toml(source, first_line)?,
    };
    match value {
        Value::Object(fields) => Ok(fields),
        Value::Null => Ok(Fields::new()),
        other => Err(FrontMatterError {
            line: first_line,
            column: 1,
            message: format!(
                "front matter must be a mapping of `key: value` lines, found {}",
                kind_of(&other)
            ),
        }),
    }
}

/// A whole YAML document (a file such as `_synonyms.yaml`), as JSON
/// values, errors placed from `first_line`.
pub fn parse_yaml(source: &str, first_line: usize) -> Result<Value, FrontMatterError> {
    let value: serde_yaml::Value = serde_yaml::from_str(source).map_err(|e| {
        let (line, column) = e.location().map_or((first_line, 1), |l| {
            (first_line + l.line().saturating_sub(1), l.column())
        });
        FrontMatterError {
            line,
            column,
            message: format!(
                "invalid YAML front matter: {}",
                strip_location(&e.to_string())
            ),
        }
    })?;
    Ok(yaml_to_json(value))
}

fn parse_toml(source: &str, first_line: usize) -> Result<Value, FrontMatterError> {
    toml::from_str::<Value>(source).map_err(|e| {
        let (line, column) = e.span().map_or((first_line, 1), |span| {
            let before = &source[..span.start.min(source.len())];
            let line = before.matches('\n').count();
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            (first_line + line, column)
        });
        FrontMatterError {
            line,
            column,
            message: format!("invalid TOML front matter: {}", e.message()),
        }
    })
}

/// serde_yaml appends " at line L column C" to its messages; we report the
/// position ourselves, mapped to the file.
fn strip_location(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

fn yaml_to_json(value: serde_yaml::Value) -> Value {
    use serde_yaml::Value as Y;
    match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map_or(Value::Null, Value::Number)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(yaml_to_json).collect()),
        Y::Mapping(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let key = match yaml_to_json(k) {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (key, yaml_to_json(v))
                })
                .collect(),
        ),
        Y::Tagged(tagged) => yaml_to_json(tagged.value),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_front_matter_is_cut_from_the_body_with_line_numbers() {
        let s = split("---\ntitle: A\n---\nBody\n").unwrap();
        assert_eq!(s.front_matter, Some("title: A\n"));
        assert_eq!(s.body, "Body\n");
        assert_eq!(s.body_line, 4);
    }

    #[test]
    fn a_file_without_fences_is_all_body() {
        let s = split("# Title\ntext").unwrap();
        assert_eq!(s.front_matter, None);
        assert_eq!(s.body_line, 1);
    }

    #[test]
    fn an_unclosed_fence_says_what_to_fix() {
        let e = split("---\ntitle: A\nbody").unwrap_err();
        assert!(e.message.contains("closing `---`"), "{}", e.message);
    }

    #[test]
    fn a_yaml_error_points_at_the_line_in_the_file() {
        let text = "---\ntitle: A\ntags: [a, b\nowner: x\n---\n";
        let s = split(text).unwrap();
        let e = parse(s.front_matter.unwrap(), s.format, s.front_matter_line).unwrap_err();
        assert!(e.line >= 3 && e.line <= 5, "line {}", e.line);
        assert!(e.message.starts_with("invalid YAML"), "{}", e.message);
    }

    #[test]
    fn toml_front_matter_is_read_too() {
        let s = split("+++\ntitle = \"A\"\n+++\nbody").unwrap();
        let f = parse(s.front_matter.unwrap(), s.format, 2).unwrap();
        assert_eq!(f["title"], "A");
    }

    #[test]
    fn dates_stay_strings_and_unknown_fields_are_kept() {
        let f = parse("verified_at: 2026-10-01\njira: SUP-1\n", Format::Yaml, 2).unwrap();
        assert_eq!(f["verified_at"], "2026-10-01");
        assert_eq!(f["jira"], "SUP-1");
    }

    #[test]
    fn a_scalar_is_not_front_matter() {
        assert!(parse("just text", Format::Yaml, 2).is_err());
    }

    #[test]
    fn an_alias_bomb_is_refused_not_expanded() {
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let prev = if i == 1 {
                "a".to_string()
            } else {
                format!("a{}", i - 1)
            };
            bomb.push_str(&format!("a{i}: &a{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        assert!(parse(&bomb, Format::Yaml, 2).is_err());
    }

    #[test]
    fn oversized_front_matter_is_refused_before_parsing() {
        let big = format!("title: {}\n", "x".repeat(MAX_FRONT_MATTER_BYTES));
        let e = parse(&big, Format::Yaml, 2).unwrap_err();
        assert!(e.message.contains("limit"));
    }
}
