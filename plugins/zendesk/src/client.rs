//! [`ZendeskClient`]: the adapter's operations as plain async Rust, usable without the FFI layer.

use std::{fmt, future::Future, sync::Arc};

use otai_plugin_sdk::{
    http::Http, BatchOutcome, BatchUpdate, Error, ErrorKind, ExportPage, ExportRequest, LogLevel,
    Logger, Note, RequestStats, SearchQuery, Ticket, TicketPage, TicketState, TicketSystemAdapter,
    TicketUpdate,
};
use serde_json::{json, Map, Value};

use crate::{
    api::{TicketEnvelope, UserEnvelope, ZTicket},
    batch::JobPolling,
    config::{Auth, Config},
    convert,
    groups::GroupCache,
    oauth::TokenManager,
    search,
};

const TARGET: &str = "otai_zendesk::client";
/// How often an update whose safe-update stamp came from our own read is re-read and retried
/// after a 409, before giving up with `conflict`.
pub const CONFLICT_RETRIES: u32 = 2;

/// A Zendesk Support account: one HTTP connection pool, one group cache.
///
/// Every method returns otai's [`Error`]; messages name the method, the URL path and the
/// ticket id, never credentials. Cheap to share behind an `Arc`; all methods take `&self`.
pub struct ZendeskClient {
    pub(crate) http: Http,
    /// The OAuth client's token manager, with `oauth:`.
    oauth: Option<Arc<TokenManager>>,
    pub(crate) groups: GroupCache,
    /// What was read, and when by Zendesk's clock (the same-second guard).
    pub(crate) reads: crate::reads::ReadBook,
    auth: String,
    pub(crate) jobs: JobPolling,
    /// Least time between two export pages, and when the last one was asked for.
    pub(crate) export_min_interval: std::time::Duration,
    pub(crate) export_page_size: u32,
    pub(crate) export_last: tokio::sync::Mutex<Option<tokio::time::Instant>>,
    /// The webhook's signing secret (`webhook_secret`).
    webhook_secret: Option<otai_plugin_sdk::Secret>,
}

impl ZendeskClient {
    /// A client for `config`. Local only: it builds the HTTP client (reading a CA bundle if
    /// configured) but sends nothing.
    pub fn new(config: &Config, log: Logger) -> Result<ZendeskClient, Error> {
        if let Auth::ApiToken { .. } = config.auth {
            log.log(LogLevel::Warn, TARGET, || {
                format!(
                    "{}: authenticating with an API token. Zendesk creates no new API tokens since \
                     October 27, 2026 and stops accepting all of them on April 30, 2027: switch to \
                     `oauth:` (an OAuth client with client_id and client_secret; see \
                     config/config.example.yml).",
                    config.base_url
                )
            });
        }
        let (http, oauth) = crate::http::transport(config, log)?;
        Ok(ZendeskClient {
            http,
            oauth,
            groups: GroupCache::default(),
            reads: crate::reads::ReadBook::default(),
            auth: config.auth.describe(),
            jobs: JobPolling::new(config.job_timeout),
            export_min_interval: config.export_min_interval,
            export_page_size: config.export_page_size,
            export_last: tokio::sync::Mutex::new(None),
            webhook_secret: config.webhook_secret.clone(),
        })
    }

    /// A client from the params JSON object of the operator's config (see [`crate::config`]).
    pub fn from_params_json(params_json: &str, log: Logger) -> Result<ZendeskClient, Error> {
        Self::new(&Config::from_json(params_json)?, log)
    }

    /// OAuth access tokens obtained so far (0 without an `oauth:` client).
    pub fn token_renewals(&self) -> u64 {
        self.oauth.as_ref().map_or(0, |m| m.renewals())
    }

    /// The base URL requests go to, e.g. `https://acme.zendesk.com`.
    pub fn base_url(&self) -> &str {
        self.http.base_url()
    }

    /// Every ticket matching `query` (all pages, at most `query.limit`), oldest first; see
    /// [`crate::search`] for the translation and the switch to search export.
    pub async fn find_tickets(&self, query: &SearchQuery) -> Result<Vec<Ticket>, Error> {
        let found = search::find(&self.http, &self.groups, query)
            .await
            .map_err(|e| context(e, "find_tickets"))?;
        Ok(found.iter().map(|f| self.found_ticket(f)).collect())
    }

