//! Reading what a person typed. No input is an error: quotes may be
//! unbalanced, operators misplaced, a whole e-mail pasted. User text never
//! reaches tantivy's query-string parser (it has inputs that panic or never
//! end: tantivy#3031, #3032); we build queries from analysed words instead.

/// The longest input read; the rest of a pasted text is ignored.
pub const MAX_QUERY_CHARS: usize = 4096;

/// What the query text asks for.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ParsedQuery {
    /// Free text, to match word by word.
    pub text: String,
    /// `"quoted phrases"`.
    pub phrases: Vec<String>,
    /// `-word`: cards containing it are left out.
    pub excluded: Vec<String>,
    /// `tag:x`, `collection:x`, `lang:x`, `trust:x` typed in the box.
    pub filters: Vec<(String, String)>,
    /// Whether the last word is still being typed (no space after it).
    pub prefix_last: bool,
}

const FILTER_KEYS: [&str; 4] = ["tag", "collection", "lang", "trust"];

/// Reads query text leniently. Quotes pair up where they can; an unclosed
/// quote runs to the end; `AND`/`OR`/`NOT` and stray symbols are ignored.
pub fn parse(input: &str) -> ParsedQuery {
    let input: String = input.chars().take(MAX_QUERY_CHARS).collect();
    let mut out = ParsedQuery::default();
    let mut last_was_text = false;
    for (chunk, quoted) in chunks(&input) {
        last_was_text = false;
        if quoted {
            if !chunk.trim().is_empty() {
                out.phrases.push(chunk.trim().to_string());
            }
            continue;
        }
        if matches!(chunk, "AND" | "OR" | "NOT" | "&&" | "||") {
            continue;
        }
        if let Some(word) = chunk.strip_prefix('-').filter(|w| !w.starts_with('-')) {
            // `-T` and `--files` are a command's options (`pacman -T`),
            // not words to leave out: one letter excludes nothing worth
            // excluding, and nobody excludes with two dashes.
            match word.chars().filter(|c| c.is_alphanumeric()).count() {
                0 => continue,
                1 => {}
                _ => {
                    out.excluded.push(word.to_string());
                    continue;
                }
            }
        }
        if let Some((key, value)) = chunk.split_once(':')
            && FILTER_KEYS.contains(&key.to_ascii_lowercase().as_str())
            && !value.is_empty()
        {
            out.filters
                .push((key.to_ascii_lowercase(), value.to_string()));
            continue;
        }
        let word = chunk.trim_start_matches('+');
        if !out.text.is_empty() {
            out.text.push(' ');
        }
        out.text.push_str(word);
        last_was_text = true;
    }
    out.prefix_last = last_was_text && !input.ends_with(char::is_whitespace);
    out
}

/// Splits on whitespace outside quotes; a quoted run is one chunk.
fn chunks(input: &str) -> Vec<(&str, bool)> {
    let mut out = Vec::new();
    let mut rest = input;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return out;
        }
        if let Some(after) = rest.strip_prefix(['"', '\u{201c}', '\u{201d}', '\u{ab}', '\u{bb}']) {
            match after.find(['"', '\u{201c}', '\u{201d}', '\u{ab}', '\u{bb}']) {
                Some(end) => {
                    out.push((&after[..end], true));
                    let close = after[end..].chars().next().map_or(1, char::len_utf8);
                    rest = &after[end + close..];
                }
                None => {
                    out.push((after, true));
                    return out;
                }
            }
            continue;
        }
        let end = rest
            .find(|c: char| c.is_whitespace() || c == '"')
            .unwrap_or(rest.len());
        let end = if end == 0 {
            rest.chars().next().map_or(1, char::len_utf8)
        } else {
            end
        };
        out.push((&rest[..end], false));
        rest = &rest[end..];
    }
}

/// Words that carry little meaning: they still score, but a card need not
/// contain them to match.
pub fn is_stop_word(folded: &str) -> bool {
    const STOP: &[&str] = &[
        // English
        "a", "an", "the", "and", "or", "of", "to", "in", "on", "for", "is", "are", "was", "be",
        "how", "do", "does", "i", "we", "you", "my", "our", "your", "what", "when", "where", "why",
        "can", "with", "it", "at", "by", "from", "this", "that", "as", "if", "not", "no", "about",
        "me", "us", "want", "wants", "need", "needs", "please", "would", "could", "should",
        // Contractions typed without their apostrophe, and their pieces.
        "cant", "dont", "doesnt", "didnt", "wont", "isnt", "arent", "wasnt", "im", "ive", "t", "s",
        "ll", "ve", "re", "m", // Russian
        "и", "в", "во", "на", "не", "что", "как", "с", "со", "по", "для", "это", "я", "мы", "к",
        "о", "об", "у", "из", "за", "ли", "а", "но", "же", "то", "от", "до",
        // Romanian (folded)
        "si", "in", "la", "de", "cu", "pe", "un", "o", "al", "ale", "ce", "cum", "sa", "se", "nu",
        "din", "pentru", "care", "este", "sunt", // Chinese
        "的", "了", "是", "在", "我", "我们", "怎么", "如何", "吗", "和", "有",
    ];
    STOP.contains(&folded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_words_are_text_and_the_last_one_is_a_prefix_while_typing() {
        let q = parse("refund ann");
        assert_eq!(q.text, "refund ann");
        assert!(q.prefix_last);
        assert!(!parse("refund annual ").prefix_last);
    }

    #[test]
    fn command_options_are_text_not_exclusions() {
        let q = parse("pacman -T");
        assert_eq!((q.text.as_str(), q.excluded.len()), ("pacman -T", 0));
        let q = parse("pacman --files");
        assert_eq!((q.text.as_str(), q.excluded.len()), ("pacman --files", 0));
        assert_eq!(parse("refund -annual").excluded, ["annual"]);
    }

    #[test]
    fn quotes_exclusions_and_filters_are_understood() {
        let q = parse(r#""annual plan" refund -monthly tag:billing trust:stale"#);
        assert_eq!(q.phrases, ["annual plan"]);
        assert_eq!(q.text, "refund");
        assert_eq!(q.excluded, ["monthly"]);
        assert_eq!(
            q.filters,
            [
                ("tag".into(), "billing".into()),
                ("trust".into(), "stale".into())
            ]
        );
        assert!(!q.prefix_last);
    }

    #[test]
    fn nasty_input_is_read_without_error() {
        for nasty in [
            "\"",
            "\"\"\"",
            "AND OR",
            "title:",
            "-",
            "- *",
            "a:(^",
            "((((",
            "*",
            "\u{0}",
            "\"unclosed phrase",
        ] {
            let _ = parse(nasty);
        }
        assert_eq!(parse("\"unclosed phrase").phrases, ["unclosed phrase"]);
        assert_eq!(parse("AND OR").text, "");
        assert_eq!(parse("title:refund").text, "title:refund");
    }

    #[test]
    fn very_long_input_is_cut() {
        let q = parse(&"word ".repeat(10_000));
        assert!(q.text.len() <= MAX_QUERY_CHARS);
    }
}
