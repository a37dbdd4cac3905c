//! `Card`: one markdown file read into what Quire knows about it. Parsing is
//! pure (bytes in, card or error out); it reads no other file and resolves
//! no link, so it can run anywhere, in any order, in parallel.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::card_id::CardId;
use super::front_matter::{self, Fields};
use super::lang;
use super::markdown::{self, Heading, Link};
use super::problem::Problem;
use super::trust::{Period, Verification};

/// Limits on what a file may be before it is read as a card.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_card_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_card_bytes: 2 * 1024 * 1024,
        }
    }
}

/// Where a card's title came from; anything but front matter is warned about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TitleSource {
    FrontMatter,
    Heading,
    FileName,
}

/// What `stat` says of a file, compared before hashing at start-up so that
/// an unchanged folder is not read again. As in git's index, the change
/// time and inode are part of it: a rewrite that keeps size and mtime (a
/// tool that restores mtimes, an atomic save by rename) still changes them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStamp {
    pub size: u64,
    pub mtime_ns: i128,
    #[serde(default)]
    pub ctime_ns: i128,
    #[serde(default)]
    pub inode: u64,
    /// Taken within [`RACY_WINDOW`] of the file's last change (or with a
    /// modification time in the future): another write in the same tick of the
    /// file system's clock would leave every other field equal (git's
    /// "racy clean"), so this stamp vouches for nothing.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub racy: bool,
}

/// How close to a file's last change a stamp must not be taken to be
/// trusted, on a file system whose times have a fraction of a second
/// (ext4, XFS, btrfs, tmpfs: one tick of the kernel's coarse clock, 1-10 ms)...
pub const RACY_WINDOW: std::time::Duration = std::time::Duration::from_millis(100);
/// ...and on one that keeps whole seconds (ext3, HFS+) or two (FAT).
pub const RACY_WINDOW_WHOLE_SECONDS: std::time::Duration = std::time::Duration::from_secs(2);

impl FileStamp {
    /// Whether a file that shows `now` can be taken to be unchanged since
    /// this stamp was stored, without reading it.
    pub fn vouches_for(&self, now: &FileStamp) -> bool {
        !self.racy && self == now
    }

    /// When the file was last modified, to the second.
    pub fn modified(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        let secs = i64::try_from(self.mtime_ns.div_euclid(1_000_000_000)).ok()?;
        chrono::DateTime::from_timestamp(secs, 0)
    }
}

/// Everything Quire knows about a card but its body. Kept in memory for every
/// card and stored beside it in the index.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Card {
    pub id: CardId,
    pub title: String,
    pub title_source: TitleSource,
    /// The file has front matter. A plain markdown page (an Obsidian note,
    /// a tldr page) is served as it is: its title comes from its heading or
    /// file name, and `quire check` does not ask it for fields it never used.
    #[serde(default)]
    pub front_matter: bool,
    pub summary: Option<String>,
    pub tags: Vec<String>,
    pub owner: Option<String>,
    pub verification: Verification,
    pub lang: String,
    pub lang_declared: bool,
    pub aliases: Vec<String>,
    pub weight: Option<i64>,
    pub draft: bool,
    pub updated: Option<NaiveDate>,
    pub audience: Option<String>,
    pub reply_snippet: Option<String>,
    pub first_paragraph: String,
    pub links: Vec<Link>,
    /// The translation family: cards with one key translate each other
    /// (see `family`). A card nobody translates is a family of one, its
    /// own id.
    pub family: String,
    /// `translation_of` as written, for `quire check` to verify.
    pub translation_of: Option<String>,
    /// Front matter fields Quire does not know: kept and exposed.
    pub extra: BTreeMap<String, Value>,
    /// Warnings and non-fatal errors found while reading the card.
    pub problems: Vec<Problem>,
    /// BLAKE3 of the file's bytes.
    pub hash: String,
    pub stamp: FileStamp,
}

impl Card {
    pub fn collection(&self) -> &str {
        self.id.collection()
    }

    /// `audience: public`: visible to tokens scoped to public cards.
    pub fn is_public(&self) -> bool {
        self.audience
            .as_deref()
            .is_some_and(|a| a.eq_ignore_ascii_case("public"))
    }

    /// The id of the card this one translates, as `translation_of` names it.
    pub fn translation_source(&self) -> Option<&str> {
        self.translation_of.as_deref().map(source_id)
    }

