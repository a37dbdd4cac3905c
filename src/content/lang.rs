//! Language of a card: the `lang` it declares, else a guess from its text.
//! Codes are ISO 639-1 where one exists (`en`, `ru`, `ro`, `zh`).

/// Fewer letters than this in a Latin-script text tell no language apart.
const MIN_LETTERS: usize = 20;

/// How much of a text `detect` reads.
pub const SAMPLE_CHARS: usize = 1000;

/// Guesses the language of `text`, or `None` when the text is too short or
/// mixed to tell. The script decides before statistics: a card of Chinese
/// or Russian prose around English commands and product names (a tenth of
/// its letters Han, a fifth Cyrillic) is still Chinese or Russian, where
/// trigram statistics over the Latin majority guessed Romanian.
pub fn detect(text: &str) -> Option<String> {
    // A thousand characters tell these languages apart; reading more only
    // costs time (detection was an eighth of a cold build at 4,000).
    let end = text
        .char_indices()
        .nth(SAMPLE_CHARS)
        .map_or(text.len(), |(i, _)| i);
    let sample = &text[..end];
    let (mut han, mut cyrillic, mut letters) = (0usize, 0usize, 0usize);
    let mut spelling = Spelling::default();
    for c in sample.chars().filter(|&c| is_letter(c)) {
        letters += 1;
        if c.is_ascii() {
            continue;
        }
        if is_han(c) {
            han += 1;
        } else if matches!(c as u32, 0x0400..=0x052F) {
            cyrillic += 1;
        }
        spelling.count(c);
    }
    if letters == 0 {
        return None;
    }
    if han * 10 >= letters {
        return Some("zh".to_string());
    }
    if cyrillic * 5 >= letters {
        if spelling.reads_as_russian() {
            return Some("ru".to_string());
        }
        // Among Cyrillic languages statistics can tell; never a Latin one.
        let info = (letters >= MIN_LETTERS)
            .then(|| detector().detect(sample))
            .flatten();
        return Some(match info.map(|i| code(i.lang())) {
            Some(lang) if matches!(lang.as_str(), "ru" | "uk" | "bg") => lang,
            _ => "ru".to_string(),
        });
    }
    // A few words of Latin letters ("Alpha. A.") are any language's.
    if letters < MIN_LETTERS {
        return None;
    }
    // English tells itself by its grammar words, far more cheaply than
    // trigram statistics (detection over tldr-pages' 10,234 pages: 670 ->
    // 190 ms, a tenth of a cold build).
    if reads_as_english(sample) {
        return Some("en".to_string());
    }
    if spelling.reads_as_romanian() {
        return Some("ro".to_string());
    }
    // An unreliable verdict is no verdict: an English page of commands and
    // placeholders read as French one time in fifty on tldr-pages.
    let info = detector().detect(sample)?;
    info.is_reliable().then(|| code(info.lang()))
}

