//! Tickets: list (cursor or offset), show, show_many, update (PUT), delete, comments, and the
//! incremental cursor export.

use serde_json::{json, Map, Value};

use super::{cursor_page, offset_links, offset_params, wants_cursor, Reply, Req, Res};
use crate::{error::ApiError, shared::Shared, store::WriteCtx};

/// Offset paging beyond this many records answers 400 (Zendesk's rule since 2023/24).
const OFFSET_LIMIT: usize = 10_000;

pub(crate) fn list(sh: &Shared, req: &Req) -> Res {
    let store = sh.store.lock().unwrap();
    let base = &store.base_url;
    let external = req.q("external_id");
    let items: Vec<(Vec<i64>, Value)> = store
        .tickets()
        .filter(|t| !t.deleted && external.is_none_or(|e| t.external_id.as_deref() == Some(e)))
        .map(|t| (vec![t.id as i64], t.to_json(base)))
        .collect();
    let url = format!("{base}/api/v2/tickets.json");
    if wants_cursor(req) {
        let (page, paging) = cursor_page(req, &url, &items, 100)?;
        let mut body = json!({ "tickets": page });
        merge(&mut body, paging);
        return Ok(Reply::ok(body));
    }
    let (page, per_page) = offset_params(req)?;
    if (page - 1) * per_page >= OFFSET_LIMIT {
        return Err(ApiError::bad_request(
            "InvalidPaginationParameter",
            "Offset pagination is limited to the first 10000 records. Use cursor pagination.",
        ));
    }
    let slice: Vec<Value> = items
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|(_, v)| v.clone())
        .collect();
    let (next, prev) = offset_links(&url, page, per_page, items.len());
    Ok(Reply::ok(json!({
        "tickets": slice, "next_page": next, "previous_page": prev, "count": items.len()
    })))
}

pub(crate) fn merge(body: &mut Value, extra: Value) {
    if let (Value::Object(b), Value::Object(e)) = (body, extra) {
        b.extend(e);
    }
}

/// Comma-separated ids, at most 100.
pub(crate) fn ids_param(req: &Req, what: &str) -> Result<Vec<u64>, ApiError> {
    let raw = req
        .q("ids")
        .ok_or_else(|| ApiError::bad_request("InvalidValue", "ids is required"))?;
    let ids: Vec<u64> = raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<u64>())
        .collect::<Result<_, _>>()
        .map_err(|_| ApiError::bad_request("InvalidValue", "ids must be numbers"))?;
    if ids.len() > 100 {
        return Err(ApiError::too_many(what));
    }
    Ok(ids)
}

pub(crate) fn show_many(sh: &Shared, req: &Req) -> Res {
    let ids = ids_param(req, "ids")?;
    let store = sh.store.lock().unwrap();
    let tickets: Vec<Value> = ids
        .iter()
        .filter_map(|id| store.live(*id))
        .map(|t| t.to_json(&store.base_url))
        .collect();
    Ok(Reply::ok(json!({
        "tickets": tickets, "next_page": null, "previous_page": null, "count": tickets.len()
    })))
}

pub(crate) fn show(sh: &Shared, id: u64) -> Res {
    let store = sh.store.lock().unwrap();
    let t = store.live(id).ok_or_else(ApiError::not_found)?;
    Ok(Reply::ok(json!({ "ticket": t.to_json(&store.base_url) })))
}

/// The `ticket` object of a write body.
pub(crate) fn ticket_body(req: &Req) -> Result<Map<String, Value>, ApiError> {
    match req.json()? {
        Value::Object(mut o) => match o.remove("ticket") {
            Some(Value::Object(t)) => Ok(t),
            _ => Err(ApiError::bad_request(
                "InvalidValue",
                "The body must be {\"ticket\": {...}}",
            )),
        },
        _ => Err(ApiError::bad_request(
            "InvalidValue",
            "The body must be {\"ticket\": {...}}",
        )),
    }
}