    /// One page of the tickets matching `query` and where the next starts; see
    /// [`search::find_page`].
    pub async fn find_tickets_page(
        &self,
        query: &SearchQuery,
        cursor: Option<&str>,
    ) -> Result<TicketPage, Error> {
        let (found, cursor) = search::find_page(&self.http, &self.groups, query, cursor)
            .await
            .map_err(|e| context(e, "find_tickets_page"))?;
        Ok(TicketPage {
            tickets: found.iter().map(|f| self.found_ticket(f)).collect(),
            cursor,
        })
    }

    /// The first ticket matching `query`, or none.
    pub async fn find_first_ticket(&self, query: &SearchQuery) -> Result<Option<Ticket>, Error> {
        let mut q = query.clone();
        q.limit = match q.limit {
            Some(0) => Some(0),
            _ => Some(1),
        };
        let found = search::find(&self.http, &self.groups, &q)
            .await
            .map_err(|e| context(e, "find_first_ticket"))?;
        Ok(found.first().map(|f| self.found_ticket(f)))
    }

    /// One ticket, or `None` if Zendesk answers 404. A non-numeric id is a validation error.
    pub async fn get_ticket(&self, id: &str) -> Result<Option<Ticket>, Error> {
        let id = convert::parse_ticket_id(id)?;
        match self.read_ticket(id).await {
            Ok((z, raw)) => Ok(Some(self.to_ticket(&z, &raw))),
            Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(context(e, &format!("get_ticket {id}"))),
        }
    }

    /// Applies `update` in one `PUT /api/v2/tickets/{id}` and returns the ticket afterwards.
    ///
    /// Tags are added/removed by reading the current tags and writing the new full set with
    /// `safe_update`, so a concurrent change yields 409 instead of lost tags. With
    /// `if_unchanged_since`, that stamp is sent and a 409 is [`ErrorKind::Conflict`]; with our own
    /// read's stamp, a 409 leads to a re-read and retry (at most [`CONFLICT_RETRIES`] times).
    /// A stamp from a read in the same second as the ticket's last change is confirmed by a later
    /// read first ([`crate::reads`]). An empty update writes nothing and returns the ticket as it is.
    pub async fn update_ticket(&self, id: &str, update: &TicketUpdate) -> Result<Ticket, Error> {
        let id = convert::parse_ticket_id(id)?;
        let what = format!("update_ticket {id}");
        self.update_inner(id, update)
            .await
            .map_err(|e| context(e, &what))
    }

