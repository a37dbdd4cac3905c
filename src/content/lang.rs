//! Language of a card: the `lang` it declares, else a guess from its text.
//! Codes are ISO 639-1 where one exists (`en`, `ru`, `ro`, `zh`).

/// How much of a text `detect` reads.
pub const SAMPLE_CHARS: usize = 1000;

/// Guesses the language of `text`, or `None` when the text is too short or
/// mixed to tell. Han script decides Chinese before statistics, since a card
/// of Chinese prose with English product names is still Chinese.
pub fn detect(text: &str) -> Option<String> {
    // A thousand characters tell these languages apart; reading more only
    // costs time (detection was an eighth of a cold build at 4,000).
    let sample: String = text.chars().take(SAMPLE_CHARS).collect();
    let (mut han, mut letters) = (0usize, 0usize);
    for c in sample.chars().filter(|c| c.is_alphabetic()) {
        letters += 1;
        if is_han(c) {
            han += 1;
        }
    }
    if letters == 0 {
        return None;
    }
    if han * 5 >= letters {
        return Some("zh".to_string());
    }
    let info = detector().detect(&sample)?;
    Some(code(info.lang()))
}

/// Detection weighs each candidate language's trigrams, so it costs in
/// proportion to the candidates: these (the team's four, and the languages
/// a handbook is most likely to hold besides) make it two to three times
/// cheaper than all 69, which was a tenth of a cold build.
fn detector() -> &'static whatlang::Detector {
    use whatlang::Lang::*;
    static DETECTOR: std::sync::OnceLock<whatlang::Detector> = std::sync::OnceLock::new();
    DETECTOR.get_or_init(|| {
        whatlang::Detector::with_allowlist(vec![
            Eng, Ron, Rus, Cmn, Ukr, Bul, Fra, Deu, Spa, Ita, Por, Nld, Pol, Tur, Swe, Jpn, Kor,
            Ara, Heb, Ell, Hin,
        ])
    })
}

/// Normalises a declared language (`EN`, `en-US`, `ro_RO`) to its primary tag.
pub fn normalize(declared: &str) -> String {
    let primary = declared
        .trim()
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    match primary.as_str() {
        "eng" => "en".into(),
        "rus" => "ru".into(),
        "ron" | "rum" | "mo" => "ro".into(),
        "cmn" | "zho" | "chi" => "zh".into(),
        _ => primary,
    }
}

pub fn is_han(c: char) -> bool {
    matches!(c as u32,
        0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x20000..=0x2A6DF | 0xF900..=0xFAFF | 0x2A700..=0x2EBEF)
}

fn code(lang: whatlang::Lang) -> String {
    use whatlang::Lang;
    match lang {
        Lang::Eng => "en".into(),
        Lang::Rus | Lang::Ukr | Lang::Bel => "ru".into(),
        Lang::Ron => "ro".into(),
        Lang::Cmn => "zh".into(),
        other => other.code().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_four_languages_of_the_team_are_told_apart() {
        assert_eq!(
            detect("Refunds on annual plans are granted within thirty days of renewal.").as_deref(),
            Some("en")
        );
        assert_eq!(
            detect("Клиент может запросить возврат средств в течение тридцати дней.").as_deref(),
            Some("ru")
        );
        assert_eq!(detect("Clientul poate cere rambursarea banilor în termen de treizeci de zile de la reînnoire.").as_deref(), Some("ro"));
        assert_eq!(
            detect("客户可以在续订后三十天内申请退款。").as_deref(),
            Some("zh")
        );
    }

    #[test]
    fn declared_tags_are_normalised() {
        assert_eq!(normalize("en-US"), "en");
        assert_eq!(normalize("RO"), "ro");
        assert_eq!(normalize("zh_Hans"), "zh");
    }

    #[test]
    fn text_without_letters_has_no_language() {
        assert_eq!(detect("123 456 !!!"), None);
    }
}
