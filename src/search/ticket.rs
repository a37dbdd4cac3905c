//! What a customer actually wrote, out of a ticket as an inbox sends it:
//! HTML turned into text, quoted history and signatures cut off. Pure text
//! in, text out; the words that matter are chosen later (`similar`).
//!
//! Mail clients put the new message first and the history after it, so the
//! first reply header ("On … wrote:", "-----Original Message-----", an
//! Outlook reply block, a Gmail quote) ends the message. Quoted lines (`>`)
//! and `<blockquote>`s are dropped wherever they are.

/// The longest ticket text read; the rest is history or attachments.
pub const MAX_TICKET_BYTES: usize = 64 * 1024;

/// A subject without its "Re:" and "Fwd:" prefixes.
pub fn clean_subject(subject: &str) -> String {
    const PREFIXES: &[&str] = &[
        "re:",
        "re :",
        "fw:",
        "fwd:",
        "aw:",
        "tr:",
        "sv:",
        "ответ:",
        "отв:",
        "пересл:",
        "回复：",
        "回复:",
        "答复：",
        "转发：",
        "转发:",
    ];
    let mut rest = subject.trim();
    'strip: loop {
        let lower = rest.to_lowercase();
        for prefix in PREFIXES {
            if lower.starts_with(prefix) {
                // Lowercasing keeps these prefixes' byte lengths.
                rest = rest[prefix.len()..].trim_start();
                continue 'strip;
            }
        }
        break;
    }
    clean(rest)
}

/// The customer's own words in `text` (HTML or plain text).
pub fn clean(text: &str) -> String {
    let text = super::head(text, MAX_TICKET_BYTES);
    let plain = if looks_like_html(text) {
        html_to_text(text)
    } else {
        text.to_string()
    };
    strip_history_and_signature(&plain)
}

fn looks_like_html(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    [
        "<p",
        "<div",
        "<br",
        "<html",
        "<body",
        "<span",
        "<blockquote",
        "<table",
        "<a ",
    ]
    .iter()
    .any(|tag| lower.contains(tag))
}

/// Elements whose text is never the customer's message.
const SKIPPED: &[&str] = &["script", "style", "head", "title", "blockquote"];
/// Class or id fragments that mark the start of quoted history.
const HISTORY_MARKERS: &[&str] = &[
    "gmail_quote",
    "yahoo_quoted",
    "moz-cite-prefix",
    "divrplyfwdmsg",
    "appendonsend",
    "ms-outlook-mobile-reference-message",
    "quote-history",
];
/// Class fragments that mark a signature block.
const SIGNATURE_MARKERS: &[&str] = &["gmail_signature", "signature"];
/// Tags that end a line of text.
const BLOCKS: &[&str] = &[
    "p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "table", "ul", "ol",
    "pre", "section", "article",
];

/// A tolerant HTML-to-text pass: tags dropped, blocks become line breaks,
/// common entities decoded, skipped elements (and everything after a
/// history marker) left out. Malformed markup degrades to text, never fails.
fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    // The element being skipped and how deep inside its own kind we are.
    let mut skipping: Option<(String, usize)> = None;
    // Quoted history began: nothing after it is the customer's.
    let mut history = false;
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        if skipping.is_none() {
            push_text(&mut out, &rest[..lt]);
        }
        let after = &rest[lt + 1..];
        if !after.starts_with(|c: char| c.is_ascii_alphabetic() || c == '/' || c == '!') {
            // "a < b": a `<` that opens no tag is text.
            if skipping.is_none() {
                out.push('<');
            }
            rest = after;
            continue;
        }
        if let Some(comment) = after.strip_prefix("!--") {
            rest = comment.find("-->").map_or("", |end| &comment[end + 3..]);
            continue;
        }
        let Some(gt) = after.find('>') else {
            // An unclosed `<` is text ("a < b").
            if skipping.is_none() {
                push_text(&mut out, &rest[lt..]);
            }
            rest = "";
            break;
        };
        let tag = &after[..gt];
        rest = &after[gt + 1..];
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if name.is_empty() {
            continue;
        }
        if let Some((skipped, depth)) = &mut skipping {
            if *skipped == name && ends_skipping(depth, closing, tag.ends_with('/')) {
                skipping = None;
                out.push('\n');
            }
            continue;
        }
        if closing {
            if BLOCKS.contains(&name.as_str()) {
                out.push('\n');
            }
            continue;
        }
        match opened(&name, tag) {
            Opened::History => {
                history = true;
                break;
            }
            Opened::Skipped if !tag.ends_with('/') => skipping = Some((name, 1)),
            Opened::Skipped => {}
            Opened::Block => out.push('\n'),
            Opened::Inline => {}
        }
    }
    if skipping.is_none() && !history {
        push_text(&mut out, rest);
    }
    out
}

