//! Finding tickets without missing one to Freshdesk's caps or its index lag, for few credits.
//!
//! Freshdesk's **search** is capped (30 a page, 10 pages: 300 results) and indexed minutes late;
//! its **list** is current but shows only tickets created in the last 30 days unless given
//! `updated_since`, and at most 300 pages. So a query is answered by:
//!
//! 1. **The list scan**: `GET /tickets?updated_since=W&order_by=updated_at&order_type=asc&
//!    per_page=100&include=description`, every page, filtered here (status, group, tags). It
//!    costs 3 credits per 100 tickets whatever they are, descriptions included. At page 300 it
//!    starts again from the last ticket's `updated_at` (the ids seen are skipped), so there is no
//!    cap. `W` is the query's watermark: where the last scan ended (one second earlier, for
//!    Freshdesk's one-second stamps), kept for the life of the service; at the service's start,
//!    `lookback_days` ago.
//! 2. **The carry**: the matching tickets a find returned are kept. One the next scan sees again
//!    is judged from its new state (otai wrote it, or an agent did); one it does not see has not
//!    changed (every change moves `updated_at`, notes too), so it still matches and comes again.
//!    A ticket the host left for later (a retry backoff) is never lost to the moving watermark.
//! 3. **The backlog sweep**, once per query and service (at the first find the scan does not
//!    fill up to its limit): tickets that match but were last
//!    changed before the scan's start (older than `lookback_days`), by the search. These are old,
//!    so the index lag does not matter; more than 300 are split by creation date until each part
//!    fits (a single day with more than 300 is warned about and its first 300 taken; the rest
//!    come when those are done, on the next start). Each found ticket is read for its
//!    description (1 credit), or, when one more search counts few enough tickets changed since
//!    the oldest of them, the list is scanned from there instead (3 credits per 100).
//!
//! A query with `updated_since` is a plain scan from there (no watermark, carry or sweep). A
//! `system_query` is Freshdesk's own search language, answered by the search alone (its caps
//! and lag apply; documented).

use std::{
    collections::{HashMap, HashSet},
    sync::Mutex,
    time::Duration,
};

use otai_plugin_sdk::{http::Dated, Error, ErrorKind, SearchQuery, Ticket, TicketPage};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::{
    format_description::well_known::Rfc3339, macros::format_description, Date, OffsetDateTime,
};

use crate::{
    api::{FdTicket, SearchPage},
    client::FreshdeskDesk,
    convert,
};

/// The list's largest page.
pub const LIST_PAGE: u32 = 100;
/// The list's last page.
pub const LIST_MAX_PAGES: u32 = 300;
/// The search's page size and last page.
pub const SEARCH_PAGE: u64 = 30;
/// The search's last page.
pub const SEARCH_MAX_PAGES: u64 = 10;
/// The earliest creation date the sweep splits from (Freshdesk was founded in 2010).
const EPOCH: Date = time::macros::date!(2010 - 01 - 01);

/// Where each query's scan resumes, and the tickets it returned last.
#[derive(Debug, Default)]
pub struct Watermarks(Mutex<HashMap<String, Mark>>);

#[derive(Debug, Clone)]
struct Mark {
    since: OffsetDateTime,
    carry: HashMap<u64, FdTicket>,
    /// Whether the backlog sweep has run (it waits for a find the scan does not fill).
    swept: bool,
    /// Tickets the sweep found that no find has returned yet (past a limit).
    backlog: Vec<u64>,
}

/// What a query asks for, checked here on each ticket.
#[derive(Debug, Clone)]
pub struct Filter {
    /// `(status, unassigned)`: `unassigned` `Some(true)` for otai's `new`, `Some(false)` for
    /// `open`. Empty: any status.
    pub statuses: Vec<(u64, Option<bool>)>,
    /// The group.
    pub group_id: Option<u64>,
    /// Every one of these tags (lower case).
    pub tags_all: Vec<String>,
    /// None of these tags (lower case).
    pub tags_none: Vec<String>,
}

