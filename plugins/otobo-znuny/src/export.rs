//! The ticket history for `otai train --system`: closed tickets (state types `closed` and
//! `merged`, named: the GenericInterface looks `StateType` values up as real type names, so the
//! old `Closed` shorthand finds nothing there), oldest change first, one search and its batched TicketGets
//! per page, resumable from a cursor.
//!
//! TicketSearch has no offset, so a page is cut by change time: `TicketChangeTimeNewerDate` from
//! the cursor (inclusive, one-second resolution), `SortBy: Changed`, `Limit`. The cursor is the
//! last ticket's `Changed` with the ids already returned in that second, so a page boundary
//! inside a second loses nothing and repeats nothing.

use otai_plugin_sdk::{Error, ErrorKind, ExportPage, ExportRequest};
use serde_json::{json, Map};

use crate::{api, client::OtoboDesk, convert::gi_time, gi::Operation, search::MAX_LIMIT};

/// Where an export resumes: tickets changed at or after `at`, less `ids` changed exactly then.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cursor {
    at: String,
    ids: Vec<u64>,
}

impl Cursor {
    fn parse(s: &str) -> Result<Cursor, Error> {
        let bad = || {
            Error::new(
                ErrorKind::Validation,
                format!("not an export cursor of this adapter: \"{s}\" (expected `YYYY-MM-DD HH:MM:SS|ID,ID`)"),
            )
        };
        let (at, ids) = s.split_once('|').ok_or_else(bad)?;
        if at.len() != 19 {
            return Err(bad());
        }
        let ids = ids
            .split(',')
            .filter(|i| !i.is_empty())
            .map(|i| i.parse().map_err(|_| bad()))
            .collect::<Result<_, _>>()?;
        Ok(Cursor {
            at: at.to_string(),
            ids,
        })
    }

    fn render(&self) -> String {
        let ids: Vec<String> = self.ids.iter().map(u64::to_string).collect();
        format!("{}|{}", self.at, ids.join(","))
    }
}

/// One page of the history.
pub async fn page(desk: &OtoboDesk, request: &ExportRequest) -> Result<ExportPage, Error> {
    let cursor = match (&request.cursor, &request.start_time) {
        (Some(c), _) => Cursor::parse(c)?,
        (None, Some(start)) => Cursor {
            at: gi_time(start),
            ids: Vec::new(),
        },
        (None, None) => Cursor {
            at: "1970-01-01 00:00:00".into(),
            ids: Vec::new(),
        },
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
        let at = t.changed.clone().unwrap_or_default();
        if at == next.at {
            next.ids.push(t.id);
        } else {
            next = Cursor {
                at,
                ids: vec![t.id],
            };
        }
        page.push(desk.to_ticket(t));
    }
    Ok(ExportPage {
        tickets: page,
        cursor: Some(next.render()),
        end_of_stream: !full,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_bad_ones_are_named() {
        let c = Cursor {
            at: "2026-11-30 10:00:00".into(),
            ids: vec![4, 9],
        };
        assert_eq!(Cursor::parse(&c.render()).unwrap(), c);
        let e = Cursor::parse("yesterday").unwrap_err();
        assert!(e.message.contains("\"yesterday\""), "{}", e.message);
    }
}
