//! Fault configuration: latency, error answers, dropped connections, broken bodies, concurrent
//! agent edits and (for simulators with asynchronous jobs) failing or stalled jobs. Set at start,
//! changed while running (the server handle or `PUT /__sim/faults`); the random choices come from
//! a seeded RNG ([`crate::FaultState`]) so a test run is reproducible.
//!
//! JSON form (the body of `PUT /__sim/faults`, and what a simulator binary's `--faults` takes):
//! ```json
//! {"seed": 7,
//!  "latency": {"fixed_ms": 20, "jitter_ms": 30},
//!  "rules": [
//!    {"fault": {"kind": "error", "status": 503, "retry_after": 2}, "method": "GET", "path": "/api/v1/search*", "probability": 0.2},
//!    {"fault": {"kind": "drop"}, "method": "PUT", "next": 1},
//!    {"fault": {"kind": "delay", "ms": 5000}, "path": "/api/v1/tickets/*", "next": 1},
//!    {"fault": {"kind": "conflict"}, "method": "PUT", "path": "/api/v1/tickets/*", "next": 1},
//!    {"fault": {"kind": "stop_mid_write", "after": "queue"}, "method": "PATCH", "next": 1}
//!  ],
//!  "jobs": {"fail_ids": [42], "fail_share": 0.0, "stall": false}}
//! ```
//! A rule matches when its `method` (if any) equals the request's and its `path` glob (if any;
//! `*` matches any characters, paths are compared without a `.json` suffix, [`crate::glob()`])
//! matches; it fires with `probability` (default 1) and, with `next: N`, only for the next N
//! matching requests. The first rule that fires decides; rules are checked in order. Every key is
//! optional; `jobs` means something only to a simulator that runs jobs (the others ignore it).

use serde::{Deserialize, Serialize};

/// The tag a simulated agent adds when a [`Fault::Conflict`] or [`Fault::AgentEditAfterRead`]
/// rule names none.
pub const DEFAULT_AGENT_TAG: &str = "sim_agent_edit";

/// What a firing rule does. The kit applies `Error`, `Drop`, `Delay`, `Truncate` and `Malformed`
/// itself; `Conflict`, `AgentEditAfterRead` and (for a simulator with non-transactional writes)
/// `StopMidWrite` reach the simulator ([`crate::SimApi::serve`]), which alone knows which tickets
/// a request touches and what the steps of its writes are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// Answer with this status (500, 502, 503, ...) and a body in the help desk's own error shape
    /// ([`crate::SimApi::fault_error`]); `retry_after` adds the header (503 gets 1 s if not given).
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
    /// moves on and `tag` (default [`DEFAULT_AGENT_TAG`]) is added, so a safe update fails with
    /// 409 (or fails that item of a bulk job) and an unsafe tag write overwrites the tag.
    Conflict {
        /// The tag the agent adds.
        #[serde(default)]
        tag: Option<String>,
    },
    /// Process the request, then an "agent" edits every ticket the answer shows (search
    /// results, lists, one ticket): `tag` is added and the ticket stamped now. With the
    /// account's clock in the same second as the tickets' last change (a stopped clock, or a
    /// fast enough agent), the stamp does not move: the same-second race that a safe update alone
    /// cannot see.
    AgentEditAfterRead {
        /// The tag the agent adds.
        #[serde(default)]
        tag: Option<String>,
    },
    /// For a help desk whose writes are not transactional (OTOBO's TicketUpdate runs one setter
    /// after another): apply the write's steps up to and including `after` (a step name of that
    /// system, e.g. `queue`; none: stop before the first step), then answer as the help desk
    /// answers a failed step. A simulator with atomic writes (Zendesk, Zammad) cannot stop
    /// midway: the kit answers the request with its HTTP 500 ([`crate::SimApi::partial_writes`]).
    /// Requests that write nothing are served normally.
    StopMidWrite {
        /// The last step that is applied.
        #[serde(default)]
        after: Option<String>,
    },
}