impl Filter {
    /// Whether `t` matches (spam and deleted tickets never do).
    pub fn matches(&self, t: &FdTicket) -> bool {
        if t.spam || t.deleted {
            return false;
        }
        let status_ok = self.statuses.is_empty()
            || self.statuses.iter().any(|(code, unassigned)| {
                t.status == *code && unassigned.is_none_or(|u| u == t.is_new())
            });
        let tags: Vec<String> = t.tags.iter().map(|s| s.to_lowercase()).collect();
        status_ok
            && self.group_id.is_none_or(|g| t.group_id == Some(g))
            && self.tags_all.iter().all(|w| tags.contains(w))
            && !self.tags_none.iter().any(|w| tags.contains(w))
    }

    /// The search's condition for the same tickets (tags excluded by `tags_none` are filtered
    /// here: the search language has no NOT).
    fn search_condition(&self) -> Option<String> {
        let statuses: Vec<String> = self
            .statuses
            .iter()
            .map(|(code, unassigned)| match unassigned {
                Some(true) => format!("(status:{code} AND group_id:null AND agent_id:null)"),
                _ => format!("status:{code}"),
            })
            .collect();
        if statuses.is_empty() {
            return None;
        }
        let mut parts = vec![format!("({})", statuses.join(" OR "))];
        if let Some(g) = self.group_id {
            parts.push(format!("group_id:{g}"));
        }
        parts.extend(
            self.tags_all
                .iter()
                .map(|t| format!("tag:'{}'", t.replace('\'', ""))),
        );
        Some(parts.join(" AND "))
    }
}

/// Every ticket matching `query`, at most `query.limit`.
pub async fn find(desk: &FreshdeskDesk, query: &SearchQuery) -> Result<Vec<Ticket>, Error> {
    let filter = filter(desk, query).await?;
    let limit = query.limit.map_or(usize::MAX, |l| l as usize);
    if let Some(own) = &query.system_query {
        let at = desk.server_now().await;
        let found = search_all(desk, own, &filter, limit).await?;
        desk.remember(&found, at);
        return desk.to_tickets(&found).await;
    }
    if let Some(since) = &query.updated_since {
        let since = parse_time(since).ok_or_else(|| {
            Error::new(
                ErrorKind::Validation,
                format!("updated_since \"{since}\" is not an RFC 3339 time"),
            )
        })?;
        let scan = scan(desk, since, &filter, limit).await?;
        desk.remember(&scan.matching, scan.read_time());
        return desk.to_tickets(&scan.matching).await;
    }

    let key = key(query);
    let earlier = desk
        .marks
        .0
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&key)
        .cloned();
    let mark = earlier.unwrap_or_else(|| Mark {
        since: OffsetDateTime::now_utc() - desk.config.lookback,
        carry: HashMap::new(),
        swept: false,
        backlog: Vec::new(),
    });
    let carried_before: Vec<u64> = mark.carry.keys().copied().collect();
    let scan = scan(desk, mark.since, &filter, limit).await?;
    let mut found = scan.matching.clone();
    let mut ids: HashSet<u64> = found.iter().map(|t| t.id).collect();
    // Carried tickets the scan did not see are unchanged, so they still match; when the scan was
    // cut short by the limit they cannot be told from changed ones yet and stay carried.
    let mut carry: HashMap<u64, FdTicket> = HashMap::new();
    for (id, t) in mark.carry {
        if scan.seen.contains(&id) {
            continue;
        }
        if scan.complete && found.len() < limit {
            ids.insert(id);
            found.push(t.clone());
        }
        carry.insert(id, t);
    }
    let mut swept = mark.swept;
    let mut backlog = mark.backlog;
    let mut oldest = None;
    if !swept && found.len() < limit {
        if let Some(condition) = filter.search_condition() {
            let before = mark.since.date().next_day().unwrap_or(mark.since.date());
            let old = sweep(desk, &condition, before, &filter).await?;
            backlog = old.ids;
            oldest = old.oldest;
        }
        swept = true;
    }
    backlog.retain(|id| !ids.contains(id));
    if !backlog.is_empty() && found.len() < limit {
        let room = limit - found.len();
        found.extend(read_backlog(desk, &mut backlog, oldest, &filter, room).await?);
    }
    desk.remember(&found, scan.read_time());
    carry.extend(found.iter().map(|t| (t.id, t.clone())));
    // Tickets that left the carry (written, routed by an agent, closed) need no re-read any
    // more: a shadow run, which never writes, must not keep every ticket it ever saw.
    desk.forget_all(carried_before.iter().filter(|id| !carry.contains_key(id)));
    let next = Mark {
        since: scan.last_updated.unwrap_or(mark.since) - Duration::from_secs(1),
        carry,
        swept,
        backlog,
    };
    desk.marks
        .0
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(key, next);
    desk.to_tickets(&found).await
}

