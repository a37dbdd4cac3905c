//! `Catalog`: every card Quire serves, in memory, with the maps that resolve
//! links the way Obsidian does (by id, else file name, else title or alias)
//! and find backlinks. Updated one card at a time by the reindex loop; read
//! by everything else. It never touches the disk.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use super::card::{Card, FolderPage};
use super::card_id::CardId;
use super::markdown::{Link, LinkKind};
use super::problem::Problem;
use super::rendered::{RenderKey, Rendered};

/// What a wiki-link names, before the nearest card is chosen.
enum WikiTarget<'a> {
    /// One card, by its id.
    Card(CardId),
    /// Every card of that file name, title or alias, and by which.
    Named(Vec<(Rule, &'a CardId)>),
}

/// How a card answers to a name: a file name comes before a title or an
/// alias.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Rule {
    FileName,
    TitleOrAlias,
}

/// What a link points at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolved {
    Card(CardId),
    /// A file under `content/`, by its relative path.
    Attachment(String),
    Broken,
}

#[derive(Default, Debug, Clone)]
pub struct Catalog {
    cards: BTreeMap<CardId, Arc<Card>>,
    folders: BTreeMap<String, FolderPage>,
    attachments: BTreeSet<String>,
    problems: BTreeMap<String, Vec<Problem>>,
    by_stem: HashMap<String, Ids>,
    by_title: HashMap<String, Ids>,
    by_alias: HashMap<String, Ids>,
    /// The groups of `_synonyms.yaml`; `None` when there is no such file.
    synonyms: Option<Arc<Vec<super::synonyms::Group>>>,
    /// Translation families (`Card::family`) to their members.
    by_family: HashMap<String, Ids>,
    attachments_by_name: HashMap<String, BTreeSet<String>>,
    /// Link keys (see `link_keys`) to the cards whose links use them.
    linked_from: HashMap<String, Ids>,
    /// Counts the changes that can move a link: cards and attachments
    /// added or removed (a card's title or audience is part of it).
    generation: u64,
    rendered: Rendered,
}

/// The cards filed under one key, in id order. Nearly always one card, so a
/// few ids live in a sorted vector sized to fit (one 16-byte allocation
/// for one card) rather than a `BTreeSet`, which allocates a node of eleven
/// slots for its first entry: at 100k cards that was about 90 MB across the
/// maps. A key many cards share (a home page every card links to) moves to a
/// set, so filing stays O(log n) rather than a shift of the whole vector.
#[derive(Debug, Clone)]
enum Ids {
    Few(Vec<CardId>),
    Many(BTreeSet<CardId>),
}

impl Ids {
    /// Past this many, a key's ids move to a set.
    const FEW: usize = 16;

    fn insert(&mut self, id: &CardId) {
        match self {
            Ids::Few(ids) => {
                let Err(at) = ids.binary_search(id) else {
                    return;
                };
                if ids.len() < Self::FEW {
                    ids.reserve_exact(1);
                    ids.insert(at, id.clone());
                } else {
                    let mut set: BTreeSet<CardId> = ids.drain(..).collect();
                    set.insert(id.clone());
                    *self = Ids::Many(set);
                }
            }
            Ids::Many(set) => {
                set.insert(id.clone());
            }
        }
    }

    fn remove(&mut self, id: &CardId) {
        match self {
            Ids::Few(ids) => {
                if let Ok(at) = ids.binary_search(id) {
                    ids.remove(at);
                }
            }
            Ids::Many(set) => {
                set.remove(id);
            }
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            Ids::Few(ids) => ids.is_empty(),
            Ids::Many(set) => set.is_empty(),
        }
    }

    fn iter(&self) -> impl Iterator<Item = &CardId> {
        let (few, many) = match self {
            Ids::Few(ids) => (Some(ids.iter()), None),
            Ids::Many(set) => (None, Some(set.iter())),
        };
        few.into_iter().flatten().chain(many.into_iter().flatten())
    }
}

impl Default for Ids {
    fn default() -> Self {
        Ids::Few(Vec::new())
    }
}

