//! The one analyzer for every text field, in every language. Words are cut
//! by script (Chinese by jieba's dictionary, the rest at non-letters), then
//! each word is indexed as all the forms a reader of our languages could
//! type: the English and the Romanian stem of its accent-folded spelling for
//! Latin script, the Russian stem for Cyrillic. All forms of a word share its
//! position, so phrases still match and a card needs no language to be found.

use std::borrow::Cow;
use std::hash::BuildHasher;
use std::ops::{ControlFlow, Range};
use std::sync::{Arc, OnceLock};

use frostem::{Algorithm, Stemmer};
use jieba_rs::Jieba;
use tantivy::tokenizer::{
    AsciiFoldingFilter, RawTokenizer, TextAnalyzer, Token, TokenStream, Tokenizer,
};

use crate::content::lang::is_han;

/// The name the analyzer is registered under in the index.
pub const NAME: &str = "quire";
/// The name of the spelling analyzer: each word once, as written
/// (lowercased, accents folded), unstemmed; the vocabulary that typo
/// corrections and "did you mean" are drawn from.
pub const SPELLING: &str = "quire_spelling";

/// Words longer than this are not indexed (hashes, base64, URLs glued together).
const MAX_WORD_CHARS: usize = 40;

/// One word of the input with the forms it is indexed under (the first is the
/// primary form, used for phrases and typo matching; never empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The word as written, lowercased and accent-folded (for prefixes).
    pub folded: String,
    pub forms: Vec<String>,
    pub offset_from: usize,
    pub offset_to: usize,
    pub position: usize,
    pub han: bool,
}

/// A word's analysis (folded spelling and stems), keyed by the word as
/// written. Words follow a Zipf law: most of a text is words seen before,
/// and stemming each in three languages was a fifth of a cold build.
type Analysed = (String, Vec<String>);

thread_local! {
    static FORMS: std::cell::RefCell<foldhash::HashMap<String, Analysed>> =
        std::cell::RefCell::default();
}

/// Past this many words a thread's cache starts again (a few MB at most).
const MAX_CACHED_WORDS: usize = 50_000;

fn jieba() -> &'static Jieba {
    static JIEBA: OnceLock<Jieba> = OnceLock::new();
    JIEBA.get_or_init(Jieba::new)
}

/// Loads the Chinese dictionary now rather than on the first Chinese card
/// or query (it takes a noticeable fraction of a second).
pub fn warm_up() {
    let _ = jieba().cut_for_search("知识库", true);
}

/// A word as `Analyzer::each_word` hands it over, borrowed from the
/// analysis cache.
struct WordRef<'a> {
    folded: &'a str,
    forms: &'a [String],
    offset_from: usize,
    offset_to: usize,
    position: usize,
    han: bool,
}

impl Word {
    /// The primary form: the English stem for Latin script, the Russian stem
    /// for Cyrillic, the word itself for Chinese.
    pub fn primary(&self) -> &str {
        self.forms.first().map_or(&self.folded, String::as_str)
    }
}

#[derive(Clone)]
pub struct Analyzer {
    fold: TextAnalyzer,
    /// When set, only words starting like one of these (first folded
    /// characters) are analysed; the rest are skipped. Highlighting needs
    /// only the words that can match, and stemming every word of ten
    /// stored bodies was most of a search's time.
    only: Option<Arc<Vec<Start>>>,
    /// Emit each word's folded spelling instead of its forms (Han words,
    /// which have no spelling to correct, are left out).
    spelling: bool,
}

impl Default for Analyzer {
    fn default() -> Self {
        Analyzer {
            fold: TextAnalyzer::builder(RawTokenizer::default())
                .filter(AsciiFoldingFilter)
                .build(),
            only: None,
            spelling: false,
        }
    }
}

