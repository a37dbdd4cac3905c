//! Known-item queries, made from each card the way people mistype and
//! half-type a page's name: the exact title, one typo in its longest word,
//! the title cut short, a few words of its description.

use std::collections::HashMap;

/// How a query was made from its card.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mode {
    Exact,
    Dropped,
    Swapped,
    Doubled,
    Replaced,
    Typed40,
    Typed60,
    Typed80,
    Description,
}

impl Mode {
    pub const ALL: [Mode; 9] = [
        Mode::Exact,
        Mode::Dropped,
        Mode::Swapped,
        Mode::Doubled,
        Mode::Replaced,
        Mode::Typed40,
        Mode::Typed60,
        Mode::Typed80,
        Mode::Description,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Mode::Exact => "exact title",
            Mode::Dropped => "typo: letter dropped",
            Mode::Swapped => "typo: letters swapped",
            Mode::Doubled => "typo: letter doubled",
            Mode::Replaced => "typo: letter replaced",
            Mode::Typed40 => "half-typed 40%",
            Mode::Typed60 => "half-typed 60%",
            Mode::Typed80 => "half-typed 80%",
            Mode::Description => "description words",
        }
    }

    /// The group the targets are stated for.
    pub fn group(self) -> Group {
        match self {
            Mode::Exact => Group::Exact,
            Mode::Dropped | Mode::Swapped | Mode::Doubled | Mode::Replaced => Group::Misspelt,
            Mode::Typed40 | Mode::Typed60 | Mode::Typed80 => Group::HalfTyped,
            Mode::Description => Group::Description,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Group {
    Exact,
    Misspelt,
    HalfTyped,
    Description,
}

impl Group {
    pub fn name(self) -> &'static str {
        match self {
            Group::Exact => "exact titles",
            Group::Misspelt => "misspelt titles",
            Group::HalfTyped => "half-typed titles",
            Group::Description => "description words",
        }
    }
}

/// One card as the evaluation sees it.
pub struct Item {
    pub id: String,
    pub lang: String,
    pub title: String,
    pub description: String,
    /// The file as written (for the baseline, which indexes it as is).
    pub body: String,
}

pub struct KnownItem {
    pub mode: Mode,
    pub lang: String,
    pub q: String,
    pub expect: String,
    /// More than three titles of the language fit the query (a half-typed
    /// "git c", a title four platforms share): no ranking can know which
    /// one was meant. Reported apart.
    pub ambiguous: bool,
}

/// Typo tolerance is expected from five letters on (Meilisearch's rule of
/// thumb); shorter titles get no typo queries.
const MIN_TYPO_LETTERS: usize = 5;

/// Queries for `items`; `ambiguous` is judged against every title of the
/// same language in `all`.
pub fn known_items(items: &[&Item], all: &[Item], seed: u64) -> Vec<KnownItem> {
    let mut titles: HashMap<&str, Vec<String>> = HashMap::new();
    let mut every_title: Vec<String> = Vec::new();
    for item in all {
        titles
            .entry(item.lang.as_str())
            .or_default()
            .push(normalize(&item.title));
        every_title.push(normalize(&item.title));
    }
    for list in titles.values_mut() {
        list.sort();
    }
    every_title.sort();
    let mut out = Vec::new();
    for item in items {
        let mut rng = Rng::new(seed ^ fnv(&item.id));
        let same_lang = titles
            .get(item.lang.as_str())
            .map_or(&[][..], Vec::as_slice);
        for mode in Mode::ALL {
            let Some(q) = make(mode, item, &mut rng) else {
                continue;
            };
            let key = normalize(&q);
            if key.is_empty() {
                continue;
            }
            // A half-typed or misspelt title that spells another page's
            // whole title (in any language) is that page's query.
            let ambiguous = match mode.group() {
                Group::HalfTyped => {
                    starting_with(same_lang, &key) > 3 || equal(&every_title, &key) > 0
                }
                Group::Exact => equal(same_lang, &key) > 3,
                Group::Misspelt => equal(&every_title, &key) > 0,
                Group::Description => false,
            };
            out.push(KnownItem {
                mode,
                lang: item.lang.clone(),
                q,
                expect: item.id.clone(),
                ambiguous,
            });
        }
    }
    out
}

fn make(mode: Mode, item: &Item, rng: &mut Rng) -> Option<String> {
    let title = item.title.trim();
    match mode {
        Mode::Exact => Some(title.to_string()),
        Mode::Dropped | Mode::Swapped | Mode::Doubled | Mode::Replaced => typo(mode, title, rng),
        Mode::Typed40 => typed(title, 0.4),
        Mode::Typed60 => typed(title, 0.6),
        Mode::Typed80 => typed(title, 0.8),
        Mode::Description => description(&item.description),
    }
}

/// One typo in the title's longest word, never in its first letter (people
/// rarely get that wrong).
fn typo(mode: Mode, title: &str, rng: &mut Rng) -> Option<String> {
    let (start, word) = longest_word(title)?;
    let letters: Vec<char> = word.chars().collect();
    let n = letters.len();
    if n < MIN_TYPO_LETTERS {
        return None;
    }
    let mut changed = letters.clone();
    let at = 1 + rng.below(n - 1);
    match mode {
        Mode::Dropped => {
            changed.remove(at);
        }
        Mode::Swapped => {
            let at = 1 + rng.below(n - 2);
            if changed[at] == changed[at + 1] {
                return None;
            }
            changed.swap(at, at + 1);
        }
        Mode::Doubled => changed.insert(at, letters[at]),
        Mode::Replaced => changed[at] = neighbour(letters[at], rng)?,
        _ => return None,
    }
    let changed: String = changed.into_iter().collect();
    Some(format!(
        "{}{}{}",
        &title[..start],
        changed,
        &title[start + word.len()..]
    ))
}

/// The byte offset and text of the longest run of letters.
fn longest_word(title: &str) -> Option<(usize, &str)> {
    let mut best: Option<(usize, &str)> = None;
    let mut start = None;
    for (i, c) in title
        .char_indices()
        .chain(std::iter::once((title.len(), ' ')))
    {
        match (c.is_alphabetic(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                let word = &title[s..i];
                if best.is_none_or(|(_, b)| word.chars().count() > b.chars().count()) {
                    best = Some((s, word));
                }
                start = None;
            }
            _ => {}
        }
    }
    best
}

/// A key next to `c` on the keyboard its script is typed on.
fn neighbour(c: char, rng: &mut Rng) -> Option<char> {
    const LATIN: [&str; 3] = ["qwertyuiop", "asdfghjkl", "zxcvbnm"];
    const CYRILLIC: [&str; 3] = ["йцукенгшщзхъ", "фывапролджэ", "ячсмитьбю"];
    let lower = c.to_lowercase().next()?;
    for rows in [LATIN, CYRILLIC] {
        for row in rows {
            let keys: Vec<char> = row.chars().collect();
            if let Some(i) = keys.iter().position(|&k| k == lower) {
                let choices: Vec<char> = [i.checked_sub(1), Some(i + 1)]
                    .into_iter()
                    .flatten()
                    .filter_map(|j| keys.get(j).copied())
                    .collect();
                return choices.get(rng.below(choices.len())).copied();
            }
        }
    }
    None
}

/// The first `share` of the title's characters, at least two.
fn typed(title: &str, share: f64) -> Option<String> {
    let chars: Vec<char> = title.chars().collect();
    let keep = ((chars.len() as f64) * share).ceil() as usize;
    if keep < 2 || keep >= chars.len() {
        return None;
    }
    Some(
        chars[..keep]
            .iter()
            .collect::<String>()
            .trim_end()
            .to_string(),
    )
}

/// The first four words of three letters or more of the description.
fn description(text: &str) -> Option<String> {
    let words: Vec<&str> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3)
        .take(4)
        .collect();
    (words.len() >= 2).then(|| words.join(" "))
}