/// A lookup key: names, titles and aliases match whatever their case and
/// Unicode form (an NFD file name, an NFC link), as ids do.
fn key(s: &str) -> String {
    super::card_id::nfc(s.trim()).to_lowercase()
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn add(map: &mut HashMap<String, Ids>, k: String, id: &CardId) {
    map.entry(k).or_default().insert(id);
}

fn drop_from(map: &mut HashMap<String, Ids>, k: &str, id: &CardId) {
    if let Some(set) = map.get_mut(k) {
        set.remove(id);
        if set.is_empty() {
            map.remove(k);
        }
    }
}

impl Catalog {
    pub fn len(&self) -> usize {
        self.cards.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cards.is_empty()
    }

    pub fn get(&self, id: &CardId) -> Option<&Arc<Card>> {
        self.cards.get(id)
    }

    pub fn cards(&self) -> impl Iterator<Item = &Arc<Card>> {
        self.cards.values()
    }

    pub fn folder(&self, path: &str) -> Option<&FolderPage> {
        self.folders.get(path)
    }

    pub fn folders(&self) -> impl Iterator<Item = (&String, &FolderPage)> {
        self.folders.iter()
    }

    pub fn has_attachment(&self, rel_path: &str) -> bool {
        self.attachments.contains(rel_path)
    }

    pub fn attachments(&self) -> impl Iterator<Item = &String> {
        self.attachments.iter()
    }

    /// Every current problem, by file.
    pub fn problems(&self) -> impl Iterator<Item = &Problem> {
        self.problems.values().flatten()
    }

    pub fn problems_of(&self, rel_path: &str) -> &[Problem] {
        self.problems.get(rel_path).map_or(&[], Vec::as_slice)
    }

    /// The groups of `_synonyms.yaml`, when the file exists.
    pub fn synonyms(&self) -> Option<&Arc<Vec<super::synonyms::Group>>> {
        self.synonyms.as_ref()
    }

    pub fn set_synonyms(&mut self, groups: Option<Vec<super::synonyms::Group>>) {
        self.synonyms = groups.map(Arc::new);
    }

    /// The cards of `card`'s translation family, itself included, in id
    /// order.
    pub fn family(&self, card: &Card) -> Vec<&Arc<Card>> {
        self.family_ids(card)
            .filter_map(|id| self.cards.get(id))
            .collect()
    }

    /// The other members of `card`'s family (its translations).
    pub fn translations(&self, card: &Card) -> Vec<&Arc<Card>> {
        // Every search hit asks, and most cards have no translation: the
        // card itself is not looked up.
        self.family_ids(card)
            .filter(|id| **id != card.id)
            .filter_map(|id| self.cards.get(id))
            .collect()
    }

    fn family_ids(&self, card: &Card) -> impl Iterator<Item = &CardId> {
        self.by_family
            .get(&card.family)
            .into_iter()
            .flat_map(Ids::iter)
    }

    /// The card an old id (an alias) now lives at.
    pub fn moved_to(&self, old_id: &str) -> Option<&CardId> {
        let ids = self.by_alias.get(&key(old_id))?;
        ids.iter().next()
    }

    /// A card's sanitized HTML, rendered by `render` unless it is kept
    /// from an earlier view under this catalog as it is now.
    pub fn rendered(&self, key: RenderKey, render: impl FnOnce() -> String) -> String {
        self.rendered.get_or_render(self.generation, key, render)
    }

    pub fn upsert(&mut self, mut card: Card) {
        // Lists read from JSON grow by doubling; every card lives here for
        // the life of the process, so give the slack back.
        card.links.shrink_to_fit();
        card.tags.shrink_to_fit();
        card.aliases.shrink_to_fit();
        let id = card.id.clone();
        self.remove(&id);
        self.generation += 1;
        add(&mut self.by_stem, key(id.file_stem()), &id);
        add(&mut self.by_title, key(&card.title), &id);
        add(&mut self.by_family, card.family.clone(), &id);
        for alias in &card.aliases {
            add(&mut self.by_alias, key(alias), &id);
        }
        for link in &card.links {
            add(&mut self.linked_from, link_key(&link.target), &id);
        }
        let path = id.rel_path();
        if card.problems.is_empty() {
            self.problems.remove(&path);
        } else {
            self.problems.insert(path, card.problems.clone());
        }
        self.cards.insert(id, Arc::new(card));
    }

    pub fn remove(&mut self, id: &CardId) -> Option<Arc<Card>> {
        let old = self.cards.remove(id)?;
        self.generation += 1;
        drop_from(&mut self.by_stem, &key(id.file_stem()), id);
        drop_from(&mut self.by_title, &key(&old.title), id);
        drop_from(&mut self.by_family, &old.family, id);
        for alias in &old.aliases {
            drop_from(&mut self.by_alias, &key(alias), id);
        }
        for link in &old.links {
            drop_from(&mut self.linked_from, &link_key(&link.target), id);
        }
        self.problems.remove(&id.rel_path());
        Some(old)
    }

    pub fn set_folder(&mut self, folder: &str, page: FolderPage) {
        self.folders.insert(folder.to_string(), page);
    }

    pub fn remove_folder(&mut self, folder: &str) {
        self.folders.remove(folder);
    }

    pub fn add_attachment(&mut self, rel_path: &str) {
        if self.attachments.insert(rel_path.to_string()) {
            self.generation += 1;
            self.attachments_by_name
                .entry(key(file_name(rel_path)))
                .or_default()
                .insert(rel_path.to_string());
        }
    }

    pub fn remove_attachment(&mut self, rel_path: &str) {
        if self.attachments.remove(rel_path) {
            self.generation += 1;
            let k = key(file_name(rel_path));
            if let Some(set) = self.attachments_by_name.get_mut(&k) {
                set.remove(rel_path);
                if set.is_empty() {
                    self.attachments_by_name.remove(&k);
                }
            }
        }
    }

    /// Records the problems of a file that could not be read as a card, or
    /// clears them with an empty list.
    pub fn set_problems(&mut self, rel_path: &str, problems: Vec<Problem>) {
        if problems.is_empty() {
            self.problems.remove(rel_path);
        } else {
            self.problems.insert(rel_path.to_string(), problems);
        }
    }

    /// Resolves a link written in card `from`.
    pub fn resolve(&self, from: &CardId, link: &Link) -> Resolved {
        match link.kind {
            LinkKind::Wiki => self.resolve_wiki(from, &link.target),
            LinkKind::Embed => self
                .resolve_attachment(from, &link.target, true)
                .unwrap_or_else(|| self.resolve_wiki(from, &link.target)),
            LinkKind::Markdown | LinkKind::Image => self.resolve_path(from, &link.target),
        }
    }

    /// `[[name]]`: by id (or relative id, or an old id); else among the
    /// cards of that file name, title or alias, those in the linking card's
    /// language first (a vault kept one folder per language links within
    /// its language), then a file name before a title or alias (Obsidian's
    /// rule), then the nearest folder (see `nearest`).
    fn resolve_wiki(&self, from: &CardId, target: &str) -> Resolved {
        match self.wiki_candidates(from, target) {
            Some(WikiTarget::Card(id)) => Resolved::Card(id),
            Some(WikiTarget::Named(named)) => match self.nearest(from, &named) {
                Some(best) => Resolved::Card(best.clone()),
                None => Resolved::Broken,
            },
            None => {
                let target = target.trim().trim_start_matches('/');
                self.resolve_attachment(from, target, true)
                    .unwrap_or(Resolved::Broken)
            }
        }
    }

    /// The cards a `[[name]]` could mean.
    fn wiki_candidates(&self, from: &CardId, target: &str) -> Option<WikiTarget<'_>> {
        let target = target.trim().trim_start_matches('/');
        let target = target.strip_suffix(".md").unwrap_or(target);
        let exact = CardId::new(target)
            .ok()
            .filter(|id| self.cards.contains_key(id));
        let relative = || {
            join(from.folder(), target)
                .and_then(|p| CardId::new(p).ok())
                .filter(|id| self.cards.contains_key(id))
        };
        if let Some(id) = exact.or_else(relative) {
            return Some(WikiTarget::Card(id));
        }
        let name = key(target);
        // An old id with its folders is where a card was: it moved.
        if target.contains('/')
            && let Some(ids) = self.by_alias.get(&name)
        {
            return Some(WikiTarget::Named(
                ids.iter().map(|id| (Rule::FileName, id)).collect(),
            ));
        }
        let mut named: Vec<(Rule, &CardId)> = Vec::new();
        for (rule, ids) in [
            (Rule::FileName, self.by_stem.get(&key(file_name(target)))),
            (Rule::TitleOrAlias, self.by_title.get(&name)),
            (Rule::TitleOrAlias, self.by_alias.get(&name)),
        ] {
            named.extend(ids.into_iter().flat_map(Ids::iter).map(|id| (rule, id)));
        }
        (!named.is_empty()).then_some(WikiTarget::Named(named))
    }

    /// The cards a wiki-link in `from` could mean equally well (same
    /// language, rule and folder standing), when there is more than one:
    /// the link opens the first, but the author should say which.
    pub fn ambiguous(&self, from: &CardId, link: &Link) -> Vec<CardId> {
        if link.kind != LinkKind::Wiki {
            return Vec::new();
        }
        let Some(WikiTarget::Named(named)) = self.wiki_candidates(from, &link.target) else {
            return Vec::new();
        };
        let standing = |(rule, id): &(Rule, &CardId)| {
            (
                self.other_language(from, id),
                *rule,
                id.folder() != from.folder(),
            )
        };
        let Some(best) = named.iter().map(standing).min() else {
            return Vec::new();
        };
        let mut tied: Vec<CardId> = named
            .iter()
            .filter(|n| standing(n) == best)
            .map(|(_, id)| (*id).clone())
            .collect();
        tied.sort_by(|a, b| (a.as_str().len(), a).cmp(&(b.as_str().len(), b)));
        tied.dedup();
        if tied.len() > 1 { tied } else { Vec::new() }
    }

    /// Whether `id` is in another language than the card `from`.
    fn other_language(&self, from: &CardId, id: &CardId) -> bool {
        match (self.cards.get(from), self.cards.get(id)) {
            (Some(a), Some(b)) => a.lang != b.lang,
            _ => false,
        }
    }

    /// The card a name means: in the linking card's language, by the
    /// earlier rule, in the same folder, else the shortest id, else the
    /// first by id.
    fn nearest<'a>(&self, from: &CardId, named: &[(Rule, &'a CardId)]) -> Option<&'a CardId> {
        named
            .iter()
            .min_by_key(|(rule, id)| {
                (
                    self.other_language(from, id),
                    *rule,
                    id.folder() != from.folder(),
                    id.as_str().len(),
                    id.as_str(),
                )
            })
            .map(|(_, id)| *id)
    }

    /// `[label](../x/card.md)` and `![alt](chart.png)`: a path relative to the
    /// card's folder (or to the content root when it starts with `/`).
    fn resolve_path(&self, from: &CardId, target: &str) -> Resolved {
        let joined = match target.strip_prefix('/') {
            Some(abs) => normalize(abs),
            None => join(from.folder(), target),
        };
        let Some(path) = joined else {
            return Resolved::Broken;
        };
        if let Some(id) = path.strip_suffix(".md").and_then(|p| CardId::new(p).ok()) {
            if self.cards.contains_key(&id) {
                return Resolved::Card(id);
            }
            return match self.moved_to(id.as_str()) {
                Some(moved) => Resolved::Card(moved.clone()),
                None => Resolved::Broken,
            };
        }
        if self.attachments.contains(&path) {
            return Resolved::Attachment(path);
        }
        match CardId::new(path.trim_end_matches('/'))
            .ok()
            .filter(|id| self.cards.contains_key(id))
        {
            Some(id) => Resolved::Card(id),
            None => Resolved::Broken,
        }
    }

    fn resolve_attachment(&self, from: &CardId, target: &str, by_name: bool) -> Option<Resolved> {
        if let Some(path) = join(from.folder(), target).filter(|p| self.attachments.contains(p)) {
            return Some(Resolved::Attachment(path));
        }
        if self.attachments.contains(target) {
            return Some(Resolved::Attachment(target.to_string()));
        }
        if by_name {
            let paths = self.attachments_by_name.get(&key(file_name(target)))?;
            return paths.iter().next().map(|p| Resolved::Attachment(p.clone()));
        }
        None
    }

    /// Cards with a link that resolves to `id`, in id order.
    pub fn backlinks(&self, id: &CardId) -> Vec<Arc<Card>> {
        let Some(card) = self.cards.get(id) else {
            return Vec::new();
        };
        let mut keys = vec![link_key(id.as_str()), key(&card.title)];
        keys.extend(card.aliases.iter().map(|a| link_key(a)));
        let mut sources = BTreeSet::new();
        for k in keys {
            if let Some(ids) = self.linked_from.get(&k) {
                sources.extend(ids.iter().filter(|s| *s != id));
            }
        }
        sources
            .into_iter()
            .filter_map(|s| self.cards.get(s))
            .filter(|source| {
                source
                    .links
                    .iter()
                    .any(|l| self.resolve(&source.id, l) == Resolved::Card(id.clone()))
            })
            .cloned()
            .collect()
    }
}

