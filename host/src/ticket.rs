//! The host's ticket model and the [`TicketSystem`] trait the rest of the host works with.
//!
//! The ticket types are otai's native ones from the adapter SDK (`otai-plugin-sdk`, without its
//! runtime): the host and every adapter share one definition. Nothing here knows about
//! `abi_stable`: plugins are wrapped in [`ForeignTicketSystem`](crate::plugins::ForeignTicketSystem),
//! which converts to and from these types, so commands, pipelines and tests see plain `String`s,
//! `Vec`s and `serde_json::Value`s.

use std::{fmt, future::Future, pin::Pin, time::Duration};

pub use otai_plugin_sdk::{
    CustomField, ErrorKind, ExportPage, ExportRequest, Note, Person, Queue, RequestStats,
    SearchQuery, StatusCategory, Ticket, TicketPage, TicketState, TicketUpdate, WebhookEvent,
    WebhookRequest,
};

/// One ticket's update in a batch (the SDK's type: host and adapters share it).
pub type BatchUpdate = otai_plugin_sdk::BatchUpdate;

/// What happened to one ticket of a batch, with the host's error (which names the system).
pub type BatchOutcome = otai_plugin_sdk::BatchOutcome<TicketSystemError>;

/// A failed call to a ticket system, whichever side (plugin or host) detected it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("ticket system `{system}`: {kind} error: {message}{}", self.details())]
pub struct TicketSystemError {
    /// The configured name of the ticket system (the key under `ticket_systems:`).
    pub system: String,
    pub kind: ErrorKind,
    /// A sentence for a person; never contains a secret.
    pub message: String,
    pub http_status: Option<u16>,
    pub request_id: Option<String>,
    pub retry_after: Option<Duration>,
}

impl TicketSystemError {
    pub fn new(system: impl Into<String>, kind: ErrorKind, message: impl Into<String>) -> Self {
        TicketSystemError {
            system: system.into(),
            kind,
            message: message.into(),
            http_status: None,
            request_id: None,
            retry_after: None,
        }
    }

    /// What follows the message: status, request id, retry wait (as the plugins' errors show them).
    pub fn details(&self) -> otai_plugin_sdk::error::Details<'_> {
        otai_plugin_sdk::error::Details {
            http_status: self.http_status,
            request_id: self.request_id.as_deref(),
            retry_after: self.retry_after,
        }
    }
}

/// A boxed future, so that [`TicketSystem`] stays object safe (`Arc<dyn TicketSystem>`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The result of every ticket-system call.
pub type TicketResult<T> = Result<T, TicketSystemError>;

/// A help desk as the host sees it.
pub trait TicketSystem: Send + Sync + fmt::Debug {
    /// The configured name (the key under `ticket_systems:`).
    fn name(&self) -> &str;

    /// Every ticket matching `query`, at most `query.limit` of them.
    fn find_tickets(&self, query: SearchQuery) -> BoxFuture<'_, TicketResult<Vec<Ticket>>>;

