//! Writing a decision back: fields and otai's internal note in one `PUT /tickets/{id}` (Zammad
//! applies the nested article and the field changes in one transaction), then each tag with its own
//! `POST /tags/add` (Zammad takes one tag per call, and adding one that is there is a no-op).
//!
//! The write as a whole is not atomic, so it is made resumable:
//! - **Read right before writing.** `GET /tickets/{id}?all=true` (ticket, articles, tags in one
//!   request). A ticket whose `updated_at` moved since otai read it is a `conflict`: nothing is
//!   written, the next pass decides again. Zammad has no conditional update, so an agent's change
//!   that lands between this read and the `PUT` (milliseconds) is still overwritten by the `PUT`'s
//!   fields; tags are only ever added, never replaced, so an agent's tags always survive.
//! - **The note says what is still to come.** otai's note ends with a line `[otai] tags: a, b`
//!   naming the tags this write adds. If the process dies (or a tag call fails) after the `PUT`,
//!   the next pass finds the ticket still without otai's tags; before writing anything, the
//!   adapter recognises its own note (an internal article by the API user with that line,
//!   and nothing else touched the ticket since: its `updated_at` within [`OWN_WRITE_WINDOW`] of
//!   the note) and only adds the tags that are missing. The pass's new decision for that ticket
//!   is not applied: the first one stands, and there is never a second note.
//! - Without a note (`note: false`) there is nothing to resume from: a crash between the `PUT`
//!   and the tags leaves the fields written and the tags missing, and the next pass sees an
//!   already routed ticket.

use std::time::Duration;

use otai_plugin_sdk::{http::Method, Error, ErrorKind, Note, Ticket, TicketUpdate};
use serde_json::{json, Map, Value};
use time::{format_description::well_known::Rfc3339, OffsetDateTime};

use crate::{api::TicketAll, client::ZammadDesk, convert};

/// The line otai's notes end with, before the tags the write adds.
pub const MARKER: &str = "[otai] tags:";

/// How long after otai's note the ticket may have last changed for the note to count as an
/// interrupted write of otai's own (its tag calls take milliseconds; an agent's later edit moves
/// `updated_at` past this, and the agent's intent then wins).
pub const OWN_WRITE_WINDOW: Duration = Duration::from_secs(120);

/// Applies `update` to ticket `id` as described in the module docs.
pub async fn update(desk: &ZammadDesk, id: u64, update: &TicketUpdate) -> Result<Ticket, Error> {
    let mut all = desk.read_full(id).await?.ok_or_else(|| not_found(id))?;
    if let Some(since) = &update.if_unchanged_since {
        let now = all.ticket.updated_at.as_deref().unwrap_or_default();
        if !same_instant(since, now) {
            return Err(Error::new(
                ErrorKind::Conflict,
                format!(
                    "ticket {id} changed since otai read it (updated_at {since}, now {now}); \
                     nothing was written, the next pass decides again"
                ),
            ));
        }
    }
    let me = desk.me().await?.id;
    let mut tags = all.tags.clone();
    if let Some(missing) = unfinished_write(&all, me) {
        desk.http.log().info("otai_zammad::write", || {
            format!(
                "ticket {id} carries otai's note of an interrupted write; adding only its missing \
                 tags ({})",
                missing.join(", ")
            )
        });
        add_tags(desk, id, &missing, &mut tags, true).await?;
        return finished(desk, all, tags).await;
    }

    let body = ticket_body(desk, update).await?;
    if !body.is_empty() {
        let path = format!("/api/v1/tickets/{id}");
        let answer: Value = desk.http.put(&path, &Value::Object(body)).await?;
        if let Ok(updated) = serde_json::from_value::<crate::api::ZTicket>(answer) {
            // The answer has ids only: the group otai named is the one it now has.
            if let (Some(gid), Some(name)) = (
                updated.group_id,
                update.queue.as_ref().and_then(|q| q.name.clone()),
            ) {
                all.groups.retain(|(id, _)| *id != gid);
                all.groups.push((gid, name));
            }
            all.ticket = updated;
        }
    }
    let to_add: Vec<String> = update
        .add_tags
        .iter()
        .filter(|t| !has_tag(&tags, t))
        .cloned()
        .collect();
    add_tags(desk, id, &to_add, &mut tags, update.note.is_some()).await?;
    let to_remove: Vec<&String> = update
        .remove_tags
        .iter()
        .filter(|t| has_tag(&tags, t))
        .collect();
    for tag in to_remove {
        let body = json!({"item": tag, "object": "Ticket", "o_id": id});
        desk.http
            .send(Method::Delete, "/api/v1/tags/remove", &[], Some(&body))
            .await?;
        tags.retain(|t| !t.eq_ignore_ascii_case(tag));
    }
    finished(desk, all, tags).await
}