/// The Romanian stems of the spellings a word typed without diacritics may
/// stand for: `ramburseaza` for `rambursează` stems to `ramburs`, which the
/// word as typed (`ramburseaz`) does not. Only the last four letters are
/// tried (where Romanian endings carry `ă`, `î`, `ș`, `ț`), so a word has
/// at most fifteen variants; the caller keeps the stems the index holds.
pub fn romanian_spellings(folded: &str) -> Vec<String> {
    if folded.len() < 4 || !folded.bytes().all(|b| b.is_ascii_lowercase()) {
        return Vec::new();
    }
    let chars: Vec<char> = folded.chars().collect();
    let tail: Vec<usize> = (chars.len() - 4..chars.len())
        .filter(|&i| matches!(chars[i], 'a' | 'i' | 's' | 't'))
        .collect();
    let romanian = Stemmer::new(Algorithm::Romanian);
    let plain = romanian.stem(folded).into_owned();
    let mut out: Vec<String> = Vec::new();
    for mask in 1u32..(1 << tail.len()) {
        let mut variant = chars.clone();
        for (bit, &i) in tail.iter().enumerate() {
            if mask & (1 << bit) != 0 {
                variant[i] = match chars[i] {
                    'a' => 'ă',
                    'i' => 'î',
                    's' => 'ș',
                    _ => 'ț',
                };
            }
        }
        let written: String = variant.into_iter().collect();
        let stem: String = romanian.stem(&written).chars().map(fold_char).collect();
        if stem != plain && stem != folded && !out.contains(&stem) {
            out.push(stem);
        }
    }
    out
}

/// A title as titles are compared whole: lowercase, accents folded, words
/// joined by one space (`Git: Commit-Graph` -> `git commit graph`).
pub fn title_key(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut gap = false;
    for c in text.chars() {
        if is_word_char(c) {
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            out.push(fold_char(lowercase(c)));
        } else {
            gap = true;
        }
    }
    out
}

/// The first three characters of a word, lowercased and folded (`\0` past
/// a shorter word's end): what `Analyzer::only` compares.
fn start_of(word: &str) -> Start {
    let lower = |c: char| {
        if c.is_ascii() {
            c.to_ascii_lowercase()
        } else {
            fold_char(lowercase(c))
        }
    };
    let mut chars = word.chars().map(lower);
    let mut next = || chars.next().unwrap_or('\0');
    [next(), next(), next()]
}

/// The first three characters of a word, lowercased and folded.
type Start = [char; 3];

/// What a word must begin with to stem to `term`: its first two letters,
/// or three when the term has four or more (a stem keeps all but the last
/// letter or so of its word), `\0` standing for any letter.
fn start_of_term(term: &str) -> Start {
    let [a, b, c] = start_of(term);
    if term.chars().nth(3).is_some() {
        [a, b, c]
    } else {
        [a, b, '\0']
    }
}

/// One character lowercased, with a fast path for Russian capitals (the
/// general table lookup was a twentieth of a search's time).
fn lowercase(c: char) -> char {
    let shifted = match c {
        'А'..='Я' => c as u32 + 0x20,
        'Ѐ'..='Џ' => c as u32 + 0x50,
        'а'..='я' | 'ѐ'..='џ' => return c,
        _ => return c.to_lowercase().next().unwrap_or(c),
    };
    char::from_u32(shifted).unwrap_or(c)
}

/// Folds the accented letters of our languages to their base letter, one
/// character at a time, without allocating (for the highlighting filter).
fn fold_char(c: char) -> char {
    match c {
        'à'..='å' | 'ā' | 'ă' | 'ą' => 'a',
        'ç' | 'ć' | 'č' => 'c',
        'è'..='ë' | 'ē' | 'ė' | 'ę' | 'ě' => 'e',
        'ì'..='ï' | 'ī' | 'į' | 'ı' => 'i',
        'ñ' | 'ń' | 'ň' => 'n',
        'ò'..='ö' | 'ø' | 'ō' | 'ő' => 'o',
        'ù'..='ü' | 'ū' | 'ů' | 'ű' | 'ų' => 'u',
        'ý' | 'ÿ' => 'y',
        'ś' | 'š' | 'ş' | 'ș' => 's',
        'ţ' | 'ț' | 'ť' => 't',
        'ź' | 'ż' | 'ž' => 'z',
        'ğ' => 'g',
        'ł' => 'l',
        'ё' => 'е',
        c => c,
    }
}

