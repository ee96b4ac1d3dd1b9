//! HTTP routing: requests parsed into [`Req`], answered with [`Reply`]; one module per resource.
//! Paths are matched without the optional `.json` suffix.

use std::sync::Arc;

use base64::Engine as _;
use serde_json::{json, Value};

use crate::{error::ApiError, shared::Shared};

pub(crate) mod admin;
pub(crate) mod groups;
pub(crate) mod jobs;
pub(crate) mod oauth;
pub(crate) mod search;
pub(crate) mod tags;
pub(crate) mod tickets;
pub(crate) mod users;

/// The kit's answer type; Zendesk's errors become one through `From<ApiError>`
/// ([`crate::error`]).
pub(crate) use otai_sim_kit::Reply;

/// An authenticated API request: the kit's parsed request ([`otai_sim_kit::Req`], which it
/// derefs to) plus what authentication and the fault decision found out.
#[derive(Debug)]
pub(crate) struct Req<'a> {
    pub http: &'a otai_sim_kit::Req,
    /// The caller may write (false for read-only tokens).
    pub can_write: bool,
    /// The user id writes are attributed to.
    pub user_id: u64,
    /// A `conflict` fault fired: an agent edits the written tickets first, adding this tag.
    pub conflict_tag: Option<&'a str>,
}

impl std::ops::Deref for Req<'_> {
    type Target = otai_sim_kit::Req;

    fn deref(&self) -> &otai_sim_kit::Req {
        self.http
    }
}

impl Req<'_> {
    /// The body as JSON (empty = `null`); not JSON is Zendesk's 400 `InvalidJSON`.
    pub fn json(&self) -> Result<Value, ApiError> {
        self.http.json().map_err(|e| {
            ApiError::bad_request(
                "InvalidJSON",
                format!("The request body is not valid JSON: {e}"),
            )
        })
    }
}

pub(crate) type Res = Result<Reply, ApiError>;

/// Routes an authenticated API request.
pub(crate) fn route(sh: &Arc<Shared>, req: &Req) -> Res {
    let segs = req.segs();
    let m = req.method.as_str();
    let writes = matches!(m, "PUT" | "POST" | "DELETE");
    if writes && !req.can_write {
        return Err(ApiError::forbidden());
    }
    if let (Some(tag), ["api", "v2", "tickets", id, ..]) = (req.conflict_tag, &segs[..]) {
        if writes {
            if let Ok(id) = id.parse::<u64>() {
                sh.store.lock().unwrap().agent_edit(id, tag);
            }
        }
    }
    match (m, &segs[..]) {
        ("GET", ["api", "v2", "tickets"]) => tickets::list(sh, req),
        ("GET", ["api", "v2", "tickets", "show_many"]) => tickets::show_many(sh, req),
        ("PUT", ["api", "v2", "tickets", "update_many"]) => jobs::update_many(sh, req),
        ("GET", ["api", "v2", "tickets", id]) => tickets::show(sh, parse_id(id)?),
        ("PUT", ["api", "v2", "tickets", id]) => tickets::update(sh, req, parse_id(id)?),
        ("DELETE", ["api", "v2", "tickets", id]) => tickets::delete(sh, parse_id(id)?),
        ("GET", ["api", "v2", "tickets", id, "comments"]) => {
            tickets::comments(sh, req, parse_id(id)?)
        }
        (_, ["api", "v2", "tickets", id, "tags"]) => tags::handle(sh, req, parse_id(id)?),
        ("GET", ["api", "v2", "search"]) => search::search(sh, req),
        ("GET", ["api", "v2", "search", "count"]) => search::count(sh, req),
        ("GET", ["api", "v2", "search", "export"]) => search::export(sh, req),
        ("GET", ["api", "v2", "incremental", "tickets", "cursor"]) => tickets::incremental(sh, req),
        ("GET", ["api", "v2", "groups"]) => groups::list(sh, req, false),
        ("GET", ["api", "v2", "groups", "assignable"]) => groups::list(sh, req, true),
        ("GET", ["api", "v2", "groups", id]) => groups::show(sh, parse_id(id)?),
        ("GET", ["api", "v2", "ticket_fields"]) => groups::ticket_fields(sh),
        ("GET", ["api", "v2", "ticket_fields", id]) => groups::ticket_field(sh, parse_id(id)?),
        ("GET", ["api", "v2", "users", "me"]) => users::me(sh, Some(req.user_id)),
        ("GET", ["api", "v2", "job_statuses"]) => jobs::list(sh),
        ("GET", ["api", "v2", "job_statuses", "show_many"]) => jobs::show_many(sh, req),
        ("GET", ["api", "v2", "job_statuses", id]) => jobs::show(sh, id),
        _ => Err(ApiError::invalid_endpoint()),
    }
}

fn parse_id(s: &str) -> Result<u64, ApiError> {
    s.parse().map_err(|_| ApiError::not_found())
}

