//! Writing a decision back: two requests with nothing atomic between them, arranged so that no
//! interruption ever gives a second note, loses a ticket, or overwrites an agent silently.
//!
//! Freshdesk writes fields (`PUT /tickets/{id}`: group, priority, custom fields, the whole tag
//! list) and notes (`POST /tickets/{id}/notes`) in separate requests and has no optimistic
//! concurrency. So otai writes
//!
//! 1. **its private note first**, ending with a line `[otai] plan: {...}` that records the whole
//!    write to come (group, priority, status, custom fields, the tags to add and remove);
//! 2. **then the fields**, with the tags merged into the ticket's own (a `PUT` replaces the tag
//!    list; nothing of the agents' is dropped), alone or in a bulk job ([`crate::bulk`]).
//!
//! If otai stops between the two, the ticket is still unassigned (otai's `new`), so it is found
//! again. Before writing, a ticket that changed after it was created (a note moves `updated_at`)
//! has its conversations read: one carrying otai's note whose plan's tags are missing is an
//! unfinished write of otai's. If nobody touched the ticket since the note (its `updated_at`
//! within [`OWN_WRITE_WINDOW`] of it), the plan is applied as written, whatever the new pass
//! decided; if someone did, only otai's tags are added (the agent's changes stand, the note says
//! what otai suggested). Either way no second note.
//!
//! Conflicts: the host passes the `updated_at` it read; a ticket that changed since is not
//! written (`conflict`), the next pass decides again. The window left (between the re-read and
//! the `PUT`, milliseconds) is last-writer-wins for the fields; tags are merged, never lost.

use std::time::Duration;

use otai_plugin_sdk::{Error, ErrorKind, Note, Ticket, TicketUpdate};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::{
    api::{FdConversation, FdTicket},
    client::FreshdeskDesk,
    convert,
    find::parse_time,
};

/// The line otai's notes end with, before the plan as JSON.
pub const MARKER: &str = "[otai] plan:";

/// How long after otai's note the ticket may have last changed for the note to count as otai's
/// own unfinished write (the second request takes milliseconds; an agent's later edit moves
/// `updated_at` past this).
pub const OWN_WRITE_WINDOW: Duration = Duration::from_secs(120);

/// Everything the second request writes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Group id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<u64>,
    /// Priority code (1-4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u64>,
    /// Status code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u64>,
    /// Custom fields by name.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub custom_fields: Map<String, Value>,
    /// Other fields (the update's `system_fields`).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
    /// Tags to add.
    #[serde(default)]
    pub add_tags: Vec<String>,
    /// Tags to remove.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove_tags: Vec<String>,
}

impl Plan {
    /// Whether `tags` already carry what the plan says.
    pub fn tags_done(&self, tags: &[String]) -> bool {
        self.add_tags.iter().all(|t| has_tag(tags, t))
            && !self.remove_tags.iter().any(|t| has_tag(tags, t))
    }

    /// Only the tags of the plan (for a ticket an agent touched since otai's note).
    fn tags_only(&self) -> Plan {
        Plan {
            add_tags: self.add_tags.clone(),
            remove_tags: self.remove_tags.clone(),
            ..Plan::default()
        }
    }

    /// The `PUT` body for a ticket with `tags`; `None` if there is nothing to write.
    pub fn body(&self, tags: &[String]) -> Option<Value> {
        let mut body = self.extra.clone();
        if let Some(g) = self.group_id {
            body.insert("group_id".into(), g.into());
        }
        if let Some(p) = self.priority {
            body.insert("priority".into(), p.into());
        }
        if let Some(s) = self.status {
            body.insert("status".into(), s.into());
        }
        if !self.custom_fields.is_empty() {
            body.insert(
                "custom_fields".into(),
                Value::Object(self.custom_fields.clone()),
            );
        }
        let merged = merge_tags(tags, &self.add_tags, &self.remove_tags);
        if merged != tags {
            body.insert("tags".into(), json!(merged));
        }
        (!body.is_empty()).then_some(Value::Object(body))
    }
}

