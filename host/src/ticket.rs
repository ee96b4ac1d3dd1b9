//! The host's own ticket model and the [`TicketSystem`] trait the rest of the host works with.
//!
//! Nothing here knows about `abi_stable`: plugins are wrapped in
//! [`ForeignTicketSystem`](crate::plugins::ForeignTicketSystem), which converts to and from these
//! types, so commands, pipelines and tests see plain `String`s, `Vec`s and `serde_json::Value`s.

use std::{fmt, future::Future, pin::Pin, time::Duration};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A queue (Zendesk: a group) by id, by name, or both.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Queue {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// One custom field value; its JSON type depends on the field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomField {
    pub id: String,
    pub value: Value,
}

/// A person (the requester of a ticket).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// A ticket as read from a help desk. Timestamps are ISO-8601 strings as the help desk gave them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: String,
    pub subject: String,
    pub body: String,
    pub status: String,
    pub priority: Option<String>,
    pub queue: Option<Queue>,
    pub tags: Vec<String>,
    pub custom_fields: Vec<CustomField>,
    pub requester: Option<Person>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    /// The help desk's own JSON for the ticket (`null` if the plugin sent none).
    pub raw: Value,
}

/// A note (comment) on a ticket. Internal unless `public` is set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub body: String,
    #[serde(default)]
    pub html: bool,
    #[serde(default)]
    pub public: bool,
}

/// A partial update: only what is set is written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TicketUpdate {
    pub queue: Option<Queue>,
    pub priority: Option<String>,
    pub status: Option<String>,
    pub add_tags: Vec<String>,
    pub remove_tags: Vec<String>,
    pub custom_fields: Vec<CustomField>,
    pub note: Option<Note>,
    /// Write only if the ticket's `updated_at` still equals this stamp.
    pub if_unchanged_since: Option<String>,
    /// Help-desk-specific fields merged into the write (a JSON object).
    pub system_fields: Option<Value>,
}

impl TicketUpdate {
    /// Whether the update would write nothing at all.
    pub fn is_empty(&self) -> bool {
        self.queue.is_none()
            && self.priority.is_none()
            && self.status.is_none()
            && self.add_tags.is_empty()
            && self.remove_tags.is_empty()
            && self.custom_fields.is_empty()
            && self.note.is_none()
            && self.system_fields.is_none()
    }
}

/// Which tickets to find. All conditions must hold; empty lists and `None` mean "any".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchQuery {
    pub statuses: Vec<String>,
    pub queue: Option<String>,
    pub tags_all: Vec<String>,
    pub tags_none: Vec<String>,
    pub updated_since: Option<String>,
    pub limit: Option<u64>,
    /// A query in the help desk's own syntax, combined with the conditions above.
    pub system_query: Option<String>,
}

/// What kind of failure a [`TicketSystemError`] reports.
///
/// Mirrors the plugin interface's open set of kinds; a kind this host does not know yet is kept
/// as [`ErrorKind::Unknown`] rather than lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    Config,
    Auth,
    Forbidden,
    NotFound,
    RateLimited,
    Conflict,
    Validation,
    Transport,
    Timeout,
    InvalidResponse,
    Panicked,
    Unsupported,
    Unknown(u8),
}

impl ErrorKind {
    /// A stable, lower-case name for logs and JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Self::Config => "config",
            Self::Auth => "auth",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::RateLimited => "rate_limited",
            Self::Conflict => "conflict",
            Self::Validation => "validation",
            Self::Transport => "transport",
            Self::Timeout => "timeout",
            Self::InvalidResponse => "invalid_response",
            Self::Panicked => "panicked",
            Self::Unsupported => "unsupported",
            Self::Unknown(_) => "unknown",
        }
    }

    /// Whether the same call may succeed if simply tried again later. Timeouts are excluded:
    /// a write that timed out may have been applied.
    pub fn is_transient(self) -> bool {
        matches!(self, Self::RateLimited | Self::Transport)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unknown(code) => write!(f, "unknown (code {code})"),
            other => f.write_str(other.name()),
        }
    }
}

/// A failed call to a ticket system, whichever side (plugin or host) detected it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("ticket system `{system}`: {kind} error: {message}{}", Details(self))]
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
}

struct Details<'a>(&'a TicketSystemError);

impl fmt::Display for Details<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let err = self.0;
        match (err.http_status, &err.request_id) {
            (Some(status), Some(id)) => write!(f, " (HTTP {status}, request id {id})")?,
            (Some(status), None) => write!(f, " (HTTP {status})")?,
            (None, Some(id)) => write!(f, " (request id {id})")?,
            (None, None) => {}
        }
        if let Some(wait) = err.retry_after {
            write!(f, "; retry after {:.1} s", wait.as_secs_f64())?;
        }
        Ok(())
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

/// Where an export page starts: `start_time` (RFC 3339) for the first page, or `cursor`, the
/// cursor of the page before (it wins if both are set).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportRequest {
    pub start_time: Option<String>,
    pub cursor: Option<String>,
}

/// One page of a ticket export.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExportPage {
    /// This page's tickets, deleted ones included.
    pub tickets: Vec<Ticket>,
    /// Where the next page (or a resumed export) starts.
    pub cursor: Option<String>,
    /// Whether this is the last page for now.
    pub end_of_stream: bool,
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

/// Counters of a ticket system's requests to its help desk, totals since it was created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RequestStats {
    /// HTTP requests sent, retries included.
    pub requests: u64,
    /// Of those, retries of an earlier attempt.
    pub retries: u64,
    /// Answers that said "slow down" (429, or 503 with `Retry-After`).
    pub rate_limited: u64,
}

impl RequestStats {
    /// What happened between an earlier reading and this one.
    pub fn since(self, earlier: RequestStats) -> RequestStats {
        RequestStats {
            requests: self.requests.saturating_sub(earlier.requests),
            retries: self.retries.saturating_sub(earlier.retries),
            rate_limited: self.rate_limited.saturating_sub(earlier.rate_limited),
        }
    }
}

/// One ticket's update in a batch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BatchUpdate {
    pub id: String,
    pub update: TicketUpdate,
    /// The ticket's tags as read at `update.if_unchanged_since`, so the help desk need not be read
    /// again to compute the new tag set.
    pub current_tags: Option<Vec<String>>,
}

/// What happened to one ticket of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchOutcome {
    pub id: String,
    /// `Ok` if the whole update was applied. A `Timeout` error means it is unknown whether it was.
    pub result: TicketResult<()>,
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
