//! The help desk's data: groups, agents, contacts, ticket types, custom fields, tickets with
//! their conversations, the write log and the search index's snapshots. Plain data under one
//! lock ([`crate::api::FreshdeskApi`] holds it); every change stamps with the account clock's
//! second, as Freshdesk's second-precision `updated_at` does.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::stamp::{format_secs, DAY};

/// The API agent (the owner of the API key): `GET /agents/me`, the author of notes.
pub const API_AGENT_ID: u64 = 1001;
/// The simulated agent of the `conflict` and `agent_edit_after_read` faults.
pub const SIM_AGENT_ID: u64 = 1002;
/// The first group id (groups are numbered in order of creation).
pub const FIRST_GROUP_ID: u64 = 2001;
/// The first contact (requester) id.
pub const FIRST_CONTACT_ID: u64 = 3001;
/// Freshdesk's default ticket types (its `ticket_type` field's choices).
pub const DEFAULT_TYPES: [&str; 5] = [
    "Question",
    "Incident",
    "Problem",
    "Feature Request",
    "Refund",
];

/// A ticket as it stands (`GET /__sim/tickets/{id}`, [`crate::SimHandle::ticket`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ticket {
    /// Ticket id.
    pub id: u64,
    /// Subject.
    pub subject: String,
    /// The first message, HTML.
    pub description: String,
    /// The first message, plain text.
    pub description_text: String,
    /// 2 Open, 3 Pending, 4 Resolved, 5 Closed.
    pub status: u8,
    /// 1 Low, 2 Medium, 3 High, 4 Urgent.
    pub priority: u8,
    /// 1 Email, 2 Portal, 3 Phone, 7 Chat, 9 Feedback widget, 10 Outbound email.
    pub source: u8,
    /// Ticket type (`type` in JSON).
    #[serde(rename = "type")]
    pub type_: Option<String>,
    /// Group.
    pub group_id: Option<u64>,
    /// Assigned agent.
    pub responder_id: Option<u64>,
    /// Requester (a contact).
    pub requester_id: Option<u64>,
    /// The requester's email, when the seed gave one.
    pub requester_email: Option<String>,
    /// Company.
    pub company_id: Option<u64>,
    /// Tags, in order.
    pub tags: Vec<String>,
    /// Custom fields by name (`cf_...`).
    pub custom_fields: Map<String, Value>,
    /// Creation stamp.
    pub created_at: String,
    /// Last change stamp.
    pub updated_at: String,
    /// Resolution due.
    pub due_by: String,
    /// First response due.
    pub fr_due_by: String,
    /// Escalated.
    pub is_escalated: bool,
    /// Marked as spam (not listed, not searched).
    pub spam: bool,
    /// Deleted (not listed, not searched).
    pub deleted: bool,
    #[serde(skip)]
    pub(crate) created: i64,
    #[serde(skip)]
    pub(crate) updated: i64,
}

impl Ticket {
    /// Creation, unix seconds.
    pub fn created_secs(&self) -> i64 {
        self.created
    }

    /// Last change, unix seconds.
    pub fn updated_secs(&self) -> i64 {
        self.updated
    }

    /// Stamps the ticket changed at `now`.
    pub(crate) fn touch(&mut self, now: i64) {
        self.updated = now;
        self.updated_at = format_secs(now);
    }

    /// Whether the list and search show it at all.
    pub fn visible(&self) -> bool {
        !self.spam && !self.deleted
    }
}

/// A reply or note on a ticket.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Conversation {
    /// Conversation id.
    pub id: u64,
    /// The ticket.
    pub ticket_id: u64,
    /// HTML.
    pub body: String,
    /// Plain text.
    pub body_text: String,
    /// A private note.
    pub private: bool,
    /// Shown as coming from outside.
    pub incoming: bool,
    /// 0 reply, 2 note (docs: "Denotes the type of the conversation").
    pub source: u8,
    /// Author.
    pub user_id: u64,
    /// Agents notified (a note's `notify_emails`).
    pub notify_emails: Vec<String>,
    /// Creation stamp.
    pub created_at: String,
    /// Last change stamp.
    pub updated_at: String,
}