pub(crate) fn update(sh: &Shared, req: &Req, id: u64) -> Res {
    let body = ticket_body(req)?;
    let ctx = WriteCtx {
        endpoint: "PUT /api/v2/tickets/{id}".into(),
        author_id: req.user_id,
        job_id: None,
        bulk: false,
    };
    let updated = sh.store.lock().unwrap().update_ticket(id, &body, &ctx)?;
    let mut reply = Reply::ok(json!({"ticket": updated.ticket, "audit": updated.audit}));
    if !updated.unpermitted.is_empty() {
        reply.headers.push((
            "x-zendesk-api-warn".into(),
            json!({"unpermitted_keys": updated.unpermitted}).to_string(),
        ));
    }
    Ok(reply)
}

pub(crate) fn delete(sh: &Shared, id: u64) -> Res {
    if sh.store.lock().unwrap().delete_ticket(id) {
        Ok(Reply::empty(204))
    } else {
        Err(ApiError::not_found())
    }
}

pub(crate) fn comments(sh: &Shared, req: &Req, id: u64) -> Res {
    let store = sh.store.lock().unwrap();
    store.live(id).ok_or_else(ApiError::not_found)?;
    let url = format!("{}/api/v2/tickets/{id}/comments.json", store.base_url);
    let mut items: Vec<(Vec<i64>, Value)> = store
        .comments(id)
        .iter()
        .map(|c| (vec![c.created_at, c.id as i64], c.to_json()))
        .collect();
    if wants_cursor(req) {
        if req.q("sort") == Some("-created_at") {
            items.reverse();
            for (k, _) in items.iter_mut() {
                k.iter_mut().for_each(|x| *x = -*x);
            }
        }
        let (page, paging) = super::cursor_page(req, &url, &items, 100)?;
        let mut body = json!({ "comments": page });
        merge(&mut body, paging);
        return Ok(Reply::ok(body));
    }
    if req.q("sort_order") == Some("desc") {
        items.reverse();
    }
    let (page, per_page) = offset_params(req)?;
    let slice: Vec<Value> = items
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|(_, v)| v.clone())
        .collect();
    let (next, prev) = offset_links(&url, page, per_page, items.len());
    Ok(Reply::ok(json!({
        "comments": slice, "next_page": next, "previous_page": prev, "count": items.len()
    })))
}

/// `GET /api/v2/incremental/tickets/cursor?start_time=|cursor=`: every ticket (deleted ones with
/// `status: "deleted"`) whose `generated_timestamp` is at or after `start_time`, in that order.
pub(crate) fn incremental(sh: &Shared, req: &Req) -> Res {
    let store = sh.store.lock().unwrap();
    let per_page = match req.q("per_page") {
        None => 1000,
        Some(p) => p
            .parse::<usize>()
            .ok()
            .filter(|p| *p >= 1)
            .ok_or_else(|| ApiError::bad_request("InvalidValue", "per_page is invalid"))?
            .min(1000),
    };
    let after: Vec<i64> = match (req.q("cursor"), req.q("start_time")) {
        (Some(c), _) => super::decode_cursor(c)?,
        (None, Some(s)) => {
            let s: i64 = s.parse().map_err(|_| {
                ApiError::bad_request("InvalidValue", "start_time must be a unix time in seconds")
            })?;
            vec![s, -1]
        }
        (None, None) => {
            return Err(ApiError::bad_request(
                "InvalidValue",
                "start_time or cursor is required",
            ))
        }
    };
    let mut items: Vec<(Vec<i64>, Value)> = store
        .tickets()
        .map(|t| {
            (
                vec![t.generated_timestamp, t.id as i64],
                t.to_json(&store.base_url),
            )
        })
        .filter(|(k, _)| *k > after)
        .collect();
    items.sort_by(|a, b| a.0.cmp(&b.0));
    let has_more = items.len() > per_page;
    items.truncate(per_page);
    let cursor = items
        .last()
        .map(|(k, _)| super::encode_cursor(k))
        .unwrap_or_else(|| super::encode_cursor(&after));
    let exclude_deleted = req.q("exclude_deleted") == Some("true");
    let tickets: Vec<Value> = items
        .into_iter()
        .map(|(_, v)| v)
        .filter(|v| !(exclude_deleted && v["status"] == "deleted"))
        .collect();
    Ok(Reply::ok(json!({
        "tickets": tickets,
        "after_url": format!("{}/api/v2/incremental/tickets/cursor.json?cursor={cursor}", store.base_url),
        "after_cursor": cursor,
        "before_url": null,
        "before_cursor": null,
        "end_of_stream": !has_more,
    })))
}
