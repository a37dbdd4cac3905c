//! What Obsidian adds to markdown, read the way Obsidian reads it: `%%comments%%`,
//! `==highlights==`, callouts (`> [!tip] Title`, foldable with `-` or `+`),
//! `^block-id` markers, inline `#tags`, and the section of a note that
//! `![[note#Heading]]` embeds. Each is a flat pass over the text or over
//! pulldown-cmark's events, so no input nests them deeper than it nests
//! the markdown itself. Sanitizing is the caller's: these passes only add
//! markup of their own (classes, `<mark>`, `<details>`).

use std::borrow::Cow;
use std::collections::HashMap;

use pulldown_cmark::{CowStr, Event, Parser, Tag, TagEnd};

use super::{escape_attr, options, slug};

/// The body with its `%%comments%%` removed, inline or across lines. Code
/// (fenced blocks and backtick spans) is left alone, as in Obsidian, and a
/// `%%` that nothing closes is text. Line breaks inside a comment are kept,
/// so every line after it keeps its number.
pub fn strip_comments(body: &str) -> Cow<'_, str> {
    if !body.contains("%%") {
        return Cow::Borrowed(body);
    }
    let mut out = String::with_capacity(body.len());
    let mut fence: Option<(u8, usize)> = None;
    let mut in_comment = false;
    // Once one `%%` finds no closing `%%`, no later one can.
    let mut unclosed_from: Option<usize> = None;
    let mut offset = 0;
    for line in body.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        if !in_comment {
            if let Some(marker) = fence_marker(line) {
                fence = match fence {
                    Some((c, n)) if c == marker.0 && marker.1 >= n => None,
                    Some(open) => Some(open),
                    None => Some(marker),
                };
                out.push_str(line);
                continue;
            }
            if fence.is_some() {
                out.push_str(line);
                continue;
            }
        }
        let bytes = line.as_bytes();
        let mut at = 0;
        while at < bytes.len() {
            if in_comment {
                match line[at..].find("%%") {
                    Some(end) => {
                        out.extend(line[at..at + end].chars().filter(|&c| c == '\n'));
                        at += end + 2;
                        in_comment = false;
                    }
                    None => {
                        out.extend(line[at..].chars().filter(|&c| c == '\n'));
                        at = bytes.len();
                    }
                }
                continue;
            }
            match bytes[at] {
                b'`' => {
                    let run = bytes[at..].iter().take_while(|&&b| b == b'`').count();
                    let ticks = &line[at..at + run];
                    let close = line[at + run..]
                        .find(ticks)
                        .map_or(at + run, |c| at + run + c + run);
                    out.push_str(&line[at..close]);
                    at = close;
                }
                b'%' if bytes.get(at + 1) == Some(&b'%')
                    && unclosed_from.is_none_or(|u| start + at < u) =>
                {
                    if body[start + at + 2..].contains("%%") {
                        in_comment = true;
                        at += 2;
                    } else {
                        unclosed_from = Some(start + at);
                        out.push_str("%%");
                        at += 2;
                    }
                }
                _ => {
                    // `` ` `` and `%` are ASCII: never inside a character.
                    let next = bytes[at + 1..]
                        .iter()
                        .position(|&b| b == b'`' || b == b'%')
                        .map_or(bytes.len(), |n| at + 1 + n);
                    out.push_str(&line[at..next]);
                    at = next;
                }
            }
        }
    }
    Cow::Owned(out)
}

/// A fence line's character and length (```` ``` ````, `~~~`), after the
/// indentation and `>` quote marks that may come before it.
fn fence_marker(line: &str) -> Option<(u8, usize)> {
    let rest = line.trim_start_matches([' ', '\t', '>']);
    let c = *rest.as_bytes().first()?;
    if c != b'`' && c != b'~' {
        return None;
    }
    let n = rest.bytes().take_while(|&b| b == c).count();
    (n >= 3).then_some((c, n))
}

/// A callout's first line: `[!type]`, then `-` (folded) or `+` (foldable,
/// open), then the title.
struct Callout<'t> {
    kind: String,
    fold: Option<bool>,
    title: &'t str,
}

