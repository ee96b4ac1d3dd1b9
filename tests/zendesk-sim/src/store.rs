//! The account's data: tickets, groups, ticket fields, users, comments, and the history of every
//! write. Update semantics shared by the single PUT, the tags endpoints and `update_many` jobs
//! live here ([`Store::update_ticket`]).
//!
//! `updated_at` has Zendesk's real second resolution: every change sets `updated_at` to the
//! current second, so two changes within one second share a stamp, and a safe update whose stamp
//! was read in the same second as a later change is **not** refused, as on Zendesk. (`revision`
//! counts the changes, for tests.) The clock is the system's, or a manual one
//! ([`Store::set_clock`]) that only moves when told: what makes same-second races reproducible.

use std::collections::BTreeMap;

use otai_sim_kit::Clock;
use serde::Serialize;
use serde_json::{json, Map, Value};
use time::{format_description::well_known::Rfc3339, Date, OffsetDateTime, Time};

use crate::error::ApiError;

/// Statuses a write may set.
pub const STATUSES: &[&str] = &["new", "open", "pending", "hold", "solved", "closed"];
/// Priorities, lowest first.
pub const PRIORITIES: &[&str] = &["low", "normal", "high", "urgent"];
/// Ticket types.
pub const TYPES: &[&str] = &["problem", "incident", "question", "task"];

/// Keys a ticket write may carry (others are ignored and reported in `x-zendesk-api-warn`).
const PERMITTED: &[&str] = &[
    "subject",
    "raw_subject",
    "status",
    "priority",
    "type",
    "group_id",
    "assignee_id",
    "assignee_email",
    "requester_id",
    "organization_id",
    "external_id",
    "due_at",
    "custom_status_id",
    "problem_id",
    "tags",
    "custom_fields",
    "fields",
    "comment",
    "safe_update",
    "updated_stamp",
    "collaborator_ids",
    "email_ccs",
    "followers",
    "additional_collaborators",
    "macro_id",
    "metadata",
    "via_id",
    "brand_id",
    "ticket_form_id",
];

/// Unix seconds now (the system clock; the account's is [`Store::now`]).
pub use otai_sim_kit::system_now as now;

/// `2023-09-18T23:25:36Z`.
pub fn fmt_time(secs: i64) -> String {
    OffsetDateTime::from_unix_timestamp(secs)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// An RFC 3339 time or a `YYYY-MM-DD` date (midnight UTC) as unix seconds.
pub fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t.unix_timestamp());
    }
    parse_date(s)
}

/// `YYYY-MM-DD` as unix seconds at midnight UTC.
pub fn parse_date(s: &str) -> Option<i64> {
    let mut it = s.trim().splitn(3, '-');
    let y: i32 = it.next()?.parse().ok()?;
    let m: u8 = it.next()?.parse().ok()?;
    let d: u8 = it.next()?.parse().ok()?;
    let date = Date::from_calendar_date(y, m.try_into().ok()?, d).ok()?;
    Some(date.with_time(Time::MIDNIGHT).assume_utc().unix_timestamp())
}

/// Tags as Zendesk stores them: lower case, split at whitespace, without duplicates.
pub fn normalize_tags<'a>(raw: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in raw {
        for piece in t.split_whitespace() {
            let piece = piece.to_lowercase();
            if !out.contains(&piece) {
                out.push(piece);
            }
        }
    }
    out
}

/// One ticket as the simulator holds it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ticket {
    /// Ticket id (64-bit).
    pub id: u64,
    /// Subject; `None` serves `null`.
    pub subject: Option<String>,
    /// The first comment's text (read-only through the API).
    pub description: String,
    /// Status; seeded tickets may carry any string.
    pub status: String,
    /// `low`, `normal`, `high`, `urgent` or none.
    pub priority: Option<String>,
    /// `problem`, `incident`, `question`, `task` or none.
    pub ticket_type: Option<String>,
    /// The group (queue).
    pub group_id: Option<u64>,
    /// The assignee.
    pub assignee_id: Option<u64>,
    /// The requester.
    pub requester_id: u64,
    /// The organization.
    pub organization_id: Option<u64>,
    /// External id.
    pub external_id: Option<String>,
    /// Tags, normalized.
    pub tags: Vec<String>,
    /// Custom field values by field id.
    pub custom_fields: BTreeMap<u64, Value>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds; unique per revision (see the module docs).
    pub updated_at: i64,
    /// Unix seconds; changes on every update.
    pub generated_timestamp: i64,
    /// Changes since seeding (0 = as seeded).
    pub revision: u64,
    /// Deleted tickets answer 404 and show up as `status: "deleted"` in incremental exports.
    pub deleted: bool,
    /// `via.channel`.
    pub via_channel: String,
}

