//! Seeds: a JSON document (`{"groups": [...], "tickets": [...]}`, or a list of tickets) or JSONL
//! (a ticket per line). Tickets come in two dialects, told apart per ticket:
//!
//! - **Freshdesk-shaped**: `subject`, `description` (text or HTML; `description_text` is derived
//!   by stripping tags), `status` (2..5 or open/pending/resolved/closed), `priority` (1..4 or
//!   low/medium/high/urgent), `group` (a name, created if missing) or `group_id` (a group of the
//!   file's `groups` list, else one of the simulator's), `responder_id`, `requester` (an email;
//!   a contact is created) or `requester_id`, `tags`, `custom_fields` (declared if new), `type`,
//!   `source`, `company_id`, `spam`, `deleted`, `conversations` (`[{body, private, incoming,
//!   source, user_id, created_at}]`), `created_at`, `updated_at`, `due_by`, `fr_due_by`, `id`.
//! - **Zendesk-shaped** (otai's demo help desk `data/demo/helpdesk.json`; told by a `via` key or a
//!   Zendesk-only status `new`/`hold`/`solved` or priority `normal`): `status` new → 2 with **no
//!   group and no agent** (Freshdesk has no "new"), open/hold → 2, pending → 3, solved → 4,
//!   closed → 5; `priority` low/normal/high/urgent → 1/2/3/4 (none: 1); `group_id` through the
//!   file's `groups`, or `group` by name, except the inbox groups `Inbox` and `Unclassified`
//!   (→ no group; the groups themselves are created, as routing targets); `via` email → source 1, phone → 3, chat → 7, else 2 (Portal); `requester`,
//!   `tags`, `id`, `created_at`, `updated_at` kept.

use std::collections::BTreeMap;

use otai_sim_kit::seed::{document_parts, SeedText};
use serde_json::{Map, Value};

use crate::{
    error::SimError,
    stamp::parse_secs,
    store::{NewConversation, NewTicket},
};

/// The Zendesk groups that mean "not yet routed".
pub const INBOX_GROUPS: [&str; 2] = ["Inbox", "Unclassified"];

/// A seed's groups and tickets, before the store resolves names.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SeedData {
    /// Groups to create, in order.
    pub groups: Vec<String>,
    /// Tickets.
    pub tickets: Vec<NewTicket>,
}

impl SeedData {
    /// Reads a seed file.
    pub fn from_file(path: &std::path::Path) -> Result<Self, SimError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| SimError::SeedRead {
            path: origin.clone(),
            source,
        })?;
        Self::from_text(&text).map_err(|message| SimError::Seed { origin, message })
    }

    /// Parses a seed's text (any of the kit's [`SeedText`] forms).
    pub fn from_text(text: &str) -> Result<Self, String> {
        match SeedText::parse(text)? {
            SeedText::Document(doc) => Self::from_document(&doc),
            SeedText::Tickets(tickets) => Self::from_tickets(&tickets),
        }
    }

    fn from_document(doc: &Map<String, Value>) -> Result<Self, String> {
        let parts = document_parts(doc)?;
        let mut seed = Self::tickets_with(parts.tickets, &parts.by_id)?;
        // Every group exists (a pipeline may route to `Unclassified` as its fallback), but a
        // Zendesk ticket in an inbox group is an unrouted Freshdesk ticket: in no group.
        seed.groups = parts.groups;
        Ok(seed)
    }

    /// Tickets in either dialect (the builder's `.tickets(...)` form).
    pub fn from_tickets(tickets: &[Value]) -> Result<Self, String> {
        Self::tickets_with(tickets, &BTreeMap::new())
    }

    fn tickets_with(tickets: &[Value], groups: &BTreeMap<u64, String>) -> Result<Self, String> {
        let mut seed = SeedData::default();
        for (i, t) in tickets.iter().enumerate() {
            let which = || {
                let id = t.get("id").map(|v| format!("id {v}"));
                format!(
                    "ticket {} ({})",
                    i + 1,
                    id.unwrap_or_else(|| "no id".into())
                )
            };
            let Value::Object(m) = t else {
                return Err(format!("{}: not an object", which()));
            };
            let ticket = ticket(m, groups).map_err(|e| format!("{}: {e}", which()))?;
            seed.tickets.push(ticket);
        }
        Ok(seed)
    }
}

