//! Copies between otai's native types ([`crate::ticket`], [`crate::Error`]) and the plugin
//! interface's `R*` types, both directions: the host uses one half, the SDK's plugin glue the
//! other, so each conversion is written once.
//!
//! Conversions that cannot fail return the value. Those that read JSON text (custom-field values,
//! a ticket's raw JSON, system fields) check it and return a sentence naming the first violation
//! (the ticket and field, never the value: it is ticket data of unknown size); the caller turns it
//! into an `invalid_response` (host) or `validation` (plugin) error.

use std::time::Duration;

use otai_plugin_api::{
    self as ffi,
    abi_stable::std_types::{ROption, RResult, RString, RVec},
};
use serde_json::Value;

use crate::{
    error::{Error, ErrorKind},
    ticket::{
        BatchOutcome, BatchUpdate, CustomField, ExportPage, ExportRequest, Note, Person, Queue,
        RequestStats, SearchQuery, StatusCategory, Ticket, TicketPage, TicketState, TicketUpdate,
    },
    webhook::{WebhookEvent, WebhookRequest},
};

fn opt(s: ROption<RString>) -> Option<String> {
    s.into_option().map(RString::into_string)
}

fn strings(v: RVec<RString>) -> Vec<String> {
    v.into_iter().map(RString::into_string).collect()
}

fn ropt_of(s: &Option<String>) -> ROption<RString> {
    s.as_deref().map(RString::from).into()
}

fn rvec_of(v: &[String]) -> RVec<RString> {
    v.iter().map(|s| RString::from(s.as_str())).collect()
}

fn json_text(value: &Value) -> RString {
    RString::from(value.to_string())
}

// ---- queries, updates, notes: host -> plugin ----

/// A query as the interface carries it.
pub fn search_query_to_ffi(q: &SearchQuery) -> ffi::SearchQuery {
    ffi::SearchQuery {
        statuses: rvec_of(&q.statuses),
        queue: ropt_of(&q.queue),
        tags_all: rvec_of(&q.tags_all),
        tags_none: rvec_of(&q.tags_none),
        updated_since: ropt_of(&q.updated_since),
        limit: q.limit.into(),
        system_query: ropt_of(&q.system_query),
    }
}

/// A query from the interface.
pub fn search_query_from_ffi(q: ffi::SearchQuery) -> SearchQuery {
    SearchQuery {
        statuses: strings(q.statuses),
        queue: opt(q.queue),
        tags_all: strings(q.tags_all),
        tags_none: strings(q.tags_none),
        updated_since: opt(q.updated_since),
        limit: q.limit.into_option(),
        system_query: opt(q.system_query),
    }
}

fn queue_to_ffi(q: &Queue) -> ffi::QueueRef {
    ffi::QueueRef {
        id: ropt_of(&q.id),
        name: ropt_of(&q.name),
    }
}

fn queue_from_ffi(q: ffi::QueueRef) -> Queue {
    Queue {
        id: opt(q.id),
        name: opt(q.name),
    }
}

/// A note as the interface carries it.
pub fn note_to_ffi(n: &Note) -> ffi::Note {
    ffi::Note {
        body: RString::from(n.body.as_str()),
        html: n.html,
        public: n.public,
    }
}

/// A note from the interface.
pub fn note_from_ffi(n: ffi::Note) -> Note {
    Note {
        body: n.body.into_string(),
        html: n.html,
        public: n.public,
    }
}

fn custom_field_to_ffi(f: &CustomField) -> ffi::CustomFieldValue {
    ffi::CustomFieldValue {
        id: RString::from(f.id.as_str()),
        value_json: json_text(&f.value),
    }
}

/// Checks and converts custom fields; `owner` names what they belong to in messages.
fn custom_fields_from_ffi(
    fields: RVec<ffi::CustomFieldValue>,
    owner: &str,
) -> Result<Vec<CustomField>, String> {
    fields
        .into_iter()
        .map(|f| {
            let id = f.id.into_string();
            if id.trim().is_empty() {
                return Err(format!("{owner} has a custom field with an empty id"));
            }
            let value = serde_json::from_str(&f.value_json)
                .map_err(|e| format!("custom field {id} of {owner} is not valid JSON ({e})"))?;
            Ok(CustomField { id, value })
        })
        .collect()
}

/// An update as the interface carries it (by reference: a batch keeps its updates for the
/// one-by-one fallback).
pub fn update_to_ffi(u: &TicketUpdate) -> ffi::TicketUpdate {
    ffi::TicketUpdate {
        queue: u.queue.as_ref().map(queue_to_ffi).into(),
        priority: ropt_of(&u.priority),
        status: ropt_of(&u.status),
        add_tags: rvec_of(&u.add_tags),
        remove_tags: rvec_of(&u.remove_tags),
        custom_fields: u.custom_fields.iter().map(custom_field_to_ffi).collect(),
        note: u.note.as_ref().map(note_to_ffi).into(),
        if_unchanged_since: ropt_of(&u.if_unchanged_since),
        system_fields_json: u.system_fields.as_ref().map(json_text).into(),
    }
}

