//! The simulated Zammad instance's data: users, groups, priorities, states, tickets, articles, tags
//! (a collection of their own, as in Zammad) and the record of every write; and the update
//! semantics of `PUT /api/v1/tickets/{id}` and the tag endpoints.
//!
//! Seeded like a fresh Zammad (`db/seeds/*.rb`): user 1 is `-` (nobody), group 1 `Users`,
//! priorities `1 low`, `2 normal` (default), `3 high`, states 1 new .. 7 pending close with their
//! state types. The API user ([`API_USER_ID`]) is an agent with admin rights, so `GET /groups`
//! answers.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Map, Value};

use crate::{
    error::ApiError,
    stamp::{format_ms, Now},
};

/// User 1, `-`: the owner of an unassigned ticket.
pub const NOBODY_ID: u64 = 1;
/// The agent the API authenticates as.
pub const API_USER_ID: u64 = 3;
/// The simulated colleague whose edits [`Store::agent_edit`] makes.
pub const COLLEAGUE_ID: u64 = 4;
/// The API user's login (and e-mail) unless the builder's Basic credentials name another.
pub const DEFAULT_AGENT_LOGIN: &str = "agent@example.com";

/// Article types (`db/seeds/ticket_article_types.rb`): id and name.
pub const ARTICLE_TYPES: &[(u64, &str)] = &[
    (1, "email"),
    (2, "sms"),
    (3, "chat"),
    (4, "fax"),
    (5, "phone"),
    (6, "twitter status"),
    (7, "twitter direct-message"),
    (8, "facebook feed post"),
    (9, "facebook feed comment"),
    (10, "note"),
    (11, "web"),
    (12, "telegram personal-message"),
];

/// Article senders (`db/seeds/ticket_article_senders.rb`).
pub const ARTICLE_SENDERS: &[(u64, &str)] = &[(1, "Agent"), (2, "Customer"), (3, "System")];

/// State types (`db/seeds/ticket_state_types.rb`).
pub const STATE_TYPES: &[(u64, &str)] = &[
    (1, "new"),
    (2, "open"),
    (3, "pending reminder"),
    (4, "pending action"),
    (5, "closed"),
    (6, "merged"),
    (7, "removed"),
];

fn type_name(id: u64) -> &'static str {
    ARTICLE_TYPES
        .iter()
        .find(|(i, _)| *i == id)
        .map_or("note", |(_, n)| n)
}

fn sender_name(id: u64) -> &'static str {
    ARTICLE_SENDERS
        .iter()
        .find(|(i, _)| *i == id)
        .map_or("Agent", |(_, n)| n)
}

/// What a user is (for `role_ids` and who may be an owner).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Agent and admin (role ids 1 and 2).
    Agent,
    /// Customer (role id 3).
    Customer,
    /// The system user `-`.
    Nobody,
}

/// A user.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    /// Id (1 is `-`).
    pub id: u64,
    /// Login (Zammad uses the e-mail address for most users).
    pub login: String,
    /// First name.
    pub firstname: String,
    /// Last name.
    pub lastname: String,
    /// E-mail address (empty for `-`).
    pub email: String,
    /// Active.
    pub active: bool,
    /// Role.
    pub role: Role,
}

impl User {
    /// `firstname lastname`, or the login when both are empty.
    pub fn fullname(&self) -> String {
        let name = format!("{} {}", self.firstname, self.lastname);
        let name = name.trim();
        if name.is_empty() {
            self.login.clone()
        } else {
            name.to_string()
        }
    }
}

/// A group (what otai calls a queue).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    /// Id (1 is `Users`).
    pub id: u64,
    /// Name (`Sales::Europe` for subgroups).
    pub name: String,
    /// Active.
    pub active: bool,
}

/// A ticket priority.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Priority {
    /// Id.
    pub id: u64,
    /// Name, e.g. `2 normal`.
    pub name: String,
    /// The priority of new tickets.
    pub default_create: bool,
    /// Active.
    pub active: bool,
}

/// A ticket state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct State {
    /// Id.
    pub id: u64,
    /// Name, e.g. `pending reminder`.
    pub name: String,
    /// Its type ([`STATE_TYPES`]).
    pub state_type_id: u64,
    /// For `pending close`: the state it moves to.
    pub next_state_id: Option<u64>,
    /// The state of new tickets.
    pub default_create: bool,
    /// The state a follow-up reopens to.
    pub default_follow_up: bool,
    /// Escalation is ignored in this state.
    pub ignore_escalation: bool,
    /// Active (`removed` is not).
    pub active: bool,
}

/// A ticket as the store keeps it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TicketRec {
    pub id: u64,
    pub number: String,
    pub title: String,
    pub group_id: u64,
    pub priority_id: u64,
    pub state_id: u64,
    pub owner_id: u64,
    pub customer_id: u64,
    pub created_by_id: u64,
    pub updated_by_id: u64,
    pub created_at: i64,
    pub updated_at: i64,
    pub pending_time: Option<i64>,
    pub create_article_type_id: Option<u64>,
    pub create_article_sender_id: Option<u64>,
    /// Custom object-manager attributes, top-level keys in the JSON.
    pub attributes: Map<String, Value>,
}

/// An article as the store keeps it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ArticleRec {
    pub id: u64,
    pub ticket_id: u64,
    pub type_id: u64,
    pub sender_id: u64,
    pub internal: bool,
    pub content_type: String,
    pub subject: Option<String>,
    pub body: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub cc: Option<String>,
    pub created_by_id: u64,
    pub created_at: i64,
}