/// One page of the tickets matching `query` (`find_tickets_page`, for reading a whole account
/// page by page): the plain list scan, one list page (100 tickets, 3 credits) per call, from
/// `updated_since` or, without one, from the beginning (the list shows older tickets only when
/// given `updated_since`). No watermark, carry or sweep: those serve the pipeline's repeated
/// finds. At page 300 the next page starts again from that page's last change time, the ids
/// already read from that second skipped; the cursor is that [`ListPosition`] as JSON. A
/// `system_query` is answered by the search alone, as one page (its 300-result cap applies).
pub async fn find_page(
    desk: &FreshdeskDesk,
    query: &SearchQuery,
    cursor: Option<&str>,
) -> Result<TicketPage, Error> {
    let not_ours = || {
        Error::new(
            ErrorKind::Validation,
            "the search cursor is not one this service handed out",
        )
    };
    if query.limit == Some(0) {
        return Ok(TicketPage::default());
    }
    if query.system_query.is_some() {
        if cursor.is_some() {
            return Err(not_ours());
        }
        return Ok(TicketPage {
            tickets: find(desk, query).await?,
            cursor: None,
        });
    }
    let filter = filter(desk, query).await?;
    let at = match cursor {
        Some(cursor) => serde_json::from_str(cursor).map_err(|_| not_ours())?,
        None => ListPosition {
            from: match &query.updated_since {
                Some(since) => parse_time(since).map(stamp).ok_or_else(|| {
                    Error::new(
                        ErrorKind::Validation,
                        format!("updated_since \"{since}\" is not an RFC 3339 time"),
                    )
                })?,
                None => stamp(EPOCH.midnight().assume_utc()),
            },
            page: 1,
            seen: Vec::new(),
        },
    };
    let from = parse_time(&at.from).ok_or_else(not_ours)?;
    let tickets = list_page(desk, from, at.page, true).await?.value;
    let full = tickets.len() as u32 >= LIST_PAGE;
    let last = tickets
        .iter()
        .filter_map(|t| t.updated_at.as_deref().and_then(parse_time))
        .max();
    let matching: Vec<FdTicket> = tickets
        .iter()
        .filter(|t| !at.seen.contains(&t.id) && filter.matches(t))
        .cloned()
        .collect();
    let next = match (full, last) {
        (false, _) => None,
        (true, Some(last)) if at.page >= LIST_MAX_PAGES => Some(ListPosition {
            from: stamp(last),
            page: 1,
            seen: tickets
                .iter()
                .filter(|t| t.updated_at.as_deref().and_then(parse_time) == Some(last))
                .map(|t| t.id)
                .collect(),
        }),
        (true, _) => Some(ListPosition {
            page: at.page + 1,
            ..at
        }),
    };
    // Strings and numbers: serializing cannot fail.
    let cursor = next.map(|n| serde_json::to_string(&n).expect("a list position serializes"));
    Ok(TicketPage {
        tickets: desk.to_tickets(&matching).await?,
        cursor,
    })
}

/// Where a paged list scan goes on: the page of the list by change time from `from`, less the
/// tickets in `seen` (read from `from`'s second before the list started again).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ListPosition {
    from: String,
    page: u32,
    seen: Vec<u64>,
}

