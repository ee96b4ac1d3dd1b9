//! The help desk's state: reference data of a fresh OTOBO (`scripts/database/otobo-initial_insert.xml`:
//! queues 1 Postmaster, 2 Raw, 3 Junk, 4 Misc; priorities 1 `1 very low` .. 5 `5 very high`;
//! states 1 new .. 9 merged with their state types; locks; type 1 Unclassified; sender types;
//! communication channels; user 1 `root@localhost`), the API agent (user 2), dynamic fields,
//! tickets, articles, and a record of every write ([`WriteRecord`]).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::stamp::{date_digits, format_time};

/// `root@localhost`, who owns what the seeds create.
pub const ROOT_USER_ID: u64 = 1;
/// The API agent.
pub const API_USER_ID: u64 = 2;

/// `(id, name, state type id, state type name)` of a fresh OTOBO.
pub const STATES: &[(u64, &str, u64, &str)] = &[
    (1, "new", 1, "new"),
    (2, "closed successful", 3, "closed"),
    (3, "closed unsuccessful", 3, "closed"),
    (4, "open", 2, "open"),
    (5, "removed", 6, "removed"),
    (6, "pending reminder", 4, "pending reminder"),
    (7, "pending auto close+", 5, "pending auto"),
    (8, "pending auto close-", 5, "pending auto"),
    (9, "merged", 7, "merged"),
];
/// Priorities 1..5.
pub const PRIORITIES: &[&str] = &["1 very low", "2 low", "3 normal", "4 high", "5 very high"];
/// Locks 1..3.
pub const LOCKS: &[&str] = &["unlock", "lock", "tmp_lock"];
/// Ticket types (1 Unclassified).
pub const TYPES: &[&str] = &["Unclassified"];
/// Article sender types 1..3.
pub const SENDER_TYPES: &[&str] = &["agent", "system", "customer"];
/// Communication channels 1..4.
pub const CHANNELS: &[&str] = &["Email", "Phone", "Internal", "Chat"];
/// The queues of a fresh OTOBO; new mail lands in `Raw`.
pub const DEFAULT_QUEUES: &[&str] = &["Postmaster", "Raw", "Junk", "Misc"];
/// OTRS ≤ 5 article types, ids 1..11, with the channel and visibility each means.
pub const ARTICLE_TYPES: &[(&str, &str, bool)] = &[
    ("email-external", "Email", true),
    ("email-internal", "Email", false),
    ("email-notification-ext", "Email", true),
    ("email-notification-int", "Email", false),
    ("phone", "Phone", true),
    ("fax", "Phone", true),
    ("sms", "Phone", true),
    ("webrequest", "Internal", true),
    ("note-internal", "Internal", false),
    ("note-external", "Internal", true),
    ("note-report", "Internal", false),
];

/// 1-based id of `name` in `list`.
pub fn id_in(list: &[&str], name: &str) -> Option<u64> {
    list.iter().position(|n| *n == name).map(|i| i as u64 + 1)
}

/// The name of 1-based `id` in `list`.
pub fn name_in<'a>(list: &[&'a str], id: u64) -> Option<&'a str> {
    list.get(id.checked_sub(1)? as usize).copied()
}

/// The OTRS ≤ 5 article type for a channel and visibility (agents' notes and mails).
pub fn article_type_for(channel: &str, visible: bool) -> &'static str {
    match (channel, visible) {
        ("Email", true) => "email-external",
        ("Email", false) => "email-internal",
        ("Phone", _) => "phone",
        (_, true) => "note-external",
        (_, false) => "note-internal",
    }
}

/// What a dynamic field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldKind {
    /// One string (`Text`, `TextArea`, `Dropdown`).
    Text,
    /// A list of strings (`Multiselect`): otai's tags.
    Multiselect,
}

/// A ticket dynamic field.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldDef {
    /// Its name (`OTAITags`).
    pub name: String,
    /// Text or multiselect.
    pub kind: FieldKind,
    /// The values it accepts; `None`: any.
    pub possible_values: Option<Vec<String>>,
}