/// A ticket as tests see it: names resolved, tags and stamps included.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ticket {
    /// Id.
    pub id: u64,
    /// Ticket number (a string in Zammad).
    pub number: String,
    /// Title (the subject).
    pub title: String,
    /// Group id.
    pub group_id: u64,
    /// Group name.
    pub group: String,
    /// Priority id.
    pub priority_id: u64,
    /// Priority name (`2 normal`).
    pub priority: String,
    /// State id.
    pub state_id: u64,
    /// State name (`new`).
    pub state: String,
    /// Owner (1 = nobody).
    pub owner_id: u64,
    /// Customer.
    pub customer_id: u64,
    /// Number of articles.
    pub article_count: usize,
    /// Tags, in the order they were added.
    pub tags: Vec<String>,
    /// `2025-01-14T07:45:08.681Z`.
    pub created_at: String,
    /// `2025-01-14T07:45:08.790Z`.
    pub updated_at: String,
    /// Custom attributes.
    pub attributes: Map<String, Value>,
}

/// An article as tests see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Article {
    /// Id.
    pub id: u64,
    /// Its ticket.
    pub ticket_id: u64,
    /// Type name: `note`, `email`, `web`, `phone`, ...
    pub kind: String,
    /// `Agent`, `Customer` or `System`.
    pub sender: String,
    /// Internal (not shown to the customer).
    pub internal: bool,
    /// `text/plain` or `text/html`.
    pub content_type: String,
    /// Subject, if any.
    pub subject: Option<String>,
    /// Body.
    pub body: String,
    /// From, if any.
    pub from: Option<String>,
    /// To, if any.
    pub to: Option<String>,
    /// Who created it.
    pub created_by_id: u64,
    /// `2025-01-14T07:45:08.681Z`.
    pub created_at: String,
}

/// One field a write changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    /// `title`, `group`, `priority`, `state`, `owner_id`, `customer_id`, `pending_time` or a
    /// custom attribute.
    pub field: String,
    /// Before (names for group, priority and state).
    pub from: Value,
    /// After.
    pub to: Value,
}

/// A write to a ticket: every successful API write, and every edit of the simulated agent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WriteRecord {
    /// The ticket.
    pub ticket_id: u64,
    /// `PUT`, `POST`, `DELETE`; `AGENT` for the simulated agent.
    pub method: String,
    /// The route, ids as `{id}`: `PUT /api/v1/tickets/{id}`, `POST /api/v1/tags/add`; `agent edit`.
    pub route: String,
    /// `api` or `agent`.
    pub by: String,
    /// Fields that changed (empty when the write changed nothing).
    pub changes: Vec<FieldChange>,
    /// The article the write created.
    pub article_id: Option<u64>,
    /// The tag the write added (not set when the ticket had it already).
    pub tag_added: Option<String>,
    /// The tag the write removed (not set when the ticket did not have it).
    pub tag_removed: Option<String>,
    /// When (the account's clock), Zammad's form.
    pub at: String,
}

impl WriteRecord {
    fn new(ticket_id: u64, method: &str, route: &str, by: &str, at: i64) -> Self {
        WriteRecord {
            ticket_id,
            method: method.to_string(),
            route: route.to_string(),
            by: by.to_string(),
            changes: Vec::new(),
            article_id: None,
            tag_added: None,
            tag_removed: None,
            at: format_ms(at),
        }
    }
}

/// A ticket to create (from a seed or the builder), names not yet resolved.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewTicket {
    /// Keep this id (else the next free one).
    pub id: Option<u64>,
    /// Keep this number (else the next one).
    pub number: Option<String>,
    /// Title.
    pub title: String,
    /// Group name (created when missing); `Users` when not given.
    pub group: Option<String>,
    /// Priority name; `2 normal` when not given.
    pub priority: Option<String>,
    /// State name; `new` when not given.
    pub state: Option<String>,
    /// Owner login or e-mail (an agent); nobody when not given.
    pub owner: Option<String>,
    /// Customer e-mail (created when missing); a default customer when not given.
    pub customer: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Unix ms; now when not given.
    pub created_at: Option<i64>,
    /// Unix ms; `created_at` when not given.
    pub updated_at: Option<i64>,
    /// Custom attributes (declared as the instance's object attributes).
    pub attributes: Map<String, Value>,
    /// Articles, the first is the customer's message.
    pub articles: Vec<NewArticle>,
}

/// An article to create with a [`NewTicket`].
#[derive(Debug, Clone, PartialEq)]
pub struct NewArticle {
    /// Type name (`web`, `email`, `note`, ...).
    pub kind: String,
    /// `Customer`, `Agent` or `System`.
    pub sender: String,
    /// Internal.
    pub internal: bool,
    /// `text/plain` or `text/html`.
    pub content_type: String,
    /// Subject.
    pub subject: Option<String>,
    /// Body.
    pub body: String,
    /// From (the customer's address when not given and the sender is the customer).
    pub from: Option<String>,
    /// To.
    pub to: Option<String>,
    /// Unix ms; the ticket's `created_at` when not given.
    pub created_at: Option<i64>,
}

impl Default for NewArticle {
    fn default() -> Self {
        NewArticle {
            kind: "web".into(),
            sender: "Customer".into(),
            internal: false,
            content_type: "text/plain".into(),
            subject: None,
            body: String::new(),
            from: None,
            to: None,
            created_at: None,
        }
    }
}

/// What a successful `PUT /tickets/{id}` did.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateOutcome {
    /// Fields changed.
    pub changes: Vec<FieldChange>,
    /// The article created.
    pub article_id: Option<u64>,
}

