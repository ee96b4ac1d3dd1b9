//! Conversions between Zendesk's JSON and otai's unified types: a Zendesk ticket to a
//! [`Ticket`], and a [`TicketUpdate`] / [`Note`] to the body of `PUT /api/v2/tickets/{id}`.

use otai_plugin_sdk::{
    vocabulary::PRIORITIES, CustomField, Error, ErrorKind, Note, Person, Queue, StatusCategory,
    Ticket, TicketState, TicketUpdate,
};
use serde_json::{json, Map, Value};

use crate::api::ZTicket;

/// The tag Zendesk puts on a ticket it closed because it was merged into another.
pub const MERGED_TAG: &str = "closed_by_merge";

/// A Zendesk ticket's state in otai's words: `hold` waits like `pending`; `deleted` (listed by
/// the incremental export) is a deleted ticket; a merged ticket is closed with [`MERGED_TAG`].
pub fn ticket_state(status: &str, tags: &[String]) -> TicketState {
    let category = match status.trim().to_ascii_lowercase().as_str() {
        "new" => StatusCategory::New,
        "open" => StatusCategory::Open,
        "pending" | "hold" => StatusCategory::Pending,
        "solved" => StatusCategory::Solved,
        "closed" | "deleted" => StatusCategory::Closed,
        _ => StatusCategory::Unknown,
    };
    TicketState {
        category,
        merged: tags.iter().any(|t| t.eq_ignore_ascii_case(MERGED_TAG)),
        deleted: status.trim().eq_ignore_ascii_case("deleted"),
    }
}

/// Parses a ticket id: Zendesk ids are unsigned 64-bit integers.
pub fn parse_ticket_id(id: &str) -> Result<u64, Error> {
    parse_id(id, "ticket id")
}

fn parse_id(id: &str, what: &str) -> Result<u64, Error> {
    id.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Validation,
                format!("invalid Zendesk {what} \"{id}\": expected a positive whole number"),
            )
        })
}

/// Maps a Zendesk ticket onto the unified [`Ticket`]. `group_name` is the queue's name if known.
pub fn to_ticket(z: &ZTicket, raw: &Value, group_name: Option<String>) -> Ticket {
    let status = z.status.clone().unwrap_or_default();
    Ticket {
        id: z.id.map(|id| id.to_string()).unwrap_or_default(),
        subject: z.subject.clone().unwrap_or_default(),
        body: z.description.clone().unwrap_or_default(),
        state: ticket_state(&status, &z.tags),
        status,
        priority: z.priority.clone(),
        queue: z.group_id.map(|gid| Queue {
            id: Some(gid.to_string()),
            name: group_name,
        }),
        tags: z.tags.clone(),
        custom_fields: z
            .custom_fields
            .iter()
            .filter_map(|f| {
                Some(CustomField {
                    id: f.id?.to_string(),
                    value: f.value.clone(),
                })
            })
            .collect(),
        requester: z.requester_id.map(|id| Person {
            id: id.to_string(),
            name: None,
            email: None,
        }),
        created_at: z.created_at.clone(),
        updated_at: z.updated_at.clone(),
        raw: raw.clone(),
    }
}

/// Validates a priority and returns Zendesk's spelling of it (otai's priorities are also
/// Zendesk's).
pub fn zendesk_priority(priority: &str) -> Result<&'static str, Error> {
    let p = priority.trim().to_ascii_lowercase();
    PRIORITIES
        .iter()
        .copied()
        .find(|known| *known == p)
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Validation,
                format!(
                    "invalid priority \"{priority}\": expected one of {}",
                    PRIORITIES.join(", ")
                ),
            )
        })
}

/// The `comment` object of a note: an internal note unless `public` is set.
pub fn comment(note: &Note) -> Result<Value, Error> {
    if note.body.trim().is_empty() {
        return Err(Error::new(
            ErrorKind::Validation,
            "the note's body is empty",
        ));
    }
    let key = if note.html { "html_body" } else { "body" };
    Ok(json!({ key: note.body.as_str(), "public": note.public }))
}

