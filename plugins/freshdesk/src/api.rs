//! Freshdesk's JSON, read leniently: missing or `null` fields take their defaults, so an answer
//! from an account with other features on (or an older API version) still reads.

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// `null` reads as the type's default (Freshdesk sends `"tags": null` on some tickets).
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A ticket as `GET /tickets`, `GET /tickets/{id}`, search and `PUT` answer it.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct FdTicket {
    /// The ticket's id.
    pub id: u64,
    /// Subject.
    #[serde(default, deserialize_with = "null_as_default")]
    pub subject: String,
    /// The first message, HTML (only with `include=description` on the list).
    #[serde(default)]
    pub description: Option<String>,
    /// The first message, plain text.
    #[serde(default)]
    pub description_text: Option<String>,
    /// 2 Open, 3 Pending, 4 Resolved, 5 Closed, 6+ custom.
    #[serde(default, deserialize_with = "null_as_default")]
    pub status: u64,
    /// 1 Low .. 4 Urgent.
    #[serde(default)]
    pub priority: Option<u64>,
    /// The group (otai's queue).
    #[serde(default)]
    pub group_id: Option<u64>,
    /// The agent it is assigned to.
    #[serde(default)]
    pub responder_id: Option<u64>,
    /// The requester (a contact).
    #[serde(default)]
    pub requester_id: Option<u64>,
    /// Tags.
    #[serde(default, deserialize_with = "null_as_default")]
    pub tags: Vec<String>,
    /// Custom fields by name (`cf_...`).
    #[serde(default, deserialize_with = "null_as_default")]
    pub custom_fields: Map<String, Value>,
    /// Creation time (`2026-12-01T10:00:00Z`).
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last change (notes included).
    #[serde(default)]
    pub updated_at: Option<String>,
    /// Marked as spam.
    #[serde(default, deserialize_with = "null_as_default")]
    pub spam: bool,
    /// Deleted (in the trash).
    #[serde(default, deserialize_with = "null_as_default")]
    pub deleted: bool,
    /// The answer as it came.
    #[serde(skip)]
    pub raw: Value,
}

impl FdTicket {
    /// Reads one ticket, keeping its JSON.
    pub fn parse(raw: Value) -> Result<FdTicket, serde_json::Error> {
        let mut t = FdTicket::deserialize(&raw)?;
        t.raw = raw;
        Ok(t)
    }

    /// Reads a list of tickets (a page of the list, a search's `results`).
    pub fn parse_list(raw: Value) -> Result<Vec<FdTicket>, serde_json::Error> {
        match raw {
            Value::Array(items) => items.into_iter().map(FdTicket::parse).collect(),
            other => Err(serde::de::Error::custom(format!(
                "expected a list of tickets, got {}",
                kind(&other)
            ))),
        }
    }

    /// Whether the ticket is otai's "new": Open, in no group, with no agent (Freshdesk has no
    /// status "new").
    pub fn is_new(&self) -> bool {
        self.status == 2 && self.group_id.is_none() && self.responder_id.is_none()
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A search answer: `{"total", "results"}`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct SearchPage {
    /// How many tickets match (all pages).
    #[serde(default, deserialize_with = "null_as_default")]
    pub total: u64,
    /// This page's tickets (without descriptions).
    #[serde(default, deserialize_with = "null_as_default")]
    pub results: Vec<Value>,
}

/// One conversation of a ticket (a reply or a note).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct FdConversation {
    /// Its id.
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: u64,
    /// HTML.
    #[serde(default, deserialize_with = "null_as_default")]
    pub body: String,
    /// Plain text.
    #[serde(default)]
    pub body_text: Option<String>,
    /// A private note.
    #[serde(default, deserialize_with = "null_as_default")]
    pub private: bool,
    /// 0 reply, 2 note, ...
    #[serde(default, deserialize_with = "null_as_default")]
    pub source: u64,
    /// Who wrote it.
    #[serde(default)]
    pub user_id: Option<u64>,
    /// When.
    #[serde(default)]
    pub created_at: Option<String>,
}

/// A group.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct FdGroup {
    /// Its id.
    pub id: u64,
    /// Its name.
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
}

/// The agent the API key belongs to (`GET /agents/me`).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct FdAgent {
    /// The agent's id (a note's `user_id`).
    pub id: u64,
    /// Name and e-mail.
    #[serde(default, deserialize_with = "null_as_default")]
    pub contact: FdContact,
}

/// An agent's contact details.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct FdContact {
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// E-mail.
    #[serde(default)]
    pub email: Option<String>,
}

/// `POST /tickets/bulk_update`'s answer.
#[derive(Clone, Debug, Deserialize)]
pub struct JobStarted {
    /// The background job.
    pub job_id: String,
}

/// `GET /jobs/{id}`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct FdJob {
    /// `IN PROGRESS`, `COMPLETED`, `FAILED` ...
    #[serde(default, deserialize_with = "null_as_default")]
    pub status: String,
    /// Percent done.
    #[serde(default)]
    pub progress: Option<u64>,
}

impl FdJob {
    /// Whether the job will not change anything any more.
    pub fn is_finished(&self) -> bool {
        !matches!(
            self.status.to_ascii_uppercase().as_str(),
            "IN PROGRESS" | "QUEUED" | "IN_PROGRESS" | "PENDING" | ""
        )
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn tickets_read_with_nulls_and_keep_their_json() {
        let raw = json!({"id": 7, "subject": null, "status": 2, "priority": 1, "group_id": null,
                         "responder_id": null, "tags": null, "custom_fields": {"cf_x": 1},
                         "created_at": "2026-12-01T10:00:00Z", "updated_at": "2026-12-01T10:00:00Z",
                         "extra": {"a": 1}});
        let t = FdTicket::parse(raw.clone()).unwrap();
        assert_eq!((t.id, t.subject.as_str(), t.status), (7, "", 2));
        assert!(t.tags.is_empty() && t.is_new());
        assert_eq!(t.raw, raw);
        assert!(FdTicket::parse_list(json!({"tickets": []})).is_err());
        assert!(!FdJob {
            status: "IN PROGRESS".into(),
            progress: None
        }
        .is_finished());
        assert!(FdJob {
            status: "COMPLETED".into(),
            progress: Some(100)
        }
        .is_finished());
    }
}