/// The whole instance.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) users: Vec<User>,
    pub(crate) groups: Vec<Group>,
    pub(crate) priorities: Vec<Priority>,
    pub(crate) states: Vec<State>,
    pub(crate) tickets: BTreeMap<u64, TicketRec>,
    pub(crate) articles: BTreeMap<u64, ArticleRec>,
    pub(crate) tags: BTreeMap<u64, Vec<String>>,
    pub(crate) writes: Vec<WriteRecord>,
    /// Custom object-manager attributes the instance has (others are dropped on update).
    pub(crate) attribute_names: BTreeSet<String>,
    /// When the instance was set up (the stamp of the seeded reference data).
    pub(crate) created_at: i64,
    next_ticket_id: u64,
    next_article_id: u64,
    next_number: u64,
}

impl Store {
    /// A fresh instance as Zammad seeds it, the API user logging in as `agent_login`.
    pub fn new(agent_login: &str, now: Now) -> Self {
        let user = |id, login: &str, first: &str, last: &str, email: &str, role| User {
            id,
            login: login.to_string(),
            firstname: first.to_string(),
            lastname: last.to_string(),
            email: email.to_string(),
            active: true,
            role,
        };
        let users = vec![
            user(NOBODY_ID, "-", "-", "", "", Role::Nobody),
            user(
                2,
                "nicole.braun@zammad.org",
                "Nicole",
                "Braun",
                "nicole.braun@zammad.org",
                Role::Customer,
            ),
            user(
                API_USER_ID,
                agent_login,
                "Sim",
                "Agent",
                if agent_login.contains('@') {
                    agent_login
                } else {
                    DEFAULT_AGENT_LOGIN
                },
                Role::Agent,
            ),
            user(
                COLLEAGUE_ID,
                "colleague@example.com",
                "Emma",
                "Colleague",
                "colleague@example.com",
                Role::Agent,
            ),
        ];
        let priority = |id, name: &str, default_create| Priority {
            id,
            name: name.to_string(),
            default_create,
            active: true,
        };
        let state = |id, name: &str, state_type_id| State {
            id,
            name: name.to_string(),
            state_type_id,
            next_state_id: None,
            default_create: id == 1,
            default_follow_up: id == 2,
            ignore_escalation: id >= 3,
            active: id != 6,
        };
        let mut states = vec![
            state(1, "new", 1),
            state(2, "open", 2),
            state(3, "pending reminder", 3),
            state(4, "closed", 5),
            state(5, "merged", 6),
            state(6, "removed", 7),
            state(7, "pending close", 4),
        ];
        states[6].next_state_id = Some(4);
        Store {
            users,
            groups: vec![Group {
                id: 1,
                name: "Users".into(),
                active: true,
            }],
            priorities: vec![
                priority(1, "1 low", false),
                priority(2, "2 normal", true),
                priority(3, "3 high", false),
            ],
            states,
            tickets: BTreeMap::new(),
            articles: BTreeMap::new(),
            tags: BTreeMap::new(),
            writes: Vec::new(),
            attribute_names: BTreeSet::new(),
            created_at: now.ms,
            next_ticket_id: 1,
            next_article_id: 1,
            next_number: 1,
        }
    }

    // ---- reference data -------------------------------------------------------------------

    /// The group named `name`, created (next id, active) when missing.
    pub fn ensure_group(&mut self, name: &str) -> u64 {
        if let Some(g) = self.group_by_name(name) {
            return g.id;
        }
        let id = self.groups.iter().map(|g| g.id).max().unwrap_or(0) + 1;
        self.groups.push(Group {
            id,
            name: name.to_string(),
            active: true,
        });
        id
    }