impl FieldDef {
    /// Whether `v` is a value this field takes (a string, or for a multiselect also a list of
    /// strings, each among the possible values if the field declares them).
    pub fn accepts(&self, v: &Value) -> bool {
        let allowed = |s: &str| {
            s.is_empty()
                || self
                    .possible_values
                    .as_ref()
                    .is_none_or(|p| p.iter().any(|x| x == s))
        };
        match (self.kind, v) {
            (_, Value::String(s)) => allowed(s),
            (_, Value::Number(_)) => self.possible_values.is_none(),
            (FieldKind::Multiselect, Value::Array(items)) => items.iter().all(|i| {
                i.as_str().is_some_and(allowed) || (i.is_number() && self.possible_values.is_none())
            }),
            _ => false,
        }
    }

    /// `v` as stored: a string (text) or a list of strings (multiselect); null for an empty
    /// value.
    pub fn normalise(&self, v: &Value) -> Value {
        let text = |x: &Value| match x {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let stored = match (self.kind, v) {
            (FieldKind::Multiselect, Value::Array(a)) => {
                Value::Array(a.iter().map(|x| Value::String(text(x))).collect())
            }
            (FieldKind::Multiselect, x) => Value::Array(vec![Value::String(text(x))]),
            (FieldKind::Text, x) => Value::String(text(x)),
        };
        if is_empty_value(&stored) {
            Value::Null
        } else {
            stored
        }
    }
}

/// Whether a stored dynamic field value counts as empty (`Empty: 1` in a search).
pub fn is_empty_value(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty() || a.iter().all(|x| x.as_str() == Some("")),
        _ => false,
    }
}

/// A ticket as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketRec {
    /// TicketID.
    pub id: u64,
    /// TicketNumber.
    pub number: String,
    /// Title.
    pub title: String,
    /// QueueID.
    pub queue_id: u64,
    /// StateID.
    pub state_id: u64,
    /// PriorityID.
    pub priority_id: u64,
    /// LockID.
    pub lock_id: u64,
    /// TypeID.
    pub type_id: u64,
    /// OwnerID.
    pub owner_id: u64,
    /// ResponsibleID.
    pub responsible_id: u64,
    /// CustomerUserID.
    pub customer_user: Option<String>,
    /// CustomerID.
    pub customer_id: Option<String>,
    /// Unix seconds.
    pub created: i64,
    /// Unix seconds.
    pub changed: i64,
    /// CreateBy.
    pub create_by: u64,
    /// ChangeBy.
    pub change_by: u64,
    /// Pending until (unix seconds; 0: none).
    pub pending_until: i64,
    /// Dynamic field values by name (unset ones absent).
    pub dynamic: BTreeMap<String, Value>,
}

/// An article as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ArticleRec {
    /// ArticleID.
    pub id: u64,
    /// TicketID.
    pub ticket_id: u64,
    /// ArticleNumber (1, 2, ... per ticket).
    pub number: u64,
    /// CreateBy.
    pub create_by: u64,
    /// Unix seconds.
    pub created: i64,
    /// What it holds, as created (an HTML body already turned into text).
    pub content: NewArticle,
}

impl ArticleRec {
    /// ContentType as OTOBO stores it: `text/plain; charset=utf-8`.
    pub fn content_type(&self) -> String {
        format!(
            "{}; charset={}",
            self.content.mime_type, self.content.charset
        )
    }

    /// CommunicationChannelID.
    pub fn channel_id(&self) -> u64 {
        id_in(CHANNELS, &self.content.channel).unwrap_or(3)
    }

    /// SenderTypeID.
    pub fn sender_type_id(&self) -> u64 {
        id_in(SENDER_TYPES, &self.content.sender_type).unwrap_or(1)
    }

