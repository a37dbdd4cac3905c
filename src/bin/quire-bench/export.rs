//! A content folder written out for another engine: JSON lines of each
//! card's title and plain text as Quire reads them (the cards Quire's own
//! walk finds, parsed by its own card parser), or a static site of rendered
//! pages. Reads the folder only.

use std::io::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use quire::content::markdown::{Target, render, without_code_markers};
use quire::content::{ContentDir, FileKind, Limits, ParsedCard, card};

/// Every card of `content` parsed, in the walk's order; files that are not
/// cards (folder pages, attachments) and files Quire cannot read as a card
/// are left out, as its index leaves them out.
fn cards(content: &Path) -> Result<Vec<ParsedCard>> {
    let dir = ContentDir::open(content)
        .with_context(|| format!("opening the folder {}", content.display()))?;
    let (files, _) = dir.walk("");
    let mut cards = Vec::new();
    for file in files.iter().filter(|f| f.kind == FileKind::Card) {
        let bytes = dir
            .read(&file.rel_path)
            .with_context(|| format!("reading {}", file.rel_path))?;
        if let Ok(parsed) = card::parse(&file.rel_path, &bytes, file.stamp, Limits::default()) {
            cards.push(parsed);
        }
    }
    Ok(cards)
}

/// Writes `{"title", "body"}` per card to `out`, the body the card's text
/// as a reader sees it (markdown and front matter gone); returns how many.
pub fn json_lines(content: &Path, out: &Path) -> Result<usize> {
    let cards = cards(content)?;
    let file = std::fs::File::create(out).with_context(|| format!("creating {}", out.display()))?;
    let mut file = std::io::BufWriter::new(file);
    for parsed in &cards {
        serde_json::to_writer(
            &mut file,
            &serde_json::json!({
                "title": parsed.card.title,
                // The outline's code markers are Quire's, not the card's.
                "body": without_code_markers(&parsed.text),
            }),
        )?;
        file.write_all(b"\n")?;
    }
    file.flush()?;
    eprintln!("wrote {} cards to {}", cards.len(), out.display());
    Ok(cards.len())
}

/// Each card as a static HTML page with its rendered body, as a docs
/// generator would leave it for pagefind.
pub fn html_site(content: &Path, out: &Path) -> Result<()> {
    let _ = std::fs::remove_dir_all(out);
    let cards = cards(content)?;
    for parsed in &cards {
        let body = render(&parsed.markdown, &|link| Target::Url {
            href: format!("/{}.html", link.target),
            title: None,
        });
        let title = quire::search::escape_html(&parsed.card.title);
        let page = format!(
            "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\
             <body><main data-pagefind-body><h1>{title}</h1>{body}</main></body></html>\n",
            parsed.card.lang
        );
        let path = out.join(format!("{}.html", parsed.card.id));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, page)?;
    }
    eprintln!("wrote {} pages under {}", cards.len(), out.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_is_exported_as_each_cards_title_and_text() {
        let dir = tempfile::tempdir().unwrap();
        let content = dir.path().join("content");
        std::fs::create_dir_all(content.join("billing")).unwrap();
        std::fs::write(
            content.join("billing/refunds.md"),
            "---\ntitle: Refunds\n---\nRefunds take **five** days.\n",
        )
        .unwrap();
        std::fs::write(content.join("tar.md"), "# tar\n\n> Archiving utility.\n").unwrap();
        std::fs::write(
            content.join("billing/_index.md"),
            "---\ntitle: Billing\n---\n",
        )
        .unwrap();
        std::fs::write(content.join("logo.png"), b"\x89PNG").unwrap();
        let out = dir.path().join("cards.jsonl");

        assert_eq!(json_lines(&content, &out).unwrap(), 2);
        let mut lines: Vec<serde_json::Value> = std::fs::read_to_string(&out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        lines.sort_by_key(|l| l["title"].as_str().unwrap_or_default().to_string());
        assert_eq!(lines[0]["title"], "Refunds");
        assert!(
            lines[0]["body"]
                .as_str()
                .unwrap()
                .contains("Refunds take five days.")
        );
        assert_eq!(lines[1]["title"], "tar");
        assert!(
            lines[1]["body"]
                .as_str()
                .unwrap()
                .contains("Archiving utility.")
        );
    }
}