    /// Declares custom ticket attributes (object-manager attributes) the instance has.
    pub fn declare_attributes<'a>(&mut self, names: impl IntoIterator<Item = &'a str>) {
        self.attribute_names
            .extend(names.into_iter().map(str::to_string));
    }

    pub(crate) fn group_by_name(&self, name: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.name == name)
    }

    pub(crate) fn group(&self, id: u64) -> Option<&Group> {
        self.groups.iter().find(|g| g.id == id)
    }

    pub(crate) fn priority(&self, id: u64) -> Option<&Priority> {
        self.priorities.iter().find(|p| p.id == id)
    }

    pub(crate) fn state(&self, id: u64) -> Option<&State> {
        self.states.iter().find(|s| s.id == id)
    }

    pub(crate) fn user(&self, id: u64) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    /// A user by login or e-mail, as Zammad looks up `owner` / `customer` names.
    pub(crate) fn user_by_login_or_email(&self, name: &str) -> Option<&User> {
        let lower = name.to_lowercase();
        self.users
            .iter()
            .find(|u| u.login.to_lowercase() == lower)
            .or_else(|| {
                self.users
                    .iter()
                    .find(|u| !u.email.is_empty() && u.email.to_lowercase() == lower)
            })
    }

    /// The customer with this e-mail, created when missing.
    pub fn ensure_customer(&mut self, email: &str) -> u64 {
        if let Some(u) = self.user_by_login_or_email(email) {
            return u.id;
        }
        let id = self.users.iter().map(|u| u.id).max().unwrap_or(0) + 1;
        let local = email.split('@').next().unwrap_or(email);
        self.users.push(User {
            id,
            login: email.to_lowercase(),
            firstname: local.to_string(),
            lastname: String::new(),
            email: email.to_lowercase(),
            active: true,
            role: Role::Customer,
        });
        id
    }

    /// The login Zammad shows for a user in `expand=true` answers (`-` for nobody).
    pub(crate) fn user_login(&self, id: u64) -> Value {
        self.user(id)
            .map_or(Value::Null, |u| Value::String(u.login.clone()))
    }

    // ---- tickets --------------------------------------------------------------------------

    /// Creates a ticket (seed or builder): names resolved, missing groups and customers
    /// created, tags added, articles created. An unknown priority, state or owner is an error.
    pub fn insert_ticket(&mut self, t: NewTicket, now: Now) -> Result<u64, String> {
        if t.title.trim().is_empty() {
            return Err("a ticket needs a title".into());
        }
        let group_id = self.ensure_group(t.group.as_deref().unwrap_or("Users"));
        let priority_id = match &t.priority {
            None => 2,
            Some(name) => {
                self.priorities
                    .iter()
                    .find(|p| &p.name == name)
                    .ok_or_else(|| format!("unknown priority {name:?} (1 low, 2 normal, 3 high)"))?
                    .id
            }
        };
        let state_id = match &t.state {
            None => 1,
            Some(name) => {
                self.states
                    .iter()
                    .find(|s| &s.name == name)
                    .ok_or_else(|| format!("unknown state {name:?}"))?
                    .id
            }
        };
        let owner_id = match &t.owner {
            None => NOBODY_ID,
            Some(name) => {
                self.user_by_login_or_email(name)
                    .filter(|u| u.role != Role::Customer)
                    .ok_or_else(|| format!("unknown owner {name:?} (an agent's login)"))?
                    .id
            }
        };
        let customer_id = match &t.customer {
            Some(email) => self.ensure_customer(email),
            None => 2,
        };
        let id = match t.id {
            Some(id) if self.tickets.contains_key(&id) => {
                return Err(format!("ticket id {id} is used twice"))
            }
            Some(id) => id,
            None => self.next_ticket_id,
        };
        self.next_ticket_id = self.next_ticket_id.max(id + 1);
        let number = t.number.clone().unwrap_or_else(|| {
            let n = format!("{}", 20000 + self.next_number);
            self.next_number += 1;
            n
        });
        let created_at = t.created_at.unwrap_or(now.ms);
        let updated_at = t.updated_at.unwrap_or(created_at).max(created_at);
        self.declare_attributes(t.attributes.keys().map(String::as_str));
        let first = t.articles.first();
        let rec = TicketRec {
            id,
            number,
            title: t.title.clone(),
            group_id,
            priority_id,
            state_id,
            owner_id,
            customer_id,
            created_by_id: customer_id,
            updated_by_id: customer_id,
            created_at,
            updated_at,
            pending_time: None,
            create_article_type_id: first.map(|a| self.type_id(&a.kind)).transpose()?,
            create_article_sender_id: first.map(|a| self.sender_id(&a.sender)).transpose()?,
            attributes: t.attributes.clone(),
        };
        self.tickets.insert(id, rec);
        let customer_email = self.user(customer_id).map(|u| u.email.clone());
        for a in &t.articles {
            let type_id = self.type_id(&a.kind)?;
            let sender_id = self.sender_id(&a.sender)?;
            let from = a
                .from
                .clone()
                .or_else(|| (sender_id == 2).then(|| customer_email.clone()).flatten());
            let article_id = self.next_article_id;
            self.next_article_id += 1;
            self.articles.insert(
                article_id,
                ArticleRec {
                    id: article_id,
                    ticket_id: id,
                    type_id,
                    sender_id,
                    internal: a.internal,
                    content_type: a.content_type.clone(),
                    subject: a.subject.clone().or_else(|| Some(t.title.clone())),
                    body: a.body.clone(),
                    from,
                    to: a.to.clone(),
                    cc: None,
                    created_by_id: if sender_id == 2 {
                        customer_id
                    } else {
                        API_USER_ID
                    },
                    created_at: a.created_at.unwrap_or(created_at),
                },
            );
        }
        let mut tags = Vec::new();
        for tag in &t.tags {
            let tag = tag.trim();
            if !tag.is_empty() && !tags.iter().any(|x| x == tag) {
                tags.push(tag.to_string());
            }
        }
        if !tags.is_empty() {
            self.tags.insert(id, tags);
        }
        Ok(id)
    }

    fn type_id(&self, name: &str) -> Result<u64, String> {
        ARTICLE_TYPES
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(i, _)| *i)
            .ok_or_else(|| format!("unknown article type {name:?}"))
    }

    fn sender_id(&self, name: &str) -> Result<u64, String> {
        ARTICLE_SENDERS
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(i, _)| *i)
            .ok_or_else(|| format!("unknown article sender {name:?} (Agent, Customer, System)"))
    }

    /// The ticket as tests see it.
    pub fn ticket(&self, id: u64) -> Option<Ticket> {
        let t = self.tickets.get(&id)?;
        Some(Ticket {
            id: t.id,
            number: t.number.clone(),
            title: t.title.clone(),
            group_id: t.group_id,
            group: self
                .group(t.group_id)
                .map(|g| g.name.clone())
                .unwrap_or_default(),
            priority_id: t.priority_id,
            priority: self
                .priority(t.priority_id)
                .map(|p| p.name.clone())
                .unwrap_or_default(),
            state_id: t.state_id,
            state: self
                .state(t.state_id)
                .map(|s| s.name.clone())
                .unwrap_or_default(),
            owner_id: t.owner_id,
            customer_id: t.customer_id,
            article_count: self.article_ids(id).len(),
            tags: self.tags(id),
            created_at: format_ms(t.created_at),
            updated_at: format_ms(t.updated_at),
            attributes: t.attributes.clone(),
        })
    }

    /// Ids of every ticket, ascending.
    pub fn ticket_ids(&self) -> Vec<u64> {
        self.tickets.keys().copied().collect()
    }

    /// The ticket's articles, oldest first.
    pub fn articles(&self, ticket_id: u64) -> Vec<Article> {
        self.article_recs(ticket_id)
            .into_iter()
            .map(|a| self.article_view(a))
            .collect()
    }

    pub(crate) fn article_view(&self, a: &ArticleRec) -> Article {
        Article {
            id: a.id,
            ticket_id: a.ticket_id,
            kind: type_name(a.type_id).to_string(),
            sender: sender_name(a.sender_id).to_string(),
            internal: a.internal,
            content_type: a.content_type.clone(),
            subject: a.subject.clone(),
            body: a.body.clone(),
            from: a.from.clone(),
            to: a.to.clone(),
            created_by_id: a.created_by_id,
            created_at: format_ms(a.created_at),
        }
    }

    pub(crate) fn article_recs(&self, ticket_id: u64) -> Vec<&ArticleRec> {
        self.articles
            .values()
            .filter(|a| a.ticket_id == ticket_id)
            .collect()
    }

    pub(crate) fn article_ids(&self, ticket_id: u64) -> Vec<u64> {
        self.article_recs(ticket_id).iter().map(|a| a.id).collect()
    }

    /// The ticket's tags in the order they were added.
    pub fn tags(&self, ticket_id: u64) -> Vec<String> {
        self.tags.get(&ticket_id).cloned().unwrap_or_default()
    }

    /// Every write, oldest first.
    pub fn writes(&self) -> &[WriteRecord] {
        &self.writes
    }

    // ---- writes ---------------------------------------------------------------------------

    /// `PUT /api/v1/tickets/{id}` with `body`: names to ids (422 `No lookup value found for
    /// 'group': "X"` when unknown), unknown `_id`s rejected (422), unknown keys dropped, then the
    /// fields and the nested `article` applied together or not at all, as Zammad's
    /// `ticket.with_lock { update!; article_create }` does. `updated_at` moves when anything
    /// changed or an article was created.
    pub fn update_ticket(
        &mut self,
        id: u64,
        body: &Value,
        route: &str,
        now: Now,
    ) -> Result<UpdateOutcome, ApiError> {
        let Some(current) = self.tickets.get(&id).cloned() else {
            return Err(ApiError::not_found("Ticket", id));
        };
        let empty = Map::new();
        let params = body.as_object().unwrap_or(&empty);

        // 1. association names -> ids, then ids checked (both before the lock).
        let group_id = self.resolve(
            params,
            "group",
            |s, v| s.group_by_name(v).map(|g| g.id),
            |s, i| s.group(i).is_some(),
        )?;
        let priority_id = self.resolve(
            params,
            "priority",
            |s, v| s.priorities.iter().find(|p| p.name == v).map(|p| p.id),
            |s, i| s.priority(i).is_some(),
        )?;
        let state_id = self.resolve(
            params,
            "state",
            |s, v| s.states.iter().find(|x| x.name == v).map(|x| x.id),
            |s, i| s.state(i).is_some(),
        )?;
        let owner_id = self.resolve_user(params, "owner")?;
        let customer_id = self.resolve_user(params, "customer")?;

        // 2. the new record.
        let mut next = current.clone();
        if let Some(v) = group_id {
            next.group_id = v;
        }
        if let Some(v) = priority_id {
            next.priority_id = v;
        }
        if let Some(v) = state_id {
            next.state_id = v;
        }
        if let Some(v) = owner_id {
            next.owner_id = v;
        }
        if let Some(v) = customer_id {
            next.customer_id = v;
        }
        if let Some(title) = params.get("title") {
            let title = match title {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            if title.trim().is_empty() {
                return Err(ApiError::unprocessable("Title can't be blank"));
            }
            next.title = title;
        }
        if let Some(v) = params.get("pending_time") {
            next.pending_time = match v {
                Value::Null => None,
                Value::String(s) if s.is_empty() => None,
                Value::String(s) => Some(crate::stamp::parse_ms(s).ok_or_else(|| {
                    ApiError::unprocessable(format!("invalid value for pending_time: {s:?}"))
                })?),
                other => {
                    return Err(ApiError::unprocessable(format!(
                        "invalid value for pending_time: {other}"
                    )))
                }
            };
        }
        for (k, v) in params {
            if self.attribute_names.contains(k) {
                next.attributes.insert(k.clone(), v.clone());
            }
        }

        // 3. the article, validated before anything is applied.
        let article = match params.get("article") {
            Some(Value::Object(a)) if !a.is_empty() => Some(self.new_article(id, a, now)?),
            _ => None,
        };

        // 4. apply.
        let changes = self.diff(&current, &next);
        if changes.is_empty() && article.is_none() {
            self.record(WriteRecord::new(id, "PUT", route, "api", now.ms));
            return Ok(UpdateOutcome {
                changes,
                article_id: None,
            });
        }
        next.updated_at = now.after(current.updated_at);
        next.updated_by_id = API_USER_ID;
        let mut rec = WriteRecord::new(id, "PUT", route, "api", next.updated_at);
        rec.changes = changes.clone();
        let mut article_id = None;
        if let Some(mut a) = article {
            a.created_at = next.updated_at;
            article_id = Some(a.id);
            self.next_article_id = a.id + 1;
            self.articles.insert(a.id, a);
        }
        rec.article_id = article_id;
        self.tickets.insert(id, next);
        self.record(rec);
        Ok(UpdateOutcome {
            changes,
            article_id,
        })
    }

    /// `assoc_id` (checked) or `assoc` by name; `None` when neither is given (or null).
    fn resolve(
        &self,
        params: &Map<String, Value>,
        assoc: &str,
        by_name: impl Fn(&Store, &str) -> Option<u64>,
        exists: impl Fn(&Store, u64) -> bool,
    ) -> Result<Option<u64>, ApiError> {
        let key = format!("{assoc}_id");
        match params.get(&key) {
            Some(v) if !is_blank(v) => {
                return match id_of(v).filter(|i| exists(self, *i)) {
                    Some(i) => Ok(Some(i)),
                    None => Err(ApiError::unprocessable(format!(
                        "Invalid value for param '{key}': {}",
                        ruby_inspect(v)
                    ))),
                }
            }
            _ => {}
        }
        match params.get(assoc) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(name)) => by_name(self, name).map(Some).ok_or_else(|| {
                ApiError::unprocessable(format!(
                    "No lookup value found for '{assoc}': {}",
                    ruby_inspect(&Value::String(name.clone()))
                ))
            }),
            Some(other) => by_name(self, &other.to_string()).map(Some).ok_or_else(|| {
                ApiError::unprocessable(format!(
                    "No lookup value found for '{assoc}': {}",
                    ruby_inspect(other)
                ))
            }),
        }
    }

    fn resolve_user(
        &self,
        params: &Map<String, Value>,
        assoc: &str,
    ) -> Result<Option<u64>, ApiError> {
        if let Some(v) = params.get(assoc) {
            if !v.is_null() && !v.is_string() && params.get(&format!("{assoc}_id")).is_none() {
                return Err(ApiError::unprocessable(format!(
                    "String is needed as ref value {} for '{assoc}'",
                    ruby_inspect(v)
                )));
            }
        }
        self.resolve(
            params,
            assoc,
            |s, v| s.user_by_login_or_email(v).map(|u| u.id),
            |s, i| s.user(i).is_some(),
        )
    }

    /// The nested `article` of an update, as `article_create` builds it: `body` required, type
    /// `note` and sender `Agent` by default.
    fn new_article(
        &self,
        ticket_id: u64,
        a: &Map<String, Value>,
        now: Now,
    ) -> Result<ArticleRec, ApiError> {
        let body = match a.get("body") {
            None | Some(Value::Null) => {
                return Err(ApiError::unprocessable(
                    "Need at least an 'article body' field.",
                ))
            }
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        };
        let lookup = |key: &str, table: &[(u64, &str)], default: u64| -> Result<u64, ApiError> {
            let id_key = format!("{key}_id");
            if let Some(v) = a.get(&id_key).filter(|v| !is_blank(v)) {
                return id_of(v)
                    .filter(|i| table.iter().any(|(t, _)| t == i))
                    .ok_or_else(|| {
                        ApiError::unprocessable(format!(
                            "Invalid value for param '{id_key}': {}",
                            ruby_inspect(v)
                        ))
                    });
            }
            match a.get(key) {
                None | Some(Value::Null) => Ok(default),
                Some(v) => {
                    let name = v
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string());
                    table
                        .iter()
                        .find(|(_, n)| *n == name)
                        .map(|(i, _)| *i)
                        .ok_or_else(|| {
                            ApiError::unprocessable(format!(
                                "No lookup value found for '{key}': {}",
                                ruby_inspect(v)
                            ))
                        })
                }
            }
        };
        let type_id = lookup("type", ARTICLE_TYPES, 10)?;
        let sender_id = lookup("sender", ARTICLE_SENDERS, 1)?;
        let text = |key: &str| -> Option<String> {
            match a.get(key) {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(other) => Some(other.to_string()),
            }
        };
        let agent = self.user(API_USER_ID).map(User::fullname);
        Ok(ArticleRec {
            id: self.next_article_id,
            ticket_id,
            type_id,
            sender_id,
            internal: a.get("internal").is_some_and(truthy),
            content_type: text("content_type").unwrap_or_else(|| "text/plain".into()),
            subject: text("subject"),
            body,
            from: text("from").or(agent),
            to: text("to"),
            cc: text("cc"),
            created_by_id: API_USER_ID,
            created_at: now.ms,
        })
    }

    fn diff(&self, a: &TicketRec, b: &TicketRec) -> Vec<FieldChange> {
        let mut out = Vec::new();
        let mut push = |field: &str, from: Value, to: Value| {
            if from != to {
                out.push(FieldChange {
                    field: field.to_string(),
                    from,
                    to,
                });
            }
        };
        push("title", a.title.clone().into(), b.title.clone().into());
        let group = |id| {
            self.group(id)
                .map_or(Value::Null, |g| g.name.clone().into())
        };
        push("group", group(a.group_id), group(b.group_id));
        let prio = |id| {
            self.priority(id)
                .map_or(Value::Null, |p| p.name.clone().into())
        };
        push("priority", prio(a.priority_id), prio(b.priority_id));
        let state = |id| {
            self.state(id)
                .map_or(Value::Null, |s| s.name.clone().into())
        };
        push("state", state(a.state_id), state(b.state_id));
        push("owner_id", a.owner_id.into(), b.owner_id.into());
        push("customer_id", a.customer_id.into(), b.customer_id.into());
        let pending = |p: Option<i64>| p.map_or(Value::Null, |ms| format_ms(ms).into());
        push(
            "pending_time",
            pending(a.pending_time),
            pending(b.pending_time),
        );
        let keys: BTreeSet<&String> = a.attributes.keys().chain(b.attributes.keys()).collect();
        for k in keys {
            let get = |t: &TicketRec| t.attributes.get(k).cloned().unwrap_or(Value::Null);
            push(k, get(a), get(b));
        }
        out
    }

    /// `POST /api/v1/tags/add`: `Ok(true)` (201 `true`) also when the ticket has the tag already
    /// (then nothing changes); a new tag touches the ticket.
    pub fn tag_add(
        &mut self,
        id: u64,
        item: &str,
        route: &str,
        by: &str,
        now: Now,
    ) -> Result<bool, ApiError> {
        let item = item.trim();
        if item.is_empty() {
            return Err(ApiError::unprocessable("Name can't be blank"));
        }
        let Some(t) = self.tickets.get_mut(&id) else {
            return Err(ApiError::not_found("Ticket", id));
        };
        let method = if by == "agent" { "AGENT" } else { "POST" };
        let tags = self.tags.entry(id).or_default();
        if tags.iter().any(|x| x == item) {
            self.record(WriteRecord::new(id, method, route, by, now.ms));
            return Ok(false);
        }
        tags.push(item.to_string());
        t.updated_at = now.after(t.updated_at);
        let mut rec = WriteRecord::new(id, method, route, by, t.updated_at);
        rec.tag_added = Some(item.to_string());
        self.record(rec);
        Ok(true)
    }

    /// `DELETE /api/v1/tags/remove`: `Ok(true)` when the tag was there (200 `true` either way);
    /// the ticket is touched.
    pub fn tag_remove(
        &mut self,
        id: u64,
        item: &str,
        route: &str,
        now: Now,
    ) -> Result<bool, ApiError> {
        let item = item.trim();
        let Some(t) = self.tickets.get_mut(&id) else {
            return Err(ApiError::not_found("Ticket", id));
        };
        let tags = self.tags.entry(id).or_default();
        let had = tags.iter().any(|x| x == item);
        tags.retain(|x| x != item);
        t.updated_at = now.after(t.updated_at);
        let mut rec = WriteRecord::new(id, "DELETE", route, "api", t.updated_at);
        if had {
            rec.tag_removed = Some(item.to_string());
        }
        self.record(rec);
        Ok(had)
    }

    /// The simulated agent edits ticket `id`: adds `tag` (through the tag collection) and the
    /// ticket is stamped now; nothing else changes. `false` when there is no such ticket.
    pub fn agent_edit(&mut self, id: u64, tag: &str, now: Now) -> bool {
        let Some(t) = self.tickets.get_mut(&id) else {
            return false;
        };
        let tags = self.tags.entry(id).or_default();
        let added = !tags.iter().any(|x| x == tag);
        if added {
            tags.push(tag.to_string());
        }
        t.updated_at = now.after(t.updated_at);
        t.updated_by_id = COLLEAGUE_ID;
        let mut rec = WriteRecord::new(id, "AGENT", "agent edit", "agent", t.updated_at);
        if added {
            rec.tag_added = Some(tag.to_string());
        }
        self.record(rec);
        true
    }

    fn record(&mut self, rec: WriteRecord) {
        self.writes.push(rec);
    }
}

