//! Zendesk's JSON, read leniently.
//!
//! Zendesk adds fields over time and many fields are `null`, so nothing here denies unknown
//! fields, every field is optional, and a field of an unexpected type becomes `None` instead of
//! failing the whole response. Only the envelope keys (`ticket`, `results`, ...) are required.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// `{"ticket": {...}}` from `GET`/`PUT /api/v2/tickets/{id}`. The ticket is kept as JSON so that
/// `raw_json` carries exactly what Zendesk sent.
#[derive(Debug, Deserialize)]
pub struct TicketEnvelope {
    /// The ticket object.
    pub ticket: Value,
}

/// `{"tickets": [...]}` from `GET /api/v2/tickets/show_many?ids=...`; missing ids are simply
/// absent.
#[derive(Debug, Deserialize)]
pub struct TicketsEnvelope {
    /// The ticket objects found.
    #[serde(deserialize_with = "lenient_values")]
    pub tickets: Vec<Value>,
}

/// `{"job_status": {...}}` from `PUT /api/v2/tickets/update_many` and
/// `GET /api/v2/job_statuses/{id}`.
#[derive(Debug, Deserialize)]
pub struct JobStatusEnvelope {
    /// The job.
    pub job_status: JobStatus,
}

/// An asynchronous job (bulk and batch writes).
#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
pub struct JobStatus {
    /// The job id, a string such as `V3-...`.
    #[serde(default, deserialize_with = "lenient_string")]
    pub id: Option<String>,
    /// `queued`, `working`, `completed`, `failed`, `killed`; other values are possible.
    #[serde(default, deserialize_with = "lenient_string")]
    pub status: Option<String>,
    /// Zendesk's message, e.g. `Completed at 2023-09-18 23:25:42 +0000`.
    #[serde(default, deserialize_with = "lenient_string")]
    pub message: Option<String>,
    /// Per-item results; an array for updates, but other shapes occur, so kept as JSON.
    #[serde(default)]
    pub results: Value,
}

/// The ticket fields the adapter maps. Parsed from the ticket's JSON with [`ZTicket::from_json`].
#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
pub struct ZTicket {
    /// 64-bit ticket id.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub id: Option<u64>,
    /// Subject; may be null.
    #[serde(default, deserialize_with = "lenient_string")]
    pub subject: Option<String>,
    /// Text of the first comment.
    #[serde(default, deserialize_with = "lenient_string")]
    pub description: Option<String>,
    /// `new`, `open`, ... or values the adapter does not know (`deleted`).
    #[serde(default, deserialize_with = "lenient_string")]
    pub status: Option<String>,
    /// `low`, `normal`, `high`, `urgent` or null.
    #[serde(default, deserialize_with = "lenient_string")]
    pub priority: Option<String>,
    /// The group (queue) id.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub group_id: Option<u64>,
    /// The requester's user id.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub requester_id: Option<u64>,
    /// Tags.
    #[serde(default, deserialize_with = "lenient_strings")]
    pub tags: Vec<String>,
    /// Custom field values.
    #[serde(default, deserialize_with = "lenient_custom_fields")]
    pub custom_fields: Vec<ZCustomField>,
    /// ISO-8601 creation time.
    #[serde(default, deserialize_with = "lenient_string")]
    pub created_at: Option<String>,
    /// ISO-8601 time of the last ticket event; the `updated_stamp` for safe updates.
    #[serde(default, deserialize_with = "lenient_string")]
    pub updated_at: Option<String>,
    /// In search results: `ticket`, `user`, ...
    #[serde(default, deserialize_with = "lenient_string")]
    pub result_type: Option<String>,
}

impl ZTicket {
    /// Reads the mapped fields of a ticket object; `None` if `value` is not an object.
    pub fn from_json(value: &Value) -> Option<ZTicket> {
        if !value.is_object() {
            return None;
        }
        ZTicket::deserialize(value).ok()
    }
}

/// One `{"id": ..., "value": ...}` of `custom_fields`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ZCustomField {
    /// The field id.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub id: Option<u64>,
    /// The value, whatever its JSON type.
    #[serde(default)]
    pub value: Value,
}

/// One page of `GET /api/v2/search` (offset pagination).
#[derive(Debug, Deserialize)]
pub struct SearchPage {
    /// Results of any type; tickets carry `result_type: "ticket"`.
    #[serde(deserialize_with = "lenient_values")]
    pub results: Vec<Value>,
    /// URL of the next page, null on the last one.
    #[serde(default, deserialize_with = "lenient_string")]
    pub next_page: Option<String>,
    /// Total number of matches (can exceed the 1,000 Zendesk returns).
    #[serde(default, deserialize_with = "lenient_u64")]
    pub count: Option<u64>,
}

