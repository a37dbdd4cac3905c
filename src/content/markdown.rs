//! The one place where pulldown-cmark is configured and its events read:
//! the outline of a card (headings, links, plain text) at index time, and
//! its sanitized HTML at serve time. Link *resolution* is not done here: the
//! caller passes a resolver, so this file knows nothing about other cards.
//! No recursion over user-controlled depth: every walk is a flat loop, and
//! raw HTML past a budget is shown as text rather than parsed.

use std::collections::HashMap;
use std::sync::OnceLock;

use pulldown_cmark::{CowStr, Event, HeadingLevel, LinkType, Options, Parser, Tag, TagEnd};
use serde::{Deserialize, Serialize};

mod obsidian;

pub use obsidian::{block_anchor, image_size, inline_tags, section};

/// CommonMark with the GitHub extensions cards are written in, plus
/// Obsidian-style `[[wiki-links]]`.
pub fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES
        | Options::ENABLE_WIKILINKS
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heading {
    pub level: u8,
    pub text: String,
    /// The `id` of the heading in the rendered HTML.
    pub anchor: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    /// `[[target]]`, `[[target|label]]`, `[[target#Heading]]`
    Wiki,
    /// `![[image.png]]`
    Embed,
    /// `[label](../other/card.md)`
    Markdown,
    /// `![alt](picture.png)`
    Image,
}

/// A link to something inside the content folder, as written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub kind: LinkKind,
    /// The target without its `#fragment`: a wiki name or a relative path.
    pub target: String,
    pub fragment: Option<String>,
    /// 1-based line in the card's file.
    pub line: usize,
}

/// What a card's markdown says, read once at index time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outline {
    pub headings: Vec<Heading>,
    pub links: Vec<Link>,
    /// The text a reader sees, without markup: indexed, and the `text` format.
    pub text: String,
    pub first_paragraph: String,
    /// The text of the first `# heading`, for cards without a `title`.
    pub first_h1: Option<String>,
    /// Images without alt text, by line (authoring tools warn about them).
    pub images_without_alt: Vec<usize>,
    /// Where the raw HTML passes its budget, if it does: it renders as text.
    pub too_much_html: Option<TooMuchHtml>,
    /// `#tags` written in the text (not in code or links), lowercased.
    pub tags: Vec<String>,
    /// The ids of `^block-id` markers, without the caret.
    pub block_ids: Vec<String>,
    /// `[[#Heading]]` and `[[#^block-id]]`: links into the card itself, by
    /// fragment and line.
    pub local_links: Vec<(String, usize)>,
}

impl Outline {
    /// Every id a link's `#fragment` can name in this card: its headings'
    /// anchors and its blocks' (see [`fragment_anchor`]).
    pub fn anchors(&self) -> Vec<String> {
        let mut anchors: Vec<String> = self.headings.iter().map(|h| h.anchor.clone()).collect();
        anchors.extend(self.block_ids.iter().map(|id| block_anchor(id)));
        anchors
    }
}

/// The element id a link's `#fragment` names: a block's (`^id`) as it is,
/// else the slug of the last heading named (`#Setup#Linux` is `linux`),
/// the rule heading ids are made by.
pub fn fragment_anchor(fragment: &str) -> String {
    let fragment = fragment.trim();
    if fragment.starts_with('^') {
        return fragment.to_string();
    }
    let last = fragment
        .rsplit('#')
        .find(|s| !s.trim().is_empty())
        .unwrap_or("");
    let anchor = slug(last);
    if anchor.is_empty() {
        "section".to_string()
    } else {
        anchor
    }
}

/// How much raw HTML a card may hold before it is shown as text instead of
/// parsed. The sanitizer's HTML parser (html5ever, through ammonia) slows
/// down with depth: 100,000 nested `<div>`s took 81 s per view and 20,000
/// `<p><b><i><u><s>x</p>` 50 s. Within these, a card renders in
/// milliseconds, and no hand-written card comes near them.
pub const MAX_RAW_HTML_TAGS: usize = 10_000;
/// Unclosed tags open at once (see [`MAX_RAW_HTML_TAGS`]).
pub const MAX_RAW_HTML_DEPTH: usize = 256;

/// A card's raw HTML past its budget: the line where it passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooMuchHtml {
    pub line: usize,
    pub excess: HtmlExcess,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HtmlExcess {
    Tags,
    Depth,
}

impl TooMuchHtml {
    pub fn message(&self) -> String {
        let what = match self.excess {
            HtmlExcess::Tags => format!("too many raw HTML tags (more than {MAX_RAW_HTML_TAGS})"),
            HtmlExcess::Depth => format!(
                "raw HTML too deeply nested (more than {MAX_RAW_HTML_DEPTH} tags open at once)"
            ),
        };
        format!("{what}: the card's HTML is shown as text; close its tags or write it as markdown")
    }
}

/// Where a link goes, as decided by the caller's resolver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A URL to put in `href`/`src`, and for wiki-links without a label the
    /// text to show (the card's title).
    Url { href: String, title: Option<String> },
    /// `![[note]]`: the card embedded, by id, with its markdown body when
    /// the caller has it (else the embed is a link to it).
    Note {
        id: String,
        href: String,
        title: String,
        markdown: Option<String>,
    },
    /// Nothing by that name: rendered visibly as broken, never as a dead link.
    Broken,
}

