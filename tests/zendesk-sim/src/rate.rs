//! Rate limiting like Zendesk's: an account-wide budget of requests per sliding 60 s window
//! plus endpoint buckets, 429 with `Retry-After` when a budget is spent, and the counters a test
//! needs to prove a client stayed within the budget.
//!
//! Only accepted requests (not answered 429) use the budget, so the number of accepted requests
//! in any 60 s window never exceeds the limit; [`RateLimiter::max_in_window`] reports the largest
//! number seen. Headers on every API answer: `x-rate-limit`, `x-rate-limit-remaining`,
//! `ratelimit-limit`, `ratelimit-remaining`, `ratelimit-reset` (seconds), and for an endpoint
//! bucket its own header, e.g. `zendesk-ratelimit-tickets-index: total=100; remaining=99; resets=42`.

use std::{
    collections::VecDeque,
    time::{Duration, Instant},
};

use serde::{Deserialize, Serialize};

const WINDOW: Duration = Duration::from_secs(60);

/// Budgets per minute; 0 = unlimited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RateLimits {
    /// Account-wide (Enterprise: 700).
    pub per_minute: u32,
    /// `GET /api/v2/tickets` (Zendesk: about 100).
    pub tickets_index: u32,
    /// `PUT /api/v2/tickets/{id}`, tags writes and `update_many` (Zendesk: about 100).
    pub ticket_updates: u32,
    /// `GET /api/v2/search/export` (Zendesk: 100).
    pub search_export: u32,
    /// `GET /api/v2/incremental/...` (Zendesk: 10).
    pub incremental: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            per_minute: 700,
            tickets_index: 100,
            ticket_updates: 100,
            search_export: 100,
            incremental: 10,
        }
    }
}

/// The endpoint buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// List tickets.
    TicketsIndex,
    /// Ticket writes.
    TicketUpdates,
    /// Search export.
    SearchExport,
    /// Incremental exports.
    Incremental,
}

impl Bucket {
    fn header(self) -> &'static str {
        match self {
            Bucket::TicketsIndex => "zendesk-ratelimit-tickets-index",
            Bucket::TicketUpdates => "zendesk-rate-limit-tickets-update",
            Bucket::SearchExport => "zendesk-ratelimit-search-export",
            Bucket::Incremental => "zendesk-ratelimit-incremental-exports",
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    /// The bucket of a request, if any.
    pub fn of(method: &str, path: &str) -> Option<Bucket> {
        let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
        match (method, segs.as_slice()) {
            ("GET", ["api", "v2", "tickets"]) => Some(Bucket::TicketsIndex),
            ("PUT", ["api", "v2", "tickets", _]) => Some(Bucket::TicketUpdates),
            ("PUT" | "POST" | "DELETE", ["api", "v2", "tickets", _, "tags"]) => {
                Some(Bucket::TicketUpdates)
            }
            ("GET", ["api", "v2", "search", "export"]) => Some(Bucket::SearchExport),
            ("GET", ["api", "v2", "incremental", ..]) => Some(Bucket::Incremental),
            _ => None,
        }
    }
}

#[derive(Debug, Default)]
struct Window {
    hits: VecDeque<Instant>,
}

impl Window {
    fn prune(&mut self, now: Instant) {
        while self
            .hits
            .front()
            .is_some_and(|t| now.duration_since(*t) >= WINDOW)
        {
            self.hits.pop_front();
        }
    }

    /// Seconds until a slot frees up (at least 1).
    fn reset_secs(&self, now: Instant) -> u64 {
        match self.hits.front() {
            Some(t) => {
                let left = WINDOW.saturating_sub(now.duration_since(*t));
                left.as_secs() + u64::from(left.subsec_nanos() > 0)
            }
            None => 60,
        }
        .max(1)
    }
}

/// The answer to "may this request go on?" plus the headers to send.
#[derive(Debug, Clone)]
pub(crate) struct Verdict {
    pub retry_after: Option<u64>,
    pub headers: Vec<(String, String)>,
}

/// Account and endpoint windows and the counters.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    pub limits: RateLimits,
    account: Window,
    buckets: [Window; 4],
    accepted: Window,
    pub max_in_window: u64,
}