/// Checks and converts an update for ticket `id`.
pub fn update_from_ffi(u: ffi::TicketUpdate, id: &str) -> Result<TicketUpdate, String> {
    let owner = format!("the update of ticket {id}");
    let system_fields = match u.system_fields_json.into_option() {
        None => None,
        Some(text) => Some(
            serde_json::from_str(&text)
                .map_err(|e| format!("the system fields of {owner} are not valid JSON ({e})"))?,
        ),
    };
    Ok(TicketUpdate {
        queue: u.queue.into_option().map(queue_from_ffi),
        priority: opt(u.priority),
        status: opt(u.status),
        add_tags: strings(u.add_tags),
        remove_tags: strings(u.remove_tags),
        custom_fields: custom_fields_from_ffi(u.custom_fields, &owner)?,
        note: u.note.into_option().map(note_from_ffi),
        if_unchanged_since: opt(u.if_unchanged_since),
        system_fields,
    })
}

/// A batch as the interface carries it (the caller keeps its items).
pub fn batch_to_ffi(items: &[BatchUpdate]) -> RVec<ffi::BatchUpdate> {
    items
        .iter()
        .map(|item| ffi::BatchUpdate {
            id: RString::from(item.id.as_str()),
            update: update_to_ffi(&item.update),
            current_tags: item.current_tags.as_deref().map(rvec_of).into(),
        })
        .collect()
}

/// Checks and converts a batch.
pub fn batch_from_ffi(items: RVec<ffi::BatchUpdate>) -> Result<Vec<BatchUpdate>, String> {
    items
        .into_iter()
        .map(|item| {
            let id = item.id.into_string();
            Ok(BatchUpdate {
                update: update_from_ffi(item.update, &id)?,
                current_tags: item.current_tags.into_option().map(strings),
                id,
            })
        })
        .collect()
}

/// An export request as the interface carries it.
pub fn export_request_to_ffi(r: &ExportRequest) -> ffi::ExportRequest {
    ffi::ExportRequest {
        start_time: ropt_of(&r.start_time),
        cursor: ropt_of(&r.cursor),
    }
}

/// An export request from the interface.
pub fn export_request_from_ffi(r: ffi::ExportRequest) -> ExportRequest {
    ExportRequest {
        start_time: opt(r.start_time),
        cursor: opt(r.cursor),
    }
}

// ---- tickets, pages, outcomes, counters, states: plugin -> host ----

/// A ticket as the interface carries it (its `state` travels separately, through
/// `ticket_state`).
pub fn ticket_to_ffi(t: &Ticket) -> ffi::Ticket {
    ffi::Ticket {
        id: RString::from(t.id.as_str()),
        subject: RString::from(t.subject.as_str()),
        body: RString::from(t.body.as_str()),
        status: RString::from(t.status.as_str()),
        priority: ropt_of(&t.priority),
        queue: t.queue.as_ref().map(queue_to_ffi).into(),
        tags: rvec_of(&t.tags),
        custom_fields: t.custom_fields.iter().map(custom_field_to_ffi).collect(),
        requester: t
            .requester
            .as_ref()
            .map(|p| ffi::Person {
                id: RString::from(p.id.as_str()),
                name: ropt_of(&p.name),
                email: ropt_of(&p.email),
            })
            .into(),
        created_at: ropt_of(&t.created_at),
        updated_at: ropt_of(&t.updated_at),
        raw_json: if t.raw.is_null() {
            RString::new()
        } else {
            json_text(&t.raw)
        },
    }
}

/// Checks and converts a ticket from a plugin: a non-empty id, JSON that is JSON. Its `state` is
/// left at the default; the host asks the plugin's `ticket_state` for it.
pub fn ticket_from_ffi(t: ffi::Ticket) -> Result<Ticket, String> {
    let id = t.id.into_string();
    if id.trim().is_empty() {
        return Err("a ticket has an empty id".into());
    }
    let custom_fields = custom_fields_from_ffi(t.custom_fields, &format!("ticket {id}"))?;
    let raw = if t.raw_json.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&t.raw_json)
            .map_err(|e| format!("the raw JSON of ticket {id} is not valid JSON ({e})"))?
    };
    Ok(Ticket {
        subject: t.subject.into_string(),
        body: t.body.into_string(),
        status: t.status.into_string(),
        priority: opt(t.priority),
        queue: t.queue.into_option().map(queue_from_ffi),
        tags: strings(t.tags),
        custom_fields,
        requester: t.requester.into_option().map(|p| Person {
            id: p.id.into_string(),
            name: opt(p.name),
            email: opt(p.email),
        }),
        created_at: opt(t.created_at),
        updated_at: opt(t.updated_at),
        raw,
        state: TicketState::default(),
        id,
    })
}

