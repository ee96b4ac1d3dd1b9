//! Writing a decision back, so that no interruption is ever taken for an agent's routing.
//!
//! TicketUpdate is one request but not a transaction: it validates, then runs its setters one by
//! one (queue, state, priority, ...), then creates the article, then sets the dynamic fields. A
//! failure midway leaves, say, the queue changed and nothing else; the next pass would see a
//! ticket outside the inbox without otai's tags, i.e. one an agent routed by hand. So otai writes
//! in two steps:
//!
//! 1. **The note first**, alone (one TicketUpdate with only the article): otai's internal note,
//!    ending with a line `[otai] plan: {...}` that records the whole write to come (queue,
//!    priority, state, dynamic fields, the tags field's new value).
//! 2. **Then the fields** (one TicketUpdate: `Ticket` and `DynamicField`; the tags field is set
//!    last of all by the system itself).
//!
//! Before writing, the ticket is read again (one batched TicketGet per batch): a ticket whose
//! `Changed` moved since otai read it is a `conflict` and nothing is written. A ticket that
//! carries otai's note but not all the tags its plan promises (step 2 never ran, or stopped
//! between setters) and that nobody else touched since (its `Changed` within
//! [`OWN_WRITE_WINDOW`] of the note) is finished from the plan: step 2 again, no second note,
//! whatever the new pass decided. Without a note (`note: false`) both steps are one TicketUpdate
//! and there is nothing to resume from (documented in the README).
//!
//! Tags live in a dynamic field that only otai writes (`tags_field`): its new value is the old
//! one plus otai's tags, so nothing is lost.

use std::time::Duration;

use otai_plugin_sdk::{Error, ErrorKind, Note, Ticket, TicketUpdate};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::{
    api::{values, GiArticle, GiTicket},
    client::{df, OtoboDesk},
    config::{ArticleModel, TagsAs},
    convert::rfc3339,
    gi::Operation,
};

/// The line otai's notes end with, before the plan as JSON.
pub const MARKER: &str = "[otai] plan:";

/// How long after otai's note the ticket may have last changed for the note to count as otai's
/// own unfinished write (its second step takes milliseconds; an agent's later edit moves
/// `Changed` past this, and the agent's intent then wins).
pub const OWN_WRITE_WINDOW: Duration = Duration::from_secs(120);

/// Everything the second step writes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Queue name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    /// Queue id (when otai was given no name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_id: Option<String>,
    /// Priority name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    /// State name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Other dynamic fields.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub fields: Map<String, Value>,
    /// The tags field's new value.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// Writes `update` to ticket `id`, given the ticket as read right before (`None`: it is gone).
pub async fn update(
    desk: &OtoboDesk,
    id: u64,
    current: Option<GiTicket>,
    update: &TicketUpdate,
) -> Result<Ticket, Error> {
    let current = current.ok_or_else(|| {
        Error::new(
            ErrorKind::NotFound,
            format!("there is no ticket {id} (or otai's agent may not see it)"),
        )
    })?;
    if let Some(since) = &update.if_unchanged_since {
        let now = current.changed.as_deref().map(rfc3339).unwrap_or_default();
        if *since != now {
            return Err(Error::new(
                ErrorKind::Conflict,
                format!(
                    "ticket {id} changed since otai read it (Changed {since}, now {now}); nothing \
                     was written, the next pass decides again"
                ),
            ));
        }
    }
    let tags_now = values(current.dynamic_fields.get(&desk.config.tags_field));
    if let Some(plan) = unfinished_plan(&current, &tags_now) {
        desk.http().log().info("otai_otobo_znuny::write", || {
            format!(
                "ticket {id} carries otai's note of an interrupted write; finishing it from the \
                 note's plan (no second note)"
            )
        });
        match apply(desk, id, &plan).await {
            Ok(()) => return Ok(after(desk, current, &plan)),
            // The plan can never be applied (a queue or priority the system refuses): a mark
            // (failed or routed) goes ahead, so the ticket ends marked and leaves the search.
            Err(e) if e.kind == ErrorKind::Validation && is_mark(update) => {}
            Err(e) => return Err(e.context("finishing otai's interrupted write from its note")),
        }
    }
    let plan = plan_for(desk, update, &tags_now)?;
    match &update.note {
        Some(note) => {
            add_note(desk, id, note, &[(MARKER, &plan)]).await?;
            apply(desk, id, &plan).await.map_err(|e| {
                e.context("otai's note is written, the fields are not yet; the next pass finishes them from the note")
            })?;
        }
        None => apply(desk, id, &plan).await?,
    }
    Ok(after(desk, current, &plan))
}

/// An update that only marks the ticket (tags, perhaps a note) and routes nothing.
fn is_mark(update: &TicketUpdate) -> bool {
    update.queue.is_none()
        && update.priority.is_none()
        && update.status.is_none()
        && update.custom_fields.is_empty()
}