    /// Folders between the collection and the card (`["refunds"]`).
    pub fn sections(&self) -> Vec<&str> {
        let folder = self.id.folder();
        folder
            .split('/')
            .skip(1)
            .filter(|s| !s.is_empty())
            .collect()
    }
}

/// A card with the text it was read from, for the index.
#[derive(Clone, Debug)]
pub struct ParsedCard {
    pub card: Card,
    /// Indexed with the lead, then dropped: a card's page reads them again
    /// from its markdown, so the catalog does not hold every card's outline.
    pub headings: Vec<Heading>,
    /// The ids a link's `#fragment` may name here: headings' and blocks'.
    pub anchors: Vec<String>,
    /// `[[#Heading]]` links into the card itself, by fragment and line.
    pub local_links: Vec<(String, usize)>,
    /// The markdown body (front matter removed).
    pub markdown: String,
    /// Plain text of the body, as a reader sees it.
    pub text: String,
}

/// Why a file could not be read as a card at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CardError(pub Problem);

/// The hash a card's bytes are compared by (`Card::hash`).
pub fn content_hash(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

/// Reads the file at `rel_path` (relative to the content folder) as a card.
pub fn parse(
    rel_path: &str,
    bytes: &[u8],
    stamp: FileStamp,
    limits: Limits,
) -> Result<ParsedCard, CardError> {
    parse_hashed(rel_path, bytes, content_hash(bytes), stamp, limits)
}

/// `parse` for a caller that has hashed the bytes already (the reindexer
/// compares the hash before it parses), so no file is hashed twice.
pub fn parse_hashed(
    rel_path: &str,
    bytes: &[u8],
    hash: String,
    stamp: FileStamp,
    limits: Limits,
) -> Result<ParsedCard, CardError> {
    let id = CardId::from_rel_path(rel_path).ok_or_else(|| invalid_path(rel_path))?;
    let text = decode(rel_path, bytes, stamp.size, limits)?;
    let (split, fields) = read_front_matter(rel_path, text)?;
    let outline = markdown::outline(split.body, split.body_line);
    let mut reader = FieldReader {
        path: rel_path,
        source: split.front_matter.unwrap_or(""),
        first_line: split.front_matter_line,
        problems: Vec::new(),
        taken: Vec::new(),
    };
    let (title, title_source) = title(&mut reader, &fields, &outline, &id);
    let verification = Verification {
        verified_by: reader.string(&fields, "verified_by"),
        verified_at: reader.date(&fields, "verified_at"),
        verify_every: reader.period(&fields, "verify_every"),
    };
    outline_problems(&mut reader, &outline);
    let (lang, lang_declared) = language(&mut reader, &fields, &outline.text, &title);
    // Both read, so neither is left in `extra`; Hugo and Obsidian say
    // `description` for what Quire calls the summary.
    let translation_of = reader.string(&fields, "translation_of");
    let translation_key = reader.string(&fields, "translationKey");
    let family = family(&id, translation_of.as_deref(), translation_key.as_deref());
    let summary = reader.string(&fields, "summary");
    let anchors = outline.anchors();
    let description = reader.string(&fields, "description");
    let card = Card {
        title,
        title_source,
        front_matter: split.front_matter.is_some_and(|f| !f.trim().is_empty()),
        summary: summary.or(description),
        tags: tags(reader.list(&fields, "tags"), &outline.tags),
        owner: reader.string(&fields, "owner"),
        verification,
        lang,
        lang_declared,
        aliases: reader
            .list(&fields, "aliases")
            .into_iter()
            .map(|a| normalize_alias(&a))
            .filter(|a| !a.is_empty())
            .collect(),
        weight: reader.integer(&fields, "weight"),
        draft: reader.boolean(&fields, "draft"),
        updated: reader.date(&fields, "updated"),
        audience: reader.string(&fields, "audience"),
        reply_snippet: reader.string(&fields, "reply_snippet"),
        first_paragraph: outline.first_paragraph,
        links: outline.links,
        family,
        translation_of,
        extra: reader.rest(fields),
        problems: reader.problems,
        hash,
        stamp,
        id,
    };
    Ok(ParsedCard {
        card,
        anchors,
        local_links: outline.local_links,
        headings: outline.headings,
        markdown: split.body.to_string(),
        text: outline.text,
    })
}

/// A folder's `_index.md`: its title, description, order and text.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FolderPage {
    pub title: Option<String>,
    pub description: Option<String>,
    pub weight: Option<i64>,
    /// `reply_required: true`: the folder's cards answer customers, so
    /// each needs a `reply_snippet` (`quire check` warns); a deeper folder
    /// may say `false`.
    pub reply_required: Option<bool>,
    pub markdown: String,
}

