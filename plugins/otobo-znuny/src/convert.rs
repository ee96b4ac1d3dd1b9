//! GenericInterface ticket → otai ticket, and state names/types → otai's categories.
//!
//! Subject = `Title`; body = the first article's `Body`; status = `State`; priority = otai's name
//! for the `Priority` (the configured mapping, then by word: `1 very low` → low, `5 very high` →
//! urgent); queue = `Queue`/`QueueID`; tags = the tags field's values; custom fields = the other
//! dynamic fields. Times (`YYYY-MM-DD HH:MM:SS`, the system's time zone) are written as RFC 3339
//! with `Z`: OTOBO and Znuny run in UTC unless their `OTOBOTimeZone`/`OTRSTimeZone` says otherwise,
//! and otai only compares them with each other.

use otai_plugin_sdk::{CustomField, Person, Queue, Ticket, TicketState};

use crate::api::{values, GiTicket};

/// What a conversion needs from the config.
pub struct Shape<'a> {
    /// The tags field.
    pub tags_field: &'a str,
    /// otai priority → priority name.
    pub priorities: &'a [(String, String)],
}

/// The otai ticket for a TicketGet ticket.
pub fn to_ticket(t: &GiTicket, shape: &Shape<'_>) -> Ticket {
    let custom_fields = t
        .dynamic_fields
        .iter()
        .filter(|(name, value)| *name != shape.tags_field && !value.is_null())
        .map(|(name, value)| CustomField {
            id: name.clone(),
            value: value.clone(),
        })
        .collect();
    let state = state_of_name(t.state_type.as_deref().unwrap_or(&t.state));
    Ticket {
        id: t.id.to_string(),
        subject: t.title.clone(),
        body: t
            .articles
            .first()
            .map(|a| a.body.trim().to_string())
            .unwrap_or_default(),
        status: t.state.clone(),
        priority: t
            .priority
            .as_deref()
            .and_then(|p| otai_priority(p, shape.priorities))
            .map(str::to_string),
        queue: (t.queue.is_some() || t.queue_id.is_some()).then(|| Queue {
            id: t.queue_id.map(|id| id.to_string()),
            name: t.queue.clone(),
        }),
        tags: values(t.dynamic_fields.get(shape.tags_field)),
        custom_fields,
        requester: t.customer_user.as_ref().map(|login| Person {
            id: login.clone(),
            name: None,
            email: login.contains('@').then(|| login.clone()),
        }),
        created_at: t.created.as_deref().map(rfc3339),
        updated_at: t.changed.as_deref().map(rfc3339),
        raw: t.raw.clone(),
        state,
    }
}

/// `2026-12-01 10:00:05` → `2026-12-01T10:00:05Z`; anything else as it is.
pub fn rfc3339(time: &str) -> String {
    let t = time.trim();
    let bytes = t.as_bytes();
    if bytes.len() == 19 && bytes[10] == b' ' {
        format!("{}T{}Z", &t[..10], &t[11..])
    } else {
        t.to_string()
    }
}

/// `2026-12-01T10:00:05Z` → `2026-12-01 10:00:05`, the form the GenericInterface's time filters take.
pub fn gi_time(rfc: &str) -> String {
    let t = rfc.trim().trim_end_matches('Z');
    let t = t.split('.').next().unwrap_or(t);
    t.replacen('T', " ", 1).chars().take(19).collect()
}

/// otai's name for a priority: the configured mapping first, then by word.
pub fn otai_priority<'a>(name: &str, priorities: &'a [(String, String)]) -> Option<&'a str> {
    if let Some((otai, _)) = priorities
        .iter()
        .find(|(_, n)| n.eq_ignore_ascii_case(name))
    {
        return Some(otai.as_str());
    }
    let word = name.to_ascii_lowercase();
    let otai = if word.contains("very high") || word.contains("urgent") || word.contains("critical")
    {
        "urgent"
    } else if word.contains("high") {
        "high"
    } else if word.contains("normal") || word.contains("medium") {
        "normal"
    } else if word.contains("low") {
        "low"
    } else {
        return None;
    };
    priorities
        .iter()
        .find(|(o, _)| o == otai)
        .map(|(o, _)| o.as_str())
}

/// A state type (`new`, `open`, `closed`, `pending reminder`, `pending auto`, `merged`,
/// `removed`), or a state's name, by its first word: `closed successful` → closed, `pending auto
/// close+` → pending.
pub fn state_of_name(name: &str) -> TicketState {
    TicketState::from_first_word(name)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use otai_plugin_sdk::StatusCategory;

    use super::*;
    use crate::{api::tickets, config::DEFAULT_PRIORITIES};

    fn defaults() -> Vec<(String, String)> {
        DEFAULT_PRIORITIES
            .iter()
            .map(|(o, n)| (o.to_string(), n.to_string()))
            .collect()
    }

    #[test]
    fn a_gi_ticket_becomes_an_otai_ticket() {
        let t = &tickets(&json!({"Ticket": [{
            "TicketID": 7, "Title": "Karte", "Queue": "Raw", "QueueID": 2, "Priority": "5 very high",
            "State": "closed successful", "StateType": "closed", "Changed": "2026-12-01 10:00:05",
            "DynamicField": [{"Name": "OTAITags", "Value": ["a", "b"]}, {"Name": "Topic", "Value": "x"},
                             {"Name": "Empty", "Value": null}],
            "Article": [{"ArticleID": 1, "Body": " Text \n"}]
        }]}))
        .unwrap()[0];
        let p = defaults();
        let shape = Shape {
            tags_field: "OTAITags",
            priorities: &p,
        };
        let o = to_ticket(t, &shape);
        assert_eq!((o.id.as_str(), o.body.as_str()), ("7", "Text"));
        assert_eq!(o.priority.as_deref(), Some("urgent"));
        assert_eq!(o.tags, ["a", "b"]);
        assert_eq!(o.custom_fields.len(), 1);
        assert_eq!(o.state.category, StatusCategory::Closed);
        assert_eq!(o.updated_at.as_deref(), Some("2026-12-01T10:00:05Z"));
    }

    #[test]
    fn priorities_and_times() {
        let p = defaults();
        assert_eq!(otai_priority("1 very low", &p), Some("low"));
        assert_eq!(otai_priority("3 normal", &p), Some("normal"));
        assert_eq!(otai_priority("whatever", &p), None);
        assert_eq!(gi_time("2026-12-01T10:00:05Z"), "2026-12-01 10:00:05");
        assert_eq!(gi_time("2026-12-01T10:00:05.123Z"), "2026-12-01 10:00:05");
        assert!(state_of_name("merged").merged);
        assert_eq!(
            state_of_name("pending auto close+").category,
            StatusCategory::Pending
        );
    }
}