impl Analyzer {
    /// An analyzer that skips words not starting like one of `terms`.
    pub fn only_like(terms: impl IntoIterator<Item = String>) -> Self {
        let mut starts: Vec<Start> = terms.into_iter().map(|t| start_of_term(&t)).collect();
        starts.sort();
        starts.dedup();
        Analyzer {
            only: Some(Arc::new(starts)),
            ..Analyzer::default()
        }
    }

    /// The spelling analyzer (see `SPELLING`).
    pub fn spelling() -> Self {
        Analyzer {
            spelling: true,
            ..Analyzer::default()
        }
    }

    /// Whether a run of letters may be one of the wanted words, from its
    /// first letters alone (see `start_of_term`).
    fn wanted(&self, run: &str) -> bool {
        let Some(only) = &self.only else { return true };
        // Most words are ASCII and fail on their first letter: test it
        // before decoding and folding three characters.
        if let Some(&first) = run.as_bytes().first()
            && first.is_ascii()
        {
            let first = char::from(first.to_ascii_lowercase());
            if !only.iter().any(|&[x, ..]| x == first) {
                return false;
            }
        }
        let [a, b, c] = start_of(run);
        only.iter()
            .any(|&[x, y, z]| x == a && (y == '\0' || y == b) && (z == '\0' || z == c))
    }

    /// Cuts `text` into words with their indexed forms.
    pub fn words(&mut self, text: &str) -> Vec<Word> {
        let mut words = Vec::new();
        self.each_word(text, |word| {
            words.push(Word {
                folded: word.folded.to_string(),
                forms: word.forms.to_vec(),
                offset_from: word.offset_from,
                offset_to: word.offset_to,
                position: word.position,
                han: word.han,
            });
            ControlFlow::Continue(())
        });
        words
    }

    /// Each word of `text` (for an `only_like` analyzer, each that may be
    /// one of its terms) with its indexed forms and byte range, in order,
    /// until `each` breaks: a snippet stops reading a card once it has
    /// enough. jieba's search mode yields a long word's parts after it, so
    /// offsets could step back: such parts are skipped.
    pub fn each_form(
        &mut self,
        text: &str,
        mut each: impl FnMut(&[String], Range<usize>) -> ControlFlow<()>,
    ) {
        let mut last_from = 0;
        self.each_word(text, |word| {
            if word.offset_from < last_from {
                return ControlFlow::Continue(());
            }
            last_from = word.offset_from;
            each(word.forms, word.offset_from..word.offset_to)
        });
    }

