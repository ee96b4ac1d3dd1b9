//! Per-ticket bookkeeping of failed writes: how many attempts, when the next one may happen, and
//! when to give up.
//!
//! The book works with tokio [`Instant`]s (so tests can pause the clock); between runs it is kept
//! in the pipeline's state file ([`super::state`]) as wall-clock [`Record`]s, converted at the
//! edges by [`RetryBook::records`] and [`RetryBook::from_records`]. Without a state file a restart
//! gives every ticket a fresh set of attempts (so `otai run --once` from cron would never reach
//! the failed tag).
//!
//! Retries happen in later passes, never in a loop inside one: a ticket whose write failed is
//! skipped until its backoff has passed, then fetched, classified and decided afresh.
//!
//! An attempt is counted before its write is sent ([`RetryBook::begin_attempt`], saved by the pass
//! before the call), not after its outcome: a ticket whose write crashes otai (a plugin panic that
//! aborts, an out-of-memory kill, SIGKILL) uses up its attempts like any failing ticket and ends with
//! the failed tag instead of being retried forever. Outcomes then settle the attempt: a success forgets
//! the ticket, a conflict gives the attempt back (nothing failed; the ticket changed), a failure keeps
//! it with its error.

use std::{
    collections::HashMap,
    time::{Duration, SystemTime},
};

use tokio::time::Instant;

use crate::config::pipeline::RetryConfig;

/// The longest wait between two attempts, however often a write failed.
pub const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// Entries of tickets not seen for this long are dropped (the ticket was handled elsewhere).
pub const FORGET_AFTER: Duration = Duration::from_secs(24 * 3600);
/// The error on record while a write is in flight: what a restart after a crash reads.
pub const INTERRUPTED: &str =
    "the write was in flight when otai stopped (crash or kill); unknown whether it was applied";

#[derive(Debug, Clone)]
struct Entry {
    attempts: u32,
    next_try: Instant,
    last_error: String,
    last_seen: Instant,
}

/// Where a ticket stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// No failed write on record (or it may be tried again now).
    Due { attempts: u32 },
    /// Backing off until `until`.
    Waiting { attempts: u32, until: Instant },
    /// Every attempt failed: mark it failed.
    Exhausted { attempts: u32, last_error: String },
}

/// The attempts of every ticket with a failed write.
#[derive(Debug, Clone)]
pub struct RetryBook {
    /// Tickets whose attempt was begun and not settled yet, with their record before it.
    in_flight: HashMap<String, Option<Entry>>,
    config: RetryConfig,
    entries: HashMap<String, Entry>,
    /// Whether anything changed since [`Self::take_changed`] last said so.
    changed: bool,
}

/// One ticket's entry in wall-clock time, as kept in the state file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub id: String,
    pub attempts: u32,
    pub next_try: SystemTime,
    pub last_seen: SystemTime,
    pub last_error: String,
}

impl RetryBook {
    pub fn new(config: RetryConfig) -> Self {
        RetryBook {
            in_flight: HashMap::new(),
            config,
            entries: HashMap::new(),
            changed: false,
        }
    }

    /// A book from stored records; `now` and `wall_now` are the same moment on both clocks.
    /// Records not seen for [`FORGET_AFTER`] are dropped; a next try further ahead than
    /// [`FORGET_AFTER`] (the wall clock was set back) is brought forward to that.
    pub fn from_records(
        config: RetryConfig,
        records: Vec<Record>,
        now: Instant,
        wall_now: SystemTime,
    ) -> Self {
        let mut book = RetryBook::new(config);
        for r in records {
            let age = wall_now.duration_since(r.last_seen).unwrap_or_default();
            if age >= FORGET_AFTER {
                book.changed = true;
                continue;
            }
            let next_try = to_instant(r.next_try, now, wall_now).min(now + FORGET_AFTER);
            let last_seen = to_instant(r.last_seen, now, wall_now).min(now);
            book.entries.insert(
                r.id,
                Entry {
                    attempts: r.attempts,
                    next_try,
                    last_error: r.last_error,
                    last_seen,
                },
            );
        }
        book
    }

