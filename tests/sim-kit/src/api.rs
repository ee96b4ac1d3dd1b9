//! [`SimApi`]: what a simulator supplies (its endpoints, error shape, rate limits, admin routes,
//! counters); everything around it (server, latency, faults, clock, common admin routes and
//! counters) is the kit's. The pipeline per API request:
//!
//! 1. admin requests (`/__sim/...`) go to the kit's admin routes, then [`SimApi::admin`]; nothing
//!    else applies to them;
//! 2. [`SimApi::kind`]: an [`RequestKind::Api`] request is counted; an
//!    [`RequestKind::Auxiliary`] one (an OAuth token endpoint, say) skips step 4 and the counters;
//! 3. latency ([`crate::Latency`]);
//! 4. [`SimApi::admit`]: may refuse (a rate limit's 429) and adds headers to the answer;
//! 5. the fault decision: `drop` closes the connection ([`SimApi::connection_dropped`]), `error`
//!    answers [`SimApi::fault_error`] (so does `stop_mid_write` with status 500 when
//!    [`SimApi::partial_writes`] is false), `delay` waits; the request proceeds otherwise;
//! 6. [`SimApi::serve`] with the fault that fired, if any (`conflict`, `agent_edit_after_read`
//!    and `stop_mid_write` are the simulator's to apply; `truncate` and `malformed` the kit
//!    applies to the body afterwards);
//! 7. headers: the request id ([`SimApi::request_id_header`]) and `Date` from the clock.

use serde_json::{json, Value};

use crate::{faults::Fault, http::Reply, http::Req, stats::KitStats};

/// How the pipeline treats a (non-admin) request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// An API request: counted, admitted by [`SimApi::admit`].
    Api,
    /// A request beside the API (an OAuth token endpoint): latency and faults apply, admission
    /// and the common counters (but `faults_injected` and `dropped_connections`) do not.
    Auxiliary,
}

/// The answer of [`SimApi::admit`].
#[derive(Debug, Clone, Default)]
pub struct Admission {
    /// Answer this instead (no fault is picked, nothing is served), e.g. a 429.
    pub refusal: Option<Reply>,
    /// Headers for the answer, whatever it turns out to be (rate-limit headers, an API version).
    pub headers: Vec<(String, String)>,
}

impl Admission {
    /// Admitted, with these headers.
    pub fn admit(headers: Vec<(String, String)>) -> Self {
        Admission {
            refusal: None,
            headers,
        }
    }

    /// Refused with `reply`, with these headers.
    pub fn refuse(reply: Reply, headers: Vec<(String, String)>) -> Self {
        Admission {
            refusal: Some(reply),
            headers,
        }
    }
}

/// A simulated help desk, served by [`crate::Bound::serve`]. Every method runs on the server's
/// tasks, under no kit lock; they are synchronous because a simulator answers from memory.
pub trait SimApi: Send + Sync + 'static {
    /// The help desk's name for log lines (`Zendesk`).
    fn name(&self) -> &str;

    /// The header carrying the request id (`sim-00000001`, ...) on every non-admin answer.
    fn request_id_header(&self) -> &str {
        "x-request-id"
    }

    /// Whether a request is an API request or an auxiliary one (default: API).
    fn kind(&self, _req: &Req) -> RequestKind {
        RequestKind::Api
    }

    /// Admission of an API request, after latency and before faults: a rate limit refuses
    /// here. Default: admitted, no headers.
    fn admit(&self, _req: &Req) -> Admission {
        Admission::default()
    }

    /// Answers a request. `fault` is the rule that fired, if any, other than drop and error:
    /// apply [`Fault::conflict_tag`] before writing, [`Fault::edit_after_read_tag`] after a
    /// 2xx read and [`Fault::stop_mid_write`] between the steps of a write; the others need
    /// nothing (the kit has waited out a delay and breaks the body).
    fn serve(&self, req: &Req, fault: Option<&Fault>) -> Reply;

    /// Whether a write of this help desk can stop between its steps (it is not transactional),
    /// so that [`Fault::StopMidWrite`] reaches [`SimApi::serve`]. Default `false`: the help desk's
    /// writes are atomic and the kit answers that fault with [`SimApi::fault_error`] status 500.
    fn partial_writes(&self) -> bool {
        false
    }

    /// The answer to an `error` fault, in the help desk's own error shape. `retry_after` is the
    /// rule's, or 1 for a 503 without one; the kit adds the `retry-after` header if the reply
    /// lacks it.
    fn fault_error(&self, req: &Req, status: u16, retry_after: Option<u64>) -> Reply;

    /// A `drop` fault closed this request's connection (for the simulator's own records).
    fn connection_dropped(&self, _req: &Req) {}

    /// Admin routes of the simulator (`/__sim/tickets/...`), after the kit's ([`crate::admin`]);
    /// `None`: the kit answers 404.
    fn admin(&self, _req: &Req) -> Option<Reply> {
        None
    }

    /// The counters `GET /__sim/stats` shows: the kit's plus the simulator's. Default: the kit's.
    fn stats(&self, kit: &KitStats) -> Value {
        json!(kit)
    }

    /// Back to the state at start (the kit resets its faults, counters and clock itself).
    fn reset(&self) {}

    /// The server stopped (stop background tasks such as jobs).
    fn shutdown(&self) {}
}