/// The key under which a link target is filed for backlinks: its last
/// segment without `.md`, lowercased. Titles file under themselves.
fn link_key(target: &str) -> String {
    let name = file_name(target.trim());
    key(name.strip_suffix(".md").unwrap_or(name))
}

/// `folder` joined with a relative `target`, `.` and `..` applied; `None`
/// when it climbs out of the content folder.
fn join(folder: &str, target: &str) -> Option<String> {
    if folder.is_empty() {
        normalize(target)
    } else {
        normalize(&format!("{folder}/{target}"))
    }
}

fn normalize(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::card::{FileStamp, Limits, parse};

    fn card(path: &str, text: &str) -> Card {
        parse(
            path,
            text.as_bytes(),
            FileStamp::default(),
            Limits::default(),
        )
        .unwrap()
        .card
    }

    fn link(kind: LinkKind, target: &str) -> Link {
        Link {
            kind,
            target: target.into(),
            fragment: None,
            line: 1,
        }
    }

    fn catalog() -> Catalog {
        let mut c = Catalog::default();
        c.upsert(card(
            "playbooks/refunds/annual-plans.md",
            "---\ntitle: Refunds on annual plans\naliases: [playbooks/refund-annual]\n---\nx",
        ));
        c.upsert(card(
            "escalation/tiers/tier-2.md",
            "---\ntitle: Tier 2\n---\nSee [[annual-plans]] and [[Refunds on annual plans]].",
        ));
        c.upsert(card(
            "onboarding/annual-plans.md",
            "---\ntitle: Other annual plans\n---\n[r](../playbooks/refunds/annual-plans.md)",
        ));
        c.add_attachment("product/plans/chart.png");
        c
    }

    #[test]
    fn wiki_links_resolve_by_id_file_name_title_and_alias() {
        let c = catalog();
        let from = CardId::new("escalation/tiers/tier-2").unwrap();
        let want = Resolved::Card(CardId::new("playbooks/refunds/annual-plans").unwrap());
        for target in [
            "playbooks/refunds/annual-plans",
            "Refunds on annual plans",
            "playbooks/refund-annual",
            "refunds on ANNUAL plans",
        ] {
            assert_eq!(
                c.resolve(&from, &link(LinkKind::Wiki, target)),
                want,
                "{target}"
            );
        }
        assert_eq!(
            c.resolve(&from, &link(LinkKind::Wiki, "nothing-here")),
            Resolved::Broken
        );
    }

    #[test]
    fn a_file_name_shared_by_two_cards_resolves_to_the_nearest() {
        let c = catalog();
        let from = CardId::new("onboarding/first-week").unwrap();
        assert_eq!(
            c.resolve(&from, &link(LinkKind::Wiki, "annual-plans")),
            Resolved::Card(CardId::new("onboarding/annual-plans").unwrap())
        );
    }

    #[test]
    fn relative_markdown_links_and_embeds_resolve_and_never_climb_out() {
        let c = catalog();
        let from = CardId::new("onboarding/annual-plans").unwrap();
        assert_eq!(
            c.resolve(
                &from,
                &link(LinkKind::Markdown, "../playbooks/refunds/annual-plans.md")
            ),
            Resolved::Card(CardId::new("playbooks/refunds/annual-plans").unwrap())
        );
        assert_eq!(
            c.resolve(&from, &link(LinkKind::Embed, "chart.png")),
            Resolved::Attachment("product/plans/chart.png".into())
        );
        assert_eq!(
            c.resolve(&from, &link(LinkKind::Markdown, "../../../etc/passwd")),
            Resolved::Broken
        );
    }

    #[test]
    fn backlinks_are_the_cards_whose_links_resolve_here() {
        let c = catalog();
        let back: Vec<_> = c
            .backlinks(&CardId::new("playbooks/refunds/annual-plans").unwrap())
            .iter()
            .map(|c| c.id.to_string())
            .collect();
        assert_eq!(back, ["escalation/tiers/tier-2", "onboarding/annual-plans"]);
    }

    #[test]
    fn removing_a_card_forgets_its_names() {
        let mut c = catalog();
        c.remove(&CardId::new("playbooks/refunds/annual-plans").unwrap());
        let from = CardId::new("escalation/tiers/tier-2").unwrap();
        assert_eq!(
            c.resolve(&from, &link(LinkKind::Wiki, "Refunds on annual plans")),
            Resolved::Broken
        );
        assert!(c.moved_to("playbooks/refund-annual").is_none());
    }

    #[test]
    fn a_card_every_other_links_to_has_them_all_as_backlinks_in_order() {
        let mut c = Catalog::default();
        c.upsert(card("home.md", "# Home\n"));
        // Out of id order, and more than a few, so the links' key moves
        // from its small vector to a set on the way.
        let ids: Vec<String> = (0..40)
            .map(|i| format!("notes/n{:02}", (i * 7) % 40))
            .collect();
        for id in &ids {
            c.upsert(card(&format!("{id}.md"), "See [[home]].\n"));
        }
        let home = CardId::new("home").unwrap();
        let back: Vec<String> = c
            .backlinks(&home)
            .iter()
            .map(|c| c.id.to_string())
            .collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(back, sorted);
        c.remove(&CardId::new("notes/n07").unwrap());
        assert_eq!(c.backlinks(&home).len(), 39);
        c.upsert(card("notes/n07.md", "No link any more.\n"));
        assert!(
            c.backlinks(&home)
                .iter()
                .all(|b| b.id.as_str() != "notes/n07")
        );
    }
}
