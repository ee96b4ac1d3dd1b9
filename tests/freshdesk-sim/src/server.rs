//! [`Simulator::builder`] -> [`SimBuilder`] -> [`SimHandle`] (async) or [`BlockingSim`] (its own
//! runtime thread): the public face of the simulator, over the kit's server.

use std::{ops::Deref, path::PathBuf, time::Duration};

use otai_sim_kit::{Blocking, Faults, Server, Stop, WebhookDelivery};
use serde_json::Value;

use crate::{
    api::{apply_initial_seed, Config, FreshdeskApi, Stats},
    error::SimError,
    jobs::Job,
    log::RequestRecord,
    ratelimit::Plan,
    seed::SeedData,
    store::{Conversation, Store, Ticket, WriteKind, WriteRecord},
    webhooks::WebhookTarget,
};

/// The API key accepted unless [`SimBuilder::api_key`] replaces it.
pub const DEFAULT_API_KEY: &str = "sim-api-key";
/// The default rate-limit window (Freshdesk's minute).
pub const DEFAULT_RATE_WINDOW: Duration = Duration::from_secs(60);
/// The default search index lag (account clock).
pub const DEFAULT_INDEX_LAG: Duration = Duration::from_secs(90);
/// The default delay before a bulk job runs (real time).
pub const DEFAULT_JOB_DELAY: Duration = Duration::from_millis(500);

/// Where a simulator starts: [`Simulator::builder`].
#[derive(Debug, Clone, Copy)]
pub struct Simulator;

impl Simulator {
    /// A builder with the defaults: API key `sim-api-key`, [`Plan::Enterprise`], 60 s rate
    /// windows, 90 s index lag, 500 ms job delay, no groups, custom fields or tickets, no
    /// faults, any free port.
    pub fn builder() -> SimBuilder {
        SimBuilder::default()
    }
}

/// Configures and starts a simulator.
#[derive(Debug, Clone)]
pub struct SimBuilder {
    seed_files: Vec<PathBuf>,
    tickets: Vec<Value>,
    groups: Vec<String>,
    custom_fields: Vec<String>,
    api_keys: Vec<String>,
    plan: Plan,
    rate_window: Duration,
    index_lag: Duration,
    job_delay: Duration,
    faults: Faults,
    port: u16,
}

impl Default for SimBuilder {
    fn default() -> Self {
        SimBuilder {
            seed_files: Vec::new(),
            tickets: Vec::new(),
            groups: Vec::new(),
            custom_fields: Vec::new(),
            api_keys: vec![DEFAULT_API_KEY.to_string()],
            plan: Plan::Enterprise,
            rate_window: DEFAULT_RATE_WINDOW,
            index_lag: DEFAULT_INDEX_LAG,
            job_delay: DEFAULT_JOB_DELAY,
            faults: Faults::none(),
            port: 0,
        }
    }
}

