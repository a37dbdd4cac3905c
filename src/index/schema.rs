//! The index schema: which card data is searchable, filterable and stored.
//! Bump `VERSION` whenever the schema or the analyzer changes what is
//! indexed: an index of another version is rebuilt from the content.

use tantivy::schema::{
    FAST, FacetOptions, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema,
    TextFieldIndexing, TextOptions,
};

use super::analyzer;

/// The index format; part of the index folder's name (`index/v11`).
pub const VERSION: u32 = 11;

/// The family field's name, for reading its column by name.
pub const FAMILY: &str = "family";

#[derive(Clone, Copy, Debug)]
pub struct Fields {
    pub id: Field,
    pub title: Field,
    /// Each title whole, as `analyzer::title_key` spells it (the card's
    /// title, and its file name when the front matter names none): what
    /// ranks a whole-title or title-prefix match first.
    pub title_key: Field,
    /// Every word of title, lead and body once, unstemmed: the vocabulary
    /// typo corrections come from (see `search::spelling`).
    pub spelling: Field,
    /// Summary, headings, tags and aliases: ranked between title and body.
    pub lead: Field,
    /// The plain text of the body: searched, and the source of snippets.
    pub body: Field,
    /// The markdown body, stored only (rendered at serve time), and stored
    /// last: a search hit stops reading its document before it (see
    /// `index::HitDoc`); only a card's page decodes it.
    pub markdown: Field,
    pub collection: Field,
    pub tag: Field,
    /// Also a fast field: the reader's language is preferred per hit.
    pub lang: Field,
    pub audience: Field,
    /// A hash of the id, fast: equally scored hits are ordered by it, so
    /// the same query over the same cards gives the same list however
    /// the index was built.
    pub id_hash: Field,
    /// A hash of the card's translation family (`Card::family`), fast and
    /// indexed: a result list shows one card per family, and the member
    /// in the reader's language is looked up by it.
    pub family: Field,
    /// `/collection/x`, `/tag/y`, `/lang/z`, for facet counts.
    pub facets: Field,
    /// Days since 1970 until which the card counts as verified (see `trust_days`).
    pub verified_until: Field,
    /// The whole `Card` as JSON. Also a fast (columnar) field: the catalog
    /// is reloaded from the column on restart without decompressing every
    /// card's text; hits read it from the document they load anyway (one
    /// column lookup per hit would decode a dictionary block).
    pub meta: Field,
}

pub fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = |stored: bool| {
        let indexing = TextFieldIndexing::default()
            .set_tokenizer(analyzer::NAME)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions);
        let options = TextOptions::default().set_indexing_options(indexing);
        if stored {
            options.set_stored()
        } else {
            options
        }
    };
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        title: b.add_text_field("title", text(true)),
        title_key: b.add_text_field("title_key", STRING),
        spelling: b.add_text_field(
            "spelling",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(analyzer::SPELLING)
                    .set_index_option(IndexRecordOption::Basic),
            ),
        ),
        lead: b.add_text_field("lead", text(false)),
        body: b.add_text_field("body", text(true)),
        markdown: b.add_text_field("markdown", STORED),
        collection: b.add_text_field("collection", STRING),
        tag: b.add_text_field("tag", STRING),
        lang: b.add_text_field("lang", STRING | FAST),
        audience: b.add_text_field("audience", STRING),
        id_hash: b.add_u64_field("id_hash", FAST),
        family: b.add_u64_field(FAMILY, INDEXED | FAST),
        facets: b.add_facet_field("facets", FacetOptions::default()),
        verified_until: b.add_i64_field("verified_until", INDEXED | FAST),
        meta: b.add_text_field("meta", TextOptions::default().set_stored().set_fast("raw")),
    };
    (b.build(), fields)
}