    /// The OTRS ≤ 5 article type.
    pub fn article_type(&self) -> String {
        self.content.article_type.clone().unwrap_or_else(|| {
            article_type_for(&self.content.channel, self.content.visible).to_string()
        })
    }
}

/// A ticket as the handle shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ticket {
    /// TicketID.
    pub id: u64,
    /// TicketNumber.
    pub number: String,
    /// Title.
    pub title: String,
    /// Queue name.
    pub queue: String,
    /// Priority name (`3 normal`).
    pub priority: String,
    /// State name.
    pub state: String,
    /// State type name (`new`, `open`, `closed`, ...).
    pub state_type: String,
    /// Lock name.
    pub lock: String,
    /// Owner login.
    pub owner: String,
    /// Type name.
    pub ticket_type: String,
    /// CustomerUserID.
    pub customer_user: Option<String>,
    /// `YYYY-MM-DD HH:MM:SS`.
    pub created: String,
    /// `YYYY-MM-DD HH:MM:SS`; moves with every write.
    pub changed: String,
    /// Set dynamic field values by name: strings, lists of strings for multiselect fields.
    pub dynamic_fields: BTreeMap<String, Value>,
}

/// An article as the handle shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Article {
    /// ArticleID.
    pub id: u64,
    /// TicketID.
    pub ticket_id: u64,
    /// Subject.
    pub subject: String,
    /// Body.
    pub body: String,
    /// From.
    pub from: String,
    /// `agent`, `customer` or `system`.
    pub sender_type: String,
    /// IsVisibleForCustomer.
    pub is_visible_for_customer: bool,
    /// `Email`, `Phone`, `Internal`, `Chat`.
    pub communication_channel: String,
    /// The OTRS ≤ 5 article type (`note-internal`, ...).
    pub article_type: String,
    /// `text/plain; charset=utf-8`.
    pub content_type: String,
    /// The creating user's login.
    pub created_by: String,
    /// `YYYY-MM-DD HH:MM:SS`.
    pub create_time: String,
}

/// One dynamic field value a write set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldSet {
    /// The field.
    pub name: String,
    /// The value stored (null: cleared).
    pub value: Value,
}

/// A write to a ticket: every API TicketUpdate that got past its checks (complete or stopped
/// midway), and every edit of the simulated agent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WriteRecord {
    /// Sequence number, from 1.
    pub seq: u64,
    /// The ticket.
    pub ticket_id: u64,
    /// `TicketUpdate`, or `agent edit`.
    pub operation: String,
    /// `api` or `agent`.
    pub by: String,
    /// The setters that ran, in order: `title`, `queue`, `lock`, `type`, `state`,
    /// `customer_user`, `priority`, `owner`, `responsible`, `article`, `dynamic_field` (one per
    /// field set). A setter whose value equals the ticket's does not run.
    pub setters: Vec<String>,
    /// The article created.
    pub article_id: Option<u64>,
    /// The dynamic field values set, in order.
    pub dynamic_fields: Vec<FieldSet>,
    /// `false`: a `stop_mid_write` fault stopped it (or a pending state without a pending time).
    pub completed: bool,
    /// When (the account's clock), `YYYY-MM-DD HH:MM:SS`.
    pub at: String,
    /// When, unix seconds.
    pub at_unix: i64,
}

/// A ticket to create, names not yet resolved.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewTicket {
    /// Keep this id.
    pub id: Option<u64>,
    /// Keep this number.
    pub number: Option<String>,
    /// Title.
    pub title: String,
    /// Queue name (created if missing); default `Raw`.
    pub queue: Option<String>,
    /// State name; default `new`.
    pub state: Option<String>,
    /// Priority name; default `3 normal`.
    pub priority: Option<String>,
    /// Owner login; default `root@localhost`.
    pub owner: Option<String>,
    /// CustomerUserID (and CustomerID).
    pub customer_user: Option<String>,
    /// Unix seconds; default now.
    pub created: Option<i64>,
    /// Unix seconds; default `created`.
    pub changed: Option<i64>,
    /// Dynamic field values (fields declared as needed: a list makes a multiselect field).
    pub dynamic: BTreeMap<String, Value>,
    /// Articles, oldest first.
    pub articles: Vec<NewArticle>,
}

