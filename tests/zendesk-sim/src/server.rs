//! The server: [`Simulator::builder`] → [`SimHandle`] (or [`BlockingSim`] for synchronous
//! tests). Serving, latency, faults, the clock and the common admin routes are the kit's
//! ([`otai_sim_kit`]); Zendesk's part of each request (rate limit, authentication, routing,
//! the token endpoint) is the private `api` module's.

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use otai_sim_kit::{Blocking, Bound, Server, SimState, Stop};
use serde::Serialize;
use serde_json::Value;

use crate::{
    api::Zendesk,
    auth::Credential,
    error::{ApiError, SimError},
    faults::Faults,
    jobs::JobDelays,
    oauth::{OAuthClient, OAuthConfig, OAuthState, OAuthStats, TokenRequest},
    rate::{RateLimiter, RateLimits},
    seed::SeedData,
    shared::{Counters, Shared},
    store::{Comment, Store, Ticket, User, WriteRecord},
};

/// Default API-token e-mail.
pub const DEFAULT_EMAIL: &str = "agent@example.com";
/// Default API token.
pub const DEFAULT_TOKEN: &str = "sim-token";
/// Default OAuth bearer token.
pub const DEFAULT_BEARER: &str = "sim-oauth-token";
/// The API user's id.
pub const API_USER_ID: u64 = 377_922_500_012;

/// Counters a test can assert on.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Stats {
    /// API requests received (admin and token requests excluded; see [`SimHandle::oauth_stats`]).
    pub requests: u64,
    /// API requests not answered 429.
    pub accepted: u64,
    /// 429 answers sent.
    pub rate_limited: u64,
    /// The most accepted requests in any 60 s window (never above the budget).
    pub max_requests_in_60s: u64,
    /// 401 and 403 answers.
    pub unauthorized: u64,
    /// Faults that fired (drops included), on API and token requests.
    pub faults_injected: u64,
    /// Connections closed without an answer (API and token requests).
    pub dropped_connections: u64,
    /// Accepted writes recorded.
    pub writes: u64,
    /// `update_many` jobs submitted.
    pub jobs_submitted: u64,
    /// Jobs that reached `completed`.
    pub jobs_completed: u64,
    /// API answers by status code.
    pub by_status: BTreeMap<u16, u64>,
}

/// Entry point: `Simulator::builder()`.
pub struct Simulator;

impl Simulator {
    /// A builder with the defaults: no tickets, default ticket fields, credentials
    /// [`DEFAULT_EMAIL`]/[`DEFAULT_TOKEN`] and bearer [`DEFAULT_BEARER`], Zendesk Enterprise
    /// rate limits ([`RateLimits::default`]), 500 ms job delays, no faults, no OAuth clients
    /// (token lifetimes 30 minutes and 30 days), port 0.
    pub fn builder() -> SimBuilder {
        SimBuilder {
            seed: SeedData::default(),
            seed_file: None,
            credentials: Vec::new(),
            oauth: OAuthConfig::default(),
            limits: RateLimits::default(),
            job_delays: JobDelays::default(),
            faults: Faults::default(),
            port: 0,
        }
    }
}

/// Configures and starts a simulator.
#[derive(Debug, Clone)]
pub struct SimBuilder {
    seed: SeedData,
    seed_file: Option<PathBuf>,
    credentials: Vec<Credential>,
    oauth: OAuthConfig,
    limits: RateLimits,
    job_delays: JobDelays,
    faults: Faults,
    port: u16,
}