    /// Hands each word of `text` to `each`, borrowing its analysis from the
    /// thread's cache: indexing copies only the forms it emits (cloning
    /// each cached analysis whole was a tenth of the analyzer's time).
    fn each_word(&mut self, text: &str, mut each: impl FnMut(WordRef<'_>) -> ControlFlow<()>) {
        let english = Stemmer::new(Algorithm::English);
        let romanian = Stemmer::new(Algorithm::Romanian);
        let russian = Stemmer::new(Algorithm::Russian);
        let mut position = 0;
        for (start, run, han) in runs(text) {
            if han {
                if let Some(only) = &self.only
                    && !run
                        .chars()
                        .any(|c| only.iter().any(|&[first, ..]| first == c))
                {
                    position += 1;
                    continue;
                }
                for piece in jieba().cut_for_search(run, true) {
                    if piece.word.chars().all(is_han) {
                        let flow = each(WordRef {
                            folded: piece.word,
                            forms: &[piece.word.to_string()],
                            offset_from: start + piece.byte_start,
                            offset_to: start + piece.byte_end,
                            position,
                            han: true,
                        });
                        if flow.is_break() {
                            return;
                        }
                        position += 1;
                    }
                }
                continue;
            }
            // The cheap test first: most words of a body are not wanted
            // when highlighting. A run of at most 40 bytes has at most 40
            // characters: only longer ones are counted.
            if !self.wanted(run)
                || (run.len() > MAX_WORD_CHARS && run.chars().count() > MAX_WORD_CHARS)
            {
                position += 1;
                continue;
            }
            let mut hand_over = |(folded, forms): &Analysed| {
                each(WordRef {
                    folded,
                    forms,
                    offset_from: start,
                    offset_to: start + run.len(),
                    position,
                    han: false,
                })
            };
            let flow = FORMS.with_borrow_mut(|cache| {
                // One lookup for a word seen before (most of a text).
                if let Some(analysed) = cache.get(run) {
                    return hand_over(analysed);
                }
                let lower = run.to_lowercase();
                let analysed = if lower.chars().any(is_cyrillic) {
                    let normal = lower.replace('ё', "е");
                    let stem = russian.stem(&normal).into_owned();
                    (normal, vec![stem])
                } else {
                    // Romanian stems are computed on the comma-below
                    // spelling (the stemmer's own), then folded, so
                    // `întrebări` and `intrebari` meet at `intrebar`.
                    let folded = self.fold(&lower);
                    let comma = lower.replace('ş', "ș").replace('ţ', "ț");
                    let ro = self.fold(&romanian.stem(&comma)).into_owned();
                    let en = english.stem(&folded).into_owned();
                    let mut forms = vec![en];
                    if !forms.contains(&ro) {
                        forms.push(ro);
                    }
                    (folded.into_owned(), forms)
                };
                let flow = hand_over(&analysed);
                if cache.len() >= MAX_CACHED_WORDS {
                    cache.clear();
                }
                cache.insert(run.to_string(), analysed);
                flow
            });
            if flow.is_break() {
                return;
            }
            position += 1;
        }
    }

    /// Each word's folded spelling, as `words` spells it, without its stems
    /// (Han words, which have no spelling to correct, are left out): the
    /// spelling field is a third of the text indexed, and stemming it again
    /// made a cold build a third slower.
    /// Each word once per text: the field keeps which cards hold a word,
    /// not where or how often.
    fn spellings(&mut self, text: &str) -> WordStream {
        let mut stream = WordStream::default();
        // Hashes of the spellings kept: a word is looked up without
        // copying it (two spellings sharing a 64-bit hash, one in 10^13
        // for a thousand-word card, would drop one from the vocabulary
        // of that card alone).
        let mut seen = foldhash::HashSet::default();
        let hasher = foldhash::fast::FixedState::default();
        for (position, (start, run, han)) in runs(text).enumerate() {
            if han
                || run.len() > MAX_WORD_CHARS * 4
                || (run.len() > MAX_WORD_CHARS && run.chars().count() > MAX_WORD_CHARS)
            {
                continue;
            }
            let from = stream.text.len();
            if run.is_ascii() {
                stream.text.push_str(run);
                stream.text[from..].make_ascii_lowercase();
            } else {
                let lower = run.to_lowercase();
                if lower.chars().any(is_cyrillic) {
                    stream.text.push_str(&lower.replace('ё', "е"));
                } else {
                    stream.text.push_str(&self.fold(&lower));
                }
            }
            if !seen.insert(hasher.hash_one(&stream.text[from..])) {
                stream.text.truncate(from);
                continue;
            }
            stream.push_span(from, start..start + run.len(), position);
        }
        stream
    }

    fn fold<'a>(&mut self, word: &'a str) -> Cow<'a, str> {
        if word.is_ascii() {
            return Cow::Borrowed(word);
        }
        let mut stream = self.fold.token_stream(word);
        match stream.next() {
            Some(t) => Cow::Owned(t.text.clone()),
            None => Cow::Borrowed(word),
        }
    }
}

/// `char::is_alphanumeric` with fast paths for the scripts we see most
/// (its table lookup for non-ASCII was a tenth of a search's time).
fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric()
    } else if is_cyrillic(c) {
        !matches!(c as u32, 0x0482..=0x0489)
    } else {
        c.is_alphanumeric()
    }
}

fn is_cyrillic(c: char) -> bool {
    matches!(c as u32, 0x0400..=0x052F)
}