    /// One page of the tickets matching `query`: `cursor` is `None` at first, then the cursor of
    /// the page before (same query); the last page has none. `query.limit` bounds the whole
    /// stream. See [`find_pages`] for following them.
    ///
    /// The default answers all of [`find_tickets`](Self::find_tickets) as one page.
    fn find_tickets_page(
        &self,
        query: SearchQuery,
        cursor: Option<String>,
    ) -> BoxFuture<'_, TicketResult<TicketPage>> {
        Box::pin(async move {
            if cursor.is_some() {
                return Err(TicketSystemError::new(
                    self.name(),
                    ErrorKind::Validation,
                    "this ticket system hands out no search cursors",
                ));
            }
            Ok(TicketPage {
                tickets: self.find_tickets(query).await?,
                cursor: None,
            })
        })
    }

    /// The first ticket matching `query`, or none.
    fn find_first_ticket(&self, query: SearchQuery) -> BoxFuture<'_, TicketResult<Option<Ticket>>>;

    /// One ticket by id, or none if it does not exist.
    fn get_ticket(&self, id: &str) -> BoxFuture<'_, TicketResult<Option<Ticket>>>;

    /// Applies a partial update in a single write and returns the ticket as it is afterwards.
    fn update_ticket(&self, id: &str, update: TicketUpdate) -> BoxFuture<'_, TicketResult<Ticket>>;

    /// Adds a note to a ticket.
    fn add_note(&self, id: &str, note: Note) -> BoxFuture<'_, TicketResult<()>>;

    /// Makes one authenticated read and says who the service is connected as.
    fn check_connection(&self) -> BoxFuture<'_, TicketResult<String>>;

    /// Applies many updates with as few calls as the help desk allows and reports an outcome per
    /// ticket, in the order given. The outer error concerns the whole batch (nothing written).
    ///
    /// The default writes them one by one with [`update_ticket`](Self::update_ticket), in order;
    /// wrappers of plugins that support batches override it.
    fn update_tickets(
        &self,
        updates: Vec<BatchUpdate>,
    ) -> BoxFuture<'_, TicketResult<Vec<BatchOutcome>>> {
        Box::pin(update_one_by_one(self, updates))
    }

    /// Counters of the requests made to the help desk so far; `None` if the plugin does not count.
    fn request_stats(&self) -> Option<RequestStats> {
        None
    }

    /// One page of the help desk's ticket history (see [`ExportRequest`] and [`ExportPage`]):
    /// the first page from a start time, every later one from the cursor of the page before.
    /// Duplicates across pages are possible (the later copy wins); deleted tickets are included
    /// with their status.
    ///
    /// The default answers [`ErrorKind::Unsupported`]: a help desk without a history export.
    fn export_tickets(&self, request: ExportRequest) -> BoxFuture<'_, TicketResult<ExportPage>> {
        drop(request);
        Box::pin(async move {
            Err(TicketSystemError::new(
                self.name(),
                ErrorKind::Unsupported,
                "this ticket system cannot export its ticket history",
            ))
        })
    }

    /// Verifies a webhook delivery and names its tickets (see
    /// `TicketSystemService::verify_webhook`). Synchronous and quick (no request), but it may
    /// block for a moment on the plugin's thread: call it off the async runtime.
    ///
    /// The default answers [`ErrorKind::Unsupported`]: a help desk whose deliveries otai
    /// cannot verify.
    fn verify_webhook(&self, request: WebhookRequest) -> TicketResult<WebhookEvent> {
        drop(request);
        Err(TicketSystemError::new(
            self.name(),
            ErrorKind::Unsupported,
            "this ticket system's plugin does not verify webhooks (plugin API 1.4)",
        ))
    }
}

/// The most pages [`find_pages`] follows: a guard against a plugin whose cursor never ends.
pub const MAX_SEARCH_PAGES: usize = 1_000_000;

/// Follows the pages of [`TicketSystem::find_tickets_page`], handing each page's tickets to
/// `each` as it arrives (so at most one page is in memory), until the last page or `query.limit`
/// tickets. Returns how many tickets were handed over. A page whose cursor repeats the one it was
/// asked with is an error (the stream would never end).
pub async fn find_pages<S: TicketSystem + ?Sized>(
    system: &S,
    query: SearchQuery,
    each: &mut dyn FnMut(Vec<Ticket>) -> anyhow::Result<()>,
) -> anyhow::Result<u64> {
    let mut left = query.limit;
    let mut cursor: Option<String> = None;
    let mut handed = 0u64;
    for page_number in 1..=MAX_SEARCH_PAGES {
        let asked = cursor.clone();
        let mut page = system
            .find_tickets_page(query.clone(), cursor.take())
            .await
            .map_err(|e| anyhow::anyhow!("page {page_number} of the search: {e}"))?;
        if let Some(left) = left.as_mut() {
            page.tickets
                .truncate(usize::try_from(*left).unwrap_or(usize::MAX));
            *left -= page.tickets.len() as u64;
        }
        handed += page.tickets.len() as u64;
        each(page.tickets)?;
        match page.cursor {
            None => return Ok(handed),
            Some(_) if left == Some(0) => return Ok(handed),
            Some(next) if asked.as_deref() == Some(next.as_str()) => anyhow::bail!(
                "`{}` answered page {page_number} of the search with the cursor it was asked with; stopped (the pages would never end)",
                system.name()
            ),
            Some(next) => cursor = Some(next),
        }
    }
    anyhow::bail!(
        "`{}` gave more than {MAX_SEARCH_PAGES} search pages; stopped",
        system.name()
    )
}

