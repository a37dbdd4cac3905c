//! The search log's writer thread: events capped in size, written in
//! batches of one transaction each, old ones pruned daily; between batches
//! it watches the database file (`Db::watch`) and checks it once at start.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};

use rusqlite::{Connection, params};

use super::file::Db;
use super::schema::normalize;
use super::{OpenEvent, SearchEvent, StoreError, now};

/// What a logged row may hold, in bytes (cut on a char boundary; the
/// query's bound is the schema's): filters are kept only for context; a
/// request with 30,000 `tag=` values must not become a 200 KB row.
pub use super::schema::MAX_QUERY_BYTES;
pub const MAX_FILTERS_BYTES: usize = 1024;
pub const MAX_CARD_ID_BYTES: usize = 1024;
pub const MAX_SOURCE_BYTES: usize = 32;

/// A batch is written when it holds this many events or this long passed.
/// Under load a batch fills before its time, and the more it holds, the
/// more of its searches are repeats written as one row (`counted`): at
/// 256, 60,000 cached searches a second of 200 distinct queries were
/// written as 47,000 rows a second, a seventh of the server's CPU.
pub(super) const BATCH: usize = 4096;
pub(super) const BATCH_WAIT: Duration = Duration::from_millis(500);
/// How often a batch being gathered looks for more events.
const GATHER_EVERY: Duration = Duration::from_millis(20);
/// How often the file is compared with the path while nothing is logged.
const WATCH_EVERY: Duration = Duration::from_secs(1);

pub(super) enum Event {
    Search(SearchEvent),
    Open(OpenEvent),
}

impl Event {
    /// The event with every field cut to its cap, before it is queued.
    pub(super) fn capped(self) -> Event {
        match self {
            Event::Search(mut s) => {
                cap(&mut s.query, MAX_QUERY_BYTES);
                cap(&mut s.filters, MAX_FILTERS_BYTES);
                s.source = capped_str(s.source, MAX_SOURCE_BYTES);
                Event::Search(s)
            }
            Event::Open(mut o) => {
                cap(&mut o.card_id, MAX_CARD_ID_BYTES);
                if let Some(q) = &mut o.query {
                    cap(q, MAX_QUERY_BYTES);
                }
                o.source = capped_str(o.source, MAX_SOURCE_BYTES);
                Event::Open(o)
            }
        }
    }
}

/// Cuts `text` to at most `max` bytes, on a char boundary.
pub(super) fn cap(text: &mut String, max: usize) {
    let end = boundary(text, max);
    text.truncate(end);
}

fn capped_str(text: &'static str, max: usize) -> &'static str {
    &text[..boundary(text, max)]
}

fn boundary(text: &str, max: usize) -> usize {
    if text.len() <= max {
        return text.len();
    }
    (0..=max)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0)
}

/// The thread's loop, until the store is dropped: `retention` (seconds) is
/// `None` when searches are not logged.
pub(super) fn run(db: Arc<Db>, rx: Receiver<Event>, retention: Option<i64>) {
    in_the_background();
    db.check_integrity();
    let mut last_pruned = None;
    loop {
        if let Some(retention) = retention
            && last_pruned.is_none_or(|at: Instant| at.elapsed() > Duration::from_secs(86_400))
        {
            prune(&db, now() - retention);
            last_pruned = Some(Instant::now());
        }
        let first = match rx.recv_timeout(WATCH_EVERY) {
            Ok(event) => event,
            Err(RecvTimeoutError::Timeout) => {
                db.watch();
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let mut batch = vec![first];
        let started = Instant::now();
        // Take what is queued, then look again a little later, rather than
        // wake for each event: under load every search is an event, and a
        // wake-up per search was 5% of the CPU of cached searches (perf).
        let mut closed = false;
        'gather: loop {
            while batch.len() < BATCH {
                match rx.try_recv() {
                    Ok(event) => batch.push(event),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        closed = true;
                        break 'gather;
                    }
                }
            }
            let left = BATCH_WAIT.saturating_sub(started.elapsed());
            if batch.len() >= BATCH || left.is_zero() {
                break;
            }
            std::thread::sleep(left.min(GATHER_EVERY));
        }
        match db.write(|conn| write_batch(conn, &batch)) {
            Ok(()) => {}
            // Said once, when the damage was found, and on `/healthz`.
            Err(StoreError::Damaged) => {
                tracing::debug!("search log not written: {}", StoreError::Damaged)
            }
            Err(e) => tracing::warn!("writing the search log: {e}"),
        }
        if closed {
            return;
        }
    }
}

/// How far the log's thread stands back from the requests (nice 10: a
/// tenth of the share of a request thread when they compete).
const NICE: i32 = 10;