/// Reads headings, internal links and plain text. `first_line` is the file
/// line the body starts on, so link lines point into the file.
pub fn outline(body: &str, first_line: usize) -> Outline {
    // Comments keep their line breaks, so lines still point into the file.
    let body = obsidian::strip_comments(body);
    let lines = LineIndex::new(&body);
    let events = Parser::new_ext(&body, options())
        .into_offset_iter()
        .map(|(event, range)| (event, first_line + lines.line_of(range.start)));
    let mut outliner = Outliner::default();
    for (event, line) in obsidian::callout_titles(events) {
        outliner.read(event, line);
    }
    let mut out = outliner.out;
    out.text = collapse_blank_lines(&out.text);
    out
}

/// Reads a card's markdown events into its `Outline`.
#[derive(Default)]
struct Outliner {
    out: Outline,
    anchors: Anchors,
    /// The heading being read: level, text so far, the author's id.
    heading: Option<(u8, String, Option<String>)>,
    /// The first paragraph, while it is read.
    paragraph: Option<String>,
    /// The image being read: its line and alt text so far.
    image: Option<(usize, String)>,
    budget: HtmlBudget,
    /// Inside a code block, or a link: text there holds no `#tags`.
    in_code: bool,
    links_open: usize,
    /// A `^block-id` ending the last text, kept if its block ends there.
    marker: Option<String>,
}

impl Outliner {
    fn read(&mut self, event: Event, line: usize) {
        if let Some(id) = self.marker.take()
            && matches!(
                event,
                Event::End(TagEnd::Paragraph | TagEnd::Item | TagEnd::TableCell)
            )
        {
            self.out.block_ids.push(id);
        }
        match event {
            // Code stays searchable; the markers let a snippet leave it out.
            Event::Start(Tag::CodeBlock(_)) => {
                self.in_code = true;
                self.out.text.push(CODE_START);
            }
            Event::End(TagEnd::CodeBlock) => {
                self.in_code = false;
                self.out.text.push(CODE_END);
                self.out.text.push('\n');
            }
            Event::End(TagEnd::Link) => self.links_open = self.links_open.saturating_sub(1),
            Event::Html(html) | Event::InlineHtml(html) if self.out.too_much_html.is_none() => {
                if let Err(excess) = self.budget.add(&html) {
                    self.out.too_much_html = Some(TooMuchHtml { line, excess });
                }
            }
            Event::Start(Tag::Heading { level, id, .. }) => {
                let id = id.map(|i| i.to_string());
                self.heading = Some((level_number(level), String::new(), id));
            }
            Event::End(TagEnd::Heading(_)) => self.end_heading(),
            Event::Start(Tag::Paragraph) if self.out.first_paragraph.is_empty() => {
                self.paragraph = Some(String::new());
            }
            Event::End(TagEnd::Paragraph) => {
                if let Some(p) = self.paragraph.take() {
                    self.out.first_paragraph = p.trim().to_string();
                }
                self.out.text.push('\n');
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                ..
            }) => {
                self.links_open += 1;
                match local_fragment(link_type, &dest_url) {
                    Some(fragment) => self.out.local_links.push((fragment.to_string(), line)),
                    None => self
                        .out
                        .links
                        .extend(internal_link(link_type, &dest_url, false, line)),
                }
            }
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                ..
            }) => {
                self.out
                    .links
                    .extend(internal_link(link_type, &dest_url, true, line));
                self.image = Some((line, String::new()));
            }
            Event::End(TagEnd::Image) => {
                if let Some((line, alt)) = self.image.take()
                    && alt.trim().is_empty()
                {
                    self.out.images_without_alt.push(line);
                }
            }
            Event::Text(t) => {
                if !self.in_code && self.links_open == 0 && self.image.is_none() {
                    inline_tags(&t, &mut self.out.tags);
                    self.marker = obsidian::block_marker(&t).map(|(_, id)| id.to_string());
                }
                self.text(&t);
            }
            Event::Code(t) => self.text(&t),
            Event::SoftBreak | Event::HardBreak => {
                if let Some(p) = self.paragraph.as_mut() {
                    p.push(' ');
                }
                self.out.text.push('\n');
            }
            Event::End(TagEnd::Item | TagEnd::TableCell | TagEnd::BlockQuote(_)) => {
                self.out.text.push('\n')
            }
            _ => {}
        }
    }

    fn end_heading(&mut self) {
        if let Some((level, text, id)) = self.heading.take() {
            let text = text.trim().to_string();
            if level == 1 && self.out.first_h1.is_none() {
                self.out.first_h1 = Some(text.clone());
            }
            let anchor = self.anchors.next(id.as_deref().unwrap_or(&text));
            self.out.headings.push(Heading {
                level,
                text,
                anchor,
            });
        }
        self.out.text.push('\n');
    }

    /// Text goes to the plain text, and to whatever is being read.
    fn text(&mut self, t: &str) {
        for sink in [
            self.heading.as_mut().map(|h| &mut h.1),
            self.paragraph.as_mut(),
            self.image.as_mut().map(|i| &mut i.1),
        ]
        .into_iter()
        .flatten()
        {
            sink.push_str(t);
        }
        self.out.text.push_str(t);
    }
}

/// Around a code block in an outline's `text`: private-use characters,
/// which no analyzer keeps as a word, so that snippets can leave code out
/// (`search::snippet`) while its words stay searchable.
pub const CODE_START: char = '\u{E000}';
pub const CODE_END: char = '\u{E001}';

