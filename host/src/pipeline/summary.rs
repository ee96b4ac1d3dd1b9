//! What one pass did, counted, for the log line after every pass and `otai run --once`.

use std::fmt;

use crate::ticket::RequestStats;

/// Counts of one pass. Every fetched ticket lands in exactly one of `routed`, `waiting`, `echoes`,
/// `classified` or `to_mark_failed`. Every write (classification, routed tag, failed tag) lands in
/// one outcome: `written` (classifications only), `routed_tagged`, `marked_failed`, `conflicts`,
/// `unknown`, `failed`, `gone` or `not_sent`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassSummary {
    /// Tickets the fetch returned.
    pub fetched: usize,
    /// Left alone: an agent already routed them. Each gets only the routed tag; never counted in
    /// `written`.
    pub routed: usize,
    /// Of those, the routed tag was added (the fetch leaves them out from now on).
    pub routed_tagged: usize,
    /// Left alone this pass: backing off after a failed write.
    pub waiting: usize,
    /// Left alone: written by this pipeline moments ago, still shown unwritten by the help desk's
    /// lagging search index.
    pub echoes: usize,
    /// Tickets the model classified.
    pub classified: usize,
    /// Tickets whose classification was written and which are marked processed.
    pub written: usize,
    /// Writes refused because the ticket changed since it was read; decided again next pass.
    pub conflicts: usize,
    /// Writes that timed out: unknown whether applied; the next fetch tells.
    pub unknown: usize,
    /// Writes that failed; retried in a later pass, or marked failed once attempts are used up
    /// (a routed tag is simply tried again when the ticket is next fetched).
    pub failed: usize,
    /// Tickets whose attempts were used up, to be tagged failed this pass.
    pub to_mark_failed: usize,
    /// Of those, tagged failed.
    pub marked_failed: usize,
    /// Tickets that no longer exist.
    pub gone: usize,
    /// Writes not sent: a dry run, or stopping, or the batch call failed as a whole.
    pub not_sent: usize,
    /// Requests to the help desk during the pass, if the plugin counts them.
    pub api: Option<RequestStats>,
}

impl fmt::Display for PassSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "fetched {}, classified {}, written {}, skipped {} (routed by hand {}, routed tag added {}, backing off {}), \
             failed {} (conflicts {}, timeouts {}, errors {}), marked failed {}/{}, gone {}, not sent {}",
            self.fetched,
            self.classified,
            self.written,
            self.routed + self.waiting,
            self.routed,
            self.routed_tagged,
            self.waiting,
            self.conflicts + self.unknown + self.failed,
            self.conflicts,
            self.unknown,
            self.failed,
            self.marked_failed,
            self.to_mark_failed,
            self.gone,
            self.not_sent,
        )?;
        if self.echoes > 0 {
            write!(
                f,
                ", written moments ago (search index lag) {}",
                self.echoes
            )?;
        }
        match self.api {
            Some(api) => write!(
                f,
                ", API calls {} (retries {}, rate-limited {})",
                api.requests, api.retries, api.rate_limited
            ),
            None => f.write_str(", API calls not counted by the plugin"),
        }
    }
}

impl std::ops::AddAssign for PassSummary {
    /// Totals over passes (`otai run --once` runs several until nothing is left).
    fn add_assign(&mut self, other: PassSummary) {
        self.fetched += other.fetched;
        self.routed += other.routed;
        self.routed_tagged += other.routed_tagged;
        self.waiting += other.waiting;
        self.echoes += other.echoes;
        self.classified += other.classified;
        self.written += other.written;
        self.conflicts += other.conflicts;
        self.unknown += other.unknown;
        self.failed += other.failed;
        self.to_mark_failed += other.to_mark_failed;
        self.marked_failed += other.marked_failed;
        self.gone += other.gone;
        self.not_sent += other.not_sent;
        self.api = match (self.api, other.api) {
            (Some(a), Some(b)) => Some(RequestStats {
                requests: a.requests + b.requests,
                retries: a.retries + b.retries,
                rate_limited: a.rate_limited + b.rate_limited,
            }),
            (a, b) => a.or(b),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_every_count() {
        let summary = PassSummary {
            fetched: 5,
            routed: 1,
            routed_tagged: 1,
            classified: 4,
            written: 3,
            failed: 1,
            api: Some(RequestStats {
                requests: 3,
                retries: 0,
                rate_limited: 0,
            }),
            ..PassSummary::default()
        };
        assert_eq!(
            summary.to_string(),
            "fetched 5, classified 4, written 3, skipped 1 (routed by hand 1, routed tag added 1, backing off 0), \
             failed 1 (conflicts 0, timeouts 0, errors 1), marked failed 0/0, gone 0, not sent 0, \
             API calls 3 (retries 0, rate-limited 0)"
        );
    }
}
