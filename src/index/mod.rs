//! The tantivy index: a cache of the content folder that survives restarts.
//! `SearchIndex` is the shared read side; `IndexWriter` is the one writer,
//! owned by the reindex loop. tantivy types do not leave `index` and `search`.

pub mod analyzer;
mod damage;
mod families;
mod in_flight;
mod merge;
pub use merge::Merge;
mod read_once;
pub mod schema;
pub mod synonyms;
mod vocabulary;

pub use families::FamilyNumbers;
pub use vocabulary::{ONE_TYPO_FROM, allowed_typos};

use in_flight::{InFlight, Queued};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use chrono::NaiveDate;
use tantivy::collector::TopDocs;
use tantivy::columnar::{BytesColumn, StrColumn};
use tantivy::query::TermQuery;
use tantivy::schema::document::{
    DeserializeError, DocumentDeserialize, DocumentDeserializer, OwnedValue,
};
use tantivy::schema::{Facet, Field, IndexRecordOption, Value};
use tantivy::{DocAddress, Index, IndexReader, ReloadPolicy, TantivyDocument, Term};

use crate::content::{Card, CardId, ParsedCard, TitleSource};
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
    #[error("the index writer is gone after a failed rebuild")]
    NoWriter,
    /// tantivy panics on some damaged files rather than failing.
    #[error("reading the index panicked: its files are damaged")]
    Panicked,
}

impl IndexError {
    /// What went wrong, without any path or file name: the root cause an
    /// operating-system error names ("No space left on device"), else a
    /// fixed phrase. What `/healthz` may tell anyone who asks.
    pub fn cause(&self) -> String {
        use tantivy::TantivyError as T;
        use tantivy::directory::error::{OpenDirectoryError, OpenReadError, OpenWriteError};
        let engine = match self {
            IndexError::Folder { source, .. } | IndexError::Io(source) => return io_cause(source),
            IndexError::Stored(_) => return "stored card data is unreadable".into(),
            IndexError::NoWriter => return self.to_string(),
            IndexError::Panicked => return "the index is damaged".into(),
            IndexError::Engine(engine) => engine,
        };
        match engine {
            T::IoError(e)
            | T::OpenWriteError(OpenWriteError::IoError { io_error: e, .. })
            | T::OpenReadError(OpenReadError::IoError { io_error: e, .. })
            | T::OpenDirectoryError(OpenDirectoryError::IoError { io_error: e, .. }) => io_cause(e),
            T::OpenReadError(OpenReadError::FileDoesNotExist(_))
            | T::OpenDirectoryError(OpenDirectoryError::DoesNotExist(_)) => {
                "a file of the index is missing".into()
            }
            T::OpenWriteError(OpenWriteError::FileAlreadyExists(_)) => {
                "a file of the index already exists".into()
            }
            T::DataCorruption(_) => "the index is damaged".into(),
            T::LockFailure(..) => "the index is locked by another process".into(),
            // An indexing thread's io::Error reaches us only as its text.
            T::ErrorInThread(text) | T::InternalError(text) => {
                os_error_in(text).map_or_else(|| "index engine error".into(), |e| e.to_string())
            }
            _ => "index engine error".into(),
        }
    }
}

impl IndexError {
    /// Whether a file the index needs was not there: someone deleted part
    /// of the index folder, which a checksum pass then confirms.
    pub fn is_missing_file(&self) -> bool {
        use tantivy::TantivyError as T;
        use tantivy::directory::error::OpenReadError;
        match self {
            IndexError::Io(e) => e.kind() == std::io::ErrorKind::NotFound,
            IndexError::Engine(T::OpenReadError(OpenReadError::FileDoesNotExist(_))) => true,
            IndexError::Engine(e) => {
                let io = match e {
                    T::IoError(e) => Some(e),
                    T::OpenWriteError(tantivy::directory::error::OpenWriteError::IoError {
                        io_error,
                        ..
                    })
                    | T::OpenReadError(OpenReadError::IoError { io_error, .. }) => Some(io_error),
                    _ => None,
                };
                io.is_some_and(|e| e.kind() == std::io::ErrorKind::NotFound)
            }
            _ => false,
        }
    }
}

