//! Ticket search: the unified [`SearchQuery`] in Zendesk search syntax, pagination, and the
//! client-side checks that make the result match the query exactly.
//!
//! Translation (terms separated by spaces, which Zendesk combines with AND across keywords):
//! - `type:ticket` (not for search export, where `filter[type]=ticket` replaces it);
//! - one status as `status:<s>`. Several statuses are searched one query each and merged: the
//!   references we could consult do not say whether repeated `status:` terms are alternatives or
//!   a conjunction, and the latter would silently find nothing;
//! - the queue as `group:"<name>"`, the documented form for group names;
//! - each required tag as `tags:<t>`, each forbidden tag as `-tags:<t>`;
//! - `updated><updated_since minus one second>`: `>` is the documented comparison operator
//!   (`>=` is not documented), and the second taken off keeps tickets updated exactly at
//!   `updated_since`; the client-side check below enforces "at or after" exactly;
//! - `system_query` appended verbatim.
//!
//! Whether Zendesk combines repeated `tags:` terms as alternatives (any of the tags, as user
//! reports describe) or as a conjunction is not stated in the reference we could consult; the
//! unified contract is "all of these tags". Either way the query returns a superset of the tickets
//! carrying all the tags. Likewise `group:"Name"` is a phrase match that also hits `"Name 2"`.
//! So every result is checked here too: status among the statuses, `group_id` equal to the id the
//! name resolves to (through the groups cache), every required tag present, no forbidden tag
//! present. The query only narrows what Zendesk sends; the check decides. A consequence: a page
//! can yield fewer matches than it has results, so paging continues until the limit is reached.
//!
//! Paging: `GET /api/v2/search` (offset, 100 per page, `sort_by=created_at&sort_order=asc`) serves
//! at most 1,000 results (page 11 is a 422). Search export (`GET /api/v2/search/export`, cursor,
//! no cap, ordered by creation) is used
//! - from the start when the first page's `count` exceeds 1,000 and the caller wants more than
//!   1,000 tickets (or all of them), and
//! - as a continuation when the 1,000 offset results are exhausted (more pages announced) but the
//!   limit is not reached yet, e.g. because the client-side checks dropped results.
//!
//! Results are deduplicated by id, since offset paging can repeat records.

use std::{collections::HashSet, time::SystemTime};

use otai_plugin_sdk::{http::Http, Error, ErrorKind, LogLevel, SearchQuery};
use serde_json::Value;
use time::{format_description::well_known::Rfc3339, Duration, OffsetDateTime, UtcOffset};

use crate::{
    api::{ExportPage, SearchPage, ZTicket},
    groups::GroupCache,
};

const TARGET: &str = "otai_zendesk::search";
/// Results per page, Zendesk's maximum for search.
pub const PAGE_SIZE: usize = 100;
/// What offset search serves at most per query.
pub const SEARCH_CAP: u64 = 1000;
const MAX_SEARCH_PAGES: u32 = (SEARCH_CAP as u32) / (PAGE_SIZE as u32);
/// A guard against a cursor that never ends.
const MAX_EXPORT_PAGES: usize = 100_000;

/// The conditions a result must meet, checked on every ticket Zendesk returns.
#[derive(Debug, Default)]
pub(crate) struct Filter {
    statuses: Vec<String>,
    updated_since: Option<OffsetDateTime>,
    group_id: Option<u64>,
    tags_all: Vec<String>,
    tags_none: Vec<String>,
}

impl Filter {
    pub(crate) fn matches(&self, t: &ZTicket) -> bool {
        let lower = |s: &str| s.to_ascii_lowercase();
        let tags: Vec<String> = t.tags.iter().map(|s| lower(s)).collect();
        (self.statuses.is_empty()
            || t.status
                .as_deref()
                .is_some_and(|s| self.statuses.contains(&lower(s))))
            && self.group_id.is_none_or(|g| t.group_id == Some(g))
            && self.tags_all.iter().all(|tag| tags.contains(tag))
            && !self.tags_none.iter().any(|tag| tags.contains(tag))
            && self.updated_since.is_none_or(|since| {
                t.updated_at
                    .as_deref()
                    .and_then(|u| OffsetDateTime::parse(u, &Rfc3339).ok())
                    .is_some_and(|updated| updated >= since)
            })
    }
}

/// One search term value: a single word, because a space would split the term.
fn word<'a>(value: &'a str, what: &str) -> Result<&'a str, Error> {
    let v = value.trim();
    if v.is_empty() || v.chars().any(|c| c.is_whitespace() || c == '"') {
        return Err(Error::new(
            ErrorKind::Validation,
            format!("invalid {what} \"{value}\" in the search query: expected a single word"),
        ));
    }
    Ok(v)
}

