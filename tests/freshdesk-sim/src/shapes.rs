//! The JSON Freshdesk answers with, field names and layout from the docs' samples ("View a
//! Ticket", "List All Tickets", "List All Conversations of a Ticket", "Currently Authenticated
//! Agent", "List All Ticket Fields", "View a Job"). Fields the simulator has no data for are
//! sent as the samples show them for an empty value (`cc_emails: []`, `product_id: null`, ...).

use serde_json::{json, Map, Value};

use crate::{
    jobs::Job,
    stamp::format_secs,
    store::{Conversation, Group, Person, Store, Ticket, API_AGENT_ID},
};

/// Which optional parts a ticket's JSON carries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TicketParts {
    /// `description` and `description_text` (always on one ticket; list: `include=description`).
    pub description: bool,
    /// `requester: {id, name, email, mobile, phone}`.
    pub requester: bool,
    /// `stats: {...}`.
    pub stats: bool,
    /// `company: {id, name}` (one ticket only).
    pub company: bool,
    /// `conversations: [...]`, up to 10, oldest first (one ticket only).
    pub conversations: bool,
}

/// A ticket.
pub fn ticket_json(store: &Store, t: &Ticket, parts: TicketParts) -> Value {
    let mut v = json!({
        "cc_emails": [],
        "fwd_emails": [],
        "reply_cc_emails": [],
        "ticket_cc_emails": [],
        "fr_escalated": false,
        "spam": t.spam,
        "email_config_id": null,
        "group_id": t.group_id,
        "priority": t.priority,
        "requester_id": t.requester_id,
        "responder_id": t.responder_id,
        "source": t.source,
        "company_id": t.company_id,
        "status": t.status,
        "subject": t.subject,
        "association_type": null,
        "support_email": null,
        "to_emails": null,
        "product_id": null,
        "id": t.id,
        "type": t.type_,
        "due_by": t.due_by,
        "fr_due_by": t.fr_due_by,
        "is_escalated": t.is_escalated,
        "custom_fields": t.custom_fields,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "tags": t.tags,
        "attachments": [],
        "deleted": t.deleted,
    });
    let o = v.as_object_mut().expect("object");
    if parts.description {
        o.insert("description".into(), json!(t.description));
        o.insert("description_text".into(), json!(t.description_text));
    }
    if parts.requester {
        let r = t
            .requester_id
            .and_then(|id| store.person(id))
            .map(|p| json!({"id": p.id, "name": p.name, "email": p.email, "mobile": null, "phone": null}))
            .unwrap_or(Value::Null);
        o.insert("requester".into(), r);
    }
    if parts.stats {
        let when = |statuses: &[u8]| statuses.contains(&t.status).then(|| t.updated_at.clone());
        o.insert(
            "stats".into(),
            json!({
                "agent_responded_at": null,
                "requester_responded_at": null,
                "first_responded_at": null,
                "status_updated_at": t.updated_at,
                "reopened_at": null,
                "resolved_at": when(&[4, 5]),
                "closed_at": when(&[5]),
                "pending_since": when(&[3]),
            }),
        );
    }
    if parts.company {
        let c = t
            .company_id
            .map(|id| json!({"id": id, "name": format!("Company {id}")}))
            .unwrap_or(Value::Null);
        o.insert("company".into(), c);
    }
    if parts.conversations {
        let list: Vec<Value> = store
            .conversations_of(t.id)
            .iter()
            .take(10)
            .map(conversation_json)
            .collect();
        o.insert("conversations".into(), Value::Array(list));
    }
    v
}

/// A conversation (reply or note).
pub fn conversation_json(c: &Conversation) -> Value {
    json!({
        "body": c.body,
        "body_text": c.body_text,
        "id": c.id,
        "incoming": c.incoming,
        "private": c.private,
        "user_id": c.user_id,
        "support_email": null,
        "source": c.source,
        "category": if c.source == 2 { 2 } else { 3 },
        "ticket_id": c.ticket_id,
        "to_emails": if c.notify_emails.is_empty() { Value::Null } else { json!(c.notify_emails) },
        "notified_to": c.notify_emails,
        "from_email": null,
        "cc_emails": [],
        "bcc_emails": [],
        "attachments": [],
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "last_edited_at": null,
        "last_edited_user_id": null,
    })
}

/// A group.
pub fn group_json(g: &Group, started: i64) -> Value {
    json!({
        "id": g.id,
        "name": g.name,
        "description": g.description,
        "escalate_to": null,
        "unassigned_for": null,
        "business_hour_id": null,
        "group_type": "support_agent_group",
        "agent_ids": [],
        "auto_ticket_assign": false,
        "created_at": format_secs(started),
        "updated_at": format_secs(started),
    })
}