/// What kind of write a [`WriteRecord`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteKind {
    /// `PUT /tickets/{id}`.
    Update,
    /// One ticket of a bulk_update job.
    BulkUpdate,
    /// `POST /tickets/{id}/notes`.
    Note,
    /// `POST /tickets` (a ticket created through the API).
    Create,
    /// The simulated agent's edit (faults, `agent_edit`).
    AgentEdit,
}

/// One accepted write to a ticket.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WriteRecord {
    /// Sequence number, from 1.
    pub seq: u64,
    /// The ticket.
    pub ticket_id: u64,
    /// What wrote.
    pub kind: WriteKind,
    /// The request path (`agent` for the simulated agent).
    pub path: String,
    /// Account-clock stamp.
    pub at: String,
    /// What was written (the validated properties, a note's id, the agent's tag).
    pub changes: Value,
    /// The bulk job, for [`WriteKind::BulkUpdate`].
    pub job_id: Option<String>,
}

/// A group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    /// Group id.
    pub id: u64,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
}

/// An agent or a contact: id, name, email.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Person {
    /// Id.
    pub id: u64,
    /// Name.
    pub name: String,
    /// Email.
    pub email: String,
}

/// A ticket to create (seed, `add_tickets`, `POST /tickets`), names not yet resolved.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewTicket {
    /// Keep this id.
    pub id: Option<u64>,
    /// Subject.
    pub subject: String,
    /// Text or HTML.
    pub description: String,
    /// 2..5.
    pub status: u8,
    /// 1..4.
    pub priority: u8,
    /// Source (default 2, Portal).
    pub source: Option<u8>,
    /// Type (added to the types if new).
    pub type_: Option<String>,
    /// Group by name (created if missing).
    pub group: Option<String>,
    /// Group by id (must exist).
    pub group_id: Option<u64>,
    /// Agent (registered if unknown).
    pub responder_id: Option<u64>,
    /// Requester by email (a contact is created).
    pub requester: Option<String>,
    /// Requester by id.
    pub requester_id: Option<u64>,
    /// Company.
    pub company_id: Option<u64>,
    /// Tags.
    pub tags: Vec<String>,
    /// Custom fields (declared if new).
    pub custom_fields: Map<String, Value>,
    /// Creation, unix seconds (default now).
    pub created: Option<i64>,
    /// Last change (default: creation).
    pub updated: Option<i64>,
    /// Due stamps (default: created + 3 days / + 1 day).
    pub due_by: Option<i64>,
    /// First-response due.
    pub fr_due_by: Option<i64>,
    /// Spam.
    pub spam: bool,
    /// Deleted.
    pub deleted: bool,
    /// Conversations after the description.
    pub conversations: Vec<NewConversation>,
}

/// A conversation to create with a seeded ticket.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewConversation {
    /// Text or HTML.
    pub body: String,
    /// Private.
    pub private: bool,
    /// Incoming.
    pub incoming: bool,
    /// 0 reply, 2 note.
    pub source: u8,
    /// Author (default the API agent).
    pub user_id: Option<u64>,
    /// Creation (default: the ticket's).
    pub created: Option<i64>,
}

/// The help desk.
#[derive(Debug, Clone)]
pub struct Store {
    /// Groups in order.
    pub groups: Vec<Group>,
    /// Agents by id.
    pub agents: BTreeMap<u64, Person>,
    /// Contacts by id.
    pub contacts: BTreeMap<u64, Person>,
    /// Ticket types.
    pub types: Vec<String>,
    /// Custom field names (`cf_...`), in order.
    pub custom_fields: Vec<String>,
    /// Tickets by id.
    pub tickets: BTreeMap<u64, Ticket>,
    /// Conversations by ticket, oldest first.
    pub conversations: BTreeMap<u64, Vec<Conversation>>,
    /// Every write, in order.
    pub writes: Vec<WriteRecord>,
    /// Per ticket, the states search may see: `(changed at, ticket)`, oldest first.
    pub index: BTreeMap<u64, Vec<(i64, Ticket)>>,
    next_conversation: u64,
}

/// The index stamp of seeded tickets: indexed long before the simulator started.
pub const INDEXED_LONG_AGO: i64 = i64::MIN / 4;

impl Default for Store {
    fn default() -> Self {
        Store::new()
    }
}

/// `<div>text</div>` for plain text (escaped); HTML stays as it is.
pub fn to_html(text: &str) -> String {
    if looks_like_html(text) {
        return text.to_string();
    }
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!("<div>{escaped}</div>")
}