/// The ticket as it is now, from what was read and written.
async fn finished(
    desk: &ZammadDesk,
    mut all: TicketAll,
    tags: Vec<String>,
) -> Result<Ticket, Error> {
    all.tags = tags;
    desk.to_ticket(&all).await
}

/// The `PUT` body: group by name (Zammad resolves it; an unknown one is a 422 for this ticket
/// alone), priority, state, custom attributes, help-desk fields, and the note as an article.
async fn ticket_body(
    desk: &ZammadDesk,
    update: &TicketUpdate,
) -> Result<Map<String, Value>, Error> {
    let mut body = Map::new();
    if let Some(queue) = &update.queue {
        match (&queue.name, &queue.id) {
            (Some(name), _) => body.insert("group".into(), json!(name)),
            (None, Some(id)) => body.insert("group_id".into(), json!(id)),
            (None, None) => None,
        };
    }
    if let Some(priority) = &update.priority {
        let map = desk.catalog.priorities(&desk.http).await?;
        let id = map.to_zammad(priority).ok_or_else(|| {
            Error::new(
                ErrorKind::Validation,
                format!("unknown priority \"{priority}\" (otai's are low, normal, high, urgent)"),
            )
        })?;
        body.insert("priority_id".into(), json!(id));
    }
    if let Some(status) = &update.status {
        let states = desk.catalog.states(&desk.http).await?;
        let state = states.by_name(status).ok_or_else(|| {
            Error::new(
                ErrorKind::Validation,
                format!(
                    "Zammad has no ticket state named \"{status}\" (states: {})",
                    states.active_names().join(", ")
                ),
            )
        })?;
        body.insert("state_id".into(), json!(state.id));
    }
    for field in &update.custom_fields {
        body.insert(field.id.clone(), field.value.clone());
    }
    if let Some(Value::Object(extra)) = &update.system_fields {
        for (k, v) in extra {
            body.insert(k.clone(), v.clone());
        }
    }
    if let Some(note) = &update.note {
        body.insert("article".into(), article(note, &update.add_tags));
    }
    Ok(body)
}

/// otai's note as a Zammad article, ending with the [`MARKER`] line when tags follow.
fn article(note: &Note, tags: &[String]) -> Value {
    let mut text = note.body.clone();
    if !tags.is_empty() {
        let line = format!("{MARKER} {}", tags.join(", "));
        if note.html {
            text.push_str(&format!("<p>{line}</p>"));
        } else {
            text.push_str(&format!("\n\n{line}"));
        }
    }
    json!({
        "subject": "otai",
        "body": text,
        "content_type": if note.html { "text/html" } else { "text/plain" },
        "type": "note",
        "sender": "Agent",
        "internal": !note.public,
    })
}

/// `POST /tags/add` for each of `tags`, recording each in `present`. After a `PUT` that carried
/// otai's note, a failure says that the next pass finishes the write.
async fn add_tags(
    desk: &ZammadDesk,
    id: u64,
    tags: &[String],
    present: &mut Vec<String>,
    resumable: bool,
) -> Result<(), Error> {
    for tag in tags {
        let body = json!({"item": tag, "object": "Ticket", "o_id": id});
        if let Err(e) = desk
            .http
            .send(Method::Post, "/api/v1/tags/add", &[], Some(&body))
            .await
        {
            let then = if resumable {
                "the ticket's fields and otai's note are written; the next pass adds the missing tags"
            } else {
                "the ticket's fields are written, the tag is not"
            };
            return Err(e.context(&format!("tag `{tag}` not added ({then})")));
        }
        present.push(tag.clone());
    }
    Ok(())
}

/// The tags otai's interrupted write still has to add, if the ticket carries one (module docs).
pub fn unfinished_write(all: &TicketAll, me: u64) -> Option<Vec<String>> {
    let note = all.articles.iter().rev().find(|a| {
        a.created_by_id == Some(me)
            && a.internal == Some(true)
            && marker_tags(&convert::article_text(a)).is_some()
    })?;
    let promised = marker_tags(&convert::article_text(note))?;
    let missing: Vec<String> = promised
        .into_iter()
        .filter(|t| !has_tag(&all.tags, t))
        .collect();
    if missing.is_empty() {
        return None;
    }
    let noted = parse_time(note.created_at.as_deref()?)?;
    let changed = parse_time(all.ticket.updated_at.as_deref()?)?;
    let since = (changed - noted).whole_milliseconds();
    (since >= -1_000 && since <= OWN_WRITE_WINDOW.as_millis() as i128).then_some(missing)
}