fn callout_head(text: &str) -> Option<Callout<'_>> {
    let rest = text.strip_prefix("[!")?;
    let end = rest.find(']')?;
    let kind = &rest[..end];
    if kind.is_empty()
        || !kind
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
    {
        return None;
    }
    let after = &rest[end + 1..];
    let (fold, title) = match after.as_bytes().first() {
        Some(b'-') => (Some(false), &after[1..]),
        Some(b'+') => (Some(true), &after[1..]),
        _ => (None, after),
    };
    Some(Callout {
        // A class name: ASCII only, whatever the author typed.
        kind: kind
            .to_lowercase()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect(),
        fold,
        title: title.trim_start(),
    })
}

/// The title a callout without one shows: its type, capitalized.
fn default_title(kind: &str) -> String {
    let mut chars = kind.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_else(|| "Note".to_string())
}

/// Adjacent text events as one, so that the passes below see `[!tip]` or
/// `==` whole however the parser cut the text.
pub fn merge_text(events: Vec<Event<'_>>) -> Vec<Event<'_>> {
    let mut out: Vec<Event> = Vec::with_capacity(events.len());
    // Text joined so far, written out at the next other event: one copy
    // per run, however many pieces it has.
    let mut pending: Option<String> = None;
    for event in events {
        match event {
            Event::Text(next) => match (pending.as_mut(), out.last()) {
                (Some(joined), _) => joined.push_str(&next),
                (None, Some(Event::Text(_))) => {
                    let Some(Event::Text(prev)) = out.pop() else {
                        continue;
                    };
                    let mut joined = prev.into_string();
                    joined.push_str(&next);
                    pending = Some(joined);
                }
                (None, _) => out.push(Event::Text(next)),
            },
            other => {
                if let Some(joined) = pending.take() {
                    out.push(Event::Text(CowStr::from(joined)));
                }
                out.push(other);
            }
        }
    }
    if let Some(joined) = pending {
        out.push(Event::Text(CowStr::from(joined)));
    }
    out
}

/// Block quotes that open with `[!type]` become callouts: a box with a
/// title, or `<details>` when foldable. Nested callouts are nested quotes.
pub fn callouts(events: Vec<Event<'_>>) -> Vec<Event<'_>> {
    let mut out: Vec<Event> = Vec::with_capacity(events.len());
    // What closes each open block quote: its end tag, or a callout's HTML.
    let mut closers: Vec<Option<&'static str>> = Vec::new();
    let mut events = events.into_iter().peekable();
    while let Some(event) = events.next() {
        match event {
            Event::Start(Tag::BlockQuote(kind)) => {
                let paragraph = match events.peek() {
                    Some(Event::Start(Tag::Paragraph)) => events.next(),
                    _ => None,
                };
                let head = match (&paragraph, events.peek()) {
                    (Some(_), Some(Event::Text(t))) => {
                        callout_head(t).map(|c| (c.kind, c.fold, c.title.to_string()))
                    }
                    _ => None,
                };
                let Some((kind_name, fold, title)) = head else {
                    out.push(Event::Start(Tag::BlockQuote(kind)));
                    out.extend(paragraph);
                    closers.push(None);
                    continue;
                };
                // The marker's text, read above.
                events.next();
                let class = format!("callout callout-{kind_name}");
                let (open, title_open, title_close, closer) = match fold {
                    None => (
                        format!("<div class=\"{class}\">"),
                        "<div class=\"callout-title\">",
                        "</div>",
                        "</div></div>",
                    ),
                    Some(open) => (
                        format!(
                            "<details class=\"{class}\"{}>",
                            if open { " open" } else { "" }
                        ),
                        "<summary class=\"callout-title\">",
                        "</summary>",
                        "</div></details>",
                    ),
                };
                out.push(Event::Html(CowStr::from(open)));
                out.push(Event::Html(CowStr::from(title_open)));
                let mut titled = !title.trim().is_empty();
                if titled {
                    out.push(Event::Text(CowStr::from(title)));
                }
                // The rest of the first line is the title; a line break
                // (outside any emphasis) starts the content.
                let mut depth = 0usize;
                let mut ended_paragraph = false;
                while let Some(next) = events.peek() {
                    match next {
                        Event::SoftBreak | Event::HardBreak if depth == 0 => {
                            events.next();
                            break;
                        }
                        Event::End(TagEnd::Paragraph) if depth == 0 => {
                            events.next();
                            ended_paragraph = true;
                            break;
                        }
                        Event::Start(_) => depth += 1,
                        Event::End(_) => depth = depth.saturating_sub(1),
                        _ => {}
                    }
                    titled = true;
                    out.extend(events.next());
                }
                if !titled {
                    out.push(Event::Text(CowStr::from(default_title(&kind_name))));
                }
                out.push(Event::Html(CowStr::from(title_close)));
                out.push(Event::Html(CowStr::from("<div class=\"callout-content\">")));
                if !ended_paragraph {
                    out.push(Event::Start(Tag::Paragraph));
                }
                closers.push(Some(closer));
            }
            Event::End(TagEnd::BlockQuote(kind)) => match closers.pop() {
                Some(Some(html)) => out.push(Event::Html(CowStr::from(html))),
                _ => out.push(Event::End(TagEnd::BlockQuote(kind))),
            },
            other => out.push(other),
        }
    }
    out
}

/// For the outline: the `[!type] Title` that opens a callout read as its
/// title alone, so that a card's text and first paragraph do not start
/// with the marker. Events come with their lines.
pub fn callout_titles<'a>(
    events: impl Iterator<Item = (Event<'a>, usize)>,
) -> Vec<(Event<'a>, usize)> {
    let mut out: Vec<(Event, usize)> = Vec::new();
    // Text at the start of a quote's first paragraph, joined.
    let mut head: Option<(String, usize)> = None;
    for (event, line) in events {
        let at_head = matches!(
            out.as_slice(),
            [
                ..,
                (Event::Start(Tag::BlockQuote(_)), _),
                (Event::Start(Tag::Paragraph), _)
            ]
        );
        match event {
            Event::Text(t) if head.is_some() || at_head => {
                let (joined, _) = head.get_or_insert_with(|| (String::new(), line));
                joined.push_str(&t);
            }
            other => {
                if let Some((joined, first)) = head.take() {
                    let text = match callout_head(&joined) {
                        Some(c) if c.title.trim().is_empty() => default_title(&c.kind),
                        Some(c) => c.title.to_string(),
                        None => joined,
                    };
                    out.push((Event::Text(CowStr::from(text)), first));
                }
                out.push((other, line));
            }
        }
    }
    if let Some((joined, first)) = head {
        out.push((Event::Text(CowStr::from(joined)), first));
    }
    out
}

/// `==text==` as `<mark>`, paired within one run of inline text (a
/// paragraph, a heading, a cell); an `==` left without a partner is text.
/// Code is never highlighted.
pub fn highlights(events: Vec<Event<'_>>) -> Vec<Event<'_>> {
    // The `==` of each text event that opens or closes a highlight.
    let mut marks: HashMap<usize, Vec<(usize, bool)>> = HashMap::new();
    let mut run: Vec<(usize, usize)> = Vec::new();
    let mut verbatim = 0usize;
    let close_run = |run: &mut Vec<(usize, usize)>,
                     marks: &mut HashMap<usize, Vec<(usize, bool)>>| {
        let pairs = run.len() / 2 * 2;
        for (n, (event, at)) in run.drain(..).take(pairs).enumerate() {
            marks.entry(event).or_default().push((at, n % 2 == 0));
        }
    };
    for (i, event) in events.iter().enumerate() {
        match event {
            Event::Start(Tag::CodeBlock(_) | Tag::Image { .. }) => verbatim += 1,
            Event::End(TagEnd::CodeBlock | TagEnd::Image) => verbatim = verbatim.saturating_sub(1),
            Event::Text(t) if verbatim == 0 => {
                let mut from = 0;
                while let Some(found) = t[from..].find("==") {
                    run.push((i, from + found));
                    from += found + 2;
                }
            }
            Event::Start(tag) if !is_inline(tag) => close_run(&mut run, &mut marks),
            Event::End(end) if !is_inline_end(end) => close_run(&mut run, &mut marks),
            Event::Html(_) => close_run(&mut run, &mut marks),
            _ => {}
        }
    }
    close_run(&mut run, &mut marks);
    if marks.is_empty() {
        return events;
    }
    let mut out = Vec::with_capacity(events.len() + marks.len() * 2);
    for (i, event) in events.into_iter().enumerate() {
        let (Some(at), Event::Text(text)) = (marks.get(&i), &event) else {
            out.push(event);
            continue;
        };
        let mut from = 0;
        for &(offset, opens) in at {
            if offset > from {
                out.push(Event::Text(CowStr::from(text[from..offset].to_string())));
            }
            out.push(Event::InlineHtml(CowStr::from(if opens {
                "<mark>"
            } else {
                "</mark>"
            })));
            from = offset + 2;
        }
        if from < text.len() {
            out.push(Event::Text(CowStr::from(text[from..].to_string())));
        }
    }
    out
}

fn is_inline(tag: &Tag) -> bool {
    matches!(
        tag,
        Tag::Emphasis
            | Tag::Strong
            | Tag::Strikethrough
            | Tag::Link { .. }
            | Tag::Superscript
            | Tag::Subscript
    )
}

fn is_inline_end(end: &TagEnd) -> bool {
    matches!(
        end,
        TagEnd::Emphasis
            | TagEnd::Strong
            | TagEnd::Strikethrough
            | TagEnd::Link
            | TagEnd::Superscript
            | TagEnd::Subscript
    )
}

/// The `^block-id` that ends a block's text: where the marker starts (the
/// text to keep ends there) and the id.
pub fn block_marker(text: &str) -> Option<(usize, &str)> {
    let trimmed = text.trim_end();
    let caret = trimmed.rfind('^')?;
    let id = &trimmed[caret + 1..];
    let before = &trimmed[..caret];
    let valid = !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    (valid && (before.is_empty() || before.ends_with(char::is_whitespace)))
        .then(|| (before.trim_end().len(), id))
}

/// The id an element gets for `^block-id`, the one `[[note#^block-id]]`
/// links to.
pub fn block_anchor(id: &str) -> String {
    format!("^{id}")
}

/// `^block-id` markers hidden; where each stood, an empty anchor that
/// `[[note#^block-id]]` scrolls to.
pub fn block_ids(events: Vec<Event<'_>>) -> Vec<Event<'_>> {
    let mut out: Vec<Event> = Vec::with_capacity(events.len());
    let mut events = events.into_iter().peekable();
    while let Some(event) = events.next() {
        let ends_block = matches!(
            events.peek(),
            Some(Event::End(
                TagEnd::Paragraph | TagEnd::Item | TagEnd::TableCell
            ))
        );
        match event {
            Event::Text(text) if ends_block => match block_marker(&text) {
                Some((keep, id)) => {
                    let anchor = format!(
                        "<span class=\"block-anchor\" id=\"{}\"></span>",
                        escape_attr(&block_anchor(id))
                    );
                    if keep > 0 {
                        out.push(Event::Text(CowStr::from(text[..keep].to_string())));
                    }
                    out.push(Event::InlineHtml(CowStr::from(anchor)));
                }
                None => out.push(Event::Text(text)),
            },
            other => out.push(other),
        }
    }
    out
}

/// Inline `#tags` in a run of text, as Obsidian counts them: after a space
/// or at the start, letters, digits, `_`, `-` and `/` for nesting, and not
/// only digits (`#123` is an issue number). `#` inside a word (a URL's
/// fragment, `C#`) is no tag.
pub fn inline_tags(text: &str, tags: &mut Vec<String>) {
    let mut previous: Option<char> = None;
    for (at, c) in text.char_indices() {
        let starts = c == '#' && previous.is_none_or(char::is_whitespace);
        previous = Some(c);
        if !starts {
            continue;
        }
        let rest = &text[at + 1..];
        let len = rest
            .char_indices()
            .find(|&(_, c)| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '/')))
            .map_or(rest.len(), |(i, _)| i);
        let tag = rest[..len].trim_end_matches('/');
        if !tag.is_empty() && !tag.chars().all(|c| c.is_ascii_digit() || c == '/') {
            tags.push(tag.to_lowercase());
        }
    }
}

/// The part of a note that `![[note#fragment]]` embeds: the heading and
/// everything under it (to the next heading of its level or above), or
/// the block that ends with `^block-id`. `None` when there is no such
/// heading or block.
pub fn section<'b>(body: &'b str, fragment: &str) -> Option<&'b str> {
    if let Some(id) = fragment.strip_prefix('^') {
        return block(body, id);
    }
    let wanted = slug(fragment.rsplit('#').next().unwrap_or(fragment));
    let mut start: Option<(usize, pulldown_cmark::HeadingLevel)> = None;
    let mut heading: Option<(usize, pulldown_cmark::HeadingLevel, String)> = None;
    for (event, range) in Parser::new_ext(body, options()).into_offset_iter() {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                if let Some((from, open)) = start
                    && level <= open
                {
                    return Some(&body[from..range.start]);
                }
                heading = Some((range.start, level, String::new()));
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some((_, _, text)) = heading.as_mut() {
                    text.push_str(&t);
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((from, level, text)) = heading.take()
                    && start.is_none()
                    && slug(&text) == wanted
                {
                    start = Some((from, level));
                }
            }
            _ => {}
        }
    }
    start.map(|(from, _)| &body[from..])
}