    /// Every entry in wall-clock time, sorted by ticket id; `now` and `wall_now` are the same
    /// moment on both clocks.
    pub fn records(&self, now: Instant, wall_now: SystemTime) -> Vec<Record> {
        let mut records: Vec<Record> = self
            .entries
            .iter()
            .map(|(id, e)| Record {
                id: id.clone(),
                attempts: e.attempts,
                next_try: to_wall(e.next_try, now, wall_now),
                last_seen: to_wall(e.last_seen, now, wall_now),
                last_error: e.last_error.clone(),
            })
            .collect();
        records.sort_by(|a, b| a.id.cmp(&b.id));
        records
    }

    /// Whether the book changed since the last call (and resets that).
    pub fn take_changed(&mut self) -> bool {
        std::mem::take(&mut self.changed)
    }

    /// Marks the book changed, e.g. after saving it failed, so the next save tries again.
    pub fn mark_changed(&mut self) {
        self.changed = true;
    }

    /// Where ticket `id` stands at `now`; also notes that it was seen (fetched) then.
    pub fn standing(&mut self, id: &str, now: Instant) -> Standing {
        let Some(entry) = self.entries.get_mut(id) else {
            return Standing::Due { attempts: 0 };
        };
        self.changed |= entry.last_seen != now;
        entry.last_seen = now;
        if entry.attempts >= self.config.max_attempts {
            Standing::Exhausted {
                attempts: entry.attempts,
                last_error: entry.last_error.clone(),
            }
        } else if entry.next_try > now {
            Standing::Waiting {
                attempts: entry.attempts,
                until: entry.next_try,
            }
        } else {
            Standing::Due {
                attempts: entry.attempts,
            }
        }
    }

    /// Records a failed attempt and returns the attempts so far. The next try waits `backoff`
    /// doubled per earlier failure (at most [`MAX_BACKOFF`]), and at least `retry_after` if the
    /// help desk asked for that.
    pub fn record_failure(
        &mut self,
        id: &str,
        now: Instant,
        error: &str,
        retry_after: Option<Duration>,
    ) -> u32 {
        let entry = self.entries.entry(id.to_string()).or_insert(Entry {
            attempts: 0,
            next_try: now,
            last_error: String::new(),
            last_seen: now,
        });
        entry.attempts += 1;
        let wait =
            backoff(self.config.backoff, entry.attempts).max(retry_after.unwrap_or_default());
        entry.next_try = now + wait;
        entry.last_error = error.to_string();
        entry.last_seen = now;
        self.changed = true;
        entry.attempts
    }

    /// Counts an attempt for a write about to be sent, on record as [`INTERRUPTED`] until its outcome
    /// settles it ([`Self::forget`], [`Self::cancel_attempt`], [`Self::settle_failure`]). The caller
    /// saves the book before sending, so a crash during the call leaves the attempt counted.
    pub fn begin_attempt(&mut self, id: &str, now: Instant) -> u32 {
        let before = self.entries.get(id).cloned();
        self.in_flight.entry(id.to_string()).or_insert(before);
        self.record_failure(id, now, INTERRUPTED, None)
    }

    /// Gives back an attempt begun for a write that turned out not to count (nothing was sent, or
    /// the ticket changed in between): the ticket's record is as it was before.
    pub fn cancel_attempt(&mut self, id: &str) {
        if let Some(before) = self.in_flight.remove(id) {
            match before {
                Some(entry) => self.entries.insert(id.to_string(), entry),
                None => self.entries.remove(id),
            };
            self.changed = true;
        }
    }

