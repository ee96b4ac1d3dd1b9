//! Fault injection: latency, error answers, dropped connections, broken bodies, concurrent
//! agent edits (409 on safe updates) and failing or stalled `update_many` jobs. Set at start,
//! changed while running (library handle or `PUT /__sim/faults`); random choices come from a
//! seeded RNG so a test run is reproducible. The types and their injection are
//! [`otai_sim_kit`]'s (re-exported here, shared with the other simulators); what is Zendesk's:
//! an `error` fault answers `{"error": "SimulatedFault", "description"}`, a `conflict` fault's
//! agent edits the ticket of a `/api/v2/tickets/{id}...` write (after authentication), an
//! `agent_edit_after_read` fault's edits the tickets under `results`, `tickets` or `ticket` of a
//! 2xx answer, and `jobs` applies to `update_many` jobs.
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

pub use otai_sim_kit::{glob::glob, Fault, FaultRule, Faults, JobFaults, Latency};
