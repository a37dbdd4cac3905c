//! Word translations between English and the other languages Quire reads
//! best (Russian, Romanian, Chinese), learned from text translated line by
//! line, so that a ticket reaches a card written in another language when
//! no synonym group names its words.
//!
//! The lexicon that ships (`lexicon.tsv`) was learned from the tldr-pages
//! project (CC BY 4.0, <https://github.com/tldr-pages/tldr>): its pages in
//! `pages.ru`, `pages.ro` and `pages.zh` translate the English ones line
//! for line. `quire-eval <tldr folder> --learn-lexicon FILE` learns it
//! again. Two words are translations when they keep turning up in the same
//! pair of lines: the Dice coefficient of the lines holding each, over
//! words seen together in at least `MIN_TOGETHER` pairs.
//!
//! Words are kept as written (folded) and analysed when the lexicon is
//! read, so a change of stemmer does not stale the file.

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::index::analyzer::{Analyzer, Word};

// Worth translating is what a ticket's words are chosen among.
use super::similar::worth_counting;

/// Pairs of lines two words must share to be taken for translations.
const MIN_TOGETHER: u32 = 2;
/// The least Dice coefficient kept.
const MIN_SCORE: f32 = 0.3;
/// Translations kept per word and language.
const MAX_PER_WORD: usize = 2;

/// One learned translation: `word` in `lang` and its English `english`.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub lang: String,
    pub word: String,
    pub english: String,
    pub score: f32,
}

/// A translation of a word, analysed as the index analyses text.
#[derive(Debug, Clone)]
pub struct Translation {
    pub lang: String,
    pub word: Word,
    /// How sure the lexicon is, 0 to 1.
    pub score: f32,
}

/// The lexicon, keyed by each word's primary form.
#[derive(Debug, Default)]
pub struct Lexicon {
    by_form: HashMap<String, Vec<Translation>>,
}

static SHIPPED: LazyLock<Lexicon> =
    LazyLock::new(|| Lexicon::from_tsv(include_str!("lexicon.tsv")));
static NONE: LazyLock<Lexicon> = LazyLock::new(Lexicon::default);

impl Lexicon {
    /// The lexicon that ships with Quire.
    pub fn shipped() -> &'static Lexicon {
        &SHIPPED
    }

    /// A lexicon that translates nothing.
    pub fn none() -> &'static Lexicon {
        &NONE
    }

    pub fn new(entries: &[Entry]) -> Self {
        let mut analyzer = Analyzer::default();
        let mut one = |text: &str| -> Option<Word> {
            let mut words = analyzer.words(text);
            (words.len() == 1).then(|| words.remove(0))
        };
        let mut lexicon = Lexicon::default();
        for entry in entries {
            let (Some(word), Some(english)) = (one(&entry.word), one(&entry.english)) else {
                continue;
            };
            let mut add = |from: &Word, lang: &str, to: &Word| {
                let known = lexicon
                    .by_form
                    .entry(from.primary().to_string())
                    .or_default();
                if !known.iter().any(|t| t.word.primary() == to.primary()) {
                    known.push(Translation {
                        lang: lang.to_string(),
                        word: to.clone(),
                        score: entry.score,
                    });
                }
            };
            add(&word, "en", &english);
            add(&english, &entry.lang, &word);
        }
        lexicon
    }

    /// Reads `lang<TAB>word<TAB>english<TAB>score` lines; `#` starts a
    /// comment, and a malformed line is skipped.
    pub fn from_tsv(text: &str) -> Self {
        let entries: Vec<Entry> = text
            .lines()
            .filter(|line| !line.starts_with('#'))
            .filter_map(|line| {
                let mut cells = line.split('\t');
                let (lang, word, english, score) =
                    (cells.next()?, cells.next()?, cells.next()?, cells.next()?);
                Some(Entry {
                    lang: lang.to_string(),
                    word: word.to_string(),
                    english: english.to_string(),
                    score: score.trim().parse().ok()?,
                })
            })
            .collect();
        Lexicon::new(&entries)
    }

    pub fn len(&self) -> usize {
        self.by_form.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_form.is_empty()
    }

    /// What `word` is in the other languages: its English translations,
    /// and theirs in the remaining languages (through English, their
    /// scores multiplied), best first, at most `per_language` in each.
    pub fn translations(&self, word: &Word, per_language: usize) -> Vec<Translation> {
        // A word Romanian spelling gave more stems to ("stergeti") is
        // known by whichever of them was learned.
        let Some((form, direct)) = word
            .forms
            .iter()
            .find_map(|form| self.by_form.get(form.as_str()).map(|d| (form, d)))
        else {
            return Vec::new();
        };
        let mut out: Vec<Translation> = direct.clone();
        for english in direct.iter().filter(|t| t.lang == "en") {
            for further in self
                .by_form
                .get(english.word.primary())
                .into_iter()
                .flatten()
            {
                if further.word.primary() != form {
                    out.push(Translation {
                        score: english.score * further.score,
                        ..further.clone()
                    });
                }
            }
        }
        out.sort_by(|a, b| b.score.total_cmp(&a.score));
        let mut kept: Vec<Translation> = Vec::new();
        for t in out {
            let same_lang = kept.iter().filter(|k| k.lang == t.lang).count();
            let seen = kept.iter().any(|k| k.word.primary() == t.word.primary());
            if same_lang < per_language && !seen {
                kept.push(t);
            }
        }
        kept
    }
}

