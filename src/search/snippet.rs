//! Snippets as a reader wants them in a result list: whole sentences
//! around the matched words, never code (a card's code stays searchable,
//! but a line of JSON explains nothing), and no highlight on a word of one
//! or two letters.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::{ControlFlow, Range};

use tantivy::snippet::collapse_overlapped_ranges;

use super::escape_html;
use crate::content::markdown::{CODE_END, CODE_START};
use crate::index::analyzer::Analyzer;

/// Windows with a match read before the best of them is chosen: a card
/// is read no further. The first mentions are in the card's lead, where
/// the answer usually is; reading every mention of a word a card repeats
/// was a third of a one-word search at 10k cards.
const WINDOWS_READ: usize = 3;

/// What a snippet is cut around: a window of the text, and the matched
/// words in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Fragment {
    pub range: Range<usize>,
    pub marks: Vec<Range<usize>>,
    score: f32,
}

impl Fragment {
    fn at(start: usize) -> Self {
        Fragment {
            range: start..start,
            marks: Vec::new(),
            score: 0.0,
        }
    }
}

/// The best window of at most `max_bytes` of `text`, scored as tantivy's
/// snippet generator scores them (each matched form adds its term's
/// weight; ties go to the earlier), among the first `WINDOWS_READ` that
/// hold a match. `analyzer` cuts the text as the field was indexed (an
/// `Analyzer::only_like` the terms, to skip what cannot match). `None`
/// when nothing matched.
pub fn best_fragment(
    analyzer: &mut Analyzer,
    text: &str,
    terms: &HashMap<String, f32>,
    max_bytes: usize,
) -> Option<Fragment> {
    let mut best: Option<Fragment> = None;
    let mut window = Fragment::at(0);
    let mut read = 0;
    let keep = |window: Fragment, best: &mut Option<Fragment>| {
        if window.score > 0.0 && best.as_ref().is_none_or(|b| window.score > b.score) {
            *best = Some(window);
        }
    };
    analyzer.each_form(text, |forms, range| {
        if range.end - window.range.start > max_bytes {
            let full = std::mem::replace(&mut window, Fragment::at(range.start));
            if full.score > 0.0 {
                read += 1;
                keep(full, &mut best);
                if read == WINDOWS_READ {
                    return ControlFlow::Break(());
                }
            }
        }
        window.range.end = range.end;
        for form in forms {
            if let Some(weight) = terms.get(form.as_str()) {
                window.score += weight;
                window.marks.push(range.clone());
            }
        }
        ControlFlow::Continue(())
    });
    keep(window, &mut best);
    best
}

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

/// The fragment widened to the sentences it is in (when they are near),
/// as HTML with `<mark>` around matched words of three letters or more (or
/// any in a script written without spaces).
pub fn sentences(text: &str, fragment: &Fragment) -> String {
    let marks: Vec<Range<usize>> = collapse_overlapped_ranges(&fragment.marks)
        .into_iter()
        .filter(|r| text.get(r.clone()).is_some_and(worth_marking))
        .collect();
    let fragment = &fragment.range;
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

    fn fragment_of(text: &str, words: &[&str]) -> Option<String> {
        let mut analyzer = Analyzer::default();
        let terms: HashMap<String, f32> = words
            .iter()
            .flat_map(|w| analyzer.words(w))
            .flat_map(|w| w.forms)
            .map(|form| (form, 1.0))
            .collect();
        let mut only = Analyzer::only_like(terms.keys().cloned());
        best_fragment(&mut only, text, &terms, 40).map(|f| text[f.range].to_string())
    }

    #[test]
    fn the_window_with_most_matches_is_chosen_among_the_first_read() {
        let text = "A refund is quick. Filler words go here for a while now. \
                    Refund the annual plan: annual refunds take a week.";
        assert_eq!(
            fragment_of(text, &["annual", "refund"]).as_deref(),
            Some("Refund the annual plan: annual refunds")
        );
        assert_eq!(fragment_of(text, &["invoice"]), None);
    }

    #[test]
    fn reading_stops_after_a_few_windows_with_a_match() {
        let mut text = String::new();
        for _ in 0..WINDOWS_READ {
            text.push_str("One refund here, then many other words after it. ");
        }
        text.push_str("Refund refund refund refund.");
        // The last window is the densest, but it is never read: the first
        // (from the text's start to its one match) is as good as any read.
        let chosen = fragment_of(&text, &["refund"]).unwrap();
        assert_eq!(chosen, "One refund");
    }

    #[test]
    fn small_words_are_not_marked() {
        assert!(!worth_marking("to"));
        assert!(!worth_marking("на"));
        assert!(worth_marking("tar"));
        assert!(worth_marking("退款"));
    }
}
