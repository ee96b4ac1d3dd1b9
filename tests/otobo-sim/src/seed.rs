//! Seeds: a JSON document (`{"groups": [...], "tickets": [...]}`, or a list of tickets) or JSONL
//! (a ticket per line), tickets in two dialects, told apart per ticket:
//!
//! - **OTOBO-shaped** (has `Title`): `Title`, `Body` (the first article; or `Articles: [{Body,
//!   Subject, From, To, ContentType, CommunicationChannel, SenderType, IsVisibleForCustomer,
//!   Created}]`), `Queue` (created if missing; default `Raw`), `State` (`new`), `Priority`
//!   (`3 normal`), `DynamicField` (`{"Name": value}` or `[{"Name", "Value"}]`; a list value
//!   declares a multiselect field), `ContentType` (`text/plain; charset=utf-8`), `CustomerUser`,
//!   `From`, `Subject`, `CommunicationChannel` (`Email`), `SenderType` (`customer`),
//!   `IsVisibleForCustomer` (1), `Owner`, `TicketID`, `TicketNumber`, `Created`, `Changed`.
//! - **Zendesk-shaped** (has `subject` or `description`, as otai's demo help desk
//!   `data/demo/helpdesk.json`): `subject` → Title, `description` → the customer's first article
//!   (channel `Email` for `via: email`, else `Phone`; visible to the customer), `status`
//!   new/open/pending/hold/solved/closed → `new`/`open`/`pending reminder`/`open`/
//!   `closed successful`/`closed successful`, `priority` low/normal/high/urgent → `2 low`/
//!   `3 normal`/`4 high`/`5 very high`, `group_id` (through the file's `groups`) or `group` → the
//!   queue of that name (created), none → `Raw`; `requester` → customer user and `From`; `tags` →
//!   the first multiselect field, if there is one; `id`, `created_at`, `updated_at` kept.

use std::collections::BTreeMap;

use otai_sim_kit::seed::{document_parts, SeedText};
use serde_json::{Map, Value};

use crate::{
    error::SimError,
    params::{scalar, truthy},
    stamp::parse_time,
    store::{NewArticle, NewTicket},
};

/// A seed's queues and tickets, before the store resolves their names.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SeedData {
    /// Queues to create, in order (a Zendesk file's `groups`).
    pub queues: Vec<String>,
    /// Tickets, with the tags of Zendesk-shaped ones.
    pub tickets: Vec<(NewTicket, Vec<String>)>,
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
        seed.queues = parts.groups;
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
                let id = t.get("id").or_else(|| t.get("TicketID"));
                format!(
                    "ticket {} ({})",
                    i + 1,
                    id.map(|v| format!("id {v}"))
                        .unwrap_or_else(|| "no id".into())
                )
            };
            let Value::Object(m) = t else {
                return Err(format!("{}: not an object", which()));
            };
            let (ticket, tags) = if m.contains_key("Title") {
                otobo_ticket(m).map(|t| (t, Vec::new()))
            } else if m.contains_key("subject") || m.contains_key("description") {
                zendesk_ticket(m, groups)
            } else {
                Err("needs a Title (OTOBO) or a subject/description (Zendesk)".into())
            }
            .map_err(|e| format!("{}: {e}", which()))?;
            seed.tickets.push((ticket, tags));
        }
        Ok(seed)
    }
}

fn text(m: &Map<String, Value>, k: &str) -> Option<String> {
    scalar(m.get(k))
}

fn time_of(m: &Map<String, Value>, k: &str) -> Result<Option<i64>, String> {
    text(m, k)
        .map(|s| parse_time(&s).ok_or_else(|| format!("{k} {s:?} is not a time")))
        .transpose()
}

fn id_of(m: &Map<String, Value>, k: &str) -> Result<Option<u64>, String> {
    text(m, k)
        .map(|s| {
            s.parse::<u64>()
                .ok()
                .filter(|i| *i > 0)
                .ok_or_else(|| format!("{k} {s:?} is not a positive integer"))
        })
        .transpose()
}

/// `text/html; charset=utf-8` → (`text/html`, `utf-8`).
fn split_content_type(ct: &str) -> (String, String) {
    let mut parts = ct.split(';');
    let mime = match parts.next().map(str::trim) {
        Some(m) if !m.is_empty() => m.to_string(),
        _ => "text/plain".to_string(),
    };
    let charset = parts
        .find_map(|p| p.trim().strip_prefix("charset="))
        .unwrap_or("utf-8")
        .trim_matches(['"', '\''])
        .to_string();
    (mime, charset)
}

