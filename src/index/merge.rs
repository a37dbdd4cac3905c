//! Merging the index into one segment once it is quiet. Every search looks
//! each of its words up once per segment, and a cold build leaves one
//! segment per indexing thread: on the generated 10k, two segments made a
//! typed search 5% slower and a zero-result one 28% (in process, against
//! the same cards in one segment). tantivy's own merge policy waits for
//! eight segments of a size, so it never joins those two.
//!
//! Only a split index is merged (its largest segment holds under nine
//! tenths of the cards): the small segments that saves add afterwards are
//! left to tantivy's policy, or every save would rewrite the whole index.

use std::sync::atomic::Ordering;

use super::IndexWriter;

/// An index whose largest segment holds less than this share of the cards
/// is merged into one.
const LARGEST_SHARE: f64 = 0.9;

/// What `IndexWriter::merge_if_split` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Merge {
    Started,
    /// The index is in one piece, or has no writer.
    NotNeeded,
    /// Not now: a merge or a rebuild runs, or the checksums are being
    /// checked. Ask again later.
    NotYet,
}

impl IndexWriter {
    /// Starts merging every segment into one on tantivy's merge thread
    /// when the index is split; searches see the merged segment when the
    /// merge ends (another thread reloads the reader then). Not during a
    /// rebuild, nor while a merge runs, nor before the checksum pass has
    /// found the files intact: a merge rewrites their checksums (see
    /// `damage::Damage`).
    pub fn merge_if_split(&mut self) -> Merge {
        if self.fresh.is_some()
            || self.merging.load(Ordering::Acquire)
            || !self.read.shared.damage.is_checked_intact()
        {
            return Merge::NotYet;
        }
        let Some(writer) = self.writer.as_mut() else {
            return Merge::NotNeeded;
        };
        let Ok(metas) = writer.index().searchable_segment_metas() else {
            return Merge::NotYet;
        };
        let docs: Vec<u32> = metas.iter().map(|m| m.num_docs()).collect();
        if !is_split(&docs) {
            return Merge::NotNeeded;
        }
        let ids: Vec<_> = metas.iter().map(|m| m.id()).collect();
        let merge = writer.merge(&ids);
        self.merging.store(true, Ordering::Release);
        let merging = self.merging.clone();
        let read = self.read.clone();
        let waiter = std::thread::Builder::new()
            .name("quire-merge".into())
            .spawn(move || {
                match merge.wait() {
                    Ok(_) => {
                        if let Err(e) = read.reader().reload() {
                            tracing::warn!("the merged index could not be read yet: {e}");
                        }
                    }
                    // A segment that tantivy's own policy is merging, or a
                    // writer dropped meanwhile: tried again when next quiet.
                    Err(e) => tracing::debug!("the index was not merged: {e}"),
                }
                merging.store(false, Ordering::Release);
            });
        if waiter.is_err() {
            // The merge runs all the same; searches see it after the next commit.
            self.merging.store(false, Ordering::Release);
        }
        Merge::Started
    }
}

/// Whether segments of these sizes (live cards) are worth merging into one.
fn is_split(docs: &[u32]) -> bool {
    let total: u64 = docs.iter().map(|&d| u64::from(d)).sum();
    let largest = docs.iter().copied().max().unwrap_or(0);
    docs.len() > 1 && total > 0 && (f64::from(largest)) < LARGEST_SHARE * total as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_split_index_is_merged_and_one_with_a_few_saves_beside_it_is_not() {
        assert!(is_split(&[5_000, 5_000]), "a cold build's two halves");
        assert!(is_split(&[8_000, 1_000, 1_000]));
        assert!(!is_split(&[10_000, 1, 1, 1]), "saves beside a merged index");
        assert!(!is_split(&[10_000]));
        assert!(!is_split(&[]));
        assert!(!is_split(&[0, 0]), "nothing to merge");
    }
}
