//! The ticket-system service: the trait object a plugin hands to the host.

use abi_stable::{
    sabi_trait,
    std_types::{RBox, ROption, RResult, RString, RVec},
};
use async_ffi::{FfiFuture, FutureExt};

use crate::{
    error::PluginError,
    ticket::{
        BatchOutcome, BatchUpdate, ExportPage, ExportRequest, Note, SearchQuery, Ticket,
        TicketPage, TicketState, TicketUpdate,
    },
};

/// The result of every service call.
pub type PluginResult<T> = RResult<T, PluginError>;

/// What every async service method returns.
///
/// The plugin drives the work on its own runtime (its tokio is not the host's) and hands back a
/// future the host can await on any executor. Dropping the future must cancel the work.
pub type ServiceFuture<T> = FfiFuture<PluginResult<T>>;

/// A ticket-system service as the host holds it.
pub type TicketSystemBox = TicketSystemService_TO<'static, RBox<()>>;

/// A help desk as otai sees it: read tickets, write partial updates and notes.
///
/// Ids are strings so that help desks with non-numeric keys fit; a plugin validates their form
/// (Zendesk: a 64-bit unsigned integer) and returns [`ErrorKind::VALIDATION`](crate::ErrorKind::VALIDATION)
/// otherwise. Every method catches panics and returns [`ErrorKind::PANICKED`](crate::ErrorKind::PANICKED).
///
/// Methods are only ever appended (see the crate's versioning rules); a method added after 1.0
/// has a default body.
#[sabi_trait]
pub trait TicketSystemService: Send + Sync {
    /// Every ticket matching `query`, following all pages, at most `query.limit` of them.
    fn find_tickets(&self, query: SearchQuery) -> ServiceFuture<RVec<Ticket>>;

    /// The first ticket matching `query`, or none.
    fn find_first_ticket(&self, query: SearchQuery) -> ServiceFuture<ROption<Ticket>>;

    /// One ticket by id, or none if it does not exist.
    fn get_ticket(&self, id: RString) -> ServiceFuture<ROption<Ticket>>;

    /// Applies a partial update to one ticket in a single write, and returns the ticket as it is
    /// afterwards. Either all of the update is applied or none of it. With
    /// [`TicketUpdate::if_unchanged_since`] set, a ticket changed since then is not written and
    /// [`ErrorKind::CONFLICT`](crate::ErrorKind::CONFLICT) is returned.
    fn update_ticket(&self, id: RString, update: TicketUpdate) -> ServiceFuture<Ticket>;

    /// Adds a note (a comment) to a ticket; internal unless [`Note::public`] is set.
    fn add_note(&self, id: RString, note: Note) -> ServiceFuture<()>;

    /// Makes one authenticated read and says who the service is connected as, e.g.
    /// `"support@example.com (admin) on https://example.zendesk.com"`. Used by `otai check --connect`.
    #[sabi(last_prefix_field)]
    fn check_connection(&self) -> ServiceFuture<RString> {
        async { RResult::RErr(PluginError::unsupported("check_connection")) }.into_ffi()
    }

    /// Since 1.1. Applies many updates with as few API calls as the help desk allows (Zendesk:
    /// `update_many`, 100 tickets per job) and reports an outcome for every ticket, in the order
    /// given. Each ticket's update is all-or-nothing, as with
    /// [`update_ticket`](Self::update_ticket). The outer error is for failures that concern the
    /// whole batch (authentication, a malformed request) and means nothing was written.
    ///
    /// The default answers [`ErrorKind::UNSUPPORTED`](crate::ErrorKind::UNSUPPORTED); the host then
    /// writes the tickets one by one with `update_ticket`. It is also what a host sees from a
    /// plugin built against 1.0, whose vtable lacks this method.
    fn update_tickets(&self, updates: RVec<BatchUpdate>) -> ServiceFuture<RVec<BatchOutcome>> {
        drop(updates);
        async { RResult::RErr(PluginError::unsupported("update_tickets")) }.into_ffi()
    }

