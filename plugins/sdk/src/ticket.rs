//! otai's native ticket model, shared by the host and every adapter built on this SDK.
//!
//! Plain `String`s, `Vec`s and `serde_json::Value`s: [`crate::convert`] copies them to and from the
//! plugin interface's `R*` types at the boundary, so neither an adapter nor the host's pipeline
//! ever sees an ABI type. Timestamps are ISO-8601 strings as the help desk gave them; priorities
//! use otai's vocabulary ([`PRIORITIES`](otai_plugin_api::vocabulary::PRIORITIES)).

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
    /// Where the ticket is in its life, in otai's words. Filled by the host from the adapter's
    /// [`ticket_state`](crate::TicketSystemAdapter::ticket_state) mapping of `status` and `tags`;
    /// an adapter may leave it at its default.
    #[serde(default)]
    pub state: TicketState,
}

/// A help desk's status, normalised: what the host reasons about (which tickets are finished,
/// which agents' decisions to learn from) without knowing any help desk's vocabulary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusCategory {
    /// Nobody has worked on it yet.
    New,
    /// Being worked on.
    Open,
    /// Waiting for the customer or a third party (Zendesk `pending` and `hold`).
    Pending,
    /// Answered; may still reopen.
    Solved,
    /// Finished for good.
    Closed,
    /// A status the adapter does not map.
    #[default]
    Unknown,
}

impl StatusCategory {
    /// The category whose name is `status` (ASCII case ignored), else [`StatusCategory::Unknown`]:
    /// the mapping for help desks whose statuses carry otai's names, and for plugins built
    /// against plugin API 1.0 or 1.1, which cannot say.
    pub fn from_name(status: &str) -> StatusCategory {
        crate::convert::state_from_ffi(otai_plugin_api::ticket::state_from_status_name(status))
            .category
    }

    /// Whether the work on the ticket is done (solved or closed).
    pub fn is_finished(self) -> bool {
        matches!(self, StatusCategory::Solved | StatusCategory::Closed)
    }
}

/// A ticket's normalised state: its status category and whether it was merged into another
/// ticket or deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TicketState {
    pub category: StatusCategory,
    /// Merged into another ticket (its text lives on there).
    #[serde(default)]
    pub merged: bool,
    /// Deleted (still listed by some history exports).
    #[serde(default)]
    pub deleted: bool,
}

impl TicketState {
    /// A state of `category`, neither merged nor deleted.
    pub fn of(category: StatusCategory) -> TicketState {
        TicketState {
            category,
            merged: false,
            deleted: false,
        }
    }

    /// The state a status name means by its first word, as the open-source help desks name
    /// theirs (`new`, `open`, `pending reminder`, `pending auto close+`, `closed successful`,
    /// `solved`, `merged`, `removed`/`deleted`); anything else is unknown. For adapters whose
    /// help desk lets admins add states named after these.
    pub fn from_first_word(status: &str) -> TicketState {
        let lower = status.trim().to_ascii_lowercase();
        let closed = TicketState::of(StatusCategory::Closed);
        match lower.split_whitespace().next().unwrap_or_default() {
            "new" => TicketState::of(StatusCategory::New),
            "open" => TicketState::of(StatusCategory::Open),
            "pending" => TicketState::of(StatusCategory::Pending),
            "solved" => TicketState::of(StatusCategory::Solved),
            "closed" => closed,
            "merged" => TicketState {
                merged: true,
                ..closed
            },
            "removed" | "deleted" => TicketState {
                deleted: true,
                ..closed
            },
            _ => TicketState::of(StatusCategory::Unknown),
        }
    }
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

/// One page of a search (see `find_tickets_page`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TicketPage {
    /// This page's tickets.
    pub tickets: Vec<Ticket>,
    /// Where the next page starts (passed back with the same query); `None` on the last page.
    pub cursor: Option<String>,
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

/// What happened to one ticket of a batch. `E` is the error type of the side holding it: an
/// adapter's [`Error`](crate::Error); the host's own error, which also names the ticket system.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchOutcome<E = crate::Error> {
    pub id: String,
    /// `Ok` if the whole update was applied. A `Timeout` error means it is unknown whether it was.
    pub result: Result<(), E>,
}
