//! Seeds: JSON (`{"groups": [...], "tickets": [...], "attributes": [...]}` or an array of
//! tickets) or JSONL (one ticket per line), in two dialects, told apart per ticket:
//!
//! - **Zammad-shaped** (has `title`): `title`, `body` (the first article; or `articles: [{body,
//!   type, sender, internal, content_type, subject, from, to, created_at}]`), `state`, `group`,
//!   `priority` (names; `state_id` / `priority_id` also), `owner`, `customer` (an e-mail),
//!   `tags` (list or comma string), `content_type`, `type` (the first article's, default `web`),
//!   `sender`, `from`, `to`, `subject`, `internal`, `id`, `number`, `created_at`, `updated_at`;
//!   every other key is a custom attribute (and declared as one).
//! - **Zendesk-shaped** (has `subject` or `description`, as otai's demo help desk
//!   `data/demo/helpdesk.json`): `subject` -> title, `description` -> the customer's first
//!   article (`email` for `via: email`, else `web`; text/plain), `status` new/open/pending/hold/
//!   solved/closed -> new/open/pending reminder/open/closed/closed, `priority` low/normal/high/
//!   urgent -> `1 low`/`2 normal`/`3 high`/`3 high`, `group_id` (through the file's `groups`) or
//!   `group` -> the group, none -> `Users`; `requester` -> the customer; `id`, `tags`, stamps kept.
//!
//! Groups named anywhere are created (ids from 2, `Users` is 1), in the order of the file's
//! `groups`, then as tickets name them.

use otai_sim_kit::seed::SeedText;
use serde_json::{Map, Value};

use crate::{
    error::SimError,
    stamp::parse_ms,
    store::{NewArticle, NewTicket},
};

/// What a seed holds, names not yet resolved.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SeedData {
    /// Groups to create, in order.
    pub groups: Vec<String>,
    /// Custom attributes to declare.
    pub attributes: Vec<String>,
    /// Tickets.
    pub tickets: Vec<NewTicket>,
}