/// The operating-system error a text names, as an `io::Error`'s Debug
/// (`Os { code: 28, .. }`) or Display (`(os error 28)`) writes it.
fn os_error_in(text: &str) -> Option<std::io::Error> {
    let (_, after) = text
        .split_once("Os { code: ")
        .or_else(|| text.split_once("(os error "))?;
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    Some(std::io::Error::from_raw_os_error(digits.parse().ok()?))
}

fn io_cause(e: &std::io::Error) -> String {
    // A custom io::Error may carry any text (a path); an OS error's own
    // message does not.
    let mut inner: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(error) = inner {
        if let Some(code) = error
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::raw_os_error)
        {
            return std::io::Error::from_raw_os_error(code).to_string();
        }
        inner = match error.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|e| e as &(dyn std::error::Error + 'static)),
            None => error.source(),
        };
    }
    // tempfile's `PathError` hides the OS error from `source()`; its
    // Debug text still names the code.
    os_error_in(&format!("{e:?}")).map_or_else(|| e.kind().to_string(), |os| os.to_string())
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
/// Every clone reads the same reader, which a rebuild replaces in place.
#[derive(Clone)]
pub struct SearchIndex {
    shared: Arc<Shared>,
    fields: Fields,
}

struct Shared {
    reader: RwLock<IndexReader>,
    vocabularies: vocabulary::Vocabularies,
    families: families::FamilyNumbering,
    damage: damage::Damage,
    /// The content folder's `_synonyms.yaml`, analysed; read by every
    /// search, replaced when the file changes.
    synonyms: RwLock<Arc<synonyms::Synonyms>>,
    /// Whether ticket matching searches words in translation too
    /// (`translate_tickets` in quire.toml).
    translating: std::sync::atomic::AtomicBool,
    /// The index folder; `None` in memory.
    dir: Option<PathBuf>,
}

/// The one writer. Every change goes through `upsert`/`delete` and becomes
/// visible to readers at `commit`.
pub struct IndexWriter {
    /// `None` only after a rebuild failed half-way; the next one retries.
    writer: Option<tantivy::IndexWriter<Queued>>,
    /// Documents queued to the writer and not yet indexed.
    in_flight: Arc<InFlight>,
    read: SearchIndex,
    /// The index folder; `None` in memory.
    dir: Option<PathBuf>,
    /// A rebuilt index's reader, given to searches at its first commit, so
    /// they keep the old index until the new one holds the cards.
    fresh: Option<IndexReader>,
    /// A merge into one segment is running (see `merge`).
    merging: Arc<std::sync::atomic::AtomicBool>,
}

/// tantivy's indexing threads.
pub(crate) const WRITER_THREADS: usize = 2;
const WRITER_BUDGET_BYTES: usize = 2 * 48 * 1024 * 1024;

/// Opens the index under `data_dir` (`data_dir/index/v<N>`), creating or
/// rebuilding it as needed; `None` keeps it in memory (tests, one-off runs).
pub fn open(data_dir: Option<&Path>) -> Result<(SearchIndex, IndexWriter, Opened), IndexError> {
    let (schema, fields) = schema::build();
    let Some(data_dir) = data_dir else {
        let index = create_in_ram(schema)?;
        return finish(index, fields, None, Opened::Created);
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
            (create_in_dir(&dir, schema)?, Opened::Created)
        }
        Err(e) => (recreate(&dir, schema)?, Opened::Rebuilt(e.to_string())),
    };
    // Opening reads each segment's footers, and tantivy panics on some
    // damaged ones: a cache that cannot be opened is rebuilt, never fatal.
    let opening = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        finish(index, fields, Some(&dir), opened)
    }));
    match opening.unwrap_or(Err(IndexError::Panicked)) {
        Ok(done) => Ok(done),
        Err(IndexError::Engine(tantivy::TantivyError::LockFailure(e, _))) => {
            let (schema, fields) = schema::build();
            finish(
                create_in_ram(schema)?,
                fields,
                None,
                Opened::InMemory(e.to_string()),
            )
        }
        Err(e) => {
            let (schema, fields) = schema::build();
            let index = recreate(&dir, schema)?;
            finish(index, fields, Some(&dir), Opened::Rebuilt(format!("{e:#}")))
        }
    }
}