impl Ticket {
    /// The ticket's JSON as Zendesk returns it, with every key of the recorded fixtures.
    pub fn to_json(&self, base: &str) -> Value {
        let fields: Vec<Value> = self
            .custom_fields
            .iter()
            .map(|(id, v)| json!({"id": id, "value": v}))
            .collect();
        json!({
            "url": format!("{base}/api/v2/tickets/{}.json", self.id),
            "id": self.id,
            "external_id": self.external_id,
            "via": {"channel": self.via_channel, "source": {"from": {}, "to": {}, "rel": null}},
            "created_at": fmt_time(self.created_at),
            "updated_at": fmt_time(self.updated_at),
            "generated_timestamp": self.generated_timestamp,
            "type": self.ticket_type,
            "subject": self.subject,
            "raw_subject": self.subject,
            "description": self.description,
            "priority": self.priority,
            "status": if self.deleted { "deleted" } else { self.status.as_str() },
            // One custom status per standard status category; none for other statuses.
            "custom_status_id": STATUSES
                .iter()
                .position(|s| *s == self.status)
                .map(|i| 360_000_000_401u64 + i as u64),
            "recipient": null,
            "requester_id": self.requester_id,
            "submitter_id": self.requester_id,
            "assignee_id": self.assignee_id,
            "organization_id": self.organization_id,
            "group_id": self.group_id,
            "collaborator_ids": [],
            "follower_ids": [],
            "email_cc_ids": [],
            "forum_topic_id": null,
            "problem_id": null,
            "has_incidents": false,
            "is_public": true,
            "due_at": null,
            "tags": self.tags,
            "custom_fields": fields,
            "satisfaction_rating": null,
            "sharing_agreement_ids": [],
            "fields": fields,
            "followup_ids": [],
            "ticket_form_id": null,
            "brand_id": null,
            "satisfaction_probability": null,
            "allow_channelback": false,
            "allow_attachments": true,
            "from_messaging_channel": false
        })
    }
}

/// A group (queue).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    /// Group id.
    pub id: u64,
    /// Name.
    pub name: String,
    /// Deleted groups are listed with `deleted: true` and cannot be assigned.
    pub deleted: bool,
}

impl Group {
    /// Zendesk's group JSON.
    pub fn to_json(&self, base: &str, created: i64) -> Value {
        json!({
            "url": format!("{base}/api/v2/groups/{}.json", self.id),
            "id": self.id,
            "is_public": true,
            "name": self.name,
            "description": "",
            "default": false,
            "deleted": self.deleted,
            "created_at": fmt_time(created),
            "updated_at": fmt_time(created),
        })
    }
}

/// A user of the account (requesters and the API user).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    /// User id.
    pub id: u64,
    /// Display name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// `admin`, `agent` or `end-user`.
    pub role: String,
}

impl User {
    /// Zendesk's user JSON.
    pub fn to_json(&self, base: &str) -> Value {
        json!({
            "id": self.id,
            "url": format!("{base}/api/v2/users/{}.json", self.id),
            "name": self.name,
            "email": self.email,
            "created_at": fmt_time(0),
            "updated_at": fmt_time(0),
            "time_zone": "UTC",
            "iana_time_zone": "Etc/UTC",
            "locale": "en-US",
            "locale_id": 1,
            "organization_id": null,
            "role": self.role,
            "role_type": null,
            "verified": true,
            "active": true,
            "suspended": false,
            "tags": [],
            "user_fields": {}
        })
    }
}

/// A comment (the first one is the description).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comment {
    /// Comment id.
    pub id: u64,
    /// Plain text.
    pub body: String,
    /// HTML as given, or built from the text.
    pub html_body: String,
    /// `false` = internal note.
    pub public: bool,
    /// Author.
    pub author_id: u64,
    /// The audit that created it (0 for seeded comments).
    pub audit_id: u64,
    /// Unix seconds.
    pub created_at: i64,
}