/// The `ticket` object of an update, without tags and safe-update fields (which depend on the
/// ticket's current state and are added by [`with_tags_and_stamp`]).
///
/// `group_id` is the resolved queue. `system_fields` is the base; unified fields win, and
/// `id` is always dropped (Zendesk ignores it and warns).
pub fn update_body(
    update: &TicketUpdate,
    group_id: Option<u64>,
) -> Result<Map<String, Value>, Error> {
    let mut body = match &update.system_fields {
        None => Map::new(),
        Some(Value::Object(map)) => map.clone(),
        Some(_) => {
            return Err(Error::new(
                ErrorKind::Validation,
                "system_fields must be a JSON object of Zendesk ticket fields",
            ))
        }
    };
    body.remove("id");
    // Safe-update fields are ours to set from `if_unchanged_since` or our own read.
    body.remove("safe_update");
    body.remove("updated_stamp");

    if let Some(gid) = group_id {
        body.insert("group_id".into(), json!(gid));
    }
    if let Some(priority) = &update.priority {
        body.insert("priority".into(), json!(zendesk_priority(priority)?));
    }
    if let Some(status) = &update.status {
        let status = status.trim();
        if status.is_empty() {
            return Err(Error::new(ErrorKind::Validation, "the status is empty"));
        }
        body.insert("status".into(), json!(status));
    }
    if !update.custom_fields.is_empty() {
        let mut fields = Vec::new();
        for f in update.custom_fields.iter() {
            let id = parse_id(&f.id, "custom field id")?;
            fields.push((id, f.value.clone()));
        }
        // Keep system custom fields for ids the unified list does not set.
        let mut merged: Vec<Value> = match body.remove("custom_fields") {
            Some(Value::Array(items)) => items
                .into_iter()
                .filter(|item| {
                    let id = item.get("id").and_then(Value::as_u64);
                    !fields.iter().any(|(fid, _)| Some(*fid) == id)
                })
                .collect(),
            _ => Vec::new(),
        };
        merged.extend(
            fields
                .into_iter()
                .map(|(id, value)| json!({"id": id, "value": value})),
        );
        body.insert("custom_fields".into(), Value::Array(merged));
    }
    if let Some(note) = &update.note {
        body.insert("comment".into(), comment(note)?);
    }
    Ok(body)
}

/// The ticket's tags after adding and removing, preserving the order of the existing ones.
/// Comparison ignores ASCII case, as Zendesk stores tags in lower case.
/// Returns `None` when the set does not change.
pub fn new_tags(current: &[String], add: &[String], remove: &[String]) -> Option<Vec<String>> {
    let norm = |s: &str| s.trim().to_ascii_lowercase();
    let removed: Vec<String> = remove.iter().map(|t| norm(t)).collect();
    let mut out: Vec<String> = Vec::new();
    for tag in current {
        let n = norm(tag);
        if !removed.contains(&n) && !out.iter().any(|t| norm(t) == n) {
            out.push(tag.clone());
        }
    }
    for tag in add.iter() {
        let n = norm(tag);
        if !n.is_empty() && !removed.contains(&n) && !out.iter().any(|t| norm(t) == n) {
            out.push(tag.trim().to_string());
        }
    }
    let unchanged = out.len() == current.len() && out.iter().zip(current).all(|(a, b)| a == b);
    (!unchanged).then_some(out)
}

/// Checks tags given to an update: Zendesk tags are single words.
pub fn check_tags(tags: &[String], what: &str) -> Result<(), Error> {
    for tag in tags.iter() {
        if tag.trim().is_empty() || tag.trim().chars().any(|c| c.is_whitespace() || c == '"') {
            return Err(Error::new(
                ErrorKind::Validation,
                format!("invalid tag \"{tag}\" in {what}: tags are single words without spaces or quotes"),
            ));
        }
    }
    Ok(())
}

/// Whether an update body changes anything: safe-update fields alone write nothing.
pub fn writes_something(body: &Map<String, Value>) -> bool {
    body.keys()
        .any(|k| k != "safe_update" && k != "updated_stamp" && k != "id")
}