/// A hit reads its card from the document store, which decompresses a
/// whole block to read one document: blocks of about one card (tantivy's
/// default is 16 KB, several cards) halved what a typed search
/// decompresses, for a cold build 3-4% slower and a store no larger.
const DOC_STORE_BLOCK: usize = 4096;

fn settings() -> tantivy::IndexSettings {
    tantivy::IndexSettings {
        docstore_blocksize: DOC_STORE_BLOCK,
        // Compressed on the indexing threads: handing each 4 KB block to
        // a thread of its own woke it per block (tldr's cold build
        // 0.70-0.74 -> 0.62-0.66 s without it).
        docstore_compress_dedicated_thread: false,
        ..tantivy::IndexSettings::default()
    }
}

fn create_in_ram(schema: tantivy::schema::Schema) -> Result<Index, IndexError> {
    Ok(Index::builder()
        .schema(schema)
        .settings(settings())
        .create_in_ram()?)
}

fn create_in_dir(dir: &Path, schema: tantivy::schema::Schema) -> Result<Index, IndexError> {
    Ok(Index::builder()
        .schema(schema)
        .settings(settings())
        .create_in_dir(dir)?)
}

/// Throws the index folder away and starts an empty one: it is only a cache.
pub fn recreate(dir: &Path, schema: tantivy::schema::Schema) -> Result<Index, IndexError> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).map_err(|source| IndexError::Folder {
        path: dir.to_path_buf(),
        source,
    })?;
    create_in_dir(dir, schema)
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
    dir: Option<&Path>,
    opened: Opened,
) -> Result<(SearchIndex, IndexWriter, Opened), IndexError> {
    HIT_FIELDS.get_or_init(|| (fields.meta, fields.body));
    let (writer, reader) = engine(&index)?;
    let read = SearchIndex {
        shared: Arc::new(Shared {
            reader: RwLock::new(reader),
            vocabularies: vocabulary::Vocabularies::new(fields.spelling),
            families: families::FamilyNumbering::default(),
            damage: damage::Damage::default(),
            synonyms: RwLock::default(),
            translating: std::sync::atomic::AtomicBool::new(true),
            dir: dir.map(Path::to_path_buf),
        }),
        fields,
    };
    let writer = IndexWriter {
        writer: Some(writer),
        in_flight: Arc::default(),
        read: read.clone(),
        dir: dir.map(Path::to_path_buf),
        fresh: None,
        merging: Arc::default(),
    };
    Ok((read, writer, opened))
}

/// The writer and the reader of an opened index, with our analyzer.
fn engine(index: &Index) -> Result<(tantivy::IndexWriter<Queued>, IndexReader), IndexError> {
    index
        .tokenizers()
        .register(analyzer::NAME, analyzer::Analyzer::default());
    index
        .tokenizers()
        .register(analyzer::SPELLING, analyzer::Analyzer::spelling());
    let writer = index.writer_with_num_threads(WRITER_THREADS, WRITER_BUDGET_BYTES)?;
    // Readers reload when we say so, right after each commit: tantivy's
    // default policy polls meta.json every 500 ms (tantivy#1824, PR #3057).
    let reader = index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()?;
    Ok((writer, reader))
}

/// The names a card is searched by as a whole: its title, and its file
/// name when the front matter gives no title (in Obsidian and most folders
/// of notes a note's name is its file name, whatever its first heading says).
fn titles(card: &Card) -> Vec<&str> {
    let mut titles = vec![card.title.as_str()];
    let stem = card.id.file_stem();
    if card.title_source != TitleSource::FrontMatter
        && analyzer::title_key(stem) != analyzer::title_key(&card.title)
    {
        titles.push(stem);
    }
    titles
}