/// An export page as the interface carries it.
pub fn export_page_to_ffi(p: &ExportPage) -> ffi::ExportPage {
    ffi::ExportPage {
        tickets: p.tickets.iter().map(ticket_to_ffi).collect(),
        cursor: ropt_of(&p.cursor),
        end_of_stream: p.end_of_stream,
    }
}

/// Checks and converts an export page: every ticket as [`ticket_from_ffi`] checks it.
pub fn export_page_from_ffi(p: ffi::ExportPage) -> Result<ExportPage, String> {
    Ok(ExportPage {
        tickets: tickets_from_ffi(p.tickets)?,
        cursor: opt(p.cursor),
        end_of_stream: p.end_of_stream,
    })
}

/// A search page as the interface carries it.
pub fn ticket_page_to_ffi(p: &TicketPage) -> ffi::TicketPage {
    ffi::TicketPage {
        tickets: p.tickets.iter().map(ticket_to_ffi).collect(),
        cursor: ropt_of(&p.cursor),
    }
}

/// Checks and converts a search page: every ticket as [`ticket_from_ffi`] checks it.
pub fn ticket_page_from_ffi(p: ffi::TicketPage) -> Result<TicketPage, String> {
    Ok(TicketPage {
        tickets: tickets_from_ffi(p.tickets)?,
        cursor: opt(p.cursor),
    })
}

/// Every ticket of a page, each checked by [`ticket_from_ffi`]; the first bad one is the error.
fn tickets_from_ffi(tickets: RVec<ffi::Ticket>) -> Result<Vec<Ticket>, String> {
    tickets.into_iter().map(ticket_from_ffi).collect()
}

/// Batch outcomes as the interface carries them.
pub fn outcomes_to_ffi(outcomes: &[BatchOutcome]) -> RVec<ffi::BatchOutcome> {
    outcomes
        .iter()
        .map(|o| ffi::BatchOutcome {
            id: RString::from(o.id.as_str()),
            result: match &o.result {
                Ok(()) => RResult::ROk(()),
                Err(e) => RResult::RErr(error_to_ffi(e)),
            },
        })
        .collect()
}

/// Request counters as the interface carries them.
pub fn request_stats_to_ffi(s: RequestStats) -> ffi::RequestStats {
    ffi::RequestStats {
        requests: s.requests,
        retries: s.retries,
        rate_limited: s.rate_limited,
    }
}

/// Request counters from the interface.
pub fn request_stats_from_ffi(s: ffi::RequestStats) -> RequestStats {
    RequestStats {
        requests: s.requests,
        retries: s.retries,
        rate_limited: s.rate_limited,
    }
}

/// A ticket state as the interface carries it.
pub fn state_to_ffi(s: TicketState) -> ffi::TicketState {
    let category = match s.category {
        StatusCategory::New => ffi::StatusCategory::NEW,
        StatusCategory::Open => ffi::StatusCategory::OPEN,
        StatusCategory::Pending => ffi::StatusCategory::PENDING,
        StatusCategory::Solved => ffi::StatusCategory::SOLVED,
        StatusCategory::Closed => ffi::StatusCategory::CLOSED,
        StatusCategory::Unknown => ffi::StatusCategory::UNKNOWN,
    };
    ffi::TicketState {
        category,
        merged: s.merged,
        deleted: s.deleted,
    }
}

/// A ticket state from the interface; a category code this side does not know is `Unknown`.
pub fn state_from_ffi(s: ffi::TicketState) -> TicketState {
    let category = match s.category {
        ffi::StatusCategory::NEW => StatusCategory::New,
        ffi::StatusCategory::OPEN => StatusCategory::Open,
        ffi::StatusCategory::PENDING => StatusCategory::Pending,
        ffi::StatusCategory::SOLVED => StatusCategory::Solved,
        ffi::StatusCategory::CLOSED => StatusCategory::Closed,
        _ => StatusCategory::Unknown,
    };
    TicketState {
        category,
        merged: s.merged,
        deleted: s.deleted,
    }
}

// ---- errors, both ways ----

