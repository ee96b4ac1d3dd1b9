//! The ticket history for `otai train --system`: closed tickets (state types `closed` and
//! `merged`, named: the GenericInterface looks `StateType` values up as real type names, so the
//! old `Closed` shorthand finds nothing there), oldest change first, one search and its batched TicketGets
//! per page, resumable from a cursor.
//!
//! TicketSearch has no offset, so a page is cut by change time: `TicketChangeTimeNewerDate` from
//! the cursor (inclusive, one-second resolution), `SortBy: Changed`, `Limit`. The cursor is the
//! last ticket's `Changed` with the ids already returned in that second, so a page boundary
//! inside a second loses nothing and repeats nothing.

use otai_plugin_sdk::{Error, ErrorKind, ExportPage, ExportRequest, TimeCursor};
use serde_json::{json, Map};

use crate::{api, client::OtoboDesk, convert::gi_time, gi::Operation, search::MAX_LIMIT};

/// One page of the history.
pub async fn page(desk: &OtoboDesk, request: &ExportRequest) -> Result<ExportPage, Error> {
    let cursor = match (&request.cursor, &request.start_time) {
        (Some(c), _) => TimeCursor::parse(c, |at| at.len() == 19, "YYYY-MM-DD HH:MM:SS")?,
        (None, Some(start)) => TimeCursor::at(gi_time(start)),
        (None, None) => TimeCursor::at("1970-01-01 00:00:00"),
    };
    let route = &desk.config.routes.search;
    // More tickets changed in the cursor's second than one search returns (a bulk import): the
    // same search again with a larger Limit, since there is no offset to page with.
    let mut limit = desk.config.search_limit;
    let (fresh, full) = loop {
        let mut data = Map::new();
        data.insert("StateType".into(), json!(["closed", "merged"]));
        data.insert("TicketChangeTimeNewerDate".into(), json!(cursor.at));
        data.insert("SortBy".into(), json!("Changed"));
        data.insert("OrderBy".into(), json!("Up"));
        data.insert("Limit".into(), json!(limit));
        let answer = desk
            .gi
            .call(Operation::TicketSearch, route, "", data)
            .await?;
        let ids = api::ticket_ids(&answer);
        let full = ids.len() >= limit as usize;
        // Ids seen at the cursor's second are skipped here; the search cannot leave them out.
        let fresh: Vec<u64> = ids
            .into_iter()
            .filter(|id| !cursor.ids.contains(id))
            .collect();
        if !fresh.is_empty() || !full {
            break (fresh, full);
        }
        if limit >= MAX_LIMIT {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "{route} (TicketSearch): more than {MAX_LIMIT} closed tickets changed in the \
                     second {}; the GenericInterface cannot page past them",
                    cursor.at
                ),
            ));
        }
        limit = (limit * 4).min(MAX_LIMIT);
    };
    let mut tickets = desk.get_many(&fresh).await?;
    tickets.sort_by(|a, b| (&a.changed, a.id).cmp(&(&b.changed, b.id)));
    let mut next = cursor.clone();
    let mut page = Vec::with_capacity(tickets.len());
    for t in &tickets {
        next.advance(t.changed.as_deref().unwrap_or_default(), t.id);
        page.push(desk.to_ticket(t));
    }
    Ok(ExportPage {
        tickets: page,
        cursor: Some(next.render()),
        end_of_stream: !full,
    })
}