/// Lets the requests whose searches are logged go first. A batch of a few
/// hundred rows took a core for a millisecond or more, and the requests
/// behind it waited: a kept search's p99 under wrk's 16 connections on two
/// cores was 2.0-4.1 ms, 1.2-1.6 ms with this thread a batch thread at
/// nice 10 (four runs each, alternated; this machine's spread is wide, and
/// with the log off p99 still ranged 0.6-2.4 ms). A batch thread is not
/// woken ahead of a running one. It still writes every event unless the
/// requests leave it no time at all, when the queue fills and events are
/// dropped (`QUEUE`), as they were before at full load.
fn in_the_background() {
    #[cfg(target_os = "linux")]
    {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: both calls only change the scheduling of the calling
        // thread (pid 0 is the caller on Linux, where each thread is a
        // task); `param` outlives the call.
        let (batch, nice) = unsafe {
            (
                libc::sched_setscheduler(0, libc::SCHED_BATCH, &param),
                libc::setpriority(libc::PRIO_PROCESS, 0, NICE),
            )
        };
        if batch != 0 || nice != 0 {
            tracing::debug!("the search log's thread keeps its normal priority");
        }
    }
}

fn prune(db: &Db, cutoff: i64) {
    let pruned = db.write(|conn| {
        conn.execute("DELETE FROM searches WHERE at < ?1", [cutoff])?;
        conn.execute("DELETE FROM opens WHERE at < ?1", [cutoff])
    });
    if let Err(e) = pruned {
        tracing::warn!("pruning the search log: {e}");
    }
}

/// A batch's searches, each distinct one once with how many times it came
/// (same second, query, filters, hits and source), in the order first
/// seen; and its openings. Both backends write a search as one row with a
/// count: under load most searches repeat one another (a busy sidebar, a
/// script, a benchmark), and a row apiece cost a kept search about 5 of
/// its 27 us of server CPU.
pub(super) fn counted(batch: &[Event]) -> (Vec<(&SearchEvent, i64)>, Vec<&OpenEvent>) {
    type Key<'a> = (i64, &'a str, &'a str, u64, &'static str);
    let mut searches: Vec<(&SearchEvent, i64)> = Vec::new();
    let mut seen: HashMap<Key, usize> = HashMap::new();
    let mut opens = Vec::new();
    for event in batch {
        match event {
            Event::Search(s) => {
                let key = (s.at, s.query.as_str(), s.filters.as_str(), s.hits, s.source);
                match seen.get(&key) {
                    Some(&slot) => searches[slot].1 += 1,
                    None => {
                        seen.insert(key, searches.len());
                        searches.push((s, 1));
                    }
                }
            }
            Event::Open(o) => opens.push(o),
        }
    }
    (searches, opens)
}

fn write_batch(conn: &mut Connection, batch: &[Event]) -> Result<(), rusqlite::Error> {
    let (searches, opens) = counted(batch);
    let tx = conn.transaction()?;
    for (s, times) in searches {
        tx.prepare_cached(
            "INSERT INTO searches (at, query, normalized, filters, hits, source, times) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            s.at,
            s.query,
            normalize(&s.query),
            s.filters,
            s.hits as i64,
            s.source,
            times
        ])?;
    }
    for o in opens {
        tx.prepare_cached(
            "INSERT INTO opens (at, card_id, query, normalized, source) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            o.at,
            o.card_id,
            o.query,
            o.query.as_deref().map(normalize),
            o.source
        ])?;
    }
    tx.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(at: i64, query: &str, hits: u64) -> Event {
        Event::Search(SearchEvent {
            at,
            query: query.into(),
            filters: String::new(),
            hits,
            source: "api",
        })
    }

    #[test]
    fn a_batch_counts_each_distinct_search_once_in_the_order_first_seen() {
        let batch = [
            search(10, "refund", 3),
            search(10, "vpn", 0),
            search(10, "refund", 3),
            // Another second, or other hits: another row.
            search(11, "refund", 3),
            search(10, "refund", 2),
            search(10, "refund", 3),
        ];
        let (searches, opens) = counted(&batch);
        let rows: Vec<(i64, &str, u64, i64)> = searches
            .iter()
            .map(|(s, times)| (s.at, s.query.as_str(), s.hits, *times))
            .collect();
        assert_eq!(
            rows,
            [
                (10, "refund", 3, 3),
                (10, "vpn", 0, 1),
                (11, "refund", 3, 1),
                (10, "refund", 2, 1)
            ]
        );
        assert!(opens.is_empty());
    }

    #[test]
    fn capping_cuts_on_a_char_boundary_and_keeps_short_text_whole() {
        let mut short = "refund".to_string();
        cap(&mut short, 10);
        assert_eq!(short, "refund");
        // "é" is two bytes: a cut at 3 would split the second one.
        let mut accented = "éé".to_string();
        cap(&mut accented, 3);
        assert_eq!(accented, "é");
        let mut long = "x".repeat(5000);
        cap(&mut long, MAX_QUERY_BYTES);
        assert_eq!(long.len(), MAX_QUERY_BYTES);
        assert_eq!(capped_str("sidebar", 3), "sid");
    }
}