/// Whether `s` holds a tag (`<b>`, `</p>`, `<br/>`): then it is HTML, else plain text.
fn looks_like_html(s: &str) -> bool {
    s.match_indices('<').any(|(i, _)| {
        let rest = &s[i + 1..];
        rest.starts_with(|c: char| c.is_ascii_alphabetic() || c == '/') && rest.contains('>')
    })
}

/// The plain text of HTML: tags removed (`<br>` and block ends as line breaks), the common
/// entities decoded, whitespace trimmed.
pub fn strip_html(html: &str) -> String {
    if !looks_like_html(html) {
        return html.trim().to_string();
    }
    let mut out = String::new();
    let mut tag = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match (in_tag, c) {
            (false, '<') => {
                in_tag = true;
                tag.clear();
            }
            (true, '>') => {
                in_tag = false;
                let name = tag
                    .trim_start_matches('/')
                    .split(|c: char| c.is_whitespace() || c == '/')
                    .next()
                    .unwrap_or("")
                    .to_ascii_lowercase();
                let closing = tag.starts_with('/');
                if name == "br" || (closing && matches!(name.as_str(), "div" | "p" | "li")) {
                    out.push('\n');
                }
            }
            (true, c) => tag.push(c),
            (false, c) => out.push(c),
        }
    }
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    decoded.trim().to_string()
}

impl Store {
    /// An empty help desk: the API agent and the simulated agent, the default ticket types.
    pub fn new() -> Self {
        let mut agents = BTreeMap::new();
        agents.insert(
            API_AGENT_ID,
            Person {
                id: API_AGENT_ID,
                name: "otai".into(),
                email: "otai@example.com".into(),
            },
        );
        agents.insert(
            SIM_AGENT_ID,
            Person {
                id: SIM_AGENT_ID,
                name: "Simulated Agent".into(),
                email: "sim-agent@example.com".into(),
            },
        );
        Store {
            groups: Vec::new(),
            agents,
            contacts: BTreeMap::new(),
            types: DEFAULT_TYPES.iter().map(|s| s.to_string()).collect(),
            custom_fields: Vec::new(),
            tickets: BTreeMap::new(),
            conversations: BTreeMap::new(),
            writes: Vec::new(),
            index: BTreeMap::new(),
            next_conversation: 1,
        }
    }

    /// The group called `name`, created if missing; its id.
    pub fn ensure_group(&mut self, name: &str) -> u64 {
        if let Some(g) = self.groups.iter().find(|g| g.name == name) {
            return g.id;
        }
        let id = FIRST_GROUP_ID + self.groups.len() as u64;
        self.groups.push(Group {
            id,
            name: name.to_string(),
            description: None,
        });
        id
    }

    /// The group with id `id`.
    pub fn group(&self, id: u64) -> Option<&Group> {
        self.groups.iter().find(|g| g.id == id)
    }

    /// Declares a custom field (`cf_` added if missing).
    pub fn declare_field(&mut self, name: &str) -> String {
        let name = if name.starts_with("cf_") {
            name.to_string()
        } else {
            format!("cf_{name}")
        };
        if !self.custom_fields.contains(&name) {
            self.custom_fields.push(name.clone());
        }
        name
    }

    /// The contact with `email`, created if missing; its id.
    pub fn ensure_contact(&mut self, email: &str) -> u64 {
        if let Some(p) = self.contacts.values().find(|p| p.email == email) {
            return p.id;
        }
        let id = FIRST_CONTACT_ID + self.contacts.len() as u64;
        let name = email.split('@').next().unwrap_or(email).to_string();
        self.contacts.insert(
            id,
            Person {
                id,
                name,
                email: email.to_string(),
            },
        );
        id
    }

    /// A person (agent or contact) by id.
    pub fn person(&self, id: u64) -> Option<&Person> {
        self.agents.get(&id).or_else(|| self.contacts.get(&id))
    }

    fn next_ticket_id(&self) -> u64 {
        self.tickets.keys().next_back().map_or(1, |m| m + 1)
    }

