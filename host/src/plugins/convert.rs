//! Conversions between the plugin interface's `R*` types and the host's own ticket types.
//!
//! Outgoing conversions cannot fail. Incoming ones check what the host relies on (non-empty ids,
//! JSON that is JSON) and return a sentence describing the first violation; the caller turns it
//! into an `INVALID_RESPONSE` error naming the plugin.

use abi_stable::std_types::{ROption, RString, RVec};
use otai_plugin_api as ffi;
use serde_json::Value;

use crate::ticket::{
    BatchUpdate, CustomField, ErrorKind, ExportPage, ExportRequest, Note, Person, Queue,
    RequestStats, SearchQuery, Ticket, TicketSystemError, TicketUpdate,
};

fn rstr(s: String) -> RString {
    RString::from(s)
}

fn ropt(s: Option<String>) -> ROption<RString> {
    s.map(RString::from).into()
}

fn rvec(v: Vec<String>) -> RVec<RString> {
    v.into_iter().map(RString::from).collect()
}

fn opt(s: ROption<RString>) -> Option<String> {
    s.into_option().map(RString::into_string)
}

pub(crate) fn search_query_to_ffi(q: SearchQuery) -> ffi::SearchQuery {
    ffi::SearchQuery {
        statuses: rvec(q.statuses),
        queue: ropt(q.queue),
        tags_all: rvec(q.tags_all),
        tags_none: rvec(q.tags_none),
        updated_since: ropt(q.updated_since),
        limit: q.limit.into(),
        system_query: ropt(q.system_query),
    }
}

/// `s` copied into an `ROption<RString>`.
fn ropt_of(s: &Option<String>) -> ROption<RString> {
    s.as_deref().map(RString::from).into()
}

/// `v` copied into an `RVec<RString>`.
fn rvec_of(v: &[String]) -> RVec<RString> {
    v.iter().map(|s| RString::from(s.as_str())).collect()
}

fn queue_to_ffi(q: &Queue) -> ffi::QueueRef {
    ffi::QueueRef {
        id: ropt_of(&q.id),
        name: ropt_of(&q.name),
    }
}

pub(crate) fn note_to_ffi(n: Note) -> ffi::Note {
    ffi::Note {
        body: rstr(n.body),
        html: n.html,
        public: n.public,
    }
}

fn custom_field_to_ffi(f: &CustomField) -> ffi::CustomFieldValue {
    ffi::CustomFieldValue {
        id: RString::from(f.id.as_str()),
        value_json: rstr(f.value.to_string()),
    }
}

/// Copies `u` into the interface's types (by reference: a batch keeps its updates for the
/// one-by-one fallback).
pub(crate) fn update_to_ffi(u: &TicketUpdate) -> ffi::TicketUpdate {
    ffi::TicketUpdate {
        queue: u.queue.as_ref().map(queue_to_ffi).into(),
        priority: ropt_of(&u.priority),
        status: ropt_of(&u.status),
        add_tags: rvec_of(&u.add_tags),
        remove_tags: rvec_of(&u.remove_tags),
        custom_fields: u.custom_fields.iter().map(custom_field_to_ffi).collect(),
        note: u.note.clone().map(note_to_ffi).into(),
        if_unchanged_since: ropt_of(&u.if_unchanged_since),
        system_fields_json: u.system_fields.as_ref().map(|v| rstr(v.to_string())).into(),
    }
}

/// Copies `items` into the interface's types; the caller keeps them (for the one-by-one
/// fallback when the plugin has no batch writes).
pub(crate) fn batch_to_ffi(items: &[BatchUpdate]) -> RVec<ffi::BatchUpdate> {
    items
        .iter()
        .map(|item| ffi::BatchUpdate {
            id: RString::from(item.id.as_str()),
            update: update_to_ffi(&item.update),
            current_tags: item.current_tags.as_deref().map(rvec_of).into(),
        })
        .collect()
}

pub(crate) fn export_request_to_ffi(r: ExportRequest) -> ffi::ExportRequest {
    ffi::ExportRequest {
        start_time: ropt(r.start_time),
        cursor: ropt(r.cursor),
    }
}

/// Checks and converts an export page: every ticket as [`ticket_from_ffi`] checks it.
pub(crate) fn export_page_from_ffi(p: ffi::ExportPage) -> Result<ExportPage, String> {
    Ok(ExportPage {
        tickets: p
            .tickets
            .into_iter()
            .map(ticket_from_ffi)
            .collect::<Result<Vec<_>, _>>()?,
        cursor: opt(p.cursor),
        end_of_stream: p.end_of_stream,
    })
}

pub(crate) fn request_stats_from_ffi(s: ffi::RequestStats) -> RequestStats {
    RequestStats {
        requests: s.requests,
        retries: s.retries,
        rate_limited: s.rate_limited,
    }
}

