//! [`Simulator::builder`] -> [`SimBuilder`] -> [`SimHandle`] (async) or [`BlockingSim`] (its own
//! runtime thread): the public face of the simulator, over the kit's server.

use std::path::PathBuf;

use otai_sim_kit::{Blocking, Faults, Server, Stop, WebhookDelivery};
use serde_json::Value;

use crate::{
    api::{apply_seed, SearchConfig, Stats, ZammadApi},
    auth::{AuthConfig, DEFAULT_BASIC_USER},
    error::SimError,
    search::{SearchBackend, SearchShape},
    seed::SeedData,
    stamp::Now,
    store::{Article, Store, Ticket, WriteRecord},
    webhooks::WebhookTarget,
};

/// Entry point: `Simulator::builder()`.
#[derive(Debug)]
pub struct Simulator;

impl Simulator {
    /// A builder with the defaults: no tickets, group `Users`, token `sim-token`, Basic
    /// `agent@example.com` / `secret`, bearer `sim-oauth-token`, Elasticsearch on, current
    /// (array) search answers, no faults, any free port.
    pub fn builder() -> SimBuilder {
        SimBuilder::default()
    }
}

/// Configures and starts a simulator.
#[derive(Debug, Clone, Default)]
pub struct SimBuilder {
    seed_files: Vec<PathBuf>,
    tickets: Vec<Value>,
    groups: Vec<String>,
    attributes: Vec<String>,
    auth: Option<AuthConfig>,
    search: SearchConfig,
    faults: Faults,
    port: u16,
}

impl SimBuilder {
    fn auth_mut(&mut self) -> &mut AuthConfig {
        self.auth.get_or_insert_with(AuthConfig::default)
    }

    /// Seeds from a file (JSON or JSONL; Zammad- or Zendesk-shaped, see [`crate::seed`]).
    /// Repeatable; files load in order, after [`groups`](Self::groups).
    pub fn seed_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.seed_files.push(path.into());
        self
    }

    /// Tickets in the Zammad-shaped seed form (`{"title", "body", "state", "group",
    /// "priority", "tags", ...}`), loaded after the seed files.
    pub fn tickets(mut self, tickets: Vec<Value>) -> Self {
        self.tickets.extend(tickets);
        self
    }

    /// Groups to create (in order; `Users` is always group 1).
    pub fn groups(mut self, names: &[&str]) -> Self {
        self.groups.extend(names.iter().map(|s| s.to_string()));
        self
    }

    /// Custom ticket attributes the instance has (object-manager attributes): a `PUT` may set
    /// them; other unknown keys are dropped, as Zammad drops them. Seeds declare the ones their
    /// tickets carry.
    pub fn custom_attributes(mut self, names: &[&str]) -> Self {
        self.attributes.extend(names.iter().map(|s| s.to_string()));
        self
    }

    /// The API token (replaces `sim-token`).
    pub fn token(mut self, token: &str) -> Self {
        self.auth_mut().tokens = vec![token.to_string()];
        self
    }

    /// Basic credentials (replace `agent@example.com` / `secret`); the user is the API user's
    /// login.
    pub fn basic(mut self, user: &str, password: &str) -> Self {
        self.auth_mut().basic = vec![(user.to_string(), password.to_string())];
        self
    }

    /// The OAuth2 bearer token (replaces `sim-oauth-token`).
    pub fn bearer(mut self, token: &str) -> Self {
        self.auth_mut().bearers = vec![token.to_string()];
        self
    }

    /// Turns API token access off (Zammad's `api_token_access`): token and bearer headers get
    /// 403 `API token access disabled!`.
    pub fn disable_token_auth(mut self) -> Self {
        self.auth_mut().token_access = false;
        self
    }

    /// Turns Basic access off (`api_password_access`): 403 `API password access disabled!`.
    pub fn disable_basic_auth(mut self) -> Self {
        self.auth_mut().password_access = false;
        self
    }

    /// No OAuth2 tokens: every bearer header that is no API token gets 401.
    pub fn disable_bearer_auth(mut self) -> Self {
        self.auth_mut().bearers.clear();
        self
    }

    /// Elasticsearch or SQL search.
    pub fn search_backend(mut self, backend: SearchBackend) -> Self {
        self.search.backend = backend;
        self
    }

    /// Current (array) or legacy search answers and semantics.
    pub fn search_shape(mut self, shape: SearchShape) -> Self {
        self.search.shape = shape;
        self
    }

    /// Faults at start (also what a reset returns to).
    pub fn faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// Port on 127.0.0.1 (0, the default: any free port).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// The store the builder describes.
    pub fn build_store(&self) -> Result<Store, SimError> {
        let auth = self.auth.clone().unwrap_or_default();
        let login = auth
            .basic
            .first()
            .map(|(u, _)| u.clone())
            .unwrap_or_else(|| DEFAULT_BASIC_USER.to_string());
        let now = Now::from_clock(None);
        let mut store = Store::new(&login, now);
        for g in &self.groups {
            store.ensure_group(g);
        }
        store.declare_attributes(self.attributes.iter().map(String::as_str));
        for path in &self.seed_files {
            let seed = SeedData::from_file(path)?;
            apply_seed(&mut store, seed, now).map_err(|message| SimError::Seed {
                origin: path.display().to_string(),
                message,
            })?;
        }
        if !self.tickets.is_empty() {
            let origin = || "tickets(...)".to_string();
            let seed = SeedData::from_tickets(&self.tickets).map_err(|message| SimError::Seed {
                origin: origin(),
                message,
            })?;
            apply_seed(&mut store, seed, now).map_err(|message| SimError::Seed {
                origin: origin(),
                message,
            })?;
        }
        Ok(store)
    }

    /// Starts the simulator on the current tokio runtime.
    pub async fn start(self) -> Result<SimHandle, SimError> {
        let store = self.build_store()?;
        let auth = self.auth.clone().unwrap_or_default();
        let server = otai_sim_kit::launch(self.port, self.faults.clone(), |_, clock| {
            ZammadApi::new(store, clock, auth, self.search)
        })
        .await?;
        Ok(SimHandle { server })
    }

    /// Starts the simulator on a runtime thread of its own, for synchronous tests; it stops
    /// when the [`BlockingSim`] is dropped.
    pub fn start_blocking(self) -> Result<BlockingSim, SimError> {
        Blocking::start("zammad-sim", move || async move { self.start().await })
    }
}

