//! Zammad ticket → otai ticket, and Zammad state names → otai's state categories.
//!
//! Subject = `title`; body = the first article (plain text from HTML); status = the state's name;
//! priority = otai's name for the Zammad priority ([`crate::catalog::PriorityMap`]); queue = the
//! group (id, and its name when the answer carried it); custom fields = the ticket's top-level
//! keys that are not Zammad's own attributes (object-manager attributes are columns).

use otai_plugin_sdk::{CustomField, Person, Queue, Ticket, TicketState};
use serde_json::Value;

use crate::{
    api::{TicketAll, ZArticle, ZTicket},
    catalog::{Names, PriorityMap},
    html,
};

/// A ticket's own attributes in Zammad (with the names `expand` adds): everything else at the top
/// level is an object-manager attribute, i.e. a custom field.
const STANDARD_KEYS: &[&str] = &[
    "id",
    "number",
    "title",
    "group_id",
    "priority_id",
    "state_id",
    "organization_id",
    "owner_id",
    "customer_id",
    "note",
    "first_response_at",
    "first_response_escalation_at",
    "first_response_in_min",
    "first_response_diff_in_min",
    "close_at",
    "close_escalation_at",
    "close_in_min",
    "close_diff_in_min",
    "update_escalation_at",
    "update_in_min",
    "update_diff_in_min",
    "last_close_at",
    "last_contact_at",
    "last_contact_agent_at",
    "last_contact_customer_at",
    "last_owner_update_at",
    "create_article_type_id",
    "create_article_sender_id",
    "article_count",
    "escalation_at",
    "pending_time",
    "type",
    "time_unit",
    "preferences",
    "updated_by_id",
    "created_by_id",
    "created_at",
    "updated_at",
    "article_ids",
    "ticket_time_accounting_ids",
    "ticket_time_accounting",
    "group",
    "organization",
    "state",
    "priority",
    "owner",
    "customer",
    "created_by",
    "updated_by",
    "create_article_type",
    "create_article_sender",
    "mention_user_ids",
    "shared_draft_ids",
    "checklist_id",
    "referencing_checklist_ids",
    "last_escalation_information_at",
    "external_sync",
    "issue_tracker",
    "time_units",
];

/// What a conversion needs besides the ticket: the lists, read once per call of the adapter.
pub struct Lookups {
    /// Zammad's states.
    pub states: Names,
    /// The priority mapping.
    pub priorities: PriorityMap,
}

/// The otai ticket for a full read (`all=true`); `named` is the same ticket from a search with
/// `expand=true`, whose names win where the full read has only ids.
pub fn to_ticket(all: &TicketAll, named: Option<&ZTicket>, look: &Lookups) -> Ticket {
    let t = &all.ticket;
    let status = t
        .state_id
        .and_then(|id| look.states.name(id))
        .or_else(|| named.and_then(|n| n.expanded("state")))
        .or_else(|| t.expanded("state"))
        .unwrap_or_default()
        .to_string();
    let priority = t
        .priority_id
        .and_then(|id| look.priorities.to_otai(id))
        .map(str::to_string);
    let group_name = t
        .group_id
        .and_then(|id| all.groups.iter().find(|(g, _)| *g == id))
        .map(|(_, name)| name.as_str())
        .or_else(|| named.and_then(|n| n.expanded("group")))
        .or_else(|| t.expanded("group"))
        .map(str::to_string);
    let queue = (t.group_id.is_some() || group_name.is_some()).then(|| Queue {
        id: t.group_id.map(|id| id.to_string()),
        name: group_name,
    });
    let custom_fields = t
        .rest
        .iter()
        .filter(|(key, value)| !STANDARD_KEYS.contains(&key.as_str()) && is_field_value(value))
        .map(|(key, value)| CustomField {
            id: key.clone(),
            value: value.clone(),
        })
        .collect();
    let requester = t.customer_id.map(|id| Person {
        id: id.to_string(),
        name: None,
        email: named
            .and_then(|n| n.expanded("customer"))
            .filter(|c| c.contains('@'))
            .map(str::to_string),
    });
    Ticket {
        id: t.id.to_string(),
        subject: t.title.clone().unwrap_or_default(),
        body: all.articles.first().map(article_text).unwrap_or_default(),
        status: status.clone(),
        priority,
        queue,
        tags: all.tags.clone(),
        custom_fields,
        requester,
        created_at: t.created_at.clone(),
        updated_at: t.updated_at.clone(),
        raw: raw_of(all),
        state: ticket_state(&status),
    }
}