impl SeedData {
    /// Reads a seed file.
    pub fn from_file(path: &std::path::Path) -> Result<Self, SimError> {
        let text = std::fs::read_to_string(path).map_err(|source| SimError::SeedRead {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_text(&text, &path.display().to_string())
    }

    /// Parses a seed's text (any of the kit's [`SeedText`] forms; `origin` names it in errors).
    pub fn from_text(text: &str, origin: &str) -> Result<Self, SimError> {
        let parsed = match SeedText::parse(text) {
            Ok(SeedText::Document(doc)) => Self::from_object(&doc),
            Ok(SeedText::Tickets(tickets)) => Self::from_tickets(&tickets),
            Err(e) => Err(e),
        };
        parsed.map_err(|message| SimError::Seed {
            origin: origin.to_string(),
            message,
        })
    }

    fn from_object(o: &Map<String, Value>) -> Result<Self, String> {
        let mut by_id: Vec<(u64, String)> = Vec::new();
        let mut groups = Vec::new();
        if let Some(Value::Array(gs)) = o.get("groups") {
            for (i, g) in gs.iter().enumerate() {
                let name = match g {
                    Value::String(s) => s.clone(),
                    Value::Object(m) => m
                        .get("name")
                        .and_then(Value::as_str)
                        .ok_or_else(|| format!("groups[{i}] has no name"))?
                        .to_string(),
                    _ => return Err(format!("groups[{i}] is neither a name nor an object")),
                };
                if let Some(id) = g.get("id").and_then(Value::as_u64) {
                    by_id.push((id, name.clone()));
                }
                groups.push(name);
            }
        }
        let attributes = match o.get("attributes") {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        };
        let tickets = match o.get("tickets") {
            Some(Value::Array(t)) => t.as_slice(),
            None => &[],
            Some(_) => return Err("tickets is not a list".into()),
        };
        let mut out = Self::tickets_with_groups(tickets, &by_id)?;
        let mut all_groups = groups;
        for g in out.groups.drain(..) {
            if !all_groups.contains(&g) {
                all_groups.push(g);
            }
        }
        out.groups = all_groups;
        out.attributes.extend(attributes);
        Ok(out)
    }

    /// Tickets in either dialect (the builder's `.tickets(...)` form).
    pub fn from_tickets(tickets: &[Value]) -> Result<Self, String> {
        Self::tickets_with_groups(tickets, &[])
    }

    fn tickets_with_groups(
        tickets: &[Value],
        groups_by_id: &[(u64, String)],
    ) -> Result<Self, String> {
        let mut out = SeedData::default();
        for (i, t) in tickets.iter().enumerate() {
            let Value::Object(m) = t else {
                return Err(format!("ticket {} is not an object", i + 1));
            };
            let nt = if m.contains_key("title") {
                zammad_ticket(m)
            } else if m.contains_key("subject") || m.contains_key("description") {
                zendesk_ticket(m, groups_by_id)
            } else {
                Err("needs a title (Zammad) or a subject/description (Zendesk)".into())
            }
            .map_err(|e| format!("ticket {} ({}): {e}", i + 1, ident(m)))?;
            if let Some(g) = &nt.group {
                if !out.groups.contains(g) {
                    out.groups.push(g.clone());
                }
            }
            for k in nt.attributes.keys() {
                if !out.attributes.contains(k) {
                    out.attributes.push(k.clone());
                }
            }
            out.tickets.push(nt);
        }
        Ok(out)
    }
}

fn ident(m: &Map<String, Value>) -> String {
    m.get("id")
        .map(|v| format!("id {v}"))
        .unwrap_or_else(|| "no id".into())
}

fn s(m: &Map<String, Value>, k: &str) -> Option<String> {
    match m.get(k)? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn time(m: &Map<String, Value>, k: &str) -> Result<Option<i64>, String> {
    match s(m, k) {
        None => Ok(None),
        Some(t) => parse_ms(&t)
            .map(Some)
            .ok_or_else(|| format!("{k} {t:?} is not an ISO-8601 time")),
    }
}

fn tag_list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|t| t.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(s)) => s
            .split(',')
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect(),
        _ => Vec::new(),
    }
}

fn id_field(m: &Map<String, Value>) -> Result<Option<u64>, String> {
    match m.get("id") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => crate::store::id_of(v)
            .filter(|i| *i > 0)
            .map(Some)
            .ok_or_else(|| format!("id {v} is not a positive integer")),
    }
}

const ZAMMAD_KEYS: &[&str] = &[
    "id",
    "number",
    "title",
    "body",
    "articles",
    "state",
    "state_id",
    "group",
    "priority",
    "priority_id",
    "owner",
    "customer",
    "tags",
    "content_type",
    "type",
    "sender",
    "from",
    "to",
    "subject",
    "internal",
    "created_at",
    "updated_at",
];

