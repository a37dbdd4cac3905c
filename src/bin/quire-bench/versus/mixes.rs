//! The three query mixes of the side-by-side benchmark, drawn with a seed
//! from an exported corpus (`export::json_lines`), so that any folder gets
//! its own and both servers get the same: words and titles as a reader
//! types them, the same with one typo, and words no card holds. Queries
//! are lowercase words separated by spaces and nothing else, which every
//! engine's query parser takes as plain words.

use std::collections::{BTreeSet, HashSet};
use std::io::BufRead as _;
use std::path::Path;

use anyhow::{Context, Result};

use crate::corpus::Rng;

pub struct Mixes {
    /// One word, two neighbouring words of a card, or a card's title.
    pub typed: Vec<String>,
    /// The same shapes with one typo in a word of five letters or more
    /// (the first letter kept, as readers rarely miss it), never a word
    /// the corpus holds.
    pub misspelt: Vec<String>,
    /// One or two words in no card, nor the start of any card's word.
    pub zero: Vec<String>,
}

impl Mixes {
    pub fn each(&self) -> [(&'static str, &[String]); 3] {
        [
            ("typed", &self.typed),
            ("misspelt", &self.misspelt),
            ("zero_result", &self.zero),
        ]
    }
}

/// A card's title and words, for the cards queries are drawn from.
struct Sampled {
    title: Vec<String>,
    words: Vec<String>,
}

/// What the mixes are drawn from: a seeded sample of cards, and every
/// word of every card (to know what is misspelt and what is absent).
pub struct Drawn {
    cards: Vec<Sampled>,
    vocabulary: BTreeSet<String>,
}

/// Reads the JSON lines of `path` twice: once to count the cards, once to
/// keep the sampled ones and the vocabulary (a 100k corpus' texts are not
/// all held at once).
pub fn read(path: &Path, sample: usize, seed: u64) -> Result<Drawn> {
    let open = || -> Result<std::io::BufReader<std::fs::File>> {
        let file =
            std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        Ok(std::io::BufReader::new(file))
    };
    let count = open()?.lines().count();
    if count == 0 {
        anyhow::bail!("{} holds no card", path.display());
    }
    let mut rng = Rng::new(seed ^ 0x5A3D);
    let chosen: HashSet<usize> = (0..sample).map(|_| rng.below(count)).collect();
    let mut drawn = Drawn {
        cards: Vec::new(),
        vocabulary: BTreeSet::new(),
    };
    for (i, line) in open()?.lines().enumerate() {
        let line = line?;
        let card: serde_json::Value =
            serde_json::from_str(&line).with_context(|| format!("{}:{}", path.display(), i + 1))?;
        let text = |key: &str| card[key].as_str().unwrap_or_default().to_string();
        let (title, body) = (words(&text("title")), words(&text("body")));
        drawn.vocabulary.extend(title.iter().cloned());
        drawn.vocabulary.extend(body.iter().cloned());
        if chosen.contains(&i) && !body.is_empty() {
            drawn.cards.push(Sampled { title, words: body });
        }
    }
    Ok(drawn)
}

/// `text` as the words a reader would type: lowercase runs of letters and
/// digits, one-letter words and bare numbers dropped. Chinese is written
/// without spaces, so a run of its characters is taken whole when it is
/// short (two to four characters: a word or two) and by its first two
/// characters when longer (where a run starts, a word starts; a piece cut
/// from its middle may be no word at all, which no reader types).
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for run in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|r| !r.is_empty())
    {
        let run = run.to_lowercase();
        if run.chars().any(is_han) {
            let chars: Vec<char> = run.chars().filter(|c| is_han(*c)).collect();
            match chars.len() {
                0 | 1 => {}
                2..=4 => out.push(chars.into_iter().collect()),
                _ => out.push(chars[..2].iter().collect()),
            }
        } else if run.chars().count() >= 2 && !run.chars().all(|c| c.is_ascii_digit()) {
            out.push(run);
        }
    }
    out
}

fn is_han(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}')
}