/// Ruby's `inspect` of a JSON value as Zammad's messages show it: strings quoted, numbers bare.
pub(crate) fn ruby_inspect(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        Value::Null => "nil".into(),
        other => other.to_string(),
    }
}

/// Rails' `blank?` for a JSON value.
pub(crate) fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::Bool(b) => !b,
        Value::Number(_) => false,
    }
}

/// An id from a JSON number or numeric string.
pub(crate) fn id_of(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Rails' boolean cast: `true`, `"true"`, `"1"`, `1`, ...
pub(crate) fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_i64().is_some_and(|i| i != 0),
        Value::String(s) => matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "1" | "t" | "on" | "yes"
        ),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn store() -> (Store, u64) {
        let mut s = Store::new(DEFAULT_AGENT_LOGIN, Now::at(1_000));
        s.declare_attributes(["otai_queue"]);
        s.ensure_group("Billing");
        let id = s
            .insert_ticket(
                NewTicket {
                    title: "Card lost".into(),
                    customer: Some("c@example.com".into()),
                    tags: vec!["vip".into()],
                    articles: vec![NewArticle {
                        body: "I lost my card".into(),
                        ..NewArticle::default()
                    }],
                    ..NewTicket::default()
                },
                Now::at(1_000),
            )
            .unwrap();
        (s, id)
    }

    #[test]
    fn a_fresh_instance_has_zammads_seed_data() {
        let s = Store::new(DEFAULT_AGENT_LOGIN, Now::at(0));
        assert_eq!(s.user(1).unwrap().login, "-");
        assert_eq!(s.group(1).unwrap().name, "Users");
        let names: Vec<_> = s.priorities.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["1 low", "2 normal", "3 high"]);
        assert!(s.priority(2).unwrap().default_create);
        let pc = s.state(7).unwrap();
        assert_eq!(
            (pc.name.as_str(), pc.state_type_id, pc.next_state_id),
            ("pending close", 4, Some(4))
        );
        assert!(!s.state(6).unwrap().active);
        assert_eq!(s.state(4).unwrap().state_type_id, 5);
    }

    #[test]
    fn update_applies_names_attributes_and_a_note_together() {
        let (mut s, id) = store();
        let out = s
            .update_ticket(
                id,
                &json!({"group": "Billing", "priority": "3 high", "otai_queue": "cards",
                        "not_an_attribute": 1, "number": "1",
                        "article": {"body": "routed by otai", "internal": true}}),
                "PUT /api/v1/tickets/{id}",
                Now::at(5_000),
            )
            .unwrap();
        let t = s.ticket(id).unwrap();
        assert_eq!(
            (t.group.as_str(), t.priority.as_str()),
            ("Billing", "3 high")
        );
        assert_eq!(t.attributes["otai_queue"], "cards");
        assert!(!t.attributes.contains_key("not_an_attribute"));
        assert_eq!(t.number, "20001");
        assert_eq!(t.updated_at, format_ms(5_000));
        let fields: Vec<_> = out.changes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["group", "priority", "otai_queue"]);
        let arts = s.articles(id);
        assert_eq!(arts.len(), 2);
        let note = &arts[1];
        assert_eq!(Some(note.id), out.article_id);
        assert_eq!(
            (note.kind.as_str(), note.sender.as_str(), note.internal),
            ("note", "Agent", true)
        );
        assert_eq!(note.content_type, "text/plain");
    }

    #[test]
    fn an_unknown_name_or_id_or_a_bodyless_article_changes_nothing() {
        let (mut s, id) = store();
        let before = s.ticket(id).unwrap();
        let writes = s.writes().len();
        for (body, msg) in [
            (
                json!({"priority": "3 high", "group": "Nope", "article": {"body": "x"}}),
                "No lookup value found for 'group': \"Nope\"",
            ),
            (
                json!({"group_id": 99}),
                "Invalid value for param 'group_id': 99",
            ),
            (
                json!({"priority": "3 high", "article": {"internal": true}}),
                "Need at least an 'article body' field.",
            ),
            (
                json!({"article": {"body": "x", "type": "pigeon"}}),
                "No lookup value found for 'type': \"pigeon\"",
            ),
            (json!({"title": ""}), "Title can't be blank"),
        ] {
            let err = s.update_ticket(id, &body, "r", Now::at(9_000)).unwrap_err();
            assert_eq!((err.status, err.message.as_str()), (422, msg));
        }
        assert_eq!(s.ticket(id).unwrap(), before);
        assert_eq!(s.articles(id).len(), 1);
        assert_eq!(s.writes().len(), writes);
        let err = s
            .update_ticket(404, &json!({}), "r", Now::at(9_000))
            .unwrap_err();
        assert_eq!(err.message, "Couldn't find Ticket with 'id'=404");
    }

    #[test]
    fn ids_win_over_names_and_a_no_op_update_keeps_the_stamp() {
        let (mut s, id) = store();
        s.update_ticket(
            id,
            &json!({"group_id": "2", "group": "Nope"}),
            "r",
            Now::at(2_000),
        )
        .unwrap();
        assert_eq!(s.ticket(id).unwrap().group, "Billing");
        let out = s
            .update_ticket(id, &json!({"group": "Billing"}), "r", Now::at(3_000))
            .unwrap();
        assert!(out.changes.is_empty());
        assert_eq!(s.ticket(id).unwrap().updated_at, format_ms(2_000));
        assert_eq!(s.writes().last().unwrap().changes, vec![]);
    }

    #[test]
    fn tags_add_is_idempotent_and_remove_touches() {
        let (mut s, id) = store();
        assert!(!s.tag_add(id, "vip", "r", "api", Now::at(2_000)).unwrap());
        assert_eq!(s.ticket(id).unwrap().updated_at, format_ms(1_000));
        assert!(s.tag_add(id, " otai ", "r", "api", Now::at(3_000)).unwrap());
        assert_eq!(s.tags(id), ["vip", "otai"]);
        assert_eq!(s.ticket(id).unwrap().updated_at, format_ms(3_000));
        assert!(s.tag_remove(id, "vip", "r", Now::at(4_000)).unwrap());
        assert!(!s.tag_remove(id, "vip", "r", Now::at(5_000)).unwrap());
        assert_eq!(s.tags(id), ["otai"]);
        assert_eq!(
            s.tag_add(7, "x", "r", "api", Now::at(1))
                .unwrap_err()
                .status,
            404
        );
        assert_eq!(
            s.tag_add(id, " ", "r", "api", Now::at(1))
                .unwrap_err()
                .status,
            422
        );
    }

    #[test]
    fn the_agent_adds_a_tag_and_moves_the_stamp_only() {
        let (mut s, id) = store();
        let before = s.ticket(id).unwrap();
        assert!(s.agent_edit(id, "sim_agent_edit", Now::at(1_000)));
        let after = s.ticket(id).unwrap();
        assert_eq!(after.tags, ["vip", "sim_agent_edit"]);
        assert_eq!(after.updated_at, format_ms(1_001));
        assert_eq!(
            (after.priority, after.attributes),
            (before.priority, before.attributes)
        );
        assert_eq!(s.writes().last().unwrap().by, "agent");
        assert!(!s.agent_edit(99, "x", Now::at(1)));
    }

    #[test]
    fn seeds_resolve_names_and_reject_unknown_ones() {
        let mut s = Store::new(DEFAULT_AGENT_LOGIN, Now::at(0));
        let bad = NewTicket {
            title: "x".into(),
            priority: Some("4 urgent".into()),
            ..NewTicket::default()
        };
        assert!(s
            .insert_ticket(bad, Now::at(0))
            .unwrap_err()
            .contains("4 urgent"));
        let id = s
            .insert_ticket(
                NewTicket {
                    id: Some(50),
                    title: "x".into(),
                    group: Some("Sales".into()),
                    state: Some("open".into()),
                    ..NewTicket::default()
                },
                Now::at(0),
            )
            .unwrap();
        assert_eq!(id, 50);
        let t = s.ticket(50).unwrap();
        assert_eq!(
            (t.group.as_str(), t.state.as_str(), t.owner_id),
            ("Sales", "open", 1)
        );
        let next = s
            .insert_ticket(
                NewTicket {
                    title: "y".into(),
                    ..NewTicket::default()
                },
                Now::at(0),
            )
            .unwrap();
        assert_eq!(next, 51);
        let dup = NewTicket {
            id: Some(50),
            title: "z".into(),
            ..NewTicket::default()
        };
        assert!(s.insert_ticket(dup, Now::at(0)).is_err());
    }
}