/// The ticket's tags with `add` appended (if missing, any case) and `remove` dropped.
pub fn merge_tags(tags: &[String], add: &[String], remove: &[String]) -> Vec<String> {
    let mut out: Vec<String> = tags
        .iter()
        .filter(|t| !has_tag(remove, t))
        .cloned()
        .collect();
    for t in add {
        if !has_tag(&out, t) {
            out.push(t.clone());
        }
    }
    out
}

fn has_tag(tags: &[String], tag: &str) -> bool {
    tags.iter().any(|t| t.eq_ignore_ascii_case(tag))
}

/// What to send for one ticket.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The fields and tags.
    pub plan: Plan,
    /// The note's HTML (with the plan line), if a note goes first.
    pub note: Option<String>,
    /// The ticket's tags now (what the `PUT` merges into).
    pub tags: Vec<String>,
    /// Whether this finishes an interrupted write (from its note's plan).
    pub resumed: bool,
}

/// Checks `update` against the ticket as read right before (`None`: it is gone) and works out
/// what to send: a new write, or the rest of an unfinished one.
pub async fn prepare(
    desk: &FreshdeskDesk,
    id: u64,
    current: Option<&FdTicket>,
    update: &TicketUpdate,
) -> Result<Prepared, Error> {
    let current = current.ok_or_else(|| {
        Error::new(
            ErrorKind::NotFound,
            format!("there is no ticket {id} (deleted, or otai's agent may not see it)"),
        )
    })?;
    if let Some(since) = &update.if_unchanged_since {
        let now = current.updated_at.clone().unwrap_or_default();
        if !same_instant(since, &now) {
            return Err(Error::new(
                ErrorKind::Conflict,
                format!(
                    "ticket {id} changed since otai read it (updated_at {since}, now {now}); \
                     nothing was written, the next pass decides again"
                ),
            ));
        }
    }
    if let Some(plan) = unfinished(desk, current).await? {
        desk.http.log().info("otai_freshdesk::write", || {
            format!(
                "ticket {id} carries otai's note of an interrupted write; finishing it (no second \
                 note)"
            )
        });
        return Ok(Prepared {
            plan,
            note: None,
            tags: current.tags.clone(),
            resumed: true,
        });
    }
    fresh(desk, current, update).await
}

/// A new write of `update` (no interrupted one to finish).
pub async fn fresh(
    desk: &FreshdeskDesk,
    current: &FdTicket,
    update: &TicketUpdate,
) -> Result<Prepared, Error> {
    let plan = plan_of_update(desk, update).await?;
    let note = update.note.as_ref().map(|n| note_html(n, Some(&plan)));
    Ok(Prepared {
        plan,
        note,
        tags: current.tags.clone(),
        resumed: false,
    })
}

/// Whether an update only marks the ticket (otai's failed or routed tag, no fields): such a
/// mark goes ahead when an unfinished plan can never be applied (Freshdesk refuses it), so the
/// ticket ends marked instead of failing every pass.
pub fn is_mark(update: &TicketUpdate) -> bool {
    update.queue.is_none()
        && update.priority.is_none()
        && update.status.is_none()
        && update.custom_fields.is_empty()
        && !update.add_tags.is_empty()
}

/// Writes `update` to ticket `id`, given the ticket as read right before: note, then fields.
pub async fn update(
    desk: &FreshdeskDesk,
    id: u64,
    current: Option<FdTicket>,
    update: &TicketUpdate,
) -> Result<Ticket, Error> {
    let prepared = prepare(desk, id, current.as_ref(), update).await?;
    let current = current.unwrap_or_default();
    let after = write_one(desk, id, &current, update, prepared).await?;
    desk.forget(id);
    Ok(desk.to_tickets(&[after]).await?.remove(0))
}

