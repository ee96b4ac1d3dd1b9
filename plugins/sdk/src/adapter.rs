//! The one trait an adapter implements: a help desk in native async Rust.

use std::future::Future;

use crate::{
    error::{Error, Result},
    ticket::{
        BatchOutcome, BatchUpdate, ExportPage, ExportRequest, Note, RequestStats, SearchQuery,
        StatusCategory, Ticket, TicketPage, TicketState, TicketUpdate,
    },
    webhook::{WebhookEvent, WebhookRequest},
};

/// A help desk as otai sees it: find and read tickets, write partial updates and notes.
///
/// Implement it with `async fn`s; the SDK's glue ([`export_plugin!`](crate::export_plugin))
/// runs them on the service's own runtime, catches panics, cancels the work when the host drops
/// the call, and converts everything at the boundary. One value per configured service: two
/// accounts get two values that share nothing.
///
/// Ids are the help desk's, as strings; validate their form and answer
/// [`ErrorKind::Validation`](crate::ErrorKind::Validation) for a bad one. Every error names the
/// operation, the ticket id and the URL path, never a credential.
pub trait TicketSystemAdapter: Send + Sync + 'static {
    /// Every ticket matching `query`, following all pages, at most `query.limit` of them.
    fn find_tickets(&self, query: &SearchQuery)
        -> impl Future<Output = Result<Vec<Ticket>>> + Send;

    /// One page of the tickets matching `query`, for callers that stream a large result
    /// (`otai tickets find` without `--limit`): `cursor` is `None` at first, then the
    /// [`TicketPage::cursor`] of the page before, with the same query; the last page has none.
    /// `query.limit` bounds the whole stream. Encode in the cursor whatever the next page needs
    /// (a page number, the last id, the help desk's own cursor): it is opaque to the host.
    ///
    /// The default answers all of [`find_tickets`](Self::find_tickets) as one page, and a cursor
    /// (which it never hands out) with [`ErrorKind::Validation`](crate::ErrorKind::Validation).
    /// Override it when one account's tickets may not fit in memory.
    fn find_tickets_page(
        &self,
        query: &SearchQuery,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<TicketPage>> + Send {
        let handed_a_cursor = cursor.is_some();
        async move {
            if handed_a_cursor {
                return Err(Error::new(
                    crate::ErrorKind::Validation,
                    "find_tickets_page: this adapter hands out no cursors (its whole answer is one page)",
                ));
            }
            Ok(TicketPage {
                tickets: self.find_tickets(query).await?,
                cursor: None,
            })
        }
    }

    /// The first ticket matching `query`, or none. The default asks
    /// [`find_tickets`](Self::find_tickets) for one ticket.
    fn find_first_ticket(
        &self,
        query: &SearchQuery,
    ) -> impl Future<Output = Result<Option<Ticket>>> + Send {
        let mut one = query.clone();
        one.limit = Some(one.limit.map_or(1, |limit| limit.min(1)));
        async move { Ok(self.find_tickets(&one).await?.into_iter().next()) }
    }

    /// One ticket by id, or none if it does not exist.
    fn get_ticket(&self, id: &str) -> impl Future<Output = Result<Option<Ticket>>> + Send;

    /// Applies a partial update to one ticket, all of it or none of it, and returns the ticket
    /// afterwards. With `if_unchanged_since` set, a ticket changed since then is not written and
    /// the answer is [`ErrorKind::Conflict`](crate::ErrorKind::Conflict).
    fn update_ticket(
        &self,
        id: &str,
        update: &TicketUpdate,
    ) -> impl Future<Output = Result<Ticket>> + Send;

    /// Adds a note to a ticket: internal unless `note.public`.
    fn add_note(&self, id: &str, note: &Note) -> impl Future<Output = Result<()>> + Send;

    /// Makes one authenticated read and says who the service is connected as, e.g.
    /// `"otai@acme.example (agent) on https://helpdesk.acme.example"`.
    fn check_connection(&self) -> impl Future<Output = Result<String>> + Send;

    /// Many updates with as few requests as the help desk allows, one outcome per ticket, in the
    /// order given; the outer error means nothing was written. The default writes them one by
    /// one with [`update_ticket`](Self::update_ticket).
    fn update_tickets(
        &self,
        updates: &[BatchUpdate],
    ) -> impl Future<Output = Result<Vec<BatchOutcome>>> + Send {
        async move {
            let mut outcomes = Vec::with_capacity(updates.len());
            for item in updates {
                let result = self.update_ticket(&item.id, &item.update).await.map(drop);
                outcomes.push(BatchOutcome {
                    id: item.id.clone(),
                    result,
                });
            }
            Ok(outcomes)
        }
    }

    /// One page of the ticket history for `otai train --system` (see the plugin authors' guide).
    /// The default answers [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported).
    fn export_tickets(
        &self,
        request: &ExportRequest,
    ) -> impl Future<Output = Result<ExportPage>> + Send {
        let _ = request;
        async { Err(Error::unsupported("export_tickets")) }
    }

    /// Counters of the requests made so far ([`Http::stats`](crate::http::Http::stats) keeps
    /// them); `None` if the adapter does not count.
    fn request_stats(&self) -> Option<RequestStats> {
        None
    }

    /// A ticket's state in otai's words, from its help desk `status` and `tags`. Local and
    /// immediate. The default maps statuses named like the categories (`new`, `open`,
    /// `pending`, `solved`, `closed`); a help desk with other names must override it.
    fn ticket_state(&self, status: &str, tags: &[String]) -> TicketState {
        let _ = tags;
        TicketState::of(StatusCategory::from_name(status))
    }

    /// Verifies a webhook delivery from the help desk (signature, shared secret or
    /// credentials; a signed timestamp's freshness against `request.received_at`) and names
    /// the tickets it is about. Local and immediate: no request. Answer
    /// [`ErrorKind::Auth`](crate::ErrorKind::Auth) for a missing, wrong or stale signature,
    /// [`ErrorKind::Validation`](crate::ErrorKind::Validation) for a body it cannot read and
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) when no webhook secret is configured;
    /// [`webhook`](crate::webhook) has the constant-time checks.
    ///
    /// The default answers [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported): `otai
    /// serve` refuses the help desk's deliveries and relies on polling.
    fn verify_webhook(&self, request: &WebhookRequest) -> Result<WebhookEvent> {
        let _ = request;
        Err(Error::unsupported("verify_webhook"))
    }
}