/// An article to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewArticle {
    /// Channel name.
    pub channel: String,
    /// Sender type name.
    pub sender_type: String,
    /// IsVisibleForCustomer.
    pub visible: bool,
    /// The OTRS ≤ 5 article type it was given, if any.
    pub article_type: Option<String>,
    /// From.
    pub from: String,
    /// To.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Body.
    pub body: String,
    /// MimeType.
    pub mime_type: String,
    /// Charset.
    pub charset: String,
    /// Unix seconds; default the ticket's creation.
    pub created: Option<i64>,
}

impl Default for NewArticle {
    fn default() -> Self {
        NewArticle {
            channel: "Email".into(),
            sender_type: "customer".into(),
            visible: true,
            article_type: None,
            from: String::new(),
            to: String::new(),
            subject: String::new(),
            body: String::new(),
            mime_type: "text/plain".into(),
            charset: "utf-8".into(),
            created: None,
        }
    }
}

/// The help desk.
#[derive(Debug, Clone)]
pub struct Store {
    /// Queues (id, name).
    pub queues: Vec<(u64, String)>,
    /// Users (id, login).
    pub users: Vec<(u64, String)>,
    /// Ticket dynamic fields.
    pub fields: Vec<FieldDef>,
    /// Tickets by id.
    pub tickets: BTreeMap<u64, TicketRec>,
    /// Articles by id.
    pub articles: BTreeMap<u64, ArticleRec>,
    /// Every write.
    pub writes: Vec<WriteRecord>,
    /// The field the simulated agent adds its value to (default: the first multiselect field).
    pub agent_field: Option<String>,
}

impl Store {
    /// A fresh help desk with the API agent `agent_login` (user 2).
    pub fn new(agent_login: &str) -> Self {
        Store {
            queues: DEFAULT_QUEUES
                .iter()
                .enumerate()
                .map(|(i, n)| (i as u64 + 1, n.to_string()))
                .collect(),
            users: vec![
                (ROOT_USER_ID, "root@localhost".into()),
                (API_USER_ID, agent_login.into()),
            ],
            fields: Vec::new(),
            tickets: BTreeMap::new(),
            articles: BTreeMap::new(),
            writes: Vec::new(),
            agent_field: None,
        }
    }

    /// The queue's id, creating it.
    pub fn ensure_queue(&mut self, name: &str) -> u64 {
        if let Some(id) = self.queue_id(name) {
            return id;
        }
        let id = self.queues.iter().map(|q| q.0).max().unwrap_or(0) + 1;
        self.queues.push((id, name.to_string()));
        id
    }

    /// A queue's id by name.
    pub fn queue_id(&self, name: &str) -> Option<u64> {
        self.queues.iter().find(|q| q.1 == name).map(|q| q.0)
    }

    /// A queue's name by id.
    pub fn queue_name(&self, id: u64) -> &str {
        self.queues
            .iter()
            .find(|q| q.0 == id)
            .map(|q| q.1.as_str())
            .unwrap_or("")
    }

    /// A user's login by id.
    pub fn user_login(&self, id: u64) -> &str {
        self.users
            .iter()
            .find(|u| u.0 == id)
            .map(|u| u.1.as_str())
            .unwrap_or("")
    }

    /// A user's id by login.
    pub fn user_id(&self, login: &str) -> Option<u64> {
        self.users.iter().find(|u| u.1 == login).map(|u| u.0)
    }

    /// Declares a dynamic field (a second declaration of a name replaces the first).
    pub fn declare_field(&mut self, def: FieldDef) {
        self.fields.retain(|f| f.name != def.name);
        self.fields.push(def);
    }