/// Note (if any), then fields, for one ticket; a refused unfinished plan gives way to a mark.
pub async fn write_one(
    desk: &FreshdeskDesk,
    id: u64,
    current: &FdTicket,
    update: &TicketUpdate,
    prepared: Prepared,
) -> Result<FdTicket, Error> {
    if let Some(html) = &prepared.note {
        post_note(desk, id, html, &prepared.plan).await?;
    }
    let Some(body) = prepared.plan.body(&prepared.tags) else {
        finished(desk, id);
        return Ok(current.clone());
    };
    let noted = prepared.note.is_some() || prepared.resumed;
    let written = put(desk, id, &body).await.map_err(|e| {
        if noted && e.http_status == Some(400) {
            e.context("otai's note is on the ticket; Freshdesk refused the fields it records")
        } else {
            e
        }
    });
    if written.is_ok() {
        finished(desk, id);
    }
    match written {
        Err(e) if prepared.resumed && e.http_status == Some(400) && is_mark(update) => {
            desk.http.log().warn("otai_freshdesk::write", || {
                format!(
                    "ticket {id}: Freshdesk refuses the plan of otai's interrupted write ({}); \
                     marking the ticket instead",
                    e.message
                )
            });
            let mark = fresh(desk, current, update).await?;
            Box::pin(write_one(desk, id, current, update, mark)).await
        }
        other => other,
    }
}

/// `PUT /tickets/{id}`: the ticket afterwards.
pub async fn put(desk: &FreshdeskDesk, id: u64, body: &Value) -> Result<FdTicket, Error> {
    let path = format!("/api/v2/tickets/{id}");
    let raw: Value = desk.http.put(&path, body).await?;
    FdTicket::parse(raw).map_err(|e| {
        Error::new(
            ErrorKind::InvalidResponse,
            format!("PUT {path}: Freshdesk's answer does not read as a ticket: {e}"),
        )
    })
}

/// A note alone (the host's `add_note`): private unless `note.public`.
pub async fn add_note(
    desk: &FreshdeskDesk,
    id: u64,
    note: &Note,
    plan: Option<&Plan>,
) -> Result<(), Error> {
    let html = note_html(note, plan);
    let path = format!("/api/v2/tickets/{id}/notes");
    let _: Value = desk
        .http
        .post(&path, &json!({"body": html, "private": !note.public}))
        .await?;
    Ok(())
}

/// `POST /tickets/{id}/notes`, private; the plan is kept until the fields are written.
pub async fn post_note(
    desk: &FreshdeskDesk,
    id: u64,
    html: &str,
    plan: &Plan,
) -> Result<(), Error> {
    let path = format!("/api/v2/tickets/{id}/notes");
    let _: Value = desk
        .http
        .post(&path, &json!({"body": html, "private": true}))
        .await?;
    lock(&desk.noted).insert(id, plan.clone());
    Ok(())
}

/// The ticket's write is complete: its plan is no longer kept.
pub fn finished(desk: &FreshdeskDesk, id: u64) {
    lock(&desk.noted).remove(&id);
}

/// The note's HTML, ending with the plan line when there is a plan.
pub fn note_html(note: &Note, plan: Option<&Plan>) -> String {
    let mut html = if note.html {
        note.body.clone()
    } else {
        convert::escape(&note.body)
    };
    if let Some(plan) = plan {
        let line = serde_json::to_string(plan).unwrap_or_default();
        html.push_str(&format!("<br><br>{MARKER} {}", convert::escape(&line)));
    }
    html
}

/// The plan recorded in a note's text, if it has one.
pub fn plan_in(text: &str) -> Option<Plan> {
    let line = text.lines().rev().find_map(|l| {
        let at = l.find(MARKER)?;
        Some(l[at + MARKER.len()..].trim().to_string())
    })?;
    serde_json::from_str(&line).ok()
}

