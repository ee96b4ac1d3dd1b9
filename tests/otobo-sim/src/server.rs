//! [`Simulator::builder`] -> [`SimBuilder`] -> [`SimHandle`] (async) or [`BlockingSim`] (its own
//! runtime thread): the public face of the simulator, over the kit's server.

use std::{ops::Deref, path::PathBuf, time::Duration};

use otai_sim_kit::{Blocking, Faults, Server, Stop, WebhookDelivery};
use serde_json::Value;

use crate::{
    api::{apply_seed, Config, OtoboApi, Stats},
    auth::{Auth, DEFAULT_AGENT_LOGIN, DEFAULT_AGENT_PASSWORD, DEFAULT_SESSION_IDLE},
    error::SimError,
    routes::{Flavour, Routes},
    seed::SeedData,
    shapes::ArticleModel,
    store::{Article, FieldDef, FieldKind, Store, Ticket, WriteRecord, API_USER_ID},
    webhooks::WebhookTarget,
};

/// The web service name of the shipped sample.
pub const DEFAULT_WEBSERVICE: &str = "GenericTicketConnectorREST";

/// Where a simulator starts: [`Simulator::builder`].
#[derive(Debug, Clone, Copy)]
pub struct Simulator;

impl Simulator {
    /// A builder with the defaults: OTOBO, web service `GenericTicketConnectorREST` (id 1), the
    /// shipped route table, agent `otai-agent` / `secret`, the default queues, no dynamic fields
    /// and no tickets, SearchLimit 500, sessions idle out after 7200 s, the current article
    /// model, no faults, any free port.
    pub fn builder() -> SimBuilder {
        SimBuilder::default()
    }
}

/// Configures and starts a simulator.
#[derive(Debug, Clone)]
pub struct SimBuilder {
    flavour: Flavour,
    webservice: String,
    webservice_id: u64,
    routes: Routes,
    agent: (String, String),
    queues: Vec<String>,
    fields: Vec<FieldDef>,
    agent_field: Option<String>,
    seed_files: Vec<PathBuf>,
    tickets: Vec<Value>,
    search_limit: usize,
    session_idle: Duration,
    article_model: ArticleModel,
    faults: Faults,
    port: u16,
}

impl Default for SimBuilder {
    fn default() -> Self {
        SimBuilder {
            flavour: Flavour::Otobo,
            webservice: DEFAULT_WEBSERVICE.into(),
            webservice_id: 1,
            routes: Routes::shipped(),
            agent: (DEFAULT_AGENT_LOGIN.into(), DEFAULT_AGENT_PASSWORD.into()),
            queues: Vec::new(),
            fields: Vec::new(),
            agent_field: None,
            seed_files: Vec::new(),
            tickets: Vec::new(),
            search_limit: 500,
            session_idle: DEFAULT_SESSION_IDLE,
            article_model: ArticleModel::CommunicationChannel,
            faults: Faults::none(),
            port: 0,
        }
    }
}

impl SimBuilder {
    /// OTOBO (`/otobo/...`), Znuny or OTRS 6 (`/otrs/...`).
    pub fn flavour(mut self, flavour: Flavour) -> Self {
        self.flavour = flavour;
        self
    }

    /// The web service's name (`Webservice/<name>`).
    pub fn webservice(mut self, name: &str) -> Self {
        self.webservice = name.to_string();
        self
    }

    /// The web service's id (`WebserviceID/<id>`; default 1).
    pub fn webservice_id(mut self, id: u64) -> Self {
        self.webservice_id = id;
        self
    }

    /// The route table ([`Routes::shipped`] by default).
    pub fn routes(mut self, routes: Routes) -> Self {
        self.routes = routes;
        self
    }

    /// The API agent's login and password (user 2).
    pub fn agent(mut self, login: &str, password: &str) -> Self {
        self.agent = (login.to_string(), password.to_string());
        self
    }

    /// Queues to create besides `Postmaster`, `Raw`, `Junk`, `Misc` (in order).
    pub fn queues(mut self, names: &[&str]) -> Self {
        self.queues.extend(names.iter().map(|s| s.to_string()));
        self
    }

    fn field(mut self, name: &str, kind: FieldKind) -> Self {
        self.fields.retain(|f| f.name != name);
        self.fields.push(FieldDef {
            name: name.to_string(),
            kind,
            possible_values: None,
        });
        self
    }

    /// A multiselect ticket dynamic field (any values unless [`possible_values`](Self::possible_values)).
    pub fn multiselect_field(self, name: &str) -> Self {
        self.field(name, FieldKind::Multiselect)
    }