/// A simulator on its own runtime thread; derefs to [`SimHandle`].
pub type BlockingSim = Blocking<SimHandle>;

/// A running simulator. Cheap to clone.
#[derive(Clone)]
pub struct SimHandle {
    server: Server<ZammadApi>,
}

impl std::fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimHandle")
            .field("base_url", &self.base_url())
            .finish()
    }
}

impl Stop for SimHandle {
    fn stop(&self) -> impl std::future::Future<Output = ()> + Send {
        self.server.shutdown()
    }
}

impl SimHandle {
    fn api(&self) -> &ZammadApi {
        self.server.api()
    }

    /// `http://127.0.0.1:PORT` (without `/api/v1`).
    pub fn base_url(&self) -> String {
        self.server.base_url().to_string()
    }

    /// A ticket as it stands.
    pub fn ticket(&self, id: u64) -> Option<Ticket> {
        self.api().store().ticket(id)
    }

    /// Every ticket, by id.
    pub fn tickets(&self) -> Vec<Ticket> {
        let s = self.api().store();
        s.ticket_ids()
            .into_iter()
            .filter_map(|i| s.ticket(i))
            .collect()
    }

    /// A ticket's articles, oldest first.
    pub fn articles(&self, id: u64) -> Vec<Article> {
        self.api().store().articles(id)
    }

    /// A ticket's tags, in the order they were added.
    pub fn tags(&self, id: u64) -> Vec<String> {
        self.api().store().tags(id)
    }

    /// The writes to a ticket (API and simulated agent), oldest first.
    pub fn writes(&self, id: u64) -> Vec<WriteRecord> {
        self.api()
            .store()
            .writes()
            .iter()
            .filter(|w| w.ticket_id == id)
            .cloned()
            .collect()
    }

    /// Every write, oldest first.
    pub fn all_writes(&self) -> Vec<WriteRecord> {
        self.api().store().writes().to_vec()
    }

    /// API writes to a ticket (the simulated agent's edits not counted).
    pub fn write_count(&self, id: u64) -> usize {
        self.writes(id).iter().filter(|w| w.by == "api").count()
    }

    /// The counters.
    pub fn stats(&self) -> Stats {
        self.api().stats_with(&self.server.stats())
    }

    /// The faults as they stand (`next` counters counted down).
    pub fn faults(&self) -> Faults {
        self.server.faults()
    }

    /// Replaces the faults.
    pub fn set_faults(&self, faults: Faults) {
        self.server.set_faults(faults);
    }

    /// The simulated agent edits a ticket: `tag` added, `updated_at` moved. `false`: no such
    /// ticket.
    pub fn agent_edit(&self, id: u64, tag: &str) -> bool {
        self.api().agent_edit(id, tag)
    }

    /// Adds tickets (Zammad- or Zendesk-shaped) while the simulator runs, as customers writing
    /// in would; their ids. With a webhook target set ([`set_webhook`](Self::set_webhook)),
    /// each new ticket's signed delivery goes out in the background.
    pub fn add_tickets(&self, tickets: Vec<Value>) -> Result<Vec<u64>, SimError> {
        self.api()
            .add_tickets(&tickets)
            .map_err(|message| SimError::Seed {
                origin: "add_tickets(...)".into(),
                message,
            })
    }

    /// Where to send a signed webhook delivery for every ticket added from now on (none: stop).
    pub fn set_webhook(&self, target: Option<WebhookTarget>) {
        self.api().set_webhook(target);
    }

    /// Every webhook delivery sent so far, in the order answered.
    pub fn webhook_deliveries(&self) -> Vec<WebhookDelivery> {
        self.api().webhook_deliveries()
    }

    /// Switches the search backend.
    pub fn set_search_backend(&self, backend: SearchBackend) {
        self.api().set_search_backend(backend);
    }

    /// Switches the search shape.
    pub fn set_search_shape(&self, shape: SearchShape) {
        self.api().set_search_shape(shape);
    }

    /// Stops the account's clock at unix second `at`, or lets it run with `None`.
    pub fn set_clock(&self, at: Option<i64>) {
        self.server.set_clock(at);
    }

    /// Back to the state at start: tickets, faults, counters, clock, search configuration.
    pub fn reset(&self) {
        self.server.reset();
    }

    /// Stops the server.
    pub async fn shutdown(&self) {
        self.server.shutdown().await;
    }
}