/// The plan for `update` on a ticket whose tags field holds `tags_now`.
fn plan_for(desk: &OtoboDesk, update: &TicketUpdate, tags_now: &[String]) -> Result<Plan, Error> {
    let priority = match &update.priority {
        None => None,
        Some(p) => Some(
            desk.config
                .priorities
                .iter()
                .find(|(o, _)| o == p)
                .map(|(_, name)| name.clone())
                .ok_or_else(|| {
                    Error::new(
                        ErrorKind::Validation,
                        format!("unknown priority \"{p}\" (otai's are low, normal, high, urgent)"),
                    )
                })?,
        ),
    };
    let mut tags: Vec<String> = tags_now.to_vec();
    for tag in &update.add_tags {
        if !tags.iter().any(|t| t.eq_ignore_ascii_case(tag)) {
            tags.push(tag.clone());
        }
    }
    tags.retain(|t| !update.remove_tags.iter().any(|r| r.eq_ignore_ascii_case(t)));
    let mut fields = Map::new();
    for field in &update.custom_fields {
        fields.insert(field.id.clone(), field.value.clone());
    }
    let queue = update.queue.as_ref();
    Ok(Plan {
        queue: queue.and_then(|q| q.name.clone()),
        queue_id: queue
            .filter(|q| q.name.is_none())
            .and_then(|q| q.id.clone()),
        priority,
        state: update.status.clone(),
        fields,
        tags: if update.add_tags.is_empty() && update.remove_tags.is_empty() {
            Vec::new()
        } else {
            tags
        },
    })
}

/// The second step: one TicketUpdate with the ticket fields and the dynamic fields.
async fn apply(desk: &OtoboDesk, id: u64, plan: &Plan) -> Result<(), Error> {
    let mut ticket = Map::new();
    if let Some(q) = &plan.queue {
        ticket.insert("Queue".into(), json!(q));
    } else if let Some(q) = &plan.queue_id {
        ticket.insert("QueueID".into(), json!(q));
    }
    if let Some(p) = &plan.priority {
        ticket.insert("Priority".into(), json!(p));
    }
    if let Some(s) = &plan.state {
        ticket.insert("State".into(), json!(s));
    }
    let mut dynamic: Vec<Value> = plan
        .fields
        .iter()
        .map(|(name, value)| df(name, value.clone()))
        .collect();
    if !plan.tags.is_empty() {
        let value = match desk.config.tags_as {
            TagsAs::List => json!(plan.tags),
            TagsAs::Text => json!(plan.tags.join(", ")),
        };
        // Last: the tags field's value is what says the write is complete.
        dynamic.push(df(&desk.config.tags_field, value));
    }
    let mut data = Map::new();
    if !ticket.is_empty() {
        data.insert("Ticket".into(), Value::Object(ticket));
    }
    if !dynamic.is_empty() {
        data.insert("DynamicField".into(), Value::Array(dynamic));
    }
    if data.is_empty() {
        return Ok(());
    }
    update_call(desk, id, data).await
}

/// A note on its own (TicketUpdate with only the article), ending with `records` as marker lines.
pub async fn add_note(
    desk: &OtoboDesk,
    id: u64,
    note: &Note,
    records: &[(&str, &Plan)],
) -> Result<(), Error> {
    let mut body = note.body.clone();
    for (marker, plan) in records {
        let line = format!(
            "{marker} {}",
            serde_json::to_string(plan).unwrap_or_default()
        );
        if note.html {
            body.push_str(&format!("<p>{}</p>", html_escape(&line)));
        } else {
            body.push_str("\n\n");
            body.push_str(&line);
        }
    }
    let content_type = if note.html {
        "text/html; charset=utf-8"
    } else {
        "text/plain; charset=utf-8"
    };
    let mut article = json!({
        "Subject": "otai",
        "Body": body,
        "ContentType": content_type,
        "SenderType": "agent",
        "HistoryType": "AddNote",
        "HistoryComment": "otai",
    });
    match desk.config.article_model {
        ArticleModel::Channel => {
            article["CommunicationChannel"] = json!("Internal");
            article["IsVisibleForCustomer"] = json!(if note.public { 1 } else { 0 });
        }
        ArticleModel::Legacy => {
            article["ArticleType"] = json!(if note.public {
                "note-external"
            } else {
                "note-internal"
            });
        }
    }
    let mut data = Map::new();
    data.insert("Article".into(), article);
    update_call(desk, id, data).await
}

async fn update_call(desk: &OtoboDesk, id: u64, mut data: Map<String, Value>) -> Result<(), Error> {
    let route = &desk.config.routes.update;
    if !route.has_ticket_id() {
        data.insert("TicketID".into(), json!(id.to_string()));
    }
    desk.gi
        .call(Operation::TicketUpdate, route, &id.to_string(), data)
        .await
        .map(drop)
}

