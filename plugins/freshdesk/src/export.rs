//! The ticket history for `otai train --system freshdesk`: resolved and closed tickets with
//! their group and priority, oldest change first, one page per call, resumable from a cursor,
//! paced by the rate budget like every other request.
//!
//! A page is one list page (`updated_since` the cursor, `order_by=updated_at` ascending,
//! `include=description`: 3 credits for 100 tickets, bodies included), filtered to statuses 4
//! and 5 (and spam/deleted dropped). The cursor is the last ticket's `updated_at` and the ids
//! already returned at that second ([`TimeCursor`]), so a page boundary between two tickets
//! changed in the same second loses neither; when a whole page holds tickets of the cursor's
//! second that were all returned, the next page of that second is read.

use otai_plugin_sdk::{Error, ErrorKind, ExportPage, ExportRequest, TimeCursor};
use time::OffsetDateTime;

use crate::{
    client::FreshdeskDesk,
    find::{list_page, parse_time, stamp, LIST_MAX_PAGES, LIST_PAGE},
};

/// One page of the history.
pub async fn page(desk: &FreshdeskDesk, request: &ExportRequest) -> Result<ExportPage, Error> {
    let valid = |t: &str| parse_time(t).is_some();
    let cursor = match (&request.cursor, &request.start_time) {
        (Some(c), _) => TimeCursor::parse(c, valid, "RFC 3339 time")?,
        (None, Some(start)) => {
            let t = parse_time(start).ok_or_else(|| {
                Error::new(
                    ErrorKind::Validation,
                    format!("export start_time \"{start}\" is not an RFC 3339 time"),
                )
            })?;
            TimeCursor::at(stamp(t))
        }
        (None, None) => TimeCursor::at("2010-01-01T00:00:00Z"),
    };
    let since = parse_time(&cursor.at).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    // Tickets of the cursor's own second already returned fill whole pages only in a bulk
    // import; step over those pages.
    let mut page = (cursor.ids.len() as u32 / LIST_PAGE + 1).min(LIST_MAX_PAGES);
    loop {
        let listed = list_page(desk, since, page, true).await?.value;
        let full = listed.len() as u32 >= LIST_PAGE;
        let mut next = cursor.clone();
        let mut picked = Vec::new();
        let mut moved = false;
        for t in &listed {
            let at = t.updated_at.clone().unwrap_or_default();
            if cursor.returned(&at, t.id) {
                continue;
            }
            moved = true;
            next.advance(&at, t.id);
            if matches!(t.status, 4 | 5) && !t.spam && !t.deleted {
                picked.push(t.clone());
            }
        }
        if !moved && full && page < LIST_MAX_PAGES {
            page += 1;
            continue;
        }
        return Ok(ExportPage {
            tickets: desk.to_tickets(&picked).await?,
            cursor: Some(next.render()),
            end_of_stream: !full,
        });
    }
}
