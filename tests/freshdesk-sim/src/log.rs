//! The request log: every API request that reached admission, admitted or refused, with its
//! time (milliseconds of real time since the simulator's start), its answer's status and the
//! credits it consumed, so a test can check an adapter's pacing
//! ([`RequestLog::max_credits_in_window`]).

use std::{
    collections::{BTreeMap, VecDeque},
    time::Duration,
};

use serde::Serialize;

use crate::ratelimit::max_in_window;

/// One API request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestRecord {
    /// When it was admitted (or refused), ms of real time since the start (or last reset).
    pub at_ms: u64,
    /// Method.
    pub method: String,
    /// Path, without the query.
    pub path: String,
    /// The query string as received (decoded pairs re-encoded).
    pub query: String,
    /// The answer's status; 0 while unanswered or when a `drop` fault closed the connection.
    pub status: u16,
    /// Credits consumed (0 for a refused request).
    pub cost: u64,
}

/// The log, and the admitted requests still waiting for their answer.
#[derive(Debug, Default)]
pub struct RequestLog {
    records: Vec<RequestRecord>,
    /// Unanswered records by request key, oldest first: requests with the same method, path
    /// and query are interchangeable, so the oldest one is taken to be the one answered.
    pending: BTreeMap<String, VecDeque<usize>>,
}

fn key(method: &str, path: &str, query: &str) -> String {
    format!("{method} {path}?{query}")
}

impl RequestLog {
    /// Records an admitted request, to be answered later ([`RequestLog::answered`]).
    pub fn admitted(&mut self, at_ms: u64, method: &str, path: &str, query: &str, cost: u64) {
        self.records.push(RequestRecord {
            at_ms,
            method: method.to_string(),
            path: path.to_string(),
            query: query.to_string(),
            status: 0,
            cost,
        });
        self.pending
            .entry(key(method, path, query))
            .or_default()
            .push_back(self.records.len() - 1);
    }

    /// Records a refused request (answered at once).
    pub fn refused(&mut self, at_ms: u64, method: &str, path: &str, query: &str, status: u16) {
        self.records.push(RequestRecord {
            at_ms,
            method: method.to_string(),
            path: path.to_string(),
            query: query.to_string(),
            status,
            cost: 0,
        });
    }

    /// An admitted request got its answer.
    pub fn answered(&mut self, method: &str, path: &str, query: &str, status: u16) {
        let k = key(method, path, query);
        if let Some(i) = self.pending.get_mut(&k).and_then(VecDeque::pop_front) {
            self.records[i].status = status;
        }
    }

    /// Every record, in order.
    pub fn all(&self) -> Vec<RequestRecord> {
        self.records.clone()
    }

    /// The largest sum of consumed credits in any window of `window` ([`max_in_window`]).
    pub fn max_credits_in_window(&self, window: Duration) -> u64 {
        let points: Vec<(u64, u64)> = self.records.iter().map(|r| (r.at_ms, r.cost)).collect();
        max_in_window(&points, window)
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.records.clear();
        self.pending.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_find_their_request_and_refusals_cost_nothing() {
        let mut log = RequestLog::default();
        log.admitted(0, "GET", "/a", "", 1);
        log.admitted(10, "GET", "/a", "", 3);
        log.refused(20, "GET", "/a", "", 429);
        log.answered("GET", "/a", "", 200);
        log.answered("GET", "/a", "", 404);
        let all = log.all();
        assert_eq!(
            all.iter().map(|r| r.status).collect::<Vec<_>>(),
            [200, 404, 429]
        );
        assert_eq!(log.max_credits_in_window(Duration::from_secs(1)), 4);
    }
}