impl Comment {
    /// Zendesk's comment JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "type": "Comment",
            "author_id": self.author_id,
            "body": self.body,
            "html_body": self.html_body,
            "plain_body": self.body,
            "public": self.public,
            "attachments": [],
            "audit_id": self.audit_id,
            "via": {"channel": "api", "source": {"from": {}, "to": {}, "rel": null}},
            "metadata": {"system": {}, "custom": {}},
            "created_at": fmt_time(self.created_at),
        })
    }
}

/// One field a write changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    /// `status`, `priority`, `type`, `group_id`, `tags`, `subject`, `custom_field_<id>`, ...
    pub field: String,
    /// Before.
    pub from: Value,
    /// After.
    pub to: Value,
}

/// One accepted write to one ticket, in the order they happened.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WriteRecord {
    /// Global sequence number, from 1.
    pub seq: u64,
    /// The ticket.
    pub ticket_id: u64,
    /// E.g. `PUT /api/v2/tickets/{id}`, `PUT /api/v2/tickets/update_many`, `agent` (a simulated
    /// concurrent edit).
    pub endpoint: String,
    /// Whether it came through an `update_many` job.
    pub via_update_many: bool,
    /// The job, if any.
    pub job_id: Option<String>,
    /// Unix seconds.
    pub at: i64,
    /// Fields changed (empty for a write that changed nothing).
    pub changes: Vec<FieldChange>,
    /// Tags added by this write.
    pub tags_added: Vec<String>,
    /// Tags removed by this write.
    pub tags_removed: Vec<String>,
    /// The comment it added, if any.
    pub comment: Option<Comment>,
    /// Whether `safe_update` was requested.
    pub safe_update: bool,
    /// The ticket's `updated_at` after the write (unix seconds).
    pub updated_at: i64,
}

/// Where a write comes from, for the record and the audit.
#[derive(Debug, Clone)]
pub struct WriteCtx {
    /// Endpoint label.
    pub endpoint: String,
    /// The authenticated user.
    pub author_id: u64,
    /// The `update_many` job, if any.
    pub job_id: Option<String>,
    /// Bulk form: `additional_tags` / `remove_tags` allowed.
    pub bulk: bool,
}

/// A successful write: the ticket and audit JSON, and the record.
#[derive(Debug, Clone)]
pub struct Updated {
    /// `{"ticket"}` value.
    pub ticket: Value,
    /// `{"audit"}` value.
    pub audit: Value,
    /// Keys ignored (reported in `x-zendesk-api-warn`).
    pub unpermitted: Vec<String>,
}

/// All data of the simulated account.
#[derive(Debug, Clone)]
pub struct Store {
    /// Base URL for `url` fields, e.g. `http://127.0.0.1:4010`.
    pub base_url: String,
    pub(crate) tickets: BTreeMap<u64, Ticket>,
    pub(crate) comments: BTreeMap<u64, Vec<Comment>>,
    pub(crate) groups: Vec<Group>,
    pub(crate) ticket_fields: Vec<Value>,
    pub(crate) users: Vec<User>,
    pub(crate) writes: Vec<WriteRecord>,
    pub(crate) next_id: u64,
    /// When the account was "created" (group timestamps).
    pub(crate) epoch: i64,
    /// The account's clock (the kit's, shared with the `Date` headers; see [`Store::with_clock`]).
    pub(crate) clock: Clock,
}

impl Store {
    /// An empty account.
    pub fn new(base_url: &str) -> Self {
        Store {
            base_url: base_url.to_string(),
            tickets: BTreeMap::new(),
            comments: BTreeMap::new(),
            groups: Vec::new(),
            ticket_fields: Vec::new(),
            users: Vec::new(),
            writes: Vec::new(),
            next_id: 9_000_000_000_001,
            epoch: now(),
            clock: Clock::system(),
        }
    }

    /// The same account reading `clock` (the server's, so stamps and `Date` headers agree).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// A fresh id for comments, audits, events (above 2^32 like real ids).
    pub(crate) fn fresh_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// A ticket, deleted or not.
    pub fn ticket(&self, id: u64) -> Option<&Ticket> {
        self.tickets.get(&id)
    }

    /// A live (not deleted) ticket.
    pub fn live(&self, id: u64) -> Option<&Ticket> {
        self.tickets.get(&id).filter(|t| !t.deleted)
    }

