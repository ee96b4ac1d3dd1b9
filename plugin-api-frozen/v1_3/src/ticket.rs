//! The unified ticket model: what otai reads from and writes to any help desk.
//!
//! Frozen within a major version (see the crate's versioning rules). Timestamps are ISO-8601 UTC
//! strings as the help desk gives them (`2023-09-18T23:25:36Z`). Priorities use otai's vocabulary,
//! `low`, `normal`, `high`, `urgent`, which a plugin maps to its help desk's own.

use abi_stable::{
    std_types::{ROption, RString, RVec},
    StableAbi,
};

/// A queue (Zendesk: a group) by id, by name, or both.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueRef {
    /// The help desk's id of the queue.
    pub id: ROption<RString>,
    /// The queue's name as agents see it. In an update, a name alone is resolved by the plugin;
    /// an unknown name is a validation error.
    pub name: ROption<RString>,
}

/// One custom field value. The value is JSON because its type depends on the field
/// (string, number, boolean, array of option values, `null` to clear).
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct CustomFieldValue {
    /// The field's id in the help desk.
    pub id: RString,
    /// The value as a JSON document, e.g. `"opt1"` (with the quotes), `true`, `["a","b"]`, `null`.
    pub value_json: RString,
}

/// A person (the requester of a ticket).
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Default, PartialEq, Eq)]
pub struct Person {
    /// The help desk's id of the person.
    pub id: RString,
    /// Display name, where the help desk gave it.
    pub name: ROption<RString>,
    /// E-mail address, where the help desk gave it.
    pub email: ROption<RString>,
}

/// A ticket as read from a help desk.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Default, PartialEq, Eq)]
pub struct Ticket {
    /// The help desk's id of the ticket (Zendesk: a 64-bit integer, as decimal digits).
    pub id: RString,
    /// The subject line; empty if the ticket has none.
    pub subject: RString,
    /// The text of the ticket: its description / first message, as plain text where available.
    pub body: RString,
    /// The help desk's status (Zendesk: `new`, `open`, `pending`, `hold`, `solved`, `closed`, and
    /// others such as `deleted`, passed through unchanged).
    pub status: RString,
    /// `low`, `normal`, `high` or `urgent`; none if unset.
    pub priority: ROption<RString>,
    /// The queue the ticket is in, if any.
    pub queue: ROption<QueueRef>,
    /// The ticket's tags.
    pub tags: RVec<RString>,
    /// Custom field values, as id + JSON value.
    pub custom_fields: RVec<CustomFieldValue>,
    /// Who asked.
    pub requester: ROption<Person>,
    /// When the ticket was created.
    pub created_at: ROption<RString>,
    /// When the ticket last changed; pass it back as [`TicketUpdate::if_unchanged_since`] to write
    /// only if nobody changed the ticket in between.
    pub updated_at: ROption<RString>,
    /// The help desk's own JSON for the ticket, for whatever the unified model does not cover.
    pub raw_json: RString,
}

/// A note (comment) on a ticket.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Default, PartialEq, Eq)]
pub struct Note {
    /// The text of the note.
    pub body: RString,
    /// Whether the body is HTML rather than plain text.
    pub html: bool,
    /// Whether the customer can see it. Defaults to false: an internal note for agents.
    pub public: bool,
}

/// A partial update: only what is set is written.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketUpdate {
    /// Move the ticket to this queue (by id, or by name resolved by the plugin).
    pub queue: ROption<QueueRef>,
    /// Set the priority: `low`, `normal`, `high` or `urgent`.
    pub priority: ROption<RString>,
    /// Set the status, in the help desk's own vocabulary.
    pub status: ROption<RString>,
    /// Tags to add; the ticket's other tags are kept.
    pub add_tags: RVec<RString>,
    /// Tags to remove; the ticket's other tags are kept.
    pub remove_tags: RVec<RString>,
    /// Custom field values to set.
    pub custom_fields: RVec<CustomFieldValue>,
    /// A note to add in the same write.
    pub note: ROption<Note>,
    /// Write only if the ticket's `updated_at` still equals this stamp; otherwise fail with
    /// [`ErrorKind::CONFLICT`](crate::ErrorKind::CONFLICT) and write nothing.
    pub if_unchanged_since: ROption<RString>,
    /// A JSON object of help-desk-specific fields merged into the write (Zendesk: keys of the
    /// `ticket` object, e.g. `{"type": "incident"}`). Unified fields above take precedence.
    pub system_fields_json: ROption<RString>,
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
            && self.system_fields_json.is_none()
    }
}

/// Which tickets to find. All conditions must hold; empty lists and `None` mean "any".
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchQuery {
    /// Any of these statuses.
    pub statuses: RVec<RString>,
    /// In this queue (by name).
    pub queue: ROption<RString>,
    /// Carrying every one of these tags.
    pub tags_all: RVec<RString>,
    /// Carrying none of these tags.
    pub tags_none: RVec<RString>,
    /// Updated at or after this ISO-8601 time.
    pub updated_since: ROption<RString>,
    /// At most this many tickets; none means all of them.
    pub limit: ROption<u64>,
    /// A query in the help desk's own syntax, combined with the conditions above
    /// (Zendesk: search syntax such as `brand:acme via:email`).
    pub system_query: ROption<RString>,
}