impl SimBuilder {
    /// Seeds from a file (JSON or JSONL; Freshdesk- or Zendesk-shaped, see [`crate::seed`]).
    /// Repeatable; files load in order, after the groups and custom fields.
    pub fn seed_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.seed_files.push(path.into());
        self
    }

    /// Tickets in the seed form, after the seed files.
    pub fn tickets(mut self, tickets: Vec<Value>) -> Self {
        self.tickets.extend(tickets);
        self
    }

    /// Groups to create first (ids from 2001, in order).
    pub fn groups(mut self, names: &[&str]) -> Self {
        self.groups.extend(names.iter().map(|s| s.to_string()));
        self
    }

    /// Custom ticket fields (`cf_category`; `cf_` is added if missing).
    pub fn custom_fields(mut self, names: &[&str]) -> Self {
        self.custom_fields
            .extend(names.iter().map(|s| s.to_string()));
        self
    }

    /// The API key (replaces `sim-api-key`; call again for more keys after the first call).
    pub fn api_key(mut self, key: &str) -> Self {
        if self.api_keys == [DEFAULT_API_KEY] {
            self.api_keys.clear();
        }
        self.api_keys.push(key.to_string());
        self
    }

    /// The rate-limit plan ([`Plan::Enterprise`] by default).
    pub fn plan(mut self, plan: Plan) -> Self {
        self.plan = plan;
        self
    }

    /// The rate-limit window (real time; 60 s by default).
    pub fn rate_window(mut self, window: Duration) -> Self {
        self.rate_window = window;
        self
    }

    /// How long search lags behind changes (account clock; 90 s by default; zero: none).
    pub fn index_lag(mut self, lag: Duration) -> Self {
        self.index_lag = lag;
        self
    }

    /// How long a bulk job waits before it runs (real time; 500 ms by default).
    pub fn job_delay(mut self, delay: Duration) -> Self {
        self.job_delay = delay;
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
        let mut store = Store::new();
        for g in &self.groups {
            store.ensure_group(g);
        }
        for f in &self.custom_fields {
            store.declare_field(f);
        }
        let now = otai_sim_kit::system_now();
        let mut seeds = Vec::new();
        for path in &self.seed_files {
            seeds.push((path.display().to_string(), SeedData::from_file(path)?));
        }
        if !self.tickets.is_empty() {
            let t = SeedData::from_tickets(&self.tickets);
            seeds.push(("tickets(...)".into(), seed_or_error("tickets(...)", t)?));
        }
        for (origin, seed) in seeds {
            seed_or_error(&origin, apply_initial_seed(&mut store, seed, now))?;
        }
        Ok(store)
    }

    /// Starts the simulator on the current tokio runtime.
    pub async fn start(self) -> Result<SimHandle, SimError> {
        if self.api_keys.is_empty() {
            return Err(SimError::Config("no API key".into()));
        }
        let store = self.build_store()?;
        let config = Config {
            api_keys: self.api_keys.clone(),
            plan: self.plan,
            rate_window: self.rate_window,
            index_lag: self.index_lag,
            job_delay: self.job_delay,
        };
        let server = otai_sim_kit::launch(self.port, self.faults, |base, clock| {
            FreshdeskApi::new(store, clock, base, config)
        })
        .await?;
        Ok(SimHandle { server })
    }

    /// For synchronous tests: starts it on a thread with a runtime of its own, which stops
    /// with the [`BlockingSim`].
    pub fn start_blocking(self) -> Result<BlockingSim, SimError> {
        Blocking::start("freshdesk-sim", move || self.start())
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
/// simulator has: `faults()`, `set_faults(..)`, `set_clock(..)`, `reset()` (tickets, jobs,
/// request log, rate windows, faults, counters, clock back to the start) and `shutdown().await`.
#[derive(Clone, Debug)]
pub struct SimHandle {
    server: Server<FreshdeskApi>,
}

impl Deref for SimHandle {
    type Target = Server<FreshdeskApi>;

    fn deref(&self) -> &Server<FreshdeskApi> {
        &self.server
    }
}

impl Stop for SimHandle {
    fn stop(&self) -> impl std::future::Future<Output = ()> + Send {
        self.server.shutdown()
    }
}

impl SimHandle {
    fn fd(&self) -> &FreshdeskApi {
        self.server.api()
    }

    /// `http://127.0.0.1:PORT` (the API is under `/api/v2`, the admin routes under `/__sim/`).
    pub fn base_url(&self) -> String {
        self.server.base_url().to_string()
    }

    /// A ticket as it stands.
    pub fn ticket(&self, id: u64) -> Option<Ticket> {
        self.fd().store().tickets.get(&id).cloned()
    }

    /// Every ticket, by id.
    pub fn tickets(&self) -> Vec<Ticket> {
        self.fd().store().tickets.values().cloned().collect()
    }

    /// A ticket's conversations, oldest first.
    pub fn conversations(&self, id: u64) -> Vec<Conversation> {
        self.fd().store().conversations_of(id)
    }

    /// The writes to a ticket (API and simulated agent), oldest first.
    pub fn writes(&self, id: u64) -> Vec<WriteRecord> {
        let mut all = self.all_writes();
        all.retain(|w| w.ticket_id == id);
        all
    }

    /// Every write, oldest first.
    pub fn all_writes(&self) -> Vec<WriteRecord> {
        self.fd().store().writes.clone()
    }

    /// API writes to a ticket: PUTs, bulk applications, notes, creation (the simulated
    /// agent's edits not counted).
    pub fn write_count(&self, id: u64) -> usize {
        self.writes(id)
            .iter()
            .filter(|w| w.kind != WriteKind::AgentEdit)
            .count()
    }

    /// The groups (id, name).
    pub fn groups(&self) -> Vec<(u64, String)> {
        let s = self.fd().store();
        s.groups.iter().map(|g| (g.id, g.name.clone())).collect()
    }

    /// The id of the group called `name`.
    pub fn group_id(&self, name: &str) -> Option<u64> {
        let s = self.fd().store();
        s.groups.iter().find(|g| g.name == name).map(|g| g.id)
    }

    /// The name of group `id`.
    pub fn group_name(&self, id: u64) -> Option<String> {
        self.fd().store().group(id).map(|g| g.name.clone())
    }

    /// The counters.
    pub fn stats(&self) -> Stats {
        self.fd().stats_with(&self.server.stats())
    }

    /// Every API request so far (admitted and refused), oldest first.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.fd().requests()
    }

    /// The largest sum of credits admitted requests consumed in any window of `window`
    /// (sliding): e.g. an adapter never spent more than its budget in any minute.
    pub fn max_credits_in_window(&self, window: Duration) -> u64 {
        self.fd().max_credits_in_window(window)
    }

    /// Another integration spends `credits` of the current window's quota.
    pub fn consume(&self, credits: u64) {
        self.fd().consume(credits);
    }

    /// The simulated agent edits a ticket: `tag` added, `updated_at` now. `false`: no such
    /// ticket.
    pub fn agent_edit(&self, id: u64, tag: &str) -> bool {
        self.fd().agent_edit(id, tag)
    }

    /// Adds tickets (seed form, either dialect) while the simulator runs, as customers writing
    /// in would; their ids. Search sees them after the index lag. With a webhook target set
    /// ([`set_webhook`](Self::set_webhook)), each new ticket's delivery goes out in the
    /// background.
    pub fn add_tickets(&self, tickets: Vec<Value>) -> Result<Vec<u64>, SimError> {
        seed_or_error("add_tickets(...)", self.fd().add_tickets(&tickets))
    }

    /// Where to send a webhook delivery (the shared secret in its header) for every ticket
    /// added from now on (none: stop).
    pub fn set_webhook(&self, target: Option<WebhookTarget>) {
        self.fd().set_webhook(target);
    }

    /// Every webhook delivery sent so far, in the order answered.
    pub fn webhook_deliveries(&self) -> Vec<WebhookDelivery> {
        self.fd().webhook_deliveries()
    }

    /// The bulk jobs, oldest first.
    pub fn jobs(&self) -> Vec<Job> {
        self.fd().jobs()
    }
}
