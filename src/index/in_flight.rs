//! Back-pressure on tantivy's indexing queue. `add_document` queues up to
//! ten thousand documents before it blocks, and each of ours carries a
//! card's text three times (body, spellings, markdown): a cold build whose
//! cards were read faster than two threads could index them held most of
//! the corpus in that queue (peak 209–253 MiB at 10k cards; 179–205 while
//! reading was slower, 184–199 with this bound). Each document is counted
//! from when it is queued until tantivy drops it, indexed; the writer
//! waits while `MAX_IN_FLIGHT` are.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use tantivy::TantivyDocument;
use tantivy::schema::document::Document;

/// Documents queued and not yet indexed, at most: enough that both
/// indexing threads always have the next card at hand.
const MAX_IN_FLIGHT: usize = 256;

/// The longest a document waits for a place.
const MAX_WAIT: Duration = Duration::from_secs(2);

/// The count of documents in flight, shared by the writer and the
/// documents it queued.
#[derive(Default)]
pub(crate) struct InFlight {
    count: Mutex<usize>,
    drained: Condvar,
}

impl InFlight {
    /// `doc`, counted in flight, once fewer than `MAX_IN_FLIGHT` are, or
    /// after `MAX_WAIT` regardless: indexing threads that died (a full
    /// disk) give no place back, and tantivy's `add_document` is what
    /// tells the writer so.
    pub(crate) fn queue(self: &Arc<Self>, doc: TantivyDocument) -> Queued {
        let count = self.count.lock().unwrap_or_else(PoisonError::into_inner);
        let (mut count, _) = self
            .drained
            .wait_timeout_while(count, MAX_WAIT, |count| *count >= MAX_IN_FLIGHT)
            .unwrap_or_else(PoisonError::into_inner);
        *count += 1;
        Queued {
            doc,
            _counted: Counted(self.clone()),
        }
    }

    #[cfg(test)]
    fn now(&self) -> usize {
        *self.count.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A document on its way through tantivy's queue.
pub(crate) struct Queued {
    doc: TantivyDocument,
    _counted: Counted,
}

/// Gives a document's place back when tantivy drops it.
struct Counted(Arc<InFlight>);

impl Drop for Counted {
    fn drop(&mut self) {
        let mut count = self.0.count.lock().unwrap_or_else(PoisonError::into_inner);
        let was_full = *count >= MAX_IN_FLIGHT;
        *count = count.saturating_sub(1);
        let has_room = *count < MAX_IN_FLIGHT;
        drop(count);
        // The writer waits only while the queue is full: it is woken when
        // a place frees up, not at every document (a wake-up is a system
        // call, and there are as many documents as cards).
        if was_full && has_room {
            self.0.drained.notify_one();
        }
    }
}

impl Document for Queued {
    type Value<'a> = <TantivyDocument as Document>::Value<'a>;
    type FieldsValuesIter<'a> = <TantivyDocument as Document>::FieldsValuesIter<'a>;

    fn iter_fields_and_values(&self) -> Self::FieldsValuesIter<'_> {
        self.doc.iter_fields_and_values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_is_in_flight_until_it_is_dropped() {
        let in_flight = Arc::new(InFlight::default());
        let first = in_flight.queue(TantivyDocument::new());
        let second = in_flight.queue(TantivyDocument::new());
        assert_eq!(in_flight.now(), 2);
        drop(first);
        assert_eq!(in_flight.now(), 1);
        drop(second);
        assert_eq!(in_flight.now(), 0);
    }

    #[test]
    fn a_writer_whose_queue_never_drains_goes_on_after_a_while() {
        let in_flight = Arc::new(InFlight::default());
        let _stuck: Vec<Queued> = (0..MAX_IN_FLIGHT)
            .map(|_| in_flight.queue(TantivyDocument::new()))
            .collect();
        let started = std::time::Instant::now();
        let _late = in_flight.queue(TantivyDocument::new());
        assert!(started.elapsed() >= MAX_WAIT);
        assert_eq!(in_flight.now(), MAX_IN_FLIGHT + 1);
    }

    #[test]
    fn the_writer_waits_while_the_queue_is_full() {
        let in_flight = Arc::new(InFlight::default());
        let mut full: Vec<Queued> = (0..MAX_IN_FLIGHT)
            .map(|_| in_flight.queue(TantivyDocument::new()))
            .collect();
        let writer = {
            let in_flight = in_flight.clone();
            std::thread::spawn(move || {
                let started = std::time::Instant::now();
                let queued = in_flight.queue(TantivyDocument::new());
                (queued, started.elapsed())
            })
        };
        // The writer can only go on once a place is given back, and then
        // at once, not at the time limit.
        assert!(!writer.is_finished());
        full.pop();
        let (queued, waited) = writer.join().expect("the writer goes on");
        assert!(waited < MAX_WAIT, "{waited:?}");
        assert_eq!(in_flight.now(), MAX_IN_FLIGHT, "never more than the bound");
        drop((queued, full));
        assert_eq!(in_flight.now(), 0);
    }
}