pub fn parse_folder_page(
    rel_path: &str,
    bytes: &[u8],
    limits: Limits,
) -> Result<(FolderPage, Vec<Problem>), CardError> {
    let text = decode(rel_path, bytes, 0, limits)?;
    let (split, fields) = read_front_matter(rel_path, text)?;
    let mut reader = FieldReader {
        path: rel_path,
        source: split.front_matter.unwrap_or(""),
        first_line: split.front_matter_line,
        problems: Vec::new(),
        taken: Vec::new(),
    };
    let page = FolderPage {
        title: reader.string(&fields, "title"),
        description: reader
            .string(&fields, "description")
            .or_else(|| reader.string(&fields, "summary")),
        weight: reader.integer(&fields, "weight"),
        reply_required: fields
            .get("reply_required")
            .is_some()
            .then(|| reader.boolean(&fields, "reply_required")),
        markdown: split.body.to_string(),
    };
    if let Some(too_much) = markdown::outline(split.body, split.body_line).too_much_html {
        reader.problems.push(Problem::error(
            rel_path,
            too_much.line,
            1,
            too_much.message(),
        ));
    }
    Ok((page, reader.problems))
}

/// The text split at its front matter, and the front matter's fields; a
/// fence or a field that cannot be read is an error at its line.
fn read_front_matter<'t>(
    rel_path: &str,
    text: &'t str,
) -> Result<(front_matter::Split<'t>, Fields), CardError> {
    let at_line =
        |line, column, message| CardError(Problem::error(rel_path, line, column, message));
    let split = front_matter::split(text).map_err(|e| at_line(e.line, e.column, e.message))?;
    let fields = match split.front_matter {
        Some(source) => front_matter::parse(source, split.format, split.front_matter_line)
            .map_err(|e| at_line(e.line, e.column, e.message))?,
        None => Fields::new(),
    };
    Ok((split, fields))
}

fn invalid_path(rel_path: &str) -> CardError {
    CardError(Problem::error(
        rel_path,
        0,
        0,
        "not a markdown file with a valid path",
    ))
}

/// The front matter's title, else the first `# heading`, else the file
/// name; a file with front matter but no title is warned about (one with
/// none is a plain page, titled the way Obsidian titles it).
fn title(
    reader: &mut FieldReader,
    fields: &Fields,
    outline: &markdown::Outline,
    id: &CardId,
) -> (String, TitleSource) {
    if let Some(t) = reader.string(fields, "title") {
        return (t, TitleSource::FrontMatter);
    }
    let (title, source) = match &outline.first_h1 {
        Some(h) if !h.is_empty() => (h.clone(), TitleSource::Heading),
        _ => (id.file_stem().to_string(), TitleSource::FileName),
    };
    if reader.source.trim().is_empty() {
        return (title, source);
    }
    reader.problems.push(Problem::warning(
        reader.path,
        1,
        1,
        format!("card has no `title` in its front matter; using \u{201c}{title}\u{201d}"),
    ));
    (title, source)
}

/// What the body's outline found wrong: too much raw HTML, images without
/// alt text.
fn outline_problems(reader: &mut FieldReader, outline: &markdown::Outline) {
    if let Some(too_much) = &outline.too_much_html {
        reader.problems.push(Problem::error(
            reader.path,
            too_much.line,
            1,
            too_much.message(),
        ));
    }
    for &line in &outline.images_without_alt {
        reader.problems.push(Problem::warning(
            reader.path,
            line,
            1,
            "image without alt text: describe it for readers who cannot see it",
        ));
    }
}

