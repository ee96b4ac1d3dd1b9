//! Fault injection: latency, error answers, dropped connections, broken bodies, concurrent
//! agent edits (409 on safe updates) and failing or stalled jobs. Set at start, changed while
//! running (library handle or `PUT /__sim/faults`); random choices come from a seeded RNG so a
//! test run is reproducible.
//!
//! JSON form (also the `--faults` argument of the binary):
//! ```json
//! {"seed": 7,
//!  "latency": {"fixed_ms": 20, "jitter_ms": 30},
//!  "rules": [
//!    {"fault": {"kind": "error", "status": 503, "retry_after": 2}, "method": "GET", "path": "/api/v2/search*", "probability": 0.2},
//!    {"fault": {"kind": "drop"}, "path": "/api/v2/tickets/update_many", "next": 1},
//!    {"fault": {"kind": "delay", "ms": 5000}, "path": "/api/v2/job_statuses/*", "next": 1},
//!    {"fault": {"kind": "conflict"}, "method": "PUT", "path": "/api/v2/tickets/*", "next": 1}
//!  ],
//!  "jobs": {"fail_ids": [42], "fail_share": 0.0, "stall": false}}
//! ```
//! A rule matches when its `method` (if any) equals the request's and its `path` glob (if any;
//! `*` matches any characters, paths are compared without a `.json` suffix) matches; it fires
//! with `probability` (default 1) and, with `next: N`, only for the next N matching requests.
//! The first rule that fires decides; rules are checked in order. Rules and latency apply to
//! token requests too (`{"method": "POST", "path": "/oauth/tokens"}`), so a drill can make the
//! OAuth token endpoint answer 503 or drop the connection.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What a firing rule does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// Answer with this status (500, 502, 503, ...) and a Zendesk-like body; `retry_after` adds
    /// the header (503 gets 1 s if not given).
    Error {
        /// HTTP status.
        status: u16,
        /// `Retry-After` seconds.
        #[serde(default)]
        retry_after: Option<u64>,
    },
    /// Close the connection without answering (the request is not processed).
    Drop,
    /// Wait `ms` milliseconds (on top of `latency`), then process the request and answer
    /// normally: latency for the requests a rule targets, e.g. longer than a client's timeout.
    Delay {
        /// Milliseconds.
        ms: u64,
    },
    /// Process the request, then send only the first half of the JSON body (valid HTTP framing).
    Truncate,
    /// Process the request, then send a body that is not JSON.
    Malformed,
    /// Before processing, an "agent" edits each ticket the request writes to: its `updated_at`
    /// moves on and `tag` (default `sim_agent_edit`) is added, so a safe update fails with 409
    /// (or fails that item of an `update_many` job) and an unsafe tag write overwrites the tag.
    Conflict {
        /// The tag the agent adds.
        #[serde(default)]
        tag: Option<String>,
    },
    /// Process the request, then an "agent" edits every ticket the answer shows (search
    /// results, `show_many`, one ticket): `tag` is added and the ticket stamped now. With the
    /// account's clock in the same second as the tickets' last change (a manual clock, or a fast
    /// enough agent), the stamp does not move: the same-second race that a safe update alone
    /// cannot see.
    AgentEditAfterRead {
        /// The tag the agent adds.
        #[serde(default)]
        tag: Option<String>,
    },
}

/// Added latency on every API request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Latency {
    /// Always added, milliseconds.
    pub fixed_ms: u64,
    /// Plus a uniform random 0..=jitter_ms.
    pub jitter_ms: u64,
}

/// A targeted fault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultRule {
    /// What happens.
    pub fault: Fault,
    /// Only this method (`GET`, `PUT`, ...).
    #[serde(default)]
    pub method: Option<String>,
    /// Only paths matching this glob.
    #[serde(default)]
    pub path: Option<String>,
    /// Chance to fire, 0..=1 (default 1).
    #[serde(default)]
    pub probability: Option<f64>,
    /// Fire only for the next N matching requests (counts down; 0 = spent).
    #[serde(default)]
    pub next: Option<u32>,
}

impl FaultRule {
    /// A rule firing on every request.
    pub fn always(fault: Fault) -> Self {
        FaultRule {
            fault,
            method: None,
            path: None,
            probability: None,
            next: None,
        }
    }

    /// Only for `method`.
    pub fn method(mut self, method: &str) -> Self {
        self.method = Some(method.to_ascii_uppercase());
        self
    }

    /// Only for paths matching `glob`.
    pub fn path(mut self, glob: &str) -> Self {
        self.path = Some(glob.to_string());
        self
    }

    /// Only for the next `n` matching requests.
    pub fn next(mut self, n: u32) -> Self {
        self.next = Some(n);
        self
    }

    /// With probability `p`.
    pub fn probability(mut self, p: f64) -> Self {
        self.probability = Some(p);
        self
    }
}