/// Learns a lexicon from pairs of lines, one language against English.
pub struct Learner {
    lang: String,
    analyzer: Analyzer,
    /// Lines holding each word (by primary form), per side.
    foreign: HashMap<String, u32>,
    english: HashMap<String, u32>,
    together: HashMap<(String, String), u32>,
    /// The most frequent spelling of each primary form, per side.
    spellings: HashMap<String, HashMap<String, u32>>,
}

impl Learner {
    pub fn new(lang: &str) -> Self {
        Learner {
            lang: lang.to_string(),
            analyzer: Analyzer::default(),
            foreign: HashMap::new(),
            english: HashMap::new(),
            together: HashMap::new(),
            spellings: HashMap::new(),
        }
    }

    /// Counts a line in the learner's language and its English original.
    /// A word written the same on both sides (a command, a product name)
    /// needs no translation and is left out.
    pub fn add(&mut self, line: &str, english: &str) {
        let english_words = self.content_words(english);
        let foreign_words: Vec<String> = self
            .content_words(line)
            .into_iter()
            .filter(|w| !english_words.contains(w) && written_in(&self.lang, w))
            .collect();
        for f in &foreign_words {
            *self.foreign.entry(f.clone()).or_default() += 1;
        }
        for e in &english_words {
            *self.english.entry(e.clone()).or_default() += 1;
        }
        for f in &foreign_words {
            for e in &english_words {
                *self.together.entry((f.clone(), e.clone())).or_default() += 1;
            }
        }
    }

    /// The distinct content words of `text`, by primary form, with their
    /// spellings counted.
    fn content_words(&mut self, text: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for word in self.analyzer.words(text) {
            // "file1", "v2": names, not words.
            if !worth_counting(&word, false) || word.folded.chars().any(|c| c.is_ascii_digit()) {
                continue;
            }
            let primary = word.primary().to_string();
            *self
                .spellings
                .entry(primary.clone())
                .or_default()
                .entry(word.folded)
                .or_default() += 1;
            if !out.contains(&primary) {
                out.push(primary);
            }
        }
        out
    }

    fn spelling(&self, primary: &str) -> String {
        self.spellings
            .get(primary)
            .and_then(|s| {
                s.iter()
                    .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
                    .map(|(w, _)| w.clone())
            })
            .unwrap_or_else(|| primary.to_string())
    }

    /// The translations learned, by language and word. A pair is kept
    /// when each word is among the other's best few: a word that turns up
    /// in many lines ("file") must not become every word's translation.
    pub fn finish(self) -> Vec<Entry> {
        let mut best: HashMap<&str, Vec<(&str, f32)>> = HashMap::new();
        let mut best_back: HashMap<&str, Vec<(&str, f32)>> = HashMap::new();
        for ((f, e), &n) in &self.together {
            if n < MIN_TOGETHER {
                continue;
            }
            let (nf, ne) = (self.foreign[f], self.english[e]);
            let score = 2.0 * n as f32 / (nf + ne) as f32;
            if score >= MIN_SCORE {
                best.entry(f).or_default().push((e, score));
                best_back.entry(e).or_default().push((f, score));
            }
        }
        fn ranked(mut list: Vec<(&str, f32)>) -> Vec<(&str, f32)> {
            list.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
            list
        }
        let back: HashMap<&str, Vec<&str>> = best_back
            .into_iter()
            .map(|(e, fs)| {
                (
                    e,
                    ranked(fs)
                        .into_iter()
                        .take(MAX_PER_WORD + 1)
                        .map(|(f, _)| f)
                        .collect(),
                )
            })
            .collect();
        let mut entries: Vec<Entry> = Vec::new();
        for (f, english) in best {
            let mutual = ranked(english)
                .into_iter()
                .filter(|(e, _)| back.get(e).is_some_and(|fs| fs.contains(&f)));
            for (e, score) in mutual.take(MAX_PER_WORD) {
                entries.push(Entry {
                    lang: self.lang.clone(),
                    word: self.spelling(f),
                    english: self.spelling(e),
                    score: (score * 100.0).round() / 100.0,
                });
            }
        }
        entries.sort_by(|a, b| (&a.lang, &a.word, &a.english).cmp(&(&b.lang, &b.word, &b.english)));
        entries
    }
}