    /// A dynamic field by name.
    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Creates a ticket and its articles; its id.
    pub fn insert_ticket(&mut self, t: NewTicket, now: i64) -> Result<u64, String> {
        let state = t.state.as_deref().unwrap_or("new");
        let state_id = STATES
            .iter()
            .find(|s| s.1 == state)
            .map(|s| s.0)
            .ok_or_else(|| format!("unknown state {state:?}"))?;
        let priority = t.priority.as_deref().unwrap_or("3 normal");
        let priority_id = id_in(PRIORITIES, priority)
            .ok_or_else(|| format!("unknown priority {priority:?} (1 very low .. 5 very high)"))?;
        let owner_id = match &t.owner {
            Some(login) => self
                .user_id(login)
                .ok_or_else(|| format!("unknown owner {login:?}"))?,
            None => ROOT_USER_ID,
        };
        let id = match t.id {
            Some(id) if self.tickets.contains_key(&id) => {
                return Err(format!("ticket id {id} is taken"))
            }
            Some(id) => id,
            None => self.tickets.keys().max().copied().unwrap_or(0) + 1,
        };
        let queue_id = self.ensure_queue(t.queue.as_deref().unwrap_or("Raw"));
        let mut dynamic = BTreeMap::new();
        for (name, v) in &t.dynamic {
            if self.field(name).is_none() {
                let kind = if v.is_array() {
                    FieldKind::Multiselect
                } else {
                    FieldKind::Text
                };
                self.declare_field(FieldDef {
                    name: name.clone(),
                    kind,
                    possible_values: None,
                });
            }
            let def = self.field(name).expect("declared");
            let stored = def.normalise(v);
            if !stored.is_null() {
                dynamic.insert(name.clone(), stored);
            }
        }
        let created = t.created.unwrap_or(now);
        let rec = TicketRec {
            id,
            number: t
                .number
                .unwrap_or_else(|| format!("{}{id:06}", date_digits(created))),
            title: t.title,
            queue_id,
            state_id,
            priority_id,
            lock_id: 1,
            type_id: 1,
            owner_id,
            responsible_id: owner_id,
            customer_id: t.customer_user.clone(),
            customer_user: t.customer_user,
            created,
            changed: t.changed.unwrap_or(created).max(created),
            create_by: ROOT_USER_ID,
            change_by: ROOT_USER_ID,
            pending_until: 0,
            dynamic,
        };
        self.tickets.insert(id, rec);
        for a in t.articles {
            let at = a.created.unwrap_or(created);
            self.insert_article(id, a, ROOT_USER_ID, at)?;
        }
        Ok(id)
    }

    /// Creates an article on ticket `ticket_id`; its id. Names must be valid.
    pub fn insert_article(
        &mut self,
        ticket_id: u64,
        mut a: NewArticle,
        by: u64,
        at: i64,
    ) -> Result<u64, String> {
        if id_in(CHANNELS, &a.channel).is_none() {
            return Err(format!("unknown channel {:?}", a.channel));
        }
        if id_in(SENDER_TYPES, &a.sender_type).is_none() {
            return Err(format!("unknown sender type {:?}", a.sender_type));
        }
        if a.mime_type.eq_ignore_ascii_case("text/html") {
            // OTOBO keeps an HTML body as an attachment and the article's body as plain text.
            a.mime_type = "text/plain".into();
            a.body = html_to_text(&a.body);
        }
        let id = self.articles.keys().max().copied().unwrap_or(0) + 1;
        let number = self.article_recs(ticket_id).len() as u64 + 1;
        a.created = Some(at);
        let rec = ArticleRec {
            id,
            ticket_id,
            number,
            create_by: by,
            created: at,
            content: a,
        };
        self.articles.insert(id, rec);
        Ok(id)
    }

    /// The articles of ticket `ticket_id`, by id (oldest first).
    pub fn article_recs(&self, ticket_id: u64) -> Vec<&ArticleRec> {
        let mut of_ticket: Vec<&ArticleRec> = self.articles.values().collect();
        of_ticket.retain(|a| a.ticket_id == ticket_id);
        of_ticket
    }