/// What an opening tag means for the text.
enum Opened {
    /// Quoted history begins: nothing after it is the customer's.
    History,
    /// Left out with everything inside (a signature, a script, a style).
    Skipped,
    Block,
    Inline,
}

fn opened(name: &str, tag: &str) -> Opened {
    let attributes = tag.to_ascii_lowercase();
    let marked = |markers: &[&str]| {
        markers.iter().any(|m| {
            attribute(&attributes, "class").is_some_and(|v| v.contains(m))
                || attribute(&attributes, "id").is_some_and(|v| v.contains(m))
        })
    };
    if marked(HISTORY_MARKERS)
        || (name == "blockquote" && attribute(&attributes, "type") == Some("cite"))
    {
        Opened::History
    } else if SKIPPED.contains(&name) || marked(SIGNATURE_MARKERS) {
        Opened::Skipped
    } else if BLOCKS.contains(&name) {
        Opened::Block
    } else {
        Opened::Inline
    }
}

/// A tag of the skipped element's own kind: one level in or out; whether
/// the skipped element has ended.
fn ends_skipping(depth: &mut usize, closing: bool, self_closing: bool) -> bool {
    if closing {
        *depth -= 1;
    } else if !self_closing {
        *depth += 1;
    }
    *depth == 0
}

/// The value of `name="..."` (or single-quoted) in a lowercased tag.
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let mut search = tag;
    while let Some(at) = search.find(name) {
        let before_ok = at == 0 || search.as_bytes()[at - 1].is_ascii_whitespace();
        let after = search[at + name.len()..].trim_start();
        if before_ok && let Some(value) = after.strip_prefix('=') {
            let value = value.trim_start();
            let quote = value.chars().next()?;
            if quote == '"' || quote == '\'' {
                let inner = &value[1..];
                return Some(inner.find(quote).map_or(inner, |end| &inner[..end]));
            }
            return Some(value.split_whitespace().next().unwrap_or(""));
        }
        search = &search[at + name.len()..];
    }
    None
}

/// Appends text with entities decoded; whitespace runs (HTML source line
/// breaks included) become one space.
fn push_text(out: &mut String, text: &str) {
    let decoded = decode_entities(text);
    let mut last_space = out.ends_with([' ', '\n']);
    for c in decoded.chars() {
        if c.is_whitespace() {
            if !last_space {
                out.push(' ');
                last_space = true;
            }
        } else {
            out.push(c);
            last_space = false;
        }
    }
}

fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let entity_end = after.find(';').filter(|&end| end <= 10);
        let decoded = entity_end.and_then(|end| entity(&after[..end]));
        match (decoded, entity_end) {
            (Some(c), Some(end)) => {
                out.push(c);
                rest = &after[end + 1..];
            }
            _ => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse().ok()?,
        };
        return char::from_u32(code);
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "ndash" => '–',
        "mdash" => '—',
        "hellip" => '…',
        "laquo" => '«',
        "raquo" => '»',
        "rsquo" | "lsquo" => '\'',
        "ldquo" | "rdquo" => '"',
        _ => return None,
    })
}

/// Sign-offs after which only a name and a title follow.
const SIGN_OFFS: &[&str] = &[
    "thanks",
    "thank you",
    "many thanks",
    "best",
    "best regards",
    "kind regards",
    "regards",
    "cheers",
    "br",
    "sincerely",
    "с уважением",
    "спасибо",
    "заранее спасибо",
    "cu stima",
    "cu respect",
    "multumesc",
    "va multumesc",
    "toate cele bune",
    "此致",
    "谢谢",
    "祝好",
];
/// Lines after a sign-off that can still be a signature.
const MAX_SIGNATURE_LINES: usize = 6;

fn strip_history_and_signature(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut kept: Vec<&str> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        // Lowercased once per line: a pasted ticket can be one long line.
        let lower = trimmed.to_lowercase();
        if is_reply_header(&lower, lines.get(i + 1).map(|l| l.trim())) {
            break;
        }
        // "-- " is the standard signature separator; "Sent from my…" a phone's.
        if trimmed == "--" || trimmed == "—" || lower.starts_with("sent from my") {
            break;
        }
        if trimmed.starts_with('>') {
            continue;
        }
        if is_sign_off(trimmed) && lines.len() - i - 1 <= MAX_SIGNATURE_LINES && !kept.is_empty() {
            break;
        }
        kept.push(line);
    }
    kept.join("\n").trim().to_string()
}