/// The tags of a note's last [`MARKER`] line.
fn marker_tags(text: &str) -> Option<Vec<String>> {
    let line = text
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix(MARKER))?;
    Some(
        line.split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect(),
    )
}

/// Adds a note on its own (`POST /ticket_articles`): internal unless `note.public`.
pub async fn add_note(desk: &ZammadDesk, id: u64, note: &Note) -> Result<(), Error> {
    let mut body = article(note, &[]);
    body["ticket_id"] = json!(id);
    desk.http
        .post::<Value>("/api/v1/ticket_articles", &body)
        .await
        .map(drop)
}

fn has_tag(tags: &[String], tag: &str) -> bool {
    tags.iter().any(|t| t.eq_ignore_ascii_case(tag))
}

fn not_found(id: u64) -> Error {
    Error::new(
        ErrorKind::NotFound,
        format!("there is no Zammad ticket {id}"),
    )
}

fn parse_time(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

/// Whether two stamps name the same instant (Zammad writes them one way; a proxy or an older
/// version might write `+00:00` for `Z`).
fn same_instant(a: &str, b: &str) -> bool {
    a == b || matches!((parse_time(a), parse_time(b)), (Some(x), Some(y)) if x == y)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn all(tags: &[&str], updated_at: &str, articles: Value) -> TicketAll {
        TicketAll::parse(
            7,
            json!({
                "tags": tags,
                "assets": {
                    "Ticket": {"7": {"id": 7, "updated_at": updated_at}},
                    "TicketArticle": articles
                }
            }),
        )
        .unwrap()
    }

    fn otai_note(created_at: &str, by: u64) -> Value {
        json!({"id": 30, "ticket_id": 7, "internal": true, "created_by_id": by,
               "created_at": created_at,
               "body": "otai classified this ticket.\n\n[otai] tags: otai_intent__card, otai_processed"})
    }

    #[test]
    fn the_note_names_the_tags_that_follow() {
        let note = Note {
            body: "otai: queue Cards".into(),
            ..Note::default()
        };
        let a = article(&note, &["x".into(), "otai_processed".into()]);
        assert_eq!(a["internal"], true);
        assert_eq!(a["type"], "note");
        assert_eq!(
            a["body"],
            "otai: queue Cards\n\n[otai] tags: x, otai_processed"
        );
        let html = article(
            &Note {
                html: true,
                ..note.clone()
            },
            &["x".into()],
        );
        assert_eq!(html["body"], "otai: queue Cards<p>[otai] tags: x</p>");
        assert_eq!(html["content_type"], "text/html");
        assert_eq!(article(&note, &[])["body"], "otai: queue Cards");
    }

    #[test]
    fn an_interrupted_write_of_our_own_is_recognised() {
        let note = otai_note("2026-12-01T10:00:00.100Z", 3);
        // Crashed right after the PUT: none of the tags.
        let crashed = all(&[], "2026-12-01T10:00:00.100Z", json!({"30": note.clone()}));
        assert_eq!(
            unfinished_write(&crashed, 3).unwrap(),
            ["otai_intent__card", "otai_processed"]
        );
        // After the first tag: only the second.
        let half = all(
            &["otai_intent__card"],
            "2026-12-01T10:00:00.180Z",
            json!({"30": note.clone()}),
        );
        assert_eq!(unfinished_write(&half, 3).unwrap(), ["otai_processed"]);
        // Finished.
        let done = all(
            &["otai_intent__card", "OTAI_PROCESSED"],
            "2026-12-01T10:00:00.200Z",
            json!({"30": note.clone()}),
        );
        assert!(unfinished_write(&done, 3).is_none());
        // Someone else's note with the same line.
        assert!(unfinished_write(&crashed, 4).is_none());
        // An agent edited the ticket long after otai's note: the agent's intent wins.
        let later = all(&[], "2026-12-01T11:00:00.000Z", json!({"30": note}));
        assert!(unfinished_write(&later, 3).is_none());
    }

    #[test]
    fn stamps_compare_as_instants() {
        assert!(same_instant(
            "2026-12-01T10:00:00.100Z",
            "2026-12-01T10:00:00.100+00:00"
        ));
        assert!(!same_instant(
            "2026-12-01T10:00:00.100Z",
            "2026-12-01T10:00:00.101Z"
        ));
    }
}