/// An outline's `text` with the code markers taken out (the code kept):
/// the card's plain text as readers and agents get it.
pub fn without_code_markers(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains([CODE_START, CODE_END]) {
        std::borrow::Cow::Owned(text.replace([CODE_START, CODE_END], ""))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// Renders the body to sanitized HTML. Headings get the anchors `outline`
/// gave them; every internal link goes through `resolve`. Notes are not
/// embedded (see [`render_in`]).
pub fn render(body: &str, resolve: &dyn Fn(&Link) -> Target) -> String {
    render_in(body, "", &|_, link| resolve(link))
}

/// Where a link written in the card of id `from` goes: the card rendered,
/// or a note it embeds.
pub type Resolve<'r> = dyn Fn(&str, &Link) -> Target + 'r;

/// How far `![[note]]` embeds go on one page. Obsidian stops only at a
/// cycle; a served page also needs a bound on its size and on the work
/// one view costs, whatever the notes hold.
pub const MAX_EMBED_DEPTH: usize = 3;
/// Notes embedded on one page, at every depth.
pub const MAX_EMBEDS: usize = 32;
/// Markdown embedded on one page, at every depth: about a hundred
/// ordinary cards' worth.
pub const MAX_EMBED_BYTES: usize = 256 * 1024;

/// Renders the body of card `id` to sanitized HTML, embedding the notes
/// its `![[note]]` name, within the bounds above and never in a cycle.
pub fn render_in(body: &str, id: &str, resolve: &Resolve) -> String {
    let mut embeds = Embeds {
        stack: vec![id.to_string()],
        count: 0,
        bytes: 0,
    };
    let html = render_raw(body, id, resolve, &mut embeds);
    sanitizer().clean(&html).to_string()
}

/// What the embeds of one page have used so far, and the notes being
/// rendered, outermost first (an embed of one of them is a cycle).
struct Embeds {
    stack: Vec<String>,
    count: usize,
    bytes: usize,
}

/// One card's (or embedded note's) HTML, not yet sanitized.
fn render_raw(body: &str, from: &str, resolve: &Resolve, embeds: &mut Embeds) -> String {
    let body = obsidian::strip_comments(body);
    let mut renderer = Renderer {
        resolve,
        from,
        embeds,
        anchors: Anchors::default(),
        events: Vec::new(),
        heading: None,
        replace_text: None,
        broken_open: false,
        swallow: None,
        raw_html: Vec::new(),
        budget: HtmlBudget::default(),
        over_budget: false,
    };
    for event in Parser::new_ext(&body, options()) {
        renderer.push(event);
    }
    let mut html = String::with_capacity(body.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, renderer.finish().into_iter());
    html
}

/// The text inside a wiki image (`![[x.png|300]]`), read and then dropped:
/// it becomes the image's size or alt text, or nothing for a note.
struct Swallow {
    /// Images open inside it (alt text may hold images).
    depth: usize,
    label: String,
    /// The image to write at its end, by `src`; `None` for a note.
    image: Option<String>,
}

/// A note `![[note]]` names, as the resolver found it.
struct Note {
    id: String,
    href: String,
    title: String,
    markdown: Option<String>,
}

/// Rewrites a card's markdown events on their way to HTML: heading ids,
/// links resolved (or marked broken), notes embedded, raw HTML within its
/// budget, then Obsidian's callouts, highlights and block ids.
struct Renderer<'a, 'r, 'e> {
    resolve: &'r Resolve<'r>,
    /// The id of the card whose markdown this is.
    from: &'r str,
    embeds: &'e mut Embeds,
    swallow: Option<Swallow>,
    anchors: Anchors,
    events: Vec<Event<'a>>,
    /// The heading being read: its start's index in `events`, its text so
    /// far, and whether the author gave it an id.
    heading: Option<(usize, String, bool)>,
    /// While inside a wiki-link without a label, its text is replaced by
    /// the title.
    replace_text: Option<String>,
    broken_open: bool,
    /// The author's raw HTML, by index in `events`: shown as text when past
    /// the budget (the spans added here are not the author's).
    raw_html: Vec<usize>,
    budget: HtmlBudget,
    over_budget: bool,
}

/// A link's or an image's parts, as the parser gives them.
struct Destination<'a> {
    link_type: LinkType,
    dest_url: CowStr<'a>,
    title: CowStr<'a>,
    id: CowStr<'a>,
}

impl<'a> Destination<'a> {
    /// The link, to `href` when it was resolved, else where it pointed.
    fn link(self, href: Option<String>) -> Tag<'a> {
        Tag::Link {
            link_type: self.link_type,
            dest_url: href.map_or(self.dest_url, CowStr::from),
            title: self.title,
            id: self.id,
        }
    }

    fn image(self, href: String) -> Tag<'a> {
        Tag::Image {
            link_type: self.link_type,
            dest_url: CowStr::from(href),
            title: self.title,
            id: self.id,
        }
    }
}

impl<'a> Renderer<'a, '_, '_> {
    fn resolve(&self, link: &Link) -> Target {
        (self.resolve)(self.from, link)
    }