/// The fields and tags an update asks for, names resolved (an unknown group is refused here,
/// before anything is written).
async fn plan_of_update(desk: &FreshdeskDesk, update: &TicketUpdate) -> Result<Plan, Error> {
    let group_id = match &update.queue {
        None => None,
        Some(q) => Some(match (&q.id, &q.name) {
            (Some(id), _) if id.parse::<u64>().is_ok() => id.parse().unwrap_or_default(),
            (_, Some(name)) => desk.group_id(name).await?,
            (Some(other), None) => desk.group_id(other).await?,
            (None, None) => {
                return Err(Error::new(
                    ErrorKind::Validation,
                    "a queue with neither id nor name",
                ))
            }
        }),
    };
    let priority = match &update.priority {
        None => None,
        Some(p) => Some(convert::priority_code(p).ok_or_else(|| {
            Error::new(
                ErrorKind::Validation,
                format!(
                    "unknown priority \"{p}\": Freshdesk's are low, normal (medium), high, urgent"
                ),
            )
        })?),
    };
    let status = match &update.status {
        None => None,
        Some(s) => Some(
            convert::status_code(s)
                .map(|(code, _)| code)
                .ok_or_else(|| {
                    Error::new(
                ErrorKind::Validation,
                format!("unknown status \"{s}\": Freshdesk's are open, pending, resolved, closed"),
            )
                })?,
        ),
    };
    let extra = match &update.system_fields {
        None => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => {
            return Err(Error::new(
                ErrorKind::Validation,
                "system_fields must be a JSON object of Freshdesk ticket fields",
            ))
        }
    };
    Ok(Plan {
        group_id,
        priority,
        status,
        custom_fields: update
            .custom_fields
            .iter()
            .map(|f| (f.id.clone(), f.value.clone()))
            .collect(),
        extra,
        add_tags: update.add_tags.clone(),
        remove_tags: update.remove_tags.clone(),
    })
}