/// Builds the Zendesk query string and the client-side filter.
pub(crate) fn translate(
    q: &SearchQuery,
    group_id: Option<u64>,
    export: bool,
) -> Result<(String, Filter), Error> {
    let mut terms: Vec<String> = Vec::new();
    let mut filter = Filter {
        group_id,
        ..Filter::default()
    };
    if !export {
        terms.push("type:ticket".into());
    }
    for s in q.statuses.iter() {
        let s = word(s, "status")?.to_ascii_lowercase();
        terms.push(format!("status:{s}"));
        filter.statuses.push(s);
    }
    if let Some(name) = q.queue.as_ref() {
        // Zendesk's search syntax has no escape for a double quote inside a phrase.
        let name = name.trim().replace('"', " ");
        terms.push(format!("group:\"{name}\""));
    }
    for t in q.tags_all.iter() {
        let t = word(t, "tag")?;
        terms.push(format!("tags:{t}"));
        filter.tags_all.push(t.to_ascii_lowercase());
    }
    for t in q.tags_none.iter() {
        let t = word(t, "tag")?;
        terms.push(format!("-tags:{t}"));
        filter.tags_none.push(t.to_ascii_lowercase());
    }
    if let Some(since) = q.updated_since.as_ref() {
        let since = since.trim();
        let parsed = OffsetDateTime::parse(since, &Rfc3339).map_err(|_| {
            Error::new(
                ErrorKind::Validation,
                format!("invalid updated_since \"{since}\": expected an RFC 3339 time such as 2024-05-01T00:00:00Z"),
            )
        })?;
        let just_before = (parsed - Duration::seconds(1)).to_offset(UtcOffset::UTC);
        let just_before = just_before
            .replace_nanosecond(0)
            .unwrap_or(just_before)
            .format(&Rfc3339)
            .map_err(|e| {
                Error::new(
                    ErrorKind::Validation,
                    format!("invalid updated_since \"{since}\": {e}"),
                )
            })?;
        terms.push(format!("updated>{just_before}"));
        filter.updated_since = Some(parsed);
    }
    if let Some(extra) = q.system_query.as_ref() {
        let extra = extra.trim();
        if !extra.is_empty() {
            terms.push(extra.to_string());
        }
    }
    Ok((terms.join(" "), filter))
}

/// Collects matching tickets, deduplicated, in Zendesk's order, at most `limit`.
/// A ticket the search found, with the server's clock when it answered (for the same-second
/// guard, [`crate::reads`]).
pub(crate) struct Found {
    pub ticket: ZTicket,
    pub raw: Value,
    pub server_time: Option<SystemTime>,
}

struct Collector {
    filter: Filter,
    limit: Option<u64>,
    seen: HashSet<u64>,
    out: Vec<Found>,
}

impl Collector {
    fn full(&self) -> bool {
        self.limit.is_some_and(|l| self.out.len() as u64 >= l)
    }

    fn add(&mut self, results: Vec<Value>, server_time: Option<SystemTime>) {
        for raw in results {
            if self.full() {
                return;
            }
            let Some(t) = ZTicket::from_json(&raw) else {
                continue;
            };
            if t.result_type.as_deref().is_some_and(|r| r != "ticket") {
                continue;
            }
            let Some(id) = t.id else { continue };
            if self.filter.matches(&t) && self.seen.insert(id) {
                self.out.push(Found {
                    ticket: t,
                    raw,
                    server_time,
                });
            }
        }
    }
}

/// Runs the search and returns matching tickets (parsed and raw, with when they were read).
pub(crate) async fn find(
    http: &Http,
    groups: &GroupCache,
    q: &SearchQuery,
) -> Result<Vec<Found>, Error> {
    let limit = q.limit;
    if limit == Some(0) {
        return Ok(Vec::new());
    }
    let group_id = match q.queue.as_ref() {
        Some(name) => Some(groups.resolve(http, name).await?),
        None => None,
    };
    // The filter checks every condition of the whole query; the Zendesk queries are per status.
    let (_, filter) = translate(q, group_id, false)?;
    let mut c = Collector {
        filter,
        limit,
        seen: HashSet::new(),
        out: Vec::new(),
    };
    for sub in per_status(q) {
        search_into(http, &sub, &mut c).await?;
        if c.full() {
            break;
        }
    }
    Ok(c.out)
}