    fn push(&mut self, event: Event<'a>) {
        if let Some(swallow) = self.swallow.as_mut() {
            match event {
                Event::Start(Tag::Image { .. }) => swallow.depth += 1,
                Event::End(TagEnd::Image) if swallow.depth > 1 => swallow.depth -= 1,
                Event::End(TagEnd::Image) => self.end_swallow(),
                Event::Text(t) | Event::Code(t) => swallow.label.push_str(&t),
                _ => {}
            }
            return;
        }
        match event {
            Event::Html(ref html) | Event::InlineHtml(ref html) => {
                self.over_budget = self.over_budget || self.budget.add(html).is_err();
                self.raw_html.push(self.events.len());
                self.events.push(event);
            }
            Event::Start(heading @ Tag::Heading { .. }) => {
                let explicit = matches!(&heading, Tag::Heading { id: Some(_), .. });
                self.heading = Some((self.events.len(), String::new(), explicit));
                self.events.push(Event::Start(heading));
            }
            Event::End(TagEnd::Heading(level)) => self.end_heading(level),
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => self.start_link(Destination {
                link_type,
                dest_url,
                title,
                id,
            }),
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            }) => self.start_image(Destination {
                link_type,
                dest_url,
                title,
                id,
            }),
            Event::End(end @ (TagEnd::Link | TagEnd::Image)) => self.end_link(end),
            Event::Text(t) => {
                if let Some((_, text, _)) = self.heading.as_mut() {
                    text.push_str(&t);
                }
                if self.replace_text.is_none() {
                    self.events.push(Event::Text(t));
                }
            }
            Event::Code(t) => {
                if let Some((_, text, _)) = self.heading.as_mut() {
                    text.push_str(&t);
                }
                self.events.push(Event::Code(t));
            }
            // A task's box says what it is (a bare checkbox has no label).
            Event::TaskListMarker(done) => {
                self.events.push(Event::InlineHtml(CowStr::from(if done {
                    r#"<input type="checkbox" disabled checked aria-label="Done"> "#
                } else {
                    r#"<input type="checkbox" disabled aria-label="Not done"> "#
                })));
            }
            other => self.events.push(other),
        }
    }

    /// The heading's id: the author's, else one made from its text.
    fn end_heading(&mut self, level: HeadingLevel) {
        if let Some((start, text, explicit)) = self.heading.take()
            && let Event::Start(Tag::Heading { id, .. }) = &mut self.events[start]
        {
            let anchor = self.anchors.next(if explicit {
                id.as_deref().unwrap_or("")
            } else {
                text.trim()
            });
            *id = Some(CowStr::from(anchor));
        }
        self.events.push(Event::End(TagEnd::Heading(level)));
    }

    fn start_link(&mut self, to: Destination<'a>) {
        if let Some(fragment) = local_fragment(to.link_type, &to.dest_url) {
            // `[[#Heading]]`: the heading's id, by the rule ids are made by.
            let href = format!("#{}", fragment_anchor(fragment));
            if matches!(to.link_type, LinkType::WikiLink { has_pothole: false }) {
                self.replace_text = Some(fragment.to_string());
            }
            self.events.push(Event::Start(to.link(Some(href))));
            return;
        }
        let Some(link) = internal_link(to.link_type, &to.dest_url, false, 0) else {
            if is_safe_external(&to.dest_url)
                || to.dest_url.starts_with('#')
                || to.link_type == LinkType::Email
            {
                self.events.push(Event::Start(to.link(None)));
            } else {
                self.open_broken("this link is not allowed");
            }
            return;
        };
        let (href, card_title) = match self.resolve(&link) {
            Target::Url { href, title } => (href, title),
            Target::Note { href, title, .. } => (href, Some(title)),
            Target::Broken => {
                self.open_broken(&format!(
                    "no card or file named \u{201c}{}\u{201d}",
                    link.target
                ));
                return;
            }
        };
        if matches!(to.link_type, LinkType::WikiLink { has_pothole: false }) {
            self.replace_text = Some(card_title.unwrap_or_else(|| link.target.clone()));
        }
        self.events.push(Event::Start(to.link(Some(href))));
    }

    fn start_image(&mut self, to: Destination<'a>) {
        let link = internal_link(to.link_type, &to.dest_url, true, 0);
        let wiki = matches!(to.link_type, LinkType::WikiLink { .. });
        let href = match &link {
            None if is_safe_external(&to.dest_url) => Some(to.dest_url.to_string()),
            None => None,
            Some(link) => match self.resolve(link) {
                Target::Url { href, .. } => Some(href),
                Target::Note {
                    id,
                    href,
                    title,
                    markdown,
                } => {
                    let note = Note {
                        id,
                        href,
                        title,
                        markdown,
                    };
                    self.embed(note, link);
                    self.swallow = Some(Swallow {
                        depth: 1,
                        label: String::new(),
                        image: None,
                    });
                    return;
                }
                Target::Broken => None,
            },
        };
        match href {
            // `![[x.png|300]]`: what follows the pipe may be a size.
            Some(href) if wiki => {
                self.swallow = Some(Swallow {
                    depth: 1,
                    label: String::new(),
                    image: Some(href),
                });
            }
            Some(href) => self.events.push(Event::Start(to.image(href))),
            None => {
                let name = link.map_or_else(|| to.dest_url.to_string(), |l| l.target);
                self.open_broken(&format!("missing image \u{201c}{name}\u{201d}"));
                if wiki {
                    self.replace_text = Some(name);
                }
            }
        }
    }

    /// The end of a wiki image: the image with its size or alt text.
    fn end_swallow(&mut self) {
        let Some(Swallow {
            label,
            image: Some(src),
            ..
        }) = self.swallow.take()
        else {
            return;
        };
        let name = percent_decode(src.rsplit('/').next().unwrap_or(&src));
        if !is_image(&name) {
            // `![[guide.pdf]]`: Obsidian's viewer for other files is not a
            // page's to run; the file is a link.
            let text = if label.trim().is_empty() {
                &name
            } else {
                &label
            };
            self.events.push(Event::InlineHtml(CowStr::from(format!(
                "<a class=\"embed-link\" href=\"{}\">{}</a>",
                escape_attr(&src),
                escape_attr(text)
            ))));
            return;
        }
        let (alt, size) = match image_size(&label) {
            Some((w, h)) => (
                percent_decode(&name),
                format!(
                    " width=\"{w}\"{}",
                    h.map(|h| format!(" height=\"{h}\"")).unwrap_or_default()
                ),
            ),
            None => (label, String::new()),
        };
        self.events.push(Event::InlineHtml(CowStr::from(format!(
            "<img src=\"{}\" alt=\"{}\"{size}>",
            escape_attr(&src),
            escape_attr(&alt)
        ))));
    }

    /// `![[note]]` or `![[note#Heading]]`: the note's HTML in a box that
    /// links to it, or a link alone when the page's bounds are reached, the
    /// note is already being embedded (a cycle), or its markdown is not at
    /// hand. A missing heading or block is shown as broken.
    fn embed(&mut self, note: Note, link: &Link) {
        let why_not = if self.embeds.stack.contains(&note.id) {
            Some("it embeds this note again")
        } else if self.embeds.stack.len() > MAX_EMBED_DEPTH {
            Some("embeds nest too deep")
        } else if self.embeds.count >= MAX_EMBEDS {
            Some("too many embeds on this page")
        } else {
            None
        };
        let markdown = match (why_not, &note.markdown) {
            (None, Some(markdown)) => markdown.as_str(),
            _ => {
                let title = why_not
                    .map(|why| format!(" title=\"not embedded: {why}\""))
                    .unwrap_or_default();
                self.events.push(Event::InlineHtml(CowStr::from(format!(
                    "<a class=\"embed-link\" href=\"{}\"{title}>{}</a>",
                    escape_attr(&note.href),
                    escape_attr(&note.title)
                ))));
                return;
            }
        };
        let part = match link.fragment.as_deref() {
            Some(fragment) => section(markdown, fragment),
            None => Some(markdown),
        };
        let Some(part) = part.filter(|p| self.embeds.bytes + p.len() <= MAX_EMBED_BYTES) else {
            let why = match part {
                Some(_) => "too much embedded on this page".to_string(),
                None => format!(
                    "no \u{201c}{}\u{201d} in \u{201c}{}\u{201d}",
                    link.fragment.as_deref().unwrap_or(""),
                    note.title
                ),
            };
            self.events
                .push(Event::InlineHtml(CowStr::from(broken_span_open(&why))));
            self.events.push(Event::Text(CowStr::from(note.title)));
            self.events.push(Event::InlineHtml(CowStr::from("</span>")));
            return;
        };
        self.embeds.count += 1;
        self.embeds.bytes += part.len();
        self.embeds.stack.push(note.id.clone());
        let inner = render_raw(part, &note.id, self.resolve, self.embeds);
        self.embeds.stack.pop();
        // Sanitized on its own too, so that a tag the note leaves open
        // closes inside its box rather than swallowing the page.
        let inner = sanitizer().clean(&inner).to_string();
        self.events.push(Event::Html(CowStr::from(format!(
            "<div class=\"embed\"><div class=\"embed-title\"><a href=\"{}\">{}</a></div>{inner}</div>",
            escape_attr(&note.href),
            escape_attr(&note.title)
        ))));
    }

    /// A broken link or image is a span saying why, in place of the tag.
    fn open_broken(&mut self, why: &str) {
        self.broken_open = true;
        self.events
            .push(Event::InlineHtml(CowStr::from(broken_span_open(why))));
    }

    fn end_link(&mut self, end: TagEnd) {
        if let Some(text) = self.replace_text.take() {
            self.events.push(Event::Text(CowStr::from(text)));
        }
        if std::mem::take(&mut self.broken_open) {
            self.events.push(Event::InlineHtml(CowStr::from("</span>")));
        } else {
            self.events.push(Event::End(end));
        }
    }

    /// The events to write; past the budget, the author's raw HTML as text.
    fn finish(mut self) -> Vec<Event<'a>> {
        if self.over_budget {
            for at in self.raw_html {
                if let Event::Html(html) | Event::InlineHtml(html) =
                    std::mem::replace(&mut self.events[at], Event::SoftBreak)
                {
                    self.events[at] = Event::Text(html);
                }
            }
        }
        let events = obsidian::merge_text(self.events);
        let events = obsidian::callouts(events);
        let events = obsidian::block_ids(events);
        unwrap_embeds(obsidian::highlights(events))
    }
}

