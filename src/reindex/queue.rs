//! The order in which the reindexer takes its work: an author's save goes
//! ahead of a bulk change queued before it (a `git checkout`, a sync), so a
//! saved card shows in well under a second even while thousands of others
//! are being re-read.
//!
//! A bulk change is applied in the order its files changed and committed in
//! steps (`CommitPace`), so a save caught in the middle of one waits for
//! what changed before it and one short step, not for all of it.
//!
//! Taking batches out of order is safe because applying a path reads the
//! disk as it is at that moment, not the event: whichever batch names a
//! path last applies the file's current state.

use std::collections::{HashSet, VecDeque};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::Command;
use crate::watch::Batch;

/// The most paths bulk batches merged into one apply add up to.
pub const MAX_MERGED_PATHS: usize = 4096;

/// Past this wait a queued batch goes first whatever its size, so a steady
/// stream of saves cannot hold a bulk change back for long.
pub const MAX_WAIT: Duration = Duration::from_secs(2);

/// The first step of a bulk change is committed after this much work.
pub const FIRST_STEP: Duration = Duration::from_millis(50);

/// For the first `SHORT_FOR` of a bulk change, no step is longer than this:
/// a save among the files of a checkout of a few thousand shows about this
/// long after the files that changed before it.
pub const SHORT_STEP: Duration = Duration::from_millis(100);
pub const SHORT_FOR: Duration = Duration::from_secs(1);

/// The longest step: past `SHORT_FOR`, each is twice the one before, up to
/// this, so a change of tens of thousands of files costs tens of commits,
/// not hundreds.
pub const LONGEST_STEP: Duration = Duration::from_secs(2);

/// When a bulk change is committed part way: after `FIRST_STEP` of work,
/// then every `SHORT_STEP` for the first `SHORT_FOR`, then after twice as
/// long each time. What changed first (a save among the first files of a
/// checkout) shows in about `FIRST_STEP` plus a commit, and a change of
/// 2,000 files costs about eight commits.
pub struct CommitPace {
    step: Duration,
    /// The work of this bulk change committed so far.
    spent: Duration,
}

impl Default for CommitPace {
    fn default() -> Self {
        CommitPace {
            step: FIRST_STEP,
            spent: Duration::ZERO,
        }
    }
}

impl CommitPace {
    /// When work started at `started` should stop and be committed.
    pub fn deadline(&self, started: Instant) -> Instant {
        started + self.step
    }

    /// A step was committed and the change goes on.
    pub fn stepped(&mut self) {
        self.spent += self.step;
        let longest = if self.spent < SHORT_FOR {
            SHORT_STEP
        } else {
            LONGEST_STEP
        };
        self.step = (self.step * 2).min(longest);
    }

    /// Nothing waits: the next change starts with a short step again.
    pub fn idle(&mut self) {
        *self = CommitPace::default();
    }
}

#[derive(Default)]
pub struct Queue {
    waiting: VecDeque<(Instant, Command)>,
}

impl Queue {
    pub fn push(&mut self, command: Command) {
        self.waiting.push_back((Instant::now(), command));
    }

    /// Back at the head of the queue: the rest of a batch that gave way.
    pub fn push_front(&mut self, command: Command) {
        self.waiting.push_front((Instant::now(), command));
    }

    /// Whether something waits that should not wait for bulk work.
    pub fn has_urgent(&self) -> bool {
        self.waiting
            .iter()
            .any(|(_, c)| matches!(c, Command::Stop) || is_small(c))
    }

    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }

    /// The next command: a stop at once, then the oldest batch that has
    /// waited too long, then the oldest small batch, then the oldest of all.
    /// A bulk batch taken comes with every other bulk batch waiting (up to
    /// `MAX_MERGED_PATHS`), so a large change costs a few commits, not one
    /// per watcher batch.
    pub fn pop(&mut self) -> Option<Command> {
        let pick = self
            .position(|_, c| matches!(c, Command::Stop))
            .or_else(|| self.position(|queued, _| queued.elapsed() >= MAX_WAIT))
            .or_else(|| self.position(|_, c| is_small(c)))
            .unwrap_or(0);
        let (_, command) = self.waiting.remove(pick)?;
        let Command::Apply(mut batch) = command else {
            return Some(command);
        };
        if is_small_batch(&batch) {
            return Some(Command::Apply(batch));
        }
        let mut seen: HashSet<PathBuf> = batch.paths.iter().cloned().collect();
        let mut i = 0;
        while i < self.waiting.len() {
            match &self.waiting[i].1 {
                Command::Apply(next)
                    if !next.rescan
                        && !is_small_batch(next)
                        && batch.paths.len() + next.paths.len() <= MAX_MERGED_PATHS =>
                {
                    if let Some((_, Command::Apply(next))) = self.waiting.remove(i) {
                        // Appended, not sorted in: the merged batch keeps
                        // the order the changes came in.
                        for path in next.paths {
                            if seen.insert(path.clone()) {
                                batch.paths.push(path);
                            }
                        }
                        batch.first_event = match (batch.first_event, next.first_event) {
                            (Some(a), Some(b)) => Some(a.min(b)),
                            (a, b) => a.or(b),
                        };
                    }
                }
                _ => i += 1,
            }
        }
        Some(Command::Apply(batch))
    }

    fn position(&self, wanted: impl Fn(&Instant, &Command) -> bool) -> Option<usize> {
        self.waiting
            .iter()
            .position(|(queued, c)| wanted(queued, c))
    }
}

