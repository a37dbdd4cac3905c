//! Tickets in customers' words (`--tickets tests/tickets/tickets.toml`):
//! each is matched as the inbox sidebar matches a conversation
//! (`search::similar`, what `/api/v1/match` runs), in the ticket's language, and counts
//! where the first card of the expected card's translation family lands.
//! Four systems in one run: Quire with the folder's `_synonyms.yaml` and
//! the shipped lexicon, Quire without the lexicon, Quire without either,
//! and the plain tantivy baseline searching the ticket's text in the
//! ticket's language.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use quire::Kb;
use quire::content::synonyms;
use quire::search::lexicon::Lexicon;
use quire::search::{SearchRequest, Ticket as Asked, reader, similar_with};
use serde::Deserialize;

use crate::baseline::Baseline;

#[derive(Deserialize)]
struct File {
    ticket: Vec<Ticket>,
}

#[derive(Deserialize, Clone)]
pub struct Ticket {
    pub lang: String,
    /// `same`: a card of the answer's family is in the ticket's language;
    /// `cross`: none is.
    pub kind: String,
    pub subject: String,
    pub body: String,
    pub expect: String,
}

/// The 1-based rank of the expected family under each system.
struct Outcome {
    ticket: Ticket,
    with_synonyms: Option<usize>,
    without: Option<usize>,
    without_lexicon: Option<usize>,
    baseline: Option<usize>,
    top: Vec<String>,
}

/// Runs the evaluation and prints it; fails when Quire's top-3 over every
/// ticket is below `floor` percent.
pub fn run(
    kb: &Kb,
    baseline: &Baseline,
    file: &Path,
    misses: bool,
    floor: Option<f64>,
) -> Result<()> {
    let top3 = evaluate(kb, baseline, file, misses)?;
    if let Some(floor) = floor {
        anyhow::ensure!(top3 >= floor, "tickets top-3 {top3:.1}% is below {floor}%");
    }
    Ok(())
}

/// Runs the evaluation; returns the top-3 share (percent) of Quire with
/// synonyms over every ticket.
fn evaluate(kb: &Kb, baseline: &Baseline, file: &Path, misses: bool) -> Result<f64> {
    let text = std::fs::read_to_string(file).with_context(|| format!("read {}", file.display()))?;
    let tickets = toml::from_str::<File>(&text)
        .with_context(|| format!("parse {}", file.display()))?
        .ticket;
    let family = |id: &str| -> String {
        let catalog = kb.catalog();
        quire::content::CardId::new(id)
            .ok()
            .and_then(|id| catalog.get(&id).map(|c| c.family.clone()))
            .unwrap_or_else(|| id.to_lowercase())
    };
    let rank = |ids: &[String], expect: &str| -> Option<usize> {
        let wanted = family(expect);
        let mut seen = Vec::new();
        for id in ids {
            let f = family(id);
            if !seen.contains(&f) {
                seen.push(f.clone());
            }
            if f == wanted {
                return Some(seen.len());
            }
        }
        None
    };
    let groups = kb
        .catalog()
        .synonyms()
        .map(|g| g.as_ref().clone())
        .unwrap_or_default();
    let mut outcomes = Vec::with_capacity(tickets.len());
    for ticket in tickets {
        let asked = Asked {
            subject: ticket.subject.clone(),
            body: ticket.body.clone(),
            tags: Vec::new(),
        };
        let mut request = SearchRequest::new("");
        request.limit = 8;
        request.snippets = false;
        request.prefer_langs = reader::from_accept_language(&ticket.lang);
        let ids = |kb: &Kb, lexicon: &Lexicon| -> Result<Vec<String>> {
            Ok(similar_with(&kb.index, &asked, &request, lexicon)?
                .hits
                .iter()
                .map(|h| h.card.id.as_str().to_string())
                .collect())
        };
        kb.index.set_synonyms(&groups);
        let top = ids(kb, Lexicon::shipped())?;
        let without_lexicon = ids(kb, &Lexicon::default())?;
        kb.index.set_synonyms(&[]);
        let without = ids(kb, &Lexicon::default())?;
        let theirs = baseline.search(
            &format!("{}\n{}", ticket.subject, ticket.body),
            &ticket.lang,
            8,
        )?;
        outcomes.push(Outcome {
            with_synonyms: rank(&top, &ticket.expect),
            without: rank(&without, &ticket.expect),
            without_lexicon: rank(&without_lexicon, &ticket.expect),
            baseline: rank(&theirs, &ticket.expect),
            top,
            ticket,
        });
    }
    kb.index.set_synonyms(&groups);
    if misses {
        print_misses(&outcomes);
    }
    print_table(&outcomes, groups.len());
    let top3 = outcomes
        .iter()
        .filter(|o| o.with_synonyms.is_some_and(|r| r <= 3))
        .count();
    Ok(100.0 * top3 as f64 / outcomes.len().max(1) as f64)
}

fn print_misses(outcomes: &[Outcome]) {
    for o in outcomes
        .iter()
        .filter(|o| o.with_synonyms.is_none_or(|r| r > 3))
    {
        println!(
            "miss [{} · {}] {:?} -> {} (rank {:?}); top 3: {:?}",
            o.ticket.lang,
            o.ticket.kind,
            o.ticket.subject,
            o.ticket.expect,
            o.with_synonyms,
            &o.top[..o.top.len().min(3)]
        );
    }
}

fn print_table(outcomes: &[Outcome], groups: usize) {
    println!(
        "\n{} tickets; {} synonym groups in {}\n",
        outcomes.len(),
        groups,
        synonyms::FILE
    );
    println!(
        "| tickets | n | Quire top-1 | Quire top-3 | without the lexicon top-3 | without lexicon and synonyms top-3 | tantivy top-3 |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut rows: BTreeMap<(String, String), Vec<&Outcome>> = BTreeMap::new();
    for o in outcomes {
        rows.entry((o.ticket.kind.clone(), "all".into()))
            .or_default()
            .push(o);
        rows.entry((o.ticket.kind.clone(), o.ticket.lang.clone()))
            .or_default()
            .push(o);
    }
    for ((kind, lang), list) in &rows {
        let share = |k: usize, of: &dyn Fn(&Outcome) -> Option<usize>| {
            100.0
                * list
                    .iter()
                    .filter(|o| of(o).is_some_and(|r| r <= k))
                    .count() as f64
                / list.len() as f64
        };
        println!(
            "| {kind} · {lang} | {} | {:.0}% | {:.0}% | {:.0}% | {:.0}% | {:.0}% |",
            list.len(),
            share(1, &|o| o.with_synonyms),
            share(3, &|o| o.with_synonyms),
            share(3, &|o| o.without_lexicon),
            share(3, &|o| o.without),
            share(3, &|o| o.baseline),
        );
    }
}