/// The lines of the block a `^id` marker ends: its paragraph, or the block
/// just before a marker that stands on a line of its own.
fn block<'b>(body: &'b str, id: &str) -> Option<&'b str> {
    let mut offset = 0;
    let mut block_start = 0;
    let mut previous_block: Option<(usize, usize)> = None;
    for line in body.split_inclusive('\n') {
        let here = offset;
        offset += line.len();
        if line.trim().is_empty() {
            if here > block_start {
                previous_block = Some((block_start, here));
            }
            block_start = offset;
            continue;
        }
        let Some((keep, found)) = block_marker(line) else {
            continue;
        };
        if found != id {
            continue;
        }
        if keep == 0 && here == block_start {
            return previous_block.map(|(from, to)| &body[from..to]);
        }
        let item = line.trim_start();
        // In a list, the item alone.
        let from = if ["- ", "* ", "+ "].iter().any(|m| item.starts_with(m)) {
            here
        } else {
            block_start
        };
        return Some(&body[from..here + line.len()]);
    }
    None
}

/// `![[x.png|300]]` and `![[x.png|300x200]]`: a width, or a width and a
/// height, in place of alt text.
pub fn image_size(label: &str) -> Option<(u32, Option<u32>)> {
    let label = label.trim();
    let (w, h) = match label.split_once('x') {
        Some((w, h)) => (w, Some(h)),
        None => (label, None),
    };
    let width = w.parse().ok().filter(|&w| w > 0)?;
    match h {
        None => Some((width, None)),
        Some(h) => h.parse().ok().filter(|&h| h > 0).map(|h| (width, Some(h))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_removed_inline_and_across_lines_but_not_in_code() {
        assert_eq!(strip_comments("a %%hidden%% b"), "a  b");
        assert_eq!(strip_comments("a\n%%\nx\ny\n%%\nb\n"), "a\n\n\n\n\nb\n");
        assert_eq!(strip_comments("`%%x%%` %%y%%"), "`%%x%%` ");
        assert_eq!(
            strip_comments("```\n%%x%%\n```\n%%y%%"),
            "```\n%%x%%\n```\n"
        );
        assert_eq!(strip_comments("100%% sure"), "100%% sure");
        assert_eq!(strip_comments("Дa %%к%% б"), "Дa  б");
    }

    #[test]
    fn inline_tags_are_words_after_a_hash_not_fragments_or_numbers() {
        let mut tags = Vec::new();
        inline_tags(
            "#billing and #Team/Tier-2, see https://x.io/a#frag, C# and #123.",
            &mut tags,
        );
        assert_eq!(tags, ["billing", "team/tier-2"]);
    }

    #[test]
    fn block_markers_end_a_block_after_a_space() {
        assert_eq!(block_marker("Text ^abc-1"), Some((4, "abc-1")));
        assert_eq!(block_marker("^abc"), Some((0, "abc")));
        assert_eq!(block_marker("2^10"), None);
    }

    #[test]
    fn a_section_runs_to_the_next_heading_of_its_level() {
        let body = "# A\n\na\n\n## B\n\nb\n\n### C\n\nc\n\n## D\n\nd\n";
        assert_eq!(section(body, "B"), Some("## B\n\nb\n\n### C\n\nc\n\n"));
        assert_eq!(section(body, "A#D"), Some("## D\n\nd\n"));
        assert_eq!(section(body, "nope"), None);
        let blocks = "one\ntwo ^p1\n\n- a\n- b ^li\n\n| t |\n|---|\n\n^tbl\n";
        assert_eq!(section(blocks, "^p1"), Some("one\ntwo ^p1\n"));
        assert_eq!(section(blocks, "^li"), Some("- b ^li\n"));
        assert_eq!(section(blocks, "^tbl"), Some("| t |\n|---|\n"));
    }

    #[test]
    fn sizes_are_widths_or_width_by_height() {
        assert_eq!(image_size("300"), Some((300, None)));
        assert_eq!(image_size("300x200"), Some((300, Some(200))));
        assert_eq!(image_size("A chart"), None);
    }
}
