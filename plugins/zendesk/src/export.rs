//! The incremental ticket export (`export_tickets`, plugin API 1.1): the account's ticket history
//! page by page, for `otai train --system`.
//!
//! `GET /api/v2/incremental/tickets/cursor` with `start_time` (unix seconds, from the caller's
//! RFC 3339 time) on the first page and `cursor` (the `after_cursor` of the page before) after
//! it; `per_page=1000` (Zendesk's maximum; the `export_page_size` param lowers it for tests). A page with `end_of_stream: true` is the last one for
//! now; its `after_cursor` is passed on so a later run can continue from it. Duplicates across
//! pages and deleted tickets (`status: "deleted"`) are passed through: deduplicating and skipping
//! are the caller's job.
//!
//! Queue names: the group list is loaded once per client (the group cache) and every ticket's
//! group id is named from it; a group id that is not among the current, non-deleted groups gets
//! no name (a label the help desk no longer has).
//!
//! Pacing: the endpoint allows 10 requests a minute, so two pages are at least
//! `export_min_interval` apart (default 6 s), measured from the start of the previous request.
//! The transport's 429 / `Retry-After` handling comes on top.

use otai_plugin_sdk::{Error, ErrorKind, ExportPage, ExportRequest, LogLevel, Ticket};
use serde::Deserialize;
use serde_json::Value;
use time::{format_description::well_known::Rfc3339, OffsetDateTime};

use crate::{api::ZTicket, client::ZendeskClient, convert};

const TARGET: &str = "otai_zendesk::export";
/// The endpoint.
pub const EXPORT_PATH: &str = "/api/v2/incremental/tickets/cursor";
/// Tickets per page: Zendesk's maximum (and default).
pub const PER_PAGE: u32 = 1000;

#[derive(Debug, Default, Deserialize)]
struct CursorPage {
    #[serde(default)]
    tickets: Vec<Value>,
    #[serde(default)]
    after_cursor: Option<String>,
    #[serde(default)]
    end_of_stream: Option<bool>,
}

/// The query of one export request: `cursor` if given, else `start_time` in unix seconds;
/// `per_page` tickets a page.
pub fn export_query(
    request: &ExportRequest,
    per_page: u32,
) -> Result<Vec<(&'static str, String)>, Error> {
    let mut query = vec![("per_page", per_page.min(PER_PAGE).to_string())];
    if let Some(cursor) = request.cursor.as_ref() {
        let cursor = cursor.trim();
        if cursor.is_empty() {
            return Err(Error::new(
                ErrorKind::Validation,
                "export_tickets: the cursor is empty",
            ));
        }
        query.push(("cursor", cursor.to_string()));
        return Ok(query);
    }
    let Some(start) = request.start_time.as_ref() else {
        return Err(Error::new(
            ErrorKind::Validation,
            "export_tickets: give a start_time (first page) or a cursor (later pages)",
        ));
    };
    let at = OffsetDateTime::parse(start.trim(), &Rfc3339).map_err(|_| {
        Error::new(
            ErrorKind::Validation,
            format!(
                "export_tickets: start_time \"{start}\" is not an RFC 3339 time such as 2024-05-01T00:00:00Z"
            ),
        )
    })?;
    query.push(("start_time", at.unix_timestamp().max(0).to_string()));
    Ok(query)
}

impl ZendeskClient {
    /// One page of the incremental ticket export; see the module docs.
    pub async fn export_tickets(&self, request: &ExportRequest) -> Result<ExportPage, Error> {
        let query = export_query(request, self.export_page_size)?;
        let groups = self
            .groups
            .all(&self.http)
            .await
            .map_err(|e| crate::client::context(e, "export_tickets (loading the groups)"))?;
        self.pace_export().await;
        let page: CursorPage = self
            .http
            .get(EXPORT_PATH, &query)
            .await
            .map_err(|e| crate::client::context(e, "export_tickets"))?;
        let end_of_stream = page.end_of_stream.unwrap_or(false);
        let cursor = match page.after_cursor.filter(|c| !c.trim().is_empty()) {
            Some(c) => Some(c),
            None if end_of_stream => request.cursor.clone(),
            None => {
                return Err(Error::new(
                    ErrorKind::InvalidResponse,
                    format!("export_tickets: GET {EXPORT_PATH}: the page has no after_cursor but is not the end of the stream"),
                ))
            }
        };
        let mut without_id = 0usize;
        let tickets: Vec<Ticket> = page
            .tickets
            .iter()
            .filter_map(|raw| {
                let z = ZTicket::from_json(raw).filter(|z| z.id.is_some());
                if z.is_none() {
                    without_id += 1;
                }
                let z = z?;
                let name = z.group_id.and_then(|g| crate::groups::name_of(&groups, g));
                Some(convert::to_ticket(&z, raw, name))
            })
            .collect();
        if without_id > 0 {
            self.http.log().log(LogLevel::Warn, TARGET, || {
                format!("{without_id} exported ticket(s) had no id and were left out.")
            });
        }
        Ok(ExportPage {
            tickets,
            cursor,
            end_of_stream,
        })
    }

    /// Waits until `export_min_interval` has passed since the previous export request started.
    async fn pace_export(&self) {
        let mut last = self.export_last.lock().await;
        if let Some(at) = *last {
            let ready = at + self.export_min_interval;
            let now = tokio::time::Instant::now();
            if ready > now {
                let wait = ready - now;
                self.http.log().log(LogLevel::Debug, TARGET, || {
                    format!(
                        "Waiting {:.1} s before the next export page (the endpoint allows 10 requests a minute).",
                        wait.as_secs_f64()
                    )
                });
                tokio::time::sleep_until(ready).await;
            }
        }
        *last = Some(tokio::time::Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(start: Option<&str>, cursor: Option<&str>) -> ExportRequest {
        ExportRequest {
            start_time: start.map(str::to_string),
            cursor: cursor.map(str::to_string),
        }
    }

    #[test]
    fn the_first_page_asks_by_unix_seconds_and_later_ones_by_cursor() {
        let q = export_query(&req(Some("2024-05-01T00:00:00Z"), None), PER_PAGE).unwrap();
        assert!(q.contains(&("start_time", "1714521600".into())));
        assert!(q.contains(&("per_page", "1000".into())));
        let q = export_query(&req(Some("2024-05-01T00:00:00Z"), Some("abc")), 100).unwrap();
        assert!(q.contains(&("cursor", "abc".into())));
        assert!(q.contains(&("per_page", "100".into())));
        assert!(!q.iter().any(|(k, _)| *k == "start_time"));
    }

    #[test]
    fn a_bad_start_or_none_at_all_is_a_validation_error() {
        for r in [
            req(Some("yesterday"), None),
            req(None, None),
            req(None, Some(" ")),
        ] {
            assert_eq!(
                export_query(&r, PER_PAGE).unwrap_err().kind,
                ErrorKind::Validation
            );
        }
    }
}