impl SimBuilder {
    /// Tickets (and groups, fields) from a JSON or JSONL file; see [`crate::seed`].
    pub fn seed_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.seed_file = Some(path.into());
        self
    }

    /// Seed data built in code (merged with a seed file's).
    pub fn seed(mut self, seed: SeedData) -> Self {
        self.seed.tickets.extend(seed.tickets);
        self.seed.groups.extend(seed.groups);
        self.seed.ticket_fields.extend(seed.ticket_fields);
        self
    }

    /// Ticket objects in the seed format.
    pub fn tickets(mut self, tickets: Vec<Value>) -> Self {
        self.seed.tickets.extend(tickets);
        self
    }

    /// Groups by name (ids generated) in addition to the seed's.
    pub fn groups<S: AsRef<str>>(mut self, names: &[S]) -> Self {
        self.seed = self.seed.with_groups(names);
        self
    }

    /// Groups as `{"id", "name", "deleted"}` objects.
    pub fn group_objects(mut self, groups: Vec<Value>) -> Self {
        self.seed.groups.extend(groups);
        self
    }

    /// Accepts this credential (replaces the defaults once any is given).
    pub fn credential(mut self, c: Credential) -> Self {
        self.credentials.push(c);
        self
    }

    /// Accepts API-token auth for `email` + `token`.
    pub fn credentials(self, email: &str, token: &str) -> Self {
        self.credential(Credential::ApiToken {
            email: email.into(),
            token: token.into(),
            read_only: false,
        })
    }

    /// Adds an OAuth client for `POST /oauth/tokens` (see [`crate::oauth`]). It is independent of
    /// [`credential`](Self::credential): the default credentials stay unless one is given.
    pub fn oauth_client(mut self, client: OAuthClient) -> Self {
        self.oauth.clients.push(client);
        self
    }

    /// Lifetime of the access tokens `POST /oauth/tokens` issues (default 30 minutes, as for new
    /// Zendesk global clients); a request's `expires_in` can shorten it.
    pub fn access_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.oauth.access_lifetime = lifetime;
        self
    }

    /// Lifetime of refresh tokens, the initial ones included (default 30 days).
    pub fn refresh_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.oauth.refresh_lifetime = lifetime;
        self
    }

    /// Account-wide requests per minute (0 = unlimited).
    pub fn rate_limit_per_minute(mut self, n: u32) -> Self {
        self.limits.per_minute = n;
        self
    }

    /// All budgets.
    pub fn rate_limits(mut self, limits: RateLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Time a job spends queued and working.
    pub fn job_delays(mut self, queued: Duration, working: Duration) -> Self {
        self.job_delays = JobDelays { queued, working };
        self
    }

    /// Faults from the start.
    pub fn faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// Port on 127.0.0.1 (0 = any free port, the default).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Binds 127.0.0.1 and serves on the current tokio runtime.
    pub async fn start(self) -> Result<SimHandle, SimError> {
        let mut seed = match &self.seed_file {
            Some(p) => SeedData::from_file(p)?,
            None => SeedData::default(),
        };
        seed.tickets.extend(self.seed.tickets);
        seed.groups.extend(self.seed.groups);
        seed.ticket_fields.extend(self.seed.ticket_fields);
        let bound = Bound::bind(self.port).await?;
        let base_url = bound.base_url().to_string();
        let kit = Arc::new(SimState::new(self.faults));
        let mut store = Store::new(&base_url).with_clock(kit.clock().clone());
        let api_user = User {
            id: API_USER_ID,
            name: "otai simulator agent".into(),
            email: DEFAULT_EMAIL.into(),
            role: "admin".into(),
        };
        let credentials = if self.credentials.is_empty() {
            vec![
                Credential::ApiToken {
                    email: DEFAULT_EMAIL.into(),
                    token: DEFAULT_TOKEN.into(),
                    read_only: false,
                },
                Credential::Bearer {
                    token: DEFAULT_BEARER.into(),
                    read_only: false,
                },
            ]
        } else {
            self.credentials.clone()
        };
        let api_user = match credentials.iter().find_map(|c| match c {
            Credential::ApiToken { email, .. } => Some(email.clone()),
            _ => None,
        }) {
            Some(email) => User { email, ..api_user },
            None => api_user,
        };
        seed.load(&mut store, &api_user)?;
        let shared = Arc::new(Shared {
            base_url,
            kit: kit.clone(),
            initial: store.clone(),
            store: Mutex::new(store),
            jobs: Mutex::new(BTreeMap::new()),
            job_ids: Mutex::new(fastrand::Rng::new()),
            rate: Mutex::new(RateLimiter::new(self.limits)),
            counters: Mutex::new(Counters::default()),
            job_delays: Mutex::new(self.job_delays),
            oauth: Mutex::new(OAuthState::new(self.oauth, Instant::now())),
            credentials,
            tasks: Mutex::new(Vec::new()),
            webhooks: crate::webhooks::Webhooks::new(tokio::runtime::Handle::current()),
        });
        Ok(SimHandle {
            server: bound.serve(kit, Arc::new(Zendesk(shared))),
        })
    }

    /// Starts the simulator on its own runtime thread, for synchronous tests.
    pub fn start_blocking(self) -> Result<BlockingSim, SimError> {
        Blocking::start("zendesk-sim", move || self.start())
    }
}