    /// A text ticket dynamic field.
    pub fn text_field(self, name: &str) -> Self {
        self.field(name, FieldKind::Text)
    }

    /// The values a declared field accepts (others: `TicketUpdate.InvalidParameter`).
    pub fn possible_values(mut self, field: &str, values: &[&str]) -> Self {
        if let Some(f) = self.fields.iter_mut().find(|f| f.name == field) {
            f.possible_values = Some(values.iter().map(|s| s.to_string()).collect());
        }
        self
    }

    /// The field the simulated agent adds its value to (default: the first multiselect field).
    pub fn agent_field(mut self, name: &str) -> Self {
        self.agent_field = Some(name.to_string());
        self
    }

    /// Seeds from a file (JSON or JSONL; OTOBO- or Zendesk-shaped, see [`crate::seed`]).
    /// Repeatable; files load in order, after the queues and fields.
    pub fn seed_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.seed_files.push(path.into());
        self
    }

    /// Tickets in the OTOBO-shaped seed form (`{"Title", "Body", "Queue", "State", "Priority",
    /// "DynamicField": {"Name": value}, "ContentType", "CustomerUser"}`), after the seed files.
    pub fn tickets(mut self, tickets: Vec<Value>) -> Self {
        self.tickets.extend(tickets);
        self
    }

    /// TicketSearch's SearchLimit (the default `Limit`; 500).
    pub fn search_limit(mut self, limit: usize) -> Self {
        self.search_limit = limit;
        self
    }

    /// How long a session may be idle (7200 s).
    pub fn session_idle_timeout(mut self, idle: Duration) -> Self {
        self.session_idle = idle;
        self
    }

    /// The article model ([`ArticleModel::ArticleType`]: OTRS ≤ 5's `ArticleType`).
    pub fn article_model(mut self, model: ArticleModel) -> Self {
        self.article_model = model;
        self
    }

    /// The fault rules and latency to start with; a reset returns to them.
    pub fn faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// The port on 127.0.0.1 to listen on; 0 (the default) picks a free one.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// The help desk as this builder would start it.
    pub fn build_store(&self) -> Result<Store, SimError> {
        let mut store = Store::new(&self.agent.0);
        for q in &self.queues {
            store.ensure_queue(q);
        }
        for f in &self.fields {
            store.declare_field(f.clone());
        }
        if let Some(f) = &self.agent_field {
            if store.field(f).is_none() {
                return Err(SimError::Config(format!(
                    "agent field {f:?} is not a declared dynamic field"
                )));
            }
            store.agent_field = Some(f.clone());
        }
        let now = otai_sim_kit::system_now();
        let mut seeds = Vec::new();
        for path in &self.seed_files {
            seeds.push((path.display().to_string(), SeedData::from_file(path)?));
        }
        if !self.tickets.is_empty() {
            let builder_tickets = SeedData::from_tickets(&self.tickets);
            seeds.push((
                "tickets(...)".into(),
                seed_or_error("tickets(...)", builder_tickets)?,
            ));
        }
        for (origin, seed) in seeds {
            seed_or_error(&origin, apply_seed(&mut store, seed, now))?;
        }
        Ok(store)
    }

    /// Starts the simulator on the current tokio runtime.
    pub async fn start(self) -> Result<SimHandle, SimError> {
        let store = self.build_store()?;
        let auth = Auth::new(
            vec![(self.agent.0.clone(), self.agent.1.clone(), API_USER_ID)],
            self.session_idle,
        );
        let config = Config {
            flavour: self.flavour,
            webservice: self.webservice.clone(),
            webservice_id: self.webservice_id,
            routes: self.routes.clone(),
            search_limit: self.search_limit,
            article_model: self.article_model,
        };
        let server = otai_sim_kit::launch(self.port, self.faults, |_, clock| {
            OtoboApi::new(store, clock, auth, config)
        })
        .await?;
        Ok(SimHandle { server })
    }

    /// For synchronous tests: starts it on a thread with a runtime of its own, which stops
    /// with the [`BlockingSim`].
    pub fn start_blocking(self) -> Result<BlockingSim, SimError> {
        Blocking::start("otobo-sim", move || self.start())
    }
}

/// A seed step's result, its message placed at `origin`.
fn seed_or_error<T>(origin: &str, r: Result<T, String>) -> Result<T, SimError> {
    r.map_err(|message| SimError::Seed {
        origin: origin.to_string(),
        message,
    })
}

