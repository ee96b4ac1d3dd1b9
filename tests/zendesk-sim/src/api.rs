//! Zendesk's part of the request pipeline ([`otai_sim_kit::SimApi`]; the order is the kit's):
//! the rate limit admits or refuses (429) API requests and adds its headers and
//! `x-zendesk-api-version`; authentication (tokens from `POST /oauth/tokens` first, then the
//! configured credentials), then routing; the `conflict` and `agent_edit_after_read` faults;
//! Zendesk-shaped fault errors. Token requests (`POST /oauth/tokens`, [`crate::oauth`]) are
//! auxiliary: latency and faults but no rate limit, counted apart
//! ([`crate::SimHandle::oauth_stats`]).

use std::{sync::Arc, time::Instant};

use otai_sim_kit::{Admission, Fault, KitStats, Reply, RequestKind, SimApi};
use serde_json::{json, Value};

use crate::{
    auth::{authenticate, bearer_token, Caller},
    error::ApiError,
    oauth::TOKEN_PATH,
    routes::{self, oauth::TokenCall, Req},
    server::API_USER_ID,
    shared::Shared,
};

/// The simulated Zendesk account, as the kit's server sees it.
pub(crate) struct Zendesk(pub Arc<Shared>);

impl SimApi for Zendesk {
    fn name(&self) -> &str {
        "Zendesk"
    }

    fn kind(&self, req: &otai_sim_kit::Req) -> RequestKind {
        if is_token_request(req) {
            RequestKind::Auxiliary
        } else {
            RequestKind::Api
        }
    }

    fn admit(&self, req: &otai_sim_kit::Req) -> Admission {
        let verdict = self.0.rate.lock().unwrap().check(&req.method, &req.path);
        let mut headers = verdict.headers;
        headers.push(("x-zendesk-api-version".into(), "v2".into()));
        let mut counters = self.0.counters.lock().unwrap();
        match verdict.retry_after {
            Some(wait) => {
                counters.rate_limited += 1;
                Admission::refuse(Reply::from(ApiError::rate_limited(wait)), headers)
            }
            None => {
                counters.accepted += 1;
                Admission::admit(headers)
            }
        }
    }

    fn serve(&self, req: &otai_sim_kit::Req, fault: Option<&Fault>) -> Reply {
        if is_token_request(req) {
            let breaks = fault.is_some_and(Fault::breaks_body);
            return routes::oauth::handle(&self.0, &TokenCall::of(req), breaks);
        }
        let reply = authed(&self.0, req, fault.and_then(Fault::conflict_tag));
        if let Some(tag) = fault.and_then(Fault::edit_after_read_tag) {
            if reply.is_success() {
                agent_edits_what_was_read(&self.0, reply.body.as_ref(), tag);
            }
        }
        reply
    }

    fn fault_error(&self, req: &otai_sim_kit::Req, status: u16, retry_after: Option<u64>) -> Reply {
        let mut reply = Reply::from(ApiError::simulated(status, retry_after));
        if is_token_request(req) {
            routes::oauth::record_fault(&self.0, &TokenCall::of(req), Some(status));
            routes::oauth::no_store(&mut reply);
        }
        reply
    }

    fn connection_dropped(&self, req: &otai_sim_kit::Req) {
        if is_token_request(req) {
            routes::oauth::record_fault(&self.0, &TokenCall::of(req), None);
        }
    }

    fn admin(&self, req: &otai_sim_kit::Req) -> Option<Reply> {
        Some(routes::admin::handle(&self.0, req).unwrap_or_else(Reply::from))
    }

    fn stats(&self, kit: &KitStats) -> Value {
        json!(self.0.stats(kit))
    }

    fn reset(&self) {
        self.0.reset();
    }

    fn shutdown(&self) {
        self.0.abort_jobs();
    }
}

fn is_token_request(req: &otai_sim_kit::Req) -> bool {
    req.method == "POST" && req.path == TOKEN_PATH
}

/// Authenticates (tokens from `POST /oauth/tokens` first, then the configured credentials),
/// then routes; a `conflict` fault's agent edits come after authentication ([`routes::route`]).
fn authed(sh: &Arc<Shared>, http: &otai_sim_kit::Req, conflict_tag: Option<&str>) -> Reply {
    let auth_header = http.header("authorization");
    let is_me = http.method == "GET" && http.segs()[..] == ["api", "v2", "users", "me"];
    let issued = bearer_token(auth_header)
        .and_then(|t| sh.oauth.lock().unwrap().check_access(t, Instant::now()));
    let caller = match issued {
        Some(checked) => checked.map(|read_only| Caller::User { read_only }),
        None => authenticate(auth_header, &sh.credentials),
    };
    match caller {
        Ok(Caller::User { read_only }) => {
            let req = Req {
                http,
                can_write: !read_only,
                user_id: API_USER_ID,
                conflict_tag,
            };
            routes::route(sh, &req).unwrap_or_else(Reply::from)
        }
        Ok(Caller::Anonymous) if is_me => routes::users::me(sh, None).unwrap_or_else(Reply::from),
        Ok(Caller::Anonymous) => Reply::from(ApiError::unauthenticated()),
        Err(e) => Reply::from(e),
    }
}

/// The [`Fault::AgentEditAfterRead`] edits: every ticket an answer shows.
fn agent_edits_what_was_read(sh: &Shared, body: Option<&Value>, tag: &str) {
    let Some(body) = body else { return };
    let mut ids: Vec<u64> = Vec::new();
    for key in ["results", "tickets"] {
        if let Some(items) = body.get(key).and_then(Value::as_array) {
            ids.extend(
                items
                    .iter()
                    .filter_map(|t| t.get("id").and_then(Value::as_u64)),
            );
        }
    }
    if let Some(id) = body.pointer("/ticket/id").and_then(Value::as_u64) {
        ids.push(id);
    }
    let mut store = sh.store.lock().unwrap();
    for id in ids {
        store.agent_edit(id, tag);
    }
}
