//! [`OtoboDesk`]: one configured OTOBO, Znuny or OTRS 6, implementing the SDK's adapter trait by
//! delegating to [`crate::search`], [`crate::write`] and [`crate::export`]. Shared here: the web
//! service client, the batched TicketGet and the state types learned from it.

use std::{collections::HashMap, sync::Mutex};

use otai_plugin_sdk::{
    http::Http, BatchOutcome, BatchUpdate, Error, ErrorKind, ExportPage, ExportRequest, Logger,
    Note, RequestStats, SearchQuery, Ticket, TicketPage, TicketState, TicketSystemAdapter,
    TicketUpdate, WebhookEvent, WebhookRequest,
};
use serde_json::{json, Map, Value};

use crate::{
    api::{self, GiTicket},
    config::Config,
    convert::{self, Shape},
    gi::{Gi, Operation},
    http::transport,
};

/// Tickets per TicketGet: many at once, but a bounded answer.
pub const GET_BATCH: usize = 50;

/// One configured system.
#[derive(Debug)]
pub struct OtoboDesk {
    pub(crate) gi: Gi,
    pub(crate) config: Config,
    /// State name → state type, as TicketGet reported them: custom state names map by their type.
    state_types: Mutex<HashMap<String, String>>,
}

impl OtoboDesk {
    /// Validates the params and builds the client. Local only.
    pub fn from_params_json(params_json: &str, log: Logger) -> Result<OtoboDesk, Error> {
        Self::new(Config::from_json(params_json)?, log)
    }

    /// A client for `config`.
    pub fn new(config: Config, log: Logger) -> Result<OtoboDesk, Error> {
        let (http, prefix) = transport(&config, log)?;
        if let Some(warning) = flavour_mismatch(&config) {
            http.log().warn("otai_otobo_znuny::config", || warning);
        }
        Ok(OtoboDesk {
            gi: Gi::new(http, prefix, &config),
            config,
            state_types: Mutex::new(HashMap::new()),
        })
    }

    /// The transport.
    pub fn http(&self) -> &Http {
        self.gi.http()
    }

    /// TicketGet for `ids` (batched), with dynamic fields and every article oldest first, in the
    /// order asked for; ids the system does not return are left out.
    pub(crate) async fn get_many(&self, ids: &[u64]) -> Result<Vec<GiTicket>, Error> {
        let mut all = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(GET_BATCH) {
            let list: Vec<String> = chunk.iter().map(u64::to_string).collect();
            let list = list.join(",");
            let route = &self.config.routes.get;
            let mut data = Map::new();
            if !route.has_ticket_id() {
                data.insert("TicketID".into(), json!(list));
            }
            data.insert("DynamicFields".into(), json!(1));
            data.insert("AllArticles".into(), json!(1));
            data.insert("ArticleOrder".into(), json!("ASC"));
            let answer = self
                .gi
                .call(Operation::TicketGet, route, &list, data)
                .await?;
            let tickets = api::tickets(&answer).map_err(|e| {
                Error::new(
                    ErrorKind::InvalidResponse,
                    format!("{route} (TicketGet): the answer does not read as tickets: {e}"),
                )
            })?;
            self.learn_states(&tickets);
            all.extend(tickets);
        }
        // In the order asked for.
        all.sort_by_key(|t| ids.iter().position(|id| *id == t.id).unwrap_or(usize::MAX));
        Ok(all)
    }

