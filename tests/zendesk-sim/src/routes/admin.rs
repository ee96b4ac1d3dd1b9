//! The admin API under `/__sim/` (no auth, no rate limit, no faults):
//! - `GET /__sim/tickets/{id}`: `{"ticket", "revision", "deleted", "comments", "writes"}`;
//! - `GET /__sim/writes[?ticket_id=N]`: `{"writes": [...]}` in order;
//! - `GET /__sim/stats`: [`crate::Stats`];
//! - `GET /__sim/faults`, `PUT /__sim/faults` (body: [`crate::Faults`] JSON);
//! - `POST /__sim/agent_edit/{id}?tag=t`: a simulated agent edits the ticket now;
//! - `PUT /__sim/clock` (body `{"at": UNIX_SECONDS}` or `{"at": null}`): stops the account's clock
//!   (stamps and `Date` headers) at that second, or back to the system clock; `{"now"}` answered;
//! - `GET /__sim/oauth`: `{"stats": OAuthStats, "requests": [TokenRequest]}` of the token
//!   endpoint ([`crate::oauth`]);
//! - `POST /__sim/oauth/refresh_tokens?client_id=ID[&scope=S]`: `{"refresh_token"}`, minted as
//!   an admin's authorization-code flow would;
//! - `POST /__sim/oauth/revoke?client_id=ID`: `{"revoked": N}`, the client's refresh tokens;
//! - `POST /__sim/oauth/expire`: `{"expired": N}`, every live access token expires now;
//! - `POST /__sim/reset`: tickets, comments, writes, jobs, counters, rate windows, faults and
//!   OAuth tokens back to their state at start.

use std::time::Instant;

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
        ("PUT", ["__sim", "clock"]) => {
            let body: Value = serde_json::from_slice(&req.body).map_err(|e| {
                ApiError::bad_request("InvalidValue", format!("not a clock object: {e}"))
            })?;
            let at = match body.get("at") {
                None | Some(Value::Null) => None,
                Some(v) => Some(v.as_i64().ok_or_else(|| {
                    ApiError::bad_request("InvalidValue", "`at` must be unix seconds or null")
                })?),
            };
            let mut store = sh.store.lock().unwrap();
            store.set_clock(at);
            Ok(Reply::ok(json!({"now": store.now()})))
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
        ("GET", ["__sim", "oauth"]) => {
            let oauth = sh.oauth.lock().unwrap();
            Ok(Reply::ok(
                json!({"stats": oauth.stats, "requests": oauth.requests}),
            ))
        }
        ("POST", ["__sim", "oauth", "refresh_tokens"]) => {
            let token = sh.oauth.lock().unwrap().grant_refresh(
                client_id(req)?,
                req.q("scope"),
                Instant::now(),
            )?;
            Ok(Reply::ok(json!({ "refresh_token": token })))
        }
        ("POST", ["__sim", "oauth", "revoke"]) => {
            let n = sh.oauth.lock().unwrap().revoke_refresh(client_id(req)?);
            Ok(Reply::ok(json!({ "revoked": n })))
        }
        ("POST", ["__sim", "oauth", "expire"]) => {
            let n = sh.oauth.lock().unwrap().expire_access(Instant::now());
            Ok(Reply::ok(json!({ "expired": n })))
        }
        ("POST", ["__sim", "reset"]) => {
            sh.reset();
            Ok(Reply::ok(json!({"reset": true})))
        }
        _ => Err(ApiError::invalid_endpoint()),
    }
}

fn client_id(req: &Req) -> Result<&str, ApiError> {
    req.q("client_id")
        .ok_or_else(|| ApiError::bad_request("InvalidValue", "client_id is required"))
}