/// The declared `lang` (warned about when the text clearly reads as
/// another), else the language folder's, else the detected one; and
/// whether it was declared.
fn language(reader: &mut FieldReader, fields: &Fields, text: &str, title: &str) -> (String, bool) {
    let Some(declared) = reader.string(fields, "lang") else {
        let lang = lang::from_path(reader.path)
            .or_else(|| lang::detect(&sample(title, text)))
            .unwrap_or_else(|| "en".to_string());
        return (lang, false);
    };
    let declared = lang::normalize(&declared);
    if !lang::is_known(&declared) {
        let line = reader.line_of("lang");
        reader.problems.push(Problem::warning(
            reader.path,
            line,
            1,
            format!(
                "`lang: {declared}` is not a language code; write an ISO 639-1 code such as `en` or `ru`"
            ),
        ));
        return (declared, true);
    }
    // Only a clear verdict on enough text is worth a warning.
    if text.chars().count() >= 200
        && let Some(detected) = lang::detect(&sample(title, text))
        && detected != declared
    {
        let line = reader.line_of("lang");
        reader.problems.push(Problem::warning(
            reader.path,
            line,
            1,
            format!("`lang: {declared}` but the text reads as `{detected}`"),
        ));
    }
    (declared, true)
}

/// The key of a card's translation family, from what authors already
/// write: `translation_of: <id of the source>`, Hugo's `translationKey`,
/// or Hugo's and Zola's file names (`refunds.ru.md` translates
/// `refunds.md`). Keys compare whatever the case.
fn family(id: &CardId, translation_of: Option<&str>, translation_key: Option<&str>) -> String {
    if let Some(source) = translation_of {
        return family_key(source_id(source));
    }
    if let Some(key) = translation_key {
        return format!("key:{}", family_key(key));
    }
    match lang::from_file_suffix(id.file_stem()) {
        Some((base, _)) if id.folder().is_empty() => family_key(base),
        Some((base, _)) => family_key(&format!("{}/{base}", id.folder())),
        None => family_key(&lang::without_language_folder(id.as_str())),
    }
}

/// The card id a `translation_of` names, as authors write it
/// (`/playbooks/refunds.md` is `playbooks/refunds`).
fn source_id(written: &str) -> &str {
    let id = written.trim().trim_start_matches('/');
    id.strip_suffix(".md").unwrap_or(id)
}

fn family_key(text: &str) -> String {
    crate::content::card_id::nfc(text.trim()).to_lowercase()
}

/// The start of a card as language detection reads it: the title, then
/// the body's first words (not a copy of the whole body).
fn sample(title: &str, text: &str) -> String {
    let end = text
        .char_indices()
        .nth(lang::SAMPLE_CHARS)
        .map_or(text.len(), |(i, _)| i);
    format!("{title}\n{}", &text[..end])
}

fn decode<'a>(
    rel_path: &str,
    bytes: &'a [u8],
    size: u64,
    limits: Limits,
) -> Result<&'a str, CardError> {
    if bytes.len() > limits.max_card_bytes {
        return Err(CardError(Problem::error(
            rel_path,
            0,
            0,
            format!(
                "file is {} bytes, more than the limit of {} (`max_card_bytes` in quire.toml); split it into several cards",
                // Readers stop one byte past the limit: the file's own size
                // when it is known.
                size.max(bytes.len() as u64),
                limits.max_card_bytes
            ),
        )));
    }
    std::str::from_utf8(bytes).map_err(|e| {
        let valid = &bytes[..e.valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = valid.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
        CardError(Problem::error(
            rel_path,
            line,
            column,
            "file is not valid UTF-8; save it as UTF-8 (a byte here is not part of any character)",
        ))
    })
}

/// The front matter's tags (as Obsidian writes them: a list, or a string
/// of words or comma-separated words, `#` or not), then the body's
/// `#tags`, lowercased, each once.
fn tags(front: Vec<String>, body: &[String]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let words = front.iter().flat_map(|t| t.split_whitespace());
    words
        .map(|t| t.trim_start_matches('#').to_lowercase())
        .chain(body.iter().cloned())
        .filter(|tag| !tag.is_empty() && seen.insert(tag.clone()))
        .collect()
}

fn normalize_alias(alias: &str) -> String {
    let a = alias.trim().trim_start_matches('/');
    a.strip_suffix(".md").unwrap_or(a).to_string()
}

/// Reads typed fields out of front matter, noting each bad value as a problem
/// at the line of its key rather than rejecting the card.
struct FieldReader<'a> {
    path: &'a str,
    source: &'a str,
    first_line: usize,
    problems: Vec<Problem>,
    /// The keys read so far: every other key is the card's `extra`.
    taken: Vec<&'static str>,
}

