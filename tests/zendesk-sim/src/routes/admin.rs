//! The admin API under `/__sim/` (no auth, no rate limit, no faults):
//! - `GET /__sim/tickets/{id}`: `{"ticket", "revision", "deleted", "comments", "writes"}`;
//! - `GET /__sim/writes[?ticket_id=N]`: `{"writes": [...]}` in order;
//! - `GET /__sim/stats`: [`crate::Stats`];
//! - `GET /__sim/faults`, `PUT /__sim/faults` (body: [`crate::Faults`] JSON);
//! - `POST /__sim/agent_edit/{id}?tag=t`: a simulated agent edits the ticket now;
//! - `POST /__sim/reset`: tickets, comments, writes, jobs, counters, rate windows and faults back
//!   to their state at start.

use serde_json::{json, Value};

use super::{Reply, Req, Res};
use crate::{error::ApiError, faults::Faults, server::Shared};

pub(crate) fn handle(sh: &Shared, req: &Req) -> Res {
    let segs = req.segs();
    match (req.method.as_str(), &segs[..]) {
        ("GET", ["__sim", "tickets", id]) => {
            let id: u64 = id.parse().map_err(|_| ApiError::not_found())?;
            let store = sh.store.lock().unwrap();
            let t = store.ticket(id).ok_or_else(ApiError::not_found)?;
            let comments: Vec<Value> = store.comments(id).iter().map(|c| c.to_json()).collect();
            let writes: Vec<_> = store
                .writes()
                .iter()
                .filter(|w| w.ticket_id == id)
                .collect();
            Ok(Reply::ok(json!({
                "ticket": t.to_json(&store.base_url),
                "revision": t.revision,
                "deleted": t.deleted,
                "comments": comments,
                "writes": writes,
            })))
        }
        ("GET", ["__sim", "writes"]) => {
            let filter: Option<u64> = req.q("ticket_id").and_then(|s| s.parse().ok());
            let store = sh.store.lock().unwrap();
            let writes: Vec<_> = store
                .writes()
                .iter()
                .filter(|w| filter.is_none_or(|id| w.ticket_id == id))
                .collect();
            Ok(Reply::ok(json!({ "writes": writes })))
        }
        ("GET", ["__sim", "stats"]) => Ok(Reply::ok(json!(sh.stats()))),
        ("GET", ["__sim", "faults"]) => Ok(Reply::ok(json!(sh.faults.lock().unwrap().faults))),
        ("PUT", ["__sim", "faults"]) => {
            let faults: Faults = serde_json::from_slice(&req.body).map_err(|e| {
                ApiError::bad_request("InvalidValue", format!("not a faults object: {e}"))
            })?;
            sh.set_faults(faults.clone());
            Ok(Reply::ok(json!(faults)))
        }
        ("POST", ["__sim", "agent_edit", id]) => {
            let id: u64 = id.parse().map_err(|_| ApiError::not_found())?;
            let tag = req.q("tag").unwrap_or("sim_agent_edit");
            if sh.store.lock().unwrap().agent_edit(id, tag) {
                Ok(Reply::ok(json!({"edited": id})))
            } else {
                Err(ApiError::not_found())
            }
        }
        ("POST", ["__sim", "reset"]) => {
            sh.reset();
            Ok(Reply::ok(json!({"reset": true})))
        }
        _ => Err(ApiError::invalid_endpoint()),
    }
}