/// Splits text into runs of Han characters and runs of other letters and
/// digits, with their byte offsets; everything else separates. ASCII bytes
/// are classified without decoding a character (most text is ASCII, and
/// this loop runs over ten bodies for every search's snippets).
fn runs(text: &str) -> impl Iterator<Item = (usize, &str, bool)> {
    let bytes = text.as_bytes();
    // The character at `i` (a boundary), whether it is Han, whether it can
    // be part of a word, and its length in bytes.
    let class = move |i: usize| -> (bool, bool, usize) {
        let b = bytes[i];
        if b.is_ascii() {
            return (false, b.is_ascii_alphanumeric(), 1);
        }
        // Cyrillic's first 256 code points (U+0400-U+04FF, Russian and
        // its neighbours) are two bytes led by 0xD0-0xD3: classified from
        // the bytes, as decoding each letter was most of a Russian text's
        // time here. Only U+0482-U+0489 (signs and combining marks) are
        // not letters.
        if (0xD0..=0xD3).contains(&b) {
            let second = bytes.get(i + 1).copied().unwrap_or(0);
            return (false, !(b == 0xD2 && (0x82..=0x89).contains(&second)), 2);
        }
        // So are most Han characters: three bytes led by 0xE5-0xE9 are
        // U+5000-U+9FFF, all CJK unified ideographs.
        if (0xE5..=0xE9).contains(&b) {
            return (true, true, 3);
        }
        let c = text[i..].chars().next().unwrap_or(' ');
        let han = is_han(c);
        (han, han || is_word_char(c), c.len_utf8())
    };
    let mut i = 0;
    std::iter::from_fn(move || {
        // Separators up to the next word; ASCII needs no decoding.
        while i < bytes.len() {
            let b = bytes[i];
            if b.is_ascii() {
                if b.is_ascii_alphanumeric() {
                    break;
                }
                i += 1;
                continue;
            }
            let (_, word, len) = class(i);
            if word {
                break;
            }
            i += len;
        }
        if i >= bytes.len() {
            return None;
        }
        let start = i;
        let (han, _, len) = class(i);
        i += len;
        // The word goes on while the characters are of its kind (Han or not).
        while i < bytes.len() {
            let b = bytes[i];
            if b.is_ascii() {
                if han || !b.is_ascii_alphanumeric() {
                    break;
                }
                i += 1;
                continue;
            }
            let (next_han, next_word, len) = class(i);
            if !next_word || next_han != han {
                break;
            }
            i += len;
        }
        Some((start, &text[start..i], han))
    })
}

impl Tokenizer for Analyzer {
    type TokenStream<'a> = WordStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordStream {
        if self.spelling {
            return self.spellings(text);
        }
        let mut stream = WordStream::default();
        self.each_word(text, |word| {
            for form in word.forms {
                let from = stream.text.len();
                stream.text.push_str(form);
                stream.push_span(from, word.offset_from..word.offset_to, word.position);
            }
            ControlFlow::Continue(())
        });
        stream
    }
}

/// The words of one text, their forms written one after another in one
/// buffer, handed to the index one token at a time (a `String` per
/// token, and its allocation, were about 3% of a cold build).
#[derive(Default)]
pub struct WordStream {
    text: String,
    spans: Vec<Span>,
    next: usize,
    token: Token,
}

/// One token: its form's bytes in `WordStream::text`, where the word
/// stands in the text analysed, and its position.
struct Span {
    form: Range<usize>,
    offsets: Range<usize>,
    position: usize,
}

impl WordStream {
    /// Ends a token whose form is the buffer from `from` on.
    fn push_span(&mut self, from: usize, offsets: Range<usize>, position: usize) {
        self.spans.push(Span {
            form: from..self.text.len(),
            offsets,
            position,
        });
    }
}

