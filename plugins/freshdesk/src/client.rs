//! [`FreshdeskDesk`]: one configured Freshdesk account, implementing the SDK's
//! [`TicketSystemAdapter`] by delegating to [`crate::find`], [`crate::write`], [`crate::bulk`]
//! and [`crate::export`]. Shared here: the transport and its budget, who otai is, the groups.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
};

use otai_plugin_sdk::{
    http::Http, BatchOutcome, BatchUpdate, Error, ErrorKind, ExportPage, ExportRequest, Logger,
    Note, RequestStats, SearchQuery, Ticket, TicketPage, TicketState, TicketSystemAdapter,
    TicketUpdate, WebhookEvent, WebhookRequest,
};
use serde_json::Value;
use time::OffsetDateTime;
use tokio::sync::OnceCell;

use crate::{
    api::{FdAgent, FdGroup, FdTicket},
    budget::Budget,
    config::Config,
    convert,
    find::Watermarks,
    http::transport,
    write::Plan,
};

/// One configured Freshdesk account.
#[derive(Debug)]
pub struct FreshdeskDesk {
    pub(crate) http: Http,
    pub(crate) config: Config,
    pub(crate) budget: Arc<Budget>,
    /// Where each query's list scan resumes (kept for the life of the service).
    pub(crate) marks: Watermarks,
    /// The agent the key belongs to, read once: otai's notes are the ones it wrote.
    me: OnceCell<FdAgent>,
    /// Group id → name, read once and again when a name is not found.
    groups: Mutex<Option<HashMap<u64, String>>>,
    /// Tickets as a find returned them, with the server's clock at that read: what a batch's
    /// re-read compares against (dropped once written).
    reads: Mutex<HashMap<u64, (FdTicket, OffsetDateTime)>>,
    /// Plans of tickets this service noted whose fields are not confirmed yet.
    pub(crate) noted: Mutex<HashMap<u64, Plan>>,
    /// Tickets whose conversations this service read and found without otai's note.
    pub(crate) checked: Mutex<HashSet<u64>>,
    /// When this service was made: tickets created before may carry a note of an earlier run.
    pub(crate) started: OffsetDateTime,
}

impl FreshdeskDesk {
    /// Validates the params and builds the client. Local only: otai calls this while it checks a
    /// configuration.
    pub fn from_params_json(params_json: &str, log: Logger) -> Result<FreshdeskDesk, Error> {
        Self::new(Config::from_json(params_json)?, log)
    }

    /// A client for `config`.
    pub fn new(config: Config, log: Logger) -> Result<FreshdeskDesk, Error> {
        let budget = Arc::new(Budget::new(&config, log.clone()));
        let http = transport(&config, budget.clone(), log)?;
        Ok(FreshdeskDesk {
            http,
            config,
            budget,
            marks: Watermarks::default(),
            me: OnceCell::new(),
            groups: Mutex::new(None),
            reads: Mutex::new(HashMap::new()),
            noted: Mutex::new(HashMap::new()),
            checked: Mutex::new(HashSet::new()),
            started: OffsetDateTime::now_utc(),
        })
    }

    /// The transport (for its counters and log).
    pub fn http(&self) -> &Http {
        &self.http
    }

    /// The rate budget (for its ledger).
    pub fn budget(&self) -> &Budget {
        &self.budget
    }

    /// Keeps `tickets` as read at `at` (the server's clock), an earlier read's time kept.
    pub(crate) fn remember(&self, tickets: &[FdTicket], at: OffsetDateTime) {
        let mut reads = self.reads.lock().unwrap_or_else(|p| p.into_inner());
        for t in tickets {
            let at = reads
                .get(&t.id)
                .map_or(at, |(_, earlier)| (*earlier).min(at));
            reads.insert(t.id, (t.clone(), at));
        }
    }

    /// A ticket as a find returned it, and when.
    pub(crate) fn recall(&self, id: u64) -> Option<(FdTicket, OffsetDateTime)> {
        self.reads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .cloned()
    }

    /// Drops what was kept of a ticket (it was written).
    pub(crate) fn forget(&self, id: u64) {
        self.forget_all([&id]);
    }

