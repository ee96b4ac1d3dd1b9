//! Finding tickets: TicketSearch has a `Limit` and no offset or page, so pages are cut by creation
//! time (oldest first, the next search from the last ticket's `Created`, the ids already read from
//! that second skipped), and each page's tickets are read in batched TicketGets (no read per
//! ticket). `find_tickets_page` hands out one such search per page, the position as its cursor.
//!
//! States: `fetch.statuses: [new]` searches by `StateType: new` (custom "new" states included),
//! other statuses by `States`. Queues: `fetch.queue` and the `search_queues` param (the inbox
//! queues) narrow the search. otai's own tickets: with a search route that takes a body (POST),
//! the tags field is searched `Empty`, so tickets otai already processed are not read again; a
//! GET route (the shipped one) cannot carry that filter, so they are read and left out here,
//! which costs one batched TicketGet per 50 of them per pass: limit the search to the inbox queues
//! (`search_queues`), where routed tickets no longer are, or give search a POST route.

use std::collections::BTreeSet;

use otai_plugin_sdk::{Error, ErrorKind, SearchQuery, Ticket, TicketPage};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::{api, client::OtoboDesk, convert::gi_time, gi::Operation};

/// Every ticket matching `query`, at most `query.limit`.
pub async fn find(desk: &OtoboDesk, query: &SearchQuery) -> Result<Vec<Ticket>, Error> {
    let limit = query.limit.map_or(usize::MAX, |l| l as usize);
    let base = search_data(desk, query)?;
    let mut found = Vec::new();
    let mut at = Position::start(desk);
    loop {
        let (tickets, next) = step(desk, query, &base, at).await?;
        found.extend(tickets.into_iter().take(limit - found.len()));
        match next {
            Some(next) if found.len() < limit => at = next,
            _ => return Ok(found),
        }
    }
}

/// One page of [`find`]'s tickets (`find_tickets_page`): one search and the batched reads of
/// what it found. The cursor is the [`Position`] after it, as JSON.
pub async fn find_page(
    desk: &OtoboDesk,
    query: &SearchQuery,
    cursor: Option<&str>,
) -> Result<TicketPage, Error> {
    if query.limit == Some(0) {
        return Ok(TicketPage::default());
    }
    let at = match cursor {
        None => Position::start(desk),
        Some(cursor) => serde_json::from_str(cursor).map_err(|_| {
            Error::new(
                ErrorKind::Validation,
                "the search cursor is not one this service handed out",
            )
        })?,
    };
    let base = search_data(desk, query)?;
    let (tickets, next) = step(desk, query, &base, at).await?;
    // Strings, numbers and a set of numbers: serializing cannot fail.
    let cursor = next.map(|next| serde_json::to_string(&next).expect("a position serializes"));
    Ok(TicketPage { tickets, cursor })
}

/// Where the next search starts: tickets created at or after `created_from` (TicketSearch's
/// bound is inclusive, in seconds), less `seen`, the ids already read that were created in that
/// very second; `limit` is the search's Limit (raised when one second holds more tickets than a
/// search returns).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Position {
    created_from: Option<String>,
    limit: u32,
    seen: BTreeSet<u64>,
}

impl Position {
    fn start(desk: &OtoboDesk) -> Self {
        Position {
            created_from: None,
            limit: desk.config.search_limit,
            seen: BTreeSet::new(),
        }
    }
}

/// One search from `at` and the batched reads of what it found: the tickets matching `query`,
/// and where the next search starts (`None`: no more).
async fn step(
    desk: &OtoboDesk,
    query: &SearchQuery,
    base: &Map<String, Value>,
    mut at: Position,
) -> Result<(Vec<Ticket>, Option<Position>), Error> {
    let route = &desk.config.routes.search;
    loop {
        let mut data = base.clone();
        data.insert("Limit".into(), json!(at.limit));
        if let Some(from) = &at.created_from {
            data.insert("TicketCreateTimeNewerDate".into(), json!(from));
        }
        let answer = desk
            .gi
            .call(Operation::TicketSearch, route, "", data)
            .await?;
        let ids = api::ticket_ids(&answer);
        let full = ids.len() >= at.limit as usize;
        let fresh: Vec<u64> = ids.into_iter().filter(|id| !at.seen.contains(id)).collect();
        if fresh.is_empty() {
            if !full || at.limit >= MAX_LIMIT {
                return Ok((Vec::new(), None));
            }
            // More tickets created in one second than a search returns (a bulk import): the
            // same search with a larger Limit, since there is no offset to page with.
            at.limit = (at.limit * 4).min(MAX_LIMIT);
            continue;
        }
        let tickets = desk.get_many(&fresh).await?;
        let newest = tickets.iter().filter_map(|t| t.created.clone()).max();
        if newest != at.created_from {
            at.seen.clear();
        }
        at.seen.extend(
            tickets
                .iter()
                .filter(|t| t.created.is_some() && t.created == newest)
                .map(|t| t.id),
        );
        let matching = tickets
            .iter()
            .map(|t| desk.to_ticket(t))
            .filter(|t| matches(query, t))
            .collect();
        let next = (full && newest.is_some()).then_some(Position {
            created_from: newest,
            ..at
        });
        return Ok((matching, next));
    }
}

/// The largest Limit asked for when one second holds more tickets than a search returns.
pub const MAX_LIMIT: u32 = 10_000;

/// The TicketSearch data for `query`.
fn search_data(desk: &OtoboDesk, query: &SearchQuery) -> Result<Map<String, Value>, Error> {
    let config = &desk.config;
    let mut data = Map::new();
    match query.statuses.as_slice() {
        [] => {}
        [only] if only.eq_ignore_ascii_case("new") => {
            data.insert("StateType".into(), json!("new"));
        }
        statuses => {
            data.insert("States".into(), json!(statuses));
        }
    }
    let mut queues: Vec<String> = config.search_queues.clone();
    if let Some(queue) = &query.queue {
        if !queues.is_empty() && !queues.iter().any(|q| q.eq_ignore_ascii_case(queue)) {
            return Err(Error::new(
                ErrorKind::Validation,
                format!(
                    "`fetch.queue` {queue} is not among the adapter's `search_queues` ({})",
                    queues.join(", ")
                ),
            ));
        }
        queues = vec![queue.clone()];
    }
    if !queues.is_empty() {
        data.insert("Queues".into(), json!(queues));
    }
    if !query.tags_none.is_empty() && !config.routes.search.data_in_query() {
        // Only otai writes the tags field: empty means otai never finished a write here.
        data.insert(
            format!("DynamicField_{}", config.tags_field),
            json!({"Empty": 1}),
        );
    }
    if let Some(since) = &query.updated_since {
        data.insert("TicketChangeTimeNewerDate".into(), json!(gi_time(since)));
    }
    if let Some(q) = &query.system_query {
        // The system's own search syntax: a full-text match on titles.
        data.insert("Title".into(), json!(q));
    }
    data.insert("SortBy".into(), json!("Age"));
    data.insert("OrderBy".into(), json!("Up"));
    Ok(data)
}

/// Every condition, on the full read.
fn matches(query: &SearchQuery, ticket: &Ticket) -> bool {
    let has = |tag: &String| ticket.tags.iter().any(|t| t.eq_ignore_ascii_case(tag));
    let status_ok = query.statuses.is_empty()
        || query.statuses.iter().any(|s| {
            s.eq_ignore_ascii_case(&ticket.status)
                || (s.eq_ignore_ascii_case("new")
                    && ticket.state.category == otai_plugin_sdk::StatusCategory::New)
        });
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