    /// Every ticket, by id.
    pub fn tickets(&self) -> impl Iterator<Item = &Ticket> {
        self.tickets.values()
    }

    /// Comments of a ticket, oldest first.
    pub fn comments(&self, id: u64) -> &[Comment] {
        self.comments.get(&id).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Groups, deleted ones included.
    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    /// Ticket fields (Zendesk JSON).
    pub fn ticket_fields(&self) -> &[Value] {
        &self.ticket_fields
    }

    /// A user by id.
    pub fn user(&self, id: u64) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    /// Every accepted write, in order.
    pub fn writes(&self) -> &[WriteRecord] {
        &self.writes
    }

    /// Inserts or replaces a ticket (seeding) with its first comment.
    pub fn insert_ticket(&mut self, t: Ticket) {
        let comment = Comment {
            id: self.fresh_id(),
            body: t.description.clone(),
            html_body: html_of(&t.description),
            public: true,
            author_id: t.requester_id,
            audit_id: 0,
            created_at: t.created_at,
        };
        self.comments.insert(t.id, vec![comment]);
        self.tickets.insert(t.id, t);
    }

    /// The group with this exact or case-insensitive name.
    pub fn group_by_name(&self, name: &str) -> Option<&Group> {
        let name = name.trim();
        self.groups.iter().find(|g| g.name == name).or_else(|| {
            self.groups
                .iter()
                .find(|g| g.name.eq_ignore_ascii_case(name))
        })
    }

    /// The safe-update check alone: `Err(409)` when `updated_stamp` is not the ticket's
    /// current `updated_at`.
    pub fn check_stamp(t: &Ticket, body: &Map<String, Value>) -> Result<(), ApiError> {
        if body.get("safe_update").and_then(Value::as_bool) != Some(true) {
            return Ok(());
        }
        let stamp = body
            .get("updated_stamp")
            .and_then(Value::as_str)
            .and_then(parse_time);
        match stamp {
            Some(s) if s == t.updated_at => Ok(()),
            Some(_) => Err(ApiError::conflict()),
            None => Err(ApiError::invalid(
                "updated_stamp",
                "Updated stamp is required for a safe update and must be a time",
                "Blank",
            )),
        }
    }

    /// A partial update with Zendesk's semantics (see the crate docs); nothing is changed when
    /// it fails.
    pub fn update_ticket(
        &mut self,
        id: u64,
        body: &Map<String, Value>,
        ctx: &WriteCtx,
    ) -> Result<Updated, ApiError> {
        let before = self.live(id).ok_or_else(ApiError::not_found)?.clone();
        Self::check_stamp(&before, body)?;
        if before.status == "closed" {
            return Err(ApiError::invalid(
                "status",
                "Status: closed prevents ticket update",
                "InvalidValue",
            ));
        }
        let mut t = before.clone();
        let mut unpermitted = Vec::new();
        for key in body.keys() {
            let bulk_key = ctx.bulk && (key == "additional_tags" || key == "remove_tags");
            if !PERMITTED.contains(&key.as_str()) && !bulk_key {
                unpermitted.push(format!("ticket.{key}"));
            }
        }

        let enum_field =
            |key: &str, allowed: &[&str]| -> Result<Option<Option<String>>, ApiError> {
                match body.get(key) {
                    None => Ok(None),
                    Some(Value::Null) => Ok(Some(None)),
                    Some(Value::String(s)) if allowed.contains(&s.to_lowercase().as_str()) => {
                        Ok(Some(Some(s.to_lowercase())))
                    }
                    Some(v) => Err(ApiError::invalid(
                        key,
                        format!("{key}: {v} is not valid"),
                        "InvalidValue",
                    )),
                }
            };
        if let Some(p) = enum_field("priority", PRIORITIES)? {
            t.priority = p;
        }
        if let Some(ty) = enum_field("type", TYPES)? {
            t.ticket_type = ty;
        }
        if let Some(s) = enum_field("status", STATUSES)? {
            match s {
                Some(s) => t.status = s,
                None => return Err(ApiError::invalid("status", "Status: is blank", "Blank")),
            }
        }
        if let Some(v) = body.get("subject") {
            match v {
                Value::String(s) => t.subject = Some(s.clone()),
                Value::Null => t.subject = None,
                _ => {
                    return Err(ApiError::invalid(
                        "subject",
                        "Subject is invalid",
                        "InvalidValue",
                    ))
                }
            }
        }
        if let Some(v) = body.get("external_id") {
            t.external_id = v.as_str().map(str::to_string);
        }
        if let Some(v) = body.get("group_id") {
            match v {
                Value::Null => t.group_id = None,
                v => {
                    let gid = id_of(v).ok_or_else(|| {
                        ApiError::invalid("group_id", "Group is invalid", "InvalidValue")
                    })?;
                    if !self.groups.iter().any(|g| g.id == gid && !g.deleted) {
                        return Err(ApiError::invalid(
                            "group",
                            format!("Group: {gid} is not a valid group"),
                            "InvalidValue",
                        ));
                    }
                    t.group_id = Some(gid);
                }
            }
        }
        if let Some(v) = body.get("assignee_id") {
            t.assignee_id = id_of(v);
        }
        if let Some(v) = body.get("tags") {
            let list = string_list(v).ok_or_else(|| {
                ApiError::invalid("tags", "Tags must be a list of strings", "InvalidValue")
            })?;
            t.tags = normalize_tags(list.iter().map(String::as_str));
        }
        if ctx.bulk {
            if let Some(v) = body.get("additional_tags") {
                let add = string_list(v).ok_or_else(|| {
                    ApiError::invalid("additional_tags", "must be a list", "InvalidValue")
                })?;
                for tag in normalize_tags(add.iter().map(String::as_str)) {
                    if !t.tags.contains(&tag) {
                        t.tags.push(tag);
                    }
                }
            }
            if let Some(v) = body.get("remove_tags") {
                let rm = string_list(v).ok_or_else(|| {
                    ApiError::invalid("remove_tags", "must be a list", "InvalidValue")
                })?;
                let rm = normalize_tags(rm.iter().map(String::as_str));
                t.tags.retain(|tag| !rm.contains(tag));
            }
        }
        for key in ["custom_fields", "fields"] {
            let Some(v) = body.get(key) else { continue };
            let Value::Array(items) = v else {
                return Err(ApiError::invalid(key, "must be a list", "InvalidValue"));
            };
            for item in items {
                let fid = item.get("id").and_then(id_of).ok_or_else(|| {
                    ApiError::invalid(key, "each field needs an id", "InvalidValue")
                })?;
                let value = item.get("value").cloned().unwrap_or(Value::Null);
                t.custom_fields.insert(fid, value);
            }
        }
        let comment = match body.get("comment") {
            None | Some(Value::Null) => None,
            Some(c) => Some(self.comment_from(c, ctx)?),
        };

        let changes = diff(&before, &t);
        let added: Vec<String> = t
            .tags
            .iter()
            .filter(|x| !before.tags.contains(x))
            .cloned()
            .collect();
        let removed: Vec<String> = before
            .tags
            .iter()
            .filter(|x| !t.tags.contains(x))
            .cloned()
            .collect();
        let audit_id = self.fresh_id();
        let changed = !changes.is_empty() || comment.is_some();
        let at = self.now();
        if changed {
            t.updated_at = at;
            t.generated_timestamp = t.updated_at;
            t.revision += 1;
        }
        let mut events: Vec<Value> = Vec::new();
        let comment = comment.map(|mut c| {
            c.audit_id = audit_id;
            c.created_at = t.updated_at;
            c
        });
        if let Some(c) = &comment {
            let mut ev = c.to_json();
            ev["audit_id"] = json!(audit_id);
            events.push(ev);
            self.comments.entry(id).or_default().push(c.clone());
        }
        for ch in &changes {
            events.push(json!({
                "id": self.fresh_id(),
                "type": "Change",
                "field_name": ch.field,
                "value": ch.to,
                "previous_value": ch.from,
            }));
        }
        let audit = json!({
            "id": audit_id,
            "ticket_id": id,
            "created_at": fmt_time(t.updated_at),
            "author_id": ctx.author_id,
            "metadata": {"system": {"client": "otai-zendesk-sim"}, "custom": {}},
            "events": events,
            "via": {"channel": "api", "source": {"from": {}, "to": {}, "rel": null}},
        });
        self.writes.push(WriteRecord {
            seq: self.writes.len() as u64 + 1,
            ticket_id: id,
            endpoint: ctx.endpoint.clone(),
            via_update_many: ctx.job_id.is_some(),
            job_id: ctx.job_id.clone(),
            at,
            changes,
            tags_added: added,
            tags_removed: removed,
            comment,
            safe_update: body.get("safe_update").and_then(Value::as_bool) == Some(true),
            updated_at: t.updated_at,
        });
        let ticket = t.to_json(&self.base_url);
        self.tickets.insert(id, t);
        Ok(Updated {
            ticket,
            audit,
            unpermitted,
        })
    }

    fn comment_from(&mut self, c: &Value, ctx: &WriteCtx) -> Result<Comment, ApiError> {
        let text = |k: &str| c.get(k).and_then(Value::as_str).map(str::to_string);
        let (body, html) = match (text("body"), text("html_body")) {
            (Some(b), _) if !b.trim().is_empty() => {
                let h = html_of(&b);
                (b, h)
            }
            (_, Some(h)) if !h.trim().is_empty() => (strip_html(&h), h),
            _ => {
                return Err(ApiError::invalid(
                    "comment",
                    "Comment: cannot be blank",
                    "Blank",
                ))
            }
        };
        Ok(Comment {
            id: self.fresh_id(),
            body,
            html_body: html,
            public: c.get("public").and_then(Value::as_bool).unwrap_or(true),
            author_id: c.get("author_id").and_then(id_of).unwrap_or(ctx.author_id),
            audit_id: 0,
            created_at: self.now(),
        })
    }

    /// The current second of this account's clock (unix seconds).
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Stops the clock at `at` (unix seconds; every later stamp and `Date` header carries it
    /// until it is set again), or back to the system clock with `None`.
    pub fn set_clock(&mut self, at: Option<i64>) {
        self.clock.set(at);
    }

    /// A simulated agent edits the ticket "at the same moment": it is stamped now and `tag` is
    /// added, so a safe update with an older stamp fails, and one read in this same second does
    /// not. Recorded as endpoint `agent`.
    pub fn agent_edit(&mut self, id: u64, tag: &str) -> bool {
        let Some(t) = self.tickets.get(&id).filter(|t| !t.deleted) else {
            return false;
        };
        let mut tags: Vec<Value> = t.tags.iter().map(|s| json!(s)).collect();
        tags.push(json!(tag));
        let body = json!({"tags": tags});
        let ctx = WriteCtx {
            endpoint: "agent".into(),
            author_id: self.users.first().map(|u| u.id).unwrap_or(1),
            job_id: None,
            bulk: false,
        };
        let status = t.status.clone();
        // A closed ticket cannot be edited by the agent either.
        if status == "closed" {
            return false;
        }
        let Value::Object(map) = body else {
            return false;
        };
        let now = self.now();
        if self.update_ticket(id, &map, &ctx).is_ok() {
            // The tag may already be there: it is still an edit, stamped now.
            if let Some(t) = self.tickets.get_mut(&id) {
                if t.updated_at != now {
                    t.updated_at = now;
                    t.generated_timestamp = now;
                    t.revision += 1;
                }
            }
            true
        } else {
            false
        }
    }

    /// Soft-deletes a ticket (404 afterwards; `deleted` in incremental exports).
    pub fn delete_ticket(&mut self, id: u64) -> bool {
        match self.tickets.get_mut(&id).filter(|t| !t.deleted) {
            Some(t) => {
                t.deleted = true;
                t.generated_timestamp = self.clock.now().max(t.generated_timestamp + 1);
                true
            }
            None => false,
        }
    }
}

/// The fields that differ between two versions of a ticket.
fn diff(a: &Ticket, b: &Ticket) -> Vec<FieldChange> {
    let mut out = Vec::new();
    let mut push = |field: &str, from: Value, to: Value| {
        if from != to {
            out.push(FieldChange {
                field: field.into(),
                from,
                to,
            });
        }
    };
    push("subject", json!(a.subject), json!(b.subject));
    push("status", json!(a.status), json!(b.status));
    push("priority", json!(a.priority), json!(b.priority));
    push("type", json!(a.ticket_type), json!(b.ticket_type));
    push("group_id", json!(a.group_id), json!(b.group_id));
    push("assignee_id", json!(a.assignee_id), json!(b.assignee_id));
    push("external_id", json!(a.external_id), json!(b.external_id));
    push("tags", json!(a.tags), json!(b.tags));
    let ids: std::collections::BTreeSet<&u64> = a
        .custom_fields
        .keys()
        .chain(b.custom_fields.keys())
        .collect();
    for id in ids {
        push(
            &format!("custom_field_{id}"),
            a.custom_fields.get(id).cloned().unwrap_or(Value::Null),
            b.custom_fields.get(id).cloned().unwrap_or(Value::Null),
        );
    }
    out
}

/// An id given as a JSON number or a numeric string.
pub fn id_of(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn string_list(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_string))
            .collect(),
        Value::String(s) => Some(s.split_whitespace().map(str::to_string).collect()),
        _ => None,
    }
}

