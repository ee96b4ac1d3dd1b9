//! Finding tickets: otai's query as a Zammad ticket selector (`condition`), every page, then one
//! full read per ticket for its first article and tags.
//!
//! Why a `condition` and not a search query: a field query such as `state.name:new` needs
//! Elasticsearch (without it Zammad matches the text against titles and articles and finds
//! nothing), while a selector sent without `query` is run as SQL by every Zammad version, with or
//! without Elasticsearch (older versions ignore the selector as soon as a `query` is present, so
//! none is sent). Sorted by id ascending so that pages do not shift; a server that ignores `page`
//! (it returns a page already seen) ends the paging with a warning instead of looping.
//!
//! The selector filters states, the group (when its id is known), `updated_since` and the tags
//! that must be absent (`contains all not`: none of them), so tickets otai already processed are
//! not read again. Tags that must be present, queue names and a `fetch.query` in Zammad's search
//! syntax (which then needs Elasticsearch) are checked or sent as well; every condition is checked
//! again on the full read, which is what decides.

use std::collections::BTreeSet;

use otai_plugin_sdk::{Error, ErrorKind, SearchQuery, Ticket, TicketPage};
use serde_json::{json, Map, Value};

use crate::{api, catalog::Names, client::ZammadDesk, convert};

const SEARCH_PATH: &str = "/api/v1/tickets/search";

/// Every ticket matching `query`, at most `query.limit`.
pub async fn find(desk: &ZammadDesk, query: &SearchQuery) -> Result<Vec<Ticket>, Error> {
    let look = desk.lookups().await?;
    let condition = selector(query, &look.states)?;
    let limit = query.limit.map_or(usize::MAX, |l| l as usize);
    let per_page = desk.config.page_size as usize;
    let mut seen = BTreeSet::new();
    let mut found = Vec::new();
    for page in 1u32.. {
        if found.len() >= limit {
            break;
        }
        let tickets = search_page(desk, query, &condition, page).await?;
        let count = tickets.len();
        let new: Vec<api::ZTicket> = tickets.into_iter().filter(|t| seen.insert(t.id)).collect();
        if count > 0 && new.is_empty() {
            warn_page_ignored(desk, page, seen.len());
            break;
        }
        found.extend(read_matching(desk, query, &look, new, limit - found.len()).await?);
        if count < per_page {
            break;
        }
    }
    found.truncate(limit);
    Ok(found)
}

/// One page of [`find`]'s tickets (`find_tickets_page`): one search page and the full read of
/// each of its tickets. The cursor is `<next page>:<highest id so far>`: pages are sorted by id,
/// so a ticket at or below that id on a later page means the server ignores `page`, and the
/// paging ends there with a warning, as in [`find`].
pub async fn find_page(
    desk: &ZammadDesk,
    query: &SearchQuery,
    cursor: Option<&str>,
) -> Result<TicketPage, Error> {
    let (page, after) = match cursor {
        None => (1, None),
        Some(cursor) => parse_page_cursor(cursor)?,
    };
    if query.limit == Some(0) {
        return Ok(TicketPage::default());
    }
    let look = desk.lookups().await?;
    let condition = selector(query, &look.states)?;
    let tickets = search_page(desk, query, &condition, page).await?;
    let count = tickets.len();
    let new: Vec<api::ZTicket> = tickets
        .into_iter()
        .filter(|t| after.is_none_or(|after| t.id > after))
        .collect();
    if count > 0 && new.is_empty() {
        warn_page_ignored(desk, page, count);
        return Ok(TicketPage::default());
    }
    let highest = new.iter().map(|t| t.id).max().or(after);
    let tickets = read_matching(desk, query, &look, new, usize::MAX).await?;
    let cursor = (count >= desk.config.page_size as usize)
        .then(|| format!("{}:{}", page + 1, highest.unwrap_or_default()));
    Ok(TicketPage { tickets, cursor })
}

fn parse_page_cursor(cursor: &str) -> Result<(u32, Option<u64>), Error> {
    cursor
        .split_once(':')
        .and_then(|(page, after)| Some((page.parse().ok()?, Some(after.parse().ok()?))))
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Validation,
                "the search cursor is not one this service handed out",
            )
        })
}

/// One page of the selector search, sorted by id (tickets with the names the search expands).
async fn search_page(
    desk: &ZammadDesk,
    query: &SearchQuery,
    condition: &Map<String, Value>,
    page: u32,
) -> Result<Vec<api::ZTicket>, Error> {
    let mut body = json!({
        "condition": condition,
        "expand": true,
        "page": page,
        "per_page": desk.config.page_size,
        "sort_by": "id",
        "order_by": "asc",
    });
    if let Some(q) = &query.system_query {
        body["query"] = json!(q);
    }
    let raw: Value = desk.http.post(SEARCH_PATH, &body).await?;
    api::search_tickets(raw).map_err(|e| {
        Error::new(
            ErrorKind::InvalidResponse,
            format!("POST {SEARCH_PATH} (page {page}): Zammad's answer does not read as search results: {e}"),
        )
    })
}

/// The full read of each searched ticket whose queue matches, kept if the read still matches
/// the query (it decides), at most `room` of them.
async fn read_matching(
    desk: &ZammadDesk,
    query: &SearchQuery,
    look: &convert::Lookups,
    named: Vec<api::ZTicket>,
    room: usize,
) -> Result<Vec<Ticket>, Error> {
    let mut found = Vec::new();
    for named in named {
        if found.len() >= room || !queue_matches(query, &named) {
            continue;
        }
        let Some(all) = desk.read_full(named.id).await? else {
            // Deleted between the search and the read.
            continue;
        };
        let ticket = convert::to_ticket(&all, Some(&named), look);
        if matches(query, &ticket) {
            found.push(ticket);
        }
    }
    Ok(found)
}