fn otobo_article(m: &Map<String, Value>, title: &str) -> Result<Option<NewArticle>, String> {
    let Some(body) = text(m, "Body") else {
        return Ok(None);
    };
    let (mime_type, charset) = split_content_type(&text(m, "ContentType").unwrap_or_default());
    Ok(Some(NewArticle {
        channel: text(m, "CommunicationChannel").unwrap_or_else(|| "Email".into()),
        sender_type: text(m, "SenderType").unwrap_or_else(|| "customer".into()),
        visible: m
            .get("IsVisibleForCustomer")
            .is_none_or(|v| truthy(Some(v))),
        article_type: None,
        from: text(m, "From")
            .or_else(|| text(m, "CustomerUser"))
            .unwrap_or_default(),
        to: text(m, "To").unwrap_or_default(),
        subject: text(m, "Subject").unwrap_or_else(|| title.to_string()),
        body,
        mime_type,
        charset,
        created: time_of(m, "Created")?,
    }))
}

fn otobo_ticket(m: &Map<String, Value>) -> Result<NewTicket, String> {
    let title = text(m, "Title").unwrap_or_default();
    let mut articles = Vec::new();
    if let Some(list) = m.get("Articles").and_then(Value::as_array) {
        for (i, a) in list.iter().enumerate() {
            let a = a
                .as_object()
                .ok_or_else(|| format!("Articles[{i}] is not an object"))?;
            articles.push(
                otobo_article(a, &title)?.ok_or_else(|| format!("Articles[{i}] has no Body"))?,
            );
        }
    } else {
        articles.extend(otobo_article(m, &title)?);
    }
    let mut dynamic = BTreeMap::new();
    match m.get("DynamicField") {
        None | Some(Value::Null) => {}
        Some(Value::Object(o)) => dynamic.extend(o.iter().map(|(k, v)| (k.clone(), v.clone()))),
        Some(Value::Array(list)) => {
            for f in list {
                let name = f
                    .get("Name")
                    .and_then(Value::as_str)
                    .ok_or("a DynamicField item has no Name")?;
                dynamic.insert(
                    name.to_string(),
                    f.get("Value").cloned().unwrap_or_default(),
                );
            }
        }
        Some(_) => return Err("DynamicField is neither an object nor a list".into()),
    }
    Ok(NewTicket {
        id: id_of(m, "TicketID")?,
        number: text(m, "TicketNumber"),
        title,
        queue: text(m, "Queue"),
        state: text(m, "State"),
        priority: text(m, "Priority"),
        owner: text(m, "Owner"),
        customer_user: text(m, "CustomerUser"),
        created: time_of(m, "Created")?,
        changed: time_of(m, "Changed")?,
        dynamic,
        articles,
    })
}