/// Checks and converts a ticket from a plugin.
pub(crate) fn ticket_from_ffi(t: ffi::Ticket) -> Result<Ticket, String> {
    let id = t.id.into_string();
    if id.trim().is_empty() {
        return Err("a ticket has an empty id".into());
    }
    let custom_fields = t
        .custom_fields
        .into_iter()
        .map(|f| {
            let field_id = f.id.into_string();
            if field_id.trim().is_empty() {
                return Err(format!("ticket {id} has a custom field with an empty id"));
            }
            // The value itself is not quoted in the message: it is ticket data of unknown size.
            let value = serde_json::from_str(&f.value_json).map_err(|e| {
                format!("custom field {field_id} of ticket {id} is not valid JSON ({e})")
            })?;
            Ok(CustomField {
                id: field_id,
                value,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
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
        queue: t.queue.into_option().map(|q| Queue {
            id: opt(q.id),
            name: opt(q.name),
        }),
        tags: t.tags.into_iter().map(RString::into_string).collect(),
        custom_fields,
        requester: t.requester.into_option().map(|p| Person {
            id: p.id.into_string(),
            name: opt(p.name),
            email: opt(p.email),
        }),
        created_at: opt(t.created_at),
        updated_at: opt(t.updated_at),
        raw,
        id,
    })
}

fn kind_from_ffi(kind: ffi::ErrorKind) -> ErrorKind {
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

pub(crate) fn error_from_ffi(system: &str, e: ffi::PluginError) -> TicketSystemError {
    TicketSystemError {
        system: system.to_string(),
        kind: kind_from_ffi(e.kind),
        message: e.message.into_string(),
        http_status: e.http_status.into_option(),
        request_id: opt(e.request_id),
        retry_after: e
            .retry_after_ms
            .into_option()
            .map(std::time::Duration::from_millis),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ffi_ticket(id: &str) -> ffi::Ticket {
        ffi::Ticket {
            id: id.into(),
            status: "open".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_good_ticket_converts() {
        let mut t = ffi_ticket("42");
        t.custom_fields.push(ffi::CustomFieldValue {
            id: "7".into(),
            value_json: "[\"a\",1]".into(),
        });
        t.raw_json = "{\"id\":42}".into();
        let ticket = ticket_from_ffi(t).unwrap();
        assert_eq!(ticket.id, "42");
        assert_eq!(ticket.custom_fields[0].value, serde_json::json!(["a", 1]));
        assert_eq!(ticket.raw["id"], 42);
    }

    #[test]
    fn empty_id_and_bad_json_are_rejected() {
        assert!(ticket_from_ffi(ffi_ticket(" "))
            .unwrap_err()
            .contains("empty id"));
        let mut t = ffi_ticket("42");
        t.custom_fields.push(ffi::CustomFieldValue {
            id: "7".into(),
            value_json: "not json".into(),
        });
        assert!(ticket_from_ffi(t)
            .unwrap_err()
            .contains("custom field 7 of ticket 42"));
    }

    #[test]
    fn update_values_travel_as_json_text() {
        let update = TicketUpdate {
            custom_fields: vec![CustomField {
                id: "7".into(),
                value: Value::String("x".into()),
            }],
            system_fields: Some(serde_json::json!({"type": "incident"})),
            ..Default::default()
        };
        let ffi = update_to_ffi(&update);
        assert_eq!(ffi.custom_fields[0].value_json.as_str(), "\"x\"");
        assert_eq!(
            ffi.system_fields_json.unwrap().as_str(),
            "{\"type\":\"incident\"}"
        );
    }

    #[test]
    fn batch_items_keep_ids_tags_and_stamps() {
        let items = batch_to_ffi(&[BatchUpdate {
            id: "7".into(),
            update: TicketUpdate {
                if_unchanged_since: Some("2024-05-02T10:00:00Z".into()),
                ..Default::default()
            },
            current_tags: Some(vec!["a".into()]),
        }]);
        assert_eq!(items[0].id.as_str(), "7");
        assert_eq!(items[0].current_tags.as_ref().unwrap()[0].as_str(), "a");
        assert!(items[0].update.if_unchanged_since.is_some());
    }

    #[test]
    fn export_pages_convert_both_ways() {
        let req = export_request_to_ffi(ExportRequest {
            start_time: None,
            cursor: Some("c1".into()),
        });
        assert_eq!(req.cursor.unwrap().as_str(), "c1");
        assert!(req.start_time.is_none());
        let page = export_page_from_ffi(ffi::ExportPage {
            tickets: vec![ffi_ticket("1"), ffi_ticket("2")].into(),
            cursor: ROption::RSome("c2".into()),
            end_of_stream: true,
        })
        .unwrap();
        assert_eq!(page.tickets.len(), 2);
        assert_eq!(page.cursor.as_deref(), Some("c2"));
        assert!(page.end_of_stream);
        let bad = ffi::ExportPage {
            tickets: vec![ffi_ticket("")].into(),
            ..Default::default()
        };
        assert!(export_page_from_ffi(bad).unwrap_err().contains("empty id"));
    }

    #[test]
    fn unknown_error_kinds_keep_their_code() {
        let err = error_from_ffi(
            "z",
            ffi::PluginError::new(ffi::ErrorKind(99), "odd").with_retry_after_ms(1500),
        );
        assert_eq!(err.kind, ErrorKind::Unknown(99));
        assert_eq!(
            err.retry_after,
            Some(std::time::Duration::from_millis(1500))
        );
    }
}
