//! The tantivy index: a cache of the content folder that survives restarts.
//! `SearchIndex` is the shared read side; `IndexWriter` is the one writer,
//! owned by the reindex loop. tantivy types do not leave `index` and `search`.

pub mod analyzer;
mod read_once;
pub mod schema;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::NaiveDate;
use tantivy::collector::TopDocs;
use tantivy::columnar::BytesColumn;
use tantivy::query::TermQuery;
use tantivy::schema::document::{
    DeserializeError, DocumentDeserialize, DocumentDeserializer, OwnedValue,
};
use tantivy::schema::{Facet, Field, IndexRecordOption, Value};
use tantivy::{DocAddress, Index, IndexReader, ReloadPolicy, TantivyDocument, Term};

use crate::content::{Card, CardId, ParsedCard};
pub use schema::Fields;

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("cannot prepare the index folder {path}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("index engine error")]
    Engine(#[from] tantivy::TantivyError),
    #[error("stored card data is unreadable")]
    Stored(#[from] serde_json::Error),
    #[error("cannot read the index")]
    Io(#[from] std::io::Error),
}

/// Where the index lives and what opening it had to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opened {
    /// An existing index of this version was opened.
    Existing,
    /// There was none (first start, deleted, or another version): built anew.
    Created,
    /// It could not be opened and was rebuilt; the reason is kept for the log.
    Rebuilt(String),
    /// Its folder is locked by another process: this one indexes in memory.
    InMemory(String),
}

/// The read side of the index, cheap to clone and share between threads.
#[derive(Clone)]
pub struct SearchIndex {
    reader: IndexReader,
    fields: Fields,
}

/// The one writer. Every change goes through `upsert`/`delete` and becomes
/// visible to readers at `commit`.
pub struct IndexWriter {
    writer: tantivy::IndexWriter,
    read: SearchIndex,
}

const WRITER_THREADS: usize = 2;
const WRITER_BUDGET_BYTES: usize = 2 * 48 * 1024 * 1024;

/// Opens the index under `data_dir` (`data_dir/index/v<N>`), creating or
/// rebuilding it as needed; `None` keeps it in memory (tests, one-off runs).
pub fn open(data_dir: Option<&Path>) -> Result<(SearchIndex, IndexWriter, Opened), IndexError> {
    let (schema, fields) = schema::build();
    let Some(data_dir) = data_dir else {
        let index = Index::create_in_ram(schema);
        return finish(index, fields, Opened::Created);
    };
    let root = data_dir.join("index");
    let dir = root.join(format!("v{}", schema::VERSION));
    remove_other_versions(&root, &dir);
    std::fs::create_dir_all(&dir).map_err(|source| IndexError::Folder {
        path: dir.clone(),
        source,
    })?;
    let (index, opened) = match Index::open_in_dir(&dir) {
        Ok(index) if index.schema() == schema => (index, Opened::Existing),
        Ok(_) => (
            recreate(&dir, schema)?,
            Opened::Rebuilt("its schema differs from this version's".into()),
        ),
        Err(_) if !dir.join("meta.json").exists() => {
            (Index::create_in_dir(&dir, schema)?, Opened::Created)
        }
        Err(e) => (recreate(&dir, schema)?, Opened::Rebuilt(e.to_string())),
    };
    match finish(index, fields, opened) {
        Ok(done) => Ok(done),
        Err(IndexError::Engine(tantivy::TantivyError::LockFailure(e, _))) => {
            let (schema, fields) = schema::build();
            finish(
                Index::create_in_ram(schema),
                fields,
                Opened::InMemory(e.to_string()),
            )
        }
        Err(e) => {
            let (schema, fields) = schema::build();
            let index = recreate(&dir, schema)?;
            finish(index, fields, Opened::Rebuilt(format!("{e:#}")))
        }
    }
}

/// Throws the index folder away and starts an empty one: it is only a cache.
pub fn recreate(dir: &Path, schema: tantivy::schema::Schema) -> Result<Index, IndexError> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).map_err(|source| IndexError::Folder {
        path: dir.to_path_buf(),
        source,
    })?;
    Ok(Index::create_in_dir(dir, schema)?)
}

