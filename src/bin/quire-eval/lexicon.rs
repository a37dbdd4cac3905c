//! Learning the word lexicon from tldr-pages: each page of `pages.ru`,
//! `pages.ro` and `pages.zh` translates the English page of the same path
//! line for line (the description lines `> …`, the example lines `- …`,
//! and the placeholders `{{…}}` of each command), so the i-th line of a
//! translation and of its original are a pair.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use quire::search::lexicon::{Entry, Learner};

/// The translated folders and their languages.
const TRANSLATIONS: [(&str, &str); 3] =
    [("pages.ru", "ru"), ("pages.ro", "ro"), ("pages.zh", "zh")];

/// Every page translated into a language and the English original, as
/// relative paths under `pages/`.
pub fn translated_pages(root: &Path, folder: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.join(folder)];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "md")
                && let Ok(rel) = path.strip_prefix(root.join(folder))
                && root.join("pages").join(rel).is_file()
            {
                out.push(rel.to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// The lines of a page that say something, in order: descriptions,
/// example descriptions, and each command's placeholders.
fn lines(page: &str) -> Option<(Vec<String>, Vec<String>)> {
    let mut prose = Vec::new();
    let mut placeholders = Vec::new();
    for line in page.lines() {
        let line = line.trim();
        if let Some(text) = line.strip_prefix("> ").or_else(|| line.strip_prefix("- ")) {
            // "[c]reate" marks a command's option letter; a link is no prose.
            let text = match text.find("<http") {
                Some(at) => &text[..at],
                None => text,
            };
            prose.push(text.replace(['[', ']'], ""));
        } else if line.starts_with('`') {
            let mut held = Vec::new();
            let mut rest = line;
            while let Some(start) = rest.find("{{") {
                let after = &rest[start + 2..];
                let Some(end) = after.find("}}") else { break };
                held.push(after[..end].replace(['/', '_', '-', '.'], " "));
                rest = &after[end + 2..];
            }
            placeholders.push(held.join(" "));
        }
    }
    (!prose.is_empty()).then_some((prose, placeholders))
}

/// Learns from every translated page whose lines pair with its
/// original's, except those `held_out` says to leave for evaluation.
pub fn learn(root: &Path, held_out: &dyn Fn(&Path) -> bool) -> Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for (folder, lang) in TRANSLATIONS {
        let mut learner = Learner::new(lang);
        let (mut used, mut skipped) = (0, 0);
        for rel in translated_pages(root, folder) {
            if held_out(&rel) {
                continue;
            }
            let read = |dir: &str| {
                std::fs::read_to_string(root.join(dir).join(&rel))
                    .with_context(|| format!("read {dir}/{}", rel.display()))
            };
            let (translated, original) = (read(folder)?, read("pages")?);
            let (Some((t_prose, t_held)), Some((o_prose, o_held))) =
                (lines(&translated), lines(&original))
            else {
                skipped += 1;
                continue;
            };
            // A translation behind its original has other lines: no pairs.
            if t_prose.len() != o_prose.len() || t_held.len() != o_held.len() {
                skipped += 1;
                continue;
            }
            used += 1;
            for (t, o) in t_prose
                .iter()
                .zip(&o_prose)
                .chain(t_held.iter().zip(&o_held))
            {
                learner.add(t, o);
            }
        }
        let learned = learner.finish();
        eprintln!(
            "{lang}: {used} pages paired, {skipped} skipped (lines differ), {} translations",
            learned.len()
        );
        entries.extend(learned);
    }
    Ok(entries)
}

/// Whether a page is left out of learning and asked instead: half of the
/// pages, by a hash of their path that does not change between runs.
fn held_out(rel: &Path) -> bool {
    let hash = rel
        .to_string_lossy()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    hash % 2 == 1
}

/// Matching across languages on tldr-pages: each held-out translated page's
/// prose (descriptions and examples, without its commands and inline code)
/// is matched as a ticket against the English pages only, and should find
/// its English original. Once with no lexicon, once with the lexicon
/// learned from the other half of the pages.
pub fn evaluate(kb: &quire::Kb, root: &Path, misses: bool) -> Result<()> {
    use quire::search::lexicon::Lexicon;
    use quire::search::{SearchRequest, Ticket, similar_with};

    let learned = Lexicon::new(&learn(root, &|rel| held_out(rel))?);
    let none = Lexicon::default();
    println!(
        "lexicon learned from the other half: {} words",
        learned.len()
    );
    println!();
    println!(
        "| asked in | n | no lexicon top-1 / top-3 / MRR | learned lexicon top-1 / top-3 / MRR |"
    );
    println!("|---|---|---|---|");
    for (folder, lang) in TRANSLATIONS {
        let mut ranks: [Vec<Option<usize>>; 2] = [Vec::new(), Vec::new()];
        for rel in translated_pages(root, folder)
            .into_iter()
            .filter(|r| held_out(r))
        {
            let page = std::fs::read_to_string(root.join(folder).join(&rel))?;
            let Some((prose, _)) = lines(&page) else {
                continue;
            };
            let body = prose
                .iter()
                .map(|l| without_code(l))
                .collect::<Vec<_>>()
                .join("\n");
            let expect = format!("pages/{}", rel.with_extension("").to_string_lossy());
            let ticket = Ticket {
                subject: String::new(),
                body,
                tags: Vec::new(),
            };
            let mut request = SearchRequest::new("");
            request.langs = vec!["en".to_string()];
            request.snippets = false;
            for (slot, lexicon) in ranks.iter_mut().zip([&none, &learned]) {
                let hits = similar_with(&kb.index, &ticket, &request, lexicon)?.hits;
                slot.push(
                    hits.iter()
                        .position(|h| h.card.id.as_str() == expect)
                        .map(|i| i + 1),
                );
            }
            if misses && ranks[1].last().is_some_and(|r| r.is_none_or(|r| r > 3)) {
                println!("miss [{lang}] {} -> {expect}", rel.display());
            }
        }
        let cell = |ranks: &[Option<usize>]| {
            let n = ranks.len().max(1) as f64;
            let within = |k: usize| ranks.iter().filter(|r| r.is_some_and(|r| r <= k)).count();
            let mrr: f64 = ranks.iter().flatten().map(|&r| 1.0 / r as f64).sum::<f64>() / n;
            format!(
                "{:.1}% / {:.1}% / {mrr:.3}",
                100.0 * within(1) as f64 / n,
                100.0 * within(3) as f64 / n
            )
        };
        println!(
            "| {lang} | {} | {} | {} |",
            ranks[0].len(),
            cell(&ranks[0]),
            cell(&ranks[1])
        );
    }
    Ok(())
}

/// A line without its inline code (`gzip`), which names the command in
/// every language alike.
fn without_code(line: &str) -> String {
    let mut out = String::new();
    for (i, part) in line.split('`').enumerate() {
        if i % 2 == 0 {
            out.push_str(part);
        }
    }
    out
}