/// Grammar words, each marked English or not. The English ones are words
/// no other language the detector knows writes as often (Dutch "is" and
/// "of", Polish "to", Romance "a" and German "an" are left out); the others
/// are those of the other Latin-script languages it knows (Romanian,
/// French, German, Spanish, Italian, Portuguese, Dutch, Polish, Turkish,
/// Swedish), so a text holding them is left to statistics. Sorted, for a
/// binary search: a linear one over every word of every card was a tenth
/// of a cold build.
#[rustfmt::skip]
const GRAMMAR_WORDS: &[(&str, bool)] = &[
    ("and", true), ("are", true), ("as", true), ("att", false), ("bir", false), ("bu", false),
    ("by", true), ("ca", false), ("can", true), ("care", false), ("che", false), ("con", false),
    ("cu", false), ("că", false), ("da", false), ("dans", false), ("das", false),
    ("dat", false), ("de", false), ("del", false), ("den", false), ("der", false),
    ("des", false), ("det", false), ("di", false), ("die", false), ("din", false),
    ("do", false), ("du", false), ("e", false), ("ein", false), ("eine", false), ("el", false),
    ("em", false), ("en", false), ("es", false), ("est", false), ("este", false), ("et", false),
    ("for", true), ("from", true), ("för", false), ("für", false), ("het", false),
    ("how", true), ("i", false), ("il", false), ("ile", false), ("inte", false), ("into", true),
    ("is", true), ("ist", false), ("it", true), ("its", true), ("için", false), ("jest", false),
    ("la", false), ("las", false), ("le", false), ("les", false), ("los", false),
    ("mai", false), ("med", false), ("met", false), ("mit", false), ("na", false),
    ("nicht", false), ("nie", false), ("niet", false), ("nu", false), ("não", false),
    ("o", false), ("och", false), ("of", true), ("on", true), ("op", false), ("or", true),
    ("os", false), ("para", false), ("pe", false), ("pentru", false), ("per", false),
    ("por", false), ("pour", false), ("på", false), ("que", false), ("qui", false),
    ("sa", false), ("sau", false), ("should", true), ("si", false), ("się", false),
    ("som", false), ("să", false), ("te", false), ("that", true), ("the", true), ("this", true),
    ("to", true), ("um", false), ("und", false), ("une", false), ("van", false), ("ve", false),
    ("von", false), ("voor", false), ("w", false), ("when", true), ("which", true),
    ("will", true), ("with", true), ("y", false), ("you", true), ("your", true), ("z", false),
    ("zu", false), ("är", false), ("è", false), ("în", false), ("że", false), ("și", false),
];

/// Letters that only some of the languages the detector knows write:
/// counting them tells Russian and Romanian apart from their neighbours
/// without trigram statistics (which were a twentieth of a cold build).
#[derive(Default)]
struct Spelling {
    /// `ы` and `э`: Russian and Belarusian, not Ukrainian or Bulgarian.
    russian: usize,
    /// `і`, `ї`, `є`, `ґ`, `ў`: Ukrainian and Belarusian, never Russian.
    not_russian: usize,
    /// `ș` and `ț` with the comma below: Romanian alone (Turkish writes
    /// the cedilla).
    comma_below: usize,
    /// `ă`, `â`, `î`, also Romanian, yet not Romanian's alone.
    romanian: usize,
}

impl Spelling {
    fn count(&mut self, c: char) {
        match c {
            'ы' | 'Ы' | 'э' | 'Э' => self.russian += 1,
            'і' | 'І' | 'ї' | 'Ї' | 'є' | 'Є' | 'ґ' | 'Ґ' | 'ў' | 'Ў' => {
                self.not_russian += 1
            }
            'ș' | 'Ș' | 'ț' | 'Ț' => self.comma_below += 1,
            'ă' | 'Ă' | 'â' | 'Â' | 'î' | 'Î' => self.romanian += 1,
            _ => {}
        }
    }

    /// A Cyrillic text with Russian's own letters and none of its
    /// neighbours' (a Belarusian text writes `і` and `ў` in most sentences).
    fn reads_as_russian(&self) -> bool {
        self.russian >= 2 && self.not_russian == 0
    }

    /// A Latin text with Romanian's comma-below letters, and several of its
    /// other marks.
    fn reads_as_romanian(&self) -> bool {
        self.comma_below >= 1 && self.comma_below + self.romanian >= 3
    }
}

/// A letter of any script; ASCII, most of a Latin text, told without
/// Unicode's tables.
fn is_letter(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphabetic()
    } else {
        c.is_alphabetic()
    }
}

/// Whether a Latin-script text is plainly English: at least three English
/// grammar words, and four times as many as any other language's.
fn reads_as_english(sample: &str) -> bool {
    let (mut english, mut other) = (0usize, 0usize);
    let mut lower = String::new();
    for word in sample
        .split(|c: char| !is_letter(c))
        .filter(|w| !w.is_empty() && w.len() <= 7)
    {
        lower.clear();
        if word.is_ascii() {
            lower.push_str(word);
            lower.make_ascii_lowercase();
        } else {
            lower.extend(word.chars().flat_map(char::to_lowercase));
        }
        if let Ok(at) = GRAMMAR_WORDS.binary_search_by(|(w, _)| w.cmp(&lower.as_str())) {
            if GRAMMAR_WORDS[at].1 {
                english += 1;
            } else {
                other += 1;
            }
        }
    }
    english >= 3 && english >= 4 * other
}

