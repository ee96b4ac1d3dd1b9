//! The Zendesk simulator's own admin routes under `/__sim/` (no auth, no rate limit, no
//! faults), after the kit's (`GET /__sim/stats`: [`crate::Stats`]; `GET`/`PUT /__sim/faults`;
//! `PUT /__sim/clock`; `POST /__sim/reset`: see [`otai_sim_kit::admin`]; a reset also returns
//! tickets, comments, writes, jobs, counters, rate windows and OAuth tokens to their state at
//! start):
//! - `GET /__sim/tickets/{id}`: `{"ticket", "revision", "deleted", "comments", "writes"}`;
//! - `GET /__sim/writes[?ticket_id=N]`: `{"writes": [...]}` in order;
//! - `POST /__sim/agent_edit/{id}?tag=t`: a simulated agent edits the ticket now;
//! - `GET /__sim/oauth`: `{"stats": OAuthStats, "requests": [TokenRequest]}` of the token
//!   endpoint ([`crate::oauth`]);
//! - `POST /__sim/oauth/refresh_tokens?client_id=ID[&scope=S]`: `{"refresh_token"}`, minted as
//!   an admin's authorization-code flow would;
//! - `POST /__sim/oauth/revoke?client_id=ID`: `{"revoked": N}`, the client's refresh tokens;
//! - `POST /__sim/oauth/expire`: `{"expired": N}`, every live access token expires now;
//! - `POST /__sim/tickets` with `{"tickets": [...]}` (the seed format): customers write in; with a
//!   webhook set, each new ticket's signed delivery goes out ([`crate::webhooks`]);
//! - `PUT /__sim/webhook` with `{"url", "secret"}` (or `null`): where those deliveries go;
//!   `GET /__sim/webhook/deliveries`: `{"deliveries": [...]}`.

use std::time::Instant;

use serde_json::{json, Value};

use otai_sim_kit::Req;

use super::{Reply, Res};
use crate::{error::ApiError, shared::Shared};

/// Answers the routes above (404 `InvalidEndpoint` for any other).
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
        ("POST", ["__sim", "tickets"]) => {
            let body: Value = serde_json::from_slice(&req.body)
                .map_err(|_| ApiError::bad_request("InvalidValue", "the body must be JSON"))?;
            let tickets = body
                .get("tickets")
                .and_then(Value::as_array)
                .cloned()
                .ok_or_else(|| ApiError::bad_request("InvalidValue", "`tickets` must be a list"))?;
            let count = tickets.len();
            crate::server::add_tickets(sh, tickets)
                .map_err(|e| ApiError::bad_request("InvalidValue", e.to_string()))?;
            Ok(Reply::ok(json!({ "added": count })))
        }
        ("PUT", ["__sim", "webhook"]) => {
            let body: Value = serde_json::from_slice(&req.body)
                .map_err(|_| ApiError::bad_request("InvalidValue", "the body must be JSON"))?;
            let target = match (
                body.get("url").and_then(Value::as_str),
                body.get("secret").and_then(Value::as_str),
            ) {
                (Some(url), Some(secret)) => Some(crate::WebhookTarget {
                    url: url.to_string(),
                    secret: secret.to_string(),
                }),
                _ if body.is_null() => None,
                _ => {
                    return Err(ApiError::bad_request(
                        "InvalidValue",
                        "expected {\"url\", \"secret\"} or null",
                    ))
                }
            };
            sh.webhooks.set_target(target);
            Ok(Reply::ok(json!({ "ok": true })))
        }
        ("GET", ["__sim", "webhook", "deliveries"]) => {
            Ok(Reply::ok(json!({ "deliveries": sh.webhooks.deliveries() })))
        }
        _ => Err(ApiError::invalid_endpoint()),
    }
}

fn client_id(req: &Req) -> Result<&str, ApiError> {
    req.q("client_id")
        .ok_or_else(|| ApiError::bad_request("InvalidValue", "client_id is required"))
}
