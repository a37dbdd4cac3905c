//! The plain tantivy baseline: what a team gets from tantivy's own parts
//! in an afternoon. One title and one body field per language, each with
//! tantivy's default tokenizer, lowercasing and that language's stemmer
//! (Chinese: the default tokenizer alone); the query is analysed for the
//! language it is told and searched in that language's fields: every word
//! as a term (title x3), with one typo forgiven from five letters, and the
//! last word also as a prefix.

use anyhow::Result;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::{Language, LowerCaser, SimpleTokenizer, Stemmer, TextAnalyzer};
use tantivy::{Index, IndexReader, TantivyDocument, Term};

use crate::queries::Item;

const LANGS: [&str; 4] = ["en", "ru", "ro", "zh"];

pub struct Baseline {
    index: Index,
    reader: IndexReader,
    id: Field,
    /// (title, body) per language of `LANGS`.
    fields: Vec<(Field, Field)>,
}

impl Baseline {
    pub fn build(items: &[Item]) -> Result<Self> {
        let mut builder = Schema::builder();
        let id = builder.add_text_field("id", STRING | STORED);
        let text = |tokenizer: &str| {
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(tokenizer)
                    .set_index_option(IndexRecordOption::WithFreqsAndPositions),
            )
        };
        let fields: Vec<(Field, Field)> = LANGS
            .iter()
            .map(|lang| {
                (
                    builder.add_text_field(&format!("title_{lang}"), text(lang)),
                    builder.add_text_field(&format!("body_{lang}"), text(lang)),
                )
            })
            .collect();
        let index = Index::create_in_ram(builder.build());
        for lang in LANGS {
            index.tokenizers().register(lang, analyzer(lang));
        }
        // One thread: documents stay in the order given, so equal scores
        // order the same way on every run.
        let mut writer = index.writer_with_num_threads::<TantivyDocument>(1, 200_000_000)?;
        for item in items {
            let (title, body) = fields[slot(&item.lang)];
            let mut doc = TantivyDocument::new();
            doc.add_text(id, &item.id);
            doc.add_text(title, &item.title);
            doc.add_text(body, &item.body);
            writer.add_document(doc)?;
        }
        writer.commit()?;
        let reader = index.reader()?;
        Ok(Baseline {
            index,
            reader,
            id,
            fields,
        })
    }

    /// The ids of the top `limit` cards for `q`, told the language `lang`.
    pub fn search(&self, q: &str, lang: &str, limit: usize) -> Result<Vec<String>> {
        let (title, body) = self.fields[slot(lang)];
        let mut analyzer = self
            .index
            .tokenizers()
            .get(LANGS[slot(lang)])
            .unwrap_or_else(|| analyzer(lang));
        let mut stream = analyzer.token_stream(q);
        let mut words = Vec::new();
        while let Some(token) = stream.next() {
            words.push(token.text.clone());
        }
        let last = words.len().saturating_sub(1);
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (i, word) in words.iter().enumerate() {
            for (field, boost) in [(title, 3.0), (body, 1.0)] {
                let term = Term::from_field_text(field, word);
                let mut add = |q: Box<dyn Query>, b: f32| {
                    clauses.push((Occur::Should, Box::new(BoostQuery::new(q, b))));
                };
                add(
                    Box::new(TermQuery::new(term.clone(), IndexRecordOption::WithFreqs)),
                    boost,
                );
                if word.chars().count() >= 5 {
                    add(
                        Box::new(FuzzyTermQuery::new(term.clone(), 1, true)),
                        boost * 0.5,
                    );
                }
                if i == last {
                    add(
                        Box::new(FuzzyTermQuery::new_prefix(term, 0, true)),
                        boost * 0.5,
                    );
                }
            }
        }
        let query = BooleanQuery::new(clauses);
        let searcher = self.reader.searcher();
        let top = searcher.search(&query, &TopDocs::with_limit(limit).order_by_score())?;
        let mut ids = Vec::with_capacity(top.len());
        for (_, address) in top {
            let doc: TantivyDocument = searcher.doc(address)?;
            if let Some(id) = doc.get_first(self.id).and_then(|v| v.as_str()) {
                ids.push(id.to_string());
            }
        }
        Ok(ids)
    }
}

fn slot(lang: &str) -> usize {
    LANGS.iter().position(|l| *l == lang).unwrap_or(0)
}

fn analyzer(lang: &str) -> TextAnalyzer {
    let base = TextAnalyzer::builder(SimpleTokenizer::default()).filter(LowerCaser);
    let stemmer = match lang {
        "ru" => Language::Russian,
        "ro" => Language::Romanian,
        "zh" => return base.build(),
        _ => Language::English,
    };
    base.filter(Stemmer::new(stemmer)).build()
}
