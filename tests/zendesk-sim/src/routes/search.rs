//! `GET /api/v2/search` (offset, 1,000-result cap), `/search/count`, `/search/export` (cursor).
//! The query language is in [`crate::search`].

use serde_json::{json, Value};

use super::{cursor_page, enc, offset_params, tickets::merge, Reply, Req, Res};
use crate::{
    error::ApiError,
    search::{self, Query},
    shared::Shared,
    store::{Store, Ticket},
};

/// Offset search serves at most this many results per query.
pub const SEARCH_CAP: usize = 1000;

fn query(req: &Req) -> Result<Query, ApiError> {
    let q = req
        .q("query")
        .ok_or_else(|| ApiError::bad_request("InvalidValue", "query is required"))?;
    search::parse(q).map_err(|e| {
        ApiError::new(
            400,
            json!({"error": "InvalidValue", "description": format!("Invalid search query: {e}")}),
        )
    })
}

fn matching<'a>(q: &Query, store: &'a Store) -> Vec<&'a Ticket> {
    store.tickets().filter(|t| q.matches(t, store)).collect()
}

fn ignored_header(q: &Query, reply: &mut Reply) {
    if !q.ignored.is_empty() {
        reply
            .headers
            .push(("x-sim-ignored-terms".into(), q.ignored.join(" ")));
    }
}

fn result(t: &Ticket, base: &str) -> Value {
    let mut v = t.to_json(base);
    v["result_type"] = json!("ticket");
    v
}

pub(crate) fn search(sh: &Shared, req: &Req) -> Res {
    let q = query(req)?;
    let (page, per_page) = offset_params(req)?;
    if (page - 1) * per_page >= SEARCH_CAP {
        return Err(ApiError::new(
            422,
            json!({
                "error": "InvalidPaginationParameter",
                "description": format!("Search results are limited to {SEARCH_CAP} per query; page {page} with per_page {per_page} is past the limit. Use the search export endpoint to get more.")
            }),
        ));
    }
    let store = sh.store.lock().unwrap();
    let mut found = matching(&q, &store);
    search::sort(&mut found, req.q("sort_by"), req.q("sort_order"));
    let count = found.len();
    let start = (page - 1) * per_page;
    let end = (page * per_page).min(SEARCH_CAP);
    let results: Vec<Value> = found
        .iter()
        .skip(start)
        .take(end.saturating_sub(start))
        .map(|t| result(t, &store.base_url))
        .collect();
    let mut url = format!(
        "{}/api/v2/search.json?query={}",
        store.base_url,
        enc(req.q("query").unwrap_or(""))
    );
    for k in ["sort_by", "sort_order"] {
        if let Some(v) = req.q(k) {
            url.push_str(&format!("&{k}={}", enc(v)));
        }
    }
    // Like Zendesk, `next_page` announces the next page whenever more results exist, also when
    // that page is past the cap (and answers 422).
    let link = |p: usize| json!(format!("{url}&page={p}&per_page={per_page}"));
    let next = if page * per_page < count {
        link(page + 1)
    } else {
        Value::Null
    };
    let prev = if page > 1 {
        link(page - 1)
    } else {
        Value::Null
    };
    let mut reply = Reply::ok(json!({
        "results": results, "facets": null, "next_page": next, "previous_page": prev, "count": count
    }));
    ignored_header(&q, &mut reply);
    Ok(reply)
}

pub(crate) fn count(sh: &Shared, req: &Req) -> Res {
    let q = query(req)?;
    let store = sh.store.lock().unwrap();
    let mut reply = Reply::ok(json!({ "count": matching(&q, &store).len() }));
    ignored_header(&q, &mut reply);
    Ok(reply)
}

pub(crate) fn export(sh: &Shared, req: &Req) -> Res {
    let q = query(req)?;
    if q.has_type() {
        return Err(ApiError::bad_request(
            "InvalidSearchQuery",
            "The type keyword is not allowed in the query of search export; use filter[type]",
        ));
    }
    match req.q("filter[type]") {
        Some("ticket") => {}
        Some(_) => {
            // Users, organizations and groups are not simulated: nothing matches.
        }
        None => {
            return Err(ApiError::bad_request(
                "InvalidValue",
                "filter[type] is required (ticket, user, organization or group)",
            ))
        }
    }
    let store = sh.store.lock().unwrap();
    let mut items: Vec<(Vec<i64>, Value)> = if req.q("filter[type]") == Some("ticket") {
        matching(&q, &store)
            .into_iter()
            .map(|t| (vec![t.created_at, t.id as i64], result(t, &store.base_url)))
            .collect()
    } else {
        Vec::new()
    };
    items.sort_by(|a, b| a.0.cmp(&b.0));
    let url = format!(
        "{}/api/v2/search/export.json?query={}&filter%5Btype%5D={}",
        store.base_url,
        enc(req.q("query").unwrap_or("")),
        enc(req.q("filter[type]").unwrap_or(""))
    );
    let (page, mut paging) = cursor_page(req, &url, &items, 1000)?;
    // Search export has no backwards paging.
    paging["links"]["prev"] = Value::Null;
    paging["meta"]["before_cursor"] = Value::Null;
    let mut body = json!({ "results": page, "facets": null });
    merge(&mut body, paging);
    let mut reply = Reply::ok(body);
    ignored_header(&q, &mut reply);
    Ok(reply)
}