/// `per_mix` queries of each mix, the same for the same corpus and seed.
pub fn draw(corpus: &Drawn, per_mix: usize, seed: u64) -> Mixes {
    let mut rng = Rng::new(seed ^ 0x7E57);
    let mut typed = Vec::new();
    let mut misspelt = Vec::new();
    // A few tries per query: a sampled card may have no word long enough.
    for _ in 0..per_mix * 20 {
        if typed.len() >= per_mix && misspelt.len() >= per_mix {
            break;
        }
        let Some(card) = pick(&mut rng, &corpus.cards) else {
            break;
        };
        let query = typed_query(&mut rng, card);
        if typed.len() < per_mix {
            typed.push(query.join(" "));
        }
        if misspelt.len() < per_mix
            && let Some(query) = with_typo(&mut rng, query, &corpus.vocabulary)
        {
            misspelt.push(query.join(" "));
        }
    }
    Mixes {
        typed,
        misspelt,
        zero: zero_result(&mut rng, per_mix, &corpus.vocabulary),
    }
}

fn pick<'a, T>(rng: &mut Rng, items: &'a [T]) -> Option<&'a T> {
    (!items.is_empty()).then(|| rng.pick(items))
}

/// Four in ten one word, three two neighbouring words, three the title
/// (its first four words).
fn typed_query(rng: &mut Rng, card: &Sampled) -> Vec<String> {
    let i = rng.below(card.words.len());
    match rng.below(10) {
        0..=3 => vec![card.words[i].clone()],
        4..=6 if i + 1 < card.words.len() => card.words[i..i + 2].to_vec(),
        _ if !card.title.is_empty() => card.title.iter().take(4).cloned().collect(),
        _ => vec![card.words[i].clone()],
    }
}

/// `query` with one typo in one of its words of five letters or more, or
/// none when it has no such word or the typo made another real word.
fn with_typo(
    rng: &mut Rng,
    mut query: Vec<String>,
    vocabulary: &BTreeSet<String>,
) -> Option<Vec<String>> {
    let long: Vec<usize> = (0..query.len())
        .filter(|&i| {
            let w = &query[i];
            w.chars().count() >= 5 && w.chars().all(|c| c.is_alphabetic() && !is_han(c))
        })
        .collect();
    let at = *pick(rng, &long)?;
    let typo = typo(rng, &query[at]);
    if typo == query[at] || vocabulary.contains(&typo) {
        return None;
    }
    query[at] = typo;
    Some(query)
}

/// One edit after the first letter: a letter dropped, two swapped, one
/// doubled, or one replaced by another letter of the word.
fn typo(rng: &mut Rng, word: &str) -> String {
    let mut chars: Vec<char> = word.chars().collect();
    let at = rng.range(1, chars.len() - 2);
    match rng.below(4) {
        0 => {
            chars.remove(at);
        }
        1 => chars.swap(at, at + 1),
        2 => chars.insert(at, chars[at]),
        _ => {
            let other = chars[(at + 1 + rng.below(chars.len() - 1)) % chars.len()];
            chars[at] = other;
        }
    }
    chars.into_iter().collect()
}

/// Words a support team's readers type that a corpus may well not hold,
/// in the generated corpus' and tldr's languages; those the corpus holds
/// are dropped, and made-up words fill the mix up.
const MAYBE_ABSENT: &[&str] = &[
    "refund",
    "annual",
    "escalation",
    "tier",
    "chargeback",
    "voucher",
    "warranty",
    "reimbursement",
    "prorated",
    "loyalty",
    "coupon",
    "courier",
    "parcel",
    "dispute",
    "payroll",
    "helpdesk",
    "outage",
    "throttling",
    "cancellation",
    "invoice",
    "shipment",
    "rambursare",
    "factura",
    "abonament",
    "garantie",
    "livrare",
    "colet",
    "reducere",
    "возврат",
    "подписка",
    "гарантия",
    "доставка",
    "посылка",
    "скидка",
    "счёт",
];