    /// Creates a ticket (names resolved, unknown fields and types declared); its id.
    /// `indexed_at`: when search first sees it ([`INDEXED_LONG_AGO`] for a seed).
    pub fn insert_ticket(
        &mut self,
        t: NewTicket,
        now: i64,
        indexed_at: i64,
    ) -> Result<u64, String> {
        let id = match t.id {
            Some(id) if self.tickets.contains_key(&id) => {
                return Err(format!("id {id} is taken"));
            }
            Some(id) => id,
            None => self.next_ticket_id(),
        };
        if !(2..=5).contains(&t.status) {
            return Err(format!("status {} is not 2..5", t.status));
        }
        if !(1..=4).contains(&t.priority) {
            return Err(format!("priority {} is not 1..4", t.priority));
        }
        let group_id = match (&t.group, t.group_id) {
            (Some(name), _) => Some(self.ensure_group(name)),
            (None, Some(gid)) if self.group(gid).is_some() => Some(gid),
            (None, Some(gid)) => return Err(format!("no group with id {gid}")),
            (None, None) => None,
        };
        if let Some(a) = t.responder_id {
            self.agents.entry(a).or_insert_with(|| Person {
                id: a,
                name: format!("Agent {a}"),
                email: format!("agent{a}@example.com"),
            });
        }
        let requester_id = match (&t.requester, t.requester_id) {
            (Some(email), _) => Some(self.ensure_contact(email)),
            (None, id) => id,
        };
        if let Some(ty) = &t.type_ {
            if !self.types.contains(ty) {
                self.types.push(ty.clone());
            }
        }
        let mut custom = Map::new();
        for name in self.custom_fields.clone() {
            custom.insert(name, Value::Null);
        }
        for (k, v) in &t.custom_fields {
            let name = self.declare_field(k);
            custom.insert(name, v.clone());
        }
        for (_, other) in self.tickets.iter_mut() {
            for name in &self.custom_fields {
                other
                    .custom_fields
                    .entry(name.clone())
                    .or_insert(Value::Null);
            }
        }
        let created = t.created.unwrap_or(now);
        let updated = t.updated.unwrap_or(created).max(created);
        let description = to_html(&t.description);
        let ticket = Ticket {
            id,
            subject: t.subject,
            description_text: strip_html(&description),
            description,
            status: t.status,
            priority: t.priority,
            source: t.source.unwrap_or(2),
            type_: t.type_,
            group_id,
            responder_id: t.responder_id,
            requester_id,
            requester_email: t.requester.clone(),
            company_id: t.company_id,
            tags: t.tags,
            custom_fields: custom,
            created_at: format_secs(created),
            updated_at: format_secs(updated),
            due_by: format_secs(t.due_by.unwrap_or(created + 3 * DAY)),
            fr_due_by: format_secs(t.fr_due_by.unwrap_or(created + DAY)),
            is_escalated: false,
            spam: t.spam,
            deleted: t.deleted,
            created,
            updated,
        };
        self.tickets.insert(id, ticket);
        for c in t.conversations {
            let at = c.created.unwrap_or(created);
            let body = to_html(&c.body);
            self.push_conversation(Conversation {
                id: 0,
                ticket_id: id,
                body_text: strip_html(&body),
                body,
                private: c.private,
                incoming: c.incoming,
                source: c.source,
                user_id: c.user_id.unwrap_or(API_AGENT_ID),
                notify_emails: Vec::new(),
                created_at: format_secs(at),
                updated_at: format_secs(at),
            });
        }
        self.snapshot(id, indexed_at);
        Ok(id)
    }

    /// Adds a conversation (its id assigned); the conversation.
    pub fn push_conversation(&mut self, mut c: Conversation) -> Conversation {
        c.id = self.next_conversation;
        self.next_conversation += 1;
        self.conversations
            .entry(c.ticket_id)
            .or_default()
            .push(c.clone());
        c
    }

    /// A ticket's conversations, oldest first.
    pub fn conversations_of(&self, id: u64) -> Vec<Conversation> {
        self.conversations.get(&id).cloned().unwrap_or_default()
    }

    /// Records a write.
    pub fn record(
        &mut self,
        ticket_id: u64,
        kind: WriteKind,
        path: &str,
        now: i64,
        changes: Value,
        job_id: Option<String>,
    ) {
        let seq = self.writes.len() as u64 + 1;
        self.writes.push(WriteRecord {
            seq,
            ticket_id,
            kind,
            path: path.to_string(),
            at: format_secs(now),
            changes,
            job_id,
        });
    }