    /// Drops what was kept of these tickets.
    pub(crate) fn forget_all<'a>(&self, ids: impl IntoIterator<Item = &'a u64>) {
        let mut reads = self.reads.lock().unwrap_or_else(|p| p.into_inner());
        for id in ids {
            reads.remove(id);
        }
    }

    /// The server's clock now (the `Date` of a cheap answer), or this machine's if it sent none.
    pub(crate) async fn server_now(&self) -> OffsetDateTime {
        // `GET /agents/me` costs one credit; the job's own answers carry no stamp to use.
        match self.http.get_dated::<Value>("/api/v2/agents/me", &[]).await {
            Ok(d) => d
                .server_time
                .map(OffsetDateTime::from)
                .unwrap_or_else(OffsetDateTime::now_utc),
            Err(_) => OffsetDateTime::now_utc(),
        }
    }

    /// The agent the API key belongs to.
    pub(crate) async fn me(&self) -> Result<&FdAgent, Error> {
        self.me
            .get_or_try_init(|| self.http.get::<FdAgent>("/api/v2/agents/me", &[]))
            .await
    }

    /// Every group, read once (all pages of `GET /groups`); `refresh` reads them again.
    pub(crate) async fn groups(&self, refresh: bool) -> Result<HashMap<u64, String>, Error> {
        if !refresh {
            if let Some(known) = self
                .groups
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
            {
                return Ok(known);
            }
        }
        let mut all = HashMap::new();
        for page in 1..=100u32 {
            let list: Vec<FdGroup> = self
                .http
                .get(
                    "/api/v2/groups",
                    &[("per_page", "100".into()), ("page", page.to_string())],
                )
                .await?;
            let full = list.len() == 100;
            all.extend(list.into_iter().map(|g| (g.id, g.name)));
            if !full {
                break;
            }
        }
        *self.groups.lock().unwrap_or_else(|p| p.into_inner()) = Some(all.clone());
        Ok(all)
    }

    /// The id of the group named `name` (any case), reading the list again once if it is not
    /// known; a name Freshdesk does not have is a validation error naming it.
    pub(crate) async fn group_id(&self, name: &str) -> Result<u64, Error> {
        let find = |groups: &HashMap<u64, String>| {
            groups
                .iter()
                .find(|(_, n)| n.eq_ignore_ascii_case(name.trim()))
                .map(|(id, _)| *id)
        };
        if let Some(id) = find(&self.groups(false).await?) {
            return Ok(id);
        }
        find(&self.groups(true).await?).ok_or_else(|| {
            Error::new(
                ErrorKind::Validation,
                format!(
                    "Freshdesk has no group named \"{name}\" (Admin > Team > Groups); check the \
                     pipeline's queue names (`map`, `fallback`)"
                ),
            )
        })
    }

    /// `GET /tickets/{id}` with its description; `None` if there is no such ticket.
    pub(crate) async fn read(&self, id: u64) -> Result<Option<FdTicket>, Error> {
        let path = format!("/api/v2/tickets/{id}");
        let raw: Value = match self.http.get(&path, &[]).await {
            Ok(raw) => raw,
            Err(e) if e.kind == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        FdTicket::parse(raw).map(Some).map_err(|e| {
            Error::new(
                ErrorKind::InvalidResponse,
                format!("GET {path}: Freshdesk's answer does not read as a ticket: {e}"),
            )
        })
    }

    /// The otai tickets for Freshdesk's, with group names.
    pub(crate) async fn to_tickets(&self, tickets: &[FdTicket]) -> Result<Vec<Ticket>, Error> {
        let groups = if tickets.iter().any(|t| t.group_id.is_some()) {
            self.groups(false).await?
        } else {
            HashMap::new()
        };
        Ok(tickets
            .iter()
            .map(|t| convert::to_ticket(t, |id| groups.get(&id).cloned()))
            .collect())
    }
}

/// A ticket id in Freshdesk's form: digits.
pub(crate) fn ticket_id(id: &str) -> Result<u64, Error> {
    otai_plugin_sdk::ids::numeric_id(id, "Freshdesk ticket id", "")
}

impl TicketSystemAdapter for FreshdeskDesk {
    async fn find_tickets(&self, query: &SearchQuery) -> Result<Vec<Ticket>, Error> {
        crate::find::find(self, query).await
    }

    async fn find_tickets_page(
        &self,
        query: &SearchQuery,
        cursor: Option<&str>,
    ) -> Result<TicketPage, Error> {
        crate::find::find_page(self, query, cursor)
            .await
            .map_err(|e| e.context("find_tickets_page"))
    }

    async fn get_ticket(&self, id: &str) -> Result<Option<Ticket>, Error> {
        let number = ticket_id(id)?;
        let Some(t) = self
            .read(number)
            .await
            .map_err(|e| e.context(&format!("get_ticket {id}")))?
        else {
            return Ok(None);
        };
        Ok(self.to_tickets(&[t]).await?.pop())
    }

    async fn update_ticket(&self, id: &str, update: &TicketUpdate) -> Result<Ticket, Error> {
        let number = ticket_id(id)?;
        let current = self
            .read(number)
            .await
            .map_err(|e| e.context(&format!("update_ticket {id}")))?;
        crate::write::update(self, number, current, update)
            .await
            .map_err(|e| e.context(&format!("update_ticket {id}")))
    }

    async fn update_tickets(&self, updates: &[BatchUpdate]) -> Result<Vec<BatchOutcome>, Error> {
        crate::bulk::update_all(self, updates).await
    }

    async fn add_note(&self, id: &str, note: &Note) -> Result<(), Error> {
        crate::write::add_note(self, ticket_id(id)?, note, None)
            .await
            .map_err(|e| e.context(&format!("add_note {id}")))
    }

    async fn check_connection(&self) -> Result<String, Error> {
        let me = self.me().await?;
        let who = match (&me.contact.name, &me.contact.email) {
            (Some(name), Some(email)) => format!("{name} <{email}>"),
            (Some(one), None) | (None, Some(one)) => one.clone(),
            (None, None) => format!("agent {}", me.id),
        };
        let groups = self.groups(true).await?.len();
        let budget = match self.budget.total_budget() {
            Some(b) => format!("{b} credits a minute"),
            None => "learned from the first answer".into(),
        };
        Ok(format!(
            "{who} on {} ({groups} groups; otai's rate budget: {budget})",
            self.http.base_url()
        ))
    }

    async fn export_tickets(&self, request: &ExportRequest) -> Result<ExportPage, Error> {
        crate::export::page(self, request).await
    }

    fn request_stats(&self) -> Option<RequestStats> {
        Some(self.http.stats())
    }

    fn ticket_state(&self, status: &str, _tags: &[String]) -> TicketState {
        convert::ticket_state(status)
    }

    fn verify_webhook(&self, request: &WebhookRequest) -> Result<WebhookEvent, Error> {
        crate::webhook::verify(&self.config.webhook, request)
    }
}