fn remove_other_versions(root: &Path, keep: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.path() != keep {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn finish(
    index: Index,
    fields: Fields,
    opened: Opened,
) -> Result<(SearchIndex, IndexWriter, Opened), IndexError> {
    index
        .tokenizers()
        .register(analyzer::NAME, analyzer::Analyzer::default());
    HIT_FIELDS.get_or_init(|| (fields.meta, fields.body));
    let writer = index.writer_with_num_threads(WRITER_THREADS, WRITER_BUDGET_BYTES)?;
    // Readers reload when we say so, right after each commit: tantivy's
    // default policy polls meta.json every 500 ms (tantivy#1824, PR #3057).
    let reader = index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()?;
    let read = SearchIndex { reader, fields };
    Ok((read.clone(), IndexWriter { writer, read }, opened))
}

/// Days since 1970 until which a card is verified: `i64::MIN` when never
/// verified, `i64::MAX` when it never expires. Trust is computed against
/// today at query time, so no card has to be re-indexed when a day passes.
pub fn trust_days(card: &Card) -> i64 {
    match card.verification.verified_until() {
        None => i64::MIN,
        Some(d) if d == NaiveDate::MAX => i64::MAX,
        Some(d) => days(d),
    }
}

pub fn days(date: NaiveDate) -> i64 {
    date.signed_duration_since(NaiveDate::default()).num_days()
}

/// How many cards one decoding step of `stored_cards` reads: enough to
/// amortise handing them over, few enough that decoding and filing overlap.
const STORED_CHUNK: usize = 2048;

/// The cards at `ords` (sorted) in a `meta` column.
fn decode_cards(column: &BytesColumn, ords: &[u64]) -> Result<Vec<Card>, IndexError> {
    let mut cards = Vec::with_capacity(ords.len());
    let mut failed = None;
    column.dictionary().sorted_ords_to_term_cb(ords, |bytes| {
        match serde_json::from_slice(bytes) {
            Ok(card) => cards.push(card),
            Err(e) => failed = Some(e),
        }
    })?;
    match failed {
        Some(e) => Err(e.into()),
        None => Ok(cards),
    }
}

/// The fields `HitDoc` reads, the same for every index this binary opens
/// (`schema::build` adds them in one order); set when an index is opened.
static HIT_FIELDS: OnceLock<(Field, Field)> = OnceLock::new();

/// The part of a stored document a search hit needs. tantivy reads a
/// document field by field, and bytes fields a byte at a time: decoding the
/// markdown (the largest field) was 8% of a server's CPU under HTTP load, by
/// perf. It is never reached now, because `upsert` stores these two first.
#[derive(Default)]
struct HitDoc {
    meta: Option<Vec<u8>>,
    text: Option<String>,
}

impl DocumentDeserialize for HitDoc {
    fn deserialize<'de, D: DocumentDeserializer<'de>>(
        mut fields: D,
    ) -> Result<Self, DeserializeError> {
        let &(meta, body) = HIT_FIELDS
            .get()
            .ok_or_else(|| DeserializeError::custom("no index opened"))?;
        let mut doc = HitDoc::default();
        while doc.meta.is_none() || doc.text.is_none() {
            let Some((field, value)) = fields.next_field::<OwnedValue>()? else {
                break;
            };
            match value {
                OwnedValue::Bytes(bytes) if field == meta => doc.meta = Some(bytes),
                OwnedValue::Str(text) if field == body => doc.text = Some(text),
                _ => {}
            }
        }
        Ok(doc)
    }
}

/// A card as stored: its metadata, markdown and plain text.
#[derive(Clone, Debug)]
pub struct StoredCard {
    pub card: Card,
    pub markdown: String,
    pub text: String,
}

impl SearchIndex {
    pub fn fields(&self) -> &Fields {
        &self.fields
    }

    pub fn searcher(&self) -> tantivy::Searcher {
        self.reader.searcher()
    }

    pub fn num_cards(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Segments in the last commit (too many slow every query down).
    pub fn num_segments(&self) -> usize {
        self.reader.searcher().segment_readers().len()
    }

    /// Every card's metadata, as last committed, handed to `each` in no
    /// particular order: what the catalog is rebuilt from at start-up,
    /// without reading the content folder again. Other threads decode the
    /// JSON while `each` files the cards, and no list of every card is ever
    /// held: at 100k cards both halves cost about the same.
    pub fn stored_cards(&self, mut each: impl FnMut(Card)) -> Result<(), IndexError> {
        let searcher = self.reader.searcher();
        let mut work = Vec::new();
        let mut columns = Vec::new();
        for segment in searcher.segment_readers() {
            let Some(column) = segment.fast_fields().bytes("meta")? else {
                continue;
            };
            columns.push(column.clone());
            // The column's dictionary is sorted; read the live documents'
            // entries in ordered passes rather than one lookup each.
            let mut ords: Vec<u64> = (0..segment.max_doc())
                .filter(|&doc| {
                    segment
                        .alive_bitset()
                        .is_none_or(|alive| alive.is_alive(doc))
                })
                .filter_map(|doc| column.term_ords(doc).next())
                .collect();
            ords.sort_unstable();
            ords.dedup();
            for chunk in ords.chunks(STORED_CHUNK) {
                work.push((column.clone(), chunk.to_vec()));
            }
        }
        let decoders = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .saturating_sub(1)
            .clamp(1, 4);
        let next = AtomicUsize::new(0);
        let (sender, received) = std::sync::mpsc::sync_channel(decoders * 2);
        std::thread::scope(|scope| {
            for _ in 0..decoders {
                let (sender, work, next) = (sender.clone(), &work, &next);
                scope.spawn(move || {
                    while let Some((column, ords)) = work.get(next.fetch_add(1, Ordering::Relaxed))
                    {
                        let decoded = decode_cards(column, ords);
                        let failed = decoded.is_err();
                        // A closed channel: the caller gave up on an error.
                        if sender.send(decoded).is_err() || failed {
                            break;
                        }
                    }
                });
            }
            drop(sender);
            for decoded in received {
                decoded?.into_iter().for_each(&mut each);
            }
            Ok::<_, IndexError>(())
        })?;
        for column in columns {
            if let Ok(bytes) = column.dictionary().sstable_slice.read_bytes() {
                read_once::release(bytes.as_slice());
            }
        }
        Ok(())
    }

    /// The stored card with this id, as last committed.
    pub fn card(&self, id: &CardId) -> Result<Option<StoredCard>, IndexError> {
        let searcher = self.reader.searcher();
        let query = TermQuery::new(
            Term::from_field_text(self.fields.id, id.as_str()),
            IndexRecordOption::Basic,
        );
        let top = searcher.search(&query, &TopDocs::with_limit(1).order_by_score())?;
        match top.first() {
            Some(&(_, address)) => Ok(Some(self.stored(&searcher, address)?)),
            None => Ok(None),
        }
    }

    /// What a search hit shows: the card and its plain text (for the
    /// snippet). Reads the stored document only as far as those two.
    pub fn hit(
        &self,
        searcher: &tantivy::Searcher,
        address: DocAddress,
    ) -> Result<(Card, String), IndexError> {
        let doc: HitDoc = searcher.doc(address)?;
        let meta = doc.meta.unwrap_or_default();
        Ok((serde_json::from_slice(&meta)?, doc.text.unwrap_or_default()))
    }

    pub fn stored(
        &self,
        searcher: &tantivy::Searcher,
        address: DocAddress,
    ) -> Result<StoredCard, IndexError> {
        let doc: TantivyDocument = searcher.doc(address)?;
        let meta = doc
            .get_first(self.fields.meta)
            .and_then(|v| v.as_bytes())
            .unwrap_or_default();
        let text = |field| {
            doc.get_first(field)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        Ok(StoredCard {
            card: serde_json::from_slice(meta)?,
            markdown: doc
                .get_first(self.fields.markdown)
                .and_then(|v| v.as_bytes())
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default(),
            text: text(self.fields.body),
        })
    }
}

impl IndexWriter {
    pub fn reader(&self) -> &SearchIndex {
        &self.read
    }

    /// Replaces (or adds) the card; visible after `commit`.
    pub fn upsert(&mut self, parsed: &ParsedCard) -> Result<(), IndexError> {
        self.delete(&parsed.card.id);
        let f = self.read.fields;
        let card = &parsed.card;
        let mut doc = TantivyDocument::new();
        // Stored fields are read back in the order they are added: what a
        // search hit needs (see `HitDoc`) goes first, the markdown last.
        doc.add_text(f.id, card.id.as_str());
        doc.add_bytes(f.meta, serde_json::to_vec(card)?.as_slice());
        doc.add_text(f.body, &parsed.text);
        doc.add_text(f.title, &card.title);
        let mut lead = String::new();
        for part in card
            .summary
            .iter()
            .chain(parsed.headings.iter().map(|h| &h.text))
            .chain(&card.tags)
            .chain(&card.aliases)
        {
            lead.push_str(part);
            lead.push('\n');
        }
        doc.add_text(f.lead, &lead);
        doc.add_bytes(f.markdown, parsed.markdown.as_bytes());
        doc.add_text(f.collection, card.collection());
        doc.add_facet(
            f.facets,
            Facet::from_path(["collection", card.collection()]),
        );
        for tag in &card.tags {
            doc.add_text(f.tag, tag);
            doc.add_facet(f.facets, Facet::from_path(["tag", tag.as_str()]));
        }
        doc.add_text(f.lang, &card.lang);
        doc.add_facet(f.facets, Facet::from_path(["lang", card.lang.as_str()]));
        doc.add_text(
            f.audience,
            if card.is_public() {
                "public"
            } else {
                "internal"
            },
        );
        doc.add_i64(f.verified_until, trust_days(card));
        self.writer.add_document(doc)?;
        Ok(())
    }

    pub fn delete(&mut self, id: &CardId) {
        self.writer
            .delete_term(Term::from_field_text(self.read.fields.id, id.as_str()));
    }

    pub fn delete_all(&mut self) -> Result<(), IndexError> {
        self.writer.delete_all_documents()?;
        Ok(())
    }

    /// Makes every change since the last commit durable and visible to
    /// readers before returning.
    pub fn commit(&mut self) -> Result<(), IndexError> {
        self.writer.commit()?;
        self.read.reader.reload()?;
        Ok(())
    }

    /// Drops every change since the last commit. After a failed write or
    /// commit (a full disk, a read-only folder) tantivy's writer may have
    /// lost its indexing threads; rolling back gives a fresh one, and the
    /// index stays as last committed.
    pub fn rollback(&mut self) {
        if let Err(e) = self.writer.rollback() {
            tracing::error!("cannot roll the index writer back: {e}");
        }
    }
}
