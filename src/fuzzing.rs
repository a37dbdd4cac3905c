//! The bodies of the fuzz targets (`fuzz/`), here so that `cargo test`
//! replays every input the fuzzer ever failed on (`fuzz/regressions/`)
//! through exactly the same code. Not part of the stable API.

use std::sync::{Mutex, OnceLock};

use crate::content::markdown::{self, Target};
use crate::content::{FileStamp, Limits, card};
use crate::index::{IndexWriter, SearchIndex};
use crate::search::{self, SearchRequest, Ticket};

/// A card file, any bytes: front matter (YAML or TOML) → fields → markdown
/// → sanitized HTML → the index document. Reading may refuse the file with
/// a problem; it may not panic, hang, or let active HTML through. Every
/// `![[note]]` in it embeds a note: the card itself under another name
/// (so embeds nest, and repeat a name: a cycle) or a note of callouts and
/// embeds of its own.
pub fn card_file(bytes: &[u8]) {
    let limits = Limits {
        max_card_bytes: 256 * 1024,
    };
    let Ok(parsed) = card::parse("fuzz/card.md", bytes, FileStamp::default(), limits) else {
        return;
    };
    let html = markdown::render_in(&parsed.markdown, "fuzz/card", &|_, link| {
        embedding(link, &parsed.markdown)
    });
    if let Some(active) = active_markup(&html) {
        panic!("{active} got through the sanitizer: {html}");
    }
    let html = markdown::render(&parsed.markdown, &|link| {
        if link.target.len() % 2 == 0 {
            Target::Url {
                href: format!("/cards/{}", link.target),
                title: Some(link.target.clone()),
            }
        } else {
            Target::Broken
        }
    });
    if let Some(active) = active_markup(&html) {
        panic!("{active} got through the sanitizer: {html}");
    }
    let mut guard = card_writer().lock().unwrap_or_else(|e| e.into_inner());
    let (writer, count) = &mut *guard;
    writer
        .upsert(&parsed)
        .expect("any parsed card can be indexed");
    *count += 1;
    // Emptied now and then, so a long run does not grow without bound.
    if *count % 512 == 0 {
        writer.delete_all().expect("delete all");
        writer.commit().expect("commit");
    }
}

/// A note with callouts (nested, folded) that embeds the card back.
const NOTE: &str = "> [!tip]- Folded <b>title</b>\n> > [!note] Inner ==mark==\n> > ![[fuzz/card#^b]]\n\n%%hidden%% ![[note]] ^b\n";

/// Where a link of the fuzzed card goes: embeds are notes (by the length
/// of their name: the card itself, the callout note, or no body at all),
/// other links cards or nothing.
fn embedding(link: &markdown::Link, card: &str) -> Target {
    let href = format!("/cards/{}", link.target);
    if link.kind == markdown::LinkKind::Embed {
        let markdown = match link.target.len() % 3 {
            0 => Some(card.to_string()),
            1 => Some(NOTE.to_string()),
            _ => None,
        };
        return Target::Note {
            id: link.target.clone(),
            href,
            title: link.target.clone(),
            markdown,
        };
    }
    match link.target.len() % 2 {
        0 => Target::Url {
            href,
            title: Some(link.target.clone()),
        },
        _ => Target::Broken,
    }
}

fn card_writer() -> &'static Mutex<(IndexWriter, usize)> {
    static WRITER: OnceLock<Mutex<(IndexWriter, usize)>> = OnceLock::new();
    WRITER.get_or_init(|| {
        let (_, writer, _) = crate::index::open(None).expect("an index in memory");
        Mutex::new((writer, 0))
    })
}

/// Query text, any bytes, through everything a request can reach: reading
/// the text, building the query, searching with snippets and facets,
/// suggestions while typing, and matching a pasted ticket. Each must
/// answer: an error here would be a 500.
pub fn query_text(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let index = query_index();
    let mut request = SearchRequest::new(text.as_ref());
    request.facets = true;
    search::search(index, &request).expect("search answers any text");
    search::suggest(index, &request).expect("suggest answers any text");
    let (subject, body) = text.split_once('\n').unwrap_or((text.as_ref(), ""));
    let ticket = Ticket {
        subject: subject.to_string(),
        body: body.to_string(),
        tags: vec![],
    };
    search::similar(index, &ticket, &request).expect("matching answers any ticket");
}