/// Custom attribute values worth carrying: scalars and lists (not nested objects).
fn is_field_value(value: &Value) -> bool {
    !matches!(value, Value::Object(_))
}

/// The article's text, plain.
pub fn article_text(article: &ZArticle) -> String {
    let body = article.body.as_deref().unwrap_or_default();
    let html = article
        .content_type
        .as_deref()
        .is_some_and(|c| c.to_ascii_lowercase().contains("html"));
    if html {
        html::to_text(body)
    } else {
        body.trim().to_string()
    }
}

/// The ticket's own JSON with its tags (what `otai tickets get --json` shows).
fn raw_of(all: &TicketAll) -> Value {
    let mut raw = serde_json::to_value(&all.ticket.rest).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut raw {
        map.insert("id".into(), all.ticket.id.into());
        for (key, value) in [
            ("title", all.ticket.title.clone()),
            ("number", all.ticket.number.clone()),
            ("updated_at", all.ticket.updated_at.clone()),
            ("created_at", all.ticket.created_at.clone()),
        ] {
            if let Some(v) = value {
                map.insert(key.into(), v.into());
            }
        }
        for (key, value) in [
            ("group_id", all.ticket.group_id),
            ("priority_id", all.ticket.priority_id),
            ("state_id", all.ticket.state_id),
            ("owner_id", all.ticket.owner_id),
            ("customer_id", all.ticket.customer_id),
        ] {
            if let Some(v) = value {
                map.insert(key.into(), v.into());
            }
        }
        map.insert("tags".into(), all.tags.clone().into());
    }
    raw
}

/// A Zammad state name in otai's words: Zammad's seed states (`new`, `open`, `pending reminder`,
/// `pending close`, `closed`, `merged`, `removed`); other names by their first word (`pending
/// ...`, `closed ...`), else unknown.
pub fn ticket_state(status: &str) -> TicketState {
    TicketState::from_first_word(status)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use otai_plugin_sdk::StatusCategory;

    use super::*;

    fn states() -> Names {
        Names::from_pairs(&[(1, "new"), (2, "open"), (4, "closed")])
    }

    #[test]
    fn a_full_read_becomes_an_otai_ticket() {
        let all = TicketAll::parse(
            7,
            json!({
                "tags": ["vip"],
                "assets": {
                    "Group": {"1": {"id": 1, "name": "Users"}},
                    "Ticket": {"7": {"id": 7, "number": "31007", "title": "Karte gesperrt",
                        "group_id": 1, "priority_id": 2, "state_id": 1, "customer_id": 5,
                        "updated_at": "2026-11-30T10:00:00.123Z", "topic": "cards",
                        "preferences": {"channel_id": 1}, "article_count": 2}},
                    "TicketArticle": {
                        "21": {"id": 21, "ticket_id": 7, "body": "otai note", "internal": true},
                        "20": {"id": 20, "ticket_id": 7, "body": "<p>Meine Karte&nbsp;ist gesperrt</p>",
                               "content_type": "text/html"}
                    }
                }
            }),
        )
        .unwrap();
        let priorities = PriorityMap::decide(
            &Names::from_pairs(&[(1, "1 low"), (2, "2 normal"), (3, "3 high")]),
            &[],
        )
        .unwrap();
        let look = Lookups {
            states: states(),
            priorities,
        };
        let t = to_ticket(&all, None, &look);
        assert_eq!(t.id, "7");
        assert_eq!(t.subject, "Karte gesperrt");
        assert_eq!(t.body, "Meine Karte ist gesperrt");
        assert_eq!(t.status, "new");
        assert_eq!(t.state.category, StatusCategory::New);
        assert_eq!(t.priority.as_deref(), Some("normal"));
        assert_eq!(t.queue.as_ref().unwrap().name.as_deref(), Some("Users"));
        assert_eq!(t.tags, ["vip"]);
        assert_eq!(t.custom_fields.len(), 1, "{:?}", t.custom_fields);
        assert_eq!(t.custom_fields[0].id, "topic");
        assert_eq!(t.updated_at.as_deref(), Some("2026-11-30T10:00:00.123Z"));
        assert_eq!(t.raw["tags"], json!(["vip"]));
    }

    #[test]
    fn states_map_by_name() {
        assert_eq!(
            ticket_state("pending close").category,
            StatusCategory::Pending
        );
        assert!(ticket_state("merged").merged);
        assert!(ticket_state("removed").deleted);
        assert_eq!(
            ticket_state("Closed (spam)").category,
            StatusCategory::Closed
        );
        assert_eq!(
            ticket_state("waiting for parts").category,
            StatusCategory::Unknown
        );
    }
}