fn zammad_ticket(m: &Map<String, Value>) -> Result<NewTicket, String> {
    if m.contains_key("group_id") {
        return Err("name the group (`group`), not its id: ids are the simulator's".into());
    }
    let state = match (
        s(m, "state"),
        m.get("state_id").and_then(crate::store::id_of),
    ) {
        (Some(n), _) => Some(n),
        (None, Some(id)) => Some(
            [
                "new",
                "open",
                "pending reminder",
                "closed",
                "merged",
                "removed",
                "pending close",
            ]
            .get(id.wrapping_sub(1) as usize)
            .ok_or_else(|| format!("unknown state_id {id}"))?
            .to_string(),
        ),
        _ => None,
    };
    let priority = match (
        s(m, "priority"),
        m.get("priority_id").and_then(crate::store::id_of),
    ) {
        (Some(n), _) => Some(n),
        (None, Some(id)) => Some(
            ["1 low", "2 normal", "3 high"]
                .get(id.wrapping_sub(1) as usize)
                .ok_or_else(|| format!("unknown priority_id {id}"))?
                .to_string(),
        ),
        _ => None,
    };
    let created_at = time(m, "created_at")?;
    let mut articles = Vec::new();
    if let Some(Value::Array(list)) = m.get("articles") {
        for (i, a) in list.iter().enumerate() {
            let Value::Object(a) = a else {
                return Err(format!("articles[{i}] is not an object"));
            };
            articles.push(NewArticle {
                kind: s(a, "type").unwrap_or_else(|| "web".into()),
                sender: s(a, "sender").unwrap_or_else(|| "Customer".into()),
                internal: a.get("internal").is_some_and(crate::store::truthy),
                content_type: s(a, "content_type").unwrap_or_else(|| "text/plain".into()),
                subject: s(a, "subject"),
                body: s(a, "body").ok_or_else(|| format!("articles[{i}] has no body"))?,
                from: s(a, "from"),
                to: s(a, "to"),
                created_at: time(a, "created_at")?,
            });
        }
    } else if let Some(body) = s(m, "body") {
        articles.push(NewArticle {
            kind: s(m, "type").unwrap_or_else(|| "web".into()),
            sender: s(m, "sender").unwrap_or_else(|| "Customer".into()),
            internal: m.get("internal").is_some_and(crate::store::truthy),
            content_type: s(m, "content_type").unwrap_or_else(|| "text/plain".into()),
            subject: s(m, "subject"),
            body,
            from: s(m, "from"),
            to: s(m, "to"),
            created_at: None,
        });
    }
    let attributes = m
        .iter()
        .filter(|(k, _)| !ZAMMAD_KEYS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok(NewTicket {
        id: id_field(m)?,
        number: s(m, "number"),
        title: s(m, "title").unwrap_or_default(),
        group: s(m, "group"),
        priority,
        state,
        owner: s(m, "owner"),
        customer: s(m, "customer"),
        tags: tag_list(m.get("tags")),
        created_at,
        updated_at: time(m, "updated_at")?,
        attributes,
        articles,
    })
}

fn zendesk_ticket(
    m: &Map<String, Value>,
    groups_by_id: &[(u64, String)],
) -> Result<NewTicket, String> {
    let state = match s(m, "status").as_deref() {
        None | Some("new") => "new",
        Some("open") | Some("hold") => "open",
        Some("pending") => "pending reminder",
        Some("solved") | Some("closed") => "closed",
        Some(other) => return Err(format!("unknown status {other:?}")),
    };
    let priority = match s(m, "priority").as_deref() {
        None | Some("normal") => "2 normal",
        Some("low") => "1 low",
        Some("high") | Some("urgent") => "3 high",
        Some(other) => return Err(format!("unknown priority {other:?}")),
    };
    let group = match (m.get("group_id").and_then(Value::as_u64), s(m, "group")) {
        (Some(id), _) => Some(
            groups_by_id
                .iter()
                .find(|(g, _)| *g == id)
                .map(|(_, n)| n.clone())
                .ok_or_else(|| format!("group_id {id} is not in the file's groups"))?,
        ),
        (None, name) => name,
    };
    let title = s(m, "subject")
        .filter(|t| !t.trim().is_empty())
        .or_else(|| s(m, "description").map(|d| d.chars().take(60).collect::<String>()))
        .unwrap_or_default();
    let kind = match s(m, "via").as_deref() {
        Some("email") => "email",
        _ => "web",
    };
    let customer = s(m, "requester");
    let articles = s(m, "description")
        .map(|body| NewArticle {
            kind: kind.into(),
            sender: "Customer".into(),
            internal: false,
            content_type: "text/plain".into(),
            subject: Some(title.clone()),
            body,
            from: customer.clone(),
            to: None,
            created_at: None,
        })
        .into_iter()
        .collect();
    Ok(NewTicket {
        id: id_field(m)?,
        number: None,
        title,
        group,
        priority: Some(priority.into()),
        state: Some(state.into()),
        owner: None,
        customer,
        tags: tag_list(m.get("tags")),
        created_at: time(m, "created_at")?,
        updated_at: time(m, "updated_at")?,
        attributes: Map::new(),
        articles,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_zendesk_dialect_maps_to_zammad_names() {
        let text = r#"{"groups": [{"id": 36, "name": "Inbox"}, {"id": 37, "name": "Cards"}],
          "tickets": [
            {"id": 9000000001, "subject": "Card stolen", "description": "My card was stolen!",
             "status": "solved", "priority": "urgent", "group_id": 37, "via": "email",
             "requester": "c1@example.com", "created_at": "2025-06-02T08:05:07Z", "tags": ["vip"]},
            {"id": 9000000002, "subject": "Top up", "description": "How?", "status": "pending",
             "group": "Inbox"},
            {"id": 9000000003, "subject": "", "description": "no subject here"}
          ]}"#;
        let d = SeedData::from_text(text, "t").unwrap();
        assert_eq!(d.groups, ["Inbox", "Cards"]);
        let t = &d.tickets[0];
        assert_eq!(t.id, Some(9000000001));
        assert_eq!(t.title, "Card stolen");
        assert_eq!(t.state.as_deref(), Some("closed"));
        assert_eq!(t.priority.as_deref(), Some("3 high"));
        assert_eq!(t.group.as_deref(), Some("Cards"));
        assert_eq!(t.customer.as_deref(), Some("c1@example.com"));
        assert_eq!(t.tags, ["vip"]);
        let a = &t.articles[0];
        assert_eq!(
            (a.kind.as_str(), a.sender.as_str(), a.body.as_str()),
            ("email", "Customer", "My card was stolen!")
        );
        assert_eq!(d.tickets[1].state.as_deref(), Some("pending reminder"));
        assert_eq!(d.tickets[1].group.as_deref(), Some("Inbox"));
        assert_eq!(d.tickets[2].group, None);
        assert_eq!(d.tickets[2].title, "no subject here");
    }

    #[test]
    fn the_zammad_dialect_keeps_custom_attributes() {
        let text = "{\"title\": \"A\", \"body\": \"<p>x</p>\", \"content_type\": \"text/html\", \"state\": \"open\", \"group\": \"Billing\", \"tags\": \"a, b\", \"otai_queue\": null}\n\n{\"title\": \"B\", \"priority_id\": 3, \"articles\": [{\"body\": \"one\"}, {\"body\": \"two\", \"type\": \"note\", \"sender\": \"Agent\", \"internal\": true}]}\n";
        let d = SeedData::from_text(text, "t").unwrap();
        assert_eq!(d.tickets.len(), 2);
        assert_eq!(d.groups, ["Billing"]);
        assert_eq!(d.attributes, ["otai_queue"]);
        let a = &d.tickets[0];
        assert_eq!(a.tags, ["a", "b"]);
        assert_eq!(a.articles[0].content_type, "text/html");
        assert!(a.attributes.contains_key("otai_queue"));
        let b = &d.tickets[1];
        assert_eq!(b.priority.as_deref(), Some("3 high"));
        assert_eq!(b.articles.len(), 2);
        assert!(b.articles[1].internal);
    }

    #[test]
    fn bad_seeds_say_which_ticket() {
        let e = SeedData::from_text("{\"title\": \"A\"}\n{\"nope\": 1}\n", "f.jsonl").unwrap_err();
        assert!(e.to_string().contains("ticket 2"), "{e}");
        let e =
            SeedData::from_text("{\"title\": \"A\", \"created_at\": \"soon\"}", "f").unwrap_err();
        assert!(e.to_string().contains("created_at"), "{e}");
        let e = SeedData::from_text("{\"title\": \"A\"}\nnot json", "f").unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
        assert_eq!(SeedData::from_text("  ", "f").unwrap(), SeedData::default());
    }
}