impl TokenStream for WordStream {
    fn advance(&mut self) -> bool {
        let Some(span) = self.spans.get(self.next) else {
            return false;
        };
        self.next += 1;
        self.token.text.clear();
        self.token.text.push_str(&self.text[span.form.clone()]);
        self.token.offset_from = span.offsets.start;
        self.token.offset_to = span.offsets.end;
        self.token.position = span.position;
        self.token.position_length = 1;
        true
    }

    fn token(&self) -> &Token {
        &self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forms(text: &str) -> Vec<Vec<String>> {
        Analyzer::default()
            .words(text)
            .into_iter()
            .map(|w| w.forms)
            .collect()
    }

    fn same_forms(a: &str, b: &str) {
        let (fa, fb) = (forms(a), forms(b));
        assert!(
            fa[0].iter().any(|f| fb[0].contains(f)),
            "{a} {fa:?} and {b} {fb:?} share no form"
        );
    }

    #[test]
    fn the_index_gets_every_form_of_every_word_at_its_position() {
        let text = "Refunds for the клиентов; 年度退款 and întrebări, refunds again";
        let expected: Vec<(String, usize, usize)> = Analyzer::default()
            .words(text)
            .into_iter()
            .flat_map(|w| {
                let (from, position) = (w.offset_from, w.position);
                w.forms.into_iter().map(move |f| (f, from, position))
            })
            .collect();
        let mut analyzer = Analyzer::default();
        let mut stream = analyzer.token_stream(text);
        let mut indexed = Vec::new();
        while stream.advance() {
            let t = stream.token();
            indexed.push((t.text.clone(), t.offset_from, t.position));
        }
        assert_eq!(indexed, expected);
        assert!(indexed.iter().filter(|(f, ..)| f == "refund").count() == 2);
    }

    #[test]
    fn a_word_of_forty_letters_is_indexed_and_a_longer_one_is_not() {
        // Cyrillic letters take two bytes each: the length that counts is
        // in characters.
        let forty = "ж".repeat(40);
        let forty_one = "ж".repeat(41);
        assert_eq!(Analyzer::default().words(&forty).len(), 1);
        assert!(Analyzer::default().words(&forty_one).is_empty());
        assert!(Analyzer::default().words(&"a".repeat(41)).is_empty());
    }

    #[test]
    fn english_plurals_meet_their_singular() {
        same_forms("refunds", "refund");
        same_forms("Escalations", "escalation");
    }

    #[test]
    fn russian_inflections_meet() {
        same_forms("клиентов", "клиент");
        same_forms("ещё", "еще");
    }

    #[test]
    fn romanian_is_found_with_or_without_diacritics() {
        same_forms("intrebari", "întrebări");
        same_forms("rambursare", "rambursări");
        same_forms("fişierele", "fișierele");
    }

    #[test]
    fn romanian_verbs_typed_without_diacritics_may_mean_the_written_ones() {
        for (plain, written) in [("ramburseaza", "rambursează"), ("plateste", "plătește")] {
            let stems = romanian_spellings(plain);
            assert!(
                forms(written)[0].iter().any(|f| stems.contains(f)),
                "{plain} {stems:?} and {written} {:?}",
                forms(written)
            );
        }
        assert!(
            romanian_spellings("refund").is_empty(),
            "no a, i, s or t at its end"
        );
        assert!(romanian_spellings("întrebări").is_empty());
    }

    #[test]
    fn the_spelling_of_a_word_is_its_folded_form() {
        let text = "Întrebări ЁЛКА Refunds 退款 x";
        let folded: Vec<String> = Analyzer::default()
            .words(text)
            .into_iter()
            .filter(|w| !w.han)
            .map(|w| w.folded)
            .collect();
        let mut spelling = Analyzer::spelling();
        let mut stream = spelling.token_stream(text);
        let mut spelt = Vec::new();
        while stream.advance() {
            spelt.push(stream.token().text.clone());
        }
        assert_eq!(spelt, folded);
        let mut stream = spelling.token_stream("Refund refund REFUND");
        let mut once = 0;
        while stream.advance() {
            once += 1;
        }
        assert_eq!(once, 1, "each word once per text");
    }

    #[test]
    fn titles_compare_by_their_words() {
        assert_eq!(title_key("Git: Commit-Graph "), "git commit graph");
        assert_eq!(title_key("Întrebări  frecvente"), "intrebari frecvente");
        assert_eq!(title_key("退款 政策"), "退款 政策");
    }

    #[test]
    fn chinese_is_cut_into_dictionary_words() {
        let words: Vec<String> = Analyzer::default()
            .words("我们的内部知识库")
            .into_iter()
            .map(|w| w.folded)
            .collect();
        assert!(words.contains(&"知识库".to_string()), "{words:?}");
    }

    #[test]
    fn mixed_scripts_and_offsets_are_kept() {
        let words = Analyzer::default().words("API 接口 v2");
        let spans: Vec<_> = words
            .iter()
            .map(|w| (w.folded.as_str(), w.offset_from, w.position))
            .collect();
        assert_eq!(spans, [("api", 0, 0), ("接口", 4, 1), ("v2", 11, 2)]);
    }

    #[test]
    fn russian_capitals_lowercase_like_the_unicode_tables() {
        for c in ('Ѐ'..='я').chain('A'..='Z').chain(['Ș', 'ț', '退']) {
            assert_eq!(Some(lowercase(c)), c.to_lowercase().next(), "{c}");
        }
    }

    #[test]
    fn a_filtered_analyzer_keeps_only_words_that_can_match() {
        let mut a = Analyzer::only_like([
            "refund".to_string(),
            "клиент".to_string(),
            "退款".to_string(),
        ]);
        let kept: Vec<String> = a
            .words("Refunds for the клиентов; 年度退款 and 销售")
            .into_iter()
            .map(|w| w.folded)
            .collect();
        assert!(
            kept.contains(&"refunds".to_string()) && kept.contains(&"клиентов".to_string()),
            "{kept:?}"
        );
        assert!(kept.iter().any(|w| w == "退款"), "{kept:?}");
        assert!(!kept.iter().any(|w| w == "for" || w == "销售"), "{kept:?}");
    }

    #[test]
    fn highlighting_offsets_never_step_back() {
        let mut a = Analyzer::only_like(["验证".to_string(), "两步".to_string()]);
        let mut last = 0;
        let mut seen = 0;
        a.each_form(
            "两步验证手机丢了，两步验证码收不到",
            |_, range| {
                assert!(range.start >= last, "{} after {last}", range.start);
                last = range.start;
                seen += 1;
                ControlFlow::Continue(())
            },
        );
        assert!(seen >= 4, "{seen} words");
    }

    #[test]
    fn overlong_words_are_not_indexed() {
        assert!(forms(&"x".repeat(100)).is_empty());
    }

    #[test]
    fn han_characters_make_words_of_their_own() {
        for code in (0x3000..=0xA000).chain(0xF900..=0xFB00) {
            let Some(c) = char::from_u32(code) else {
                continue;
            };
            let text = format!("x{c}{c}y");
            let cut: Vec<(&str, bool)> = runs(&text).map(|(_, run, han)| (run, han)).collect();
            let pair = format!("{c}{c}");
            if is_han(c) {
                assert_eq!(
                    cut,
                    [("x", false), (pair.as_str(), true), ("y", false)],
                    "U+{code:04X}"
                );
            } else if c.is_alphanumeric() {
                assert_eq!(cut, [(text.as_str(), false)], "U+{code:04X}");
            } else {
                assert_eq!(cut, [("x", false), ("y", false)], "U+{code:04X}");
            }
        }
    }

    #[test]
    fn cyrillic_letters_join_words_and_its_signs_separate_them() {
        for code in 0x0400..=0x052F {
            let Some(c) = char::from_u32(code) else {
                continue;
            };
            let text = format!("x{c}y");
            let cut: Vec<&str> = runs(&text).map(|(_, run, _)| run).collect();
            if c.is_alphanumeric() {
                assert_eq!(cut, [text.as_str()], "U+{code:04X}");
            } else {
                assert_eq!(cut, ["x", "y"], "U+{code:04X}");
            }
        }
    }
}