/// One page of a paged find (`find_tickets_page`): one search-export request. Search export
/// (cursor, no cap, oldest first) serves any number of results without the offset search's
/// 1,000 cap; its cursor lives an hour, which is what a caller streaming the pages has. The
/// cursor handed out is `<query>:<after>`: which of the per-status queries, and Zendesk's
/// `after_cursor` within it (empty: its first page). The page holds the results that pass the
/// client-side checks, so it may be short or even empty before the last one.
pub(crate) async fn find_page(
    http: &Http,
    groups: &GroupCache,
    q: &SearchQuery,
    cursor: Option<&str>,
) -> Result<(Vec<Found>, Option<String>), Error> {
    if q.limit == Some(0) {
        return Ok((Vec::new(), None));
    }
    let subs = per_status(q);
    let (index, after) = match cursor {
        None => (0, None),
        Some(cursor) => parse_page_cursor(cursor, subs.len())?,
    };
    let group_id = match q.queue.as_ref() {
        Some(name) => Some(groups.resolve(http, name).await?),
        None => None,
    };
    let (_, filter) = translate(q, group_id, false)?;
    let (query, _) = translate(&subs[index], group_id, true)?;
    let mut c = Collector {
        filter,
        limit: None,
        seen: HashSet::new(),
        out: Vec::new(),
    };
    let next = match export_page(http, &query, after.as_deref(), &mut c).await? {
        ExportNext::After(next) => Some(format!("{index}:{next}")),
        ExportNext::Broken => return Err(broken_export_cursor()),
        ExportNext::End if index + 1 < subs.len() => Some(format!("{}:", index + 1)),
        ExportNext::End => None,
    };
    Ok((c.out, next))
}

/// `<query>:<after>` as [`find_page`] hands it out.
fn parse_page_cursor(cursor: &str, queries: usize) -> Result<(usize, Option<String>), Error> {
    let parsed = cursor.split_once(':').and_then(|(index, after)| {
        let index: usize = index.parse().ok()?;
        (index < queries).then(|| (index, (!after.is_empty()).then(|| after.to_string())))
    });
    parsed.ok_or_else(|| {
        Error::new(
            ErrorKind::Validation,
            "the search cursor is not one this service handed out for this query",
        )
    })
}

/// The query split into one query per status (a query without statuses stays whole).
fn per_status(q: &SearchQuery) -> Vec<SearchQuery> {
    if q.statuses.len() <= 1 {
        return vec![q.clone()];
    }
    q.statuses
        .iter()
        .map(|s| SearchQuery {
            statuses: vec![s.clone()],
            ..q.clone()
        })
        .collect()
}

/// Runs one Zendesk query (offset search, then export past the cap) into the collector.
async fn search_into(http: &Http, q: &SearchQuery, c: &mut Collector) -> Result<(), Error> {
    let (query, _) = translate(q, c.filter.group_id, false)?;
    let wants_more_than_cap = c
        .limit
        .is_none_or(|l| l.saturating_sub(c.out.len() as u64) > SEARCH_CAP);

    let mut page: u32 = 1;
    loop {
        let params = vec![
            ("query", query.clone()),
            ("sort_by", "created_at".to_string()),
            ("sort_order", "asc".to_string()),
            ("per_page", PAGE_SIZE.to_string()),
            ("page", page.to_string()),
        ];
        let answer = http
            .get_dated::<SearchPage>("/api/v2/search", &params)
            .await?;
        let res = answer.value;
        if page == 1 && wants_more_than_cap && res.count.is_some_and(|n| n > SEARCH_CAP) {
            let count = res.count.unwrap_or_default();
            http.log().log(LogLevel::Info, TARGET, || {
                format!("Search matches {count} tickets, more than the search API serves ({SEARCH_CAP}); using search export.")
            });
            return export(http, q, c).await;
        }
        c.add(res.results, answer.server_time);
        if c.full() || res.next_page.is_none() {
            return Ok(());
        }
        if page >= MAX_SEARCH_PAGES {
            http.log().log(LogLevel::Info, TARGET, || {
                format!("Search reached its {SEARCH_CAP}-result cap with {} matching tickets; continuing with search export.", c.out.len())
            });
            return export(http, q, c).await;
        }
        page += 1;
    }
}

async fn export(http: &Http, q: &SearchQuery, c: &mut Collector) -> Result<(), Error> {
    let (query, _) = translate(q, c.filter.group_id, true)?;
    let mut after: Option<String> = None;
    for _ in 0..MAX_EXPORT_PAGES {
        let next = export_page(http, &query, after.as_deref(), c).await?;
        if c.full() {
            return Ok(());
        }
        match next {
            ExportNext::End => return Ok(()),
            ExportNext::After(cursor) => after = Some(cursor),
            ExportNext::Broken => return Err(broken_export_cursor()),
        }
    }
    Err(Error::new(
        ErrorKind::InvalidResponse,
        format!("GET /api/v2/search/export: more than {MAX_EXPORT_PAGES} pages; giving up"),
    ))
}

/// What follows a search-export page.
enum ExportNext {
    /// The last page (`links.next` stays a URL on it; `has_more` is the stop condition).
    End,
    /// Zendesk's `after_cursor` for the next page.
    After(String),
    /// `has_more` without a new cursor: following it would repeat the page.
    Broken,
}