/// Lowercase words joined by one space: how titles are compared here.
pub fn normalize(text: &str) -> String {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

fn starting_with(sorted: &[String], key: &str) -> usize {
    let from = sorted.partition_point(|t| t.as_str() < key);
    sorted[from..]
        .iter()
        .take_while(|t| t.starts_with(key))
        .count()
}

fn equal(sorted: &[String], key: &str) -> usize {
    let from = sorted.partition_point(|t| t.as_str() < key);
    sorted[from..].iter().take_while(|t| *t == key).count()
}

/// The index's own stable hash (FNV-1a), as a seed per card.
fn fnv(text: &str) -> u64 {
    quire::index::id_hash(text)
}

/// A small deterministic generator (xorshift64): the same corpus and seed
/// give the same queries on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        // xorshift never leaves zero.
        Rng(seed | 1)
    }

    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

/// Sorts items in an order fixed by the seed, for sampling.
pub fn shuffle_key(seed: u64, id: &str) -> u64 {
    Rng::new(seed ^ fnv(id)).below(usize::MAX) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_changes_one_letter_of_the_longest_word() {
        let mut rng = Rng::new(7);
        let q = typo(Mode::Dropped, "git commit-graph", &mut rng).unwrap();
        assert_eq!(q.len(), "git commit-graph".len() - 1);
        assert!(q.starts_with("git commit-") || q.starts_with("git c"));
    }

    #[test]
    fn half_typed_titles_keep_their_start() {
        assert_eq!(typed("docker compose", 0.6).as_deref(), Some("docker co"));
        assert_eq!(typed("ls", 0.4), None);
    }
}