/// One or two absent words per query.
fn zero_result(rng: &mut Rng, per_mix: usize, vocabulary: &BTreeSet<String>) -> Vec<String> {
    let mut absent: Vec<String> = MAYBE_ABSENT
        .iter()
        .map(|w| w.to_string())
        .filter(|w| is_absent(w, vocabulary))
        .collect();
    const SYLLABLES: [&str; 2] = ["bdfgklmnprstvz", "aeiou"];
    let mut tries = 0;
    while absent.len() < 40 && tries < 10_000 {
        tries += 1;
        let made: String = (0..3)
            .flat_map(|_| SYLLABLES.map(|s| s.as_bytes()[rng.below(s.len())] as char))
            .collect();
        if is_absent(&made, vocabulary) && !absent.contains(&made) {
            absent.push(made);
        }
    }
    (0..per_mix)
        .filter_map(|_| {
            let first = pick(rng, &absent)?.clone();
            Some(if rng.chance(50) {
                first
            } else {
                format!("{first} {}", pick(rng, &absent)?)
            })
        })
        .collect()
}

/// No card holds `word`, nor a word beginning with its first four or five
/// letters (so neither a stemmer, which finds "cancel" in "cancellation",
/// nor a prefix search finds anything).
fn is_absent(word: &str, vocabulary: &BTreeSet<String>) -> bool {
    let keep = word.chars().count().saturating_sub(2).clamp(4, 5);
    let stem: String = word.chars().take(keep).collect();
    !vocabulary.contains(word)
        && vocabulary
            .range(stem.clone()..)
            .next()
            .is_none_or(|w| !w.starts_with(&stem))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus(cards: &[(&str, &str)]) -> Drawn {
        let mut drawn = Drawn {
            cards: Vec::new(),
            vocabulary: BTreeSet::new(),
        };
        for (title, body) in cards {
            let (title, words) = (words(title), words(body));
            drawn.vocabulary.extend(title.iter().chain(&words).cloned());
            drawn.cards.push(Sampled { title, words });
        }
        drawn
    }

    fn sample() -> Drawn {
        corpus(&[
            (
                "git commit",
                "Commit files to the repository with a message.",
            ),
            ("tar", "Archiving utility, often combined with compression."),
            (
                "Возврат денег",
                "Деньги возвращаются на карту в течение пяти дней.",
            ),
            ("退款", "退款会在五个工作日内退回原支付方式。"),
        ])
    }

    #[test]
    fn words_are_what_a_reader_types() {
        assert_eq!(
            words("Use `git-commit` (v2.0) for: Files!"),
            ["use", "git", "commit", "v2", "for", "files"]
        );
        assert_eq!(words("退款，会在五个工作日内"), ["退款", "会在"]);
    }

    #[test]
    fn the_same_corpus_and_seed_give_the_same_mixes() {
        let (a, b) = (draw(&sample(), 50, 7), draw(&sample(), 50, 7));
        assert_eq!((a.typed, a.misspelt, a.zero), (b.typed, b.misspelt, b.zero));
    }

    #[test]
    fn typed_queries_are_the_corpus_own_words() {
        let drawn = sample();
        let mixes = draw(&drawn, 50, 1);
        assert_eq!(mixes.typed.len(), 50);
        for query in &mixes.typed {
            assert!(
                query.split(' ').all(|w| drawn.vocabulary.contains(w)),
                "{query}"
            );
        }
    }

    #[test]
    fn a_misspelt_query_has_one_word_that_no_card_holds() {
        let drawn = sample();
        let mixes = draw(&drawn, 50, 1);
        assert_eq!(mixes.misspelt.len(), 50);
        for query in &mixes.misspelt {
            let unknown: Vec<&str> = query
                .split(' ')
                .filter(|w| !drawn.vocabulary.contains(*w))
                .collect();
            assert_eq!(unknown.len(), 1, "{query}");
            assert!(unknown[0].chars().count() >= 4, "{query}");
        }
    }

    #[test]
    fn zero_result_queries_hold_no_word_or_word_start_of_the_corpus() {
        let drawn = sample();
        let mixes = draw(&drawn, 50, 1);
        assert_eq!(mixes.zero.len(), 50);
        for word in mixes.zero.iter().flat_map(|q| q.split(' ')) {
            assert!(is_absent(word, &drawn.vocabulary), "{word}");
        }
        // "возврат" is in a title here, so it is not offered as absent.
        assert!(!mixes.zero.iter().any(|q| q.contains("возврат")));
        // Nor a longer word a stemmer takes to a word of the corpus.
        assert!(!is_absent("commitment", &drawn.vocabulary));
    }
}
