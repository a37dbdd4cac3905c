//! The synonym groups of `_synonyms.yaml`, analysed as the index analyses
//! text, so that a query's words are looked up by their stems: "refunds"
//! finds the group that says "refund", "money back" the one that says
//! "money back", in any language of the group.

use std::collections::HashMap;

use super::analyzer::{Analyzer, Word};
use crate::content::synonyms::Group;

#[derive(Debug, Default)]
pub struct Synonyms {
    groups: Vec<Analysed>,
    /// A first word's primary form to the (group, entry) it starts.
    starts: HashMap<String, Vec<(usize, usize)>>,
}

#[derive(Debug)]
struct Analysed {
    written: Group,
    entries: Vec<Vec<Word>>,
}

/// What another entry of a group offers for some words of a query.
#[derive(Debug, Clone)]
pub struct Alternative {
    /// The entry's words (one word, or a phrase).
    pub words: Vec<Word>,
    /// The group, as `groups()` lists it.
    pub group: usize,
}

impl Synonyms {
    pub fn new(groups: &[Group]) -> Self {
        let mut analyzer = Analyzer::default();
        let mut synonyms = Synonyms::default();
        for group in groups {
            let entries: Vec<Vec<Word>> = group
                .entries
                .iter()
                .map(|e| analyzer.words(e))
                .filter(|w| !w.is_empty())
                .collect();
            if entries.len() < 2 {
                continue;
            }
            let at = synonyms.groups.len();
            for (n, words) in entries.iter().enumerate() {
                synonyms
                    .starts
                    .entry(words[0].primary().to_string())
                    .or_default()
                    .push((at, n));
            }
            synonyms.groups.push(Analysed {
                written: group.clone(),
                entries,
            });
        }
        synonyms
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    pub fn groups(&self) -> impl Iterator<Item = &Group> {
        self.groups.iter().map(|g| &g.written)
    }

    pub fn group(&self, n: usize) -> Option<&Group> {
        self.groups.get(n).map(|g| &g.written)
    }

    /// For each of `words` (a query's or a ticket's, in order), the other
    /// entries of each group one of whose entries those words spell, the
    /// word itself or a run of words it is part of.
    pub fn alternatives(&self, words: &[Word]) -> Vec<Vec<Alternative>> {
        let mut out: Vec<Vec<Alternative>> = vec![Vec::new(); words.len()];
        if self.groups.is_empty() {
            return out;
        }
        for (i, word) in words.iter().enumerate() {
            let Some(starting) = self.starts.get(word.primary()) else {
                continue;
            };
            for &(group, entry) in starting {
                let spelled = &self.groups[group].entries[entry];
                let Some(run) = words.get(i..i + spelled.len()) else {
                    continue;
                };
                let same = run
                    .iter()
                    .zip(spelled)
                    .all(|(a, b)| a.primary() == b.primary());
                if !same {
                    continue;
                }
                for slot in out.iter_mut().skip(i).take(spelled.len()) {
                    for (n, other) in self.groups[group].entries.iter().enumerate() {
                        let known = slot.iter().any(|a| a.group == group && a.words == *other);
                        if n != entry && !known {
                            slot.push(Alternative {
                                words: other.clone(),
                                group,
                            });
                        }
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn synonyms(groups: &[&[&str]]) -> Synonyms {
        let groups: Vec<Group> = groups
            .iter()
            .map(|g| Group {
                line: 1,
                entries: g.iter().map(|e| e.to_string()).collect(),
            })
            .collect();
        Synonyms::new(&groups)
    }

    fn offered(s: &Synonyms, text: &str) -> Vec<Vec<String>> {
        let words = Analyzer::default().words(text);
        s.alternatives(&words)
            .into_iter()
            .map(|alts| {
                alts.into_iter()
                    .map(|a| {
                        a.words
                            .iter()
                            .map(|w| w.folded.clone())
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn a_word_or_a_phrase_of_a_group_offers_the_others_by_stem() {
        let s = synonyms(&[&["refund", "money back", "возврат"]]);
        assert_eq!(
            offered(&s, "refunds please"),
            [vec!["money back", "возврат"], vec![]]
        );
        assert_eq!(
            offered(&s, "want money back"),
            [vec![], vec!["refund", "возврат"], vec!["refund", "возврат"]]
        );
        assert_eq!(offered(&s, "возврата денег")[0], ["refund", "money back"]);
        // Half a phrase is not the phrase.
        assert_eq!(offered(&s, "money"), [Vec::<String>::new()]);
    }
}