fn text(m: &Map<String, Value>, k: &str) -> Option<String> {
    match m.get(k)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn time_of(m: &Map<String, Value>, k: &str) -> Result<Option<i64>, String> {
    text(m, k)
        .map(|s| parse_secs(&s).ok_or_else(|| format!("{k} {s:?} is not a time")))
        .transpose()
}

fn id_of(m: &Map<String, Value>, k: &str) -> Result<Option<u64>, String> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .filter(|i| *i > 0)
            .map(Some)
            .ok_or_else(|| format!("{k} {v} is not a positive integer")),
    }
}

/// Whether a ticket is Zendesk-shaped (the demo help desk).
fn is_zendesk(m: &Map<String, Value>) -> bool {
    m.contains_key("via")
        || matches!(
            text(m, "status").as_deref(),
            Some("new" | "hold" | "solved")
        )
        || text(m, "priority").as_deref() == Some("normal")
}

fn status_of(m: &Map<String, Value>) -> Result<u8, String> {
    Ok(match text(m, "status").as_deref() {
        None | Some("new" | "open" | "hold" | "2") => 2,
        Some("pending" | "3") => 3,
        Some("resolved" | "solved" | "4") => 4,
        Some("closed" | "5") => 5,
        Some(other) => return Err(format!("status {other:?} is not 2..5 or a status name")),
    })
}

fn priority_of(m: &Map<String, Value>) -> Result<u8, String> {
    Ok(match text(m, "priority").as_deref() {
        None | Some("low" | "1") => 1,
        Some("medium" | "normal" | "2") => 2,
        Some("high" | "3") => 3,
        Some("urgent" | "4") => 4,
        Some(other) => return Err(format!("priority {other:?} is not 1..4 or a priority name")),
    })
}

fn source_of(m: &Map<String, Value>, zendesk: bool) -> Result<Option<u8>, String> {
    if zendesk {
        return Ok(Some(match text(m, "via").as_deref() {
            Some("email") => 1,
            Some("phone") => 3,
            Some("chat") => 7,
            _ => 2,
        }));
    }
    Ok(id_of(m, "source")?.map(|s| s as u8))
}

fn conversations(m: &Map<String, Value>) -> Result<Vec<NewConversation>, String> {
    let Some(list) = m.get("conversations") else {
        return Ok(Vec::new());
    };
    let list = list.as_array().ok_or("conversations is not a list")?;
    list.iter()
        .enumerate()
        .map(|(i, c)| {
            let c = c
                .as_object()
                .ok_or_else(|| format!("conversations[{i}] is not an object"))?;
            let flag = |k: &str, d: bool| c.get(k).and_then(Value::as_bool).unwrap_or(d);
            Ok(NewConversation {
                body: text(c, "body").ok_or_else(|| format!("conversations[{i}] has no body"))?,
                private: flag("private", true),
                incoming: flag("incoming", false),
                source: match c.get("source") {
                    None | Some(Value::Null) => 2,
                    Some(v) => {
                        v.as_u64().filter(|s| *s <= 255).ok_or_else(|| {
                            format!("conversations[{i}].source {v} is not a number")
                        })? as u8
                    }
                },
                user_id: id_of(c, "user_id")?,
                created: time_of(c, "created_at")?,
            })
        })
        .collect()
}