impl FieldReader<'_> {
    /// The fields no accessor took, kept and exposed as they are.
    fn rest(&self, fields: Fields) -> BTreeMap<String, Value> {
        fields
            .into_iter()
            .filter(|(k, _)| !self.taken.contains(&k.as_str()))
            .collect()
    }

    fn line_of(&self, key: &str) -> usize {
        self.source
            .lines()
            .position(|l| {
                l.strip_prefix(key).is_some_and(|rest| {
                    rest.trim_start().starts_with(':') || rest.trim_start().starts_with('=')
                })
            })
            .map_or(self.first_line, |i| self.first_line + i)
    }

    fn bad(&mut self, key: &str, message: String) {
        let line = self.line_of(key);
        self.problems
            .push(Problem::error(self.path, line, 1, message));
    }

    fn string(&mut self, fields: &Fields, key: &'static str) -> Option<String> {
        self.taken.push(key);
        match fields.get(key)? {
            Value::Null => None,
            Value::String(s) if s.trim().is_empty() => None,
            Value::String(s) => Some(s.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => {
                self.bad(key, format!("`{key}` must be text"));
                None
            }
        }
    }

    fn list(&mut self, fields: &Fields, key: &'static str) -> Vec<String> {
        self.taken.push(key);
        match fields.get(key) {
            None | Some(Value::Null) => Vec::new(),
            // `tags: a, b` is a common slip for `tags: [a, b]`; read it as meant.
            Some(Value::String(s)) => s
                .split(',')
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
                .collect(),
            Some(Value::Array(items)) => {
                let mut out = Vec::new();
                for item in items {
                    match item {
                        Value::String(s) if !s.trim().is_empty() => out.push(s.trim().to_string()),
                        Value::Number(n) => out.push(n.to_string()),
                        _ => {}
                    }
                }
                out
            }
            Some(_) => {
                self.bad(
                    key,
                    format!("`{key}` must be a list, such as `{key}: [a, b]`"),
                );
                Vec::new()
            }
        }
    }

    fn date(&mut self, fields: &Fields, key: &'static str) -> Option<NaiveDate> {
        let raw = self.string(fields, key)?;
        let day = raw.get(..10).unwrap_or(&raw);
        match day.parse::<NaiveDate>() {
            Ok(d) => Some(d),
            Err(_) => {
                self.bad(
                    key,
                    format!(
                        "`{key}: {raw}` is not a date; write it as YYYY-MM-DD, such as 2026-10-01"
                    ),
                );
                None
            }
        }
    }

    fn period(&mut self, fields: &Fields, key: &'static str) -> Option<Period> {
        let raw = self.string(fields, key)?;
        match Period::parse(&raw) {
            Ok(p) => Some(p),
            Err(e) => {
                self.bad(key, format!("`{key}`: {e}"));
                None
            }
        }
    }

    fn integer(&mut self, fields: &Fields, key: &'static str) -> Option<i64> {
        self.taken.push(key);
        match fields.get(key)? {
            Value::Null => None,
            Value::Number(n) if n.is_i64() => n.as_i64(),
            Value::String(s) if s.trim().parse::<i64>().is_ok() => s.trim().parse().ok(),
            _ => {
                self.bad(key, format!("`{key}` must be a whole number"));
                None
            }
        }
    }

    fn boolean(&mut self, fields: &Fields, key: &'static str) -> bool {
        self.taken.push(key);
        match fields.get(key) {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) if matches!(s.trim(), "true" | "yes") => true,
            Some(Value::String(s)) if matches!(s.trim(), "false" | "no") => false,
            Some(_) => {
                self.bad(key, format!("`{key}` must be true or false"));
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::problem::Severity;

    fn read(path: &str, text: &str) -> Result<ParsedCard, CardError> {
        parse(
            path,
            text.as_bytes(),
            FileStamp::default(),
            Limits::default(),
        )
    }

    #[test]
    fn a_card_reads_its_front_matter_and_body() {
        let c = read(
            "playbooks/refunds/annual-plans.md",
            "---\ntitle: Refunds on annual plans\ntags: [Billing, refunds]\nowner: a@x\nverified_at: 2026-10-01\nverify_every: 90d\njira: SUP-1\n---\nAnnual plans are refunded within thirty days of renewal.\n",
        )
        .unwrap();
        let card = &c.card;
        assert_eq!(card.title, "Refunds on annual plans");
        assert_eq!(card.tags, ["billing", "refunds"]);
        assert_eq!(card.collection(), "playbooks");
        assert_eq!(card.sections(), ["refunds"]);
        assert_eq!(card.verification.verify_every, Some(Period::Days(90)));
        assert_eq!(card.lang, "en");
        assert_eq!(card.extra["jira"], "SUP-1");
        assert!(card.problems.is_empty(), "{:?}", card.problems);
        assert!(c.text.starts_with("Annual plans"));
    }

    #[test]
    fn extra_holds_exactly_the_fields_quire_does_not_read() {
        let c = read(
            "a/b.md",
            "---\ntitle: T\nsummary: S\ndescription: D\nweight: 2\njira: SUP-1\ncssclasses: [wide]\n---\ntext\n",
        )
        .unwrap()
        .card;
        let keys: Vec<&str> = c.extra.keys().map(String::as_str).collect();
        assert_eq!(keys, ["cssclasses", "jira"]);
        assert_eq!(c.summary.as_deref(), Some("S"));
    }

    #[test]
    fn a_card_without_title_takes_its_first_heading_then_its_file_name() {
        let c = read("a/b.md", "# Hello there\ntext").unwrap().card;
        assert_eq!(
            (c.title.as_str(), c.title_source),
            ("Hello there", TitleSource::Heading)
        );
        // A plain page is titled as Obsidian titles it, without a warning;
        // front matter without a title is warned about.
        assert!(c.problems.is_empty() && !c.front_matter, "{:?}", c.problems);
        let c = read("a/b.md", "---\ntags: [x]\n---\n# Hello there\ntext")
            .unwrap()
            .card;
        assert_eq!(c.title, "Hello there");
        assert_eq!(c.problems[0].severity, Severity::Warning);
        let c = read("a/file-name.md", "just text").unwrap().card;
        assert_eq!(
            (c.title.as_str(), c.title_source),
            ("file-name", TitleSource::FileName)
        );
    }

    #[test]
    fn broken_yaml_is_an_error_with_file_line_and_column() {
        let e = read(
            "x/broken.md",
            "---\ntitle: ok\nsummary: [unclosed\n---\nbody",
        )
        .unwrap_err()
        .0;
        assert_eq!(e.path, "x/broken.md");
        assert!(e.line >= 3, "{e}");
        assert!(e.to_string().starts_with("x/broken.md:"), "{e}");
    }

    #[test]
    fn bad_field_values_are_problems_at_their_line_not_rejections() {
        let c = read(
            "a/b.md",
            "---\ntitle: T\nverified_at: yesterday\nverify_every: 3 fortnights\n---\n",
        )
        .unwrap()
        .card;
        let lines: Vec<_> = c.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [3, 4]);
        assert!(c.problems[0].message.contains("YYYY-MM-DD"));
    }

    #[test]
    fn files_that_are_not_utf8_or_too_large_are_refused() {
        let e = parse(
            "a/b.md",
            b"---\ntitle: \xff\n",
            FileStamp::default(),
            Limits::default(),
        )
        .unwrap_err()
        .0;
        assert_eq!((e.line, e.column), (2, 8));
        let e = parse(
            "a/b.md",
            &[b'a'; 100],
            FileStamp::default(),
            Limits { max_card_bytes: 10 },
        )
        .unwrap_err()
        .0;
        assert!(e.message.contains("limit"));
    }

    #[test]
    fn translations_name_their_family_as_authors_write_it() {
        let family = |path: &str, text: &str| read(path, text).unwrap().card.family;
        assert_eq!(family("refunds/annual.md", "# Refunds"), "refunds/annual");
        assert_eq!(
            family(
                "refunds/vozvrat.md",
                "---\ntitle: Возврат\ntranslation_of: refunds/Annual.md\n---\nТекст"
            ),
            "refunds/annual"
        );
        assert_eq!(
            family("refunds/annual.ru.md", "# Возврат"),
            "refunds/annual"
        );
        assert_eq!(
            family("a/x.md", "---\ntitle: X\ntranslationKey: refunds\n---\n"),
            "key:refunds"
        );
        let hugo = read("refunds/annual.ru.md", "# Возврат средств")
            .unwrap()
            .card;
        assert_eq!(hugo.lang, "ru");
    }

    #[test]
    fn language_is_detected_when_not_declared() {
        let c = read("a/b.md", "---\ntitle: Возврат средств\n---\nКлиент может запросить возврат средств в течение тридцати дней.").unwrap().card;
        assert_eq!((c.lang.as_str(), c.lang_declared), ("ru", false));
    }
}