fn zendesk_ticket(
    m: &Map<String, Value>,
    groups: &BTreeMap<u64, String>,
) -> Result<(NewTicket, Vec<String>), String> {
    let state = match text(m, "status").as_deref() {
        None | Some("new") => "new",
        Some("open" | "hold") => "open",
        Some("pending") => "pending reminder",
        Some("solved" | "closed") => "closed successful",
        Some(other) => return Err(format!("unknown status {other:?}")),
    };
    let priority = match text(m, "priority").as_deref() {
        None | Some("normal") => "3 normal",
        Some("low") => "2 low",
        Some("high") => "4 high",
        Some("urgent") => "5 very high",
        Some(other) => return Err(format!("unknown priority {other:?}")),
    };
    let queue = match m.get("group_id").and_then(Value::as_u64) {
        Some(id) => Some(
            groups
                .get(&id)
                .cloned()
                .ok_or_else(|| format!("group_id {id} is not in the file's groups"))?,
        ),
        None => text(m, "group"),
    };
    let description = text(m, "description");
    let title = text(m, "subject")
        .filter(|s| !s.trim().is_empty())
        .or_else(|| description.as_ref().map(|d| d.chars().take(60).collect()))
        .unwrap_or_default();
    let requester = text(m, "requester");
    let channel = if text(m, "via").as_deref() == Some("email") {
        "Email"
    } else {
        "Phone"
    };
    let articles = description
        .map(|body| NewArticle {
            channel: channel.into(),
            from: requester.clone().unwrap_or_default(),
            subject: title.clone(),
            body,
            ..NewArticle::default()
        })
        .into_iter()
        .collect();
    let tags = match m.get("tags") {
        Some(Value::Array(a)) => a.iter().filter_map(|t| scalar(Some(t))).collect(),
        _ => Vec::new(),
    };
    let ticket = NewTicket {
        id: id_of(m, "id")?,
        number: None,
        title,
        queue,
        state: Some(state.into()),
        priority: Some(priority.into()),
        owner: None,
        customer_user: requester,
        created: time_of(m, "created_at")?,
        changed: time_of(m, "updated_at")?,
        dynamic: BTreeMap::new(),
        articles,
    };
    Ok((ticket, tags))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_zendesk_dialect_maps_to_otobo_names() {
        let text = r#"{"tickets": [
            {"id": 71, "via": "email", "group_id": 5, "tags": ["vip"], "priority": "urgent",
             "status": "solved", "subject": "Card stolen", "description": "My card was stolen!",
             "created_at": "2025-06-02T08:05:07Z", "requester": "c1@example.com"},
            {"id": 72, "via": "web", "group": "Top-ups", "status": "pending",
             "subject": "Top up", "description": "How?"},
            {"id": 73, "priority": "low", "subject": "", "description": "no subject here"}],
          "groups": [{"name": "Inbox", "id": 4}, {"name": "Cards", "id": 5}]}"#;
        let d = SeedData::from_text(text).unwrap();
        assert_eq!(d.queues, ["Inbox", "Cards"]);
        let (t, tags) = &d.tickets[0];
        assert_eq!((t.id, t.title.as_str()), (Some(71), "Card stolen"));
        assert_eq!(
            (
                t.state.as_deref(),
                t.priority.as_deref(),
                t.queue.as_deref()
            ),
            (
                Some("closed successful"),
                Some("5 very high"),
                Some("Cards")
            )
        );
        assert_eq!(tags, &["vip"]);
        let a = &t.articles[0];
        assert_eq!(
            (a.channel.as_str(), a.sender_type.as_str(), a.visible),
            ("Email", "customer", true)
        );
        assert_eq!(a.from, "c1@example.com");
        let (t2, _) = &d.tickets[1];
        assert_eq!(
            (t2.state.as_deref(), t2.queue.as_deref()),
            (Some("pending reminder"), Some("Top-ups"))
        );
        assert_eq!(t2.articles[0].channel, "Phone");
        let (t3, _) = &d.tickets[2];
        assert_eq!(
            (t3.queue.clone(), t3.title.as_str()),
            (None, "no subject here")
        );
        assert_eq!(t3.priority.as_deref(), Some("2 low"));
    }

    #[test]
    fn the_otobo_dialect_takes_names_fields_and_content_types() {
        let d = SeedData::from_tickets(&[json!({
            "Title": "Card lost", "Body": "<p>lost</p>", "ContentType": "text/html; charset=utf-8",
            "Queue": "Cards", "State": "open", "Priority": "4 high", "CustomerUser": "jane@example.com",
            "DynamicField": {"OTAITags": ["vip"], "Note": "x"}, "Created": "2026-01-01 10:00:00"
        })])
        .unwrap();
        let (t, _) = &d.tickets[0];
        assert_eq!(t.queue.as_deref(), Some("Cards"));
        assert_eq!(t.dynamic["OTAITags"], json!(["vip"]));
        assert_eq!(t.created, parse_time("2026-01-01 10:00:00"));
        let a = &t.articles[0];
        assert_eq!(
            (a.mime_type.as_str(), a.charset.as_str()),
            ("text/html", "utf-8")
        );
        assert_eq!(
            (a.from.as_str(), a.subject.as_str()),
            ("jane@example.com", "Card lost")
        );
    }

    #[test]
    fn bad_seeds_say_which_ticket() {
        let e = SeedData::from_text("{\"Title\": \"A\"}\n{\"nope\": 1}\n").unwrap_err();
        assert!(e.contains("ticket 2"), "{e}");
        let e = SeedData::from_text("{\"Title\": \"A\", \"Created\": \"soon\"}").unwrap_err();
        assert!(e.contains("Created"), "{e}");
        let e = SeedData::from_text("{\"Title\": \"A\"}\nnot json").unwrap_err();
        assert!(e.contains("line 2"), "{e}");
        assert_eq!(SeedData::from_text("  ").unwrap(), SeedData::default());
    }
}