    /// A failed write: the attempt begun for it (or a new one, if none was) with its error; returns
    /// the attempts so far. The next try waits as [`Self::record_failure`] says.
    pub fn settle_failure(
        &mut self,
        id: &str,
        now: Instant,
        error: &str,
        retry_after: Option<Duration>,
    ) -> u32 {
        if self.in_flight.remove(id).is_none() {
            return self.record_failure(id, now, error, retry_after);
        }
        let entry = self
            .entries
            .get_mut(id)
            .expect("a begun attempt has an entry");
        entry.last_error = error.to_string();
        if let Some(wait) = retry_after {
            entry.next_try = entry.next_try.max(now + wait);
        }
        self.changed = true;
        entry.attempts
    }

    /// Tickets backing off at `now` (a failed write on record, attempts left, next try ahead): the
    /// fetch asks for this many more, so they never take the slots of new tickets.
    pub fn waiting(&self, now: Instant) -> usize {
        self.entries
            .values()
            .filter(|e| e.attempts < self.config.max_attempts && e.next_try > now)
            .count()
    }

    /// Whether attempts so far use up the budget.
    pub fn is_exhausted(&self, attempts: u32) -> bool {
        attempts >= self.config.max_attempts
    }

    /// When the ticket may be tried next, if it has a failure on record.
    pub fn next_try(&self, id: &str) -> Option<Instant> {
        self.entries.get(id).map(|e| e.next_try)
    }

    /// Drops the record of a ticket that was written, marked failed or deleted.
    pub fn forget(&mut self, id: &str) {
        self.in_flight.remove(id);
        self.changed |= self.entries.remove(id).is_some();
    }

    /// Drops records of tickets not seen for [`FORGET_AFTER`].
    pub fn prune(&mut self, now: Instant) {
        let before = self.entries.len();
        self.entries
            .retain(|_, e| now.saturating_duration_since(e.last_seen) < FORGET_AFTER);
        self.changed |= self.entries.len() != before;
    }

    /// Tickets with a failed write on record.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// `wall` on the monotonic clock. A moment too far back for an [`Instant`] (before the machine
/// booted) becomes `now`: for a next try that means "due", for a last sighting "seen now".
fn to_instant(wall: SystemTime, now: Instant, wall_now: SystemTime) -> Instant {
    match wall.duration_since(wall_now) {
        Ok(ahead) => now + ahead,
        Err(behind) => now.checked_sub(behind.duration()).unwrap_or(now),
    }
}

/// `instant` on the wall clock.
fn to_wall(instant: Instant, now: Instant, wall_now: SystemTime) -> SystemTime {
    if instant >= now {
        wall_now + (instant - now)
    } else {
        wall_now
            .checked_sub(now - instant)
            .unwrap_or(SystemTime::UNIX_EPOCH)
    }
}

/// The wait after the `attempts`-th failure: `base`, `2 * base`, `4 * base`, ... at most an hour.
pub fn backoff(base: Duration, attempts: u32) -> Duration {
    let factor = 2u32.saturating_pow(attempts.saturating_sub(1).min(16));
    base.saturating_mul(factor).min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book(max_attempts: u32) -> RetryBook {
        RetryBook::new(RetryConfig {
            max_attempts,
            backoff: Duration::from_secs(60),
        })
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let base = Duration::from_secs(60);
        assert_eq!(backoff(base, 1), Duration::from_secs(60));
        assert_eq!(backoff(base, 2), Duration::from_secs(120));
        assert_eq!(backoff(base, 3), Duration::from_secs(240));
        assert_eq!(backoff(base, 40), MAX_BACKOFF);
    }

    #[test]
    fn a_failed_ticket_waits_then_is_due_then_exhausted() {
        let mut book = book(2);
        let t0 = Instant::now();
        assert_eq!(book.standing("7", t0), Standing::Due { attempts: 0 });

        assert_eq!(book.record_failure("7", t0, "HTTP 500", None), 1);
        assert_eq!(
            book.standing("7", t0 + Duration::from_secs(59)),
            Standing::Waiting {
                attempts: 1,
                until: t0 + Duration::from_secs(60)
            }
        );
        let t1 = t0 + Duration::from_secs(60);
        assert_eq!(book.standing("7", t1), Standing::Due { attempts: 1 });

        assert_eq!(book.record_failure("7", t1, "HTTP 502", None), 2);
        assert_eq!(
            book.standing("7", t1),
            Standing::Exhausted {
                attempts: 2,
                last_error: "HTTP 502".into()
            },
            "exhausted tickets are marked at once, without waiting"
        );
    }

    #[test]
    fn retry_after_wins_over_a_shorter_backoff() {
        let mut book = book(5);
        let t0 = Instant::now();
        book.record_failure("7", t0, "429", Some(Duration::from_secs(600)));
        assert_eq!(book.next_try("7"), Some(t0 + Duration::from_secs(600)));
    }

    #[test]
    fn records_round_trip_through_wall_clock_time() {
        let mut book = book(3);
        let t0 = Instant::now();
        book.record_failure("7", t0, "HTTP 500", Some(Duration::from_secs(600)));
        book.record_failure("3", t0, "HTTP 502", None);
        let later = t0 + Duration::from_secs(100);
        book.standing("3", later);
        let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);

        let records = book.records(later, wall);

        assert_eq!(
            records,
            [
                Record {
                    id: "3".into(),
                    attempts: 1,
                    next_try: wall - Duration::from_secs(40),
                    last_seen: wall,
                    last_error: "HTTP 502".into(),
                },
                Record {
                    id: "7".into(),
                    attempts: 1,
                    next_try: wall + Duration::from_secs(500),
                    last_seen: wall - Duration::from_secs(100),
                    last_error: "HTTP 500".into(),
                },
            ]
        );
        // Another process, another monotonic clock: the same wall-clock moments.
        let t1 = Instant::now() + Duration::from_secs(5000);
        let wall1 = wall + Duration::from_secs(60);
        let mut again = RetryBook::from_records(book.config, records, t1, wall1);
        assert!(!again.take_changed(), "loading alone changes nothing");
        assert_eq!(again.standing("3", t1), Standing::Due { attempts: 1 });
        assert_eq!(
            again.standing("7", t1),
            Standing::Waiting {
                attempts: 1,
                until: t1 + Duration::from_secs(440)
            }
        );
    }

