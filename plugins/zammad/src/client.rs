//! [`ZammadDesk`]: one configured Zammad, implementing the SDK's [`TicketSystemAdapter`] by
//! delegating to [`crate::search`] (finding tickets), [`crate::write`] (updates and notes) and
//! [`crate::export`] (history). Shared here: the transport, the kept lists and who otai is.

use otai_plugin_sdk::{
    http::Http, Error, ErrorKind, ExportPage, ExportRequest, Logger, Note, RequestStats,
    SearchQuery, Ticket, TicketPage, TicketState, TicketSystemAdapter, TicketUpdate, WebhookEvent,
    WebhookRequest,
};
use serde_json::Value;
use tokio::sync::OnceCell;

use crate::{
    api::{TicketAll, ZUser},
    catalog::Catalog,
    config::Config,
    convert::{self, Lookups},
    http::transport,
};

/// One configured Zammad.
#[derive(Debug)]
pub struct ZammadDesk {
    pub(crate) http: Http,
    pub(crate) config: Config,
    pub(crate) catalog: Catalog,
    /// The user the credentials belong to, read once: otai's notes are the articles it created.
    me: OnceCell<ZUser>,
}

impl ZammadDesk {
    /// Validates the params and builds the client. Local only: otai calls this while it checks a
    /// configuration.
    pub fn from_params_json(params_json: &str, log: Logger) -> Result<ZammadDesk, Error> {
        Self::new(Config::from_json(params_json)?, log)
    }

    /// A client for `config`.
    pub fn new(config: Config, log: Logger) -> Result<ZammadDesk, Error> {
        let http = transport(&config, log)?;
        Ok(ZammadDesk {
            catalog: Catalog::new(config.priorities.clone()),
            http,
            config,
            me: OnceCell::new(),
        })
    }

    /// The transport (for its counters and log).
    pub fn http(&self) -> &Http {
        &self.http
    }

    /// Who the credentials belong to.
    pub(crate) async fn me(&self) -> Result<&ZUser, Error> {
        self.me
            .get_or_try_init(|| self.http.get::<ZUser>("/api/v1/users/me", &[]))
            .await
    }

    /// `GET /tickets/{id}?all=true`: the ticket, its articles and tags in one request; `None` if
    /// there is no such ticket.
    pub(crate) async fn read_full(&self, id: u64) -> Result<Option<TicketAll>, Error> {
        let path = format!("/api/v1/tickets/{id}");
        let raw: Value = match self.http.get(&path, &[("all", "true".into())]).await {
            Ok(raw) => raw,
            Err(e) if e.kind == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        TicketAll::parse(id, raw).map(Some).map_err(|e| {
            Error::new(
                ErrorKind::InvalidResponse,
                format!("GET {path}?all=true: Zammad's answer does not read as a ticket: {e}"),
            )
        })
    }

    /// The lists a conversion needs (read once, then kept by the catalog): take them once per
    /// call, not per ticket.
    pub(crate) async fn lookups(&self) -> Result<Lookups, Error> {
        Ok(Lookups {
            states: self.catalog.states(&self.http).await?,
            priorities: self.catalog.priorities(&self.http).await?,
        })
    }

    /// The otai ticket for one full read.
    pub(crate) async fn to_ticket(&self, all: &TicketAll) -> Result<Ticket, Error> {
        Ok(convert::to_ticket(all, None, &self.lookups().await?))
    }
}

/// A ticket id in Zammad's form: digits.
pub(crate) fn ticket_id(id: &str) -> Result<u64, Error> {
    otai_plugin_sdk::ids::numeric_id(
        id,
        "Zammad ticket id",
        " (Zammad's ticket id, not its number)",
    )
}

impl TicketSystemAdapter for ZammadDesk {
    async fn find_tickets(&self, query: &SearchQuery) -> Result<Vec<Ticket>, Error> {
        crate::search::find(self, query).await
    }

    async fn find_tickets_page(
        &self,
        query: &SearchQuery,
        cursor: Option<&str>,
    ) -> Result<TicketPage, Error> {
        crate::search::find_page(self, query, cursor)
            .await
            .map_err(|e| e.context("find_tickets_page"))
    }

    async fn get_ticket(&self, id: &str) -> Result<Option<Ticket>, Error> {
        let number = ticket_id(id)?;
        let Some(all) = self
            .read_full(number)
            .await
            .map_err(|e| e.context(&format!("get_ticket {id}")))?
        else {
            return Ok(None);
        };
        self.to_ticket(&all).await.map(Some)
    }

    async fn update_ticket(&self, id: &str, update: &TicketUpdate) -> Result<Ticket, Error> {
        crate::write::update(self, ticket_id(id)?, update)
            .await
            .map_err(|e| e.context(&format!("update_ticket {id}")))
    }

    async fn add_note(&self, id: &str, note: &Note) -> Result<(), Error> {
        crate::write::add_note(self, ticket_id(id)?, note)
            .await
            .map_err(|e| e.context(&format!("add_note {id}")))
    }

    async fn check_connection(&self) -> Result<String, Error> {
        let me = self.me().await?;
        let who = match (&me.login, &me.email) {
            (Some(login), Some(email)) if login != email => format!("{login} ({email})"),
            (Some(one), _) | (None, Some(one)) => one.clone(),
            (None, None) => format!("user {}", me.id),
        };
        let priorities = self.catalog.priorities(&self.http).await?;
        let mapped = priorities
            .pairs
            .iter()
            .map(|(otai, _, zammad)| format!("{otai} → {zammad}"))
            .collect::<Vec<_>>()
            .join(", ");
        Ok(format!(
            "{who} on {} (auth: {}; priorities: {mapped})",
            self.http.base_url(),
            self.config.auth.describe()
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
        crate::webhook::verify(self.config.webhook_secret.as_ref(), request)
    }
}
