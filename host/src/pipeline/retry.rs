//! Per-ticket bookkeeping of failed writes: how many attempts, when the next one may happen, and
//! when to give up. In memory only: a restart gives every ticket a fresh set of attempts, which is
//! harmless (the processed and failed tags are the durable state, in the help desk).
//!
//! Retries happen in later passes, never in a loop inside one: a ticket whose write failed is
//! skipped until its backoff has passed, then fetched, classified and decided afresh.

use std::{collections::HashMap, time::Duration};

use tokio::time::Instant;

use crate::config::pipeline::RetryConfig;

/// The longest wait between two attempts, however often a write failed.
pub const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// Entries of tickets not seen for this long are dropped (the ticket was handled elsewhere).
pub const FORGET_AFTER: Duration = Duration::from_secs(24 * 3600);

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
    config: RetryConfig,
    entries: HashMap<String, Entry>,
}

impl RetryBook {
    pub fn new(config: RetryConfig) -> Self {
        RetryBook {
            config,
            entries: HashMap::new(),
        }
    }

    /// Where ticket `id` stands at `now`; also notes that it was seen (fetched) then.
    pub fn standing(&mut self, id: &str, now: Instant) -> Standing {
        let Some(entry) = self.entries.get_mut(id) else {
            return Standing::Due { attempts: 0 };
        };
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
        entry.attempts
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
        self.entries.remove(id);
    }

    /// Drops records of tickets not seen for [`FORGET_AFTER`].
    pub fn prune(&mut self, now: Instant) {
        self.entries
            .retain(|_, e| now.saturating_duration_since(e.last_seen) < FORGET_AFTER);
    }

    /// Tickets with a failed write on record.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
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