impl RateLimiter {
    pub fn new(limits: RateLimits) -> Self {
        RateLimiter {
            limits,
            account: Window::default(),
            buckets: Default::default(),
            accepted: Window::default(),
            max_in_window: 0,
        }
    }

    fn limit_of(&self, b: Bucket) -> u32 {
        match b {
            Bucket::TicketsIndex => self.limits.tickets_index,
            Bucket::TicketUpdates => self.limits.ticket_updates,
            Bucket::SearchExport => self.limits.search_export,
            Bucket::Incremental => self.limits.incremental,
        }
    }

    /// Checks and (if accepted) counts one request.
    pub fn check(&mut self, method: &str, path: &str) -> Verdict {
        let now = Instant::now();
        self.account.prune(now);
        self.accepted.prune(now);
        let bucket = Bucket::of(method, path);
        if let Some(b) = bucket {
            self.buckets[b.index()].prune(now);
        }
        let account_full = self.limits.per_minute > 0
            && self.account.hits.len() as u64 >= u64::from(self.limits.per_minute);
        let bucket_full = bucket.is_some_and(|b| {
            let l = self.limit_of(b);
            l > 0 && self.buckets[b.index()].hits.len() as u64 >= u64::from(l)
        });
        let mut retry_after = None;
        if account_full || bucket_full {
            let mut wait = 0;
            if account_full {
                wait = self.account.reset_secs(now);
            }
            if let Some(b) = bucket.filter(|_| bucket_full) {
                wait = wait.max(self.buckets[b.index()].reset_secs(now));
            }
            retry_after = Some(wait.max(1));
        } else {
            self.account.hits.push_back(now);
            self.accepted.hits.push_back(now);
            if let Some(b) = bucket {
                self.buckets[b.index()].hits.push_back(now);
            }
            self.max_in_window = self.max_in_window.max(self.accepted.hits.len() as u64);
        }
        let mut headers = Vec::new();
        if self.limits.per_minute > 0 {
            let limit = self.limits.per_minute;
            let remaining = u64::from(limit).saturating_sub(self.account.hits.len() as u64);
            let reset = self.account.reset_secs(now);
            for (k, v) in [
                ("x-rate-limit", limit.to_string()),
                ("x-rate-limit-remaining", remaining.to_string()),
                ("ratelimit-limit", limit.to_string()),
                ("ratelimit-remaining", remaining.to_string()),
                ("ratelimit-reset", reset.to_string()),
            ] {
                headers.push((k.to_string(), v));
            }
        }
        if let Some(b) = bucket {
            let l = self.limit_of(b);
            if l > 0 {
                let w = &self.buckets[b.index()];
                let remaining = u64::from(l).saturating_sub(w.hits.len() as u64);
                headers.push((
                    b.header().to_string(),
                    format!(
                        "total={l}; remaining={remaining}; resets={}",
                        w.reset_secs(now)
                    ),
                ));
            }
        }
        Verdict {
            retry_after,
            headers,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_is_never_exceeded_and_buckets_apply() {
        let mut r = RateLimiter::new(RateLimits {
            per_minute: 5,
            tickets_index: 2,
            ..RateLimits::default()
        });
        assert!(r.check("GET", "/api/v2/tickets").retry_after.is_none());
        assert!(r.check("GET", "/api/v2/tickets").retry_after.is_none());
        let v = r.check("GET", "/api/v2/tickets");
        assert!(v.retry_after.unwrap() >= 59);
        assert!(v
            .headers
            .iter()
            .any(|(k, v)| k == "zendesk-ratelimit-tickets-index"
                && v.starts_with("total=2; remaining=0")));
        for _ in 0..3 {
            assert!(r.check("GET", "/api/v2/groups").retry_after.is_none());
        }
        assert!(r.check("GET", "/api/v2/groups").retry_after.is_some());
        assert_eq!(r.max_in_window, 5);
    }
}