fn ticket(m: &Map<String, Value>, groups: &BTreeMap<u64, String>) -> Result<NewTicket, String> {
    let zendesk = is_zendesk(m);
    let unrouted = text(m, "status").as_deref() == Some("new");
    let mut group = text(m, "group");
    let mut group_id = None;
    if let Some(gid) = id_of(m, "group_id")? {
        match groups.get(&gid) {
            Some(name) => group = Some(name.clone()),
            None if zendesk => return Err(format!("group_id {gid} is not in the file's groups")),
            None => group_id = Some(gid),
        }
    }
    if zendesk && group.as_deref().is_some_and(|g| INBOX_GROUPS.contains(&g)) {
        group = None;
    }
    let mut responder_id = id_of(m, "responder_id")?;
    if unrouted {
        (group, group_id, responder_id) = (None, None, None);
    }
    let tags = match m.get("tags") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list
            .iter()
            .map(|t| {
                t.as_str()
                    .map(str::to_string)
                    .ok_or("a tag is not a string")
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("tags is not a list".into()),
    };
    let custom_fields = match m.get("custom_fields") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(o)) => o.clone(),
        Some(_) => return Err("custom_fields is not an object".into()),
    };
    let requester = text(m, "requester").or_else(|| text(m, "email"));
    Ok(NewTicket {
        id: id_of(m, "id")?,
        subject: text(m, "subject").unwrap_or_default(),
        description: text(m, "description").unwrap_or_default(),
        status: status_of(m)?,
        priority: priority_of(m)?,
        source: source_of(m, zendesk)?,
        type_: if zendesk { None } else { text(m, "type") },
        group,
        group_id,
        responder_id,
        requester,
        requester_id: id_of(m, "requester_id")?,
        company_id: id_of(m, "company_id")?,
        tags,
        custom_fields,
        created: time_of(m, "created_at")?,
        updated: time_of(m, "updated_at")?,
        due_by: time_of(m, "due_by")?,
        fr_due_by: time_of(m, "fr_due_by")?,
        spam: m.get("spam").and_then(Value::as_bool).unwrap_or(false),
        deleted: m.get("deleted").and_then(Value::as_bool).unwrap_or(false),
        conversations: conversations(m)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn zendesk_statuses_and_inbox_groups_map_to_freshdesk() {
        let doc = json!({"groups": [{"id": 1, "name": "Inbox"}, {"id": 2, "name": "Cards"}],
        "tickets": [
            {"subject": "a", "status": "new", "group_id": 2, "via": "email"},
            {"subject": "b", "status": "hold", "group_id": 2, "priority": "normal"},
            {"subject": "c", "status": "solved", "group_id": 1},
            {"subject": "d", "status": "open", "group": "Inbox", "via": "web"}
        ]});
        let s = SeedData::from_text(&doc.to_string()).unwrap();
        assert_eq!(
            s.groups,
            ["Inbox", "Cards"],
            "groups exist, as routing targets"
        );
        let t = &s.tickets;
        assert_eq!(
            (t[0].status, t[0].group.as_deref(), t[0].source),
            (2, None, Some(1))
        );
        assert_eq!(
            (t[1].status, t[1].priority, t[1].group.as_deref()),
            (2, 2, Some("Cards"))
        );
        assert_eq!((t[2].status, t[2].group.as_deref()), (4, None));
        assert_eq!(t[3].group, None);
    }

    #[test]
    fn freshdesk_tickets_take_numbers_or_names_and_jsonl_reads() {
        let text = concat!(
            r#"{"subject": "a", "status": 3, "priority": "urgent", "group": "Cards", "type": "Question"}"#,
            "\n",
            r#"{"subject": "b", "status": "resolved", "priority": 2, "custom_fields": {"cf_x": 1}, "conversations": [{"body": "hi"}]}"#,
        );
        let s = SeedData::from_text(text).unwrap();
        assert_eq!(s.tickets[0].status, 3);
        assert_eq!(s.tickets[0].priority, 4);
        assert_eq!(s.tickets[0].type_.as_deref(), Some("Question"));
        assert_eq!(s.tickets[1].status, 4);
        assert_eq!(s.tickets[1].conversations.len(), 1);
        assert!(
            SeedData::from_text(r#"[{"subject": "x", "status": "weird"}]"#)
                .unwrap_err()
                .contains("ticket 1")
        );
    }
}