/// FNV-1a of the id: fixed across builds and machines (unlike std's
/// randomly seeded hasher), so equal scores order the same way every time.
pub fn id_hash(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
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

/// The part of a stored document a search hit needs: `upsert` stores these
/// two fields first, so reading stops before the markdown (the largest
/// field). Both are text fields: tantivy decodes a bytes field a byte at a
/// time (`Vec<u8>` as `BinarySerializable`), which made the card's JSON,
/// when it was bytes, a twelfth of a typed search (callgrind, 10k cards).
#[derive(Default)]
struct HitDoc {
    meta: Option<String>,
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
                OwnedValue::Str(json) if field == meta => doc.meta = Some(json),
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

    /// The synonym groups searches use now.
    pub fn synonyms(&self) -> Arc<synonyms::Synonyms> {
        self.shared
            .synonyms
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Replaces the synonym groups (the file changed or went away).
    pub fn set_synonyms(&self, groups: &[crate::content::synonyms::Group]) {
        let analysed = Arc::new(synonyms::Synonyms::new(groups));
        *self
            .shared
            .synonyms
            .write()
            .unwrap_or_else(|e| e.into_inner()) = analysed;
    }

    /// Whether ticket matching searches words in translation too.
    pub fn translating(&self) -> bool {
        self.shared
            .translating
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn set_translating(&self, on: bool) {
        self.shared
            .translating
            .store(on, std::sync::atomic::Ordering::Relaxed);
    }

    /// Words of the index within the allowed typos of `word` (folded, as
    /// the analyzer spells it), nearest first, with their distance.
    pub fn near_words(&self, searcher: &tantivy::Searcher, word: &str) -> Vec<(Box<str>, u8)> {
        self.shared.vocabularies.near(searcher, word)
    }

    /// Each card's family as a small number, for `searcher`'s segments.
    pub fn family_numbers(&self, searcher: &tantivy::Searcher) -> Arc<FamilyNumbers> {
        self.shared.families.numbers(searcher)
    }

    pub fn searcher(&self) -> tantivy::Searcher {
        self.reader().searcher()
    }

    fn reader(&self) -> std::sync::RwLockReadGuard<'_, IndexReader> {
        // A panic while the lock was held cannot leave half a reader.
        self.shared.reader.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn num_cards(&self) -> u64 {
        self.searcher().num_docs()
    }

    /// Segments in the last commit (too many slow every query down).
    pub fn num_segments(&self) -> usize {
        self.searcher().segment_readers().len()
    }

    /// Whether a check found a file of the index damaged or missing: it is
    /// to be rebuilt from the content.
    pub fn is_damaged(&self) -> bool {
        self.shared.damage.is_found()
    }

    /// A read of the index failed: has its files' checksums checked (off
    /// this thread), which finds out whether the index is damaged.
    pub fn read_failed<E: Into<IndexError>>(&self, e: E) -> IndexError {
        self.suspect();
        e.into()
    }

    /// Has the index's files checked (off this thread), as after a failed
    /// read or a write that found a file of the index missing.
    pub fn suspect(&self) {
        self.shared.damage.suspect();
    }

    /// Checks the index's files against their checksums on a thread of its
    /// own, now and after every failed read; `found` is called when one is
    /// damaged or missing. Ends when the index is dropped.
    pub fn check_in_background(&self, found: impl Fn() + Send + 'static) -> std::io::Result<()> {
        damage::follow(
            Arc::downgrade(&self.shared),
            self.shared.dir.clone(),
            Box::new(found),
        )
    }

    /// Every card's metadata, as last committed, handed to `each` in no
    /// particular order: what the catalog is rebuilt from at start-up,
    /// without reading the content folder again. Other threads decode the
    /// JSON while `each` files the cards, and no list of every card is ever
    /// held: at 100k cards both halves cost about the same.
    pub fn stored_cards(&self, mut each: impl FnMut(Card)) -> Result<(), IndexError> {
        let searcher = self.searcher();
        let mut work = Vec::new();
        let mut columns = Vec::new();
        for segment in searcher.segment_readers() {
            let Some(column) = segment.fast_fields().str("meta")? else {
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
        let searcher = self.searcher();
        let query = TermQuery::new(
            Term::from_field_text(self.fields.id, id.as_str()),
            IndexRecordOption::Basic,
        );
        let top = searcher
            .search(&query, &TopDocs::with_limit(1).order_by_score())
            .map_err(|e| self.read_failed(e))?;
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
        let doc: HitDoc = searcher.doc(address).map_err(|e| self.read_failed(e))?;
        let meta = doc.meta.unwrap_or_default();
        let card = serde_json::from_str(&meta).map_err(|e| self.read_failed(e))?;
        Ok((card, doc.text.unwrap_or_default()))
    }

    /// Each segment's `meta` column (the cards' JSON), for `hit_card`.
    pub fn meta_columns(&self, searcher: &tantivy::Searcher) -> Vec<Option<StrColumn>> {
        searcher
            .segment_readers()
            .iter()
            .map(|segment| segment.fast_fields().str("meta").ok().flatten())
            .collect()
    }

    /// A hit's card alone, for a result shown without a snippet (the
    /// suggestions under a search box): read from the `meta` column
    /// (`columns`, from `meta_columns`), so the stored document's
    /// compressed block is not opened. Falls back to the stored document
    /// if the column cannot say.
    pub fn hit_card(
        &self,
        searcher: &tantivy::Searcher,
        columns: &[Option<StrColumn>],
        address: DocAddress,
    ) -> Result<Card, IndexError> {
        let json = columns
            .get(address.segment_ord as usize)
            .and_then(Option::as_ref)
            .and_then(|column| {
                let ord = column.term_ords(address.doc_id).next()?;
                let mut json = String::new();
                column.ord_to_str(ord, &mut json).ok()?.then_some(json)
            });
        match json {
            Some(json) => serde_json::from_str(&json).map_err(|e| self.read_failed(e)),
            None => self.hit(searcher, address).map(|(card, _)| card),
        }
    }

    pub fn stored(
        &self,
        searcher: &tantivy::Searcher,
        address: DocAddress,
    ) -> Result<StoredCard, IndexError> {
        let doc: TantivyDocument = searcher.doc(address).map_err(|e| self.read_failed(e))?;
        let meta = doc
            .get_first(self.fields.meta)
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        let text = |field| {
            doc.get_first(field)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        Ok(StoredCard {
            card: serde_json::from_str(meta).map_err(|e| self.read_failed(e))?,
            markdown: text(self.fields.markdown),
            text: crate::content::markdown::without_code_markers(&text(self.fields.body))
                .into_owned(),
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
        doc.add_text(f.meta, serde_json::to_string(card)?);
        doc.add_text(f.body, &parsed.text);
        for title in titles(card) {
            doc.add_text(f.title, title);
            doc.add_text(f.title_key, analyzer::title_key(title));
            doc.add_text(f.spelling, title);
        }
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
        doc.add_text(f.spelling, &lead);
        doc.add_text(f.spelling, &parsed.text);
        doc.add_u64(f.id_hash, id_hash(card.id.as_str()));
        doc.add_u64(f.family, id_hash(&card.family));
        doc.add_text(f.markdown, &parsed.markdown);
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
        let doc = self.in_flight.queue(doc);
        let writer = self.engine()?;
        if let Err(e) = writer.add_document(doc) {
            // An indexing thread died (a full disk): tantivy says only that
            // here; the thread's own error, which names the cause, comes
            // back when it is joined. The caller rolls back either way.
            return Err(match writer.prepare_commit() {
                Err(cause) => cause.into(),
                Ok(_) => e.into(),
            });
        }
        Ok(())
    }

    fn engine(&mut self) -> Result<&mut tantivy::IndexWriter<Queued>, IndexError> {
        self.writer.as_mut().ok_or(IndexError::NoWriter)
    }

    /// Without a writer (a rebuild failed half-way) the delete is lost with
    /// the rest of the batch: the next rebuild reads every card again.
    pub fn delete(&mut self, id: &CardId) {
        if let Some(writer) = &mut self.writer {
            writer.delete_term(Term::from_field_text(self.read.fields.id, id.as_str()));
        }
    }

    pub fn delete_all(&mut self) -> Result<(), IndexError> {
        self.engine()?.delete_all_documents()?;
        Ok(())
    }

    /// Makes every change since the last commit durable and visible to
    /// readers before returning.
    pub fn commit(&mut self) -> Result<(), IndexError> {
        self.engine()?.commit()?;
        if let Some(fresh) = self.fresh.take() {
            *self
                .read
                .shared
                .reader
                .write()
                .unwrap_or_else(|e| e.into_inner()) = fresh;
            self.read.shared.damage.clear();
        }
        self.read.reader().reload()?;
        Ok(())
    }

    /// Drops every change since the last commit. After a failed write or
    /// commit (a full disk, a read-only folder) tantivy's writer may have
    /// lost its indexing threads; rolling back gives a fresh one, and the
    /// index stays as last committed.
    pub fn rollback(&mut self) {
        if let Some(Err(e)) = self.writer.as_mut().map(|w| w.rollback()) {
            tracing::error!("cannot roll the index writer back: {e}");
        }
    }

    /// Whether the index folder is gone from under the server (its
    /// `meta.json` with it: searches still read the files they have open,
    /// but nothing can be committed there), or a rebuild left no writer.
    pub fn is_gone(&self) -> bool {
        self.writer.is_none()
            || self
                .dir
                .as_ref()
                .is_some_and(|dir| !dir.join("meta.json").exists())
    }

    /// Throws the index away and starts an empty one in its place; searches
    /// go on reading the old one until the new one's first commit, which
    /// `is_rebuilding` waits for.
    pub fn recreate(&mut self) -> Result<(), IndexError> {
        // The old writer goes first: it holds the folder's lock and threads
        // that may still write there.
        drop(self.writer.take());
        self.fresh = None;
        let (schema, _) = schema::build();
        let index = match &self.dir {
            Some(dir) => recreate(dir, schema)?,
            None => create_in_ram(schema)?,
        };
        let (writer, reader) = engine(&index)?;
        self.writer = Some(writer);
        self.fresh = Some(reader);
        Ok(())
    }

    /// Whether a recreated index waits for its first commit.
    pub fn is_rebuilding(&self) -> bool {
        self.fresh.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc as StdArc;
    use tantivy::directory::error::OpenWriteError;

    #[test]
    fn the_cause_of_an_index_error_names_no_path() {
        let path = PathBuf::from("/srv/quire/data/index/v6/abc.fieldnorm");
        let enospc = std::io::Error::from_raw_os_error(28);
        let errors = [
            IndexError::Engine(tantivy::TantivyError::OpenWriteError(
                OpenWriteError::IoError {
                    io_error: StdArc::new(enospc),
                    filepath: path.clone(),
                },
            )),
            IndexError::Engine(tantivy::TantivyError::ErrorInThread(format!(
                "PathError {{ path: {path:?}, err: Os {{ code: 28, kind: StorageFull }} }}"
            ))),
            IndexError::Engine(tantivy::TantivyError::InternalError(
                "No space left on device (os error 28)".into(),
            )),
            IndexError::Folder {
                path: path.clone(),
                source: std::io::Error::from_raw_os_error(28),
            },
            // tempfile's error: the OS error wrapped with the path.
            IndexError::Engine(tantivy::TantivyError::OpenWriteError(
                OpenWriteError::IoError {
                    io_error: StdArc::new(std::io::Error::new(
                        std::io::ErrorKind::StorageFull,
                        std::io::Error::from_raw_os_error(28),
                    )),
                    filepath: path.clone(),
                },
            )),
        ];
        for e in errors {
            assert_eq!(e.cause(), "No space left on device (os error 28)", "{e:?}");
        }
        let custom = IndexError::Io(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("{} is gone", path.display()),
        ));
        assert_eq!(custom.cause(), "entity not found");
        let corrupt = IndexError::Engine(tantivy::TantivyError::DataCorruption(
            tantivy::error::DataCorruption::new(path, "bad block".into()),
        ));
        assert_eq!(corrupt.cause(), "the index is damaged");
    }
}