    /// Since 1.1. Counters of the requests this service made to its help desk since it was
    /// created, so the host can report API calls per pass and per ticket. `RNone` if the plugin
    /// does not count (the default, and what a 1.0 plugin answers).
    fn request_stats(&self) -> ROption<RequestStats> {
        ROption::RNone
    }

    /// Since 1.1. One page of the help desk's full ticket history, for learning its queues from
    /// what agents finally set (`otai train --system`). The first call names a start time
    /// ([`ExportRequest::start_time`]); every later call passes back the [`ExportPage::cursor`]
    /// of the page before, until a page says [`ExportPage::end_of_stream`]. Resumable: a cursor
    /// kept from an earlier run continues where that run stopped. Tickets changed since the
    /// start time come in the order of their last change; the same ticket may appear on several
    /// pages (keep the latest), and deleted tickets are included with their status (Zendesk:
    /// `deleted`). Pacing the help desk's export rate limit is the plugin's job.
    ///
    /// The default answers [`ErrorKind::UNSUPPORTED`](crate::ErrorKind::UNSUPPORTED); so does a
    /// plugin built against 1.0.
    fn export_tickets(&self, request: ExportRequest) -> ServiceFuture<ExportPage> {
        drop(request);
        async { RResult::RErr(PluginError::unsupported("export_tickets")) }.into_ffi()
    }

    /// Since 1.2. A ticket's state in otai's words, from the help desk's `status` and the
    /// ticket's `tags` (some help desks mark a merge with a tag). Local and immediate: no request.
    /// The host asks it for every ticket it reads, so that it never interprets a help desk's
    /// own status names.
    ///
    /// The default (and what the host assumes for a plugin built against 1.0 or 1.1) maps a
    /// status named like a category (`new`, `open`, `pending`, `solved`, `closed`, any case) to
    /// it, anything else to [`StatusCategory::UNKNOWN`](crate::StatusCategory::UNKNOWN), never merged
    /// or deleted.
    fn ticket_state(&self, status: RString, tags: RVec<RString>) -> TicketState {
        drop(tags);
        crate::ticket::state_from_status_name(status.as_str())
    }

    /// Since 1.3. One page of the tickets matching `query`, so that a caller can stream a large
    /// result (`otai tickets find` without `--limit`) instead of holding every ticket at once.
    /// The first call passes no cursor; each later one passes the [`TicketPage::cursor`] of the
    /// page before, with the same query, until a page has no cursor. `query.limit` bounds the
    /// whole stream, not a page; the page size is the plugin's choice (a few hundred tickets at
    /// most). Together the pages hold what [`find_tickets`](Self::find_tickets) would answer
    /// (a ticket changed while the pages are read may be on two of them, or on none).
    ///
    /// The default (and what the host answers for a plugin built against 1.0 to 1.2) is
    /// [`find_tickets`](Self::find_tickets) as one page without a cursor; a cursor it never
    /// handed out is [`ErrorKind::VALIDATION`](crate::ErrorKind::VALIDATION).
    fn find_tickets_page(
        &self,
        query: SearchQuery,
        cursor: ROption<RString>,
    ) -> ServiceFuture<TicketPage> {
        if cursor.is_some() {
            return async {
                RResult::RErr(PluginError::new(
                    crate::ErrorKind::VALIDATION,
                    "find_tickets_page: this plugin hands out no cursors (its whole answer is one page)",
                ))
            }
            .into_ffi();
        }
        let all = self.find_tickets(query);
        async move {
            match all.await {
                RResult::ROk(tickets) => RResult::ROk(TicketPage {
                    tickets,
                    cursor: ROption::RNone,
                }),
                RResult::RErr(err) => RResult::RErr(err),
            }
        }
        .into_ffi()
    }
}

/// Since 1.1. Counters a service keeps about its requests to the help desk. All counts are totals
/// since the service was created; the host subtracts two readings to get a pass's share.
#[repr(C)]
#[derive(abi_stable::StableAbi, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestStats {
    /// HTTP requests sent, retries included.
    pub requests: u64,
    /// Of those, requests that were retries of an earlier attempt.
    pub retries: u64,
    /// Answers that said "slow down" (HTTP 429, or 503 with `Retry-After`).
    pub rate_limited: u64,
}