    /// The state's (name, type name).
    pub fn state(id: u64) -> (&'static str, &'static str) {
        STATES
            .iter()
            .find(|s| s.0 == id)
            .map(|s| (s.1, s.3))
            .unwrap_or(("", ""))
    }

    /// A ticket as the handle shows it.
    pub fn ticket(&self, id: u64) -> Option<Ticket> {
        let t = self.tickets.get(&id)?;
        let (state, state_type) = Store::state(t.state_id);
        Some(Ticket {
            id,
            number: t.number.clone(),
            title: t.title.clone(),
            queue: self.queue_name(t.queue_id).to_string(),
            priority: name_in(PRIORITIES, t.priority_id).unwrap_or("").to_string(),
            state: state.to_string(),
            state_type: state_type.to_string(),
            lock: name_in(LOCKS, t.lock_id).unwrap_or("").to_string(),
            owner: self.user_login(t.owner_id).to_string(),
            ticket_type: name_in(TYPES, t.type_id).unwrap_or("").to_string(),
            customer_user: t.customer_user.clone(),
            created: format_time(t.created),
            changed: format_time(t.changed),
            dynamic_fields: t.dynamic.clone(),
        })
    }

    /// A ticket's articles as the handle shows them, oldest first.
    pub fn articles(&self, ticket_id: u64) -> Vec<Article> {
        self.article_recs(ticket_id)
            .into_iter()
            .map(|a| Article {
                id: a.id,
                ticket_id: a.ticket_id,
                subject: a.content.subject.clone(),
                body: a.content.body.clone(),
                from: a.content.from.clone(),
                sender_type: a.content.sender_type.clone(),
                is_visible_for_customer: a.content.visible,
                communication_channel: a.content.channel.clone(),
                article_type: a.article_type(),
                content_type: a.content_type(),
                created_by: self.user_login(a.create_by).to_string(),
                create_time: format_time(a.created),
            })
            .collect()
    }

    /// Records a write; its entry.
    pub fn record(&mut self, mut w: WriteRecord) -> WriteRecord {
        w.seq = self.writes.len() as u64 + 1;
        self.writes.push(w.clone());
        w
    }

    /// The simulated agent edits ticket `id` at unix second `now`: `Changed` moves to now and
    /// `value` is added to the agent's dynamic field (the configured one, else the first
    /// multiselect field; with none, only `Changed` moves). `false`: no such ticket.
    pub fn agent_edit(&mut self, id: u64, value: &str, now: i64) -> bool {
        let field = self.agent_field.clone().or_else(|| {
            self.fields
                .iter()
                .find(|f| f.kind == FieldKind::Multiselect)
                .map(|f| f.name.clone())
        });
        let def = field.as_deref().and_then(|n| self.field(n)).cloned();
        let Some(t) = self.tickets.get_mut(&id) else {
            return false;
        };
        let mut sets = Vec::new();
        if let Some(def) = def {
            let stored = match def.kind {
                FieldKind::Multiselect => {
                    let mut items = match t.dynamic.get(&def.name) {
                        Some(Value::Array(a)) => a.clone(),
                        _ => Vec::new(),
                    };
                    if !items.iter().any(|x| x.as_str() == Some(value)) {
                        items.push(Value::String(value.to_string()));
                    }
                    Value::Array(items)
                }
                FieldKind::Text => Value::String(value.to_string()),
            };
            t.dynamic.insert(def.name.clone(), stored.clone());
            sets.push(FieldSet {
                name: def.name,
                value: stored,
            });
        }
        t.changed = now;
        t.change_by = ROOT_USER_ID;
        self.record(WriteRecord {
            seq: 0,
            ticket_id: id,
            operation: "agent edit".into(),
            by: "agent".into(),
            setters: if sets.is_empty() {
                vec![]
            } else {
                vec!["dynamic_field".into()]
            },
            article_id: None,
            dynamic_fields: sets,
            completed: true,
            at: format_time(now),
            at_unix: now,
        });
        true
    }
}