/// Cursor-pagination metadata (`meta`).
#[derive(Debug, Default, Deserialize)]
pub struct CursorMeta {
    /// Whether another page follows; the stop condition (`links.next` is never null).
    #[serde(default, deserialize_with = "lenient_bool")]
    pub has_more: Option<bool>,
    /// The cursor for `page[after]`.
    #[serde(default, deserialize_with = "lenient_string")]
    pub after_cursor: Option<String>,
}

/// One page of `GET /api/v2/search/export` (cursor pagination).
#[derive(Debug, Deserialize)]
pub struct ExportPage {
    /// The matching records.
    #[serde(deserialize_with = "lenient_values")]
    pub results: Vec<Value>,
    /// Cursor metadata.
    #[serde(default)]
    pub meta: Option<CursorMeta>,
}

/// One group.
#[derive(Debug, Clone, Deserialize)]
pub struct ZGroup {
    /// Group id.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub id: Option<u64>,
    /// Group name as agents see it.
    #[serde(default, deserialize_with = "lenient_string")]
    pub name: Option<String>,
    /// Deleted groups still appear in some listings; they cannot take tickets.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub deleted: Option<bool>,
}

/// One page of `GET /api/v2/groups`.
#[derive(Debug, Deserialize)]
pub struct GroupsPage {
    /// The groups.
    #[serde(deserialize_with = "lenient_groups")]
    pub groups: Vec<ZGroup>,
    /// Present with cursor pagination.
    #[serde(default)]
    pub meta: Option<CursorMeta>,
    /// Present with offset pagination.
    #[serde(default, deserialize_with = "lenient_string")]
    pub next_page: Option<String>,
}

/// `{"user": {...}}` from `GET /api/v2/users/me`.
#[derive(Debug, Deserialize)]
pub struct UserEnvelope {
    /// The user.
    pub user: ZUser,
}

/// The authenticated user. Zendesk answers an unauthenticated `users/me` with an anonymous user
/// whose `id` is null.
#[derive(Debug, Deserialize)]
pub struct ZUser {
    /// User id; null for the anonymous user.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub id: Option<u64>,
    /// Display name.
    #[serde(default, deserialize_with = "lenient_string")]
    pub name: Option<String>,
    /// E-mail address.
    #[serde(default, deserialize_with = "lenient_string")]
    pub email: Option<String>,
    /// `end-user`, `agent` or `admin`.
    #[serde(default, deserialize_with = "lenient_string")]
    pub role: Option<String>,
}

fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Bool(b) => Some(b),
        _ => None,
    })
}

fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

fn lenient_strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    })
}

fn lenient_values<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Value>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items,
        _ => Vec::new(),
    })
}

fn lenient_custom_fields<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<ZCustomField>, D::Error> {
    Ok(lenient_values(d)?
        .into_iter()
        .filter_map(|v| ZCustomField::deserialize(v).ok())
        .collect())
}

fn lenient_groups<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<ZGroup>, D::Error> {
    Ok(lenient_values(d)?
        .into_iter()
        .filter_map(|v| ZGroup::deserialize(v).ok())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_the_recorded_ticket_fixture() {
        // Recorded by go-zendesk (MIT), see tests/fixtures/zendesk/README.md.
        let text = include_str!("../../../tests/fixtures/zendesk/GET/ticket.json");
        let env: TicketEnvelope = serde_json::from_str(text).unwrap();
        let t = ZTicket::from_json(&env.ticket).unwrap();
        assert_eq!(t.id, Some(2));
        assert_eq!(t.status.as_deref(), Some("solved"));
        assert_eq!(t.priority, None);
        assert_eq!(t.group_id, Some(360004077472));
        assert_eq!(t.requester_id, Some(377922500012));
        assert_eq!(t.updated_at.as_deref(), Some("2019-06-05T01:13:24Z"));
    }

    #[test]
    fn odd_types_become_none_instead_of_failing() {
        let t = ZTicket::from_json(&json!({
            "id": "33144692244499", "subject": null, "tags": ["a", 1, "b"],
            "group_id": "x", "custom_fields": [{"id": 5, "value": true}, "junk"],
            "new_field_from_2030": {"x": 1}
        }))
        .unwrap();
        assert_eq!(t.id, Some(33144692244499));
        assert_eq!(t.subject, None);
        assert_eq!(t.tags, vec!["a", "b"]);
        assert_eq!(t.group_id, None);
        assert_eq!(
            t.custom_fields,
            vec![ZCustomField {
                id: Some(5),
                value: json!(true)
            }]
        );
    }
}