/// Adds the new tag set and the safe-update stamp to an update body.
pub fn with_tags_and_stamp(
    mut body: Map<String, Value>,
    tags: Option<Vec<String>>,
    stamp: Option<&str>,
) -> Map<String, Value> {
    if let Some(tags) = tags {
        body.insert("tags".into(), json!(tags));
    }
    if let Some(stamp) = stamp {
        body.insert("safe_update".into(), Value::Bool(true));
        body.insert("updated_stamp".into(), json!(stamp));
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rv(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn maps_the_recorded_ticket() {
        // Recorded by go-zendesk (MIT), see tests/fixtures/zendesk/README.md.
        let raw: Value = serde_json::from_str::<Value>(include_str!(
            "../../../tests/fixtures/zendesk/GET/ticket.json"
        ))
        .unwrap()["ticket"]
            .clone();
        let z = ZTicket::from_json(&raw).unwrap();
        let t = to_ticket(&z, &raw, Some("Support".into()));
        assert_eq!(t.id.as_str(), "2");
        assert_eq!(
            t.subject.as_str(),
            "Mail to create fixture ticket for testing"
        );
        assert!(t.body.starts_with("Mail to create fixture ticket"));
        assert_eq!(t.status.as_str(), "solved");
        assert_eq!(t.priority, None);
        let q = t.queue.unwrap();
        assert_eq!(q.id.unwrap().as_str(), "360004077472");
        assert_eq!(q.name.unwrap().as_str(), "Support");
        assert_eq!(t.requester.unwrap().id.as_str(), "377922500012");
        assert_eq!(t.created_at.unwrap().as_str(), "2019-06-03T02:23:47Z");
        assert_eq!(t.raw, raw);
        assert_eq!(t.state, TicketState::of(StatusCategory::Solved));
    }

    #[test]
    fn null_subject_and_custom_fields() {
        let raw = json!({"id": 7, "subject": null, "status": "deleted",
                         "custom_fields": [{"id": 11, "value": "opt1"}, {"id": 12, "value": null}]});
        let t = to_ticket(&ZTicket::from_json(&raw).unwrap(), &raw, None);
        assert_eq!(t.subject.as_str(), "");
        assert_eq!(t.status.as_str(), "deleted");
        assert_eq!(t.queue, None);
        assert_eq!(t.custom_fields[0].value, json!("opt1"));
        assert_eq!(t.custom_fields[1].value, Value::Null);
        assert!(t.state.deleted);
    }

    #[test]
    fn ids_must_be_u64() {
        assert_eq!(parse_ticket_id("33144692244499").unwrap(), 33144692244499);
        let e = parse_ticket_id("abc").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Validation);
        assert!(e.message.contains("\"abc\""));
        assert!(parse_ticket_id("-1").is_err());
        assert!(parse_ticket_id("0").is_err());
    }

    #[test]
    fn priorities_are_validated() {
        assert_eq!(zendesk_priority(" High ").unwrap(), "high");
        let e = zendesk_priority("critical").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Validation);
        assert!(e.message.contains("low, normal, high, urgent"));
    }

    #[test]
    fn zendesk_statuses_map_onto_otai_states() {
        let tags = |t: &[&str]| rv(t);
        assert_eq!(ticket_state("hold", &[]).category, StatusCategory::Pending);
        assert_eq!(ticket_state("Solved", &[]).category, StatusCategory::Solved);
        let merged = ticket_state("closed", &tags(&["x", MERGED_TAG]));
        assert!(merged.merged && !merged.deleted);
        assert_eq!(merged.category, StatusCategory::Closed);
        assert!(ticket_state("deleted", &[]).deleted);
        assert_eq!(
            ticket_state("archived?", &[]).category,
            StatusCategory::Unknown
        );
    }

    #[test]
    fn tags_are_added_and_removed_without_clobbering() {
        let current = vec!["vip".to_string(), "billing".to_string(), "old".to_string()];
        assert_eq!(
            new_tags(&current, &rv(&["new", "VIP"]), &rv(&["old"])).unwrap(),
            vec!["vip", "billing", "new"]
        );
        assert_eq!(new_tags(&current, &rv(&["vip"]), &rv(&["absent"])), None);
    }

    #[test]
    fn update_body_merges_system_fields_and_drops_id() {
        let update = TicketUpdate {
            priority: Some("urgent".into()),
            status: Some("open".into()),
            custom_fields: vec![CustomField {
                id: "11".into(),
                value: json!("opt1"),
            }],
            note: Some(Note {
                body: "<b>x</b>".into(),
                html: true,
                public: false,
            }),
            system_fields: Some(json!({"id": 9, "type": "incident", "priority": "low",
                "custom_fields": [{"id": 11, "value": "no"}, {"id": 12, "value": 3}]})),
            ..Default::default()
        };
        let body = Value::Object(update_body(&update, Some(42)).unwrap());
        assert_eq!(
            body,
            json!({
                "type": "incident", "priority": "urgent", "status": "open", "group_id": 42,
                "custom_fields": [{"id": 12, "value": 3}, {"id": 11, "value": "opt1"}],
                "comment": {"html_body": "<b>x</b>", "public": false}
            })
        );
    }

    #[test]
    fn bad_system_fields_and_custom_fields_are_validation_errors() {
        let mut update = TicketUpdate {
            system_fields: Some(json!([1])),
            ..Default::default()
        };
        assert_eq!(
            update_body(&update, None).unwrap_err().kind,
            ErrorKind::Validation
        );
        update.system_fields = None;
        update.custom_fields = vec![CustomField {
            id: "x1".into(),
            value: json!(1),
        }];
        assert!(update_body(&update, None)
            .unwrap_err()
            .message
            .contains("\"x1\""));
    }
}