fn warn_page_ignored(desk: &ZammadDesk, page: u32, seen: usize) {
    desk.http.log().warn("otai_zammad::search", || {
        format!(
            "POST {SEARCH_PATH}: page {page} repeats tickets already seen (the server seems to \
             ignore `page`); stopping after {seen} tickets"
        )
    });
}

/// otai's query as a Zammad selector (the flat form every version reads).
fn selector(query: &SearchQuery, states: &Names) -> Result<Map<String, Value>, Error> {
    let mut condition = Map::new();
    if !query.statuses.is_empty() {
        let ids = query
            .statuses
            .iter()
            .map(|status| {
                states
                    .by_name(status)
                    .map(|e| e.id.to_string())
                    .ok_or_else(|| unknown_state(status, states))
            })
            .collect::<Result<Vec<_>, _>>()?;
        condition.insert(
            "ticket.state_id".into(),
            json!({"operator": "is", "value": ids}),
        );
    }
    if let Some(group_id) = query.queue.as_deref().filter(|q| is_digits(q)) {
        condition.insert(
            "ticket.group_id".into(),
            json!({"operator": "is", "value": [group_id]}),
        );
    }
    if !query.tags_none.is_empty() {
        condition.insert(
            "ticket.tags".into(),
            json!({"operator": "contains all not", "value": query.tags_none.join(", ")}),
        );
    }
    if let Some(since) = &query.updated_since {
        condition.insert(
            "ticket.updated_at".into(),
            json!({"operator": "after (absolute)", "value": since}),
        );
    }
    Ok(condition)
}

fn unknown_state(status: &str, states: &Names) -> Error {
    Error::new(
        ErrorKind::Validation,
        format!(
            "Zammad has no ticket state named \"{status}\" (states: {}); check `fetch.statuses`",
            states.active_names().join(", ")
        ),
    )
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// The queue filter on a search result: by id, or by the name `expand` resolved.
fn queue_matches(query: &SearchQuery, named: &api::ZTicket) -> bool {
    let Some(queue) = &query.queue else {
        return true;
    };
    if is_digits(queue) {
        return named.group_id.map(|id| id.to_string()).as_deref() == Some(queue.as_str());
    }
    // Without a name in the answer the full read decides.
    named
        .expanded("group")
        .is_none_or(|name| name.eq_ignore_ascii_case(queue))
}

/// Every condition, on the full read.
fn matches(query: &SearchQuery, ticket: &Ticket) -> bool {
    let has = |tag: &String| ticket.tags.iter().any(|t| t.eq_ignore_ascii_case(tag));
    let status_ok = query.statuses.is_empty()
        || query
            .statuses
            .iter()
            .any(|s| s.eq_ignore_ascii_case(&ticket.status));
    let queue_ok = query.queue.as_ref().is_none_or(|q| {
        ticket.queue.as_ref().is_some_and(|tq| {
            tq.id.as_deref() == Some(q.as_str())
                || tq
                    .name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(q))
        })
    });
    status_ok && queue_ok && query.tags_all.iter().all(has) && !query.tags_none.iter().any(has)
}

#[cfg(test)]
mod tests {
    use otai_plugin_sdk::Queue;

    use super::*;

    fn states() -> Names {
        Names::from_pairs(&[(1, "new"), (2, "open"), (4, "closed")])
    }

    #[test]
    fn the_selector_carries_states_group_tags_and_time() {
        let q = SearchQuery {
            statuses: vec!["new".into(), "Open".into()],
            queue: Some("3".into()),
            tags_none: vec!["otai_processed".into(), "otai_failed".into()],
            updated_since: Some("2026-11-01T00:00:00Z".into()),
            ..SearchQuery::default()
        };
        let c = Value::Object(selector(&q, &states()).unwrap());
        assert_eq!(
            c,
            json!({
                "ticket.state_id": {"operator": "is", "value": ["1", "2"]},
                "ticket.group_id": {"operator": "is", "value": ["3"]},
                "ticket.tags": {"operator": "contains all not", "value": "otai_processed, otai_failed"},
                "ticket.updated_at": {"operator": "after (absolute)", "value": "2026-11-01T00:00:00Z"}
            })
        );
        let by_name = SearchQuery {
            queue: Some("Users".into()),
            ..SearchQuery::default()
        };
        assert!(selector(&by_name, &states()).unwrap().is_empty());
    }

    #[test]
    fn an_unknown_state_is_a_clear_error() {
        let q = SearchQuery {
            statuses: vec!["solved".into()],
            ..SearchQuery::default()
        };
        let e = selector(&q, &states()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Validation);
        assert!(
            e.message.contains("\"solved\"") && e.message.contains("new, open, closed"),
            "{}",
            e.message
        );
    }

    #[test]
    fn the_full_read_decides() {
        let ticket = Ticket {
            status: "new".into(),
            queue: Some(Queue {
                id: Some("1".into()),
                name: Some("Users".into()),
            }),
            tags: vec!["VIP".into()],
            ..Ticket::default()
        };
        let q = |f: fn(&mut SearchQuery)| {
            let mut q = SearchQuery {
                statuses: vec!["new".into()],
                ..SearchQuery::default()
            };
            f(&mut q);
            matches(&q, &ticket)
        };
        assert!(q(|_| {}));
        assert!(q(|q| q.queue = Some("users".into())));
        assert!(q(|q| q.queue = Some("1".into())));
        assert!(!q(|q| q.queue = Some("Billing".into())));
        assert!(q(|q| q.tags_all = vec!["vip".into()]));
        assert!(!q(|q| q.tags_none = vec!["vip".into()]));
        assert!(!q(|q| q.statuses = vec!["open".into()]));
    }
}