    async fn update_inner(&self, id: u64, update: &TicketUpdate) -> Result<Ticket, Error> {
        let base = self.prepare_update(update).await?;
        let caller_stamp = update
            .if_unchanged_since
            .as_ref()
            .map(|s| s.trim().to_string());
        let touches_tags = !update.add_tags.is_empty() || !update.remove_tags.is_empty();
        let path = format!("/api/v2/tickets/{id}");
        // The caller's stamp from a same-second read of ours: confirmed unchanged first.
        let expected = caller_stamp
            .as_deref()
            .and_then(|stamp| self.reads.needs_confirming(id, stamp));
        let mut confirmed = match expected {
            Some(mark) => Some(self.confirmed_read(id, Some(mark)).await?),
            None => None,
        };

        let mut attempt = 0;
        loop {
            let mut read = None;
            let (tags, own_stamp) = if touches_tags {
                // Our own stamp for a tag write must come from an unambiguous read too.
                let (current, raw) = match confirmed.take() {
                    Some(read) => read,
                    None => self.confirmed_read(id, None).await?,
                };
                let tags = convert::new_tags(&current.tags, &update.add_tags, &update.remove_tags);
                // Only a tag write needs our own stamp: it replaces the whole set.
                let stamp = if tags.is_some() {
                    current.updated_at.clone()
                } else {
                    None
                };
                read = Some((current, raw));
                (tags, stamp)
            } else {
                (None, None)
            };
            let stamp = caller_stamp.clone().or(own_stamp.clone());
            let body = convert::with_tags_and_stamp(base.clone(), tags, stamp.as_deref());
            if !convert::writes_something(&body) {
                let (z, raw) = match read {
                    Some(read) => read,
                    None => self.read_ticket(id).await?,
                };
                return Ok(self.to_ticket(&z, &raw));
            }
            match self
                .http
                .put::<TicketEnvelope>(&path, &json!({ "ticket": body }))
                .await
            {
                Ok(env) => return self.ticket_from_envelope(&path, env),
                Err(e)
                    if e.kind == ErrorKind::Conflict
                        && caller_stamp.is_none()
                        && own_stamp.is_some()
                        && attempt < CONFLICT_RETRIES =>
                {
                    attempt += 1;
                    self.http.log().log(LogLevel::Warn, TARGET, || {
                        format!("Ticket {id} changed while its tags were being updated (HTTP 409); re-reading and retrying ({attempt}/{CONFLICT_RETRIES}).")
                    });
                }
                Err(mut e) if e.kind == ErrorKind::Conflict => {
                    let since = match &caller_stamp {
                        Some(s) => format!("since {s}"),
                        None => "while it was being updated".to_string(),
                    };
                    e.message = format!(
                        "ticket {id} changed {since}; nothing was written ({})",
                        e.message
                    );
                    return Err(e);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Checks `update` and builds its `ticket` body without tags and safe-update fields (which
    /// depend on the ticket's current state). Everything that can be checked locally is checked
    /// before the queue name is resolved through the group cache, and nothing is written.
    /// Shared by [`update_ticket`](Self::update_ticket) and [`update_tickets`](Self::update_tickets).
    pub(crate) async fn prepare_update(
        &self,
        update: &TicketUpdate,
    ) -> Result<Map<String, Value>, Error> {
        convert::check_tags(&update.add_tags, "add_tags")?;
        convert::check_tags(&update.remove_tags, "remove_tags")?;
        let mut base = convert::update_body(update, None)?;
        let group_id = match update.queue.as_ref() {
            None => None,
            Some(queue) => Some(match (queue.id.as_ref(), queue.name.as_ref()) {
                (Some(gid), _) => gid.trim().parse::<u64>().ok().filter(|g| *g > 0).ok_or_else(|| {
                    Error::new(
                        ErrorKind::Validation,
                        format!("invalid Zendesk group id \"{gid}\": expected a positive whole number"),
                    )
                })?,
                (None, Some(name)) => self.groups.resolve(&self.http, name).await?,
                (None, None) => {
                    return Err(Error::new(
                        ErrorKind::Validation,
                        "the queue has neither an id nor a name",
                    ))
                }
            }),
        };
        if let Some(gid) = group_id {
            base.insert("group_id".into(), json!(gid));
        }
        Ok(base)
    }

    /// Counters of every HTTP request this client sent (retries included) and of the answers
    /// that said "slow down".
    pub fn request_stats(&self) -> RequestStats {
        self.http.stats()
    }

    /// Adds a comment: an internal note unless `note.public`, HTML if `note.html`.
    pub async fn add_note(&self, id: &str, note: &Note) -> Result<(), Error> {
        let id = convert::parse_ticket_id(id)?;
        let comment = convert::comment(note).map_err(|e| context(e, &format!("add_note {id}")))?;
        let path = format!("/api/v2/tickets/{id}");
        self.http
            .put::<Value>(&path, &json!({"ticket": {"comment": comment}}))
            .await
            .map(|_| ())
            .map_err(|e| context(e, &format!("add_note {id}")))
    }

    /// One authenticated read (`GET /api/v2/users/me`); says who we are connected as, e.g.
    /// `support@acme.com (admin) on https://acme.zendesk.com`.
    pub async fn check_connection(&self) -> Result<String, Error> {
        let me: UserEnvelope = self
            .http
            .get("/api/v2/users/me", &[])
            .await
            .map_err(|e| context(e, "check_connection"))?;
        if me.user.id.is_none() {
            // Zendesk answers unauthenticated requests to users/me with an anonymous user.
            return Err(Error::new(
                ErrorKind::Auth,
                format!(
                    "check_connection: GET /api/v2/users/me answered as an anonymous user: Zendesk \
                     did not accept the credentials ({}). Check them and that API access is enabled.",
                    self.auth
                ),
            ));
        }
        let who = me
            .user
            .email
            .or(me.user.name)
            .unwrap_or_else(|| format!("user {}", me.user.id.unwrap_or_default()));
        let role = me.user.role.unwrap_or_else(|| "unknown role".into());
        let auth = match &self.oauth {
            Some(manager) => manager.describe(),
            None => self.auth.clone(),
        };
        Ok(format!(
            "{who} ({role}) on {}; auth: {auth}",
            self.base_url()
        ))
    }

    pub(crate) async fn read_ticket(&self, id: u64) -> Result<(ZTicket, Value), Error> {
        let path = format!("/api/v2/tickets/{id}");
        let answer = self.http.get_dated::<TicketEnvelope>(&path, &[]).await?;
        let z = parse_ticket(&path, &answer.value.ticket)?;
        self.reads.record(&z, answer.server_time);
        Ok((z, answer.value.ticket))
    }

    fn ticket_from_envelope(&self, path: &str, env: TicketEnvelope) -> Result<Ticket, Error> {
        let z = parse_ticket(path, &env.ticket)?;
        Ok(self.to_ticket(&z, &env.ticket))
    }

    /// A search result as a ticket, its read recorded for the same-second guard.
    fn found_ticket(&self, f: &search::Found) -> Ticket {
        self.reads.record(&f.ticket, f.server_time);
        self.to_ticket(&f.ticket, &f.raw)
    }

    pub(crate) fn to_ticket(&self, z: &ZTicket, raw: &Value) -> Ticket {
        let name = z.group_id.and_then(|g| self.groups.cached_name(g));
        convert::to_ticket(z, raw, name)
    }
}

impl fmt::Debug for ZendeskClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ZendeskClient")
            .field("http", &self.http)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

pub(crate) fn parse_ticket(path: &str, raw: &Value) -> Result<ZTicket, Error> {
    ZTicket::from_json(raw)
        .filter(|z| z.id.is_some())
        .ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidResponse,
                format!("{path}: Zendesk's answer has no ticket object with an id"),
            )
        })
}

/// Prefixes an error message with the operation, keeping everything else.
pub(crate) fn context(e: Error, what: &str) -> Error {
    e.context(what)
}

/// The adapter the SDK exports: every operation is the client's own method of the same name.
impl TicketSystemAdapter for ZendeskClient {
    fn find_tickets(
        &self,
        query: &SearchQuery,
    ) -> impl Future<Output = Result<Vec<Ticket>, Error>> + Send {
        ZendeskClient::find_tickets(self, query)
    }

    fn find_tickets_page(
        &self,
        query: &SearchQuery,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<TicketPage, Error>> + Send {
        ZendeskClient::find_tickets_page(self, query, cursor)
    }

    fn find_first_ticket(
        &self,
        query: &SearchQuery,
    ) -> impl Future<Output = Result<Option<Ticket>, Error>> + Send {
        ZendeskClient::find_first_ticket(self, query)
    }

    fn get_ticket(&self, id: &str) -> impl Future<Output = Result<Option<Ticket>, Error>> + Send {
        ZendeskClient::get_ticket(self, id)
    }

    fn update_ticket(
        &self,
        id: &str,
        update: &TicketUpdate,
    ) -> impl Future<Output = Result<Ticket, Error>> + Send {
        ZendeskClient::update_ticket(self, id, update)
    }

    fn add_note(&self, id: &str, note: &Note) -> impl Future<Output = Result<(), Error>> + Send {
        ZendeskClient::add_note(self, id, note)
    }

    fn check_connection(&self) -> impl Future<Output = Result<String, Error>> + Send {
        ZendeskClient::check_connection(self)
    }

    fn update_tickets(
        &self,
        updates: &[BatchUpdate],
    ) -> impl Future<Output = Result<Vec<BatchOutcome>, Error>> + Send {
        ZendeskClient::update_tickets(self, updates)
    }

    fn export_tickets(
        &self,
        request: &ExportRequest,
    ) -> impl Future<Output = Result<ExportPage, Error>> + Send {
        ZendeskClient::export_tickets(self, request)
    }

    fn request_stats(&self) -> Option<RequestStats> {
        Some(ZendeskClient::request_stats(self))
    }

    fn ticket_state(&self, status: &str, tags: &[String]) -> TicketState {
        convert::ticket_state(status, tags)
    }

    fn verify_webhook(
        &self,
        request: &otai_plugin_sdk::WebhookRequest,
    ) -> Result<otai_plugin_sdk::WebhookEvent, Error> {
        crate::webhook::verify(self.webhook_secret.as_ref(), request)
    }
}
