//! The reader's language: what a browser says (`Accept-Language`) or a
//! reader chose (`prefer_lang`), as the ordered list of language codes that
//! ranking prefers. A preference, never a filter: a card in another
//! language still comes back when it is the better answer.

/// At most this many languages are kept; browsers send three or four.
const MAX_LANGUAGES: usize = 8;

/// The languages of an `Accept-Language` header, most wanted first, as
/// primary subtags (`en-US` and `en` are both `en`). Malformed entries are
/// skipped; `*` and `q=0` say nothing to prefer.
pub fn from_accept_language(header: &str) -> Vec<String> {
    let mut weighted: Vec<(f32, String)> = Vec::new();
    for entry in header.split(',').take(32) {
        let mut parts = entry.split(';');
        let tag = parts.next().unwrap_or("").trim();
        let quality = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let Some(code) = primary_subtag(tag) else {
            continue;
        };
        if quality.is_nan() || quality <= 0.0 || weighted.iter().any(|(_, c)| *c == code) {
            continue;
        }
        weighted.push((quality.min(1.0), code));
    }
    // Stable: equal weights keep the order they were sent in.
    weighted.sort_by(|a, b| b.0.total_cmp(&a.0));
    weighted
        .into_iter()
        .map(|(_, code)| code)
        .take(MAX_LANGUAGES)
        .collect()
}

/// Languages chosen by name (`prefer_lang=ro`, or `ro,en`), in order.
pub fn from_choice(choice: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for code in choice.split(',').filter_map(|c| primary_subtag(c.trim())) {
        if !out.contains(&code) && out.len() < MAX_LANGUAGES {
            out.push(code);
        }
    }
    out
}

/// `zh-Hans-CN` -> `zh`; `None` for `*` or anything that is not a tag.
fn primary_subtag(tag: &str) -> Option<String> {
    let primary = tag.split(['-', '_']).next()?;
    let valid =
        (2..=3).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_alphabetic());
    valid.then(|| primary.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_browser_header_gives_its_languages_most_wanted_first() {
        assert_eq!(
            from_accept_language("ro-RO,ro;q=0.9,en-US;q=0.8,en;q=0.7"),
            ["ro", "en"]
        );
        assert_eq!(from_accept_language("en;q=0.5, zh-CN"), ["zh", "en"]);
    }

    #[test]
    fn malformed_and_refused_entries_are_skipped() {
        assert_eq!(from_accept_language("*, ru;q=0, x1, fr;q=abc"), ["fr"]);
        assert!(from_accept_language("").is_empty());
        assert!(from_accept_language(";;;,,,").is_empty());
    }

    #[test]
    fn a_choice_is_taken_in_order() {
        assert_eq!(from_choice("RU, en-GB,ru"), ["ru", "en"]);
    }
}