/// One ticket's update in a batch (since 1.1).
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchUpdate {
    /// The ticket to update.
    pub id: RString,
    /// What to write; the same rules as [`TicketSystemService::update_ticket`](crate::TicketSystemService::update_ticket).
    pub update: TicketUpdate,
    /// The ticket's tags as the caller read them at [`TicketUpdate::if_unchanged_since`]. With
    /// both set, a plugin can compute the new tag set without reading the ticket again; the stamp
    /// guarantees nobody changed the tags in between (or the ticket fails with a conflict).
    pub current_tags: ROption<RVec<RString>>,
}

/// What happened to one ticket of a batch (since 1.1).
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct BatchOutcome {
    /// The ticket this outcome is for.
    pub id: RString,
    /// `ROk` if the whole update was applied; otherwise why not. A [`ErrorKind::TIMEOUT`](crate::ErrorKind::TIMEOUT)
    /// means the plugin cannot tell whether it was applied.
    pub result: abi_stable::std_types::RResult<(), crate::PluginError>,
}

/// Where an export page starts (since 1.1): a start time for the first page, or the cursor of
/// the page before. With both set the cursor wins; with neither the plugin answers
/// [`ErrorKind::VALIDATION`](crate::ErrorKind::VALIDATION).
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportRequest {
    /// The first page: tickets changed at or after this RFC 3339 time (`2024-05-01T00:00:00Z`).
    pub start_time: ROption<RString>,
    /// A later page, or a resumed export: the [`ExportPage::cursor`] of the page before.
    pub cursor: ROption<RString>,
}

/// One page of a ticket export (since 1.1).
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportPage {
    /// The tickets of this page, deleted ones included (with their status). A ticket may appear
    /// again on a later page if it changed in between: the later copy is the newer one.
    pub tickets: RVec<Ticket>,
    /// Where the next page starts; keep it to resume later, even after the end of the stream
    /// (tickets changed since then come from it).
    pub cursor: ROption<RString>,
    /// Whether this is the last page for now.
    pub end_of_stream: bool,
}

/// Since 1.3. One page of a search, from
/// [`TicketSystemService::find_tickets_page`](crate::TicketSystemService::find_tickets_page).
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketPage {
    /// The tickets of this page.
    pub tickets: RVec<Ticket>,
    /// Where the next page starts (pass it back with the same query); none on the last page.
    /// Opaque to the host, and only meant for the service that handed it out.
    pub cursor: ROption<RString>,
}

/// Since 1.2. A ticket's status, normalised: an open set of codes (see
/// [`ErrorKind`](crate::ErrorKind) for why), named in [`vocabulary::status`](crate::vocabulary::status).
#[repr(transparent)]
#[derive(StableAbi, Debug, Copy, Clone, PartialEq, Eq, Hash, Default)]
pub struct StatusCategory(pub u8);

impl StatusCategory {
    /// A status the plugin does not map.
    pub const UNKNOWN: StatusCategory = StatusCategory(0);
    /// Nobody has worked on the ticket yet.
    pub const NEW: StatusCategory = StatusCategory(1);
    /// Being worked on.
    pub const OPEN: StatusCategory = StatusCategory(2);
    /// Waiting for the customer or a third party.
    pub const PENDING: StatusCategory = StatusCategory(3);
    /// Answered; may still reopen.
    pub const SOLVED: StatusCategory = StatusCategory(4);
    /// Finished for good.
    pub const CLOSED: StatusCategory = StatusCategory(5);
}

/// Since 1.2. What [`TicketSystemService::ticket_state`](crate::TicketSystemService::ticket_state)
/// answers: a ticket's status category and whether it was merged into another or deleted.
#[repr(C)]
#[derive(StableAbi, Debug, Copy, Clone, Default, PartialEq, Eq)]
pub struct TicketState {
    /// The status, normalised.
    pub category: StatusCategory,
    /// Merged into another ticket.
    pub merged: bool,
    /// Deleted.
    pub deleted: bool,
}

/// The default [`TicketSystemService::ticket_state`](crate::TicketSystemService::ticket_state):
/// a status named like a category maps to it (ASCII case ignored).
pub fn state_from_status_name(status: &str) -> TicketState {
    use crate::vocabulary::status as names;
    let s = status.trim().to_ascii_lowercase();
    let category = match s.as_str() {
        names::NEW => StatusCategory::NEW,
        names::OPEN => StatusCategory::OPEN,
        names::PENDING => StatusCategory::PENDING,
        names::SOLVED => StatusCategory::SOLVED,
        names::CLOSED => StatusCategory::CLOSED,
        _ => StatusCategory::UNKNOWN,
    };
    TicketState {
        category,
        merged: false,
        deleted: false,
    }
}