/// A simulator on its own runtime thread (see [`SimBuilder::start_blocking`]); derefs to
/// [`SimHandle`] and shuts down when dropped.
pub type BlockingSim = Blocking<SimHandle>;

/// A running simulator. Cheap to clone; every method except [`shutdown`](Self::shutdown) is
/// synchronous (reads the state under a lock).
#[derive(Clone)]
pub struct SimHandle {
    server: Server<Zendesk>,
}

impl std::fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimHandle")
            .field("base_url", &self.base_url())
            .finish()
    }
}

/// Adds seed-format tickets and sends their webhooks (see [`SimHandle::add_tickets`]).
pub(crate) fn add_tickets(shared: &Shared, tickets: Vec<Value>) -> Result<(), SimError> {
    let ids: Vec<u64> = tickets
        .iter()
        .filter_map(|t| t.get("id").and_then(crate::store::id_of))
        .collect();
    let seed = SeedData {
        tickets,
        ..SeedData::default()
    };
    seed.load_tickets(&mut shared.store.lock().unwrap(), API_USER_ID)?;
    shared.webhooks.tickets_created(&ids);
    Ok(())
}

impl SimHandle {
    fn shared(&self) -> &Arc<Shared> {
        &self.server.api().0
    }

    /// `http://127.0.0.1:PORT` (no trailing slash, no `/api/v2`).
    pub fn base_url(&self) -> &str {
        self.server.base_url()
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// Adds tickets in the seed format (see [`crate::seed`]) while the simulator runs, as customers
    /// writing in would: they are new to every search and export from now on.
    /// With a webhook target set ([`set_webhook`](Self::set_webhook)), each new ticket's
    /// signed delivery goes out in the background.
    pub fn add_tickets(&self, tickets: Vec<Value>) -> Result<(), SimError> {
        add_tickets(self.shared(), tickets)
    }

    /// Where to send a signed webhook delivery for every ticket added from now on (none: stop).
    pub fn set_webhook(&self, target: Option<crate::WebhookTarget>) {
        self.shared().webhooks.set_target(target);
    }

    /// Every webhook delivery sent so far, in the order answered.
    pub fn webhook_deliveries(&self) -> Vec<crate::WebhookDelivery> {
        self.shared().webhooks.deliveries()
    }

    /// A ticket's current state (deleted ones included).
    pub fn ticket(&self, id: u64) -> Option<Ticket> {
        self.shared().store.lock().unwrap().ticket(id).cloned()
    }

    /// A ticket as the API returns it.
    pub fn ticket_json(&self, id: u64) -> Option<Value> {
        let store = self.shared().store.lock().unwrap();
        store.ticket(id).map(|t| t.to_json(&store.base_url))
    }

    /// A ticket's comments, oldest first (the description is the first).
    pub fn comments(&self, id: u64) -> Vec<Comment> {
        self.shared().store.lock().unwrap().comments(id).to_vec()
    }

    /// The accepted writes to a ticket, in order.
    pub fn writes(&self, id: u64) -> Vec<WriteRecord> {
        let store = self.shared().store.lock().unwrap();
        store
            .writes()
            .iter()
            .filter(|w| w.ticket_id == id)
            .cloned()
            .collect()
    }

    /// How many accepted writes a ticket got.
    pub fn write_count(&self, id: u64) -> usize {
        let store = self.shared().store.lock().unwrap();
        store.writes().iter().filter(|w| w.ticket_id == id).count()
    }

    /// Every accepted write, in order.
    pub fn all_writes(&self) -> Vec<WriteRecord> {
        self.shared().store.lock().unwrap().writes().to_vec()
    }

    /// The counters.
    pub fn stats(&self) -> Stats {
        self.shared().stats(&self.server.stats())
    }

    /// The token endpoint's counters.
    pub fn oauth_stats(&self) -> OAuthStats {
        self.shared().oauth.lock().unwrap().stats.clone()
    }

    /// Every token request, in order (client secrets are never kept).
    pub fn token_requests(&self) -> Vec<TokenRequest> {
        self.shared().oauth.lock().unwrap().requests.clone()
    }

    /// Mints a live refresh token for a client, as if an admin had just completed the
    /// authorization-code flow; `scope` (space separated) `None` means all the client may have.
    /// Errors: `invalid_client` for an unknown client, `invalid_scope`.
    pub fn grant_refresh_token(
        &self,
        client_id: &str,
        scope: Option<&str>,
    ) -> Result<String, ApiError> {
        self.shared()
            .oauth
            .lock()
            .unwrap()
            .grant_refresh(client_id, scope, Instant::now())
    }

    /// An admin revokes every live refresh token of a client: they answer `invalid_grant` from
    /// now on (access tokens already issued run until they expire). Returns how many.
    pub fn revoke_refresh_tokens(&self, client_id: &str) -> usize {
        self.shared()
            .oauth
            .lock()
            .unwrap()
            .revoke_refresh(client_id)
    }

    /// Every live access token expires now (the API answers 401 `invalid_token`), as if their
    /// lifetime had run out. Returns how many.
    pub fn expire_access_tokens(&self) -> usize {
        self.shared()
            .oauth
            .lock()
            .unwrap()
            .expire_access(Instant::now())
    }

    /// Replaces the faults (and reseeds the RNG).
    pub fn set_faults(&self, faults: Faults) {
        self.server.set_faults(faults);
    }

    /// The current faults (with `next` counters as they stand).
    pub fn faults(&self) -> Faults {
        self.server.faults()
    }

    /// Changes the account-wide budget (counters are kept).
    pub fn set_rate_limit_per_minute(&self, n: u32) {
        self.shared().rate.lock().unwrap().limits.per_minute = n;
    }

    /// Changes the job delays for jobs submitted from now on.
    pub fn set_job_delays(&self, queued: Duration, working: Duration) {
        *self.shared().job_delays.lock().unwrap() = JobDelays { queued, working };
    }

    /// A job status as the API returns it.
    pub fn job(&self, id: &str) -> Option<Value> {
        let jobs = self.shared().jobs.lock().unwrap();
        jobs.get(id).map(|j| j.to_json(self.base_url()))
    }

    /// Stops the account's clock at `at` (unix seconds) for every stamp and `Date` header, or
    /// back to the system clock with `None`: same-second races made reproducible.
    pub fn set_clock(&self, at: Option<i64>) {
        self.server.set_clock(at);
    }

    /// A simulated agent edits the ticket now (stamped now, `tag` is added).
    pub fn agent_edit(&self, id: u64, tag: &str) -> bool {
        self.shared().store.lock().unwrap().agent_edit(id, tag)
    }

    /// Everything back to the state at start (tickets, writes, jobs, counters, faults; OAuth:
    /// issued tokens forgotten, the initial refresh tokens live again for a full lifetime).
    pub fn reset(&self) {
        self.server.reset();
    }

    /// Stops accepting, closes connections and stops running jobs.
    pub async fn shutdown(&self) {
        self.server.shutdown().await;
    }
}

impl Stop for SimHandle {
    fn stop(&self) -> impl std::future::Future<Output = ()> + Send {
        self.shutdown()
    }
}