/// Writes `updates` one by one with [`TicketSystem::update_ticket`], in order: the default of
/// [`TicketSystem::update_tickets`], also used by wrappers whose batch call turned out to be
/// unsupported.
pub async fn update_one_by_one<S: TicketSystem + ?Sized>(
    system: &S,
    updates: Vec<BatchUpdate>,
) -> TicketResult<Vec<BatchOutcome>> {
    let mut outcomes = Vec::with_capacity(updates.len());
    for item in updates {
        let result = system
            .update_ticket(&item.id, item.update)
            .await
            .map(|_| ());
        outcomes.push(BatchOutcome {
            id: item.id,
            result,
        });
    }
    Ok(outcomes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_display_names_system_kind_and_details() {
        let mut err = TicketSystemError::new(
            "zendesk",
            ErrorKind::RateLimited,
            "GET /api/v2/search was throttled",
        );
        err.http_status = Some(429);
        err.request_id = Some("abc".into());
        err.retry_after = Some(Duration::from_millis(2500));
        assert_eq!(
            err.to_string(),
            "ticket system `zendesk`: rate_limited error: GET /api/v2/search was throttled (HTTP 429, request id abc); retry after 2.5 s"
        );
    }

    #[test]
    fn unknown_kind_keeps_its_code() {
        assert_eq!(ErrorKind::Unknown(200).to_string(), "unknown (code 200)");
    }

    /// Tickets 1..=total in pages of `size`; the cursor is the next ticket's number, or, with
    /// `stuck`, always the one asked with.
    #[derive(Debug)]
    struct Paged {
        total: u32,
        size: u32,
        stuck: bool,
        asked: std::sync::Mutex<Vec<Option<String>>>,
    }

    impl Paged {
        fn new(total: u32, size: u32) -> Self {
            Paged {
                total,
                size,
                stuck: false,
                asked: Default::default(),
            }
        }
    }

    fn unused<T>() -> BoxFuture<'static, TicketResult<T>> {
        Box::pin(async { unreachable!("not part of this test") })
    }

    impl TicketSystem for Paged {
        fn name(&self) -> &str {
            "paged"
        }
        fn find_tickets(&self, _: SearchQuery) -> BoxFuture<'_, TicketResult<Vec<Ticket>>> {
            Box::pin(async move {
                Ok((1..=self.total)
                    .map(|n| Ticket {
                        id: n.to_string(),
                        ..Ticket::default()
                    })
                    .collect())
            })
        }
        fn find_tickets_page(
            &self,
            _: SearchQuery,
            cursor: Option<String>,
        ) -> BoxFuture<'_, TicketResult<TicketPage>> {
            self.asked.lock().unwrap().push(cursor.clone());
            let first: u32 = cursor.as_deref().map_or(1, |c| c.parse().unwrap());
            let last = (first + self.size - 1).min(self.total);
            let tickets = (first..=last)
                .map(|n| Ticket {
                    id: n.to_string(),
                    ..Ticket::default()
                })
                .collect();
            let cursor = if self.stuck {
                Some(first.to_string())
            } else {
                (last < self.total).then(|| (last + 1).to_string())
            };
            Box::pin(async move { Ok(TicketPage { tickets, cursor }) })
        }
        fn find_first_ticket(&self, _: SearchQuery) -> BoxFuture<'_, TicketResult<Option<Ticket>>> {
            unused()
        }
        fn get_ticket(&self, _: &str) -> BoxFuture<'_, TicketResult<Option<Ticket>>> {
            unused()
        }
        fn update_ticket(&self, _: &str, _: TicketUpdate) -> BoxFuture<'_, TicketResult<Ticket>> {
            unused()
        }
        fn add_note(&self, _: &str, _: Note) -> BoxFuture<'_, TicketResult<()>> {
            unused()
        }
        fn check_connection(&self) -> BoxFuture<'_, TicketResult<String>> {
            unused()
        }
    }

    async fn pages_of(system: &Paged, limit: Option<u64>) -> anyhow::Result<Vec<usize>> {
        let mut sizes = Vec::new();
        let query = SearchQuery {
            limit,
            ..SearchQuery::default()
        };
        let handed = find_pages(system, query, &mut |page| {
            sizes.push(page.len());
            Ok(())
        })
        .await?;
        assert_eq!(handed, sizes.iter().sum::<usize>() as u64);
        Ok(sizes)
    }

    #[tokio::test]
    async fn pages_are_followed_to_the_end_and_handed_over_one_by_one() {
        let desk = Paged::new(25, 10);
        assert_eq!(pages_of(&desk, None).await.unwrap(), [10, 10, 5]);
        let asked = desk.asked.lock().unwrap().clone();
        assert_eq!(asked, [None, Some("11".into()), Some("21".into())]);
    }

    #[tokio::test]
    async fn the_limit_bounds_the_whole_stream_and_stops_the_paging() {
        let desk = Paged::new(25, 10);
        assert_eq!(pages_of(&desk, Some(15)).await.unwrap(), [10, 5]);
        assert_eq!(
            desk.asked.lock().unwrap().len(),
            2,
            "no third page asked for"
        );
        let desk = Paged::new(25, 10);
        assert_eq!(pages_of(&desk, Some(10)).await.unwrap(), [10]);
    }

    #[tokio::test]
    async fn a_cursor_that_does_not_move_is_an_error_not_an_endless_loop() {
        let desk = Paged {
            stuck: true,
            ..Paged::new(25, 10)
        };
        let err = pages_of(&desk, None).await.unwrap_err().to_string();
        assert!(
            err.contains("page 2 of the search with the cursor it was asked with"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn the_default_page_is_the_whole_answer_and_takes_no_cursor() {
        #[derive(Debug)]
        struct Whole(Paged);
        impl TicketSystem for Whole {
            fn name(&self) -> &str {
                "whole"
            }
            fn find_tickets(&self, q: SearchQuery) -> BoxFuture<'_, TicketResult<Vec<Ticket>>> {
                self.0.find_tickets(q)
            }
            fn find_first_ticket(
                &self,
                _: SearchQuery,
            ) -> BoxFuture<'_, TicketResult<Option<Ticket>>> {
                unused()
            }
            fn get_ticket(&self, _: &str) -> BoxFuture<'_, TicketResult<Option<Ticket>>> {
                unused()
            }
            fn update_ticket(
                &self,
                _: &str,
                _: TicketUpdate,
            ) -> BoxFuture<'_, TicketResult<Ticket>> {
                unused()
            }
            fn add_note(&self, _: &str, _: Note) -> BoxFuture<'_, TicketResult<()>> {
                unused()
            }
            fn check_connection(&self) -> BoxFuture<'_, TicketResult<String>> {
                unused()
            }
        }
        let desk = Whole(Paged::new(25, 10));
        let page = desk
            .find_tickets_page(SearchQuery::default(), None)
            .await
            .unwrap();
        assert_eq!((page.tickets.len(), page.cursor), (25, None));
        let err = desk
            .find_tickets_page(SearchQuery::default(), Some("x".into()))
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Validation);
    }
}