/// The rest of an unfinished write of otai's on this ticket, if there is one.
///
/// A plan this service noted and did not finish is known without asking. Otherwise the
/// conversations are read when otai's note could be there: the ticket changed after it was
/// created (a note moves `updated_at`), or it is older than this service (an earlier run may have
/// noted it; read once, whatever Freshdesk does with `updated_at` on notes).
async fn unfinished(desk: &FreshdeskDesk, t: &FdTicket) -> Result<Option<Plan>, Error> {
    let own = lock(&desk.noted).get(&t.id).cloned();
    if let Some(plan) = own {
        return Ok((!plan.tags_done(&t.tags)).then_some(plan));
    }
    let changed = t.updated_at.is_some() && t.updated_at != t.created_at;
    let older = t
        .created_at
        .as_deref()
        .and_then(parse_time)
        .is_none_or(|c| c < desk.started - Duration::from_secs(300));
    let may_carry_a_note = changed || (older && !lock(&desk.checked).contains(&t.id));
    if !may_carry_a_note {
        return Ok(None);
    }
    let me = desk.me().await?.id;
    let notes = conversations(desk, t.id).await?;
    let plan = unfinished_plan(t, &notes, me);
    if plan.is_none() {
        lock(&desk.checked).insert(t.id);
    }
    Ok(plan)
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The decision on a ticket and its conversations: the plan to finish, if any.
pub fn unfinished_plan(t: &FdTicket, notes: &[FdConversation], me: u64) -> Option<Plan> {
    let (note, plan) = notes.iter().rev().find_map(|c| {
        if !c.private || c.user_id != Some(me) {
            return None;
        }
        let text = c
            .body_text
            .clone()
            .unwrap_or_else(|| convert::unescape(&c.body.replace("<br>", "\n")));
        plan_in(&text).map(|p| (c, p))
    })?;
    if plan.tags_done(&t.tags) {
        return None;
    }
    let untouched = match (
        t.updated_at.as_deref().and_then(parse_time),
        note.created_at.as_deref().and_then(parse_time),
    ) {
        (Some(updated), Some(noted)) => updated - noted <= OWN_WRITE_WINDOW,
        _ => false,
    };
    Some(if untouched { plan } else { plan.tags_only() })
}

/// Every conversation of a ticket (pages of 100).
async fn conversations(desk: &FreshdeskDesk, id: u64) -> Result<Vec<FdConversation>, Error> {
    let path = format!("/api/v2/tickets/{id}/conversations");
    let mut all = Vec::new();
    for page in 1..=50u32 {
        let list: Vec<FdConversation> = desk
            .http
            .get(
                &path,
                &[("per_page", "100".into()), ("page", page.to_string())],
            )
            .await?;
        let full = list.len() == 100;
        all.extend(list);
        if !full {
            break;
        }
    }
    Ok(all)
}

/// Whether two stamps are the same instant (Freshdesk writes `Z`; a host may pass `+00:00`).
fn same_instant(a: &str, b: &str) -> bool {
    match (parse_time(a), parse_time(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn conversation(body_text: &str, at: &str, by: u64) -> FdConversation {
        serde_json::from_value(json!({"id": 1, "body": "", "body_text": body_text,
            "private": true, "source": 2, "user_id": by, "created_at": at}))
        .unwrap()
    }

    #[test]
    fn the_note_carries_the_plan_and_reads_back() {
        let plan = Plan {
            group_id: Some(5),
            priority: Some(3),
            add_tags: vec!["otai_processed".into(), "a<b".into()],
            ..Plan::default()
        };
        let html = note_html(
            &Note {
                body: "Queue: Cards\n<x>".into(),
                ..Note::default()
            },
            Some(&plan),
        );
        assert!(
            html.starts_with("Queue: Cards<br>&lt;x&gt;<br><br>[otai] plan: {&quot;"),
            "{html}"
        );
        let text = convert::unescape(&html.replace("<br>", "\n"));
        assert_eq!(plan_in(&text), Some(plan));
        assert_eq!(plan_in("no plan here"), None);
    }

    #[test]
    fn tags_merge_and_the_put_body_holds_only_what_changes() {
        let tags = vec!["vip".to_string(), "Old".to_string()];
        let plan = Plan {
            group_id: Some(9),
            add_tags: vec!["VIP".into(), "otai_processed".into()],
            remove_tags: vec!["old".into()],
            ..Plan::default()
        };
        assert_eq!(
            plan.body(&tags).unwrap(),
            json!({"group_id": 9, "tags": ["vip", "otai_processed"]})
        );
        let done = vec!["vip".to_string(), "otai_processed".to_string()];
        assert!(plan.tags_done(&done));
        assert_eq!(plan.tags_only().body(&done), None);
    }

    #[test]
    fn an_interrupted_write_of_our_own_is_recognised() {
        let plan = Plan {
            group_id: Some(9),
            add_tags: vec!["otai_processed".into()],
            ..Plan::default()
        };
        let line = format!("Routed\n{MARKER} {}", serde_json::to_string(&plan).unwrap());
        let ticket = |updated: &str, tags: &[&str]| {
            FdTicket::parse(
                json!({"id": 3, "status": 2, "created_at": "2026-12-01T10:00:00Z",
                                   "updated_at": updated, "tags": tags}),
            )
            .unwrap()
        };
        let notes = [conversation(&line, "2026-12-01T10:01:00Z", 1001)];
        let fresh = ticket("2026-12-01T10:01:00Z", &[]);
        assert_eq!(unfinished_plan(&fresh, &notes, 1001), Some(plan.clone()));
        assert_eq!(
            unfinished_plan(&fresh, &notes, 7),
            None,
            "another agent's note"
        );
        let done = ticket("2026-12-01T10:01:00Z", &["otai_processed"]);
        assert_eq!(unfinished_plan(&done, &notes, 1001), None, "finished");
        let touched = ticket("2026-12-01T11:00:00Z", &[]);
        assert_eq!(
            unfinished_plan(&touched, &notes, 1001).unwrap(),
            Plan {
                add_tags: plan.add_tags.clone(),
                ..Plan::default()
            },
            "an agent's later edit stands: only otai's tags"
        );
        assert!(same_instant(
            "2026-12-01T10:00:00Z",
            "2026-12-01T10:00:00+00:00"
        ));
    }
}