fn is_sign_off(line: &str) -> bool {
    // The longest sign-off is a few words.
    if line.len() > 64 {
        return false;
    }
    let folded: String = line
        .trim_end_matches([',', '!', '.', '，', '！'])
        .to_lowercase()
        .chars()
        .map(|c| match c {
            'ă' | 'â' => 'a',
            'î' => 'i',
            'ș' | 'ş' => 's',
            'ț' | 'ţ' => 't',
            c => c,
        })
        .collect();
    SIGN_OFFS.contains(&folded.as_str())
}

/// The line that introduces quoted history, in the languages we serve
/// (`lower`: the line lowercased; `next`: the line after it, as written).
fn is_reply_header(lower: &str, next: Option<&str>) -> bool {
    if lower.starts_with("-----original message") || lower.starts_with("-----исходное сообщение")
    {
        return true;
    }
    let ends_quote = [
        "wrote:",
        "написал:",
        "написала:",
        "пишет:",
        "a scris:",
        "写道：",
        "写道:",
    ]
    .iter()
    .any(|end| lower.ends_with(end));
    if ends_quote && (lower.starts_with("on ") || lower.contains('@') || lower.contains(',')) {
        return true;
    }
    // Outlook: "From: …" followed by "Sent: …" or "Date: …".
    let header = |l: &str| {
        let start: String = l.chars().take(12).collect();
        let l = start.to_lowercase();
        ["sent:", "date:", "отправлено:", "trimis:", "发送时间："]
            .iter()
            .any(|k| l.starts_with(k))
    };
    ["from:", "от:", "de la:", "发件人："]
        .iter()
        .any(|k| lower.starts_with(k))
        && next.is_some_and(header)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_reply_loses_its_history_and_signature() {
        let ticket = "Hi team,\n\nI was charged twice for my annual plan and want a refund.\n\n\
                      Thanks,\nAda Lovelace\nAcme Corp\n\n\
                      On Mon, 2 Nov 2026 at 10:00, Support <help@example.com> wrote:\n\
                      > Your invoice is attached.\n> Best, Sam";
        let text = clean(ticket);
        assert!(text.contains("charged twice"), "{text}");
        assert!(!text.contains("Ada"), "{text}");
        assert!(!text.contains("invoice"), "{text}");
    }

    #[test]
    fn html_is_text_without_quotes_signatures_or_scripts() {
        let ticket = r#"<html><head><style>p{color:red}</style></head><body>
            <div dir="ltr"><p>Cannot log in after the password reset &mdash; the link says
            &quot;expired&quot;.</p><br>
            <div class="gmail_signature">Boris | CTO</div>
            <script>alert(1)</script>
            <blockquote>old text we sent</blockquote>
            <p>Still broken &amp; urgent</p></div>
            <div class="gmail_quote">On Tue someone wrote: the whole history</div>
            </body></html>"#;
        let text = clean(ticket);
        assert!(
            text.contains("Cannot log in after the password reset — the link says \"expired\"."),
            "{text}"
        );
        assert!(text.contains("Still broken & urgent"), "{text}");
        for gone in ["color", "Boris", "alert", "old text", "history"] {
            assert!(!text.contains(gone), "{gone} in {text}");
        }
    }

    #[test]
    fn outlook_and_other_languages_end_the_message_at_the_reply_header() {
        let outlook =
            "Нужен возврат за годовой план.\n\nОт: Support\nОтправлено: 1 ноября\nТема: счёт";
        assert_eq!(clean(outlook), "Нужен возврат за годовой план.");
        let romanian =
            "Vreau o rambursare.\nLuni, Ion Popescu <ion@example.com> a scris:\n> text vechi";
        assert_eq!(clean(romanian), "Vreau o rambursare.");
        let signed = "我需要退款。\n\n谢谢！\n王伟";
        assert_eq!(clean(signed), "我需要退款。");
    }

    #[test]
    fn reply_prefixes_leave_the_subject() {
        assert_eq!(clean_subject("Re: RE: Fwd: refund"), "refund");
        assert_eq!(clean_subject("Ответ: возврат"), "возврат");
        assert_eq!(clean_subject("回复：退款"), "退款");
        assert_eq!(clean_subject("Refund re: annual"), "Refund re: annual");
    }

    #[test]
    fn broken_markup_degrades_to_text() {
        assert_eq!(clean("<p>a < b and <b>c"), "a < b and c");
        assert_eq!(clean("<div class='x>unclosed"), "unclosed");
        assert_eq!(decode_entities("&bogus; &#x41; &#65; &"), "&bogus; A A &");
        assert_eq!(clean(""), "");
    }
}