/// One search-export request for `query` from `after`, its results into `c`.
async fn export_page(
    http: &Http,
    query: &str,
    after: Option<&str>,
    c: &mut Collector,
) -> Result<ExportNext, Error> {
    let mut params = vec![
        ("query", query.to_string()),
        ("filter[type]", "ticket".to_string()),
        ("page[size]", PAGE_SIZE.to_string()),
    ];
    if let Some(after) = after {
        params.push(("page[after]", after.to_string()));
    }
    let answer = http
        .get_dated::<ExportPage>("/api/v2/search/export", &params)
        .await?;
    let res = answer.value;
    c.add(res.results, answer.server_time);
    let meta = res.meta.unwrap_or_default();
    Ok(match (meta.has_more, meta.after_cursor) {
        (Some(true), Some(next)) if !next.is_empty() && after != Some(next.as_str()) => {
            ExportNext::After(next)
        }
        (Some(true), _) => ExportNext::Broken,
        _ => ExportNext::End,
    })
}

fn broken_export_cursor() -> Error {
    Error::new(
        ErrorKind::InvalidResponse,
        "GET /api/v2/search/export: `has_more` is true but no new `after_cursor` was given",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn q() -> SearchQuery {
        SearchQuery {
            statuses: vec!["new".to_string(), "Open".to_string()],
            queue: Some("Level 2".into()),
            tags_all: vec!["vip".to_string(), "billing".to_string()],
            tags_none: vec!["ai_done".to_string()],
            updated_since: Some("2024-05-01T00:00:00Z".into()),
            limit: Some(5),
            system_query: Some("brand:acme".into()),
        }
    }

    #[test]
    fn translates_every_condition() {
        let (query, _) = translate(&q(), Some(7), false).unwrap();
        assert_eq!(
            query,
            "type:ticket status:new status:open group:\"Level 2\" tags:vip tags:billing \
             -tags:ai_done updated>2024-04-30T23:59:59Z brand:acme"
        );
        let (export_query, _) = translate(&q(), Some(7), true).unwrap();
        assert!(!export_query.contains("type:"));
    }

    #[test]
    fn filter_requires_all_tags_and_exact_group() {
        let mut query = q();
        query.updated_since = None; // checked in its own test
        let (_, f) = translate(&query, Some(7), false).unwrap();
        let t = |v: Value| ZTicket::from_json(&v).unwrap();
        assert!(f.matches(&t(
            json!({"id":1,"status":"open","group_id":7,"tags":["vip","billing"]})
        )));
        assert!(!f.matches(&t(
            json!({"id":1,"status":"open","group_id":7,"tags":["vip"]})
        )));
        assert!(!f.matches(&t(
            json!({"id":1,"status":"open","group_id":8,"tags":["vip","billing"]})
        )));
        assert!(!f.matches(&t(
            json!({"id":1,"status":"open","group_id":7,"tags":["vip","billing","ai_done"]})
        )));
        assert!(!f.matches(&t(
            json!({"id":1,"status":"solved","group_id":7,"tags":["vip","billing"]})
        )));
    }

    #[test]
    fn rejects_terms_that_would_break_the_query() {
        let mut bad = q();
        bad.tags_all = vec!["two words".to_string()];
        assert_eq!(
            translate(&bad, None, false).unwrap_err().kind,
            ErrorKind::Validation
        );
        let mut bad = q();
        bad.updated_since = Some("yesterday or so".into());
        assert!(translate(&bad, None, false)
            .unwrap_err()
            .message
            .contains("updated_since"));
    }

    #[test]
    fn several_statuses_become_one_query_each() {
        let subs = per_status(&q());
        assert_eq!(subs.len(), 2);
        let (first, _) = translate(&subs[0], Some(7), false).unwrap();
        assert!(first.contains("status:new") && !first.contains("status:open"));
        let (second, _) = translate(&subs[1], Some(7), false).unwrap();
        assert!(second.contains("status:open") && !second.contains("status:new"));
        let mut one = q();
        one.statuses = vec!["new".to_string()];
        assert_eq!(per_status(&one).len(), 1);
    }

    #[test]
    fn updated_since_is_exact_at_the_second() {
        let (_, f) = translate(&q(), Some(7), false).unwrap();
        let t = |updated: &str| {
            ZTicket::from_json(&json!({"id":1,"status":"open","group_id":7,
                "tags":["vip","billing"],"updated_at": updated}))
            .unwrap()
        };
        assert!(
            f.matches(&t("2024-05-01T00:00:00Z")),
            "at the instant: kept"
        );
        assert!(
            f.matches(&t("2024-05-01T02:00:00+02:00")),
            "same instant, other offset"
        );
        assert!(
            !f.matches(&t("2024-04-30T23:59:59Z")),
            "a second before: dropped"
        );
    }
}