/// An error kind from the interface; an unknown code is kept.
pub fn kind_from_ffi(kind: ffi::ErrorKind) -> ErrorKind {
    match kind {
        ffi::ErrorKind::CONFIG => ErrorKind::Config,
        ffi::ErrorKind::AUTH => ErrorKind::Auth,
        ffi::ErrorKind::FORBIDDEN => ErrorKind::Forbidden,
        ffi::ErrorKind::NOT_FOUND => ErrorKind::NotFound,
        ffi::ErrorKind::RATE_LIMITED => ErrorKind::RateLimited,
        ffi::ErrorKind::CONFLICT => ErrorKind::Conflict,
        ffi::ErrorKind::VALIDATION => ErrorKind::Validation,
        ffi::ErrorKind::TRANSPORT => ErrorKind::Transport,
        ffi::ErrorKind::TIMEOUT => ErrorKind::Timeout,
        ffi::ErrorKind::INVALID_RESPONSE => ErrorKind::InvalidResponse,
        ffi::ErrorKind::PANICKED => ErrorKind::Panicked,
        ffi::ErrorKind::UNSUPPORTED => ErrorKind::Unsupported,
        ffi::ErrorKind(code) => ErrorKind::Unknown(code),
    }
}

/// An error kind as the interface carries it.
pub fn kind_to_ffi(kind: ErrorKind) -> ffi::ErrorKind {
    match kind {
        ErrorKind::Config => ffi::ErrorKind::CONFIG,
        ErrorKind::Auth => ffi::ErrorKind::AUTH,
        ErrorKind::Forbidden => ffi::ErrorKind::FORBIDDEN,
        ErrorKind::NotFound => ffi::ErrorKind::NOT_FOUND,
        ErrorKind::RateLimited => ffi::ErrorKind::RATE_LIMITED,
        ErrorKind::Conflict => ffi::ErrorKind::CONFLICT,
        ErrorKind::Validation => ffi::ErrorKind::VALIDATION,
        ErrorKind::Transport => ffi::ErrorKind::TRANSPORT,
        ErrorKind::Timeout => ffi::ErrorKind::TIMEOUT,
        ErrorKind::InvalidResponse => ffi::ErrorKind::INVALID_RESPONSE,
        ErrorKind::Panicked => ffi::ErrorKind::PANICKED,
        ErrorKind::Unsupported => ffi::ErrorKind::UNSUPPORTED,
        ErrorKind::Unknown(code) => ffi::ErrorKind(code),
    }
}

/// An error as the interface carries it.
pub fn error_to_ffi(e: &Error) -> ffi::PluginError {
    ffi::PluginError {
        kind: kind_to_ffi(e.kind),
        message: RString::from(e.message.as_str()),
        http_status: e.http_status.into(),
        request_id: ropt_of(&e.request_id),
        retry_after_ms: e
            .retry_after
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .into(),
    }
}

/// A webhook delivery for the interface (host side).
pub fn webhook_request_to_ffi(r: &WebhookRequest) -> ffi::WebhookRequest {
    ffi::WebhookRequest {
        headers: r
            .headers
            .iter()
            .map(|(name, value)| ffi::WebhookHeader {
                name: RString::from(name.as_str()),
                value: RString::from(value.as_str()),
            })
            .collect(),
        body: RVec::from(r.body.clone()),
        received_at: r.received_at,
    }
}

/// A webhook delivery from the interface (plugin side).
pub fn webhook_request_from_ffi(r: ffi::WebhookRequest) -> WebhookRequest {
    WebhookRequest {
        headers: r
            .headers
            .into_iter()
            .map(|h| (h.name.into_string(), h.value.into_string()))
            .collect(),
        body: r.body.into_vec(),
        received_at: r.received_at,
    }
}

/// What a delivery is about, for the interface (plugin side).
pub fn webhook_event_to_ffi(e: &WebhookEvent) -> ffi::WebhookEvent {
    ffi::WebhookEvent {
        ticket_ids: rvec_of(&e.ticket_ids),
        delivery_id: ropt_of(&e.delivery_id),
    }
}

/// What a delivery is about, from the interface (host side). Ids must be non-empty.
pub fn webhook_event_from_ffi(e: ffi::WebhookEvent) -> Result<WebhookEvent, String> {
    let ticket_ids = strings(e.ticket_ids);
    if ticket_ids.iter().any(|id| id.trim().is_empty()) {
        return Err("a webhook event names an empty ticket id".into());
    }
    Ok(WebhookEvent {
        ticket_ids,
        delivery_id: opt(e.delivery_id),
    })
}

/// An error from the interface.
pub fn error_from_ffi(e: ffi::PluginError) -> Error {
    Error {
        kind: kind_from_ffi(e.kind),
        message: e.message.into_string(),
        http_status: e.http_status.into_option(),
        request_id: opt(e.request_id),
        retry_after: e.retry_after_ms.into_option().map(Duration::from_millis),
    }
}