/// The query's conditions, with its queue name resolved to a group id.
async fn filter(desk: &FreshdeskDesk, query: &SearchQuery) -> Result<Filter, Error> {
    let statuses = query
        .statuses
        .iter()
        .map(|s| {
            convert::status_code(s).ok_or_else(|| {
                Error::new(
                    ErrorKind::Validation,
                    format!(
                        "unknown status \"{s}\": Freshdesk's are new (Open, no group, no agent), \
                         open, pending, resolved, closed, or a number"
                    ),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let group_id = match &query.queue {
        None => None,
        Some(q) if q.chars().all(|c| c.is_ascii_digit()) && !q.is_empty() => q.parse().ok(),
        Some(name) => Some(desk.group_id(name).await?),
    };
    let lower = |tags: &[String]| tags.iter().map(|t| t.to_lowercase()).collect();
    Ok(Filter {
        statuses,
        group_id,
        tags_all: lower(&query.tags_all),
        tags_none: lower(&query.tags_none),
    })
}

/// The watermark's key: the query without its limit.
fn key(query: &SearchQuery) -> String {
    let mut q = query.clone();
    q.limit = None;
    serde_json::to_string(&q).unwrap_or_default()
}

/// What a list scan saw.
#[derive(Debug, Default)]
struct Scan {
    matching: Vec<FdTicket>,
    seen: HashSet<u64>,
    last_updated: Option<OffsetDateTime>,
    /// Whether it reached the end (not cut by the limit).
    complete: bool,
    /// The server's clock at the first page.
    read_at: Option<OffsetDateTime>,
}

impl Scan {
    /// When the scan read (the server's clock at its first page).
    fn read_time(&self) -> OffsetDateTime {
        self.read_at.unwrap_or_else(OffsetDateTime::now_utc)
    }
}

/// The list from `since` on, oldest change first, every page.
async fn scan(
    desk: &FreshdeskDesk,
    since: OffsetDateTime,
    filter: &Filter,
    limit: usize,
) -> Result<Scan, Error> {
    let mut out = Scan::default();
    let mut from = since;
    let mut page = 1u32;
    loop {
        let answer = list_page(desk, from, page, true).await?;
        if out.read_at.is_none() {
            out.read_at = Some(
                answer
                    .server_time
                    .map(OffsetDateTime::from)
                    .unwrap_or_else(OffsetDateTime::now_utc),
            );
        }
        let tickets = answer.value;
        let full = tickets.len() as u32 >= LIST_PAGE;
        for t in tickets {
            if !out.seen.insert(t.id) {
                continue;
            }
            if let Some(at) = t.updated_at.as_deref().and_then(parse_time) {
                out.last_updated = Some(out.last_updated.map_or(at, |l| l.max(at)));
            }
            if filter.matches(&t) {
                out.matching.push(t);
                if out.matching.len() >= limit {
                    return Ok(out);
                }
            }
        }
        if !full {
            out.complete = true;
            return Ok(out);
        }
        if page >= LIST_MAX_PAGES {
            // Freshdesk lists no page past 300: start again where this one ended.
            from = out.last_updated.unwrap_or(from);
            page = 1;
        } else {
            page += 1;
        }
    }
}

/// One page of the list by change time.
pub(crate) async fn list_page(
    desk: &FreshdeskDesk,
    since: OffsetDateTime,
    page: u32,
    with_description: bool,
) -> Result<Dated<Vec<FdTicket>>, Error> {
    let mut query = vec![
        ("updated_since", stamp(since)),
        ("order_by", "updated_at".to_string()),
        ("order_type", "asc".to_string()),
        ("per_page", LIST_PAGE.to_string()),
        ("page", page.to_string()),
    ];
    if with_description {
        query.push(("include", "description".to_string()));
    }
    let raw: Dated<Value> = desk.http.get_dated("/api/v2/tickets", &query).await?;
    let value = FdTicket::parse_list(raw.value).map_err(|e| {
        Error::new(
            ErrorKind::InvalidResponse,
            format!("GET /api/v2/tickets: Freshdesk's answer does not read as tickets: {e}"),
        )
    })?;
    Ok(Dated {
        value,
        server_time: raw.server_time,
    })
}

/// What the sweep's searches found: the matching tickets' ids and the oldest change among them.
#[derive(Debug, Default)]
struct Swept {
    ids: Vec<u64>,
    oldest: Option<OffsetDateTime>,
}

/// Tickets matching `condition` last changed before `before` (a day), split by creation date
/// while a part holds more than the search returns.
async fn sweep(
    desk: &FreshdeskDesk,
    condition: &str,
    before: Date,
    filter: &Filter,
) -> Result<Swept, Error> {
    let base = format!("{condition} AND updated_at:<'{}'", day(before));
    let today = OffsetDateTime::now_utc().date();
    let mut parts = vec![(EPOCH, today.next_day().unwrap_or(today))];
    let mut ids: Vec<u64> = Vec::new();
    let mut oldest: Option<OffsetDateTime> = None;
    let mut first = true;
    while let Some((lo, hi)) = parts.pop() {
        // The whole range first (one search is usually all there is), parts only when needed.
        let q = if first {
            base.clone()
        } else {
            created_between(&base, lo, hi)
        };
        first = false;
        let page1 = search_page(desk, &q, 1).await?;
        let cap = SEARCH_PAGE * SEARCH_MAX_PAGES;
        if page1.total > cap {
            let days = (hi - lo).whole_days();
            if days > 1 {
                let mid = lo + time::Duration::days(days / 2);
                parts.push((mid, hi));
                parts.push((lo, mid));
                continue;
            }
            desk.http.log().warn("otai_freshdesk::find", || {
                format!(
                    "{} unassigned tickets were created on {}: more than Freshdesk's search \
                     returns (300); otai takes 300 now and the rest once these are done",
                    page1.total,
                    day(lo)
                )
            });
        }
        let pages = page1.total.div_ceil(SEARCH_PAGE).clamp(1, SEARCH_MAX_PAGES);
        let mut results = page1.results;
        for page in 2..=pages {
            results.extend(search_page(desk, &q, page).await?.results);
        }
        for raw in results {
            let Ok(t) = FdTicket::parse(raw) else {
                continue;
            };
            if filter.matches(&t) && !ids.contains(&t.id) {
                if let Some(at) = t.updated_at.as_deref().and_then(parse_time) {
                    oldest = Some(oldest.map_or(at, |o| o.min(at)));
                }
                ids.push(t.id);
            }
        }
    }
    if !ids.is_empty() {
        desk.http.log().info("otai_freshdesk::find", || {
            format!(
                "backlog sweep: {} matching tickets last changed before the list scan's start",
                ids.len()
            )
        });
    }
    Ok(Swept { ids, oldest })
}

/// Up to `limit` tickets of the backlog, read whole and taken off it (with those that no longer
/// match): one read each, or, right after the sweep (`oldest` known), the list from the oldest of
/// them when that costs fewer credits (3 per 100 tickets changed since, counted by one search).
async fn read_backlog(
    desk: &FreshdeskDesk,
    backlog: &mut Vec<u64>,
    oldest: Option<OffsetDateTime>,
    filter: &Filter,
    limit: usize,
) -> Result<Vec<FdTicket>, Error> {
    if let Some(oldest) = oldest.filter(|_| backlog.len() > 4) {
        let changed_since = format!(
            "updated_at:>'{}'",
            day(oldest.date().previous_day().unwrap_or(oldest.date()))
        );
        let listed = search_page(desk, &changed_since, 1).await?.total;
        let list_cost = 3 * listed.div_ceil(u64::from(LIST_PAGE)).max(1);
        if list_cost < backlog.len().min(limit) as u64 {
            let scan = scan(desk, oldest - Duration::from_secs(1), filter, usize::MAX).await?;
            let matching: Vec<FdTicket> = scan
                .matching
                .into_iter()
                .filter(|t| backlog.contains(&t.id))
                .collect();
            let found: Vec<FdTicket> = matching.iter().take(limit).cloned().collect();
            let taken: HashSet<u64> = found.iter().map(|t| t.id).collect();
            let waiting: HashSet<u64> = matching
                .iter()
                .map(|t| t.id)
                .filter(|id| !taken.contains(id))
                .collect();
            // Kept: matching ones past the limit, and ones the list did not show (read one by
            // one next time); the ones it showed no longer matching are dropped.
            backlog.retain(|id| waiting.contains(id) || !scan.seen.contains(id));
            return Ok(found);
        }
    }
    let mut found = Vec::new();
    while found.len() < limit && !backlog.is_empty() {
        let id = backlog.remove(0);
        if let Some(t) = desk.read(id).await? {
            if filter.matches(&t) {
                found.push(t);
            }
        }
    }
    Ok(found)
}

/// `base` limited to tickets created from `lo` up to (not including) `hi`. The bounds sit a day
/// outside, so the part is covered whether Freshdesk's `:>`/`:<` are strict or not (the overlap
/// is removed by id).
fn created_between(base: &str, lo: Date, hi: Date) -> String {
    let before_lo = lo.previous_day().unwrap_or(lo);
    format!(
        "{base} AND created_at:>'{}' AND created_at:<'{}'",
        day(before_lo),
        day(hi)
    )
}

/// The operator's own search (`system_query`), every page the search gives (at most 300).
async fn search_all(
    desk: &FreshdeskDesk,
    own: &str,
    filter: &Filter,
    limit: usize,
) -> Result<Vec<FdTicket>, Error> {
    let q = match filter.search_condition() {
        Some(c) => format!("({own}) AND {c}"),
        None => own.to_string(),
    };
    let page1 = search_page(desk, &q, 1).await?;
    if page1.total > SEARCH_PAGE * SEARCH_MAX_PAGES {
        desk.http.log().warn("otai_freshdesk::find", || {
            format!(
                "system_query matches {} tickets; Freshdesk's search returns 300 of them",
                page1.total
            )
        });
    }
    let pages = page1.total.div_ceil(SEARCH_PAGE).clamp(1, SEARCH_MAX_PAGES);
    let mut results = page1.results;
    for page in 2..=pages {
        results.extend(search_page(desk, &q, page).await?.results);
    }
    let ids: Vec<u64> = results
        .into_iter()
        .filter_map(|raw| FdTicket::parse(raw).ok())
        .filter(|t| filter.matches(t))
        .map(|t| t.id)
        .collect();
    read_each(desk, &ids, filter, limit).await
}

/// Each ticket read for its description, kept if it still matches.
async fn read_each(
    desk: &FreshdeskDesk,
    ids: &[u64],
    filter: &Filter,
    limit: usize,
) -> Result<Vec<FdTicket>, Error> {
    let mut out = Vec::new();
    for id in ids {
        if out.len() >= limit {
            break;
        }
        if let Some(t) = desk.read(*id).await? {
            if filter.matches(&t) {
                out.push(t);
            }
        }
    }
    Ok(out)
}

/// One page of `GET /search/tickets`.
async fn search_page(desk: &FreshdeskDesk, query: &str, page: u64) -> Result<SearchPage, Error> {
    if query.len() > 510 {
        return Err(Error::new(
            ErrorKind::Validation,
            format!(
                "the Freshdesk search query is {} characters long; Freshdesk takes at most 512",
                query.len() + 2
            ),
        ));
    }
    desk.http
        .get(
            "/api/v2/search/tickets",
            &[
                ("query", format!("\"{query}\"")),
                ("page", page.to_string()),
            ],
        )
        .await
}

/// Freshdesk's time form: `2026-12-01T10:00:00Z`.
pub(crate) fn stamp(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(t)
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// A day as the search writes it: `2026-12-01`.
fn day(d: Date) -> String {
    d.format(format_description!("[year]-[month]-[day]"))
        .unwrap_or_default()
}

/// An RFC 3339 time.
pub(crate) fn parse_time(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ticket(v: Value) -> FdTicket {
        FdTicket::parse(v).unwrap()
    }

    #[test]
    fn filters_match_otai_new_and_tags() {
        let f = Filter {
            statuses: vec![(2, Some(true))],
            group_id: None,
            tags_all: vec![],
            tags_none: vec!["otai_processed".into()],
        };
        assert!(f.matches(&ticket(json!({"id": 1, "status": 2}))));
        assert!(!f.matches(&ticket(json!({"id": 1, "status": 2, "group_id": 4}))));
        assert!(!f.matches(&ticket(json!({"id": 1, "status": 2, "responder_id": 4}))));
        assert!(!f.matches(&ticket(
            json!({"id": 1, "status": 2, "tags": ["OTAI_processed"]})
        )));
        assert!(!f.matches(&ticket(json!({"id": 1, "status": 2, "spam": true}))));
        assert_eq!(
            f.search_condition().unwrap(),
            "((status:2 AND group_id:null AND agent_id:null))"
        );
        let any = Filter {
            statuses: vec![],
            ..f
        };
        assert!(any.search_condition().is_none());
    }

    #[test]
    fn sweep_parts_cover_their_days_under_either_reading_of_the_bounds() {
        let lo = time::macros::date!(2026 - 03 - 10);
        let hi = time::macros::date!(2026 - 03 - 12);
        assert_eq!(
            created_between("c", lo, hi),
            "c AND created_at:>'2026-03-09' AND created_at:<'2026-03-12'"
        );
        let t = parse_time("2026-12-01T10:00:00.600Z").unwrap();
        assert_eq!(stamp(t), "2026-12-01T10:00:00Z");
    }
}