/// The language a card's path names: a file name's suffix, Hugo's way
/// (`refunds.ru.md`), or a folder in the "one folder per language" layout
/// (`ru/`, `en-US/`, `pages.ru/`), for the languages Quire reads best. Other two-letter
/// folders (`it/`, `no/`) too often mean something else.
pub fn from_path(rel_path: &str) -> Option<String> {
    let (folders, name) = rel_path.rsplit_once('/').unwrap_or(("", rel_path));
    let stem = name.strip_suffix(".md").unwrap_or(name);
    if let Some((_, lang)) = from_file_suffix(stem) {
        return Some(lang);
    }
    folders.split('/').find_map(|folder| {
        if is_language_folder(folder) {
            return Some(normalize(folder));
        }
        // `pages.ru/`, Hugo's `content.ro/`: a folder named for a language.
        from_file_suffix(folder)
            .map(|(_, lang)| lang)
            .filter(|lang| matches!(lang.as_str(), "en" | "ru" | "ro" | "zh"))
    })
}

/// A language's name in itself, for a language switcher; the code for a
/// language not listed.
pub fn native_name(code: &str) -> &str {
    match code {
        "en" => "English",
        "ru" => "Русский",
        "ro" => "Română",
        "zh" => "中文",
        "de" => "Deutsch",
        "fr" => "Français",
        "es" => "Español",
        "it" => "Italiano",
        "pt" => "Português",
        "uk" => "Українська",
        "pl" => "Polski",
        "nl" => "Nederlands",
        "ja" => "日本語",
        "ko" => "한국어",
        "tr" => "Türkçe",
        other => other,
    }
}

/// `path` with its language folder made neutral, so that the same file in
/// each language's folder shares one key: a folder named for one of the
/// languages Quire reads best (`ru/`, `en-US/`) becomes `*`, and a folder
/// with a language suffix (`pages.ru/`, Hugo's `content.ro/`) loses it.
/// Paths without one come back unchanged.
pub fn without_language_folder(path: &str) -> String {
    let mut parts: Vec<&str> = path.split('/').collect();
    let folders = parts.len().saturating_sub(1);
    for part in parts.iter_mut().take(folders) {
        if is_language_folder(part) {
            *part = "*";
            break;
        }
        if let Some((base, _)) = from_file_suffix(part) {
            *part = base;
            break;
        }
    }
    parts.join("/")
}

fn is_language_folder(folder: &str) -> bool {
    let plain = folder.len() == 2 || (folder.len() == 5 && folder.as_bytes()[2] == b'-');
    plain && matches!(normalize(folder).as_str(), "en" | "ru" | "ro" | "zh")
}

/// Languages a file name may end in, Hugo's and Zola's way
/// (`refunds.ru.md` beside `refunds.md`): ISO 639-1 codes a handbook is
/// likely to hold. A list, not any two letters, so `notes.md.md` or
/// `v1.io.md` are not read as a language.
const FILE_SUFFIXES: &[&str] = &[
    "ar", "bg", "cs", "da", "de", "el", "en", "es", "fi", "fr", "he", "hi", "hu", "id", "it", "ja",
    "ko", "nb", "nl", "no", "pl", "pt", "ro", "ru", "sk", "sv", "th", "tr", "uk", "vi", "zh",
];

