//! Groups (cursor or offset, deleted ones flagged) and ticket fields.

use serde_json::{json, Value};

use super::{
    cursor_page, offset_links, offset_params, tickets::merge, wants_cursor, Reply, Req, Res,
};
use crate::{error::ApiError, shared::Shared};

pub(crate) fn list(sh: &Shared, req: &Req, assignable: bool) -> Res {
    let store = sh.store.lock().unwrap();
    let exclude_deleted = assignable || req.q("exclude_deleted") == Some("true");
    let mut groups: Vec<_> = store
        .groups()
        .iter()
        .filter(|g| !(exclude_deleted && g.deleted))
        .collect();
    groups.sort_by_key(|g| g.id);
    let items: Vec<(Vec<i64>, Value)> = groups
        .iter()
        .map(|g| (vec![g.id as i64], g.to_json(&store.base_url, store.epoch)))
        .collect();
    let path = if assignable {
        "groups/assignable"
    } else {
        "groups"
    };
    let url = format!("{}/api/v2/{path}.json", store.base_url);
    if wants_cursor(req) {
        let (page, paging) = cursor_page(req, &url, &items, 100)?;
        let mut body = json!({ "groups": page });
        merge(&mut body, paging);
        return Ok(Reply::ok(body));
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
        "groups": slice, "next_page": next, "previous_page": prev, "count": items.len()
    })))
}

pub(crate) fn show(sh: &Shared, id: u64) -> Res {
    let store = sh.store.lock().unwrap();
    let g = store
        .groups()
        .iter()
        .find(|g| g.id == id)
        .ok_or_else(ApiError::not_found)?;
    Ok(Reply::ok(
        json!({ "group": g.to_json(&store.base_url, store.epoch) }),
    ))
}

pub(crate) fn ticket_fields(sh: &Shared) -> Res {
    let store = sh.store.lock().unwrap();
    let mut fields = store.ticket_fields().to_vec();
    fields.sort_by_key(|f| f["position"].as_i64().unwrap_or(0));
    Ok(Reply::ok(json!({
        "ticket_fields": fields, "next_page": null, "previous_page": null, "count": fields.len()
    })))
}

pub(crate) fn ticket_field(sh: &Shared, id: u64) -> Res {
    let store = sh.store.lock().unwrap();
    let f = store
        .ticket_fields()
        .iter()
        .find(|f| f["id"].as_u64() == Some(id))
        .ok_or_else(ApiError::not_found)?;
    Ok(Reply::ok(json!({ "ticket_field": f })))
}