/// A simulator on its own runtime thread; derefs to [`SimHandle`].
pub type BlockingSim = Blocking<SimHandle>;

/// A running simulator. Cheap to clone. It derefs to the kit's [`Server`] for what every
/// simulator has: `faults()`, `set_faults(..)`, `set_clock(..)`, `reset()` (tickets, sessions,
/// faults, counters, clock back to the start) and `shutdown().await`.
#[derive(Clone, Debug)]
pub struct SimHandle {
    server: Server<OtoboApi>,
}

impl Deref for SimHandle {
    type Target = Server<OtoboApi>;

    fn deref(&self) -> &Server<OtoboApi> {
        &self.server
    }
}

impl Stop for SimHandle {
    fn stop(&self) -> impl std::future::Future<Output = ()> + Send {
        self.server.shutdown()
    }
}

impl SimHandle {
    fn otobo(&self) -> &OtoboApi {
        self.server.api()
    }

    /// The web service's URL, where the routes start:
    /// `http://127.0.0.1:PORT/otobo/nph-genericinterface.pl/Webservice/GenericTicketConnectorREST`.
    pub fn base_url(&self) -> String {
        format!(
            "{}/Webservice/{}",
            self.root_url(),
            self.otobo().config().webservice
        )
    }

    /// The script's URL (Open Ticket AI's `base_url` form):
    /// `http://127.0.0.1:PORT/otobo/nph-genericinterface.pl`.
    pub fn root_url(&self) -> String {
        format!(
            "{}{}",
            self.server.base_url(),
            self.otobo().config().flavour.script_path()
        )
    }

    /// `http://127.0.0.1:PORT` (the admin routes are under `/__sim/`).
    pub fn server_url(&self) -> String {
        self.server.base_url().to_string()
    }

    /// A ticket as it stands.
    pub fn ticket(&self, id: u64) -> Option<Ticket> {
        self.otobo().store().ticket(id)
    }

    /// Every ticket, by id.
    pub fn tickets(&self) -> Vec<Ticket> {
        let s = self.otobo().store();
        s.tickets.keys().filter_map(|i| s.ticket(*i)).collect()
    }

    /// A ticket's articles, oldest first.
    pub fn articles(&self, id: u64) -> Vec<Article> {
        self.otobo().store().articles(id)
    }

    /// The writes to a ticket (API and simulated agent), oldest first.
    pub fn writes(&self, id: u64) -> Vec<WriteRecord> {
        let mut all = self.all_writes();
        all.retain(|w| w.ticket_id == id);
        all
    }

    /// Every write, oldest first.
    pub fn all_writes(&self) -> Vec<WriteRecord> {
        self.otobo().store().writes.clone()
    }

    /// API writes to a ticket, stopped ones included (the simulated agent's edits not counted).
    pub fn write_count(&self, id: u64) -> usize {
        self.writes(id).iter().filter(|w| w.by == "api").count()
    }

    /// The queues (id, name).
    pub fn queues(&self) -> Vec<(u64, String)> {
        self.otobo().store().queues.clone()
    }

    /// The counters.
    pub fn stats(&self) -> Stats {
        self.otobo().stats_with(&self.server.stats())
    }

    /// The simulated agent edits a ticket: `Changed` moves, `value` is added to the agent's
    /// dynamic field. `false`: no such ticket.
    pub fn agent_edit(&self, id: u64, value: &str) -> bool {
        self.otobo().agent_edit(id, value)
    }

    /// Adds tickets (OTOBO- or Zendesk-shaped) while the simulator runs, as customers writing
    /// in would; their ids. With a webhook target set ([`set_webhook`](Self::set_webhook)),
    /// each new ticket's delivery goes out in the background.
    pub fn add_tickets(&self, tickets: Vec<Value>) -> Result<Vec<u64>, SimError> {
        seed_or_error("add_tickets(...)", self.otobo().add_tickets(&tickets))
    }

    /// Where to send an invoker's delivery (the secret in a header or as the BasicAuth
    /// password) for every ticket added from now on (none: stop).
    pub fn set_webhook(&self, target: Option<WebhookTarget>) {
        self.otobo().set_webhook(target);
    }

    /// Every webhook delivery sent so far, in the order answered.
    pub fn webhook_deliveries(&self) -> Vec<WebhookDelivery> {
        self.otobo().webhook_deliveries()
    }

    /// Ends every session: the next request with a SessionID gets `<Operation>.AuthFail`.
    pub fn expire_sessions(&self) {
        self.otobo().auth().expire_sessions();
    }
}