fn is_small(command: &Command) -> bool {
    matches!(command, Command::Apply(batch) if is_small_batch(batch))
}

fn is_small_batch(batch: &Batch) -> bool {
    !batch.rescan && batch.paths.len() <= crate::watch::SAVE_PATHS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(paths: usize) -> Command {
        named_batch("card", paths)
    }

    fn named_batch(name: &str, paths: usize) -> Command {
        let mut batch = Batch::default();
        for n in 0..paths {
            batch.paths.push(format!("{name}-{n}.md").into());
        }
        Command::Apply(batch)
    }

    fn size(command: Option<Command>) -> Option<usize> {
        match command? {
            Command::Apply(batch) => Some(batch.paths.len()),
            Command::Reconcile | Command::Synced(_) => Some(usize::MAX),
            Command::Stop => Some(0),
        }
    }

    #[test]
    fn a_save_goes_ahead_of_a_bulk_change_queued_before_it() {
        let mut queue = Queue::default();
        queue.push(batch(256));
        queue.push(batch(1));
        assert_eq!(size(queue.pop()), Some(1));
        assert_eq!(size(queue.pop()), Some(256));
        assert_eq!(size(queue.pop()), None);
    }

    #[test]
    fn otherwise_work_is_taken_in_order() {
        let mut queue = Queue::default();
        queue.push(batch(300));
        queue.push(Command::Reconcile);
        queue.push(batch(2));
        queue.push(batch(3));
        assert_eq!(size(queue.pop()), Some(2));
        assert_eq!(size(queue.pop()), Some(3));
        assert_eq!(size(queue.pop()), Some(300));
        assert_eq!(size(queue.pop()), Some(usize::MAX));
    }

    #[test]
    fn bulk_batches_waiting_are_applied_together() {
        let mut queue = Queue::default();
        queue.push(named_batch("a", 100));
        queue.push(named_batch("b", 100));
        queue.push(batch(1));
        queue.push(named_batch("c", 100));
        assert_eq!(size(queue.pop()), Some(1));
        assert_eq!(size(queue.pop()), Some(300));
        assert!(queue.is_empty());
    }

    fn paths(command: Option<Command>) -> Vec<String> {
        match command {
            Some(Command::Apply(batch)) => batch
                .paths
                .iter()
                .map(|p| p.display().to_string())
                .collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn merged_batches_keep_the_order_the_changes_came_in() {
        let mut queue = Queue::default();
        queue.push(named_batch("z", 10));
        queue.push(named_batch("a", 10));
        queue.push(named_batch("z", 12));
        let merged = paths(queue.pop());
        assert_eq!(merged.len(), 22, "each path once: {merged:?}");
        assert_eq!(merged[0], "z-0.md");
        assert_eq!(merged[10], "a-0.md");
        assert_eq!(merged[20..], ["z-10.md", "z-11.md"]);
    }

    #[test]
    fn bulk_steps_stay_short_for_a_second_then_double_until_the_longest() {
        let mut pace = CommitPace::default();
        let now = Instant::now();
        let mut steps = vec![];
        for _ in 0..20 {
            steps.push(pace.deadline(now) - now);
            pace.stepped();
        }
        assert_eq!(steps[0], FIRST_STEP);
        assert_eq!(steps[1], SHORT_STEP);
        let short: Duration = steps.iter().take_while(|s| **s <= SHORT_STEP).sum();
        assert!(short >= SHORT_FOR, "short steps for {short:?}");
        assert!(steps.windows(2).all(|w| w[1] >= w[0]), "{steps:?}");
        assert_eq!(steps[19], LONGEST_STEP);
        pace.idle();
        assert_eq!(pace.deadline(now), now + FIRST_STEP);
    }

    #[test]
    fn merged_batches_stay_under_the_cap() {
        let mut queue = Queue::default();
        for name in ["a", "b", "c"] {
            queue.push(named_batch(name, MAX_MERGED_PATHS / 2));
        }
        assert_eq!(size(queue.pop()), Some(MAX_MERGED_PATHS));
        assert_eq!(size(queue.pop()), Some(MAX_MERGED_PATHS / 2));
    }

    #[test]
    fn a_stop_is_taken_at_once() {
        let mut queue = Queue::default();
        queue.push(batch(1));
        queue.push(Command::Stop);
        assert_eq!(size(queue.pop()), Some(0));
    }

    #[test]
    fn a_bulk_change_that_waited_too_long_goes_first() {
        let mut queue = Queue::default();
        queue.push(batch(100));
        queue.push(batch(1));
        let queued = &mut queue.waiting[0].0;
        *queued = queued
            .checked_sub(MAX_WAIT)
            .expect("the clock is past two seconds");
        assert_eq!(size(queue.pop()), Some(100));
    }
}
