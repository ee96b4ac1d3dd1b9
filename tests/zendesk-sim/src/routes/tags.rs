//! `GET/PUT/POST/DELETE /api/v2/tickets/{id}/tags`: read, add, set (replace), remove; writes
//! accept `safe_update` + `updated_stamp` at the top level of the body.

use serde_json::{json, Map, Value};

use super::{Reply, Req, Res};
use crate::{
    error::ApiError,
    shared::Shared,
    store::{normalize_tags, WriteCtx},
};

pub(crate) fn handle(sh: &Shared, req: &Req, id: u64) -> Res {
    let mut store = sh.store.lock().unwrap();
    let current = store.live(id).ok_or_else(ApiError::not_found)?.tags.clone();
    if req.method == "GET" {
        return Ok(Reply::ok(json!({ "tags": current })));
    }
    let body = match req.json()? {
        Value::Object(o) => o,
        _ => {
            return Err(ApiError::bad_request(
                "InvalidValue",
                "The body must be {\"tags\": [...]}",
            ))
        }
    };
    let given: Vec<String> = match body.get("tags") {
        Some(Value::Array(a)) => normalize_tags(a.iter().filter_map(Value::as_str)),
        Some(Value::String(s)) => normalize_tags([s.as_str()]),
        _ => return Err(ApiError::bad_request("InvalidValue", "tags is required")),
    };
    let new: Vec<String> = match req.method.as_str() {
        "PUT" => current
            .iter()
            .cloned()
            .chain(given.iter().filter(|t| !current.contains(t)).cloned())
            .collect(),
        "POST" => given,
        "DELETE" => current
            .iter()
            .filter(|t| !given.contains(t))
            .cloned()
            .collect(),
        _ => return Err(ApiError::invalid_endpoint()),
    };
    let mut write = Map::new();
    write.insert("tags".into(), json!(new));
    for k in ["safe_update", "updated_stamp"] {
        if let Some(v) = body.get(k) {
            write.insert(k.into(), v.clone());
        }
    }
    let ctx = WriteCtx {
        endpoint: format!("{} /api/v2/tickets/{{id}}/tags", req.method),
        author_id: req.user_id,
        job_id: None,
        bulk: false,
    };
    let updated = store.update_ticket(id, &write, &ctx)?;
    let tags = updated.ticket["tags"].clone();
    Ok(match req.method.as_str() {
        "POST" => Reply::status(201, json!({ "tags": tags })),
        // The spec documents 204 for removal.
        "DELETE" => Reply::empty(204),
        _ => Reply::ok(json!({ "tags": tags })),
    })
}