/// The plan of otai's unfinished write on this ticket, if it has one (module docs).
pub fn unfinished_plan(t: &GiTicket, tags_now: &[String]) -> Option<Plan> {
    let (note, plan) = t.articles.iter().rev().find_map(|a| {
        (!a.visible_for_customer && a.sender_type.eq_ignore_ascii_case("agent"))
            .then(|| plan_of(a).map(|p| (a, p)))
            .flatten()
    })?;
    let missing = plan
        .tags
        .iter()
        .any(|tag| !tags_now.iter().any(|t| t.eq_ignore_ascii_case(tag)));
    if !missing {
        return None;
    }
    let noted = seconds(note.create_time.as_deref()?)?;
    let changed = seconds(t.changed.as_deref()?)?;
    let since = changed - noted;
    (since >= -1 && since <= OWN_WRITE_WINDOW.as_secs() as i64).then_some(plan)
}

fn plan_of(article: &GiArticle) -> Option<Plan> {
    let text = article.body.replace("&quot;", "\"").replace("&amp;", "&");
    let line = text.lines().rev().find_map(|l| {
        let l = l.trim().trim_start_matches("<p>").trim_end_matches("</p>");
        l.strip_prefix(MARKER)
    })?;
    serde_json::from_str(line.trim()).ok()
}

/// The ticket as it is after the write.
fn after(desk: &OtoboDesk, mut t: GiTicket, plan: &Plan) -> Ticket {
    if let Some(q) = &plan.queue {
        t.queue = Some(q.clone());
        t.queue_id = None;
    }
    if let Some(p) = &plan.priority {
        t.priority = Some(p.clone());
    }
    if let Some(s) = &plan.state {
        t.state = s.clone();
        t.state_type = None;
    }
    for (k, v) in &plan.fields {
        t.dynamic_fields.insert(k.clone(), v.clone());
    }
    if !plan.tags.is_empty() {
        t.dynamic_fields
            .insert(desk.config.tags_field.clone(), json!(plan.tags));
    }
    desk.to_ticket(&t)
}

/// `YYYY-MM-DD HH:MM:SS` as seconds since the epoch (taken as UTC: only differences matter).
fn seconds(time: &str) -> Option<i64> {
    let format = time::format_description::parse_borrowed::<2>(
        "[year]-[month]-[day] [hour]:[minute]:[second]",
    )
    .ok()?;
    let t = time.trim();
    let t = t.get(..19).unwrap_or(t);
    Some(
        time::PrimitiveDateTime::parse(t, &format)
            .ok()?
            .assume_utc()
            .unix_timestamp(),
    )
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::tickets;

    fn ticket(changed: &str, tags: Value, notes: Value) -> GiTicket {
        let mut articles = vec![
            json!({"ArticleID": 1, "Body": "Hallo", "SenderType": "customer",
                                       "IsVisibleForCustomer": 1, "CreateTime": "2026-12-01 09:00:00"}),
        ];
        articles.extend(notes.as_array().cloned().unwrap_or_default());
        tickets(
            &json!({"Ticket": [{"TicketID": 7, "Title": "t", "State": "new", "Changed": changed,
            "DynamicField": [{"Name": "OTAITags", "Value": tags}], "Article": articles}]}),
        )
        .unwrap()
        .remove(0)
    }

    fn note(at: &str, plan: &Plan) -> Value {
        json!({"ArticleID": 2, "SenderType": "agent", "IsVisibleForCustomer": 0, "CreateTime": at,
               "Body": format!("otai classified this ticket.\n\n{MARKER} {}", serde_json::to_string(plan).unwrap())})
    }

    fn plan() -> Plan {
        Plan {
            queue: Some("Cards".into()),
            priority: Some("4 high".into()),
            tags: vec!["otai_intent__card".into(), "otai_processed".into()],
            ..Plan::default()
        }
    }

    #[test]
    fn an_interrupted_write_is_found_with_its_plan() {
        let at = "2026-12-01 10:00:00";
        // Stopped after the queue setter: the note is there, the tags are not.
        let t = ticket(
            "2026-12-01 10:00:01",
            Value::Null,
            json!([note(at, &plan())]),
        );
        assert_eq!(unfinished_plan(&t, &[]), Some(plan()));
        // Finished.
        let done = [
            "otai_intent__card".to_string(),
            "OTAI_PROCESSED".to_string(),
        ];
        assert_eq!(unfinished_plan(&t, &done), None);
        // An agent changed the ticket an hour later: the agent wins.
        let later = ticket(
            "2026-12-01 11:00:00",
            Value::Null,
            json!([note(at, &plan())]),
        );
        assert_eq!(unfinished_plan(&later, &[]), None);
        // A customer-visible article with the same line is not otai's note.
        let mut visible = note(at, &plan());
        visible["IsVisibleForCustomer"] = json!(1);
        let t = ticket("2026-12-01 10:00:01", Value::Null, json!([visible]));
        assert_eq!(unfinished_plan(&t, &[]), None);
    }

    #[test]
    fn seconds_count_across_days_and_years() {
        assert_eq!(seconds("1970-01-01 00:00:00"), Some(0));
        assert_eq!(seconds("2000-03-01 00:00:00"), Some(951_868_800));
        let a = seconds("2026-12-31 23:59:59").unwrap();
        assert_eq!(seconds("2027-01-01 00:00:00").unwrap() - a, 1);
        assert_eq!(seconds("nope"), None);
    }
}
