//! The ticket history for `otai train --system zammad`: closed tickets (any state of Zammad's
//! `closed` kind, merged ones included so the host can leave them out knowingly), oldest change
//! first, one page per call, resumable from a cursor.
//!
//! A page is one selector search (`state_id` among the closed states, `updated_at` after the
//! cursor, sorted by `updated_at` ascending) and one full read per ticket for its first article.
//! The cursor is the last ticket's `updated_at` and the ids already returned at that instant, so
//! a page boundary between two tickets changed in the same millisecond loses neither; ties are
//! sorted by id, and more of them than fit a page are stepped through by page number. Requests
//! are spaced by `min_request_interval` (Zammad has no rate limit; a long export can still be
//! kept from crowding out the agents).

use std::time::Duration;

use otai_plugin_sdk::{Error, ErrorKind, ExportPage, ExportRequest, TimeCursor};
use serde_json::{json, Value};
use time::{format_description::well_known::Rfc3339, OffsetDateTime};

use crate::{api, client::ZammadDesk, convert};

/// The cursor's form: RFC 3339.
fn valid_time(at: &str) -> bool {
    OffsetDateTime::parse(at, &Rfc3339).is_ok()
}

/// One page of the history.
pub async fn page(desk: &ZammadDesk, request: &ExportRequest) -> Result<ExportPage, Error> {
    let cursor = match (&request.cursor, &request.start_time) {
        (Some(c), _) => TimeCursor::parse(c, valid_time, "RFC 3339 time")?,
        (None, Some(start)) => {
            OffsetDateTime::parse(start, &Rfc3339).map_err(|_| {
                Error::new(
                    ErrorKind::Validation,
                    format!("export start_time \"{start}\" is not an RFC 3339 time"),
                )
            })?;
            TimeCursor::at(start.clone())
        }
        (None, None) => TimeCursor::at("1970-01-01T00:00:00Z"),
    };
    let look = desk.lookups().await?;
    let closed: Vec<String> = ["closed", "merged"]
        .iter()
        .filter_map(|name| look.states.by_name(name))
        .map(|e| e.id.to_string())
        .collect();
    let per_page = desk.config.page_size;
    // One millisecond before the cursor: the selector's `after` is strict, and tickets changed at
    // the cursor's own instant that were not returned yet must come again.
    let after = step_back(&cursor.at);
    // Ties are ordered by id; more tickets at the cursor's instant than fit a page (a bulk
    // import) are stepped through by page, the ones already returned skipped.
    let page = cursor.ids.len() / per_page as usize + 1;
    let body = json!({
        "condition": {
            "ticket.state_id": {"operator": "is", "value": closed},
            "ticket.updated_at": {"operator": "after (absolute)", "value": after},
        },
        "expand": true,
        "page": page,
        "per_page": per_page,
        "sort_by": ["updated_at", "id"],
        "order_by": ["asc", "asc"],
    });
    pace(desk).await;
    let raw: Value = desk.http.post("/api/v1/tickets/search", &body).await?;
    let found = api::search_tickets(raw).map_err(|e| {
        Error::new(
            ErrorKind::InvalidResponse,
            format!("POST /api/v1/tickets/search (export): {e}"),
        )
    })?;
    let full_page = found.len() >= per_page as usize;
    let mut next = cursor.clone();
    let mut tickets = Vec::new();
    for named in found {
        let at = named.updated_at.clone().unwrap_or_default();
        if cursor.returned(&at, named.id) {
            continue;
        }
        pace(desk).await;
        let Some(all) = desk.read_full(named.id).await? else {
            continue;
        };
        let ticket = convert::to_ticket(&all, Some(&named), &look);
        next.advance(&at, named.id);
        tickets.push(ticket);
    }
    Ok(ExportPage {
        tickets,
        cursor: Some(next.render()),
        end_of_stream: !full_page,
    })
}

/// `at` less one millisecond, in the same format.
fn step_back(at: &str) -> String {
    match OffsetDateTime::parse(at, &Rfc3339) {
        Ok(t) => (t - Duration::from_millis(1))
            .format(&Rfc3339)
            .unwrap_or_else(|_| at.to_string()),
        Err(_) => at.to_string(),
    }
}

async fn pace(desk: &ZammadDesk) {
    let gap = desk.config.min_request_interval;
    if !gap.is_zero() {
        tokio::time::sleep(gap).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_search_starts_a_millisecond_before_the_cursor() {
        assert_eq!(
            step_back("2026-11-30T10:00:00.123Z"),
            "2026-11-30T10:00:00.122Z"
        );
    }
}