/// Counts the tags of raw HTML, and how many are open at once, as the
/// sanitizer's parser would nest them: void elements (`<br>`) and those
/// whose end tag is optional (`<p>`, `<li>`, `<td>`: the next one closes
/// them) never nest. One pass, linear in the text.
#[derive(Default)]
struct HtmlBudget {
    tags: usize,
    open: usize,
}

/// Elements that never hold others open: void, or closed by the next.
const NEVER_NEST: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "tfoot", "option",
    "optgroup", "rb", "rt", "rp", "rtc", "colgroup", "caption", "html", "head", "body",
];

impl HtmlBudget {
    /// Adds the tags in `html`; an error once past the budget.
    fn add(&mut self, html: &str) -> Result<(), HtmlExcess> {
        let bytes = html.as_bytes();
        let mut at = 0;
        while let Some(found) = bytes[at..].iter().position(|&b| b == b'<') {
            at += found + 1;
            let closing = bytes.get(at) == Some(&b'/');
            let name_start = at + usize::from(closing);
            let name_len = bytes[name_start..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric())
                .count();
            if !bytes.get(name_start).is_some_and(u8::is_ascii_alphabetic) {
                continue;
            }
            self.tags += 1;
            if self.tags > MAX_RAW_HTML_TAGS {
                return Err(HtmlExcess::Tags);
            }
            // ASCII letters and digits only, so these are char boundaries.
            let name = &html[name_start..name_start + name_len];
            if NEVER_NEST.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                continue;
            }
            if closing {
                self.open = self.open.saturating_sub(1);
                continue;
            }
            // The tag ends at the next `>`; looking no further than the next
            // `<` keeps the whole scan linear.
            let rest = &bytes[name_start + name_len..];
            let end = rest.iter().position(|&b| b == b'>' || b == b'<');
            let self_closing = end.is_some_and(|e| rest[e] == b'>' && e > 0 && rest[e - 1] == b'/');
            if !self_closing {
                self.open += 1;
                if self.open > MAX_RAW_HTML_DEPTH {
                    return Err(HtmlExcess::Depth);
                }
            }
        }
        Ok(())
    }
}