/// Whether a word is in the script of `lang`: a Latin word inside a
/// Russian or Chinese line ("com" of a link) is not Russian or Chinese.
fn written_in(lang: &str, word: &str) -> bool {
    match lang {
        "ru" => word.chars().any(|c| matches!(c as u32, 0x0400..=0x052F)),
        "zh" => word.chars().any(crate::content::lang::is_han),
        _ => true,
    }
}

/// The lexicon as a file: a header saying where it comes from, then one
/// entry per line.
pub fn to_tsv(entries: &[Entry], source: &str) -> String {
    let mut out = format!(
        "# Word translations learned by `quire-eval --learn-lexicon` from {source}.\n\
         # lang<TAB>word<TAB>english<TAB>score (Dice coefficient over pairs of lines)\n"
    );
    for e in entries {
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\n",
            e.lang, e.word, e.english, e.score
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn learned() -> Lexicon {
        let mut learner = Learner::new("ru");
        for (ru, en) in [
            ("Удалить файл", "Delete a file"),
            ("Удалить каталог", "Delete a directory"),
            ("Показать файл", "Show a file"),
            ("Удалить пользователя", "Delete a user"),
            ("Создать каталог", "Create a directory"),
            ("Показать каталог", "Show a directory"),
            ("Создать файл", "Create a file"),
        ] {
            learner.add(ru, en);
        }
        Lexicon::new(&learner.finish())
    }

    fn word(text: &str) -> Word {
        Analyzer::default().words(text).remove(0)
    }

    #[test]
    fn words_that_keep_meeting_in_translated_lines_translate_each_other() {
        let lexicon = learned();
        let english: Vec<String> = lexicon
            .translations(&word("удалить"), 2)
            .into_iter()
            .map(|t| t.word.folded)
            .collect();
        assert_eq!(
            english.first().map(String::as_str),
            Some("delete"),
            "{english:?}"
        );
        let russian: Vec<String> = lexicon
            .translations(&word("directory"), 2)
            .into_iter()
            .map(|t| t.word.folded)
            .collect();
        assert!(russian.contains(&"каталог".to_string()), "{russian:?}");
    }

    #[test]
    fn a_word_is_known_by_any_of_its_forms() {
        let mut learner = Learner::new("ro");
        for (ro, en) in [
            ("Șterge fișierul", "Delete the file"),
            ("Șterge dosarul", "Delete the folder"),
        ] {
            learner.add(ro, en);
        }
        let lexicon = Lexicon::new(&learner.finish());
        // "stergeti" typed without diacritics stems to itself; the stem of
        // the "ștergeți" it stands for is a further form.
        let mut typed = word("stergeti");
        assert!(lexicon.translations(&typed, 1).is_empty());
        typed.forms.extend(word("ștergeți").forms);
        let english: Vec<String> = lexicon
            .translations(&typed, 1)
            .into_iter()
            .map(|t| t.word.folded)
            .collect();
        assert_eq!(english, ["delete"]);
    }

    #[test]
    fn a_lexicon_survives_its_file() {
        let mut learner = Learner::new("ru");
        for _ in 0..3 {
            learner.add("Удалить файл", "Delete a file");
        }
        let entries = learner.finish();
        let again = Lexicon::from_tsv(&to_tsv(&entries, "a test"));
        assert!(!again.translations(&word("файл"), 1).is_empty());
        assert!(Lexicon::from_tsv("# only a header\nru\tbroken line\n").is_empty());
    }

    #[test]
    fn the_shipped_lexicon_knows_everyday_words_in_each_language() {
        let lexicon = Lexicon::shipped();
        for (foreign, english) in [("файл", "file"), ("fișier", "file"), ("文件", "file")] {
            let found = lexicon.translations(&word(foreign), 1);
            assert!(
                found.iter().any(|t| t.word.folded == english),
                "{foreign}: {found:?}"
            );
        }
    }
}
