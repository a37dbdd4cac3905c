//! Snippets as a reader wants them in a result list: whole sentences
//! around the matched words, never code (a card's code stays searchable,
//! but a line of JSON explains nothing), and no highlight on a word of one
//! or two letters.

use std::borrow::Cow;
use std::ops::Range;

use tantivy::snippet::{Snippet, collapse_overlapped_ranges};

use super::escape_html;
use crate::content::markdown::{CODE_END, CODE_START};

/// How far a snippet may reach back or on to a sentence's edge, in bytes.
const REACH_BACK: usize = 160;
const REACH_ON: usize = 200;

/// `text` with each code block blanked to one space: what snippets are
/// made from.
pub fn without_code(text: &str) -> Cow<'_, str> {
    let Some(first) = text.find(CODE_START) else {
        return Cow::Borrowed(text);
    };
    // Copied a run at a time: this runs for every hit.
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut at = first;
    loop {
        out.push_str(&rest[..at]);
        rest = &rest[at + CODE_START.len_utf8()..];
        match rest.find(CODE_END) {
            Some(end) => {
                out.push(' ');
                rest = &rest[end + CODE_END.len_utf8()..];
            }
            // Cut off inside a block (the text is read to a limit).
            None => return Cow::Owned(out),
        }
        match rest.find(CODE_START) {
            Some(next) => at = next,
            None => {
                out.push_str(rest);
                return Cow::Owned(out);
            }
        }
    }
}

/// The snippet's fragment widened to the sentences it is in (when they
/// are near), as HTML with `<mark>` around matched words of three letters
/// or more (or any in a script written without spaces).
pub fn sentences(text: &str, snippet: &Snippet) -> String {
    let fragment = snippet.fragment_range();
    let marks: Vec<Range<usize>> = collapse_overlapped_ranges(snippet.highlighted())
        .into_iter()
        .map(|r| r.start + fragment.start..r.end + fragment.start)
        .filter(|r| text.get(r.clone()).is_some_and(worth_marking))
        .collect();
    let start = sentence_start(text, fragment.start);
    let end = sentence_end(text, fragment.end);
    let mut html = String::new();
    if start > 0 && !ends_sentence_before(text, start) {
        html.push('…');
    }
    let mut at = start;
    for mark in marks.iter().filter(|m| m.start >= start && m.end <= end) {
        html.push_str(&one_line(&text[at..mark.start]));
        html.push_str("<mark>");
        html.push_str(&escape_html(&text[mark.clone()]));
        html.push_str("</mark>");
        at = mark.end;
    }
    html.push_str(&one_line(&text[at..end]));
    let html = html.trim().to_string();
    if end < text.trim_end().len() && !text[..end].trim_end().ends_with(is_sentence_end) {
        format!("{html}…")
    } else {
        html
    }
}

fn worth_marking(word: &str) -> bool {
    word.chars().count() >= 3
        || word
            .chars()
            .any(|c| !c.is_ascii() && !is_alphabetic_script(c))
}

/// Letters of scripts written with spaces between words (Latin, Cyrillic,
/// Greek...): a two-letter word there is a small word.
fn is_alphabetic_script(c: char) -> bool {
    matches!(c as u32, 0x00C0..=0x052F | 0x1E00..=0x1FFF)
}

fn is_sentence_end(c: char) -> bool {
    matches!(c, '.' | '!' | '?' | '\n' | '。' | '！' | '？' | '；')
}

/// Whether a sentence ended just before `at` (so nothing is cut there).
fn ends_sentence_before(text: &str, at: usize) -> bool {
    text[..at].trim_end().ends_with(is_sentence_end) || text[..at].ends_with('\n')
}

/// Where the sentence holding `from` starts, if within `REACH_BACK`;
/// else `from`, moved to a word's start.
fn sentence_start(text: &str, from: usize) -> usize {
    let floor = from.saturating_sub(REACH_BACK);
    for (i, c) in text[..from].char_indices().rev() {
        if i < floor {
            break;
        }
        let ends = match c {
            '.' => full_stop(text, i),
            c => is_sentence_end(c),
        };
        if ends {
            let after = i + c.len_utf8();
            let blank = text[after..from].len() - text[after..from].trim_start().len();
            return after + blank;
        }
    }
    from
}

/// Where the sentence holding `to` ends, if within `REACH_ON`; else `to`.
fn sentence_end(text: &str, to: usize) -> usize {
    for (i, c) in text[to..].char_indices() {
        if i > REACH_ON {
            break;
        }
        let ends = match c {
            '.' => full_stop(text, to + i),
            '\n' => return to + i,
            c => is_sentence_end(c),
        };
        if ends {
            return to + i + c.len_utf8();
        }
    }
    to
}

/// Whether the `.` at byte `at` ends a sentence: the text goes on with a
/// space (or ends), and the word it closes is no abbreviation or number
/// ("e.g.", "v1.2", "3.").
fn full_stop(text: &str, at: usize) -> bool {
    let after = &text[at + 1..];
    if !(after.is_empty() || after.starts_with(char::is_whitespace)) {
        return false;
    }
    let word = text[..at].rsplit(char::is_whitespace).next().unwrap_or("");
    word.chars().count() > 1 && !word.contains('.') && !word.chars().all(|c| c.is_ascii_digit())
}

/// Escaped, with line breaks as spaces.
fn one_line(text: &str) -> String {
    escape_html(&text.replace('\n', " "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_is_left_out_of_snippets_but_kept_in_the_text() {
        let text = format!("Run it.\n{CODE_START}curl -X POST /refunds{CODE_END}\nThen wait.");
        assert_eq!(without_code(&text), "Run it.\n \nThen wait.");
        assert_eq!(
            crate::content::markdown::without_code_markers(&text),
            "Run it.\ncurl -X POST /refunds\nThen wait."
        );
    }

    #[test]
    fn sentence_edges_are_found_nearby_and_not_at_abbreviations() {
        let text = "First one. Refunds go back to the card, e.g. a visa. Last one.";
        let refunds = text.find("Refunds").unwrap();
        assert_eq!(sentence_start(text, refunds + 4), refunds);
        let visa = text.find("visa").unwrap();
        assert_eq!(&text[..sentence_end(text, visa)], &text[..visa + 5]);
        assert_eq!(sentence_end(text, text.find("e.g").unwrap()), visa + 5);
    }

    #[test]
    fn small_words_are_not_marked() {
        assert!(!worth_marking("to"));
        assert!(!worth_marking("на"));
        assert!(worth_marking("tar"));
        assert!(worth_marking("退款"));
    }
}