    /// Remembers the ticket as it stands for search, visible from `at` plus the index lag.
    pub fn snapshot(&mut self, id: u64, at: i64) {
        if let Some(t) = self.tickets.get(&id).cloned() {
            self.index.entry(id).or_default().push((at, t));
        }
    }

    /// The tickets as search sees them at `now` with `lag_ms` of index lag: per ticket, the last
    /// state changed at least `lag_ms` ago (tickets changed only more recently are unseen).
    /// Older states that can no longer be seen are dropped.
    pub fn indexed(&mut self, now: i64, lag_ms: i64) -> Vec<Ticket> {
        let now_ms = now.saturating_mul(1000);
        let mut seen = Vec::new();
        for states in self.index.values_mut() {
            let visible = states
                .iter()
                .rposition(|(at, _)| at.saturating_mul(1000).saturating_add(lag_ms) <= now_ms);
            if let Some(i) = visible {
                states.drain(..i);
                seen.push(states[0].1.clone());
            }
        }
        seen
    }

    /// The simulated agent edits a ticket: `tag` added (if missing), `updated_at` now.
    /// `false`: no such ticket.
    pub fn agent_edit(&mut self, id: u64, tag: &str, now: i64) -> bool {
        let Some(t) = self.tickets.get_mut(&id) else {
            return false;
        };
        if !t.tags.iter().any(|x| x == tag) {
            t.tags.push(tag.to_string());
        }
        t.touch(now);
        self.record(
            id,
            WriteKind::AgentEdit,
            "agent",
            now,
            serde_json::json!({"tag": tag}),
            None,
        );
        self.snapshot(id, now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(subject: &str) -> NewTicket {
        NewTicket {
            subject: subject.into(),
            description: "Hello & <b>bye</b>".into(),
            status: 2,
            priority: 1,
            ..NewTicket::default()
        }
    }

    #[test]
    fn html_is_derived_both_ways() {
        assert_eq!(to_html("a < b"), "<div>a &lt; b</div>");
        assert_eq!(to_html("<p>x</p>"), "<p>x</p>");
        assert_eq!(
            strip_html("<div>Hi<br>there &amp; you</div>"),
            "Hi\nthere & you"
        );
        assert_eq!(strip_html("plain"), "plain");
    }

    #[test]
    fn search_sees_states_only_after_the_lag() {
        let mut s = Store::new();
        let id = s.insert_ticket(new("a"), 1000, 1000).unwrap();
        assert!(s.indexed(1089, 90_000).is_empty());
        assert_eq!(s.indexed(1090, 90_000).len(), 1);
        s.tickets.get_mut(&id).unwrap().subject = "b".into();
        s.snapshot(id, 1100);
        assert_eq!(s.indexed(1150, 90_000)[0].subject, "a");
        assert_eq!(s.indexed(1190, 90_000)[0].subject, "b");
        assert_eq!(s.index[&id].len(), 1, "older states are dropped");
        let seeded = s.insert_ticket(new("c"), 5, INDEXED_LONG_AGO).unwrap();
        assert!(s.indexed(5, 90_000).iter().any(|t| t.id == seeded));
    }

    #[test]
    fn names_resolve_and_fields_are_declared_everywhere() {
        let mut s = Store::new();
        let mut t = new("a");
        t.group = Some("Cards".into());
        t.requester = Some("jane@example.com".into());
        t.custom_fields.insert("cf_category".into(), "x".into());
        let a = s.insert_ticket(t, 0, 0).unwrap();
        let b = s.insert_ticket(new("b"), 0, 0).unwrap();
        assert_eq!(s.tickets[&a].group_id, Some(FIRST_GROUP_ID));
        assert_eq!(s.tickets[&a].requester_id, Some(FIRST_CONTACT_ID));
        assert_eq!(s.tickets[&b].custom_fields["cf_category"], Value::Null);
        assert_eq!(s.tickets[&a].description, "Hello & <b>bye</b>");
        assert_eq!(s.tickets[&a].description_text, "Hello & bye");
        let mut dup = new("c");
        dup.id = Some(a);
        assert!(s.insert_ticket(dup, 0, 0).is_err());
    }
}