fn html_of(text: &str) -> String {
    let esc = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!("<div class=\"zd-comment\"><p>{esc}</p></div>")
}

fn strip_html(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> Store {
        let mut s = Store::new("http://x");
        s.groups.push(Group {
            id: 5,
            name: "Billing".into(),
            deleted: false,
        });
        s.insert_ticket(Ticket {
            id: 1,
            subject: None,
            description: "d".into(),
            status: "open".into(),
            priority: None,
            ticket_type: None,
            group_id: None,
            assignee_id: None,
            requester_id: 2,
            organization_id: None,
            external_id: None,
            tags: vec!["a".into()],
            custom_fields: BTreeMap::new(),
            created_at: 1000,
            updated_at: 2000,
            generated_timestamp: 2000,
            revision: 0,
            deleted: false,
            via_channel: "web".into(),
        });
        s
    }

    fn ctx() -> WriteCtx {
        WriteCtx {
            endpoint: "PUT".into(),
            author_id: 7,
            job_id: None,
            bulk: false,
        }
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn stamps_have_one_second_resolution_as_on_zendesk() {
        let mut s = store();
        s.set_clock(Some(5000));
        s.update_ticket(1, &obj(json!({"priority": "high"})), &ctx())
            .unwrap();
        let first = s.ticket(1).unwrap().updated_at;
        s.update_ticket(1, &obj(json!({"priority": "low"})), &ctx())
            .unwrap();
        // Two changes in one second share the stamp: a safe update read before the second one
        // is not refused (the race an adapter must guard against).
        assert_eq!(s.ticket(1).unwrap().updated_at, first);
        let same_second = obj(
            json!({"safe_update": true, "updated_stamp": fmt_time(first), "priority": "normal"}),
        );
        s.update_ticket(1, &same_second, &ctx()).unwrap();
        // A change in a later second moves the stamp; the old one is refused.
        s.set_clock(Some(5001));
        s.update_ticket(1, &obj(json!({"priority": "low"})), &ctx())
            .unwrap();
        assert_eq!(s.ticket(1).unwrap().updated_at, 5001);
        let stale = obj(
            json!({"safe_update": true, "updated_stamp": fmt_time(first), "priority": "urgent"}),
        );
        assert_eq!(s.update_ticket(1, &stale, &ctx()).unwrap_err().status, 409);
        assert_eq!(s.ticket(1).unwrap().priority.as_deref(), Some("low"));
    }

    #[test]
    fn unknown_group_and_bad_priority_are_422_and_change_nothing() {
        let mut s = store();
        let e = s
            .update_ticket(1, &obj(json!({"group_id": 99, "priority": "high"})), &ctx())
            .unwrap_err();
        assert_eq!(e.status, 422);
        let e = s
            .update_ticket(1, &obj(json!({"priority": "whenever"})), &ctx())
            .unwrap_err();
        assert_eq!(e.status, 422);
        assert!(s.writes().is_empty());
        assert_eq!(s.ticket(1).unwrap().revision, 0);
    }

    #[test]
    fn no_op_write_is_recorded_but_keeps_the_stamp() {
        let mut s = store();
        let u = s
            .update_ticket(1, &obj(json!({"tags": ["A"], "id": 1})), &ctx())
            .unwrap();
        assert_eq!(u.unpermitted, vec!["ticket.id".to_string()]);
        assert_eq!(s.ticket(1).unwrap().updated_at, 2000);
        assert_eq!(s.writes().len(), 1);
        assert!(s.writes()[0].changes.is_empty());
    }

    #[test]
    fn tags_are_normalized() {
        assert_eq!(normalize_tags(["A b", "a", "C"]), vec!["a", "b", "c"]);
    }
}
