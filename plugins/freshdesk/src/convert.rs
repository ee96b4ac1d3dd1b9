//! Freshdesk's numbers in otai's words and back: statuses, priorities, the group as the queue,
//! and the ticket as the host sees it.

use otai_plugin_sdk::{CustomField, Person, Queue, StatusCategory, Ticket, TicketState};

use crate::api::FdTicket;

/// The status name otai sees: `new` (Open, no group, no agent), `open`, `pending`, `resolved`,
/// `closed`, or `status N` for an account's own statuses.
pub fn status_name(t: &FdTicket) -> String {
    match t.status {
        2 if t.is_new() => "new".into(),
        2 => "open".into(),
        3 => "pending".into(),
        4 => "resolved".into(),
        5 => "closed".into(),
        n => format!("status {n}"),
    }
}

/// otai's category of a status name (an account's own statuses are waiting states in
/// Freshdesk's model: pending).
pub fn ticket_state(status: &str) -> TicketState {
    TicketState::of(match status {
        "new" => StatusCategory::New,
        "open" => StatusCategory::Open,
        "resolved" => StatusCategory::Solved,
        "closed" => StatusCategory::Closed,
        _ => StatusCategory::Pending,
    })
}

/// A status as the query names it (otai's names, Freshdesk's, or a number) → the Freshdesk
/// status it needs and whether it must also be unassigned (`new`).
pub fn status_code(name: &str) -> Option<(u64, Option<bool>)> {
    Some(match name.trim().to_ascii_lowercase().as_str() {
        "new" => (2, Some(true)),
        "open" => (2, Some(false)),
        "pending" => (3, None),
        "solved" | "resolved" => (4, None),
        "closed" => (5, None),
        n => (n.strip_prefix("status ").unwrap_or(n).parse().ok()?, None),
    })
}

/// Freshdesk priority → otai's name (Freshdesk's `Medium` is otai's `normal`).
pub fn priority_name(code: u64) -> Option<&'static str> {
    Some(match code {
        1 => "low",
        2 => "normal",
        3 => "high",
        4 => "urgent",
        _ => return None,
    })
}

/// otai's priority name (or Freshdesk's, or 1-4) → Freshdesk's code.
pub fn priority_code(name: &str) -> Option<u64> {
    Some(match name.trim().to_ascii_lowercase().as_str() {
        "low" | "1" => 1,
        "normal" | "medium" | "2" => 2,
        "high" | "3" => 3,
        "urgent" | "4" => 4,
        _ => return None,
    })
}

/// The otai ticket; `group_name` gives a group id's name.
pub fn to_ticket(t: &FdTicket, group_name: impl Fn(u64) -> Option<String>) -> Ticket {
    let status = status_name(t);
    Ticket {
        id: t.id.to_string(),
        subject: t.subject.clone(),
        body: body_text(t),
        state: ticket_state(&status),
        status,
        priority: t.priority.and_then(priority_name).map(str::to_string),
        queue: t.group_id.map(|id| Queue {
            id: Some(id.to_string()),
            name: group_name(id),
        }),
        tags: t.tags.clone(),
        custom_fields: t
            .custom_fields
            .iter()
            .map(|(name, value)| CustomField {
                id: name.clone(),
                value: value.clone(),
            })
            .collect(),
        requester: t.requester_id.map(|id| Person {
            id: id.to_string(),
            ..Person::default()
        }),
        created_at: t.created_at.clone(),
        updated_at: t.updated_at.clone(),
        raw: t.raw.clone(),
    }
}

/// The first message as plain text: `description_text`, or the HTML with its tags dropped.
pub fn body_text(t: &FdTicket) -> String {
    if let Some(text) = t
        .description_text
        .as_deref()
        .filter(|s| !s.trim().is_empty())
    {
        return text.trim().to_string();
    }
    t.description.as_deref().map(strip_html).unwrap_or_default()
}

/// Text of a small HTML fragment: tags dropped (block ends as line breaks), the common entities
/// decoded.
pub fn strip_html(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('>') else {
            rest = &rest[start..];
            break;
        };
        let tag = rest[start + 1..start + end]
            .trim_start_matches('/')
            .to_ascii_lowercase();
        if ["br", "p", "div", "li", "tr"]
            .iter()
            .any(|b| tag.starts_with(b))
        {
            out.push('\n');
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    unescape(&out)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The entities Freshdesk writes.
pub fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

/// Text as HTML: escaped, line breaks kept.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\n', "<br>")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn statuses_and_priorities_in_both_directions() {
        let mut t = FdTicket::parse(json!({"id": 1, "status": 2})).unwrap();
        assert_eq!(status_name(&t), "new");
        t.group_id = Some(5);
        assert_eq!(status_name(&t), "open");
        t.status = 4;
        assert_eq!(status_name(&t), "resolved");
        assert_eq!(ticket_state("resolved").category, StatusCategory::Solved);
        assert_eq!(ticket_state("status 7").category, StatusCategory::Pending);
        assert_eq!(status_code("new"), Some((2, Some(true))));
        assert_eq!(status_code("solved"), Some((4, None)));
        assert_eq!(status_code("status 7"), Some((7, None)));
        assert_eq!(status_code("later"), None);
        for code in 1..=4 {
            assert_eq!(priority_code(priority_name(code).unwrap()), Some(code));
        }
        assert_eq!(priority_code("Medium"), Some(2));
        assert_eq!(priority_code("critical"), None);
    }

    #[test]
    fn tickets_convert_with_their_group_name_and_text_body() {
        let t = FdTicket::parse(json!({
            "id": 42, "subject": "Card lost", "status": 2, "priority": 3, "group_id": 9,
            "description": "<div>I lost my card &amp; PIN<br>Help</div>", "tags": ["vip"],
            "custom_fields": {"cf_region": "EU"}, "requester_id": 77,
            "created_at": "2026-12-01T10:00:00Z", "updated_at": "2026-12-01T10:05:00Z"
        }))
        .unwrap();
        let ticket = to_ticket(&t, |id| (id == 9).then(|| "Cards".to_string()));
        assert_eq!(ticket.id, "42");
        assert_eq!(ticket.body, "I lost my card & PIN\nHelp");
        assert_eq!(ticket.status, "open");
        assert_eq!(ticket.priority.as_deref(), Some("high"));
        assert_eq!(ticket.queue.unwrap().name.as_deref(), Some("Cards"));
        assert_eq!(ticket.custom_fields[0].id, "cf_region");
        assert_eq!(ticket.requester.unwrap().id, "77");
        assert_eq!(
            escape("a <b> & \"c\"\nd"),
            "a &lt;b&gt; &amp; &quot;c&quot;<br>d"
        );
    }
}