/// A rough plain-text version of an HTML body (tags dropped, `<br>`/`</p>` as line breaks, the
/// common entities decoded), as OTOBO's HTML2Ascii gives the article's Body.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        let Some(j) = rest[i..].find('>') else {
            rest = &rest[i..];
            break;
        };
        let tag = rest[i + 1..i + j].trim().to_ascii_lowercase();
        if tag.starts_with("br") || tag == "/p" || tag == "/div" {
            out.push('\n');
        }
        rest = &rest[i + j + 1..];
    }
    out.push_str(rest);
    out.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_fresh_desk_has_otobos_reference_data_and_seeds_create_queues() {
        let mut s = Store::new("otai-agent");
        assert_eq!(s.queue_id("Raw"), Some(2));
        let id = s
            .insert_ticket(
                NewTicket {
                    title: "Card lost".into(),
                    queue: Some("Cards".into()),
                    priority: Some("4 high".into()),
                    dynamic: [("OTAITags".to_string(), json!(["vip"]))].into(),
                    articles: vec![NewArticle {
                        body: "<p>Lost &amp; gone</p>".into(),
                        mime_type: "text/html".into(),
                        ..NewArticle::default()
                    }],
                    ..NewTicket::default()
                },
                1_750_000_000,
            )
            .unwrap();
        let t = s.ticket(id).unwrap();
        assert_eq!(
            (
                t.queue.as_str(),
                t.priority.as_str(),
                t.state.as_str(),
                t.state_type.as_str()
            ),
            ("Cards", "4 high", "new", "new")
        );
        assert_eq!(s.queue_id("Cards"), Some(5));
        assert_eq!(s.field("OTAITags").unwrap().kind, FieldKind::Multiselect);
        let a = &s.articles(id)[0];
        assert_eq!(a.body, "Lost & gone");
        assert_eq!(a.content_type, "text/plain; charset=utf-8");
        assert_eq!(a.article_type, "email-external");
        assert!(s
            .insert_ticket(
                NewTicket {
                    state: Some("solved".into()),
                    ..NewTicket::default()
                },
                0
            )
            .is_err());
    }

    #[test]
    fn the_agent_adds_its_value_to_the_multiselect_field_and_moves_changed() {
        let mut s = Store::new("otai-agent");
        s.declare_field(FieldDef {
            name: "OTAITags".into(),
            kind: FieldKind::Multiselect,
            possible_values: None,
        });
        let id = s.insert_ticket(NewTicket::default(), 100).unwrap();
        assert!(s.agent_edit(id, "sim_agent_edit", 200));
        assert!(s.agent_edit(id, "sim_agent_edit", 300));
        let t = s.ticket(id).unwrap();
        assert_eq!(t.dynamic_fields["OTAITags"], json!(["sim_agent_edit"]));
        assert_eq!(t.changed, format_time(300));
        assert_eq!(s.writes.len(), 2);
        assert!(!s.agent_edit(99, "x", 0));
    }

    #[test]
    fn fields_check_their_values() {
        let f = FieldDef {
            name: "Color".into(),
            kind: FieldKind::Multiselect,
            possible_values: Some(vec!["red".into(), "blue".into()]),
        };
        assert!(f.accepts(&json!(["red"])) && f.accepts(&json!("blue")));
        assert!(!f.accepts(&json!(["green"])) && !f.accepts(&json!({"a": 1})));
        assert_eq!(f.normalise(&json!("red")), json!(["red"]));
        assert_eq!(f.normalise(&json!([])), Value::Null);
        let t = FieldDef {
            name: "Note".into(),
            kind: FieldKind::Text,
            possible_values: None,
        };
        assert!(t.accepts(&json!(5)) && !t.accepts(&json!(["a"])));
        assert_eq!(t.normalise(&json!(5)), json!("5"));
    }
}