/// `GET /agents/me`: the API agent.
pub fn me_json(store: &Store, started: i64) -> Value {
    let me = store.agents.get(&API_AGENT_ID).cloned().unwrap_or(Person {
        id: API_AGENT_ID,
        name: "otai".into(),
        email: "otai@example.com".into(),
    });
    let stamp = format_secs(started);
    json!({
        "available": true,
        "occasional": false,
        "signature": null,
        "group_ids": store.groups.iter().map(|g| g.id).collect::<Vec<_>>(),
        "role_ids": [1],
        "skill_ids": [],
        "id": me.id,
        "ticket_scope": 1,
        "created_at": stamp,
        "updated_at": stamp,
        "available_since": null,
        "type": "support_agent",
        "contact": {
            "active": true,
            "email": me.email,
            "job_title": null,
            "language": "en",
            "last_login_at": null,
            "mobile": null,
            "name": me.name,
            "phone": null,
            "time_zone": "UTC",
            "created_at": stamp,
            "updated_at": stamp,
        }
    })
}

fn field(
    id: u64,
    name: &str,
    label: &str,
    kind: &str,
    default: bool,
    choices: Option<Value>,
) -> Value {
    let mut v = json!({
        "id": id,
        "name": name,
        "label": label,
        "description": label,
        "position": id,
        "type": kind,
        "label_for_customers": label,
        "default": default,
        "required_for_closure": false,
        "required_for_agents": false,
        "required_for_customers": false,
        "customers_can_edit": !default,
        "displayed_to_customers": true,
        "created_at": "2020-01-01T00:00:00Z",
        "updated_at": "2020-01-01T00:00:00Z",
    });
    if let (Some(c), Some(o)) = (choices, v.as_object_mut()) {
        o.insert("choices".into(), c);
    }
    v
}

/// `GET /ticket_fields`: the default fields, then the custom ones (`"default": false`).
pub fn ticket_fields_json(store: &Store) -> Value {
    let mut groups = Map::new();
    for g in &store.groups {
        groups.insert(g.name.clone(), json!(g.id));
    }
    let mut agents = Map::new();
    for a in store.agents.values() {
        agents.insert(a.name.clone(), json!(a.id));
    }
    let mut list = vec![
        field(
            1,
            "requester",
            "Search a requester",
            "default_requester",
            true,
            None,
        ),
        field(2, "subject", "Subject", "default_subject", true, None),
        field(
            3,
            "ticket_type",
            "Type",
            "default_ticket_type",
            true,
            Some(json!(store.types)),
        ),
        field(
            4,
            "source",
            "Source",
            "default_source",
            true,
            Some(json!({
                "Email": 1, "Portal": 2, "Phone": 3, "Chat": 7, "Feedback Widget": 9, "Outbound Email": 10
            })),
        ),
        field(
            5,
            "status",
            "Status",
            "default_status",
            true,
            Some(json!({
                "2": ["Open", "Being Processed"],
                "3": ["Pending", "Awaiting your Reply"],
                "4": ["Resolved", "This ticket has been Resolved"],
                "5": ["Closed", "This ticket has been Closed"],
            })),
        ),
        field(
            6,
            "priority",
            "Priority",
            "default_priority",
            true,
            Some(json!({
                "Low": 1, "Medium": 2, "High": 3, "Urgent": 4
            })),
        ),
        field(
            7,
            "group",
            "Group",
            "default_group",
            true,
            Some(Value::Object(groups)),
        ),
        field(
            8,
            "agent",
            "Agent",
            "default_agent",
            true,
            Some(Value::Object(agents)),
        ),
        field(
            9,
            "description",
            "Description",
            "default_description",
            true,
            None,
        ),
        field(10, "company", "Company", "default_company", true, None),
    ];
    for (i, name) in store.custom_fields.iter().enumerate() {
        let label = name.strip_prefix("cf_").unwrap_or(name);
        list.push(field(
            100 + i as u64,
            name,
            label,
            "custom_text",
            false,
            None,
        ));
    }
    Value::Array(list)
}

/// `GET /jobs/{id}`.
pub fn job_json(job: &Job) -> Value {
    json!({
        "id": job.id,
        "name": "TICKET::BULK_UPDATE",
        "status": job.status.as_str(),
        "progress": job.progress,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "status_updated_at": job.status_updated_at,
    })
}