/// An opaque cursor for a position (sort keys of the last item).
pub(crate) fn encode_cursor(keys: &[i64]) -> String {
    let text = keys
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(":");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("sim1:{text}"))
}

pub(crate) fn decode_cursor(c: &str) -> Result<Vec<i64>, ApiError> {
    let bad = || ApiError::bad_request("InvalidPaginationParameter", "cursor is invalid");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(c.trim())
        .map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let rest = text.strip_prefix("sim1:").ok_or_else(bad)?;
    rest.split(':')
        .map(|p| p.parse::<i64>().map_err(|_| bad()))
        .collect()
}

/// `page[size]` (default 100, at most `max`).
pub(crate) fn page_size(req: &Req, max: usize) -> Result<usize, ApiError> {
    match req.q("page[size]") {
        None => Ok(100.min(max)),
        Some(s) => match s.parse::<usize>() {
            Ok(n) if n >= 1 && n <= max => Ok(n),
            _ => Err(ApiError::bad_request(
                "InvalidPaginationParameter",
                format!("page[size] must be between 1 and {max}"),
            )),
        },
    }
}

/// Whether the request asks for cursor pagination.
pub(crate) fn wants_cursor(req: &Req) -> bool {
    req.query.iter().any(|(k, _)| k.starts_with("page["))
}

/// One cursor page over items sorted by `keys`: honours `page[after]` / `page[before]`.
/// Returns the page and the `meta` + `links` objects. `links.next` stays a URL on the last page.
pub(crate) fn cursor_page<T: Clone>(
    req: &Req,
    url: &str,
    items: &[(Vec<i64>, T)],
    max: usize,
) -> Result<(Vec<T>, Value), ApiError> {
    let size = page_size(req, max)?;
    let (slice, has_more): (Vec<&(Vec<i64>, T)>, bool) = if let Some(b) = req.q("page[before]") {
        let before = decode_cursor(b)?;
        let older: Vec<&(Vec<i64>, T)> = items.iter().filter(|(k, _)| *k < before).collect();
        let start = older.len().saturating_sub(size);
        (older[start..].to_vec(), start > 0)
    } else {
        let after = req.q("page[after]").map(decode_cursor).transpose()?;
        let newer: Vec<&(Vec<i64>, T)> = items
            .iter()
            .filter(|(k, _)| after.as_ref().is_none_or(|a| k > a))
            .collect();
        (
            newer.iter().take(size).copied().collect(),
            newer.len() > size,
        )
    };
    let after_cursor = slice.last().map(|(k, _)| encode_cursor(k));
    let before_cursor = slice.first().map(|(k, _)| encode_cursor(k));
    let sep = if url.contains('?') { '&' } else { '?' };
    let link = |key: &str, c: &Option<String>| match c {
        Some(c) => json!(format!(
            "{url}{sep}page%5B{key}%5D={c}&page%5Bsize%5D={size}"
        )),
        None => json!(format!("{url}{sep}page%5Bsize%5D={size}")),
    };
    let paging = json!({
        "meta": {"has_more": has_more, "after_cursor": after_cursor, "before_cursor": before_cursor},
        "links": {"next": link("after", &after_cursor), "prev": link("before", &before_cursor)},
    });
    Ok((slice.into_iter().map(|(_, v)| v.clone()).collect(), paging))
}

/// Offset paging: `page` (from 1) and `per_page` (default 100, at most 100).
pub(crate) fn offset_params(req: &Req) -> Result<(usize, usize), ApiError> {
    let bad = |what: &str| {
        ApiError::bad_request("InvalidPaginationParameter", format!("{what} is invalid"))
    };
    let page = match req.q("page") {
        None => 1,
        Some(p) => p
            .parse::<usize>()
            .ok()
            .filter(|p| *p >= 1)
            .ok_or_else(|| bad("page"))?,
    };
    let per_page = match req.q("per_page") {
        None => 100,
        Some(p) => p
            .parse::<usize>()
            .ok()
            .filter(|p| *p >= 1)
            .ok_or_else(|| bad("per_page"))?
            .min(100),
    };
    Ok((page, per_page))
}

/// `next_page` / `previous_page` URLs for offset paging of `total` items.
pub(crate) fn offset_links(
    url: &str,
    page: usize,
    per_page: usize,
    total: usize,
) -> (Value, Value) {
    let sep = if url.contains('?') { '&' } else { '?' };
    let next = if page * per_page < total {
        json!(format!("{url}{sep}page={}&per_page={per_page}", page + 1))
    } else {
        Value::Null
    };
    let prev = if page > 1 {
        json!(format!("{url}{sep}page={}&per_page={per_page}", page - 1))
    } else {
        Value::Null
    };
    (next, prev)
}

/// Percent-encodes a query value.
pub(crate) fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