impl Fault {
    /// The agent's tag when this is a [`Fault::Conflict`] (its own or [`DEFAULT_AGENT_TAG`]).
    pub fn conflict_tag(&self) -> Option<&str> {
        match self {
            Fault::Conflict { tag } => Some(tag.as_deref().unwrap_or(DEFAULT_AGENT_TAG)),
            _ => None,
        }
    }

    /// The agent's tag when this is a [`Fault::AgentEditAfterRead`] (its own or
    /// [`DEFAULT_AGENT_TAG`]).
    pub fn edit_after_read_tag(&self) -> Option<&str> {
        match self {
            Fault::AgentEditAfterRead { tag } => Some(tag.as_deref().unwrap_or(DEFAULT_AGENT_TAG)),
            _ => None,
        }
    }

    /// When this is a [`Fault::StopMidWrite`]: `Some(after)`, the last step to apply (`None`:
    /// stop before the first one).
    pub fn stop_mid_write(&self) -> Option<Option<&str>> {
        match self {
            Fault::StopMidWrite { after } => Some(after.as_deref()),
            _ => None,
        }
    }

    /// Whether the answer's body is to be broken ([`Fault::Truncate`], [`Fault::Malformed`]),
    /// e.g. so an endpoint does not commit what the client will never read.
    pub fn breaks_body(&self) -> bool {
        matches!(self, Fault::Truncate | Fault::Malformed)
    }
}

/// Added latency on every request but the admin API's.
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

/// Faults of asynchronous bulk-update jobs (Zendesk's `update_many`); a simulator without jobs
/// ignores them.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_form_round_trips_and_every_key_is_optional() {
        let text = r#"{"seed": 7, "latency": {"fixed_ms": 20},
            "rules": [{"fault": {"kind": "error", "status": 503}, "path": "/x*", "next": 1},
                      {"fault": {"kind": "agent_edit_after_read"}}],
            "jobs": {"fail_ids": [42]}}"#;
        let f: Faults = serde_json::from_str(text).unwrap();
        assert_eq!(f.seed, 7);
        assert_eq!(f.latency.jitter_ms, 0);
        assert_eq!(f.jobs.fail_ids, vec![42]);
        assert_eq!(
            f.rules[0].fault,
            Fault::Error {
                status: 503,
                retry_after: None
            }
        );
        let back: Faults = serde_json::from_value(serde_json::to_value(&f).unwrap()).unwrap();
        assert_eq!(back, f);
        assert_eq!(
            serde_json::from_str::<Faults>("{}").unwrap(),
            Faults::none()
        );
    }

    #[test]
    fn agent_tags_default_and_only_for_their_fault() {
        assert_eq!(
            Fault::Conflict { tag: None }.conflict_tag(),
            Some(DEFAULT_AGENT_TAG)
        );
        let read = Fault::AgentEditAfterRead {
            tag: Some("t".into()),
        };
        assert_eq!(read.edit_after_read_tag(), Some("t"));
        assert_eq!(read.conflict_tag(), None);
        assert!(Fault::Truncate.breaks_body() && !Fault::Drop.breaks_body());
    }

    #[test]
    fn stop_mid_write_names_its_step_and_old_json_still_reads() {
        let rules: Vec<FaultRule> = serde_json::from_str(
            r#"[{"fault": {"kind": "stop_mid_write", "after": "queue"}, "method": "PATCH"},
                {"fault": {"kind": "stop_mid_write"}},
                {"fault": {"kind": "conflict"}}]"#,
        )
        .unwrap();
        assert_eq!(rules[0].fault.stop_mid_write(), Some(Some("queue")));
        assert_eq!(rules[1].fault.stop_mid_write(), Some(None));
        assert_eq!(rules[2].fault.stop_mid_write(), None);
        assert_eq!(
            serde_json::to_value(&rules[0].fault).unwrap(),
            serde_json::json!({"kind": "stop_mid_write", "after": "queue"})
        );
        assert!(!rules[0].fault.breaks_body());
    }
}