const CARDS: &[(&str, &str)] = &[
    (
        "support/refunds.md",
        "---\ntitle: Refunds on annual plans\ntags: [billing, refunds]\n---\nRefund the unused months pro rata within 30 days. See [[VPN]].\n",
    ),
    (
        "it/vpn.md",
        "---\ntitle: VPN\naliases: [vpn-setup]\n---\n# Install\n\nInstall the client, then sign in with SSO.\n",
    ),
    (
        "ru/vozvrat.md",
        "---\ntitle: Возврат средств\nlang: ru\n---\nВозвраты по годовым тарифам оформляются за неиспользованные месяцы.\n",
    ),
    (
        "ro/rambursare.md",
        "---\ntitle: Rambursări pentru abonamente anuale\n---\nRambursarea se face pentru lunile neutilizate, în 30 de zile.\n",
    ),
    (
        "zh/tuikuan.md",
        "---\ntitle: 年度套餐退款\n---\n未使用的月份按比例退款，三十天内处理。\n",
    ),
];

fn query_index() -> &'static SearchIndex {
    static INDEX: OnceLock<SearchIndex> = OnceLock::new();
    INDEX.get_or_init(|| {
        let (index, mut writer, _) = crate::index::open(None).expect("an index in memory");
        for (path, text) in CARDS {
            let parsed = card::parse(
                path,
                text.as_bytes(),
                FileStamp::default(),
                Limits::default(),
            )
            .expect("the fixture cards parse");
            writer.upsert(&parsed).expect("upsert");
        }
        writer.commit().expect("commit");
        index
    })
}

/// The first piece of markup in sanitized HTML that could run: a tag that
/// is never allowed, an event handler, or a script URL. Text never holds a
/// raw `<` (the serializer escapes it), so every `<` starts a tag.
fn active_markup(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    let mut rest = lower.as_str();
    while let Some(at) = rest.find('<') {
        rest = &rest[at + 1..];
        // The tag runs to the first `>` outside a quoted value.
        let mut quote = None;
        let end = rest
            .char_indices()
            .find(|&(_, c)| match quote {
                Some(q) if c == q => {
                    quote = None;
                    false
                }
                Some(_) => false,
                None if c == '"' || c == '\'' => {
                    quote = Some(c);
                    false
                }
                None => c == '>',
            })
            .map_or(rest.len(), |(i, _)| i);
        let tag = &rest[..end];
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if [
            "script", "iframe", "object", "embed", "style", "svg", "math", "form", "base", "meta",
            "link",
        ]
        .contains(&name.as_str())
        {
            return Some(format!("<{name}>"));
        }
        for attr in attributes(tag) {
            let (key, value) = attr;
            let value = value.trim_start();
            if key.starts_with("on")
                || ((key == "href" || key == "src")
                    && ["javascript:", "vbscript:", "data:text"]
                        .iter()
                        .any(|s| value.starts_with(s)))
            {
                return Some(format!("{key}={value}"));
            }
        }
        rest = &rest[end.min(rest.len())..];
    }
    None
}

/// `name="value"` pairs of a serialized tag (after its name).
fn attributes(tag: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut rest = tag.trim_start_matches('/');
    rest = rest.trim_start_matches(|c: char| c.is_ascii_alphanumeric());
    loop {
        rest = rest.trim_start();
        let Some(eq) = rest.find('=') else { break };
        let key = rest[..eq].trim();
        let after = &rest[eq + 1..];
        let Some(q) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            break;
        };
        let Some(close) = after[1..].find(q) else {
            break;
        };
        out.push((key, &after[1..1 + close]));
        rest = &after[close + 2..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::active_markup;

    #[test]
    fn the_oracle_flags_markup_that_runs_and_not_text_that_looks_like_it() {
        for bad in [
            "<script>x</script>",
            "<p><a href=\"javascript:x\">a</a></p>",
            "<img src=\" data:text/html,x\">",
            "<img alt=\"a > b\" onerror=\"x\">",
            "<svg></svg>",
        ] {
            assert!(active_markup(bad).is_some(), "{bad}");
        }
        for fine in [
            "<p>H=\"data:text</p>",
            "<p>&lt;script&gt; onerror=x javascript:</p>",
            "<p><a href=\"/cards/x\" title=\"javascript: a > b\">x</a></p>",
            "<input disabled=\"\" type=\"checkbox\">",
        ] {
            assert_eq!(active_markup(fine), None, "{fine}");
        }
    }
}