/// Faults of `update_many` jobs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct JobFaults {
    /// These tickets fail in every job (`success: false`, nothing written).
    pub fail_ids: Vec<u64>,
    /// Each other item fails with this probability.
    pub fail_share: f64,
    /// Jobs stay `working` and apply nothing while this is set (they resume when it is cleared).
    pub stall: bool,
}

/// The whole fault configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// RNG seed (reseeded whenever the faults are set).
    pub seed: u64,
    /// Added latency.
    pub latency: Latency,
    /// Targeted rules, first firing wins.
    pub rules: Vec<FaultRule>,
    /// Job faults.
    pub jobs: JobFaults,
}

impl Faults {
    /// No faults.
    pub fn none() -> Self {
        Faults::default()
    }

    /// Adds a rule.
    pub fn rule(mut self, rule: FaultRule) -> Self {
        self.rules.push(rule);
        self
    }
}

/// Faults plus the RNG and counters.
#[derive(Debug)]
pub(crate) struct FaultState {
    pub faults: Faults,
    rng: fastrand::Rng,
}

impl FaultState {
    pub fn new(faults: Faults) -> Self {
        let rng = fastrand::Rng::with_seed(faults.seed);
        FaultState { faults, rng }
    }

    /// The latency to add to this request.
    pub fn delay(&mut self) -> Duration {
        let l = &self.faults.latency;
        let jitter = if l.jitter_ms > 0 {
            self.rng.u64(0..=l.jitter_ms)
        } else {
            0
        };
        Duration::from_millis(l.fixed_ms + jitter)
    }

    /// The fault for this request, if a rule fires.
    pub fn pick(&mut self, method: &str, path: &str) -> Option<Fault> {
        for rule in self.faults.rules.iter_mut() {
            if rule
                .method
                .as_deref()
                .is_some_and(|m| !m.eq_ignore_ascii_case(method))
            {
                continue;
            }
            if rule.path.as_deref().is_some_and(|g| !glob(g, path)) {
                continue;
            }
            if rule.next == Some(0) {
                continue;
            }
            let p = rule.probability.unwrap_or(1.0);
            if p < 1.0 && self.rng.f64() >= p {
                continue;
            }
            if let Some(n) = rule.next.as_mut() {
                *n -= 1;
            }
            return Some(rule.fault.clone());
        }
        None
    }

    /// Whether this job item fails by injection.
    pub fn job_item_fails(&mut self, id: u64) -> bool {
        let j = &self.faults.jobs;
        j.fail_ids.contains(&id) || (j.fail_share > 0.0 && self.rng.f64() < j.fail_share)
    }
}

/// `*` matches any run of characters (including `/`).
pub fn glob(pattern: &str, s: &str) -> bool {
    let pattern = pattern.strip_suffix(".json").unwrap_or(pattern);
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == s;
    }
    let mut rest = s;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(pos) => rest = &rest[pos + part.len()..],
                None => return false,
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_stays_within_fixed_plus_jitter() {
        let mut s = FaultState::new(Faults {
            latency: Latency {
                fixed_ms: 10,
                jitter_ms: 5,
            },
            ..Faults::none()
        });
        for _ in 0..50 {
            let d = s.delay().as_millis();
            assert!((10..=15).contains(&d), "{d}");
        }
    }

    #[test]
    fn globs() {
        assert!(glob("/api/v2/tickets/*", "/api/v2/tickets/5"));
        assert!(glob("/api/v2/search*", "/api/v2/search/export"));
        assert!(glob("*/tags", "/api/v2/tickets/5/tags"));
        assert!(!glob("/api/v2/tickets", "/api/v2/tickets/5"));
        assert!(glob("/api/v2/tickets.json", "/api/v2/tickets"));
    }

    #[test]
    fn next_n_counts_down_and_seed_repeats() {
        let faults = Faults::none().rule(FaultRule::always(Fault::Drop).method("PUT").next(2));
        let mut s = FaultState::new(faults);
        assert_eq!(s.pick("GET", "/x"), None);
        assert_eq!(s.pick("PUT", "/x"), Some(Fault::Drop));
        assert_eq!(s.pick("put", "/x"), Some(Fault::Drop));
        assert_eq!(s.pick("PUT", "/x"), None);

        let half = Faults {
            seed: 3,
            ..Faults::none().rule(FaultRule::always(Fault::Truncate).probability(0.5))
        };
        let run = |f: &Faults| {
            let mut s = FaultState::new(f.clone());
            (0..64)
                .map(|_| s.pick("GET", "/").is_some())
                .collect::<Vec<_>>()
        };
        let a = run(&half);
        assert_eq!(a, run(&half));
        assert!(a.iter().any(|x| *x) && a.iter().any(|x| !*x));
    }
}