    /// One ticket, or none.
    pub(crate) async fn get_one(&self, id: u64) -> Result<Option<GiTicket>, Error> {
        match self.get_many(&[id]).await {
            Ok(mut found) => Ok(found.pop().filter(|t| t.id == id)),
            // TicketGet answers an unknown id as AccessDenied (the agent may see no such ticket).
            Err(e)
                if e.kind == ErrorKind::NotFound
                    || (e.kind == ErrorKind::Forbidden && e.message.contains("AccessDenied")) =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// The otai ticket.
    pub(crate) fn to_ticket(&self, t: &GiTicket) -> Ticket {
        convert::to_ticket(t, &self.shape())
    }

    pub(crate) fn shape(&self) -> Shape<'_> {
        Shape {
            tags_field: &self.config.tags_field,
            priorities: &self.config.priorities,
        }
    }

    fn learn_states(&self, tickets: &[GiTicket]) {
        let mut known = self.state_types.lock().unwrap_or_else(|p| p.into_inner());
        for t in tickets {
            if let Some(kind) = &t.state_type {
                known.insert(t.state.to_ascii_lowercase(), kind.clone());
            }
        }
    }
}

/// A warning when the URL's prefix does not fit the flavour (`/otobo/` on Znuny, ...).
fn flavour_mismatch(config: &Config) -> Option<String> {
    use crate::config::Flavour;
    let url = &config.http.base_url;
    let expected = match config.flavour {
        Flavour::Otobo => "/otobo/",
        Flavour::Znuny | Flavour::Otrs6 => "/otrs/",
    };
    (!url.contains(expected) && !url.contains("/znuny/")).then(|| {
        format!(
            "`flavour: {}` usually serves its web services under {expected}nph-genericinterface.pl; \
             `base_url` has another prefix (fine if your web server maps it so)",
            config.flavour.name()
        )
    })
}

/// A ticket id: digits.
pub(crate) fn ticket_id(id: &str) -> Result<u64, Error> {
    otai_plugin_sdk::ids::numeric_id(id, "ticket id", " (the TicketID, not the ticket number)")
}

impl TicketSystemAdapter for OtoboDesk {
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
        let found = self
            .get_one(number)
            .await
            .map_err(|e| e.context(&format!("get_ticket {id}")))?;
        Ok(found.map(|t| self.to_ticket(&t)))
    }

    async fn update_ticket(&self, id: &str, update: &TicketUpdate) -> Result<Ticket, Error> {
        let number = ticket_id(id)?;
        let current = self
            .get_one(number)
            .await
            .map_err(|e| e.context(&format!("update_ticket {id}")))?;
        crate::write::update(self, number, current, update)
            .await
            .map_err(|e| e.context(&format!("update_ticket {id}")))
    }

    async fn update_tickets(&self, updates: &[BatchUpdate]) -> Result<Vec<BatchOutcome>, Error> {
        // One TicketGet reads every ticket of the batch right before the writes.
        let ids: Vec<u64> = updates
            .iter()
            .filter_map(|u| ticket_id(&u.id).ok())
            .collect();
        let current = self.get_many(&ids).await?;
        let mut outcomes = Vec::with_capacity(updates.len());
        for item in updates {
            let result = match ticket_id(&item.id) {
                Err(e) => Err(e),
                Ok(id) => {
                    let now = current.iter().find(|t| t.id == id).cloned();
                    crate::write::update(self, id, now, &item.update)
                        .await
                        .map(drop)
                        .map_err(|e| e.context(&format!("update_ticket {id}")))
                }
            };
            outcomes.push(BatchOutcome {
                id: item.id.clone(),
                result,
            });
        }
        Ok(outcomes)
    }

    async fn add_note(&self, id: &str, note: &Note) -> Result<(), Error> {
        let number = ticket_id(id)?;
        crate::write::add_note(self, number, note, &[])
            .await
            .map_err(|e| e.context(&format!("add_note {id}")))
    }

    async fn check_connection(&self) -> Result<String, Error> {
        // A search for one ticket: proves the route, the login and the permission to search.
        let data = json!({"Limit": 1}).as_object().cloned().unwrap_or_default();
        self.gi
            .call(
                Operation::TicketSearch,
                &self.config.routes.search,
                "",
                data,
            )
            .await?;
        let auth = match &self.config.routes.session {
            Some(route) => format!("a session ({route})"),
            None => "the login in every request".to_string(),
        };
        Ok(format!(
            "{} on {} ({}, auth: {auth}; tags in dynamic field {})",
            self.config.username,
            self.config.http.base_url,
            self.config.flavour.name(),
            self.config.tags_field
        ))
    }

    async fn export_tickets(&self, request: &ExportRequest) -> Result<ExportPage, Error> {
        crate::export::page(self, request).await
    }

    fn request_stats(&self) -> Option<RequestStats> {
        Some(self.http().stats())
    }

    fn ticket_state(&self, status: &str, _tags: &[String]) -> TicketState {
        let known = self.state_types.lock().unwrap_or_else(|p| p.into_inner());
        match known.get(&status.to_ascii_lowercase()) {
            Some(kind) => convert::state_of_name(kind),
            None => convert::state_of_name(status),
        }
    }

    fn verify_webhook(&self, request: &WebhookRequest) -> Result<WebhookEvent, Error> {
        crate::webhook::verify(&self.config.webhook, request)
    }
}

/// A dynamic field entry of a TicketUpdate: `{Name, Value}`.
pub(crate) fn df(name: &str, value: Value) -> Value {
    json!({"Name": name, "Value": value})
}
