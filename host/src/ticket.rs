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
    SearchQuery, StatusCategory, Ticket, TicketState, TicketUpdate,
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
}