    #[test]
    fn loading_drops_stale_records_and_caps_far_next_tries() {
        let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let record = |id: &str, seen_ago: Duration, next_in: Duration| Record {
            id: id.into(),
            attempts: 2,
            next_try: wall + next_in,
            last_seen: wall - seen_ago,
            last_error: "x".into(),
        };
        let now = Instant::now();
        let mut book = RetryBook::from_records(
            book(3).config,
            vec![
                record("old", FORGET_AFTER, Duration::ZERO),
                record("far", Duration::ZERO, Duration::from_secs(10 * 24 * 3600)),
            ],
            now,
            wall,
        );
        assert_eq!(book.len(), 1);
        assert!(book.take_changed(), "dropping a record is a change to save");
        assert_eq!(book.next_try("far"), Some(now + FORGET_AFTER));
    }

    #[test]
    fn changes_are_tracked_for_saving() {
        let mut book = book(3);
        let t0 = Instant::now();
        assert!(!book.take_changed());
        book.standing("1", t0);
        book.forget("1");
        assert!(!book.take_changed(), "nothing on record: nothing changed");
        book.record_failure("1", t0, "x", None);
        assert!(book.take_changed());
        assert!(!book.take_changed(), "taken");
        book.standing("1", t0);
        assert!(!book.take_changed(), "seen at the same moment");
        book.standing("1", t0 + Duration::from_secs(1));
        assert!(book.take_changed(), "last seen moved");
        book.forget("1");
        assert!(book.take_changed());
    }

    #[test]
    fn forget_and_prune_drop_records() {
        let mut book = book(3);
        let t0 = Instant::now();
        book.record_failure("1", t0, "x", None);
        book.record_failure("2", t0, "x", None);
        book.forget("1");
        assert_eq!(book.len(), 1);
        book.prune(t0 + FORGET_AFTER);
        assert!(book.is_empty());
    }
}