/// A file stem's language suffix (`refunds.ru` → `("refunds", "ru")`;
/// `guide.zh-cn` → `("guide", "zh")`), when it has one.
pub fn from_file_suffix(stem: &str) -> Option<(&str, String)> {
    let (base, suffix) = stem.rsplit_once('.')?;
    let lang = normalize(suffix);
    let shaped = suffix.len() == 2 || (suffix.len() == 5 && suffix.as_bytes()[2] == b'-');
    (shaped && !base.is_empty() && FILE_SUFFIXES.contains(&lang.as_str())).then_some((base, lang))
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

/// Every ISO 639-1 code: a declared `lang` outside it (`klingon`, a typo
/// such as `ur-US` for `en-US` aside) is reported, since no reader's
/// language will ever match it.
const ISO_639_1: &[&str] = &[
    "aa", "ab", "ae", "af", "ak", "am", "an", "ar", "as", "av", "ay", "az", "ba", "be", "bg", "bi",
    "bm", "bn", "bo", "br", "bs", "ca", "ce", "ch", "co", "cr", "cs", "cu", "cv", "cy", "da", "de",
    "dv", "dz", "ee", "el", "en", "eo", "es", "et", "eu", "fa", "ff", "fi", "fj", "fo", "fr", "fy",
    "ga", "gd", "gl", "gn", "gu", "gv", "ha", "he", "hi", "ho", "hr", "ht", "hu", "hy", "hz", "ia",
    "id", "ie", "ig", "ii", "ik", "io", "is", "it", "iu", "ja", "jv", "ka", "kg", "ki", "kj", "kk",
    "kl", "km", "kn", "ko", "kr", "ks", "ku", "kv", "kw", "ky", "la", "lb", "lg", "li", "ln", "lo",
    "lt", "lu", "lv", "mg", "mh", "mi", "mk", "ml", "mn", "mr", "ms", "mt", "my", "na", "nb", "nd",
    "ne", "ng", "nl", "nn", "no", "nr", "nv", "ny", "oc", "oj", "om", "or", "os", "pa", "pi", "pl",
    "ps", "pt", "qu", "rm", "rn", "ro", "ru", "rw", "sa", "sc", "sd", "se", "sg", "si", "sk", "sl",
    "sm", "sn", "so", "sq", "sr", "ss", "st", "su", "sv", "sw", "ta", "te", "tg", "th", "ti", "tk",
    "tl", "tn", "to", "tr", "ts", "tt", "tw", "ty", "ug", "uk", "ur", "uz", "ve", "vi", "vo", "wa",
    "wo", "xh", "yi", "yo", "za", "zh", "zu",
];

/// Whether a normalised language code names a language: an ISO 639-1 code,
/// or an ISO 639-3 one that language detection knows (`tgl`).
pub fn is_known(code: &str) -> bool {
    ISO_639_1.binary_search(&code).is_ok()
        || (code.len() == 3 && whatlang::Lang::from_code(code).is_some())
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
    fn russian_and_romanian_are_told_by_their_letters_and_their_neighbours_are_not() {
        let ru = "Это быстрый ответ: мы вернём деньги.";
        assert!(spelling_of(ru).reads_as_russian());
        assert_eq!(detect(ru).as_deref(), Some("ru"));
        for neighbour in [
            "Клієнт може попросити повернення коштів протягом тридцяти днів після оновлення.",
            "Кліент можа папрасіць вяртанне грошай на працягу трыццаці дзён.",
            "Клиентът може да поиска възстановяване на сумата в рамките на тридесет дни.",
        ] {
            assert!(!spelling_of(neighbour).reads_as_russian(), "{neighbour}");
        }
        let ro = "Clientul își poate șterge contul și datele după reînnoire.";
        assert!(spelling_of(ro).reads_as_romanian());
        assert_eq!(detect(ro).as_deref(), Some("ro"));
        for neighbour in [
            "Müşteri yenilemeden sonraki otuz gün içinde iade talep edebilir.",
            "Khách hàng có thể yêu cầu hoàn tiền trong vòng ba mươi ngày.",
            "Le client peut être remboursé dans les trente jours, même après l'île.",
        ] {
            assert!(!spelling_of(neighbour).reads_as_romanian(), "{neighbour}");
        }
    }

    fn spelling_of(text: &str) -> Spelling {
        let mut spelling = Spelling::default();
        text.chars().for_each(|c| spelling.count(c));
        spelling
    }

    #[test]
    fn the_grammar_words_are_sorted_once_each() {
        assert!(
            GRAMMAR_WORDS.windows(2).all(|w| w[0].0 < w[1].0),
            "{:?}",
            GRAMMAR_WORDS.windows(2).find(|w| w[0].0 >= w[1].0)
        );
    }

    #[test]
    fn english_is_told_by_its_grammar_words_and_no_other_language_is() {
        for english in [
            "Display the status of the repository and the files that are staged for a commit.",
            "Create a new archive from a directory, or list what is in one:",
        ] {
            assert!(reads_as_english(english), "{english}");
            assert_eq!(detect(english).as_deref(), Some("en"), "{english}");
        }
        for other in [
            "Buna ziua, va rog sa stergeti tot ce aveti despre mine si in cat timp faceti asta",
            "Le client peut demander le remboursement de son abonnement dans les trente jours.",
            "Der Kunde kann die Erstattung des Abonnements innerhalb von dreißig Tagen verlangen.",
            "El cliente puede pedir el reembolso de la suscripción en los treinta días.",
            "De klant kan de terugbetaling van het abonnement binnen dertig dagen vragen.",
            "Klient może poprosić o zwrot pieniędzy w ciągu trzydziestu dni, to jest proste.",
            "Kunden kan begära återbetalning av abonnemanget inom trettio dagar och det är enkelt.",
        ] {
            assert!(!reads_as_english(other), "{other}");
        }
    }

    #[test]
    fn language_codes_are_known_or_not() {
        assert!(ISO_639_1.windows(2).all(|w| w[0] < w[1]), "sorted");
        for known in ["en", "ru", "zh", "ro", "tgl"] {
            assert!(is_known(known), "{known}");
        }
        for unknown in ["klingon", "xx", "e"] {
            assert!(!is_known(unknown), "{unknown}");
        }
    }

    #[test]
    fn declared_tags_are_normalised() {
        assert_eq!(normalize("en-US"), "en");
        assert_eq!(normalize("RO"), "ro");
        assert_eq!(normalize("zh_Hans"), "zh");
    }

    #[test]
    fn a_page_of_commands_is_not_given_a_language_detection_is_unsure_of() {
        // Read as French before an unreliable verdict counted as none.
        let page = "mpc\nMusic Player Client: control the Music Player Daemon (MPD).\n\
                    See also: mpd, ncmpcpp, cmus.\nToggle play/pause:\nmpc toggle\n\
                    Stop playing:\nmpc stop\nShow the queue:\nmpc playlist";
        let told = detect(page);
        assert!(told.is_none() || told.as_deref() == Some("en"), "{told:?}");
    }

    #[test]
    fn text_without_letters_has_no_language() {
        assert_eq!(detect("123 456 !!!"), None);
    }

    #[test]
    fn the_script_decides_around_english_commands() {
        let ru = "systemctl condreload\nЭта команда — псевдоним для `systemctl try-reload-or-restart`.\nСмотри документацию: tldr systemctl try-reload-or-restart";
        assert_eq!(detect(ru).as_deref(), Some("ru"));
        let zh = "systemctl condreload\n这个命令是 `systemctl try-reload-or-restart` 的别名。\n查看原命令的文档： tldr systemctl try-reload-or-restart";
        assert_eq!(detect(zh).as_deref(), Some("zh"));
    }

    #[test]
    fn a_language_suffix_names_the_language_hugo_style() {
        assert_eq!(from_path("guides/refunds.ru.md").as_deref(), Some("ru"));
        assert_eq!(from_path("refunds.zh-CN.md").as_deref(), Some("zh"));
        assert_eq!(
            from_file_suffix("refunds.ro"),
            Some(("refunds", "ro".to_string()))
        );
        assert_eq!(from_file_suffix("notes.md"), None);
        assert_eq!(from_file_suffix("v1.2"), None);
        assert_eq!(from_file_suffix(".ru"), None);
        assert_eq!(from_path("pages.zh/windows/cls.md").as_deref(), Some("zh"));
    }

    #[test]
    fn a_language_folder_names_the_language() {
        assert_eq!(from_path("ru/Заметки/Свойства.md").as_deref(), Some("ru"));
        assert_eq!(from_path("docs/en-US/setup.md").as_deref(), Some("en"));
        assert_eq!(from_path("it/helpdesk.md"), None);
        assert_eq!(from_path("setup.md"), None);
    }
}
