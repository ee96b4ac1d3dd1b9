//! Webhook ids fed to a running pipeline (`otai serve`): each one wakes the pipeline for a
//! pass at once, instead of at its next poll.
//!
//! The pass is the pipeline's ordinary one (the configured search, the tags, the retry state),
//! so a webhook never routes a ticket the search would not have returned. A ticket the pass
//! shows (decided, written, left alone, backing off: any report) is settled. One it does not
//! show may not be in the help desk's search index yet (Zendesk's lags writes by seconds): the
//! pipeline passes again after [`RETRY_DELAYS`], then gives up on it (it is not this
//! pipeline's, or it was routed meanwhile; the safety-net poll would find it anyway). A pass
//! that fails as a whole keeps every id for the next try, on the same schedule.

use std::{collections::BTreeMap, fmt, time::Duration};

use tokio::{sync::mpsc, time::Instant};
use tracing::debug;

use super::pass::PassReport;

/// The waits before passing again for a webhook ticket the last pass did not show.
pub const RETRY_DELAYS: [Duration; 3] = [
    Duration::from_secs(2),
    Duration::from_secs(5),
    Duration::from_secs(15),
];

/// What settles an id: called with the ids this pipeline is done with.
pub type Settle = Box<dyn Fn(&[String]) + Send + Sync>;

/// The webhook side of one pipeline's loop.
pub struct Feed {
    /// Ticket ids from verified deliveries for this pipeline's ticket system.
    pub ids: mpsc::UnboundedReceiver<String>,
    /// Told which ids are done, so the inbox can forget them.
    pub settle: Settle,
    /// Polls at this interval instead of the pipeline's own (the safety net).
    pub poll_interval: Duration,
}

impl fmt::Debug for Feed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Feed")
            .field("poll_interval", &self.poll_interval)
            .finish_non_exhaustive()
    }
}

/// Ids waiting for a pass that shows them.
#[derive(Debug, Default)]
pub(super) struct Backlog {
    /// id -> passes since it came that did not show it.
    waiting: BTreeMap<String, usize>,
    retry_at: Option<Instant>,
}

impl Backlog {
    pub(super) fn add(&mut self, id: String) {
        self.waiting.entry(id).or_insert(0);
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }

    /// When the next pass for an unseen id is due.
    pub(super) fn retry_at(&self) -> Option<Instant> {
        self.retry_at
    }

    /// Takes in one pass's report; returns the ids that are done (shown, or given up on).
    pub(super) fn after_pass(
        &mut self,
        pipeline: &str,
        report: &PassReport,
        now: Instant,
    ) -> Vec<String> {
        self.retry_at = None;
        if self.waiting.is_empty() {
            return Vec::new();
        }
        let failed = report.failure.is_some();
        let mut done = Vec::new();
        let mut soonest: Option<Duration> = None;
        self.waiting.retain(|id, misses| {
            if report.tickets.iter().any(|t| t.id() == id) {
                done.push(id.clone());
                return false;
            }
            if !failed {
                *misses += 1;
            }
            match RETRY_DELAYS.get(misses.saturating_sub(1)) {
                Some(delay) if *misses > 0 || failed => {
                    soonest = Some(soonest.map_or(*delay, |s| s.min(*delay)));
                    true
                }
                _ => {
                    debug!(pipeline, ticket = %id, passes = *misses, "A webhook's ticket did not turn up in this pipeline's fetch; left to the safety-net poll (not this pipeline's, or already routed).");
                    done.push(id.clone());
                    false
                }
            }
        });
        self.retry_at = soonest.map(|delay| now + delay);
        done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        pipeline::{pass::PassFailure, PassSummary, TicketReport},
        ticket::{ErrorKind, TicketSystemError},
    };

    fn report(shown: &[&str], failed: bool) -> PassReport {
        PassReport {
            pipeline: "p".into(),
            dry_run: false,
            summary: PassSummary::default(),
            tickets: shown
                .iter()
                .map(|id| TicketReport::Echo { id: id.to_string() })
                .collect(),
            subjects: Default::default(),
            failure: failed.then(|| {
                PassFailure::Fetch(TicketSystemError::new("z", ErrorKind::Transport, "down"))
            }),
            started: std::time::SystemTime::now(),
            took: Duration::ZERO,
            classify_took: None,
        }
    }

    #[test]
    fn a_shown_ticket_is_settled_and_an_unseen_one_retried_then_given_up() {
        let now = Instant::now();
        let mut backlog = Backlog::default();
        backlog.add("1".into());
        backlog.add("2".into());
        assert_eq!(backlog.after_pass("p", &report(&["1"], false), now), ["1"]);
        assert_eq!(backlog.retry_at(), Some(now + RETRY_DELAYS[0]));
        assert!(backlog.after_pass("p", &report(&[], false), now).is_empty());
        assert_eq!(backlog.retry_at(), Some(now + RETRY_DELAYS[1]));
        assert!(backlog.after_pass("p", &report(&[], false), now).is_empty());
        assert_eq!(backlog.retry_at(), Some(now + RETRY_DELAYS[2]));
        assert_eq!(backlog.after_pass("p", &report(&[], false), now), ["2"]);
        assert_eq!(backlog.retry_at(), None);
        assert!(backlog.is_empty());
    }

    #[test]
    fn a_failed_pass_keeps_every_id_without_counting_it() {
        let now = Instant::now();
        let mut backlog = Backlog::default();
        backlog.add("9".into());
        for _ in 0..10 {
            assert!(backlog.after_pass("p", &report(&[], true), now).is_empty());
            assert_eq!(backlog.retry_at(), Some(now + RETRY_DELAYS[0]));
        }
        assert_eq!(backlog.after_pass("p", &report(&["9"], false), now), ["9"]);
    }
}