/// A paragraph that holds nothing but an embedded note gives way to it: a
/// `<div>` may not stand in a `<p>`.
fn unwrap_embeds(events: Vec<Event<'_>>) -> Vec<Event<'_>> {
    let mut out: Vec<Event> = Vec::with_capacity(events.len());
    for event in events {
        let closes_lone_embed = matches!(event, Event::End(TagEnd::Paragraph))
            && matches!(
                out.as_slice(),
                [.., Event::Start(Tag::Paragraph), Event::Html(html)] if html.starts_with("<div class=\"embed\">")
            );
        if closes_lone_embed {
            let embed = out.pop();
            out.pop();
            out.extend(embed);
            continue;
        }
        out.push(event);
    }
    out
}

fn broken_span_open(why: &str) -> String {
    format!(
        "<span class=\"broken-link\" title=\"{}\">",
        escape_attr(why)
    )
}

fn escape_attr(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The HTML allow-list: no scripts, event handlers, iframes, SVG or MathML;
/// URLs only http, https, mailto or relative. Built once.
fn sanitizer() -> &'static ammonia::Builder<'static> {
    static SANITIZER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    SANITIZER.get_or_init(|| {
        let mut b = ammonia::Builder::default();
        b.url_schemes(["http", "https", "mailto"].into_iter().collect())
            .link_rel(Some("noopener noreferrer"))
            .add_tags(["input", "span", "mark", "details", "summary"])
            .add_tag_attributes("input", ["type", "checked", "disabled", "aria-label"])
            // A callout folded with `+` starts open.
            .add_tag_attributes("details", ["open"])
            // `^block-id` anchors.
            .add_tag_attributes("span", ["id"])
            .add_generic_attributes(["class", "title"])
            .add_tag_attributes("h1", ["id"])
            .add_tag_attributes("h2", ["id"])
            .add_tag_attributes("h3", ["id"])
            .add_tag_attributes("h4", ["id"])
            .add_tag_attributes("h5", ["id"])
            .add_tag_attributes("h6", ["id"])
            .add_tag_attributes("div", ["id"])
            .add_tag_attributes("li", ["id"])
            .add_tag_attributes("sup", ["id"])
            .attribute_filter(|element, attribute, value| {
                // Task-list checkboxes are the only inputs a card may hold.
                if element == "input" && attribute == "type" && value != "checkbox" {
                    return None;
                }
                Some(value.into())
            });
        b
    })
}

/// `[[#Heading]]` or `[[#^block-id]]`: a wiki-link into the card itself,
/// by its fragment.
fn local_fragment(link_type: LinkType, dest: &str) -> Option<&str> {
    let fragment = dest.trim().strip_prefix('#')?;
    (matches!(link_type, LinkType::WikiLink { .. }) && !fragment.trim().is_empty())
        .then_some(fragment.trim())
}

/// A link into the content folder, or `None` for external URLs, fragments,
/// e-mail addresses and anything with a scheme.
fn internal_link(link_type: LinkType, dest: &str, image: bool, line: usize) -> Option<Link> {
    if matches!(link_type, LinkType::Email | LinkType::Autolink) {
        return None;
    }
    let wiki = matches!(link_type, LinkType::WikiLink { .. });
    if !wiki
        && (dest.is_empty() || dest.starts_with('#') || has_scheme(dest) || dest.starts_with("//"))
    {
        return None;
    }
    let (target, fragment) = match dest.split_once('#') {
        Some((t, f)) => (t, Some(f.to_string())),
        None => (dest, None),
    };
    let target = if wiki {
        // In a table, Obsidian needs the pipe escaped (`[[a\\|b]]`); the
        // escape is not part of the name.
        target.trim().trim_end_matches('\\').trim_end().to_string()
    } else {
        // Zola's `@/blog/post.md` is a path from the content folder.
        let target = match target.strip_prefix("@/") {
            Some(from_root) => format!("/{from_root}"),
            None => target.to_string(),
        };
        percent_decode(&target)
    };
    // Paths and ids are NFC; an NFD link (typed on macOS) finds them too.
    let target = super::card_id::nfc(&target).into_owned();
    if target.is_empty() {
        return None;
    }
    let kind = match (wiki, image) {
        (true, false) => LinkKind::Wiki,
        (true, true) => LinkKind::Embed,
        (false, false) => LinkKind::Markdown,
        (false, true) => LinkKind::Image,
    };
    Some(Link {
        kind,
        target,
        fragment,
        line,
    })
}

/// Whether a file name is one a browser shows as an image.
fn is_image(name: &str) -> bool {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    matches!(
        ext.as_deref(),
        Some("png" | "jpg" | "jpeg" | "gif" | "webp" | "svg" | "avif" | "bmp" | "ico")
    )
}

fn has_scheme(dest: &str) -> bool {
    match dest.split_once(':') {
        Some((scheme, _)) => {
            !scheme.is_empty()
                && !scheme.contains('/')
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        }
        None => false,
    }
}

fn is_safe_external(dest: &str) -> bool {
    let lower = dest.trim_start().to_ascii_lowercase();
    ["http://", "https://", "mailto:"]
        .iter()
        .any(|p| lower.starts_with(p))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

fn level_number(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

/// Heading anchors as GitHub makes them: lowercase, letters and digits of
/// any script kept, spaces to `-`, repeats suffixed `-1`, `-2`.
#[derive(Default)]
struct Anchors {
    seen: HashMap<String, usize>,
}

impl Anchors {
    fn next(&mut self, text: &str) -> String {
        let base = slug(text);
        let base = if base.is_empty() {
            "section".to_string()
        } else {
            base
        };
        let n = self.seen.entry(base.clone()).or_insert(0);
        let anchor = if *n == 0 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        *n += 1;
        anchor
    }
}

/// The anchor slug of a heading text (also used to resolve `[[card#Heading]]`).
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.trim().chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() || c == '_' || c == '-' {
            out.push(c);
        } else if c.is_whitespace() {
            out.push('-');
        }
    }
    out
}

fn collapse_blank_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines() {
        if line.trim().is_empty() {
            blank += 1;
            if blank == 1 && !out.is_empty() {
                out.push('\n');
            }
        } else {
            blank = 0;
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    out.trim_end().to_string()
}

/// Maps byte offsets to 0-based line numbers.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    fn line_of(&self, offset: usize) -> usize {
        self.starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve_all(link: &Link) -> Target {
        if link.target.contains("missing") {
            Target::Broken
        } else {
            Target::Url {
                href: format!("/cards/{}", link.target),
                title: Some(format!("Title of {}", link.target)),
            }
        }
    }

    #[test]
    fn the_outline_lists_headings_links_and_text() {
        let body = "# Refunds\n\nIntro with [[tier-2|the tier 2 team]].\n\n## When to escalate\n\nSee [x](../a/b.md#top) and [[c#When]] and ![[chart.png]] and https://example.com.\n";
        let o = outline(body, 5);
        assert_eq!(o.first_h1.as_deref(), Some("Refunds"));
        assert_eq!(o.headings[1].anchor, "when-to-escalate");
        assert_eq!(o.first_paragraph, "Intro with the tier 2 team.");
        let kinds: Vec<_> = o
            .links
            .iter()
            .map(|l| (l.kind, l.target.as_str(), l.line))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (LinkKind::Wiki, "tier-2", 7),
                (LinkKind::Markdown, "../a/b.md", 11),
                (LinkKind::Wiki, "c", 11),
                (LinkKind::Embed, "chart.png", 11),
            ]
        );
        assert_eq!(o.links[2].fragment.as_deref(), Some("When"));
        assert!(o.text.contains("When to escalate"));
        assert!(!o.text.contains("##"));
    }

    #[test]
    fn wiki_links_render_with_the_card_title_and_broken_ones_visibly() {
        let html = render("[[ok]] and [[ok|label]] and [[missing]]", &resolve_all);
        assert!(
            html.contains("href=\"/cards/ok\"") && html.contains(">Title of ok</a>"),
            "{html}"
        );
        assert!(html.contains(">label</a>"), "{html}");
        assert!(html.contains("<span class=\"broken-link\""), "{html}");
        assert!(!html.contains("href=\"/cards/missing\""), "{html}");
    }

    #[test]
    fn raw_html_is_sanitized() {
        let html = render(
            "<script>alert(1)</script><img src=x onerror=alert(1)><a href=\"javascript:alert(1)\">j</a><iframe src=\"https://x\"></iframe>\n\n[m](javascript:alert(1))",
            &resolve_all,
        );
        for bad in ["<script", "onerror", "javascript:", "<iframe"] {
            assert!(!html.contains(bad), "{bad} survived: {html}");
        }
    }

    #[test]
    fn headings_get_unique_anchors_in_any_script() {
        let html = render("## Возврат денег\n\n## Возврат денег\n", &resolve_all);
        assert!(html.contains("id=\"возврат-денег\""), "{html}");
        assert!(html.contains("id=\"возврат-денег-1\""), "{html}");
    }

    #[test]
    fn task_lists_tables_and_footnotes_render() {
        let html = render(
            "- [x] done\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nNote[^1].\n\n[^1]: Foot.\n\n~~old~~",
            &resolve_all,
        );
        for want in ["type=\"checkbox\"", "<table>", "footnote", "<del>old</del>"] {
            assert!(html.contains(want), "{want} missing: {html}");
        }
    }

    #[test]
    fn deeply_nested_raw_html_is_reported_and_shown_as_text() {
        let divs = format!("{}\n", "<div>".repeat(100_000));
        let soup = format!("intro\n\n{}\n", "<p><b><i><u><s>x</p>".repeat(20_000));
        for (body, excess, line) in [(divs, HtmlExcess::Depth, 4), (soup, HtmlExcess::Depth, 6)] {
            let o = outline(&body, 4);
            assert_eq!(o.too_much_html, Some(TooMuchHtml { line, excess }));
            let started = std::time::Instant::now();
            let html = render(&body, &resolve_all);
            assert!(started.elapsed() < std::time::Duration::from_secs(2));
            assert!(
                !html.contains("<div>") && !html.contains("<b>"),
                "{}",
                &html[..200]
            );
            assert!(html.contains("&lt;"), "shown as text");
        }
    }

    #[test]
    fn many_flat_tags_pass_the_tag_budget_and_ordinary_html_stays_html() {
        let flat = "<span>x</span> ".repeat(MAX_RAW_HTML_TAGS);
        assert_eq!(
            outline(&flat, 1).too_much_html.map(|t| t.excess),
            Some(HtmlExcess::Tags)
        );
        let ordinary = format!(
            "<details><summary>More</summary>\n\n{}\n\n</details>\n\n{}<br>x<img src=a.png alt=a/>\n",
            "<p>para".repeat(500),
            "<table><tr><td>1<td>2</table>".repeat(100)
        );
        assert_eq!(outline(&ordinary, 1).too_much_html, None);
        assert!(render(&ordinary, &resolve_all).contains("<details>"));
    }

    #[test]
    fn images_without_alt_are_noted() {
        let o = outline("![](a.png)\n\n![Chart](b.png)\n", 1);
        assert_eq!(o.images_without_alt, vec![1]);
    }

    #[test]
    fn obsidian_links_are_read_as_obsidian_means_them() {
        let body = "Mail <a@example.com>.\n\n| x |\n|---|\n| [[Table view\\|Table]] |\n\nSee [[#Top]] and [[#^b1]].\n\nText ^b1\n\n- item ^li\n";
        let o = outline(body, 1);
        let targets: Vec<&str> = o.links.iter().map(|l| l.target.as_str()).collect();
        assert_eq!(targets, ["Table view"], "no link to the address");
        assert_eq!(
            o.local_links,
            [("Top".to_string(), 7), ("^b1".to_string(), 7)]
        );
        assert_eq!(o.block_ids, ["b1", "li"]);
        let zola = outline("[post](@/blog/post.md#intro)", 1);
        assert_eq!(zola.links[0].target, "/blog/post.md");
        assert_eq!(fragment_anchor("Setup#Linux hosts"), "linux-hosts");
        assert_eq!(fragment_anchor("^b1"), "^b1");
    }

    #[test]
    fn a_callout_reads_as_its_title_in_the_outline() {
        let o = outline("> [!tip] Mind the gap\n> Body.\n\nAfter.\n", 1);
        assert_eq!(o.first_paragraph, "Mind the gap Body.");
        assert!(!o.text.contains("[!tip]"), "{}", o.text);
        let o = outline("> [!warning]\n> Careful.\n", 1);
        assert_eq!(o.first_paragraph, "Warning Careful.");
    }

    #[test]
    fn only_a_quote_that_opens_with_a_marker_is_a_callout() {
        let html = render(
            "> Just a quote [!tip]\n\n> [!danger]\n\n> [!bug]- **Bold** title\n> body *a\n> b*\n",
            &resolve_all,
        );
        assert!(
            html.contains("<blockquote>\n<p>Just a quote [!tip]</p>"),
            "{html}"
        );
        assert!(
            html.contains("<div class=\"callout callout-danger\"><div class=\"callout-title\">Danger</div><div class=\"callout-content\"></div></div>"),
            "{html}"
        );
        assert!(
            html.contains("<summary class=\"callout-title\"><strong>Bold</strong> title</summary><div class=\"callout-content\">\n<p>body <em>a\nb</em></p>"),
            "{html}"
        );
    }

    #[test]
    fn a_wiki_embed_of_a_file_that_is_no_image_is_a_link() {
        let html = render("![[guide.pdf]] ![[chart.png|Chart]]", &resolve_all);
        assert!(
            html.contains("<a class=\"embed-link\" href=\"/cards/guide.pdf\" rel=\"noopener noreferrer\">guide.pdf</a>"),
            "{html}"
        );
        assert!(
            html.contains("<img src=\"/cards/chart.png\" alt=\"Chart\">"),
            "{html}"
        );
    }

    #[test]
    fn highlights_pair_within_a_block_and_never_touch_code() {
        let html = render(
            "==a== `==b==` ==c\n\nd==\n\n```\n==e==\n```\n",
            &resolve_all,
        );
        assert!(
            html.contains("<p><mark>a</mark> <code>==b==</code> ==c</p>"),
            "{html}"
        );
        assert!(html.contains("<p>d==</p>"), "{html}");
        assert!(html.contains("==e=="), "{html}");
    }

    #[test]
    fn embeds_stop_at_a_cycle_at_depth_and_at_the_page_budget() {
        let big = "x".repeat(MAX_EMBED_BYTES / 3);
        let resolve = |_: &str, link: &Link| Target::Note {
            id: link.target.clone(),
            href: format!("/cards/{}", link.target),
            title: link.target.clone(),
            markdown: Some(match link.target.as_str() {
                "self" => "repeated ![[self]]".to_string(),
                "big" => big.clone(),
                n => format!("in {n} ![[{n}x]]"),
            }),
        };
        let html = render_in("![[self]]", "self", &resolve);
        assert!(
            html.contains("not embedded: it embeds this note again"),
            "{html}"
        );
        assert!(!html.contains("repeated"), "{html}");
        let html = render_in("![[n]]", "top", &resolve);
        assert_eq!(
            html.matches("<div class=\"embed\">").count(),
            MAX_EMBED_DEPTH,
            "{html}"
        );
        assert!(html.contains("embeds nest too deep"), "{html}");
        let html = render_in(&"![[big]]\n\n".repeat(5), "top", &resolve);
        assert_eq!(
            html.matches("<div class=\"embed\">").count(),
            3,
            "{}",
            html.len()
        );
        assert!(html.contains("too much embedded on this page"));
    }

    #[test]
    fn an_embedded_note_cannot_leak_markup_or_leave_tags_open() {
        let resolve = |_: &str, link: &Link| Target::Note {
            id: link.target.clone(),
            href: "/cards/x".into(),
            title: "<b>x</b>".into(),
            markdown: Some("<details><script>alert(1)</script><img src=x onerror=alert(1)>".into()),
        };
        let html = render_in("![[x]]\n\nAfter.", "top", &resolve);
        assert!(
            !html.contains("<script") && !html.contains("onerror"),
            "{html}"
        );
        assert!(html.contains("&lt;b&gt;x&lt;/b&gt;"), "{html}");
        assert!(html.ends_with("</div>\n<p>After.</p>\n"), "{html}");
    }
}
