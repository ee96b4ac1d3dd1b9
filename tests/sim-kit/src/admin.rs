//! The admin routes every simulator has, under `/__sim/` (no latency, faults, rate limit or
//! authentication); a simulator's own admin routes ([`crate::SimApi::admin`]) come after them:
//! - `GET /__sim/faults`: the current [`crate::Faults`] (with `next` counters as they stand);
//! - `PUT /__sim/faults` (body: [`crate::Faults`] JSON): replaces them, reseeds the RNG; the
//!   faults are answered;
//! - `PUT /__sim/clock` (body `{"at": UNIX_SECONDS}` or `{"at": null}`): stops the account's
//!   clock ([`crate::Clock`]) at that second, or lets it run again; `{"now"}` is answered;
//! - `GET /__sim/stats`: [`crate::SimApi::stats`] (by default the [`crate::KitStats`]);
//! - `POST /__sim/reset`: [`crate::SimApi::reset`], then faults, counters and clock back to their
//!   state at start; `{"reset": true}` is answered.
//!
//! Errors: 400 `{"error": "InvalidValue", "description"}` for a body that does not parse, 404
//! `{"error": "InvalidEndpoint", "description": "Not found"}` for a route nobody serves.

use serde_json::{json, Value};

use crate::{api::SimApi, faults::Faults, http::Reply, http::Req, state::SimState};

/// Answers an admin request: the kit's routes, then the simulator's, then 404.
pub(crate) fn handle<A: SimApi>(state: &SimState, api: &A, req: &Req) -> Reply {
    match (req.method.as_str(), &req.segs()[..]) {
        ("GET", ["__sim", "faults"]) => Reply::ok(json!(state.faults())),
        ("PUT", ["__sim", "faults"]) => match serde_json::from_slice::<Faults>(&req.body) {
            Ok(faults) => {
                state.set_faults(faults.clone());
                Reply::ok(json!(faults))
            }
            Err(e) => invalid(format!("not a faults object: {e}")),
        },
        ("PUT", ["__sim", "clock"]) => match clock_at(&req.body) {
            Ok(at) => {
                state.clock().set(at);
                Reply::ok(json!({"now": state.clock().now()}))
            }
            Err(message) => invalid(message),
        },
        ("GET", ["__sim", "stats"]) => Reply::ok(api.stats(&state.stats())),
        ("POST", ["__sim", "reset"]) => {
            reset(state, api);
            Reply::ok(json!({"reset": true}))
        }
        _ => api.admin(req).unwrap_or_else(|| {
            Reply::status(
                404,
                json!({"error": "InvalidEndpoint", "description": "Not found"}),
            )
        }),
    }
}

/// The simulator's state and the kit's back to their state at start.
pub(crate) fn reset<A: SimApi>(state: &SimState, api: &A) {
    api.reset();
    state.reset();
}

/// `{"at": N}` → `Some(N)`, `{"at": null}` or `{}` → `None`.
fn clock_at(body: &[u8]) -> Result<Option<i64>, String> {
    let body: Value =
        serde_json::from_slice(body).map_err(|e| format!("not a clock object: {e}"))?;
    match body.get("at") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| "`at` must be unix seconds or null".to_string()),
    }
}

fn invalid(description: String) -> Reply {
    Reply::status(
        400,
        json!({"error": "InvalidValue", "description": description}),
    )
}
